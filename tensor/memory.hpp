// Memory errors: what xgrad throws when a tensor's storage cannot be had.
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

}  // namespace xg
