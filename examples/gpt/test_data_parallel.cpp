// The gpt example's model trained data-parallel (CTest runs this under mpirun -np 2, and alone):
// n ranks with 6 windows each follow the trajectory of one process with all 6 n windows in one
// batch, over 20 AdamW steps with nanoGPT's settings (weight decay on the matrices, gradient
// clipping at 1). Each rank draws its windows from a generator seeded from the seed and its
// rank; the one-process reference draws the same windows from the same generators and joins
// them into one batch of 12 (on 2 ranks).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <xgrad/distributed/ddp.hpp>
#include <xgrad/distributed/distributed.hpp>
#include <xgrad/xgrad.hpp>

#include "gpt.hpp"

#ifndef GPT_TEST_DATA
#error "GPT_TEST_DATA names the Tiny Shakespeare copy"
#endif

namespace {

namespace dist = xg::distributed;
using xg::Tensor;

std::vector<double> values(const Tensor& t) {
  const Tensor d = t.detach().to(xg::kFloat64).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

Tensor shakespeare_tokens(std::int64_t count) {
  std::ifstream in(GPT_TEST_DATA, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const gpt::Vocabulary vocab = gpt::Vocabulary::of_text(text.str());
  return vocab.encode(text.str(), "data").narrow(0, 0, count);
}

xg::optim::AdamW nanogpt_adamw(gpt::GPT& model) {
  std::vector<Tensor> decay, no_decay;
  for (const Tensor& p : model.parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  const auto defaults =
      xg::optim::AdamWOptions(1e-3).betas({0.9, 0.99}).eps(1e-8).weight_decay(0.1);
  std::vector<xg::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<xg::optim::AdamWOptions>(defaults));
  groups.emplace_back(no_decay, std::make_unique<xg::optim::AdamWOptions>(
                                    xg::optim::AdamWOptions(defaults).weight_decay(0.0)));
  return xg::optim::AdamW(std::move(groups), defaults);
}

TEST(GptDataParallel, RanksOfSixWindowsTrainAsOneProcessOnAllOfThem) {
  const int rank = dist::get_rank(), n = dist::get_world_size();
  constexpr std::int64_t kBatch = 6, kSteps = 20;
  constexpr std::uint64_t kSeed = 1337;
  gpt::Config config;
  config.block_size = 16;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 32;
  const Tensor tokens = shakespeare_tokens(20000);
  config.vocab_size = 65;

  xg::manual_seed(kSeed);
  auto model = std::make_shared<gpt::GPT>(config);
  xg::manual_seed(kSeed);
  gpt::GPT whole(config);  // the one-process reference, from the same initial weights
  xg::nn::parallel::DistributedDataParallel ddp(model);
  xg::optim::AdamW optimizer = nanogpt_adamw(*model);
  xg::optim::AdamW whole_optimizer = nanogpt_adamw(whole);
  // Rank r's windows come from the generator of seed + 1 + r 2^32 (the gpt example's streams);
  // the reference holds every rank's generator.
  auto seed_of = [&](int r) { return kSeed + 1 + (static_cast<std::uint64_t>(r) << 32); };
  xg::Generator mine(seed_of(rank));
  std::vector<xg::Generator> every;
  for (int r = 0; r < n; ++r) every.emplace_back(seed_of(r));

  for (std::int64_t step = 0; step < kSteps; ++step) {
    const auto [x, y] = xg::nn::random_windows(tokens, kBatch, config.block_size, mine);
    optimizer.zero_grad();
    gpt::lm_loss(ddp.forward(x), y).backward();
    xg::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
    optimizer.step();

    std::vector<Tensor> xs, ys;
    for (xg::Generator& g : every) {
      const auto [xr, yr] = xg::nn::random_windows(tokens, kBatch, config.block_size, g);
      xs.push_back(xr);
      ys.push_back(yr);
    }
    const Tensor x_all = xg::cat(xs, 0), y_all = xg::cat(ys, 0);
    ASSERT_EQ(x_all.size(0), kBatch * n);
    whole_optimizer.zero_grad();
    gpt::lm_loss(whole.forward(x_all), y_all).backward();
    xg::nn::utils::clip_grad_norm_(whole.parameters(), 1.0);
    whole_optimizer.step();
  }
  // The parameters moved (AdamW moves each by at most about lr = 1e-3 a step, 0.02 over the 20
  // steps) and agree with the reference within float32 rounding: the two sum the windows' losses
  // in another order, and AdamW's m / sqrt(v) magnifies such differences where a gradient is
  // near zero, so the bound is 0.1% of the largest possible move, 2e-5 (a rank stepping on its
  // own gradient, or on other windows, differs by about lr from the first step on). Every rank
  // holds the same values.
  constexpr double kTolerance = 1e-3 * kSteps * 1e-3;
  double largest_move = 0, largest_difference = 0;
  xg::manual_seed(kSeed);
  const gpt::GPT start(config);
  for (std::size_t i = 0; i < whole.parameters().size(); ++i) {
    const std::vector<double> got = values(model->parameters()[i]);
    const std::vector<double> expected = values(whole.parameters()[i]);
    const std::vector<double> initial = values(start.parameters()[i]);
    for (std::size_t j = 0; j < got.size(); ++j) {
      largest_move = std::max(largest_move, std::abs(expected[j] - initial[j]));
      largest_difference = std::max(largest_difference, std::abs(got[j] - expected[j]));
      EXPECT_NEAR(got[j], expected[j], kTolerance) << "parameter " << i << " value " << j;
    }
    std::vector<Tensor> all;
    dist::all_gather(all, model->parameters()[i].detach());
    for (const Tensor& other : all) EXPECT_EQ(values(other), got);
  }
  EXPECT_GT(largest_move, 5e-3);
  if (rank == 0) {
    std::cout << n << " ranks x " << kBatch << " windows against 1 process x " << n * kBatch
              << " after " << kSteps << " AdamW steps: largest parameter difference "
              << largest_difference << " (largest move " << largest_move << ")\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  dist::init_process_group();
  if (dist::get_rank() != 0) {  // one report, rank 0's
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  Tensor failed = xg::scalar_tensor(RUN_ALL_TESTS(), xg::kInt64);
  dist::all_reduce(failed, dist::ReduceOp::Max);
  dist::destroy_process_group();
  return static_cast<int>(failed.item());
}
