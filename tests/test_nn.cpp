// The nn layer: Module (registration, recursive named parameters, train/eval, zero_grad, to),
// layers (Linear, Embedding, LayerNorm, Dropout, Sequential, activations), init, the losses
// against PyTorch (tests/reference/nn_reference.inc, made by
// tests/reference/make_nn_reference.py) and gradcheck, safetensors checkpoints (round trips,
// the file's bytes, training resumed bit-identically, and a hand-made bad file for each rule of
// the format) and BatchSampler. Expected values come from PyTorch or from the math, never from
// xgrad itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "temp_files.hpp"

namespace {

#include "reference/nn_reference.inc"

namespace fs = std::filesystem;
namespace F = xg::nn::functional;
using xg::Dtype;
using xg::Shape;
using xg::Tensor;
using xg::nn::Reduction;

// ---------------------------------------------------------------------------------------------
// helpers

std::vector<double> values(const Tensor& t) {
  const xt::xarray<double> a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

Tensor make(const std::vector<double>& v, const Shape& shape, Dtype dtype = xg::kFloat32,
            bool requires_grad = false) {
  return xg::tensor(v, shape, xg::TensorOptions().dtype(dtype).requires_grad(requires_grad));
}

const char* reduction_name(Reduction r) {
  return r == Reduction::Mean ? "mean" : r == Reduction::Sum ? "sum" : "none";
}

// |actual - expected| <= atol + rtol |expected| elementwise, tolerances by dtype.
void expect_close(const std::vector<double>& actual, const std::vector<double>& expected,
                  Dtype dtype, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  const double rtol = dtype == xg::kFloat64 ? 1e-10 : 2e-5;
  const double atol = dtype == xg::kFloat64 ? 1e-12 : 2e-6;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], atol + rtol * std::abs(expected[i]))
        << what << " element " << i;
  }
}

bool all_finite(const Tensor& t) {
  for (double v : values(t)) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

std::vector<unsigned char> bytes_of(const Tensor& t) {
  const void* p = nullptr;
  switch (t.dtype()) {
    case xg::kFloat32:
      p = t.data_ptr<float>();
      break;
    case xg::kFloat64:
      p = t.data_ptr<double>();
      break;
    case xg::kBool:
      p = t.data_ptr<bool>();
      break;
    default:
      p = t.data_ptr<std::int64_t>();
  }
  const auto n = static_cast<std::size_t>(t.numel()) * xg::element_size(t.dtype());
  const auto* c = static_cast<const unsigned char*>(p);
  return std::vector<unsigned char>(c, c + n);
}

// Every parameter and buffer of a module: name, dtype, shape and every byte.
struct Snapshot {
  std::vector<std::string> names;
  std::vector<Dtype> dtypes;
  std::vector<Shape> shapes;
  std::vector<std::vector<unsigned char>> bytes;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const xg::nn::Module& m) {
  Snapshot s;
  auto add = [&](const std::vector<xg::nn::NamedTensor>& items) {
    for (const auto& item : items) {
      s.names.push_back(item.name);
      s.dtypes.push_back(item.tensor.dtype());
      s.shapes.push_back(item.tensor.shape());
      s.bytes.push_back(bytes_of(item.tensor));
    }
  };
  add(m.named_parameters());
  add(m.named_buffers());
  return s;
}

std::vector<std::string> names_of(const std::vector<xg::nn::NamedTensor>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.name);
  return out;
}

bool same_tensor(const Tensor& a, const Tensor& b) { return a.impl().get() == b.impl().get(); }

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Each group must match: a group matches when the message contains any of its alternatives
// (case-insensitively).
using Keywords = std::vector<std::vector<std::string>>;
void expect_mentions(const std::string& message, const Keywords& keywords) {
  const std::string m = lower(message);
  for (const auto& group : keywords) {
    bool found = false;
    for (const auto& alternative : group) found = found || m.find(lower(alternative)) != m.npos;
    std::string wanted;
    for (const auto& alternative : group) wanted += "'" + alternative + "' ";
    EXPECT_TRUE(found) << "the message \"" << message << "\" mentions none of " << wanted;
  }
}

// Runs f, expecting exactly exception type E; returns its message.
template <class E, class Fn>
std::string message_of(Fn&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected " << typeid(E).name() << ", got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected " << typeid(E).name() << ", nothing was thrown";
  return "";
}

using xg_test::read_bytes;
using xg_test::TempDir;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::uint64_t read_le64(const std::string& s, std::size_t at = 0) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  }
  return v;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  std::string s(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// A safetensors file made by hand: length, the header padded with spaces to 8 bytes, the data.
std::string st_file(std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + data;
}

struct Net : xg::nn::Module {
  explicit Net(bool own_first = true) : Module("Net") {
    if (own_first) w = register_parameter("w", xg::randn({2}));
    fc1 = register_module("fc1", std::make_shared<xg::nn::Linear>(3, 4));
    fc2 = register_module("fc2", std::make_shared<xg::nn::Linear>(4, 2));
    if (!own_first) w = register_parameter("w", xg::randn({2}));
  }
  Tensor forward(const Tensor& x) override { return fc2->forward(xg::tanh(fc1->forward(x))) + w; }
  Tensor w;
  std::shared_ptr<xg::nn::Linear> fc1, fc2;
};

// ---------------------------------------------------------------------------------------------
// Module

TEST(ModuleTest, NamedParametersOwnFirstThenChildrenWithDottedNames) {
  xg::manual_seed(1);
  for (bool own_first : {true, false}) {
    SCOPED_TRACE(own_first ? "own parameter registered first" : "own parameter registered last");
    Net net(own_first);
    const std::vector<std::string> expected = {"w", "fc1.weight", "fc1.bias", "fc2.weight",
                                               "fc2.bias"};
    const auto named = net.named_parameters();
    EXPECT_EQ(names_of(named), expected);
    const auto params = net.parameters();
    ASSERT_EQ(params.size(), 5u);
    const std::vector<Tensor> handles = {net.w, net.fc1->weight, net.fc1->bias, net.fc2->weight,
                                         net.fc2->bias};
    for (std::size_t i = 0; i < 5; ++i) {
      EXPECT_TRUE(same_tensor(params[i], handles[i])) << i;
      EXPECT_TRUE(same_tensor(named[i].tensor, handles[i])) << i;
      EXPECT_EQ(named[i].key(), expected[i]);
      EXPECT_TRUE(params[i].requires_grad()) << i;
      EXPECT_TRUE(params[i].is_leaf()) << i;
    }
    EXPECT_EQ(names_of(net.named_parameters(false)), std::vector<std::string>{"w"});
    EXPECT_EQ(net.parameters(false).size(), 1u);
    const auto children = net.named_children();
    ASSERT_EQ(children.size(), 2u);
    EXPECT_EQ(children[0].first, "fc1");
    EXPECT_EQ(children[1].first, "fc2");
    EXPECT_EQ(children[0].second.get(), net.fc1.get());
  }
}

TEST(ModuleTest, DeeperNestingAndBuffers) {
  struct Inner : xg::nn::Module {
    Inner() : Module("Inner") {
      a = register_parameter("a", xg::zeros({3}));
      count = register_buffer("count", xg::zeros({1}, xg::kInt64));
      b = register_parameter("b", xg::ones({2}), /*requires_grad=*/false);
    }
    Tensor a, b, count;
  };
  struct Outer : xg::nn::Module {
    Outer() : Module("Outer") {
      first = register_module("first", std::make_shared<Inner>());
      scale = register_parameter("scale", xg::ones({}));
      stats = register_buffer("stats", xg::zeros({2, 2}));
      second = register_module("second", std::make_shared<Inner>());
    }
    std::shared_ptr<Inner> first, second;
    Tensor scale, stats;
  };
  Outer m;
  EXPECT_EQ(names_of(m.named_parameters()),
            (std::vector<std::string>{"scale", "first.a", "first.b", "second.a", "second.b"}));
  EXPECT_EQ(names_of(m.named_buffers()),
            (std::vector<std::string>{"stats", "first.count", "second.count"}));
  EXPECT_EQ(names_of(m.named_buffers(false)), std::vector<std::string>{"stats"});
  EXPECT_FALSE(m.first->b.requires_grad());
  EXPECT_TRUE(m.first->a.requires_grad());
  for (const auto& b : m.buffers()) EXPECT_FALSE(b.requires_grad());
  // The handle returned by register_* is the registered tensor itself.
  EXPECT_TRUE(same_tensor(m.named_buffers()[0].tensor, m.stats));
  {
    xg::NoGradGuard no_grad;
    m.first->a.fill_(4.0);
  }
  EXPECT_EQ(values(m.parameters()[1]), (std::vector<double>{4, 4, 4}));
}

TEST(ModuleTest, RegisterParameterMakesALeaf) {
  xg::nn::Module m;
  const Tensor x = make({1, 2}, {2}, xg::kFloat32, true);
  const Tensor y = x * 3.0;  // not a leaf
  const Tensor p = m.register_parameter("p", y);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(p.requires_grad());
  EXPECT_EQ(values(p), (std::vector<double>{3, 6}));
}

TEST(ModuleTest, TrainEvalPropagateToEveryDescendant) {
  auto inner =
      std::make_shared<xg::nn::Sequential>(std::initializer_list<std::shared_ptr<xg::nn::Module>>{
          std::make_shared<xg::nn::Linear>(2, 2), std::make_shared<xg::nn::Dropout>(0.5)});
  auto outer =
      std::make_shared<xg::nn::Sequential>(std::initializer_list<std::shared_ptr<xg::nn::Module>>{
          inner, std::make_shared<xg::nn::ReLU>()});
  auto all = [&] {
    return std::vector<bool>{outer->is_training(), (*outer)[0]->is_training(),
                             (*outer)[1]->is_training(), (*inner)[0]->is_training(),
                             (*inner)[1]->is_training()};
  };
  EXPECT_EQ(all(), std::vector<bool>(5, true));  // modules start in training mode
  outer->eval();
  EXPECT_EQ(all(), std::vector<bool>(5, false));
  outer->train();
  EXPECT_EQ(all(), std::vector<bool>(5, true));
  outer->train(false);
  EXPECT_EQ(all(), std::vector<bool>(5, false));
  inner->train(true);  // only the subtree
  EXPECT_EQ(all(), (std::vector<bool>{false, true, false, true, true}));
}

TEST(ModuleTest, ZeroGrad) {
  xg::manual_seed(2);
  Net net;
  const Tensor x = make({0.5, -1, 2, 1, 0, -0.5}, {2, 3});
  net.forward(x).sum().backward();
  for (const auto& p : net.parameters()) ASSERT_TRUE(p.grad().defined());
  net.zero_grad(false);
  for (const auto& p : net.parameters()) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().shape(), p.shape());
    for (double v : values(p.grad())) EXPECT_EQ(v, 0.0);
  }
  net.forward(x).sum().backward();
  net.zero_grad();  // set_to_none by default
  for (const auto& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(ModuleTest, ToFloat64ConvertsInPlace) {
  xg::manual_seed(3);
  struct WithBuffers : Net {
    WithBuffers() {
      running = register_buffer("running", make({0.25, 0.5}, {2}));
      steps = register_buffer("steps", xg::full({1}, 7, xg::kInt64));
    }
    Tensor running, steps;
  } net;
  const std::vector<Tensor> kept = net.parameters();  // handles taken before the conversion
  std::vector<std::vector<double>> before;
  for (const auto& p : kept) before.push_back(values(p));
  net.forward(make({1, 2, 3}, {1, 3})).sum().backward();
  net.to(xg::kFloat64);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].dtype(), xg::kFloat64) << i;
    EXPECT_EQ(values(kept[i]), before[i]) << i;  // float -> double is exact
    EXPECT_TRUE(kept[i].requires_grad()) << i;
    EXPECT_TRUE(kept[i].is_leaf()) << i;
  }
  EXPECT_EQ(net.fc1->weight.dtype(), xg::kFloat64);
  EXPECT_EQ(net.w.dtype(), xg::kFloat64);
  for (const auto& p : net.parameters()) EXPECT_EQ(p.dtype(), xg::kFloat64);
  EXPECT_EQ(net.running.dtype(), xg::kFloat64);
  EXPECT_EQ(values(net.running), (std::vector<double>{0.25, 0.5}));
  EXPECT_EQ(net.steps.dtype(), xg::kInt64);  // integer buffers stay integer
  // The model now runs and trains in Float64.
  const Tensor y = net.forward(make({1, 2, 3}, {1, 3}, xg::kFloat64));
  EXPECT_EQ(y.dtype(), xg::kFloat64);
  net.zero_grad();
  y.sum().backward();
  for (const auto& p : kept) {
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(p.grad().dtype(), xg::kFloat64);
  }
  net.to(xg::kFloat32);
  for (const auto& p : kept) EXPECT_EQ(p.dtype(), xg::kFloat32);
  EXPECT_THROW(net.to(xg::kInt64), std::invalid_argument);
}

TEST(ModuleTest, DuplicateAndInvalidNamesThrow) {
  xg::nn::Module m;
  m.register_parameter("p", xg::zeros({1}));
  m.register_buffer("b", xg::zeros({1}));
  m.register_module("c", std::make_shared<xg::nn::ReLU>());
  EXPECT_THROW(m.register_parameter("p", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_buffer("b", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_module("c", std::make_shared<xg::nn::ReLU>()), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("a.b", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_module("x.y", std::make_shared<xg::nn::ReLU>()), std::invalid_argument);
  EXPECT_EQ(m.parameters().size(), 1u);
  EXPECT_EQ(m.buffers().size(), 1u);
  EXPECT_EQ(m.named_children().size(), 1u);
}

// A parameter and a buffer of the same name would be one key of the module's state (and of
// its checkpoint): PyTorch refuses the second ("attribute already exists").
TEST(ModuleTest, ParameterAndBufferCannotShareAName) {
  xg::nn::Module m;
  m.register_parameter("x", xg::zeros({1}));
  EXPECT_THROW(m.register_buffer("x", xg::ones({1})), std::invalid_argument);
  xg::nn::Module m2;
  m2.register_buffer("x", xg::zeros({1}));
  EXPECT_THROW(m2.register_parameter("x", xg::ones({1})), std::invalid_argument);
}

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
  const Tensor y = ln(make({1, 2, 3}, {1, 3}, xg::kFloat64));
  const double s = 1 / std::sqrt(2.0 / 3 + 1e-5);
  expect_close(values(y), {-s, 0, s}, xg::kFloat32, "normalized");
  xg::nn::LayerNorm plain(Shape{2, 2}, 1e-5, /*elementwise_affine=*/false);
  EXPECT_TRUE(plain.parameters().empty());
  EXPECT_EQ(plain(make({0, 2, 4, 6}, {1, 2, 2})).shape(), (Shape{1, 2, 2}));
  EXPECT_THROW(ln(make({1, 2, 3, 4}, {1, 4})), std::invalid_argument);
  EXPECT_THROW(plain(make({1, 2, 3, 4}, {4})), std::invalid_argument);
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
    ASSERT_TRUE(m);
    const Shape shape = {static_cast<std::int64_t>(nn_ref::kActivationInput.size())};
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

// ---------------------------------------------------------------------------------------------
// init

struct Stats {
  double mean, var, lo, hi;
};

Stats stats_of(const Tensor& t) {
  const auto v = values(t);
  double sum = 0, lo = v.at(0), hi = v.at(0);
  for (double e : v) {
    sum += e;
    lo = std::min(lo, e);
    hi = std::max(hi, e);
  }
  const double n = static_cast<double>(v.size());
  const double mean = sum / n;
  double sq = 0;
  for (double e : v) sq += (e - mean) * (e - mean);
  return {mean, sq / n, lo, hi};
}

TEST(InitTest, UniformAndNormalStatistics) {
  xg::manual_seed(21);
  for (Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dtype)));
    Tensor t = xg::empty({200, 500}, dtype);
    const Tensor r = xg::nn::init::uniform_(t, -2.0, 3.0);
    EXPECT_TRUE(same_tensor(r, t));
    EXPECT_EQ(t.dtype(), dtype);
    Stats s = stats_of(t);
    EXPECT_GE(s.lo, -2.0);
    EXPECT_LE(s.hi, 3.0);
    EXPECT_LT(s.lo, -1.99);
    EXPECT_GT(s.hi, 2.99);
    EXPECT_NEAR(s.mean, 0.5, 0.02);
    EXPECT_NEAR(s.var, 25.0 / 12, 0.02 * 25 / 12);

    xg::nn::init::uniform_(t);  // U(0, 1) by default
    s = stats_of(t);
    EXPECT_GE(s.lo, 0.0);
    EXPECT_LE(s.hi, 1.0);
    EXPECT_NEAR(s.mean, 0.5, 0.005);

    xg::nn::init::normal_(t, 1.5, 0.5);
    s = stats_of(t);
    EXPECT_NEAR(s.mean, 1.5, 0.01);
    EXPECT_NEAR(std::sqrt(s.var), 0.5, 0.01);
    xg::nn::init::normal_(t);
    s = stats_of(t);
    EXPECT_NEAR(s.mean, 0.0, 0.01);
    EXPECT_NEAR(std::sqrt(s.var), 1.0, 0.01);
  }
}

TEST(InitTest, ConstantFills) {
  Tensor t = make({1, 2, 3, 4}, {2, 2}, xg::kFloat64);
  xg::nn::init::zeros_(t);
  EXPECT_EQ(values(t), std::vector<double>(4, 0.0));
  xg::nn::init::ones_(t);
  EXPECT_EQ(values(t), std::vector<double>(4, 1.0));
  xg::nn::init::constant_(t, -2.5);
  EXPECT_EQ(values(t), std::vector<double>(4, -2.5));
  EXPECT_EQ(t.dtype(), xg::kFloat64);
}

TEST(InitTest, XavierAndKaimingBoundsFromTheFormulas) {
  xg::manual_seed(22);
  namespace init = xg::nn::init;
  auto check_bound = [](const Tensor& t, double bound, const char* what) {
    SCOPED_TRACE(what);
    const Stats s = stats_of(t);
    EXPECT_GE(s.lo, -bound);
    EXPECT_LE(s.hi, bound);
    EXPECT_LT(s.lo, -0.98 * bound);
    EXPECT_GT(s.hi, 0.98 * bound);
    EXPECT_NEAR(s.var, bound * bound / 3, 0.05 * bound * bound / 3);
  };
  Tensor w = xg::empty({300, 200});  // fan_in 200, fan_out 300
  init::xavier_uniform_(w);
  check_bound(w, std::sqrt(6.0 / 500), "xavier gain 1");
  init::xavier_uniform_(w, 2.0);
  check_bound(w, 2.0 * std::sqrt(6.0 / 500), "xavier gain 2");
  init::kaiming_uniform_(w);  // leaky_relu with a = 0: gain sqrt(2)
  check_bound(w, std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(200.0), "kaiming default");
  init::kaiming_uniform_(w, std::sqrt(5.0));  // gain sqrt(2 / 6): bound 1/sqrt(fan_in)
  check_bound(w, 1 / std::sqrt(200.0), "kaiming a=sqrt(5)");
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanOut, init::Nonlinearity::ReLU);
  check_bound(w, std::sqrt(3.0) * std::sqrt(2.0) / std::sqrt(300.0), "kaiming fan_out relu");
  init::kaiming_uniform_(w, 0.0, init::FanMode::FanIn, init::Nonlinearity::Tanh);
  check_bound(w, std::sqrt(3.0) * (5.0 / 3) / std::sqrt(200.0), "kaiming tanh");
  // A 4-D weight: the receptive field multiplies both fans.
  Tensor conv = xg::empty({64, 32, 3, 3}, xg::kFloat64);
  init::xavier_uniform_(conv);
  check_bound(conv, std::sqrt(6.0 / (32 * 9 + 64 * 9)), "xavier 4-D");
  init::kaiming_uniform_(conv, 0.0, init::FanMode::FanIn, init::Nonlinearity::Linear);
  check_bound(conv, std::sqrt(3.0) / std::sqrt(32 * 9.0), "kaiming 4-D linear");

  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Linear), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Sigmoid), 1.0);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::Tanh), 5.0 / 3);
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::ReLU), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU, 0.2),
                   std::sqrt(2.0 / (1 + 0.04)));
  EXPECT_DOUBLE_EQ(init::calculate_gain(init::Nonlinearity::LeakyReLU),
                   std::sqrt(2.0 / (1 + 0.0001)));

  Tensor v = xg::empty({5});
  EXPECT_THROW(init::xavier_uniform_(v), std::invalid_argument);
  EXPECT_THROW(init::kaiming_uniform_(v), std::invalid_argument);
}

TEST(InitTest, InitRecordsNoGraph) {
  namespace init = xg::nn::init;
  ASSERT_TRUE(xg::GradMode::is_enabled());
  const Tensor p = xg::zeros({4, 3}, xg::TensorOptions().requires_grad(true));
  const std::vector<std::function<void()>> fills = {[&] { init::uniform_(p, -1, 1); },
                                                    [&] { init::normal_(p); },
                                                    [&] { init::zeros_(p); },
                                                    [&] { init::ones_(p); },
                                                    [&] { init::constant_(p, 3.0); },
                                                    [&] { init::xavier_uniform_(p); },
                                                    [&] { init::kaiming_uniform_(p, 0.5); }};
  for (std::size_t i = 0; i < fills.size(); ++i) {
    SCOPED_TRACE(i);
    fills[i]();
    EXPECT_TRUE(p.is_leaf());
    EXPECT_TRUE(p.requires_grad());
    EXPECT_EQ(p.grad_fn_name(), "");
    EXPECT_TRUE(xg::GradMode::is_enabled());  // the guard is gone afterwards
    p.mutable_grad() = Tensor();
    (p * 2.0).sum().backward();
    ASSERT_TRUE(p.grad().defined());
    EXPECT_EQ(values(p.grad()), std::vector<double>(12, 2.0));
  }
}

// ---------------------------------------------------------------------------------------------
// losses

Tensor run_loss(const std::string& loss, const Tensor& input, const Tensor& target,
                Reduction reduction, std::int64_t ignore_index = -100, double smoothing = 0.0) {
  if (loss == "mse_loss") return F::mse_loss(input, target, reduction);
  if (loss == "l1_loss") return F::l1_loss(input, target, reduction);
  if (loss == "nll_loss") return F::nll_loss(input, target, reduction, ignore_index);
  if (loss == "cross_entropy") {
    return F::cross_entropy(input, target, reduction, ignore_index, smoothing);
  }
  if (loss == "bce_with_logits")
    return F::binary_cross_entropy_with_logits(input, target, reduction);
  throw std::logic_error("unknown loss " + loss);
}

TEST(LossReference, MatchesPyTorch) {
  ASSERT_GE(nn_ref::kLossCases.size(), 150u);
  for (const auto& c : nn_ref::kLossCases) {
    const std::string loss = c.loss;
    SCOPED_TRACE(std::string(c.name) + " " + std::string(xg::dtype_name(c.dtype)) + " " +
                 reduction_name(c.reduction));
    const bool classes = loss == "nll_loss" || loss == "cross_entropy";
    const bool bce = loss == "bce_with_logits";
    const Tensor x = make(c.input, c.input_shape, c.dtype, true);
    const Tensor t = make(c.target, c.target_shape, classes ? xg::kInt64 : c.dtype, bce);
    const Tensor out = run_loss(loss, x, t, c.reduction, c.ignore_index, c.label_smoothing);
    ASSERT_EQ(out.shape(), c.output_shape);
    EXPECT_EQ(out.dtype(), c.dtype);
    expect_close(values(out), c.output, c.dtype, "loss");
    (out * make(c.grad_output, c.output_shape, c.dtype)).sum().backward();
    ASSERT_TRUE(x.grad().defined());
    EXPECT_EQ(x.grad().dtype(), c.dtype);
    expect_close(values(x.grad()), c.grad_input, c.dtype, "grad input");
    if (bce) {
      ASSERT_TRUE(t.grad().defined());
      expect_close(values(t.grad()), c.grad_target, c.dtype, "grad target");
    }
  }
}

// The mean with ignored targets and label smoothing divides by the count of the others
// (PyTorch 1.13; see nn_reference.inc): checked here from the math as well.
TEST(LossReference, SmoothedMeanDividesByTheTargetsThatCount) {
  const std::vector<double> logits = {1.0, 2.0, 0.5, -1.0, 0.0, 3.0, 2.0, 2.0, -2.0};
  const Tensor x = make(logits, {3, 3}, xg::kFloat64);
  const Tensor t = make({1, -100, 0}, {3}, xg::kInt64);
  const double s = 0.2;
  double total = 0;
  for (int row : {0, 2}) {
    const double* r = &logits[static_cast<std::size_t>(row) * 3];
    const double lse = std::log(std::exp(r[0]) + std::exp(r[1]) + std::exp(r[2]));
    const int target = row == 0 ? 1 : 0;
    const double nll = lse - r[target];
    const double smooth = 3 * lse - (r[0] + r[1] + r[2]);
    total += (1 - s) * nll + s / 3 * smooth;
  }
  const Tensor got = F::cross_entropy(x, t, Reduction::Mean, -100, s);
  EXPECT_NEAR(got.item(), total / 2, 1e-12);
}

using LossFn = std::function<Tensor(const std::vector<Tensor>&)>;

void expect_gradcheck(const LossFn& fn, const std::vector<Tensor>& inputs, const char* what) {
  const auto report = xg::autograd::gradcheck(fn, inputs);
  EXPECT_TRUE(report.ok) << what << ": " << report.message;
}

TEST(LossGradcheck, EveryLossInFloat64) {
  const auto f64 = [](const std::vector<double>& v, const Shape& s) {
    return make(v, s, xg::kFloat64, true);
  };
  const auto ids = [](const std::vector<double>& v, const Shape& s) {
    return make(v, s, xg::kInt64);
  };
  const Tensor x23 = f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4}, {2, 3});
  const Tensor y23 = f64({1.0, 0.5, -0.5, 0.2, 0.9, 0.4}, {2, 3});  // no ties with x23
  const Tensor logits =
      f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 0.0, -0.8, 0.6, 0.2, -2.1}, {4, 3});
  const Tensor logits3 =
      f64({0.3, -1.2, 2.0, 0.7, 0.1, -0.4, 1.5, 0.0, -0.8, 0.6, 0.2, -2.1}, {2, 3, 2});
  const Tensor targets = ids({2, 0, 1, 1}, {4});
  const Tensor targets_ignored = ids({2, -100, 1, 0}, {4});
  const Tensor targets3 = ids({1, 2, 0, 0}, {2, 2});
  const Tensor probs = f64({0.0, 1.0, 0.3, 1.0, 0.8, 0.1}, {2, 3});
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    SCOPED_TRACE(reduction_name(r));
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::mse_loss(in[0], in[1], r); },
                     {x23, y23}, "mse_loss");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::l1_loss(in[0], in[1], r); },
                     {x23, y23}, "l1_loss");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], targets, r); },
                     {logits}, "nll_loss");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::nll_loss(xg::log_softmax(in[0], 1), targets_ignored, r);
        },
        {logits}, "nll_loss(log_softmax) ignore_index");
    expect_gradcheck([&](const std::vector<Tensor>& in) { return F::nll_loss(in[0], targets3, r); },
                     {logits3}, "nll_loss [N, C, d]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets, r); },
        {logits}, "cross_entropy");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], xg::scalar_tensor(2, xg::kInt64), r);
        },
        {f64({0.5, -0.25, 1.0, 2.0}, {4})}, "cross_entropy [C]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets3, r); },
        {logits3}, "cross_entropy [N, C, d]");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets_ignored, r, -100, 0.0);
        },
        {logits}, "cross_entropy ignore_index");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets, r, -100, 0.1);
        },
        {logits}, "cross_entropy label_smoothing");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::cross_entropy(in[0], targets_ignored, r, -100, 0.25);
        },
        {logits}, "cross_entropy label_smoothing + ignore_index");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return F::cross_entropy(in[0], targets3, r, 2, 0.3); },
        {logits3}, "cross_entropy [N, C, d] label_smoothing + ignore_index 2");
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) {
          return F::binary_cross_entropy_with_logits(in[0], in[1], r);
        },
        {x23, probs}, "binary_cross_entropy_with_logits (input and target)");
  }
}

TEST(LossStability, ExtremeLogitsGiveFiniteValuesAndGradients) {
  const double log2 = std::log(2.0);
  for (Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dtype)));
    const double tol = dtype == xg::kFloat32 ? 4e-3 : 1e-9;
    // cross_entropy
    {
      const Tensor x = make({1e4, -1e4, 0, -1e4, 1e4, 1e4}, {2, 3}, dtype, true);
      const Tensor t = make({1, 0}, {2}, xg::kInt64);
      const Tensor loss = F::cross_entropy(x, t);
      // row 0: lse = 1e4, -x[1] = 1e4; row 1: lse = 1e4 + log 2, -x[0] = 1e4.
      EXPECT_NEAR(loss.item(), (2e4 + 2e4 + log2) / 2, tol);
      loss.backward();
      ASSERT_TRUE(all_finite(x.grad()));
      expect_close(values(x.grad()), {0.5, -0.5, 0, -0.5, 0.25, 0.25}, xg::kFloat32, "grad");
      for (Reduction r : {Reduction::Sum, Reduction::None}) {
        const Tensor x2 = make({1e4, -1e4, 0, -1e4, 1e4, 1e4}, {2, 3}, dtype, true);
        const Tensor l2 = F::cross_entropy(x2, t, r, -100, 0.1);
        EXPECT_TRUE(all_finite(l2));
        l2.sum().backward();
        EXPECT_TRUE(all_finite(x2.grad()));
      }
      const Tensor x3 = make({-1e4, 1e4, 1e4}, {3}, dtype, true);
      const Tensor l3 = F::cross_entropy(x3, xg::scalar_tensor(0, xg::kInt64));
      EXPECT_NEAR(l3.item(), 2e4 + log2, tol);
      l3.backward();
      EXPECT_TRUE(all_finite(x3.grad()));
    }
    // binary_cross_entropy_with_logits
    {
      const Tensor x = make({1e4, -1e4, 1e4, -1e4}, {4}, dtype, true);
      const Tensor t = make({1, 0, 0, 1}, {4}, dtype, true);
      const Tensor loss = F::binary_cross_entropy_with_logits(x, t);
      EXPECT_NEAR(loss.item(), (0 + 0 + 1e4 + 1e4) / 4, tol);
      loss.backward();
      ASSERT_TRUE(all_finite(x.grad()));
      ASSERT_TRUE(all_finite(t.grad()));
      expect_close(values(x.grad()), {0, 0, 0.25, -0.25}, xg::kFloat32, "grad input");
      expect_close(values(t.grad()), {-2500, 2500, -2500, 2500}, xg::kFloat32, "grad target");
    }
    // the softmax family and sigmoid
    {
      const Tensor x = make({1e4, -1e4, 0}, {3}, dtype, true);
      const Tensor ls = xg::log_softmax(x, 0);
      expect_close(values(ls), {0, -2e4, -1e4}, xg::kFloat32, "log_softmax");
      (ls * make({1, 2, 3}, {3}, dtype)).sum().backward();
      ASSERT_TRUE(all_finite(x.grad()));
      // d/dx sum(w * log_softmax(x)) = w - softmax(x) sum(w) = [1 - 6, 2, 3]
      expect_close(values(x.grad()), {-5, 2, 3}, xg::kFloat32, "log_softmax grad");

      const Tensor y = make({1e4, -1e4, 0}, {3}, dtype, true);
      const Tensor sm = xg::softmax(y, 0);
      expect_close(values(sm), {1, 0, 0}, xg::kFloat32, "softmax");
      (sm * make({1, 2, 3}, {3}, dtype)).sum().backward();
      EXPECT_TRUE(all_finite(y.grad()));

      const Tensor z = make({1e4, 1e4, -1e4}, {3}, dtype, true);
      const Tensor lse = xg::logsumexp(z, {0});
      EXPECT_NEAR(lse.item(), 1e4 + log2, tol);
      lse.backward();
      ASSERT_TRUE(all_finite(z.grad()));
      // exp(x - lse) with lse rounded at 1e4 (a float32 ulp there is 1e-3): PyTorch's float32
      // gives 0.49989 too.
      const auto gz = values(z.grad());
      EXPECT_NEAR(gz[0], 0.5, dtype == xg::kFloat32 ? 1e-3 : 1e-9);
      EXPECT_NEAR(gz[1], 0.5, dtype == xg::kFloat32 ? 1e-3 : 1e-9);
      EXPECT_EQ(gz[2], 0.0);

      const Tensor s = make({1e4, -1e4}, {2}, dtype, true);
      const Tensor sg = xg::sigmoid(s);
      expect_close(values(sg), {1, 0}, xg::kFloat32, "sigmoid");
      sg.sum().backward();
      ASSERT_TRUE(all_finite(s.grad()));
      expect_close(values(s.grad()), {0, 0}, xg::kFloat32, "sigmoid grad");
    }
  }
}

TEST(LossErrors, BadTargetsThrow) {
  const Tensor x = make({0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, {2, 3});
  const Tensor good = make({0, 2}, {2}, xg::kInt64);
  for (const char* loss : {"nll_loss", "cross_entropy"}) {
    SCOPED_TRACE(loss);
    EXPECT_NO_THROW(run_loss(loss, x, good, Reduction::Mean));
    // wrong dtype
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2}), Reduction::Mean), std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2}, xg::kFloat64), Reduction::Mean),
                 std::invalid_argument);
    // wrong shape
    EXPECT_THROW(run_loss(loss, x, make({0, 2, 1}, {3}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({0, 2}, {2, 1}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, xg::scalar_tensor(1, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, make({1, 2, 3}, {3}), make({1}, {1}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);  // [C] needs a 0-d target
    EXPECT_THROW(
        run_loss(loss, xg::scalar_tensor(1.0), xg::scalar_tensor(0, xg::kInt64), Reduction::Mean),
        std::invalid_argument);
    EXPECT_THROW(run_loss(loss, make({1, 2}, {2}, xg::kInt64), xg::scalar_tensor(0, xg::kInt64),
                          Reduction::Mean),
                 std::invalid_argument);  // integer scores
    // out-of-range classes
    EXPECT_THROW(run_loss(loss, x, make({0, 3}, {2}, xg::kInt64), Reduction::Mean),
                 std::out_of_range);
    EXPECT_THROW(run_loss(loss, x, make({-1, 0}, {2}, xg::kInt64), Reduction::Sum),
                 std::out_of_range);
    EXPECT_THROW(run_loss(loss, x, make({0, -100}, {2}, xg::kInt64), Reduction::Mean, 5),
                 std::out_of_range);  // -100 is only skipped while it is the ignore_index
    EXPECT_NO_THROW(run_loss(loss, x, make({0, 5}, {2}, xg::kInt64), Reduction::Mean, 5));
  }
  for (double s : {-0.1, 1.5, -1e-12, 1 + 1e-12}) {
    SCOPED_TRACE(s);
    EXPECT_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, s), std::invalid_argument);
  }
  // NaN is no value in [0, 1] either (PyTorch 1.13 does not check it and silently applies no
  // smoothing; xgrad documents [0, 1], and a NaN here would make every loss NaN).
  EXPECT_THROW(
      F::cross_entropy(x, good, Reduction::Mean, -100, std::numeric_limits<double>::quiet_NaN()),
      std::invalid_argument);
  EXPECT_NO_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, 1.0));
  EXPECT_NO_THROW(F::cross_entropy(x, good, Reduction::Mean, -100, 0.0));
  for (const char* loss : {"mse_loss", "l1_loss", "bce_with_logits"}) {
    SCOPED_TRACE(loss);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3}, {3}), Reduction::Mean), std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3, 4, 5, 6}, {3, 2}), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, make({1, 2, 3, 4, 5, 6}, {2, 3}, xg::kInt64), Reduction::Mean),
                 std::invalid_argument);
    EXPECT_THROW(run_loss(loss, x, Tensor(), Reduction::Mean), std::invalid_argument);
  }
}

// ---------------------------------------------------------------------------------------------
// safetensors

void expect_same_tensor_values(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.shape(), b.shape()) << what;
  EXPECT_EQ(bytes_of(a), bytes_of(b)) << what;
}

xg::TensorMap sample_map() {
  xg::TensorMap m;
  m["a"] = make({1.5, -0.0, 3.25, std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::quiet_NaN(), 1e-40},
                {2, 3});
  m["b64"] = make({0.1, -2.5e300, 3.0, 4e-320}, {4}, xg::kFloat64);
  m["ids"] = make({0, -5, 0, 42}, {2, 2}, xg::kInt64);
  m["ids"].data_ptr<std::int64_t>()[2] = 9007199254740993LL;  // no double holds it
  m["scalar"] = xg::scalar_tensor(2.5);
  m["scalar_i"] = xg::scalar_tensor(-7, xg::kInt64);
  m["empty"] = xg::zeros({0, 3}, xg::kFloat64);
  m["empty1"] = xg::zeros({0}, xg::kInt64);
  m["with grad"] = make({1, 2}, {2}, xg::kFloat32, true);
  m["mask"] = xg::tensor({1, 0, 0, 1, 1}, {5}, xg::kBool);  // 5 bytes: the next data is unaligned
  m["mask0"] = xg::scalar_tensor(true, xg::kBool);
  m["mask_empty"] = xg::zeros({2, 0}, xg::kBool);
  return m;
}

TEST(SafetensorsTest, RoundTripOfAMap) {
  TempDir dir;
  const xg::TensorMap m = sample_map();
  const xg::Metadata meta = {{"format", "pt"}, {"note", "a \"quoted\" value, é"}, {"empty", ""}};
  const std::string path = dir.file("m.safetensors");
  xg::save(m, path, meta);
  xg::Metadata got_meta = {{"stale", "x"}};
  const xg::TensorMap got = xg::load(path, &got_meta);
  EXPECT_EQ(got_meta, meta);
  ASSERT_EQ(got.size(), m.size());
  for (const auto& [name, t] : m) {
    ASSERT_TRUE(got.count(name)) << name;
    expect_same_tensor_values(got.at(name), t, name);
    EXPECT_FALSE(got.at(name).requires_grad()) << name;
  }
  EXPECT_EQ(got.at("ids").data_ptr<std::int64_t>()[2], 9007199254740993LL);
  EXPECT_NO_THROW(xg::load(path));  // metadata is optional to read
  // Without metadata, and an empty map.
  xg::save(m, dir.file("n.safetensors"));
  xg::Metadata none = {{"stale", "x"}};
  EXPECT_EQ(xg::load(dir.file("n.safetensors"), &none).size(), m.size());
  EXPECT_TRUE(none.empty());
  xg::save(xg::TensorMap{}, dir.file("e.safetensors"));
  EXPECT_TRUE(xg::load(dir.file("e.safetensors")).empty());
  // The reserved name cannot name a tensor.
  EXPECT_THROW(xg::save(xg::TensorMap{{"__metadata__", xg::zeros({1})}}, dir.file("r.st")),
               std::invalid_argument);
  // Loading a missing file is an I/O error.
  EXPECT_THROW(xg::load(dir.file("missing.safetensors")), std::runtime_error);
}

TEST(SafetensorsTest, FileLayout) {
  TempDir dir;
  const xg::TensorMap m = sample_map();
  const std::string path = dir.file("m.safetensors");
  xg::save(m, path, {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  const std::uint64_t n = read_le64(bytes);
  EXPECT_EQ(n % 8, 0u) << "header length " << n;
  ASSERT_LE(8 + n, bytes.size());
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  // Padding, if any, is spaces after the JSON.
  const auto last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}');
  const auto json = nlohmann::json::parse(header);
  ASSERT_TRUE(json.is_object());
  ASSERT_TRUE(json.contains("__metadata__"));
  EXPECT_EQ(json["__metadata__"], nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(json.size(), m.size() + 1);
  const std::string data = bytes.substr(8 + n);
  std::uint64_t covered = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, t] : m) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(json.contains(name));
    const auto& e = json[name];
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e.size(), 3u);
    const char* dtype = t.dtype() == xg::kFloat32   ? "F32"
                        : t.dtype() == xg::kFloat64 ? "F64"
                        : t.dtype() == xg::kBool    ? "BOOL"
                                                    : "I64";
    EXPECT_EQ(e["dtype"], dtype);
    EXPECT_EQ(e["shape"].get<std::vector<std::int64_t>>(), t.shape());
    ASSERT_TRUE(e["data_offsets"].is_array());
    ASSERT_EQ(e["data_offsets"].size(), 2u);
    const auto begin = e["data_offsets"][0].get<std::uint64_t>();
    const auto end = e["data_offsets"][1].get<std::uint64_t>();
    const auto expected = bytes_of(t);
    ASSERT_EQ(end - begin, expected.size());
    ASSERT_LE(end, data.size());
    EXPECT_EQ(data.substr(begin, end - begin), std::string(expected.begin(), expected.end()));
    ranges.emplace_back(begin, end);
    covered += end - begin;
  }
  // The tensors tile the data buffer exactly.
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t at = 0;
  for (const auto& [b, e] : ranges) {
    EXPECT_EQ(b, at);
    at = e;
  }
  EXPECT_EQ(covered, data.size());
  // An F32 [2] tensor holding 1.0 and -2.0 is the little-endian bytes of those floats.
  xg::save(xg::TensorMap{{"x", make({1.0, -2.0}, {2})}}, dir.file("x.safetensors"));
  const std::string xb = read_bytes(dir.file("x.safetensors"));
  const std::uint64_t xn = read_le64(xb);
  EXPECT_EQ(xb.substr(8 + xn), std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
  EXPECT_EQ(xb.size(), 8 + xn + 8);
}

// A file written by hand, tensors out of name order in both the header and the data, with
// trailing spaces in the header and integers written as JSON numbers: what another writer
// (safetensors' Python package) may produce.
TEST(SafetensorsTest, LoadsAHandWrittenFile) {
  TempDir dir;
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"zeta":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},)"
      R"("alpha":{"data_offsets":[0,8],"shape":[],"dtype":"I64"},)"
      R"("mid":{"dtype":"F32","shape":[1,2],"data_offsets":[24,32]},)"
      R"("none":{"dtype":"F32","shape":[2,0],"data_offsets":[32,32]}})";
  const std::string data = raw(std::vector<std::int64_t>{-3}) +
                           raw(std::vector<double>{0.5, -8.0}) +
                           raw(std::vector<float>{2.0f, 0.25f});
  write_bytes(dir.file("h.safetensors"), st_file(header, data));
  xg::Metadata meta;
  const xg::TensorMap m = xg::load(dir.file("h.safetensors"), &meta);
  EXPECT_EQ(meta, (xg::Metadata{{"format", "pt"}}));
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m.at("alpha").dtype(), xg::kInt64);
  EXPECT_EQ(m.at("alpha").shape(), Shape{});
  EXPECT_EQ(m.at("alpha").item<std::int64_t>(), -3);
  EXPECT_EQ(m.at("zeta").dtype(), xg::kFloat64);
  EXPECT_EQ(values(m.at("zeta")), (std::vector<double>{0.5, -8.0}));
  EXPECT_EQ(m.at("mid").shape(), (Shape{1, 2}));
  EXPECT_EQ(values(m.at("mid")), (std::vector<double>{2.0, 0.25}));
  EXPECT_EQ(m.at("none").shape(), (Shape{2, 0}));
}

// BOOL is one byte per element, 0 or 1, as safetensors' Python package writes torch.bool; a
// byte other than 0 and 1 is refused, naming the element.
TEST(SafetensorsTest, BoolRoundTripAndLayout) {
  TempDir dir;
  const Tensor mask = xg::tensor({1, 0, 0, 1, 1, 1}, {2, 3}, xg::kBool);
  const std::string path = dir.file("mask.safetensors");
  xg::save(xg::TensorMap{{"a_mask", mask}, {"b", make({2.5}, {1})}, {"c_view", mask.t()}}, path);
  const std::string bytes = read_bytes(path);
  const std::uint64_t n = read_le64(bytes);
  const auto json = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(json["a_mask"]["dtype"], "BOOL");
  EXPECT_EQ(json["a_mask"]["data_offsets"], nlohmann::json({0, 6}));
  EXPECT_EQ(json["b"]["data_offsets"], nlohmann::json({6, 10}));
  EXPECT_EQ(bytes.substr(8 + n, 6), std::string("\x01\x00\x00\x01\x01\x01", 6));
  // A transposed view is written in its own row-major order.
  EXPECT_EQ(bytes.substr(8 + n + 10), std::string("\x01\x01\x00\x01\x00\x01", 6));
  const xg::TensorMap got = xg::load(path);
  EXPECT_EQ(got.at("a_mask").dtype(), xg::kBool);
  EXPECT_EQ(got.at("a_mask").shape(), (Shape{2, 3}));
  EXPECT_EQ(values(got.at("a_mask")), (std::vector<double>{1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(values(got.at("c_view")), (std::vector<double>{1, 1, 0, 1, 0, 1}));
  EXPECT_EQ(values(got.at("b")), (std::vector<double>{2.5}));
}

TEST(SafetensorsBadFile, BoolBytesOtherThanZeroOrOne) {
  TempDir dir;
  const std::string header = R"({"m":{"dtype":"BOOL","shape":[2,2],"data_offsets":[0,4]}})";
  const std::string path = dir.file("m.safetensors");
  write_bytes(path, st_file(header, std::string("\x00\x01\x01\x01", 4)));
  EXPECT_EQ(values(xg::load(path).at("m")), (std::vector<double>{0, 1, 1, 1}));
  for (const auto& [data, message] :
       {std::pair<std::string, std::string>{std::string("\x00\x01\x01\x02", 4),
                                            "BOOL element 3 is 2, not 0 or 1"},
        {std::string("\xff\x00\x00\x00", 4), "BOOL element 0 is 255, not 0 or 1"}}) {
    write_bytes(path, st_file(header, data));
    EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load(path); }),
              "load: " + path + " is not a valid safetensors file: tensor 'm': " + message);
  }
}

struct Masked : xg::nn::Module {
  Masked() : Module("Masked") {
    w = register_parameter("w", xg::randn({3, 3}));
    causal = register_buffer("causal", xg::ones({3, 3}, xg::kBool).triu(1));
  }
  Tensor w, causal;
};

TEST(SafetensorsTest, ModuleWithABoolBufferRoundTrips) {
  TempDir dir;
  xg::manual_seed(5);
  Masked a;
  const std::string path = dir.file("masked.safetensors");
  xg::save(a, path);
  Masked b;
  b.causal.zero_();
  xg::load(b, path);
  EXPECT_EQ(values(b.causal), values(a.causal));
  EXPECT_EQ(b.causal.dtype(), xg::kBool);
  // An Int64 tensor for the Bool buffer (or the reverse) is another model's state.
  xg::TensorMap state = xg::state_dict(a);
  state["causal"] = state["causal"].to(xg::kInt64);
  EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load_state_dict(b, state); }),
            "load_state_dict: 'causal' is Int64 in the state but Bool in Masked");
}

struct Buffered : xg::nn::Module {
  Buffered() : Module("Buffered") {
    net = register_module("net", std::make_shared<Net>());
    mean = register_buffer("mean", xg::randn({3}, xg::kFloat64));
    count = register_buffer("count", xg::randint(0, 1000, {2}));
  }
  std::shared_ptr<Net> net;
  Tensor mean, count;
};

TEST(SafetensorsTest, ModuleRoundTripKeepsIdentity) {
  TempDir dir;
  xg::manual_seed(31);
  auto a = std::make_shared<Buffered>();
  const std::string path = dir.file("model.safetensors");
  xg::save(a, path);  // the shared_ptr overload
  const xg::TensorMap state = xg::load(path);
  EXPECT_EQ(state.size(), 7u);
  for (const char* name : {"net.w", "net.fc1.weight", "net.fc1.bias", "net.fc2.weight",
                           "net.fc2.bias", "mean", "count"}) {
    EXPECT_TRUE(state.count(name)) << name;
  }
  xg::manual_seed(32);
  Buffered b;
  const Snapshot before_b = snapshot(b);
  ASSERT_NE(before_b, snapshot(*a));
  const std::vector<Tensor> handles = b.parameters();
  const Tensor fc1_weight = b.net->fc1->weight;
  xg::load(b, path);
  EXPECT_EQ(snapshot(b), snapshot(*a));
  const auto after = b.parameters();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    EXPECT_TRUE(same_tensor(after[i], handles[i])) << i;
    EXPECT_TRUE(handles[i].requires_grad()) << i;
    EXPECT_TRUE(handles[i].is_leaf()) << i;
  }
  EXPECT_TRUE(same_tensor(b.net->fc1->weight, fc1_weight));
  EXPECT_EQ(bytes_of(fc1_weight), bytes_of(a->net->fc1->weight));
  EXPECT_EQ(bytes_of(b.count), bytes_of(a->count));
  // The loaded module still trains: gradients reach the kept handles.
  b.net->forward(make({1, 2, 3}, {1, 3})).sum().backward();
  EXPECT_TRUE(fc1_weight.grad().defined());
  // state_dict / load_state_dict directly
  xg::manual_seed(33);
  Buffered c;
  xg::load_state_dict(c, xg::state_dict(*a));
  EXPECT_EQ(snapshot(c), snapshot(*a));
}

void train_steps(xg::nn::Module& model, xg::optim::Optimizer& opt, int steps) {
  const Tensor x = make({0.5, -1, 2, 1, 0, -0.5, 1.5, 0.25, -2, 0.75, 1, -1}, {4, 3});
  const Tensor y = make({1, -1, 0.5, 2}, {4, 1});
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    const Tensor loss = F::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
  }
}

std::shared_ptr<xg::nn::Sequential> make_mlp() {
  return std::make_shared<xg::nn::Sequential>(
      std::initializer_list<std::shared_ptr<xg::nn::Module>>{
          std::make_shared<xg::nn::Linear>(3, 8), std::make_shared<xg::nn::Tanh>(),
          std::make_shared<xg::nn::Linear>(8, 1)});
}

TEST(SafetensorsTest, TrainingResumesBitIdentically) {
  using namespace xg::optim;
  const std::vector<
      std::pair<std::string, std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>, bool)>>>
      optimizers = {
          {"AdamW",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             // the fresh one has other options: loading restores the saved ones
             return std::make_unique<AdamW>(
                 std::move(p), AdamWOptions(fresh ? 0.5 : 0.02).weight_decay(fresh ? 0.0 : 0.05));
           }},
          {"Adam amsgrad",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             return std::make_unique<Adam>(std::move(p),
                                           AdamOptions(fresh ? 0.5 : 0.03).amsgrad(true));
           }},
          {"SGD nesterov",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             return std::make_unique<SGD>(
                 std::move(p), SGDOptions(fresh ? 0.5 : 0.05).momentum(0.9).nesterov(true));
           }},
      };
  for (const auto& [name, make_opt] : optimizers) {
    SCOPED_TRACE(name);
    TempDir dir;
    xg::manual_seed(41);
    auto model = make_mlp();
    auto opt = make_opt(model->parameters(), false);
    train_steps(*model, *opt, 5);
    const std::string path = dir.file("ckpt.safetensors");
    xg::save(*model, *opt, path);
    // The same state in two files.
    xg::save(*model, dir.file("model.safetensors"));
    xg::save(*opt, dir.file("opt.safetensors"));
    train_steps(*model, *opt, 6);
    const Snapshot expected = snapshot(*model);

    xg::manual_seed(42);
    auto resumed = make_mlp();
    auto opt2 = make_opt(resumed->parameters(), true);
    train_steps(*resumed, *opt2, 2);  // some state of its own, to be replaced
    xg::load(*resumed, *opt2, path);
    train_steps(*resumed, *opt2, 6);
    EXPECT_EQ(snapshot(*resumed), expected);

    xg::manual_seed(43);
    auto resumed2 = make_mlp();
    auto opt3 = make_opt(resumed2->parameters(), true);
    xg::load(resumed2, dir.file("model.safetensors"));
    xg::load(*opt3, dir.file("opt.safetensors"));
    train_steps(*resumed2, *opt3, 6);
    EXPECT_EQ(snapshot(*resumed2), expected);

    // Without the optimizer state the run differs (the check above can fail).
    xg::manual_seed(44);
    auto fresh = make_mlp();
    auto opt4 = make_opt(fresh->parameters(), false);
    xg::load(fresh, dir.file("model.safetensors"));
    train_steps(*fresh, *opt4, 6);
    EXPECT_NE(snapshot(*fresh), expected);
  }
}

// A checkpoint whose optimizer part does not fit changes neither the model nor the optimizer.
TEST(SafetensorsTest, BadOptimizerPartOfACheckpointChangesNothing) {
  TempDir dir;
  xg::manual_seed(51);
  auto model = make_mlp();
  xg::optim::Adam opt(model->parameters(), xg::optim::AdamOptions(0.01));
  train_steps(*model, opt, 3);
  const std::string path = dir.file("ckpt.safetensors");
  xg::save(*model, opt, path);
  xg::Metadata meta;
  xg::TensorMap all = xg::load(path, &meta);
  std::string changed;
  for (auto& [name, t] : all) {
    if (name.rfind("optimizer.state.", 0) == 0 && t.dim() == 2) {
      t = xg::zeros({t.size(0) + 1, t.size(1)});  // a moment of the wrong shape
      changed = name;
      break;
    }
  }
  ASSERT_FALSE(changed.empty()) << "no 2-D optimizer state in the checkpoint";
  xg::save(all, dir.file("bad.safetensors"), meta);

  xg::manual_seed(52);
  auto target = make_mlp();
  xg::optim::Adam target_opt(target->parameters(), xg::optim::AdamOptions(0.01));
  train_steps(*target, target_opt, 2);
  const Snapshot before = snapshot(*target);
  const auto opt_before = target_opt.state_dict();
  EXPECT_THROW(xg::load(*target, target_opt, dir.file("bad.safetensors")), std::invalid_argument);
  EXPECT_EQ(snapshot(*target), before);
  const auto opt_after = target_opt.state_dict();
  ASSERT_EQ(opt_after.tensors.size(), opt_before.tensors.size());
  for (const auto& [name, t] : opt_before.tensors) {
    ASSERT_TRUE(opt_after.tensors.count(name)) << name;
    expect_same_tensor_values(opt_after.tensors.at(name), t, name);
  }
  // A checkpoint entry that is neither model. nor optimizer.
  all = xg::load(path, &meta);
  all["stray"] = xg::zeros({1});
  xg::save(all, dir.file("stray.safetensors"), meta);
  EXPECT_THROW(xg::load(*target, target_opt, dir.file("stray.safetensors")), std::invalid_argument);
  EXPECT_EQ(snapshot(*target), before);
}

// ---- hand-made bad files ----

// The target of every bad file: weight F32 [2, 2] and bias F32 [2].
const std::string kWeight = R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
const std::string kBias = R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})";
const std::string kData = raw(std::vector<float>{10, 20, 30, 40, 50, 60});

std::string with_bias(const std::string& bias_entry, const std::string& data = kData) {
  return st_file("{" + kWeight + "," + bias_entry + "}", data);
}

struct BadFile {
  std::string what;
  std::string bytes;
  Keywords keywords;
  bool format_error = true;  // false: a valid file that does not fit the module
};

std::vector<BadFile> bad_files() {
  const std::string b = R"("bias":)";
  std::vector<BadFile> v;
  v.push_back({"empty file", "", {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  v.push_back({"3 bytes",
               std::string("\x10\x00\x00", 3),
               {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  v.push_back({"7 bytes",
               std::string(7, '\0'),
               {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  {
    std::string f = with_bias(kBias);
    v.push_back({"header length past the end", le64(1000) + f.substr(8), {{"header"}}});
    const std::uint64_t n = read_le64(f);
    v.push_back(
        {"header length one past the end", le64(n + kData.size() + 1) + f.substr(8), {{"header"}}});
  }
  v.push_back({"header length 0", le64(0), {{"header", "json"}}});
  v.push_back({"header not JSON", st_file("{not json at all}", ""), {{"json"}}});
  v.push_back({"header not JSON (text)", st_file("hello world", ""), {{"json"}}});
  v.push_back({"header truncated JSON", st_file("{" + kWeight + "," + kBias, kData), {{"json"}}});
  v.push_back({"header a JSON array", st_file("[1, 2, 3]", ""), {{"object"}}});
  v.push_back({"header a JSON string", st_file("\"weight\"", ""), {{"object"}}});
  v.push_back({"header a JSON number", st_file("42", ""), {{"object"}}});
  v.push_back({"duplicate tensor name",
               st_file("{" + kWeight + "," + kWeight + "," + kBias + "}", kData),
               {{"weight"}, {"twice", "duplicate", "more than once", "repeated"}}});
  v.push_back({"entry not an object", with_bias(b + "[1,2]"), {{"bias"}}});
  v.push_back(
      {"missing dtype", with_bias(b + R"({"shape":[2],"data_offsets":[16,24]})"), {{"dtype"}}});
  v.push_back(
      {"missing shape", with_bias(b + R"({"dtype":"F32","data_offsets":[16,24]})"), {{"shape"}}});
  v.push_back({"missing data_offsets",
               with_bias(b + R"({"dtype":"F32","shape":[2]})"),
               {{"data_offsets"}}});
  v.push_back({"extra key",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,24],"extra":1})"),
               {{"bias"}, {"extra", "exactly", "unexpected", "unknown"}}});
  v.push_back({"unsupported dtype F16",
               with_bias(b + R"({"dtype":"F16","shape":[4],"data_offsets":[16,24]})"),
               {{"F16"}}});
  v.push_back({"unsupported dtype I32",
               with_bias(b + R"({"dtype":"I32","shape":[2],"data_offsets":[16,24]})"),
               {{"I32"}}});
  v.push_back({"lowercase dtype",
               with_bias(b + R"({"dtype":"f32","shape":[2],"data_offsets":[16,24]})"),
               {{"dtype"}}});
  v.push_back({"dtype not a string",
               with_bias(b + R"({"dtype":4,"shape":[2],"data_offsets":[16,24]})"),
               {{"dtype"}}});
  v.push_back({"BOOL byte other than 0 and 1",
               st_file("{" + kWeight + "," + kBias +
                           R"(,"m":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]}})",
                       kData + std::string("\x01\x00\x02", 3)),
               {{"BOOL"}, {"element 2 is 2"}}});
  v.push_back({"negative shape",
               with_bias(b + R"({"dtype":"F32","shape":[-2],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"negative shape with a negative partner",
               with_bias(b + R"({"dtype":"F32","shape":[-1,-2],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"non-integer shape",
               with_bias(b + R"({"dtype":"F32","shape":[2.0],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape of strings",
               with_bias(b + R"({"dtype":"F32","shape":["2"],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape not an array",
               with_bias(b + R"({"dtype":"F32","shape":2,"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape overflowing",
               with_bias(b + R"({"dtype":"F32","shape":[4611686018427387904,4611686018427387904],)"
                             R"("data_offsets":[16,24]})"),
               {{"shape", "large", "overflow"}}});
  v.push_back({"data_offsets one integer",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets three integers",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,24,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets not integers",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16.0,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets negative",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[-8,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets not an array",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":"16,24"})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets reversed",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[24,16]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets too long for the shape",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,28]})",
                         kData + std::string(4, '\0')),
               {{"data_offsets"}}});
  v.push_back({"data_offsets too short for the dtype",
               with_bias(b + R"({"dtype":"F64","shape":[2],"data_offsets":[16,24]})"),
               {{"data_offsets"}}});
  v.push_back({"gap between tensors",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[20,28]})",
                         kData + std::string(4, '\0')),
               {{"gap"}}});
  v.push_back({"gap at the start",
               st_file(R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
                       R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})",
                       kData + std::string(8, '\0')),
               {{"gap"}}});
  v.push_back(
      {"overlapping tensors",
       with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[12,20]})", kData.substr(0, 20)),
       {{"overlap"}}});
  v.push_back(
      {"the same bytes twice",
       with_bias(b + R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})", kData.substr(0, 16)),
       {{"overlap"}}});
  v.push_back({"data longer than the tensors",
               with_bias(kBias, kData + std::string(8, '\x7f')),
               {{"32", "trailing", "longer", "unused", "left over", "8 bytes"}}});
  v.push_back({"data shorter than the tensors",
               with_bias(kBias, kData.substr(0, 20)),
               {{"20", "short", "truncated", "past the end", "beyond"}}});
  v.push_back({"__metadata__ an array",
               st_file(R"({"__metadata__":["a"],)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ a string",
               st_file(R"({"__metadata__":"x",)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ with a number",
               st_file(R"({"__metadata__":{"a":"b","n":1},)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ with an object",
               st_file(R"({"__metadata__":{"a":{"b":"c"}},)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  // Valid files that do not fit the module.
  v.push_back(
      {"missing name", st_file("{" + kWeight + "}", kData.substr(0, 16)), {{"bias"}}, false});
  v.push_back({"unexpected name",
               st_file("{" + kWeight + "," + kBias +
                           R"(,"extra":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}})",
                       kData + raw(std::vector<float>{70})),
               {{"extra"}},
               false});
  v.push_back(
      {"shape differs (same count)",
       st_file(R"({"weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)" + kBias + "}",
               kData),
       {{"weight"}},
       false});
  v.push_back({"shape differs (transposed count)",
               st_file(R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                       R"("bias":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}})",
                       kData + raw(std::vector<float>{70})),
               {{"bias"}},
               false});
  v.push_back({"BOOL bias for a Float32 one",
               with_bias(R"("bias":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]})",
                         kData.substr(0, 16) + std::string("\x01\x00", 2)),
               {{"bias"}, {"Bool"}},
               false});
  v.push_back(
      {"shape differs (0-d)",
       st_file("{" + kWeight + R"(,"bias":{"dtype":"F32","shape":[],"data_offsets":[16,20]}})",
               kData.substr(0, 20)),
       {{"bias"}},
       false});
  return v;
}

TEST(SafetensorsBadFile, TheBaseFileIsValid) {
  // Every bad file below is this one with one thing broken.
  TempDir dir;
  write_bytes(dir.file("base"), with_bias(kBias));
  xg::nn::Linear lin(2, 2);
  xg::load(lin, dir.file("base"));
  EXPECT_EQ(values(lin.weight), (std::vector<double>{10, 20, 30, 40}));
  EXPECT_EQ(values(lin.bias), (std::vector<double>{50, 60}));
}

TEST(SafetensorsBadFile, EachRuleThrowsWithTheReasonAndChangesNothing) {
  TempDir dir;
  const auto cases = bad_files();
  ASSERT_GE(cases.size(), 40u);
  int k = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.file("case" + std::to_string(k++));
    write_bytes(path, c.bytes);
    xg::manual_seed(61);
    xg::nn::Linear lin(2, 2);
    const Snapshot before = snapshot(lin);
    const Tensor weight = lin.weight;
    const std::string message = message_of<std::invalid_argument>([&] { xg::load(lin, path); });
    expect_mentions(message, c.keywords);
    EXPECT_EQ(snapshot(lin), before);
    EXPECT_TRUE(same_tensor(lin.weight, weight));
    if (c.format_error) {
      const std::string m2 = message_of<std::invalid_argument>([&] { xg::load(path); });
      expect_mentions(m2, c.keywords);
    } else {
      EXPECT_NO_THROW(xg::load(path));
    }
    EXPECT_EQ(read_bytes(path), c.bytes);  // loading never writes
  }
}

TEST(SafetensorsBadFile, HugeHeaderLengthIsRefusedWithoutAllocating) {
  TempDir dir;
  const std::string path = dir.file("huge");
  const std::string f = with_bias(kBias);
  write_bytes(path, le64(std::uint64_t{1} << 60) + f.substr(8));
  xg::nn::Linear lin(2, 2);
  const Snapshot before = snapshot(lin);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = message_of<std::invalid_argument>([&] { xg::load(lin, path); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);
  expect_mentions(message, {{"header"}});
  EXPECT_EQ(snapshot(lin), before);
  // The largest length, and one that overflows 8 + length.
  write_bytes(path, le64(~std::uint64_t{0}) + f.substr(8));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
  write_bytes(path, le64(~std::uint64_t{0} - 7) + f.substr(8));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
}

// A shape whose elements multiply to 0 may still hold a size that is no valid int64.
TEST(SafetensorsBadFile, ShapeSizeBeyondInt64) {
  TempDir dir;
  const std::string path = dir.file("big");
  write_bytes(
      path,
      st_file(R"({"z":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}})", ""));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
}

TEST(SafetensorsSave, FailureLeavesTheEarlierFileAndNoTemporaries) {
  TempDir dir;
  xg::manual_seed(71);
  xg::nn::Linear lin(3, 2);
  const std::string good = dir.file("good.safetensors");
  xg::save(lin, good);
  const std::string good_bytes = read_bytes(good);
  const auto listing = dir.listing();
  ASSERT_EQ(listing, std::vector<std::string>{"good.safetensors"});

  // The parent is a file: nothing can be created.
  std::string message =
      message_of<std::runtime_error>([&] { xg::save(lin, good + "/inner.safetensors"); });
  EXPECT_FALSE(message.empty());
  // The parent does not exist.
  message_of<std::runtime_error>([&] { xg::save(lin, dir.file("missing/x.safetensors")); });
  EXPECT_EQ(dir.listing(), listing);
  EXPECT_EQ(read_bytes(good), good_bytes);

  // The target is a non-empty directory: the temporary file is written, the rename fails.
  fs::create_directory(dir.path() / "occupied");
  write_bytes(dir.file("occupied/keep"), "keep");
  message_of<std::runtime_error>([&] { xg::save(lin, dir.file("occupied")); });
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"good.safetensors", "occupied"}));
  EXPECT_EQ(read_bytes(dir.file("occupied/keep")), "keep");
  EXPECT_TRUE(fs::is_directory(dir.path() / "occupied"));

  // A successful save over the earlier file replaces it whole.
  xg::nn::Linear other(3, 2);
  xg::save(other, good);
  xg::nn::Linear check(3, 2);
  xg::load(check, good);
  EXPECT_EQ(snapshot(check), snapshot(other));
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"good.safetensors", "occupied"}));
}

// ---------------------------------------------------------------------------------------------
// BatchSampler

std::vector<std::int64_t> ints(const Tensor& t) {
  std::vector<std::int64_t> out;
  for (double v : values(t)) out.push_back(static_cast<std::int64_t>(v));
  return out;
}

std::vector<std::int64_t> concat(const std::vector<Tensor>& batches) {
  std::vector<std::int64_t> out;
  for (const auto& b : batches) {
    const auto v = ints(b);
    out.insert(out.end(), v.begin(), v.end());
  }
  return out;
}

TEST(BatchSamplerTest, EveryIndexOncePerEpoch) {
  xg::nn::BatchSampler s(103, 10, true, 7);
  EXPECT_EQ(s.batches_per_epoch(), 11);
  std::vector<std::int64_t> previous;
  for (int epoch = 1; epoch <= 3; ++epoch) {
    SCOPED_TRACE(epoch);
    const auto batches = s.take(1.0);
    ASSERT_EQ(batches.size(), 11u);
    for (std::size_t i = 0; i < batches.size(); ++i) {
      EXPECT_EQ(batches[i].dtype(), xg::kInt64);
      EXPECT_EQ(batches[i].dim(), 1);
      EXPECT_EQ(batches[i].numel(), i + 1 < batches.size() ? 10 : 3) << i;
    }
    const auto order = concat(batches);
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> all(103);
    std::iota(all.begin(), all.end(), 0);
    EXPECT_EQ(sorted, all);
    EXPECT_NE(order, all);       // shuffled
    EXPECT_NE(order, previous);  // reshuffled each epoch
    previous = order;
    EXPECT_EQ(s.epoch(), epoch);
  }
}

TEST(BatchSamplerTest, DropLast) {
  xg::nn::BatchSampler s(103, 10, true, 7, /*drop_last=*/true);
  EXPECT_EQ(s.batches_per_epoch(), 10);
  for (int epoch = 1; epoch <= 2; ++epoch) {
    const auto batches = s.take(1.0);
    ASSERT_EQ(batches.size(), 10u);
    for (const auto& b : batches) EXPECT_EQ(b.numel(), 10);
    auto order = concat(batches);
    std::sort(order.begin(), order.end());
    EXPECT_EQ(std::adjacent_find(order.begin(), order.end()), order.end());  // no repeats
    EXPECT_EQ(order.size(), 100u);
    EXPECT_GE(order.front(), 0);
    EXPECT_LT(order.back(), 103);
    EXPECT_EQ(s.epoch(), epoch);
  }
  xg::nn::BatchSampler exact(100, 10, false, 0, true);
  EXPECT_EQ(exact.batches_per_epoch(), 10);
}

TEST(BatchSamplerTest, NoShuffleIsInOrder) {
  xg::nn::BatchSampler s(7, 3, /*shuffle=*/false);
  EXPECT_EQ(s.batches_per_epoch(), 3);
  for (int epoch = 0; epoch < 2; ++epoch) {
    EXPECT_EQ(ints(s.next()), (std::vector<std::int64_t>{0, 1, 2}));
    EXPECT_EQ(ints(s.next()), (std::vector<std::int64_t>{3, 4, 5}));
    EXPECT_EQ(ints(s.next()), (std::vector<std::int64_t>{6}));
  }
  xg::nn::BatchSampler one(5, 8, false);  // a batch larger than the data: one batch of all
  EXPECT_EQ(one.batches_per_epoch(), 1);
  EXPECT_EQ(ints(one.next()), (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
}

TEST(BatchSamplerTest, SeededAndReproducible) {
  xg::nn::BatchSampler a(50, 8, true, 123), b(50, 8, true, 123), c(50, 8, true, 124);
  const auto ra = concat(a.take(3.0)), rb = concat(b.take(3.0)), rc = concat(c.take(3.0));
  EXPECT_EQ(ra, rb);
  EXPECT_NE(ra, rc);
  EXPECT_EQ(ra.size(), 150u);
}

TEST(BatchSamplerTest, FractionalEpochs) {
  xg::nn::BatchSampler s(100, 10, true, 3);
  const auto batches = s.take(2.5);
  ASSERT_EQ(batches.size(), 25u);  // round(2.5 * 10)
  EXPECT_EQ(s.epoch(), 3);
  const auto order = concat(batches);
  for (int e = 0; e < 2; ++e) {
    std::vector<std::int64_t> epoch(order.begin() + e * 100, order.begin() + (e + 1) * 100);
    std::sort(epoch.begin(), epoch.end());
    for (std::int64_t i = 0; i < 100; ++i) EXPECT_EQ(epoch[static_cast<std::size_t>(i)], i);
  }
  std::vector<std::int64_t> half(order.begin() + 200, order.end());
  std::sort(half.begin(), half.end());
  EXPECT_EQ(std::adjacent_find(half.begin(), half.end()), half.end());
  // The next half epoch finishes the third one.
  const auto rest = concat(s.take(0.5));
  ASSERT_EQ(rest.size(), 50u);
  std::vector<std::int64_t> third(order.begin() + 200, order.end());
  third.insert(third.end(), rest.begin(), rest.end());
  std::sort(third.begin(), third.end());
  for (std::int64_t i = 0; i < 100; ++i) EXPECT_EQ(third[static_cast<std::size_t>(i)], i);
  EXPECT_EQ(s.epoch(), 3);

  xg::nn::BatchSampler t(40, 10, false);
  EXPECT_EQ(t.take(0.5).size(), 2u);   // round(0.5 * 4)
  EXPECT_EQ(t.take(0.74).size(), 3u);  // round(2.96)
  EXPECT_TRUE(t.take(0.0).empty());
  xg::nn::BatchSampler u(30, 4, false);  // 8 batches per epoch
  EXPECT_EQ(u.take(2.5).size(), 20u);
}

TEST(BatchSamplerTest, InvalidArgumentsThrow) {
  using xg::nn::BatchSampler;
  EXPECT_THROW(BatchSampler(0, 4), std::invalid_argument);
  EXPECT_THROW(BatchSampler(-3, 4), std::invalid_argument);
  EXPECT_THROW(BatchSampler(10, 0), std::invalid_argument);
  EXPECT_THROW(BatchSampler(10, -1), std::invalid_argument);
  EXPECT_THROW(BatchSampler(10, 11, true, 0, /*drop_last=*/true), std::invalid_argument);
  BatchSampler s(10, 3);
  EXPECT_THROW(s.take(-0.5), std::invalid_argument);
  EXPECT_THROW(s.take(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_THROW(s.take(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

}  // namespace
