// The nn layer's Module: registration, recursive named parameters and buffers with dotted
// names, train/eval, zero_grad and to(dtype). Expected values come from PyTorch or from the math,
// never from xgrad itself.
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

using xg::Shape;
using xg::Tensor;
using xg_test::make;
using xg_test::names_of;
using xg_test::Net;
using xg_test::same_tensor;
using xg_test::values;

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
  EXPECT_THROW(m.register_buffer("b", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("b", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("c", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_module("c", std::make_shared<xg::nn::ReLU>()), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("a.b", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_parameter("", xg::zeros({1})), std::invalid_argument);
  EXPECT_THROW(m.register_module("x.y", std::make_shared<xg::nn::ReLU>()), std::invalid_argument);
  EXPECT_EQ(m.parameters().size(), 1u);
  EXPECT_EQ(m.buffers().size(), 1u);
  // A parameter's name again replaces its tensor in place, as PyTorch's register_parameter.
  const Tensor q = xg::ones({2});
  m.register_parameter("p", q);
  ASSERT_EQ(m.parameters().size(), 1u);
  EXPECT_TRUE(same_tensor(m.parameters()[0], q));
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

}  // namespace
