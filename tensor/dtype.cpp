#include "dtype.hpp"

#include <ostream>

namespace xg {

std::string_view dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32:
      return "Float32";
    case Dtype::Float64:
      return "Float64";
    case Dtype::Int64:
      return "Int64";
  }
  return "?";
}

std::ostream& operator<<(std::ostream& os, Dtype dtype) { return os << dtype_name(dtype); }

}  // namespace xg
