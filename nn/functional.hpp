// xg::nn::functional: stateless layers and the losses, as torch::nn::functional.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "../autograd/generator.hpp"
#include "../autograd/tensor.hpp"

namespace xg::nn {

// How a loss reduces its per-element values.
enum class Reduction { None, Mean, Sum };

namespace functional {

// input W^T + b (xg::linear).
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});
// Normalizes over the trailing dims given by normalized_shape (biased variance), then multiplies
// by weight and adds bias when they are defined (each of shape normalized_shape), as
// F.layer_norm.
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = {},
                  const Tensor& bias = {}, double eps = 1e-5);
// gelu(input, approximate) with approximate "none" (exact) or "tanh", as F.gelu.
Tensor gelu(const Tensor& input, std::string_view approximate = "none");
// Zeroes elements with probability p and scales the rest by 1 / (1 - p) when training.
// The mask is drawn from `generator` when given (PyTorch has no such argument: an addition, so a
// training run can own the stream its dropout draws from), else from the default generator.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true,
               std::optional<Generator> generator = std::nullopt);

// softmax(query key^T scale + mask) value, as torch.nn.functional.scaled_dot_product_attention:
// query [..., L, E], key [..., S, E], value [..., S, Ev] -> [..., L, Ev], the leading dims
// broadcast; scale defaults to 1 / sqrt(E). attn_mask broadcasts to [..., L, S]: Bool (true
// takes part) or of the query's dtype (added to the scores); it gets no gradient. is_causal masks
// with the top-left lower triangle of an L x S matrix (not together with attn_mask). A fully
// masked row gives NaN, as PyTorch's math. Without dropout it is one fused node that keeps the
// row log-sum-exp, not the weights; dropout_p > 0 drops attention weights (drawn from
// `generator` when given, else the default generator) through the composed formula.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = {}, double dropout_p = 0.0,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt,
                                    std::optional<Generator> generator = std::nullopt);

// (input - target)^2 and |input - target|; input and target have the same shape.
Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);

// -log_probs[target] per sample. log_probs: [N, C], [C] or [N, C, d...]; target: Int64 of the
// same shape without the class dim (dim 1, or 0 for [C]). Targets equal to ignore_index count
// for nothing, and Mean divides by the number of the others.
Tensor nll_loss(const Tensor& log_probs, const Tensor& target,
                Reduction reduction = Reduction::Mean, std::int64_t ignore_index = -100);

// nll_loss(log_softmax(input)) with targets smoothed towards uniform by label_smoothing, in one
// fused, max-shifted node: finite values and gradients for logits of any size.
Tensor cross_entropy(const Tensor& input, const Tensor& target,
                     Reduction reduction = Reduction::Mean, std::int64_t ignore_index = -100,
                     double label_smoothing = 0.0);

// -[t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], computed stably from the logits x.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction = Reduction::Mean);

}  // namespace functional
}  // namespace xg::nn
