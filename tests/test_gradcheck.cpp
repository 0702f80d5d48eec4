// Table-driven gradcheck: every differentiable op, as a free function and as a Tensor method,
// compared with central finite differences in Float64 (PyTorch's defaults: eps 1e-6, atol 1e-5,
// rtol 1e-3). Rows cover broadcast shapes, 0-d tensors, keepdim both ways and negative dims.
// Inputs are drawn with xg::randn under a per-row xg::manual_seed and moved into the op's
// domain (positive values, or away from kinks and ties) before they require grad.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "op_info.hpp"
#include "unary_cases.hpp"

namespace {

using xg::Shape;
using xg::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Where a row's inputs must lie.
struct Domain {
  bool positive = false;      // |x| + 0.5: log, sqrt, rsqrt, fractional powers, divisors
  std::vector<double> kinks;  // points the values must stay at least 0.05 away from
};

Domain any() { return {}; }
Domain positive() { return {true, {}}; }
Domain away_from(std::vector<double> kinks) { return {false, std::move(kinks)}; }

struct Row {
  std::string name;
  Fn fn;
  std::vector<Shape> shapes;
  Domain domain;
  std::uint64_t seed = 0;
};

std::vector<Tensor> make_inputs(const Row& row) {
  xg::manual_seed(row.seed);
  std::vector<Tensor> inputs;
  for (const Shape& shape : row.shapes) {
    Tensor t = xg::randn(shape, xg::kFloat64);
    double* p = t.data_ptr<double>();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
      double v = p[i];
      if (row.domain.positive) v = std::abs(v) + 0.5;
      for (bool moved = true; moved;) {
        moved = false;
        for (double k : row.domain.kinks) {
          if (std::abs(v - k) < 0.05) {
            v += 0.1;
            moved = true;
          }
        }
      }
      p[i] = v;
    }
    t.requires_grad_(true);
    inputs.push_back(t);
  }
  return inputs;
}

// Builds the table. Each row gets its own seed (its position in the table).
class Table {
 public:
  void add(std::string name, std::vector<Shape> shapes, Fn fn, Domain domain = any()) {
    rows_.push_back(Row{std::move(name), std::move(fn), std::move(shapes), std::move(domain),
                        static_cast<std::uint64_t>(1000 + rows_.size())});
  }
  std::vector<Row> take() { return std::move(rows_); }

 private:
  std::vector<Row> rows_;
};

Tensor index_tensor(std::vector<double> v) { return xg::tensor(v, xg::kInt64); }

std::vector<Row> build_rows() {
  Table T;
  using V = const std::vector<Tensor>&;

  // ---- arithmetic between tensors, with broadcasting ----
  T.add("add_same", {{2, 3}, {2, 3}}, [](V x) { return xg::add(x[0], x[1]); });
  T.add("add_bcast_2x3_3", {{2, 3}, {3}}, [](V x) { return x[0] + x[1]; });
  T.add("add_bcast_2x1_1x3", {{2, 1}, {1, 3}}, [](V x) { return x[0] + x[1]; });
  T.add("add_alpha", {{2, 3}, {3}}, [](V x) { return xg::add(x[0], x[1], 2.5); });
  T.add("add_alpha_method", {{2, 1}, {1, 3}}, [](V x) { return x[0].add(x[1], -0.75); });
  T.add("add_0d_2x3", {{}, {2, 3}}, [](V x) { return x[0] + x[1]; });
  T.add("add_0d_0d", {{}, {}}, [](V x) { return x[0] + x[1]; });
  T.add("sub_same", {{2, 3}, {2, 3}}, [](V x) { return xg::sub(x[0], x[1]); });
  T.add("sub_bcast_3_2x3", {{3}, {2, 3}}, [](V x) { return x[0] - x[1]; });
  T.add("sub_alpha", {{3}, {2, 3}}, [](V x) { return xg::sub(x[0], x[1], 0.5); });
  T.add("sub_alpha_method", {{2, 3}, {2, 1}}, [](V x) { return x[0].sub(x[1], 3); });
  T.add("mul_same", {{2, 3}, {2, 3}}, [](V x) { return xg::mul(x[0], x[1]); });
  T.add("mul_bcast_2x1_1x3", {{2, 1}, {1, 3}}, [](V x) { return x[0] * x[1]; });
  T.add("mul_bcast_4x2x3_2x1", {{4, 2, 3}, {2, 1}}, [](V x) { return x[0] * x[1]; });
  T.add("mul_0d_2x3", {{}, {2, 3}}, [](V x) { return x[0] * x[1]; });
  T.add("mul_self", {{2, 3}}, [](V x) { return x[0] * x[0]; });
  T.add("mul_method", {{3}, {2, 3}}, [](V x) { return x[0].mul(x[1]); });
  T.add(
      "div_same", {{2, 3}, {2, 3}}, [](V x) { return xg::div(x[0], x[1]); }, positive());
  T.add(
      "div_bcast_2x3_2x1", {{2, 3}, {2, 1}}, [](V x) { return x[0] / x[1]; }, positive());
  T.add(
      "div_bcast_3_2x3", {{3}, {2, 3}}, [](V x) { return x[0] / x[1]; }, positive());
  T.add(
      "div_0d", {{}, {}}, [](V x) { return x[0] / x[1]; }, positive());
  T.add(
      "div_method", {{2, 3}, {3}}, [](V x) { return x[0].div(x[1]); }, positive());

  // ---- arithmetic with C++ scalars, either side ----
  T.add("tensor_plus_scalar", {{2, 3}}, [](V x) { return x[0] + 2.5; });
  T.add("tensor_minus_scalar", {{2, 3}}, [](V x) { return x[0] - 2.5; });
  T.add("tensor_times_scalar", {{2, 3}}, [](V x) { return x[0] * 2.5; });
  T.add("tensor_div_scalar", {{2, 3}}, [](V x) { return x[0] / 2.5; });
  T.add("scalar_plus_tensor", {{2, 3}}, [](V x) { return 2.5 + x[0]; });
  T.add("scalar_minus_tensor", {{2, 3}}, [](V x) { return 2.5 - x[0]; });
  T.add("scalar_times_tensor", {{2, 3}}, [](V x) { return 2.5 * x[0]; });
  T.add(
      "scalar_div_tensor", {{2, 3}}, [](V x) { return 2.5 / x[0]; }, positive());
  T.add("int_scalar_times_tensor", {{3}}, [](V x) { return 3 * x[0] - 2; });
  T.add("scalar_ops_0d", {{}}, [](V x) { return (1.5 - x[0]) * 2 / 3 + 1; });
  T.add("unary_minus", {{2, 3}}, [](V x) { return -x[0]; });
  T.add("unary_minus_0d", {{}}, [](V x) { return -x[0]; });

  // ---- pow ----
  T.add("pow_2", {{2, 3}}, [](V x) { return xg::pow(x[0], 2); });
  T.add("pow_3", {{2, 3}}, [](V x) { return xg::pow(x[0], 3); });
  T.add(
      "pow_0.5", {{2, 3}}, [](V x) { return xg::pow(x[0], 0.5); }, positive());
  T.add(
      "pow_-1.5", {{2, 3}}, [](V x) { return xg::pow(x[0], -1.5); }, positive());
  T.add("pow_0", {{2, 3}}, [](V x) { return xg::pow(x[0], 0); });
  T.add("pow_1", {{2, 3}}, [](V x) { return xg::pow(x[0], 1.0); });
  T.add(
      "pow_-2", {{2, 3}}, [](V x) { return xg::pow(x[0], -2); }, positive());
  T.add("pow_2_0d", {{}}, [](V x) { return xg::pow(x[0], 2); });
  T.add(
      "pow_scalar_method", {{2, 3}}, [](V x) { return x[0].pow(2.5); }, positive());
  T.add(
      "pow_tensor_same", {{2, 3}, {2, 3}}, [](V x) { return xg::pow(x[0], x[1]); }, positive());
  T.add(
      "pow_tensor_bcast", {{2, 3}, {3}}, [](V x) { return xg::pow(x[0], x[1]); }, positive());
  T.add(
      "pow_tensor_bcast_base", {{3}, {2, 3}}, [](V x) { return x[0].pow(x[1]); }, positive());
  T.add("pow_tensor_negative_base_int_exp", {{2, 3}}, [](V x) {
    return xg::pow(x[0], xg::full({2, 3}, 3.0, xg::kFloat64));
  });
  T.add("pow_scalar_base", {{2, 3}}, [](V x) { return xg::pow(2.0, x[0]); });
  T.add("pow_scalar_base_fraction", {{3}}, [](V x) { return xg::pow(0.7, x[0]); });

  // ---- elementwise math ----
  // Every registry op (unary_cases.hpp), as a free function and as a method.
  for (const auto& u : xg_test::unary_cases()) {
    const Domain domain =
        u.domain == xg_test::Domain::Any ? any()
        : u.domain == xg_test::Domain::Kink0 || u.domain == xg_test::Domain::NonZero
            ? away_from({0})
            : positive();  // x > 0 or > -1
    T.add(
        u.name, {{2, 3}}, [f = u.fn](V x) { return f(x[0]); }, domain);
    T.add(
        std::string(u.name) + "_method", {{3}}, [m = u.method](V x) { return (x[0].*m)(); },
        domain);
  }
  T.add("exp_0d", {{}}, [](V x) { return xg::exp(x[0]); });
  T.add(
      "sign_times_x", {{2, 3}}, [](V x) { return xg::sign(x[0]) * x[0]; }, away_from({0}));
  T.add(
      "sign_plus_x", {{3}}, [](V x) { return x[0].sign() + x[0]; }, away_from({0}));
  T.add(
      "clamp_both", {{3, 4}}, [](V x) { return xg::clamp(x[0], -0.5, 0.5); },
      away_from({-0.5, 0.5}));
  T.add(
      "clamp_min_only", {{3, 4}}, [](V x) { return xg::clamp(x[0], -0.3); }, away_from({-0.3}));
  T.add(
      "clamp_max_only", {{3, 4}}, [](V x) { return xg::clamp(x[0], std::nullopt, 0.4); },
      away_from({0.4}));
  T.add(
      "clamp_method", {{3, 4}}, [](V x) { return x[0].clamp(-1, 1); }, away_from({-1, 1}));
  T.add(
      "clamp_min", {{3, 4}}, [](V x) { return xg::clamp_min(x[0], 0.2); }, away_from({0.2}));
  T.add(
      "clamp_min_method", {{3, 4}}, [](V x) { return x[0].clamp_min(-0.1); }, away_from({-0.1}));
  T.add(
      "clamp_max", {{3, 4}}, [](V x) { return xg::clamp_max(x[0], -0.1); }, away_from({-0.1}));
  T.add(
      "clamp_max_method", {{3, 4}}, [](V x) { return x[0].clamp_max(0.3); }, away_from({0.3}));
  // maximum/minimum: random inputs never tie (a tie within eps has probability ~1e-6).
  T.add("maximum_same", {{2, 3}, {2, 3}}, [](V x) { return xg::maximum(x[0], x[1]); });
  T.add("maximum_bcast", {{2, 1}, {1, 3}}, [](V x) { return xg::maximum(x[0], x[1]); });
  T.add("maximum_method", {{2, 3}, {3}}, [](V x) { return x[0].maximum(x[1]); });
  T.add("minimum_same", {{2, 3}, {2, 3}}, [](V x) { return xg::minimum(x[0], x[1]); });
  T.add("minimum_bcast", {{3}, {2, 3}}, [](V x) { return xg::minimum(x[0], x[1]); });
  T.add("minimum_method", {{2, 1}, {1, 3}}, [](V x) { return x[0].minimum(x[1]); });
  T.add("where_const_cond", {{2, 3}, {2, 3}}, [](V x) {
    const Tensor cond = xg::tensor({1, 0, 1, 0, 0, 1}, {2, 3}, xg::kBool);
    return xg::where(cond, x[0], x[1]);
  });
  T.add("where_bcast", {{3}, {2, 1}}, [](V x) {
    const Tensor cond = xg::tensor({1, 0, 1, 0, 1, 1}, {2, 3}, xg::kBool);
    return xg::where(cond, x[0], x[1]);
  });
  T.add(
      "where_comparison_cond", {{2, 3}, {2, 3}},
      [](V x) { return xg::where(xg::gt(x[0], 0.0), x[0] * x[1], x[1].exp()); }, away_from({0}));
  T.add(
      "where_0d_branch", {{2, 3}, {}}, [](V x) { return xg::where(xg::lt(x[0], 0.0), x[0], x[1]); },
      away_from({0}));

  // ---- reductions ----
  T.add("sum_all", {{2, 3, 4}}, [](V x) { return xg::sum(x[0]); });
  T.add("sum_all_method", {{2, 3}}, [](V x) { return x[0].sum(); });
  T.add("sum_0d", {{}}, [](V x) { return xg::sum(x[0]); });
  T.add("sum_dim1", {{2, 3, 4}}, [](V x) { return xg::sum(x[0], {1}); });
  T.add("sum_dim1_keepdim", {{2, 3, 4}}, [](V x) { return xg::sum(x[0], {1}, true); });
  T.add("sum_dims_0_2", {{2, 3, 4}}, [](V x) { return xg::sum(x[0], {0, 2}); });
  T.add("sum_dims_0_2_keepdim", {{2, 3, 4}}, [](V x) { return xg::sum(x[0], {0, 2}, true); });
  T.add("sum_neg_dim", {{2, 3, 4}}, [](V x) { return xg::sum(x[0], {-1}); });
  T.add("sum_neg_dim_keepdim", {{2, 3, 4}}, [](V x) { return x[0].sum({-2}, true); });
  T.add("sum_neg_dims", {{2, 3, 4}}, [](V x) { return x[0].sum({-1, -3}, false); });
  T.add("sum_empty_dims", {{2, 3}}, [](V x) { return xg::sum(x[0], {}, true); });
  T.add("mean_all", {{2, 3, 4}}, [](V x) { return xg::mean(x[0]); });
  T.add("mean_all_method", {{2, 3}}, [](V x) { return x[0].mean(); });
  T.add("mean_0d", {{}}, [](V x) { return xg::mean(x[0]); });
  T.add("mean_dim1", {{2, 3, 4}}, [](V x) { return xg::mean(x[0], {1}); });
  T.add("mean_dim1_keepdim", {{2, 3, 4}}, [](V x) { return xg::mean(x[0], {1}, true); });
  T.add("mean_dims_0_2", {{2, 3, 4}}, [](V x) { return xg::mean(x[0], {0, 2}); });
  T.add("mean_neg_dim", {{2, 3, 4}}, [](V x) { return xg::mean(x[0], {-1}); });
  T.add("mean_neg_dim_keepdim", {{2, 3, 4}}, [](V x) { return x[0].mean({-2}, true); });
  T.add("max_all", {{3, 4}}, [](V x) { return xg::max(x[0]); });
  T.add("max_all_method", {{2, 3, 2}}, [](V x) { return x[0].max(); });
  T.add("max_0d", {{}}, [](V x) { return xg::max(x[0]); });
  T.add("min_all", {{3, 4}}, [](V x) { return xg::min(x[0]); });
  T.add("min_all_method", {{2, 3, 2}}, [](V x) { return x[0].min(); });
  T.add("amax_dim1", {{3, 4}}, [](V x) { return xg::amax(x[0], {1}); });
  T.add("amax_dim0_keepdim", {{3, 4}}, [](V x) { return xg::amax(x[0], {0}, true); });
  T.add("amax_neg_dim", {{2, 3, 4}}, [](V x) { return xg::amax(x[0], {-1}); });
  T.add("amax_dims_keepdim", {{2, 3, 4}}, [](V x) { return xg::amax(x[0], {0, -1}, true); });
  T.add("amax_all", {{2, 3}}, [](V x) { return xg::amax(x[0]); });
  T.add("amax_method", {{3, 4}}, [](V x) { return x[0].amax({-2}); });
  T.add("amin_dim1", {{3, 4}}, [](V x) { return xg::amin(x[0], {1}); });
  T.add("amin_dim0_keepdim", {{3, 4}}, [](V x) { return xg::amin(x[0], {0}, true); });
  T.add("amin_neg_dims", {{2, 3, 4}}, [](V x) { return xg::amin(x[0], {-1, -2}); });
  T.add("amin_method", {{3, 4}}, [](V x) { return x[0].amin({1}, true); });
  T.add("logsumexp_dim1", {{3, 4}}, [](V x) { return xg::logsumexp(x[0], {1}); });
  T.add("logsumexp_dim0_keepdim", {{3, 4}}, [](V x) { return xg::logsumexp(x[0], {0}, true); });
  T.add("logsumexp_neg_dim", {{2, 3, 4}}, [](V x) { return xg::logsumexp(x[0], {-1}); });
  T.add("logsumexp_dims", {{2, 3, 4}}, [](V x) { return xg::logsumexp(x[0], {0, 2}); });
  T.add("logsumexp_neg_dim_keepdim", {{2, 3, 4}}, [](V x) { return x[0].logsumexp({-2}, true); });
  T.add("logsumexp_large_values", {{3, 4}},
        [](V x) { return xg::logsumexp(x[0] * 10 + 500, {1}); });

  // ---- linear algebra ----
  T.add("matmul_1d_1d", {{4}, {4}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_2d_1d", {{3, 4}, {4}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_1d_2d", {{4}, {4, 3}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_2d_2d", {{2, 4}, {4, 3}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_3d_3d", {{2, 3, 4}, {2, 4, 5}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_3d_2d", {{2, 3, 4}, {4, 2}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_2d_3d", {{3, 4}, {2, 4, 2}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_3d_1d", {{2, 3, 4}, {4}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_1d_3d", {{4}, {2, 4, 3}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_bcast_batch", {{2, 1, 3, 4}, {5, 4, 2}},
        [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_bcast_batch_1", {{1, 3, 4}, {2, 4, 2}}, [](V x) { return xg::matmul(x[0], x[1]); });
  T.add("matmul_method", {{2, 4}, {4, 3}}, [](V x) { return x[0].matmul(x[1]); });
  T.add("matmul_self", {{3, 3}}, [](V x) { return xg::matmul(x[0], x[0]); });
  T.add("mm", {{2, 4}, {4, 3}}, [](V x) { return xg::mm(x[0], x[1]); });
  T.add("mm_method", {{3, 2}, {2, 3}}, [](V x) { return x[0].mm(x[1]); });
  T.add("t_2d", {{2, 3}}, [](V x) { return xg::t(x[0]); });
  T.add("t_1d", {{3}}, [](V x) { return xg::t(x[0]); });
  T.add("t_method", {{3, 2}}, [](V x) {
    return x[0].t() * xg::arange(0.0, 6.0, 1.0, xg::kFloat64).reshape({2, 3});
  });

  // ---- shape ----
  T.add("reshape", {{2, 3, 4}}, [](V x) { return xg::reshape(x[0], {6, 4}); });
  T.add("reshape_minus1", {{2, 3, 4}}, [](V x) { return xg::reshape(x[0], {4, -1}); });
  T.add("reshape_0d_to_1", {{}}, [](V x) { return xg::reshape(x[0], {1, 1}); });
  T.add("reshape_method", {{2, 3}}, [](V x) { return x[0].reshape({-1}) * x[0].reshape({6}); });
  T.add("view", {{2, 3, 4}}, [](V x) { return xg::view(x[0], {3, 8}); });
  T.add("view_method", {{2, 3}}, [](V x) { return x[0].view({3, -1}); });
  T.add("flatten", {{2, 3, 4}}, [](V x) { return xg::flatten(x[0]); });
  T.add("flatten_1", {{2, 3, 4}}, [](V x) { return xg::flatten(x[0], 1); });
  T.add("flatten_0_1", {{2, 3, 4}}, [](V x) { return xg::flatten(x[0], 0, 1); });
  T.add("flatten_method", {{2, 3, 2}}, [](V x) { return x[0].flatten(-2, -1); });
  T.add("squeeze_all", {{2, 1, 3, 1}}, [](V x) { return xg::squeeze(x[0]); });
  T.add("squeeze_dim", {{2, 1, 3, 1}}, [](V x) { return xg::squeeze(x[0], 1); });
  T.add("squeeze_neg_dim", {{2, 1, 3, 1}}, [](V x) { return xg::squeeze(x[0], -1); });
  T.add("squeeze_method", {{1, 3}}, [](V x) { return x[0].squeeze() + x[0].squeeze(0); });
  T.add("unsqueeze_0", {{2, 3}}, [](V x) { return xg::unsqueeze(x[0], 0); });
  T.add("unsqueeze_neg", {{2, 3}}, [](V x) { return xg::unsqueeze(x[0], -1); });
  T.add("unsqueeze_0d", {{}}, [](V x) { return xg::unsqueeze(x[0], 0); });
  T.add("unsqueeze_method_bcast", {{3}, {2, 3}},
        [](V x) { return x[0].unsqueeze(1) * x[1].unsqueeze(-1); });
  T.add("transpose", {{2, 3, 4}}, [](V x) { return xg::transpose(x[0], 0, 2); });
  T.add("transpose_neg", {{2, 3, 4}}, [](V x) { return xg::transpose(x[0], -1, -2); });
  T.add("transpose_method", {{2, 3}}, [](V x) { return x[0].transpose(0, 1); });
  T.add("permute", {{2, 3, 4}}, [](V x) { return xg::permute(x[0], {2, 0, 1}); });
  T.add("permute_neg", {{2, 3, 4}}, [](V x) { return xg::permute(x[0], {-1, 0, -2}); });
  T.add("permute_method", {{2, 3}}, [](V x) { return x[0].permute({1, 0}); });
  T.add("expand", {{3, 1}}, [](V x) { return xg::expand(x[0], {2, 3, 4}); });
  T.add("expand_minus1", {{3, 1}}, [](V x) { return xg::expand(x[0], {-1, 4}); });
  T.add("expand_0d", {{}}, [](V x) { return xg::expand(x[0], {2, 3}); });
  T.add("expand_method", {{1, 3}}, [](V x) { return x[0].expand({4, 3}); });
  T.add("cat_dim0", {{2, 3}, {4, 3}}, [](V x) { return xg::cat({x[0], x[1]}, 0); });
  T.add("cat_dim1", {{2, 3}, {2, 1}, {2, 2}}, [](V x) { return xg::cat({x[0], x[1], x[2]}, 1); });
  T.add("cat_neg_dim", {{2, 2, 3}, {2, 2, 1}}, [](V x) { return xg::cat({x[0], x[1]}, -1); });
  T.add("cat_same_tensor", {{2, 3}}, [](V x) { return xg::cat({x[0], x[0] * 2}, 0); });
  T.add("stack_dim0", {{2, 3}, {2, 3}}, [](V x) { return xg::stack({x[0], x[1]}, 0); });
  T.add("stack_dim1", {{2, 3}, {2, 3}, {2, 3}}, [](V x) {
    return xg::stack({x[0], x[1], x[2]}, 1);
  });
  T.add("stack_neg_dim", {{2, 3}, {2, 3}}, [](V x) { return xg::stack({x[0], x[1]}, -1); });
  T.add("stack_0d", {{}, {}}, [](V x) { return xg::stack({x[0], x[1]}); });
  T.add("narrow", {{4, 3}}, [](V x) { return xg::narrow(x[0], 0, 1, 2); });
  T.add("narrow_neg_dim", {{2, 3, 5}}, [](V x) { return xg::narrow(x[0], -1, 2, 3); });
  T.add("narrow_method", {{4, 3}}, [](V x) { return x[0].narrow(1, 0, 1); });
  T.add("index_select_dim0", {{4, 3}}, [](V x) {
    return xg::index_select(x[0], 0, index_tensor({2, 0, 2, 3}));
  });
  T.add("index_select_dim1", {{2, 3, 4}}, [](V x) {
    return xg::index_select(x[0], 1, index_tensor({1, 1}));
  });
  T.add("index_select_neg_dim", {{2, 3, 4}}, [](V x) {
    return xg::index_select(x[0], -1, index_tensor({3, 0, 3, 1, 3}));
  });
  T.add("index_select_method", {{5}}, [](V x) {
    return x[0].index_select(0, index_tensor({4, 4, 0}));
  });

  // ---- softmax family ----
  T.add("softmax_dim1", {{3, 4}}, [](V x) { return xg::softmax(x[0], 1); });
  T.add("softmax_dim0", {{3, 4}}, [](V x) { return xg::softmax(x[0], 0); });
  T.add("softmax_neg_dim_3d", {{2, 3, 4}}, [](V x) { return xg::softmax(x[0], -2); });
  T.add("softmax_1d", {{5}}, [](V x) { return xg::softmax(x[0], 0); });
  T.add("softmax_method", {{2, 3}}, [](V x) { return x[0].softmax(-1); });
  T.add("softmax_large_values", {{2, 3}}, [](V x) { return xg::softmax(x[0] * 10 + 800, 1); });
  T.add("log_softmax_dim1", {{3, 4}}, [](V x) { return xg::log_softmax(x[0], 1); });
  T.add("log_softmax_dim0", {{3, 4}}, [](V x) { return xg::log_softmax(x[0], 0); });
  T.add("log_softmax_neg_dim_3d", {{2, 3, 4}}, [](V x) { return xg::log_softmax(x[0], -1); });
  T.add("log_softmax_1d", {{5}}, [](V x) { return xg::log_softmax(x[0], 0); });
  T.add("log_softmax_method", {{2, 3}}, [](V x) { return x[0].log_softmax(0); });
  T.add("log_softmax_large_values", {{2, 3}},
        [](V x) { return xg::log_softmax(x[0] * 10 - 900, 1); });

  // ---- copies ----
  T.add("clone", {{2, 3}}, [](V x) { return x[0].clone(); });
  T.add("clone_0d", {{}}, [](V x) { return x[0].clone() * x[0]; });
  T.add("to_float64", {{2, 3}}, [](V x) { return x[0].to(xg::kFloat64); });

  // ---- a few compositions (chains and reuse) ----
  T.add("compose_mlp", {{4, 3}, {3, 5}, {5}, {5, 2}}, [](V x) {
    return xg::log_softmax(xg::matmul(xg::tanh(xg::matmul(x[0], x[1]) + x[2]), x[3]), -1);
  });
  T.add("compose_layernorm_like", {{3, 4}}, [](V x) {
    const Tensor mu = xg::mean(x[0], {-1}, true);
    const Tensor var = xg::mean(xg::square(x[0] - mu), {-1}, true);
    return (x[0] - mu) * xg::rsqrt(var + 1e-5);
  });
  T.add("compose_cross_entropy_like", {{3, 4}}, [](V x) {
    const Tensor onehot = xg::tensor({0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1}, {3, 4}, xg::kFloat64);
    return -(xg::log_softmax(x[0], 1) * onehot).sum() / 3;
  });

  // (Rows added last keep the seeds, which are positions, of the rows above.)
  T.add("where_scalar_b", {{2, 3}}, [](V x) {
    return xg::where(xg::tensor({1, 0, 0}, {3}, xg::kBool), x[0], 2.5);
  });
  T.add("where_scalar_a", {{2, 1}}, [](V x) {
    return xg::where(xg::tensor({0, 1, 1, 0}, {2, 2}, xg::kBool), -1, x[0]);
  });
  // ---- masks ----
  T.add("masked_fill", {{2, 3}}, [](V x) {
    return xg::masked_fill(x[0], xg::tensor({1, 0, 0, 0, 1, 1}, {2, 3}, xg::kBool), -2.0);
  });
  T.add("masked_fill_mask_bcast", {{2, 3}}, [](V x) {
    return x[0].masked_fill(xg::tensor({0, 1}, {2, 1}, xg::kBool), 7);
  });
  T.add("masked_fill_t_bcast", {{3}}, [](V x) {
    return xg::masked_fill(x[0], xg::tensor({1, 0, 0, 0, 1, 0}, {2, 3}, xg::kBool), 0.5);
  });
  T.add("masked_fill_value", {{2, 3}, {}}, [](V x) {
    return xg::masked_fill(x[0], xg::tensor({1, 0, 1, 0, 1, 1}, {2, 3}, xg::kBool), x[1]);
  });
  T.add("masked_fill_value_only", {{}}, [](V x) {
    return xg::ones({2, 2}, xg::kFloat64)
        .masked_fill(xg::tensor({1, 0}, {2}, xg::kBool), x[0] * 3.0);
  });
  T.add(
      "masked_fill_by_comparison", {{2, 4}},
      [](V x) { return xg::masked_fill(x[0], x[0].gt(0.0), 0.0).exp(); }, away_from({0}));
  for (std::int64_t k : {0, 1, -1, 2, -3}) {
    const std::string suffix = "_k" + std::string(k < 0 ? "m" : "") + std::to_string(std::abs(k));
    T.add("tril" + suffix, {{3, 4}}, [k](V x) { return xg::tril(x[0], k); });
    T.add("triu" + suffix, {{4, 3}}, [k](V x) { return xg::triu(x[0], k); });
  }
  // Every differentiable op form of the OpInfo table (op_info.hpp) on each of its non-empty
  // samples, as a function and, where it has one, as a method.
  for (const auto& info : xg_test::op_infos()) {
    if (!info.differentiable) continue;
    bool positive_input = false, kinked_input = false;
    for (const auto d : info.domains) {
      positive_input |= d == xg_test::Domain::Positive || d == xg_test::Domain::GtMinus1;
      kinked_input |= d == xg_test::Domain::Kink0 || d == xg_test::Domain::NonZero;
    }
    const Domain domain = positive_input ? positive() : kinked_input ? away_from({0}) : any();
    for (const auto& sample : info.samples) {
      if (std::any_of(sample.shapes.begin(), sample.shapes.end(),
                      [](const Shape& s) { return xg::shape_numel(s) == 0; })) {
        continue;
      }
      T.add("opinfo_" + info.id + "_" + sample.name, sample.shapes, info.fn, domain);
      if (info.method) {
        T.add("opinfo_" + info.id + "_" + sample.name + "_method", sample.shapes, info.method,
              domain);
      }
    }
  }
  T.add("topk_k2_dim0", {{3, 2, 4}}, [](V x) { return std::get<0>(xg::topk(x[0], 2, 0)); });
  T.add("topk_smallest_method", {{2, 5}}, [](V x) { return std::get<0>(x[0].topk(3, 1, false)); });
  T.add("sort_descending_dim1", {{2, 3, 2}},
        [](V x) { return std::get<0>(xg::sort(x[0], 1, true)); });
  T.add("sort_then_weighted", {{6}},
        [](V x) { return std::get<0>(xg::sort(x[0])) * xg::arange(6, xg::kFloat64); });
  T.add("tril_batched", {{2, 3, 3}}, [](V x) { return x[0].tril(); });
  T.add("triu_batched_method", {{2, 2, 3}}, [](V x) { return x[0].triu(1) * x[0]; });
  T.add("tril_transposed_view", {{3, 4}}, [](V x) { return xg::tril(x[0].t(), -1); });

  // ---- cumsum, gather, max/min along a dim, diagonal, unflatten, masked_select ----
  T.add("cumsum_dim0", {{3, 4}}, [](V x) { return xg::cumsum(x[0], 0); });
  T.add("cumsum_3d_neg_dim", {{2, 3, 4}}, [](V x) { return xg::cumsum(x[0], -2); });
  T.add("cumsum_0d", {{}}, [](V x) { return xg::cumsum(x[0], 0) * x[0]; });
  T.add("cumsum_transposed_view", {{3, 4}}, [](V x) { return x[0].t().cumsum(1); });
  T.add("gather_dim1", {{2, 3}}, [](V x) {
    return xg::gather(x[0], 1, xg::tensor({0, 2, 1, 1}, {2, 2}, xg::kInt64));
  });
  T.add("gather_repeated_longer", {{2, 3}}, [](V x) {
    return x[0].gather(-1, xg::tensor({0, 0, 2, 0, 1, 1, 1, 1}, {2, 4}, xg::kInt64));
  });
  T.add("gather_dim0_narrower", {{3, 2}}, [](V x) {
    return xg::gather(x[0], 0, xg::tensor({2, 0}, {1, 2}, xg::kInt64));
  });
  T.add("gather_3d", {{2, 3, 4}}, [](V x) {
    return xg::gather(x[0], 1, xg::tensor({2, 0, 1, 1, 0, 0, 2, 1}, {2, 1, 4}, xg::kInt64));
  });
  T.add("gather_0d_index_1d", {{}}, [](V x) {
    return xg::gather(x[0], 0, xg::tensor({0, 0, 0}, {3}, xg::kInt64));
  });
  // the gradient of a gather is a scatter-add, itself differentiable: gradcheck that too
  T.add("gather_backward", {{2, 4}}, [](V x) {
    // the scatter-add comes from a backward pass, which records only in grad mode (gradcheck
    // evaluates its finite differences without it)
    const bool was_enabled = xg::GradMode::is_enabled();
    xg::GradMode::set_enabled(true);
    const Tensor base = xg::ones({2, 3}, xg::kFloat64).requires_grad_(true);
    const Tensor index = xg::tensor({0, 0, 2, 1, 1, 1, 0, 2}, {2, 4}, xg::kInt64);
    const Tensor y = xg::gather(base, 1, index);
    const Tensor g = xg::autograd::grad({y}, {base}, {x[0]}, std::nullopt, true)[0];
    xg::GradMode::set_enabled(was_enabled);
    return g;
  });
  for (const bool keep : {false, true}) {
    const std::string k = keep ? "_keepdim" : "";
    T.add("max_dim1" + k, {{3, 4}}, [keep](V x) { return std::get<0>(xg::max(x[0], 1, keep)); });
    T.add("min_dim0" + k, {{3, 4}}, [keep](V x) { return std::get<0>(x[0].min(0, keep)); });
    T.add("max_3d_neg_dim" + k, {{2, 3, 4}},
          [keep](V x) { return std::get<0>(x[0].max(-2, keep)); });
  }
  T.add("max_dim_0d", {{}}, [](V x) { return std::get<0>(xg::max(x[0], 0)) * x[0]; });
  T.add("min_dim_transposed_view", {{3, 4}}, [](V x) { return std::get<0>(xg::min(x[0].t(), 1)); });
  for (const std::int64_t offset : {0, 1, -1, 2}) {
    T.add("diagonal_offset" + std::string(offset < 0 ? "m" : "") + std::to_string(std::abs(offset)),
          {{3, 4}}, [offset](V x) { return xg::diagonal(x[0], offset); });
  }
  T.add("diagonal_3d_dims", {{2, 3, 4}}, [](V x) { return x[0].diagonal(-1, 2, 0); });
  T.add("diagonal_then_in_place", {{3, 3}}, [](V x) {
    Tensor y = x[0] * 1.0;
    y.diagonal().mul_(2.0);  // an in-place op on the view rewrites y's history
    return y;
  });
  T.add("unflatten", {{2, 6}}, [](V x) { return xg::unflatten(x[0], 1, {2, -1, 1}); });
  T.add("unflatten_transposed_view", {{3, 4}}, [](V x) { return x[0].t().unflatten(0, {2, 2}); });
  T.add("masked_select", {{2, 3}}, [](V x) {
    return xg::masked_select(x[0], xg::tensor({1, 0, 1, 1, 0, 0}, {2, 3}, xg::kBool));
  });
  T.add("masked_select_t_broadcasts", {{3}}, [](V x) {
    return x[0].masked_select(xg::tensor({1, 0, 1, 0, 1, 1}, {2, 3}, xg::kBool));
  });
  T.add("masked_select_mask_broadcasts", {{2, 3}}, [](V x) {
    return xg::masked_select(x[0], xg::tensor({0, 1}, {2, 1}, xg::kBool));
  });
  return T.take();
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table = build_rows();
  return table;
}

class GradcheckOps : public ::testing::TestWithParam<std::size_t> {};

TEST_P(GradcheckOps, Row) {
  const Row& row = rows().at(GetParam());
  const std::vector<Tensor> inputs = make_inputs(row);
  const xg::autograd::GradcheckReport report = xg::autograd::gradcheck(row.fn, inputs);
  EXPECT_TRUE(report.ok) << row.name << ": " << report.message;
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& info) {
  std::string name = rows().at(info.param).name;
  for (char& c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Gradcheck, GradcheckOps, ::testing::Range<std::size_t>(0, rows().size()),
                         row_name);

TEST(GradcheckTable, RowNamesAreUnique) {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < rows().size(); ++i) {
    names.push_back(row_name(::testing::TestParamInfo<std::size_t>(i, i)));
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

// gradcheck itself must be able to fail: a custom op with a wrong derivative (x instead of 2x).
struct WrongSquare : xg::autograd::Function<WrongSquare> {
  static Tensor forward(xg::autograd::AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return x * x;
  }
  static std::vector<Tensor> backward(xg::autograd::AutogradContext* ctx,
                                      std::vector<Tensor> grad_out) {
    return {grad_out[0] * ctx->get_saved_variables()[0]};
  }
};

TEST(GradcheckTool, DetectsAWrongDerivative) {
  xg::manual_seed(7);
  Tensor x = (xg::randn({3}, xg::kFloat64).abs() + 0.5).requires_grad_();
  const auto report = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return WrongSquare::apply(in[0]); }, {x});
  EXPECT_FALSE(report.ok) << report.message;
  EXPECT_FALSE(report.message.empty());
  // The analytical value is x, the numerical one 2x, at the worst element.
  const double xv = x.detach().to_xarray<double>()(report.worst_element);
  EXPECT_NEAR(report.analytical, xv, 1e-9);
  EXPECT_NEAR(report.numerical, 2 * xv, 1e-5);
}

TEST(GradcheckTool, PassesACorrectCustomDerivative) {
  xg::manual_seed(8);
  Tensor x = xg::randn({2, 3}, xg::kFloat64).requires_grad_();
  const auto report =
      xg::autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(GradcheckTool, RejectsFloat32Inputs) {
  Tensor x = xg::randn({3}).requires_grad_();
  const auto report = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return (in[0] * 2).to(xg::kFloat64); }, {x});
  EXPECT_FALSE(report.ok);
  EXPECT_FALSE(report.message.empty());
}

// An input the output does not depend on has a zero Jacobian, numerically and analytically
// (torch.autograd.gradcheck accepts it the same way).
TEST(GradcheckTool, UnusedInputHasAZeroJacobian) {
  xg::manual_seed(10);
  Tensor x = xg::randn({3}, xg::kFloat64).requires_grad_();
  Tensor unused = xg::randn({2}, xg::kFloat64).requires_grad_();
  const auto report =
      xg::autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0] * 2; }, {x, unused});
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(GradcheckTool, LeavesInputsUnchanged) {
  xg::manual_seed(9);
  Tensor x = xg::randn({2, 3}, xg::kFloat64).requires_grad_();
  const xt::xarray<double> before = x.to_xarray<double>();
  const auto report = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return xg::exp(in[0]).sum(); }, {x});
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(x.to_xarray<double>(), before);
  EXPECT_FALSE(x.grad().defined());  // gradcheck uses autograd::grad, which leaves .grad alone
}

}  // namespace
