// The nn layer's init functions: uniform_ and normal_ statistics, the constant fills, the
// Xavier and Kaiming bounds from their formulas, calculate_gain, and that init records no graph.
// Expected values come from PyTorch or from the math, never from xgrad itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

using xg::Dtype;
using xg::Tensor;
using xg_test::make;
using xg_test::same_tensor;
using xg_test::values;

// ---------------------------------------------------------------------------------------------
// init

struct Stats {
  double mean, var, lo, hi;
};

Stats stats_of(const Tensor& t) {
  const auto v = values(t);
  double sum = 0, lo = v.at(0), hi = v.at(0);
  for (double e : v) {
    sum += e;
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  const double n = static_cast<double>(v.size());
  const double mean = sum / n;
  double sq = 0;
  for (double e : v) sq += (e - mean) * (e - mean);
  return {mean, sq / n, lo, hi};
}

TEST(InitTest, UniformAndNormalStatistics) {
  xg::manual_seed(21);
  for (Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dtype)));
    Tensor t = xg::empty({200, 500}, dtype);
    const Tensor r = xg::nn::init::uniform_(t, -2.0, 3.0);
    EXPECT_TRUE(same_tensor(r, t));
    EXPECT_EQ(t.dtype(), dtype);
    Stats s = stats_of(t);
    EXPECT_GE(s.lo, -2.0);
    EXPECT_LE(s.hi, 3.0);
    EXPECT_LT(s.lo, -1.99);
    EXPECT_GT(s.hi, 2.99);
    EXPECT_NEAR(s.mean, 0.5, 0.02);
    EXPECT_NEAR(s.var, 25.0 / 12, 0.02 * 25 / 12);

    xg::nn::init::uniform_(t);  // U(0, 1) by default
    s = stats_of(t);
    EXPECT_GE(s.lo, 0.0);
    EXPECT_LE(s.hi, 1.0);
    EXPECT_NEAR(s.mean, 0.5, 0.005);

    xg::nn::init::normal_(t, 1.5, 0.5);
    s = stats_of(t);
    EXPECT_NEAR(s.mean, 1.5, 0.01);
    EXPECT_NEAR(std::sqrt(s.var), 0.5, 0.01);
    xg::nn::init::normal_(t);
    s = stats_of(t);
    EXPECT_NEAR(s.mean, 0.0, 0.01);
    EXPECT_NEAR(std::sqrt(s.var), 1.0, 0.01);
  }
}

TEST(InitTest, ConstantFills) {
  Tensor t = make({1, 2, 3, 4}, {2, 2}, xg::kFloat64);
  xg::nn::init::zeros_(t);
  EXPECT_EQ(values(t), std::vector<double>(4, 0.0));
  xg::nn::init::ones_(t);
  EXPECT_EQ(values(t), std::vector<double>(4, 1.0));
  xg::nn::init::constant_(t, -2.5);
  EXPECT_EQ(values(t), std::vector<double>(4, -2.5));
  EXPECT_EQ(t.dtype(), xg::kFloat64);
}

TEST(InitTest, XavierAndKaimingBoundsFromTheFormulas) {
  xg::manual_seed(22);
  namespace init = xg::nn::init;
  auto check_bound = [](const Tensor& t, double bound, const char* what) {
    SCOPED_TRACE(what);
    const Stats s = stats_of(t);
    EXPECT_GE(s.lo, -bound);
    EXPECT_LE(s.hi, bound);
    EXPECT_LT(s.lo, -0.98 * bound);
    EXPECT_GT(s.hi, 0.98 * bound);
    EXPECT_NEAR(s.var, bound * bound / 3, 0.05 * bound * bound / 3);
  };
  Tensor w = xg::empty({300, 200});  // fan_in 200, fan_out 300
  init::xavier_uniform_(w);
  check_bound(w, std::sqrt(6.0 / 500), "xavier gain 1");
  init::xavier_uniform_(w, 2.0);
  check_bound(w, 2.0 * std::sqrt(6.0 / 500), "xavier gain 2");
  init::kaiming_uniform_(w);  // leaky_relu with a = 0: gain sqrt(2)
  check_bound(w, std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(200.0), "kaiming default");
  init::kaiming_uniform_(w, std::sqrt(5.0));  // gain sqrt(2 / 6): bound 1/sqrt(fan_in)
  check_bound(w, 1 / std::sqrt(200.0), "kaiming a=sqrt(5)");
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
  check_bound(w, std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(300.0), "kaiming fan_out relu");
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::Tanh);
  check_bound(w, std::sqrt(3.0) * (5.0 / 3) / std::sqrt(200.0), "kaiming tanh");
  // A 4-D weight: the receptive field multiplies both fans.
  Tensor conv = xg::empty({64, 32, 3, 3}, xg::kFloat64);
  init::xavier_uniform_(conv);
  check_bound(conv, std::sqrt(6.0 / (32 * 9 + 64 * 9)), "xavier 4-D");
  init::kaiming_uniform_(conv, 0.0, init::FanMode::FanIn, init::Nonlinearity::Linear);
  check_bound(conv, std::sqrt(3.0) / std::sqrt(32 * 9.0), "kaiming 4-D linear");

  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Tanh), 5.0 / 3);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU, 0.2),
                   std::sqrt(2.0 / (1 + 0.04)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU),
                   std::sqrt(2.0 / (1 + 0.0001)));

  Tensor v = xg::empty({5});
  EXPECT_THROW(init::xavier_uniform_(v), std::invalid_argument);
  EXPECT_THROW(init::kaiming_uniform_(v), std::invalid_argument);
}

TEST(InitTest, InitRecordsNoGraph) {
  namespace init = xg::nn::init;
  ASSERT_TRUE(xg::GradMode::is_enabled());
  const Tensor p = xg::zeros({4, 3}, xg::TensorOptions().requires_grad(true));
  const std::vector<std::function<void()>> fills = {[&] { init::uniform_(p, -1, 1); },
                                                    [&] { init::normal_(p); },
                                                    [&] { init::zeros_(p); },
                                                    [&] { init::ones_(p); },
                                                    [&] { init::constant_(p, 3.0); },
                                                    [&] { init::xavier_uniform_(p); },
                                                    [&] { init::kaiming_uniform_(p, 0.5); }};
  for (std::size_t i = 0; i < fills.size(); ++i) {
    SCOPED_TRACE(i);
    fills[i]();
    EXPECT_TRUE(p.is_leaf());
    EXPECT_TRUE(p.requires_grad());
    EXPECT_EQ(p.grad_fn_name(), "");
    EXPECT_TRUE(xg::GradMode::is_enabled());  // the guard is gone afterwards
    p.mutable_grad() = Tensor();
    (p * 2.0).sum().backward();
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(values(p.grad()), std::vector<double>(12, 2.0));
  }
}

}  // namespace
