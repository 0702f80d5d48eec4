#include "clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"
#include "../tensor/parallel.hpp"

namespace xg::nn::utils {

namespace {

// The sum of f(|v[i]|) in double, over fixed blocks of kGrainSum values on the thread pool, the
// blocks' sums added in order: the same bits with any number of threads.
template <class T, class F>
double blocked_sum(const T* v, std::int64_t n, F f) {
  const std::int64_t blocks = (n + detail::kGrainSum - 1) / detail::kGrainSum;
  std::vector<double> part(static_cast<std::size_t>(blocks));
  detail::parallel_for(blocks, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t k = begin; k < end; ++k) {
      double acc = 0;
      const std::int64_t last = std::min(n, (k + 1) * detail::kGrainSum);
      for (std::int64_t i = k * detail::kGrainSum; i < last; ++i) {
        acc += f(std::abs(static_cast<double>(v[i])));
      }
      part[static_cast<std::size_t>(k)] = acc;
    }
  });
  double total = 0;
  for (const double x : part) total += x;
  return total;
}

// The norm_type-norm of every defined gradient taken together, in double.
double total_norm(const std::vector<Tensor>& parameters, double norm_type) {
  const bool inf = std::isinf(norm_type);
  double acc = 0;
  for (const auto& p : parameters) {
    const Tensor g = p.grad();
    if (!g.defined()) continue;
    // Float32 and Float64 gradients are read as they are; others as a Float64 copy
    const Tensor d = g.dtype() == kFloat32 ? g.contiguous() : g.to(kFloat64).contiguous();
    auto add = [&](const auto* v) {
      if (inf) {
        for (std::int64_t i = 0; i < d.numel(); ++i) {
          const double a = std::abs(static_cast<double>(v[i]));
          acc = std::isnan(a) || std::isnan(acc) ? std::nan("") : std::max(acc, a);
        }
      } else if (norm_type == 2.0) {
        acc += blocked_sum(v, d.numel(), [](double a) { return a * a; });
      } else {
        acc += blocked_sum(v, d.numel(), [&](double a) { return std::pow(a, norm_type); });
      }
    };
    if (d.dtype() == kFloat32) {
      add(d.data_ptr<float>());
    } else {
      add(d.data_ptr<double>());
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
