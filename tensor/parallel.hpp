// Internal: splits a kernel's loop across the intra-op thread pool (tensor/parallel.cpp: oneTBB
// or OpenMP, chosen when xgrad is configured; docs/performance.md says why).
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

namespace xg::detail {

// Grain sizes: the least work one thread is given, in the loop's own units, measured per kind
// of kernel (bench/threads_bench.cpp; docs/performance.md, "The thread pool"). Below two
// grains a loop stays on the calling thread: waking a pool thread costs a few microseconds.
inline constexpr std::int64_t kGrainCopy = 16384;   // elements of add, mul, copy, compare
inline constexpr std::int64_t kGrainMath = 2048;    // elements of exp, tanh, erf, sin, pow
inline constexpr std::int64_t kGrainSum = 32768;    // elements summed into one partial
inline constexpr std::int64_t kGrainMacs = 262144;  // multiply-adds of matrix products
// OpenBLAS 0.3.21 runs a product of fewer multiply-adds than this on the calling thread (its
// SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD), larger ones on its own threads.
inline constexpr std::int64_t kBlasThreadedMacs = 262144;

// A non-owning reference to a callable fn(begin, end), valid while the call lasts.
class RangeFn {
 public:
  template <class F>
  explicit RangeFn(F& fn)
      : object_(&fn),
        call_([](void* f, std::int64_t b, std::int64_t e) { (*static_cast<F*>(f))(b, e); }) {}
  void operator()(std::int64_t b, std::int64_t e) const { call_(object_, b, e); }

 private:
  void* object_;
  void (*call_)(void*, std::int64_t, std::int64_t);
};

// Calls fn(begin, end) over disjoint ranges covering [0, n), each at least `grain` long (but
// the last), on up to get_num_threads() threads; the caller's thread takes part. The first
// exception thrown by fn is rethrown here once no range is running (ranges not yet started
// may then be skipped).
void parallel_run(std::int64_t n, std::int64_t grain, RangeFn fn);

// True when the BLAS runs each product on the calling thread (OpenBLAS with one thread, or
// another BLAS).
bool blas_single_threaded();

template <class F>
void parallel_for(std::int64_t n, std::int64_t grain, F&& fn) {
  if (n < 2 * grain) {  // one range
    if (n > 0) fn(std::int64_t{0}, n);
    return;
  }
  parallel_run(n, grain, RangeFn(fn));
}

}  // namespace xg::detail
