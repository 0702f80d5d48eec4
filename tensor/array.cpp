#include "array.hpp"

#include <algorithm>

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
  return out;
}

}  // namespace detail

Array Array::empty(Dtype dtype, const Shape& shape) {
  return detail::dispatch(dtype, [&](auto t) {
    using T = decltype(t);
    return Array(xt::xarray<T>::from_shape(detail::to_xshape(shape)));
  });
}

Array Array::empty_with_sizes(Dtype dtype, std::span<const std::size_t> sizes) {
  return detail::dispatch(dtype, [&](auto t) {
    using T = decltype(t);
    return Array(xt::xarray<T>::from_shape(detail::to_xshape(sizes)));
  });
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
      auto out = xt::xarray<R>::from_shape(a.shape());
      std::transform(a.begin(), a.end(), out.begin(), [](auto v) { return static_cast<R>(v); });
      return Array(std::move(out));
    });
  });
}

double Array::at(std::int64_t i) const {
  return visit([&](const auto& a) { return static_cast<double>(a.data()[i]); });
}

}  // namespace xg
