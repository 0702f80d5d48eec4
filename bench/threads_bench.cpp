// The grain sizes of tensor/parallel.hpp, measured: one loop of each kernel kind over n floats,
// forced across `threads` threads (grain 1) or run on one. Where two threads first beat one is
// the least work worth giving a thread (docs/performance.md, "The thread pool"). Run on another
// machine: ./build/bench/xgrad_threads_bench (threads up to the cores it has).
//   BM_grain_add/n/threads   y[i] = a[i] + b[i]          (memory-bound: add, mul, copy, compare)
//   BM_grain_exp/n/threads   y[i] = exp(a[i])            (math: exp, tanh, erf, pow)
//   BM_grain_sum/n/threads   partial sums of fixed blocks (reductions)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>
#include <xgrad/tensor/parallel.hpp>
#include <xgrad/xgrad.hpp>

namespace {

template <class Body>
void run(benchmark::State& state, Body body) {
  const std::int64_t n = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  const int saved = xg::get_num_threads();
  xg::set_num_threads(threads);
  std::vector<float> a(static_cast<std::size_t>(n)), b(a.size()), y(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    a[i] = std::sin(static_cast<float>(i));
    b[i] = std::cos(static_cast<float>(i));
  }
  for (auto _ : state) {
    body(n, a.data(), b.data(), y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  xg::set_num_threads(saved);
}

void BM_grain_add(benchmark::State& state) {
  run(state, [](std::int64_t n, const float* a, const float* b, float* y) {
    xg::detail::parallel_for(n, 1, [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t i = s; i < e; ++i) y[i] = a[i] + b[i];
    });
  });
}

void BM_grain_exp(benchmark::State& state) {
  run(state, [](std::int64_t n, const float* a, const float*, float* y) {
    xg::detail::parallel_for(n, 1, [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t i = s; i < e; ++i) y[i] = std::exp(a[i]);
    });
  });
}

void BM_grain_sum(benchmark::State& state) {
  run(state, [](std::int64_t n, const float* a, const float*, float* y) {
    constexpr std::int64_t kBlock = 2048;
    const std::int64_t blocks = (n + kBlock - 1) / kBlock;
    xg::detail::parallel_for(blocks, 1, [&](std::int64_t s, std::int64_t e) {
      for (std::int64_t k = s; k < e; ++k) {
        float acc[8] = {};
        const std::int64_t last = std::min(n, (k + 1) * kBlock);
        std::int64_t i = k * kBlock;
        for (; i + 8 <= last; i += 8) {
          for (int j = 0; j < 8; ++j) acc[j] += a[i + j];
        }
        for (; i < last; ++i) acc[0] += a[i];
        y[k] = acc[0] + acc[1] + acc[2] + acc[3] + acc[4] + acc[5] + acc[6] + acc[7];
      }
    });
  });
}

void sizes(benchmark::internal::Benchmark* b) {
  const int most = static_cast<int>(std::max(2U, std::thread::hardware_concurrency()));
  for (std::int64_t n = 1024; n <= (std::int64_t{1} << 20); n *= 2) {
    for (int t = 1; t <= most; t *= 2) b->Args({n, t});
  }
}
BENCHMARK(BM_grain_add)->Apply(sizes);
BENCHMARK(BM_grain_exp)->Apply(sizes);
BENCHMARK(BM_grain_sum)->Apply(sizes);

}  // namespace
