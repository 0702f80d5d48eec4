#include "layer_norm.hpp"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "parallel.hpp"

namespace xg::kernels {

namespace {

constexpr std::int64_t kRowBlock = 32;  // rows per block of the backward pass

template <class T>
void rows_backward(const T* g, const T* x, const T* mean, const T* rstd, const T* w,
                   std::int64_t rows, std::int64_t n, T* dx, double* dw, double* db) {
  const double inv_n = 1.0 / static_cast<double>(n);
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* gr = g + r * n;
    const T* xr = x + r * n;
    const double m = mean[r], rs = rstd[r];
    double sum_gh = 0, sum_gh_xhat = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      const double xhat = (static_cast<double>(xr[i]) - m) * rs;
      const double gh = w ? static_cast<double>(gr[i]) * static_cast<double>(w[i]) : gr[i];
      sum_gh += gh;
      sum_gh_xhat += gh * xhat;
      if (dw) dw[i] += static_cast<double>(gr[i]) * xhat;
      if (db) db[i] += gr[i];
    }
    if (!dx) continue;
    const double a = sum_gh * inv_n, b = sum_gh_xhat * inv_n;
    T* out = dx + r * n;
    for (std::int64_t i = 0; i < n; ++i) {
      const double xhat = (static_cast<double>(xr[i]) - m) * rs;
      const double gh = w ? static_cast<double>(gr[i]) * static_cast<double>(w[i]) : gr[i];
      out[i] = static_cast<T>(rs * (gh - a - xhat * b));
    }
  }
}

}  // namespace

LayerNormOutputs layer_norm_forward(const Array& x_in, const Array* weight, const Array* bias,
                                    std::size_t dims, double eps) {
  const Array x = x_in.contiguous();
  const Array w = weight ? weight->contiguous() : Array(), b = bias ? bias->contiguous() : Array();
  Shape stats_shape = x.shape();
  std::int64_t n = 1;
  for (std::size_t d = stats_shape.size() - dims; d < stats_shape.size(); ++d) {
    n *= stats_shape[d];
    stats_shape[d] = 1;
  }
  const std::int64_t rows = n == 0 ? 0 : x.numel() / n;
  LayerNormOutputs r{Array::empty(x.dtype(), x.shape()), Array::empty(x.dtype(), stats_shape),
                     Array::empty(x.dtype(), stats_shape)};
  detail::dispatch_floating(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    const T* pw = weight ? w.data<T>() : nullptr;
    const T* pb = bias ? b.data<T>() : nullptr;
    T* po = r.out.data<T>();
    T* pm = r.mean.data<T>();
    T* pr = r.rstd.data<T>();
    detail::parallel_for(rows, detail::kGrainMath / std::max<std::int64_t>(n, 1) + 1,
                         [&](std::int64_t begin, std::int64_t end) {
                           for (std::int64_t i = begin; i < end; ++i) {
                             const T* v = px + i * n;
                             double sum = 0;
                             for (std::int64_t j = 0; j < n; ++j) sum += v[j];
                             const double mean = sum / static_cast<double>(n);
                             double sq = 0;
                             for (std::int64_t j = 0; j < n; ++j) {
                               const double c = v[j] - mean;
                               sq += c * c;
                             }
                             const double rstd = 1.0 / std::sqrt(sq / static_cast<double>(n) + eps);
                             pm[i] = static_cast<T>(mean);
                             pr[i] = static_cast<T>(rstd);
                             T* o = po + i * n;
                             for (std::int64_t j = 0; j < n; ++j) {
                               T y = static_cast<T>((v[j] - mean) * rstd);
                               if (pw) y = y * pw[j];
                               if (pb) y = y + pb[j];
                               o[j] = y;
                             }
                           }
                         });
  });
  return r;
}

LayerNormGrads layer_norm_backward(const Array& grad, const Array& x, const Array& mean,
                                   const Array& rstd, const Array* weight, std::int64_t n,
                                   bool need_dx, bool need_dweight, bool need_dbias) {
  const Array g = grad.contiguous(), xc = x.contiguous(), mc = mean.contiguous(),
              rc = rstd.contiguous();
  const Array wc = weight ? weight->contiguous() : Array();
  const std::int64_t rows = n == 0 ? 0 : xc.numel() / n;
  LayerNormGrads out;
  std::vector<double> dw(need_dweight ? static_cast<std::size_t>(n) : 0),
      db(need_dbias ? static_cast<std::size_t>(n) : 0);
  detail::dispatch(x.dtype(), [&](auto t) {
    using T = decltype(t);
    if constexpr (std::is_floating_point_v<T>) {
      if (need_dx) out.dx = Array::empty_with_sizes(x.dtype(), x.sizes());
      // Rows in fixed blocks across the threads; each block sums its own share of the weight
      // and bias gradients, added up in block order after (the same bits on any thread count).
      const std::int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
      std::vector<double> part_dw(need_dweight ? static_cast<std::size_t>(blocks * n) : 0),
          part_db(need_dbias ? static_cast<std::size_t>(blocks * n) : 0);
      const T* pw = weight ? wc.data<T>() : nullptr;
      detail::parallel_for(blocks, detail::kGrainMath / (kRowBlock * n) + 1,
                           [&](std::int64_t begin, std::int64_t end) {
                             for (std::int64_t k = begin; k < end; ++k) {
                               const std::int64_t r0 = k * kRowBlock, at = r0 * n;
                               rows_backward<T>(g.data<T>() + at, xc.data<T>() + at,
                                                mc.data<T>() + r0, rc.data<T>() + r0, pw,
                                                std::min(kRowBlock, rows - r0), n,
                                                need_dx ? out.dx.data<T>() + at : nullptr,
                                                need_dweight ? part_dw.data() + k * n : nullptr,
                                                need_dbias ? part_db.data() + k * n : nullptr);
                             }
                           });
      for (std::int64_t k = 0; k < blocks; ++k) {
        for (std::int64_t i = 0; i < n; ++i) {
          const auto at = static_cast<std::size_t>(k * n + i);
          if (need_dweight) dw[static_cast<std::size_t>(i)] += part_dw[at];
          if (need_dbias) db[static_cast<std::size_t>(i)] += part_db[at];
        }
      }
      auto to_array = [&](const std::vector<double>& v) {
        Array a = Array::empty(x.dtype(), {n});
        T* p = a.data<T>();
        for (std::int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(v[static_cast<std::size_t>(i)]);
        return a;
      };
      if (need_dweight) out.dweight = to_array(dw);
      if (need_dbias) out.dbias = to_array(db);
    }
  });
  return out;
}

}  // namespace xg::kernels
