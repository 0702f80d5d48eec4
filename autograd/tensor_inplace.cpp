// xg::Tensor's in-place ops (fill_, zero_, add_, sub_, mul_, div_, masked_fill_, copy_): the
// checks they share, and run_inplace, which records them in grad mode.
#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "ops.hpp"
#include "record.hpp"

namespace xg {

using detail::array_of;
using detail::check_defined;
using detail::describe;

namespace {

// The checks every in-place op shares, as PyTorch's: a leaf that requires grad, or a view of
// one, cannot be changed in place while grad mode is on (its .grad would describe values it no
// longer holds). Any other tensor can: the change is recorded (see run_inplace).
void check_inplace(const Tensor& self, const char* op) {
  check_defined(self, op);
  if (!GradMode::is_enabled()) return;
  XG_CHECK_STATE(!(self.requires_grad() && self.is_leaf()), op,
                 ": a leaf tensor that requires grad (", describe(self),
                 ") cannot be changed in place while grad mode is on; wrap the update in "
                 "xg::NoGradGuard, change a detach()ed copy, or use the out-of-place op");
  const auto& base = self.impl()->view_base;
  XG_CHECK_STATE(!(base && base->requires_grad && !base->grad_fn), op,
                 ": a view of a leaf tensor that requires grad (", describe(self), " of ",
                 describe(Tensor(base)),
                 ") cannot be changed in place while grad mode is on; wrap the update in "
                 "xg::NoGradGuard, or change a clone()");
}

// Called after the operands are checked, right before the write.
void check_no_overlap(const Tensor& self, const char* op) {
  XG_CHECK_STATE(!array_of(self).has_internal_overlap(), op, ": ", describe(self),
                 " has elements that share one memory location (an expand()ed or as_strided "
                 "view), so it cannot be written in place; clone() it first");
}

// PyTorch's can_cast: a floating result fits only a floating tensor, and only a Bool one a Bool.
bool fits_in_place(Dtype result, Dtype self) {
  return !(is_floating(result) && !is_floating(self)) && (self != kBool || result == kBool);
}
std::string integer_tensor(const Tensor& self) {
  return self.dtype() == kBool ? "a Bool tensor" : "an Int64 tensor";
}

// `other` must broadcast to self's shape without changing it, and its dtype must fit self's.
void check_inplace_operand(const Tensor& self, const Tensor& other, const char* op,
                           bool true_division = false) {
  check_defined(other, op);
  const Shape target = self.shape();
  const Shape b = broadcast_shapes(target, other.shape(), op);
  XG_CHECK_ARG(b == target, op, ": the result of shape ", shape_to_string(b),
               " does not fit in place in a tensor of shape ", shape_to_string(target),
               " (other is ", describe(other), ")");
  Dtype result = promote_types(self.dtype(), other.dtype());
  if (true_division && !is_floating(result)) result = Dtype::Float32;
  XG_CHECK_ARG(fits_in_place(result, self.dtype()), op, ": the result type ", dtype_name(result),
               " cannot be stored in place in ", integer_tensor(self), " (", describe(self),
               ", other ", describe(other), ")");
}

void check_inplace_scalar(const Tensor& self, const Scalar& s, const char* op,
                          bool true_division = false) {
  Dtype result = result_type(self.dtype(), s);
  if (true_division && !is_floating(result)) result = Dtype::Float32;
  XG_CHECK_ARG(fits_in_place(result, self.dtype()), op, ": the result type ", dtype_name(result),
               " cannot be stored in place in ", integer_tensor(self), " (", describe(self), ")");
}

// The node of a tensor that no longer depends on its old value (fill_, or copy_ from a tensor
// that needs no gradient): backward gives nothing back.
Tensor constant_result(Array value, const char* op) {
  Tensor out = detail::make_tensor(std::move(value));
  return autograd::attach(
      std::move(out), op, std::vector<Tensor>{}, autograd::kSaveNone,
      [](const Tensor&, const autograd::BackwardArgs&) { return autograd::GradientList{}; });
}

// Makes `self` (whose data now holds `result`'s values) the output of result's node, as
// PyTorch's rebase_history. `self_is_input`: input 0 of that node is self's old value.
// A view's base gets a CopySlices node instead, and the view is seen through the base's new
// history.
void rebase_history(const Tensor& self, const Tensor& result, bool self_is_input) {
  const auto& impl = self.impl();
  std::shared_ptr<autograd::Node> fn = result.impl()->grad_fn;
  if (!impl->view_base) {
    impl->grad_fn = std::move(fn);
    impl->requires_grad = true;
    return;
  }
  const Tensor base(impl->view_base);  // contiguous: run_inplace checked it
  auto copy_slices =
      detail::make_pooled<autograd::CopySlices>(base, self, std::move(fn), self_is_input);
  impl->view_base->grad_fn = std::move(copy_slices);
  impl->view_base->requires_grad = true;
  impl->view_version = ~array_of(self).version();  // stale: regenerated from the base now
  autograd::refresh_view(impl);
}

// An in-place op: `kernel` writes the new values into self when nothing is recorded; when grad
// mode is on and self or an operand requires grad, `compute(old)` computes them out of place
// from self's old value (recording the op), they are copied into self, and self's history is
// rebased onto the op. `needs_old`: the op's backward reads self's old value, which is then
// cloned first so that the write does not invalidate it.
template <class Kernel, class Compute>
Tensor& run_inplace(Tensor& self, const char* op, std::initializer_list<Tensor> operands,
                    bool needs_old, bool self_is_input, Kernel&& kernel, Compute&& compute) {
  autograd::refresh_if_stale(self.impl());
  bool record = GradMode::is_enabled() && self.requires_grad();
  for (const Tensor& t : operands) {
    if (GradMode::is_enabled()) autograd::refresh_if_stale(t.impl());
    record = record || (GradMode::is_enabled() && t.requires_grad());
  }
  if (!record) {
    kernel();
    detail::bump_version(self);
    return self;
  }
  const auto& base = self.impl()->view_base;
  XG_CHECK_STATE(!(base && !base->array.is_contiguous()), op, ": ", describe(self),
                 " is a view of ", describe(Tensor(base)),
                 ", which is not contiguous: xgrad cannot record an in-place change of such a "
                 "view; change base.contiguous() or a clone() instead");
  Tensor result = compute(needs_old ? self.clone() : self);
  if (!result.impl()->grad_fn) result = constant_result(array_of(result), op);
  detail::copy_into(array_of(self), array_of(result));
  detail::bump_version(self);
  rebase_history(self, result, self_is_input);
  return self;
}

Tensor& fill_with(Tensor& self, const Scalar& value, const char* op) {
  check_inplace(self, op);
  if (self.dtype() == kInt64) value.to_int64(op);  // throws for a value Int64 cannot hold
  check_no_overlap(self, op);
  return run_inplace(
      self, op, {}, false, false, [&] { kernels::fill(detail::mutable_array_of(self), value); },
      [&](const Tensor&) {
        Array filled = Array::empty_with_sizes(self.dtype(), array_of(self).sizes());
        kernels::fill(filled, value);
        return constant_result(std::move(filled), op);
      });
}

// other in self's dtype: an in-place op never changes it (the checks made sure it fits).
Tensor in_dtype_of(const Tensor& self, const Tensor& other) {
  return other.dtype() == self.dtype() ? other : other.to(self.dtype());
}

}  // namespace

Tensor& Tensor::zero_() { return fill_with(*this, 0, "zero_"); }
Tensor& Tensor::fill_(Scalar value) { return fill_with(*this, value, "fill_"); }

Tensor& Tensor::add_(const Tensor& other, Scalar alpha) {
  check_inplace(*this, "add_");
  check_inplace_operand(*this, other, "add_");
  detail::check_alpha(*this, other, alpha, "add_");
  check_no_overlap(*this, "add_");
  return run_inplace(
      *this, "add_", {other}, false, true,
      [&] {
        kernels::add_scaled_inplace(detail::mutable_array_of(*this), array_of(other),
                                    alpha.to_double());
      },
      [&](const Tensor& old) { return xg::add(old, in_dtype_of(*this, other), alpha); });
}

Tensor& Tensor::sub_(const Tensor& other, Scalar alpha) {
  check_inplace(*this, "sub_");
  detail::check_sub(*this, other, "sub_");
  check_inplace_operand(*this, other, "sub_");
  detail::check_alpha(*this, other, alpha, "sub_");
  check_no_overlap(*this, "sub_");
  return run_inplace(
      *this, "sub_", {other}, false, true,
      [&] {
        kernels::add_scaled_inplace(detail::mutable_array_of(*this), array_of(other),
                                    -alpha.to_double());
      },
      [&](const Tensor& old) { return xg::sub(old, in_dtype_of(*this, other), alpha); });
}

namespace {
Tensor binary_out_of_place(kernels::BinaryOp op, const Tensor& a, const Tensor& b) {
  switch (op) {
    case kernels::BinaryOp::Mul:
      return xg::mul(a, b);
    default:
      return xg::div(a, b);
  }
}

Tensor& inplace_binary(Tensor& self, const Tensor& other, kernels::BinaryOp op, const char* name) {
  check_inplace(self, name);
  check_inplace_operand(self, other, name, op == kernels::BinaryOp::Div);
  check_no_overlap(self, name);
  return run_inplace(
      self, name, {other}, true, true,
      [&] { kernels::binary_inplace(op, detail::mutable_array_of(self), array_of(other)); },
      [&](const Tensor& old) {
        // x.mul_(x): the other operand is the old value too.
        const Tensor o = other.impl() == self.impl() ? old : in_dtype_of(self, other);
        return binary_out_of_place(op, old, o);
      });
}

Tensor& inplace_scalar(Tensor& self, Scalar other, kernels::BinaryOp op, const char* name) {
  check_inplace(self, name);
  check_inplace_scalar(self, other, name, op == kernels::BinaryOp::Div);
  check_no_overlap(self, name);
  return run_inplace(
      self, name, {}, false, true,
      [&] { kernels::binary_scalar_inplace(op, detail::mutable_array_of(self), other); },
      [&](const Tensor& old) {
        switch (op) {
          case kernels::BinaryOp::Add:
            return old + other;
          case kernels::BinaryOp::Sub:
            return old - other;
          case kernels::BinaryOp::Mul:
            return old * other;
          default:
            return old / other;
        }
      });
}
}  // namespace

Tensor& Tensor::add_(Scalar other) {
  return inplace_scalar(*this, other, kernels::BinaryOp::Add, "add_");
}
Tensor& Tensor::sub_(Scalar other) {
  detail::check_sub(*this, other, false, "sub_");
  return inplace_scalar(*this, other, kernels::BinaryOp::Sub, "sub_");
}
Tensor& Tensor::mul_(const Tensor& other) {
  return inplace_binary(*this, other, kernels::BinaryOp::Mul, "mul_");
}
Tensor& Tensor::mul_(Scalar other) {
  return inplace_scalar(*this, other, kernels::BinaryOp::Mul, "mul_");
}
Tensor& Tensor::div_(const Tensor& other) {
  return inplace_binary(*this, other, kernels::BinaryOp::Div, "div_");
}
Tensor& Tensor::div_(Scalar other) {
  return inplace_scalar(*this, other, kernels::BinaryOp::Div, "div_");
}

namespace {
// masked_fill_ with the value as a number, or as the 0-d tensor `value_tensor` (which may
// require grad): recorded as masked_fill of the old value in grad mode, as the other in-place ops.
Tensor& masked_fill_inplace(Tensor& self, const Tensor& mask, const Scalar& value,
                            const Tensor& value_tensor) {
  check_inplace(self, "masked_fill_");
  detail::check_mask(mask, "masked_fill_");
  check_inplace_operand(self, mask, "masked_fill_");           // the mask broadcasts to this shape
  if (self.dtype() == kInt64) value.to_int64("masked_fill_");  // a value Int64 cannot hold throws
  check_no_overlap(self, "masked_fill_");
  auto kernel = [&] {
    kernels::masked_fill(detail::mutable_array_of(self), array_of(mask), value);
  };
  if (value_tensor.defined()) {
    return run_inplace(self, "masked_fill_", {mask, value_tensor}, false, true, kernel,
                       [&](const Tensor& old) { return xg::masked_fill(old, mask, value_tensor); });
  }
  return run_inplace(self, "masked_fill_", {mask}, false, true, kernel,
                     [&](const Tensor& old) { return xg::masked_fill(old, mask, value); });
}
}  // namespace

Tensor& Tensor::masked_fill_(const Tensor& mask, Scalar value) {
  return masked_fill_inplace(*this, mask, value, Tensor());
}

Tensor& Tensor::masked_fill_(const Tensor& mask, const Tensor& value) {
  return masked_fill_inplace(*this, mask, detail::masked_fill_value(value, "masked_fill_"), value);
}

Tensor& Tensor::copy_(const Tensor& src) {
  check_inplace(*this, "copy_");
  check_defined(src, "copy_");
  const Shape target = shape();
  XG_CHECK_ARG(broadcast_shapes(target, src.shape(), "copy_") == target,
               "copy_: a source of shape ", shape_to_string(src.shape()),
               " does not broadcast to the destination's shape ", shape_to_string(target));
  check_no_overlap(*this, "copy_");
  return run_inplace(
      *this, "copy_", {src}, false, false,
      [&] {
        const Array& dst = detail::mutable_array_of(*this);
        const Array& from = array_of(src);
        // A source sharing this buffer in another layout is read from a copy, so that no
        // element is overwritten before it is read.
        detail::copy_into(dst,
                          from.shares_storage(dst) && !from.same_view(dst) ? from.clone() : from);
      },
      [&](const Tensor&) {
        // The source converted and broadcast: its gradient is summed back to src's shape.
        const Tensor converted = in_dtype_of(*this, src);
        return converted.shape() == target ? converted.clone() : xg::expand(converted, target);
      });
}

}  // namespace xg
