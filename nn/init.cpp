#include "init.hpp"

#include <cmath>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"

namespace xg::nn::init {

namespace {

// torch.nn.init._calculate_fan_in_and_fan_out: dim 1 is in, dim 0 is out, the rest multiply.
std::pair<double, double> fans(const Tensor& t, const char* op) {
  XG_CHECK_ARG(t.dim() >= 2, op, ": fan in and fan out need at least 2 dims, got ",
               shape_to_string(t.shape()));
  double receptive = 1;
  for (std::int64_t d = 2; d < t.dim(); ++d) receptive *= static_cast<double>(t.size(d));
  return {static_cast<double>(t.size(1)) * receptive, static_cast<double>(t.size(0)) * receptive};
}

Tensor fill_from(const Tensor& t, const Tensor& values) {
  NoGradGuard no_grad;
  Tensor target = t;
  target.copy_(values);
  return t;
}

}  // namespace

double calculate_gain(Nonlinearity nonlinearity, double param) {
  switch (nonlinearity) {
    case Nonlinearity::Tanh:
      return 5.0 / 3;
    case Nonlinearity::ReLU:
      return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU:
      return std::sqrt(2.0 / (1 + param * param));
    default:
      return 1.0;
  }
}

Tensor uniform_(const Tensor& t, double a, double b) {
  return fill_from(t, rand(t.shape(), t.dtype()) * (b - a) + a);
}

Tensor normal_(const Tensor& t, double mean, double std) {
  return fill_from(t, randn(t.shape(), t.dtype()) * std + mean);
}

Tensor constant_(const Tensor& t, double value) {
  NoGradGuard no_grad;
  Tensor target = t;
  target.fill_(value);
  return t;
}

Tensor zeros_(const Tensor& t) { return constant_(t, 0.0); }
Tensor ones_(const Tensor& t) { return constant_(t, 1.0); }

Tensor xavier_uniform_(const Tensor& t, double gain) {
  const auto [fan_in, fan_out] = fans(t, "xavier_uniform_");
  const double bound = gain * std::sqrt(6.0 / (fan_in + fan_out));
  return uniform_(t, -bound, bound);
}

Tensor kaiming_uniform_(const Tensor& t, double a, FanMode mode, Nonlinearity nonlinearity) {
  const auto [fan_in, fan_out] = fans(t, "kaiming_uniform_");
  const double fan = mode == FanMode::FanIn ? fan_in : fan_out;
  const double bound = std::sqrt(3.0) * calculate_gain(nonlinearity, a) / std::sqrt(fan);
  return uniform_(t, -bound, bound);
}

}  // namespace xg::nn::init
