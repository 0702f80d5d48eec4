// The fused scaled dot-product attention kernels: per batch and block of query rows, the scores
// q_blk k^T on BLAS, the mask applied in place (no L x S mask is built for is_causal), a row
// softmax, then times v. The forward keeps the row log-sum-exp (L values per batch, not the
// L x S weights); the backward recomputes the block's weights from it.
#include "attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include <xtensor-blas/xblas.hpp>

#include "kernels.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace xg::kernels {
namespace simd = detail::simd;
namespace {

constexpr std::int64_t kBlockRows = 32;

using I = xt::blas_index_t;

// c = alpha op(a) op(b) + beta c for row-major matrices with leading dims lda, ldb, ldc.
template <class T>
void gemm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
    return;
  }
  cxxblas::gemm<I>(cxxblas::RowMajor, ta ? cxxblas::Trans : cxxblas::NoTrans,
                   tb ? cxxblas::Trans : cxxblas::NoTrans, static_cast<I>(m), static_cast<I>(n),
                   static_cast<I>(k), alpha, a, static_cast<I>(lda), b, static_cast<I>(ldb), beta,
                   c, static_cast<I>(ldc));
}

// Where the mask of batch b starts: the mask is [batch..., L, S] with any strides (a
// broadcast view has stride 0).
std::int64_t mask_batch_offset(const Array& mask, std::int64_t b) {
  const auto& sizes = mask.sizes();
  const auto& strides = mask.strides();
  std::int64_t offset = 0;
  for (std::size_t d = sizes.size() - 2; d-- > 0;) {
    const std::int64_t n = sizes[d];
    offset += (b % n) * strides[d];
    b /= n;
  }
  return offset;
}

struct Geometry {
  std::int64_t batch, L, S, E, Ev;
};

Geometry geometry_of(const Array& q, const Array& k, const Array& v) {
  const std::size_t r = q.dim() - 2;
  Geometry g{1, q.sizes()[r], k.sizes()[r], q.sizes()[r + 1], v.sizes()[r + 1]};
  for (std::size_t d = 0; d < r; ++d) g.batch *= q.sizes()[d];
  return g;
}

// A [batch..., rows, cols] operand read where it lies: matrix b starts at offset(b) and its rows
// are ld apart. Any layout with unit stride along cols, rows that do not overlap and at most two
// batch dims (B and the heads: the transposed views of one fused q, k, v projection) is read in
// place; others are copied to contiguous first.
struct Matrices {
  Array array;
  std::int64_t heads = 1, outer_stride = 0, head_stride = 0, ld = 0;
  std::int64_t offset(std::int64_t b) const {
    return (b / heads) * outer_stride + (b % heads) * head_stride;
  }
};

Matrices matrices(const Array& a) {
  const std::size_t d = a.dim();
  const std::int64_t rows = a.sizes()[d - 2], cols = a.sizes()[d - 1];
  const std::int64_t row_stride = a.strides()[d - 2];
  const bool in_place = d <= 4 && (cols <= 1 || a.strides()[d - 1] == 1) &&
                        (rows <= 1 || row_stride >= std::max<std::int64_t>(cols, 1));
  Matrices m{in_place ? a : a.contiguous()};
  const auto& st = m.array.strides();
  m.ld = rows <= 1 ? std::max<std::int64_t>(cols, 1) : st[d - 2];
  if (!in_place) {  // contiguous: matrix b at b * rows * cols, whatever the batch dims
    m.outer_stride = rows * cols;
    m.ld = std::max<std::int64_t>(cols, 1);
  } else if (d == 4) {
    m.heads = m.array.sizes()[1];
    m.outer_stride = st[0];
    m.head_stride = st[1];
  } else if (d == 3) {
    m.outer_stride = st[0];
  }
  return m;
}

// The scores of rows [i0, i0 + rows) of batch b, scaled and masked, in s (rows x S, ld S).
// Returns how many leading columns can be nonzero (is_causal: up to the block's last row); with
// is_causal the scores right of each row's diagonal are left as they are (see row_end).
template <class T>
std::int64_t block_scores(const Geometry& g, const T* q, std::int64_t ldq, const T* k,
                          std::int64_t ldk, const SdpaMask& m, std::int64_t b, std::int64_t i0,
                          std::int64_t rows, T scale, T* s) {
  const std::int64_t cols = m.causal ? std::min(g.S, i0 + rows) : g.S;
  gemm<T>(false, true, rows, cols, g.E, scale, q + i0 * ldq, ldq, k, ldk, T(0), s, g.S);
  constexpr T ninf = -std::numeric_limits<T>::infinity();
  if (m.mask) {
    const Array& mask = *m.mask;
    const std::size_t nd = mask.dim();
    const std::int64_t rs = mask.strides()[nd - 2], cs = mask.strides()[nd - 1];
    const std::int64_t base = mask_batch_offset(mask, b);
    if (mask.dtype() == Dtype::Bool) {
      const bool* p = mask.data<bool>() + base;
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t j = 0; j < cols; ++j) {
          if (!p[(i0 + r) * rs + j * cs]) s[r * g.S + j] = ninf;
        }
      }
    } else {
      const T* p = mask.data<T>() + base;
      for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t j = 0; j < cols; ++j) s[r * g.S + j] += p[(i0 + r) * rs + j * cs];
      }
    }
  }
  return cols;
}

// Matrices of the batch per thread: about kGrainMacs multiply-adds at least.
inline std::int64_t batch_grain(const Geometry& g) {
  return detail::kGrainMacs / std::max<std::int64_t>(g.L * g.S * (g.E + g.Ev), 1);
}

// The end of row r's nonzero weights: with is_causal, the top-left diagonal.
inline std::int64_t row_end(bool causal, std::int64_t cols, std::int64_t row) {
  return causal ? std::min(cols, row + 1) : cols;
}

}  // namespace

std::pair<Array, Array> sdpa_forward(const Array& q_in, const Array& k_in, const Array& v_in,
                                     const SdpaMask& mask, double scale) {
  const Matrices q = matrices(q_in), k = matrices(k_in), v = matrices(v_in);
  const Geometry g = geometry_of(q_in, k_in, v_in);
  Shape out_shape = q_in.shape();
  out_shape.back() = g.Ev;
  Shape lse_shape = q_in.shape();
  lse_shape.pop_back();
  // Four dims [B, H, L, Ev]: the output is laid out [B, L, H, Ev] and returned transposed, as
  // PyTorch's fused kernels do, so that the usual out.transpose(1, 2) back to [B, L, H * Ev]
  // is contiguous already and needs no copy.
  Array out;
  if (q_in.dim() == 4) {
    const std::array<std::int64_t, 4> order{0, 2, 1, 3};
    out = Array::empty(q_in.dtype(), {out_shape[0], out_shape[2], out_shape[1], out_shape[3]})
              .permuted(order);
  } else {
    out = Array::empty(q_in.dtype(), out_shape);
  }
  const Matrices o = matrices(out);
  Array lse = Array::empty(q_in.dtype(), lse_shape);
  if (out.numel() == 0 && lse.numel() == 0) return {out, lse};
  detail::dispatch_floating(q_in.dtype(), [&](auto t) {
    using T = decltype(t);
    // the batch's matrices are independent: split across the threads
    detail::parallel_for(g.batch, batch_grain(g), [&](std::int64_t b_begin, std::int64_t b_end) {
      std::vector<T> s(static_cast<std::size_t>(std::min(g.L, kBlockRows) * g.S));
      for (std::int64_t b = b_begin; b < b_end; ++b) {
        const T* qb = q.array.data<T>() + q.offset(b);
        const T* kb = k.array.data<T>() + k.offset(b);
        const T* vb = v.array.data<T>() + v.offset(b);
        T* ob = o.array.data<T>() + o.offset(b);
        T* lb = lse.data<T>() + b * g.L;
        for (std::int64_t i0 = 0; i0 < g.L; i0 += kBlockRows) {
          const std::int64_t rows = std::min(kBlockRows, g.L - i0);
          const std::int64_t cols = block_scores<T>(g, qb, q.ld, kb, k.ld, mask, b, i0, rows,
                                                    static_cast<T>(scale), s.data());
          for (std::int64_t r = 0; r < rows; ++r) {
            T* row = s.data() + r * g.S;
            // An empty or fully masked row: max -inf, and exp(-inf - -inf) is NaN, as the
            // composed softmax gives.
            T mx = -std::numeric_limits<T>::infinity();
            const std::int64_t n = row_end(mask.causal, cols, i0 + r);
            for (std::int64_t j = 0; j < n; ++j) mx = std::max(mx, row[j]);
            const T sum = simd::kernels<T>().exp_shifted(row, mx, row, n);
            const T inv = T(1) / sum;
            for (std::int64_t j = 0; j < n; ++j) row[j] *= inv;
            std::fill(row + n, row + cols, T(0));
            lb[i0 + r] = mx + std::log(sum);
          }
          gemm<T>(false, false, rows, g.Ev, cols, T(1), s.data(), g.S, vb, v.ld, T(0),
                  ob + i0 * o.ld, o.ld);
        }
      }
    });
  });
  return {out, lse};
}

std::array<Array, 3> sdpa_backward(const Array& q_in, const Array& k_in, const Array& v_in,
                                   const SdpaMask& mask, double scale, const Array& out_in,
                                   const Array& lse_in, const Array& grad_in) {
  const Matrices q = matrices(q_in), k = matrices(k_in), v = matrices(v_in);
  const Matrices o = matrices(out_in), dout = matrices(grad_in);
  const Array lse = lse_in.contiguous();
  const Geometry g = geometry_of(q_in, k_in, v_in);
  // contiguous [batch..., rows, cols] results
  Array dq = Array::empty(q_in.dtype(), q_in.shape());
  Array dk = Array::full(q_in.dtype(), k_in.shape(), 0.0);
  Array dv = Array::full(q_in.dtype(), v_in.shape(), 0.0);
  detail::dispatch_floating(q_in.dtype(), [&](auto t) {
    using T = decltype(t);
    const T sc = static_cast<T>(scale);
    const std::int64_t block = std::min(g.L, kBlockRows);
    detail::parallel_for(g.batch, batch_grain(g), [&](std::int64_t b_begin, std::int64_t b_end) {
      std::vector<T> p(static_cast<std::size_t>(block * g.S));
      std::vector<T> ds(static_cast<std::size_t>(block * g.S));
      std::vector<T> rowdot(static_cast<std::size_t>(block));
      for (std::int64_t b = b_begin; b < b_end; ++b) {
        const T* qb = q.array.data<T>() + q.offset(b);
        const T* kb = k.array.data<T>() + k.offset(b);
        const T* vb = v.array.data<T>() + v.offset(b);
        const T* ob = o.array.data<T>() + o.offset(b);
        const T* gb = dout.array.data<T>() + dout.offset(b);
        const T* lb = lse.data<T>() + b * g.L;
        T* dqb = dq.data<T>() + b * g.L * g.E;
        T* dkb = dk.data<T>() + b * g.S * g.E;
        T* dvb = dv.data<T>() + b * g.S * g.Ev;
        for (std::int64_t i0 = 0; i0 < g.L; i0 += kBlockRows) {
          const std::int64_t rows = std::min(kBlockRows, g.L - i0);
          // P = exp(scores - lse), recomputed from the saved row log-sum-exp
          const std::int64_t cols =
              block_scores<T>(g, qb, q.ld, kb, k.ld, mask, b, i0, rows, sc, p.data());
          for (std::int64_t r = 0; r < rows; ++r) {
            T* row = p.data() + r * g.S;
            const std::int64_t n = row_end(mask.causal, cols, i0 + r);
            simd::kernels<T>().exp_shifted(row, lb[i0 + r], row, n);
            std::fill(row + n, row + cols, T(0));
            T acc = 0;  // rowsum(dO * O)
            for (std::int64_t e = 0; e < g.Ev; ++e) {
              acc += gb[(i0 + r) * dout.ld + e] * ob[(i0 + r) * o.ld + e];
            }
            rowdot[static_cast<std::size_t>(r)] = acc;
          }
          // dP = dO V^T, then dS = P * (dP - rowsum(dO * O))
          gemm<T>(false, true, rows, cols, g.Ev, T(1), gb + i0 * dout.ld, dout.ld, vb, v.ld, T(0),
                  ds.data(), g.S);
          for (std::int64_t r = 0; r < rows; ++r) {
            for (std::int64_t j = 0; j < cols; ++j) {
              ds[r * g.S + j] = p[r * g.S + j] * (ds[r * g.S + j] - rowdot[r]);
            }
          }
          // dq = dS K scale; dk += dS^T Q scale; dv += P^T dO
          gemm<T>(false, false, rows, g.E, cols, sc, ds.data(), g.S, kb, k.ld, T(0), dqb + i0 * g.E,
                  g.E);
          gemm<T>(true, false, cols, g.E, rows, sc, ds.data(), g.S, qb + i0 * q.ld, q.ld, T(1), dkb,
                  g.E);
          gemm<T>(true, false, cols, g.Ev, rows, T(1), p.data(), g.S, gb + i0 * dout.ld, dout.ld,
                  T(1), dvb, g.Ev);
        }
      }
    });
  });
  return {dq, dk, dv};
}

}  // namespace xg::kernels
