// Threads: xgrad keeps no shared mutable state on the training path (grad mode and anomaly mode
// are per thread, the random generator is locked), so separate models can train on separate
// threads at once. Training two models concurrently must give exactly, bit for bit, what
// training them one after the other gives; NoGradGuard on one thread must not reach the other.
// This file is also built alone as xgrad_thread_tests and run under ThreadSanitizer by
// scripts/sanitize.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <latch>
#include <memory>
#include <thread>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Tensor;

// Everything a training run produces: every parameter's values and every step's loss.
struct Trace {
  std::vector<std::vector<double>> parameters;
  std::vector<double> losses;
  bool operator==(const Trace&) const = default;
};

std::vector<double> values_of(const Tensor& t) {
  const Tensor flat = t.detach().to(xg::kFloat64).reshape({-1});
  const double* p = flat.data_ptr<double>();
  return {p, p + flat.numel()};
}

// A regression problem and a starting point, all drawn up front on the calling thread.
struct Problem {
  Tensor x, y;
  xg::TensorMap start;  // the initial parameters, by name
};

std::shared_ptr<xg::nn::Sequential> make_mlp() {
  return std::make_shared<xg::nn::Sequential>(
      std::initializer_list<std::shared_ptr<xg::nn::Module>>{
          std::make_shared<xg::nn::Linear>(3, 16), std::make_shared<xg::nn::Tanh>(),
          std::make_shared<xg::nn::Linear>(16, 16), std::make_shared<xg::nn::GELU>(),
          std::make_shared<xg::nn::Linear>(16, 1)});
}

Problem make_problem(std::uint64_t seed, std::int64_t samples) {
  xg::manual_seed(seed);
  Problem p;
  p.x = xg::randn({samples, 3});
  p.y = xg::sin(p.x.sum({1}, /*keepdim=*/true)) + 0.1 * xg::randn({samples, 1});
  for (const auto& [name, t] : xg::state_dict(*make_mlp())) p.start[name] = t.clone();
  return p;
}

// Builds the model from the problem's start and trains it with AdamW: mini-batches of 32 by
// narrowing, MSE, plus a large elementwise term that runs on two threads inside each step.
Trace train(const Problem& problem, int steps) {
  auto model = make_mlp();
  xg::load_state_dict(*model, problem.start);
  xg::optim::AdamW optimizer(model->parameters(), xg::optim::AdamWOptions(1e-2));
  xg::optim::CosineAnnealingLR schedule(optimizer, steps);
  const Tensor big = xg::linspace(-1.0, 1.0, 1 << 17);  // above the two-thread threshold
  const std::int64_t batches = problem.x.size(0) / 32;
  Trace trace;
  for (int t = 0; t < steps; ++t) {
    const std::int64_t b = t % batches;
    const Tensor x = problem.x.narrow(0, b * 32, 32), y = problem.y.narrow(0, b * 32, 32);
    const Tensor fit = xg::nn::functional::mse_loss(model->forward(x), y);
    const Tensor penalty = (xg::tanh(big * model->parameters()[0].sum())).pow(2).mean();
    const Tensor loss = fit + 1e-3 * penalty;
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    schedule.step();
    trace.losses.push_back(loss.item());
  }
  for (const auto& p : model->parameters()) trace.parameters.push_back(values_of(p));
  return trace;
}

TEST(Threads, TwoModelsTrainedConcurrentlyMatchTrainingThemOneAfterTheOther) {
  const Problem first = make_problem(1, 128), second = make_problem(2, 128);
  constexpr int kSteps = 40;
  const Trace first_alone = train(first, kSteps);
  const Trace second_alone = train(second, kSteps);
  ASSERT_NE(first_alone, second_alone);  // two different problems, so the check means something

  Trace first_together, second_together;
  std::latch start(2);  // both threads begin training at the same moment
  std::thread a([&] {
    start.arrive_and_wait();
    first_together = train(first, kSteps);
  });
  std::thread b([&] {
    start.arrive_and_wait();
    second_together = train(second, kSteps);
  });
  a.join();
  b.join();
  EXPECT_EQ(first_together, first_alone);
  EXPECT_EQ(second_together, second_alone);
  EXPECT_LT(first_alone.losses.back(), first_alone.losses.front());
}

TEST(Threads, NoGradGuardOnOneThreadLeavesTheOtherRecording) {
  const Tensor w = xg::ones({4}, xg::TensorOptions().requires_grad(true));
  std::latch guarded(1), recorded(1);
  bool guarded_records = true, other_records = false;
  Tensor other_grad;
  std::thread with_guard([&] {
    xg::NoGradGuard no_grad;
    guarded.count_down();  // the guard is on while the other thread records
    recorded.wait();
    guarded_records = (w * 2).requires_grad();
  });
  std::thread without([&] {
    guarded.wait();
    const Tensor y = (w * 3).sum();
    other_records = y.requires_grad();
    other_grad = xg::autograd::grad({y}, {w})[0];
    recorded.count_down();
  });
  with_guard.join();
  without.join();
  EXPECT_FALSE(guarded_records);
  EXPECT_TRUE(other_records);
  EXPECT_EQ(values_of(other_grad), (std::vector<double>{3, 3, 3, 3}));
  EXPECT_TRUE(xg::GradMode::is_enabled());  // this thread was never guarded
}

// Two threads read one data tensor (no grad) in their own graphs at once: data is shared
// freely. (Tensors that require grad must not be shared between graphs that run on different
// threads at the same time: docs/design.md, "Threads".)
TEST(Threads, GraphsOnTwoThreadsShareADataTensor) {
  const Tensor x = xg::linspace(0.5, 2.0, 64, xg::kFloat64);
  std::vector<double> got[2];
  std::latch start(2);
  auto work = [&](int k) {
    const Tensor w = xg::full({64}, k + 1.0, xg::TensorOptions(xg::kFloat64).requires_grad(true));
    start.arrive_and_wait();
    Tensor total;
    for (int i = 0; i < 200; ++i) total = (xg::exp(w * x) * x).sum();
    got[k] = values_of(xg::autograd::grad({total}, {w})[0]);
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  const std::vector<double> xv = values_of(x);
  for (int k = 0; k < 2; ++k) {
    ASSERT_EQ(got[k].size(), xv.size());
    for (std::size_t i = 0; i < xv.size(); ++i) {
      // d/dw [x e^{w x}] = x^2 e^{w x}, w = k + 1
      const double want = xv[i] * xv[i] * std::exp((k + 1) * xv[i]);
      EXPECT_NEAR(got[k][i], want, 1e-12 * want) << k << ' ' << i;
    }
  }
}

// As PyTorch allows: two threads run forward and backward at once on graphs that share a
// parameter, and its .grad ends as the sum of every pass's gradient. The gradients are small
// integers, so the sum is exact in any order.
TEST(Threads, BackwardOnTwoThreadsThroughASharedParameterSumsTheGradients) {
  const Tensor w = xg::ones({64}, xg::TensorOptions().requires_grad(true));
  const Tensor x[2] = {xg::arange(0, 64).to(xg::kFloat32), xg::full({64}, 3.0)};
  constexpr int kPasses = 300;
  std::latch start(2);
  auto work = [&](int k) {
    start.arrive_and_wait();
    for (int i = 0; i < kPasses; ++i) {
      // Each pass records new ops on w (its accumulator is shared) and accumulates into w.grad.
      xg::sum(w * x[k] + w).backward();
    }
  };
  std::thread a(work, 0), b(work, 1);
  a.join();
  b.join();
  const std::vector<double> got = values_of(w.grad());
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double want = kPasses * ((static_cast<double>(i) + 1) + (3.0 + 1));
    EXPECT_EQ(got[i], want) << i;
  }
}

}  // namespace
