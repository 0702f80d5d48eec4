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

void BM_libtorch_view_transpose(benchmark::State& state) {
  const torch::Tensor x = torch::randn({state.range(0)});
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    const torch::Tensor t = x.view({64, 256, 4, 16}).transpose(1, 2);
    benchmark::DoNotOptimize(t.transpose(1, 2).view({state.range(0)}).data_ptr<float>());
  }
}
BENCHMARK(BM_libtorch_view_transpose)->Arg(1 << 20);

// The same composed block as bench/workloads_xgrad.cpp's, op for op.
struct Block {
  explicit Block(std::int64_t c)
      : ln1(torch::ones({c}, torch::requires_grad())),
        ln2(torch::ones({c}, torch::requires_grad())),
        attn(init({3 * c, c})),
        proj(init({c, c})),
        fc(init({4 * c, c})),
        fc_proj(init({c, 4 * c})) {}
  static torch::Tensor init(at::IntArrayRef shape) {
    return (torch::randn(shape) * 0.02).requires_grad_();
  }
  static torch::Tensor layer_norm(const torch::Tensor& x, const torch::Tensor& w) {
    const torch::Tensor centered = x - x.mean({-1}, true);
    const torch::Tensor var = (centered * centered).mean({-1}, true);
    return centered * torch::rsqrt(var + 1e-5) * w;
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) const {
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), h = 4, d = c / h;
    const torch::Tensor qkv = torch::nn::functional::linear(layer_norm(x, ln1), attn);
    auto heads = [&](int64_t i) {
      return qkv.narrow(2, i * c, c).view({b, t, h, d}).transpose(1, 2);
    };
    const torch::Tensor q = heads(0), k = heads(1), v = heads(2);
    const torch::Tensor att = torch::softmax(
        torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(d))) + mask, -1);
    const torch::Tensor y = torch::matmul(att, v).transpose(1, 2).reshape({b, t, c});
    const torch::Tensor x1 = x + torch::nn::functional::linear(y, proj);
    return x1 + torch::nn::functional::linear(
                    torch::gelu(torch::nn::functional::linear(layer_norm(x1, ln2), fc)), fc_proj);
  }
  std::vector<torch::Tensor> parameters() const { return {ln1, ln2, attn, proj, fc, fc_proj}; }
  torch::Tensor ln1, ln2, attn, proj, fc, fc_proj;
};

void BM_libtorch_attention_block_fwdbwd(benchmark::State& state) {
  const int64_t b = state.range(0), t = state.range(1), c = state.range(2);
  torch::manual_seed(0);
  const Block block(c);
  const torch::Tensor x = torch::randn({b, t, c});
  const torch::Tensor mask =
      torch::full({t, t}, -INFINITY).triu(1);  // -inf above the diagonal, 0 elsewhere
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    block.forward(x, mask).sum().backward();
    for (auto p : block.parameters()) p.mutable_grad() = torch::Tensor();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_attention_block_fwdbwd)->Args({16, 32, 64})->Args({8, 128, 128});

}  // namespace
