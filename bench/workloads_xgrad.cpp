// The workloads of shared/BENCHMARKS.md, in xgrad. Data is set up outside the timed loop;
// benchmarks that build a graph report its peak heap bytes ("peak_bytes").
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "peak_memory.hpp"

namespace {

using bench::PeakCounter;

// One sin-fit step: forward, sum of squares, zero_grad, backward, SGD (lr 1e-6).
void BM_sinfit_step(benchmark::State& state) {
  const auto n = state.range(0);
  xg::manual_seed(0);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, n);
  const xg::Tensor y = xg::sin(x);
  std::vector<xg::Tensor> p;
  for (int i = 0; i < 4; ++i) p.push_back(xg::randn({}, xg::requires_grad()));
  xg::optim::SGD opt(p, xg::optim::SGDOptions(1e-6));
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const xg::Tensor y_pred = p[0] + p[1] * x + p[2] * x.pow(2) + p[3] * x.pow(3);
    const xg::Tensor loss = (y_pred - y).pow(2).sum();
    opt.zero_grad();
    loss.backward();
    opt.step();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_sinfit_step)->Arg(2000);

// The same step as one fused loop over plain arrays, with the hand-derived gradients: the floor.
void BM_sinfit_manual(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<float>(-std::numbers::pi + 2 * std::numbers::pi * static_cast<double>(i) /
                                                      static_cast<double>(n - 1));
    y[i] = std::sin(x[i]);
  }
  float a = 0.1f, b = 0.2f, c = 0.3f, d = 0.4f;
  const float lr = 1e-6f;
  for (auto _ : state) {
    float loss = 0, ga = 0, gb = 0, gc = 0, gd = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const float xi = x[i], x2 = xi * xi, x3 = x2 * xi;
      const float r = a + b * xi + c * x2 + d * x3 - y[i];
      loss += r * r;
      const float g = 2 * r;
      ga += g;
      gb += g * xi;
      gc += g * x2;
      gd += g * x3;
    }
    a -= lr * ga;
    b -= lr * gb;
    c -= lr * gc;
    d -= lr * gd;
    benchmark::DoNotOptimize(loss);
  }
}
BENCHMARK(BM_sinfit_manual)->Arg(2000);

void BM_elementwise_fwd(benchmark::State& state) {
  xg::manual_seed(0);
  const auto n = state.range(0);
  const xg::Tensor x = xg::randn({n}), w = xg::randn({n}), b = xg::randn({n});
  xg::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(xg::tanh(x * w + b).pow(2).sum().item());
  }
}
BENCHMARK(BM_elementwise_fwd)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_elementwise_fwdbwd(benchmark::State& state) {
  xg::manual_seed(0);
  const auto n = state.range(0);
  const xg::Tensor x = xg::randn({n});
  xg::Tensor w = xg::randn({n}, xg::requires_grad()), b = xg::randn({n}, xg::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const xg::Tensor loss = xg::tanh(x * w + b).pow(2).sum();
    loss.backward();
    w.mutable_grad() = xg::Tensor();
    b.mutable_grad() = xg::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_elementwise_fwdbwd)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_matmul_fwd(benchmark::State& state) {
  xg::manual_seed(0);
  const auto n = state.range(0);
  const xg::Tensor a = xg::randn({n, n}), b = xg::randn({n, n});
  xg::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(xg::matmul(a, b).sum().item());
  }
}
BENCHMARK(BM_matmul_fwd)->Arg(64)->Arg(256)->Arg(512);

void BM_matmul_fwdbwd(benchmark::State& state) {
  xg::manual_seed(0);
  const auto n = state.range(0);
  xg::Tensor a = xg::randn({n, n}, xg::requires_grad()), b = xg::randn({n, n}, xg::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    xg::matmul(a, b).sum().backward();
    a.mutable_grad() = xg::Tensor();
    b.mutable_grad() = xg::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_matmul_fwdbwd)->Arg(64)->Arg(256)->Arg(512);

struct Mlp : xg::nn::Module {
  Mlp() : Module("Mlp") {
    fc1 = register_module("fc1", std::make_shared<xg::nn::Linear>(784, 128));
    fc2 = register_module("fc2", std::make_shared<xg::nn::Linear>(128, 10));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    return fc2->forward(xg::relu(fc1->forward(x)));
  }
  std::shared_ptr<xg::nn::Linear> fc1, fc2;
};

// Batch 64, 784 -> 128 (ReLU) -> 10, cross entropy, zero_grad, backward, one AdamW step.
void BM_mlp_train_step(benchmark::State& state) {
  xg::manual_seed(0);
  Mlp model;
  xg::optim::AdamW opt(model.parameters(), xg::optim::AdamWOptions(1e-3));
  const xg::Tensor x = xg::randn({64, 784});
  const xg::Tensor labels = xg::randint(0, 10, {64});
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const xg::Tensor loss = xg::nn::functional::cross_entropy(model.forward(x), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_mlp_train_step);

// 10000 scalar nodes then backward: the per-node cost of the graph and the engine.
void BM_scalar_chain_fwdbwd(benchmark::State& state) {
  const auto n = state.range(0);
  xg::Tensor p = xg::scalar_tensor(1.0, xg::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    xg::Tensor v = p;
    for (std::int64_t i = 0; i < n; ++i) v = v * 1.0001 + 0.0001;
    v.backward();
    p.mutable_grad() = xg::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_scalar_chain_fwdbwd)->Arg(10000);

}  // namespace
