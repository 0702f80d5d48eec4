#include "clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"

namespace xg::nn::utils {

namespace {

std::string number(double v) {
  std::string s = std::to_string(v);
  s.erase(s.find_last_not_of('0') + 1);
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

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
  if (!(max_norm >= 0)) {
    throw std::invalid_argument("clip_grad_norm_: max_norm must be >= 0, got " + number(max_norm));
  }
  if (!(norm_type > 0)) {
    throw std::invalid_argument("clip_grad_norm_: norm_type must be > 0 (or infinity), got " +
                                number(norm_type));
  }
  const double norm = total_norm(parameters, norm_type);
  if (error_if_nonfinite && !std::isfinite(norm)) {
    throw std::runtime_error("clip_grad_norm_: the total norm of order " + number(norm_type) +
                             " of the gradients is " + number(norm) +
                             ", so they cannot be clipped; nothing was changed");
  }
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
  if (!(clip_value >= 0)) {
    throw std::invalid_argument("clip_grad_value_: clip_value must be >= 0, got " +
                                number(clip_value));
  }
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
