// xg::TensorOptions: the dtype and requires_grad a creation function is given.
#include "tensor.hpp"

namespace xg {

TensorOptions TensorOptions::dtype(Dtype dtype) const {
  TensorOptions o = *this;
  o.dtype_ = dtype;
  return o;
}

TensorOptions TensorOptions::requires_grad(bool requires_grad) const {
  TensorOptions o = *this;
  o.requires_grad_ = requires_grad;
  return o;
}

}  // namespace xg
