// Sorting along a dim: sort and topk share one kernel that orders each row's indices.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "kernels.hpp"

namespace xg::kernels {
namespace {

// NaN sorts above every number, as PyTorch's sort and topk order it.
template <class T>
bool less_nan_last(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a)) return false;
    if (std::isnan(b)) return true;
  }
  return a < b;
}

}  // namespace

std::pair<Array, Array> topk(const Array& x, std::int64_t k, std::int64_t dim, bool largest) {
  const auto rank = static_cast<std::int64_t>(x.dim());
  // dim moved last (a swap, its own inverse), rows of n made contiguous
  std::vector<std::int64_t> perm(static_cast<std::size_t>(rank));
  std::iota(perm.begin(), perm.end(), 0);
  if (rank > 0) std::swap(perm[static_cast<std::size_t>(dim)], perm.back());
  const Array moved = x.permuted(perm).contiguous();
  const std::int64_t n = rank == 0 ? 1 : moved.sizes().back();
  const std::int64_t rows = n == 0 ? 0 : moved.numel() / n;
  Shape out_sizes = moved.sizes();
  if (rank > 0) out_sizes.back() = k;
  Array values = Array::empty(x.dtype(), out_sizes);
  Array indices = Array::empty(Dtype::Int64, out_sizes);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  moved.visit([&](auto in) {
    using T = typename decltype(in)::value_type;
    const T* src = in.data();
    T* out = values.data<T>();
    std::int64_t* idx = indices.data<std::int64_t>();
    for (std::int64_t r = 0; r < rows; ++r) {
      const T* row = src + r * n;
      std::iota(order.begin(), order.end(), 0);
      // stable: equal values keep their order (PyTorch leaves ties unspecified)
      auto before = [&](std::int64_t a, std::int64_t b) {
        return largest ? less_nan_last(row[b], row[a]) : less_nan_last(row[a], row[b]);
      };
      if (k == n) {
        std::stable_sort(order.begin(), order.end(), before);
      } else {
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](std::int64_t a, std::int64_t b) {
                            return before(a, b) || (!before(b, a) && a < b);
                          });
      }
      for (std::int64_t j = 0; j < k; ++j) {
        out[r * k + j] = row[order[static_cast<std::size_t>(j)]];
        idx[r * k + j] = order[static_cast<std::size_t>(j)];
      }
    }
  });
  if (rank == 0) return {values, indices};
  return {values.permuted(perm).contiguous(), indices.permuted(perm).contiguous()};
}

}  // namespace xg::kernels
