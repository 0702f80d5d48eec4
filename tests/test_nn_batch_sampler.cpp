// The nn layer's BatchSampler: every index once per epoch, drop_last, order without shuffling,
// seeds, fractional epochs and invalid arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/tensor/random.hpp>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

using xg::Tensor;
using xg_test::values;

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

// ---- DistributedSampler: one rank's share, as PyTorch's ------------------------------------

// Rank r's share is positions r, r + R, r + 2R, ... of one order: the shares interleaved give
// the order back, padded with its own first indices.
std::vector<std::int64_t> interleaved(std::int64_t size, std::int64_t replicas, bool shuffle,
                                      std::uint64_t seed, std::int64_t epoch, bool drop_last) {
  std::vector<std::vector<std::int64_t>> shares;
  for (std::int64_t r = 0; r < replicas; ++r) {
    xg::nn::DistributedSampler sampler(size, replicas, r, shuffle, seed, drop_last);
    sampler.set_epoch(epoch);
    shares.push_back(ints(sampler.indices()));
  }
  std::vector<std::int64_t> order;
  for (std::size_t k = 0; k < shares[0].size(); ++k) {
    for (const auto& share : shares) order.push_back(share.at(k));
  }
  return order;
}

TEST(DistributedSamplerTest, SharesAreDisjointAndPaddedFromTheStart) {
  // 10 samples on 3 replicas: 4 each, the order padded to 12 with its first two indices.
  const std::vector<std::int64_t> order = interleaved(10, 3, true, 7, 0, false);
  ASSERT_EQ(order.size(), 12u);
  std::vector<std::int64_t> first(order.begin(), order.begin() + 10);
  std::sort(first.begin(), first.end());
  std::vector<std::int64_t> all(10);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(first, all);  // every index once in the first 10
  EXPECT_EQ(order[10], order[0]);
  EXPECT_EQ(order[11], order[1]);
  EXPECT_NE(std::vector<std::int64_t>(order.begin(), order.begin() + 10), all);  // shuffled
  // Without shuffling, the order is 0..9 then 0, 1.
  EXPECT_EQ(interleaved(10, 3, false, 7, 0, false),
            (std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1}));
  // drop_last: 3 each, 9 distinct indices.
  const std::vector<std::int64_t> dropped = interleaved(10, 3, true, 7, 0, true);
  ASSERT_EQ(dropped.size(), 9u);
  EXPECT_EQ(std::set<std::int64_t>(dropped.begin(), dropped.end()).size(), 9u);
  EXPECT_EQ(xg::nn::DistributedSampler(10, 3, 2, true, 7, true).num_samples(), 3);
}

TEST(DistributedSamplerTest, EachEpochsOrderComesFromTheSeedAndEpoch) {
  EXPECT_EQ(interleaved(50, 2, true, 3, 4, false), interleaved(50, 2, true, 3, 4, false));
  EXPECT_NE(interleaved(50, 2, true, 3, 4, false), interleaved(50, 2, true, 3, 5, false));
  EXPECT_NE(interleaved(50, 2, true, 3, 4, false), interleaved(50, 2, true, 4, 4, false));
  // seed + epoch, as PyTorch's generator.manual_seed(seed + epoch)
  EXPECT_EQ(interleaved(50, 2, true, 3, 4, false), interleaved(50, 2, true, 5, 2, false));
}

// A BatchSampler over a share deals out epoch e's share in batches, then epoch e + 1's.
TEST(DistributedSamplerTest, BatchSamplerDealsOneSharePerEpoch) {
  xg::nn::BatchSampler batches(xg::nn::DistributedSampler(23, 2, 1, true, 11), 5);
  EXPECT_EQ(batches.batches_per_epoch(), 3);  // 12 indices: 5, 5, 2
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    std::vector<std::int64_t> dealt;
    for (int b = 0; b < 3; ++b) {
      const std::vector<std::int64_t> batch = ints(batches.next());
      dealt.insert(dealt.end(), batch.begin(), batch.end());
    }
    xg::nn::DistributedSampler share(23, 2, 1, true, 11);
    share.set_epoch(epoch);
    EXPECT_EQ(dealt, ints(share.indices())) << "epoch " << epoch;
  }
}

// ---- random_windows: nanoGPT's get_batch -------------------------------------------------------

namespace {

std::vector<std::int64_t> ints_of(const xg::Tensor& t) {
  const xg::Tensor c = t.contiguous();
  const std::int64_t* p = c.data_ptr<std::int64_t>();
  return std::vector<std::int64_t>(p, p + c.numel());
}

// The message of the std::invalid_argument f throws.
std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no std::invalid_argument";
}

}  // namespace

// Each row of x is tokens[s : s + T] for an offset s drawn as nanoGPT draws it,
// randint(0, len - T), and y is the same window one token later.
TEST(RandomWindows, WindowsAndTargetsAtNanoGptsOffsets) {
  const xg::Tensor tokens = xg::arange(50) * 3;  // values are not positions
  const std::int64_t B = 6, T = 8;
  xg::Generator g(5), same(5);
  const auto [x, y] = xg::nn::random_windows(tokens, B, T, g);
  EXPECT_EQ(x.shape(), (xg::Shape{B, T}));
  EXPECT_EQ(y.shape(), (xg::Shape{B, T}));
  EXPECT_EQ(x.dtype(), xg::kInt64);
  const std::vector<std::int64_t> starts = ints_of(xg::randint(0, 50 - T, {B}, same));
  const std::vector<std::int64_t> xv = ints_of(x), yv = ints_of(y);
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t t = 0; t < T; ++t) {
      EXPECT_EQ(xv[b * T + t], 3 * (starts[b] + t));
      EXPECT_EQ(yv[b * T + t], 3 * (starts[b] + t + 1));
    }
  }
}

// Offsets are drawn from [0, len - T): with len = T + 2, offsets 0 and 1 and never 2.
TEST(RandomWindows, OffsetsStopOneWindowShortAsNanoGpts) {
  xg::Generator g(9);
  const auto [x, y] = xg::nn::random_windows(xg::arange(10), 200, 8, g);
  std::set<std::int64_t> first;
  const std::vector<std::int64_t> xv = ints_of(x);
  for (std::size_t b = 0; b < 200; ++b) first.insert(xv[b * 8]);
  EXPECT_EQ(first, (std::set<std::int64_t>{0, 1}));
}

TEST(RandomWindows, OwnGeneratorIsNotShiftedByOtherDraws) {
  const xg::Tensor tokens = xg::arange(1000);
  xg::Generator a(3), b(3);
  const auto first = xg::nn::random_windows(tokens, 4, 16, a);
  (void)xg::randn({100});  // the default generator
  const auto second = xg::nn::random_windows(tokens, 4, 16, a);
  const auto b1 = xg::nn::random_windows(tokens, 4, 16, b);
  const auto b2 = xg::nn::random_windows(tokens, 4, 16, b);
  EXPECT_EQ(ints_of(first.first), ints_of(b1.first));
  EXPECT_EQ(ints_of(second.first), ints_of(b2.first));
  xg::manual_seed(4);
  const auto d1 = xg::nn::random_windows(tokens, 4, 16);
  xg::manual_seed(4);
  EXPECT_EQ(ints_of(d1.second), ints_of(xg::nn::random_windows(tokens, 4, 16).second));
}

TEST(RandomWindows, BadArgumentsAreRefused) {
  EXPECT_EQ(message([] { xg::nn::random_windows(xg::ones({10}), 2, 4); }),
            "random_windows: expected a 1-D Int64 token tensor, got [10] Float32");
  EXPECT_EQ(message([] { xg::nn::random_windows(xg::arange(10), 0, 4); }),
            "random_windows: batch_size and block_size must be positive, got 0 and 4");
  EXPECT_EQ(message([] { xg::nn::random_windows(xg::arange(8), 2, 8); }),
            "random_windows: 8 tokens hold no window of block_size 8 with its next-token targets "
            "(need more than 8)");
}

// ---- WindowMixture: windows from several sources by weight ----------------------------------

// Budgets of 2 epochs of 1000 tokens and 0.5 of 4000 ask for 2000 tokens each: equal weights; a
// budget of 0 gets weight 0. A run of 8000 tokens sees each budget twice over.
TEST(WindowMixture, EpochBudgetsBecomeWeights) {
  using M = xg::nn::WindowMixture;
  const std::vector<double> w = M::weights_for_epochs({1000, 4000, 500}, {2.0, 0.5, 0.0});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(w[0], 0.5);
  EXPECT_DOUBLE_EQ(w[1], 0.5);
  EXPECT_EQ(w[2], 0.0);
  EXPECT_DOUBLE_EQ(M::epochs_scale({1000, 4000, 500}, {2.0, 0.5, 0.0}, 8000), 2.0);
  EXPECT_DOUBLE_EQ(M::epochs_scale({1000, 4000}, {2.0, 0.5}, 4000), 1.0);
  EXPECT_THROW(M::weights_for_epochs({1000}, {-1.0}), std::invalid_argument);
  EXPECT_THROW(M::weights_for_epochs({1000, 10}, {0.0, 0.0}), std::invalid_argument);
  EXPECT_THROW(M::weights_for_epochs({1000, 10}, {1.0}), std::invalid_argument);
}

// Two sources told apart by their values, budgets of 2 epochs of 1000 tokens and 0.6 of 4000:
// weights 2000 / 4400 and 2400 / 4400. Over 4000 windows the count drawn from the first is
// binomial (mean 1818.2, standard deviation 31.5); it must fall within 5 deviations. Every
// window lies inside one source with its targets one token later, and a source of weight 0 is
// never drawn.
TEST(WindowMixture, DrawsTheSourcesInProportion) {
  const xg::Tensor a = xg::arange(0, 1000, 1, xg::kInt64);
  const xg::Tensor b = xg::arange(1000, 5000, 1, xg::kInt64);
  const xg::Tensor c = xg::arange(9000, 9100, 1, xg::kInt64);
  std::vector<double> weights = xg::nn::WindowMixture::weights_for_epochs({1000, 4000}, {2.0, 0.6});
  weights.push_back(0.0);
  const std::int64_t B = 10, T = 16, batches = 400;
  xg::nn::WindowMixture mixture({a, b, c}, weights, T, xg::Generator(7));
  std::int64_t from_a = 0, from_b = 0;
  for (std::int64_t i = 0; i < batches; ++i) {
    const auto [x, y] = mixture.next(B);
    ASSERT_EQ(x.shape(), (xg::Shape{B, T}));
    const std::vector<std::int64_t> xv = ints_of(x), yv = ints_of(y);
    for (std::int64_t r = 0; r < B; ++r) {
      const std::int64_t first = xv[static_cast<std::size_t>(r * T)];
      const bool in_a = first < 1000;
      ASSERT_TRUE(in_a || (first >= 1000 && first < 5000)) << first;
      (in_a ? from_a : from_b) += 1;
      const std::int64_t end = in_a ? 1000 : 5000;
      for (std::int64_t t = 0; t < T; ++t) {
        ASSERT_EQ(xv[static_cast<std::size_t>(r * T + t)], first + t);
        ASSERT_EQ(yv[static_cast<std::size_t>(r * T + t)], first + t + 1);
      }
      ASSERT_LT(first + T, end);  // the target of the last position is in the source
    }
  }
  const double n = static_cast<double>(B * batches), p = 2000.0 / 4400.0;
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(static_cast<double>(from_a), n * p, 5 * sd);
  EXPECT_EQ(mixture.drawn(), (std::vector<std::int64_t>{from_a, from_b, 0}));
  EXPECT_DOUBLE_EQ(mixture.probabilities()[0], p);
  const std::vector<double> epochs = mixture.epochs_drawn();
  EXPECT_DOUBLE_EQ(epochs[0], static_cast<double>(from_a * T) / 1000.0);
  EXPECT_DOUBLE_EQ(epochs[1], static_cast<double>(from_b * T) / 4000.0);
  EXPECT_EQ(epochs[2], 0.0);
}

// With one source of positive weight, the batches are random_windows' from the same generator.
TEST(WindowMixture, OneSourceDrawsAsRandomWindows) {
  const xg::Tensor tokens = xg::arange(500) * 2;
  xg::nn::WindowMixture mixture({tokens, xg::arange(5)}, {1.0, 0.0}, 8, xg::Generator(11));
  xg::Generator g(11);
  for (int i = 0; i < 3; ++i) {
    const auto expected = xg::nn::random_windows(tokens, 4, 8, g);
    const auto got = mixture.next(4);
    EXPECT_EQ(ints_of(got.first), ints_of(expected.first));
    EXPECT_EQ(ints_of(got.second), ints_of(expected.second));
  }
  EXPECT_EQ(mixture.drawn(), (std::vector<std::int64_t>{12, 0}));
}

// A mixture restored from get_state draws what the original draws next, and its counts.
TEST(WindowMixture, ARestoredStateDrawsTheSameBatches) {
  const std::vector<xg::Tensor> sources = {xg::arange(300), xg::arange(1000, 1700)};
  xg::nn::WindowMixture first(sources, {0.3, 0.7}, 12, xg::Generator(21));
  for (int i = 0; i < 7; ++i) first.next(5);
  const xg::Tensor state = first.get_state();
  std::vector<std::vector<std::int64_t>> expected;
  for (int i = 0; i < 5; ++i) expected.push_back(ints_of(first.next(5).first));

  xg::nn::WindowMixture resumed(sources, {0.3, 0.7}, 12, xg::Generator(99));
  resumed.next(3);
  resumed.set_state(state);
  EXPECT_EQ(resumed.drawn()[0] + resumed.drawn()[1], 35);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(ints_of(resumed.next(5).first), expected[i]) << i;
  EXPECT_EQ(resumed.drawn(), first.drawn());

  // Another mixture's state, or a broken one, is refused and changes nothing.
  xg::nn::WindowMixture three({xg::arange(300), xg::arange(300), xg::arange(300)}, {1, 1, 1}, 12,
                              xg::Generator(5));
  const std::vector<std::int64_t> before = three.drawn();
  const xg::Tensor three_state = three.get_state();
  EXPECT_THROW(three.set_state(state), std::invalid_argument);
  xg::Tensor bad = three_state.narrow(0, 0, three_state.numel() - 10).clone();  // words short
  bad.data_ptr<std::int64_t>()[1] = 4;
  EXPECT_THROW(three.set_state(bad), std::invalid_argument);
  EXPECT_EQ(three.drawn(), before);
  EXPECT_EQ(ints_of(three.get_state()), ints_of(three_state));
}

TEST(WindowMixture, BadArgumentsAreRefused) {
  const xg::Generator g(1);
  EXPECT_EQ(message([&] {
              xg::nn::WindowMixture({xg::arange(50)}, {1.0, 2.0}, 4, g);
            }),
            "WindowMixture: expected one weight per source, got 2 weights for 1 sources");
  EXPECT_EQ(message([&] {
              xg::nn::WindowMixture({xg::arange(50), xg::arange(50)}, {0, 0}, 4, g);
            }),
            "WindowMixture: every weight is 0");
  EXPECT_EQ(message([&] { xg::nn::WindowMixture({xg::arange(50)}, {-1.0}, 4, g); }),
            "WindowMixture: source 0's weight must be finite and >= 0, got -1.000000");
  EXPECT_EQ(message([&] {
              xg::nn::WindowMixture({xg::arange(50), xg::arange(4)}, {1, 1}, 4, g);
            }),
            "WindowMixture: source 1 has 4 tokens, no window of block_size 4 with its next-token "
            "targets (need more than 4)");
  EXPECT_EQ(message([&] { xg::nn::WindowMixture({xg::ones({50})}, {1.0}, 4, g); }),
            "WindowMixture: source 0 must be a 1-D Int64 token tensor, got [50] Float32");
  xg::nn::WindowMixture ok({xg::arange(50), xg::arange(4)}, {1, 0}, 4, g);  // weight 0: kept
  EXPECT_EQ(message([&] { ok.next(0); }),
            "WindowMixture::next: batch_size must be positive, got 0");
}

// Dropout with its own generator: the same masks from the same seed, and the default generator's
// stream untouched.
TEST(DropoutGenerator, MasksComeFromTheGivenGenerator) {
  const xg::Tensor x = xg::ones({200});
  xg::Generator a(1), b(1);
  xg::manual_seed(2);
  const std::vector<double> expected_default = values(xg::rand({5}));
  xg::manual_seed(2);
  const xg::Tensor ya = xg::nn::functional::dropout(x, 0.5, true, a);
  xg::nn::Dropout layer(0.5, b);
  const xg::Tensor yb = layer.forward(x);
  EXPECT_EQ(values(ya), values(yb));
  EXPECT_EQ(values(xg::rand({5})), expected_default);
  // the mask: element i kept (scaled by 1 / (1 - p)) when word i % 4 of Philox4x32-10 at
  // counter i / 4, under the key drawn from the generator (its first 64-bit number), is at
  // least p 2^32
  std::mt19937_64 engine(1);  // what Generator(1) draws from
  const std::uint64_t key = engine();
  const std::uint32_t key_words[2] = {static_cast<std::uint32_t>(key),
                                      static_cast<std::uint32_t>(key >> 32)};
  std::vector<double> keep(200);
  for (std::uint32_t i = 0; i < 200; ++i) {
    const std::uint32_t counter[4] = {i / 4, 0, 0, 0};
    std::uint32_t words[4];
    xg::philox4x32_10(counter, key_words, words);
    keep[i] = words[i % 4] >= 0x80000000U ? 2.0 : 0.0;
  }
  EXPECT_EQ(values(ya), keep);
}
