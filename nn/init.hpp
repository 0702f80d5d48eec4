// Parameter initialization, as torch::nn::init: each fills a tensor in place, under no-grad.
#pragma once

#include "../autograd/tensor.hpp"

namespace xg::nn::init {

// torch's mode='fan_in' / 'fan_out' and its nonlinearity names.
enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, Sigmoid, Tanh, ReLU, LeakyReLU };

// The gain torch.nn.init.calculate_gain recommends for a nonlinearity (param: leaky_relu slope).
double calculate_gain(Nonlinearity nonlinearity, double param = 0.01);

Tensor uniform_(const Tensor& t, double a = 0.0, double b = 1.0);
Tensor normal_(const Tensor& t, double mean = 0.0, double std = 1.0);
Tensor constant_(const Tensor& t, double value);
Tensor zeros_(const Tensor& t);
Tensor ones_(const Tensor& t);
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(const Tensor& t, double gain = 1.0);
// U(-b, b) with b = sqrt(3) * gain / sqrt(fan), gain from the nonlinearity (slope a).
Tensor kaiming_uniform_(const Tensor& t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        Nonlinearity nonlinearity = Nonlinearity::LeakyReLU);

}  // namespace xg::nn::init
