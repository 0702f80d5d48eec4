// Internal: pooled memory for the small objects every op makes (a tensor's handle, its storage
// header, a graph node), so that an op on small tensors reaches malloc only when a thread's pool
// is empty. Blocks are 64-byte aligned, in 64-byte size classes up to 1 KiB; larger requests
// go to the system. Each thread keeps its own free lists (a block freed on another thread joins
// that thread's lists), up to 64 MiB, and returns them to the system when it exits.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace xg::detail {

void* pool_allocate(std::size_t bytes);
void pool_free(void* p, std::size_t bytes) noexcept;
// Returns the calling thread's free blocks to the system (xg::empty_cache()).
void pool_release() noexcept;

// A standard allocator over the pool, for std::allocate_shared (object and control block in
// one pooled block).
template <class T>
struct PoolAllocator {
  using value_type = T;
  PoolAllocator() = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(pool_allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { pool_free(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

template <class T, class... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(PoolAllocator<T>(), std::forward<Args>(args)...);
}

}  // namespace xg::detail
