// Matrix products on BLAS (xtensor-blas's cxxblas over OpenBLAS); Int64 uses a plain loop.
#include <array>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "kernels.hpp"
#include "parallel.hpp"
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

// How BLAS reads one operand: its matrices (the last two dims, rows x cols) in row-major order
// with leading dimension ld, or in column-major order (a transposed view) with flip set, and
// `batch` elements apart. A layout BLAS cannot read gives ok = false.
struct MatrixLayout {
  bool ok = false;
  bool flip = false;
  std::int64_t ld = 1;
};

MatrixLayout layout_of(const Array& x) {
  const auto& sizes = x.sizes();
  const auto& strides = x.strides();
  const std::size_t r = sizes.size() - 2;
  const auto rows = static_cast<std::int64_t>(sizes[r]);
  const auto cols = static_cast<std::int64_t>(sizes[r + 1]);
  const std::int64_t sr = strides[r], sc = strides[r + 1];
  MatrixLayout l;
  if ((sc == 1 || cols == 1) && (rows == 1 || sr >= std::max<std::int64_t>(cols, 1))) {
    l.ok = true;
    l.ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : sr;
  } else if ((sr == 1 || rows == 1) && (cols == 1 || sc >= std::max<std::int64_t>(rows, 1))) {
    l.ok = true;
    l.flip = true;
    l.ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : sc;
  }
  return l;
}

}  // namespace

// Strided operands go to BLAS as they are when each matrix is row-major or column-major with
// unit stride one way (a transposed or permuted view flips the transpose flag), whatever the
// strides of the batch dims (an expanded batch has stride 0); other layouts, and Int64 operands,
// are copied to contiguous first.
Array bmm(const Array& a_in, const Array& b_in, bool transpose_a, bool transpose_b) {
  const bool floating = is_floating(a_in.dtype());
  MatrixLayout la = layout_of(a_in), lb = layout_of(b_in);
  const Array a = floating && la.ok ? a_in : a_in.contiguous();
  const Array b = floating && lb.ok ? b_in : b_in.contiguous();
  if (!floating || !la.ok) la = layout_of(a);
  if (!floating || !lb.ok) lb = layout_of(b);
  const auto& as = a.sizes();
  const auto& bs = b.sizes();
  const std::size_t r = as.size() - 2;  // the batch dims come first, the same in a and b
  const auto m = static_cast<std::int64_t>(transpose_a ? as[r + 1] : as[r]);
  const auto k = static_cast<std::int64_t>(transpose_a ? as[r] : as[r + 1]);
  const auto n = static_cast<std::int64_t>(transpose_b ? bs[r] : bs[r + 1]);
  Array::Sizes out_sizes(as.begin(), as.begin() + static_cast<std::ptrdiff_t>(r));
  out_sizes.push_back(static_cast<std::size_t>(m));
  out_sizes.push_back(static_cast<std::size_t>(n));
  Array out = Array::empty_with_sizes(a.dtype(), {out_sizes.data(), out_sizes.size()});
  if (out.numel() == 0) return out;  // the batch loop could count up to a huge size
  std::int64_t batch = 1;
  for (std::size_t d = 0; d < r; ++d) batch *= static_cast<std::int64_t>(as[d]);
  // Each matrix's offsets in a and b, by the odometer over the batch dims.
  std::vector<std::array<std::int64_t, 2>> offsets(static_cast<std::size_t>(batch));
  {
    Array::Sizes index(r);
    std::int64_t oa = 0, ob = 0;
    for (std::int64_t i = 0; i < batch; ++i) {
      offsets[static_cast<std::size_t>(i)] = {oa, ob};
      for (std::size_t d = r; d-- > 0;) {
        oa += a.strides()[d];
        ob += b.strides()[d];
        if (++index[d] < as[d]) break;
        oa -= a.strides()[d] * static_cast<std::int64_t>(as[d]);
        ob -= b.strides()[d] * static_cast<std::int64_t>(as[d]);
        index[d] = 0;
      }
    }
  }
  detail::dispatch(a.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* pc = out.data<T>();
    const bool ta = transpose_a != la.flip, tb = transpose_b != lb.flip;
    // matrix i of the product
    auto product = [&](std::int64_t i) {
      const auto [oa, ob] = offsets[static_cast<std::size_t>(i)];
      T* ci = pc + i * m * n;
      if constexpr (std::is_floating_point_v<T>) {
        if (k == 0) {
          std::fill(ci, ci + m * n, T(0));
        } else {
          using I = xt::blas_index_t;
          cxxblas::gemm<I>(cxxblas::RowMajor, ta ? cxxblas::Trans : cxxblas::NoTrans,
                           tb ? cxxblas::Trans : cxxblas::NoTrans, static_cast<I>(m),
                           static_cast<I>(n), static_cast<I>(k), T(1), pa + oa,
                           static_cast<I>(la.ld), pb + ob, static_cast<I>(lb.ld), T(0), ci,
                           static_cast<I>(n));
        }
      } else {
        gemm_loop(transpose_a, transpose_b, m, n, k, pa + oa, pb + ob, ci);
      }
    };
    // One product, or products large enough for OpenBLAS's own threads, go to BLAS one by one;
    // a batch of small ones (attention's heads) splits across xgrad's pool instead. Splitting
    // one large product across the pool was measured slower than OpenBLAS's threads
    // (docs/performance.md, "The thread pool").
    const std::int64_t macs = std::max<std::int64_t>(m * n * k, 1);
    const bool small = macs < detail::kBlasThreadedMacs || detail::blas_single_threaded();
    if (batch > 1 && small) {
      detail::parallel_for(batch, detail::kGrainMacs / macs, [&](std::int64_t b, std::int64_t e) {
        for (std::int64_t i = b; i < e; ++i) product(i);
      });
    } else {
      for (std::int64_t i = 0; i < batch; ++i) product(i);
    }
  });
  return out;
}

}  // namespace xg::kernels
