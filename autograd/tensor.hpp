// xg::Tensor, the user's handle to an array and its autograd state, and xg::TensorOptions.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>
#include <xtensor/xtensor_forward.hpp>

#include "../tensor/dtype.hpp"
#include "../tensor/op_table.hpp"
#include "../tensor/scalar.hpp"
#include "../tensor/shape.hpp"

namespace xg {

namespace indexing {
class TensorIndex;  // autograd/indexing.hpp
}  // namespace indexing

namespace detail {
struct TensorImpl;
}

// Options for creating a tensor, as torch::TensorOptions: dtype (Float32 unless set) and
// requires_grad. Setters return a modified copy, so they chain.
class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(Dtype dtype) : dtype_(dtype) {}  // NOLINT: a Dtype is an options, as in LibTorch

  TensorOptions dtype(Dtype dtype) const;
  TensorOptions requires_grad(bool requires_grad) const;

  Dtype dtype() const { return dtype_.value_or(kFloat32); }
  bool has_dtype() const { return dtype_.has_value(); }
  bool requires_grad() const { return requires_grad_; }

 private:
  std::optional<Dtype> dtype_;
  bool requires_grad_ = false;
};

// Shorthands, as torch::dtype and torch::requires_grad: xg::zeros({2}, xg::requires_grad()).
inline TensorOptions dtype(Dtype d) { return TensorOptions().dtype(d); }
inline TensorOptions requires_grad(bool r = true) { return TensorOptions().requires_grad(r); }

// A cheap-to-copy handle, like torch::Tensor: copies share the data and the autograd state.
// A default-constructed Tensor is undefined. As in PyTorch, a tensor is a view of a storage
// (sizes, strides and an offset over a shared buffer): view ops (view, transpose, narrow, ...)
// return tensors that alias their input.
class Tensor {
 public:
  Tensor() = default;
  // Wraps an implementation object; for xgrad's own layers.
  explicit Tensor(std::shared_ptr<detail::TensorImpl> impl);

  // ---- reading ----
  bool defined() const { return impl_ != nullptr; }
  Shape shape() const;
  Shape sizes() const { return shape(); }
  std::int64_t dim() const;
  std::int64_t numel() const;
  std::int64_t size(std::int64_t dim) const;     // negative dims count from the end
  bool is_same_size(const Tensor& other) const;  // same shape (dtypes may differ)
  Shape stride() const;                          // element strides, one per dim
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t storage_offset() const;          // in elements, from the start of the storage
  bool is_contiguous() const;                   // row-major with no gaps, as torch's
  bool is_alias_of(const Tensor& other) const;  // both view one storage
  Dtype dtype() const;
  bool is_floating_point() const { return is_floating(dtype()); }
  double item() const;  // the one element, as a double
  template <class T>
  T item() const;  // the one element converted to T
  template <class T>
  T* data_ptr() const;  // the first element; T must be the element type of dtype()
  template <class T>
  xt::xarray<T> to_xarray() const;  // a copy, converted to T

  // ---- autograd state ----
  bool requires_grad() const;
  Tensor& requires_grad_(bool requires_grad = true);  // only floating tensors can require grad
  bool is_leaf() const;                               // true unless an op recorded this tensor
  // How many in-place changes the data has seen (shared with detach()ed handles), as torch's
  // _version: backward checks it for every tensor it saved.
  std::uint64_t _version() const;
  Tensor grad() const;           // undefined until a backward reaches this tensor
  Tensor& mutable_grad() const;  // the .grad slot itself, to reset or replace it
  // Accumulates the gradient of this tensor into every leaf's .grad. A tensor of one element
  // may omit `gradient`; retain_graph defaults to create_graph. With create_graph, a leaf's
  // .grad records a graph that may save the leaf itself: the two then hold each other until
  // the gradient is reset (zero_grad(), or mutable_grad() = {}), as in PyTorch. grad() does
  // not store anything, so it makes no such cycle.
  void backward(const Tensor& gradient = {}, std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  void retain_grad() const;   // a non-leaf keeps its .grad too
  bool retains_grad() const;  // whether retain_grad() was called on this non-leaf
  // fn sees this tensor's gradient when backward computes it; a defined result replaces it.
  void register_hook(std::function<Tensor(const Tensor&)> fn) const;
  std::string grad_fn_name() const;  // "MulBackward"; "" for leaves
  Tensor detach() const;             // shares the data, records nothing
  // Makes this leaf hold new_data's data (any shape and dtype), keeping its identity, as
  // torch's set_data; every handle on this tensor sees the change.
  void set_data(const Tensor& new_data) const;
  Tensor clone() const;  // a copy of the data; gradients flow back through it
  // This tensor itself when it already has the dtype, else a converted copy (differentiable
  // between floating dtypes).
  Tensor to(Dtype dtype) const;

  // ---- in place (bump the version; the dtype never changes) ----
  Tensor& zero_();
  Tensor& fill_(Scalar value);
  Tensor& add_(const Tensor& other, Scalar alpha = 1);
  Tensor& add_(Scalar other);
  Tensor& sub_(const Tensor& other, Scalar alpha = 1);
  Tensor& sub_(Scalar other);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(Scalar other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(Scalar other);
  Tensor& copy_(const Tensor& src);  // src broadcasts to this shape and converts to this dtype
  // value where the Bool mask (broadcasting to this shape) is true; value a number or 0-d tensor.
  Tensor& masked_fill_(const Tensor& mask, Scalar value);
  Tensor& masked_fill_(const Tensor& mask, const Tensor& value);
  Tensor& operator+=(const Tensor& other) { return add_(other); }
  Tensor& operator+=(Scalar other) { return add_(other); }
  Tensor& operator-=(const Tensor& other) { return sub_(other); }
  Tensor& operator-=(Scalar other) { return sub_(other); }
  Tensor& operator*=(const Tensor& other) { return mul_(other); }
  Tensor& operator*=(Scalar other) { return mul_(other); }
  Tensor& operator/=(const Tensor& other) { return div_(other); }
  Tensor& operator/=(Scalar other) { return div_(other); }

  // ---- ops as methods (the same as the free functions in ops.hpp) ----
  Tensor add(const Tensor& other, Scalar alpha = 1) const;
  Tensor sub(const Tensor& other, Scalar alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor pow(Scalar exponent) const;
  Tensor pow(const Tensor& exponent) const;
  // neg(), abs(), exp(), ...: one per row of XG_UNARY_OPS (tensor/op_table.hpp).
#define XG_UNARY_METHOD(E, name, ...) Tensor name() const;
  XG_UNARY_OPS(XG_UNARY_METHOD)
#undef XG_UNARY_METHOD
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor clamp_min(Scalar min) const;
  Tensor clamp_max(Scalar max) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  // eq, ne, lt, le, gt, ge, each with a tensor and a number: one pair per row of
  // XG_COMPARISON_OPS.
#define XG_COMPARISON_METHODS(E, name, ...) \
  Tensor name(const Tensor& other) const;   \
  Tensor name(Scalar other) const;
  XG_COMPARISON_OPS(XG_COMPARISON_METHODS)
#undef XG_COMPARISON_METHODS
  Tensor logical_and(const Tensor& other) const;
  Tensor logical_or(const Tensor& other) const;
  Tensor logical_xor(const Tensor& other) const;
  Tensor logical_not() const;
  Tensor isnan() const;
  Tensor isinf() const;
  Tensor isfinite() const;
  Tensor any() const;
  Tensor any(std::int64_t dim, bool keepdim = false) const;
  Tensor all() const;
  Tensor all(std::int64_t dim, bool keepdim = false) const;
  Tensor masked_fill(const Tensor& mask, Scalar value) const;
  Tensor masked_fill(const Tensor& mask, const Tensor& value) const;
  Tensor tril(std::int64_t k = 0) const;
  Tensor triu(std::int64_t k = 0) const;

  Tensor sum() const;
  Tensor sum(const Shape& dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(const Shape& dims, bool keepdim = false) const;
  Tensor max() const;
  Tensor min() const;
  Tensor amax(const Shape& dims = {}, bool keepdim = false) const;
  Tensor amin(const Shape& dims = {}, bool keepdim = false) const;
  Tensor argmax(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  Tensor argmin(std::optional<std::int64_t> dim = std::nullopt, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> max(std::int64_t dim, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> min(std::int64_t dim, bool keepdim = false) const;
  Tensor logsumexp(const Shape& dims, bool keepdim = false) const;
  std::tuple<Tensor, Tensor> topk(std::int64_t k, std::int64_t dim = -1, bool largest = true,
                                  bool sorted = true) const;
  std::tuple<Tensor, Tensor> sort(std::int64_t dim = -1, bool descending = false) const;
  Tensor cumsum(std::int64_t dim) const;

  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor t() const;

  Tensor contiguous() const;
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor unflatten(std::int64_t dim, const Shape& sizes) const;
  Tensor squeeze() const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor permute(const Shape& dims) const;
  Tensor expand(const Shape& shape) const;
  Tensor narrow(std::int64_t dim, std::int64_t start, std::int64_t length) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor slice(std::int64_t dim = 0, std::optional<std::int64_t> start = std::nullopt,
               std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1) const;
  std::vector<Tensor> split(std::int64_t split_size, std::int64_t dim = 0) const;
  std::vector<Tensor> split_with_sizes(const Shape& split_sizes, std::int64_t dim = 0) const;
  std::vector<Tensor> chunk(std::int64_t chunks, std::int64_t dim = 0) const;
  std::vector<Tensor> unbind(std::int64_t dim = 0) const;
  Tensor as_strided(const Shape& size, const Shape& stride,
                    std::optional<std::int64_t> storage_offset = std::nullopt) const;
  Tensor mT() const;  // the last two dims swapped
  Tensor expand_as(const Tensor& other) const;
  Tensor index_select(std::int64_t dim, const Tensor& index) const;
  // x.index({Slice(), -1}) is Python's x[:, -1] (autograd/indexing.hpp: LibTorch's indexing).
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  Tensor gather(std::int64_t dim, const Tensor& index) const;
  Tensor masked_select(const Tensor& mask) const;
  Tensor diagonal(std::int64_t offset = 0, std::int64_t dim1 = 0, std::int64_t dim2 = 1) const;

  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;

  // The implementation object; for xgrad's own layers.
  const std::shared_ptr<detail::TensorImpl>& impl() const { return impl_; }

 private:
  std::shared_ptr<detail::TensorImpl> impl_;
};

// Prints the values, then shape, dtype and requires_grad, e.g.
// tensor([[1, 2], [3, 4]], shape=[2, 2], dtype=Float32, requires_grad=false)
std::ostream& operator<<(std::ostream& os, const Tensor& t);

namespace detail {
std::int64_t item_int64(const Tensor& t);
// Records that t's data was changed in place through data_ptr (as optimizer steps do), so that
// a backward that saved t before the change throws instead of using the new values.
void bump_version(const Tensor& t);
}  // namespace detail

template <class T>
T Tensor::item() const {
  if constexpr (std::is_same_v<T, bool>) {
    return item() != 0.0;  // nonzero, NaN included, is true
  } else if constexpr (std::is_integral_v<T>) {
    return static_cast<T>(detail::item_int64(*this));
  } else {
    return static_cast<T>(item());
  }
}

}  // namespace xg
