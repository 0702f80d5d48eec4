// BM_sdpa_fwdbwd: causal scaled dot-product attention, forward and backward, for nanoGPT's CPU
// recipe (B=12, 4 heads, T=64, head dim 32, Float32): the fused
// nn::functional::scaled_dot_product_attention against the same formula composed of ops
// (softmax(q k^T scale + mask) v with a precomputed additive causal mask).
#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>
#include <xgrad/xgrad.hpp>

namespace {

constexpr std::int64_t kB = 12, kH = 4, kT = 64, kD = 32;

struct Inputs {
  Inputs() {
    xg::manual_seed(0);
    const auto opts = xg::TensorOptions().requires_grad(true);
    q = xg::randn({kB, kH, kT, kD}, opts);
    k = xg::randn({kB, kH, kT, kD}, opts);
    v = xg::randn({kB, kH, kT, kD}, opts);
    grad = xg::randn({kB, kH, kT, kD});
    mask = xg::where(xg::eq(xg::ones({kT, kT}).triu(1), 1.0),
                     -std::numeric_limits<double>::infinity(), 0.0);  // -inf above the diagonal
  }
  void reset() const {
    for (const auto& t : {q, k, v}) t.mutable_grad() = xg::Tensor();
  }
  xg::Tensor q, k, v, grad, mask;
};

void BM_sdpa_fwdbwd(benchmark::State& state) {
  const Inputs in;
  for (auto _ : state) {
    const xg::Tensor out =
        xg::nn::functional::scaled_dot_product_attention(in.q, in.k, in.v, {}, 0.0, true);
    xg::autograd::backward({out}, {in.grad});
    in.reset();
  }
}
BENCHMARK(BM_sdpa_fwdbwd);

void BM_sdpa_fwdbwd_composed(benchmark::State& state) {
  const Inputs in;
  const double scale = 1.0 / std::sqrt(static_cast<double>(kD));
  for (auto _ : state) {
    const xg::Tensor s = xg::matmul(in.q, in.k.transpose(-2, -1)) * scale + in.mask;
    const xg::Tensor out = xg::matmul(xg::softmax(s, -1), in.v);
    xg::autograd::backward({out}, {in.grad});
    in.reset();
  }
}
BENCHMARK(BM_sdpa_fwdbwd_composed);

}  // namespace
