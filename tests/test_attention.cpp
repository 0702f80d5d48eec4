// scaled_dot_product_attention: the fused node against PyTorch's values for the documented
// formula (tests/reference/nn_reference.inc, made by tests/reference/make_nn_reference.py),
// against the formula composed of xgrad ops (softmax(q k^T scale + mask) v), gradcheck and
// gradgradcheck in Float64, fully masked rows and dropout (the errors: test_error_messages.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nn_helpers.hpp"
#include "reference/nn_reference.inc"

namespace {

using xg::Shape;
using xg::Tensor;
using xg_test::expect_close;
using xg_test::make;
using xg_test::values;
namespace F = xg::nn::functional;

// The formula of PyTorch's docs, written with xgrad's ops: an additive bias, -inf where a Bool
// mask is false or above the top-left diagonal (is_causal), or the float mask.
Tensor composed(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                double scale) {
  const std::int64_t L = q.size(-2), S = k.size(-2);
  const double ninf = -std::numeric_limits<double>::infinity();
  Tensor bias = xg::zeros({L, S}, q.dtype());
  if (causal) bias = bias.masked_fill(xg::eq(xg::ones({L, S}).tril(), 0.0), ninf);
  if (mask.defined()) {
    bias = mask.dtype() == xg::kBool ? bias.masked_fill(xg::logical_not(mask), ninf) : bias + mask;
  }
  return xg::matmul(xg::softmax(xg::matmul(q, k.transpose(-2, -1)) * scale + bias, -1), v);
}

Tensor reference_mask(const nn_ref::SdpaCase& c) {
  const std::string kind = c.mask_kind;
  if (kind == "bool") return xg::ne(make(c.mask, c.mask_shape, xg::kFloat64), 0.0);
  if (kind == "float") return make(c.mask, c.mask_shape, c.dtype);
  return {};
}

TEST(Sdpa, MatchesPyTorchFormula) {
  for (const auto& c : nn_ref::kSdpaCases) {
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)));
    const Tensor q = make(c.q, c.q_shape, c.dtype, true);
    const Tensor k = make(c.k, c.k_shape, c.dtype, true);
    const Tensor v = make(c.v, c.v_shape, c.dtype, true);
    const bool causal = std::string(c.mask_kind) == "causal";
    std::optional<double> scale;
    if (c.scale != 0) scale = c.scale;
    const Tensor out =
        F::scaled_dot_product_attention(q, k, v, reference_mask(c), 0.0, causal, scale);
    ASSERT_EQ(out.shape(), c.output_shape);
    EXPECT_EQ(out.dtype(), c.dtype);
    expect_close(values(out), c.output, c.dtype, "output");
    (out * make(c.grad_output, c.output_shape, c.dtype)).sum().backward();
    expect_close(values(q.grad()), c.grad_q, c.dtype, "grad q");
    expect_close(values(k.grad()), c.grad_k, c.dtype, "grad k");
    expect_close(values(v.grad()), c.grad_v, c.dtype, "grad v");
  }
}

struct ComposedCase {
  Shape q, k, v, mask;
  int kind;  // 0 none, 1 Bool mask, 2 float mask, 3 causal
};

// Shapes past one block of query rows (32), so the blocked loops are exercised too.
TEST(Sdpa, MatchesComposedOps) {
  const ComposedCase cases[] = {
      {{3, 70, 8}, {3, 90, 8}, {3, 90, 5}, {}, 0},
      {{2, 2, 130, 4}, {2, 2, 130, 4}, {2, 2, 130, 6}, {}, 3},
      {{2, 100, 4}, {2, 150, 4}, {2, 150, 3}, {}, 3},
      {{2, 3, 67, 4}, {2, 3, 20, 4}, {2, 3, 20, 4}, {3, 67, 20}, 1},
      {{2, 5, 4}, {2, 6, 4}, {2, 6, 2}, {1, 6}, 2},
      {{4, 1, 9, 4}, {3, 9, 4}, {1, 9, 4}, {9, 9}, 2},
  };
  xg::manual_seed(11);
  for (const auto dtype : {xg::kFloat32, xg::kFloat64}) {
    for (const auto& c : cases) {
      SCOPED_TRACE(xg::shape_to_string(c.q) + " kind " + std::to_string(c.kind));
      const auto opts = xg::TensorOptions().dtype(dtype).requires_grad(true);
      const Tensor q = xg::randn(c.q, opts), k = xg::randn(c.k, opts), v = xg::randn(c.v, opts);
      Tensor mask;
      if (c.kind == 1) {
        mask = xg::ge(xg::rand(c.mask), 0.3);
        mask.select(-1, 0).fill_(true);  // no fully masked rows here
      } else if (c.kind == 2) {
        mask = xg::randn(c.mask, xg::TensorOptions().dtype(dtype));
      }
      const double scale = 1.0 / std::sqrt(static_cast<double>(c.q.back()));
      const Tensor out = F::scaled_dot_product_attention(q, k, v, mask, 0.0, c.kind == 3);
      const Tensor want = composed(q, k, v, mask, c.kind == 3, scale);
      ASSERT_EQ(out.shape(), want.shape());
      expect_close(values(out), values(want), dtype, "output");
      const Tensor go = xg::randn(out.shape(), xg::TensorOptions().dtype(dtype));
      const auto g = xg::autograd::grad({out}, {q, k, v}, {go});
      const auto w = xg::autograd::grad({want}, {q, k, v}, {go});
      for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(g[i].shape(), w[i].shape());
        expect_close(values(g[i]), values(w[i]), dtype, "grad " + std::to_string(i));
      }
    }
  }
}

// q, k and v as the transposed views of one [B, T, 3, H, hs] projection (how a GPT block makes
// them) are read where they lie; the output is [B, H, T, hs] laid out as [B, T, H, hs], so its
// transpose(1, 2) is contiguous. Values and gradients as from contiguous copies.
TEST(Sdpa, ReadsTransposedViewsAndWritesTheOutputTransposed) {
  xg::manual_seed(12);
  const std::int64_t B = 2, T = 40, H = 3, hs = 5;
  for (const auto dtype : {xg::kFloat32, xg::kFloat64}) {
    const Tensor qkv =
        xg::randn({B, T, 3, H, hs}, xg::TensorOptions().dtype(dtype).requires_grad(true));
    const Tensor heads = qkv.permute({2, 0, 3, 1, 4});  // [3, B, H, T, hs], a view
    const Tensor q = heads.select(0, 0), k = heads.select(0, 1), v = heads.select(0, 2);
    ASSERT_FALSE(q.is_contiguous());
    const Tensor out = F::scaled_dot_product_attention(q, k, v, {}, 0.0, true);
    EXPECT_EQ(out.shape(), (Shape{B, H, T, hs}));
    EXPECT_TRUE(out.transpose(1, 2).is_contiguous());
    const Tensor copy = qkv.detach().clone().requires_grad_(true);
    const Tensor ch = copy.permute({2, 0, 3, 1, 4});
    const Tensor want =
        F::scaled_dot_product_attention(ch.select(0, 0).contiguous(), ch.select(0, 1).contiguous(),
                                        ch.select(0, 2).contiguous(), {}, 0.0, true);
    expect_close(values(out), values(want), dtype, "output");
    const Tensor go = xg::randn(out.shape(), xg::TensorOptions().dtype(dtype));
    // the output's gradient as a transposed view too, as y.transpose(1, 2) gives it back
    const Tensor go_t = go.transpose(1, 2).contiguous().transpose(1, 2);
    const auto g = xg::autograd::grad({out}, {qkv}, {go_t});
    const auto w = xg::autograd::grad({want}, {copy}, {go});
    expect_close(values(g[0]), values(w[0]), dtype, "grad");
  }
}

TEST(Sdpa, Gradcheck) {
  xg::manual_seed(5);
  const auto opts = xg::TensorOptions().dtype(xg::kFloat64).requires_grad(true);
  const Tensor bool_mask = xg::ne(make({1, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1, 1}, {3, 4}), 0.0);
  const Tensor float_mask = xg::randn({1, 3, 4}, xg::TensorOptions().dtype(xg::kFloat64));
  for (int kind = 0; kind < 4; ++kind) {
    SCOPED_TRACE(kind);
    const Shape kshape = kind == 3 ? Shape{2, 3, 2} : Shape{2, 4, 2};
    const Shape vshape = kind == 3 ? Shape{2, 3, 3} : Shape{2, 4, 3};
    const std::vector<Tensor> in{xg::randn({2, 3, 2}, opts), xg::randn(kshape, opts),
                                 xg::randn(vshape, opts)};
    const Tensor mask = kind == 1 ? bool_mask : kind == 2 ? float_mask : Tensor();
    auto fn = [&](const std::vector<Tensor>& x) {
      return F::scaled_dot_product_attention(x[0], x[1], x[2], mask, 0.0, kind == 3);
    };
    const auto report = xg::autograd::gradcheck(fn, in);
    EXPECT_TRUE(report.ok) << report.message;
    // double backward (create_graph) goes through differentiable ops
    const auto grad_fn = xg_test::gradients_of(fn, [](const auto& g, const auto& xs) {
      return g[0].sum() + (g[1] * g[1]).sum() + (g[2] * xs[2]).sum();
    });
    const auto report2 = xg::autograd::gradcheck(grad_fn, in);
    EXPECT_TRUE(report2.ok) << report2.message;
  }
}

TEST(Sdpa, FullyMaskedRowIsNanAsTheFormula) {
  const Tensor q = xg::randn({1, 3, 2}, xg::TensorOptions().requires_grad(true));
  const Tensor k = xg::randn({1, 4, 2}, xg::TensorOptions().requires_grad(true));
  const Tensor v = xg::randn({1, 4, 2}, xg::TensorOptions().requires_grad(true));
  Tensor mask = xg::ne(xg::ones({3, 4}), 0.0);
  mask.select(0, 1).fill_(false);
  const Tensor out = F::scaled_dot_product_attention(q, k, v, mask);
  const Tensor want = composed(q, k, v, mask, false, 1.0 / std::sqrt(2.0));
  const auto a = values(out), b = values(want);
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(std::isnan(a[i]), std::isnan(b[i])) << i;
    EXPECT_EQ(std::isnan(a[i]), i / 2 == 1) << i;
    if (!std::isnan(b[i])) {
      EXPECT_NEAR(a[i], b[i], 1e-6);
    }
  }
  // a float mask of -inf everywhere in a row too
  Tensor fmask = xg::zeros({3, 4});
  fmask.select(0, 2).fill_(-std::numeric_limits<double>::infinity());
  const auto c = values(F::scaled_dot_product_attention(q, k, v, fmask));
  for (std::size_t i = 0; i < c.size(); ++i) EXPECT_EQ(std::isnan(c[i]), i / 2 == 2) << i;
  // the gradients are NaN where the formula's are
  const auto g = xg::autograd::grad({out}, {q, k, v}, {xg::ones(out.shape())});
  const auto w = xg::autograd::grad({want}, {q, k, v}, {xg::ones(want.shape())});
  for (int i = 0; i < 3; ++i) {
    const auto gi = values(g[i]), wi = values(w[i]);
    for (std::size_t j = 0; j < gi.size(); ++j) EXPECT_EQ(std::isnan(gi[j]), std::isnan(wi[j]));
  }
}

TEST(Sdpa, DropoutFromGenerator) {
  const Tensor q = xg::randn({2, 5, 4}), k = xg::randn({2, 6, 4}), v = xg::randn({2, 6, 3});
  // p = 0 is the plain op; p = 1 drops every weight
  expect_close(values(F::scaled_dot_product_attention(q, k, v, {}, 0.0)),
               values(composed(q, k, v, {}, false, 0.5)), xg::kFloat32, "p = 0");
  for (double x : values(F::scaled_dot_product_attention(q, k, v, {}, 1.0))) EXPECT_EQ(x, 0.0);
  // the same generator state gives the same draw; the weights are dropout(softmax(...), p)
  xg::Generator g1(7), g2(7);
  const Tensor a = F::scaled_dot_product_attention(q, k, v, {}, 0.4, false, std::nullopt, g1);
  const Tensor p = xg::softmax(xg::matmul(q, k.transpose(-2, -1)) * 0.5, -1);
  const Tensor b = xg::matmul(F::dropout(p, 0.4, true, g2), v);
  expect_close(values(a), values(b), xg::kFloat32, "dropout");
}

TEST(Sdpa, DefaultScaleAndNoRecordWithoutGrad) {
  const Tensor q = xg::randn({3, 9}), k = xg::randn({4, 9}), v = xg::randn({4, 2});
  const Tensor out = F::scaled_dot_product_attention(q, k, v);
  EXPECT_FALSE(out.requires_grad());
  expect_close(values(out), values(composed(q, k, v, {}, false, 1.0 / 3.0)), xg::kFloat32,
               "1/sqrt(9)");
}

}  // namespace
