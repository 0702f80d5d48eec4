// Element types of xgrad tensors and PyTorch's type-promotion rules between them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>
#include <type_traits>

namespace xg {

enum class Dtype : std::uint8_t { Float32, Float64, Int64 };

inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;
inline constexpr Dtype kInt64 = Dtype::Int64;

// "Float32", "Float64" or "Int64": the spelling every error message uses.
std::string_view dtype_name(Dtype dtype);
std::ostream& operator<<(std::ostream& os, Dtype dtype);

constexpr bool is_floating(Dtype dtype) { return dtype != Dtype::Int64; }

constexpr std::size_t element_size(Dtype dtype) { return dtype == Dtype::Float32 ? 4 : 8; }

// torch.promote_types: Int64 < Float32 < Float64.
constexpr Dtype promote_types(Dtype a, Dtype b) {
  if (a == Dtype::Float64 || b == Dtype::Float64) return Dtype::Float64;
  if (a == Dtype::Float32 || b == Dtype::Float32) return Dtype::Float32;
  return Dtype::Int64;
}

// The Dtype that holds elements of C++ type T (float, double or int64_t).
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, float>) {
    return Dtype::Float32;
  } else if constexpr (std::is_same_v<T, double>) {
    return Dtype::Float64;
  } else {
    static_assert(std::is_same_v<T, std::int64_t>, "xgrad elements are float, double or int64_t");
    return Dtype::Int64;
  }
}

}  // namespace xg
