// Shape ops and their derivatives: reshape and friends, transpose/permute, expand, cat/stack,
// narrow, index_select. Every backward moves the gradient back to the input's layout.
#include <algorithm>
#include <stdexcept>

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
Tensor record_reshape(const Tensor& t, const Shape& shape) {
  return record(
      "reshape", kernels::reshape(array_of(t), shape), {t}, kSaveNone,
      [in = t.shape()](const Tensor& g, const BackwardArgs&) { return Grads{reshape(g, in)}; });
}
}  // namespace

namespace {

// The shape with its one -1 filled in; throws when the sizes do not match numel.
Shape infer_shape(const Tensor& t, const Shape& shape, const char* op) {
  Shape out = shape;
  std::int64_t infer = -1;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) {
        throw std::invalid_argument(std::string(op) + ": only one dim can be -1, got " +
                                    shape_to_string(shape));
      }
      infer = static_cast<std::int64_t>(i);
    } else if (shape[i] < 0) {
      throw std::invalid_argument(std::string(op) + ": invalid size in shape " +
                                  shape_to_string(shape));
    }
  }
  // The given sizes' product, checked for overflow (-1 counts as 1).
  Shape given = shape;
  if (infer >= 0) given[static_cast<std::size_t>(infer)] = 1;
  const std::int64_t known = check_shape(given, op, element_size(t.dtype()));
  const std::int64_t n = t.numel();
  if (infer >= 0) {
    if (known == 0 || n % known != 0) {
      throw std::invalid_argument(std::string(op) + ": shape " + shape_to_string(shape) +
                                  " is invalid for a tensor of " + std::to_string(n) +
                                  " elements (" + describe(t) + ")");
    }
    out[static_cast<std::size_t>(infer)] = n / known;
  } else if (known != n) {
    throw std::invalid_argument(std::string(op) + ": shape " + shape_to_string(shape) +
                                " is invalid for a tensor of " + std::to_string(n) + " elements (" +
                                describe(t) + ")");
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& t, const Shape& shape) {
  check_defined(t, "reshape");
  return record_reshape(t, infer_shape(t, shape, "reshape"));
}

Tensor view(const Tensor& t, const Shape& shape) {
  check_defined(t, "view");
  return record_reshape(t, infer_shape(t, shape, "view"));
}

Tensor flatten(const Tensor& t, std::int64_t start_dim, std::int64_t end_dim) {
  check_defined(t, "flatten");
  if (t.dim() == 0) return reshape(t, {1});
  const std::int64_t s = normalize_dim(start_dim, t.dim(), "flatten");
  const std::int64_t e = normalize_dim(end_dim, t.dim(), "flatten");
  if (s > e) {
    throw std::invalid_argument("flatten: start_dim " + std::to_string(start_dim) +
                                " comes after end_dim " + std::to_string(end_dim) + " for " +
                                describe(t));
  }
  const Shape in = t.shape();
  Shape out(in.begin(), in.begin() + s);
  std::int64_t merged = 1;
  for (std::int64_t d = s; d <= e; ++d) merged *= in[static_cast<std::size_t>(d)];
  out.push_back(merged);
  out.insert(out.end(), in.begin() + e + 1, in.end());
  return reshape(t, out);
}

Tensor squeeze(const Tensor& t) {
  check_defined(t, "squeeze");
  Shape out;
  for (auto s : t.shape()) {
    if (s != 1) out.push_back(s);
  }
  return reshape(t, out);
}

Tensor squeeze(const Tensor& t, std::int64_t dim) {
  check_defined(t, "squeeze");
  const std::int64_t d = normalize_dim(dim, t.dim(), "squeeze");
  Shape out = t.shape();
  if (!out.empty() && out[static_cast<std::size_t>(d)] == 1) out.erase(out.begin() + d);
  return reshape(t, out);
}

Tensor unsqueeze(const Tensor& t, std::int64_t dim) {
  check_defined(t, "unsqueeze");
  const std::int64_t d = normalize_dim(dim, t.dim() + 1, "unsqueeze");
  Shape out = t.shape();
  out.insert(out.begin() + d, 1);
  return reshape(t, out);
}

Tensor permute(const Tensor& t, const Shape& dims) {
  check_defined(t, "permute");
  const std::int64_t n = t.dim();
  if (static_cast<std::int64_t>(dims.size()) != n) {
    throw std::invalid_argument("permute: " + shape_to_string(dims) + " has " +
                                std::to_string(dims.size()) + " dims but the tensor " +
                                describe(t) + " has " + std::to_string(n));
  }
  std::vector<std::int64_t> order;
  std::vector<bool> seen(static_cast<std::size_t>(n), false);
  for (auto d : dims) {
    const std::int64_t nd = normalize_dim(d, n, "permute");
    if (seen[static_cast<std::size_t>(nd)]) {
      throw std::invalid_argument("permute: dims " + shape_to_string(dims) +
                                  " name the same dim twice");
    }
    seen[static_cast<std::size_t>(nd)] = true;
    order.push_back(nd);
  }
  Shape inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    inverse[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
  }
  return record(
      "permute", kernels::permute(array_of(t), order), {t}, kSaveNone,
      [inverse](const Tensor& g, const BackwardArgs&) { return Grads{permute(g, inverse)}; });
}

Tensor transpose(const Tensor& t, std::int64_t dim0, std::int64_t dim1) {
  check_defined(t, "transpose");
  const std::int64_t n = t.dim();
  const std::int64_t a = normalize_dim(dim0, n, "transpose");
  const std::int64_t b = normalize_dim(dim1, n, "transpose");
  if (n == 0) return t.clone();
  Shape order(static_cast<std::size_t>(n));
  for (std::int64_t d = 0; d < n; ++d) order[static_cast<std::size_t>(d)] = d;
  std::swap(order[static_cast<std::size_t>(a)], order[static_cast<std::size_t>(b)]);
  return record("transpose", kernels::permute(array_of(t), order), {t}, kSaveNone,
                [a, b](const Tensor& g, const BackwardArgs&) { return Grads{transpose(g, a, b)}; });
}

Tensor expand(const Tensor& t, const Shape& shape) {
  check_defined(t, "expand");
  const Shape in = t.shape();
  if (shape.size() < in.size()) {
    throw std::invalid_argument("expand: the target " + shape_to_string(shape) +
                                " has fewer dims than the tensor " + describe(t));
  }
  Shape target = shape;
  const std::size_t lead = shape.size() - in.size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::int64_t own = i < lead ? 1 : in[i - lead];
    if (shape[i] == -1) {
      if (i < lead) {
        throw std::invalid_argument("expand: -1 is not allowed for a new leading dim, got " +
                                    shape_to_string(shape));
      }
      target[i] = own;
    } else if (own != 1 && own != shape[i]) {
      throw std::invalid_argument("expand: the tensor " + describe(t) + " cannot be expanded to " +
                                  shape_to_string(shape) + " (size " + std::to_string(own) +
                                  " != " + std::to_string(shape[i]) + " at dim " +
                                  std::to_string(i) + "; only size-1 dims expand)");
    } else if (shape[i] < 0) {
      throw std::invalid_argument("expand: invalid size in " + shape_to_string(shape));
    }
  }
  check_shape(target, "expand", element_size(t.dtype()));
  return record(
      "expand", kernels::expand(array_of(t), target), {t}, kSaveNone,
      [in](const Tensor& g, const BackwardArgs&) { return Grads{detail::sum_to(g, in)}; });
}

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  if (tensors.empty()) throw std::invalid_argument("cat: expected a non-empty list of tensors");
  for (const auto& x : tensors) check_defined(x, "cat");
  const Tensor& first = tensors.front();
  if (first.dim() == 0) {
    throw std::invalid_argument("cat: 0-d tensors cannot be concatenated (use stack)");
  }
  const std::int64_t d = normalize_dim(dim, first.dim(), "cat");
  Dtype dtype = first.dtype();
  const Shape ref = first.shape();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Shape s = tensors[i].shape();
    bool fits = s.size() == ref.size();
    for (std::size_t k = 0; fits && k < s.size(); ++k) {
      fits = static_cast<std::int64_t>(k) == d || s[k] == ref[k];
    }
    if (!fits) {
      throw std::invalid_argument("cat: tensor " + std::to_string(i) + " " + describe(tensors[i]) +
                                  " does not match tensor 0 " + describe(first) + " outside dim " +
                                  std::to_string(d));
    }
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
    if (__builtin_add_overflow(out_shape[static_cast<std::size_t>(d)], sizes.back(),
                               &out_shape[static_cast<std::size_t>(d)])) {
      throw std::invalid_argument("cat: the sizes along dim " + std::to_string(d) +
                                  " add up to more than int64 can hold");
    }
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
  if (tensors.empty()) throw std::invalid_argument("stack: expected a non-empty list of tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "stack");
    if (tensors[i].shape() != tensors[0].shape()) {
      throw std::invalid_argument("stack: every tensor must have the same shape; tensor 0 is " +
                                  describe(tensors[0]) + ", tensor " + std::to_string(i) + " is " +
                                  describe(tensors[i]));
    }
  }
  const std::int64_t d = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const auto& x : tensors) parts.push_back(unsqueeze(x, d));
  return cat(parts, d);
}

Tensor narrow(const Tensor& t, std::int64_t dim, std::int64_t start, std::int64_t length) {
  check_defined(t, "narrow");
  if (t.dim() == 0) throw std::invalid_argument("narrow: cannot narrow a 0-d tensor");
  const std::int64_t d = normalize_dim(dim, t.dim(), "narrow");
  const std::int64_t size = t.size(d);
  if (start < 0) start += size;
  if (start < 0 || start > size || length < 0 || length > size - start) {
    throw std::out_of_range("narrow: start " + std::to_string(start) + " and length " +
                            std::to_string(length) + " do not fit in dim " + std::to_string(d) +
                            " of size " + std::to_string(size) + " of " + describe(t));
  }
  return record("narrow", kernels::narrow(array_of(t), d, start, length), {t}, kSaveNone,
                [d, start, length, in = t.shape()](const Tensor& g, const BackwardArgs&) {
                  // The slice's gradient, with zeros before and after it along d.
                  std::vector<Tensor> parts;
                  Shape pad = in;
                  pad[static_cast<std::size_t>(d)] = start;
                  if (start > 0) parts.push_back(zeros(pad, g.dtype()));
                  parts.push_back(g);
                  pad[static_cast<std::size_t>(d)] =
                      in[static_cast<std::size_t>(d)] - start - length;
                  if (pad[static_cast<std::size_t>(d)] > 0) parts.push_back(zeros(pad, g.dtype()));
                  return Grads{parts.size() == 1 ? g : cat(parts, d)};
                });
}

Tensor index_select(const Tensor& t, std::int64_t dim, const Tensor& index) {
  check_defined(t, "index_select");
  check_defined(index, "index_select");
  if (index.dtype() != kInt64 || index.dim() > 1) {
    throw std::invalid_argument(
        "index_select: the index must be a 1-D (or 0-d) Int64 tensor, got " + describe(index));
  }
  const std::int64_t d = normalize_dim(dim, t.dim(), "index_select");
  // A 0-d tensor has one element and its result keeps its 0-d shape: exactly one index fits
  // (as PyTorch's "Index to scalar can have only 1 value").
  if (t.dim() == 0 && index.numel() != 1) {
    throw std::invalid_argument("index_select: a 0-d tensor " + describe(t) +
                                " takes an index of exactly one element, got " + describe(index));
  }
  const std::int64_t size = t.dim() == 0 ? 1 : t.size(d);
  const std::int64_t* idx = index.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < index.numel(); ++i) {
    if (idx[i] < 0 || idx[i] >= size) {
      throw std::out_of_range("index_select: index " + std::to_string(idx[i]) +
                              " is out of range for dim " + std::to_string(d) + " of size " +
                              std::to_string(size) + " of " + describe(t));
    }
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
