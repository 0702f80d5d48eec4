// Internal: a vector whose first N elements live inline, so the common case (an op's one or two
// inputs, a shape of up to four dims) allocates nothing. 16 bytes beyond the inline elements.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <utility>

namespace xg::detail {

template <class T, std::size_t N>
class SmallVector {
 public:
  SmallVector() = default;
  explicit SmallVector(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) push_back(T());
  }
  SmallVector(std::initializer_list<T> values) {
    for (const auto& v : values) push_back(v);
  }
  template <class It>
  SmallVector(It first, It last) {
    for (; first != last; ++first) push_back(T(*first));
  }
  SmallVector(const SmallVector& other) {
    for (const auto& v : other) push_back(v);
  }
  SmallVector(SmallVector&& other) noexcept { take(std::move(other)); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      clear();
      for (const auto& v : other) push_back(v);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      clear();
      take(std::move(other));
    }
    return *this;
  }

  void push_back(T value) {
    if (size_ == (capacity_ ? capacity_ : N)) grow(size_ == 0 ? N : 2 * size_);
    data()[size_++] = std::move(value);
  }
  void reserve(std::size_t n) {
    if (n > (capacity_ ? capacity_ : N)) grow(n);
  }
  void clear() {
    for (std::size_t i = 0; i < size_; ++i) data()[i] = T();
    heap_.reset();
    size_ = capacity_ = 0;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return capacity_ ? heap_.get() : inline_.data(); }
  const T* data() const { return capacity_ ? heap_.get() : inline_.data(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T& at(std::size_t i) { return i < size_ ? data()[i] : throw std::out_of_range("SmallVector"); }
  const T& at(std::size_t i) const {
    return i < size_ ? data()[i] : throw std::out_of_range("SmallVector");
  }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

 private:
  void grow(std::size_t capacity) {
    auto bigger = std::make_unique<T[]>(capacity);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(data()[i]);
    for (std::size_t i = 0; i < size_ && !capacity_; ++i) inline_[i] = T();
    heap_ = std::move(bigger);
    capacity_ = static_cast<std::uint32_t>(capacity);
  }
  void take(SmallVector&& other) {
    if (other.capacity_) {
      heap_ = std::move(other.heap_);
      capacity_ = other.capacity_;
      size_ = other.size_;
    } else {
      for (std::size_t i = 0; i < other.size_; ++i) inline_[i] = std::move(other.inline_[i]);
      size_ = other.size_;
    }
    other.size_ = other.capacity_ = 0;
  }

  std::array<T, N> inline_{};
  std::unique_ptr<T[]> heap_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;  // 0 while the elements are inline
};

}  // namespace xg::detail
