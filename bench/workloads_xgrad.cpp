// The workloads of shared/BENCHMARKS.md, in xgrad. Data is set up outside the timed loop;
// benchmarks that build a graph report its peak heap bytes ("peak_bytes").
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "gpt.hpp"  // examples/gpt: the model of BM_gpt_train_step
#include "peak_memory.hpp"

namespace {

// The most memory one iteration holds, reported as the counter "peak_bytes" from one extra,
// untimed iteration that starts with xgrad's cache emptied: its tensor data then comes from the
// system as LibTorch's does and is counted with the rest of the heap (bench/peak_memory.cpp),
// blocks reused within the iteration once. Inside the timed loop the cache serves every block,
// so the heap there does not grow.
template <class Step>
void report_peak(benchmark::State& state, Step& step) {
  xg::empty_cache();
  bench::mark_heap();
  step();
  state.counters["peak_bytes"] = static_cast<double>(bench::peak_since_mark());
}

// One sin-fit step: forward, sum of squares, zero_grad, backward, SGD (lr 1e-6).
void BM_sinfit_step(benchmark::State& state) {
  const auto n = state.range(0);
  xg::manual_seed(0);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, n);
  const xg::Tensor y = xg::sin(x);
  std::vector<xg::Tensor> p;
  for (int i = 0; i < 4; ++i) p.push_back(xg::randn({}, xg::requires_grad()));
  xg::optim::SGD opt(p, xg::optim::SGDOptions(1e-6));
  auto step = [&] {
    const xg::Tensor y_pred = p[0] + p[1] * x + p[2] * x.pow(2) + p[3] * x.pow(3);
    const xg::Tensor loss = (y_pred - y).pow(2).sum();
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (auto _ : state) step();
  report_peak(state, step);
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
  auto step = [&] {
    const xg::Tensor loss = xg::tanh(x * w + b).pow(2).sum();
    loss.backward();
    w.mutable_grad() = xg::Tensor();
    b.mutable_grad() = xg::Tensor();
  };
  for (auto _ : state) step();
  report_peak(state, step);
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
  auto step = [&] {
    xg::matmul(a, b).sum().backward();
    a.mutable_grad() = xg::Tensor();
    b.mutable_grad() = xg::Tensor();
  };
  for (auto _ : state) step();
  report_peak(state, step);
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
  auto step = [&] {
    const xg::Tensor loss = xg::nn::functional::cross_entropy(model.forward(x), labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
  };
  for (auto _ : state) step();
  report_peak(state, step);
}
BENCHMARK(BM_mlp_train_step);

// 10000 scalar nodes then backward: the per-node cost of the graph and the engine.
void BM_scalar_chain_fwdbwd(benchmark::State& state) {
  const auto n = state.range(0);
  xg::Tensor p = xg::scalar_tensor(1.0, xg::requires_grad());
  auto step = [&] {
    xg::Tensor v = p;
    for (std::int64_t i = 0; i < n; ++i) v = v * 1.0001 + 0.0001;
    v.backward();
    p.mutable_grad() = xg::Tensor();
  };
  for (auto _ : state) step();
  report_peak(state, step);
}
BENCHMARK(BM_scalar_chain_fwdbwd)->Arg(10000);

// A view and its transpose, and back: no data is copied where views alias (core v2).
void BM_view_transpose(benchmark::State& state) {
  const xg::Tensor x = xg::randn({state.range(0)});
  xg::NoGradGuard no_grad;
  auto step = [&] {
    const xg::Tensor t = x.view({64, 256, 4, 16}).transpose(1, 2);
    benchmark::DoNotOptimize(t.transpose(1, 2).view({state.range(0)}).data_ptr<float>());
  };
  for (auto _ : state) step();
  report_peak(state, step);  // the views' handles only: no data
}
BENCHMARK(BM_view_transpose)->Arg(1 << 20);

// One nanoGPT block without biases, composed from public ops: LayerNorm, causal self-attention
// with 4 heads, residual, LayerNorm, 4x MLP with exact GELU, residual; sum, backward.
struct Block {
  explicit Block(std::int64_t c)
      : ln1(xg::ones({c}, xg::requires_grad())),
        ln2(xg::ones({c}, xg::requires_grad())),
        attn(init({3 * c, c})),
        proj(init({c, c})),
        fc(init({4 * c, c})),
        fc_proj(init({c, 4 * c})) {}
  static xg::Tensor init(const xg::Shape& shape) {
    xg::Tensor w = xg::randn(shape) * 0.02;
    return w.requires_grad_();
  }
  static xg::Tensor layer_norm(const xg::Tensor& x, const xg::Tensor& w) {
    const xg::Tensor centered = x - xg::mean(x, {-1}, true);
    const xg::Tensor var = xg::mean(centered * centered, {-1}, true);
    return centered * xg::rsqrt(var + 1e-5) * w;
  }
  xg::Tensor forward(const xg::Tensor& x, const xg::Tensor& mask) const {
    const std::int64_t b = x.size(0), t = x.size(1), c = x.size(2), h = 4, d = c / h;
    const xg::Tensor qkv = xg::linear(layer_norm(x, ln1), attn);
    auto heads = [&](std::int64_t i) {
      return qkv.narrow(2, i * c, c).view({b, t, h, d}).transpose(1, 2);
    };
    const xg::Tensor q = heads(0), k = heads(1), v = heads(2);
    const xg::Tensor att =
        xg::softmax(xg::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(d))) + mask, -1);
    const xg::Tensor y = xg::matmul(att, v).transpose(1, 2).reshape({b, t, c});
    const xg::Tensor x1 = x + xg::linear(y, proj);
    return x1 + xg::linear(xg::gelu(xg::linear(layer_norm(x1, ln2), fc)), fc_proj);
  }
  std::vector<xg::Tensor> parameters() const { return {ln1, ln2, attn, proj, fc, fc_proj}; }
  xg::Tensor ln1, ln2, attn, proj, fc, fc_proj;
};

void BM_attention_block_fwdbwd(benchmark::State& state) {
  const std::int64_t b = state.range(0), t = state.range(1), c = state.range(2);
  xg::manual_seed(0);
  const Block block(c);
  const xg::Tensor x = xg::randn({b, t, c});
  // The causal mask, added to the scores: -inf above the diagonal.
  std::vector<double> m(static_cast<std::size_t>(t * t));
  for (std::int64_t i = 0; i < t; ++i) {
    for (std::int64_t j = i + 1; j < t; ++j) m[i * t + j] = -INFINITY;
  }
  const xg::Tensor mask = xg::tensor(m, {t, t});
  auto step = [&] {
    block.forward(x, mask).sum().backward();
    for (const auto& p : block.parameters()) p.mutable_grad() = xg::Tensor();
  };
  for (auto _ : state) step();
  report_peak(state, step);
}
BENCHMARK(BM_attention_block_fwdbwd)->Args({16, 32, 64})->Args({8, 128, 128});

// One iteration of nanoGPT's CPU Shakespeare recipe with the gpt example's own model
// (examples/gpt): B=12, T=64, 4 layers, 4 heads, C=128, vocab 65, no bias, no dropout; forward,
// cross-entropy, zero_grad, backward, clipping at 1.0, AdamW step (the recipe's two groups).
void BM_gpt_train_step(benchmark::State& state) {
  constexpr std::int64_t kBatch = 12, kVocab = 65;
  xg::manual_seed(0);
  gpt::Config config;  // nanoGPT's recipe: block 64, 4 layers, 4 heads, width 128, no bias
  config.vocab_size = kVocab;
  gpt::GPT model(config);
  std::vector<xg::Tensor> decay, no_decay;
  for (const xg::Tensor& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  const auto options = xg::optim::AdamWOptions(1e-3).betas({0.9, 0.99}).weight_decay(0.1);
  std::vector<xg::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<xg::optim::AdamWOptions>(options));
  groups.emplace_back(no_decay, std::make_unique<xg::optim::AdamWOptions>(
                                    xg::optim::AdamWOptions(options).weight_decay(0.0)));
  xg::optim::AdamW optimizer(std::move(groups), options);
  const std::vector<xg::Tensor> parameters = model.parameters();
  const xg::Tensor x = xg::randint(0, kVocab, {kBatch, config.block_size});
  const xg::Tensor y = xg::randint(0, kVocab, {kBatch, config.block_size});
  auto step = [&] {
    const xg::Tensor loss = gpt::lm_loss(model.forward(x), y);
    optimizer.zero_grad();
    loss.backward();
    xg::nn::utils::clip_grad_norm_(parameters, 1.0);
    optimizer.step();
  };
  for (auto _ : state) step();
  report_peak(state, step);
}
BENCHMARK(BM_gpt_train_step);

}  // namespace
