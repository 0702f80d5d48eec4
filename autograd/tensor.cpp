// xg::Tensor: reading, autograd state, in-place ops and printing.
#include "tensor.hpp"

#include <algorithm>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <xtensor/xarray.hpp>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "autograd.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "ops.hpp"
#include "record.hpp"

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

namespace detail {

Tensor make_tensor(Array&& array, bool requires_grad) {
  auto impl = make_pooled<TensorImpl>(std::move(array));
  impl->requires_grad = requires_grad;
  return Tensor(std::move(impl));
}

std::string describe(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  return shape_to_string(t.shape()) + " " + std::string(dtype_name(t.dtype()));
}

void check_defined(const Tensor& t, const char* op) {
  XG_CHECK_ARG(t.defined(), op, ": got an undefined tensor (default-constructed xg::Tensor)");
}

void check_floating(const Tensor& t, const char* op) {
  check_defined(t, op);
  XG_CHECK_ARG(t.is_floating_point(), op, ": expected a Float32 or Float64 tensor, got ",
               describe(t));
}

std::vector<std::int64_t> normalize_dims(const Shape& dims, std::int64_t ndim, const char* op) {
  std::vector<std::int64_t> out;
  if (dims.empty()) {
    for (std::int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (auto d : dims) out.push_back(normalize_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  XG_CHECK_ARG(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": dims ",
               shape_to_string(dims), " name the same dim twice");
  if (ndim == 0) out.clear();  // dim 0 / -1 of a 0-d tensor: nothing to reduce
  return out;
}

void bump_version(const Tensor& t) {
  check_defined(t, "bump_version");
  t.impl()->array.bump_version();
}

namespace {
void check_one_element(const Tensor& t) {
  check_defined(t, "item");
  XG_CHECK_ARG(t.numel() == 1, "item: a tensor with ", t.numel(),
               " elements cannot be converted to a number (shape ", shape_to_string(t.shape()),
               "); item() needs exactly one");
}
}  // namespace

std::int64_t item_int64(const Tensor& t) {
  check_one_element(t);
  const Array& a = array_of(t);
  if (a.dtype() == Dtype::Int64) return a.data<std::int64_t>()[0];
  return checked_int64(a.at(0), "item");
}

}  // namespace detail

using detail::array_of;
using detail::check_defined;
using detail::describe;

Tensor::Tensor(std::shared_ptr<detail::TensorImpl> impl) : impl_(std::move(impl)) {}

Shape Tensor::shape() const {
  check_defined(*this, "shape");
  return array_of(*this).shape();
}

std::int64_t Tensor::dim() const {
  check_defined(*this, "dim");
  return static_cast<std::int64_t>(array_of(*this).dim());
}

std::int64_t Tensor::numel() const {
  check_defined(*this, "numel");
  return array_of(*this).numel();
}

std::int64_t Tensor::size(std::int64_t d) const {
  const auto ndim = dim();
  XG_CHECK_RANGE(ndim != 0, "size: a 0-d tensor has no dims (asked for dim ", d, ")");
  return static_cast<std::int64_t>(
      array_of(*this).sizes()[static_cast<std::size_t>(normalize_dim(d, ndim, "size"))]);
}

bool Tensor::is_same_size(const Tensor& other) const {
  check_defined(*this, "is_same_size");
  check_defined(other, "is_same_size");
  return array_of(*this).sizes() == array_of(other).sizes();
}

Shape Tensor::stride() const {
  check_defined(*this, "stride");
  return array_of(*this).stride_vector();
}

std::int64_t Tensor::stride(std::int64_t d) const {
  const auto ndim = dim();
  XG_CHECK_RANGE(ndim != 0, "stride: a 0-d tensor has no dims (asked for dim ", d, ")");
  return array_of(*this).strides()[static_cast<std::size_t>(normalize_dim(d, ndim, "stride"))];
}

std::int64_t Tensor::storage_offset() const {
  check_defined(*this, "storage_offset");
  return array_of(*this).offset();
}

bool Tensor::is_contiguous() const {
  check_defined(*this, "is_contiguous");
  return array_of(*this).is_contiguous();
}

bool Tensor::is_alias_of(const Tensor& other) const {
  check_defined(*this, "is_alias_of");
  check_defined(other, "is_alias_of");
  return array_of(*this).shares_storage(array_of(other));
}

Dtype Tensor::dtype() const {
  check_defined(*this, "dtype");
  return array_of(*this).dtype();
}

double Tensor::item() const {
  detail::check_one_element(*this);
  return array_of(*this).at(0);
}

template <class T>
T* Tensor::data_ptr() const {
  check_defined(*this, "data_ptr");
  XG_CHECK_ARG(dtype() == dtype_of<T>(), "data_ptr: asked for ", dtype_name(dtype_of<T>()),
               " elements of a ", describe(*this), " tensor");
  return detail::mutable_array_of(*this).data<T>();
}
template float* Tensor::data_ptr<float>() const;
template double* Tensor::data_ptr<double>() const;
template std::int64_t* Tensor::data_ptr<std::int64_t>() const;
template bool* Tensor::data_ptr<bool>() const;

template <class T>
xt::xarray<T> Tensor::to_xarray() const {
  check_defined(*this, "to_xarray");
  const Array converted = array_of(*this).to(dtype_of<T>()).contiguous();
  const auto& sizes = converted.sizes();
  xt::xarray<T> out = xt::xarray<T>::from_shape(sizes);
  std::copy(converted.data<T>(), converted.data<T>() + converted.numel(), out.data());
  return out;
}
template xt::xarray<float> Tensor::to_xarray<float>() const;
template xt::xarray<double> Tensor::to_xarray<double>() const;
template xt::xarray<std::int64_t> Tensor::to_xarray<std::int64_t>() const;
template xt::xarray<bool> Tensor::to_xarray<bool>() const;

template <class T>
Tensor from_xarray(xt::xarray<T> a, bool requires_grad) {
  const Shape sizes(a.shape().begin(), a.shape().end());
  Array copy = Array::empty_with_sizes(dtype_of<T>(), sizes);  // onto xgrad's allocator
  std::copy(a.data(), a.data() + a.size(), copy.data<T>());
  Tensor t = detail::make_tensor(std::move(copy));
  if (requires_grad) t.requires_grad_(true);
  return t;
}
template Tensor from_xarray<float>(xt::xarray<float>, bool);
template Tensor from_xarray<double>(xt::xarray<double>, bool);
template Tensor from_xarray<std::int64_t>(xt::xarray<std::int64_t>, bool);
template Tensor from_xarray<bool>(xt::xarray<bool>, bool);

bool Tensor::requires_grad() const {
  check_defined(*this, "requires_grad");
  autograd::refresh_if_stale(impl_);  // a view whose base started requiring grad does too
  return impl_->requires_grad;
}

Tensor& Tensor::requires_grad_(bool requires_grad) {
  check_defined(*this, "requires_grad_");
  XG_CHECK_STATE(requires_grad || is_leaf(), "requires_grad_: ", describe(*this),
                 " was computed by an op; only a leaf can stop requiring grad (use detach() to "
                 "get a tensor without a graph)");
  XG_CHECK_ARG(!requires_grad || is_floating_point(),
               "requires_grad_: only Float32 and Float64 tensors can require grad, got ",
               describe(*this));
  impl_->requires_grad = requires_grad;
  return *this;
}

bool Tensor::is_leaf() const {
  check_defined(*this, "is_leaf");
  autograd::refresh_if_stale(impl_);
  return impl_->grad_fn == nullptr;
}

std::uint64_t Tensor::_version() const {
  check_defined(*this, "_version");
  return impl_->array.version();
}

Tensor Tensor::grad() const {
  check_defined(*this, "grad");
  return impl_->grad;
}

Tensor& Tensor::mutable_grad() const {
  check_defined(*this, "mutable_grad");
  return impl_->grad;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph,
                      bool create_graph) const {
  autograd::backward({*this},
                     gradient.defined() ? std::vector<Tensor>{gradient} : std::vector<Tensor>{},
                     retain_graph, create_graph);
}

void Tensor::retain_grad() const {
  check_defined(*this, "retain_grad");
  XG_CHECK_STATE(requires_grad(), "retain_grad: ", describe(*this),
                 " does not require grad, so it will never have a gradient");
  if (is_leaf() || impl_->retains_grad) return;  // leaves keep their grad anyway
  impl_->retains_grad = true;
  // The hook holds the tensor weakly: the tensor owns the node that owns the hook.
  std::weak_ptr<detail::TensorImpl> weak = impl_;
  impl_->grad_fn->pre_hooks.push_back([weak](const Tensor& g) {
    if (auto impl = weak.lock()) autograd::accumulate_grad(impl->grad, g);
    return Tensor();
  });
}

bool Tensor::retains_grad() const {
  check_defined(*this, "retains_grad");
  return impl_->retains_grad;
}

void Tensor::register_hook(std::function<Tensor(const Tensor&)> fn) const {
  check_defined(*this, "register_hook");
  XG_CHECK_STATE(requires_grad(), "register_hook: cannot register a hook on ", describe(*this),
                 ", which does not require grad");
  if (is_leaf()) {
    impl_->hooks.push_back(std::move(fn));
  } else {
    impl_->grad_fn->pre_hooks.push_back(std::move(fn));
  }
}

std::string Tensor::grad_fn_name() const {
  check_defined(*this, "grad_fn_name");
  autograd::refresh_if_stale(impl_);
  return impl_->grad_fn ? impl_->grad_fn->name() : std::string();
}

Tensor Tensor::detach() const {
  check_defined(*this, "detach");
  return Tensor(detail::make_pooled<detail::TensorImpl>(impl_->array));
}

void Tensor::set_data(const Tensor& new_data) const {
  check_defined(*this, "set_data");
  check_defined(new_data, "set_data");
  XG_CHECK_STATE(is_leaf(), "set_data: ", describe(*this),
                 " was computed by an op; only a leaf's data can be replaced");
  XG_CHECK_ARG(!requires_grad() || new_data.is_floating_point(),
               "set_data: a tensor that requires grad cannot hold ", describe(new_data), " data");
  impl_->array = new_data.impl()->array;
}

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

// ---- in place ----

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

// ---- printing ----

namespace {

// Element i in row-major order; a Bool as true or false.
void print_element(std::ostream& os, const Array& a, std::int64_t i) {
  if (a.dtype() == kBool) {
    os << (a.at(i) != 0 ? "true" : "false");
  } else {
    os << a.at(i);
  }
}

void print_values(std::ostream& os, const Array& a, std::size_t dim, std::int64_t offset,
                  bool summarize) {
  const auto& sizes = a.sizes();
  if (sizes.empty()) {
    print_element(os, a, 0);
    return;
  }
  const auto n = static_cast<std::int64_t>(sizes[dim]);
  std::int64_t stride = 1;
  for (std::size_t d = dim + 1; d < sizes.size(); ++d)
    stride *= static_cast<std::int64_t>(sizes[d]);
  constexpr std::int64_t kEdge = 3;
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) {
      os << "..., ";
      i = n - kEdge;
    }
    if (dim + 1 == sizes.size()) {
      print_element(os, a, offset + i);
    } else {
      print_values(os, a, dim + 1, offset + i * stride, summarize);
    }
    if (i + 1 < n) os << ", ";
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const Array& a = array_of(t);
  std::ostringstream values;
  values << std::setprecision(6);
  print_values(values, a, 0, 0, a.numel() > 1000);
  return os << "tensor(" << values.str() << ", shape=" << shape_to_string(t.shape())
            << ", dtype=" << t.dtype()
            << ", requires_grad=" << (t.requires_grad() ? "true" : "false") << ")";
}

}  // namespace xg
