// xg::Scalar: a C++ number given to an op, remembering whether it was integral (like c10::Scalar).
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "dtype.hpp"

namespace xg {

// A floating value truncated to int64, with the result x86 gives (INT64_MIN) for NaN and for
// values outside int64 instead of C++'s undefined behaviour: PyTorch's .to(torch.int64).
inline std::int64_t truncate_to_int64(double v) {
  return v >= -0x1p63 && v < 0x1p63 ? static_cast<std::int64_t>(v)
                                    : std::numeric_limits<std::int64_t>::min();
}

// A floating value truncated to int64 for a call that must not change it silently (filling an
// Int64 tensor, item<int64_t>()); throws std::invalid_argument naming `op` when it is NaN,
// infinite or outside int64, as PyTorch's "value cannot be converted ... without overflow".
std::int64_t checked_int64(double v, const char* op);

// An integral Scalar keeps an Int64 tensor Int64; a floating one turns it into Float32, as in
// PyTorch. With a floating tensor a Scalar never changes the dtype. A bool is integral too, and
// also remembered as a bool: only a bool keeps a Bool tensor Bool (result_type below).
class Scalar {
 public:
  template <class T, std::enable_if_t<std::is_arithmetic_v<T>, int> = 0>
  Scalar(
      T value)  // NOLINT(google-explicit-constructor): numbers convert implicitly, as in LibTorch
      : value_(static_cast<double>(value)),
        int_value_(std::is_integral_v<T> ? static_cast<std::int64_t>(value) : 0),
        is_integral_(std::is_integral_v<T>),
        is_bool_(std::is_same_v<T, bool>) {}

  double to_double() const { return value_; }
  std::int64_t to_int64() const {  // a floating value is truncated
    return is_integral_ ? int_value_ : truncate_to_int64(value_);
  }
  // As to_int64(), but a floating value that does not fit throws (checked_int64).
  std::int64_t to_int64(const char* op) const {
    return is_integral_ ? int_value_ : checked_int64(value_, op);
  }
  bool is_integral() const { return is_integral_; }
  bool is_bool() const { return is_bool_; }
  // The value as an element of type T: integral values stay exact in integer types; a bool is
  // true for every nonzero value, NaN included (PyTorch's conversion).
  template <class U>
  U to() const {
    if constexpr (std::is_same_v<U, bool>) {
      return value_ != 0;
    } else if constexpr (std::is_integral_v<U>) {
      return static_cast<U>(to_int64());
    } else {
      return static_cast<U>(value_);
    }
  }

 private:
  double value_;
  std::int64_t int_value_;
  bool is_integral_;
  bool is_bool_;
};

// torch.result_type(tensor, scalar): a number raises a tensor's dtype only into its own
// category, never within one. A Bool tensor stays Bool with a bool, becomes Int64 with an
// integer and Float32 (the default dtype) with a floating number; an Int64 tensor becomes
// Float32 with a floating number; a floating tensor keeps its dtype.
inline Dtype result_type(Dtype tensor, const Scalar& s) {
  if (is_floating(tensor)) return tensor;
  if (!s.is_integral()) return Dtype::Float32;
  if (tensor == Dtype::Bool && !s.is_bool()) return Dtype::Int64;
  return tensor;
}

}  // namespace xg
