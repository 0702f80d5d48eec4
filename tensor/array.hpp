// xg::Array: the dtype-tagged owner of one contiguous row-major xt::xarray<T> on xgrad's
// caching allocator.
#pragma once

#include <cstdint>
#include <span>
#include <variant>
#include <xtensor/xarray.hpp>

#include "allocator.hpp"
#include "dtype.hpp"
#include "shape.hpp"

namespace xg {

// Numbers only: no graph and no grad. Every kernel takes and returns Arrays.
class Array {
 public:
  // Data on xgrad's caching allocator (tensor/allocator.hpp).
  template <class T>
  using Buffer = xt::xarray<T, xt::layout_type::row_major, detail::CachingAllocator<T>>;
  using Variant = std::variant<Buffer<float>, Buffer<double>, Buffer<std::int64_t>>;

  Array() = default;  // a 0-d Float32 zero
  template <class T>
  explicit Array(Buffer<T> a) : value_(std::move(a)) {}
  // A copy of an xarray on the default allocator into xgrad's.
  template <class T>
  static Array copy_of(const xt::xarray<T>& a) {
    Buffer<T> out = Buffer<T>::from_shape(a.shape());
    std::copy(a.data(), a.data() + a.size(), out.data());
    return Array(std::move(out));
  }

  // Uninitialized storage of the given dtype and shape: one allocation.
  static Array empty(Dtype dtype, const Shape& shape);
  // The same from an existing array's sizes, without building a Shape.
  static Array empty_with_sizes(Dtype dtype, std::span<const std::size_t> sizes);
  static Array full(Dtype dtype, const Shape& shape, double value);

  Dtype dtype() const { return static_cast<Dtype>(value_.index()); }
  std::size_t dim() const;
  std::int64_t numel() const;
  std::span<const std::size_t> sizes() const;
  Shape shape() const;

  template <class T>
  Buffer<T>& get() {
    return std::get<Buffer<T>>(value_);
  }
  template <class T>
  const Buffer<T>& get() const {
    return std::get<Buffer<T>>(value_);
  }
  template <class T>
  T* data() {
    return get<T>().data();
  }
  template <class T>
  const T* data() const {
    return get<T>().data();
  }

  // Calls f(Buffer<T>&) with the held array.
  template <class F>
  decltype(auto) visit(F&& f) {
    return std::visit(std::forward<F>(f), value_);
  }
  template <class F>
  decltype(auto) visit(F&& f) const {
    return std::visit(std::forward<F>(f), value_);
  }

  // A converted copy; the same data (shared nothing, copied) when the dtype already matches.
  Array to(Dtype dtype) const;
  // Element i (row-major) as a double.
  double at(std::int64_t i) const;

 private:
  Variant value_;
};

namespace detail {

// Shape in xtensor's own type, for xt::xarray<T>::from_shape.
using XShape = xt::svector<std::size_t, 4>;
XShape to_xshape(const Shape& shape);
XShape to_xshape(std::span<const std::size_t> sizes);
// The shape two arrays broadcast to, built inline (no allocation up to four dims); throws
// std::invalid_argument naming `op` and both shapes when they do not broadcast.
XShape broadcast_sizes(std::span<const std::size_t> a, std::span<const std::size_t> b,
                       const char* op);

// Calls f(T{}) with the C++ element type of dtype.
template <class F>
decltype(auto) dispatch(Dtype dtype, F&& f) {
  switch (dtype) {
    case Dtype::Float32:
      return f(float{});
    case Dtype::Float64:
      return f(double{});
    default:
      return f(std::int64_t{});
  }
}

// Calls f(T{}) for floating dtypes only (Int64 is not expected there).
template <class F>
decltype(auto) dispatch_floating(Dtype dtype, F&& f) {
  if (dtype == Dtype::Float64) return f(double{});
  return f(float{});
}

}  // namespace detail
}  // namespace xg
