// The losses (mse_loss, l1_loss, nll_loss, cross_entropy with ignore_index and label smoothing,
// binary_cross_entropy_with_logits) against PyTorch (tests/reference/nn_reference.inc, made by
// tests/reference/make_nn_reference.py), gradcheck of each, extreme logits, and bad targets.
// Expected values come from PyTorch or from the math, never from xgrad itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

#include "reference/nn_reference.inc"

namespace F = xg::nn::functional;
using xg::Dtype;
using xg::Shape;
using xg::Tensor;
using xg::nn::Reduction;
using xg_test::expect_close;
using xg_test::make;
using xg_test::values;

const char* reduction_name(Reduction r) {
  return r == Reduction::Mean ? "mean" : r == Reduction::Sum ? "sum" : "none";
}

bool all_finite(const Tensor& t) {
  for (double v : values(t)) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// losses

Tensor run_loss(const std::string& loss, const Tensor& input, const Tensor& target,
                Reduction reduction, std::int64_t ignore_index = -100, double smoothing = 0.0) {
  if (loss == "mse_loss") return F::mse_loss(input, target, reduction);
  if (loss == "l1_loss") return F::l1_loss(input, target, reduction);
  if (loss == "nll_loss") return F::nll_loss(input, target, reduction, ignore_index);
  if (loss == "cross_entropy") {
    return F::cross_entropy(input, target, reduction, ignore_index, smoothing);
  }
  if (loss == "bce_with_logits")
    return F::binary_cross_entropy_with_logits(input, target, reduction);
  throw std::logic_error("unknown loss " + loss);
}

TEST(LossReference, MatchesPyTorch) {
  ASSERT_GE(nn_ref::kLossCases.size(), 150u);
  for (const auto& c : nn_ref::kLossCases) {
    const std::string loss = c.loss;
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)) + " " +
                 reduction_name(c.reduction));
    const bool classes = loss == "nll_loss" || loss == "cross_entropy";
    const bool bce = loss == "bce_with_logits";
    const Tensor x = make(c.input, c.input_shape, c.dtype, true);
    const Tensor t = make(c.target, c.target_shape, classes ? xg::kInt64 : c.dtype, bce);
    const Tensor out = run_loss(loss, x, t, c.reduction, c.ignore_index, c.label_smoothing);
    ASSERT_EQ(out.shape(), c.output_shape);
    EXPECT_EQ(out.dtype(), c.dtype);
    expect_close(values(out), c.output, c.dtype, "loss");
    (out * make(c.grad_output, c.output_shape, c.dtype)).sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_EQ(x.grad().dtype(), c.dtype);
    expect_close(values(x.grad()), c.grad_input, c.dtype, "grad input");
    if (bce) {
      ASSERT_TRUE(t.grad().defined());
      expect_close(values(t.grad()), c.grad_target, c.dtype, "grad target");
    }
  }
}

// The mean with ignored targets and label smoothing divides by the count of the others
// (PyTorch 1.13; see nn_reference.inc): checked here from the math as well.
TEST(LossReference, SmoothedMeanDividesByTheTargetsThatCount) {
  const std::vector<double> logits = {1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 2.0, -2.0};
  const Tensor x = make(logits, {3, 3}, xg::kFloat64);
  const Tensor t = make({1, -100, 0}, {3}, xg::kInt64);
  const double s = 0.2;
  double total = 0;
  for (int row : {0, 2}) {
    const double* r = &logits[static_cast<std::size_t>(row) * 3];
    const double lse = std::log(std::exp(r[0]) + std::exp(r[1]) + std::exp(r[2]));
    const int target = row == 0 ? 1 : 0;
    const double nll = lse - r[target];
    const double smooth = 3 * lse - (r[0] + r[1] + r[2]);
    total += (1 - s) * nll + s / 3 * smooth;
  }
  const Tensor got = F::cross_entropy(x, t, Reduction::Mean, -100, s);
  EXPECT_NEAR(got.item(), total / 2, 1e-12);
}

using LossFn = std::function<Tensor(const std::vector<Tensor>&)>;

void expect_gradcheck(const LossFn& fn, const std::vector<Tensor>& inputs, const char* what) {
  const auto report = xg::autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(report.ok) << what << ": " << report.message;
}

TEST(LossGradcheck, EveryLossInFloat64) {
  const auto f64 = [](const std::vector<double>& v, const Shape& s) {
    return make(v, s, xg::kFloat64, true);
  };
  const auto ids = [](const std::vector<double>& v, const Shape& s) {
    return make(v, s, xg::kInt64);
  };
  const Tensor x23 = f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4}, {2, 3});
  const Tensor y23 = f64({1.0, 0.5, -0.5, 0.2, 0.9, 0.4}, {2, 3});  // no ties with x23
  const Tensor logits =
      f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 0.0, -0.8, 0.6, 0.2, -2.1}, {4, 3});
  const Tensor logits3 =
      f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 0.0, -0.8, 0.6, 0.2, -2.1}, {2, 3, 2});
  const Tensor targets = ids({2, 0, 1, 1}, {4});
  const Tensor targets_ignored = ids({2, -100, 1, 0}, {4});
  const Tensor targets3 = ids({1, 2, 0, 0}, {2, 2});
  const Tensor probs = f64({0.0, 1.0, 0.3, 1.0, 0.8, 0.1}, {2, 3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(reduction_name(r));
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], r); },
                     {x23, y23}, "mse_loss");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::l1_loss(in[0], in[1], r); },
                     {x23, y23}, "l1_loss");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], targets, r); },
                     {logits}, "nll_loss");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::nll_loss(xg::log_softmax(in[0], 1), targets_ignored, r);
        },
        {logits}, "nll_loss(log_softmax) ignore_index");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], targets3, r); },
                     {logits3}, "nll_loss [N, C, d]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets, r); },
        {logits}, "cross_entropy");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], xg::scalar_tensor(2, xg::kInt64), r);
        },
        {f64({0.5, -0.25, 1.0, 2.0}, {4})}, "cross_entropy [C]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets3, r); },
        {logits3}, "cross_entropy [N, C, d]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets_ignored, r, -100, 0.0);
        },
        {logits}, "cross_entropy ignore_index");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets, r, -100, 0.1);
        },
        {logits}, "cross_entropy label_smoothing");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets_ignored, r, -100, 0.25);
        },
        {logits}, "cross_entropy label_smoothing + ignore_index");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets3, r, 2, 0.3); },
        {logits3}, "cross_entropy [N, C, d] label_smoothing + ignore_index 2");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(in[0], in[1], r);
        },
        {x23, probs}, "binary_cross_entropy_with_logits (input and target)");
  }
}

// Scores [N, C] take the fused row kernels, [N, C, 1] the composed formulas: the same losses and
// gradients, bit for bit, for every reduction, with ignored targets, in both dtypes.
TEST(LossFused, CrossEntropyRowsMatchTheComposedFormulaBitForBit) {
  xg::manual_seed(21);
  const std::int64_t N = 300, C = 70;
  for (const auto dtype : {xg::kFloat32, xg::kFloat64}) {
    const Tensor x = xg::randn({N, C}, xg::TensorOptions().dtype(dtype)) * 3.0;
    Tensor target = xg::randint(0, C, {N});
    target.narrow(0, 10, 5).fill_(-100);  // ignore_index rows
    for (const auto reduction : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
      const Tensor a = x.clone().requires_grad_(true);
      const Tensor b = x.unsqueeze(2).clone().requires_grad_(true);
      const Tensor la = F::cross_entropy(a, target, reduction);
      const Tensor lb = F::cross_entropy(b, target.unsqueeze(1), reduction);
      const Tensor go = reduction == Reduction::None
                            ? xg::randn({N}, xg::TensorOptions().dtype(dtype))
                            : xg::ones({}, xg::TensorOptions().dtype(dtype));
      const Tensor ga = xg::autograd::grad({la}, {a}, {go})[0];
      const Tensor gb = xg::autograd::grad({lb}, {b}, {go.reshape(lb.shape())})[0];
      const auto va = values(la.reshape({-1})), vb = values(lb.reshape({-1}));
      const auto da = values(ga.reshape({-1})), db = values(gb.reshape({-1}));
      ASSERT_EQ(va.size(), vb.size());
      for (std::size_t i = 0; i < va.size(); ++i) EXPECT_EQ(va[i], vb[i]) << "loss " << i;
      ASSERT_EQ(da.size(), db.size());
      for (std::size_t i = 0; i < da.size(); ++i) ASSERT_EQ(da[i], db[i]) << "grad " << i;
    }
  }
}

TEST(LossStability, ExtremeLogitsGiveFiniteValuesAndGradients) {
  const double log2 = std::log(2.0);
  for (Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dtype)));
    const double tol = dtype == xg::kFloat32 ? 4e-3 : 1e-9;
    // cross_entropy
    {
      const Tensor x = make({1e4, -1e4, 0, -1e4, 1e4, 1e4}, {2, 3}, dtype, true);
      const Tensor t = make({1, 0}, {2}, xg::kInt64);
      const Tensor loss = F::cross_entropy(x, t);
      // row 0: lse = 1e4, -x[1] = 1e4; row 1: lse = 1e4 + log 2, -x[0] = 1e4.
      EXPECT_NEAR(loss.item(), (2e4 + 2e4 + log2) / 2, tol);
      loss.backward();
      ASSERT_TRUE(all_finite(x.grad()));
      expect_close(values(x.grad()), {0.5, -0.5, 0, -0.5, 0.25, 0.25}, xg::kFloat32, "grad");
      for (Reduction r : {Reduction::Sum, Reduction::None}) {
        const Tensor x2 = make({1e4, -1e4, 0, -1e4, 1e4, 1e4}, {2, 3}, dtype, true);
        const Tensor l2 = F::cross_entropy(x2, t, r, -100, 0.1);
        EXPECT_TRUE(all_finite(l2));
        l2.sum().backward();
        EXPECT_TRUE(all_finite(x2.grad()));
      }
      const Tensor x3 = make({-1e4, 1e4, 1e4}, {3}, dtype, true);
      const Tensor l3 = F::cross_entropy(x3, xg::scalar_tensor(0, xg::kInt64));
      EXPECT_NEAR(l3.item(), 2e4 + log2, tol);
      l3.backward();
      EXPECT_TRUE(all_finite(x3.grad()));
    }
    // binary_cross_entropy_with_logits
    {
      const Tensor x = make({1e4, -1e4, 1e4, -1e4}, {4}, dtype, true);
      const Tensor t = make({1, 0, 0, 1}, {4}, dtype, true);
      const Tensor loss = F::binary_cross_entropy_with_logits(x, t);
      EXPECT_NEAR(loss.item(), (0 + 0 + 1e4 + 1e4) / 4, tol);
      loss.backward();
      ASSERT_TRUE(all_finite(x.grad()));
      ASSERT_TRUE(all_finite(t.grad()));
      expect_close(values(x.grad()), {0, 0, 0.25, -0.25}, xg::kFloat32, "grad input");
      expect_close(values(t.grad()), {-2500, 2500, -2500, 2500}, xg::kFloat32, "grad target");
    }
    // the softmax family and sigmoid
    {
      const Tensor x = make({1e4, -1e4, 0}, {3}, dtype, true);
      const Tensor ls = xg::log_softmax(x, 0);
      expect_close(values(ls), {0, -2e4, -1e4}, xg::kFloat32, "log_softmax");
      (ls * make({1, 2, 3}, {3}, dtype)).sum().backward();
      ASSERT_TRUE(all_finite(x.grad()));
      // d/dx sum(w * log_softmax(x)) = w - softmax(x) sum(w) = [1 - 6, 2, 3]
      expect_close(values(x.grad()), {-5, 2, 3}, xg::kFloat32, "log_softmax grad");

      const Tensor y = make({1e4, -1e4, 0}, {3}, dtype, true);
      const Tensor sm = xg::softmax(y, 0);
      expect_close(values(sm), {1, 0, 0}, xg::kFloat32, "softmax");
      (sm * make({1, 2, 3}, {3}, dtype)).sum().backward();
      EXPECT_TRUE(all_finite(y.grad()));

      const Tensor z = make({1e4, 1e4, -1e4}, {3}, dtype, true);
      const Tensor lse = xg::logsumexp(z, {0});
      EXPECT_NEAR(lse.item(), 1e4 + log2, tol);
      lse.backward();
      ASSERT_TRUE(all_finite(z.grad()));
      // exp(x - lse) with lse rounded at 1e4 (a float32 ulp there is 1e-3): PyTorch's float32
      // gives 0.49989 too.
      const auto gz = values(z.grad());
      EXPECT_NEAR(gz[0], 0.5, dtype == xg::kFloat32 ? 1e-3 : 1e-9);
      EXPECT_NEAR(gz[1], 0.5, dtype == xg::kFloat32 ? 1e-3 : 1e-9);
      EXPECT_EQ(gz[2], 0.0);

      const Tensor s = make({1e4, -1e4}, {2}, dtype, true);
      const Tensor sg = xg::sigmoid(s);
      expect_close(values(sg), {1, 0}, xg::kFloat32, "sigmoid");
      sg.sum().backward();
      ASSERT_TRUE(all_finite(s.grad()));
      expect_close(values(s.grad()), {0, 0}, xg::kFloat32, "sigmoid grad");
    }
  }
}

TEST(LossErrors, BadTargetsThrow) {
  const Tensor x = make({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3});
  const Tensor good = make({0, 2}, {2}, xg::kInt64);
  for (const char* loss : {"nll_loss", "cross_entropy"}) {
    SCOPED_TRACE(loss);
    EXPECT_NO_THROW(run_loss(loss, x, good, Reduction::Mean));
    // wrong dtype
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2}), Reduction::Mean), std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2}, xg::kFloat64), Reduction::Mean),
                 std::invalid_argument);
    // wrong shape
    EXPECT_THROW(run_loss(loss, x, make({0, 2, 1}, {3}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2, 1}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, xg::scalar_tensor(1, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, make({1, 2, 3}, {3}), make({1}, {1}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);  // [C] needs a 0-d target
    EXPECT_THROW(
        run_loss(loss, xg::scalar_tensor(1.0), xg::scalar_tensor(0, xg::kInt64), Reduction::Mean),
        std::invalid_argument);
    EXPECT_THROW(run_loss(loss, make({1, 2}, {2}, xg::kInt64), xg::scalar_tensor(0, xg::kInt64),
                          Reduction::Mean),
                 std::invalid_argument);  // integer scores
    // out-of-range classes
    EXPECT_THROW(run_loss(loss, x, make({0, 3}, {2}, xg::kInt64), Reduction::Mean),
                 std::out_of_range);
    EXPECT_THROW(run_loss(loss, x, make({-1, 0}, {2}, xg::kInt64), Reduction::Sum),
                 std::out_of_range);
    EXPECT_THROW(run_loss(loss, x, make({0, -100}, {2}, xg::kInt64), Reduction::Mean, 5),
                 std::out_of_range);  // -100 is only skipped while it is the ignore_index
    EXPECT_NO_THROW(run_loss(loss, x, make({0, 5}, {2}, xg::kInt64), Reduction::Mean, 5));
  }
  for (double s : {-0.1, 1.5, -1e-12, 1 + 1e-12}) {
    SCOPED_TRACE(s);
    EXPECT_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, s), std::invalid_argument);
  }
  // NaN is no value in [0, 1] either (PyTorch 1.13 does not check it and silently applies no
  // smoothing; xgrad documents [0, 1], and a NaN here would make every loss NaN).
  EXPECT_THROW(
      F::cross_entropy(x, good, Reduction::Mean, -100, std::numeric_limits<double>::quiet_NaN()),
      std::invalid_argument);
  EXPECT_NO_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, 1.0));
  EXPECT_NO_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, 0.0));
  for (const char* loss : {"mse_loss", "l1_loss", "bce_with_logits"}) {
    SCOPED_TRACE(loss);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3}, {3}), Reduction::Mean), std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3, 4, 5, 6}, {3, 2}), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3, 4, 5, 6}, {2, 3}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, Tensor(), Reduction::Mean), std::invalid_argument);
  }
}

}  // namespace
