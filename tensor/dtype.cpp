#include "dtype.hpp"

#include <cmath>
#include <ostream>
#include <string>

#include "check.hpp"
#include "scalar.hpp"

namespace xg {

std::string_view dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return "Float32";
    case Dtype::Float64:
      return "Float64";
    case Dtype::Int64:
      return "Int64";
    case Dtype::Bool:
      return "Bool";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, Dtype dtype) { return os << dtype_name(dtype); }

std::int64_t checked_int64(double v, const char* op) {
  XG_CHECK_ARG(v >= -0x1p63 && v < 0x1p63, op, ": value ", detail::fixed6(v),
               " cannot be converted to Int64 without overflow");
  return static_cast<std::int64_t>(v);
}

}  // namespace xg
