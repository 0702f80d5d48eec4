// Tensor memory: what is in use and cached (freed buffers are kept and reused, see
// tensor/allocator.hpp), and what xgrad throws when a tensor's storage cannot be had.
#pragma once

#include <cstdint>
#include <new>
#include <string>

namespace xg {

// Thrown instead of a bare std::bad_alloc when a tensor's storage cannot be allocated; still a
// std::bad_alloc, so code that catches that keeps working. what() names the bytes requested.
class OutOfMemoryError : public std::bad_alloc {
 public:
  explicit OutOfMemoryError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Bytes of tensor data, counted by the allocator's size classes (a block can be up to 25% larger
// than its tensor), as torch.cuda.memory_stats counts for GPU memory.
struct MemoryStats {
  std::int64_t allocated_bytes = 0;       // held by tensors now
  std::int64_t cached_bytes = 0;          // freed by tensors, kept for reuse
  std::int64_t peak_allocated_bytes = 0;  // the most held at once since start or the last reset
};
MemoryStats memory_stats();
// Starts peak_allocated_bytes again from what is allocated now.
void reset_peak_memory_stats();
// Returns the cached memory of the shared pool and of the calling thread's cache to the system
// (other threads' caches stay theirs until they exit), as torch.cuda.empty_cache.
void empty_cache();

}  // namespace xg
