// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_: applied to the
// parameters' .grad in place, between backward() and the optimizer's step().
#pragma once

#include <limits>
#include <vector>

#include "../autograd/tensor.hpp"

namespace xg::nn::utils {

// Scales every defined gradient by max_norm / (total_norm + 1e-6) when that is below 1, where
// total_norm is the norm_type-norm of all the gradients together (as if concatenated;
// norm_type may be infinity, the largest absolute value). Returns total_norm, computed in
// double precision. Parameters without a gradient are skipped. Throws std::invalid_argument for
// max_norm < 0 or norm_type <= 0, and std::runtime_error, changing nothing, when
// error_if_nonfinite is set and total_norm is NaN or infinite.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every defined gradient into [-clip_value, clip_value] in place. Throws
// std::invalid_argument for clip_value < 0.
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace xg::nn::utils
