// Internal: NaN-propagating max and min, as torch.maximum and torch.amax compare elements.
#pragma once

namespace xg::detail {

template <class T>
T nan_max(T a, T b) {
  if (a != a) return a;
  if (b != b) return b;
  return a > b ? a : b;
}

template <class T>
T nan_min(T a, T b) {
  if (a != a) return a;
  if (b != b) return b;
  return a < b ? a : b;
}

}  // namespace xg::detail
