// Printing a tensor: operator<<.
#include <iomanip>
#include <ostream>
#include <sstream>

#include "tensor_impl.hpp"

namespace xg {

using detail::array_of;

namespace {

// Element i in row-major order; a Bool as true or false.
void print_element(std::ostream& os, const Array& a, std::int64_t i) {
  if (a.dtype() == kBool) {
    os << (a.at(i) != 0 ? "true" : "false");
  } else {
    os << a.at(i);
  }
}

void print_values(std::ostream& os, const Array& a, std::size_t dim, std::int64_t offset,
                  bool summarize) {
  const auto& sizes = a.sizes();
  if (sizes.empty()) {
    print_element(os, a, 0);
    return;
  }
  const auto n = static_cast<std::int64_t>(sizes[dim]);
  std::int64_t stride = 1;
  for (std::size_t d = dim + 1; d < sizes.size(); ++d)
    stride *= static_cast<std::int64_t>(sizes[d]);
  constexpr std::int64_t kEdge = 3;
  os << '[';
  for (std::int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * kEdge && i == kEdge) {
      os << "..., ";
      i = n - kEdge;
    }
    if (dim + 1 == sizes.size()) {
      print_element(os, a, offset + i);
    } else {
      print_values(os, a, dim + 1, offset + i * stride, summarize);
    }
    if (i + 1 < n) os << ", ";
  }
  os << ']';
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const Array& a = array_of(t);
  std::ostringstream values;
  values << std::setprecision(6);
  print_values(values, a, 0, 0, a.numel() > 1000);
  return os << "tensor(" << values.str() << ", shape=" << shape_to_string(t.shape())
            << ", dtype=" << t.dtype()
            << ", requires_grad=" << (t.requires_grad() ? "true" : "false") << ")";
}

}  // namespace xg
