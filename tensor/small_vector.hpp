// Internal: a vector whose first N elements live inline, so the common case (an op's one or two
// inputs or gradients) allocates nothing. Only the elements in use are constructed: an empty
// SmallVector<SavedTensor, 2> costs no constructor calls. 16 bytes beyond the inline room.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace xg::detail {

template <class T, std::size_t N>
class SmallVector {
  static_assert(std::is_nothrow_move_constructible_v<T>, "elements are moved when it grows");

 public:
  SmallVector() = default;
  explicit SmallVector(std::size_t n) {
    reserve(n);
    for (std::size_t i = 0; i < n; ++i) emplace_back();
  }
  SmallVector(std::initializer_list<T> values) {
    reserve(values.size());
    for (const auto& v : values) emplace_back(v);
  }
  template <class It>
  SmallVector(It first, It last) {
    for (; first != last; ++first) push_back(T(*first));
  }
  SmallVector(const SmallVector& other) {
    reserve(other.size_);
    for (const auto& v : other) emplace_back(v);
  }
  SmallVector(SmallVector&& other) noexcept { take(other); }
  SmallVector& operator=(const SmallVector& other) {
    if (this != &other) {
      SmallVector copy(other);  // may throw: this is left as it was
      clear();
      take(copy);
    }
    return *this;
  }
  SmallVector& operator=(SmallVector&& other) noexcept {
    if (this != &other) {
      clear();
      take(other);
    }
    return *this;
  }
  ~SmallVector() { clear(); }

  void push_back(T value) {  // by value: value may be an element of this vector
    if (size_ == capacity()) grow(size_ == 0 ? N : 2 * size_);
    ::new (static_cast<void*>(data() + size_)) T(std::move(value));
    ++size_;
  }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    if (size_ == capacity()) {
      push_back(T(std::forward<Args>(args)...));
    } else {
      ::new (static_cast<void*>(data() + size_)) T(std::forward<Args>(args)...);
      ++size_;
    }
    return data()[size_ - 1];
  }
  void reserve(std::size_t n) {
    if (n > capacity()) grow(n);
  }
  void clear() noexcept {
    std::destroy_n(data(), size_);
    if (capacity_) std::allocator<T>().deallocate(heap_, capacity_);
    heap_ = nullptr;
    size_ = capacity_ = 0;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return capacity_ ? heap_ : std::launder(reinterpret_cast<T*>(inline_)); }
  const T* data() const {
    return capacity_ ? heap_ : std::launder(reinterpret_cast<const T*>(inline_));
  }
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
  std::size_t capacity() const { return capacity_ ? capacity_ : N; }
  void grow(std::size_t capacity) {
    T* bigger = std::allocator<T>().allocate(capacity);
    std::uninitialized_move_n(data(), size_, bigger);
    std::destroy_n(data(), size_);
    if (capacity_) std::allocator<T>().deallocate(heap_, capacity_);
    heap_ = bigger;
    capacity_ = static_cast<std::uint32_t>(capacity);
  }
  // Takes other's elements (this is empty), leaving other empty.
  void take(SmallVector& other) noexcept {
    if (other.capacity_) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
      size_ = other.size_;
    } else {
      std::uninitialized_move_n(other.data(), other.size_, data());
      std::destroy_n(other.data(), other.size_);
      size_ = other.size_;
    }
    other.heap_ = nullptr;
    other.size_ = other.capacity_ = 0;
  }

  alignas(T) unsigned char inline_[N * sizeof(T)];
  T* heap_ = nullptr;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;  // 0 while the elements are inline
};

}  // namespace xg::detail
