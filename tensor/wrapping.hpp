// Internal: Int64 arithmetic that wraps around (two's complement), as PyTorch's does, instead of
// C++'s undefined signed overflow. For floating types these are the plain operators; for bool,
// PyTorch's: addition is or, multiplication is and (bool has no subtraction: the ops refuse it).
#pragma once

#include <type_traits>

namespace xg::detail {

template <class T>
constexpr T wrap_add(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a || b;
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) + static_cast<U>(b));  // modular since C++20
  } else {
    return a + b;
  }
}

template <class T>
constexpr T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
  } else {
    return a - b;
  }
}

template <class T>
constexpr T wrap_mul(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) {
    return a && b;
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  } else {
    return a * b;
  }
}

template <class T>
constexpr T wrap_neg(T a) {
  return wrap_sub(T(0), a);
}

}  // namespace xg::detail
