// Internal: a vector whose first N elements live inline, so the common case (an op's one to
// three inputs, a shape of up to four dims) allocates nothing.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <stdexcept>
#include <vector>

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

  void push_back(T value) {
    if (!on_heap_ && size_ < N) {
      inline_[size_++] = std::move(value);
      return;
    }
    if (!on_heap_) {  // spill the inline elements first
      heap_.reserve(2 * N + 1);
      for (std::size_t i = 0; i < size_; ++i) heap_.push_back(std::move(inline_[i]));
      for (std::size_t i = 0; i < size_; ++i) inline_[i] = T();
      on_heap_ = true;
    }
    heap_.push_back(std::move(value));
    ++size_;
  }
  void reserve(std::size_t n) {
    if (n > N && !on_heap_) {
      heap_.reserve(n);
      for (std::size_t i = 0; i < size_; ++i) heap_.push_back(std::move(inline_[i]));
      for (std::size_t i = 0; i < size_; ++i) inline_[i] = T();
      on_heap_ = true;
    }
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return on_heap_ ? heap_.data() : inline_.data(); }
  const T* data() const { return on_heap_ ? heap_.data() : inline_.data(); }
  T& operator[](std::size_t i) { return data()[i]; }
  const T& operator[](std::size_t i) const { return data()[i]; }
  T& at(std::size_t i) {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data()[i];
  }
  const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("SmallVector::at");
    return data()[i];
  }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }

 private:
  std::array<T, N> inline_{};
  std::vector<T> heap_;
  std::size_t size_ = 0;
  bool on_heap_ = false;
};

}  // namespace xg::detail
