// Generators (as torch.Generator), multinomial, and the order and gradient of sort and topk:
// separate streams, states saved and restored, the global generator's state, and multinomial's
// distribution, shapes and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Generator;
using xg::Tensor;

std::vector<double> values(const Tensor& t) {
  const Tensor d = t.to(xg::kFloat64).contiguous();
  const double* p = d.data_ptr<double>();
  return std::vector<double>(p, p + d.numel());
}

std::string invalid(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no std::invalid_argument";
}

TEST(Generator, DefaultSeedIsPyTorchs) {
  // torch.Generator().initial_seed() in PyTorch 1.13
  EXPECT_EQ(Generator().initial_seed(), 67280421310721ULL);
  EXPECT_EQ(Generator(5).initial_seed(), 5u);
  Generator g;
  EXPECT_EQ(g.manual_seed(9).initial_seed(), 9u);
}

TEST(Generator, SameSeedSameDrawsAsTheGlobalGenerator) {
  Generator g(1234);
  const Tensor a = xg::randn({5}, g), b = xg::rand({4}, g, xg::kFloat64),
               c = xg::randint(-3, 9, {6}, g);
  xg::manual_seed(1234);
  EXPECT_EQ(values(a), values(xg::randn({5})));
  EXPECT_EQ(values(b), values(xg::rand({4}, xg::kFloat64)));
  EXPECT_EQ(values(c), values(xg::randint(-3, 9, {6})));
}

// (rand takes one engine draw per value, so a stream split in two joins back exactly)
TEST(Generator, DrawsFromOneDoNotShiftAnother) {
  xg::manual_seed(7);
  const std::vector<double> alone = values(xg::rand({8}, xg::kFloat64));
  xg::manual_seed(7);
  Generator g(7), h(8);
  const std::vector<double> first = values(xg::rand({3}, xg::kFloat64));
  (void)xg::randn({100}, g);
  (void)xg::randint(10, {50}, h);
  const std::vector<double> rest = values(xg::rand({5}, xg::kFloat64));
  std::vector<double> joined = first;
  joined.insert(joined.end(), rest.begin(), rest.end());
  EXPECT_EQ(joined, alone);
}

TEST(Generator, CopiesShareOneStream) {
  Generator g(3);
  Generator h = g;  // a handle, as at::Generator
  const std::vector<double> from_h = values(xg::rand({4}, h));
  Generator fresh(3);
  const std::vector<double> expected = values(xg::rand({8}, fresh));
  EXPECT_EQ(from_h, std::vector<double>(expected.begin(), expected.begin() + 4));
  EXPECT_EQ(values(xg::rand({4}, g)), std::vector<double>(expected.begin() + 4, expected.end()));
}

TEST(Generator, StateRoundTrip) {
  Generator g(11);
  (void)xg::randn({13}, g);  // part way through a Box-Muller pair and the engine's block
  const Tensor state = g.get_state();
  EXPECT_EQ(state.dtype(), xg::kInt64);
  EXPECT_EQ(state.dim(), 1);
  const std::vector<double> next = values(xg::randn({700}, g));
  g.manual_seed(99);
  g.set_state(state);
  EXPECT_EQ(g.initial_seed(), 11u);
  EXPECT_EQ(values(xg::randn({700}, g)), next);
  // into another generator
  Generator other(0);
  other.set_state(state);
  EXPECT_EQ(values(xg::randn({700}, other)), next);
  EXPECT_EQ(other.initial_seed(), 11u);
}

TEST(Generator, GlobalStateRoundTrip) {
  xg::manual_seed(21);
  (void)xg::rand({3});
  const Tensor state = xg::get_rng_state();
  const std::vector<double> next = values(xg::rand({10}));
  (void)xg::rand({1000});
  xg::set_rng_state(state);
  EXPECT_EQ(values(xg::rand({10})), next);
  EXPECT_EQ(values(xg::default_generator().get_state()), values(xg::get_rng_state()));
}

TEST(Generator, ABadStateIsRefusedAndChangesNothing) {
  Generator g(5);
  const Tensor good = g.get_state();
  Generator twin(5);
  const std::string expected_type =
      "Generator::set_state: expected a 1-D Int64 state tensor from get_state, got [3] Float32";
  EXPECT_EQ(invalid([&] { g.set_state(xg::ones({3})); }), expected_type);
  EXPECT_EQ(invalid([&] { g.set_state(good.narrow(0, 0, good.numel() - 1)); }),
            "Generator::set_state: the tensor is not a generator state (" +
                std::to_string(good.numel() - 1) + " values)");
  // libstdc++ writes the position in the state last: one past the state is refused
  Tensor past = good.clone();
  past.data_ptr<std::int64_t>()[past.numel() - 1] = 100000;
  EXPECT_NE(invalid([&] { g.set_state(past); }).find("is not a generator state"),
            std::string::npos);
  EXPECT_EQ(invalid([] { xg::set_rng_state(Tensor()); }),
            "set_rng_state: got an undefined tensor (default-constructed xg::Tensor)");
  EXPECT_EQ(values(xg::rand({20}, g)), values(xg::rand({20}, twin)));
}

// ---- multinomial ------------------------------------------------------------------------------

// Counts of each category over many draws with replacement are within 5 standard deviations of
// n * p (binomial), and a zero weight is never drawn; the weights need not sum to 1.
TEST(Multinomial, WithReplacementFollowsTheWeights) {
  Generator g(42);
  const std::vector<double> w = {1, 2, 7, 0};
  const std::int64_t n = 20000;
  const Tensor draws = xg::multinomial(xg::tensor(w), n, true, g);
  EXPECT_EQ(draws.dtype(), xg::kInt64);
  EXPECT_EQ(draws.shape(), (xg::Shape{n}));
  std::vector<double> count(4, 0);
  for (double v : values(draws)) count.at(static_cast<std::size_t>(v)) += 1;
  for (std::size_t i = 0; i < 4; ++i) {
    const double p = w[i] / 10.0;
    EXPECT_LE(std::abs(count[i] - n * p), 5 * std::sqrt(n * p * (1 - p)) + 1e-9) << i;
  }
  EXPECT_EQ(count[3], 0);
}

// Without replacement a row never repeats a category; drawing every category gives a permutation,
// and the first draw follows the weights.
TEST(Multinomial, WithoutReplacement) {
  Generator g(43);
  const Tensor probs = xg::tensor({0.1, 0.2, 0.3, 0.4, 0.0, 0.5, 0.5, 1.0, 2.0, 3.0}, {2, 5});
  const Tensor draws = xg::multinomial(probs, 4, false, g);
  EXPECT_EQ(draws.shape(), (xg::Shape{2, 4}));
  const std::vector<double> v = values(draws);
  for (int r = 0; r < 2; ++r) {
    std::set<double> row(v.begin() + r * 4, v.begin() + r * 4 + 4);
    EXPECT_EQ(row.size(), 4u);
    if (r == 0) {
      EXPECT_EQ(row.count(4), 0u);  // the zero weight: 4 draws take the 4 others
    }
  }
  const std::int64_t n = 10000;
  const Tensor first = xg::multinomial(xg::tensor({1.0, 3.0}).expand({n, 2}), 1, false, g);
  const std::vector<double> f = values(first);
  const double ones = static_cast<double>(std::count(f.begin(), f.end(), 1.0));
  EXPECT_LE(std::abs(ones - 0.75 * n), 5 * std::sqrt(n * 0.75 * 0.25));
}

TEST(Multinomial, ReproducibleFromAGenerator) {
  Generator a(5), b(5);
  const Tensor p = xg::softmax(xg::arange(6, xg::kFloat64), 0);
  EXPECT_EQ(values(xg::multinomial(p, 30, true, a)), values(xg::multinomial(p, 30, true, b)));
  xg::manual_seed(5);
  const std::vector<double> global = values(xg::multinomial(p, 3));
  Generator c(5);
  EXPECT_EQ(global, values(xg::multinomial(p, 3, false, c)));
}

// PyTorch's checks and (after "multinomial: ") its messages.
TEST(Multinomial, BadArgumentsAreRefused) {
  EXPECT_EQ(invalid([] {
              xg::multinomial(xg::ones({1, 1, 1}), 1);
            }),
            "multinomial: prob_dist must be 1 or 2 dim, got [1, 1, 1]");
  EXPECT_EQ(invalid([] { xg::multinomial(xg::arange(3), 1); }),
            "multinomial: expected a Float32 or Float64 tensor, got [3] Int64");
  EXPECT_EQ(invalid([] { xg::multinomial(xg::ones({2}), 0); }),
            "multinomial: cannot sample n_sample <= 0 samples, got 0");
  EXPECT_EQ(invalid([] { xg::multinomial(xg::ones({2}), 3); }),
            "multinomial: cannot sample n_sample (3) > prob_dist.size(-1) (2) samples without "
            "replacement");
  const std::string bad = "multinomial: probability tensor contains either inf, nan or element < 0";
  EXPECT_EQ(invalid([] { xg::multinomial(xg::tensor({1.0, -2.0}), 1); }), bad);
  EXPECT_EQ(invalid([] { xg::multinomial(xg::tensor({1.0, std::nan("")}), 1, true); }), bad);
  EXPECT_EQ(invalid([] { xg::multinomial(xg::zeros({2}), 1); }),
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)");
  EXPECT_EQ(invalid([] {
              xg::multinomial(xg::tensor({1.0, 0.0, 0.0}), 2);
            }),
            "multinomial: invalid multinomial distribution (with replacement=False, not enough "
            "non-negative category to sample)");
  EXPECT_EQ(invalid([] { xg::multinomial(xg::ones({0}), 1, true); }),
            "multinomial: expected a non-empty prob_dist, got [0]");
}

// ---- sort and topk: ties and the gradient ------------------------------------------------------

TEST(Sort, EqualValuesKeepTheirOrder) {
  const Tensor x = xg::tensor({2.0, 1.0, 2.0, 1.0});
  EXPECT_EQ(values(std::get<1>(xg::sort(x))), (std::vector<double>{1, 3, 0, 2}));
  EXPECT_EQ(values(std::get<1>(xg::sort(x, 0, true))), (std::vector<double>{0, 2, 1, 3}));
  EXPECT_EQ(values(std::get<1>(xg::topk(x, 3))), (std::vector<double>{0, 2, 1}));
  EXPECT_EQ(values(std::get<1>(xg::topk(x, 3, 0, false))), (std::vector<double>{1, 3, 0}));
}

// The gradient of the values goes to the elements they came from: d/dx of sum(w * topk(x, 2))
// is w at the two largest places, 0 elsewhere.
TEST(Sort, GradientGoesWhereTheValuesCameFrom) {
  Tensor x = xg::tensor({0.5, 3.0, -1.0, 2.0}, xg::dtype(xg::kFloat64)).requires_grad_();
  const auto [v, i] = xg::topk(x, 2);
  EXPECT_FALSE(i.requires_grad());
  (v * xg::tensor({10.0, 100.0}, xg::dtype(xg::kFloat64))).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 10, 0, 100}));
  EXPECT_EQ(v.grad_fn_name(), "TopkBackward");
}

TEST(Sort, BadArgumentsAreRefused) {
  EXPECT_EQ(invalid([] { xg::topk(xg::ones({3}, xg::kBool), 1); }),
            "topk: expected a Float32, Float64 or Int64 tensor, got [3] Bool");
  try {
    (void)xg::topk(xg::ones({2, 3}), 4);
    ADD_FAILURE() << "no error";
  } catch (const std::out_of_range& e) {
    EXPECT_EQ(std::string(e.what()),
              "topk: selected index k out of range, got k 4 for dim 1 of size 3 of [2, 3] Float32");
  }
}

}  // namespace
