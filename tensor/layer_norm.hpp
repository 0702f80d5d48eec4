// Internal: LayerNorm's forward and backward, each one pass over the rows in parallel (the
// kernels behind nn::functional::layer_norm's node).
#pragma once

#include "array.hpp"

namespace xg::kernels {

struct LayerNormOutputs {
  Array out;         // x's shape
  Array mean, rstd;  // x's shape with the normalised dims 1
};

// Rows over x's last `dims` dims (the normalised ones): mean and 1 / sqrt(biased variance + eps)
// of each row (two passes, in double), out = (x - mean) rstd, times weight, plus bias (either
// may be null).
LayerNormOutputs layer_norm_forward(const Array& x, const Array* weight, const Array* bias,
                                    std::size_t dims, double eps);

struct LayerNormGrads {
  Array dx, dweight, dbias;  // each left empty (a 0-d zero) when not asked for
};

// Rows of n elements, the normalised dims (x has rows * n elements in any layout; mean and rstd
// one value per row). With xhat = (x - mean) rstd and gh = g * weight (g without a weight):
//   dx = rstd (gh - mean(gh) - xhat mean(gh xhat)),  dweight = sum(g xhat),  dbias = sum(g),
// the means over a row, the sums over the rows (accumulated in double). weight may be null.
LayerNormGrads layer_norm_backward(const Array& grad, const Array& x, const Array& mean,
                                   const Array& rstd, const Array* weight, std::int64_t n,
                                   bool need_dx, bool need_dweight, bool need_dbias);

}  // namespace xg::kernels
