// Shape kernels: views (reshape of a contiguous array, permute, expand, narrow) share their
// input's buffer; cat, index_select, index_add_zeros, gather, scatter_add_zeros, masked_select
// and masked_scatter_zeros write new arrays.
#include <algorithm>
#include <cstring>
#include <span>
#include <vector>

#include "kernels.hpp"
#include "parallel.hpp"
#include "strided_loop.hpp"
#include "wrapping.hpp"

namespace xg::kernels {

Array reshape(const Array& x, const Shape& shape) {
  Array::Sizes sizes(shape.begin(), shape.end());
  return x.contiguous().reshaped_contiguous({sizes.data(), sizes.size()});
}

Array permute(const Array& x, const std::vector<std::int64_t>& dims) { return x.permuted(dims); }

Array expand(const Array& x, const Shape& shape) {
  const auto& sizes = x.sizes();
  const auto in_strides = x.strides();
  Array::Sizes out_sizes(shape.begin(), shape.end());
  Array::Strides strides(shape.size());
  const std::size_t lead = shape.size() - sizes.size();
  for (std::size_t d = lead; d < shape.size(); ++d) {
    strides[d] = sizes[d - lead] == 1 && shape[d] != 1 ? 0 : in_strides[d - lead];
  }
  return x.view({out_sizes.data(), out_sizes.size()}, {strides.data(), strides.size()}, x.offset());
}

Array cat(const std::vector<const Array*>& xs, std::int64_t dim) {
  Shape shape = xs.front()->shape();
  std::int64_t total = 0;
  for (const Array* x : xs)
    total += static_cast<std::int64_t>(x->sizes()[static_cast<std::size_t>(dim)]);
  shape[static_cast<std::size_t>(dim)] = total;
  Array out = Array::empty(xs.front()->dtype(), shape);
  if (out.numel() == 0) return out;
  std::int64_t start = 0;
  for (const Array* x : xs) {
    const auto length = static_cast<std::int64_t>(x->sizes()[static_cast<std::size_t>(dim)]);
    detail::copy_into(narrow(out, dim, start, length), *x);
    start += length;
  }
  return out;
}

Array narrow(const Array& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  Array::Sizes sizes(x.sizes().begin(), x.sizes().end());
  sizes[static_cast<std::size_t>(dim)] = static_cast<std::size_t>(length);
  return x.view({sizes.data(), sizes.size()}, x.strides(),
                x.offset() + start * x.strides()[static_cast<std::size_t>(dim)]);
}

Array index_select(const Array& strided, std::int64_t dim, const Array& index_in) {
  const Array x = strided.contiguous();
  const Array index = index_in.contiguous();
  const auto& sizes = x.sizes();
  Shape shape(sizes.begin(), sizes.end());
  const std::int64_t count = index.numel();
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (static_cast<std::int64_t>(d) < dim) outer *= shape[d];
    if (static_cast<std::int64_t>(d) > dim) inner *= shape[d];
  }
  const std::int64_t size = shape.empty() ? 1 : shape[static_cast<std::size_t>(dim)];
  if (!shape.empty()) shape[static_cast<std::size_t>(dim)] = count;
  const std::int64_t* idx = index.data<std::int64_t>();
  return x.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    Array result = Array::empty(x.dtype(), shape);
    if (result.numel() == 0) return result;  // the loops could count up to a huge outer size
    const T* src = a.data();
    T* dst = result.data<T>();
    detail::parallel_for(outer * count, detail::kGrainCopy / std::max<std::int64_t>(inner, 1),
                         [&](std::int64_t begin, std::int64_t end) {
                           for (std::int64_t r = begin; r < end; ++r) {
                             const std::int64_t i = r / count, j = r % count;
                             const T* from = src + (i * size + idx[j]) * inner;
                             std::copy(from, from + inner, dst + r * inner);
                           }
                         });
    return result;
  });
}

Array index_add_zeros(const Shape& shape, std::int64_t dim, const Array& index_in,
                      const Array& src_in) {
  const Array index = index_in.contiguous();
  const Array src = src_in.contiguous();
  Array out = Array::full(src.dtype(), shape, 0.0);
  if (src.numel() == 0) return out;  // nothing to add, and the loops could count up to a huge size
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (static_cast<std::int64_t>(d) < dim) outer *= shape[d];
    if (static_cast<std::int64_t>(d) > dim) inner *= shape[d];
  }
  const std::int64_t size = shape.empty() ? 1 : shape[static_cast<std::size_t>(dim)];
  const std::int64_t count = index.numel();
  const std::int64_t* idx = index.data<std::int64_t>();
  out.visit([&](auto o) {
    using T = typename decltype(o)::value_type;
    const T* from = src.data<T>();
    T* dst = o.data();
    // Split by runs of 16 columns: each element still adds its rows in index order.
    const std::int64_t runs = (inner + 15) / 16;
    detail::parallel_for(runs, detail::kGrainCopy / (16 * outer * count) + 1,
                         [&](std::int64_t begin, std::int64_t end) {
                           const std::int64_t k0 = begin * 16, k1 = std::min(inner, end * 16);
                           for (std::int64_t i = 0; i < outer; ++i) {
                             for (std::int64_t j = 0; j < count; ++j) {
                               T* to = dst + (i * size + idx[j]) * inner;
                               const T* row = from + (i * count + j) * inner;
                               for (std::int64_t k = k0; k < k1; ++k) {
                                 to[k] = detail::wrap_add(to[k], row[k]);
                               }
                             }
                           }
                         });
  });
  return out;
}

namespace {

// The sizes and contiguous strides of a gather/scatter operand of `dims` dims (a 0-d one as one
// element of one dim).
struct Dims {
  std::vector<std::int64_t> sizes, strides;
};
Dims dims_of(std::span<const std::int64_t> sizes_in) {
  Dims d;
  d.sizes.assign(sizes_in.begin(), sizes_in.end());
  if (d.sizes.empty()) d.sizes.push_back(1);
  d.strides.assign(d.sizes.size(), 1);
  for (std::size_t k = d.sizes.size() - 1; k > 0; --k) {
    d.strides[k - 1] = d.strides[k] * d.sizes[k];
  }
  return d;
}

// Calls f(i, j) for every position i (row-major) of an index of sizes `index_sizes`, with j the
// position in a contiguous array of `target` dims that it addresses: the same coordinates,
// with idx[i] at dim.
template <class F>
void for_each_gathered(const Dims& index_dims, const Dims& target, std::int64_t dim,
                       const std::int64_t* idx, std::int64_t count, F&& f) {
  const std::size_t n = index_dims.sizes.size();
  const auto k = static_cast<std::size_t>(dim);
  std::vector<std::int64_t> coord(n, 0);
  std::int64_t base = 0;  // sum of coord[d] * target.strides[d] over d != dim
  for (std::int64_t i = 0; i < count; ++i) {
    f(i, base + idx[i] * target.strides[k]);
    for (std::size_t d = n; d-- > 0;) {
      if (++coord[d] < index_dims.sizes[d]) {
        if (d != k) base += target.strides[d];
        break;
      }
      if (d != k) base -= (coord[d] - 1) * target.strides[d];
      coord[d] = 0;
    }
  }
}

}  // namespace

Array gather(const Array& strided, std::int64_t dim, const Array& index_in) {
  const Array x = strided.contiguous();
  const Array index = index_in.contiguous();
  Array out = Array::empty_with_sizes(x.dtype(), index.sizes());
  if (out.numel() == 0) return out;
  const Dims xd = dims_of(x.sizes()), id = dims_of(index.sizes());
  const std::int64_t* idx = index.data<std::int64_t>();
  x.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    const T* src = a.data();
    T* dst = out.data<T>();
    for_each_gathered(id, xd, dim, idx, index.numel(),
                      [&](std::int64_t i, std::int64_t j) { dst[i] = src[j]; });
  });
  return out;
}

Array scatter_add_zeros(const Shape& shape, std::int64_t dim, const Array& index_in,
                        const Array& src_in) {
  const Array index = index_in.contiguous();
  const Array src = src_in.contiguous();
  Array out = Array::full(src.dtype(), shape, 0.0);
  if (index.numel() == 0) return out;
  const Dims od = dims_of(out.sizes()), id = dims_of(index.sizes());
  const std::int64_t* idx = index.data<std::int64_t>();
  out.visit([&](auto o) {
    using T = typename decltype(o)::value_type;
    const T* from = src.data<T>();
    T* dst = o.data();
    // serially, in the index's order: repeated indices add up in a fixed order
    for_each_gathered(id, od, dim, idx, index.numel(), [&](std::int64_t i, std::int64_t j) {
      dst[j] = detail::wrap_add(dst[j], from[i]);
    });
  });
  return out;
}

Array masked_select(const Array& strided, const Array& mask_in) {
  const Array x = strided.contiguous();
  const Array mask = mask_in.contiguous();
  const bool* m = mask.data<bool>();
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < mask.numel(); ++i) count += m[i] ? 1 : 0;
  Array out = Array::empty(x.dtype(), {count});
  if (count == 0) return out;
  x.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    const T* src = a.data();
    T* dst = out.data<T>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      if (m[i]) *dst++ = src[i];
    }
  });
  return out;
}

Array masked_scatter_zeros(const Array& mask_in, const Array& src_in) {
  const Array mask = mask_in.contiguous();
  const Array src = src_in.contiguous();
  Array out = Array::full(src.dtype(), mask.shape(), 0.0);
  if (out.numel() == 0) return out;
  const bool* m = mask.data<bool>();
  out.visit([&](auto o) {
    using T = typename decltype(o)::value_type;
    const T* from = src.data<T>();
    T* dst = o.data();
    for (std::int64_t i = 0; i < mask.numel(); ++i) {
      if (m[i]) dst[i] = *from++;
    }
  });
  return out;
}

}  // namespace xg::kernels
