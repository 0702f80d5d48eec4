// Copies of a tensor: clone, to (a dtype conversion) and contiguous, all recorded.
#include "../tensor/check.hpp"
#include "ops.hpp"
#include "record.hpp"

namespace xg {

using detail::array_of;
using detail::check_defined;

Tensor Tensor::clone() const {
  check_defined(*this, "clone");
  return autograd::record(
      "clone", array_of(*this).clone(), {*this}, autograd::kSaveNone,
      [](const Tensor& g, const autograd::BackwardArgs&) { return autograd::GradientList{g}; });
}

Tensor Tensor::to(Dtype dtype) const {
  check_defined(*this, "to");
  if (dtype == this->dtype()) return *this;
  if (requires_grad() && !is_floating(dtype)) {
    // PyTorch allows it and drops the graph; an Int64 copy can never carry a gradient.
    return detail::make_tensor(array_of(*this).to(dtype));
  }
  return autograd::record("to", array_of(*this).to(dtype), {*this}, autograd::kSaveNone,
                          [from = this->dtype()](const Tensor& g, const autograd::BackwardArgs&) {
                            return autograd::GradientList{g.to(from)};
                          });
}

Tensor contiguous(const Tensor& t) {
  check_defined(t, "contiguous");
  if (array_of(t).is_contiguous()) return t;
  return autograd::record(
      "contiguous", array_of(t).clone(), {t}, autograd::kSaveNone,
      [](const Tensor& g, const autograd::BackwardArgs&) { return autograd::GradientList{g}; });
}

}  // namespace xg
