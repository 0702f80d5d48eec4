#include "allocator.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <mutex>

#include "memory.hpp"
#include "object_pool.hpp"

namespace xg {
namespace {

#ifdef XGRAD_NO_CACHING_ALLOCATOR
// Sanitizer builds: every buffer comes from and goes back to the system, so AddressSanitizer
// sees each use after free.
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif

constexpr std::size_t kAlignment = 64;
// Blocks above this go straight back to the system: a one-off giant is not worth keeping.
constexpr std::size_t kMaxCachedBlock = std::size_t{1} << 30;
// Past this much, a thread's cache passes what is freed on to the shared pool.
constexpr std::size_t kMaxThreadCache = std::size_t{256} << 20;

// Size classes: multiples of 64 bytes up to 4 KiB (classes 0 to 63), then four classes per
// power of two, so a block is at most 25% larger than asked and a loop's repeated sizes fall in
// the same class. Classes are numbered so that free lists are an array, not a map.
constexpr std::size_t kSmallLimit = 4096;
constexpr int kSmallClasses = 64;
constexpr int kClasses = kSmallClasses + 4 * 19;  // up to 2^31 > kMaxCachedBlock

struct SizeClass {
  int index;
  std::size_t size;
};

SizeClass size_class(std::size_t size) {
  if (size <= kSmallLimit) {
    const std::size_t blocks = size <= kAlignment ? 1 : (size + kAlignment - 1) / kAlignment;
    return {static_cast<int>(blocks) - 1, blocks * kAlignment};
  }
  // size in (2^e, 2^(e+1)]: four classes of step 2^e / 4 each.
  const int e = std::bit_width(size - 1) - 1;
  const std::size_t step = (std::size_t{1} << e) / 4;
  const std::size_t quarters = (size - (std::size_t{1} << e) + step - 1) / step;  // 1 to 4
  return {kSmallClasses + 4 * (e - 12) + static_cast<int>(quarters) - 1,
          (std::size_t{1} << e) + quarters * step};
}

// The size of class `index`, the inverse of size_class.
std::size_t class_bytes(std::size_t index) {
  if (index < kSmallClasses) return (index + 1) * kAlignment;
  const std::size_t e = (index - kSmallClasses) / 4 + 12,
                    quarters = (index - kSmallClasses) % 4 + 1;
  return (std::size_t{1} << e) + quarters * ((std::size_t{1} << e) / 4);
}

// One atomic update per allocation and per free: `allocated` changes with every buffer,
// `reserved` (allocated plus cached) only when the system gives or takes a block.
struct Stats {
  std::atomic<std::int64_t> allocated{0};
  std::atomic<std::int64_t> reserved{0};
  std::atomic<std::int64_t> peak{0};
};
Stats stats;

void note_allocated(std::int64_t bytes) {
  const std::int64_t now = stats.allocated.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::int64_t peak = stats.peak.load(std::memory_order_relaxed);
  while (now > peak && !stats.peak.compare_exchange_weak(peak, now)) {
  }
}

// Free blocks of each class, linked through their own first bytes (a block is at least 64
// bytes): a free list costs no allocation, and a thread's lists are plain data, so reaching
// them is a direct thread-local access.
struct FreeLists {
  void* heads[kClasses];
  std::size_t bytes;
  void push(std::size_t index, void* p, std::size_t size) {
    *static_cast<void**>(p) = heads[index];
    heads[index] = p;
    bytes += size;
  }
  void* pop(std::size_t index, std::size_t size) {
    void* p = heads[index];
    if (!p) return nullptr;
    heads[index] = *static_cast<void**>(p);
    bytes -= size;
    return p;
  }
};
void system_free(void* p, std::size_t size);

void release_all(FreeLists& lists) {
  for (std::size_t c = 0; c < kClasses; ++c) {
    while (void* p = lists.pop(c, class_bytes(c))) system_free(p, class_bytes(c));
  }
}

// The shared pool: blocks from exited threads and overflowing caches. Never destroyed, so a
// thread that exits during static destruction can still hand its blocks over.
struct Pool {
  std::mutex mutex;
  FreeLists lists{};
};
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

thread_local FreeLists cache{};

// Hands the thread's blocks to the pool when the thread exits; made on the thread's first free.
struct CacheOwner {
  ~CacheOwner() {
    Pool& shared = pool();
    const std::lock_guard<std::mutex> lock(shared.mutex);
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (void* p = cache.pop(c, class_bytes(c))) shared.lists.push(c, p, class_bytes(c));
    }
  }
};
thread_local bool cache_owned = false;

void* take_cached(SizeClass c) {
  const auto index = static_cast<std::size_t>(c.index);
  if (void* p = cache.pop(index, c.size)) return p;
  Pool& shared = pool();
  const std::lock_guard<std::mutex> lock(shared.mutex);
  return shared.lists.pop(index, c.size);
}

void* system_allocate(std::size_t size) {
  void* p = std::aligned_alloc(kAlignment, size);  // size is a multiple of 64
  if (!p) {
    // Memory held for reuse may be what is missing: give it back and try once more.
    empty_cache();
    p = std::aligned_alloc(kAlignment, size);
  }
  if (!p) throw std::bad_alloc();
  stats.reserved.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
  return p;
}

void system_free(void* p, std::size_t size) {
  std::free(p);
  stats.reserved.fetch_sub(static_cast<std::int64_t>(size), std::memory_order_relaxed);
}

}  // namespace

namespace detail {

void* allocate_bytes(std::size_t size) {
  if (!kCaching || size > kMaxCachedBlock) {
    const std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    void* p = system_allocate(std::max(rounded, kAlignment));
    note_allocated(static_cast<std::int64_t>(std::max(rounded, kAlignment)));
    return p;
  }
  const SizeClass c = size_class(size);
  void* p = take_cached(c);
  if (!p) p = system_allocate(c.size);
  note_allocated(static_cast<std::int64_t>(c.size));
  return p;
}

void free_bytes(void* p, std::size_t size) noexcept {
  if (!p) return;
  if (!kCaching || size > kMaxCachedBlock) {
    const std::size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
    stats.allocated.fetch_sub(static_cast<std::int64_t>(std::max(rounded, kAlignment)),
                              std::memory_order_relaxed);
    system_free(p, std::max(rounded, kAlignment));
    return;
  }
  const SizeClass c = size_class(size);
  stats.allocated.fetch_sub(static_cast<std::int64_t>(c.size), std::memory_order_relaxed);
  if (!cache_owned) {
    thread_local CacheOwner owner;
    cache_owned = true;
  }
  if (cache.bytes + c.size <= kMaxThreadCache) {
    cache.push(static_cast<std::size_t>(c.index), p, c.size);
  } else {
    Pool& shared = pool();
    const std::lock_guard<std::mutex> lock(shared.mutex);
    shared.lists.push(static_cast<std::size_t>(c.index), p, c.size);
  }
}

}  // namespace detail

MemoryStats memory_stats() {
  const std::int64_t allocated = stats.allocated.load();
  return {allocated, stats.reserved.load() - allocated, stats.peak.load()};
}

void reset_peak_memory_stats() { stats.peak = stats.allocated.load(); }

void empty_cache() {
  detail::pool_release();
  release_all(cache);
  Pool& shared = pool();
  const std::lock_guard<std::mutex> lock(shared.mutex);
  release_all(shared.lists);
}

}  // namespace xg
