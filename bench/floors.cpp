// Floors: what the unmet performance targets are up against, timed in the same run as the
// workloads (docs/performance.md reads them). Not workloads of shared/BENCHMARKS.md.
//   BM_floor_sgemm/N            one cblas_sgemm into a preallocated N x N result, then its sum:
//                               matmul_fwd with no library around the BLAS call
//   BM_floor_elementwise_fwd/N  sum(tanh(x * w + b)^2) as one hand-written loop (std::tanh,
//                               scalar: glibc has no vectorized tanhf the compiler would call)
//   BM_floor_op                 one xgrad op on 1-element tensors, no grad: the fixed cost of an
//                               op (checks, dispatch, the result's TensorImpl, Storage, buffer)
//   BM_floor_op_recorded        the same op recorded for backward (adds the node)
//   BM_floor_malloc/K           K malloc/free pairs of the sizes an op allocates (64 to 256 B)
//   BM_floor_gpt_gemms          the matrix products of one BM_gpt_train_step (forward and
//                               backward) alone, as cblas_sgemm calls on preallocated buffers
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

void BM_floor_sgemm(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  std::vector<float> a(static_cast<std::size_t>(n) * n), b(a.size()), c(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = std::sin(static_cast<float>(i));
    b[i] = std::cos(static_cast<float>(i));
  }
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n,
                0.0f, c.data(), n);
    float acc[8] = {};  // eight accumulators, as xgrad's sum: one would be a serial chain
    for (std::size_t i = 0; i < c.size(); i += 8) {
      for (int j = 0; j < 8; ++j) acc[j] += c[i + j];
    }
    benchmark::DoNotOptimize(acc);
  }
}
BENCHMARK(BM_floor_sgemm)->Arg(64)->Arg(256)->Arg(512);

void BM_floor_elementwise_fwd(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<float> x(n), w(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = std::sin(static_cast<float>(i));
    w[i] = std::cos(static_cast<float>(i));
    b[i] = std::sin(static_cast<float>(2 * i));
  }
  for (auto _ : state) {
    float acc[4] = {};
    for (std::size_t i = 0; i < n; i += 4) {  // n is a multiple of 4
      for (std::size_t j = 0; j < 4; ++j) {
        const float t = std::tanh(x[i + j] * w[i + j] + b[i + j]);
        acc[j] += t * t;
      }
    }
    benchmark::DoNotOptimize(acc);
  }
}
BENCHMARK(BM_floor_elementwise_fwd)->Arg(100)->Arg(10000)->Arg(1000000);

void BM_floor_op(benchmark::State& state) {
  const xg::Tensor a = xg::ones({1}), b = xg::ones({1});
  xg::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_floor_op);

void BM_floor_op_recorded(benchmark::State& state) {
  const xg::Tensor a = xg::ones({1}, xg::requires_grad()), b = xg::ones({1});
  for (auto _ : state) benchmark::DoNotOptimize(a + b);
}
BENCHMARK(BM_floor_op_recorded);

void BM_floor_malloc(benchmark::State& state) {
  const auto k = static_cast<int>(state.range(0));
  static constexpr std::size_t kSizes[] = {112, 64, 64, 256};  // impl, storage, buffer, node
  void* blocks[8];
  for (auto _ : state) {
    for (int i = 0; i < k; ++i) blocks[i] = std::malloc(kSizes[i % 4]);
    benchmark::DoNotOptimize(blocks);
    for (int i = 0; i < k; ++i) std::free(blocks[i]);
  }
}
BENCHMARK(BM_floor_malloc)->Arg(1)->Arg(4);

// The matrix products of a training step, row major, on shared buffers large enough for each:
// what a step's products cost with nothing around them.
class Gemms {
 public:
  explicit Gemms(std::size_t floats) : a_(floats, 0.01f), b_(floats, 0.02f), c_(floats) {}
  // One product [m, k] x [k, n] -> [m, n].
  void gemm(int m, int n, int k) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a_.data(), k,
                b_.data(), n, 0.0f, c_.data(), n);
  }
  // A Linear layer in -> out on `rows` rows: forward, and the weight gradient; the input
  // gradient too unless the input is a leaf that needs none.
  void linear(int rows, int in, int out, bool input_grad = true) {
    gemm(rows, out, in);
    if (input_grad) gemm(rows, in, out);
    gemm(out, in, rows);
  }
  // One transformer block without biases (nanoGPT's): the four Linear layers and, per batch and
  // head, the attention products (scores and weighted values, and their four backward products),
  // full T x T as PyTorch's composed attention computes them.
  void block(int batch, int t, int c, int heads) {
    const int rows = batch * t, hs = c / heads;
    linear(rows, c, 3 * c);
    linear(rows, c, c);
    linear(rows, c, 4 * c);
    linear(rows, 4 * c, c);
    for (int bh = 0; bh < batch * heads; ++bh) {
      gemm(t, t, hs);  // scores = q k^T
      gemm(t, hs, t);  // y = p v
      gemm(t, t, hs);  // dp = dy v^T
      gemm(t, hs, t);  // dv = p^T dy
      gemm(t, hs, t);  // dq = ds k
      gemm(t, hs, t);  // dk = ds^T q
    }
  }
  const float* out() const { return c_.data(); }

 private:
  std::vector<float> a_, b_, c_;
};

// The products of one nanoGPT training step (B=12, T=64, C=128, 4 layers, 4 heads, vocab 65):
// four blocks and lm_head.
void BM_floor_gpt_gemms(benchmark::State& state) {
  constexpr int kB = 12, kT = 64, kC = 128, kLayers = 4, kHeads = 4, kVocab = 65;
  Gemms g(static_cast<std::size_t>(kB * kT) * 4 * kC);
  for (auto _ : state) {
    for (int layer = 0; layer < kLayers; ++layer) g.block(kB, kT, kC, kHeads);
    g.linear(kB * kT, kC, kVocab);
    benchmark::DoNotOptimize(g.out());
  }
}
BENCHMARK(BM_floor_gpt_gemms);

// The products of BM_attention_block_fwdbwd/<B>/<T>/<C>: one block, 4 heads.
void BM_floor_attention_gemms(benchmark::State& state) {
  const auto b = static_cast<int>(state.range(0)), t = static_cast<int>(state.range(1)),
             c = static_cast<int>(state.range(2));
  Gemms g(static_cast<std::size_t>(b * t) * 4 * c + static_cast<std::size_t>(t * t));
  for (auto _ : state) {
    g.block(b, t, c, 4);
    benchmark::DoNotOptimize(g.out());
  }
}
BENCHMARK(BM_floor_attention_gemms)->Args({16, 32, 64})->Args({8, 128, 128});

// The products of BM_mlp_train_step: 784 -> 128 -> 10 on 64 rows; the first layer's input is
// the data, which needs no gradient.
void BM_floor_mlp_gemms(benchmark::State& state) {
  Gemms g(64 * 784 + 784 * 128);
  for (auto _ : state) {
    g.linear(64, 784, 128, /*input_grad=*/false);
    g.linear(64, 128, 10);
    benchmark::DoNotOptimize(g.out());
  }
}
BENCHMARK(BM_floor_mlp_gemms);

}  // namespace
