// Forward values of every op: a table of PyTorch results (tests/reference/op_reference.inc, made
// by tests/reference/make_op_reference.py), then hand-computed checks of broadcasting, type
// promotion, integer arithmetic, and the creation functions.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <numbers>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>
#include <xgrad/tensor/kernels.hpp>
#include <xgrad/xgrad.hpp>

#include "op_info.hpp"
#include "unary_cases.hpp"

namespace {

using xg::Shape;
using xg::Tensor;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- the PyTorch reference table ------------------------------------------------------------

struct RefTensor {
  Shape shape;
  xg::Dtype dtype;
  std::vector<double> values;  // row-major; Int64 values are all below 2^53, so exact; Bool 0, 1
};

struct RefCase {
  const char* name;
  const char* op;
  std::vector<RefTensor> inputs;
  std::vector<std::int64_t> ints;  // dims, shapes, (dim, start, length), ... as the op needs
  std::vector<double> scalars;     // C++ scalar arguments
  bool keepdim;
  bool int_scalar;  // the scalars are C++ integers (else doubles)
  RefTensor expected;
};

// The table as constant data. (Initializer lists compile in a fraction of a second; the same
// table written as std::vector initializers takes GCC minutes at -O3.)
struct RawTensor {
  std::initializer_list<std::int64_t> shape;
  xg::Dtype dtype;
  std::initializer_list<double> values;
};

struct RawCase {
  const char* name;
  const char* op;
  std::initializer_list<RawTensor> inputs;
  std::initializer_list<std::int64_t> ints;
  std::initializer_list<double> scalars;
  bool keepdim;
  bool int_scalar;
  RawTensor expected;
};

constexpr RawCase kRawCases[] = {
#include "reference/op_reference.inc"
};

RefTensor to_ref(const RawTensor& r) {
  return {Shape(r.shape), r.dtype, std::vector<double>(r.values)};
}

const std::vector<RefCase>& reference_cases() {
  static const std::vector<RefCase> cases = [] {
    std::vector<RefCase> out;
    for (const RawCase& r : kRawCases) {
      std::vector<RefTensor> inputs;
      for (const RawTensor& t : r.inputs) inputs.push_back(to_ref(t));
      out.push_back({r.name, r.op, std::move(inputs), std::vector<std::int64_t>(r.ints),
                     std::vector<double>(r.scalars), r.keepdim, r.int_scalar, to_ref(r.expected)});
    }
    return out;
  }();
  return cases;
}

Tensor make_input(const RefTensor& r) { return xg::tensor(r.values, r.shape, xg::dtype(r.dtype)); }

xg::Scalar scalar_arg(const RefCase& c, std::size_t i) {
  if (c.int_scalar) return xg::Scalar(static_cast<std::int64_t>(c.scalars.at(i)));
  return xg::Scalar(c.scalars.at(i));
}

// Runs the case's op through xgrad: as a free function, or (method = true) as the Tensor
// method where one exists.
Tensor run_reference_op(const RefCase& c, const std::vector<Tensor>& x, bool method) {
  const std::string op = c.op;
  const auto& i = c.ints;
  const bool k = c.keepdim;
  auto s = [&](std::size_t n) { return scalar_arg(c, n); };
  auto dim_arg = [&]() { return i.at(0); };

  // arithmetic
  if (op == "add") {
    if (c.scalars.empty()) return method ? x[0].add(x[1]) : x[0] + x[1];
    return method ? x[0].add(x[1], s(0)) : xg::add(x[0], x[1], s(0));
  }
  if (op == "sub") {
    if (c.scalars.empty()) return method ? x[0].sub(x[1]) : x[0] - x[1];
    return method ? x[0].sub(x[1], s(0)) : xg::sub(x[0], x[1], s(0));
  }
  if (op == "mul") return method ? x[0].mul(x[1]) : x[0] * x[1];
  if (op == "div") return method ? x[0].div(x[1]) : x[0] / x[1];
  if (op == "add_s") return x[0] + s(0);
  if (op == "radd_s") return s(0) + x[0];
  if (op == "sub_s") return x[0] - s(0);
  if (op == "rsub_s") return s(0) - x[0];
  if (op == "mul_s") return x[0] * s(0);
  if (op == "rmul_s") return s(0) * x[0];
  if (op == "div_s") return x[0] / s(0);
  if (op == "rdiv_s") return s(0) / x[0];
  if (op == "pow_s") return method ? x[0].pow(s(0)) : xg::pow(x[0], s(0));
  if (op == "rpow_s") return xg::pow(s(0), x[0]);
  if (op == "pow") return method ? x[0].pow(x[1]) : xg::pow(x[0], x[1]);
  // unary
  if (const auto* u = xg_test::find_unary(op)) return method ? (x[0].*u->method)() : u->fn(x[0]);
  if (op == "clamp") return method ? x[0].clamp(s(0), s(1)) : xg::clamp(x[0], s(0), s(1));
  if (op == "clamp_min") return method ? x[0].clamp_min(s(0)) : xg::clamp(x[0], s(0));
  if (op == "clamp_max") {
    return method ? x[0].clamp_max(s(0)) : xg::clamp(x[0], std::nullopt, s(0));
  }
  if (op == "maximum") return method ? x[0].maximum(x[1]) : xg::maximum(x[0], x[1]);
  if (op == "minimum") return method ? x[0].minimum(x[1]) : xg::minimum(x[0], x[1]);
  if (op == "where") return xg::where(x[0], x[1], x[2]);
  if (op == "where_s") return xg::where(x[0], x[1], s(0));
  if (op == "rwhere_s") return xg::where(x[0], s(0), x[1]);
  if (op == "where_ss") return xg::where(x[0], s(0), s(1));
    // comparisons
#define XG_TEST_COMPARISON(E, name, ...)                                   \
  if (op == #name) return method ? x[0].name(x[1]) : xg::name(x[0], x[1]); \
  if (op == #name "_s") return method ? x[0].name(s(0)) : xg::name(x[0], s(0));
  XG_COMPARISON_OPS(XG_TEST_COMPARISON)
#undef XG_TEST_COMPARISON
  // logical ops and tests
  if (op == "logical_and") return method ? x[0].logical_and(x[1]) : xg::logical_and(x[0], x[1]);
  if (op == "logical_or") return method ? x[0].logical_or(x[1]) : xg::logical_or(x[0], x[1]);
  if (op == "logical_xor") return method ? x[0].logical_xor(x[1]) : xg::logical_xor(x[0], x[1]);
  if (op == "logical_not") return method ? x[0].logical_not() : xg::logical_not(x[0]);
  if (op == "isnan") return method ? x[0].isnan() : xg::isnan(x[0]);
  if (op == "isinf") return method ? x[0].isinf() : xg::isinf(x[0]);
  if (op == "isfinite") return method ? x[0].isfinite() : xg::isfinite(x[0]);
  if (op == "any") {
    if (i.empty()) return method ? x[0].any() : xg::any(x[0]);
    return method ? x[0].any(i[0], k) : xg::any(x[0], i[0], k);
  }
  if (op == "all") {
    if (i.empty()) return method ? x[0].all() : xg::all(x[0]);
    return method ? x[0].all(i[0], k) : xg::all(x[0], i[0], k);
  }
  // masks
  if (op == "masked_fill") {
    return method ? x[0].masked_fill(x[1], s(0)) : xg::masked_fill(x[0], x[1], s(0));
  }
  if (op == "masked_fill_t") {
    return method ? x[0].masked_fill(x[1], x[2]) : xg::masked_fill(x[0], x[1], x[2]);
  }
  if (op == "tril") {
    if (i.empty()) return method ? x[0].tril() : xg::tril(x[0]);
    return method ? x[0].tril(i[0]) : xg::tril(x[0], i[0]);
  }
  if (op == "triu") {
    if (i.empty()) return method ? x[0].triu() : xg::triu(x[0]);
    return method ? x[0].triu(i[0]) : xg::triu(x[0], i[0]);
  }
  // reductions
  if (op == "sum_all") return method ? x[0].sum() : xg::sum(x[0]);
  if (op == "sum") return method ? x[0].sum(i, k) : xg::sum(x[0], i, k);
  if (op == "mean_all") return method ? x[0].mean() : xg::mean(x[0]);
  if (op == "mean") return method ? x[0].mean(i, k) : xg::mean(x[0], i, k);
  if (op == "max_all") return method ? x[0].max() : xg::max(x[0]);
  if (op == "min_all") return method ? x[0].min() : xg::min(x[0]);
  if (op == "amax") return method ? x[0].amax(i, k) : xg::amax(x[0], i, k);
  if (op == "amin") return method ? x[0].amin(i, k) : xg::amin(x[0], i, k);
  if (op == "argmax" || op == "argmin") {
    std::optional<std::int64_t> d;
    if (!i.empty()) d = i[0];
    if (op == "argmax") return method ? x[0].argmax(d, k) : xg::argmax(x[0], d, k);
    return method ? x[0].argmin(d, k) : xg::argmin(x[0], d, k);
  }
  if (op == "logsumexp") return method ? x[0].logsumexp(i, k) : xg::logsumexp(x[0], i, k);
  // linear algebra
  if (op == "matmul") return method ? x[0].matmul(x[1]) : xg::matmul(x[0], x[1]);
  if (op == "mm") return method ? x[0].mm(x[1]) : xg::mm(x[0], x[1]);
  if (op == "t") return method ? x[0].t() : xg::t(x[0]);
  // shape
  if (op == "reshape") return method ? x[0].reshape(i) : xg::reshape(x[0], i);
  if (op == "view") return method ? x[0].view(i) : xg::view(x[0], i);
  if (op == "flatten") {
    if (i.empty()) return method ? x[0].flatten() : xg::flatten(x[0]);
    return method ? x[0].flatten(i[0], i[1]) : xg::flatten(x[0], i[0], i[1]);
  }
  if (op == "squeeze") {
    if (i.empty()) return method ? x[0].squeeze() : xg::squeeze(x[0]);
    return method ? x[0].squeeze(i[0]) : xg::squeeze(x[0], i[0]);
  }
  if (op == "unsqueeze") return method ? x[0].unsqueeze(dim_arg()) : xg::unsqueeze(x[0], dim_arg());
  if (op == "transpose") {
    return method ? x[0].transpose(i[0], i[1]) : xg::transpose(x[0], i[0], i[1]);
  }
  if (op == "permute") return method ? x[0].permute(i) : xg::permute(x[0], i);
  if (op == "expand") return method ? x[0].expand(i) : xg::expand(x[0], i);
  if (op == "cat") return xg::cat(x, dim_arg());
  if (op == "stack") return xg::stack(x, dim_arg());
  if (op == "narrow") {
    return method ? x[0].narrow(i[0], i[1], i[2]) : xg::narrow(x[0], i[0], i[1], i[2]);
  }
  if (op == "index_select") {
    return method ? x[0].index_select(dim_arg(), x[1]) : xg::index_select(x[0], dim_arg(), x[1]);
  }
  // sorting: keepdim carries topk's `largest` and sort's `descending`
  if (op == "topk_values" || op == "topk_indices") {
    const auto [values, indices] =
        method ? x[0].topk(i.at(0), i.at(1), k) : xg::topk(x[0], i.at(0), i.at(1), k);
    return op == "topk_values" ? values : indices;
  }
  if (op == "sort_values" || op == "sort_indices") {
    const auto [values, indices] = method ? x[0].sort(dim_arg(), k) : xg::sort(x[0], dim_arg(), k);
    return op == "sort_values" ? values : indices;
  }
  // softmax family
  if (op == "softmax") return method ? x[0].softmax(dim_arg()) : xg::softmax(x[0], dim_arg());
  if (op == "log_softmax") {
    return method ? x[0].log_softmax(dim_arg()) : xg::log_softmax(x[0], dim_arg());
  }
  // cumsum, gather, max/min along a dim, diagonal, unflatten, masked_select
  if (op == "cumsum") return method ? x[0].cumsum(dim_arg()) : xg::cumsum(x[0], dim_arg());
  if (op == "gather") {
    return method ? x[0].gather(dim_arg(), x[1]) : xg::gather(x[0], dim_arg(), x[1]);
  }
  if (op == "max_dim" || op == "max_dim_indices" || op == "min_dim" || op == "min_dim_indices") {
    const bool is_max = op.rfind("max", 0) == 0;
    std::tuple<Tensor, Tensor> r;
    if (method) {
      r = is_max ? x[0].max(dim_arg(), k) : x[0].min(dim_arg(), k);
    } else if (!k && std::string(c.name).find("_k0") != std::string::npos) {
      r = is_max ? xg::max(x[0], dim_arg()) : xg::min(x[0], dim_arg());  // the default keepdim
    } else {
      r = is_max ? xg::max(x[0], dim_arg(), k) : xg::min(x[0], dim_arg(), k);
    }
    return op.ends_with("_indices") ? std::get<1>(r) : std::get<0>(r);
  }
  if (op == "diagonal") {
    if (i.empty()) return method ? x[0].diagonal() : xg::diagonal(x[0]);
    if (i.size() == 1) return method ? x[0].diagonal(i[0]) : xg::diagonal(x[0], i[0]);
    return method ? x[0].diagonal(i[0], i[1], i[2]) : xg::diagonal(x[0], i[0], i[1], i[2]);
  }
  if (op == "unflatten") {
    const Shape sizes(i.begin() + 1, i.end());
    return method ? x[0].unflatten(i[0], sizes) : xg::unflatten(x[0], i[0], sizes);
  }
  if (op == "masked_select") {
    return method ? x[0].masked_select(x[1]) : xg::masked_select(x[0], x[1]);
  }
  ADD_FAILURE() << "the reference table names an op this test does not know: " << op;
  return {};
}

// Relative tolerance plus a small absolute floor (for results near zero), per result dtype.
// Int64 and Bool results must be exact; NaN must be NaN and infinities must match exactly.
void expect_matches(const Tensor& result, const RefTensor& expected) {
  ASSERT_TRUE(result.defined());
  const Tensor actual = result.contiguous();  // a view's elements in row-major order
  ASSERT_EQ(actual.shape(), expected.shape);
  ASSERT_EQ(actual.dtype(), expected.dtype);
  ASSERT_EQ(actual.numel(), static_cast<std::int64_t>(expected.values.size()));
  const double rtol = expected.dtype == xg::kFloat64 ? 1e-12 : 2e-6;
  const double atol = expected.dtype == xg::kFloat64 ? 1e-14 : 2e-7;
  std::vector<double> got(expected.values.size());
  const bool exact = expected.dtype == xg::kInt64 || expected.dtype == xg::kBool;
  if (expected.dtype == xg::kInt64) {
    const std::int64_t* p = actual.data_ptr<std::int64_t>();
    for (std::size_t n = 0; n < got.size(); ++n) got[n] = static_cast<double>(p[n]);
  } else if (expected.dtype == xg::kBool) {
    const bool* p = actual.data_ptr<bool>();
    for (std::size_t n = 0; n < got.size(); ++n) got[n] = p[n] ? 1.0 : 0.0;
  } else if (expected.dtype == xg::kFloat32) {
    const float* p = actual.data_ptr<float>();
    for (std::size_t n = 0; n < got.size(); ++n) got[n] = p[n];
  } else {
    const double* p = actual.data_ptr<double>();
    for (std::size_t n = 0; n < got.size(); ++n) got[n] = p[n];
  }
  for (std::size_t n = 0; n < got.size(); ++n) {
    const double e = expected.values[n], a = got[n];
    if (std::isnan(e)) {
      EXPECT_TRUE(std::isnan(a)) << "element " << n << ": expected NaN, got " << a;
    } else if (std::isinf(e) || exact) {
      EXPECT_EQ(a, e) << "element " << n;
    } else {
      EXPECT_NEAR(a, e, rtol * std::abs(e) + atol) << "element " << n;
    }
  }
}

class OpReference : public ::testing::TestWithParam<std::size_t> {};

TEST_P(OpReference, MatchesPyTorch) {
  const RefCase& c = reference_cases()[GetParam()];
  SCOPED_TRACE(std::string("reference case ") + c.name);
  for (bool method : {false, true}) {
    SCOPED_TRACE(method ? "as a Tensor method" : "as a free function");
    std::vector<Tensor> x;
    for (const auto& in : c.inputs) x.push_back(make_input(in));
    Tensor out;
    try {
      out = run_reference_op(c, x, method);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    expect_matches(out, c.expected);
  }
}

// No op changes its inputs, and only view ops alias one (as PyTorch: tests/test_views.cpp
// checks what they alias); overwriting any other result leaves every input as it was.
TEST_P(OpReference, ResultDoesNotAliasInputs) {
  const RefCase& c = reference_cases()[GetParam()];
  SCOPED_TRACE(std::string("reference case ") + c.name);
  std::vector<Tensor> x;
  for (const auto& in : c.inputs) x.push_back(make_input(in));
  Tensor out = run_reference_op(c, x, false);
  ASSERT_TRUE(out.defined());
  static const std::set<std::string> views = {"t",       "reshape",   "view",      "flatten",
                                              "squeeze", "unsqueeze", "transpose", "permute",
                                              "expand",  "narrow",    "diagonal",  "unflatten"};
  bool aliases = false;
  for (const auto& in : x) aliases = aliases || out.is_alias_of(in);
  if (aliases) {
    EXPECT_TRUE(views.count(c.op)) << c.op << " returned a view of its input";
    return;
  }
  ASSERT_TRUE(out.is_contiguous());
  for (std::int64_t n = 0; n < out.numel(); ++n) {
    if (out.dtype() == xg::kInt64) out.data_ptr<std::int64_t>()[n] = 12345;
    if (out.dtype() == xg::kFloat32) out.data_ptr<float>()[n] = 12345;
    if (out.dtype() == xg::kFloat64) out.data_ptr<double>()[n] = 12345;
    if (out.dtype() == xg::kBool) out.data_ptr<bool>()[n] = !out.data_ptr<bool>()[n];
  }
  for (std::size_t k = 0; k < x.size(); ++k) {
    SCOPED_TRACE("input " + std::to_string(k));
    expect_matches(x[k], c.inputs[k]);
  }
}

std::string case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return reference_cases()[info.param].name;
}

INSTANTIATE_TEST_SUITE_P(Table, OpReference,
                         ::testing::Range<std::size_t>(0, reference_cases().size()), case_name);

// The test table (unary_cases.hpp) has one row per registry op and no other.
TEST(OpRegistry, EveryOpHasATestRow) {
  const auto names = xg_test::registry_unary_names();
  EXPECT_EQ(xg_test::unary_cases().size(), names.size());
  for (const auto& n : names) EXPECT_NE(xg_test::find_unary_row(n), nullptr) << n;
  for (const auto& row : xg_test::kUnaryRows) {
    EXPECT_NE(std::find(names.begin(), names.end(), row.name), names.end()) << row.name;
  }
}

TEST(OpReferenceTable, CoversEveryOp) {
  // Every op of API.md's "Ops" list appears in the table, with Float64 and with Float32 inputs
  // (where's first input is its Bool condition: any input counts); the registry's unary ops and
  // comparisons are all in it.
  const char* ops[] = {"add",         "sub",          "mul",           "div",         "add_s",
                       "radd_s",      "sub_s",        "rsub_s",        "mul_s",       "rmul_s",
                       "div_s",       "rdiv_s",       "pow_s",         "pow",         "clamp",
                       "maximum",     "minimum",      "where",         "eq_s",        "sum_all",
                       "sum",         "mean_all",     "mean",          "max_all",     "min_all",
                       "amax",        "argmax",       "logsumexp",     "matmul",      "mm",
                       "t",           "reshape",      "view",          "flatten",     "squeeze",
                       "unsqueeze",   "transpose",    "permute",       "expand",      "cat",
                       "stack",       "narrow",       "index_select",  "softmax",     "log_softmax",
                       "where_s",     "rwhere_s",     "logical_and",   "logical_or",  "logical_xor",
                       "logical_not", "isnan",        "isinf",         "isfinite",    "any",
                       "all",         "masked_fill",  "masked_fill_t", "tril",        "triu",
                       "topk_values", "topk_indices", "sort_values",   "sort_indices"};
  std::vector<std::string> names(std::begin(ops), std::end(ops));
  for (const auto& n : xg_test::registry_unary_names()) names.push_back(n);
  for (const auto& n : xg_test::registry_comparison_names()) names.push_back(n);
  for (const auto& op : names) {
    bool f64 = false, f32 = false;
    for (const auto& c : reference_cases()) {
      if (op != c.op) continue;
      for (const auto& in : c.inputs) {
        f64 = f64 || in.dtype == xg::kFloat64;
        f32 = f32 || in.dtype == xg::kFloat32;
      }
    }
    EXPECT_TRUE(f64 && f32) << op;
  }
}

// ---- helpers for the hand-computed tests ------------------------------------------------------

std::vector<double> values_of(const Tensor& t) {
  const auto a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return xg::tensor(v, shape, xg::dtype(xg::kFloat64));
}

Tensor i64(const std::vector<std::int64_t>& v, const Shape& shape) {
  xt::xarray<std::int64_t> a =
      xt::xarray<std::int64_t>::from_shape(std::vector<std::size_t>(shape.begin(), shape.end()));
  std::copy(v.begin(), v.end(), a.begin());
  return xg::from_xarray(std::move(a));
}

std::vector<std::int64_t> int_values_of(const Tensor& t) {
  const std::int64_t* p = t.data_ptr<std::int64_t>();
  return std::vector<std::int64_t>(p, p + t.numel());
}

// ---- the unary ops' table, on every sample and dtype ------------------------------------------

// A value moved into an op's domain, as unary_cases.hpp's in_domain does for tensors.
double into_domain(double v, xg_test::Domain d) {
  switch (d) {
    case xg_test::Domain::Positive:
      return std::abs(v) + 0.5;
    case xg_test::Domain::GtMinus1:
      return std::abs(v);
    case xg_test::Domain::NonZero:
      return v >= 0 ? v + 0.5 : v - 0.5;
    default:
      return v;
  }
}

bool same_or_close(double got, double want, double rel) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  return std::abs(got - want) <= rel * std::max(1.0, std::abs(want));
}

// Every registry op, as a function and a method, on a 2x3 tensor, a 0-d one, an empty one, a
// transposed view and a step-2 slice, in each dtype: the result has the input's shape and the
// dtype the registry row gives (an Int64 input stays Int64 for KeepInt ops, else Float32; a Bool
// one is refused, kept or promoted as the row says), its values are the op's values computed in
// Float64, and a refused input is named in the error and left as it was.
TEST(OpInfo, EveryUnaryOpOnEverySampleAndDtype) {
  const std::vector<double> base = {-1.5, 0.0, 2.25, 0.5, -3.0, 1.0, 4.0};
  for (const auto& u : xg_test::unary_cases()) {
    const xg::kernels::BoolInput on_bool = xg::kernels::unary_bool_input(u.op);
    for (const xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64, xg::kBool}) {
      const bool floating = d == xg::kFloat32 || d == xg::kFloat64;
      std::vector<double> v = base;
      if (floating) {
        for (double& x : v) x = into_domain(x, u.domain);
      }
      const Tensor flat = xg::tensor(v, {7}, xg::dtype(xg::kFloat64)).to(d);
      const std::vector<std::pair<std::string, Tensor>> samples = {
          {"2x3", flat.narrow(0, 0, 6).reshape({2, 3})},
          {"0d", flat.select(0, 2)},
          {"empty", flat.narrow(0, 0, 0).reshape({0, 3})},
          {"transposed", flat.narrow(0, 0, 6).reshape({2, 3}).t()},
          {"step2", flat.slice(0, 0, 7, 2)},
      };
      const bool refused =
          (d == xg::kBool && (on_bool == xg::kernels::BoolInput::Refuse ||
                              on_bool == xg::kernels::BoolInput::RefuseNegation)) ||
          (d == xg::kInt64 && xg::kernels::unary_int_input(u.op) == xg::kernels::IntInput::Refuse);
      xg::Dtype want = d;
      if (!floating) {
        want = (d == xg::kBool && on_bool == xg::kernels::BoolInput::Keep) ? xg::kBool
               : u.keeps_int()                                             ? xg::kInt64
                                                                           : xg::kFloat32;
      }
      for (const auto& [name, x] : samples) {
        SCOPED_TRACE(std::string(u.name) + " " + std::string(xg::dtype_name(d)) + " " + name);
        if (refused) {
          const std::vector<double> before = values_of(x);
          try {
            (void)u.fn(x);
            ADD_FAILURE() << "no error";
          } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()).rfind(std::string(u.name) + ": ", 0), 0u) << e.what();
          }
          EXPECT_THROW((void)(x.*u.method)(), std::invalid_argument);
          EXPECT_EQ(values_of(x), before);
          continue;
        }
        const Tensor out = u.fn(x);
        EXPECT_EQ(out.shape(), x.shape());
        EXPECT_EQ(out.dtype(), want);
        const Tensor by_method = (x.*u.method)();
        const Tensor ref = u.fn(x.contiguous().to(xg::kFloat64));
        const std::vector<double> got = values_of(out), with_method = values_of(by_method),
                                  expect = values_of(ref);
        ASSERT_EQ(got.size(), expect.size());
        const double rel = want == xg::kFloat32 ? 1e-6 : (want == xg::kFloat64 ? 1e-14 : 0.0);
        for (std::size_t i = 0; i < got.size(); ++i) {
          EXPECT_TRUE(same_or_close(got[i], expect[i], rel))
              << i << ": " << got[i] << " vs " << expect[i];
          EXPECT_TRUE(same_or_close(with_method[i], got[i], 0.0)) << i;
        }
      }
    }
  }
}

// PyTorch's refusals of Int64 and Bool inputs (tests/reference/op_refusals.inc, generated): xgrad
// refuses exactly those, with an error naming the op and leaving the input as it was. The values
// of the pairs PyTorch accepts are the reference table's "_i64" and "_bool" cases.
struct Refusal {
  const char* op;
  xg::Dtype dtype;
};
constexpr Refusal kPyTorchRefuses[] = {
#include "reference/op_refusals.inc"
};

TEST(OpReference, UnaryOpsRefuseTheDtypesPyTorchRefuses) {
  for (const auto& r : kPyTorchRefuses) {
    EXPECT_NE(xg_test::find_unary(r.op), nullptr) << r.op << " is not a registry op";
  }
  for (const auto& u : xg_test::unary_cases()) {
    for (const xg::Dtype d : {xg::kInt64, xg::kBool}) {
      SCOPED_TRACE(std::string(u.name) + " " + std::string(xg::dtype_name(d)));
      const bool pytorch_refuses = std::any_of(
          std::begin(kPyTorchRefuses), std::end(kPyTorchRefuses),
          [&](const Refusal& r) { return r.op == std::string(u.name) && r.dtype == d; });
      const Tensor x = xg::tensor({1.0, 0.0, 2.0}, {3}, xg::dtype(xg::kFloat64)).to(d);
      const std::vector<double> before = values_of(x);
      bool refused = false;
      try {
        (void)u.fn(x);
      } catch (const std::invalid_argument& e) {
        refused = true;
        EXPECT_EQ(std::string(e.what()).rfind(std::string(u.name) + ": ", 0), 0u) << e.what();
      }
      EXPECT_EQ(refused, pytorch_refuses);
      EXPECT_EQ(values_of(x), before);
    }
  }
}

// ---- the OpInfo table (op_info.hpp): every op form on every sample, dtype and layout ---------

struct OpDtype {
  const char* id;
  xg::Dtype input;
  bool refused;
  xg::Dtype result;
};
constexpr OpDtype kOpDtypes[] = {
#include "reference/op_dtypes.inc"
};

const OpDtype* op_dtype(const std::string& id, xg::Dtype d) {
  for (const auto& r : kOpDtypes) {
    if (r.id == id && r.input == d) return &r;
  }
  return nullptr;
}

// Each id of the table has PyTorch's dtype rows and each generated row has a table entry.
TEST(OpInfo, TableAndPyTorchDtypesAgree) {
  std::set<std::string> ids;
  for (const auto& info : xg_test::op_infos()) {
    EXPECT_TRUE(ids.insert(info.id).second) << "duplicate id " << info.id;
    for (const xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64, xg::kBool}) {
      EXPECT_NE(op_dtype(info.id, d), nullptr) << info.id << " " << xg::dtype_name(d);
    }
    EXPECT_EQ(info.domains.size(), info.samples.at(0).shapes.size()) << info.id;
  }
  for (const auto& r : kOpDtypes) EXPECT_EQ(ids.count(r.id), 1u) << r.id;
}

// The same values in layouts that are not contiguous: every input of rank >= 1 as a step-2 view
// ("step2"), and every input of rank >= 2 transposed twice around a copy ("transposed").
std::vector<Tensor> relaid(const std::vector<Tensor>& in, bool transposed) {
  std::vector<Tensor> out;
  for (const Tensor& x : in) {
    if (transposed) {
      out.push_back(x.dim() >= 2 ? x.transpose(-1, -2).contiguous().transpose(-1, -2) : x);
    } else {
      out.push_back(x.dim() >= 1 ? xg::stack({x, x}, -1).select(-1, 0) : x);
    }
  }
  return out;
}

// Values equal within `rel` (exactly for 0), NaN matching NaN; a Bool result is compared with the
// Float64 reference's truth (true + true is true).
void expect_values(const Tensor& got, const Tensor& want, double rel, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  const std::vector<double> g = values_of(got), w = values_of(want);
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double expect = got.dtype() == xg::kBool ? static_cast<double>(w[i] != 0) : w[i];
    EXPECT_TRUE(same_or_close(g[i], expect, rel))
        << what << " [" << i << "] " << g[i] << " vs " << expect;
  }
}

// Each op form (function and method) on each sample in each dtype: a dtype PyTorch refuses is
// refused here too (the op named, the inputs unchanged); otherwise the result has PyTorch's dtype,
// the method gives what the function gives, the values are the op's on the same values in
// Float64, non-contiguous inputs give the same values, and a Float result requires grad exactly
// when the op is differentiable. Then each error probe is refused with the op named.
TEST(OpInfo, EveryOpOnEverySampleDtypeAndLayout) {
  std::uint64_t seed = 500;
  for (const auto& info : xg_test::op_infos()) {
    for (const xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64, xg::kBool}) {
      const OpDtype* rule = op_dtype(info.id, d);
      ASSERT_NE(rule, nullptr) << info.id;
      for (const auto& sample : info.samples) {
        const std::string what = info.id + " " + std::string(xg::dtype_name(d)) + " " + sample.name;
        SCOPED_TRACE(what);
        const xg_test::Inputs in = xg_test::make_op_inputs(info, sample, d, ++seed);
        std::vector<std::vector<double>> before;
        for (const Tensor& x : in) before.push_back(values_of(x));
        if (rule->refused) {
          try {
            (void)info.fn(in);
            ADD_FAILURE() << "no error";
          } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()).rfind(info.op + ": ", 0), 0u) << e.what();
          }
          if (info.method) {
            EXPECT_THROW((void)info.method(in), std::invalid_argument);
          }
          for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(values_of(in[i]), before[i]);
          continue;
        }
        const Tensor out = info.fn(in);
        EXPECT_EQ(out.dtype(), rule->result);
        if (info.method) expect_values(info.method(in), out, 0.0, "method");
        const double rel = out.dtype() == xg::kFloat32   ? 1e-5
                           : out.dtype() == xg::kFloat64 ? 1e-12
                                                         : 0.0;
        std::vector<Tensor> in64;
        for (const Tensor& x : in) in64.push_back(x.to(xg::kFloat64));
        expect_values(out, info.fn(in64), rel, "against Float64");
        for (const bool transposed : {false, true}) {
          const Tensor moved = info.fn(relaid(in, transposed));
          EXPECT_EQ(moved.dtype(), out.dtype());
          expect_values(moved, out, rel, transposed ? "transposed" : "step2");
        }
        for (std::size_t i = 0; i < in.size(); ++i) EXPECT_EQ(values_of(in[i]), before[i]);
        if (xg::is_floating(d)) {
          std::vector<Tensor> leaves;
          for (const Tensor& x : in) leaves.push_back(x.detach().requires_grad_(true));
          EXPECT_EQ(info.fn(leaves).requires_grad(), info.differentiable);
        }
      }
    }
    for (const auto& probe : info.probes) {
      SCOPED_TRACE(info.id + ": " + probe.what);
      try {
        probe.call();
        ADD_FAILURE() << "no error";
      } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind(info.op + ": ", 0), 0u) << e.what();
      } catch (const std::out_of_range& e) {
        EXPECT_EQ(std::string(e.what()).rfind(info.op + ": ", 0), 0u) << e.what();
      }
    }
  }
}

// ---- broadcasting -----------------------------------------------------------------------------

TEST(Broadcasting, ScalarRowColumnAndZeroD) {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(values_of(a + 10), (std::vector<double>{11, 12, 13, 14, 15, 16}));
  EXPECT_EQ(values_of(10 - a), (std::vector<double>{9, 8, 7, 6, 5, 4}));
  const Tensor row = f64({10, 20, 30}, {1, 3});
  EXPECT_EQ(values_of(a + row), (std::vector<double>{11, 22, 33, 14, 25, 36}));
  const Tensor vec = f64({10, 20, 30}, {3});
  EXPECT_EQ(values_of(a * vec), (std::vector<double>{10, 40, 90, 40, 100, 180}));
  const Tensor col = f64({100, 200}, {2, 1});
  EXPECT_EQ(values_of(a - col), (std::vector<double>{-99, -98, -97, -196, -195, -194}));
  const Tensor zero_d = f64({2}, {});
  const Tensor q = a / zero_d;
  EXPECT_EQ(q.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of(q), (std::vector<double>{0.5, 1, 1.5, 2, 2.5, 3}));
  // 0-d with 0-d stays 0-d
  const Tensor s = zero_d * f64({3}, {});
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 6.0);
  // column times row: an outer product
  const Tensor outer = col * row;
  EXPECT_EQ(outer.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of(outer), (std::vector<double>{1000, 2000, 3000, 2000, 4000, 6000}));
}

TEST(Broadcasting, LeadingDims) {
  // [2, 1, 3] with [4, 1] gives [2, 4, 3]; element [i, j, k] = a[i, 0, k] + b[j, 0].
  std::vector<double> av(6), bv(4);
  for (int n = 0; n < 6; ++n) av[n] = 10.0 * n;
  for (int n = 0; n < 4; ++n) bv[n] = 1000.0 * n;
  const Tensor a = f64(av, {2, 1, 3});
  const Tensor b = f64(bv, {4, 1});
  for (const Tensor& r : {a + b, b + a}) {
    ASSERT_EQ(r.shape(), (Shape{2, 4, 3}));
    const auto v = values_of(r);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 4; ++j)
        for (int k = 0; k < 3; ++k) EXPECT_EQ(v[(i * 4 + j) * 3 + k], av[i * 3 + k] + bv[j]);
  }
  // [5, 1, 1, 2] with [3, 1]: four dims
  const Tensor c = xg::ones({5, 1, 1, 2}, xg::kFloat64) * f64({1, 2, 3}, {3, 1});
  ASSERT_EQ(c.shape(), (Shape{5, 1, 3, 2}));
  const auto cv = values_of(c);
  for (std::size_t n = 0; n < cv.size(); ++n) EXPECT_EQ(cv[n], double((n / 2) % 3 + 1));
}

TEST(Broadcasting, ZeroSizedDims) {
  const Tensor e = xg::zeros({0, 3}) + xg::ones({1, 3});
  EXPECT_EQ(e.shape(), (Shape{0, 3}));
  EXPECT_EQ(e.numel(), 0);
  const Tensor f = xg::ones({2, 0}) * xg::ones({2, 1});
  EXPECT_EQ(f.shape(), (Shape{2, 0}));
  const Tensor g = xg::ones({0}) + xg::scalar_tensor(1.0);
  EXPECT_EQ(g.shape(), (Shape{0}));
}

TEST(Broadcasting, ComparisonsAndWhere) {
  const Tensor a = f64({1, 5, 3, 4}, {2, 2});
  const Tensor row = f64({2, 4}, {2});
  const Tensor gt = a.gt(row);
  EXPECT_EQ(gt.dtype(), xg::kBool);
  EXPECT_EQ(values_of(gt), (std::vector<double>{0, 1, 1, 0}));
  const Tensor w = xg::where(gt, a, f64({-1}, {}));
  EXPECT_EQ(w.shape(), (Shape{2, 2}));
  EXPECT_EQ(w.dtype(), xg::kFloat64);
  EXPECT_EQ(values_of(w), (std::vector<double>{-1, 5, 3, -1}));
  // A column condition chooses whole rows.
  const Tensor rows =
      xg::where(xg::tensor({0, 1}, {2, 1}, xg::kBool), a, xg::zeros({2, 2}, xg::kFloat64));
  EXPECT_EQ(values_of(rows), (std::vector<double>{0, 0, 3, 4}));
}

// ---- type promotion ---------------------------------------------------------------------------

struct PromotionRow {
  xg::Dtype a, b, add, div;  // the result of + - * and of /
};

// torch.result_type for these operands (PyTorch docs, "Type promotion"): Int64 < Float32 <
// Float64; true division of two integers gives the default dtype, Float32.
const PromotionRow kPromotion[] = {
    {xg::kFloat32, xg::kFloat32, xg::kFloat32, xg::kFloat32},
    {xg::kFloat32, xg::kFloat64, xg::kFloat64, xg::kFloat64},
    {xg::kFloat32, xg::kInt64, xg::kFloat32, xg::kFloat32},
    {xg::kFloat64, xg::kFloat32, xg::kFloat64, xg::kFloat64},
    {xg::kFloat64, xg::kFloat64, xg::kFloat64, xg::kFloat64},
    {xg::kFloat64, xg::kInt64, xg::kFloat64, xg::kFloat64},
    {xg::kInt64, xg::kFloat32, xg::kFloat32, xg::kFloat32},
    {xg::kInt64, xg::kFloat64, xg::kFloat64, xg::kFloat64},
    {xg::kInt64, xg::kInt64, xg::kInt64, xg::kFloat32},
};

TEST(TypePromotion, TensorTensor) {
  for (const auto& row : kPromotion) {
    SCOPED_TRACE(std::string(xg::dtype_name(row.a)) + " op " + std::string(xg::dtype_name(row.b)));
    const Tensor a = xg::full({2}, 7, xg::dtype(row.a));
    const Tensor b = xg::full({2}, 2, xg::dtype(row.b));
    const Tensor sum = a + b, diff = a - b, prod = a * b, quot = a / b;
    EXPECT_EQ(sum.dtype(), row.add);
    EXPECT_EQ(diff.dtype(), row.add);
    EXPECT_EQ(prod.dtype(), row.add);
    EXPECT_EQ(quot.dtype(), row.div);
    EXPECT_EQ(xg::add(a, b).dtype(), row.add);
    EXPECT_EQ(xg::sub(a, b).dtype(), row.add);
    EXPECT_EQ(xg::mul(a, b).dtype(), row.add);
    EXPECT_EQ(xg::div(a, b).dtype(), row.div);
    EXPECT_EQ(xg::maximum(a, b).dtype(), row.add);
    EXPECT_EQ(xg::minimum(a, b).dtype(), row.add);
    EXPECT_EQ(xg::where(xg::ones({2}, xg::kBool), a, b).dtype(), row.add);
    EXPECT_EQ(xg::cat({a, b}).dtype(), row.add);
    EXPECT_EQ(values_of(sum), (std::vector<double>{9, 9}));
    EXPECT_EQ(values_of(diff), (std::vector<double>{5, 5}));
    EXPECT_EQ(values_of(prod), (std::vector<double>{14, 14}));
    EXPECT_EQ(values_of(quot), (std::vector<double>{3.5, 3.5}));
    // comparisons are Bool whatever the operands
    EXPECT_EQ(a.gt(b).dtype(), xg::kBool);
    EXPECT_EQ(values_of(a.gt(b)), (std::vector<double>{1, 1}));
    EXPECT_EQ(values_of(a.eq(b)), (std::vector<double>{0, 0}));
  }
}

TEST(TypePromotion, CppScalars) {
  const Tensor i = xg::full({2}, 7, xg::dtype(xg::kInt64));
  const Tensor f = xg::full({2}, 7, xg::dtype(xg::kFloat32));
  const Tensor d = xg::full({2}, 7, xg::dtype(xg::kFloat64));
  // An integral scalar keeps Int64 Int64 (except true division).
  for (const Tensor& r : {i + 2, 2 + i, i - 2, 2 - i, i * 2, 2 * i})
    EXPECT_EQ(r.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(i + 2), (std::vector<std::int64_t>{9, 9}));
  EXPECT_EQ(int_values_of(2 - i), (std::vector<std::int64_t>{-5, -5}));
  EXPECT_EQ(int_values_of(i * std::int64_t{3}), (std::vector<std::int64_t>{21, 21}));
  EXPECT_EQ((i / 2).dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(i / 2), (std::vector<double>{3.5, 3.5}));
  EXPECT_EQ((2 / i).dtype(), xg::kFloat32);
  EXPECT_FLOAT_EQ((2 / i).to_xarray<float>()(0), 2.0f / 7.0f);
  // A floating scalar turns Int64 into Float32.
  for (const Tensor& r : {i + 0.5, 0.5 + i, i - 0.5, 0.5 - i, i * 0.5, 0.5 * i, i / 0.5, 0.5 / i}) {
    EXPECT_EQ(r.dtype(), xg::kFloat32);
  }
  EXPECT_EQ(values_of(i + 0.5), (std::vector<double>{7.5, 7.5}));
  EXPECT_EQ(values_of(i * 0.5), (std::vector<double>{3.5, 3.5}));
  // A scalar never changes a floating tensor's dtype.
  for (const Tensor& r : {f + 1, f + 0.5, 1 - f, f * 2.5, f / 2, 2.0 / f}) {
    EXPECT_EQ(r.dtype(), xg::kFloat32);
  }
  for (const Tensor& r : {d + 1, d + 0.5, 1 - d, d * 2.5, d / 2, 2.0 / d}) {
    EXPECT_EQ(r.dtype(), xg::kFloat64);
  }
  // Float32 arithmetic with a double scalar rounds to float: 7 + 0.1 is float(7.1).
  EXPECT_EQ(static_cast<float>(values_of(f + 0.1)[0]), 7.0f + 0.1f);
  EXPECT_EQ(values_of(d + 0.1)[0], 7.0 + 0.1);
  // Scalar comparisons are Bool too.
  EXPECT_EQ(i.gt(6).dtype(), xg::kBool);
  EXPECT_EQ(d.lt(7.5).dtype(), xg::kBool);
  EXPECT_EQ(values_of(d.lt(7.5)), (std::vector<double>{1, 1}));
  EXPECT_EQ(values_of(i.ge(7)), (std::vector<double>{1, 1}));
}

TEST(TypePromotion, OpsOnInt64) {
  const Tensor i = i64({-3, 0, 4}, {3});
  EXPECT_EQ(xg::neg(i).dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(xg::neg(i)), (std::vector<std::int64_t>{3, 0, -4}));
  EXPECT_EQ(int_values_of(xg::abs(i)), (std::vector<std::int64_t>{3, 0, 4}));
  EXPECT_EQ(int_values_of(xg::relu(i)), (std::vector<std::int64_t>{0, 0, 4}));
  EXPECT_EQ(int_values_of(xg::square(i)), (std::vector<std::int64_t>{9, 0, 16}));
  EXPECT_EQ(xg::sum(i).dtype(), xg::kInt64);
  EXPECT_EQ(xg::sum(i).item<std::int64_t>(), 1);
  EXPECT_EQ(xg::max(i).item<std::int64_t>(), 4);
  EXPECT_EQ(xg::min(i).item<std::int64_t>(), -3);
  EXPECT_EQ(xg::argmax(i).dtype(), xg::kInt64);
  EXPECT_EQ(xg::argmax(i).item<std::int64_t>(), 2);
  EXPECT_EQ(xg::clamp(i, -1, 1).dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(xg::clamp(i, -1, 1)), (std::vector<std::int64_t>{-1, 0, 1}));
  EXPECT_EQ(xg::clamp(i, -1.5, 1.5).dtype(), xg::kFloat32);  // a floating bound, as in PyTorch
  EXPECT_EQ(values_of(xg::clamp(i, -1.5, 1.5)), (std::vector<double>{-1.5, 0, 1.5}));
  // Floating math on Int64 computes in Float32 (the default dtype), as in PyTorch.
  EXPECT_EQ(xg::exp(i).dtype(), xg::kFloat32);
  EXPECT_FLOAT_EQ(xg::exp(i).to_xarray<float>()(2), std::exp(4.0f));
  EXPECT_EQ(xg::sqrt(i64({4, 9}, {2})).dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(xg::sqrt(i64({4, 9}, {2}))), (std::vector<double>{2, 3}));
  EXPECT_EQ(xg::logsumexp(i, {0}).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::pow(i, 0.5).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::pow(i, 2).dtype(), xg::kInt64);
}

// ---- integer powers and Int64 exactness -------------------------------------------------------

TEST(IntegerPow, SquareAndCubeAreProducts) {
  // pow(x, 2) and pow(x, 3) must equal x*x and x*x*x computed in the tensor's own type (PyTorch
  // computes them as products too), bit for bit.
  const std::vector<double> xs = {0.1, -1.7, 3.3, 1e-20, 123456.789, -7.25e10, 0.0, -0.0};
  const Tensor t64 = f64(xs, {8});
  const Tensor t32 = xg::tensor(xs, {8});
  const auto sq64 = values_of(xg::pow(t64, 2)), cu64 = values_of(xg::pow(t64, 3));
  const auto sq32 = xg::pow(t32, 2).to_xarray<float>(), cu32 = xg::pow(t32, 3).to_xarray<float>();
  const auto sq64d = values_of(xg::pow(t64, 2.0));
  const auto cu32d = xg::pow(t32, 3.0).to_xarray<float>();
  for (std::size_t n = 0; n < xs.size(); ++n) {
    const double x = xs[n];
    const float xf = static_cast<float>(x);
    EXPECT_EQ(sq64[n], x * x) << x;
    EXPECT_EQ(sq64d[n], x * x) << x;
    EXPECT_EQ(cu64[n], x * x * x) << x;
    EXPECT_EQ(sq32(n), xf * xf) << x;
    EXPECT_EQ(cu32(n), xf * xf * xf) << x;
    EXPECT_EQ(cu32d(n), xf * xf * xf) << x;
  }
  EXPECT_EQ(xg::pow(t32, 2).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::pow(t64, 3).dtype(), xg::kFloat64);
}

TEST(IntegerPow, Int64IsExactBeyondDoublePrecision) {
  // 3037000499^2 = 9223372030926249001 < 2^63: not representable in a double, so a std::pow
  // through double would be off by one or more.
  const std::int64_t a = 3037000499, b = 2097151;
  const Tensor t = i64({a, -a, b}, {3});
  const Tensor sq = xg::pow(t, 2);
  ASSERT_EQ(sq.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(sq), (std::vector<std::int64_t>{a * a, a * a, b * b}));
  EXPECT_EQ(int_values_of(sq)[0], INT64_C(9223372030926249001));
  const Tensor c = i64({b, -b, 1000003}, {3});
  const Tensor cu = xg::pow(c, 3);
  ASSERT_EQ(cu.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(cu),
            (std::vector<std::int64_t>{b * b * b, -b * b * b, INT64_C(1000009000027000027)}));
  EXPECT_EQ(int_values_of(cu)[0], INT64_C(9223358842721533951));
  EXPECT_EQ(int_values_of(t.pow(2)), int_values_of(sq));
}

TEST(Int64Arithmetic, ExactBeyondTwoToThe53) {
  const std::int64_t big = (INT64_C(1) << 53) + 1;  // not a double
  const Tensor a = i64({big, -big, big}, {3});
  const Tensor one = i64({1, 1, 2}, {3});
  EXPECT_EQ(int_values_of(a + one), (std::vector<std::int64_t>{big + 1, -big + 1, big + 2}));
  EXPECT_EQ(int_values_of(a - one), (std::vector<std::int64_t>{big - 1, -big - 1, big - 2}));
  EXPECT_EQ(int_values_of(a * one), (std::vector<std::int64_t>{big, -big, 2 * big}));
  EXPECT_EQ(int_values_of(a + 1), (std::vector<std::int64_t>{big + 1, -big + 1, big + 1}));
  EXPECT_EQ(int_values_of(a * 3), (std::vector<std::int64_t>{3 * big, -3 * big, 3 * big}));
  EXPECT_EQ(int_values_of(-a), (std::vector<std::int64_t>{-big, big, -big}));
  EXPECT_EQ(int_values_of(xg::abs(a)), (std::vector<std::int64_t>{big, big, big}));
  EXPECT_EQ(xg::sum(a).item<std::int64_t>(), big);
  EXPECT_EQ(xg::sum(i64({big, big, 1}, {3})).item<std::int64_t>(), 2 * big + 1);
  EXPECT_EQ(int_values_of(xg::sum(i64({big, 1, big, 2}, {2, 2}), {1})),
            (std::vector<std::int64_t>{big + 1, big + 2}));
  // Comparisons of values a double cannot tell apart.
  const Tensor b = i64({big - 1, big - 1, big}, {3});  // big - 1 = 2^53, which a double holds
  EXPECT_EQ(values_of(xg::eq(a, b)), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(values_of(xg::gt(a, b)), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(values_of(a.ne(big - 1)), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(int_values_of(xg::maximum(a, b)), (std::vector<std::int64_t>{big, big - 1, big}));
  EXPECT_EQ(xg::max(a).item<std::int64_t>(), big);
  EXPECT_EQ(xg::argmax(i64({big - 1, big, big - 1}, {3})).item<std::int64_t>(), 1);
  EXPECT_EQ(xg::argmin(i64({big, big - 1, big}, {3})).item<std::int64_t>(), 1);
  EXPECT_EQ(xg::amax(i64({big - 1, big, 3, 4}, {2, 2}), {1}).to_xarray<std::int64_t>()(0), big);
  EXPECT_EQ(int_values_of(xg::clamp(a, -big + 2, big - 1)),
            (std::vector<std::int64_t>{big - 1, -big + 2, big - 1}));
  // Shape ops move Int64 values without a trip through double.
  EXPECT_EQ(int_values_of(xg::cat({a, b})),
            (std::vector<std::int64_t>{big, -big, big, big - 1, big - 1, big}));
  EXPECT_EQ(int_values_of(xg::index_select(a, 0, i64({1, 0}, {2}))),
            (std::vector<std::int64_t>{-big, big}));
  EXPECT_EQ(int_values_of(xg::transpose(a.reshape({3, 1}), 0, 1)), int_values_of(a));
  EXPECT_EQ(int_values_of(xg::where(xg::tensor({1, 0, 1}, xg::kBool), a, b)),
            (std::vector<std::int64_t>{big, big - 1, big}));
}

// An integral C++ scalar must reach the Int64 kernels exactly, also beyond 2^53. In PyTorch,
// torch.tensor([2**53 + 1]) == 2**53 + 1 is True and torch.tensor([0]) + (2**53 + 1) is exact.
TEST(Int64Arithmetic, IntegralScalarsBeyondTwoToThe53) {
  const std::int64_t big = (INT64_C(1) << 53) + 1;  // not a double
  const Tensor a = i64({big, -big, 0}, {3});
  EXPECT_EQ(values_of(a.eq(big)), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(values_of(a.ne(big)), (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(values_of(a.ge(big)), (std::vector<double>{1, 0, 0}));
  EXPECT_EQ(int_values_of(a + big), (std::vector<std::int64_t>{2 * big, 0, big}));
  EXPECT_EQ(int_values_of(big - a), (std::vector<std::int64_t>{0, 2 * big, big}));
  EXPECT_EQ(int_values_of(i64({1, 2}, {2}) * big), (std::vector<std::int64_t>{big, 2 * big}));
  EXPECT_EQ(int_values_of(xg::full({2}, big, xg::kInt64) - big), (std::vector<std::int64_t>{0, 0}));
  Tensor b = i64({0, 1}, {2});
  b += big;
  EXPECT_EQ(int_values_of(b), (std::vector<std::int64_t>{big, big + 1}));
  b.fill_(big);
  EXPECT_EQ(int_values_of(b), (std::vector<std::int64_t>{big, big}));
}

TEST(Int64Arithmetic, Matmul) {
  // [[2^31 + 1, 3]] x [[2^31 + 1], [5]] = 2^62 + 2^32 + 1 + 15: exact only in integers.
  const std::int64_t p = (INT64_C(1) << 31) + 1;
  const Tensor a = i64({p, 3, 1, -2}, {2, 2});
  const Tensor b = i64({p, 5}, {2, 1});
  const Tensor c = xg::matmul(a, b);
  ASSERT_EQ(c.dtype(), xg::kInt64);
  ASSERT_EQ(c.shape(), (Shape{2, 1}));
  EXPECT_EQ(int_values_of(c), (std::vector<std::int64_t>{p * p + 15, p - 10}));
  EXPECT_EQ(int_values_of(c)[0], INT64_C(4611686022722355216));
  EXPECT_EQ(int_values_of(xg::mm(a, b)), int_values_of(c));
  // 1-D . 1-D, 2-D x 1-D, batched
  EXPECT_EQ(xg::matmul(i64({1, 2, 3}, {3}), i64({4, -5, 6}, {3})).item<std::int64_t>(), 12);
  EXPECT_EQ(int_values_of(xg::matmul(a, i64({1, 1}, {2}))), (std::vector<std::int64_t>{p + 3, -1}));
  const Tensor batch = i64({1, 0, 0, 1, 2, 0, 0, 2}, {2, 2, 2});
  const Tensor m = xg::matmul(batch, i64({1, 2, 3, 4}, {2, 2}));
  EXPECT_EQ(m.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(int_values_of(m), (std::vector<std::int64_t>{1, 2, 3, 4, 2, 4, 6, 8}));
}

TEST(Matmul, ShapesOfEveryForm) {
  // Values: with ones, every entry is the inner size.
  auto ones = [](const Shape& s) { return xg::ones(s, xg::kFloat64); };
  struct Form {
    Shape a, b, out;
  };
  const Form forms[] = {
      {{3}, {3}, {}},
      {{2, 3}, {3}, {2}},
      {{3}, {3, 4}, {4}},
      {{2, 3}, {3, 4}, {2, 4}},
      {{5, 2, 3}, {3, 4}, {5, 2, 4}},
      {{3}, {5, 3, 4}, {5, 4}},
      {{5, 2, 3}, {3}, {5, 2}},
      {{5, 2, 3}, {5, 3, 4}, {5, 2, 4}},
      {{2, 1, 2, 3}, {5, 3, 4}, {2, 5, 2, 4}},
      {{2, 3}, {5, 3, 4}, {5, 2, 4}},
  };
  for (const auto& f : forms) {
    SCOPED_TRACE(xg::shape_to_string(f.a) + " @ " + xg::shape_to_string(f.b));
    const Tensor c = xg::matmul(ones(f.a), ones(f.b));
    ASSERT_EQ(c.shape(), f.out);
    for (double v : values_of(c)) EXPECT_EQ(v, 3.0);
  }
  // An empty inner dim gives zeros, as in PyTorch.
  const Tensor z = xg::matmul(ones({2, 0}), ones({0, 3}));
  EXPECT_EQ(z.shape(), (Shape{2, 3}));
  for (double v : values_of(z)) EXPECT_EQ(v, 0.0);
}

// ---- shape ops return copies ------------------------------------------------------------------

// As PyTorch: view ops alias their input (a write through the result reaches it); cat, stack,
// index_select and clone copy.
TEST(ShapeOps, ViewOpsAliasTheirInputAndCopiesDoNot) {
  const Tensor a = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const std::vector<Tensor> views = {
      a.reshape({3, 2}), a.view({6}),       a.flatten(),    a.unsqueeze(0),
      a.transpose(0, 1), a.permute({1, 0}), a.t(),          a.expand({2, 2, 3}),
      a.narrow(1, 0, 2), a.squeeze(),       a.select(0, 1), a.slice(1, 0, 3, 2)};
  for (const Tensor& v : views) EXPECT_TRUE(v.is_alias_of(a));
  a.narrow(1, 0, 2).fill_(-100);  // columns 0 and 1 of a
  EXPECT_EQ(values_of(a), (std::vector<double>{-100, -100, 3, -100, -100, 6}));
  a.t().select(0, 2).fill_(7);  // column 2 of a
  EXPECT_EQ(values_of(a), (std::vector<double>{-100, -100, 7, -100, -100, 7}));

  const Tensor b = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  const std::vector<Tensor> copies = {xg::cat({b}, 0), xg::stack({b}, 0),
                                      b.index_select(0, i64({0, 1}, {2})), b.clone(),
                                      b.t().reshape({6})};  // no view can do this one
  for (const Tensor& r : copies) {
    EXPECT_FALSE(r.is_alias_of(b));
    double* p = r.data_ptr<double>();
    for (std::int64_t n = 0; n < r.numel(); ++n) p[n] = -100;
  }
  EXPECT_EQ(values_of(b), (std::vector<double>{1, 2, 3, 4, 5, 6}));
}

// ---- creation ---------------------------------------------------------------------------------

TEST(Creation, TensorAndScalarTensor) {
  const Tensor a = xg::tensor({1.5, -2, 3});
  EXPECT_EQ(a.shape(), (Shape{3}));
  EXPECT_EQ(a.dtype(), xg::kFloat32);
  EXPECT_FALSE(a.requires_grad());
  EXPECT_EQ(values_of(a), (std::vector<double>{1.5, -2, 3}));
  const Tensor b = xg::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, xg::kFloat64);
  EXPECT_EQ(b.shape(), (Shape{3, 2}));
  EXPECT_EQ(b.dtype(), xg::kFloat64);
  EXPECT_EQ(b.to_xarray<double>()(2, 0), 5.0);  // row-major
  const Tensor c = xg::tensor({0.1}, xg::kFloat32);
  EXPECT_EQ(c.item<float>(), 0.1f);  // rounded once, to float
  const Tensor d = xg::tensor({0.1}, xg::kFloat64);
  EXPECT_EQ(d.item(), 0.1);
  const Tensor e = xg::tensor({-3, 7}, xg::kInt64);
  EXPECT_EQ(e.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(e), (std::vector<std::int64_t>{-3, 7}));
  const Tensor g = xg::tensor({1, 2}, xg::TensorOptions().dtype(xg::kFloat64).requires_grad(true));
  EXPECT_TRUE(g.requires_grad());
  EXPECT_EQ(g.dtype(), xg::kFloat64);
  EXPECT_TRUE(xg::tensor({1}, xg::requires_grad()).requires_grad());
  const Tensor empty = xg::tensor({});
  EXPECT_EQ(empty.shape(), (Shape{0}));
  const Tensor zero_d = xg::tensor({4.5}, Shape{});
  EXPECT_EQ(zero_d.dim(), 0);
  EXPECT_EQ(zero_d.item(), 4.5);

  const Tensor s = xg::scalar_tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.dtype(), xg::kFloat32);
  EXPECT_EQ(s.item(), 2.5);
  const Tensor si = xg::scalar_tensor(std::int64_t{1} << 60, xg::kInt64);
  EXPECT_EQ(si.dtype(), xg::kInt64);
  EXPECT_EQ(si.item<std::int64_t>(), std::int64_t{1} << 60);
  EXPECT_EQ(xg::scalar_tensor(1.0, xg::kFloat64).dtype(), xg::kFloat64);
}

// Integer data gives Int64, as torch.tensor([1, 2]) does, with every 64-bit value exact (a
// double holds integers exactly only up to 2^53); a braced list of literals still gives Float32.
TEST(Creation, TensorFromIntegerData) {
  const std::vector<std::int64_t> big{std::int64_t{1} << 62, -(std::int64_t{1} << 53) - 1, 0, 7};
  const Tensor t = xg::tensor(big);
  EXPECT_EQ(t.dtype(), xg::kInt64);
  EXPECT_EQ(t.shape(), (Shape{4}));
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_EQ(t.data_ptr<std::int64_t>()[i], big[static_cast<std::size_t>(i)]);
  }
  const std::array<std::int64_t, 6> six{1, 2, 3, 4, 5, 6};
  const Tensor shaped = xg::tensor(six, {2, 3});
  EXPECT_EQ(shaped.shape(), (Shape{2, 3}));
  EXPECT_EQ(shaped.select(0, 1).select(0, 2).item<std::int64_t>(), 6);
  // A dtype in the options converts: to Float64 exactly, to Bool by nonzero.
  const Tensor f = xg::tensor(std::vector<std::int64_t>{3, -1}, xg::kFloat64);
  EXPECT_EQ(f.dtype(), xg::kFloat64);
  EXPECT_EQ(f.data_ptr<double>()[1], -1.0);
  const Tensor b = xg::tensor(std::vector<std::int64_t>{0, 5}, xg::kBool);
  EXPECT_FALSE(b.data_ptr<bool>()[0]);
  EXPECT_TRUE(b.data_ptr<bool>()[1]);
  EXPECT_EQ(xg::tensor({1, 2}).dtype(), xg::kFloat32);  // the std::vector<double> form
  EXPECT_EQ(xg::tensor({}).dtype(), xg::kFloat32);
  EXPECT_THROW(xg::tensor(six, {4}), std::invalid_argument);
  EXPECT_EQ(xg::tensor(std::vector<std::int64_t>{}).numel(), 0);
}

TEST(Creation, Fills) {
  for (xg::Dtype dt : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dt)));
    const Tensor z = xg::zeros({2, 3}, dt), o = xg::ones({4}, dt), f = xg::full({3, 1}, 7, dt);
    EXPECT_EQ(z.dtype(), dt);
    EXPECT_EQ(o.dtype(), dt);
    EXPECT_EQ(f.dtype(), dt);
    EXPECT_EQ(z.shape(), (Shape{2, 3}));
    EXPECT_EQ(values_of(z), std::vector<double>(6, 0.0));
    EXPECT_EQ(values_of(o), std::vector<double>(4, 1.0));
    EXPECT_EQ(values_of(f), std::vector<double>(3, 7.0));
    const Tensor zl = xg::zeros_like(f), ol = xg::ones_like(z);
    EXPECT_EQ(zl.shape(), (Shape{3, 1}));
    EXPECT_EQ(zl.dtype(), dt);
    EXPECT_EQ(values_of(zl), std::vector<double>(3, 0.0));
    EXPECT_EQ(ol.shape(), (Shape{2, 3}));
    EXPECT_EQ(ol.dtype(), dt);
    EXPECT_EQ(values_of(ol), std::vector<double>(6, 1.0));
    const Tensor fl = xg::full_like(z, -2);
    EXPECT_EQ(fl.dtype(), dt);
    EXPECT_EQ(values_of(fl), std::vector<double>(6, -2.0));
    const Tensor e = xg::empty({2, 0, 3}, dt);
    EXPECT_EQ(e.shape(), (Shape{2, 0, 3}));
    EXPECT_EQ(e.numel(), 0);
    EXPECT_EQ(e.dtype(), dt);
    EXPECT_EQ(xg::empty({4, 2}, dt).numel(), 8);
  }
  EXPECT_EQ(xg::zeros({2}).dtype(), xg::kFloat32);  // the default dtype
  EXPECT_EQ(values_of(xg::full({2}, 0.5)), (std::vector<double>{0.5, 0.5}));
  EXPECT_EQ(xg::zeros_like(xg::ones({2}), xg::kFloat64).dtype(), xg::kFloat64);
  EXPECT_EQ(xg::ones_like(xg::ones({2}, xg::kInt64), xg::kFloat32).dtype(), xg::kFloat32);
  const Tensor zd = xg::zeros({});
  EXPECT_EQ(zd.dim(), 0);
  EXPECT_EQ(zd.item(), 0.0);
  EXPECT_EQ(xg::zeros({0}).numel(), 0);
  EXPECT_TRUE(xg::ones({2}, xg::requires_grad()).requires_grad());
  const std::int64_t big = (INT64_C(1) << 53) + 1;
  EXPECT_EQ(xg::full({1}, big, xg::kInt64).item<std::int64_t>(), big);  // no trip through double
}

TEST(Creation, ArangeBothFormsAndDtypeInference) {
  const Tensor a = xg::arange(5);
  EXPECT_EQ(a.dtype(), xg::kInt64);  // integral bounds
  EXPECT_EQ(int_values_of(a), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  const Tensor b = xg::arange(2, 11, 3);
  EXPECT_EQ(b.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(b), (std::vector<std::int64_t>{2, 5, 8}));
  const Tensor c = xg::arange(10, 0, -3);
  EXPECT_EQ(int_values_of(c), (std::vector<std::int64_t>{10, 7, 4, 1}));
  const Tensor d = xg::arange(2.5);
  EXPECT_EQ(d.dtype(), xg::kFloat32);  // a floating bound
  EXPECT_EQ(values_of(d), (std::vector<double>{0, 1, 2}));
  const Tensor e = xg::arange(0, 1, 0.25);
  EXPECT_EQ(e.dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(e), (std::vector<double>{0, 0.25, 0.5, 0.75}));
  const Tensor f = xg::arange(1.0, 2.5, 0.5);
  EXPECT_EQ(values_of(f), (std::vector<double>{1, 1.5, 2}));
  const Tensor g = xg::arange(4, xg::kFloat64);
  EXPECT_EQ(g.dtype(), xg::kFloat64);
  EXPECT_EQ(values_of(g), (std::vector<double>{0, 1, 2, 3}));
  const Tensor h = xg::arange(-1, 1, 1, xg::kFloat32);
  EXPECT_EQ(h.dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(h), (std::vector<double>{-1, 0}));
  EXPECT_EQ(xg::arange(0).numel(), 0);
  EXPECT_EQ(xg::arange(3, 3).numel(), 0);
  EXPECT_EQ(xg::arange(0.0, 1.0, 0.3).numel(), 4);  // ceil(1 / 0.3)
  EXPECT_EQ(xg::arange(1000).sum().item<std::int64_t>(), 1000 * 999 / 2);
}

TEST(Creation, Linspace) {
  const Tensor a = xg::linspace(0, 1, 5);
  EXPECT_EQ(a.dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(a), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  const Tensor one = xg::linspace(3.5, 10, 1);
  EXPECT_EQ(one.shape(), (Shape{1}));
  EXPECT_EQ(one.item(), 3.5);  // steps = 1 gives start, as in PyTorch
  EXPECT_EQ(xg::linspace(0, 1, 0).numel(), 0);
  const Tensor two = xg::linspace(-1, 2, 2, xg::kFloat64);
  EXPECT_EQ(values_of(two), (std::vector<double>{-1, 2}));
  // Endpoints are exact whatever the rounding of the step; interior points within rounding.
  for (std::int64_t steps : {3, 7, 10, 11, 100, 1001}) {
    for (auto [lo, hi] : {std::pair{-3.14159265358979, 3.14159265358979}, std::pair{0.1, 0.7},
                          std::pair{1.0, -1.0 / 3.0}}) {
      SCOPED_TRACE("steps " + std::to_string(steps));
      const Tensor d = xg::linspace(lo, hi, steps, xg::kFloat64);
      ASSERT_EQ(d.numel(), steps);
      const auto v = values_of(d);
      EXPECT_EQ(v.front(), lo);
      EXPECT_EQ(v.back(), hi);
      const double step = (hi - lo) / static_cast<double>(steps - 1);
      for (std::int64_t n = 0; n < steps; ++n) {
        EXPECT_NEAR(v[n], lo + step * static_cast<double>(n),
                    1e-14 * (std::abs(lo) + std::abs(hi)));
      }
      const Tensor f = xg::linspace(lo, hi, steps);
      const auto vf = f.to_xarray<float>();
      EXPECT_EQ(vf(0), static_cast<float>(lo));
      EXPECT_EQ(vf(steps - 1), static_cast<float>(hi));
      for (std::int64_t n = 0; n < steps; ++n) {
        EXPECT_NEAR(vf(n), lo + step * static_cast<double>(n),
                    1e-6 * (std::abs(lo) + std::abs(hi)));
      }
    }
  }
  // The 2000 points of the sin-fit example: both ends exactly +-pi (as a float).
  const double pi = std::numbers::pi;
  const Tensor x = xg::linspace(-pi, pi, 2000);
  EXPECT_EQ(x.to_xarray<float>()(0), static_cast<float>(-pi));
  EXPECT_EQ(x.to_xarray<float>()(1999), static_cast<float>(pi));
}

TEST(Creation, XarrayRoundTrip) {
  xt::xarray<double> a = {{1.5, -2.0, 3.0}, {4.0, 5.0, 6.25}};
  const double* storage = a.data();
  const Tensor t = xg::from_xarray(std::move(a));
  EXPECT_EQ(t.dtype(), xg::kFloat64);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  // Copied onto xgrad's caching allocator (it was moved before the allocator: API.md allows a
  // copy).
  EXPECT_NE(t.data_ptr<double>(), storage);
  const xt::xarray<double> back = t.to_xarray<double>();
  EXPECT_EQ(back, (xt::xarray<double>{{1.5, -2.0, 3.0}, {4.0, 5.0, 6.25}}));
  EXPECT_NE(back.data(), t.data_ptr<double>());  // to_xarray copies
  xt::xarray<double> changed = t.to_xarray<double>();
  changed(0, 0) = 100;
  EXPECT_EQ(t.to_xarray<double>()(0, 0), 1.5);

  const Tensor f = xg::from_xarray(xt::xarray<float>{0.5f, 0.25f});
  EXPECT_EQ(f.dtype(), xg::kFloat32);
  EXPECT_EQ(f.to_xarray<float>(), (xt::xarray<float>{0.5f, 0.25f}));
  EXPECT_EQ(f.to_xarray<double>(), (xt::xarray<double>{0.5, 0.25}));  // converted
  const Tensor i = xg::from_xarray(xt::xarray<std::int64_t>{{1, -2}, {3, 4}});
  EXPECT_EQ(i.dtype(), xg::kInt64);
  EXPECT_EQ(i.shape(), (Shape{2, 2}));
  EXPECT_EQ(i.to_xarray<std::int64_t>(), (xt::xarray<std::int64_t>{{1, -2}, {3, 4}}));
  EXPECT_EQ(i.to_xarray<double>()(0, 1), -2.0);
  EXPECT_TRUE(xg::from_xarray(xt::xarray<double>{1.0}, true).requires_grad());
  // 0-d
  const Tensor s = xg::from_xarray(xt::xarray<double>(7.0));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 7.0);
}

TEST(Creation, ItemAndDataPtr) {
  EXPECT_EQ(xg::tensor({2.5}, {1, 1}).item(), 2.5);
  EXPECT_EQ(xg::tensor({2.5}, {1, 1}).item<float>(), 2.5f);
  EXPECT_EQ(xg::tensor({-2.75}, xg::kFloat64).item<double>(), -2.75);
  EXPECT_EQ(xg::tensor({-2.75}, xg::kFloat64).item<int>(), -2);  // C++ conversion truncates
  EXPECT_EQ(xg::tensor({9}, xg::kInt64).item<std::int64_t>(), 9);
  EXPECT_EQ(xg::tensor({9}, xg::kInt64).item(), 9.0);
  const std::int64_t big = (INT64_C(1) << 62) + 1;
  EXPECT_EQ(xg::full({}, big, xg::kInt64).item<std::int64_t>(), big);

  const Tensor t = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, xg::kFloat64);
  double* p = t.data_ptr<double>();
  for (int n = 0; n < 6; ++n) EXPECT_EQ(p[n], n + 1.0);  // row-major, contiguous
  p[4] = -1;                                             // writes through
  EXPECT_EQ(t.to_xarray<double>()(1, 1), -1.0);
  const Tensor copy = t;  // handles share data
  EXPECT_EQ(copy.data_ptr<double>(), p);
  EXPECT_NE(t.clone().data_ptr<double>(), p);
  const Tensor f = xg::ones({3});
  EXPECT_EQ(f.data_ptr<float>()[2], 1.0f);
  const Tensor i = xg::arange(4);
  EXPECT_EQ(i.data_ptr<std::int64_t>()[3], 3);
}

TEST(Creation, ReadingAccessors) {
  const Tensor t = xg::zeros({2, 3, 4});
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(2), 4);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(-3), 2);
  EXPECT_EQ(t.sizes(), (Shape{2, 3, 4}));
  EXPECT_TRUE(t.defined());
  EXPECT_FALSE(Tensor().defined());
  EXPECT_TRUE(t.is_floating_point());
  EXPECT_FALSE(xg::arange(3).is_floating_point());
  const Tensor c = xg::tensor({1.5, -2}).to(xg::kInt64);
  EXPECT_EQ(c.dtype(), xg::kInt64);
  EXPECT_EQ(int_values_of(c), (std::vector<std::int64_t>{1, -2}));  // truncation, as in PyTorch
  EXPECT_EQ(xg::arange(3).to(xg::kFloat64).dtype(), xg::kFloat64);
}

TEST(Creation, PrintsValuesShapeDtypeAndRequiresGrad) {
  std::ostringstream os;
  os << xg::tensor({1, 2, 3, 4}, {2, 2});
  const std::string s = os.str();
  EXPECT_NE(s.find('1'), std::string::npos) << s;
  EXPECT_NE(s.find('4'), std::string::npos) << s;
  EXPECT_NE(s.find("[2, 2]"), std::string::npos) << s;
  EXPECT_NE(s.find("Float32"), std::string::npos) << s;
  EXPECT_NE(s.find("requires_grad"), std::string::npos) << s;
}

// ---- random -----------------------------------------------------------------------------------

TEST(Random, ReproducibleAfterManualSeed) {
  xg::manual_seed(1234);
  const auto a = values_of(xg::randn({100}));
  const auto b = values_of(xg::rand({100}));
  const auto c = int_values_of(xg::randint(0, 1000, {100}));
  xg::manual_seed(1234);
  EXPECT_EQ(values_of(xg::randn({100})), a);
  EXPECT_EQ(values_of(xg::rand({100})), b);
  EXPECT_EQ(int_values_of(xg::randint(0, 1000, {100})), c);
  xg::manual_seed(1235);
  EXPECT_NE(values_of(xg::randn({100})), a);
  // Successive draws differ.
  xg::manual_seed(1234);
  EXPECT_NE(values_of(xg::randn({100})), values_of(xg::randn({100})));
}

TEST(Random, RangesAndStatistics) {
  xg::manual_seed(7);
  const int n = 20000;
  for (xg::Dtype dt : {xg::kFloat32, xg::kFloat64}) {
    const Tensor u = xg::rand({n}, dt);
    EXPECT_EQ(u.dtype(), dt);
    const auto v = values_of(u);
    double mean = 0, var = 0;
    for (double x : v) {
      EXPECT_GE(x, 0.0);
      EXPECT_LT(x, 1.0);
      mean += x;
    }
    mean /= n;
    for (double x : v) var += (x - mean) * (x - mean);
    var /= n;
    EXPECT_NEAR(mean, 0.5, 0.02);
    EXPECT_NEAR(var, 1.0 / 12.0, 0.01);

    const Tensor g = xg::randn({n}, dt);
    EXPECT_EQ(g.dtype(), dt);
    const auto w = values_of(g);
    mean = 0, var = 0;
    for (double x : w) {
      EXPECT_TRUE(std::isfinite(x));
      mean += x;
    }
    mean /= n;
    for (double x : w) var += (x - mean) * (x - mean);
    var /= n;
    EXPECT_NEAR(mean, 0.0, 0.05);
    EXPECT_NEAR(var, 1.0, 0.05);
  }
  EXPECT_EQ(xg::randn({2, 3}).shape(), (Shape{2, 3}));
  EXPECT_EQ(xg::randn({2}).dtype(), xg::kFloat32);
  const Tensor r = xg::randint(-3, 4, {n});
  EXPECT_EQ(r.dtype(), xg::kInt64);
  std::vector<int> counts(7, 0);
  for (std::int64_t x : int_values_of(r)) {
    ASSERT_GE(x, -3);
    ASSERT_LT(x, 4);
    ++counts[static_cast<std::size_t>(x + 3)];
  }
  for (int c : counts) EXPECT_NEAR(c, n / 7.0, 0.1 * n / 7.0);  // every value drawn, evenly
  const Tensor r2 = xg::randint(5, {3, 2});
  EXPECT_EQ(r2.shape(), (Shape{3, 2}));
  for (std::int64_t x : int_values_of(r2)) {
    EXPECT_GE(x, 0);
    EXPECT_LT(x, 5);
  }
  const Tensor rf = xg::randint(0, 3, {10}, xg::kFloat64);
  EXPECT_EQ(rf.dtype(), xg::kFloat64);
  for (double x : values_of(rf)) EXPECT_TRUE(x == 0 || x == 1 || x == 2);
  EXPECT_EQ(xg::randn({0}).numel(), 0);
}

}  // namespace

// Kernels above 64K elements split across two threads; every element must still be the one
// computed alone, and an error on either thread must reach the caller.
TEST(LargeKernels, SplitLoopsMatchElementByElement) {
  const std::int64_t n = 300001;  // odd, above the split threshold
  xg::manual_seed(3);
  const Tensor x = xg::randn({n}, xg::kFloat64);
  const Tensor y = xg::randn({n}, xg::kFloat64);
  const double* px = x.data_ptr<double>();
  const double* py = y.data_ptr<double>();
  const Tensor t = xg::tanh(x), s = x * y, c = 2.5 - x, r = xg::relu(x);
  for (std::int64_t i = 0; i < n; i += 997) {
    ASSERT_DOUBLE_EQ(t.data_ptr<double>()[i], std::tanh(px[i])) << i;
    ASSERT_EQ(s.data_ptr<double>()[i], px[i] * py[i]) << i;
    ASSERT_EQ(c.data_ptr<double>()[i], 2.5 - px[i]) << i;
    ASSERT_EQ(r.data_ptr<double>()[i], px[i] < 0 ? 0.0 : px[i]) << i;
  }
  ASSERT_EQ(s.data_ptr<double>()[n - 1], px[n - 1] * py[n - 1]);  // the last element too
  // Int64 to a negative power throws; the negative exponent sits in the second half.
  Tensor base = xg::full({n}, 2, xg::kInt64), exponent = xg::full({n}, 1, xg::kInt64);
  exponent.data_ptr<std::int64_t>()[n - 2] = -1;
  EXPECT_THROW(xg::pow(base, exponent), std::invalid_argument);
}

// ---- gradients of the index-picking ops, against PyTorch's (python3-torch 1.13) ----
namespace {

std::vector<double> grad_values(const xg::Tensor& t) {
  const xt::xarray<double> a = t.grad().to(xg::kFloat64).to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// torch.max(x, 0) on [2, 7, 7, 1, 7]: index 1, and the gradient goes there only.
TEST(IndexOpGrads, MaxAlongDimGradientGoesToTheFirstTie) {
  xg::Tensor x = xg::tensor({2, 7, 7, 1, 7}, xg::requires_grad(true));
  auto [values, indices] = xg::max(x, 0);
  EXPECT_EQ(indices.item<std::int64_t>(), 1);
  values.backward();
  EXPECT_EQ(grad_values(x), (std::vector<double>{0, 1, 0, 0, 0}));
  // min along dim 1 with keepdim, ties and a NaN: PyTorch picks index 2 (the NaN) and 0
  xg::Tensor y = xg::tensor({3, 1, std::nan(""), -2, -2, 5}, {2, 3}, xg::requires_grad(true));
  auto [v2, i2] = y.min(1, true);
  EXPECT_EQ(i2.shape(), (Shape{2, 1}));
  EXPECT_EQ(i2.data_ptr<std::int64_t>()[0], 2);
  EXPECT_EQ(i2.data_ptr<std::int64_t>()[1], 0);
  (v2 * xg::tensor({10, 20}, {2, 1})).sum().backward();
  EXPECT_EQ(grad_values(y), (std::vector<double>{0, 0, 10, 20, 0, 0}));
}

// The indices returned are the caller's: changing them does not change the gradient.
TEST(IndexOpGrads, ChangingTheReturnedIndicesLeavesTheGradient) {
  xg::Tensor x = xg::tensor({1, 5, 2, 8, 0, 3}, {2, 3}, xg::requires_grad(true));
  auto [values, indices] = xg::max(x, 1);
  indices.fill_(0);
  values.sum().backward();
  EXPECT_EQ(grad_values(x), (std::vector<double>{0, 1, 0, 1, 0, 0}));
}

// Repeated indices add up: torch.gather(x, 1, [[0, 0, 2], [1, 1, 1]]).sum().backward()
TEST(IndexOpGrads, GatherGradientAddsUpRepeatedIndices) {
  xg::Tensor x = xg::ones({2, 3}, xg::requires_grad(true));
  xg::gather(x, 1, xg::tensor({0, 0, 2, 1, 1, 1}, {2, 3}, xg::kInt64)).sum().backward();
  EXPECT_EQ(grad_values(x), (std::vector<double>{2, 0, 1, 0, 3, 0}));
}

// torch.cumsum(x, 0).backward(w) gives the reversed running sum of w; and twice differentiable.
TEST(IndexOpGrads, CumsumGradientIsTheReversedRunningSum) {
  xg::Tensor x =
      xg::tensor({1, 2, 3, 4}, xg::TensorOptions().dtype(xg::kFloat64).requires_grad(true));
  const xg::Tensor w = xg::tensor({1, 10, 100, 1000}, xg::kFloat64);
  const xg::Tensor y = (xg::cumsum(x, 0) * xg::cumsum(x, 0) * w).sum();
  const auto g = xg::autograd::grad({y}, {x}, {}, std::nullopt, true);
  // d/dx_k sum_j w_j c_j^2 = sum_{j>=k} 2 w_j c_j, c = [1, 3, 6, 10]
  EXPECT_EQ(values_of(g[0]), (std::vector<double>{21262, 21260, 21200, 20000}));
  const auto gg = xg::autograd::grad({g[0].sum()}, {x});
  // d/dx_m sum_k sum_{j>=k} 2 w_j c_j = sum_j 2 w_j (j + 1) [j >= m]
  EXPECT_EQ(values_of(gg[0]), (std::vector<double>{8642, 8640, 8600, 8000}));
}

// diagonal is a view: writing through it changes the matrix, and its gradient lands on the
// diagonal.
TEST(IndexOpGrads, DiagonalIsAWritableView) {
  xg::Tensor m = xg::zeros({3, 4});
  m.diagonal(1).fill_(5);
  EXPECT_EQ(values_of(m), (std::vector<double>{0, 5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5}));
  EXPECT_TRUE(m.diagonal().is_alias_of(m));
  xg::Tensor x = xg::zeros({2, 3}, xg::requires_grad(true));
  (xg::diagonal(x, -1) * 3).sum().backward();
  EXPECT_EQ(grad_values(x), (std::vector<double>{0, 0, 0, 3, 0, 0}));
  EXPECT_TRUE(x.unflatten(1, {3, 1}).is_alias_of(x));
}

// masked_select of a tensor the mask broadcasts over: the gradient sums over the broadcast.
TEST(IndexOpGrads, MaskedSelectGradientSumsOverTheBroadcast) {
  xg::Tensor x = xg::tensor({1, 2, 3}, xg::requires_grad(true));
  const xg::Tensor mask = xg::tensor({1, 0, 1, 1, 1, 0}, {2, 3}, xg::kBool);
  const xg::Tensor y = x.masked_select(mask);
  EXPECT_EQ(values_of(y), (std::vector<double>{1, 3, 1, 2}));
  (y * xg::tensor({1, 10, 100, 1000})).sum().backward();
  EXPECT_EQ(grad_values(x), (std::vector<double>{101, 1000, 10}));
}

}  // namespace
