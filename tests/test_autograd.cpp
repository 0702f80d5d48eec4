// Autograd: recording, the backward engine, memory, higher-order gradients, custom Functions and
// anomaly detection. (Seeded random graphs are gradchecked in test_random_graphs.cpp.)
// Expected values come from calculus (closed-form derivatives), never from xgrad itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;
using xg::autograd::AutogradContext;

xg::TensorOptions f64() { return xg::TensorOptions().dtype(xg::kFloat64); }
xg::TensorOptions f64g() { return f64().requires_grad(true); }

std::vector<double> values(const Tensor& t) {
  const xt::xarray<double> a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// Checks t elementwise against expected (same count), within a relative-or-absolute tolerance.
void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = values(t);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected[i], tol * std::max(1.0, std::abs(expected[i]))) << "element " << i;
  }
}

// Runs f, expecting std::runtime_error; returns its message ("" and a failure otherwise).
template <class F>
std::string runtime_error_message(F&& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected std::runtime_error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected std::runtime_error, nothing was thrown";
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// ======================================= recording =======================================

TEST(AutogradRecording, LeavesAndResults) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(x.requires_grad());
  EXPECT_EQ(x.grad_fn_name(), "");
  EXPECT_FALSE(x.grad().defined());

  Tensor y = x * 2;
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");

  // Nothing requires grad: nothing recorded, the result is a leaf (as in PyTorch).
  Tensor c = xg::tensor({4, 5, 6}, f64());
  Tensor d = c * 2 + c.exp();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.grad_fn_name(), "");

  // One input requiring grad is enough, in either position.
  EXPECT_TRUE((c + x).requires_grad());
  EXPECT_TRUE((x + c).requires_grad());
  EXPECT_TRUE(xg::matmul(c, x).requires_grad());
  EXPECT_TRUE(xg::cat({c, x}).requires_grad());
  EXPECT_TRUE(xg::where(xg::gt(c, 4.5), c, x).requires_grad());
}

TEST(AutogradRecording, GradFnNames) {
  Tensor x = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64g());
  EXPECT_EQ((x * x).grad_fn_name(), "MulBackward");
  EXPECT_EQ(x.sum().grad_fn_name(), "SumBackward");
  EXPECT_EQ(xg::sum(x, {1}).grad_fn_name(), "SumBackward");
  EXPECT_EQ(xg::log_softmax(x, 1).grad_fn_name(), "LogSoftmaxBackward");
  EXPECT_EQ(xg::exp(x).grad_fn_name(), "ExpBackward");
  EXPECT_EQ(x.clone().grad_fn_name(), "CloneBackward");
}

TEST(AutogradRecording, DetachSharesDataAndRecordsNothing) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_EQ(d.grad_fn_name(), "");
  EXPECT_FALSE((d * 2).requires_grad());

  // Shares the data: an in-place change through the detached handle shows in x. d does not
  // require grad, so this is allowed with grad mode on.
  d.add_(10);
  expect_values(x, {11, 12, 13});

  // Detaching a result cuts the graph there: only the attached path reaches x.
  Tensor y = x * x;
  Tensor z = (y.detach() * x).sum();  // d z / d x = y = x^2, with y constant
  z.backward();
  expect_values(x.grad(), {121, 144, 169});
}

TEST(AutogradRecording, CloneIsDifferentiableAndCopies) {
  Tensor x = xg::tensor({1, -2, 3}, f64g());
  Tensor y = x.clone();
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  (y * y).sum().backward();
  expect_values(x.grad(), {2, -4, 6});
  {
    xg::NoGradGuard no_grad;
    y.add_(100);  // a copy: x does not change
  }
  expect_values(x, {1, -2, 3});
  expect_values(y, {101, 98, 103});
}

TEST(AutogradRecording, RequiresGradOnALeaf) {
  Tensor x = xg::tensor({1, 2, 3}, f64());
  EXPECT_FALSE(x.requires_grad());
  EXPECT_FALSE((x * x).requires_grad());
  x.requires_grad_();
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  (x * x * x).sum().backward();
  expect_values(x.grad(), {3, 12, 27});

  x.requires_grad_(false);
  EXPECT_FALSE(x.requires_grad());
  EXPECT_FALSE((x * 2).requires_grad());

  // A computed tensor cannot stop requiring grad; an integer tensor cannot start.
  Tensor w = xg::tensor({1.0}, f64g());
  Tensor v = w * 2;
  runtime_error_message([&] { v.requires_grad_(false); });
  EXPECT_TRUE(v.requires_grad());
  Tensor i = xg::tensor({1, 2}, xg::kInt64);
  EXPECT_ANY_THROW(i.requires_grad_());
  EXPECT_FALSE(i.requires_grad());
}

TEST(AutogradRecording, RetainGradOnANonLeaf) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor h = x * 2;
  Tensor k = h + 1;
  h.retain_grad();
  EXPECT_TRUE(h.retains_grad());
  EXPECT_FALSE(k.retains_grad());
  Tensor y = (h * k).sum();  // y = sum(2x (2x + 1)); dy/dh = k + h = 4x + 1; dy/dk = h
  y.backward();
  expect_values(h.grad(), {5, 9, 13});
  EXPECT_FALSE(k.grad().defined());       // not retained
  expect_values(x.grad(), {10, 18, 26});  // dy/dx = 8x + 2
}

TEST(AutogradRecording, RetainGradAccumulatesOverBackwards) {
  Tensor x = xg::tensor({1, 2}, f64g());
  Tensor h = x * 3;
  h.retain_grad();
  Tensor y = (h * h).sum();
  y.backward({}, true);
  y.backward();
  expect_values(h.grad(), {12, 24});  // 2 * (2h) = 4h
  expect_values(x.grad(), {36, 72});
}

TEST(AutogradRecording, HookOnALeafReplacesItsGradient) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  int calls = 0;
  x.register_hook([&](const Tensor& g) {
    ++calls;
    return g * 2;
  });
  (x * x).sum().backward();
  EXPECT_EQ(calls, 1);
  expect_values(x.grad(), {4, 8, 12});  // 2 * 2x
}

// The graph keeps a leaf alive, as PyTorch's AccumulateGrad holds its variable: a leaf whose
// last handle is gone before backward still gets its gradient (its hook sees it), and a leaf
// recorded again after a backward accumulates into the same .grad.
TEST(AutogradRecording, TheGraphKeepsALeafAliveAfterItsHandleIsGone) {
  Tensor seen;
  Tensor y;
  {
    Tensor w = xg::tensor({1, 2, 3}, f64g());
    w.register_hook([&](const Tensor& g) {
      seen = g.clone();
      return Tensor();
    });
    y = (w * w).sum();
  }
  y.backward();
  ASSERT_TRUE(seen.defined());
  expect_values(seen, {2, 4, 6});  // d/dw sum w^2 = 2w

  Tensor x = xg::tensor({1, 2}, f64g());
  for (int i = 0; i < 3; ++i) (x * x * x).sum().backward();
  expect_values(x.grad(), {9, 36});  // three passes of 3x^2
}

// queue_callback, from a leaf's hook: the callbacks run once backward has accumulated every
// leaf's .grad (the other leaf's included, whose hook runs later), in the order queued, one
// queued by another too; the next backward starts with none.
TEST(AutogradRecording, QueuedCallbacksRunAfterEveryGradIsAccumulated) {
  Tensor a = xg::tensor({1, 2}, f64g());
  Tensor b = xg::tensor({3, 4}, f64g());
  std::vector<std::string> log;
  a.register_hook([&](const Tensor&) {
    xg::autograd::queue_callback([&] {
      log.push_back("first: a.grad " + std::to_string(a.grad().sum().item()) + ", b.grad " +
                    std::to_string(b.grad().sum().item()));
      xg::autograd::queue_callback([&] { log.push_back("queued by the first"); });
    });
    xg::autograd::queue_callback([&] { log.push_back("second"); });
    return Tensor();
  });
  (a * b).sum().backward();  // a.grad = b (sum 7), b.grad = a (sum 3)
  EXPECT_EQ(log, (std::vector<std::string>{"first: a.grad 7.000000, b.grad 3.000000", "second",
                                           "queued by the first"}));
  log.clear();
  (b * 2).sum().backward();  // a is not in this graph: its hook does not run, nothing queued
  EXPECT_TRUE(log.empty());
  EXPECT_THROW(xg::autograd::queue_callback([] {}), std::logic_error);
}

TEST(AutogradRecording, HookOnANonLeafChangesWhatFlowsBack) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor h = x * 3;
  h.register_hook([](const Tensor& g) { return g * 2; });
  (h * h).sum().backward();  // dy/dh = 2h = 6x, doubled 12x, times dh/dx = 3: 36x
  expect_values(x.grad(), {36, 72, 108});
}

TEST(AutogradRecording, HookReturningUndefinedKeepsTheGradient) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor h = x * 3;
  std::vector<double> seen_leaf;
  std::vector<double> seen_mid;
  x.register_hook([&](const Tensor& g) {
    seen_leaf = values(g);
    return Tensor();
  });
  h.register_hook([&](const Tensor& g) {
    seen_mid = values(g);
    return Tensor();
  });
  (h * h).sum().backward();
  EXPECT_EQ(seen_mid, (std::vector<double>{6, 12, 18}));
  EXPECT_EQ(seen_leaf, (std::vector<double>{18, 36, 54}));
  expect_values(x.grad(), {18, 36, 54});
}

TEST(AutogradRecording, HookNeedsATensorThatRequiresGrad) {
  Tensor c = xg::tensor({1, 2}, f64());
  runtime_error_message([&] { c.register_hook([](const Tensor& g) { return g; }); });
}

TEST(AutogradGradMode, NoGradGuardRecordsNothingAndRestores) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  EXPECT_TRUE(xg::GradMode::is_enabled());
  {
    xg::NoGradGuard no_grad;
    EXPECT_FALSE(xg::GradMode::is_enabled());
    Tensor y = x * 2 + x.exp();
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EXPECT_EQ(y.grad_fn_name(), "");
    {
      xg::NoGradGuard nested;
      EXPECT_FALSE(xg::GradMode::is_enabled());
    }
    EXPECT_FALSE(xg::GradMode::is_enabled());  // the inner guard restores "off", not "on"
  }
  EXPECT_TRUE(xg::GradMode::is_enabled());
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(AutogradGradMode, SetEnabled) {
  xg::GradMode::set_enabled(false);
  EXPECT_FALSE(xg::GradMode::is_enabled());
  Tensor x = xg::tensor({1.0}, f64g());
  const bool recorded = (x * 2).requires_grad();
  xg::GradMode::set_enabled(true);
  EXPECT_FALSE(recorded);
  EXPECT_TRUE(xg::GradMode::is_enabled());
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(AutogradGradMode, IsThreadLocal) {
  Tensor x = xg::tensor({1, 2}, f64g());
  {
    xg::NoGradGuard no_grad;
    bool enabled_in_thread = false;
    bool recorded_in_thread = false;
    std::thread worker([&] {
      enabled_in_thread = xg::GradMode::is_enabled();
      recorded_in_thread = (x * 2).requires_grad();
    });
    worker.join();
    EXPECT_TRUE(enabled_in_thread);
    EXPECT_TRUE(recorded_in_thread);
    EXPECT_FALSE(xg::GradMode::is_enabled());
  }
  // A guard in another thread does not turn recording off here.
  bool off_in_thread = true;
  std::thread worker([&] {
    xg::NoGradGuard no_grad;
    off_in_thread = !xg::GradMode::is_enabled();
  });
  worker.join();
  EXPECT_TRUE(off_in_thread);
  EXPECT_TRUE(xg::GradMode::is_enabled());
}

// ======================================== engine ========================================

TEST(AutogradEngine, NodeFeedingSeveralOthers) {
  Tensor x = xg::tensor({-1, 0.5, 2}, f64g());
  Tensor y = (x * x + x * 3).sum();  // dy/dx = 2x + 3
  y.backward();
  expect_values(x.grad(), {1, 4, 7});
}

// The gradients of several views of one tensor (split's pieces, overlapping narrows, a select)
// meet in that tensor's gradient: the engine adds each into the part its view covers. Values
// from calculus: y = sum(w0 a0 + w1 a1^2 + w2 a2) over split(u, 2) of u = 3x, plus the overlap
// and the select terms below.
TEST(AutogradEngine, GradientsOfViewsOfOneTensorMeet) {
  Tensor x = xg::tensor({1, 2, 3, 4, 5, 6}, f64g());
  const Tensor u = x * 3;  // a non-leaf base: its node receives the views' gradients
  const std::vector<Tensor> pieces = xg::split(u, 2);
  Tensor y = (pieces[0] * 2).sum() + (pieces[1] * pieces[1]).sum() + (pieces[2] * -1).sum();
  y = y + u.narrow(0, 1, 3).sum() + u.narrow(0, 2, 3).sum() * 10 + u.select(0, 5) * 7;
  y.backward();
  // du: pieces 2, 2, 2 u2, 2 u3, -1, -1; narrow(1, 3) adds 1 to u1..u3; narrow(2, 3) adds 10 to
  // u2..u4; select(5) adds 7 to u5; dy/dx = 3 du, with u = 3x.
  const std::vector<double> du = {2, 2 + 1, 2 * 9 + 1 + 10, 2 * 12 + 1 + 10, -1 + 10, -1 + 7};
  std::vector<double> expected;
  for (double d : du) expected.push_back(3 * d);
  expect_values(x.grad(), expected);
  // The same sum with a graph recorded for double backward, where every gradient is built as a
  // differentiable op: the same values.
  Tensor x2 = xg::tensor({1, 2, 3, 4, 5, 6}, f64g());
  const Tensor u2 = x2 * 3;
  const std::vector<Tensor> p2 = xg::split(u2, 2);
  Tensor y2 = (p2[0] * 2).sum() + (p2[1] * p2[1]).sum() + (p2[2] * -1).sum();
  y2 = y2 + u2.narrow(0, 1, 3).sum() + u2.narrow(0, 2, 3).sum() * 10 + u2.select(0, 5) * 7;
  const auto g = xg::autograd::grad({y2}, {x2}, {}, true, true);
  expect_values(g[0], expected);
}

TEST(AutogradEngine, DiamondGraph) {
  // a = e^x feeds b = 2a and c = sin(a); y = sum(b c) = sum(2 e^x sin(e^x)).
  // dy/dx = 2 e^x sin(e^x) + 2 e^x cos(e^x) e^x.
  const std::vector<double> xs = {-0.7, 0.1, 0.9};
  Tensor x = xg::tensor(xs, f64g());
  Tensor a = x.exp();
  Tensor b = a * 2;
  Tensor c = a.sin();
  (b * c).sum().backward();
  std::vector<double> expected;
  for (double v : xs) {
    const double e = std::exp(v);
    expected.push_back(2 * e * std::sin(e) + 2 * e * std::cos(e) * e);
  }
  expect_values(x.grad(), expected);
}

TEST(AutogradEngine, DeepDiamondsAndTwoLeaves) {
  // u = x w, then 4 stacked diamonds v -> (v + v * v): each maps v to v + v^2.
  Tensor x = xg::scalar_tensor(0.3, f64g());
  Tensor w = xg::scalar_tensor(-0.4, f64g());
  Tensor v = x * w;
  for (int i = 0; i < 4; ++i) v = v + v * v;
  v.backward();
  double u = 0.3 * -0.4;
  double dv_du = 1;
  for (int i = 0; i < 4; ++i) {
    dv_du *= 1 + 2 * u;
    u = u + u * u;
  }
  EXPECT_NEAR(v.item(), u, 1e-15);
  EXPECT_NEAR(x.grad().item(), dv_du * -0.4, 1e-14);
  EXPECT_NEAR(w.grad().item(), dv_du * 0.3, 1e-14);
}

TEST(AutogradEngine, GradientsAccumulateAcrossBackwards) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  (x * x).sum().backward();
  expect_values(x.grad(), {2, 4, 6});
  (x * 5).sum().backward();
  expect_values(x.grad(), {7, 9, 11});
}

TEST(AutogradEngine, DotGradIsAPlainTensor) {
  Tensor x = xg::tensor({1, 2}, f64g());
  (x * x).sum().backward();
  EXPECT_FALSE(x.grad().requires_grad());
  EXPECT_TRUE(x.grad().is_leaf());
  EXPECT_EQ(x.grad().dtype(), xg::kFloat64);
}

TEST(AutogradEngine, DotGradDoesNotAliasTheGivenGradient) {
  // add passes its gradient through unchanged, so the seed itself reaches x's accumulator; .grad
  // must be a copy, or the next accumulation would change the caller's tensor.
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  const Tensor c = xg::tensor({5, 5, 5}, f64());
  const Tensor seed = xg::tensor({1, 2, 3}, f64());
  (x + c).backward(seed);
  (x + c).backward(seed);
  expect_values(seed, {1, 2, 3});
  expect_values(x.grad(), {2, 4, 6});
  {
    xg::NoGradGuard no_grad;
    x.grad().zero_();
  }
  expect_values(seed, {1, 2, 3});
}

TEST(AutogradEngine, DotGradFromCreateGraphDoesNotAliasTheGivenGradient) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  const Tensor c = xg::tensor({5, 5, 5}, f64());
  const Tensor seed = xg::tensor({1, 2, 3}, f64());
  (x + c).backward(seed, std::nullopt, /*create_graph=*/true);
  (x * 2).sum().backward();  // accumulates 2 into .grad
  expect_values(seed, {1, 2, 3});
  expect_values(x.grad(), {3, 4, 5});
}

TEST(AutogradEngine, ResettingGrads) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  (x * x).sum().backward();
  x.mutable_grad() = Tensor();
  EXPECT_FALSE(x.grad().defined());
  (x * x).sum().backward();
  expect_values(x.grad(), {2, 4, 6});

  {
    xg::NoGradGuard no_grad;
    x.grad().zero_();  // grad() shares the .grad tensor
  }
  expect_values(x.grad(), {0, 0, 0});
  (x * x * x).sum().backward();
  expect_values(x.grad(), {3, 12, 27});
}

TEST(AutogradEngine, SecondBackwardWithoutRetainGraphThrows) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = (x * x).sum();
  y.backward();
  const std::string msg = runtime_error_message([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "retain_graph")) << msg;
  expect_values(x.grad(), {2, 4, 6});  // unchanged by the failed call
}

TEST(AutogradEngine, RetainGraphAllowsASecondBackward) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = (x * x.exp()).sum();
  y.backward({}, true);
  std::vector<double> once;
  for (double v : {1.0, 2.0, 3.0}) once.push_back(std::exp(v) * (1 + v));
  expect_values(x.grad(), once);
  y.backward();  // retain_graph defaults to false: the graph is freed after this one
  std::vector<double> twice;
  for (double v : once) twice.push_back(2 * v);
  expect_values(x.grad(), twice);
  const std::string msg = runtime_error_message([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "retain_graph")) << msg;
}

TEST(AutogradEngine, NonScalarBackwardNeedsAGradient) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = x * 2;
  runtime_error_message([&] { y.backward(); });
  EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradEngine, ExplicitGradientForANonScalarOutput) {
  Tensor x = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64g());
  Tensor y = x * x;
  y.backward(xg::tensor({1, 0, -1, 2, 0.5, 3}, {2, 3}, f64()));
  expect_values(x.grad(), {2, 0, -6, 16, 5, 36});
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));

  // A gradient of the wrong shape is an error.
  Tensor z = x * 3;
  EXPECT_ANY_THROW(z.backward(xg::ones({3, 2}, f64())));
}

TEST(AutogradEngine, OneElementNonZeroDimOutputNeedsNoGradient) {
  Tensor x = xg::tensor({2.0}, f64g());
  (x * x).backward();  // shape [1]: one element, like PyTorch
  expect_values(x.grad(), {4});
}

TEST(AutogradEngine, BackwardOfATensorWithoutGraphThrows) {
  Tensor c = xg::tensor({1, 2}, f64());
  runtime_error_message([&] { c.sum().backward(); });
}

TEST(AutogradEngine, SeveralRoots) {
  Tensor x = xg::tensor({1, 2}, f64g());
  Tensor y1 = (x * x).sum();
  Tensor y2 = (x * 3).sum();
  xg::autograd::backward({y1, y2});
  expect_values(x.grad(), {5, 7});
}

TEST(AutogradEngine, BroadcastGradientsAreSummedToTheInputShape) {
  Tensor a = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64g());
  Tensor b = xg::tensor({10, 20, 30}, f64g());
  (a * b).sum().backward();
  EXPECT_EQ(b.grad().shape(), (Shape{3}));
  expect_values(b.grad(), {5, 7, 9});
  expect_values(a.grad(), {10, 20, 30, 10, 20, 30});

  Tensor col = xg::tensor({1, 2}, {2, 1}, f64g());
  Tensor row = xg::tensor({3, 4, 5}, {1, 3}, f64g());
  Tensor s = xg::scalar_tensor(2.0, f64g());
  (col * row * s).sum().backward();
  EXPECT_EQ(col.grad().shape(), (Shape{2, 1}));
  EXPECT_EQ(row.grad().shape(), (Shape{1, 3}));
  EXPECT_EQ(s.grad().shape(), (Shape{}));
  expect_values(col.grad(), {24, 24});   // s * (3 + 4 + 5)
  expect_values(row.grad(), {6, 6, 6});  // s * (1 + 2)
  expect_values(s.grad(), {36});         // (1 + 2) (3 + 4 + 5)
}

TEST(AutogradEngine, GradientsHaveTheLeafDtype) {
  Tensor x32 = xg::tensor({1, 2}, xg::requires_grad());
  Tensor w64 = xg::tensor({0.5, -0.25}, f64g());
  Tensor y = (x32 * w64).sum();
  EXPECT_EQ(y.dtype(), xg::kFloat64);
  y.backward();
  EXPECT_EQ(x32.grad().dtype(), xg::kFloat32);
  EXPECT_EQ(w64.grad().dtype(), xg::kFloat64);
  expect_values(x32.grad(), {0.5, -0.25});
  expect_values(w64.grad(), {1, 2});

  Tensor z = xg::tensor({1, 2}, f64g());
  (z.to(xg::kFloat32) * 3).sum().backward();
  EXPECT_EQ(z.grad().dtype(), xg::kFloat64);
  expect_values(z.grad(), {3, 3});
}

TEST(AutogradEngine, InPlaceOnATensorThatRequiresGradThrows) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  const Tensor other = xg::tensor({1, 1, 1}, f64());
  const std::vector<std::function<void()>> ops = {
      [&] { x.add_(other); }, [&] { x.add_(1); },  [&] { x.sub_(other); },  [&] { x.sub_(1); },
      [&] { x.mul_(other); }, [&] { x.mul_(2); },  [&] { x.div_(other); },  [&] { x.div_(2); },
      [&] { x.zero_(); },     [&] { x.fill_(7); }, [&] { x.copy_(other); }, [&] { x += other; },
      [&] { x -= 1; },        [&] { x *= 2; },     [&] { x /= other; },
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    SCOPED_TRACE("in-place op #" + std::to_string(i));
    runtime_error_message(ops[i]);
    expect_values(x, {1, 2, 3});  // a failed call changes nothing
  }
}

// As PyTorch: an op's result can change in place; the change is recorded. Expected gradients
// by hand: y = 2x, then y <- y + 1, y <- y * y, so d sum(y)/dx = 2 (2x + 1) * 2.
TEST(AutogradEngine, InPlaceOnAComputedTensorIsRecorded) {
  const Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = x * 2;
  y.add_(1);
  EXPECT_EQ(y.grad_fn_name(), "AddBackward");
  y.mul_(y);
  expect_values(y, {9, 25, 49});
  y.sum().backward();
  expect_values(x.grad(), {12, 20, 28});
  // A buffer that needs no grad becomes part of the graph when an operand needs one.
  Tensor buf = xg::zeros({3}, f64());
  const Tensor w = xg::tensor({1, 2, 3}, f64g());
  buf.add_(w, 3);
  EXPECT_TRUE(buf.requires_grad());
  EXPECT_FALSE(buf.is_leaf());
  (buf * buf).sum().backward();  // d/dw sum((3w)^2) = 18 w
  expect_values(w.grad(), {18, 36, 54});
}

// PyTorch's CopySlices: an in-place op on a view rewrites its base's history. y = 2x (2x3);
// y[:, 0] *= 3 (through a view); the gradient of sum(y) is 6 in column 0 and 2 elsewhere.
TEST(AutogradEngine, InPlaceOnAViewRewritesTheBasesHistory) {
  const Tensor x = xg::ones({2, 3}, f64g());
  Tensor y = x * 2;
  Tensor col = y.select(1, 0);
  col.mul_(3);
  EXPECT_EQ(y.grad_fn_name(), "CopySlices");
  expect_values(y, {6, 2, 2, 6, 2, 2});
  y.sum().backward();
  expect_values(x.grad(), {6, 2, 2, 6, 2, 2});
  // The view itself is seen through the base's new history.
  x.mutable_grad() = {};
  Tensor z = x * 2;
  Tensor row = z.narrow(0, 1, 1);
  z.select(1, 2).add_(10);  // another view of z changes it
  row.sum().backward();     // row reads z after the change: gradient 2 on row 1
  expect_values(x.grad(), {0, 0, 0, 2, 2, 2});
  // A view of a leaf that requires grad cannot change in place while grad mode is on.
  runtime_error_message([&] { x.select(0, 0).mul_(2); });
  expect_values(x, {1, 1, 1, 1, 1, 1});
}

// d(w * x)/dw reads x only: changing w in place after the forward (an optimizer step, say)
// leaves that backward valid, as in PyTorch, for a broadcast one-element w too.
TEST(AutogradEngine, MulBackwardReadsOnlyTheOtherFactor) {
  for (const Shape& w_shape : {Shape{}, Shape{1}, Shape{3}}) {
    Tensor w = xg::full(w_shape, 2.0, f64g());
    const Tensor x = xg::tensor({1.0, 2.0, 3.0}, f64());
    const Tensor y = (w * x).sum();
    {
      xg::NoGradGuard no_grad;
      w.add_(1.0);
    }
    y.backward();
    const double sum_x = 6.0;
    expect_values(w.grad(), w_shape.empty() || w_shape[0] == 1 ? std::vector<double>{sum_x}
                                                               : std::vector<double>{1, 2, 3});
  }
}

TEST(AutogradEngine, InPlaceUnderNoGradGuardWorks) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  (x * x).sum().backward();
  {
    xg::NoGradGuard no_grad;
    x.sub_(x.grad(), 0.5);  // an SGD step: x - 0.5 * 2x = 0
    x.add_(1);
  }
  expect_values(x, {1, 1, 1});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(x.requires_grad());
  x.mutable_grad() = Tensor();
  (x * x * x).sum().backward();
  expect_values(x.grad(), {3, 3, 3});

  // A tensor that does not require grad may change in place with grad mode on.
  Tensor c = xg::tensor({1, 2}, f64());
  c.mul_(3);
  expect_values(c, {3, 6});
}

TEST(AutogradEngine, ChangingASavedInputInPlaceIsAnErrorNamingTheOp) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = (x * x).sum();
  x.detach().add_(1);  // changes the data mul saved
  const std::string msg = runtime_error_message([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "MulBackward") || contains(msg, "mul")) << msg;
}

TEST(AutogradEngine, ChangingASavedConstantInPlaceIsAnError) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor c = xg::tensor({4, 5, 6}, f64());
  Tensor y = (x * c).sum();  // d/dx needs c
  {
    xg::NoGradGuard no_grad;
    c.add_(1);
  }
  const std::string msg = runtime_error_message([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "MulBackward") || contains(msg, "mul")) << msg;
}

TEST(AutogradEngine, ChangingASavedOutputInPlaceIsAnError) {
  Tensor x = xg::tensor({0.5, 1}, f64g());
  Tensor y = x.exp();  // exp's backward reads its output
  Tensor z = y.sum();
  {
    xg::NoGradGuard no_grad;
    y.mul_(2);
  }
  const std::string msg = runtime_error_message([&] { z.backward(); });
  EXPECT_TRUE(contains(msg, "ExpBackward") || contains(msg, "exp")) << msg;
}

TEST(AutogradEngine, ChangingATensorBackwardDoesNotNeedIsFine) {
  // add's backward needs neither input (as in PyTorch), so changing c before backward is fine.
  Tensor x = xg::tensor({1, 2}, f64g());
  Tensor c = xg::tensor({4, 5}, f64());
  Tensor y = (x + c).sum();
  c.add_(1);
  y.backward();
  expect_values(x.grad(), {1, 1});
}

// ======================================== memory ========================================

TEST(AutogradMemory, MillionOpChain) {
  using clock = std::chrono::steady_clock;
  const auto ms = [](clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  constexpr int kSteps = 1000000;
  Tensor p = xg::scalar_tensor(1.0, f64g());
  const auto t0 = clock::now();
  Tensor v = p;
  for (int i = 0; i < kSteps; ++i) v = v * 1.0001 + 0.0001;
  const auto t1 = clock::now();
  v.backward();
  const auto t2 = clock::now();
  // v_n + 1 = 1.0001^n (v_0 + 1), so v_n = 2 * 1.0001^n - 1 and dv_n/dp = 1.0001^n.
  const double expected = std::pow(1.0001, kSteps);
  const double value = v.item();
  v = Tensor();  // destroys the graph: 2,000,000 nodes
  const auto t3 = clock::now();
  ASSERT_TRUE(p.grad().defined());
  EXPECT_NEAR(p.grad().item() / expected, 1.0, 1e-9);
  EXPECT_NEAR(value / (2 * expected - 1), 1.0, 1e-9);
  RecordProperty("build_ms", std::to_string(ms(t1 - t0)));
  RecordProperty("backward_ms", std::to_string(ms(t2 - t1)));
  RecordProperty("destroy_ms", std::to_string(ms(t3 - t2)));
}

TEST(AutogradMemory, MillionOpChainDestroyedWithoutBackward) {
  using clock = std::chrono::steady_clock;
  Tensor p = xg::scalar_tensor(0.5, f64g());
  Tensor v = p;
  for (int i = 0; i < 1000000; ++i) v = (v * 0.5).sin();  // saves inputs along the way
  EXPECT_TRUE(v.requires_grad());
  const auto t0 = clock::now();
  v = Tensor();
  const auto t1 = clock::now();
  RecordProperty("destroy_unused_ms",
                 std::to_string(std::chrono::duration<double, std::milli>(t1 - t0).count()));
  EXPECT_FALSE(p.grad().defined());
}

TEST(AutogradMemory, GraphIsFreedWithItsTensors) {
  std::weak_ptr<xg::detail::TensorImpl> leaf, mid, out;
  {
    Tensor x = xg::tensor({1, 2, 3}, f64g());
    leaf = x.impl();
    {
      Tensor h = x * x;
      mid = h.impl();
      Tensor y = h.sum();
      out = y.impl();
      y.backward();
    }
    EXPECT_TRUE(mid.expired());
    EXPECT_TRUE(out.expired());
    expect_values(x.grad(), {2, 4, 6});
    {
      Tensor unused = (x.exp() * x).sum();  // built, never run
    }
  }
  EXPECT_TRUE(leaf.expired());  // nothing in any graph kept the leaf alive
}

TEST(AutogradMemory, NodesDoNotOwnTheirOutputs) {
  // exp, tanh and sigmoid read their output in backward; they must keep its data, not the
  // tensor (that would be a cycle: tensor -> grad_fn -> tensor).
  Tensor x = xg::tensor({0.1, 0.2}, f64g());
  const std::vector<std::function<Tensor(const Tensor&)>> ops = {
      [](const Tensor& t) { return xg::exp(t); },
      [](const Tensor& t) { return xg::tanh(t); },
      [](const Tensor& t) { return xg::sigmoid(t); },
      [](const Tensor& t) { return xg::softmax(t, 0); },
      [](const Tensor& t) { return xg::log_softmax(t, 0); },
      [](const Tensor& t) { return xg::sqrt(t); },
      [](const Tensor& t) { return xg::rsqrt(t); },
  };
  for (std::size_t i = 0; i < ops.size(); ++i) {
    std::weak_ptr<xg::detail::TensorImpl> w;
    {
      Tensor y = ops[i](x);
      EXPECT_TRUE(y.requires_grad());
      w = y.impl();
    }
    EXPECT_TRUE(w.expired()) << "op #" << i;
  }
}

TEST(AutogradMemory, SavedOutputStillWorksAfterTheHandleIsGone) {
  Tensor x = xg::tensor({0.1, 0.2}, f64g());
  Tensor z;
  {
    Tensor y = x.exp();
    z = y.sum();
  }
  z.backward();
  expect_values(x.grad(), {std::exp(0.1), std::exp(0.2)});
}

// ===================================== higher order =====================================

TEST(AutogradHigherOrder, SecondDerivativeOfCube) {
  const std::vector<double> xs = {-2, -0.5, 0, 1, 3};
  for (int form = 0; form < 2; ++form) {
    SCOPED_TRACE(form == 0 ? "pow(x, 3)" : "x * x * x");
    Tensor x = xg::tensor(xs, f64g());
    Tensor y = (form == 0 ? xg::pow(x, 3) : x * x * x).sum();
    auto g = xg::autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true);
    ASSERT_EQ(g.size(), 1u);
    std::vector<double> first, second;
    for (double v : xs) {
      first.push_back(3 * v * v);
      second.push_back(6 * v);
    }
    expect_values(g[0], first);
    EXPECT_TRUE(g[0].requires_grad());
    auto h = xg::autograd::grad({g[0].sum()}, {x}, {}, std::nullopt, true);
    expect_values(h[0], second);
    auto third = xg::autograd::grad({h[0].sum()}, {x});
    expect_values(third[0], {6, 6, 6, 6, 6});
    EXPECT_FALSE(third[0].requires_grad());
    EXPECT_FALSE(x.grad().defined());
  }
}

TEST(AutogradHigherOrder, SecondDerivativesOfElementwiseOps) {
  // d2/dx2 of several functions at a few points, against closed forms.
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    std::function<double(double)> d2;
  };
  const std::vector<Case> cases = {
      {"exp", [](const Tensor& t) { return xg::exp(t); }, [](double v) { return std::exp(v); }},
      {"sin", [](const Tensor& t) { return xg::sin(t); }, [](double v) { return -std::sin(v); }},
      {"tanh", [](const Tensor& t) { return xg::tanh(t); },
       [](double v) {
         const double th = std::tanh(v);
         return -2 * th * (1 - th * th);
       }},
      {"log", [](const Tensor& t) { return xg::log(t); }, [](double v) { return -1 / (v * v); }},
      {"sqrt", [](const Tensor& t) { return xg::sqrt(t); },
       [](double v) { return -0.25 * std::pow(v, -1.5); }},
      {"sigmoid", [](const Tensor& t) { return xg::sigmoid(t); },
       [](double v) {
         const double s = 1 / (1 + std::exp(-v));
         return s * (1 - s) * (1 - 2 * s);
       }},
      {"pow2.5", [](const Tensor& t) { return xg::pow(t, 2.5); },
       [](double v) { return 2.5 * 1.5 * std::pow(v, 0.5); }},
      {"reciprocal", [](const Tensor& t) { return 1.0 / t; },
       [](double v) { return 2 / (v * v * v); }},
  };
  const std::vector<double> xs = {0.3, 1.1, 2.5};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x = xg::tensor(xs, f64g());
    auto g = xg::autograd::grad({c.f(x).sum()}, {x}, {}, std::nullopt, true);
    auto h = xg::autograd::grad({g[0].sum()}, {x});
    std::vector<double> expected;
    for (double v : xs) expected.push_back(c.d2(v));
    expect_values(h[0], expected, 1e-10);
  }
}

// f(w1, w2) = sum(tanh(x @ w1) @ w2), for fixed x.
Tensor two_layer(const Tensor& x, const Tensor& w1, const Tensor& w2) {
  return xg::matmul(xg::tanh(xg::matmul(x, w1)), w2).sum();
}

TEST(AutogradHigherOrder, HessianVectorProductMatchesFiniteDifferences) {
  xg::manual_seed(42);
  const Tensor x = xg::randn({4, 3}, f64());
  Tensor w1 = xg::randn({3, 5}, f64g());
  Tensor w2 = xg::randn({5, 2}, f64g());
  const Tensor v1 = xg::randn({3, 5}, f64());
  const Tensor v2 = xg::randn({5, 2}, f64());

  auto g = xg::autograd::grad({two_layer(x, w1, w2)}, {w1, w2}, {}, std::nullopt, true);
  Tensor gv = (g[0] * v1).sum() + (g[1] * v2).sum();
  auto hv = xg::autograd::grad({gv}, {w1, w2});

  // (grad f(w + h v) - grad f(w - h v)) / 2h
  const double h = 1e-4;
  auto grad_at = [&](double sign) {
    Tensor a = (w1.detach() + v1 * (sign * h)).requires_grad_();
    Tensor b = (w2.detach() + v2 * (sign * h)).requires_grad_();
    return xg::autograd::grad({two_layer(x, a, b)}, {a, b});
  };
  const auto plus = grad_at(1);
  const auto minus = grad_at(-1);
  double largest = 0;
  for (int k = 0; k < 2; ++k) {
    const std::vector<double> analytic = values(hv[k]);
    const std::vector<double> p = values(plus[k]);
    const std::vector<double> m = values(minus[k]);
    ASSERT_EQ(analytic.size(), p.size());
    for (std::size_t i = 0; i < p.size(); ++i) {
      EXPECT_NEAR(analytic[i], (p[i] - m[i]) / (2 * h), 1e-6) << "w" << k + 1 << " element " << i;
      largest = std::max(largest, std::abs(analytic[i]));
    }
  }
  EXPECT_GT(largest, 1e-2);  // a real, non-trivial curvature was compared
  EXPECT_FALSE(w1.grad().defined());
  EXPECT_FALSE(w2.grad().defined());
}

TEST(AutogradHigherOrder, GradLeavesDotGradUntouched) {
  Tensor x = xg::tensor({1, 2}, f64g());
  auto g = xg::autograd::grad({(x * x).sum()}, {x});
  expect_values(g[0], {2, 4});
  EXPECT_FALSE(g[0].requires_grad());
  EXPECT_FALSE(x.grad().defined());

  (x * 3).sum().backward();
  auto g2 = xg::autograd::grad({(x * x * x).sum()}, {x});
  expect_values(g2[0], {3, 12});
  expect_values(x.grad(), {3, 3});
}

TEST(AutogradHigherOrder, GradWithRespectToAnIntermediate) {
  Tensor x = xg::tensor({1, 2}, f64g());
  Tensor h = x * 3;
  Tensor y = (h * h).sum();
  auto g = xg::autograd::grad({y}, {h, x});
  expect_values(g[0], {6, 12});   // 2h
  expect_values(g[1], {18, 36});  // 18x
  EXPECT_FALSE(h.grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

TEST(AutogradHigherOrder, GradOutputsAndSeveralOutputs) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  auto g = xg::autograd::grad({x * x}, {x}, {xg::tensor({1, 2, 3}, f64())});
  expect_values(g[0], {2, 8, 18});
  auto g2 = xg::autograd::grad({(x * x).sum(), (x * 2).sum()}, {x});
  expect_values(g2[0], {4, 6, 8});
}

TEST(AutogradHigherOrder, AllowUnused) {
  Tensor x = xg::tensor({1, 2}, f64g());
  Tensor unused = xg::tensor({5, 6}, f64g());
  Tensor y = (x * 2).sum();
  runtime_error_message([&] { xg::autograd::grad({y}, {x, unused}, {}, true); });
  auto g = xg::autograd::grad({y}, {x, unused}, {}, std::nullopt, false, /*allow_unused=*/true);
  ASSERT_EQ(g.size(), 2u);
  expect_values(g[0], {2, 2});
  EXPECT_FALSE(g[1].defined());
}

TEST(AutogradHigherOrder, BackwardWithCreateGraph) {
  Tensor x = xg::tensor({1, 2}, f64g());
  (x * x * x).sum().backward({}, std::nullopt, /*create_graph=*/true);
  expect_values(x.grad(), {3, 12});
  EXPECT_TRUE(x.grad().requires_grad());
  auto h = xg::autograd::grad({x.grad().sum()}, {x});
  expect_values(h[0], {6, 12});
  // x.grad's graph saves x, so x and its gradient hold each other, as in PyTorch (whose
  // backward() documentation warns of this cycle). Clearing the gradient frees both;
  // LeakSanitizer checks that it does.
  x.mutable_grad() = Tensor();
}

// ==================================== custom Function ====================================

}  // namespace

// At namespace scope so that the node is named after the struct alone.
struct LegendrePolynomial3 : xg::autograd::Function<LegendrePolynomial3> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return 0.5 * (5 * xg::pow(x, 3) - 3 * x);
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_output) {
    const Tensor x = ctx->get_saved_variables()[0];
    return {grad_output[0] * 1.5 * (5 * xg::pow(x, 2) - 1)};
  }
};

struct ScaleBy : xg::autograd::Function<ScaleBy> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double k) {
    ctx->saved_data["k"] = k;
    ctx->saved_data["shape"] = x.shape();
    ctx->saved_data["tag"] = "scale";
    ctx->saved_data["n"] = static_cast<std::int64_t>(x.numel());
    return x * k;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_output) {
    const double k = ctx->saved_data["k"].toDouble();
    EXPECT_EQ(ctx->saved_data["shape"].toIntVector(), grad_output[0].shape());
    EXPECT_EQ(ctx->saved_data["tag"].toStringRef(), "scale");
    EXPECT_EQ(ctx->saved_data["n"].toInt(), grad_output[0].numel());
    return {grad_output[0] * k, Tensor()};  // one per forward argument, as in LibTorch
  }
};

struct MulFn : xg::autograd::Function<MulFn> {
  static inline std::vector<bool> needs;  // what backward saw in needs_input_grad
  static Tensor forward(AutogradContext* ctx, Tensor a, Tensor b) {
    ctx->save_for_backward({a, b});
    return a * b;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_output) {
    const auto saved = ctx->get_saved_variables();
    needs = {ctx->needs_input_grad(0), ctx->needs_input_grad(1)};
    return {grad_output[0] * saved[1], grad_output[0] * saved[0]};
  }
};

struct MyExp : xg::autograd::Function<MyExp> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    Tensor y = xg::exp(x);
    ctx->save_for_backward({y});
    return y;
  }
  static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_output) {
    return {grad_output[0] * ctx->get_saved_variables()[0]};
  }
};

struct TooManyGrads : xg::autograd::Function<TooManyGrads> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0] * 2, g[0] * 2};
  }
};

struct NoGrads : xg::autograd::Function<NoGrads> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor>) { return {}; }
};

struct WrongShapeGrad : xg::autograd::Function<WrongShapeGrad> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor>) {
    return {xg::ones({4}, xg::kFloat64)};  // the input has shape [3]
  }
};

struct TransposedGrad : xg::autograd::Function<TransposedGrad> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {xg::transpose(g[0], 0, 1) * 2};  // [3, 2] for an input of shape [2, 3]
  }
};

namespace {

double p3(double x) { return 0.5 * (5 * x * x * x - 3 * x); }
double dp3(double x) { return 1.5 * (5 * x * x - 1); }

TEST(AutogradFunction, LegendrePolynomial3ValuesAndGradient) {
  const std::vector<double> xs = {-1, -0.5, 0, 0.3, 1, 2};
  Tensor x = xg::tensor(xs, f64g());
  Tensor y = LegendrePolynomial3::apply(x);
  EXPECT_EQ(y.grad_fn_name(), "LegendrePolynomial3Backward");
  EXPECT_FALSE(y.is_leaf());
  EXPECT_TRUE(y.requires_grad());
  std::vector<double> ev, eg;
  for (double v : xs) {
    ev.push_back(p3(v));
    eg.push_back(dp3(v));
  }
  expect_values(y, ev);
  // P3 at the Legendre values: P3(1) = 1, P3(-1) = -1, P3(0) = 0.
  EXPECT_DOUBLE_EQ(values(y)[4], 1.0);
  EXPECT_DOUBLE_EQ(values(y)[0], -1.0);
  y.sum().backward();
  expect_values(x.grad(), eg);
}

TEST(AutogradFunction, LegendrePolynomial3InAChain) {
  // d/dx sum(P3(2x + 1)^2) = 2 P3(u) P3'(u) * 2 with u = 2x + 1.
  const std::vector<double> xs = {-0.4, 0.1};
  Tensor x = xg::tensor(xs, f64g());
  Tensor y = LegendrePolynomial3::apply(x * 2 + 1);
  (y * y).sum().backward();
  std::vector<double> expected;
  for (double v : xs) expected.push_back(2 * p3(2 * v + 1) * dp3(2 * v + 1) * 2);
  expect_values(x.grad(), expected);
}

TEST(AutogradFunction, LegendrePolynomial3Gradcheck) {
  xg::manual_seed(3);
  Tensor x = xg::randn({2, 3}, f64g());
  const auto report = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return LegendrePolynomial3::apply(in[0]); }, {x});
  EXPECT_TRUE(report.ok) << report.message;
}

TEST(AutogradFunction, SavedDataRoundTrip) {
  Tensor x = xg::tensor({1, -2, 3}, f64g());
  Tensor y = ScaleBy::apply(x, 2.5);
  EXPECT_EQ(y.grad_fn_name(), "ScaleByBackward");
  expect_values(y, {2.5, -5, 7.5});
  (y * y).sum().backward();  // d/dx (2.5 x)^2 = 12.5 x
  expect_values(x.grad(), {12.5, -25, 37.5});
}

TEST(AutogradFunction, TwoTensorInputs) {
  Tensor a = xg::tensor({1, 2, 3}, f64g());
  Tensor b = xg::tensor({4, 5, 6}, f64());
  Tensor y = MulFn::apply(a, b);
  y.sum().backward();
  expect_values(a.grad(), {4, 5, 6});
  EXPECT_EQ(MulFn::needs, (std::vector<bool>{true, false}));

  xg::manual_seed(5);
  Tensor p = xg::randn({2, 3}, f64g());
  Tensor q = xg::randn({2, 3}, f64g());
  const auto report = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return MulFn::apply(in[0], in[1]); }, {p, q});
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_EQ(MulFn::needs, (std::vector<bool>{true, true}));
}

TEST(AutogradFunction, NotRecordedWithoutGradOrUnderNoGradGuard) {
  Tensor c = xg::tensor({0.5}, f64());
  Tensor y = LegendrePolynomial3::apply(c);
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn_name(), "");
  expect_values(y, {p3(0.5)});

  Tensor x = xg::tensor({0.5}, f64g());
  xg::NoGradGuard no_grad;
  Tensor z = LegendrePolynomial3::apply(x);
  EXPECT_FALSE(z.requires_grad());
  EXPECT_EQ(z.grad_fn_name(), "");
}

TEST(AutogradFunction, SavingTheOutput) {
  Tensor x = xg::tensor({0.1, 0.7}, f64g());
  std::weak_ptr<xg::detail::TensorImpl> w;
  {
    Tensor y = MyExp::apply(x);
    w = y.impl();
  }
  EXPECT_TRUE(w.expired());  // the node does not own its output

  Tensor z;
  {
    Tensor y = MyExp::apply(x);
    z = (y * 3).sum();
  }
  z.backward();
  expect_values(x.grad(), {3 * std::exp(0.1), 3 * std::exp(0.7)});

  Tensor y = MyExp::apply(x);
  Tensor s = y.sum();
  {
    xg::NoGradGuard no_grad;
    y.add_(1);
  }
  const std::string msg = runtime_error_message([&] { s.backward(); });
  EXPECT_TRUE(contains(msg, "MyExp")) << msg;
}

TEST(AutogradFunction, WrongNumberOfGradientsIsAnError) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = TooManyGrads::apply(x).sum();
  runtime_error_message([&] { y.backward(); });
  Tensor z = NoGrads::apply(x).sum();
  runtime_error_message([&] { z.backward(); });
}

TEST(AutogradFunction, WrongShapeOfGradientIsAnError) {
  Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = WrongShapeGrad::apply(x).sum();
  runtime_error_message([&] { y.backward(); });
  Tensor m = xg::ones({2, 3}, f64g());
  Tensor z = TransposedGrad::apply(m).sum();
  runtime_error_message([&] { z.backward(); });
}

// ================================== DetectAnomalyGuard ==================================

TEST(AutogradAnomaly, InfInBackwardNamesTheOp) {
  Tensor x = xg::tensor({0.0, 1.0}, f64g());
  EXPECT_FALSE(xg::autograd::DetectAnomalyGuard::is_enabled());
  {
    xg::autograd::DetectAnomalyGuard guard;
    EXPECT_TRUE(xg::autograd::DetectAnomalyGuard::is_enabled());
    Tensor y = x.sqrt().sum();
    const std::string msg = runtime_error_message([&] { y.backward(); });
    EXPECT_TRUE(contains(msg, "SqrtBackward") || contains(msg, "sqrt")) << msg;
    EXPECT_TRUE(contains(msg, "[2]")) << msg;
  }
  EXPECT_FALSE(xg::autograd::DetectAnomalyGuard::is_enabled());
  // Without the guard the inf simply lands in .grad.
  Tensor y = x.sqrt().sum();
  EXPECT_NO_THROW(y.backward());
  const std::vector<double> g = values(x.grad());
  EXPECT_TRUE(std::isinf(g[0]) && g[0] > 0);
  EXPECT_DOUBLE_EQ(g[1], 0.5);
}

TEST(AutogradAnomaly, NaNInBackwardNamesTheOp) {
  // mul's backward multiplies the incoming gradient by the other factor, inf here.
  Tensor x = xg::tensor({0.0, 2.0}, f64g());
  Tensor inf = xg::tensor({std::numeric_limits<double>::infinity(), 1.0}, f64());
  xg::autograd::DetectAnomalyGuard guard;
  Tensor y = (x * inf).sum();
  const std::string msg = runtime_error_message([&] { y.backward(); });
  EXPECT_TRUE(contains(msg, "MulBackward") || contains(msg, "mul")) << msg;
}

TEST(AutogradAnomaly, FiniteGradientsPassWithTheGuard) {
  xg::autograd::DetectAnomalyGuard guard;
  Tensor x = xg::tensor({1.0, 4.0}, f64g());
  x.sqrt().sum().backward();
  expect_values(x.grad(), {0.5, 0.25});
}

}  // namespace

// A retained non-leaf gradient from a create_graph backward must be a copy: a later backward
// adds into .grad in place and must not write into the gradient tensor the caller passed.
TEST(AutogradRecording, RetainGradFromCreateGraphDoesNotAliasTheGivenGradient) {
  xg::Tensor x = xg::tensor({1, 2}, xg::TensorOptions(xg::kFloat64).requires_grad(true));
  xg::Tensor y = x * 2.0;
  y.retain_grad();
  const xg::Tensor seed = xg::ones({2}, xg::kFloat64);
  y.backward(seed, std::nullopt, true);
  (y * 3.0).sum().backward();
  EXPECT_EQ(seed.data_ptr<double>()[0], 1.0);
  EXPECT_EQ(seed.data_ptr<double>()[1], 1.0);
  EXPECT_EQ(y.grad().data_ptr<double>()[0], 4.0);
  EXPECT_EQ(y.grad().data_ptr<double>()[1], 4.0);
}
