// Sorting along a dim: sort and topk. The values carry the gradient, which goes back to where
// each value came from; the indices are Int64 and carry none.
#include <tuple>

#include "creation.hpp"
#include "op_prelude.hpp"

namespace xg {
namespace {

// g, shaped as the input but with k elements along dim d, put at `indices` along d in zeros of
// the input's shape: the backward of topk and sort, itself differentiable in g (index_add's
// backward is index_select).
Tensor place_along(const Tensor& g, const Tensor& indices, const Shape& in, std::int64_t d) {
  if (in.empty()) return g.numel() == 1 ? g : zeros({}, g.dtype());
  const auto last = static_cast<std::int64_t>(in.size()) - 1;
  const Tensor gp = g.transpose(d, last), ip = indices.transpose(d, last);
  const std::int64_t k = gp.size(-1), n = in[static_cast<std::size_t>(d)];
  Shape moved = in;
  std::swap(moved[static_cast<std::size_t>(d)], moved.back());
  const std::int64_t rows = shape_numel(moved) / std::max<std::int64_t>(n, 1);
  if (k == 0 || rows == 0) return zeros(in, g.dtype());
  // each row's indices offset to the row's place in the flattened, moved input
  const Tensor linear = ip.reshape({rows, k}) + (arange(rows, kInt64) * n).unsqueeze(1);
  const Tensor flat =
      detail::index_add_zeros({rows * n}, 0, linear.reshape({-1}), gp.reshape({-1}));
  return flat.reshape(moved).transpose(d, last);
}

std::tuple<Tensor, Tensor> sorted_part(const Tensor& t, std::int64_t k, std::int64_t d,
                                       bool largest, const char* op) {
  auto [values, indices] = kernels::topk(array_of(t), k, d, largest);
  const Tensor idx = make_tensor(std::move(indices));
  Tensor out = record(op, std::move(values), {t}, kSaveNone,
                      [idx, in = t.shape(), d](const Tensor& g, const BackwardArgs&) {
                        return Grads{place_along(g, idx, in, d)};
                      });
  return {out, idx};
}

}  // namespace

std::tuple<Tensor, Tensor> topk(const Tensor& t, std::int64_t k, std::int64_t dim, bool largest,
                                bool sorted) {
  (void)sorted;  // always sorted: an order PyTorch allows either way
  check_defined(t, "topk");
  XG_CHECK_ARG(t.dtype() != kBool, "topk: expected a Float32, Float64 or Int64 tensor, got ",
               describe(t));
  const std::int64_t d = normalize_dim(dim, std::max<std::int64_t>(t.dim(), 1), "topk");
  const std::int64_t n = t.dim() == 0 ? 1 : t.size(d);
  XG_CHECK_RANGE(k >= 0 && k <= n, "topk: selected index k out of range, got k ", k, " for dim ", d,
                 " of size ", n, " of ", describe(t));
  return sorted_part(t, k, d, largest, "topk");
}

std::tuple<Tensor, Tensor> sort(const Tensor& t, std::int64_t dim, bool descending) {
  check_defined(t, "sort");
  const std::int64_t d = normalize_dim(dim, std::max<std::int64_t>(t.dim(), 1), "sort");
  const std::int64_t n = t.dim() == 0 ? 1 : t.size(d);
  return sorted_part(t, n, d, descending, "sort");
}

std::tuple<Tensor, Tensor> Tensor::topk(std::int64_t k, std::int64_t dim, bool largest,
                                        bool sorted) const {
  return xg::topk(*this, k, dim, largest, sorted);
}

std::tuple<Tensor, Tensor> Tensor::sort(std::int64_t dim, bool descending) const {
  return xg::sort(*this, dim, descending);
}

}  // namespace xg
