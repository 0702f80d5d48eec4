// Creation kernels: arange and linspace, with PyTorch's element formulas.
#include <cmath>

#include "kernels.hpp"

namespace xg::kernels {

Array arange(double start, double step, std::int64_t n, Dtype dtype) {
  Array out = Array::empty(dtype, {n});
  out.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double v = start + static_cast<double>(i) * step;
      if constexpr (std::is_integral_v<T>) {
        a.data()[i] = truncate_to_int64(v);  // no undefined behaviour past int64
      } else {
        a.data()[i] = static_cast<T>(v);
      }
    }
  });
  return out;
}

Array linspace(double start, double end, std::int64_t steps, Dtype dtype) {
  Array out = Array::empty(dtype, {steps});
  out.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    if (steps == 1) {
      a.data()[0] = std::is_integral_v<T> ? truncate_to_int64(start) : static_cast<T>(start);
      return;
    }
    // As PyTorch's CPU kernel: computed in T, from both ends towards the middle.
    using Step = std::conditional_t<std::is_integral_v<T>, double, T>;
    const Step s0 = static_cast<Step>(start), s1 = static_cast<Step>(end);
    const Step step = (s1 - s0) / static_cast<Step>(steps - 1);
    const std::int64_t halfway = steps / 2;
    for (std::int64_t i = 0; i < steps; ++i) {
      const Step v = i < halfway ? s0 + step * static_cast<Step>(i)
                                 : s1 - step * static_cast<Step>(steps - i - 1);
      if constexpr (std::is_integral_v<T>) {
        a.data()[i] = truncate_to_int64(v);  // no undefined behaviour past int64 (or for NaN)
      } else {
        a.data()[i] = static_cast<T>(v);
      }
    }
  });
  return out;
}

}  // namespace xg::kernels
