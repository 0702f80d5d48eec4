// The softmax family: softmax, log_softmax and logsumexp.
#include "../tensor/kernels.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

using detail::array_of;
using detail::make_tensor;

namespace {
// Int64 input computes in Float32, as PyTorch's softmax does with a default dtype.
Array floating(const Tensor& t) {
  return t.is_floating_point() ? array_of(t) : array_of(t).to(kFloat32);
}
}  // namespace

Tensor softmax(const Tensor& t, std::int64_t dim) {
  detail::check_defined(t, "softmax");
  const std::int64_t d = normalize_dim(dim, t.dim(), "softmax");
  return make_tensor(kernels::softmax(floating(t), t.dim() == 0 ? 0 : d));
}

Tensor log_softmax(const Tensor& t, std::int64_t dim) {
  detail::check_defined(t, "log_softmax");
  const std::int64_t d = normalize_dim(dim, t.dim(), "log_softmax");
  return make_tensor(kernels::log_softmax(floating(t), t.dim() == 0 ? 0 : d));
}

Tensor logsumexp(const Tensor& t, const Shape& dims, bool keepdim) {
  detail::check_defined(t, "logsumexp");
  const auto d = detail::normalize_dims(dims, t.dim(), "logsumexp");
  return make_tensor(kernels::logsumexp(floating(t), d, keepdim));
}

}  // namespace xg
