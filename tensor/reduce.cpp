// Reductions: blocked summation, max/min, arg-reductions, cumulative sums and sum_to
// (un-broadcasting).
#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "check.hpp"
#include "kernels.hpp"
#include "nan_minmax.hpp"
#include "parallel.hpp"
#include "simd.hpp"
#include "wrapping.hpp"

namespace xg::kernels {
namespace simd = detail::simd;
namespace {

using detail::wrap_add;  // Int64 sums wrap around, as PyTorch's do; the same + for floats
using detail::wrap_mul;
template <class T>
constexpr T add(T a, T b) {
  return wrap_add(a, b);
}
template <class T>
constexpr T mul(T a, T b) {
  return wrap_mul(a, b);
}

constexpr std::int64_t kBlock = 1024;  // values per block; each of 8 accumulators sees 128

// Eight independent accumulators, value i into i % 8, joined pairwise: floats in the vector
// kernels of this CPU (simd.hpp, the same sum on every instruction set), Int64 here.
template <class T>
T sum_block(const T* x, std::int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    return simd::kernels<T>().sum(x, n);
  } else {
    T acc[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int j = 0; j < 8; ++j) acc[j] = add(acc[j], x[i + j]);
    }
    T tail = 0;
    for (; i < n; ++i) tail = add(tail, x[i]);
    return add(add(add(add(acc[0], acc[1]), add(acc[2], acc[3])),
                   add(add(acc[4], acc[5]), add(acc[6], acc[7]))),
               tail);
  }
}

// sum_block of the products a[i] * b[i], each rounded first, so the result equals summing them.
template <class T>
T dot_block(const T* a, const T* b, std::int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    return simd::kernels<T>().dot(a, b, n);
  } else {
    T acc[8] = {};
    std::int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      for (int j = 0; j < 8; ++j) acc[j] = add(acc[j], mul(a[i + j], b[i + j]));
    }
    T tail = 0;
    for (; i < n; ++i) tail = add(tail, mul(a[i], b[i]));
    return add(add(add(add(acc[0], acc[1]), add(acc[2], acc[3])),
                   add(add(acc[4], acc[5]), add(acc[6], acc[7]))),
               tail);
  }
}

// out[j] = sum over r < rows of x[r * ld + j] for j < inner; halves are summed separately so the
// error grows with log(rows), not rows.
template <class T>
void sum_rows(const T* x, std::int64_t rows, std::int64_t inner, std::int64_t ld, T* out) {
  if (rows <= 64) {
    std::copy(x, x + inner, out);
    for (std::int64_t r = 1; r < rows; ++r) {
      const T* row = x + r * ld;
      for (std::int64_t j = 0; j < inner; ++j) out[j] = add(out[j], row[j]);
    }
    return;
  }
  const std::int64_t half = rows / 2;
  sum_rows(x, half, inner, ld, out);
  std::vector<T> rest(static_cast<std::size_t>(inner));
  sum_rows(x + half * ld, rows - half, inner, ld, rest.data());
  for (std::int64_t j = 0; j < inner; ++j) out[j] = add(out[j], rest[j]);
}

// The reduced dims as one block [outer, reduced, inner] over a contiguous array: either they are
// adjacent already in a contiguous array, or the array is permuted and copied so that they come
// last (one copy, whatever x's own strides).
struct ReducePlan {
  std::optional<Array> source;  // x itself, or a contiguous copy of x with the reduced dims last
  std::int64_t outer = 1, reduced = 1, inner = 1;
  Shape out_shape;
};

ReducePlan plan_reduction(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  const auto& sizes = x.sizes();
  const auto ndim = static_cast<std::int64_t>(sizes.size());
  std::vector<bool> reduce(static_cast<std::size_t>(ndim), dims.empty());
  for (auto d : dims) reduce[static_cast<std::size_t>(d)] = true;

  ReducePlan plan;
  for (std::int64_t d = 0; d < ndim; ++d) {
    const auto s = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(d)]);
    if (!reduce[static_cast<std::size_t>(d)]) {
      plan.out_shape.push_back(s);
    } else if (keepdim) {
      plan.out_shape.push_back(1);
    }
  }
  // Adjacent (ignoring size-1 dims)?
  std::int64_t first = -1, last = -1;
  bool adjacent = true;
  for (std::int64_t d = 0; d < ndim; ++d) {
    if (sizes[static_cast<std::size_t>(d)] == 1) continue;
    if (reduce[static_cast<std::size_t>(d)]) {
      if (last >= 0 && last != d - 1) {
        // a kept dim of size > 1 lies between reduced ones unless every dim between is size 1
        for (std::int64_t k = last + 1; k < d; ++k) {
          if (sizes[static_cast<std::size_t>(k)] != 1) adjacent = false;
        }
      }
      if (first < 0) first = d;
      last = d;
    }
  }
  if (adjacent && x.is_contiguous()) {
    plan.source = x;
    for (std::int64_t d = 0; d < ndim; ++d) {
      const auto s = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(d)]);
      if (first < 0 || d < first) {
        plan.outer *= s;
      } else if (d <= last) {
        plan.reduced *= reduce[static_cast<std::size_t>(d)] ? s : 1;
        if (!reduce[static_cast<std::size_t>(d)]) plan.outer *= s;  // size 1 anyway
      } else {
        plan.inner *= s;
      }
    }
    if (first < 0) {  // only size-1 dims are reduced
      plan.outer = x.numel();
      plan.reduced = 1;
    }
    return plan;
  }
  std::vector<std::int64_t> order;
  for (std::int64_t d = 0; d < ndim; ++d) {
    if (!reduce[static_cast<std::size_t>(d)]) order.push_back(d);
  }
  for (std::int64_t d = 0; d < ndim; ++d) {
    if (reduce[static_cast<std::size_t>(d)]) order.push_back(d);
  }
  plan.outer = 1;
  plan.reduced = 1;
  plan.inner = 1;
  for (std::int64_t d = 0; d < ndim; ++d) {
    (reduce[static_cast<std::size_t>(d)] ? plan.reduced : plan.outer) *=
        static_cast<std::int64_t>(sizes[static_cast<std::size_t>(d)]);
  }
  plan.source = x.permuted(order).clone();
  return plan;
}

template <bool IsMax>
Array extreme(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  ReducePlan p = plan_reduction(x, dims, keepdim);
  Array out = Array::empty(x.dtype(), p.out_shape);
  if (out.numel() == 0) return out;  // the loops could count up to a huge outer size
  p.source->visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    const T* in = a.data();
    T* o = out.data<T>();
    auto pick = [](T u, T v) { return IsMax ? detail::nan_max(u, v) : detail::nan_min(u, v); };
    if (p.reduced == 0) {  // nothing to read: the identity (the ops refuse this; logsumexp not)
      const T identity =
          std::numeric_limits<T>::has_infinity
              ? (IsMax ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity())
              : (IsMax ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
      std::fill(o, o + p.outer * p.inner, identity);
      return;
    }
    // Rows of the result, and within a row runs of 16 columns, across the threads: each
    // result element still compares its values in order.
    const std::int64_t runs = (p.inner + 15) / 16;
    detail::parallel_for(p.outer * runs, detail::kGrainCopy / (16 * p.reduced) + 1,
                         [&](std::int64_t begin, std::int64_t end) {
                           for (std::int64_t t = begin; t < end; ++t) {
                             const std::int64_t i = t / runs, j0 = (t % runs) * 16;
                             const std::int64_t j1 = std::min(p.inner, j0 + 16);
                             const T* base = in + i * p.reduced * p.inner;
                             T* dst = o + i * p.inner;
                             std::copy(base + j0, base + j1, dst + j0);
                             for (std::int64_t r = 1; r < p.reduced; ++r) {
                               for (std::int64_t j = j0; j < j1; ++j) {
                                 dst[j] = pick(dst[j], base[r * p.inner + j]);
                               }
                             }
                           }
                         });
  });
  return out;
}

template <bool IsMax>
Array arg_extreme(const Array& strided, std::int64_t dim, bool keepdim) {
  const Array x = strided.contiguous();
  std::int64_t outer = 1, reduced = x.numel(), inner = 1;
  Shape out_shape;
  if (dim >= 0) {
    const auto& sizes = x.sizes();
    reduced = x.dim() == 0 ? 1 : static_cast<std::int64_t>(sizes[static_cast<std::size_t>(dim)]);
    for (std::int64_t d = 0; d < static_cast<std::int64_t>(sizes.size()); ++d) {
      const auto s = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(d)]);
      if (d < dim) outer *= s;
      if (d > dim) inner *= s;
      if (d != dim) out_shape.push_back(s);
      if (d == dim && keepdim) out_shape.push_back(1);
    }
  } else if (keepdim) {
    out_shape.assign(x.dim(), 1);
  }
  Array out = Array::empty(Dtype::Int64, out_shape);
  if (out.numel() == 0) return out;  // the loops could count up to a huge outer size
  x.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    const T* in = a.data();
    std::int64_t* o = out.data<std::int64_t>();
    // each result element on its own, across the threads
    detail::parallel_for(outer * inner, detail::kGrainCopy / std::max<std::int64_t>(reduced, 1) + 1,
                         [&](std::int64_t begin, std::int64_t end) {
                           for (std::int64_t t = begin; t < end; ++t) {
                             const std::int64_t i = t / inner, j = t % inner;
                             const T* base = in + i * reduced * inner + j;
                             std::int64_t best = 0;
                             T best_value = base[0];
                             for (std::int64_t r = 1; r < reduced && best_value == best_value;
                                  ++r) {
                               const T v = base[r * inner];
                               // NaN counts as the extreme, as in PyTorch; ties keep the first
                               // index.
                               if (v != v || (IsMax ? v > best_value : v < best_value)) {
                                 best = r;
                                 best_value = v;
                               }
                             }
                             o[i * inner + j] = best;
                           }
                         });
  });
  return out;
}

// Where the pairwise sums of n > kBlock values split: whole blocks on the left, about half.
constexpr std::int64_t pairwise_half(std::int64_t n) {
  const std::int64_t half = (n / 2 / kBlock) * kBlock;
  return half == 0 ? kBlock : half;
}

// Pairwise over blocks of kBlock values: the halves' split depends only on n.
template <class T>
T sum_tree(const T* x, std::int64_t n) {
  if (n <= kBlock) return sum_block(x, n);
  const std::int64_t half = pairwise_half(n);
  return add(sum_tree(x, half), sum_tree(x + half, n - half));
}

// The same tree, its subtrees of at most kGrainSum values (the leaves here) summed on the pool
// first: the same additions in the same order as sum_tree, whatever the thread count.
template <class T>
void tree_leaves(const T* x, std::int64_t n, std::vector<std::pair<const T*, std::int64_t>>& out) {
  if (n <= detail::kGrainSum) {
    out.emplace_back(x, n);
    return;
  }
  const std::int64_t half = pairwise_half(n);
  tree_leaves(x, half, out);
  tree_leaves(x + half, n - half, out);
}
template <class T>
T tree_combine(std::int64_t n, const std::vector<T>& leaf_sums, std::size_t& next) {
  if (n <= detail::kGrainSum) return leaf_sums[next++];
  const std::int64_t half = pairwise_half(n);
  const T left = tree_combine(half, leaf_sums, next);
  return add(left, tree_combine(n - half, leaf_sums, next));
}

}  // namespace

template <class T>
T sum_contiguous(const T* x, std::int64_t n) {
  if (n <= 2 * detail::kGrainSum) return sum_tree(x, n);
  std::vector<std::pair<const T*, std::int64_t>> leaves;
  tree_leaves(x, n, leaves);
  std::vector<T> sums(leaves.size());
  detail::parallel_for(static_cast<std::int64_t>(leaves.size()), 1,
                       [&](std::int64_t begin, std::int64_t end) {
                         for (std::int64_t i = begin; i < end; ++i) {
                           const auto [p, m] = leaves[static_cast<std::size_t>(i)];
                           sums[static_cast<std::size_t>(i)] = sum_tree(p, m);
                         }
                       });
  std::size_t next = 0;
  return tree_combine(n, sums, next);
}
template float sum_contiguous<float>(const float*, std::int64_t);
template double sum_contiguous<double>(const double*, std::int64_t);
template std::int64_t sum_contiguous<std::int64_t>(const std::int64_t*, std::int64_t);

// The blocking of sum_contiguous, over products.
template <class T>
T dot_contiguous(const T* a, const T* b, std::int64_t n) {
  if (n <= kBlock) return dot_block(a, b, n);
  const std::int64_t half = pairwise_half(n);
  return add(dot_contiguous(a, b, half), dot_contiguous(a + half, b + half, n - half));
}

Array dot_all(const Array& a, const Array& b) {
  XG_CHECK_ARG(a.dtype() == b.dtype() && a.numel() == b.numel(),
               "dot_all: expected two arrays of one dtype and size");
  const Array ca = a.contiguous(), cb = b.contiguous();
  Array out = Array::empty(a.dtype(), {});
  ca.visit([&](auto x) {
    using T = typename decltype(x)::value_type;
    out.data<T>()[0] = dot_contiguous(x.data(), cb.data<T>(), static_cast<std::int64_t>(x.size()));
  });
  return out;
}

Array sum_all(const Array& x) {
  if (x.dtype() == Dtype::Bool) return sum_all(x.to(Dtype::Int64));  // counts, as PyTorch's
  // A strided x is copied once: the blocked summation needs contiguous runs (and a copy keeps
  // the order of the additions, so results do not depend on the layout).
  const Array cx = x.contiguous();
  Array out = Array::empty(x.dtype(), {});
  cx.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    if constexpr (!std::is_same_v<T, bool>) {
      out.data<T>()[0] = sum_contiguous(a.data(), static_cast<std::int64_t>(a.size()));
    }
  });
  return out;
}

Array sum(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  if (x.dtype() == Dtype::Bool) return sum(x.to(Dtype::Int64), dims, keepdim);
  if ((dims.empty() || dims.size() == x.dim()) && !keepdim) return sum_all(x);
  ReducePlan p = plan_reduction(x, dims, keepdim);
  Array out = Array::empty(x.dtype(), p.out_shape);
  if (out.numel() == 0) return out;  // the loops could count up to a huge outer size
  p.source->visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    if constexpr (std::is_same_v<T, bool>) {
      return;  // converted to Int64 above
    } else {
      const T* in = a.data();
      T* o = out.data<T>();
      if (p.reduced == 0) {
        std::fill(o, o + p.outer * p.inner, T(0));
        return;
      }
      if (p.inner == 1) {  // rows: split by rows
        detail::parallel_for(p.outer, detail::kGrainSum / p.reduced,
                             [&](std::int64_t begin, std::int64_t end) {
                               for (std::int64_t i = begin; i < end; ++i) {
                                 o[i] = sum_contiguous(in + i * p.reduced, p.reduced);
                               }
                             });
      } else {  // columns: split by runs of 16 columns (every column is summed the same way)
        const std::int64_t runs = (p.inner + 15) / 16;
        for (std::int64_t i = 0; i < p.outer; ++i) {
          const T* base = in + i * p.reduced * p.inner;
          detail::parallel_for(runs, detail::kGrainSum / (16 * p.reduced),
                               [&](std::int64_t begin, std::int64_t end) {
                                 const std::int64_t j0 = begin * 16;
                                 const std::int64_t j1 = std::min(p.inner, end * 16);
                                 sum_rows(base + j0, p.reduced, j1 - j0, p.inner,
                                          o + i * p.inner + j0);
                               });
        }
      }
    }
  });
  return out;
}

Array amax(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  return extreme<true>(x, dims, keepdim);
}
Array amin(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  return extreme<false>(x, dims, keepdim);
}
Array argmax(const Array& x, std::int64_t dim, bool keepdim) {
  return arg_extreme<true>(x, dim, keepdim);
}
Array argmin(const Array& x, std::int64_t dim, bool keepdim) {
  return arg_extreme<false>(x, dim, keepdim);
}

Array cumsum(const Array& strided, std::int64_t dim, bool reverse) {
  // Bool counts as Int64; to() makes a contiguous copy, contiguous() one only when needed
  const Array x = strided.dtype() == Dtype::Bool ? strided.to(Dtype::Int64) : strided.contiguous();
  Array out = Array::empty(x.dtype(), x.shape());
  if (out.numel() == 0) return out;  // the loops could count up to a huge outer size
  std::int64_t outer = 1, size = 1, inner = 1;
  const auto& sizes = x.sizes();
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(sizes.size()); ++d) {
    const auto s = static_cast<std::int64_t>(sizes[static_cast<std::size_t>(d)]);
    if (d < dim) outer *= s;
    if (d == dim) size = s;
    if (d > dim) inner *= s;
  }
  x.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    if constexpr (!std::is_same_v<T, bool>) {
      // PyTorch's CPU accumulate type: double for both floating dtypes, int64 for Int64
      using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
      const T* in = a.data();
      T* o = out.data<T>();
      for (std::int64_t i = 0; i < outer; ++i) {
        for (std::int64_t j = 0; j < inner; ++j) {
          Acc acc = 0;
          for (std::int64_t r = 0; r < size; ++r) {
            const std::int64_t k = (i * size + (reverse ? size - 1 - r : r)) * inner + j;
            acc = wrap_add(acc, static_cast<Acc>(in[k]));
            o[k] = static_cast<T>(acc);
          }
        }
      }
    }
  });
  return out;
}

}  // namespace xg::kernels
