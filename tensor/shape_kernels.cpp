// Shape kernels: every result is a fresh contiguous array (xgrad tensors never alias).
#include <algorithm>
#include <cstring>

#include "kernels.hpp"
#include "strided_loop.hpp"
#include "wrapping.hpp"

namespace xg::kernels {
namespace {

// out (contiguous, `sizes`) = in read with element `strides` from `offset`.
template <class T>
void strided_copy(const T* in, std::int64_t offset, const std::vector<std::int64_t>& sizes,
                  const std::vector<std::int64_t>& strides, T* out) {
  const auto ndim = static_cast<std::int64_t>(sizes.size());
  std::int64_t total = 1;
  for (auto s : sizes) total *= s;
  if (total == 0) return;
  if (ndim == 0) {
    out[0] = in[offset];
    return;
  }
  const std::int64_t n = sizes[ndim - 1];
  const std::int64_t step = strides[ndim - 1];
  std::vector<std::int64_t> index(static_cast<std::size_t>(ndim), 0);
  std::int64_t src = offset;
  for (std::int64_t done = 0; done < total; done += n) {
    const T* row = in + src;
    if (step == 1) {
      std::copy(row, row + n, out + done);
    } else if (step == 0) {  // a broadcast dim (expand): one value repeated
      std::fill(out + done, out + done + n, *row);
    } else {
      for (std::int64_t i = 0; i < n; ++i) out[done + i] = row[i * step];
    }
    for (std::int64_t d = ndim - 2; d >= 0; --d) {
      src += strides[d];
      if (++index[d] < sizes[d]) break;
      src -= strides[d] * sizes[d];
      index[d] = 0;
    }
  }
}

std::vector<std::int64_t> contiguous_strides(std::span<const std::size_t> sizes) {
  std::vector<std::int64_t> strides(sizes.size());
  std::int64_t s = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    strides[d] = s;
    s *= static_cast<std::int64_t>(sizes[d]);
  }
  return strides;
}

}  // namespace

Array reshape(const Array& x, const Shape& shape) {
  return x.visit([&](const auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    Array out = Array::empty(x.dtype(), shape);
    std::copy(a.data(), a.data() + a.size(), out.data<T>());
    return out;
  });
}

Array permute(const Array& x, const std::vector<std::int64_t>& dims) {
  const auto sizes = x.sizes();
  const auto in_strides = contiguous_strides(sizes);
  std::vector<std::int64_t> out_sizes(dims.size()), strides(dims.size());
  Shape shape(dims.size());
  for (std::size_t i = 0; i < dims.size(); ++i) {
    out_sizes[i] = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(dims[i])]);
    strides[i] = in_strides[static_cast<std::size_t>(dims[i])];
    shape[i] = out_sizes[i];
  }
  return x.visit([&](const auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    Array out = Array::empty(x.dtype(), shape);
    strided_copy(a.data(), 0, out_sizes, strides, out.data<T>());
    return out;
  });
}

Array expand(const Array& x, const Shape& shape) {
  const auto sizes = x.sizes();
  const auto in_strides = contiguous_strides(sizes);
  std::vector<std::int64_t> strides(shape.size(), 0);
  const std::size_t lead = shape.size() - sizes.size();
  for (std::size_t d = lead; d < shape.size(); ++d) {
    strides[d] = sizes[d - lead] == 1 ? 0 : in_strides[d - lead];
  }
  return x.visit([&](const auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    Array out = Array::empty(x.dtype(), shape);
    strided_copy(a.data(), 0, std::vector<std::int64_t>(shape.begin(), shape.end()), strides,
                 out.data<T>());
    return out;
  });
}

Array cat(const std::vector<const Array*>& xs, std::int64_t dim) {
  Shape shape = xs.front()->shape();
  std::int64_t total = 0;
  for (const Array* x : xs)
    total += static_cast<std::int64_t>(x->sizes()[static_cast<std::size_t>(dim)]);
  shape[static_cast<std::size_t>(dim)] = total;
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (static_cast<std::int64_t>(d) < dim) outer *= shape[d];
    if (static_cast<std::int64_t>(d) > dim) inner *= shape[d];
  }
  Array out = Array::empty(xs.front()->dtype(), shape);
  if (out.numel() == 0) return out;  // the loops below could count up to a huge outer size
  out.visit([&](auto& o) {
    using T = typename std::decay_t<decltype(o)>::value_type;
    T* dst = o.data();
    const std::int64_t row = total * inner;
    std::int64_t col = 0;
    for (const Array* x : xs) {
      const std::int64_t chunk =
          static_cast<std::int64_t>(x->sizes()[static_cast<std::size_t>(dim)]) * inner;
      const T* src = x->data<T>();
      for (std::int64_t i = 0; i < outer; ++i) {
        std::copy(src + i * chunk, src + (i + 1) * chunk, dst + i * row + col);
      }
      col += chunk;
    }
  });
  return out;
}

Array narrow(const Array& x, std::int64_t dim, std::int64_t start, std::int64_t length) {
  const auto sizes = x.sizes();
  std::vector<std::int64_t> out_sizes(sizes.begin(), sizes.end());
  out_sizes[static_cast<std::size_t>(dim)] = length;
  const auto strides = contiguous_strides(sizes);
  return x.visit([&](const auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    Array out = Array::empty(x.dtype(), Shape(out_sizes.begin(), out_sizes.end()));
    strided_copy(a.data(), start * strides[static_cast<std::size_t>(dim)], out_sizes, strides,
                 out.data<T>());
    return out;
  });
}

Array index_select(const Array& x, std::int64_t dim, const Array& index) {
  const auto sizes = x.sizes();
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
  return x.visit([&](const auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    Array result = Array::empty(x.dtype(), shape);
    if (result.numel() == 0) return result;  // the loops could count up to a huge outer size
    auto& out = result.get<T>();
    const T* src = a.data();
    T* dst = out.data();
    for (std::int64_t i = 0; i < outer; ++i) {
      for (std::int64_t j = 0; j < count; ++j) {
        const T* from = src + (i * size + idx[j]) * inner;
        std::copy(from, from + inner, dst + (i * count + j) * inner);
      }
    }
    return result;
  });
}

Array index_add_zeros(const Shape& shape, std::int64_t dim, const Array& index, const Array& src) {
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
  out.visit([&](auto& o) {
    using T = typename std::decay_t<decltype(o)>::value_type;
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
