#include "shape.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "check.hpp"

namespace xg {

namespace {
template <class Size>
std::string sizes_to_string(std::span<const Size> sizes) {
  std::string out = "[";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(sizes[i]);
  }
  return out + "]";
}
}  // namespace

std::int64_t& Shape::throw_out_of_range() {
  throw std::out_of_range("Shape::at: index out of range");
}

std::string shape_to_string(const Shape& shape) {
  return sizes_to_string(std::span<const std::int64_t>(shape));
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

Shape broadcast_shapes(std::span<const std::int64_t> a, std::span<const std::int64_t> b,
                       const char* op) {
  const std::size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::int64_t sa = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::int64_t sb = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    XG_CHECK_ARG(sa == sb || sa == 1 || sb == 1, op, ": shapes ",
                 shape_to_string(Shape(a.begin(), a.end())), " and ",
                 shape_to_string(Shape(b.begin(), b.end())), " cannot be broadcast (size ", sa,
                 " != ", sb, " at dim ", i, ")");
    out[i] = sa == 1 ? sb : sa;
  }
  check_shape(out, op);
  return out;
}

std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, const char* op) {
  const std::int64_t range = std::max<std::int64_t>(ndim, 1);
  XG_CHECK_RANGE(dim >= -range && dim < range, op, ": dim ", dim,
                 " is out of range for a tensor of ", ndim, " dims (expected a dim in [", -range,
                 ", ", range - 1, "])");
  return dim < 0 ? dim + range : dim;
}

namespace {

// "op: ", or nothing without an op.
std::string prefix(const char* op) { return op ? std::string(op) + ": " : std::string(); }

template <class Size>
std::int64_t checked_numel(std::span<const Size> sizes, const char* op, std::size_t element_size) {
  if constexpr (std::is_signed_v<Size>) {
    for (auto s : sizes) {
      XG_CHECK_ARG(s >= 0, prefix(op), "negative size in shape ", sizes_to_string(sizes));
    }
  }
  // The extent (the product of the sizes with 0s counted as 1s) must fit too, unlike in PyTorch:
  // then every product of sizes that a kernel computes (strides, row counts) fits in int64, for
  // empty tensors as well. [0, 2^62, 4] is refused; PyTorch accepts it and refuses its sum(0).
  std::uint64_t extent = 1;
  bool empty = false;
  bool overflow = false;
  for (auto s : sizes) {
    empty |= s == 0;
    overflow |= __builtin_mul_overflow(extent, std::max<std::uint64_t>(s, 1), &extent);
  }
  std::uint64_t bytes = 0;
  overflow |= __builtin_mul_overflow(extent, static_cast<std::uint64_t>(element_size), &bytes);
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  XG_CHECK_ARG(!overflow && bytes <= kMax, prefix(op),
               "storage size calculation overflowed with sizes=", sizes_to_string(sizes));
  return empty ? 0 : static_cast<std::int64_t>(extent);
}

}  // namespace

std::int64_t check_shape(std::span<const std::int64_t> shape, const char* op,
                         std::size_t element_size) {
  return checked_numel(shape, op, element_size);
}

}  // namespace xg
