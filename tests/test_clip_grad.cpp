// Gradient clipping (torch.nn.utils.clip_grad_norm_, clip_grad_value_): expected values worked
// out by hand from the definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Tensor;
namespace utils = xg::nn::utils;

std::vector<double> values(const Tensor& t) {
  const Tensor d = t.to(xg::kFloat64);
  return {d.data_ptr<double>(), d.data_ptr<double>() + d.numel()};
}

// Parameters whose gradients are set by hand: a.grad = [3, 4], b.grad = [[-12]], c no grad.
struct Params {
  explicit Params(xg::Dtype dtype) {
    const auto opts = xg::TensorOptions(dtype).requires_grad(true);
    a = xg::zeros({2}, opts);
    b = xg::zeros({1, 1}, opts);
    c = xg::zeros({3}, opts);
    a.mutable_grad() = xg::tensor({3.0, 4.0}, dtype);
    b.mutable_grad() = xg::tensor({-12.0}, dtype).reshape({1, 1});
  }
  std::vector<Tensor> all() const { return {a, b, c}; }
  Tensor a, b, c;
};

TEST(ClipGradNorm, ScalesEveryGradientByMaxNormOverTheTotalNorm) {
  for (xg::Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(xg::dtype_name(dtype));
    const double tol = dtype == xg::kFloat32 ? 1e-6 : 1e-15;
    Params p(dtype);
    // sqrt(3^2 + 4^2 + 12^2) = 13
    EXPECT_DOUBLE_EQ(utils::clip_grad_norm_(p.all(), 1.0), 13.0);
    const double k = 1.0 / (13.0 + 1e-6);
    const auto ga = values(p.a.grad()), gb = values(p.b.grad());
    EXPECT_NEAR(ga[0], 3 * k, tol);
    EXPECT_NEAR(ga[1], 4 * k, tol);
    EXPECT_NEAR(gb[0], -12 * k, tol);
    EXPECT_EQ(p.a.grad().dtype(), dtype);
    EXPECT_EQ(p.b.grad().shape(), (xg::Shape{1, 1}));
    EXPECT_FALSE(p.c.grad().defined());  // skipped, not created
  }
}

TEST(ClipGradNorm, LeavesGradientsBelowMaxNormAlone) {
  Params p(xg::kFloat64);
  const Tensor before = p.a.grad();
  EXPECT_DOUBLE_EQ(utils::clip_grad_norm_(p.all(), 13.5), 13.0);
  EXPECT_EQ(values(p.a.grad()), (std::vector<double>{3, 4}));
  EXPECT_EQ(values(p.b.grad()), (std::vector<double>{-12}));
  EXPECT_EQ(p.a.grad().impl().get(), before.impl().get());
  EXPECT_EQ(p.a.grad()._version(), before._version());
}

TEST(ClipGradNorm, OtherNormTypes) {
  Params p(xg::kFloat64);
  EXPECT_DOUBLE_EQ(utils::clip_grad_norm_(p.all(), 100, 1.0), 19.0);  // 3 + 4 + 12
  EXPECT_DOUBLE_EQ(utils::clip_grad_norm_(p.all(), 100, std::numeric_limits<double>::infinity()),
                   12.0);
  EXPECT_NEAR(utils::clip_grad_norm_(p.all(), 100, 3.0), std::cbrt(27.0 + 64 + 1728), 1e-12);
  // Infinity norm 12 clipped to 6: every gradient halved (up to the 1e-6).
  utils::clip_grad_norm_(p.all(), 6, std::numeric_limits<double>::infinity());
  EXPECT_NEAR(values(p.b.grad())[0], -6, 1e-6);
  // One tensor.
  Params q(xg::kFloat64);
  EXPECT_DOUBLE_EQ(utils::clip_grad_norm_(q.a, 1.0), 5.0);
  EXPECT_NEAR(values(q.a.grad())[1], 4 / (5 + 1e-6), 1e-15);
}

TEST(ClipGradNorm, NonFiniteNorm) {
  Params p(xg::kFloat64);
  p.a.mutable_grad() = xg::tensor({std::nan(""), 1.0}, xg::kFloat64);
  const Tensor b_grad = p.b.grad();
  // error_if_nonfinite: throws and changes nothing.
  EXPECT_THROW(utils::clip_grad_norm_(p.all(), 1.0, 2.0, true), std::runtime_error);
  EXPECT_EQ(values(p.b.grad()), (std::vector<double>{-12}));
  EXPECT_EQ(p.b.grad()._version(), b_grad._version());
  // Otherwise, as PyTorch: the NaN norm is returned and every gradient becomes NaN.
  EXPECT_TRUE(std::isnan(utils::clip_grad_norm_(p.all(), 1.0)));
  EXPECT_TRUE(std::isnan(values(p.b.grad())[0]));
}

TEST(ClipGradNorm, InvalidArgumentsThrowAndChangeNothing) {
  Params p(xg::kFloat64);
  EXPECT_THROW(utils::clip_grad_norm_(p.all(), -1.0), std::invalid_argument);
  EXPECT_THROW(utils::clip_grad_norm_(p.all(), 1.0, 0.0), std::invalid_argument);
  EXPECT_THROW(utils::clip_grad_value_(p.all(), -0.5), std::invalid_argument);
  EXPECT_EQ(values(p.a.grad()), (std::vector<double>{3, 4}));
}

TEST(ClipGradValue, ClampsEveryGradient) {
  for (xg::Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    Params p(dtype);
    utils::clip_grad_value_(p.all(), 3.5);
    EXPECT_EQ(values(p.a.grad()), (std::vector<double>{3, 3.5}));
    EXPECT_EQ(values(p.b.grad()), (std::vector<double>{-3.5}));
    EXPECT_EQ(p.a.grad().dtype(), dtype);
    EXPECT_FALSE(p.c.grad().defined());
    utils::clip_grad_value_(p.a, 1.0);
    EXPECT_EQ(values(p.a.grad()), (std::vector<double>{1, 1}));
  }
}

// In a training step: backward, clip, step; the step uses the clipped gradient.
TEST(ClipGradNorm, BetweenBackwardAndStep) {
  Tensor w = xg::tensor({1.0, 2.0}, xg::kFloat64).requires_grad_();
  xg::optim::SGD opt({w}, xg::optim::SGDOptions(1.0));
  (w * xg::tensor({30.0, 40.0}, xg::kFloat64)).sum().backward();  // grad [30, 40], norm 50
  EXPECT_DOUBLE_EQ(utils::clip_grad_norm_({w}, 5.0), 50.0);
  opt.step();
  const double k = 5.0 / (50 + 1e-6);
  EXPECT_NEAR(values(w)[0], 1 - 30 * k, 1e-12);
  EXPECT_NEAR(values(w)[1], 2 - 40 * k, 1e-12);
}

}  // namespace
