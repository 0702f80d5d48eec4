// The time of xg::distributed::all_reduce (Sum, Float32) by message size, to judge what the
// gradients' all-reduces cost a training step (docs/performance.md, "Data-parallel training").
// Run it under mpirun (`mpirun -np 2 ./build/bench/xgrad_allreduce_time`); rank 0 prints, for
// each size, the median over 40 repetitions (after 5 unmeasured ones) of the slowest rank's time,
// and the bus bandwidth 2 (n - 1) / n x bytes / time of a ring all-reduce. Not Google
// Benchmark: its adaptive repetition counts could differ between ranks, and a collective needs
// every rank to call it as often.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>
#include <xgrad/distributed/distributed.hpp>
#include <xgrad/xgrad.hpp>

int main() {
  namespace dist = xg::distributed;
  dist::init_process_group();
  const int rank = dist::get_rank(), n = dist::get_world_size();
  if (rank == 0) {
    std::printf("all_reduce(Sum) of Float32 tensors over %d ranks: median of 40\n", n);
    std::printf("%12s %12s %14s\n", "bytes", "time (us)", "bus GB/s");
  }
  for (const std::int64_t count : {256L, 4096L, 65536L, 262144L, 819200L, 1048576L, 4194304L}) {
    xg::Tensor t = xg::ones({count});
    std::vector<double> seconds;
    for (int i = 0; i < 45; ++i) {
      dist::barrier();
      const auto start = std::chrono::steady_clock::now();
      dist::all_reduce(t);
      xg::Tensor elapsed = xg::full(
          {1}, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
          xg::kFloat64);
      dist::all_reduce(elapsed, dist::ReduceOp::Max);
      if (i >= 5) seconds.push_back(elapsed.item());
    }
    std::sort(seconds.begin(), seconds.end());
    const double median = seconds[seconds.size() / 2];
    const double bytes = 4.0 * static_cast<double>(count);
    if (rank == 0) {
      std::printf("%12.0f %12.1f %14.2f\n", bytes, 1e6 * median,
                  2.0 * (n - 1) / n * bytes / median / 1e9);
    }
  }
  dist::destroy_process_group();
  return 0;
}
