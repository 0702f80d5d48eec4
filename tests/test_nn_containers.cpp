// Module containers (ModuleList, ModuleDict) and the walks over a module tree (modules,
// named_modules, apply, get_submodule, get_parameter). Expected names and orders are PyTorch's
// (torch 1.13: nn.Module.named_modules, apply, get_parameter on the same trees), written out.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

using xg::Tensor;
using xg_test::names_of;
using xg_test::same_tensor;

std::vector<std::string> first_of(
    const std::vector<std::pair<std::string, std::shared_ptr<xg::nn::Module>>>& items) {
  std::vector<std::string> out;
  for (const auto& item : items) out.push_back(item.first);
  return out;
}

TEST(ModuleListTest, AppendIndexIterateAndRegister) {
  auto a = std::make_shared<xg::nn::Linear>(2, 3);
  auto b = std::make_shared<xg::nn::ReLU>();
  auto c = std::make_shared<xg::nn::Linear>(3, 1, false);
  xg::nn::ModuleList list{a};
  EXPECT_EQ(list.name(), "ModuleList");
  list.push_back(b);
  EXPECT_EQ(&list.append(c), &list);
  ASSERT_EQ(list.size(), 3u);
  EXPECT_FALSE(list.is_empty());
  EXPECT_EQ(list[0].get(), a.get());
  EXPECT_EQ(list[2].get(), c.get());
  EXPECT_EQ(list[-1].get(), c.get());  // Python's negative index
  EXPECT_EQ(list[-3].get(), a.get());
  EXPECT_THROW(list[3], std::out_of_range);
  EXPECT_THROW(list[-4], std::out_of_range);
  std::vector<xg::nn::Module*> seen;
  for (const auto& m : list) seen.push_back(m.get());
  EXPECT_EQ(seen, (std::vector<xg::nn::Module*>{a.get(), b.get(), c.get()}));
  EXPECT_EQ(first_of(list.named_children()), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(names_of(list.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight"}));
  list.extend({std::make_shared<xg::nn::Tanh>(), std::make_shared<xg::nn::Sigmoid>()});
  EXPECT_EQ(list.size(), 5u);
  EXPECT_EQ(first_of(list.named_children()).back(), "4");
  EXPECT_THROW(list.push_back(nullptr), std::invalid_argument);
  EXPECT_EQ(list.size(), 5u);  // the refused module left the list as it was
  EXPECT_THROW(list.forward(xg::ones({2})), std::logic_error);  // no forward, as PyTorch
  EXPECT_TRUE(xg::nn::ModuleList().is_empty());
}

TEST(ModuleDictTest, InsertionOrderLookupAndReplacement) {
  auto relu = std::make_shared<xg::nn::ReLU>();
  auto lin = std::make_shared<xg::nn::Linear>(2, 2);
  xg::nn::ModuleDict dict{{"act", relu}, {"proj", lin}};
  dict.insert("norm", std::make_shared<xg::nn::LayerNorm>(2));
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"act", "proj", "norm"}));
  EXPECT_EQ(dict.size(), 3u);
  EXPECT_TRUE(dict.contains("proj"));
  EXPECT_FALSE(dict.contains("missing"));
  EXPECT_EQ(dict["proj"].get(), lin.get());
  EXPECT_THROW(dict["missing"], std::out_of_range);
  EXPECT_EQ(names_of(dict.named_parameters()),
            (std::vector<std::string>{"proj.weight", "proj.bias", "norm.weight", "norm.bias"}));
  // d["act"] = GELU(): same position, new module, as PyTorch.
  auto gelu = std::make_shared<xg::nn::GELU>();
  dict.insert("act", gelu);
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"act", "proj", "norm"}));
  EXPECT_EQ(dict["act"].get(), gelu.get());
  EXPECT_EQ(dict.named_children()[0].second.get(), gelu.get());
  ASSERT_EQ(dict.values().size(), 3u);
  std::vector<std::string> keys;
  for (const auto& [key, module] : dict) keys.push_back(key);
  EXPECT_EQ(keys, dict.keys());
  EXPECT_THROW(dict.insert("a.b", relu), std::invalid_argument);
  EXPECT_THROW(dict.insert("proj", nullptr), std::invalid_argument);
  EXPECT_EQ(dict["proj"].get(), lin.get());  // unchanged by the refusal
  EXPECT_EQ(dict.size(), 3u);
}

// The tree of the PyTorch check: m.a = Sequential(shared, ReLU()), m.b = shared,
// m.c = ModuleList([Tanh(), shared]).
struct SharedTree {
  std::shared_ptr<xg::nn::Module> root = std::make_shared<xg::nn::Module>("Root");
  std::shared_ptr<xg::nn::Linear> shared = std::make_shared<xg::nn::Linear>(2, 2);
  SharedTree() {
    root->register_module("a", std::make_shared<xg::nn::Sequential>(
                                   std::initializer_list<std::shared_ptr<xg::nn::Module>>{
                                       shared, std::make_shared<xg::nn::ReLU>()}));
    root->register_module("b", shared);
    root->register_module("c", std::make_shared<xg::nn::ModuleList>(
                                   std::initializer_list<std::shared_ptr<xg::nn::Module>>{
                                       std::make_shared<xg::nn::Tanh>(), shared}));
  }
};

TEST(ModuleTraversalTest, NamedModulesSelfFirstDepthFirstOnce) {
  SharedTree t;
  const auto named = t.root->named_modules();
  // PyTorch: ['', 'a', 'a.0', 'a.1', 'c', 'c.0'] ('b' and 'c.1' are the module seen at 'a.0').
  EXPECT_EQ(first_of(named), (std::vector<std::string>{"", "a", "a.0", "a.1", "c", "c.0"}));
  EXPECT_EQ(named[0].second.get(), t.root.get());
  EXPECT_EQ(named[2].second.get(), t.shared.get());
  EXPECT_EQ(
      first_of(t.root->named_modules("root")),
      (std::vector<std::string>{"root", "root.a", "root.a.0", "root.a.1", "root.c", "root.c.0"}));
  EXPECT_EQ(first_of(t.root->named_modules("", false)),
            (std::vector<std::string>{"a", "a.0", "a.1", "c", "c.0"}));
  const auto all = t.root->modules();
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[0].get(), t.root.get());
  EXPECT_EQ(t.root->modules(false).size(), 5u);
  // Parameters of the shared module once, under their first name (PyTorch: a.0.weight, a.0.bias).
  EXPECT_EQ(names_of(t.root->named_parameters()),
            (std::vector<std::string>{"a.0.weight", "a.0.bias"}));
  EXPECT_EQ(t.root->parameters().size(), 2u);
  // Every path with remove_duplicate = false, as state_dict.
  EXPECT_EQ(names_of(t.root->named_parameters(true, false)),
            (std::vector<std::string>{"a.0.weight", "a.0.bias", "b.weight", "b.bias", "c.1.weight",
                                      "c.1.bias"}));
}

TEST(ModuleTraversalTest, AModuleOnTheStackListsItselfWithoutOwning) {
  xg_test::Net net;
  const auto named = net.named_modules();
  EXPECT_EQ(first_of(named), (std::vector<std::string>{"", "fc1", "fc2"}));
  EXPECT_EQ(named[0].second.get(), &net);
  EXPECT_EQ(named[0].second.use_count(), 0);  // does not own the stack module
}

TEST(ModuleTraversalTest, ApplyVisitsChildrenFirstThenSelf) {
  SharedTree t;
  std::vector<std::string> order;
  xg::nn::Module& returned = t.root->apply([&](xg::nn::Module& m) { order.push_back(m.name()); });
  EXPECT_EQ(&returned, t.root.get());
  // PyTorch: every path visited, the shared Linear three times.
  EXPECT_EQ(order, (std::vector<std::string>{"Linear", "ReLU", "Sequential", "Linear", "Tanh",
                                             "Linear", "ModuleList", "Root"}));
  // A typical use: re-initializing every Linear.
  t.root->apply([](xg::nn::Module& m) {
    if (auto* lin = dynamic_cast<xg::nn::Linear*>(&m)) xg::nn::init::zeros_(lin->weight);
  });
  for (double v : xg_test::values(t.shared->weight)) EXPECT_EQ(v, 0.0);
}

TEST(ModuleTraversalTest, GetSubmoduleAndGetParameter) {
  SharedTree t;
  EXPECT_TRUE(same_tensor(t.root->get_parameter("a.0.weight"), t.shared->weight));
  EXPECT_TRUE(same_tensor(t.root->get_parameter("c.1.bias"), t.shared->bias));
  EXPECT_EQ(t.root->get_submodule("c.0")->name(), "Tanh");
  EXPECT_EQ(t.root->get_submodule("").get(), t.root.get());
  xg_test::Net net;
  EXPECT_TRUE(same_tensor(net.get_parameter("w"), net.w));
  EXPECT_TRUE(same_tensor(net.get_parameter("fc2.bias"), net.fc2->bias));
  try {
    net.get_parameter("fc1.wieght");
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "Net.get_parameter: no parameter 'fc1.wieght': Linear has no parameter 'wieght'");
  }
  EXPECT_THROW(net.get_parameter("fc3.weight"), std::invalid_argument);
  EXPECT_THROW(net.get_parameter("fc1"), std::invalid_argument);  // a module, not a parameter
  EXPECT_THROW(net.get_parameter(""), std::invalid_argument);
  EXPECT_THROW(net.get_submodule("fc1.weight"), std::invalid_argument);
  EXPECT_THROW(t.root->get_submodule("a..0"), std::invalid_argument);
}

}  // namespace
