#include "shape.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace xg {

std::string shape_to_string(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return n;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (std::size_t i = 0; i < ndim; ++i) {
    const std::int64_t sa = i < ndim - a.size() ? 1 : a[i - (ndim - a.size())];
    const std::int64_t sb = i < ndim - b.size() ? 1 : b[i - (ndim - b.size())];
    if (sa != sb && sa != 1 && sb != 1) {
      std::ostringstream msg;
      msg << op << ": shapes " << shape_to_string(a) << " and " << shape_to_string(b)
          << " cannot be broadcast (size " << sa << " != " << sb << " at dim " << i << ")";
      throw std::invalid_argument(msg.str());
    }
    out[i] = sa == 1 ? sb : sa;
  }
  return out;
}

std::int64_t normalize_dim(std::int64_t dim, std::int64_t ndim, const char* op) {
  const std::int64_t range = std::max<std::int64_t>(ndim, 1);
  if (dim < -range || dim >= range) {
    throw std::out_of_range(std::string(op) + ": dim " + std::to_string(dim) +
                            " is out of range for a tensor of " + std::to_string(ndim) +
                            " dims (expected a dim in [" + std::to_string(-range) + ", " +
                            std::to_string(range - 1) + "])");
  }
  return dim < 0 ? dim + range : dim;
}

void check_shape(const Shape& shape, const char* op) {
  for (auto s : shape) {
    if (s < 0) {
      throw std::invalid_argument(std::string(op) + ": negative size in shape " +
                                  shape_to_string(shape));
    }
  }
}

}  // namespace xg
