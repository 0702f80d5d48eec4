#include "array.hpp"

#include <algorithm>
#include <new>
#include <string>

#include "memory.hpp"
#include "scalar.hpp"

namespace xg {
namespace detail {

XShape to_xshape(const Shape& shape) {
  XShape out(shape.size());
  std::copy(shape.begin(), shape.end(), out.begin());
  return out;
}

XShape to_xshape(std::span<const std::size_t> sizes) { return XShape(sizes.begin(), sizes.end()); }

XShape broadcast_sizes(std::span<const std::size_t> a, std::span<const std::size_t> b,
                       const char* op) {
  const std::size_t ndim = std::max(a.size(), b.size());
  XShape out(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::size_t sa = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::size_t sb = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    if (sa != sb && sa != 1 && sb != 1) {
      // The slow path builds the shared message.
      broadcast_shapes(Shape(a.begin(), a.end()), Shape(b.begin(), b.end()), op);
    }
    out[i] = sa == 1 ? sb : sa;
  }
  check_shape(std::span<const std::size_t>(out.data(), out.size()), op);
  return out;
}

}  // namespace detail

namespace {

// 128 TiB, the user address space of x86-64 and AArch64 with 48-bit addresses: a larger request
// is refused without asking, since sanitizers' allocators abort on such requests instead of
// failing them.
constexpr std::uint64_t kMaxAllocation = std::uint64_t{1} << 47;

// Every array is allocated here: its shape is checked for overflow first (a kernel's result
// shape is derived from checked shapes, but a size-0 dim lets the others grow past int64), and
// running out of memory names the bytes asked for.
template <class Sizes>
Array allocate(Dtype dtype, const Sizes& sizes) {
  const std::int64_t numel = check_shape(std::span(sizes), nullptr, element_size(dtype));
  const auto bytes = static_cast<std::uint64_t>(numel) * element_size(dtype);
  try {
    if (bytes >= kMaxAllocation) throw std::bad_alloc();
    return detail::dispatch(dtype, [&](auto t) {
      using T = decltype(t);
      return Array(Array::Buffer<T>::from_shape(detail::to_xshape(sizes)));
    });
  } catch (const std::bad_alloc&) {
    throw OutOfMemoryError("out of memory: cannot allocate " + std::to_string(bytes) +
                           " bytes for a " +
                           shape_to_string(Shape(std::begin(sizes), std::end(sizes))) + " " +
                           std::string(dtype_name(dtype)) + " tensor");
  }
}

}  // namespace

Array Array::empty(Dtype dtype, const Shape& shape) { return allocate(dtype, shape); }

Array Array::empty_with_sizes(Dtype dtype, std::span<const std::size_t> sizes) {
  return allocate(dtype, sizes);
}

Array Array::full(Dtype dtype, const Shape& shape, double value) {
  Array out = empty(dtype, shape);
  out.visit([&](auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    std::fill(a.begin(), a.end(), static_cast<T>(value));
  });
  return out;
}

std::size_t Array::dim() const {
  return visit([](const auto& a) { return a.dimension(); });
}

std::int64_t Array::numel() const {
  return visit([](const auto& a) { return static_cast<std::int64_t>(a.size()); });
}

std::span<const std::size_t> Array::sizes() const {
  return visit([](const auto& a) {
    return std::span<const std::size_t>(a.shape().data(), a.shape().size());
  });
}

Shape Array::shape() const {
  auto s = sizes();
  return Shape(s.begin(), s.end());
}

Array Array::to(Dtype dtype) const {
  if (dtype == this->dtype()) return *this;
  return detail::dispatch(dtype, [&](auto t) {
    using R = decltype(t);
    return visit([&](const auto& a) {
      Array converted = Array::empty_with_sizes(dtype, a.shape());
      auto& out = converted.get<R>();
      std::transform(a.begin(), a.end(), out.begin(), [](auto v) {
        if constexpr (std::is_integral_v<R> && !std::is_integral_v<decltype(v)>) {
          return truncate_to_int64(v);  // NaN and overflow defined, as PyTorch's .to(int64)
        } else {
          return static_cast<R>(v);
        }
      });
      return converted;
    });
  });
}

double Array::at(std::int64_t i) const {
  return visit([&](const auto& a) { return static_cast<double>(a.data()[i]); });
}

}  // namespace xg
