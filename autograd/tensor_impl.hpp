// Internal: what a Tensor handle points to, and the helpers every op implementation shares.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../tensor/array.hpp"
#include "tensor.hpp"

namespace xg::autograd {
class Node;
class AccumulateGrad;
}  // namespace xg::autograd

namespace xg::detail {

// Autograd state: a leaf has no grad_fn and may require grad; a tensor an op recorded has the
// op's node as grad_fn and always requires grad.
struct TensorImpl {
  explicit TensorImpl(Array&& a) : array(std::move(a)) {}
  explicit TensorImpl(const Array& a) : array(a) {}
  // The data: a view of a buffer that views, detach()ed handles and saved outputs may share,
  // with the version counter in-place ops bump.
  Array array;
  bool requires_grad = false;
  bool retains_grad = false;
  Tensor grad;
  std::shared_ptr<autograd::Node> grad_fn;
  // A leaf's gradient accumulator, made by the first op that records the leaf and kept until
  // the leaf goes (autograd::gradient_edge): an edge to it is a shared_ptr that aliases, and so
  // keeps alive, this TensorImpl, as PyTorch's AccumulateGrad holds its variable.
  std::atomic<autograd::AccumulateGrad*> grad_accumulator{nullptr};
  std::vector<std::function<Tensor(const Tensor&)>> hooks;  // leaves; non-leaves hook grad_fn
  // A view made in grad mode keeps the tensor whose storage it views (never itself a view),
  // and the storage's version when its grad_fn was last set: an in-place op on the base or on
  // another view changes the version, and the view's history is then regenerated from the
  // base's (autograd::refresh_view).
  std::shared_ptr<TensorImpl> view_base;
  std::uint64_t view_version = 0;

  TensorImpl(const TensorImpl&) = delete;
  TensorImpl& operator=(const TensorImpl&) = delete;
  ~TensorImpl();  // tears the graph behind grad_fn down without recursion
};

Tensor make_tensor(Array&& array, bool requires_grad = false);

inline const Array& array_of(const Tensor& t) { return t.impl()->array; }
inline Array& mutable_array_of(const Tensor& t) { return t.impl()->array; }

// "[2, 3] Float32", for error messages.
std::string describe(const Tensor& t);

// Throws std::invalid_argument naming op when t is undefined.
void check_defined(const Tensor& t, const char* op);
// Throws std::invalid_argument naming op when t is not Float32 or Float64.
void check_floating(const Tensor& t, const char* op);
// Throws std::invalid_argument naming op when t is Bool: for ops with no Bool version.
void check_not_bool(const Tensor& t, const char* op);
// Throw std::invalid_argument naming op when an operand of a subtraction is a Bool tensor or a
// bool, as PyTorch refuses (the scalar form: `a - s`, or `s - a` when scalar_first).
void check_sub(const Tensor& a, const Tensor& b, const char* op);
void check_sub(const Tensor& a, const Scalar& s, bool scalar_first, const char* op);
// Throws std::invalid_argument naming op when alpha is a floating number and neither a nor b is
// floating (add/sub and add_/sub_ of Int64 or Bool tensors), as PyTorch refuses.
void check_alpha(const Tensor& a, const Tensor& b, const Scalar& alpha, const char* op);
// Throws std::invalid_argument naming op unless mask is a defined Bool tensor (masked_fill).
void check_mask(const Tensor& mask, const char* op);
// masked_fill's 0-d tensor value as a number of its kind; throws naming op for another shape.
Scalar masked_fill_value(const Tensor& value, const char* op);
// Sums grad down to `shape` over the dims that broadcasting expanded (differentiable).
Tensor sum_to(const Tensor& grad, const Shape& shape);

// zeros(shape) with src's slices added at the Int64 `index` along dim (differentiable in src):
// the backward of index_select.
Tensor index_add_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                       const Tensor& src);

// zeros(shape) with src[p] added at p with p[dim] replaced by index[p] (differentiable in src):
// the backward of gather and of max/min along a dim.
Tensor scatter_add_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                         const Tensor& src);
// zeros(mask's shape) with src's elements, in order, where the Bool mask is true
// (differentiable in src): the backward of masked_select.
Tensor masked_scatter_zeros(const Tensor& mask, const Tensor& src);
// cumsum along dim from the end (differentiable): the backward of cumsum.
Tensor reversed_cumsum(const Tensor& t, std::int64_t dim);

// zeros(shape) with grad added at the view (sizes, strides, offset) of it: the backward of the
// view ops that pick a part of their input (differentiable in grad).
Tensor view_scatter(const Tensor& grad, const Shape& shape, const Array::Sizes& sizes,
                    const Array::Strides& strides, std::int64_t offset);

// Normalized, sorted, duplicate-free dims of a tensor of ndim dims (every dim when dims is empty).
std::vector<std::int64_t> normalize_dims(const Shape& dims, std::int64_t ndim, const char* op);

}  // namespace xg::detail
