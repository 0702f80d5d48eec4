// Ops that pick part of a tensor, and their derivatives: the views narrow, select, slice (and
// split, split_with_sizes, chunk, unbind built on them), diagonal, as_strided, and the copies
// index_select and gather.
// Every backward puts the gradient where the part sits in the input.
#include <algorithm>
#include <optional>

#include "op_prelude.hpp"
#include "record_view.hpp"

namespace xg {

using autograd::record_view;

namespace {

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

Geometry geometry_of(const Array& a) {
  Geometry g;
  g.sizes = Array::Sizes(a.sizes().begin(), a.sizes().end());
  g.strides = Array::Strides(a.strides().begin(), a.strides().end());
  g.offset = a.offset();
  return g;
}

// The backward of a sub-view: the gradient scattered into zeros of the input's shape at the
// view's place (`rel`, the view's geometry in a contiguous tensor of that shape); or, when the
// engine already holds a gradient for the input, added into it there.
struct SubviewBackward {
  Geometry rel;
  Shape in;
  Grads operator()(const Tensor& g, const BackwardArgs&) const {
    return Grads{detail::view_scatter(g, in, rel.sizes, rel.strides, rel.offset)};
  }
  bool add_into(Tensor& buffer, const Tensor& g) const {
    if (buffer.shape() != in || buffer.dtype() != g.dtype() || !buffer.is_contiguous() ||
        buffer.storage_offset() != 0 || g.shape() != rel.sizes) {
      return false;
    }
    Array target = array_of(buffer).view({rel.sizes.data(), rel.sizes.size()},
                                         {rel.strides.data(), rel.strides.size()}, rel.offset);
    kernels::accumulate_into(target, array_of(g));
    return true;
  }
};

// A sub-view of t (narrow, select, slice): `f` maps a geometry to the view's. Applied to t's
// own geometry it gives the view; applied to a contiguous tensor of t's shape it gives where
// the view's gradient goes in t's gradient, which the backward scatters into zeros.
template <class F>
Tensor record_subview(const char* op, const Tensor& t, F&& f) {
  const Array& a = array_of(t);
  const Geometry view = f(geometry_of(a));
  Geometry rel = f(contiguous_geometry(t.shape()));
  return record_view(op, t,
                     a.view({view.sizes.data(), view.sizes.size()},
                            {view.strides.data(), view.strides.size()}, view.offset),
                     SubviewBackward{std::move(rel), t.shape()});
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

Tensor gather(const Tensor& t, std::int64_t dim, const Tensor& index) {
  check_defined(t, "gather");
  check_defined(index, "gather");
  const std::int64_t d = normalize_dim(dim, t.dim(), "gather");
  const Tensor idx = index.detach();
  // An empty index gives an empty result whatever its dtype and sizes, as in PyTorch.
  if (index.numel() != 0) {
    XG_CHECK_ARG(index.dtype() == kInt64, "gather: expected an Int64 index, got ", describe(index));
    // A 0-d tensor or index counts as one of one element.
    const std::int64_t dims = std::max<std::int64_t>(t.dim(), 1);
    XG_CHECK_ARG(std::max<std::int64_t>(index.dim(), 1) == dims, "gather: the index ",
                 describe(index), " must have as many dims as the tensor ", describe(t));
    for (std::int64_t k = 0; k < t.dim(); ++k) {
      XG_CHECK_ARG(k == d || index.size(k) <= t.size(k), "gather: the index ", describe(index),
                   " is larger than the tensor ", describe(t), " at dim ", k, " (only dim ", d,
                   ", the one gathered along, may be larger)");
    }
    const std::int64_t size = t.dim() == 0 ? 1 : t.size(d);
    const Tensor dense = index.contiguous();
    const std::int64_t* p = dense.data_ptr<std::int64_t>();
    for (std::int64_t i = 0; i < index.numel(); ++i) {
      XG_CHECK_RANGE(p[i] >= 0 && p[i] < size, "gather: index ", p[i], " is out of range for dim ",
                     d, " of size ", size, " of ", describe(t));
    }
  }
  if (index.numel() == 0) {
    return record("gather", Array::empty_with_sizes(t.dtype(), array_of(index).sizes()), {t},
                  kSaveNone, [in = t.shape()](const Tensor& g, const BackwardArgs&) {
                    return Grads{make_tensor(Array::full(g.dtype(), in, 0.0))};
                  });
  }
  return record("gather", kernels::gather(array_of(t), d, array_of(idx)), {t, idx}, kSaveInputs,
                [d, in = t.shape()](const Tensor& g, const BackwardArgs& s) {
                  return Grads{detail::scatter_add_zeros(in, d, s.input(1), g), Tensor()};
                });
}

Tensor detail::scatter_add_zeros(const Shape& shape, std::int64_t dim, const Tensor& index,
                                 const Tensor& src) {
  return record("scatter_add",
                kernels::scatter_add_zeros(shape, dim, array_of(index), array_of(src)),
                {src, index}, kSaveInputs, [dim](const Tensor& g, const BackwardArgs& s) {
                  return Grads{gather(g, dim, s.input(1)), Tensor()};
                });
}

Tensor diagonal(const Tensor& t, std::int64_t offset, std::int64_t dim1, std::int64_t dim2) {
  check_defined(t, "diagonal");
  const std::int64_t a = normalize_dim(dim1, t.dim(), "diagonal");
  const std::int64_t b = normalize_dim(dim2, t.dim(), "diagonal");
  XG_CHECK_ARG(a != b, "diagonal: dim1 and dim2 must be different dims, got ", dim1, " and ", dim2,
               " for ", describe(t));
  return record_subview("diagonal", t, [a, b, offset](Geometry g) {
    const auto i = static_cast<std::size_t>(a), j = static_cast<std::size_t>(b);
    const auto s1 = static_cast<std::int64_t>(g.sizes[i]);
    const auto s2 = static_cast<std::int64_t>(g.sizes[j]);
    // The length of the diagonal `offset` above (below, when negative) the main one.
    const std::int64_t length = offset >= 0 ? std::max<std::int64_t>(std::min(s1, s2 - offset), 0)
                                            : std::max<std::int64_t>(std::min(s1 + offset, s2), 0);
    if (length > 0)
      advance_offset(g, offset >= 0 ? offset : -offset, g.strides[offset >= 0 ? j : i]);
    Geometry out;
    out.offset = g.offset;
    for (std::size_t k = 0; k < g.sizes.size(); ++k) {
      if (k == i || k == j) continue;
      out.sizes.push_back(g.sizes[k]);
      out.strides.push_back(g.strides[k]);
    }
    out.sizes.push_back(static_cast<std::size_t>(length));
    out.strides.push_back(g.strides[i] + g.strides[j]);
    return out;
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
