// Internal: runs a large elementwise loop on two threads. Small loops stay on the caller's
// thread: starting a thread costs tens of microseconds, a loop over 64K floats about as much.
#pragma once

#include <cstdint>
#include <exception>
#include <thread>

namespace xg::detail {

inline constexpr std::int64_t kParallelThreshold = std::int64_t{1} << 16;

// Calls fn(begin, end) over [0, n), split in two halves above kParallelThreshold elements.
// Elementwise results do not depend on the split.
template <class F>
void parallel_for(std::int64_t n, F&& fn) {
  static const bool several_cores = std::thread::hardware_concurrency() > 1;
  if (n < kParallelThreshold || !several_cores) {
    fn(std::int64_t{0}, n);
    return;
  }
  const std::int64_t mid = (n / 2) & ~std::int64_t{63};  // halves start on cache-line bounds
  std::exception_ptr error;
  std::thread other([&] {
    try {
      fn(mid, n);
    } catch (...) {
      error = std::current_exception();
    }
  });
  try {
    fn(std::int64_t{0}, mid);
  } catch (...) {
    other.join();
    throw;
  }
  other.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace xg::detail
