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

// nanoGPT's model (model.py) in LibTorch's C++ frontend, as the gpt example builds it in xgrad:
// no biases (LibTorch 1.13's LayerNorm always has one, so layer_norm is called with the weight
// alone), exact GELU, lm_head tied to the token embedding, init N(0, 0.02) and the c_proj weights
// N(0, 0.02 / sqrt(2 n_layer)). LibTorch 1.13 has no scaled_dot_product_attention: attention is
// nanoGPT's own fallback for it (masked_fill of the upper triangle with -inf, softmax, matmul).
struct GptBlockImpl : torch::nn::Module {
  GptBlockImpl(int64_t c, int64_t heads) : n_head(heads) {
    ln_1 = register_parameter("ln_1", torch::ones({c}));
    ln_2 = register_parameter("ln_2", torch::ones({c}));
    c_attn = register_module("c_attn",
                             torch::nn::Linear(torch::nn::LinearOptions(c, 3 * c).bias(false)));
    attn_proj =
        register_module("attn_proj", torch::nn::Linear(torch::nn::LinearOptions(c, c).bias(false)));
    c_fc =
        register_module("c_fc", torch::nn::Linear(torch::nn::LinearOptions(c, 4 * c).bias(false)));
    mlp_proj = register_module("mlp_proj",
                               torch::nn::Linear(torch::nn::LinearOptions(4 * c, c).bias(false)));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& causal) {
    const int64_t b = x.size(0), t = x.size(1), c = x.size(2), d = c / n_head;
    auto qkv = c_attn(torch::layer_norm(x, {c}, ln_1, {}, 1e-5)).split(c, 2);
    auto heads = [&](const torch::Tensor& u) { return u.view({b, t, n_head, d}).transpose(1, 2); };
    const torch::Tensor q = heads(qkv[0]), k = heads(qkv[1]), v = heads(qkv[2]);
    const torch::Tensor att = torch::softmax(
        (torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(double(d))))
            .masked_fill(causal.narrow(0, 0, t).narrow(1, 0, t).logical_not(), -INFINITY),
        -1);
    const torch::Tensor y = torch::matmul(att, v).transpose(1, 2).contiguous().view({b, t, c});
    const torch::Tensor x1 = x + attn_proj(y);
    return x1 + mlp_proj(torch::gelu(c_fc(torch::layer_norm(x1, {c}, ln_2, {}, 1e-5))));
  }
  int64_t n_head;
  torch::Tensor ln_1, ln_2;
  torch::nn::Linear c_attn{nullptr}, attn_proj{nullptr}, c_fc{nullptr}, mlp_proj{nullptr};
};
TORCH_MODULE(GptBlock);

struct GptImpl : torch::nn::Module {
  GptImpl(int64_t vocab, int64_t block, int64_t layers, int64_t heads, int64_t c) {
    wte = register_module("wte", torch::nn::Embedding(vocab, c));
    wpe = register_module("wpe", torch::nn::Embedding(block, c));
    for (int64_t i = 0; i < layers; ++i) {
      h.push_back(register_module("h" + std::to_string(i), GptBlock(c, heads)));
    }
    ln_f = register_parameter("ln_f", torch::ones({c}));
    causal = register_buffer("causal", torch::ones({block, block}, torch::kBool).tril());
    torch::NoGradGuard no_grad;
    for (auto& p : named_parameters()) {
      if (p.value().dim() < 2) continue;
      const bool proj = p.key().find("_proj.weight") != std::string::npos;
      p.value().normal_(0.0, proj ? 0.02 / std::sqrt(2.0 * double(layers)) : 0.02);
    }
  }
  torch::Tensor forward(const torch::Tensor& idx) {
    const int64_t t = idx.size(1);
    torch::Tensor x = wte(idx) + wpe(torch::arange(t, torch::kLong));
    for (auto& block : h) x = block->forward(x, causal);
    x = torch::layer_norm(x, {x.size(-1)}, ln_f, {}, 1e-5);
    return torch::nn::functional::linear(x, wte->weight);  // lm_head tied to wte
  }
  torch::nn::Embedding wte{nullptr}, wpe{nullptr};
  std::vector<GptBlock> h;
  torch::Tensor ln_f, causal;
};
TORCH_MODULE(Gpt);

void BM_libtorch_gpt_train_step(benchmark::State& state) {
  constexpr int64_t kBatch = 12, kBlock = 64, kVocab = 65;
  torch::manual_seed(0);
  Gpt model(kVocab, kBlock, 4, 4, 128);
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model->parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  torch::optim::AdamWOptions options(1e-3);
  options.betas({0.9, 0.99}).weight_decay(0.1);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<torch::optim::AdamWOptions>(options));
  auto no_decay_options = std::make_unique<torch::optim::AdamWOptions>(options);
  no_decay_options->weight_decay(0.0);
  groups.emplace_back(no_decay, std::move(no_decay_options));
  torch::optim::AdamW optimizer(groups, options);
  const torch::Tensor x = torch::randint(0, kVocab, {kBatch, kBlock});
  const torch::Tensor y = torch::randint(0, kVocab, {kBatch, kBlock});
  PeakCounter peak;
  for (auto _ : state) {
    peak.start();
    const torch::Tensor logits = model->forward(x);
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(logits.view({-1, kVocab}), y.view({-1}));
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();  // set_to_none
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();
    peak.stop();
  }
  peak.report(state);
}
BENCHMARK(BM_libtorch_gpt_train_step);

}  // namespace
