// Shapes: the xg::Shape type, broadcasting, and dim checks shared by every op.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace xg {

// Sizes of a tensor's dims, outermost first; {} is a 0-d (scalar) tensor. Also a list of dims
// (as LibTorch's IntArrayRef). Up to kInline sizes live inside the object, so building,
// copying and returning the shape of a tensor of up to six dims allocates nothing. Built from
// braced lists and from std::vector<int64_t>, and converts back; otherwise a vector's interface.
class Shape {
 public:
  static constexpr std::size_t kInline = 6;
  using value_type = std::int64_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = std::int64_t&;
  using const_reference = const std::int64_t&;
  using pointer = std::int64_t*;
  using const_pointer = const std::int64_t*;
  using iterator = std::int64_t*;
  using const_iterator = const std::int64_t*;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> sizes) { assign(sizes.begin(), sizes.end()); }
  Shape(const std::vector<std::int64_t>& sizes)  // NOLINT(google-explicit-constructor)
  {
    assign(sizes.begin(), sizes.end());
  }
  explicit Shape(std::size_t count, std::int64_t value = 0) { resize(count, value); }
  template <class It>
  requires(!std::is_integral_v<It>) Shape(It first, It last) { assign(first, last); }
  Shape(const Shape& other) { assign(other.begin(), other.end()); }
  Shape(Shape&& other) noexcept { take(other); }
  Shape& operator=(const Shape& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  Shape& operator=(Shape&& other) noexcept {
    if (this != &other) {
      heap_.reset();
      capacity_ = kInline;
      take(other);
    }
    return *this;
  }
  ~Shape() = default;

  operator std::vector<std::int64_t>() const {  // NOLINT(google-explicit-constructor)
    return std::vector<std::int64_t>(begin(), end());
  }
  std::vector<std::int64_t> vec() const { return *this; }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::int64_t* data() { return heap_ ? heap_.get() : inline_; }
  const std::int64_t* data() const { return heap_ ? heap_.get() : inline_; }
  std::int64_t& operator[](std::size_t i) { return data()[i]; }
  const std::int64_t& operator[](std::size_t i) const { return data()[i]; }
  std::int64_t& at(std::size_t i) { return i < size_ ? data()[i] : throw_out_of_range(); }
  const std::int64_t& at(std::size_t i) const {
    return i < size_ ? data()[i] : throw_out_of_range();
  }
  std::int64_t& front() { return data()[0]; }
  const std::int64_t& front() const { return data()[0]; }
  std::int64_t& back() { return data()[size_ - 1]; }
  const std::int64_t& back() const { return data()[size_ - 1]; }
  iterator begin() { return data(); }
  iterator end() { return data() + size_; }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  std::reverse_iterator<iterator> rbegin() { return std::reverse_iterator<iterator>(end()); }
  std::reverse_iterator<iterator> rend() { return std::reverse_iterator<iterator>(begin()); }
  std::reverse_iterator<const_iterator> rbegin() const {
    return std::reverse_iterator<const_iterator>(end());
  }
  std::reverse_iterator<const_iterator> rend() const {
    return std::reverse_iterator<const_iterator>(begin());
  }

  void reserve(std::size_t n) {
    if (n > capacity_) grow(n);
  }
  void clear() { size_ = 0; }
  void push_back(std::int64_t v) {
    if (size_ == capacity_) grow(2 * capacity_);
    data()[size_++] = v;
  }
  template <class... Args>
  std::int64_t& emplace_back(Args&&... args) {
    push_back(std::int64_t(std::forward<Args>(args)...));
    return back();
  }
  void pop_back() { --size_; }
  void resize(std::size_t n, std::int64_t value = 0) {
    reserve(n);
    for (std::size_t i = size_; i < n; ++i) data()[i] = value;
    size_ = n;
  }
  void assign(std::size_t count, std::int64_t value) {
    size_ = 0;
    resize(count, value);
  }
  template <class It>
  requires(!std::is_integral_v<It>) void assign(It first, It last) {
    // Room first: a failed allocation leaves the shape as it was.
    reserve(static_cast<std::size_t>(std::distance(first, last)));
    size_ = 0;
    for (; first != last; ++first) data()[size_++] = static_cast<std::int64_t>(*first);
  }
  iterator insert(const_iterator pos, std::int64_t v) {
    const auto i = static_cast<std::size_t>(pos - begin());
    push_back(v);
    std::rotate(begin() + i, end() - 1, end());
    return begin() + i;
  }
  template <class It>
  requires(!std::is_integral_v<It>) iterator insert(const_iterator pos, It first, It last) {
    const auto i = static_cast<std::size_t>(pos - begin());
    const Shape values(first, last);  // a copy: the range may lie in this shape
    reserve(size_ + values.size());
    const std::size_t old = size_;
    for (const std::int64_t v : values) data()[size_++] = v;
    std::rotate(begin() + i, begin() + old, end());
    return begin() + i;
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const auto i = static_cast<std::size_t>(first - begin());
    const auto j = static_cast<std::size_t>(last - begin());
    std::copy(begin() + j, end(), begin() + i);
    size_ -= j - i;
    return begin() + i;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.size_ != b.size_) return false;
    const std::int64_t *x = a.data(), *y = b.data();
    for (std::size_t i = 0; i < a.size_; ++i) {  // a few sizes: a loop, not a call to memcmp
      if (x[i] != y[i]) return false;
    }
    return true;
  }
  friend bool operator<(const Shape& a, const Shape& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  [[noreturn]] static std::int64_t& throw_out_of_range();
  void grow(std::size_t capacity) {
    capacity = std::max<std::size_t>(capacity, kInline);
    auto bigger = std::make_unique<std::int64_t[]>(capacity);
    std::copy(begin(), end(), bigger.get());
    heap_ = std::move(bigger);
    capacity_ = capacity;
  }
  void take(Shape& other) {
    if (other.heap_) {
      heap_ = std::move(other.heap_);
      capacity_ = other.capacity_;
    } else {
      std::copy(other.inline_, other.inline_ + other.size_, inline_);
    }
    size_ = other.size_;
    other.size_ = 0;
    other.capacity_ = kInline;
  }

  // Not zeroed: only the first size_ are ever read (a shape is built for every op's result).
  std::int64_t inline_[kInline];
  std::unique_ptr<std::int64_t[]> heap_;
  std::size_t size_ = 0;
  std::size_t capacity_ = kInline;
};

// "[2, 3]", the spelling every error message uses.
std::string shape_to_string(const Shape& shape);

// Number of elements of a tensor of this shape (1 for a 0-d tensor).
std::int64_t shape_numel(const Shape& shape);

// The shape two operands broadcast to, as torch.broadcast_shapes; throws std::invalid_argument
// naming `op` when they do not broadcast.
// (A Shape, or an array's sizes, converts to the span.)
Shape broadcast_shapes(std::span<const std::int64_t> a, std::span<const std::int64_t> b,
                       const char* op);

// Maps a possibly negative dim into [0, ndim); throws std::out_of_range naming `op`.
// A 0-d tensor accepts dims 0 and -1, as in PyTorch.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, const char* op);

// Every shape a tensor is built with passes here once. Returns its element count after checking
// that no size is negative and that the count, and its size in bytes at `element_size` bytes an
// element, fit in int64 (PyTorch's "Storage size calculation overflowed"). Stricter than PyTorch
// for empty tensors: the product of the nonzero sizes must fit as well, so [0, 2^62, 4] is
// refused (every product of sizes a kernel forms then fits). Throws std::invalid_argument naming
// `op`; with op == nullptr (a kernel's result, whose op it does not know) the message names none.
std::int64_t check_shape(std::span<const std::int64_t> shape, const char* op,
                         std::size_t element_size = 1);

}  // namespace xg
