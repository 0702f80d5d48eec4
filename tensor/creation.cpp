// Creation kernels: arange and linspace, with PyTorch's element formulas.
#include <cmath>

#include "kernels.hpp"

namespace xg::kernels {

Array arange(double start, double end, double step, Dtype dtype) {
  const auto n = static_cast<std::int64_t>(std::ceil((end - start) / step));
  Array out = Array::empty(dtype, {std::max<std::int64_t>(n, 0)});
  out.visit([&](auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    for (std::size_t i = 0; i < a.size(); ++i) {
      a.data()[i] = static_cast<T>(start + static_cast<double>(i) * step);
    }
  });
  return out;
}

Array linspace(double start, double end, std::int64_t steps, Dtype dtype) {
  Array out = Array::empty(dtype, {steps});
  out.visit([&](auto& a) {
    using T = typename std::decay_t<decltype(a)>::value_type;
    if (steps == 1) {
      a.data()[0] = static_cast<T>(start);
      return;
    }
    // As PyTorch's CPU kernel: computed in T, from both ends towards the middle.
    using Step = std::conditional_t<std::is_integral_v<T>, double, T>;
    const Step s0 = static_cast<Step>(start), s1 = static_cast<Step>(end);
    const Step step = (s1 - s0) / static_cast<Step>(steps - 1);
    const std::int64_t halfway = steps / 2;
    for (std::int64_t i = 0; i < steps; ++i) {
      a.data()[i] = static_cast<T>(i < halfway ? s0 + step * static_cast<Step>(i)
                                               : s1 - step * static_cast<Step>(steps - i - 1));
    }
  });
  return out;
}

}  // namespace xg::kernels
