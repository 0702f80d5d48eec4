// Tensor::index: the entries checked first (every error before any work), then each applied in
// turn to the dim it stands for.
#include "indexing.hpp"

#include <cstring>
#include <optional>
#include <vector>

#include "../tensor/check.hpp"
#include "creation.hpp"
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

// An entry as PyTorch reads it: a 0-d Int64 tensor is an integer (a view through select), a
// 0-d Bool tensor is true/false, and true/false are advanced indices (a copy) as in PyTorch.
enum class Kind { Int, Slice, None, Ellipsis, Bool, Tensor, Mask };

struct Entry {
  Kind kind;
  std::int64_t value = 0;  // Int: the index; Bool: 0 or 1
  Slice slice;
  Tensor tensor;  // Tensor: a 1-D Int64 index; Mask: a Bool mask of one dim or more
};

Entry classify(const TensorIndex& i, const Tensor& self) {
  const auto& v = i.value();
  if (const auto* n = std::get_if<std::int64_t>(&v)) return {Kind::Int, *n, {}, {}};
  if (const auto* s = std::get_if<Slice>(&v)) return {Kind::Slice, 0, *s, {}};
  if (std::holds_alternative<TensorIndex::NoneTag>(v)) return {Kind::None, 0, {}, {}};
  if (std::holds_alternative<EllipsisIndexType>(v)) return {Kind::Ellipsis, 0, {}, {}};
  if (const auto* b = std::get_if<bool>(&v)) return {Kind::Bool, *b ? 1 : 0, {}, {}};
  const Tensor& t = std::get<Tensor>(v);
  detail::check_defined(t, "index");
  XG_CHECK_ARG(t.dtype() == kInt64 || t.dtype() == kBool,
               "index: a tensor index must be Int64 or Bool, got ", detail::describe(t), " for ",
               detail::describe(self));
  if (t.dtype() == kBool) {
    if (t.dim() == 0) return {Kind::Bool, t.item<bool>() ? 1 : 0, {}, {}};
    return {Kind::Mask, 0, {}, t};
  }
  XG_CHECK_ARG(t.dim() <= 1,
               "index: an Int64 tensor index must be 0-d or 1-D (multi-dim index tensors are not "
               "supported), got ",
               detail::describe(t), " for ", detail::describe(self));
  if (t.dim() == 0) return {Kind::Int, t.item<std::int64_t>(), {}, {}};
  return {Kind::Tensor, 0, {}, t};
}

// How many of the tensor's dims an entry uses up: integers, slices and 1-D tensors one, a mask
// as many as it has, None, booleans and the ellipsis none.
std::int64_t dims_used(const Entry& e) {
  switch (e.kind) {
    case Kind::Int:
    case Kind::Slice:
    case Kind::Tensor:
      return 1;
    case Kind::Mask:
      return e.tensor.dim();
    default:
      return 0;
  }
}

void check_in_range(std::int64_t index, std::int64_t dim, const Tensor& self) {
  const std::int64_t size = self.size(dim);
  XG_CHECK_RANGE(index >= -size && index < size, "index: index ", index,
                 " is out of range for dim ", dim, " of size ", size, " of ",
                 detail::describe(self));
}

// The 1-D Int64 index t with negative entries counted from the end of a dim of `size`.
Tensor wrap_negative(const Tensor& t, std::int64_t size) {
  const Tensor dense = t.contiguous();
  const std::int64_t* p = dense.data_ptr<std::int64_t>();
  bool negative = false;
  for (std::int64_t i = 0; i < t.numel(); ++i) negative = negative || p[i] < 0;
  if (!negative) return t;
  Tensor out = empty({t.numel()}, kInt64);
  std::int64_t* q = out.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < t.numel(); ++i) q[i] = p[i] < 0 ? p[i] + size : p[i];
  return out;
}

}  // namespace

Tensor Tensor::index(std::initializer_list<indexing::TensorIndex> indices) const {
  return index(std::vector<indexing::TensorIndex>(indices));
}

Tensor Tensor::index(const std::vector<indexing::TensorIndex>& indices) const {
  detail::check_defined(*this, "index");
  std::vector<Entry> entries;
  entries.reserve(indices.size());
  std::int64_t used = 0, ellipses = 0, advanced = 0;
  std::optional<std::size_t> mask;  // where a Bool mask is
  for (const auto& i : indices) {
    entries.push_back(classify(i, *this));
    const Entry& e = entries.back();
    used += dims_used(e);
    ellipses += e.kind == Kind::Ellipsis;
    advanced += e.kind == Kind::Bool || e.kind == Kind::Tensor || e.kind == Kind::Mask;
    if (e.kind == Kind::Mask) mask = entries.size() - 1;
  }
  XG_CHECK_ARG(ellipses <= 1, "index: an index can only have a single ellipsis ('...'), got ",
               ellipses, " for ", detail::describe(*this));
  XG_CHECK_RANGE(used <= dim(), "index: too many indices for tensor of dimension ", dim(), " (",
                 detail::describe(*this), "): the index uses ", used, " dims");
  XG_CHECK_ARG(advanced <= 1,
               "index: one tensor index at most, counting true/false and Bool masks (advanced "
               "indexing with several is not supported), got ",
               advanced, " for ", detail::describe(*this));
  if (mask) {
    const Tensor& m = entries[*mask].tensor;
    XG_CHECK_ARG(entries.size() == 1 && m.shape() == shape(), "index: a Bool mask ",
                 detail::describe(m), " must be the only index and have the tensor's shape ",
                 detail::describe(*this), " (other mask indexing is not supported)");
    return xg::masked_select(*this, m);
  }
  // The dim of *this each entry stands for: integers, slices and tensors are checked against it.
  std::int64_t real = 0;
  for (const Entry& e : entries) {
    if (e.kind == Kind::Int) {
      check_in_range(e.value, real, *this);
    } else if (e.kind == Kind::Slice) {
      XG_CHECK_ARG(e.slice.step > 0, "index: slice step must be positive, got ", e.slice.step,
                   " for dim ", real, " of ", detail::describe(*this));
    } else if (e.kind == Kind::Tensor) {
      const Tensor dense = e.tensor.contiguous();
      const std::int64_t* p = dense.data_ptr<std::int64_t>();
      for (std::int64_t k = 0; k < dense.numel(); ++k) check_in_range(p[k], real, *this);
    } else if (e.kind == Kind::Ellipsis) {
      real += dim() - used;
    }
    real += dims_used(e);
  }

  // The basic entries first, as views; the one advanced entry (a 1-D Int64 tensor or
  // true/false) keeps its dim here and is applied last, so that the copy it makes is the
  // result, contiguous, as PyTorch's (which indexes after the views too).
  Tensor out = *this;
  bool changed = false;
  std::int64_t d = 0;  // the dim of `out` the next entry applies to
  real = 0;            // ... and the dim of *this
  std::optional<std::int64_t> advanced_dim;
  Tensor advanced_index;
  for (const Entry& e : entries) {
    changed = changed || e.kind != Kind::Ellipsis;
    switch (e.kind) {
      case Kind::Int:
        out = out.select(d, e.value);
        ++real;
        break;
      case Kind::Slice:
        out = out.slice(d, e.slice.start, e.slice.stop, e.slice.step);
        ++d, ++real;
        break;
      case Kind::None:
        out = out.unsqueeze(d);
        ++d;
        break;
      case Kind::Bool:  // x[True] adds a dim of size 1, x[False] one of size 0: a copy
        out = out.unsqueeze(d);
        advanced_dim = d++;
        advanced_index = e.value ? xg::tensor({0.0}, kInt64) : xg::zeros({0}, kInt64);
        break;
      case Kind::Ellipsis:
        d += dim() - used;
        real += dim() - used;
        break;
      case Kind::Tensor:
        advanced_dim = d++;
        advanced_index = wrap_negative(e.tensor, size(real++));
        break;
      case Kind::Mask:  // returned above
        break;
    }
  }
  // Later entries only touch later dims, so the advanced entry's dim is still where it was.
  if (advanced_dim) return out.index_select(*advanced_dim, advanced_index);
  // x[...] and x[()] are a new view of the whole tensor, as PyTorch's alias, not x itself.
  return changed ? out : view(shape());
}

}  // namespace xg
