// Shape ops and their derivatives: reshape and friends, transpose/permute, expand, cat/stack,
// narrow, index_select. Every backward moves the gradient back to the input's layout.
#include <algorithm>
#include <optional>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "creation.hpp"
#include "ops.hpp"
#include "record.hpp"

namespace xg {

using autograd::BackwardArgs;
using autograd::kSaveInputs;
using autograd::kSaveNone;
using autograd::record;
using detail::array_of;
using detail::check_defined;
using detail::describe;
using Grads = autograd::GradientList;

namespace {

// A view of t's data (sharing its buffer) recorded with the backward `backward`.
// A view made in grad mode remembers its base, so that an in-place op on it can rewrite the
// base's history (CopySlices); a copy (reshape's fallback) is no view.
template <class F>
Tensor record_view(const char* op, const Tensor& t, Array view, F&& backward) {
  const bool aliases = view.shares_storage(array_of(t));
  Tensor out = record(op, std::move(view), {t}, kSaveNone, std::forward<F>(backward));
  if (aliases && GradMode::is_enabled()) {
    const auto& in = t.impl();
    out.impl()->view_base = in->view_base ? in->view_base : in;
    out.impl()->view_version = array_of(out).version();
  }
  return out;
}

// Where a view sits in its input, as sizes, strides and offset relative to a contiguous tensor
// of the input's shape: what the backward of narrow, select and slice scatters into.
struct Geometry {
  Array::Sizes sizes;
  Array::Strides strides;
  std::int64_t offset = 0;
};

// offset + n * stride, as PyTorch, for narrow, select and slice. It can overflow only when the
// view has no elements (a dim of size 0 beside a huge stride, which as_strided allows since the
// view reads nothing); the view then keeps the old offset.
void advance_offset(Geometry& g, std::int64_t n, std::int64_t stride) {
  std::int64_t delta = 0, offset = 0;
  if (!__builtin_mul_overflow(n, stride, &delta) &&
      !__builtin_add_overflow(g.offset, delta, &offset)) {
    g.offset = offset;
  }
}

Geometry contiguous_geometry(const Shape& shape) {
  Geometry g;
  g.sizes = Array::Sizes(shape.begin(), shape.end());
  detail::contiguous_strides({g.sizes.data(), g.sizes.size()}, g.strides);
  return g;
}

// The strides that let a tensor of sizes/strides be seen with new_sizes without a copy, as
// PyTorch's computeStride; false when some new dim would span two non-contiguous chunks.
bool view_strides(std::span<const std::int64_t> sizes, std::span<const std::int64_t> strides,
                  const Shape& new_sizes, Array::Strides& out) {
  out = Array::Strides(new_sizes.size());
  std::int64_t numel = 1;
  for (auto s : sizes) numel *= static_cast<std::int64_t>(s);
  if (numel == 0 || sizes.empty()) {
    // No data to keep in place: any strides do; the contiguous ones, as PyTorch.
    detail::contiguous_strides({new_sizes.data(), new_sizes.size()}, out);
    return true;
  }
  auto view_d = static_cast<std::int64_t>(new_sizes.size()) - 1;
  std::int64_t chunk_base_stride = strides.back();
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (auto tensor_d = static_cast<std::int64_t>(sizes.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= static_cast<std::int64_t>(sizes[static_cast<std::size_t>(tensor_d)]);
    // A chunk ends where the dim before is not laid out right after this one.
    if (tensor_d == 0 ||
        (sizes[static_cast<std::size_t>(tensor_d - 1)] != 1 &&
         strides[static_cast<std::size_t>(tensor_d - 1)] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 &&
             (view_numel < tensor_numel || new_sizes[static_cast<std::size_t>(view_d)] == 1)) {
        out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= new_sizes[static_cast<std::size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (tensor_d > 0) {
        chunk_base_stride = strides[static_cast<std::size_t>(tensor_d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// The backward of reshape and view: the gradient seen with the input's shape again.
Tensor record_reshape(const char* op, const Tensor& t, Array out) {
  return record_view(op, t, std::move(out), [in = t.shape()](const Tensor& g, const BackwardArgs&) {
    return Grads{reshape(g, in)};
  });
}

// t's data seen with `shape` (a valid shape of t.numel() elements), or nullopt when the
// strides do not allow it.
std::optional<Array> try_view(const Tensor& t, const Shape& shape) {
  const Array& a = array_of(t);
  Array::Strides strides;
  if (!view_strides(a.sizes(), a.strides(), shape, strides)) return std::nullopt;
  Array::Sizes sizes(shape.begin(), shape.end());
  return a.view({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, a.offset());
}

}  // namespace

Tensor detail::view_scatter(const Tensor& grad, const Shape& shape, const Array::Sizes& sizes,
                            const Array::Strides& strides, std::int64_t offset) {
  Array out = Array::full(grad.dtype(), shape, 0.0);
  Array target = out.view({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, offset);
  kernels::accumulate_into(target, array_of(grad));
  return record("view_scatter", std::move(out), {grad}, kSaveNone,
                [sizes, strides, offset](const Tensor& g, const BackwardArgs&) {
                  const Tensor dense = g.contiguous();
                  return Grads{as_strided(dense, Shape(sizes.begin(), sizes.end()),
                                          Shape(strides.begin(), strides.end()),
                                          dense.storage_offset() + offset)};
                });
}

namespace {

Geometry geometry_of(const Array& a) {
  Geometry g;
  g.sizes = Array::Sizes(a.sizes().begin(), a.sizes().end());
  g.strides = Array::Strides(a.strides().begin(), a.strides().end());
  g.offset = a.offset();
  return g;
}

// A sub-view of t (narrow, select, slice): `f` maps a geometry to the view's. Applied to t's
// own geometry it gives the view; applied to a contiguous tensor of t's shape it gives where
// the view's gradient goes in t's gradient, which the backward scatters into zeros.
template <class F>
Tensor record_subview(const char* op, const Tensor& t, F&& f) {
  const Array& a = array_of(t);
  const Geometry view = f(geometry_of(a));
  Geometry rel = f(contiguous_geometry(t.shape()));
  return record_view(
      op, t,
      a.view({view.sizes.data(), view.sizes.size()}, {view.strides.data(), view.strides.size()},
             view.offset),
      [rel = std::move(rel), in = t.shape()](const Tensor& g, const BackwardArgs&) {
        return Grads{detail::view_scatter(g, in, rel.sizes, rel.strides, rel.offset)};
      });
}

}  // namespace

namespace {

// The shape with its one -1 filled in; throws when the sizes do not match numel.
Shape infer_shape(const Tensor& t, const Shape& shape, const char* op) {
  Shape out = shape;
  std::int64_t infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      XG_CHECK_ARG(infer < 0, op, ": only one dim can be -1, got ", shape_to_string(shape));
      infer = static_cast<std::int64_t>(i);
    } else {
      XG_CHECK_ARG(shape[i] >= 0, op, ": invalid size in shape ", shape_to_string(shape));
    }
  }
  // The given sizes' product, checked for overflow (-1 counts as 1).
  Shape given = shape;
  if (infer >= 0) given[static_cast<std::size_t>(infer)] = 1;
  const std::int64_t known = check_shape(given, op, element_size(t.dtype()));
  const std::int64_t n = t.numel();
  if (infer >= 0) {
    XG_CHECK_ARG(known != 0 && n % known == 0, op, ": shape ", shape_to_string(shape),
                 " is invalid for a tensor of ", n, " elements (", describe(t), ")");
    out[static_cast<std::size_t>(infer)] = n / known;
  } else {
    XG_CHECK_ARG(known == n, op, ": shape ", shape_to_string(shape), " is invalid for a tensor of ",
                 n, " elements (", describe(t), ")");
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& t, const Shape& shape) {
  check_defined(t, "reshape");
  const Shape target = infer_shape(t, shape, "reshape");
  // A view when the strides allow it, else a contiguous copy (as PyTorch).
  if (auto v = try_view(t, target)) return record_reshape("reshape", t, std::move(*v));
  return record_reshape("reshape", t, kernels::reshape(array_of(t), target));
}

Tensor view(const Tensor& t, const Shape& shape) {
  check_defined(t, "view");
  const Shape target = infer_shape(t, shape, "view");
  auto v = try_view(t, target);
  XG_CHECK_ARG(v,
               "view: view size is not compatible with input tensor's size and stride (at least "
               "one dimension spans across two contiguous subspaces): ",
               describe(t), " with strides ", shape_to_string(t.stride()), " cannot be viewed as ",
               shape_to_string(target), ". Use .reshape(...) instead.");
  return record_reshape("view", t, std::move(*v));
}

Tensor flatten(const Tensor& t, std::int64_t start_dim, std::int64_t end_dim) {
  check_defined(t, "flatten");
  if (t.dim() == 0) return reshape(t, {1});
  const std::int64_t s = normalize_dim(start_dim, t.dim(), "flatten");
  const std::int64_t e = normalize_dim(end_dim, t.dim(), "flatten");
  XG_CHECK_ARG(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim, " for ",
               describe(t));
  if (s == e) return t;  // nothing to merge: the tensor itself, as PyTorch
  const Shape in = t.shape();
  Shape out(in.begin(), in.begin() + s);
  std::int64_t merged = 1;
  for (std::int64_t d = s; d <= e; ++d) merged *= in[static_cast<std::size_t>(d)];
  out.push_back(merged);
  out.insert(out.end(), in.begin() + e + 1, in.end());
  return reshape(t, out);
}

namespace {
// t without the dims for which drop(d) holds (each of size 1): always a view.
template <class Drop>
Tensor squeeze_dims(const Tensor& t, Drop drop) {
  const Array& a = array_of(t);
  Array::Sizes sizes;
  Array::Strides strides;
  for (std::size_t d = 0; d < a.dim(); ++d) {
    if (drop(d)) continue;
    sizes.push_back(a.sizes()[d]);
    strides.push_back(a.strides()[d]);
  }
  return record_reshape(
      "squeeze", t,
      a.view({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, a.offset()));
}
}  // namespace

Tensor squeeze(const Tensor& t) {
  check_defined(t, "squeeze");
  const auto& sizes = array_of(t).sizes();
  return squeeze_dims(t, [&](std::size_t d) { return sizes[d] == 1; });
}

Tensor squeeze(const Tensor& t, std::int64_t dim) {
  check_defined(t, "squeeze");
  const std::int64_t d = normalize_dim(dim, t.dim(), "squeeze");
  const auto& sizes = array_of(t).sizes();
  return squeeze_dims(
      t, [&](std::size_t k) { return static_cast<std::int64_t>(k) == d && sizes[k] == 1; });
}

Tensor unsqueeze(const Tensor& t, std::int64_t dim) {
  check_defined(t, "unsqueeze");
  const std::int64_t d = normalize_dim(dim, t.dim() + 1, "unsqueeze");
  const Array& a = array_of(t);
  Array::Sizes sizes(a.sizes().begin(), a.sizes().end());
  Array::Strides strides(a.strides().begin(), a.strides().end());
  const auto k = static_cast<std::size_t>(d);
  // The new dim's stride, as PyTorch: the extent of the dim after it.
  const std::int64_t stride =
      k < a.dim() ? a.strides()[k] * static_cast<std::int64_t>(a.sizes()[k]) : 1;
  Array::Sizes new_sizes;
  Array::Strides new_strides;
  for (std::size_t i = 0; i <= a.dim(); ++i) {
    if (i == k) {
      new_sizes.push_back(1);
      new_strides.push_back(stride);
    }
    if (i < a.dim()) {
      new_sizes.push_back(sizes[i]);
      new_strides.push_back(strides[i]);
    }
  }
  return record_reshape("unsqueeze", t,
                        a.view({new_sizes.data(), new_sizes.size()},
                               {new_strides.data(), new_strides.size()}, a.offset()));
}

Tensor permute(const Tensor& t, const Shape& dims) {
  check_defined(t, "permute");
  const std::int64_t n = t.dim();
  XG_CHECK_ARG(static_cast<std::int64_t>(dims.size()) == n, "permute: ", shape_to_string(dims),
               " has ", dims.size(), " dims but the tensor ", describe(t), " has ", n);
  std::vector<std::int64_t> order;
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (auto d : dims) {
    const std::int64_t nd = normalize_dim(d, n, "permute");
    XG_CHECK_ARG(!seen[static_cast<std::size_t>(nd)], "permute: dims ", shape_to_string(dims),
                 " name the same dim twice");
    seen[static_cast<std::size_t>(nd)] = true;
    order.push_back(nd);
  }
  Shape inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    inverse[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
  }
  return record_view(
      "permute", t, array_of(t).permuted(order),
      [inverse](const Tensor& g, const BackwardArgs&) { return Grads{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& t, std::int64_t dim0, std::int64_t dim1) {
  check_defined(t, "transpose");
  const std::int64_t n = t.dim();
  const std::int64_t a = normalize_dim(dim0, n, "transpose");
  const std::int64_t b = normalize_dim(dim1, n, "transpose");
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  for (std::int64_t d = 0; d < n; ++d) order[static_cast<std::size_t>(d)] = d;
  if (n > 0) std::swap(order[static_cast<std::size_t>(a)], order[static_cast<std::size_t>(b)]);
  return record_view("transpose", t, array_of(t).permuted(order),
                     [a, b, n](const Tensor& g, const BackwardArgs&) {
                       return Grads{n == 0 ? g : transpose(g, a, b)};
                     });
}

Tensor expand(const Tensor& t, const Shape& shape) {
  check_defined(t, "expand");
  const Shape in = t.shape();
  XG_CHECK_ARG(shape.size() >= in.size(), "expand: the target ", shape_to_string(shape),
               " has fewer dims than the tensor ", describe(t));
  Shape target = shape;
  const std::size_t lead = shape.size() - in.size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::int64_t own = i < lead ? 1 : in[i - lead];
    if (shape[i] == -1) {
      XG_CHECK_ARG(i >= lead, "expand: -1 is not allowed for a new leading dim, got ",
                   shape_to_string(shape));
      target[i] = own;
    } else {
      XG_CHECK_ARG(own == 1 || own == shape[i], "expand: the tensor ", describe(t),
                   " cannot be expanded to ", shape_to_string(shape), " (size ", own,
                   " != ", shape[i], " at dim ", i, "; only size-1 dims expand)");
      XG_CHECK_ARG(shape[i] >= 0, "expand: invalid size in ", shape_to_string(shape));
    }
  }
  check_shape(target, "expand", element_size(t.dtype()));
  return record_view(
      "expand", t, kernels::expand(array_of(t), target),
      [in](const Tensor& g, const BackwardArgs&) { return Grads{detail::sum_to(g, in)}; });
}

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  XG_CHECK_ARG(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const auto& x : tensors) check_defined(x, "cat");
  const Tensor& first = tensors.front();
  XG_CHECK_ARG(first.dim() != 0, "cat: 0-d tensors cannot be concatenated (use stack)");
  const std::int64_t d = normalize_dim(dim, first.dim(), "cat");
  Dtype dtype = first.dtype();
  const Shape ref = first.shape();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Shape s = tensors[i].shape();
    bool fits = s.size() == ref.size();
    for (std::size_t k = 0; fits && k < s.size(); ++k) {
      fits = static_cast<std::int64_t>(k) == d || s[k] == ref[k];
    }
    XG_CHECK_ARG(fits, "cat: tensor ", i, " ", describe(tensors[i]), " does not match tensor 0 ",
                 describe(first), " outside dim ", d);
    dtype = promote_types(dtype, tensors[i].dtype());
  }
  std::vector<Array> converted;
  converted.reserve(tensors.size());
  std::vector<const Array*> parts;
  for (const auto& x : tensors) {
    if (x.dtype() == dtype) {
      parts.push_back(&array_of(x));
    } else {
      converted.push_back(array_of(x).to(dtype));
      parts.push_back(&converted.back());
    }
  }
  Shape sizes;
  Shape out_shape = ref;
  out_shape[static_cast<std::size_t>(d)] = 0;
  for (const auto& x : tensors) {
    sizes.push_back(x.size(d));
    std::int64_t& total = out_shape[static_cast<std::size_t>(d)];
    XG_CHECK_ARG(!__builtin_add_overflow(total, sizes.back(), &total), "cat: the sizes along dim ",
                 d, " add up to more than int64 can hold");
  }
  check_shape(out_shape, "cat", element_size(dtype));
  // std::initializer_list cannot hold a runtime count: cat records its node by hand.
  Tensor out = detail::make_tensor(kernels::cat(parts, d));
  if (!autograd::should_record(tensors)) return out;
  return autograd::attach(out, "cat", tensors, autograd::kSaveNone,
                          [d, sizes](const Tensor& g, const BackwardArgs&) {
                            Grads grads;
                            std::int64_t start = 0;
                            for (auto size : sizes) {
                              grads.push_back(narrow(g, d, start, size));
                              start += size;
                            }
                            return grads;
                          });
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  XG_CHECK_ARG(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "stack");
    XG_CHECK_ARG(tensors[i].shape() == tensors[0].shape(),
                 "stack: every tensor must have the same shape; tensor 0 is ", describe(tensors[0]),
                 ", tensor ", i, " is ", describe(tensors[i]));
  }
  const std::int64_t d = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const auto& x : tensors) parts.push_back(unsqueeze(x, d));
  return cat(parts, d);
}

Tensor narrow(const Tensor& t, std::int64_t dim, std::int64_t start, std::int64_t length) {
  check_defined(t, "narrow");
  XG_CHECK_ARG(t.dim() != 0, "narrow: cannot narrow a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "narrow");
  const std::int64_t size = t.size(d);
  if (start < 0) start += size;
  XG_CHECK_RANGE(start >= 0 && start <= size && length >= 0 && length <= size - start,
                 "narrow: start ", start, " and length ", length, " do not fit in dim ", d,
                 " of size ", size, " of ", describe(t));
  return record_subview("narrow", t, [d, start, length](Geometry g) {
    const auto k = static_cast<std::size_t>(d);
    advance_offset(g, start, g.strides[k]);
    g.sizes[k] = static_cast<std::size_t>(length);
    return g;
  });
}

Tensor select(const Tensor& t, std::int64_t dim, std::int64_t index) {
  check_defined(t, "select");
  XG_CHECK_ARG(t.dim() != 0, "select: cannot select from a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "select");
  const std::int64_t size = t.size(d);
  XG_CHECK_RANGE(index >= -size && index < size, "select: index ", index,
                 " is out of range for dim ", d, " of size ", size, " of ", describe(t));
  const std::int64_t i = index < 0 ? index + size : index;
  return record_subview("select", t, [d, i](Geometry g) {
    const auto k = static_cast<std::size_t>(d);
    advance_offset(g, i, g.strides[k]);
    Geometry out;
    out.offset = g.offset;
    for (std::size_t j = 0; j < g.sizes.size(); ++j) {
      if (j == k) continue;
      out.sizes.push_back(g.sizes[j]);
      out.strides.push_back(g.strides[j]);
    }
    return out;
  });
}

Tensor slice(const Tensor& t, std::int64_t dim, std::optional<std::int64_t> start,
             std::optional<std::int64_t> end, std::int64_t step) {
  check_defined(t, "slice");
  XG_CHECK_ARG(t.dim() != 0, "slice: cannot slice a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "slice");
  XG_CHECK_ARG(step > 0, "slice: step must be positive, got ", step);
  const std::int64_t size = t.size(d);
  // As Python slicing: negative bounds count from the end, and both clamp to [0, size].
  auto clamp_bound = [size](std::int64_t v) {
    if (v < 0) v = v < -size ? 0 : v + size;
    return std::min(v, size);
  };
  const std::int64_t b = clamp_bound(start.value_or(0));
  const std::int64_t e = std::max(b, clamp_bound(end.value_or(size)));
  const std::int64_t length = e > b ? (e - b - 1) / step + 1 : 0;  // no overflow near 2^63
  return record_subview("slice", t, [d, b, length, step](Geometry g) {
    const auto k = static_cast<std::size_t>(d);
    advance_offset(g, b, g.strides[k]);  // an empty slice past a huge stride keeps its offset
    g.sizes[k] = static_cast<std::size_t>(length);
    // stride * step, as PyTorch. It can overflow only for a huge step, which leaves one element
    // (or none; then step < size keeps the product inside the storage's extent): any stride
    // reads one element, so the old one stays.
    std::int64_t stride = 0;
    if (!__builtin_mul_overflow(g.strides[k], step, &stride)) g.strides[k] = stride;
    return g;
  });
}

std::vector<Tensor> split_with_sizes(const Tensor& t, const Shape& sizes, std::int64_t dim) {
  check_defined(t, "split_with_sizes");
  XG_CHECK_ARG(t.dim() != 0, "split_with_sizes: cannot split a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "split_with_sizes");
  std::int64_t total = 0;
  for (auto s : sizes) {
    XG_CHECK_ARG(s >= 0 && !__builtin_add_overflow(total, s, &total),
                 "split_with_sizes: invalid sizes ", shape_to_string(sizes));
  }
  XG_CHECK_ARG(total == t.size(d), "split_with_sizes: the sizes ", shape_to_string(sizes),
               " add up to ", total, ", not to the size ", t.size(d), " of dim ", d, " of ",
               describe(t));
  std::vector<Tensor> out;
  std::int64_t start = 0;
  for (auto s : sizes) {
    out.push_back(narrow(t, d, start, s));
    start += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& t, std::int64_t split_size, std::int64_t dim) {
  check_defined(t, "split");
  XG_CHECK_ARG(t.dim() != 0, "split: cannot split a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "split");
  const std::int64_t size = t.size(d);
  XG_CHECK_ARG(split_size > 0 || (split_size == 0 && size == 0),
               "split: split_size must be positive (0 only for an empty dim), got ", split_size,
               " for dim ", d, " of ", describe(t));
  std::vector<Tensor> out;
  if (size == 0) return {narrow(t, d, 0, 0)};
  for (std::int64_t start = 0; start < size; start += split_size) {
    out.push_back(narrow(t, d, start, std::min(split_size, size - start)));
  }
  return out;
}

std::vector<Tensor> chunk(const Tensor& t, std::int64_t chunks, std::int64_t dim) {
  check_defined(t, "chunk");
  XG_CHECK_ARG(t.dim() != 0, "chunk: cannot chunk a 0-d tensor");
  XG_CHECK_ARG(chunks > 0, "chunk: the number of chunks must be positive, got ", chunks);
  const std::int64_t d = normalize_dim(dim, t.dim(), "chunk");
  const std::int64_t size = t.size(d);
  // As PyTorch: pieces of ceil(size / chunks), so there may be fewer than `chunks`.
  const std::int64_t split_size = size / chunks + (size % chunks != 0 ? 1 : 0);
  if (size == 0) {
    // As PyTorch, `chunks` empty pieces; a count no list can hold is refused.
    constexpr std::int64_t kMaxPieces = std::int64_t{1} << 24;
    XG_CHECK_ARG(chunks <= kMaxPieces, "chunk: ", chunks, " empty pieces of dim ", d, " of ",
                 describe(t), " are more than the ", kMaxPieces, " a list of pieces may hold");
    return split_with_sizes(t, Shape(static_cast<std::size_t>(chunks), 0), d);
  }
  return split(t, split_size, d);
}

std::vector<Tensor> unbind(const Tensor& t, std::int64_t dim) {
  check_defined(t, "unbind");
  XG_CHECK_ARG(t.dim() != 0, "unbind: cannot unbind a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "unbind");
  std::vector<Tensor> out;
  for (std::int64_t i = 0; i < t.size(d); ++i) out.push_back(select(t, d, i));
  return out;
}

Tensor as_strided(const Tensor& t, const Shape& size, const Shape& stride,
                  std::optional<std::int64_t> storage_offset) {
  check_defined(t, "as_strided");
  XG_CHECK_ARG(size.size() == stride.size(), "as_strided: sizes ", shape_to_string(size),
               " and strides ", shape_to_string(stride), " have different lengths");
  const Array& a = array_of(t);
  const std::int64_t offset = storage_offset.value_or(a.offset());
  for (auto s : stride) {
    XG_CHECK_ARG(s >= 0, "as_strided: negative strides are not supported, got ",
                 shape_to_string(stride));
  }
  XG_CHECK_ARG(offset >= 0, "as_strided: the storage offset must be >= 0, got ", offset);
  const std::int64_t numel = check_shape(size, "as_strided", element_size(t.dtype()));
  // The last element reached, checked for overflow, must lie inside the buffer.
  std::int64_t last = offset;
  bool overflow = false;
  if (numel > 0) {
    for (std::size_t d = 0; d < size.size(); ++d) {
      std::int64_t step = 0;
      overflow = overflow || __builtin_mul_overflow(size[d] - 1, stride[d], &step) ||
                 __builtin_add_overflow(last, step, &last);
    }
  }
  const auto available = static_cast<std::int64_t>(a.storage_elements());
  if (overflow || (numel > 0 && last >= available)) {
    const auto itemsize = static_cast<std::int64_t>(element_size(t.dtype()));
    std::int64_t bytes = 0;  // (last + 1) * itemsize, unless that overflows too
    overflow = overflow || __builtin_add_overflow(last, 1, &bytes) ||
               __builtin_mul_overflow(bytes, itemsize, &bytes);
    detail::fail<std::invalid_argument>(
        "as_strided: sizes ", shape_to_string(size), ", strides ", shape_to_string(stride),
        ", storage offset ", offset, " and itemsize ", itemsize, " need a storage of ",
        overflow ? std::string("more than int64 can count") : std::to_string(bytes),
        " bytes, out of bounds for the storage of ", available * itemsize, " bytes behind ",
        describe(t));
  }
  Array::Sizes sizes(size.begin(), size.end());
  Array::Strides strides(stride.begin(), stride.end());
  const Array out = a.view({sizes.data(), sizes.size()}, {strides.data(), strides.size()}, offset);
  // The gradient goes to the storage positions the view reads (summed where it reads one twice),
  // then is seen with the input's own geometry, as PyTorch's as_strided_backward.
  const Geometry in = geometry_of(a);
  // (A view without elements reads nothing, whatever its strides: its extent is 0, decided
  // before any product that could overflow. One with elements passed the check above.)
  auto extent = [](const Array::Sizes& sz, const Array::Strides& st, std::int64_t off) {
    if (std::find(sz.begin(), sz.end(), std::size_t{0}) != sz.end()) return std::int64_t{0};
    std::int64_t e = off + 1;
    for (std::size_t d = 0; d < sz.size(); ++d) e += static_cast<std::int64_t>(sz[d] - 1) * st[d];
    return e;
  };
  const std::int64_t span =
      std::max(extent(sizes, strides, offset), extent(in.sizes, in.strides, in.offset));
  return record_view(
      "as_strided", t, out,
      [sizes, strides, offset, in, span](const Tensor& g, const BackwardArgs&) {
        const Tensor flat = detail::view_scatter(g, {span}, sizes, strides, offset);
        return Grads{as_strided(flat, Shape(in.sizes.begin(), in.sizes.end()),
                                Shape(in.strides.begin(), in.strides.end()), in.offset)};
      });
}

Tensor contiguous(const Tensor& t) {
  check_defined(t, "contiguous");
  if (array_of(t).is_contiguous()) return t;
  return record("contiguous", array_of(t).clone(), {t}, kSaveNone,
                [](const Tensor& g, const BackwardArgs&) { return Grads{g}; });
}

Tensor index_select(const Tensor& t, std::int64_t dim, const Tensor& index) {
  check_defined(t, "index_select");
  check_defined(index, "index_select");
  XG_CHECK_ARG(index.dtype() == kInt64 && index.dim() <= 1,
               "index_select: the index must be a 1-D (or 0-d) Int64 tensor, got ",
               describe(index));
  const std::int64_t d = normalize_dim(dim, t.dim(), "index_select");
  // A 0-d tensor has one element and its result keeps its 0-d shape: exactly one index fits
  // (as PyTorch's "Index to scalar can have only 1 value").
  XG_CHECK_ARG(t.dim() != 0 || index.numel() == 1, "index_select: a 0-d tensor ", describe(t),
               " takes an index of exactly one element, got ", describe(index));
  const std::int64_t size = t.dim() == 0 ? 1 : t.size(d);
  const Tensor dense_index = index.contiguous();
  const std::int64_t* idx = dense_index.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < index.numel(); ++i) {
    XG_CHECK_RANGE(idx[i] >= 0 && idx[i] < size, "index_select: index ", idx[i],
                   " is out of range for dim ", d, " of size ", size, " of ", describe(t));
  }
  const std::int64_t kd = t.dim() == 0 ? 0 : d;
  const Tensor idx_saved = index.detach();
  return record("index_select", kernels::index_select(array_of(t), kd, array_of(index)),
                {t, idx_saved}, kSaveInputs,
                [kd, in = t.shape()](const Tensor& g, const BackwardArgs& s) {
                  return Grads{detail::index_add_zeros(in, kd, s.input(1), g), Tensor()};
                });
}

Tensor detail::index_add_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                               const Tensor& src) {
  return record("index_add", kernels::index_add_zeros(shape, dim, array_of(index), array_of(src)),
                {src, index}, kSaveInputs, [dim](const Tensor& g, const BackwardArgs& s) {
                  return Grads{index_select(g, dim, s.input(1)), Tensor()};
                });
}

}  // namespace xg
