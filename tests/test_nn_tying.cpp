// Weight tying by register_parameter on a registered name, as assigning a Parameter attribute in
// PyTorch (`lm_head.weight = wte.weight`): one tensor under two names. Expected names and the
// load order are PyTorch's (torch 1.13 on the same module, written out); the tied gradient is
// the sum of the two uses' gradients (the chain rule), computed here with untied copies.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"
#include "temp_files.hpp"

namespace {

namespace F = xg::nn::functional;
using xg::Tensor;
using xg_test::expect_close;
using xg_test::make;
using xg_test::names_of;
using xg_test::same_tensor;
using xg_test::values;

constexpr std::int64_t kVocab = 5, kWidth = 3;

// A GPT's ends: token embedding wte, output projection lm_head without bias, weights tied.
struct TinyLM : xg::nn::Module {
  explicit TinyLM(bool tie = true) : Module("TinyLM") {
    wte = register_module("wte", std::make_shared<xg::nn::Embedding>(kVocab, kWidth));
    lm_head = register_module("lm_head", std::make_shared<xg::nn::Linear>(kWidth, kVocab, false));
    if (tie) lm_head->register_parameter("weight", wte->weight);
  }
  Tensor forward(const Tensor& idx) override { return lm_head->forward(wte->forward(idx)); }
  std::shared_ptr<xg::nn::Embedding> wte;
  std::shared_ptr<xg::nn::Linear> lm_head;
};

const Tensor& tokens() {
  static const Tensor t = xg::tensor({0, 3, 3, 1, 4, 2}, {6}, xg::kInt64);
  return t;
}
const Tensor& targets() {
  static const Tensor t = xg::tensor({3, 3, 1, 4, 2, 0}, {6}, xg::kInt64);
  return t;
}

TEST(WeightTyingTest, OneTensorListedOnceUnderItsFirstName) {
  TinyLM m;
  EXPECT_TRUE(same_tensor(m.lm_head->weight, m.wte->weight));  // the member follows
  EXPECT_EQ(m.parameters().size(), 1u);
  EXPECT_EQ(names_of(m.named_parameters()), std::vector<std::string>{"wte.weight"});
  EXPECT_EQ(names_of(m.named_parameters(true, false)),
            (std::vector<std::string>{"wte.weight", "lm_head.weight"}));
  EXPECT_EQ(names_of(m.lm_head->named_parameters()), std::vector<std::string>{"weight"});
  const xg::TensorMap state = xg::state_dict(m);
  ASSERT_EQ(state.size(), 2u);
  EXPECT_TRUE(same_tensor(state.at("lm_head.weight"), state.at("wte.weight")));
  EXPECT_TRUE(same_tensor(m.get_parameter("lm_head.weight"), m.wte->weight));
  // forward uses the tied tensor: logits[i, v] = <wte[idx[i]], wte[v]>.
  const Tensor logits = m.forward(tokens());
  const auto e = values(m.wte->weight), l = values(logits);
  const auto idx = std::vector<std::int64_t>{0, 3, 3, 1, 4, 2};
  for (std::size_t i = 0; i < idx.size(); ++i) {
    for (std::int64_t v = 0; v < kVocab; ++v) {
      double dot = 0;
      for (std::int64_t c = 0; c < kWidth; ++c) {
        dot += e[static_cast<std::size_t>(idx[i] * kWidth + c)] *
               e[static_cast<std::size_t>(v * kWidth + c)];
      }
      EXPECT_NEAR(l[i * kVocab + static_cast<std::size_t>(v)], dot, 1e-5) << i << " " << v;
    }
  }
}

TEST(WeightTyingTest, GradientIsTheSumOfBothUses) {
  xg::manual_seed(3);
  TinyLM m;
  m.to(xg::kFloat64);
  EXPECT_TRUE(same_tensor(m.lm_head->weight, m.wte->weight));  // to() converts in place
  F::cross_entropy(m.forward(tokens()), targets()).backward();
  const auto tied = values(m.wte->weight.grad());

  // Untied copies with the same values: each use's gradient separately.
  const Tensor e = m.wte->weight.detach().clone().requires_grad_(true);
  const Tensor w = m.wte->weight.detach().clone().requires_grad_(true);
  const Tensor h = xg::index_select(e, 0, tokens());
  F::cross_entropy(F::linear(h, w), targets()).backward();
  const auto ge = values(e.grad()), gw = values(w.grad());
  std::vector<double> sum(ge.size());
  for (std::size_t i = 0; i < ge.size(); ++i) sum[i] = ge[i] + gw[i];
  expect_close(tied, sum, xg::kFloat64, "tied gradient");
  // Both uses contribute: the sum differs from either alone.
  EXPECT_NE(values(e.grad()), tied);
  EXPECT_NE(values(w.grad()), tied);
}

TEST(WeightTyingTest, AnOptimizerStepUpdatesBothUses) {
  xg::manual_seed(4);
  TinyLM m;
  xg::optim::SGD opt(m.parameters(), xg::optim::SGDOptions(0.5));
  const auto before = values(m.wte->weight);
  F::cross_entropy(m.forward(tokens()), targets()).backward();
  const auto grad = values(m.wte->weight.grad());
  opt.step();
  std::vector<double> expected(before.size());
  for (std::size_t i = 0; i < before.size(); ++i) expected[i] = before[i] - 0.5 * grad[i];
  expect_close(values(m.wte->weight), expected, xg::kFloat32, "wte after step");
  expect_close(values(m.lm_head->weight), expected, xg::kFloat32, "lm_head after step");
  EXPECT_TRUE(same_tensor(m.lm_head->weight, m.wte->weight));
}

TEST(WeightTyingTest, SaveHoldsBothNamesAndLoadKeepsTheTie) {
  xg_test::TempDir dir;
  const std::string path = dir.file("tied.safetensors");
  xg::manual_seed(5);
  TinyLM saved;
  xg::save(saved, path);
  const xg::TensorMap file = xg::load(path);
  ASSERT_EQ(file.size(), 2u);
  EXPECT_EQ(values(file.at("wte.weight")), values(saved.wte->weight));
  EXPECT_EQ(values(file.at("lm_head.weight")), values(saved.wte->weight));

  xg::manual_seed(6);
  TinyLM loaded;
  ASSERT_NE(values(loaded.wte->weight), values(saved.wte->weight));
  xg::load(loaded, path);
  EXPECT_EQ(values(loaded.wte->weight), values(saved.wte->weight));
  EXPECT_TRUE(same_tensor(loaded.lm_head->weight, loaded.wte->weight));
  EXPECT_EQ(loaded.parameters().size(), 1u);

  // Entries that differ: copied in registration order, so lm_head.weight (registered last)
  // wins, as PyTorch's load_state_dict (checked with torch 1.13 in either order of the dict).
  const Tensor zeros = xg::zeros({kVocab, kWidth}), ones = xg::ones({kVocab, kWidth});
  xg::load_state_dict(loaded, {{"wte.weight", zeros}, {"lm_head.weight", ones}});
  EXPECT_EQ(values(loaded.wte->weight), values(ones));
  xg::load_state_dict(loaded, {{"lm_head.weight", zeros}, {"wte.weight", ones}});
  EXPECT_EQ(values(loaded.wte->weight), values(zeros));

  // A file without the tied name is refused, as any missing entry.
  EXPECT_THROW(xg::load_state_dict(loaded, {{"wte.weight", ones}}), std::invalid_argument);
  // An untied model loads the same file into two tensors.
  TinyLM untied(false);
  EXPECT_EQ(untied.parameters().size(), 2u);
  xg::load(untied, path);
  EXPECT_EQ(values(untied.lm_head->weight), values(saved.wte->weight));
}

TEST(WeightTyingTest, ReplacingAParameterKeepsItsPlaceAndMakesALeaf) {
  xg_test::Net net;
  net.register_parameter("w", make({1, 2}, {2}));
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"w", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(values(net.get_parameter("w")), (std::vector<double>{1, 2}));
  // A non-leaf is detached, as a new parameter would be.
  const Tensor a = make({1, 1}, {2}, xg::kFloat32, true);
  const Tensor replaced = net.register_parameter("w", a * 3);
  EXPECT_TRUE(replaced.is_leaf());
  EXPECT_TRUE(replaced.requires_grad());
  EXPECT_TRUE(same_tensor(net.get_parameter("w"), replaced));
  EXPECT_THROW(net.register_parameter("w", Tensor()), std::invalid_argument);
  EXPECT_TRUE(same_tensor(net.get_parameter("w"), replaced));  // unchanged by the refusal
}

}  // namespace
