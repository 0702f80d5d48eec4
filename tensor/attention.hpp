// The fused scaled dot-product attention kernels (attention.cpp), for
// nn::functional::scaled_dot_product_attention: no graph, no argument checks.
#pragma once

#include <array>
#include <utility>

#include "array.hpp"

namespace xg::kernels {

// The mask of scaled dot-product attention: none, causal (top-left lower triangle of L x S), or
// an array of shape [batch..., L, S] (any strides, so a broadcast view), Bool (true = attend)
// or of q's dtype (added to the scores).
struct SdpaMask {
  bool causal = false;
  const Array* mask = nullptr;
};

// q [batch..., L, E], k [batch..., S, E], v [batch..., S, Ev] (one batch shape, Float32 or
// Float64): softmax(q k^T scale + mask) v [batch..., L, Ev] and the row log-sum-exp of the
// masked scores [batch..., L], computed per block of query rows; a fully masked row gives NaN.
std::pair<Array, Array> sdpa_forward(const Array& q, const Array& k, const Array& v,
                                     const SdpaMask& mask, double scale);
// dq, dk, dv from the forward's inputs, output and log-sum-exp and the output's gradient.
std::array<Array, 3> sdpa_backward(const Array& q, const Array& k, const Array& v,
                                   const SdpaMask& mask, double scale, const Array& out,
                                   const Array& lse, const Array& grad);

}  // namespace xg::kernels
