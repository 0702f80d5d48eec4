// Shape kernels: views (reshape of a contiguous array, permute, expand, narrow) share their
// input's buffer; cat, index_select and index_add_zeros write new arrays.
#include <algorithm>
#include <cstring>

#include "kernels.hpp"
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
    for (std::int64_t i = 0; i < outer; ++i) {
      for (std::int64_t j = 0; j < count; ++j) {
        const T* from = src + (i * size + idx[j]) * inner;
        std::copy(from, from + inner, dst + (i * count + j) * inner);
      }
    }
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
    for (std::int64_t i = 0; i < outer; ++i) {
      for (std::int64_t j = 0; j < count; ++j) {
        T* to = dst + (i * size + idx[j]) * inner;
        const T* row = from + (i * count + j) * inner;
        for (std::int64_t k = 0; k < inner; ++k) to[k] = detail::wrap_add(to[k], row[k]);
      }
    }
  });
  return out;
}

}  // namespace xg::kernels
