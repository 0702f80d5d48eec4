// Element types of xgrad tensors and PyTorch's type-promotion rules between them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>
#include <type_traits>

namespace xg {

// Bool holds masks (what comparisons return): one byte per element, 0 or 1.
enum class Dtype : std::uint8_t { Float32, Float64, Int64, Bool };

inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;
inline constexpr Dtype kInt64 = Dtype::Int64;
inline constexpr Dtype kBool = Dtype::Bool;

// "Float32", "Float64", "Int64" or "Bool": the spelling every error message uses.
std::string_view dtype_name(Dtype dtype);
std::ostream& operator<<(std::ostream& os, Dtype dtype);

constexpr bool is_floating(Dtype dtype) {
  return dtype == Dtype::Float32 || dtype == Dtype::Float64;
}

constexpr std::size_t element_size(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return 4;
    case Dtype::Bool:
      return 1;
    default:
      return 8;
  }
}

// torch.promote_types: Bool < Int64 < Float32 < Float64.
constexpr Dtype promote_types(Dtype a, Dtype b) {
  if (a == Dtype::Float64 || b == Dtype::Float64) return Dtype::Float64;
  if (a == Dtype::Float32 || b == Dtype::Float32) return Dtype::Float32;
  if (a == Dtype::Int64 || b == Dtype::Int64) return Dtype::Int64;
  return Dtype::Bool;
}

// The Dtype that holds elements of C++ type T (float, double, int64_t or bool).
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, float>) {
    return Dtype::Float32;
  } else if constexpr (std::is_same_v<T, double>) {
    return Dtype::Float64;
  } else if constexpr (std::is_same_v<T, bool>) {
    return Dtype::Bool;
  } else {
    static_assert(std::is_same_v<T, std::int64_t>,
                  "xgrad elements are float, double, int64_t or bool");
    return Dtype::Int64;
  }
}

}  // namespace xg
