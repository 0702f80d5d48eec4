// xg::Tensor: reading (shape, dtype, values) and autograd state (requires_grad, grad,
// grad_fn, backward, hooks).
#include "tensor.hpp"

#include <algorithm>
#include <xtensor/xarray.hpp>

#include "../tensor/check.hpp"
#include "autograd.hpp"
#include "node.hpp"
#include "record.hpp"

namespace xg {

namespace detail {

Tensor make_tensor(Array&& array, bool requires_grad) {
  auto impl = make_pooled<TensorImpl>(std::move(array));
  impl->requires_grad = requires_grad;
  return Tensor(std::move(impl));
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

}  // namespace xg
