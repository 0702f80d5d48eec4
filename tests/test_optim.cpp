// Optimizers and lr schedulers: trajectories of SGD, Adam and AdamW against PyTorch
// (tests/reference/optim_reference.inc, made by tests/reference/make_optim_reference.py) and
// against the algorithm boxes evaluated here in long double; plain SGD against the hand-written
// update; parameter groups, zero_grad, skipped parameters, grad mode; invalid options and
// parameters; state_dict / load_state_dict; schedulers against PyTorch.
// Expected values never come from xgrad itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iomanip>
#include <map>
#include <memory>
#include <numbers>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

#include "reference/optim_reference.inc"

namespace optim_ref {
// GoogleTest names the failing case instead of dumping its bytes.
void PrintTo(const OptimizerCase& c, std::ostream* os) { *os << c.name; }
void PrintTo(const SchedulerCase& c, std::ostream* os) { *os << c.name; }
}  // namespace optim_ref

using xg::Shape;
using xg::Tensor;
using xg::optim::Adam;
using xg::optim::AdamOptions;
using xg::optim::AdamW;
using xg::optim::AdamWOptions;
using xg::optim::Optimizer;
using xg::optim::OptimizerParamGroup;
using xg::optim::OptimizerStateDict;
using xg::optim::SGD;
using xg::optim::SGDOptions;

std::vector<double> values(const Tensor& t) {
  const xt::xarray<double> a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

Tensor leaf(const std::vector<double>& v, const Shape& shape, xg::Dtype dtype) {
  return xg::tensor(v, shape, xg::TensorOptions().dtype(dtype).requires_grad(true));
}

void set_grad(const Tensor& p, const std::vector<double>& g) {
  p.mutable_grad() = xg::tensor(g, p.shape(), xg::TensorOptions().dtype(p.dtype()));
}

// Every element of every parameter, exactly (float32 -> double is exact).
void expect_bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    ASSERT_EQ(a[k].dtype(), b[k].dtype());
    const auto va = values(a[k]), vb = values(b[k]);
    ASSERT_EQ(va.size(), vb.size());
    for (std::size_t i = 0; i < va.size(); ++i) {
      EXPECT_EQ(va[i], vb[i]) << "parameter " << k << " element " << i;
    }
  }
}

// Runs f, expecting std::invalid_argument; returns its message ("" and a failure otherwise).
template <class F>
std::string invalid_argument_message(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::invalid_argument, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected std::invalid_argument, nothing was thrown";
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ================= the PyTorch trajectories =================

std::unique_ptr<Optimizer> make_optimizer(const optim_ref::OptimizerCase& c,
                                          std::vector<Tensor> params) {
  const std::string kind = c.optimizer;
  if (kind == "SGD") {
    return std::make_unique<SGD>(std::move(params), SGDOptions(c.lr)
                                                        .momentum(c.momentum)
                                                        .dampening(c.dampening)
                                                        .weight_decay(c.weight_decay)
                                                        .nesterov(c.nesterov)
                                                        .maximize(c.maximize));
  }
  if (kind == "Adam") {
    return std::make_unique<Adam>(std::move(params), AdamOptions(c.lr)
                                                         .betas({c.beta1, c.beta2})
                                                         .eps(c.eps)
                                                         .weight_decay(c.weight_decay)
                                                         .amsgrad(c.amsgrad)
                                                         .maximize(c.maximize));
  }
  if (kind == "AdamW") {
    return std::make_unique<AdamW>(std::move(params), AdamWOptions(c.lr)
                                                          .betas({c.beta1, c.beta2})
                                                          .eps(c.eps)
                                                          .weight_decay(c.weight_decay)
                                                          .amsgrad(c.amsgrad)
                                                          .maximize(c.maximize));
  }
  throw std::logic_error("unknown optimizer " + kind);
}

class OptimReference : public ::testing::TestWithParam<optim_ref::OptimizerCase> {};

// xgrad computes each update in the parameter's precision with LibTorch's C++ formulas, PyTorch
// 1.13's Python code with its own (e.g. addcdiv), so the last bits may differ: the relative
// tolerance is a few hundred ulps of the dtype, far below the effect of any option (the
// generating script checks that leaving out any option changes the trajectory by > 1e-3,
// 5e-5 for amsgrad with the default beta2).
TEST_P(OptimReference, TrajectoryMatchesPyTorch) {
  const auto& c = GetParam();
  const double rtol = c.dtype == xg::kFloat64 ? 1e-12 : 1e-5;
  std::vector<Tensor> params;
  for (const auto& p : optim_ref::kParams) params.push_back(leaf(p.initial, p.shape, c.dtype));
  auto opt = make_optimizer(c, params);
  ASSERT_EQ(static_cast<int>(c.expected.size()), optim_ref::kSteps);
  double worst = 0;
  for (int s = 0; s < optim_ref::kSteps; ++s) {
    for (std::size_t k = 0; k < params.size(); ++k)
      set_grad(params[k], optim_ref::kParams[k].grads[s]);
    opt->step();
    for (std::size_t k = 0; k < params.size(); ++k) {
      ASSERT_EQ(params[k].shape(), optim_ref::kParams[k].shape);
      ASSERT_EQ(params[k].dtype(), c.dtype);
      const auto got = values(params[k]);
      const auto& want = c.expected[s][k];
      const auto& before = s == 0 ? optim_ref::kParams[k].initial : c.expected[s - 1][k];
      ASSERT_EQ(got.size(), want.size());
      for (std::size_t i = 0; i < got.size(); ++i) {
        // Relative to the larger of the value before and after the step: an update that
        // nearly cancels the value (0.25 -> 0.000385) loses the leading digits in both.
        const double scale = std::max(std::abs(want[i]), std::abs(before[i]));
        const double err = std::abs(got[i] - want[i]);
        worst = std::max(worst, err / scale);
        EXPECT_LE(err, rtol * scale)
            << c.name << ": step " << s + 1 << ", parameter " << k << ", element " << i << ": got "
            << got[i] << ", PyTorch " << want[i] << ", before the step " << before[i];
      }
    }
  }
  std::ostringstream worst_text;
  worst_text << std::scientific << std::setprecision(3) << worst;
  RecordProperty("max_rel_diff", worst_text.str());  // visible with --gtest_output=xml
}

INSTANTIATE_TEST_SUITE_P(OptimRef, OptimReference, ::testing::ValuesIn(optim_ref::kOptimizerCases),
                         [](const ::testing::TestParamInfo<optim_ref::OptimizerCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(OptimReferenceTable, CoversEveryOptimizerAndDtype) {
  int sgd = 0, adam = 0, adamw = 0, f32 = 0, f64 = 0;
  for (const auto& c : optim_ref::kOptimizerCases) {
    const std::string kind = c.optimizer;
    sgd += kind == "SGD";
    adam += kind == "Adam";
    adamw += kind == "AdamW";
    f32 += c.dtype == xg::kFloat32;
    f64 += c.dtype == xg::kFloat64;
  }
  EXPECT_GE(sgd, 14);
  EXPECT_GE(adam, 14);
  EXPECT_GE(adamw, 10);
  EXPECT_EQ(f32, f64);
  EXPECT_GE(optim_ref::kSteps, 5);
  ASSERT_EQ(optim_ref::kParams.size(), 3u);
  EXPECT_EQ(optim_ref::kParams[0].shape, Shape{});
  EXPECT_EQ(optim_ref::kParams[1].shape, Shape{3});
  EXPECT_EQ((optim_ref::kParams[2].shape), (Shape{2, 3}));
}

// ================= the algorithm boxes, in long double =================

using LD = long double;

struct BoxOptions {
  LD lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
  LD beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  bool amsgrad = false;
};

constexpr int kBoxSteps = 10;
constexpr int kBoxSize = 5;

std::vector<double> box_initial() {
  std::vector<double> p(kBoxSize);
  for (int j = 0; j < kBoxSize; ++j) p[j] = std::cos(1.1 * j) + 0.5;
  return p;
}

// Large and tiny gradients in turn, so that the second moment also decreases (amsgrad).
std::vector<double> box_grad(int step) {
  static const double scale[] = {1.0, 0.02, 0.5, 0.005};
  std::vector<double> g(kBoxSize);
  for (int j = 0; j < kBoxSize; ++j) g[j] = scale[step % 4] * std::sin(0.9 * j + 1.7 * step + 0.3);
  return g;
}

// PyTorch's SGD algorithm box.
std::vector<std::vector<LD>> box_sgd(const BoxOptions& o) {
  std::vector<LD> p(kBoxSize), buf(kBoxSize);
  const auto p0 = box_initial();
  for (int j = 0; j < kBoxSize; ++j) p[j] = p0[j];
  std::vector<std::vector<LD>> out;
  for (int t = 1; t <= kBoxSteps; ++t) {
    const auto grad = box_grad(t - 1);
    for (int j = 0; j < kBoxSize; ++j) {
      LD g = grad[j];
      if (o.maximize) g = -g;
      g += o.weight_decay * p[j];
      if (o.momentum != 0) {
        buf[j] = t == 1 ? g : o.momentum * buf[j] + (1 - o.dampening) * g;
        g = o.nesterov ? g + o.momentum * buf[j] : buf[j];
      }
      p[j] -= o.lr * g;
    }
    out.push_back(p);
  }
  return out;
}

// PyTorch's Adam / AdamW as its implementation computes it: amsgrad keeps the running maximum
// of the raw second moment v and divides by its bias-corrected square root plus eps.
std::vector<std::vector<LD>> box_adam(const BoxOptions& o, bool decoupled) {
  std::vector<LD> p(kBoxSize), m(kBoxSize), v(kBoxSize), vmax(kBoxSize);
  const auto p0 = box_initial();
  for (int j = 0; j < kBoxSize; ++j) p[j] = p0[j];
  std::vector<std::vector<LD>> out;
  for (int t = 1; t <= kBoxSteps; ++t) {
    const auto grad = box_grad(t - 1);
    const LD bc1 = 1 - std::pow(o.beta1, static_cast<LD>(t));
    const LD bc2 = 1 - std::pow(o.beta2, static_cast<LD>(t));
    for (int j = 0; j < kBoxSize; ++j) {
      LD g = grad[j];
      if (o.maximize) g = -g;
      if (decoupled) {
        p[j] *= 1 - o.lr * o.weight_decay;
      } else {
        g += o.weight_decay * p[j];
      }
      m[j] = o.beta1 * m[j] + (1 - o.beta1) * g;
      v[j] = o.beta2 * v[j] + (1 - o.beta2) * g * g;
      LD second = v[j];
      if (o.amsgrad) {
        vmax[j] = std::max(vmax[j], v[j]);
        second = vmax[j];
      }
      const LD m_hat = m[j] / bc1;
      const LD denom = std::sqrt(second) / std::sqrt(bc2) + o.eps;
      p[j] -= o.lr * m_hat / denom;
    }
    out.push_back(p);
  }
  return out;
}

// Runs xgrad's optimizer (Float64) on the box's parameter and gradients; compares each step.
void expect_box(Optimizer& opt, const Tensor& p, const std::vector<std::vector<LD>>& want) {
  for (int t = 0; t < kBoxSteps; ++t) {
    set_grad(p, box_grad(t));
    opt.step();
    const auto got = values(p);
    for (int j = 0; j < kBoxSize; ++j) {
      const double w = static_cast<double>(want[t][j]);
      EXPECT_NEAR(got[j], w, 1e-12 * std::max(1.0, std::abs(w)))
          << "step " << t + 1 << " element " << j;
    }
  }
}

Tensor box_param() { return leaf(box_initial(), {kBoxSize}, xg::kFloat64); }

TEST(SGDAlgorithmBox, MomentumDampening) {
  BoxOptions o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.dampening = 0.4;
  Tensor p = box_param();
  SGD opt({p}, SGDOptions(0.1).momentum(0.9).dampening(0.4));
  expect_box(opt, p, box_sgd(o));
}

TEST(SGDAlgorithmBox, NesterovWeightDecayMaximize) {
  BoxOptions o;
  o.lr = 0.05;
  o.momentum = 0.7;
  o.weight_decay = 0.3;
  o.nesterov = true;
  o.maximize = true;
  Tensor p = box_param();
  SGD opt({p}, SGDOptions(0.05).momentum(0.7).weight_decay(0.3).nesterov(true).maximize(true));
  expect_box(opt, p, box_sgd(o));
}

TEST(SGDAlgorithmBox, MomentumDampeningWeightDecay) {
  BoxOptions o;
  o.lr = 0.2;
  o.momentum = 0.5;
  o.dampening = 0.5;
  o.weight_decay = 0.1;
  Tensor p = box_param();
  SGD opt({p}, SGDOptions(0.2).momentum(0.5).dampening(0.5).weight_decay(0.1));
  expect_box(opt, p, box_sgd(o));
}

TEST(AdamAlgorithmBox, Amsgrad) {
  BoxOptions o;
  o.lr = 0.05;
  o.beta2 = 0.9;
  o.amsgrad = true;
  Tensor p = box_param();
  Adam opt({p}, AdamOptions(0.05).betas({0.9, 0.9}).amsgrad(true));
  expect_box(opt, p, box_adam(o, false));
}

TEST(AdamAlgorithmBox, AmsgradWeightDecayMaximizeEps) {
  BoxOptions o;
  o.lr = 0.02;
  o.beta1 = 0.8;
  o.beta2 = 0.95;
  o.eps = 1e-2;
  o.weight_decay = 0.2;
  o.amsgrad = true;
  o.maximize = true;
  Tensor p = box_param();
  Adam opt({p}, AdamOptions(0.02)
                    .betas({0.8, 0.95})
                    .eps(1e-2)
                    .weight_decay(0.2)
                    .amsgrad(true)
                    .maximize(true));
  expect_box(opt, p, box_adam(o, false));
}

TEST(AdamAlgorithmBox, AdamWAmsgrad) {
  BoxOptions o;
  o.lr = 0.05;
  o.beta2 = 0.9;
  o.weight_decay = 0.1;
  o.amsgrad = true;
  Tensor p = box_param();
  AdamW opt({p}, AdamWOptions(0.05).betas({0.9, 0.9}).weight_decay(0.1).amsgrad(true));
  expect_box(opt, p, box_adam(o, true));
}

TEST(AdamAlgorithmBox, AdamWDefaultsAreWeightDecay1em2) {
  BoxOptions o;
  o.lr = 1e-3;  // AdamWOptions() defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 1e-2
  o.weight_decay = 1e-2;
  Tensor p = box_param();
  AdamW opt({p});
  expect_box(opt, p, box_adam(o, true));
}

TEST(AdamAlgorithmBox, AdamDefaults) {
  BoxOptions o;
  o.lr = 1e-3;  // AdamOptions() defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, wd 0
  Tensor p = box_param();
  Adam opt({p});
  expect_box(opt, p, box_adam(o, false));
}

TEST(AdamDefaults, OptionsArePyTorchs) {
  const AdamOptions a;
  EXPECT_EQ(a.lr(), 1e-3);
  EXPECT_EQ(std::get<0>(a.betas()), 0.9);
  EXPECT_EQ(std::get<1>(a.betas()), 0.999);
  EXPECT_EQ(a.eps(), 1e-8);
  EXPECT_EQ(a.weight_decay(), 0.0);
  EXPECT_FALSE(a.amsgrad());
  EXPECT_FALSE(a.maximize());
  const AdamWOptions w;
  EXPECT_EQ(w.lr(), 1e-3);
  EXPECT_EQ(std::get<0>(w.betas()), 0.9);
  EXPECT_EQ(std::get<1>(w.betas()), 0.999);
  EXPECT_EQ(w.eps(), 1e-8);
  EXPECT_EQ(w.weight_decay(), 1e-2);
  EXPECT_FALSE(w.amsgrad());
  EXPECT_FALSE(w.maximize());
}

// ================= plain SGD is exactly the hand-written update =================

// loss = sum((x @ w + b - y)^2) for a fixed batch; w [3], b [].
Tensor regression_loss(const Tensor& w, const Tensor& b, xg::Dtype dtype) {
  const auto o = xg::TensorOptions().dtype(dtype);
  const Tensor x =
      xg::tensor({0.5, -1.0, 2.0, 1.5, 0.25, -0.75, -2.0, 1.0, 0.3, 0.1, 0.9, -0.4}, {4, 3}, o);
  const Tensor y = xg::tensor({1.0, -2.0, 0.5, 3.0}, {4}, o);
  const Tensor r = xg::matmul(x, w) + b - y;
  return (r * r).sum();
}

void plain_sgd_is_hand_update(xg::Dtype dtype) {
  const double lr = 0.03;
  Tensor w1 = leaf({0.2, -0.4, 0.7}, {3}, dtype), b1 = leaf({0.1}, {}, dtype);
  Tensor w2 = leaf({0.2, -0.4, 0.7}, {3}, dtype), b2 = leaf({0.1}, {}, dtype);
  SGD opt({w1, b1}, SGDOptions(lr));
  for (int step = 0; step < 5; ++step) {
    opt.zero_grad();
    regression_loss(w1, b1, dtype).backward();
    opt.step();

    w2.mutable_grad() = Tensor();
    b2.mutable_grad() = Tensor();
    regression_loss(w2, b2, dtype).backward();
    {
      xg::NoGradGuard no_grad;
      w2 -= lr * w2.grad();
      b2 -= lr * b2.grad();
    }
    SCOPED_TRACE("step " + std::to_string(step + 1));
    expect_bitwise_equal({w1, b1}, {w2, b2});
  }
  // the updates did something
  EXPECT_NE(values(w1)[0], 0.2);
}

TEST(SGDPlain, BitwiseEqualToHandUpdateFloat32) { plain_sgd_is_hand_update(xg::kFloat32); }
TEST(SGDPlain, BitwiseEqualToHandUpdateFloat64) { plain_sgd_is_hand_update(xg::kFloat64); }

// ================= parameter groups =================

TEST(OptimParamGroups, EachGroupFollowsItsOwnLr) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat64), b = leaf({-1.0, 0.5}, {2}, xg::kFloat64);
  SGD opt({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(0.1)),
           OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.01))},
          SGDOptions(0.5));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.1);
  EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.01);
  set_grad(a, {2.0, -4.0});
  set_grad(b, {2.0, -4.0});
  opt.step();
  EXPECT_EQ(values(a), (std::vector<double>{1.0 - 0.1 * 2.0, 2.0 - 0.1 * -4.0}));
  EXPECT_EQ(values(b), (std::vector<double>{-1.0 - 0.01 * 2.0, 0.5 - 0.01 * -4.0}));
}

TEST(OptimParamGroups, AddParamGroupWithAndWithoutOptions) {
  Tensor a = leaf({1.0}, {1}, xg::kFloat64), b = leaf({1.0}, {1}, xg::kFloat64),
         c = leaf({1.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.1).momentum(0.5).weight_decay(0.25));
  opt.add_param_group(OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.3)));
  opt.add_param_group(OptimizerParamGroup({c}));  // takes the defaults
  ASSERT_EQ(opt.param_groups().size(), 3u);
  ASSERT_TRUE(opt.param_groups()[2].has_options());
  const auto& co = dynamic_cast<const SGDOptions&>(opt.param_groups()[2].options());
  EXPECT_EQ(co.lr(), 0.1);
  EXPECT_EQ(co.momentum(), 0.5);
  EXPECT_EQ(co.weight_decay(), 0.25);
  const auto& bo = dynamic_cast<const SGDOptions&>(opt.param_groups()[1].options());
  EXPECT_EQ(bo.lr(), 0.3);
  EXPECT_EQ(bo.momentum(), 0.0);  // its own options, not the defaults
  EXPECT_EQ(bo.weight_decay(), 0.0);
  // the defaulted group has a copy: changing it leaves the defaults alone
  opt.param_groups()[2].options().set_lr(0.7);
  EXPECT_EQ(opt.defaults().get_lr(), 0.1);

  set_grad(a, {1.0});
  set_grad(b, {1.0});
  set_grad(c, {1.0});
  opt.step();  // first momentum step: buf = g + wd * p
  EXPECT_EQ(values(a)[0], 1.0 - 0.1 * (1.0 + 0.25 * 1.0));
  EXPECT_EQ(values(b)[0], 1.0 - 0.3 * 1.0);
  EXPECT_EQ(values(c)[0], 1.0 - 0.7 * (1.0 + 0.25 * 1.0));
}

TEST(OptimParamGroups, OptionsCastToSGDOptionsAndLrChanges) {
  Tensor p = leaf({1.0, -1.0}, {2}, xg::kFloat64);
  SGD opt({p}, SGDOptions(0.1));
  auto& o = static_cast<SGDOptions&>(opt.param_groups()[0].options());
  EXPECT_EQ(o.lr(), 0.1);
  o.lr(0.25);
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.25);
  set_grad(p, {1.0, 2.0});
  opt.step();
  EXPECT_EQ(values(p), (std::vector<double>{1.0 - 0.25 * 1.0, -1.0 - 0.25 * 2.0}));
  EXPECT_NO_THROW((void)dynamic_cast<SGDOptions&>(opt.param_groups()[0].options()));
  EXPECT_THROW((void)dynamic_cast<AdamOptions&>(opt.param_groups()[0].options()), std::bad_cast);
}

TEST(OptimParamGroups, AdamGroupsWithDifferentOptions) {
  // Adam's first step moves each element by lr * g / (|g| + eps): lr per group.
  Tensor a = leaf({0.0, 0.0}, {2}, xg::kFloat64), b = leaf({0.0, 0.0}, {2}, xg::kFloat64);
  Adam opt({OptimizerParamGroup({a}, std::make_unique<AdamOptions>(0.1)),
            OptimizerParamGroup({b}, std::make_unique<AdamOptions>(0.01))});
  set_grad(a, {2.0, -0.5});
  set_grad(b, {2.0, -0.5});
  opt.step();
  const auto va = values(a), vb = values(b);
  EXPECT_NEAR(va[0], -0.1, 1e-8);
  EXPECT_NEAR(va[1], 0.1, 1e-8);
  EXPECT_NEAR(vb[0], -0.01, 1e-9);
  EXPECT_NEAR(vb[1], 0.01, 1e-9);
}

// ================= step, zero_grad, grad mode =================

TEST(OptimStep, SkipsParametersWithoutGradSGD) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat64), b = leaf({3.0, 4.0}, {2}, xg::kFloat64);
  SGD opt({a, b}, SGDOptions(0.1).momentum(0.9));
  set_grad(a, {1.0, 1.0});
  opt.step();
  EXPECT_EQ(values(b), (std::vector<double>{3.0, 4.0}));
  EXPECT_FALSE(b.grad().defined());
  auto sd = opt.state_dict();
  EXPECT_TRUE(sd.tensors.count("state.0.momentum_buffer"));
  EXPECT_FALSE(sd.tensors.count("state.1.momentum_buffer"));
  // b's first step with a gradient starts its buffer as a copy of that gradient
  a.mutable_grad() = Tensor();
  set_grad(b, {1.0, -2.0});
  opt.step();
  EXPECT_EQ(values(a), (std::vector<double>{1.0 - 0.1, 2.0 - 0.1}));
  EXPECT_EQ(values(b), (std::vector<double>{3.0 - 0.1 * 1.0, 4.0 - 0.1 * -2.0}));
  sd = opt.state_dict();
  EXPECT_EQ(values(sd.tensors.at("state.0.momentum_buffer")), (std::vector<double>{1.0, 1.0}));
  EXPECT_EQ(values(sd.tensors.at("state.1.momentum_buffer")), (std::vector<double>{1.0, -2.0}));
}

TEST(OptimStep, SkipsParametersWithoutGradAdam) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat64), b = leaf({3.0, 4.0}, {2}, xg::kFloat64);
  Adam opt({a, b}, AdamOptions(0.1));
  set_grad(a, {1.0, 1.0});
  opt.step();
  set_grad(a, {1.0, 1.0});
  opt.step();
  EXPECT_EQ(values(b), (std::vector<double>{3.0, 4.0}));
  auto sd = opt.state_dict();
  ASSERT_TRUE(sd.tensors.count("state.0.step"));
  EXPECT_EQ(sd.tensors.at("state.0.step").item<std::int64_t>(), 2);
  for (const auto& [key, t] : sd.tensors) EXPECT_FALSE(contains(key, "state.1.")) << key;
  // b's first step with a gradient is its step 1: it moves by lr * g / (|g| + eps)
  a.mutable_grad() = Tensor();
  const auto a_before = values(a);
  set_grad(b, {0.5, -3.0});
  opt.step();
  EXPECT_EQ(values(a), a_before);
  const auto vb = values(b);
  EXPECT_NEAR(vb[0], 3.0 - 0.1 * 0.5 / (0.5 + 1e-8), 1e-12);
  EXPECT_NEAR(vb[1], 4.0 + 0.1 * 3.0 / (3.0 + 1e-8), 1e-12);
  sd = opt.state_dict();
  EXPECT_EQ(sd.tensors.at("state.0.step").item<std::int64_t>(), 2);
  EXPECT_EQ(sd.tensors.at("state.1.step").item<std::int64_t>(), 1);
}

TEST(OptimStep, ZeroGradSetsToNoneOrZeros) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat32), b = leaf({3.0}, {}, xg::kFloat32),
         c = leaf({5.0}, {1}, xg::kFloat32);
  SGD opt({a, b, c}, SGDOptions(0.1));
  (a * b).sum().backward();
  ASSERT_TRUE(a.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  ASSERT_FALSE(c.grad().defined());
  opt.zero_grad(false);
  ASSERT_TRUE(a.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  EXPECT_EQ(a.grad().shape(), Shape{2});
  EXPECT_EQ(a.grad().dtype(), xg::kFloat32);
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0.0, 0.0}));
  EXPECT_EQ(values(b.grad()), (std::vector<double>{0.0}));
  EXPECT_FALSE(c.grad().defined());  // as PyTorch: a missing grad stays missing
  // a backward after zero_grad(false) accumulates into the zeros
  (a * b).sum().backward();
  EXPECT_EQ(values(a.grad()), (std::vector<double>{3.0, 3.0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  EXPECT_FALSE(c.grad().defined());
  // a step after zero_grad() changes nothing
  opt.step();
  EXPECT_EQ(values(a), (std::vector<double>{1.0, 2.0}));
}

// PyTorch's zero_grad(set_to_none=False) detaches a gradient that a create_graph backward made
// (grad.detach_() when it has a grad_fn, else requires_grad_(False)) before zeroing it.
TEST(OptimStep, ZeroGradFalseDetachesAGradWithGraph) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.1));
  (a * a).sum().backward({}, std::nullopt, /*create_graph=*/true);
  ASSERT_TRUE(a.grad().requires_grad());
  // a step with such a gradient records nothing either
  opt.step();
  EXPECT_TRUE(a.is_leaf());
  EXPECT_EQ(values(a), (std::vector<double>{1.0 - 0.1 * 2.0, 2.0 - 0.1 * 4.0}));
  opt.zero_grad(false);
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(values(a.grad()), (std::vector<double>{0.0, 0.0}));
  EXPECT_FALSE(a.grad().requires_grad());
  EXPECT_EQ(a.grad().grad_fn_name(), "");
}

// A gradient that does not fit its parameter (replaced by hand through mutable_grad()) cannot
// be applied: PyTorch refuses it ("assigned grad has data of a different size"). step() must
// throw, not read the gradient as if it had the parameter's shape.
TEST(OptimStep, GradOfAnotherShapeThrows) {
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Tensor p = leaf({1.0, 2.0, 3.0}, {3}, xg::kFloat32);
    std::unique_ptr<Optimizer> opt;
    if (kind == 0) opt = std::make_unique<SGD>(std::vector<Tensor>{p}, SGDOptions(0.1));
    if (kind == 1) opt = std::make_unique<Adam>(std::vector<Tensor>{p}, AdamOptions(0.1));
    if (kind == 2) opt = std::make_unique<AdamW>(std::vector<Tensor>{p}, AdamWOptions(0.1));
    // more elements than the parameter (fewer would make step() read past the gradient)
    p.mutable_grad() =
        xg::tensor({1.0, 1.0, 1.0, 1.0}, {4}, xg::TensorOptions().dtype(xg::kFloat32));
    EXPECT_THROW(opt->step(), std::invalid_argument);
    EXPECT_EQ(values(p), (std::vector<double>{1.0, 2.0, 3.0}));
  }
}

TEST(OptimStep, RecordsNoGraphAndKeepsGradMode) {
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    Tensor w = leaf({0.2, -0.4, 0.7}, {3}, xg::kFloat64), b = leaf({0.1}, {}, xg::kFloat64);
    std::unique_ptr<Optimizer> opt;
    if (kind == 0)
      opt = std::make_unique<SGD>(std::vector<Tensor>{w, b}, SGDOptions(0.01).momentum(0.9));
    if (kind == 1) opt = std::make_unique<Adam>(std::vector<Tensor>{w, b}, AdamOptions(0.01));
    if (kind == 2) opt = std::make_unique<AdamW>(std::vector<Tensor>{w, b}, AdamWOptions(0.01));
    const void* w_data = w.data_ptr<double>();
    const Tensor alias = w.detach();  // shares w's data
    ASSERT_TRUE(xg::GradMode::is_enabled());
    for (int step = 0; step < 3; ++step) {
      opt->zero_grad();
      regression_loss(w, b, xg::kFloat64).backward();
      const auto before = values(w);
      opt->step();
      EXPECT_TRUE(xg::GradMode::is_enabled());
      EXPECT_TRUE(w.is_leaf());
      EXPECT_TRUE(b.is_leaf());
      EXPECT_TRUE(w.requires_grad());
      EXPECT_EQ(w.grad_fn_name(), "");
      EXPECT_EQ(b.grad_fn_name(), "");
      EXPECT_FALSE(w.grad().requires_grad());
      EXPECT_NE(values(w), before);
      // in place: the same storage, seen through every handle
      EXPECT_EQ(static_cast<const void*>(w.data_ptr<double>()), w_data);
      EXPECT_EQ(values(alias), values(w));
    }
    // also fine when the caller already turned grad mode off
    {
      xg::NoGradGuard guard;
      opt->step();
      EXPECT_FALSE(xg::GradMode::is_enabled());
    }
    EXPECT_TRUE(xg::GradMode::is_enabled());
  }
}

// ================= invalid options and parameters =================

template <class F>
void expect_option_error(F&& f, const std::vector<std::string>& names) {
  const std::string msg = invalid_argument_message(std::forward<F>(f));
  bool named = false;
  for (const auto& n : names) named = named || contains(msg, n);
  EXPECT_TRUE(named) << "message does not name the option: " << msg;
}

TEST(OptimInvalidOptions, SGD) {
  Tensor p = leaf({1.0}, {1}, xg::kFloat32);
  expect_option_error([&] { SGD({p}, SGDOptions(-0.1)); }, {"lr"});
  expect_option_error([&] { SGD({p}, SGDOptions(0.1).momentum(-0.5)); }, {"momentum"});
  expect_option_error([&] { SGD({p}, SGDOptions(0.1).weight_decay(-1e-4)); }, {"weight_decay"});
  expect_option_error([&] { SGD({p}, SGDOptions(0.1).nesterov(true)); }, {"nesterov"});
  expect_option_error(
      [&] { SGD({p}, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)); },
      {"nesterov", "dampening"});
  // valid corner cases
  EXPECT_NO_THROW(SGD({p}, SGDOptions(0.0)));
  EXPECT_NO_THROW(SGD({p}, SGDOptions(0.1).momentum(0.9).nesterov(true)));
  EXPECT_NO_THROW(SGD({p}, SGDOptions(0.1).momentum(0.9).dampening(0.5)));
}

template <class Opt, class Options>
void adam_family_invalid_options() {
  Tensor p = leaf({1.0}, {1}, xg::kFloat32);
  expect_option_error([&] { Opt({p}, Options(-1e-3)); }, {"lr"});
  expect_option_error([&] { Opt({p}, Options(1e-3).eps(-1e-8)); }, {"eps"});
  expect_option_error([&] { Opt({p}, Options(1e-3).betas({1.0, 0.999})); }, {"beta1", "betas[0]"});
  expect_option_error([&] { Opt({p}, Options(1e-3).betas({-0.1, 0.999})); }, {"beta1", "betas[0]"});
  expect_option_error([&] { Opt({p}, Options(1e-3).betas({0.9, 1.0})); }, {"beta2", "betas[1]"});
  expect_option_error([&] { Opt({p}, Options(1e-3).betas({0.9, -0.1})); }, {"beta2", "betas[1]"});
  expect_option_error([&] { Opt({p}, Options(1e-3).weight_decay(-0.01)); }, {"weight_decay"});
  EXPECT_NO_THROW(Opt({p}, Options(1e-3).betas({0.0, 0.0}).eps(0.0).weight_decay(0.0)));
}

TEST(OptimInvalidOptions, Adam) { adam_family_invalid_options<Adam, AdamOptions>(); }
TEST(OptimInvalidOptions, AdamW) { adam_family_invalid_options<AdamW, AdamWOptions>(); }

TEST(OptimInvalidOptions, InvalidGroupOptions) {
  Tensor a = leaf({1.0}, {1}, xg::kFloat32), b = leaf({1.0}, {1}, xg::kFloat32);
  expect_option_error(
      [&] { SGD({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(-1.0))}, SGDOptions(0.1)); },
      {"lr"});
  Adam opt({a}, AdamOptions(0.1));
  expect_option_error(
      [&] {
        opt.add_param_group(OptimizerParamGroup(
            {b}, std::make_unique<AdamOptions>(AdamOptions(0.1).betas({0.9, 1.5}))));
      },
      {"beta2", "betas[1]"});
  EXPECT_EQ(opt.param_groups().size(), 1u);
}

TEST(OptimInvalidParams, EachThrowsInvalidArgument) {
  Tensor p = leaf({1.0, 2.0}, {2}, xg::kFloat32);
  const Tensor ints = xg::tensor({1.0, 2.0}, xg::TensorOptions().dtype(xg::kInt64));
  const Tensor non_leaf = p * 2;
  ASSERT_FALSE(non_leaf.is_leaf());
  invalid_argument_message([&] { SGD({ints}, SGDOptions(0.1)); });
  invalid_argument_message([&] { Adam({ints}, AdamOptions(0.1)); });
  invalid_argument_message([&] { SGD({non_leaf}, SGDOptions(0.1)); });
  invalid_argument_message([&] { AdamW({non_leaf}, AdamWOptions(0.1)); });
  invalid_argument_message([&] { SGD({Tensor()}, SGDOptions(0.1)); });
  invalid_argument_message([&] { Adam({p, Tensor()}, AdamOptions(0.1)); });
  invalid_argument_message([&] { SGD({p, p}, SGDOptions(0.1)); });
  const Tensor same = p;  // another handle to the same tensor
  invalid_argument_message([&] { Adam({p, same}, AdamOptions(0.1)); });
  invalid_argument_message([&] {
    SGD({OptimizerParamGroup({p}), OptimizerParamGroup({same})}, SGDOptions(0.1));
  });
}

TEST(OptimInvalidParams, FailedAddParamGroupChangesNothing) {
  Tensor a = leaf({1.0, 2.0}, {2}, xg::kFloat64), b = leaf({3.0}, {1}, xg::kFloat64),
         c = leaf({4.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.1));
  opt.add_param_group(OptimizerParamGroup({b}));
  ASSERT_EQ(opt.param_groups().size(), 2u);
  // a tensor already in another group, after a new one: the whole group is refused
  invalid_argument_message([&] { opt.add_param_group(OptimizerParamGroup({c, a})); });
  invalid_argument_message([&] { opt.add_param_group(OptimizerParamGroup({c, b})); });
  invalid_argument_message([&] { opt.add_param_group(OptimizerParamGroup({c, c})); });
  invalid_argument_message([&] { opt.add_param_group(OptimizerParamGroup({c, a * 2})); });
  invalid_argument_message([&] {
    opt.add_param_group(
        OptimizerParamGroup({c, xg::tensor({1.0}, xg::TensorOptions().dtype(xg::kInt64))}));
  });
  invalid_argument_message([&] { opt.add_param_group(OptimizerParamGroup({c, Tensor()})); });
  ASSERT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[0].params().size(), 1u);
  EXPECT_EQ(opt.param_groups()[1].params().size(), 1u);
  EXPECT_EQ(opt.state_dict().tensors.at("param_groups.1.params").numel(), 1);
  // c was not taken in by any failed attempt: it can still be added, and only once
  EXPECT_NO_THROW(opt.add_param_group(OptimizerParamGroup({c})));
  ASSERT_EQ(opt.param_groups().size(), 3u);
  set_grad(a, {1.0, 1.0});
  set_grad(b, {1.0});
  set_grad(c, {1.0});
  opt.step();
  EXPECT_EQ(values(c), (std::vector<double>{4.0 - 0.1}));
}

// ================= state_dict / load_state_dict =================

using Factory = std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>)>;

std::vector<Tensor> make_params(const std::vector<Shape>& shapes, xg::Dtype dtype,
                                double salt = 0) {
  std::vector<Tensor> out;
  for (std::size_t k = 0; k < shapes.size(); ++k) {
    std::vector<double> v(static_cast<std::size_t>(xg::shape_numel(shapes[k])));
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = std::cos(0.7 * i + 1.3 * k + salt);
    out.push_back(leaf(v, shapes[k], dtype));
  }
  return out;
}

// The gradients of step `step`, a fixed formula; tiny and large in turn.
void set_step_grads(const std::vector<Tensor>& params, int step, double salt = 0) {
  for (std::size_t k = 0; k < params.size(); ++k) {
    std::vector<double> g(static_cast<std::size_t>(params[k].numel()));
    const double scale = step % 2 == 0 ? 1.0 : 0.01;
    for (std::size_t i = 0; i < g.size(); ++i) {
      g[i] = scale * std::sin(1.1 * i + 0.9 * k + 0.6 * step + salt);
    }
    set_grad(params[k], g);
  }
}

void run_steps(Optimizer& opt, const std::vector<Tensor>& params, int from, int to,
               double salt = 0) {
  for (int s = from; s < to; ++s) {
    set_step_grads(params, s, salt);
    opt.step();
  }
}

std::vector<Tensor> copies(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  for (const auto& p : params) out.push_back(leaf(values(p), p.shape(), p.dtype()));
  return out;
}

// Saves after 3 steps, continues 4; a fresh optimizer on copies loads the state and runs the
// same 4 steps: the parameters must be bit-identical.
void expect_resume_bit_identical(const Factory& make, const Factory& make_fresh, xg::Dtype dtype) {
  const std::vector<Shape> shapes = {{3}, {2, 2}, {}};
  auto params = make_params(shapes, dtype);
  auto opt = make(params);
  run_steps(*opt, params, 0, 3);
  const OptimizerStateDict saved = opt->state_dict();
  const auto resumed_params = copies(params);
  run_steps(*opt, params, 3, 7);

  auto fresh = make_fresh(resumed_params);
  fresh->load_state_dict(saved);
  // what was loaded is what was saved
  const OptimizerStateDict reloaded = fresh->state_dict();
  EXPECT_EQ(reloaded.optimizer, saved.optimizer);
  ASSERT_EQ(reloaded.tensors.size(), saved.tensors.size());
  for (const auto& [key, t] : saved.tensors) {
    ASSERT_TRUE(reloaded.tensors.count(key)) << key;
    const Tensor& r = reloaded.tensors.at(key);
    EXPECT_EQ(r.dtype(), t.dtype()) << key;
    EXPECT_EQ(r.shape(), t.shape()) << key;
    EXPECT_EQ(values(r), values(t)) << key;
  }
  run_steps(*fresh, resumed_params, 3, 7);
  expect_bitwise_equal(params, resumed_params);
}

Factory sgd_factory() {
  return [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<SGD>(std::move(p),
                                 SGDOptions(0.1).momentum(0.9).dampening(0.2).weight_decay(0.01));
  };
}
Factory sgd_nesterov_factory() {
  return [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<SGD>(std::move(p), SGDOptions(0.05).momentum(0.8).nesterov(true));
  };
}
Factory adam_factory() {
  return [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<Adam>(std::move(p), AdamOptions(0.05).betas({0.9, 0.9}).amsgrad(true));
  };
}
Factory adamw_factory() {
  return [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<AdamW>(std::move(p), AdamWOptions(0.05).weight_decay(0.1));
  };
}

TEST(OptimStateDict, SGDMomentumResumesBitIdentical) {
  expect_resume_bit_identical(sgd_factory(), sgd_factory(), xg::kFloat64);
  expect_resume_bit_identical(sgd_factory(), sgd_factory(), xg::kFloat32);
  expect_resume_bit_identical(sgd_nesterov_factory(), sgd_nesterov_factory(), xg::kFloat32);
}

TEST(OptimStateDict, AdamAmsgradResumesBitIdentical) {
  expect_resume_bit_identical(adam_factory(), adam_factory(), xg::kFloat64);
  expect_resume_bit_identical(adam_factory(), adam_factory(), xg::kFloat32);
}

TEST(OptimStateDict, AdamWResumesBitIdentical) {
  expect_resume_bit_identical(adamw_factory(), adamw_factory(), xg::kFloat64);
  expect_resume_bit_identical(adamw_factory(), adamw_factory(), xg::kFloat32);
}

// The fresh optimizer is made with other options; load_state_dict restores the saved ones.
TEST(OptimStateDict, ResumesWithGroupOptionsRestored) {
  const Factory other_sgd = [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<SGD>(std::move(p), SGDOptions(3.0));
  };
  const Factory other_adam = [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<Adam>(std::move(p), AdamOptions(0.9).eps(0.5).weight_decay(0.3));
  };
  const Factory other_adamw = [](std::vector<Tensor> p) -> std::unique_ptr<Optimizer> {
    return std::make_unique<AdamW>(std::move(p),
                                   AdamWOptions(0.9).betas({0.5, 0.6}).maximize(true));
  };
  expect_resume_bit_identical(sgd_factory(), other_sgd, xg::kFloat64);
  expect_resume_bit_identical(adam_factory(), other_adam, xg::kFloat32);
  expect_resume_bit_identical(adamw_factory(), other_adamw, xg::kFloat64);
}

TEST(OptimStateDict, RestoresEveryGroupOption) {
  Tensor a = leaf({1.0}, {1}, xg::kFloat64), b = leaf({2.0}, {1}, xg::kFloat64);
  Adam src({OptimizerParamGroup({a}, std::make_unique<AdamOptions>(AdamOptions(0.01)
                                                                       .betas({0.8, 0.95})
                                                                       .eps(1e-6)
                                                                       .weight_decay(0.1)
                                                                       .amsgrad(true)
                                                                       .maximize(true))),
            OptimizerParamGroup({b}, std::make_unique<AdamOptions>(0.2))});
  Tensor a2 = leaf({1.0}, {1}, xg::kFloat64), b2 = leaf({2.0}, {1}, xg::kFloat64);
  Adam dst({OptimizerParamGroup({a2}), OptimizerParamGroup({b2})}, AdamOptions(0.5));
  dst.load_state_dict(src.state_dict());
  const auto& o0 = dynamic_cast<const AdamOptions&>(dst.param_groups()[0].options());
  EXPECT_EQ(o0.lr(), 0.01);
  EXPECT_EQ(std::get<0>(o0.betas()), 0.8);
  EXPECT_EQ(std::get<1>(o0.betas()), 0.95);
  EXPECT_EQ(o0.eps(), 1e-6);
  EXPECT_EQ(o0.weight_decay(), 0.1);
  EXPECT_TRUE(o0.amsgrad());
  EXPECT_TRUE(o0.maximize());
  const auto& o1 = dynamic_cast<const AdamOptions&>(dst.param_groups()[1].options());
  EXPECT_EQ(o1.lr(), 0.2);
  EXPECT_EQ(std::get<1>(o1.betas()), 0.999);
  EXPECT_FALSE(o1.amsgrad());

  Tensor p = leaf({1.0}, {1}, xg::kFloat64), q = leaf({1.0}, {1}, xg::kFloat64);
  SGD s1({p}, SGDOptions(0.3).momentum(0.7).dampening(0.1).weight_decay(0.05).maximize(true));
  SGD s2({q}, SGDOptions(1.0));
  s2.load_state_dict(s1.state_dict());
  const auto& so = dynamic_cast<const SGDOptions&>(s2.param_groups()[0].options());
  EXPECT_EQ(so.lr(), 0.3);
  EXPECT_EQ(so.momentum(), 0.7);
  EXPECT_EQ(so.dampening(), 0.1);
  EXPECT_EQ(so.weight_decay(), 0.05);
  EXPECT_FALSE(so.nesterov());
  EXPECT_TRUE(so.maximize());
}

TEST(OptimStateDict, SavedDictIsASnapshot) {
  auto params = make_params({{3}}, xg::kFloat64);
  auto opt = adam_factory()(params);
  run_steps(*opt, params, 0, 2);
  const OptimizerStateDict saved = opt->state_dict();
  const auto m = values(saved.tensors.at("state.0.exp_avg"));
  EXPECT_EQ(saved.optimizer, "Adam");
  EXPECT_EQ(saved.tensors.at("state.0.step").item<std::int64_t>(), 2);
  run_steps(*opt, params, 2, 4);
  EXPECT_EQ(values(saved.tensors.at("state.0.exp_avg")), m);
  EXPECT_EQ(saved.tensors.at("state.0.step").item<std::int64_t>(), 2);
  EXPECT_EQ(opt->state_dict().tensors.at("state.0.step").item<std::int64_t>(), 4);
}

// Two twin optimizers take the same steps; `bad` is loaded into one of them, which must throw
// std::invalid_argument and then go on exactly as its twin.
void expect_load_fails_and_changes_nothing(const Factory& make, const std::vector<Shape>& shapes,
                                           const OptimizerStateDict& bad, xg::Dtype dtype) {
  auto p1 = make_params(shapes, dtype), p2 = make_params(shapes, dtype);
  auto o1 = make(p1), o2 = make(p2);
  run_steps(*o1, p1, 0, 2);
  run_steps(*o2, p2, 0, 2);
  const double lr_before = o2->param_groups()[0].options().get_lr();
  invalid_argument_message([&] { o2->load_state_dict(bad); });
  EXPECT_EQ(o2->param_groups()[0].options().get_lr(), lr_before);
  run_steps(*o1, p1, 2, 5);
  run_steps(*o2, p2, 2, 5);
  expect_bitwise_equal(p1, p2);
}

// A state dict of `make`'s optimizer on `shapes`, after `steps` steps with other gradients and
// another lr than the twins use, so that loading any part of it would show.
OptimizerStateDict donor_state(const Factory& make, const std::vector<Shape>& shapes,
                               xg::Dtype dtype, int steps = 3) {
  auto params = make_params(shapes, dtype, 0.5);
  auto opt = make(params);
  run_steps(*opt, params, 0, steps, 0.3);
  for (auto& g : opt->param_groups()) g.options().set_lr(g.options().get_lr() * 7);
  return opt->state_dict();
}

TEST(OptimStateDict, StateOfAnotherOptimizerThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  expect_load_fails_and_changes_nothing(
      adam_factory(), shapes, donor_state(sgd_factory(), shapes, xg::kFloat64), xg::kFloat64);
  expect_load_fails_and_changes_nothing(
      sgd_factory(), shapes, donor_state(adam_factory(), shapes, xg::kFloat64), xg::kFloat64);
  expect_load_fails_and_changes_nothing(
      adamw_factory(), shapes, donor_state(adam_factory(), shapes, xg::kFloat64), xg::kFloat64);
  // the optimizer name is the only difference here: Adam and AdamW share their state layout
  OptimizerStateDict renamed = donor_state(adamw_factory(), shapes, xg::kFloat64);
  renamed.optimizer = "Adam";
  expect_load_fails_and_changes_nothing(adamw_factory(), shapes, renamed, xg::kFloat64);
}

TEST(OptimStateDict, BufferOfAnotherShapeThrows) {
  // the donor's first parameter fits, its second does not: nothing may be loaded
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  const std::vector<Shape> other = {{2, 2}, {4}};
  expect_load_fails_and_changes_nothing(
      sgd_factory(), shapes, donor_state(sgd_factory(), other, xg::kFloat64), xg::kFloat64);
  expect_load_fails_and_changes_nothing(
      adam_factory(), shapes, donor_state(adam_factory(), other, xg::kFloat32), xg::kFloat32);
  expect_load_fails_and_changes_nothing(
      adamw_factory(), shapes, donor_state(adamw_factory(), {{2, 2}, {1, 3}}, xg::kFloat64),
      xg::kFloat64);
  // a hand-made momentum buffer of another shape
  OptimizerStateDict sgd = donor_state(sgd_factory(), shapes, xg::kFloat64);
  sgd.tensors["state.1.momentum_buffer"] =
      xg::zeros({3, 1}, xg::TensorOptions().dtype(xg::kFloat64));
  expect_load_fails_and_changes_nothing(sgd_factory(), shapes, sgd, xg::kFloat64);
}

TEST(OptimStateDict, BufferOfAnotherDtypeThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  expect_load_fails_and_changes_nothing(
      sgd_factory(), shapes, donor_state(sgd_factory(), shapes, xg::kFloat32), xg::kFloat64);
  expect_load_fails_and_changes_nothing(
      adam_factory(), shapes, donor_state(adam_factory(), shapes, xg::kFloat64), xg::kFloat32);
}

TEST(OptimStateDict, OtherNumberOfParametersThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  for (const auto& other : std::vector<std::vector<Shape>>{{{2, 2}}, {{2, 2}, {3}, {5}}}) {
    expect_load_fails_and_changes_nothing(
        sgd_factory(), shapes, donor_state(sgd_factory(), other, xg::kFloat64), xg::kFloat64);
    expect_load_fails_and_changes_nothing(
        adam_factory(), shapes, donor_state(adam_factory(), other, xg::kFloat64), xg::kFloat64);
  }
}

TEST(OptimStateDict, OtherNumberOfGroupsThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  auto params = make_params(shapes, xg::kFloat64, 0.5);
  SGD two_groups({OptimizerParamGroup({params[0]}), OptimizerParamGroup({params[1]})},
                 SGDOptions(0.1).momentum(0.9).dampening(0.2).weight_decay(0.01));
  run_steps(two_groups, params, 0, 3, 0.3);
  expect_load_fails_and_changes_nothing(sgd_factory(), shapes, two_groups.state_dict(),
                                        xg::kFloat64);
}

TEST(OptimStateDict, MissingOptionThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  for (const char* option :
       {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize"}) {
    SCOPED_TRACE(option);
    OptimizerStateDict sgd = donor_state(sgd_factory(), shapes, xg::kFloat64);
    ASSERT_EQ(sgd.tensors.erase(std::string("param_groups.0.") + option), 1u);
    expect_load_fails_and_changes_nothing(sgd_factory(), shapes, sgd, xg::kFloat64);
  }
  for (const char* option :
       {"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad", "maximize"}) {
    SCOPED_TRACE(option);
    OptimizerStateDict adam = donor_state(adam_factory(), shapes, xg::kFloat64);
    ASSERT_EQ(adam.tensors.erase(std::string("param_groups.0.") + option), 1u);
    expect_load_fails_and_changes_nothing(adam_factory(), shapes, adam, xg::kFloat64);
  }
}

// A state with one option missing and one unknown names the missing one (options.hpp: missing
// options first, in declared order, then unknown ones), and changes nothing.
TEST(OptimStateDict, MissingBeforeUnknownOption) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  OptimizerStateDict adamw = donor_state(adamw_factory(), shapes, xg::kFloat64);
  ASSERT_EQ(adamw.tensors.erase("param_groups.0.beta2"), 1u);
  adamw.tensors["param_groups.0.beta3"] =
      xg::scalar_tensor(0.5, xg::TensorOptions().dtype(xg::kFloat64));
  auto params = make_params(shapes, xg::kFloat64);
  auto opt = adamw_factory()(params);
  EXPECT_EQ(invalid_argument_message([&] { opt->load_state_dict(adamw); }),
            "AdamW: the state has no option 'beta2'");
  adamw.tensors["param_groups.0.beta2"] =
      xg::scalar_tensor(0.99, xg::TensorOptions().dtype(xg::kFloat64));
  EXPECT_EQ(invalid_argument_message([&] { opt->load_state_dict(adamw); }),
            "AdamW: the state has an unknown option 'beta3'");
  expect_load_fails_and_changes_nothing(adamw_factory(), shapes, adamw, xg::kFloat64);
}

TEST(OptimStateDict, InvalidOptionValueThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  OptimizerStateDict adam = donor_state(adam_factory(), shapes, xg::kFloat64);
  adam.tensors["param_groups.0.lr"] =
      xg::scalar_tensor(-0.1, xg::TensorOptions().dtype(xg::kFloat64));
  expect_load_fails_and_changes_nothing(adam_factory(), shapes, adam, xg::kFloat64);
}

TEST(OptimStateDict, MissingAdamStepThrows) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  OptimizerStateDict adam = donor_state(adam_factory(), shapes, xg::kFloat64);
  ASSERT_EQ(adam.tensors.erase("state.1.step"), 1u);
  expect_load_fails_and_changes_nothing(adam_factory(), shapes, adam, xg::kFloat64);
}

// A valid load really replaces the state (so the twin tests above can tell a load happened).
TEST(OptimStateDict, ValidLoadOfOtherStateChangesTrajectory) {
  const std::vector<Shape> shapes = {{2, 2}, {3}};
  auto p1 = make_params(shapes, xg::kFloat64), p2 = make_params(shapes, xg::kFloat64);
  auto o1 = adam_factory()(p1), o2 = adam_factory()(p2);
  run_steps(*o1, p1, 0, 2);
  run_steps(*o2, p2, 0, 2);
  o2->load_state_dict(donor_state(adam_factory(), shapes, xg::kFloat64));
  EXPECT_EQ(o2->param_groups()[0].options().get_lr(), 0.05 * 7);
  run_steps(*o1, p1, 2, 5);
  run_steps(*o2, p2, 2, 5);
  EXPECT_NE(values(p1[0]), values(p2[0]));
  EXPECT_NE(values(p1[1]), values(p2[1]));
}

// ================= options as a state-dict map =================

std::vector<std::string> map_keys(const std::map<std::string, double>& m) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : m) keys.push_back(key);
  return keys;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// src's to_map is `expected`, and from_map of it makes dst (other options) equal to src.
template <class Options>
void expect_round_trip(const Options& src, Options dst,
                       const std::map<std::string, double>& expected) {
  EXPECT_EQ(src.to_map(), expected);
  ASSERT_NE(dst.to_map(), expected);
  dst.from_map(src.to_map());
  EXPECT_EQ(dst.to_map(), expected);
}

TEST(OptimOptions, MapKeysAndRoundTrip) {
  // The options docs/errors.md lists under state-missing-option.
  const std::vector<std::string> sgd_keys = {"lr",           "momentum", "dampening",
                                             "weight_decay", "nesterov", "maximize"};
  const std::vector<std::string> adam_keys = {"lr",           "beta1",   "beta2",   "eps",
                                              "weight_decay", "amsgrad", "maximize"};
  EXPECT_EQ(map_keys(SGDOptions(0.1).to_map()), sorted(sgd_keys));
  EXPECT_EQ(map_keys(AdamOptions().to_map()), sorted(adam_keys));
  EXPECT_EQ(map_keys(AdamWOptions().to_map()), sorted(adam_keys));
  EXPECT_EQ(AdamOptions().to_map().at("weight_decay"), 0.0);
  EXPECT_EQ(AdamWOptions().to_map().at("weight_decay"), 1e-2);

  // Every field off its default (nesterov needs dampening 0, so dampening has its own case);
  // bools are saved as 1.
  expect_round_trip(SGDOptions(0.3).momentum(0.7).weight_decay(0.05).nesterov(true).maximize(true),
                    SGDOptions(1.0),
                    {{"lr", 0.3},
                     {"momentum", 0.7},
                     {"dampening", 0.0},
                     {"weight_decay", 0.05},
                     {"nesterov", 1.0},
                     {"maximize", 1.0}});
  SGDOptions dampened(1.0);
  dampened.from_map(SGDOptions(0.3).momentum(0.7).dampening(0.25).to_map());
  EXPECT_EQ(dampened.dampening(), 0.25);
  const std::map<std::string, double> adam = {
      {"lr", 0.02},          {"beta1", 0.8},   {"beta2", 0.95},  {"eps", 1e-6},
      {"weight_decay", 0.3}, {"amsgrad", 1.0}, {"maximize", 1.0}};
  const auto off_defaults = [](auto o) {
    return o.betas({0.8, 0.95}).eps(1e-6).weight_decay(0.3).amsgrad(true).maximize(true);
  };
  expect_round_trip(off_defaults(AdamOptions(0.02)), AdamOptions(), adam);
  expect_round_trip(off_defaults(AdamWOptions(0.02)), AdamWOptions(), adam);

  // The getters read what from_map wrote.
  AdamWOptions w;
  w.from_map(adam);
  EXPECT_EQ(w.lr(), 0.02);
  EXPECT_EQ(std::get<0>(w.betas()), 0.8);
  EXPECT_EQ(std::get<1>(w.betas()), 0.95);
  EXPECT_TRUE(w.amsgrad());
}

// ================= schedulers =================

// make_optim_reference.py's LR_LAMBDAS, with the same operations in the same order.
double cosine_factor(std::int64_t epoch, std::int64_t t, double floor) {
  const double ratio = static_cast<double>(std::min(epoch, t)) / static_cast<double>(t);
  const double coeff = 0.5 * (1.0 + std::cos(std::numbers::pi * ratio));
  return floor + coeff * (1.0 - floor);
}

const std::vector<xg::optim::LrLambda> kLrLambdas = {
    [](std::int64_t e) { return std::pow(0.95, static_cast<double>(e)); },
    [](std::int64_t e) { return 1.0 / static_cast<double>(1 + e); },
    [](std::int64_t e) { return static_cast<double>(e / 3); },
    [](std::int64_t e) { return cosine_factor(e, 8, 0.1); },
    [](std::int64_t e) { return cosine_factor(e, 1900, 0.1); },
};

std::shared_ptr<xg::optim::LRScheduler> make_one(const std::string& kind,
                                                 const std::vector<double>& a, Optimizer& opt,
                                                 bool defaults = false) {
  if (kind == "StepLR") {
    return std::make_shared<xg::optim::StepLR>(opt, static_cast<std::int64_t>(a[0]), a[1]);
  }
  if (kind == "MultiStepLR") {
    std::vector<std::int64_t> milestones;
    for (std::size_t i = 0; i + 1 < a.size(); ++i)
      milestones.push_back(static_cast<std::int64_t>(a[i]));
    return std::make_shared<xg::optim::MultiStepLR>(opt, milestones, a.back());
  }
  if (kind == "ExponentialLR") return std::make_shared<xg::optim::ExponentialLR>(opt, a[0]);
  if (kind == "CosineAnnealingLR") {
    return std::make_shared<xg::optim::CosineAnnealingLR>(opt, static_cast<std::int64_t>(a[0]),
                                                          a[1]);
  }
  if (kind == "LinearLR") {
    if (defaults) return std::make_shared<xg::optim::LinearLR>(opt);  // checks the defaults too
    return std::make_shared<xg::optim::LinearLR>(opt, a[0], a[1], static_cast<std::int64_t>(a[2]));
  }
  if (kind == "LambdaLR") {
    if (a.size() == 1) {  // the one-lambda form
      return std::make_shared<xg::optim::LambdaLR>(opt,
                                                   kLrLambdas.at(static_cast<std::size_t>(a[0])));
    }
    std::vector<xg::optim::LrLambda> fns;
    for (double i : a) fns.push_back(kLrLambdas.at(static_cast<std::size_t>(i)));
    return std::make_shared<xg::optim::LambdaLR>(opt, fns);
  }
  throw std::logic_error("unknown scheduler " + kind);
}

std::shared_ptr<xg::optim::LRScheduler> make_scheduler(const optim_ref::SchedulerCase& c,
                                                       Optimizer& opt) {
  std::vector<std::shared_ptr<xg::optim::LRScheduler>> before;
  for (const auto& b : c.before) before.push_back(make_one(b.scheduler, b.args, opt));
  if (std::string(c.scheduler) == "SequentialLR") {
    std::vector<std::int64_t> milestones;
    for (double m : c.args) milestones.push_back(static_cast<std::int64_t>(m));
    return std::make_shared<xg::optim::SequentialLR>(opt, before, milestones);
  }
  return make_one(c.scheduler, c.args, opt, std::string(c.name) == "linear_lr_default");
}

class SchedReference : public ::testing::TestWithParam<optim_ref::SchedulerCase> {};

void expect_lrs(const std::vector<double>& got, const std::vector<double>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t g = 0; g < got.size(); ++g) {
    EXPECT_NEAR(got[g], want[g], 1e-12 * std::abs(want[g]) + 1e-18) << what << ", group " << g;
  }
}

TEST_P(SchedReference, LastLrMatchesPyTorch) {
  const auto& c = GetParam();
  Tensor a = leaf({0.0}, {1}, xg::kFloat32), b = leaf({0.0}, {1}, xg::kFloat32);
  SGD opt({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(optim_ref::kSchedulerLrs[0])),
           OptimizerParamGroup({b}, std::make_unique<SGDOptions>(optim_ref::kSchedulerLrs[1]))},
          SGDOptions(optim_ref::kSchedulerLrs[0]));
  auto sched = make_scheduler(c, opt);
  ASSERT_EQ(c.last_lr.size(), c.epochs.size());
  ASSERT_EQ(c.epochs.back(), c.steps);
  std::size_t next = 0;  // the next recorded epoch
  for (int e = 0; e <= c.steps; ++e) {
    if (e > 0) sched->step();
    EXPECT_EQ(sched->last_epoch(), e);
    if (c.epochs[next] != e) continue;
    const std::string what = std::string(c.name) + ", epoch " + std::to_string(e);
    expect_lrs(sched->get_last_lr(), c.last_lr[next], what);
    // the scheduler sets every group's lr
    expect_lrs({opt.param_groups()[0].options().get_lr(), opt.param_groups()[1].options().get_lr()},
               c.last_lr[next], what + " (group options)");
    ++next;
  }
  EXPECT_EQ(next, c.epochs.size());
}

INSTANTIATE_TEST_SUITE_P(SchedRef, SchedReference, ::testing::ValuesIn(optim_ref::kSchedulerCases),
                         [](const ::testing::TestParamInfo<optim_ref::SchedulerCase>& info) {
                           return std::string(info.param.name);
                         });

TEST(Sched, LastLrAfterConstructionIsTheInitialLrs) {
  for (int kind = 0; kind < 6; ++kind) {
    SCOPED_TRACE(kind);
    Tensor a = leaf({0.0}, {1}, xg::kFloat64), b = leaf({0.0}, {1}, xg::kFloat64);
    Adam opt({OptimizerParamGroup({a}, std::make_unique<AdamOptions>(0.3)),
              OptimizerParamGroup({b}, std::make_unique<AdamOptions>(0.007))});
    std::unique_ptr<xg::optim::LRScheduler> s;
    if (kind == 0) s = std::make_unique<xg::optim::StepLR>(opt, 1);
    if (kind == 1)
      s = std::make_unique<xg::optim::MultiStepLR>(opt, std::vector<std::int64_t>{1, 4});
    if (kind == 2) s = std::make_unique<xg::optim::ExponentialLR>(opt, 0.5);
    if (kind == 3) s = std::make_unique<xg::optim::CosineAnnealingLR>(opt, 7);
    if (kind == 4) s = std::make_unique<xg::optim::LinearLR>(opt, 1.0, 0.5, 3);
    if (kind == 5) {
      s = std::make_unique<xg::optim::LambdaLR>(opt,
                                                [](std::int64_t e) { return 1.0 / (1.0 + e); });
    }
    EXPECT_EQ(s->get_last_lr(), (std::vector<double>{0.3, 0.007}));
    EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.3);
    EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.007);
    s->step();
    EXPECT_NE(opt.param_groups()[1].options().get_lr(), 0.007);
  }
}

// A step that throws (a group was added after the scheduler was made) changes nothing: not the
// step count, not a learning rate; removing the cause lets the schedule go on where it was.
TEST(Sched, StepThatThrowsChangesNothing) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64), b = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.8));
  xg::optim::ExponentialLR s(opt, 0.5);
  s.step();
  ASSERT_EQ(s.last_epoch(), 1);
  opt.add_param_group(OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.1)));
  EXPECT_THROW(s.step(), std::runtime_error);
  EXPECT_EQ(s.last_epoch(), 1);
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{0.4}));
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.4);
  EXPECT_EQ(opt.param_groups()[1].options().get_lr(), 0.1);
}

TEST(Sched, StepLRDefaultGammaIsOneTenth) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.5));
  xg::optim::StepLR s(opt, 2);
  s.step();
  EXPECT_EQ(s.get_last_lr()[0], 0.5);
  s.step();
  EXPECT_NEAR(s.get_last_lr()[0], 0.05, 1e-15);
}

// The optimizer's next step uses the lr the scheduler set.
TEST(Sched, OptimizerStepUsesScheduledLr) {
  Tensor a = leaf({1.0}, {1}, xg::kFloat64), b = leaf({1.0}, {1}, xg::kFloat64);
  SGD opt({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(0.5)),
           OptimizerParamGroup({b}, std::make_unique<SGDOptions>(0.25))},
          SGDOptions(0.5));
  xg::optim::ExponentialLR s(opt, 0.5);
  s.step();
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  EXPECT_EQ(values(a)[0], 1.0 - 0.25);
  EXPECT_EQ(values(b)[0], 1.0 - 0.125);
}

TEST(Sched, InvalidArgumentsThrow) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.5));
  invalid_argument_message([&] { xg::optim::StepLR(opt, 0); });
  invalid_argument_message([&] { xg::optim::StepLR(opt, -2); });
  invalid_argument_message([&] { xg::optim::CosineAnnealingLR(opt, 0); });
  invalid_argument_message([&] { xg::optim::LinearLR(opt, 0.0); });
  invalid_argument_message([&] { xg::optim::LinearLR(opt, 1.5); });
  invalid_argument_message([&] { xg::optim::LinearLR(opt, 0.5, 1.0, 0); });
  // a scheduler that failed to construct left the lr alone, and recorded no initial lr
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.5);
  EXPECT_FALSE(opt.param_groups()[0].has_initial_lr());
}

// The first scheduler records each group's initial lr; later ones leave it.
TEST(Sched, FirstSchedulerRecordsTheInitialLr) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.5));
  EXPECT_FALSE(opt.param_groups()[0].has_initial_lr());
  xg::optim::LinearLR warmup(opt, 0.5, 1.0, 4);
  EXPECT_TRUE(opt.param_groups()[0].has_initial_lr());
  EXPECT_EQ(opt.param_groups()[0].initial_lr(), 0.5);
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.25);
  xg::optim::ExponentialLR decay(opt, 0.5);
  EXPECT_EQ(opt.param_groups()[0].initial_lr(), 0.5);
  // a copy of the group keeps it
  const OptimizerParamGroup copy = opt.param_groups()[0];
  EXPECT_EQ(copy.initial_lr(), 0.5);
}

// LambdaLR: one lambda for every group, or one per group; the lambda sees the epoch.
TEST(Sched, LambdaLRGetsTheEpochAndPerGroupLambdas) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64), b = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(1.0)),
           OptimizerParamGroup({b}, std::make_unique<SGDOptions>(2.0))},
          SGDOptions(1.0));
  std::vector<std::int64_t> seen;
  xg::optim::LambdaLR one(opt, [&](std::int64_t e) {
    seen.push_back(e);
    return 0.5 * static_cast<double>(e + 1);
  });
  EXPECT_EQ(one.get_last_lr(), (std::vector<double>{0.5, 1.0}));
  one.step();
  EXPECT_EQ(one.get_last_lr(), (std::vector<double>{1.0, 2.0}));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 0, 1, 1}));  // once per group
  xg::optim::LambdaLR two(opt, {[](std::int64_t e) { return static_cast<double>(e); },
                                [](std::int64_t) { return 3.0; }});
  EXPECT_EQ(two.get_last_lr(), (std::vector<double>{0.0, 6.0}));  // from the initial lrs
  two.step();
  two.step();
  EXPECT_EQ(two.get_last_lr(), (std::vector<double>{2.0, 6.0}));
  EXPECT_EQ(two.last_epoch(), 2);
}

// A lambda that throws changes nothing: not the epoch, not an lr.
TEST(Sched, LambdaThatThrowsChangesNothing) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64), b = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({OptimizerParamGroup({a}, std::make_unique<SGDOptions>(1.0)),
           OptimizerParamGroup({b}, std::make_unique<SGDOptions>(2.0))},
          SGDOptions(1.0));
  xg::optim::LambdaLR s(opt, {[](std::int64_t e) { return 1.0 / static_cast<double>(e + 1); },
                              [](std::int64_t e) {
                                if (e == 2) throw std::domain_error("epoch 2");
                                return 1.0;
                              }});
  s.step();
  EXPECT_THROW(s.step(), std::domain_error);
  EXPECT_EQ(s.last_epoch(), 1);
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{0.5, 2.0}));
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), 0.5);
  // at construction too: no lr set, no initial lr recorded
  SGD fresh({leaf({0.0}, {1}, xg::kFloat64)}, SGDOptions(0.3));
  EXPECT_THROW(
      xg::optim::LambdaLR(fresh, [](std::int64_t) -> double { throw std::domain_error("no"); }),
      std::domain_error);
  EXPECT_EQ(fresh.param_groups()[0].options().get_lr(), 0.3);
  EXPECT_FALSE(fresh.param_groups()[0].has_initial_lr());
}

// SequentialLR keeps the schedulers it was given: the caller's handles see their epochs (PyTorch's
// bookkeeping: -1 until a scheduler starts, 0 at its milestone).
TEST(Sched, SequentialLRSchedulersKeepTheirOwnEpochs) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(1.0));
  auto warmup = std::make_shared<xg::optim::LinearLR>(opt, 0.5, 1.0, 2);
  auto decay = std::make_shared<xg::optim::ExponentialLR>(opt, 0.5);
  xg::optim::SequentialLR s(opt, {warmup, decay}, {2});
  EXPECT_EQ(warmup->last_epoch(), 0);
  EXPECT_EQ(decay->last_epoch(), -1);
  EXPECT_EQ(s.last_epoch(), 0);
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{0.5}));
  std::vector<double> lrs;
  for (int e = 1; e <= 4; ++e) {
    s.step();
    lrs.push_back(s.get_last_lr()[0]);
  }
  EXPECT_EQ(lrs, (std::vector<double>{0.75, 1.0, 0.5, 0.25}));
  EXPECT_EQ(warmup->last_epoch(), 1);
  EXPECT_EQ(decay->last_epoch(), 2);
  EXPECT_EQ(s.last_epoch(), 4);
  // through the base class too
  xg::optim::LRScheduler& base = s;
  base.step();
  EXPECT_EQ(base.get_last_lr(), (std::vector<double>{0.125}));
}

// The nanoGPT schedule from the library's parts, checked against its own formula: linear
// warm-up to the peak over 100 iterations, then a cosine down to min_lr at 2000.
TEST(Sched, SequentialLRBuildsNanoGptSchedule) {
  const double peak = 6e-4, min_lr = 1e-4;
  const std::int64_t warmup = 100, decay_end = 2000;
  Tensor a = leaf({0.0}, {1}, xg::kFloat32);
  AdamW opt({a}, AdamWOptions(peak));
  xg::optim::SequentialLR s(
      opt,
      {std::make_shared<xg::optim::LinearLR>(opt, 0.01, 1.0, warmup),
       std::make_shared<xg::optim::CosineAnnealingLR>(opt, decay_end - warmup, min_lr)},
      {warmup});
  for (std::int64_t it = 0; it <= decay_end; ++it) {
    if (it > 0) s.step();
    double want;
    if (it < warmup) {
      want = peak * (0.01 + 0.99 * static_cast<double>(it) / static_cast<double>(warmup));
    } else {
      const double ratio =
          static_cast<double>(it - warmup) / static_cast<double>(decay_end - warmup);
      want = min_lr + 0.5 * (1.0 + std::cos(std::numbers::pi * ratio)) * (peak - min_lr);
    }
    ASSERT_NEAR(opt.param_groups()[0].options().get_lr(), want, 1e-15) << "iteration " << it;
  }
  EXPECT_NEAR(s.get_last_lr()[0], min_lr, 1e-18);
}

TEST(Sched, SequentialLRInvalidArgumentsThrow) {
  Tensor a = leaf({0.0}, {1}, xg::kFloat64), b = leaf({0.0}, {1}, xg::kFloat64);
  SGD opt({a}, SGDOptions(0.5));
  SGD other({b}, SGDOptions(0.5));
  auto s1 = std::make_shared<xg::optim::LinearLR>(opt, 0.5, 1.0, 4);
  auto s2 = std::make_shared<xg::optim::ExponentialLR>(opt, 0.5);
  auto elsewhere = std::make_shared<xg::optim::ExponentialLR>(other, 0.5);
  const double lr = opt.param_groups()[0].options().get_lr();
  using xg::optim::SequentialLR;
  invalid_argument_message([&] { SequentialLR(opt, {s1, s2}, {}); });
  invalid_argument_message([&] { SequentialLR(opt, {s1, s2}, {2, 3}); });
  invalid_argument_message([&] { SequentialLR(opt, {}, {}); });
  invalid_argument_message([&] { SequentialLR(opt, {s1, elsewhere}, {2}); });
  invalid_argument_message([&] { SequentialLR(other, {s1, s2}, {2}); });
  invalid_argument_message([&] { SequentialLR(opt, {s1, nullptr}, {2}); });
  auto nested = std::make_shared<SequentialLR>(
      opt, std::vector<std::shared_ptr<xg::optim::LRScheduler>>{s1, s2},
      std::vector<std::int64_t>{2});
  const double nested_lr = opt.param_groups()[0].options().get_lr();
  invalid_argument_message([&] { SequentialLR(opt, {nested, s2}, {2}); });
  // a refused SequentialLR changed no epoch and no lr
  EXPECT_EQ(opt.param_groups()[0].options().get_lr(), nested_lr);
  EXPECT_EQ(s2->last_epoch(), -1);
  EXPECT_NE(lr, 0.0);
  // LambdaLR: one lambda per group, none empty
  invalid_argument_message([&] {
    xg::optim::LambdaLR(opt, std::vector<xg::optim::LrLambda>{[](std::int64_t) { return 1.0; },
                                                              [](std::int64_t) { return 1.0; }});
  });
  invalid_argument_message([&] { xg::optim::LambdaLR(opt, xg::optim::LrLambda()); });
}

}  // namespace

// PyTorch's MultiStepLR takes milestones in any order (a Counter); so does xgrad's.
TEST(SchedulerArgs, MultiStepMilestonesInAnyOrder) {
  xg::Tensor w = xg::ones({2}, xg::requires_grad());
  xg::optim::SGD opt({w}, xg::optim::SGDOptions(1.0));
  xg::optim::MultiStepLR sched(opt, {4, 1}, 0.5);
  std::vector<double> lrs;
  for (int epoch = 1; epoch <= 5; ++epoch) {
    sched.step();
    lrs.push_back(sched.get_last_lr()[0]);
  }
  // lr halves once the epoch reaches 1 and again at 4.
  EXPECT_EQ(lrs, (std::vector<double>{0.5, 0.5, 0.5, 0.25, 0.25}));
}

// A step changes the parameters in place: a graph that saved them must refuse a later
// backward, as PyTorch's does, rather than use the new values.
TEST(OptimStep, StepBumpsTheVersionSoAStaleGraphThrows) {
  for (int which = 0; which < 2; ++which) {
    xg::Tensor x = xg::tensor({1, 2}, xg::requires_grad());
    const xg::Tensor loss = (x * x).sum();
    loss.backward({}, true);
    const std::uint64_t before = x._version();
    if (which == 0) {
      xg::optim::SGD opt({x}, xg::optim::SGDOptions(0.1));
      opt.step();
    } else {
      xg::optim::AdamW opt({x}, xg::optim::AdamWOptions(0.1));
      opt.step();
    }
    EXPECT_GT(x._version(), before);
    EXPECT_THROW(loss.backward(), std::runtime_error);
  }
}
