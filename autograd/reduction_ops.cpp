// Reductions: sum, mean, max/min, amax/amin, argmax/argmin.
#include <stdexcept>

#include "../tensor/kernels.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

using detail::array_of;
using detail::check_defined;
using detail::make_tensor;

namespace {

// Max and min have no identity: reducing over a dim of size 0 is an error, as in PyTorch.
void check_nonempty(const Tensor& t, const std::vector<std::int64_t>& dims, const char* op) {
  const Shape shape = t.shape();
  for (auto d : dims) {
    if (shape[static_cast<std::size_t>(d)] == 0) {
      throw std::invalid_argument(std::string(op) + ": cannot reduce over dim " +
                                  std::to_string(d) + " of size 0 of a " + detail::describe(t) +
                                  " tensor (there is no identity to return)");
    }
  }
}

std::int64_t reduced_count(const Tensor& t, const std::vector<std::int64_t>& dims) {
  const Shape shape = t.shape();
  std::int64_t n = 1;
  for (auto d : dims) n *= shape[static_cast<std::size_t>(d)];
  return n;
}

}  // namespace

Tensor sum(const Tensor& t) {
  check_defined(t, "sum");
  return make_tensor(kernels::sum_all(array_of(t)));
}

Tensor sum(const Tensor& t, const Shape& dims, bool keepdim) {
  check_defined(t, "sum");
  const auto d = detail::normalize_dims(dims, t.dim(), "sum");
  return make_tensor(kernels::sum(array_of(t), d, keepdim));
}

Tensor detail::sum_to(const Tensor& grad, const Shape& shape) {
  const Shape from = grad.shape();
  const std::size_t lead = from.size() - shape.size();
  Shape dims;
  for (std::size_t d = 0; d < from.size(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && from[d] != 1))
      dims.push_back(static_cast<std::int64_t>(d));
  }
  if (dims.empty()) return from == shape ? grad : reshape(grad, shape);
  return reshape(sum(grad, dims, true), shape);
}

Tensor mean(const Tensor& t) {
  detail::check_floating(t, "mean");
  return sum(t) / static_cast<double>(t.numel());
}

Tensor mean(const Tensor& t, const Shape& dims, bool keepdim) {
  detail::check_floating(t, "mean");
  const auto d = detail::normalize_dims(dims, t.dim(), "mean");
  return sum(t, dims, keepdim) / static_cast<double>(reduced_count(t, d));
}

Tensor max(const Tensor& t) { return amax(t); }
Tensor min(const Tensor& t) { return amin(t); }

Tensor amax(const Tensor& t, const Shape& dims, bool keepdim) {
  check_defined(t, "amax");
  const auto d = detail::normalize_dims(dims, t.dim(), "amax");
  check_nonempty(t, d, "amax");
  return make_tensor(kernels::amax(array_of(t), d, keepdim));
}

Tensor amin(const Tensor& t, const Shape& dims, bool keepdim) {
  check_defined(t, "amin");
  const auto d = detail::normalize_dims(dims, t.dim(), "amin");
  check_nonempty(t, d, "amin");
  return make_tensor(kernels::amin(array_of(t), d, keepdim));
}

namespace {
template <bool IsMax>
Tensor arg_extreme(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim, const char* op) {
  check_defined(t, op);
  const std::int64_t d = dim ? normalize_dim(*dim, t.dim(), op) : -1;
  // Without a dim the tensor is flattened: every dim is reduced.
  check_nonempty(
      t, dim ? std::vector<std::int64_t>(t.dim() > 0, d) : detail::normalize_dims({}, t.dim(), op),
      op);
  const std::int64_t kernel_dim = t.dim() == 0 ? -1 : d;
  Array out = IsMax ? kernels::argmax(array_of(t), kernel_dim, keepdim)
                    : kernels::argmin(array_of(t), kernel_dim, keepdim);
  return make_tensor(std::move(out));
}
}  // namespace

Tensor argmax(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<true>(t, dim, keepdim, "argmax");
}
Tensor argmin(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<false>(t, dim, keepdim, "argmin");
}

}  // namespace xg
