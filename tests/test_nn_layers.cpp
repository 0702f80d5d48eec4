// The nn layers: Linear, Embedding, LayerNorm, Dropout, Sequential and the activations, against
// PyTorch (tests/reference/nn_reference.inc, made by tests/reference/make_nn_reference.py) and
// loops written here. Expected values come from PyTorch or from the math, never from xgrad itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

#include "reference/nn_reference.inc"

namespace F = xg::nn::functional;
using xg::Shape;
using xg::Tensor;
using xg_test::expect_close;
using xg_test::make;
using xg_test::names_of;
using xg_test::values;

// ---------------------------------------------------------------------------------------------
// Layers

TEST(LayerLinear, ShapesAndDefaultInitialization) {
  xg::manual_seed(12345);
  xg::nn::Linear big(400, 300);
  ASSERT_EQ(big.weight.shape(), (Shape{300, 400}));
  ASSERT_EQ(big.bias.shape(), (Shape{300}));
  EXPECT_EQ(names_of(big.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  const double bound = 1.0 / std::sqrt(400.0);
  const auto w = values(big.weight);
  double sum = 0, sum_sq = 0, lo = 1, hi = -1;
  std::vector<int> bins(10, 0);
  for (double v : w) {
    ASSERT_LE(std::abs(v), bound);
    sum += v;
    sum_sq += v * v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    bins[std::min(9, static_cast<int>((v + bound) / (2 * bound) * 10))]++;
  }
  const double n = static_cast<double>(w.size());
  EXPECT_NEAR(sum / n, 0.0, 0.002);
  EXPECT_NEAR(sum_sq / n, bound * bound / 3, 0.02 * bound * bound / 3);  // U(-b, b): b^2 / 3
  EXPECT_GT(hi, 0.999 * bound);
  EXPECT_LT(lo, -0.999 * bound);
  for (int count : bins) EXPECT_NEAR(count / n, 0.1, 0.01);
  double bias_hi = 0;
  for (double v : values(big.bias)) {
    ASSERT_LE(std::abs(v), bound);
    bias_hi = std::max(bias_hi, std::abs(v));
  }
  EXPECT_GT(bias_hi, 0.95 * bound);

  // A small fan-in: the bound is 1/sqrt(3), not the big layer's.
  xg::nn::Linear small(3, 200);
  double small_hi = 0;
  for (double v : values(small.weight)) {
    ASSERT_LE(std::abs(v), 1 / std::sqrt(3.0));
    small_hi = std::max(small_hi, std::abs(v));
  }
  EXPECT_GT(small_hi, 0.97 / std::sqrt(3.0));

  // Different draws for different layers, the same for the same seed.
  xg::manual_seed(5);
  xg::nn::Linear a(4, 3);
  xg::manual_seed(5);
  xg::nn::Linear b(4, 3);
  EXPECT_EQ(values(a.weight), values(b.weight));
  xg::nn::Linear c(4, 3);
  EXPECT_NE(values(a.weight), values(c.weight));

  EXPECT_THROW(xg::nn::Linear(0, 3), std::invalid_argument);
  EXPECT_THROW(xg::nn::Linear(3, -1), std::invalid_argument);
}

// y[..., o] = sum_i x[..., i] W[o, i] + b[o], computed here by loops.
std::vector<double> linear_by_hand(const std::vector<double>& x, const std::vector<double>& w,
                                   const std::vector<double>& b, std::int64_t in,
                                   std::int64_t out) {
  std::vector<double> y;
  for (std::size_t r = 0; r < x.size() / static_cast<std::size_t>(in); ++r) {
    for (std::int64_t o = 0; o < out; ++o) {
      double acc = b.empty() ? 0.0 : b[static_cast<std::size_t>(o)];
      for (std::int64_t i = 0; i < in; ++i) {
        acc += x[r * static_cast<std::size_t>(in) + static_cast<std::size_t>(i)] *
               w[static_cast<std::size_t>(o * in + i)];
      }
      y.push_back(acc);
    }
  }
  return y;
}

TEST(LayerLinear, ForwardIsXWTransposedPlusB) {
  xg::nn::Linear lin(3, 2);
  const std::vector<double> w = {0.5, -1.0, 2.0, 1.5, 0.25, -0.75};
  const std::vector<double> b = {0.125, -2.0};
  {
    xg::NoGradGuard no_grad;
    lin.weight.copy_(make(w, {2, 3}));
    lin.bias.copy_(make(b, {2}));
  }
  const std::vector<double> x = {1, 2, 3, -1, 0.5, 4, 0, 0, 1, 2, -2, 0.5};
  // 2-D
  Tensor y = lin.forward(make(x, {4, 3}));
  EXPECT_EQ(y.shape(), (Shape{4, 2}));
  expect_close(values(y), linear_by_hand(x, w, b, 3, 2), xg::kFloat32, "2-D");
  // 1-D: [in] -> [out]
  y = lin(make({1, 2, 3}, {3}));
  EXPECT_EQ(y.shape(), (Shape{2}));
  expect_close(values(y), linear_by_hand({1, 2, 3}, w, b, 3, 2), xg::kFloat32, "1-D");
  // 3-D: [2, 2, in] -> [2, 2, out]
  y = lin.forward(make(x, {2, 2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  expect_close(values(y), linear_by_hand(x, w, b, 3, 2), xg::kFloat32, "3-D");

  xg::nn::Linear nobias(3, 2, /*bias=*/false);
  EXPECT_FALSE(nobias.bias.defined());
  EXPECT_EQ(names_of(nobias.named_parameters()), std::vector<std::string>{"weight"});
  {
    xg::NoGradGuard no_grad;
    nobias.weight.copy_(make(w, {2, 3}));
  }
  y = nobias.forward(make(x, {4, 3}));
  expect_close(values(y), linear_by_hand(x, w, {}, 3, 2), xg::kFloat32, "no bias");
  EXPECT_ANY_THROW(lin.forward(make({1, 2}, {1, 2})));  // wrong in_features
}

TEST(LayerLinear, MatchesPyTorch) {
  for (const auto& c : nn_ref::kLinearCases) {
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)));
    xg::nn::Linear lin(c.in_features, c.out_features, c.bias);
    lin.to(c.dtype);
    {
      xg::NoGradGuard no_grad;
      lin.weight.copy_(make(c.weight, {c.out_features, c.in_features}, c.dtype));
      if (c.bias) lin.bias.copy_(make(c.bias_values, {c.out_features}, c.dtype));
    }
    const Tensor x = make(c.input, c.input_shape, c.dtype, true);
    const Tensor y = lin.forward(x);
    ASSERT_EQ(y.shape(), c.output_shape);
    EXPECT_EQ(y.dtype(), c.dtype);
    expect_close(values(y), c.output, c.dtype, "output");
    (y * make(c.grad_output, c.output_shape, c.dtype)).sum().backward();
    expect_close(values(x.grad()), c.grad_input, c.dtype, "grad input");
    expect_close(values(lin.weight.grad()), c.grad_weight, c.dtype, "grad weight");
    if (c.bias) expect_close(values(lin.bias.grad()), c.grad_bias, c.dtype, "grad bias");
  }
}

TEST(LayerEmbedding, LooksUpRows) {
  xg::manual_seed(4);
  xg::nn::Embedding emb(10, 4);
  ASSERT_EQ(emb.weight.shape(), (Shape{10, 4}));
  EXPECT_TRUE(emb.weight.requires_grad());
  const auto w = values(emb.weight);
  const std::vector<double> idx = {3, 0, 9, 3, 7, 1};
  const Tensor out = emb.forward(make(idx, {2, 3}, xg::kInt64));
  ASSERT_EQ(out.shape(), (Shape{2, 3, 4}));
  const auto o = values(out);
  for (std::size_t k = 0; k < idx.size(); ++k) {
    for (std::size_t j = 0; j < 4; ++j) {
      EXPECT_EQ(o[k * 4 + j], w[static_cast<std::size_t>(idx[k]) * 4 + j]) << k << "," << j;
    }
  }
  // 0-d and 1-D indices
  const Tensor one = emb(xg::scalar_tensor(7, xg::kInt64));
  ASSERT_EQ(one.shape(), (Shape{4}));
  EXPECT_EQ(values(one), std::vector<double>(w.begin() + 28, w.begin() + 32));
  EXPECT_EQ(emb(make({2, 5}, {2}, xg::kInt64)).shape(), (Shape{2, 4}));

  // The gradient reaches the looked-up rows; a row used twice gets both contributions.
  (out * 2.0).sum().backward();
  const auto g = values(emb.weight.grad());
  for (std::size_t r = 0; r < 10; ++r) {
    const double uses = static_cast<double>(std::count(idx.begin(), idx.end(), double(r)));
    for (std::size_t j = 0; j < 4; ++j) EXPECT_EQ(g[r * 4 + j], 2.0 * uses) << r;
  }

  EXPECT_THROW(emb(make({1, 2}, {2})), std::invalid_argument);                // Float32
  EXPECT_THROW(emb(make({1, 2}, {2}, xg::kFloat64)), std::invalid_argument);  // Float64
  EXPECT_THROW(emb(make({1, 10}, {2}, xg::kInt64)), std::out_of_range);
  EXPECT_THROW(emb(make({-1}, {1}, xg::kInt64)), std::out_of_range);
  EXPECT_THROW(xg::nn::Embedding(0, 3), std::invalid_argument);
}

TEST(LayerEmbedding, WeightStartsStandardNormal) {
  xg::manual_seed(6);
  xg::nn::Embedding emb(500, 100);
  const auto w = values(emb.weight);
  double sum = 0, sum_sq = 0;
  for (double v : w) {
    sum += v;
    sum_sq += v * v;
  }
  const double n = static_cast<double>(w.size());
  EXPECT_NEAR(sum / n, 0.0, 0.02);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.03);
}

TEST(LayerNormTest, MatchesPyTorch) {
  for (const auto& c : nn_ref::kLayerNormCases) {
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)));
    xg::nn::LayerNorm ln(c.normalized_shape, c.eps);
    ln.to(c.dtype);
    EXPECT_EQ(names_of(ln.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
    ASSERT_EQ(ln.weight.shape(), c.normalized_shape);
    {
      xg::NoGradGuard no_grad;
      ln.weight.copy_(make(c.weight, c.normalized_shape, c.dtype));
      ln.bias.copy_(make(c.bias, c.normalized_shape, c.dtype));
    }
    const Tensor x = make(c.input, c.input_shape, c.dtype, true);
    const Tensor y = ln.forward(x);
    ASSERT_EQ(y.shape(), c.input_shape);
    // Float32: the row with the +100 offset loses a few bits in PyTorch's float32 as well.
    std::vector<double> expected = c.output;
    const double tol = c.dtype == xg::kFloat64 ? 1e-10 : 2e-4;
    const auto got = values(y);
    ASSERT_EQ(got.size(), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << "output " << i;
    }
    (y * make(c.grad_output, c.input_shape, c.dtype)).sum().backward();
    const auto gi = values(x.grad());
    for (std::size_t i = 0; i < gi.size(); ++i) {
      EXPECT_NEAR(gi[i], c.grad_input[i], tol * (1 + std::abs(c.grad_input[i])))
          << "grad input " << i;
    }
    const auto gw = values(ln.weight.grad()), gb = values(ln.bias.grad());
    for (std::size_t i = 0; i < gw.size(); ++i) {
      EXPECT_NEAR(gw[i], c.grad_weight[i], tol * (1 + std::abs(c.grad_weight[i])))
          << "grad weight " << i;
      EXPECT_NEAR(gb[i], c.grad_bias[i], tol * (1 + std::abs(c.grad_bias[i]))) << "grad bias " << i;
    }
  }
}

TEST(LayerNormTest, DefaultsAndErrors) {
  xg::nn::LayerNorm ln(3);
  EXPECT_EQ(values(ln.weight), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(values(ln.bias), (std::vector<double>{0, 0, 0}));
  // x = [1, 2, 3]: mean 2, biased variance 2/3.
  const Tensor y = ln(make({1, 2, 3}, {1, 3}));
  const double s = 1 / std::sqrt(2.0 / 3 + 1e-5);
  expect_close(values(y), {-s, 0, s}, xg::kFloat32, "normalized");
  xg::nn::LayerNorm plain(Shape{2, 2}, 1e-5, /*elementwise_affine=*/false);
  EXPECT_TRUE(plain.parameters().empty());
  EXPECT_EQ(plain(make({0, 2, 4, 6}, {1, 2, 2})).shape(), (Shape{1, 2, 2}));
  EXPECT_THROW(ln(make({1, 2, 3, 4}, {1, 4})), std::invalid_argument);
  EXPECT_THROW(plain(make({1, 2, 3, 4}, {4})), std::invalid_argument);
  // Float32 parameters and a Float64 input: PyTorch refuses ("expected scalar type Float").
  EXPECT_THROW(ln(make({1, 2, 3}, {1, 3}, xg::kFloat64)), std::invalid_argument);
}

// |got - expected| <= tol (1 + |expected|), the LayerNorm tests' tolerance: Float32 loses a few
// bits in the row with the +100 offset, in PyTorch's float32 as well.
void expect_ln_close(const std::vector<double>& got, const std::vector<double>& expected,
                     xg::Dtype dtype, const std::string& what) {
  const double tol = dtype == xg::kFloat64 ? 1e-10 : 2e-4;
  ASSERT_EQ(got.size(), expected.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected[i], tol * (1 + std::abs(expected[i]))) << what << " " << i;
  }
}

// F.layer_norm with the weight, the bias, both or neither given (PyTorch's reference), and the
// module forms that compute the same: LayerNorm(bias = false) is layer_norm with the weight
// only, LayerNorm(elementwise_affine = false) with neither.
TEST(LayerNormTest, FunctionalWithOptionalAffineMatchesPyTorch) {
  for (const auto& c : nn_ref::kLayerNormFunctionalCases) {
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)));
    const bool has_w = !c.weight.empty(), has_b = !c.bias.empty();
    const Tensor w = has_w ? make(c.weight, c.normalized_shape, c.dtype, true) : Tensor();
    const Tensor b = has_b ? make(c.bias, c.normalized_shape, c.dtype, true) : Tensor();
    const Tensor x = make(c.input, c.input_shape, c.dtype, true);
    const Tensor y = F::layer_norm(x, c.normalized_shape, w, b, c.eps);
    ASSERT_EQ(y.shape(), c.input_shape);
    expect_ln_close(values(y), c.output, c.dtype, "output");
    (y * make(c.grad_output, c.input_shape, c.dtype)).sum().backward();
    expect_ln_close(values(x.grad()), c.grad_input, c.dtype, "grad input");
    if (has_w) expect_ln_close(values(w.grad()), c.grad_weight, c.dtype, "grad weight");
    if (has_b) expect_ln_close(values(b.grad()), c.grad_bias, c.dtype, "grad bias");
    if (has_b && !has_w) continue;  // no module form: a bias needs the weight

    xg::nn::LayerNorm ln(c.normalized_shape, c.eps, /*elementwise_affine=*/has_w,
                         /*bias=*/has_b);
    ln.to(c.dtype);
    std::vector<std::string> names;
    if (has_w) names.push_back("weight");
    if (has_b) names.push_back("bias");
    EXPECT_EQ(names_of(ln.named_parameters()), names);
    EXPECT_EQ(ln.bias.defined(), has_b);
    if (has_w) {
      xg::NoGradGuard no_grad;
      ln.weight.copy_(w);
      if (has_b) ln.bias.copy_(b);
    }
    const Tensor x2 = make(c.input, c.input_shape, c.dtype, true);
    const Tensor y2 = ln(x2);
    expect_ln_close(values(y2), c.output, c.dtype, "module output");
    (y2 * make(c.grad_output, c.input_shape, c.dtype)).sum().backward();
    expect_ln_close(values(x2.grad()), c.grad_input, c.dtype, "module grad input");
    if (has_w) expect_ln_close(values(ln.weight.grad()), c.grad_weight, c.dtype, "module grad w");
  }
}

// layer_norm is one node with a closed-form backward (nn/functional.cpp): gradcheck for the
// four affine variants over one and two normalised dims, on a transposed (non-contiguous) input,
// and gradgradcheck of a function of its gradients (create_graph recomputes mean and rstd).
TEST(LayerNormTest, FusedNodeGradcheckAndDoubleBackward) {
  xg::manual_seed(3);
  const auto opts = xg::TensorOptions().dtype(xg::kFloat64).requires_grad(true);
  for (const Shape& normalized : {Shape{4}, Shape{3, 4}}) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool has_w = variant & 1, has_b = variant & 2;
      SCOPED_TRACE(testing::Message()
                   << normalized.size() << " dims, weight " << has_w << ", bias " << has_b);
      std::vector<Tensor> in{xg::randn({2, 4, 3}, opts)};  // transposed below: [2, 3, 4]
      if (has_w) in.push_back(xg::randn(normalized, opts));
      if (has_b) in.push_back(xg::randn(normalized, opts));
      auto fn = [&](const std::vector<Tensor>& x) {
        const Tensor w = has_w ? x[1] : Tensor();
        const Tensor b = has_b ? x[has_w ? 2 : 1] : Tensor();
        return F::layer_norm(x[0].transpose(1, 2), normalized, w, b, 1e-5);
      };
      const auto report = xg::autograd::gradcheck(fn, in);
      EXPECT_TRUE(report.ok) << report.message;
      const auto grad_fn = xg_test::gradients_of(fn, [](const auto& g, const auto& xs) {
        Tensor r = (g[0] * g[0]).sum();
        for (std::size_t i = 1; i < g.size(); ++i) r = r + (g[i] * xs[i]).sum();
        return r;
      });
      const auto report2 = xg::autograd::gradcheck(grad_fn, in);
      EXPECT_TRUE(report2.ok) << report2.message;
    }
  }
}

// Without a bias, LayerNorm's checkpoint has no "bias" entry, and a file with one is refused.
TEST(LayerNormTest, WithoutBiasHasNoBiasEntry) {
  xg::nn::LayerNorm ln(4, 1e-5, true, /*bias=*/false);
  const xg::TensorMap state = xg::state_dict(ln);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state.begin()->first, "weight");
  EXPECT_THROW(xg::load_state_dict(ln, {{"weight", xg::ones({4})}, {"bias", xg::zeros({4})}}),
               std::invalid_argument);
  xg::nn::LayerNorm with_bias(4);
  EXPECT_EQ(xg::state_dict(with_bias).size(), 2u);
  // elementwise_affine = false: no parameters whatever bias says, as PyTorch.
  EXPECT_TRUE(xg::nn::LayerNorm(4, 1e-5, false, true).parameters().empty());
}

TEST(LayerNormTest, FunctionalErrors) {
  const Tensor x = xg::ones({2, 3});
  EXPECT_THROW(F::layer_norm(x, {4}), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(x, {2, 3, 1}), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(x, {}), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(x, {3}, xg::ones({4})), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(x, {3}, Tensor(), xg::ones({2})), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(x, {3}, xg::ones({3}, xg::kFloat64)), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(xg::arange(3), {3}), std::invalid_argument);
  EXPECT_THROW(F::layer_norm(Tensor(), {3}), std::invalid_argument);
  // The whole input normalized: [2, 3] over [2, 3] has mean 0 and biased variance 1.
  const Tensor y = F::layer_norm(make({-1, 1, -1, 1, -1, 1}, {2, 3}), {2, 3}, {}, {}, 0.0);
  expect_close(values(y), {-1, 1, -1, 1, -1, 1}, xg::kFloat32, "whole input");
}

TEST(LayerDropout, EvalIsIdentityTrainingDropsAboutP) {
  const std::int64_t n = 200000;
  const double p = 0.3;
  xg::nn::Dropout drop(p);
  const Tensor x = xg::ones({n}, xg::TensorOptions().requires_grad(true));
  drop.eval();
  EXPECT_EQ(values(drop(x)), values(x));
  drop.train();
  xg::manual_seed(99);
  const Tensor y = drop(x);
  const auto v = values(y);
  const double kept_value = static_cast<double>(static_cast<float>(1.0 / (1.0 - p)));
  std::int64_t zeros = 0;
  for (double e : v) {
    if (e == 0) {
      ++zeros;
    } else {
      EXPECT_NEAR(e, kept_value, 1e-6);
    }
  }
  // Binomial(n, p): a standard deviation of about 0.001 in the fraction.
  EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(n), p, 0.005);
  // The gradient is the same mask, scaled.
  y.sum().backward();
  EXPECT_EQ(values(x.grad()), v);
  // Reproducible with the seed, different without.
  xg::manual_seed(99);
  EXPECT_EQ(values(drop(x)), v);
  EXPECT_NE(values(drop(x)), v);

  xg::nn::Dropout none(0.0);
  EXPECT_EQ(values(none(x)), values(x));
  xg::nn::Dropout all(1.0);
  for (double e : values(all(x))) EXPECT_EQ(e, 0.0);
  EXPECT_EQ(values(F::dropout(x, 0.5, /*training=*/false)), values(x));
  EXPECT_THROW(xg::nn::Dropout(-0.1), std::invalid_argument);
  EXPECT_THROW(xg::nn::Dropout(1.5), std::invalid_argument);
  EXPECT_THROW(F::dropout(x, 2.0), std::invalid_argument);
}

TEST(LayerSequential, ChainsAndNamesChildren) {
  xg::manual_seed(8);
  auto l1 = std::make_shared<xg::nn::Linear>(3, 4);
  auto act = std::make_shared<xg::nn::Tanh>();
  auto l2 = std::make_shared<xg::nn::Linear>(4, 2);
  xg::nn::Sequential seq{l1, act, l2};
  EXPECT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[1].get(), act.get());
  const auto children = seq.named_children();
  ASSERT_EQ(children.size(), 3u);
  EXPECT_EQ(children[0].first, "0");
  EXPECT_EQ(children[1].first, "1");
  EXPECT_EQ(children[2].first, "2");
  EXPECT_EQ(names_of(seq.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  const std::vector<double> x = {1, -2, 0.5, 0.25, 3, -1};
  const auto h = linear_by_hand(x, values(l1->weight), values(l1->bias), 3, 4);
  std::vector<double> th;
  for (double v : h) th.push_back(std::tanh(v));
  const auto expected = linear_by_hand(th, values(l2->weight), values(l2->bias), 4, 2);
  const Tensor y = seq.forward(make(x, {2, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  expect_close(values(y), expected, xg::kFloat32, "chain");
  seq.push_back(std::make_shared<xg::nn::ReLU>());
  EXPECT_EQ(seq.named_children().back().first, "3");
  for (double v : values(seq(make(x, {2, 3})))) EXPECT_GE(v, 0.0);
  xg::nn::Sequential empty;
  EXPECT_EQ(values(empty(make(x, {2, 3}))), x);
}

TEST(LayerActivation, MatchPyTorch) {
  for (const auto& c : nn_ref::kActivationCases) {
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)));
    std::shared_ptr<xg::nn::Module> m;
    const std::string name = c.name;
    if (name == "relu") m = std::make_shared<xg::nn::ReLU>();
    if (name == "tanh") m = std::make_shared<xg::nn::Tanh>();
    if (name == "sigmoid") m = std::make_shared<xg::nn::Sigmoid>();
    if (name == "gelu") m = std::make_shared<xg::nn::GELU>();
    if (name == "gelu_tanh") m = std::make_shared<xg::nn::GELU>("tanh");
    const Shape shape = {static_cast<std::int64_t>(nn_ref::kActivationInput.size())};
    if (name == "gelu_tanh_grad") {  // PyTorch's derivative of the tanh form
      const Tensor x = make(nn_ref::kActivationInput, shape, c.dtype, true);
      xg::gelu(x, "tanh").sum().backward();
      expect_close(values(x.grad()), c.output, c.dtype, name);
      continue;
    }
    ASSERT_TRUE(m);
    const Tensor y = m->forward(make(nn_ref::kActivationInput, shape, c.dtype));
    EXPECT_EQ(y.dtype(), c.dtype);
    expect_close(values(y), c.output, c.dtype, name);
  }
  xg::nn::Flatten flat;
  EXPECT_EQ(flat(xg::zeros({2, 3, 4})).shape(), (Shape{2, 12}));
  xg::nn::Flatten all(0, -1);
  EXPECT_EQ(all(xg::zeros({2, 3, 4})).shape(), (Shape{24}));
  xg::nn::Module base;
  EXPECT_ANY_THROW(base.forward(xg::zeros({1})));
}

// gelu's tanh form: F.gelu and xg::gelu agree with the module (checked against PyTorch above),
// the exact form stays the default, the derivative passes gradcheck, and a wrong string is
// refused as PyTorch does.
TEST(GeluTest, TanhApproximation) {
  const Tensor x = make({-3, -1, -0.25, 0, 0.5, 2}, {6}, xg::kFloat64);
  EXPECT_EQ(values(F::gelu(x, "tanh")), values(xg::nn::GELU("tanh")(x)));
  EXPECT_EQ(values(F::gelu(x)), values(xg::gelu(x)));
  EXPECT_EQ(values(xg::gelu(x, "none")), values(xg::gelu(x)));
  // At 0 both forms are 0; at 2, tanh form: 0.5 * 2 * (1 + tanh(sqrt(2/pi) (2 + 0.044715 * 8))).
  const double t2 = 1.0 + std::tanh(std::sqrt(2.0 / std::numbers::pi) * (2.0 + 0.044715 * 8.0));
  EXPECT_NEAR(values(F::gelu(x, "tanh"))[5], t2, 1e-12);
  EXPECT_EQ(values(F::gelu(x, "tanh"))[3], 0.0);
  xg::manual_seed(21);
  const Tensor r = (xg::randn({7}, xg::kFloat64) * 2.0).requires_grad_();
  const auto first = xg::autograd::gradcheck(
      [](const std::vector<Tensor>& in) { return xg::gelu(in[0], "tanh"); }, {r});
  EXPECT_TRUE(first.ok) << first.message;
  EXPECT_THROW(xg::gelu(x, "Tanh"), std::invalid_argument);
  EXPECT_THROW(F::gelu(x, ""), std::invalid_argument);
  EXPECT_THROW(xg::nn::GELU("erf"), std::invalid_argument);
  EXPECT_THROW(xg::gelu(xg::arange(3), "tanh"), std::invalid_argument);  // no Int64 gelu
  EXPECT_THROW(xg::gelu(Tensor(), "tanh"), std::invalid_argument);
}

}  // namespace
