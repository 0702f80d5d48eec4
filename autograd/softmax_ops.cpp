// The softmax family and its derivatives: softmax, log_softmax and logsumexp, each with a
// fused backward that reuses the saved output.
#include "op_prelude.hpp"

namespace xg {

namespace {
// logsumexp of Int64 input computes in Float32, as PyTorch's does.
Tensor floating(const Tensor& t) { return t.is_floating_point() ? t : t.to(kFloat32); }
}  // namespace

Tensor softmax(const Tensor& t, std::int64_t dim) {
  detail::check_floating(t, "softmax");
  const std::int64_t d = normalize_dim(dim, t.dim(), "softmax");
  const Tensor& x = t;
  // d softmax: out * (g - sum(g * out, d))
  return record("softmax", kernels::softmax(array_of(x), t.dim() == 0 ? 0 : d), {x}, kSaveOutput,
                [d](const Tensor& g, const BackwardArgs& s) {
                  const Tensor out = s.output();
                  return Grads{out * (g - sum(g * out, {d}, true))};
                });
}

Tensor log_softmax(const Tensor& t, std::int64_t dim) {
  detail::check_floating(t, "log_softmax");
  const std::int64_t d = normalize_dim(dim, t.dim(), "log_softmax");
  const Tensor& x = t;
  // d log_softmax: g - exp(out) * sum(g, d)
  return record("log_softmax", kernels::log_softmax(array_of(x), t.dim() == 0 ? 0 : d), {x},
                kSaveOutput, [d](const Tensor& g, const BackwardArgs& s) {
                  return Grads{g - exp(s.output()) * sum(g, {d}, true)};
                });
}

Tensor logsumexp(const Tensor& t, const Shape& dims, bool keepdim) {
  detail::check_defined(t, "logsumexp");
  const auto d = detail::normalize_dims(dims, t.dim(), "logsumexp");
  const Tensor x = floating(t);
  Shape kept = x.shape();
  for (auto k : d) kept[static_cast<std::size_t>(k)] = 1;
  // d logsumexp: g * exp(x - out), with g and out in their keepdim shape
  return record("logsumexp", kernels::logsumexp(array_of(x), d, keepdim), {x}, kSaveBoth,
                [kept](const Tensor& g, const BackwardArgs& s) {
                  const Tensor out = reshape(s.output(), kept);
                  return Grads{reshape(g, kept) * exp(s.input(0) - out)};
                });
}

}  // namespace xg
