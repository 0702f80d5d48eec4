// Tensor's op methods: each is the free function of the same name in ops.hpp.
#include "../tensor/check.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

Tensor Tensor::add(const Tensor& other, Scalar alpha) const { return xg::add(*this, other, alpha); }
Tensor Tensor::sub(const Tensor& other, Scalar alpha) const { return xg::sub(*this, other, alpha); }
Tensor Tensor::mul(const Tensor& other) const { return xg::mul(*this, other); }
Tensor Tensor::div(const Tensor& other) const { return xg::div(*this, other); }
Tensor Tensor::pow(Scalar exponent) const { return xg::pow(*this, exponent); }
Tensor Tensor::pow(const Tensor& exponent) const { return xg::pow(*this, exponent); }
#define XG_UNARY_METHOD(E, name, ...) \
  Tensor Tensor::name() const { return xg::name(*this); }
XG_UNARY_OPS(XG_UNARY_METHOD)
#undef XG_UNARY_METHOD
Tensor Tensor::clamp(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return xg::clamp(*this, min, max);
}
Tensor Tensor::clamp_min(Scalar min) const { return xg::clamp_min(*this, min); }
Tensor Tensor::clamp_max(Scalar max) const { return xg::clamp_max(*this, max); }
Tensor Tensor::maximum(const Tensor& other) const { return xg::maximum(*this, other); }
Tensor Tensor::minimum(const Tensor& other) const { return xg::minimum(*this, other); }
#define XG_COMPARISON_METHODS(E, name, ...)                                         \
  Tensor Tensor::name(const Tensor& other) const { return xg::name(*this, other); } \
  Tensor Tensor::name(Scalar other) const { return xg::name(*this, other); }
XG_COMPARISON_OPS(XG_COMPARISON_METHODS)
#undef XG_COMPARISON_METHODS
Tensor Tensor::logical_and(const Tensor& other) const { return xg::logical_and(*this, other); }
Tensor Tensor::logical_or(const Tensor& other) const { return xg::logical_or(*this, other); }
Tensor Tensor::logical_xor(const Tensor& other) const { return xg::logical_xor(*this, other); }
Tensor Tensor::logical_not() const { return xg::logical_not(*this); }
Tensor Tensor::isnan() const { return xg::isnan(*this); }
Tensor Tensor::isinf() const { return xg::isinf(*this); }
Tensor Tensor::isfinite() const { return xg::isfinite(*this); }
Tensor Tensor::any() const { return xg::any(*this); }
Tensor Tensor::any(std::int64_t dim, bool keepdim) const { return xg::any(*this, dim, keepdim); }
Tensor Tensor::all() const { return xg::all(*this); }
Tensor Tensor::all(std::int64_t dim, bool keepdim) const { return xg::all(*this, dim, keepdim); }
Tensor Tensor::masked_fill(const Tensor& mask, Scalar value) const {
  return xg::masked_fill(*this, mask, value);
}
Tensor Tensor::masked_fill(const Tensor& mask, const Tensor& value) const {
  return xg::masked_fill(*this, mask, value);
}
Tensor Tensor::tril(std::int64_t k) const { return xg::tril(*this, k); }
Tensor Tensor::triu(std::int64_t k) const { return xg::triu(*this, k); }

Tensor Tensor::sum() const { return xg::sum(*this); }
Tensor Tensor::sum(const Shape& dims, bool keepdim) const { return xg::sum(*this, dims, keepdim); }
Tensor Tensor::mean() const { return xg::mean(*this); }
Tensor Tensor::mean(const Shape& dims, bool keepdim) const {
  return xg::mean(*this, dims, keepdim);
}
Tensor Tensor::max() const { return xg::max(*this); }
Tensor Tensor::min() const { return xg::min(*this); }
Tensor Tensor::amax(const Shape& dims, bool keepdim) const {
  return xg::amax(*this, dims, keepdim);
}
Tensor Tensor::amin(const Shape& dims, bool keepdim) const {
  return xg::amin(*this, dims, keepdim);
}
Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool keepdim) const {
  return xg::argmax(*this, dim, keepdim);
}
Tensor Tensor::argmin(std::optional<std::int64_t> dim, bool keepdim) const {
  return xg::argmin(*this, dim, keepdim);
}
Tensor Tensor::logsumexp(const Shape& dims, bool keepdim) const {
  return xg::logsumexp(*this, dims, keepdim);
}

Tensor Tensor::matmul(const Tensor& other) const { return xg::matmul(*this, other); }
Tensor Tensor::mm(const Tensor& other) const { return xg::mm(*this, other); }
Tensor Tensor::t() const { return xg::t(*this); }

Tensor Tensor::reshape(const Shape& shape) const { return xg::reshape(*this, shape); }
Tensor Tensor::view(const Shape& shape) const { return xg::view(*this, shape); }
Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  return xg::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::squeeze() const { return xg::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t dim) const { return xg::squeeze(*this, dim); }
Tensor Tensor::unsqueeze(std::int64_t dim) const { return xg::unsqueeze(*this, dim); }
Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const {
  return xg::transpose(*this, dim0, dim1);
}
Tensor Tensor::permute(const Shape& dims) const { return xg::permute(*this, dims); }
Tensor Tensor::expand(const Shape& shape) const { return xg::expand(*this, shape); }
Tensor Tensor::narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const {
  return xg::narrow(*this, dim, start, length);
}
Tensor Tensor::index_select(std::int64_t dim, const Tensor& index) const {
  return xg::index_select(*this, dim, index);
}
Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const {
  return xg::gather(*this, dim, index);
}
Tensor Tensor::masked_select(const Tensor& mask) const { return xg::masked_select(*this, mask); }
Tensor Tensor::diagonal(std::int64_t offset, std::int64_t dim1, std::int64_t dim2) const {
  return xg::diagonal(*this, offset, dim1, dim2);
}
Tensor Tensor::unflatten(std::int64_t dim, const Shape& sizes) const {
  return xg::unflatten(*this, dim, sizes);
}
std::tuple<Tensor, Tensor> Tensor::max(std::int64_t dim, bool keepdim) const {
  return xg::max(*this, dim, keepdim);
}
std::tuple<Tensor, Tensor> Tensor::min(std::int64_t dim, bool keepdim) const {
  return xg::min(*this, dim, keepdim);
}
Tensor Tensor::cumsum(std::int64_t dim) const { return xg::cumsum(*this, dim); }

Tensor Tensor::softmax(std::int64_t dim) const { return xg::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return xg::log_softmax(*this, dim); }

Tensor Tensor::contiguous() const { return xg::contiguous(*this); }
Tensor Tensor::select(std::int64_t dim, std::int64_t index) const {
  return xg::select(*this, dim, index);
}
Tensor Tensor::slice(std::int64_t dim, std::optional<std::int64_t> start,
                     std::optional<std::int64_t> end, std::int64_t step) const {
  return xg::slice(*this, dim, start, end, step);
}
std::vector<Tensor> Tensor::split(std::int64_t split_size, std::int64_t dim) const {
  return xg::split(*this, split_size, dim);
}
std::vector<Tensor> Tensor::split_with_sizes(const Shape& split_sizes, std::int64_t dim) const {
  return xg::split_with_sizes(*this, split_sizes, dim);
}
std::vector<Tensor> Tensor::chunk(std::int64_t chunks, std::int64_t dim) const {
  return xg::chunk(*this, chunks, dim);
}
std::vector<Tensor> Tensor::unbind(std::int64_t dim) const { return xg::unbind(*this, dim); }
Tensor Tensor::as_strided(const Shape& size, const Shape& stride,
                          std::optional<std::int64_t> storage_offset) const {
  return xg::as_strided(*this, size, stride, storage_offset);
}
Tensor Tensor::mT() const {
  XG_CHECK_ARG(dim() >= 2, "mT: expects a matrix or a batch of matrices, got ",
               detail::describe(*this));
  return xg::transpose(*this, -2, -1);
}
Tensor Tensor::expand_as(const Tensor& other) const { return xg::expand(*this, other.shape()); }

}  // namespace xg
