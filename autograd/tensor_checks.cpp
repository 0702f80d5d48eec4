// The checks and error descriptions every op implementation shares (tensor_impl.hpp).
#include <algorithm>

#include "../tensor/check.hpp"
#include "tensor_impl.hpp"

namespace xg::detail {

std::string describe(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  return shape_to_string(t.shape()) + " " + std::string(dtype_name(t.dtype()));
}

void check_defined(const Tensor& t, const char* op) {
  XG_CHECK_ARG(t.defined(), op, ": got an undefined tensor (default-constructed xg::Tensor)");
}

void check_floating(const Tensor& t, const char* op) {
  check_defined(t, op);
  XG_CHECK_ARG(t.is_floating_point(), op, ": expected a Float32 or Float64 tensor, got ",
               describe(t));
}

std::vector<std::int64_t> normalize_dims(const Shape& dims, std::int64_t ndim, const char* op) {
  std::vector<std::int64_t> out;
  if (dims.empty()) {
    for (std::int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  for (auto d : dims) out.push_back(normalize_dim(d, ndim, op));
  std::sort(out.begin(), out.end());
  XG_CHECK_ARG(std::adjacent_find(out.begin(), out.end()) == out.end(), op, ": dims ",
               shape_to_string(dims), " name the same dim twice");
  if (ndim == 0) out.clear();  // dim 0 / -1 of a 0-d tensor: nothing to reduce
  return out;
}

}  // namespace xg::detail
