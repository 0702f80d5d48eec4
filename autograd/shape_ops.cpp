// Views with a new shape and their derivatives: reshape, view, flatten, unflatten, squeeze,
// unsqueeze, permute, transpose, expand. Every backward moves the gradient back to the input's
// layout.
#include <optional>

#include "op_prelude.hpp"
#include "record_view.hpp"

namespace xg {

using autograd::record_view;

namespace {

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

Tensor unflatten(const Tensor& t, std::int64_t dim, const Shape& sizes) {
  check_defined(t, "unflatten");
  XG_CHECK_ARG(t.dim() != 0, "unflatten: cannot unflatten a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "unflatten");
  XG_CHECK_ARG(!sizes.empty(), "unflatten: sizes must be non-empty");
  std::int64_t infer = -1, known = 1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == -1) {
      XG_CHECK_ARG(infer < 0, "unflatten: only one size can be -1, got ", shape_to_string(sizes));
      infer = static_cast<std::int64_t>(i);
    } else {
      XG_CHECK_ARG(sizes[i] >= 0, "unflatten: invalid size in ", shape_to_string(sizes));
      XG_CHECK_ARG(!__builtin_mul_overflow(known, sizes[i], &known), "unflatten: sizes ",
                   shape_to_string(sizes), " don't multiply up to the size of dim ", d, " (",
                   t.size(d), ") of ", describe(t));
    }
  }
  const std::int64_t size = t.size(d);
  Shape split = sizes;
  // A -1 takes what the others leave; with a 0 among them it could be anything (PyTorch refuses).
  const bool fits = infer >= 0 ? known != 0 && size % known == 0 : known == size;
  XG_CHECK_ARG(fits, "unflatten: sizes ", shape_to_string(sizes),
               " don't multiply up to the size of dim ", d, " (", size, ") of ", describe(t));
  if (infer >= 0) split[static_cast<std::size_t>(infer)] = size / known;
  Shape shape = t.shape();
  shape.erase(shape.begin() + d);
  shape.insert(shape.begin() + d, split.begin(), split.end());
  // Splitting one dim always has strides: a view, recorded as PyTorch's (ViewBackward).
  return view(t, shape);
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

}  // namespace xg
