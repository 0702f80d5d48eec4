// The intra-op thread pool behind detail::parallel_run and xg::set_num_threads: oneTBB's
// (XGRAD_THREADS=TBB) or GCC's OpenMP (XGRAD_THREADS=OpenMP). OpenBLAS keeps its own threads
// for one large product (measured faster than splitting it across this pool: docs/
// performance.md, "The thread pool"); batches of small products split across this pool.
#include "parallel.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "check.hpp"
#include "threads.hpp"

#if defined(XGRAD_THREADS_TBB)
#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#elif defined(XGRAD_THREADS_OPENMP)
#include <omp.h>
#else
#error "xgrad needs XGRAD_THREADS_TBB or XGRAD_THREADS_OPENMP (CMake sets one)"
#endif

// OpenBLAS's thread count; weak, so that another BLAS links too (and counts as one thread).
extern "C" int openblas_get_num_threads() __attribute__((weak));

namespace xg {
namespace {

int cores_available() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
}

// OMP_NUM_THREADS as PyTorch reads it: a positive number (the first of a list), else unset.
int threads_from_environment() {
  const char* value = std::getenv("OMP_NUM_THREADS");
  if (value == nullptr) return 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  return end != value && n > 0 && n < 1 << 16 ? static_cast<int>(n) : 0;
}

std::atomic<int> g_threads{0};
std::once_flag g_init;

#if defined(XGRAD_THREADS_TBB)
std::mutex g_arena_mutex;
std::shared_ptr<tbb::task_arena> g_arena;

std::unique_ptr<tbb::global_control> g_limit;

// An arena of get_num_threads() threads, made again when the count changed. TBB's own limit
// (the cores, by default) is raised to the count, so that more threads than cores (as PyTorch
// allows) are real threads.
std::shared_ptr<tbb::task_arena> arena() {
  std::lock_guard lock(g_arena_mutex);
  const int n = g_threads.load(std::memory_order_relaxed);
  if (!g_arena || g_arena->max_concurrency() != n) {
    if (!g_limit || static_cast<int>(tbb::global_control::active_value(
                        tbb::global_control::max_allowed_parallelism)) < n) {
      g_limit = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      static_cast<std::size_t>(n));
    }
    g_arena = std::make_shared<tbb::task_arena>(n);
  }
  return g_arena;
}
#endif

void initialize() {
  std::call_once(g_init, [] {
    const int from_env = threads_from_environment();
    int expected = 0;  // set_num_threads may have run first
    g_threads.compare_exchange_strong(expected, from_env > 0 ? from_env : cores_available());
  });
}

}  // namespace

void set_num_threads(int n) {
  XG_CHECK_ARG(n >= 1, "set_num_threads: expected a positive number of threads, got ", n);
  initialize();
  g_threads.store(n);
}

int get_num_threads() {
  initialize();
  return g_threads.load(std::memory_order_relaxed);
}

namespace detail {

bool blas_single_threaded() {
  return openblas_get_num_threads == nullptr || openblas_get_num_threads() == 1;
}

void parallel_run(std::int64_t n, std::int64_t grain, RangeFn fn) {
  grain = std::max<std::int64_t>(grain, 1);
  const std::int64_t most = n / grain;  // ranges of at least one grain
  const auto threads = static_cast<std::int64_t>(get_num_threads());
#if defined(XGRAD_THREADS_TBB)
  const std::int64_t ranges = std::min(most, threads);
  if (ranges <= 1) {
    fn(0, n);
    return;
  }
  // Equal ranges, one per thread, starting on cache-line bounds; TBB rethrows fn's first
  // exception here once no range is running (ranges not started are cancelled).
  const std::int64_t step = ((n + ranges - 1) / ranges + 15) & ~std::int64_t{15};
  arena()->execute([&] {
    tbb::parallel_for(
        tbb::blocked_range<std::int64_t>(0, ranges, 1),
        [&](const tbb::blocked_range<std::int64_t>& r) {
          for (std::int64_t i = r.begin(); i < r.end(); ++i) {
            const std::int64_t b = std::min(n, i * step), e = std::min(n, b + step);
            if (b < e) fn(b, e);
          }
        },
        tbb::static_partitioner());
  });
#else
  const std::int64_t ranges = omp_in_parallel() ? 1 : std::min(most, threads);
  if (ranges <= 1) {
    fn(0, n);
    return;
  }
  std::exception_ptr error;
  std::atomic_flag failed = ATOMIC_FLAG_INIT;
#pragma omp parallel num_threads(static_cast <int>(ranges))
  {
    // the team may be smaller than asked for: split by its real size
    const std::int64_t count = omp_get_num_threads();
    const std::int64_t step = ((n + count - 1) / count + 15) & ~std::int64_t{15};
    const std::int64_t b = std::min(n, omp_get_thread_num() * step), e = std::min(n, b + step);
    try {
      if (b < e) fn(b, e);
    } catch (...) {
      if (!failed.test_and_set()) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
#endif
}

}  // namespace detail
}  // namespace xg
