#include "functional.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "../autograd/creation.hpp"
#include "../autograd/function.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../autograd/tensor_impl.hpp"
#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "../tensor/layer_norm.hpp"

namespace xg::nn::functional {

namespace {

std::string describe(const Tensor& t) {
  return t.defined() ? shape_to_string(t.shape()) + " " + std::string(dtype_name(t.dtype()))
                     : std::string("an undefined tensor");
}

Tensor reduce(const Tensor& per_element, Reduction reduction) {
  switch (reduction) {
    case Reduction::Sum:
      return per_element.sum();
    case Reduction::Mean:
      return per_element.mean();
    default:
      return per_element;
  }
}

void check_same_shape(const Tensor& input, const Tensor& target, const char* op) {
  XG_CHECK_ARG(input.defined() && target.defined() && input.is_floating_point() &&
                   target.is_floating_point() && input.shape() == target.shape(),
               op, ": expected floating input and target of the same shape, got ", describe(input),
               " and ", describe(target));
}

// Checks class targets against input [N, C, d...] / [C] and returns the class dim.
std::int64_t check_class_targets(const Tensor& input, const Tensor& target,
                                 std::int64_t ignore_index, const char* op) {
  XG_CHECK_ARG(input.defined() && input.is_floating_point() && input.dim() != 0, op,
               ": expected floating scores of shape [N, C], [C] or [N, C, d...], got ",
               describe(input));
  XG_CHECK_ARG(target.defined() && target.dtype() == kInt64, op,
               ": targets must be Int64 class indices, got ", describe(target));
  const std::int64_t class_dim = input.dim() == 1 ? 0 : 1;
  Shape expected = input.shape();
  expected.erase(expected.begin() + class_dim);
  XG_CHECK_ARG(target.shape() == expected, op, ": input ", describe(input),
               " needs targets of shape ", shape_to_string(expected), ", got ", describe(target));
  const std::int64_t classes = input.size(class_dim);
  const Tensor dense_target = target.contiguous();
  const std::int64_t* t = dense_target.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < target.numel(); ++i) {
    XG_CHECK_RANGE(t[i] == ignore_index || (t[i] >= 0 && t[i] < classes), op, ": target ", t[i],
                   " is out of range for ", classes, " classes");
  }
  return class_dim;
}

// [1, C, 1, ...] (or [C]) holding 0..C-1 along the class dim: compared with the targets, it
// gives one-hot masks.
Tensor class_ids(const Tensor& input, std::int64_t class_dim) {
  Shape shape(static_cast<std::size_t>(input.dim()), 1);
  shape[static_cast<std::size_t>(class_dim)] = input.size(class_dim);
  return arange(input.size(class_dim)).reshape(shape);
}

// What one sample's target is as a distribution over classes, with label smoothing, and
// whether it counts (not ignore_index); both shaped to broadcast against the input.
struct SmoothedTargets {
  Tensor distribution;  // (1 - s) one_hot + s / C
  Tensor valid;         // 1, or 0 for ignore_index; the class dim kept as size 1
  double count;         // the number of valid samples
};

SmoothedTargets smoothed_targets(const Tensor& input, const Tensor& target, std::int64_t class_dim,
                                 std::int64_t ignore_index, double smoothing) {
  const Tensor t = target.unsqueeze(class_dim);
  const Tensor one_hot = eq(class_ids(input, class_dim), t).to(input.dtype());
  const double classes = static_cast<double>(input.size(class_dim));
  SmoothedTargets s;
  s.distribution = smoothing == 0 ? one_hot : one_hot * (1 - smoothing) + smoothing / classes;
  s.valid = ne(t, ignore_index).to(input.dtype());
  s.count = s.valid.sum().item();
  return s;
}

// Cross entropy as one node. Scores of shape [N, C] or [C] without label smoothing (a language
// model's loss) take the fused row kernels: the forward picks -log_softmax at each target, the
// backward writes (softmax - one_hot) * g in one pass, and only the input and the targets are
// kept. Other forms, and backward under create_graph, use the composed formulas
// -sum(log_softmax * target distribution * valid) and (softmax - distribution) * valid * g,
// which differentiate again; both give the same bits.
struct CrossEntropy : autograd::Function<CrossEntropy> {
  static bool fused(const Tensor& input, double smoothing) {
    return smoothing == 0 && input.dim() <= 2;
  }

  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& input, const Tensor& target,
                        Reduction reduction, std::int64_t ignore_index, double smoothing) {
    const std::int64_t class_dim = input.dim() == 1 ? 0 : 1;
    Tensor per_sample;
    double count = 0;
    if (fused(input, smoothing)) {
      per_sample = detail::make_tensor(kernels::cross_entropy_rows(
          detail::array_of(input), detail::array_of(target), ignore_index));
      count = ne(target, ignore_index).sum().item();
    } else {
      const SmoothedTargets s = smoothed_targets(input, target, class_dim, ignore_index, smoothing);
      per_sample = -(log_softmax(input, class_dim) * s.distribution * s.valid).sum({class_dim});
      count = s.count;
    }
    ctx->save_for_backward({input, target});
    ctx->saved_data["reduction"] = static_cast<std::int64_t>(reduction);
    ctx->saved_data["count"] = count;
    ctx->saved_data["class_dim"] = class_dim;
    ctx->saved_data["ignore_index"] = ignore_index;
    ctx->saved_data["smoothing"] = smoothing;
    if (reduction == Reduction::Sum) return per_sample.sum();
    if (reduction == Reduction::Mean) return per_sample.sum() / count;
    return per_sample;
  }

  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &input = saved[0], &target = saved[1];
    const auto reduction = static_cast<Reduction>(ctx->saved_data["reduction"].toInt());
    const std::int64_t class_dim = ctx->saved_data["class_dim"].toInt();
    const std::int64_t ignore_index = ctx->saved_data["ignore_index"].toInt();
    const double smoothing = ctx->saved_data["smoothing"].toDouble();
    Tensor g = grads[0];
    if (reduction == Reduction::Mean) g = g / ctx->saved_data["count"].toDouble();
    if (!GradMode::is_enabled() && fused(input, smoothing)) {
      return {detail::make_tensor(kernels::cross_entropy_rows_backward(
                  detail::array_of(input), detail::array_of(target), ignore_index,
                  detail::array_of(g.to(input.dtype())))),
              Tensor()};
    }
    if (reduction == Reduction::None) g = g.unsqueeze(class_dim);
    const SmoothedTargets s = smoothed_targets(input, target, class_dim, ignore_index, smoothing);
    const Tensor d_input = (softmax(input, class_dim) - s.distribution) * s.valid * g;
    return {d_input, Tensor()};
  }
};

// -[t log s + (1 - t) log(1 - s)] = max(x, 0) - x t + log(1 + exp(-|x|)), with s = sigmoid(x).
struct BinaryCrossEntropyWithLogits : autograd::Function<BinaryCrossEntropyWithLogits> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, const Tensor& t,
                        Reduction reduction) {
    ctx->save_for_backward({x, t});
    ctx->saved_data["reduction"] = static_cast<std::int64_t>(reduction);
    return reduce(relu(x) - x * t + log1p(exp(-abs(x))), reduction);
  }

  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor &x = saved[0], &t = saved[1];
    const auto reduction = static_cast<Reduction>(ctx->saved_data["reduction"].toInt());
    Tensor g = grads[0];
    if (reduction == Reduction::Mean) g = g / static_cast<double>(x.numel());
    return {(sigmoid(x) - t) * g, -x * g};
  }
};

}  // namespace

Tensor gelu(const Tensor& input, std::string_view approximate) {
  return xg::gelu(input, approximate);
}

namespace {

// LayerNorm as one node, as PyTorch's native_layer_norm: forward is one pass over the rows
// (tensor/layer_norm.cpp) and keeps the input and each row's mean and 1 / std (not the centred
// and normalised copies a composed graph keeps), and backward is the closed form
//   xhat = (x - mean) rstd,  gh = g * weight,
//   dx = rstd (gh - mean(gh) - xhat mean(gh xhat)),  dweight = sum(g xhat),  dbias = sum(g),
// the means over the normalised dims, the sums over the others. Under create_graph the mean and
// rstd are recomputed from x with recorded ops, so that the formula differentiates again.
template <bool kWeight, bool kBias>
struct LayerNormFn : autograd::Function<LayerNormFn<kWeight, kBias>> {
  template <class... Params>
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, const Shape& dims,
                        double eps, const Params&... params) {
    const std::array<Tensor, sizeof...(Params)> p{params...};
    auto k = kernels::layer_norm_forward(
        detail::array_of(x), kWeight ? &detail::array_of(p[0]) : nullptr,
        kBias ? &detail::array_of(p[kWeight ? 1 : 0]) : nullptr, dims.size(), eps);
    Tensor out = detail::make_tensor(std::move(k.out));
    const Tensor mean = detail::make_tensor(std::move(k.mean));
    const Tensor rstd = detail::make_tensor(std::move(k.rstd));
    std::vector<Tensor> saved{x, mean, rstd};
    if constexpr (kWeight) saved.push_back(p[0]);
    ctx->save_for_backward(std::move(saved));
    ctx->saved_data["dims"] = dims;
    ctx->saved_data["eps"] = eps;
    return out;
  }

  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    const std::vector<Tensor> saved = ctx->get_saved_variables();
    const Shape dims = ctx->saved_data["dims"].toIntVector();
    const Tensor& x = saved[0];
    const Tensor& g = grads[0];
    Tensor mean = saved[1], rstd = saved[2];
    const bool need_w = kWeight && ctx->needs_input_grad(1);
    const bool need_b = kBias && ctx->needs_input_grad(kWeight ? 2 : 1);
    if (!GradMode::is_enabled()) {  // no graph to record: one pass over the rows
      std::int64_t n = 1;
      for (const std::int64_t d : dims) n *= x.size(d);
      auto k = kernels::layer_norm_backward(detail::array_of(g), detail::array_of(x),
                                            detail::array_of(mean), detail::array_of(rstd),
                                            kWeight ? &detail::array_of(saved[3]) : nullptr, n,
                                            ctx->needs_input_grad(0), need_w, need_b);
      const Shape x_shape = x.shape();
      const Shape normalized(x_shape.end() - static_cast<std::ptrdiff_t>(dims.size()),
                             x_shape.end());
      std::vector<Tensor> out{ctx->needs_input_grad(0) ? detail::make_tensor(std::move(k.dx))
                                                       : Tensor()};
      if constexpr (kWeight) {
        out.push_back(need_w ? detail::make_tensor(std::move(k.dweight)).view(normalized)
                             : Tensor());
      }
      if constexpr (kBias) {
        out.push_back(need_b ? detail::make_tensor(std::move(k.dbias)).view(normalized) : Tensor());
      }
      return out;
    }
    {  // create_graph: mean and rstd as functions of x
      mean = x.mean(dims, true);
      const Tensor centered = x - mean;
      rstd = rsqrt((centered * centered).mean(dims, true) + ctx->saved_data["eps"].toDouble());
    }
    const Tensor xhat = (x - mean) * rstd;
    std::vector<Tensor> out;
    if (ctx->needs_input_grad(0)) {
      const Tensor gh = kWeight ? g * saved[3] : g;
      out.push_back((gh - gh.mean(dims, true) - xhat * (gh * xhat).mean(dims, true)) * rstd);
    } else {
      out.emplace_back();
    }
    // The dims outside the normalised shape, summed for the weight's and the bias's gradients.
    Shape lead;
    for (std::int64_t d = 0; d < x.dim() - static_cast<std::int64_t>(dims.size()); ++d) {
      lead.push_back(d);
    }
    auto reduce = [&](const Tensor& t) { return lead.empty() ? t : t.sum(lead); };
    if constexpr (kWeight) out.push_back(ctx->needs_input_grad(1) ? reduce(g * xhat) : Tensor());
    if constexpr (kBias) out.push_back(ctx->needs_input_grad(out.size()) ? reduce(g) : Tensor());
    return out;
  }
};

}  // namespace

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const std::size_t k = normalized_shape.size();
  XG_CHECK_ARG(k > 0, "layer_norm: normalized_shape must have at least one dim, got []");
  XG_CHECK_ARG(input.defined() && input.is_floating_point(),
               "layer_norm: expected a floating input, got ", describe(input));
  const Shape shape = input.shape();
  XG_CHECK_ARG(shape.size() >= k && std::equal(normalized_shape.begin(), normalized_shape.end(),
                                               shape.end() - static_cast<std::ptrdiff_t>(k)),
               "layer_norm: expected input with trailing shape ", shape_to_string(normalized_shape),
               ", got ", shape_to_string(shape));
  for (const auto& [t, what] : {std::pair{&weight, "weight"}, std::pair{&bias, "bias"}}) {
    XG_CHECK_ARG(!t->defined() || (t->shape() == normalized_shape && t->dtype() == input.dtype()),
                 "layer_norm: ", what, " must have shape ", shape_to_string(normalized_shape),
                 " and the input's dtype ", dtype_name(input.dtype()), ", got ", describe(*t));
  }
  Shape dims;
  for (std::size_t i = 0; i < k; ++i) dims.push_back(-1 - static_cast<std::int64_t>(i));
  const bool w = weight.defined(), b = bias.defined();
  if (w && b) return LayerNormFn<true, true>::apply(input, dims, eps, weight, bias);
  if (w) return LayerNormFn<true, false>::apply(input, dims, eps, weight);
  if (b) return LayerNormFn<false, true>::apply(input, dims, eps, bias);
  return LayerNormFn<false, false>::apply(input, dims, eps);
}

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  return xg::linear(input, weight, bias);
}

namespace {

// Dropout as one node, as PyTorch's native_dropout: the output and the mask (1 / (1 - p) or 0
// per element, from the counter-based Philox generator: tensor/simd.hpp) in one pass, and the
// mask kept for the backward, grad * mask.
struct Dropout : autograd::Function<Dropout> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& input, double p,
                        const Generator& generator) {
    auto [out, mask] = kernels::dropout(detail::array_of(input), p, generator.engine());
    ctx->save_for_backward({detail::make_tensor(std::move(mask))});
    return detail::make_tensor(std::move(out));
  }
  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    return {grads[0] * ctx->get_saved_variables()[0]};
  }
};

}  // namespace

Tensor dropout(const Tensor& input, double p, bool training, std::optional<Generator> generator) {
  // NaN fails too
  XG_CHECK_ARG(p >= 0 && p <= 1, "dropout: p must be in [0, 1], got ", detail::fixed6(p));
  if (!training || p == 0) return input;
  if (p == 1) return input * 0.0;
  if (is_floating(input.dtype())) {
    return Dropout::apply(input, p, generator ? *generator : default_generator());
  }
  // Int64 or Bool: rand refuses the dtype, as PyTorch's dropout does
  const Tensor keep =
      ge(rand(input.shape(), generator ? *generator : default_generator(), input.dtype()), p)
          .to(input.dtype());
  return input * keep * (1.0 / (1.0 - p));
}

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "mse_loss");
  const Tensor diff = input - target;
  return reduce(diff * diff, reduction);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction) {
  check_same_shape(input, target, "l1_loss");
  return reduce(abs(input - target), reduction);
}

Tensor nll_loss(const Tensor& log_probs, const Tensor& target, Reduction reduction,
                std::int64_t ignore_index) {
  const std::int64_t class_dim = check_class_targets(log_probs, target, ignore_index, "nll_loss");
  const SmoothedTargets s = smoothed_targets(log_probs, target, class_dim, ignore_index, 0.0);
  const Tensor per_sample = -(log_probs * s.distribution * s.valid).sum({class_dim});
  if (reduction == Reduction::Mean) return per_sample.sum() / s.count;
  return reduce(per_sample, reduction);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, Reduction reduction,
                     std::int64_t ignore_index, double label_smoothing) {
  check_class_targets(input, target, ignore_index, "cross_entropy");
  XG_CHECK_ARG(label_smoothing >= 0 && label_smoothing <= 1,  // NaN too
               "cross_entropy: label_smoothing must be in [0, 1], got ",
               detail::fixed6(label_smoothing));
  return CrossEntropy::apply(input, target, reduction, ignore_index, label_smoothing);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        Reduction reduction) {
  check_same_shape(input, target, "binary_cross_entropy_with_logits");
  return BinaryCrossEntropyWithLogits::apply(input, target, reduction);
}

}  // namespace xg::nn::functional
