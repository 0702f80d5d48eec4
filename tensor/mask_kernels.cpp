// Mask kernels: masked_fill, tril and triu, and the tests that make Bool masks of floating
// values (isnan, isinf, isfinite).
#include <cmath>
#include <type_traits>

#include "kernels.hpp"
#include "strided_loop.hpp"

namespace xg::kernels {

void masked_fill(Array& self, const Array& mask, const Scalar& value) {
  detail::dispatch(self.dtype(), [&](auto t) {
    using T = decltype(t);
    const T v = value.to<T>();
    T* out = self.data<T>();
    const bool* m = mask.data<bool>();
    detail::StridedLoop<2> loop(self.sizes(), {detail::Operand{self.sizes(), self.strides()},
                                               detail::Operand{mask.sizes(), mask.strides()}});
    loop.for_each_row([&](const std::array<std::int64_t, 2>& off, std::int64_t n,
                          const std::array<std::int64_t, 2>& s) {
      for (std::int64_t i = 0; i < n; ++i) {
        if (m[off[1] + i * s[1]]) out[off[0] + i * s[0]] = v;
      }
    });
  });
}

Array triangle(const Array& x, std::int64_t k, bool upper) {
  Array out = x.clone();
  if (out.numel() == 0) return out;  // and the matrix count below would divide by zero
  const auto& sizes = out.sizes();
  const auto rows = static_cast<std::int64_t>(sizes[sizes.size() - 2]);
  const auto cols = static_cast<std::int64_t>(sizes[sizes.size() - 1]);
  const std::int64_t matrices = out.numel() / (rows * cols);
  detail::dispatch(out.dtype(), [&](auto t) {
    using T = decltype(t);
    T* p = out.data<T>();
    for (std::int64_t b = 0; b < matrices; ++b) {
      for (std::int64_t i = 0; i < rows; ++i) {
        T* row = p + (b * rows + i) * cols;
        for (std::int64_t j = 0; j < cols; ++j) {
          // Element (i, j) lies on diagonal j - i: tril keeps those <= k, triu those >= k.
          if (upper ? j - i < k : j - i > k) row[j] = T(0);
        }
      }
    }
  });
  return out;
}

Array classify(FloatClass c, const Array& x) {
  const Array in = x.contiguous();
  Array out = Array::empty_with_sizes(Dtype::Bool, x.sizes());
  bool* o = out.data<bool>();
  const std::int64_t n = out.numel();
  detail::dispatch(in.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* p = in.data<T>();
    for (std::int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_floating_point_v<T>) {
        o[i] = c == FloatClass::Nan   ? std::isnan(p[i])
               : c == FloatClass::Inf ? std::isinf(p[i])
                                      : std::isfinite(p[i]);
      } else {
        o[i] = c == FloatClass::Finite;  // integers and bools are never NaN or infinite
      }
    }
  });
  return out;
}

}  // namespace xg::kernels
