// Internal: the allocator behind every tensor's data. Freed buffers are kept in size classes and
// handed out again (a per-thread cache in front of a shared pool, in the manner of PyTorch's
// CPUCachingAllocator), so a training loop reuses the same memory every step instead of
// returning it to the system and page-faulting it in again. Buffers are 64-byte aligned.
#pragma once

#include <cstddef>
#include <new>

namespace xg::detail {

// size bytes, 64-byte aligned; throws std::bad_alloc when the system has none.
void* allocate_bytes(std::size_t size);
// Gives back a block from allocate_bytes(size), with the same size.
void free_bytes(void* p, std::size_t size) noexcept;

// A standard allocator over allocate_bytes, for xtensor containers.
template <class T>
struct CachingAllocator {
  using value_type = T;
  CachingAllocator() noexcept = default;
  template <class U>
  CachingAllocator(const CachingAllocator<U>&) noexcept {}  // NOLINT: rebinding, as std::allocator
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / 2 / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(allocate_bytes(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { free_bytes(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const CachingAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace xg::detail
