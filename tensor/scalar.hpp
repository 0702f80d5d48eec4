// xg::Scalar: a C++ number given to an op, remembering whether it was integral (like c10::Scalar).
#pragma once

#include <cstdint>
#include <type_traits>

namespace xg {

// An integral Scalar keeps an Int64 tensor Int64; a floating one turns it into Float32, as in
// PyTorch. With a floating tensor a Scalar never changes the dtype.
class Scalar {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(
      T value)  // NOLINT(google-explicit-constructor): numbers convert implicitly, as in LibTorch
      : value_(static_cast<double>(value)),
        int_value_(std::is_integral_v<T> ? static_cast<std::int64_t>(value) : 0),
        is_integral_(std::is_integral_v<T>) {}

  double to_double() const { return value_; }
  std::int64_t to_int64() const {  // a floating value is truncated
    return is_integral_ ? int_value_ : static_cast<std::int64_t>(value_);
  }
  bool is_integral() const { return is_integral_; }
  // The value as an element of type T: integral values stay exact in integer types.
  template <class U>
  U to() const {
    if constexpr (std::is_integral_v<U>) {
      return static_cast<U>(to_int64());
    } else {
      return static_cast<U>(value_);
    }
  }

 private:
  double value_;
  std::int64_t int_value_;
  bool is_integral_;
};

}  // namespace xg
