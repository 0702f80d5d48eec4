// Counts heap bytes by interposing glibc's malloc family in the benchmark binary (xtensor's
// xsimd allocator calls posix_memalign, libstdc++'s operator new calls malloc, LibTorch's
// allocator calls posix_memalign: all pass through here). glibc supports replacing malloc this
// way; the real allocator is reached through its __libc_* entry points.
#include "peak_memory.hpp"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
// Signed: memory libc allocated before main and frees later may be uncounted.
std::atomic<std::int64_t> current{0};
std::atomic<std::int64_t> peak{0};
std::atomic<std::int64_t> mark{0};

void* counted(void* p) {
  if (!p) return p;
  const auto size = static_cast<std::int64_t>(malloc_usable_size(p));
  const std::int64_t now = current.fetch_add(size) + size;
  std::int64_t seen = peak.load();
  while (now > seen && !peak.compare_exchange_weak(seen, now)) {
  }
  return p;
}

void uncount(void* p) {
  if (p) current.fetch_sub(static_cast<std::int64_t>(malloc_usable_size(p)));
}
}  // namespace

extern "C" {
void* malloc(std::size_t n) { return counted(__libc_malloc(n)); }
void* calloc(std::size_t n, std::size_t size) { return counted(__libc_calloc(n, size)); }
void* realloc(void* p, std::size_t n) {
  uncount(p);
  return counted(__libc_realloc(p, n));
}
void free(void* p) {
  uncount(p);
  __libc_free(p);
}
void* memalign(std::size_t alignment, std::size_t n) {
  return counted(__libc_memalign(alignment, n));
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
  return counted(__libc_memalign(alignment, n));
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  void* p = __libc_memalign(alignment, n);
  if (!p) return ENOMEM;
  *out = counted(p);
  return 0;
}
}

namespace bench {

std::size_t heap_bytes() { return static_cast<std::size_t>(current.load()); }

void mark_heap() {
  mark.store(current.load());
  peak.store(current.load());
}

std::size_t peak_since_mark() { return static_cast<std::size_t>(peak.load() - mark.load()); }

}  // namespace bench
