// Tensor::index: each entry applied in turn to the dim it stands for.
#include "indexing.hpp"

#include <cstring>
#include <vector>

#include "../tensor/check.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

using indexing::EllipsisIndexType;
using indexing::Slice;
using indexing::TensorIndex;

indexing::TensorIndex::TensorIndex(const char* text) : value_(EllipsisIndexType{}) {
  XG_CHECK_ARG(text != nullptr && std::strcmp(text, "...") == 0,
               "index: the only string index is \"...\" (Ellipsis), got \"", text ? text : "(null)",
               "\"");
}

namespace {

// How many of the tensor's dims an entry uses up: integers, slices and Int64 tensors one, a
// Bool mask as many as it has, None, booleans and the ellipsis none.
std::int64_t dims_used(const TensorIndex& i) {
  const auto& v = i.value();
  if (std::holds_alternative<std::int64_t>(v) || std::holds_alternative<Slice>(v)) return 1;
  if (const Tensor* t = std::get_if<Tensor>(&v)) return t->dtype() == kBool ? t->dim() : 1;
  return 0;
}

}  // namespace

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return index(std::vector<indexing::TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  detail::check_defined(*this, "index");
  std::int64_t used = 0, ellipses = 0, tensors = 0;
  for (const auto& i : indices) {
    used += dims_used(i);
    ellipses += std::holds_alternative<EllipsisIndexType>(i.value());
    if (const Tensor* t = std::get_if<Tensor>(&i.value())) {
      detail::check_defined(*t, "index");
      ++tensors;
    }
  }
  XG_CHECK_ARG(ellipses <= 1, "index: an index can only have a single ellipsis ('...')");
  XG_CHECK_RANGE(used <= dim(), "index: too many indices for tensor of dimension ", dim(), " (got ",
                 used, ")");
  XG_CHECK_ARG(tensors <= 1,
               "index: one tensor index at most (advanced indexing with several "
               "index tensors is not supported), got ",
               tensors);
  Tensor out = *this;
  std::int64_t d = 0;  // the dim of `out` the next entry applies to
  for (const auto& i : indices) {
    const auto& v = i.value();
    if (const auto* n = std::get_if<std::int64_t>(&v)) {
      out = out.select(d, *n);
    } else if (const auto* s = std::get_if<Slice>(&v)) {
      out = out.slice(d, s->start, s->stop, s->step);
      ++d;
    } else if (std::holds_alternative<TensorIndex::NoneTag>(v)) {
      out = out.unsqueeze(d);
      ++d;
    } else if (const auto* b = std::get_if<bool>(&v)) {
      out = out.unsqueeze(d);  // x[True] adds a dim of size 1, x[False] one of size 0
      if (!*b) out = out.slice(d, 0, 0);
      ++d;
    } else if (std::holds_alternative<EllipsisIndexType>(v)) {
      d += dim() - used;
    } else {
      const Tensor& t = std::get<Tensor>(v);
      if (t.dtype() == kBool) {
        XG_CHECK_ARG(d == 0 && indices.size() == 1 && t.shape() == shape(), "index: a Bool mask ",
                     detail::describe(t), " must be the only index and have the tensor's shape ",
                     detail::describe(*this), " (other mask indexing is not supported)");
        return xg::masked_select(out, t);
      }
      XG_CHECK_ARG(t.dtype() == kInt64 && t.dim() <= 1,
                   "index: a tensor index must be a 0-d "
                   "or 1-D Int64 tensor or a Bool mask, got ",
                   detail::describe(t));
      if (t.dim() == 0) {
        out = out.select(d, t.item<std::int64_t>());
      } else {
        out = out.index_select(d, t);
        ++d;
      }
    }
  }
  return out;
}

}  // namespace xg
