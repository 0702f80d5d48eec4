// Internal: LayerNorm's backward as one pass over the rows (the kernel behind
// nn::functional::layer_norm's node when no graph is recorded).
#pragma once

#include "array.hpp"

namespace xg::kernels {

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
