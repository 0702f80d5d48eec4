// Reductions: xgrad's sum against xtensor's serial xt::sum on the same number of floats.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <xgrad/xgrad.hpp>
#include <xtensor/xarray.hpp>
#include <xtensor/xmath.hpp>
#include <xtensor/xrandom.hpp>

static void BM_sum_xgrad(benchmark::State& state) {
  xg::manual_seed(0);
  const xg::Tensor x = xg::rand({state.range(0)});
  for (auto _ : state) {
    benchmark::DoNotOptimize(x.sum().item());
  }
}
BENCHMARK(BM_sum_xgrad)->Arg(2000);

static void BM_sum_xtensor(benchmark::State& state) {
  xt::random::seed(0);
  const xt::xarray<float> a = xt::random::rand<float>({static_cast<std::size_t>(state.range(0))});
  for (auto _ : state) {
    float s = xt::sum(a)();
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_sum_xtensor)->Arg(2000);
