#include "object_pool.hpp"

#include <array>
#include <new>

namespace xg::detail {
namespace {

#ifdef XGRAD_NO_CACHING_ALLOCATOR
constexpr bool kPooling = false;  // sanitizer builds: AddressSanitizer sees each use after free
#else
constexpr bool kPooling = true;
#endif

constexpr std::size_t kAlignment = 64;
constexpr std::size_t kClasses = 16;  // 64, 128, ..., 1024 bytes
// What a thread keeps for reuse, all classes together: a 10,000-op chain's nodes and tensors.
constexpr std::size_t kMaxCachedBytes = std::size_t{64} << 20;

struct FreeBlock {
  FreeBlock* next;
};

void* system_allocate(std::size_t bytes) {
  return ::operator new (bytes, std::align_val_t{kAlignment});
}
void system_free(void* p) noexcept { ::operator delete (p, std::align_val_t{kAlignment}); }

// Trivially destructible, so that it can still be read after the thread's owner below is gone
// (a tensor freed during static destruction then goes straight back to the system).
struct Lists {
  std::array<FreeBlock*, kClasses> heads;
  std::size_t bytes;
  bool closed;
};
thread_local Lists lists{};

void release_lists() noexcept {
  for (std::size_t c = 0; c < kClasses; ++c) {
    while (FreeBlock* b = lists.heads[c]) {
      lists.heads[c] = b->next;
      system_free(b);
    }
  }
  lists.bytes = 0;
}

struct Owner {
  ~Owner() {
    release_lists();
    lists.closed = true;
  }
};
thread_local bool owned = false;

std::size_t class_of(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kAlignment; }

}  // namespace

void* pool_allocate(std::size_t bytes) {
  const std::size_t c = class_of(bytes);
  if (!kPooling || c >= kClasses) return system_allocate(bytes);
  if (FreeBlock* b = lists.heads[c]) {
    lists.heads[c] = b->next;
    lists.bytes -= (c + 1) * kAlignment;
    return b;
  }
  return system_allocate((c + 1) * kAlignment);
}

void pool_release() noexcept { release_lists(); }

void pool_free(void* p, std::size_t bytes) noexcept {
  if (!p) return;
  const std::size_t c = class_of(bytes);
  if (!kPooling || c >= kClasses || lists.closed ||
      lists.bytes + (c + 1) * kAlignment > kMaxCachedBytes) {
    system_free(p);
    return;
  }
  if (!owned) {
    thread_local Owner owner;
    owned = true;
  }
  lists.heads[c] = new (p) FreeBlock{lists.heads[c]};
  lists.bytes += (c + 1) * kAlignment;
}

}  // namespace xg::detail
