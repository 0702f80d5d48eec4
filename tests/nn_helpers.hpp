// Helpers shared by the tests of the nn layer (test_nn_*.cpp): a tensor's values, a tensor made
// from values, an elementwise comparison with tolerances by dtype, the names of named tensors,
// tensor identity, a function of gradients for gradgradcheck, and a small module with an own
// parameter and two Linear children.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace xg_test {

inline std::vector<double> values(const xg::Tensor& t) {
  const xt::xarray<double> a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// A function of fn's input gradients, for gradcheck to differentiate once more (a
// gradgradcheck): fn runs in grad mode on inputs that require grad, the gradients of
// <fn(x), go> (go = sin(0), sin(1), ... in fn's output shape) are taken with create_graph, and
// combine(gradients, inputs) reduces them to one tensor. gradcheck evaluates its finite
// differences without grad mode, on inputs that do not require grad: both are restored here.
using TensorFn = std::function<xg::Tensor(const std::vector<xg::Tensor>&)>;
inline TensorFn gradients_of(
    TensorFn fn,
    std::function<xg::Tensor(const std::vector<xg::Tensor>&, const std::vector<xg::Tensor>&)>
        combine) {
  return [fn = std::move(fn), combine = std::move(combine)](const std::vector<xg::Tensor>& x) {
    const bool was_enabled = xg::GradMode::is_enabled();
    xg::GradMode::set_enabled(true);
    std::vector<xg::Tensor> xs;
    for (const auto& t : x) xs.push_back(t.requires_grad() ? t : t.detach().requires_grad_());
    const xg::Tensor out = fn(xs);
    const xg::Tensor go =
        xg::sin(xg::arange(static_cast<double>(out.numel())).to(xg::kFloat64).reshape(out.shape()));
    const xg::Tensor r = combine(xg::autograd::grad({out}, xs, {go}, true, true), xs);
    xg::GradMode::set_enabled(was_enabled);
    return r;
  };
}

inline xg::Tensor make(const std::vector<double>& v, const xg::Shape& shape,
                       xg::Dtype dtype = xg::kFloat32, bool requires_grad = false) {
  return xg::tensor(v, shape, xg::TensorOptions().dtype(dtype).requires_grad(requires_grad));
}

// |actual - expected| <= atol + rtol |expected| elementwise, tolerances by dtype.
inline void expect_close(const std::vector<double>& actual, const std::vector<double>& expected,
                         xg::Dtype dtype, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  const double rtol = dtype == xg::kFloat64 ? 1e-10 : 2e-5;
  const double atol = dtype == xg::kFloat64 ? 1e-12 : 2e-6;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], atol + rtol * std::abs(expected[i]))
        << what << " element " << i;
  }
}

inline std::vector<std::string> names_of(const std::vector<xg::nn::NamedTensor>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

inline bool same_tensor(const xg::Tensor& a, const xg::Tensor& b) {
  return a.impl().get() == b.impl().get();
}

struct Net : xg::nn::Module {
  explicit Net(bool own_first = true) : Module("Net") {
    if (own_first) w = register_parameter("w", xg::randn({2}));
    fc1 = register_module("fc1", std::make_shared<xg::nn::Linear>(3, 4));
    fc2 = register_module("fc2", std::make_shared<xg::nn::Linear>(4, 2));
    if (!own_first) w = register_parameter("w", xg::randn({2}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    return fc2->forward(xg::tanh(fc1->forward(x))) + w;
  }
  xg::Tensor w;
  std::shared_ptr<xg::nn::Linear> fc1, fc2;
};

}  // namespace xg_test
