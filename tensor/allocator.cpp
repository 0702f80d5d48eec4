#include "allocator.hpp"

#include <atomic>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "memory.hpp"

namespace xg {
namespace {

constexpr std::size_t kAlignment = 64;
// Blocks above this go straight back to the system: a one-off giant is not worth keeping.
constexpr std::size_t kMaxCachedBlock = std::size_t{1} << 30;
// Past this much, a thread's cache passes what is freed on to the shared pool.
constexpr std::size_t kMaxThreadCache = std::size_t{256} << 20;

// Size classes: multiples of 64 bytes up to 4 KiB, then four classes per power of two, so a
// block is at most 25% larger than asked and a loop's repeated sizes fall in the same class.
std::size_t class_size(std::size_t size) {
  if (size <= 4096) return size <= kAlignment ? kAlignment : (size + 63) / 64 * 64;
  const std::size_t step = std::bit_floor(size) / 4;
  return (size + step - 1) / step * step;
}

struct Stats {
  std::atomic<std::int64_t> allocated{0};  // bytes (class sizes) held by live buffers
  std::atomic<std::int64_t> cached{0};     // bytes kept for reuse, in every cache
  std::atomic<std::int64_t> peak{0};
};
Stats stats;

void note_allocated(std::int64_t bytes) {
  const std::int64_t now = stats.allocated.fetch_add(bytes) + bytes;
  std::int64_t peak = stats.peak.load();
  while (now > peak && !stats.peak.compare_exchange_weak(peak, now)) {
  }
}

using FreeLists = std::unordered_map<std::size_t, std::vector<void*>>;

void release_all(FreeLists& lists) {
  for (auto& [size, blocks] : lists) {
    for (void* p : blocks) std::free(p);
    stats.cached -= static_cast<std::int64_t>(size * blocks.size());
  }
  lists.clear();
}

// The shared pool: blocks from exited threads and overflowing caches. Never destroyed, so a
// thread that exits during static destruction can still hand its blocks over.
struct Pool {
  std::mutex mutex;
  FreeLists lists;
};
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

struct ThreadCache {
  FreeLists lists;
  std::size_t bytes = 0;
  ~ThreadCache() {
    Pool& shared = pool();
    const std::lock_guard<std::mutex> lock(shared.mutex);
    for (auto& [size, blocks] : lists) {
      auto& into = shared.lists[size];
      into.insert(into.end(), blocks.begin(), blocks.end());
    }
  }
};
thread_local ThreadCache cache;

void* take_cached(std::size_t size) {
  auto it = cache.lists.find(size);
  if (it != cache.lists.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    cache.bytes -= size;
    return p;
  }
  Pool& shared = pool();
  const std::lock_guard<std::mutex> lock(shared.mutex);
  auto shared_it = shared.lists.find(size);
  if (shared_it == shared.lists.end() || shared_it->second.empty()) return nullptr;
  void* p = shared_it->second.back();
  shared_it->second.pop_back();
  return p;
}

void* system_allocate(std::size_t size) {
  void* p = std::aligned_alloc(kAlignment, size);  // size is a multiple of 64
  if (!p) {
    // Memory held for reuse may be what is missing: give it back and try once more.
    empty_cache();
    p = std::aligned_alloc(kAlignment, size);
  }
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

namespace detail {

#ifdef XGRAD_NO_CACHING_ALLOCATOR
// Sanitizer builds: every buffer comes from and goes back to the system, so AddressSanitizer
// sees each use after free.
void* allocate_bytes(std::size_t size) {
  const std::size_t rounded = class_size(size);
  void* p = system_allocate(rounded);
  note_allocated(static_cast<std::int64_t>(rounded));
  return p;
}
void free_bytes(void* p, std::size_t size) noexcept {
  if (!p) return;
  std::free(p);
  stats.allocated -= static_cast<std::int64_t>(class_size(size));
}
#else
void* allocate_bytes(std::size_t size) {
  const std::size_t rounded = class_size(size);
  void* p = rounded <= kMaxCachedBlock ? take_cached(rounded) : nullptr;
  if (p) {
    stats.cached -= static_cast<std::int64_t>(rounded);
  } else {
    p = system_allocate(rounded);
  }
  note_allocated(static_cast<std::int64_t>(rounded));
  return p;
}

void free_bytes(void* p, std::size_t size) noexcept {
  if (!p) return;
  const std::size_t rounded = class_size(size);
  stats.allocated -= static_cast<std::int64_t>(rounded);
  if (rounded > kMaxCachedBlock) {
    std::free(p);
    return;
  }
  try {
    if (cache.bytes + rounded <= kMaxThreadCache) {
      cache.lists[rounded].push_back(p);
      cache.bytes += rounded;
    } else {
      Pool& shared = pool();
      const std::lock_guard<std::mutex> lock(shared.mutex);
      shared.lists[rounded].push_back(p);
    }
    stats.cached += static_cast<std::int64_t>(rounded);
  } catch (...) {  // no memory for the free list itself: give the block back instead
    std::free(p);
  }
}
#endif

}  // namespace detail

MemoryStats memory_stats() {
  return {stats.allocated.load(), stats.cached.load(), stats.peak.load()};
}

void reset_peak_memory_stats() { stats.peak = stats.allocated.load(); }

void empty_cache() {
  release_all(cache.lists);
  cache.bytes = 0;
  Pool& shared = pool();
  const std::lock_guard<std::mutex> lock(shared.mutex);
  release_all(shared.lists);
}

}  // namespace xg
