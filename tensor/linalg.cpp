// Matrix products on BLAS (xtensor-blas's cxxblas over OpenBLAS); Int64 uses a plain loop.
#include <xtensor-blas/xblas.hpp>

#include "kernels.hpp"
#include "wrapping.hpp"

namespace xg::kernels {
namespace {

template <class T>
void gemm_loop(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, const T* a,
               const T* b, T* c) {
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      T acc = 0;
      for (std::int64_t p = 0; p < k; ++p) {
        acc = detail::wrap_add(acc, detail::wrap_mul(ta ? a[p * m + i] : a[i * k + p],
                                                     tb ? b[j * k + p] : b[p * n + j]));
      }
      c[i * n + j] = acc;
    }
  }
}

}  // namespace

Array bmm(const Array& a, const Array& b, bool transpose_a, bool transpose_b) {
  const auto as = a.sizes();
  const auto bs = b.sizes();
  const bool batched = as.size() == 3;
  const std::int64_t batch = batched ? static_cast<std::int64_t>(as[0]) : 1;
  const std::size_t r = batched ? 1 : 0;
  const auto m = static_cast<std::int64_t>(transpose_a ? as[r + 1] : as[r]);
  const auto k = static_cast<std::int64_t>(transpose_a ? as[r] : as[r + 1]);
  const auto n = static_cast<std::int64_t>(transpose_b ? bs[r] : bs[r + 1]);
  Shape out_shape = batched ? Shape{batch, m, n} : Shape{m, n};
  Array out = Array::empty(a.dtype(), out_shape);
  if (out.numel() == 0) return out;  // the batch loop could count up to a huge size
  a.visit([&](const auto& xa) {
    using T = typename std::decay_t<decltype(xa)>::value_type;
    const T* pa = xa.data();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    for (std::int64_t i = 0; i < batch; ++i) {
      const T* ai = pa + i * m * k;
      const T* bi = pb + i * k * n;
      T* ci = pc + i * m * n;
      if constexpr (std::is_floating_point_v<T>) {
        if (k == 0) {
          std::fill(ci, ci + m * n, T(0));
          continue;
        }
        if (m == 0 || n == 0) continue;
        using I = xt::blas_index_t;
        cxxblas::gemm<I>(cxxblas::RowMajor, transpose_a ? cxxblas::Trans : cxxblas::NoTrans,
                         transpose_b ? cxxblas::Trans : cxxblas::NoTrans, static_cast<I>(m),
                         static_cast<I>(n), static_cast<I>(k), T(1), ai,
                         static_cast<I>(transpose_a ? m : k), bi,
                         static_cast<I>(transpose_b ? k : n), T(0), ci, static_cast<I>(n));
      } else {
        gemm_loop(transpose_a, transpose_b, m, n, k, ai, bi, ci);
      }
    }
  });
  return out;
}

}  // namespace xg::kernels
