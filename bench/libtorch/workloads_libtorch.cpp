// The workloads of shared/BENCHMARKS.md in LibTorch, named BM_libtorch_<workload>, so that one
// run of one binary times both libraries on the same machine, interleaved.
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>

#include "../peak_memory.hpp"

namespace {

using bench::PeakCounter;

void BM_libtorch_sinfit_step(benchmark::State& state) {
  torch::manual_seed(0);
  const torch::Tensor x = torch::linspace(-std::numbers::pi, std::numbers::pi, state.range(0));
  const torch::Tensor y = torch::sin(x);
  std::vector<torch::Tensor> p;
  for (int i = 0; i < 4; ++i) p.push_back(torch::randn({}, torch::requires_grad()));
  torch::optim::SGD opt(p, torch::optim::SGDOptions(1e-6));
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const torch::Tensor y_pred = p[0] + p[1] * x + p[2] * x.pow(2) + p[3] * x.pow(3);
    const torch::Tensor loss = (y_pred - y).pow(2).sum();
    opt.zero_grad();
    loss.backward();
    opt.step();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_sinfit_step)->Arg(2000);

void BM_libtorch_elementwise_fwd(benchmark::State& state) {
  torch::manual_seed(0);
  const auto n = state.range(0);
  const torch::Tensor x = torch::randn({n}), w = torch::randn({n}), b = torch::randn({n});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(torch::tanh(x * w + b).pow(2).sum().item<float>());
  }
}
BENCHMARK(BM_libtorch_elementwise_fwd)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_libtorch_elementwise_fwdbwd(benchmark::State& state) {
  torch::manual_seed(0);
  const auto n = state.range(0);
  const torch::Tensor x = torch::randn({n});
  torch::Tensor w = torch::randn({n}, torch::requires_grad());
  torch::Tensor b = torch::randn({n}, torch::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const torch::Tensor loss = torch::tanh(x * w + b).pow(2).sum();
    loss.backward();
    w.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_elementwise_fwdbwd)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_libtorch_matmul_fwd(benchmark::State& state) {
  torch::manual_seed(0);
  const auto n = state.range(0);
  const torch::Tensor a = torch::randn({n, n}), b = torch::randn({n, n});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(torch::matmul(a, b).sum().item<float>());
  }
}
BENCHMARK(BM_libtorch_matmul_fwd)->Arg(64)->Arg(256)->Arg(512);

void BM_libtorch_matmul_fwdbwd(benchmark::State& state) {
  torch::manual_seed(0);
  const auto n = state.range(0);
  torch::Tensor a = torch::randn({n, n}, torch::requires_grad());
  torch::Tensor b = torch::randn({n, n}, torch::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    torch::matmul(a, b).sum().backward();
    a.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_matmul_fwdbwd)->Arg(64)->Arg(256)->Arg(512);

struct MlpImpl : torch::nn::Module {
  MlpImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(784, 128));
    fc2 = register_module("fc2", torch::nn::Linear(128, 10));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

void BM_libtorch_mlp_train_step(benchmark::State& state) {
  torch::manual_seed(0);
  MlpImpl model;
  torch::optim::AdamW opt(model.parameters(), torch::optim::AdamWOptions(1e-3));
  const torch::Tensor x = torch::randn({64, 784});
  const torch::Tensor labels = torch::randint(0, 10, {64});
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const torch::Tensor loss = torch::nn::functional::cross_entropy(model.forward(x), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_mlp_train_step);

void BM_libtorch_scalar_chain_fwdbwd(benchmark::State& state) {
  const auto n = state.range(0);
  torch::Tensor p = torch::ones({}, torch::requires_grad());
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    torch::Tensor v = p;
    for (std::int64_t i = 0; i < n; ++i) v = v * 1.0001 + 0.0001;
    v.backward();
    p.mutable_grad() = torch::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_scalar_chain_fwdbwd)->Arg(10000);

}  // namespace
