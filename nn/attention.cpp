// scaled_dot_product_attention: one fused node (tensor/attention.cpp's kernels) when dropout_p
// is 0, the composed formula otherwise.
#include "../tensor/attention.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "../autograd/creation.hpp"
#include "../autograd/function.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../autograd/tensor_impl.hpp"
#include "../tensor/check.hpp"
#include "functional.hpp"

namespace xg::nn::functional {

namespace {

constexpr const char* kOp = "scaled_dot_product_attention";

using detail::describe;

// The scores q k^T scale plus the documented bias: -inf where a Bool mask is false or above the
// top-left diagonal (is_causal), or the float mask. Differentiable in q and k.
Tensor masked_scores(const Tensor& q, const Tensor& k, const Tensor& mask, bool causal,
                     double scale) {
  const Tensor s = matmul(q, transpose(k, -2, -1)) * scale;
  constexpr double ninf = -std::numeric_limits<double>::infinity();
  const std::int64_t L = q.size(-2), S = k.size(-2);
  if (causal) return s + masked_fill(zeros({L, S}, q.dtype()), eq(ones({L, S}).tril(), 0.0), ninf);
  if (!mask.defined()) return s;
  if (mask.dtype() == kBool) {
    return s + masked_fill(zeros(mask.shape(), q.dtype()), logical_not(mask), ninf);
  }
  return s + mask;
}

// The attention mask a fused node reads: not an input of the node (it gets no gradient).
struct MaskArg {
  Tensor mask;  // broadcast to [batch..., L, S], or undefined
  bool causal;
};

struct ScaledDotProductAttention : autograd::Function<ScaledDotProductAttention> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& q, const Tensor& k,
                        const Tensor& v, const MaskArg& m, double scale) {
    const kernels::SdpaMask km{m.causal, m.mask.defined() ? &detail::array_of(m.mask) : nullptr};
    auto [out, lse] = kernels::sdpa_forward(detail::array_of(q), detail::array_of(k),
                                            detail::array_of(v), km, scale);
    Tensor result = detail::make_tensor(std::move(out));
    std::vector<Tensor> saved{q, k, v, result, detail::make_tensor(std::move(lse))};
    if (m.mask.defined()) saved.push_back(m.mask);
    ctx->save_for_backward(std::move(saved));
    ctx->saved_data["causal"] = m.causal;
    ctx->saved_data["scale"] = scale;
    return result;
  }

  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    const auto s = ctx->get_saved_variables();
    const Tensor &q = s[0], &k = s[1], &v = s[2], &out = s[3], &lse = s[4];
    const Tensor mask = s.size() > 5 ? s[5] : Tensor();
    const bool causal = ctx->saved_data["causal"].toBool();
    const double scale = ctx->saved_data["scale"].toDouble();
    const Tensor& g = grads[0];
    if (GradMode::is_enabled()) {
      // create_graph: the same formulas with differentiable ops, so the gradients have a
      // gradient too (the weights recomputed with softmax, not from the saved log-sum-exp).
      const Tensor p = softmax(masked_scores(q, k, mask, causal, scale), -1);
      const Tensor dp = matmul(g, transpose(v, -2, -1));
      const Tensor ds = p * (dp - sum(dp * p, {-1}, true));
      return {matmul(ds, k) * scale, matmul(transpose(ds, -2, -1), q) * scale,
              matmul(transpose(p, -2, -1), g), Tensor(), Tensor()};
    }
    const kernels::SdpaMask km{causal, mask.defined() ? &detail::array_of(mask) : nullptr};
    auto d = kernels::sdpa_backward(detail::array_of(q), detail::array_of(k), detail::array_of(v),
                                    km, scale, detail::array_of(out), detail::array_of(lse),
                                    detail::array_of(g));
    return {detail::make_tensor(std::move(d[0])), detail::make_tensor(std::move(d[1])),
            detail::make_tensor(std::move(d[2])), Tensor(), Tensor()};
  }
};

std::string shapes_of(const Tensor& q, const Tensor& k, const Tensor& v) {
  return "query " + describe(q) + ", key " + describe(k) + ", value " + describe(v);
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale,
                                    std::optional<Generator> generator) {
  const Tensor &q = query, &k = key, &v = value;
  XG_CHECK_ARG(q.defined() && k.defined() && v.defined() && q.is_floating_point() &&
                   q.dtype() == k.dtype() && q.dtype() == v.dtype(),
               kOp, ": query, key and value must be Float32 or Float64 tensors of one dtype, got ",
               shapes_of(q, k, v));
  XG_CHECK_ARG(q.dim() >= 2 && k.dim() >= 2 && v.dim() >= 2, kOp,
               ": query, key and value need at least 2 dims ([..., L, E], [..., S, E], "
               "[..., S, Ev]), got ",
               shapes_of(q, k, v));
  XG_CHECK_ARG(q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2), kOp,
               ": expected query [..., L, E], key [..., S, E] and value [..., S, Ev], got ",
               shapes_of(q, k, v));
  const Shape qs = q.shape(), ks = k.shape(), vs = v.shape();
  Shape batch;
  {
    const Shape qb(qs.begin(), qs.end() - 2), kb(ks.begin(), ks.end() - 2),
        vb(vs.begin(), vs.end() - 2);
    batch = broadcast_shapes(broadcast_shapes(qb, kb, kOp), vb, kOp);
  }
  XG_CHECK_ARG(!(attn_mask.defined() && is_causal), kOp,
               ": pass attn_mask or is_causal=true, not both (got a mask ", describe(attn_mask),
               ")");
  XG_CHECK_ARG(dropout_p >= 0 && dropout_p <= 1, kOp, ": dropout_p must be in [0, 1], got ",
               detail::fixed6(dropout_p));
  const std::int64_t L = q.size(-2), S = k.size(-2);
  Shape full = batch;
  full.push_back(L);
  full.push_back(S);
  Tensor mask;
  if (attn_mask.defined()) {
    XG_CHECK_ARG(attn_mask.dtype() == kBool || attn_mask.dtype() == q.dtype(), kOp,
                 ": attn_mask must be Bool or of the query's dtype ", dtype_name(q.dtype()),
                 ", got ", describe(attn_mask));
    bool fits = attn_mask.dim() <= static_cast<std::int64_t>(full.size());
    if (fits) {
      const Shape ms = attn_mask.shape();
      for (std::size_t i = 0; i < ms.size(); ++i) {
        const std::int64_t f = full[full.size() - ms.size() + i];
        fits = fits && (ms[i] == 1 || ms[i] == f);
      }
    }
    XG_CHECK_ARG(fits, kOp, ": attn_mask ", describe(attn_mask),
                 " does not broadcast to the attention weights' shape ", shape_to_string(full),
                 " (", shapes_of(q, k, v), ")");
    mask = attn_mask.detach().expand(full);
  }
  const double sc = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto batched = [&](const Tensor& t, std::int64_t rows, std::int64_t cols) {
    Shape shape = batch;
    shape.push_back(rows);
    shape.push_back(cols);
    return t.shape() == shape ? t : t.expand(shape);  // expand's backward sums the broadcast
  };
  const Tensor qx = batched(q, L, q.size(-1)), kx = batched(k, S, k.size(-1)),
               vx = batched(v, S, v.size(-1));
  if (dropout_p > 0) {
    Tensor p = softmax(masked_scores(qx, kx, mask, is_causal, sc), -1);
    p = dropout(p, dropout_p, true, std::move(generator));
    return matmul(p, vx);
  }
  return ScaledDotProductAttention::apply(qx, kx, vx, MaskArg{mask, is_causal}, sc);
}

}  // namespace xg::nn::functional
