// Heap accounting for the benchmarks: peak_memory.cpp interposes malloc in the benchmark
// binaries so that a benchmark can report the peak heap bytes its iteration held.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>

namespace bench {

std::size_t heap_bytes();  // currently allocated through operator new
// Starts a measurement window; peak_since_mark() is the largest growth over the mark since.
void mark_heap();
std::size_t peak_since_mark();

// The largest peak over a benchmark's iterations, reported as the counter "peak_bytes".
struct PeakCounter {
  std::size_t max_peak = 0;
  void start() { mark_heap(); }
  void stop() { max_peak = std::max(max_peak, peak_since_mark()); }
  void report(benchmark::State& state) const {
    state.counters["peak_bytes"] = static_cast<double>(max_peak);
  }
};

}  // namespace bench
