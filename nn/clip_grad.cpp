#include "clip_grad.hpp"

#include <algorithm>
#include <cmath>

#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"

namespace xg::nn::utils {

namespace {

// The norm_type-norm of every defined gradient taken together, in double.
double total_norm(const std::vector<Tensor>& parameters, double norm_type) {
  const bool inf = std::isinf(norm_type);
  double acc = 0;
  for (const auto& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    const Tensor d = g.to(kFloat64).contiguous();
    const double* v = d.data_ptr<double>();
    for (std::int64_t i = 0; i < d.numel(); ++i) {
      const double a = std::abs(v[i]);
      if (inf) {
        acc = std::isnan(a) || std::isnan(acc) ? std::nan("") : std::max(acc, a);
      } else {
        acc += norm_type == 2.0 ? a * a : std::pow(a, norm_type);
      }
    }
  }
  if (inf) return acc;
  return norm_type == 2.0 ? std::sqrt(acc) : std::pow(acc, 1.0 / norm_type);
}

}  // namespace

double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  XG_CHECK_ARG(max_norm >= 0, "clip_grad_norm_: max_norm must be >= 0, got ",
               detail::trimmed(max_norm));
  XG_CHECK_ARG(norm_type > 0, "clip_grad_norm_: norm_type must be > 0 (or infinity), got ",
               detail::trimmed(norm_type));
  const double norm = total_norm(parameters, norm_type);
  XG_CHECK_STATE(!error_if_nonfinite || std::isfinite(norm),
                 "clip_grad_norm_: the total norm of order ", detail::trimmed(norm_type),
                 " of the gradients is ", detail::trimmed(norm),
                 ", so they cannot be clipped; nothing was changed");
  const double coef = max_norm / (norm + 1e-6);
  if (!(coef >= 1)) {  // as PyTorch: a NaN norm makes every gradient NaN
    NoGradGuard no_grad;
    for (const auto& p : parameters) {
      if (p.grad().defined()) p.mutable_grad().mul_(coef);
    }
  }
  return norm;
}

double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_grad_norm_(std::vector<Tensor>{parameter}, max_norm, norm_type, error_if_nonfinite);
}

void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value) {
  XG_CHECK_ARG(clip_value >= 0, "clip_grad_value_: clip_value must be >= 0, got ",
               detail::trimmed(clip_value));
  NoGradGuard no_grad;
  for (const auto& p : parameters) {
    if (!p.grad().defined()) continue;
    Tensor& g = p.mutable_grad();
    g.copy_(clamp(g, -clip_value, clip_value));
  }
}

void clip_grad_value_(const Tensor& parameter, double clip_value) {
  clip_grad_value_(std::vector<Tensor>{parameter}, clip_value);
}

}  // namespace xg::nn::utils
