// Reductions and their derivatives: sum (a Bool tensor sums to an Int64 count), mean, max/min
// (of everything, or along a dim with their indices), amax/amin (argmax/argmin are not
// differentiable), cumsum, and sum_to, the backward of broadcasting.
#include "op_prelude.hpp"

namespace xg {

namespace {

// Max and min have no identity: reducing over a dim of size 0 is an error, as in PyTorch.
void check_nonempty(const Tensor& t, const std::vector<std::int64_t>& dims, const char* op) {
  const Shape shape = t.shape();
  for (auto d : dims) {
    XG_CHECK_ARG(shape[static_cast<std::size_t>(d)] != 0, op, ": cannot reduce over dim ", d,
                 " of size 0 of a ", detail::describe(t),
                 " tensor (there is no identity to return)");
  }
}

// The shape of a reduction's result with keepdim = true.
Shape kept_shape(const Shape& in, const std::vector<std::int64_t>& dims) {
  Shape out = in;
  for (auto d : dims) out[static_cast<std::size_t>(d)] = 1;
  return out;
}

// The gradient of a reduction, brought back to its keepdim shape (a no-op with keepdim).
Tensor keep_dims(const Tensor& g, const Shape& kept) {
  return g.shape() == kept ? g : reshape(g, kept);
}

}  // namespace

Tensor sum(const Tensor& t) {
  check_defined(t, "sum");
  return record("sum", kernels::sum_all(array_of(t)), {t}, kSaveNone,
                [shape = t.shape()](const Tensor& g, const BackwardArgs&) {
                  return Grads{expand(g, shape)};
                });
}

Tensor sum(const Tensor& t, const Shape& dims, bool keepdim) {
  check_defined(t, "sum");
  const auto d = detail::normalize_dims(dims, t.dim(), "sum");
  const Shape shape = t.shape();
  return record("sum", kernels::sum(array_of(t), d, keepdim), {t}, kSaveNone,
                [shape, kept = kept_shape(shape, d)](const Tensor& g, const BackwardArgs&) {
                  return Grads{expand(keep_dims(g, kept), shape)};
                });
}

Tensor detail::sum_to(const Tensor& grad, const Shape& shape) {
  const Shape from = grad.shape();
  const std::size_t lead = from.size() - shape.size();
  Shape dims;
  bool only_leading = true;  // then summing them away gives `shape` itself, with no reshape
  for (std::size_t d = 0; d < from.size(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && from[d] != 1)) {
      dims.push_back(static_cast<std::int64_t>(d));
      only_leading = only_leading && d < lead;
    }
  }
  if (dims.empty()) return from == shape ? grad : reshape(grad, shape);
  if (only_leading) return sum(grad, dims, false);
  return reshape(sum(grad, dims, true), shape);
}

Tensor mean(const Tensor& t) {
  detail::check_floating(t, "mean");
  return sum(t) / static_cast<double>(t.numel());
}

Tensor mean(const Tensor& t, const Shape& dims, bool keepdim) {
  detail::check_floating(t, "mean");
  const auto d = detail::normalize_dims(dims, t.dim(), "mean");
  const Shape shape = t.shape();
  std::int64_t count = 1;
  for (auto k : d) count *= shape[static_cast<std::size_t>(k)];
  return sum(t, dims, keepdim) / static_cast<double>(count);
}

namespace {
// amax/amin: the gradient goes to the elements equal to the result, shared evenly on ties.
template <bool IsMax>
Tensor extreme(const Tensor& t, const Shape& dims, bool keepdim, const char* op) {
  check_defined(t, op);
  const auto d = detail::normalize_dims(dims, t.dim(), op);
  check_nonempty(t, d, op);
  Array out =
      IsMax ? kernels::amax(array_of(t), d, keepdim) : kernels::amin(array_of(t), d, keepdim);
  return record(op, std::move(out), {t}, kSaveBoth,
                [d, kept = kept_shape(t.shape(), d)](const Tensor& g, const BackwardArgs& s) {
                  const Tensor x = s.input(0);
                  const Tensor hit = eq(x, keep_dims(s.output(), kept)).to(g.dtype());
                  const Tensor count = sum(hit, Shape(d.begin(), d.end()), true);
                  return Grads{keep_dims(g, kept) * hit / count};
                });
}
}  // namespace

Tensor amax(const Tensor& t, const Shape& dims, bool keepdim) {
  return extreme<true>(t, dims, keepdim, "amax");
}
Tensor amin(const Tensor& t, const Shape& dims, bool keepdim) {
  return extreme<false>(t, dims, keepdim, "amin");
}
Tensor max(const Tensor& t) { return extreme<true>(t, {}, false, "max"); }
Tensor min(const Tensor& t) { return extreme<false>(t, {}, false, "min"); }

namespace {
template <bool IsMax>
Tensor arg_extreme(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim, const char* op) {
  detail::check_not_bool(t, op);  // as PyTorch, which has no Bool argmax
  const std::int64_t d = dim ? normalize_dim(*dim, t.dim(), op) : -1;
  // Without a dim the tensor is flattened: every dim is reduced.
  if (dim && t.dim() > 0) {
    check_nonempty(t, {d}, op);
  } else {
    check_nonempty(t, detail::normalize_dims({}, t.dim(), op), op);
  }
  const std::int64_t kernel_dim = t.dim() == 0 ? -1 : d;
  return make_tensor(IsMax ? kernels::argmax(array_of(t), kernel_dim, keepdim)
                           : kernels::argmin(array_of(t), kernel_dim, keepdim));
}
}  // namespace

Tensor argmax(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<true>(t, dim, keepdim, "argmax");
}
Tensor argmin(const Tensor& t, std::optional<std::int64_t> dim, bool keepdim) {
  return arg_extreme<false>(t, dim, keepdim, "argmin");
}

namespace {
// max/min along dim: the values and the Int64 index of the first extreme (NaN counting as the
// extreme), as PyTorch's CPU kernel. The gradient goes to that one element.
template <bool IsMax>
std::tuple<Tensor, Tensor> extreme_dim(const Tensor& t, std::int64_t dim, bool keepdim,
                                       const char* op) {
  check_defined(t, op);
  const std::int64_t d = normalize_dim(dim, t.dim(), op);
  if (t.dim() > 0) check_nonempty(t, {d}, op);
  const Shape in = t.shape();
  // A 0-d tensor: its one element, index 0, whatever keepdim says.
  const std::int64_t kernel_dim = t.dim() == 0 ? -1 : d;
  const Array idx = IsMax ? kernels::argmax(array_of(t), kernel_dim, true)
                          : kernels::argmin(array_of(t), kernel_dim, true);
  Array values = kernels::gather(array_of(t), d, idx);
  const Shape kept = idx.shape();
  Shape out_shape = kept;
  if (!keepdim && t.dim() > 0) out_shape.erase(out_shape.begin() + d);
  // The backward's own copy of the indices: an in-place change of the returned ones cannot
  // reach it.
  const Tensor saved = autograd::should_record({t}) ? make_tensor(idx.clone()) : Tensor();
  Tensor result =
      record(op, kernels::reshape(values, out_shape), {t}, kSaveNone,
             [d, in, kept, saved](const Tensor& g, const BackwardArgs&) {
               return Grads{detail::scatter_add_zeros(in, d, saved, keep_dims(g, kept))};
             });
  return {result, make_tensor(kernels::reshape(idx, out_shape))};
}
}  // namespace

std::tuple<Tensor, Tensor> max(const Tensor& t, std::int64_t dim, bool keepdim) {
  return extreme_dim<true>(t, dim, keepdim, "max");
}
std::tuple<Tensor, Tensor> min(const Tensor& t, std::int64_t dim, bool keepdim) {
  return extreme_dim<false>(t, dim, keepdim, "min");
}

namespace {
// Running sums along dim, from the start (cumsum) or from the end (its backward); each is the
// other's derivative.
Tensor running_sum(const Tensor& t, std::int64_t dim, bool reverse, const char* op) {
  check_defined(t, op);
  const std::int64_t d = normalize_dim(dim, t.dim(), op);
  const std::int64_t kernel_dim = t.dim() == 0 ? 0 : d;
  return record(op, kernels::cumsum(array_of(t), kernel_dim, reverse), {t}, kSaveNone,
                [dim, reverse](const Tensor& g, const BackwardArgs&) {
                  return Grads{reverse ? cumsum(g, dim) : detail::reversed_cumsum(g, dim)};
                });
}
}  // namespace

Tensor cumsum(const Tensor& t, std::int64_t dim) { return running_sum(t, dim, false, "cumsum"); }

Tensor detail::reversed_cumsum(const Tensor& t, std::int64_t dim) {
  return running_sum(t, dim, true, "reversed_cumsum");
}

}  // namespace xg
