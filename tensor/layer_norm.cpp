#include "layer_norm.hpp"

#include <type_traits>
#include <vector>

namespace xg::kernels {

namespace {

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
      rows_backward<T>(g.data<T>(), xc.data<T>(), mc.data<T>(), rc.data<T>(),
                       weight ? wc.data<T>() : nullptr, rows, n,
                       need_dx ? out.dx.data<T>() : nullptr, need_dweight ? dw.data() : nullptr,
                       need_dbias ? db.data() : nullptr);
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
