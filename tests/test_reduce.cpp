// Reductions: the accuracy of sum (2^25 Float32 ones sum exactly), known series, every dim
// combination of a 3-D tensor against a naive long-double loop, keepdim, empty tensors, and NaN
// propagation in max/amax/maximum.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

std::vector<double> values_of(const Tensor& t) {
  const auto a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// ---- sum accuracy: Float32 sums past 2^24 and of many tenths stay exact or close ----------------

TEST(SumAccuracy, TwoToThe25Float32OnesSumExactly) {
  const Tensor ones = xg::ones({1 << 25});
  ASSERT_EQ(ones.dtype(), xg::kFloat32);
  const Tensor s = ones.sum();
  EXPECT_EQ(s.dtype(), xg::kFloat32);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.item(), 33554432.0);
  EXPECT_EQ(xg::sum(ones, {0}).item(), 33554432.0);
  EXPECT_EQ(xg::sum(ones, {-1}, true).item(), 33554432.0);
  EXPECT_EQ(ones.mean().item(), 1.0);
}

TEST(SumAccuracy, Float32DimReductionsPastTwoToThe24) {
  // A serial Float32 sum stalls at 2^24 = 16777216; 2^24 + 2 ones must still count exactly,
  // along the contiguous last dim and along a strided first dim.
  const std::int64_t n = (INT64_C(1) << 24) + 2;
  EXPECT_EQ(values_of(xg::ones({2, n}).sum({1})), (std::vector<double>{16777218.0, 16777218.0}));
  EXPECT_EQ(values_of(xg::ones({n, 2}).sum({0})), (std::vector<double>{16777218.0, 16777218.0}));
}

TEST(SumAccuracy, Float32TenthsStayClose) {
  // 10^6 copies of float(0.1): a serial Float32 sum is off by about 1% (100958); PyTorch's
  // cascade sum gives 100000.0078 (relative error 6e-8). Ask for 1e-5.
  const std::int64_t n = 1000000;
  const float tenth = 0.1f;
  const long double exact = static_cast<long double>(tenth) * n;
  const double got = xg::full({n}, tenth).sum().item();
  EXPECT_NEAR(got, static_cast<double>(exact), 1e-5 * static_cast<double>(exact));
  const double got_mean = xg::full({n}, tenth).mean().item();
  EXPECT_NEAR(got_mean, tenth, 1e-5 * tenth);
}

TEST(SumAccuracy, KnownSeries) {
  // 0 + 1 + ... + (n - 1) = n (n - 1) / 2: every partial sum is an integer below 2^53, so the
  // Float64 result is exact; Int64 is exact by construction.
  for (std::int64_t n : {1, 2, 7, 1000, 1023, 1024, 1025, 4097, 1000000, 3000001}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    const double expected = static_cast<double>(n) * static_cast<double>(n - 1) / 2;
    EXPECT_EQ(xg::arange(n, xg::kFloat64).sum().item(), expected);
    EXPECT_EQ(xg::arange(n).sum().item<std::int64_t>(), n * (n - 1) / 2);
    // mean of 0..n-1 is (n - 1) / 2
    EXPECT_DOUBLE_EQ(xg::arange(n, xg::kFloat64).mean().item(), static_cast<double>(n - 1) / 2);
  }
  // Float32: exact while the total stays below 2^24.
  EXPECT_EQ(xg::arange(4096, xg::kFloat32).sum().item(), 4096.0 * 4095.0 / 2);
  // sum of squares: 0^2 + ... + (n-1)^2 = (n - 1) n (2n - 1) / 6, exact in Float64 for n = 10^5
  const std::int64_t n = 100000;
  const Tensor x = xg::arange(n, xg::kFloat64);
  EXPECT_EQ((x * x).sum().item(), static_cast<double>((n - 1) * n * (2 * n - 1) / 6));
  // alternating 1, -1, ...: an even count sums to 0, an odd one to 1
  for (std::int64_t m : {10, 4096, 100001}) {
    std::vector<double> v(static_cast<std::size_t>(m));
    for (std::int64_t k = 0; k < m; ++k) v[static_cast<std::size_t>(k)] = k % 2 == 0 ? 1.0 : -1.0;
    EXPECT_EQ(xg::tensor(v, xg::kFloat64).sum().item(), m % 2 == 0 ? 0.0 : 1.0);
    EXPECT_EQ(xg::tensor(v, xg::kFloat32).sum().item(), m % 2 == 0 ? 0.0 : 1.0);
  }
}

// ---- every dim combination of a 3-D tensor against a naive loop --------------------------------

struct Naive3d {
  std::int64_t n0, n1, n2;
  std::vector<double> x;
  double at(std::int64_t i, std::int64_t j, std::int64_t k) const {
    return x[static_cast<std::size_t>((i * n1 + j) * n2 + k)];
  }
};

Naive3d make_3d(std::int64_t n0, std::int64_t n1, std::int64_t n2) {
  Naive3d t{n0, n1, n2, {}};
  t.x.resize(static_cast<std::size_t>(n0 * n1 * n2));
  for (std::size_t i = 0; i < t.x.size(); ++i) {
    // mixed signs and magnitudes, no pattern a blocked sum could exploit
    t.x[i] = std::sin(0.7 * static_cast<double>(i) + 0.3) *
             std::pow(10.0, static_cast<double>(i % 5) - 2);
  }
  return t;
}

// The reduction of t over `reduce` (mask of dims) computed with long-double loops; returns
// {sum, sum of |x| (for the error bound), max, min} per output element, in row-major order of
// the kept dims.
struct NaiveOut {
  std::vector<long double> sum, abs_sum, mx, mn, lse;
  Shape shape, keep_shape;
};

NaiveOut naive_reduce(const Naive3d& t, const bool reduce[3]) {
  const std::int64_t sizes[3] = {t.n0, t.n1, t.n2};
  NaiveOut out;
  std::int64_t count = 1;
  for (int d = 0; d < 3; ++d) {
    out.keep_shape.push_back(reduce[d] ? 1 : sizes[d]);
    if (!reduce[d]) {
      out.shape.push_back(sizes[d]);
      count *= sizes[d];
    }
  }
  const auto n = static_cast<std::size_t>(count);
  out.sum.assign(n, 0);
  out.abs_sum.assign(n, 0);
  out.mx.assign(n, -std::numeric_limits<long double>::infinity());
  out.mn.assign(n, std::numeric_limits<long double>::infinity());
  out.lse.assign(n, 0);
  auto index = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    const std::int64_t idx[3] = {i, j, k};
    std::int64_t o = 0;
    for (int d = 0; d < 3; ++d) {
      if (!reduce[d]) o = o * sizes[d] + idx[d];
    }
    return static_cast<std::size_t>(o);
  };
  for (std::int64_t i = 0; i < t.n0; ++i)
    for (std::int64_t j = 0; j < t.n1; ++j)
      for (std::int64_t k = 0; k < t.n2; ++k) {
        const long double v = t.at(i, j, k);
        const auto o = index(i, j, k);
        out.sum[o] += v;
        out.abs_sum[o] += std::fabs(v);
        out.mx[o] = std::max(out.mx[o], v);
        out.mn[o] = std::min(out.mn[o], v);
      }
  for (std::int64_t i = 0; i < t.n0; ++i)
    for (std::int64_t j = 0; j < t.n1; ++j)
      for (std::int64_t k = 0; k < t.n2; ++k) {
        const auto o = index(i, j, k);
        out.lse[o] += std::exp(static_cast<long double>(t.at(i, j, k)) - out.mx[o]);
      }
  for (std::size_t o = 0; o < n; ++o) out.lse[o] = out.mx[o] + std::log(out.lse[o]);
  return out;
}

void check_all_dim_combinations(std::int64_t n0, std::int64_t n1, std::int64_t n2,
                                xg::Dtype dtype) {
  const Naive3d t = make_3d(n0, n1, n2);
  const Tensor x = xg::tensor(t.x, {n0, n1, n2}, xg::dtype(dtype));
  // In Float32 the input itself is rounded; the naive loop uses the rounded values too.
  Naive3d tr = t;
  tr.x = values_of(x);
  const double eps = dtype == xg::kFloat64 ? 1e-14 : 2e-6;
  for (int mask = 0; mask < 8; ++mask) {
    const bool reduce[3] = {(mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0};
    Shape dims, neg_dims;
    for (int d = 0; d < 3; ++d) {
      if (reduce[d]) {
        dims.push_back(d);
        neg_dims.insert(neg_dims.begin(), d - 3);  // reversed order, negative
      }
    }
    if (dims.empty()) continue;  // an empty dims list means "all dims": covered by mask 7
    const NaiveOut ref = naive_reduce(tr, reduce);
    std::int64_t reduced = 1;
    for (auto d : dims) reduced *= (d == 0 ? n0 : d == 1 ? n1 : n2);
    for (bool keepdim : {false, true}) {
      for (const Shape& ds : {dims, neg_dims}) {
        SCOPED_TRACE("dims " + xg::shape_to_string(ds) + (keepdim ? " keepdim" : ""));
        const Shape want = keepdim ? ref.keep_shape : ref.shape;
        const Tensor s = xg::sum(x, ds, keepdim);
        const Tensor m = xg::mean(x, ds, keepdim);
        const Tensor mx = xg::amax(x, ds, keepdim);
        const Tensor mn = xg::amin(x, ds, keepdim);
        const Tensor lse = xg::logsumexp(x, ds, keepdim);
        for (const Tensor* r : {&s, &m, &mx, &mn, &lse}) {
          ASSERT_EQ(r->shape(), want);
          ASSERT_EQ(r->dtype(), dtype);
        }
        const auto sv = values_of(s), mv = values_of(m), mxv = values_of(mx), mnv = values_of(mn),
                   lv = values_of(lse);
        for (std::size_t o = 0; o < sv.size(); ++o) {
          const double bound = eps * static_cast<double>(ref.abs_sum[o]) + 1e-300;
          EXPECT_NEAR(sv[o], static_cast<double>(ref.sum[o]), bound) << "sum at " << o;
          EXPECT_NEAR(mv[o], static_cast<double>(ref.sum[o] / reduced), bound / reduced)
              << "mean at " << o;
          EXPECT_EQ(mxv[o], static_cast<double>(ref.mx[o])) << "amax at " << o;  // exact
          EXPECT_EQ(mnv[o], static_cast<double>(ref.mn[o])) << "amin at " << o;
          EXPECT_NEAR(lv[o], static_cast<double>(ref.lse[o]),
                      4 * eps * std::max(1.0, std::abs(static_cast<double>(ref.lse[o]))))
              << "logsumexp at " << o;
        }
      }
    }
  }
  // Every dim at once, and the dims-less forms.
  const bool all[3] = {true, true, true};
  const NaiveOut ref = naive_reduce(tr, all);
  const double bound = eps * static_cast<double>(ref.abs_sum[0]);
  EXPECT_NEAR(x.sum().item(), static_cast<double>(ref.sum[0]), bound);
  EXPECT_NEAR(xg::sum(x, {}, false).item(), static_cast<double>(ref.sum[0]), bound);
  EXPECT_EQ(xg::sum(x, {}, true).shape(), (Shape{1, 1, 1}));
  EXPECT_NEAR(x.mean().item(), static_cast<double>(ref.sum[0] / (n0 * n1 * n2)),
              bound / static_cast<double>(n0 * n1 * n2));
  EXPECT_EQ(x.max().item(), static_cast<double>(ref.mx[0]));
  EXPECT_EQ(x.min().item(), static_cast<double>(ref.mn[0]));
  EXPECT_EQ(xg::amax(x).item(), static_cast<double>(ref.mx[0]));
  EXPECT_EQ(xg::amax(x).dim(), 0);
}

TEST(SumOverDims, Small3dEveryCombinationFloat64) {
  check_all_dim_combinations(3, 4, 5, xg::kFloat64);
}
TEST(SumOverDims, Small3dEveryCombinationFloat32) {
  check_all_dim_combinations(3, 4, 5, xg::kFloat32);
}
TEST(SumOverDims, Large3dEveryCombinationFloat64) {
  check_all_dim_combinations(37, 129, 65, xg::kFloat64);
}
TEST(SumOverDims, Large3dEveryCombinationFloat32) {
  check_all_dim_combinations(37, 129, 65, xg::kFloat32);
}
TEST(SumOverDims, LongRowsFloat32) { check_all_dim_combinations(2, 3, 5000, xg::kFloat32); }
TEST(SumOverDims, LongColumnsFloat32) { check_all_dim_combinations(5000, 3, 2, xg::kFloat32); }

TEST(SumOverDims, Int64EveryCombination) {
  std::vector<double> v(60);
  for (int i = 0; i < 60; ++i) v[static_cast<std::size_t>(i)] = (i * 37) % 23 - 11;
  const Tensor x = xg::tensor(v, {3, 4, 5}, xg::kInt64);
  // sum over dim 1, by hand
  const Tensor s = xg::sum(x, {1});
  ASSERT_EQ(s.dtype(), xg::kInt64);
  ASSERT_EQ(s.shape(), (Shape{3, 5}));
  const auto sv = values_of(s);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 5; ++k) {
      double want = 0;
      for (int j = 0; j < 4; ++j) want += v[static_cast<std::size_t>((i * 4 + j) * 5 + k)];
      EXPECT_EQ(sv[static_cast<std::size_t>(i * 5 + k)], want);
    }
  double total = 0;
  for (double a : v) total += a;
  EXPECT_EQ(xg::sum(x, {0, 1, 2}).item<std::int64_t>(), static_cast<std::int64_t>(total));
  EXPECT_EQ(xg::sum(x, {2, 0}, true).shape(), (Shape{1, 4, 1}));
  EXPECT_EQ(xg::sum(x, {2, 0}, true).sum().item<std::int64_t>(), static_cast<std::int64_t>(total));
}

TEST(Keepdim, ShapesBothWays) {
  const Tensor x = xg::ones({2, 3, 4});
  struct Case {
    Shape dims, drop, keep;
  };
  const Case cases[] = {{{0}, {3, 4}, {1, 3, 4}},      {{1}, {2, 4}, {2, 1, 4}},
                        {{-1}, {2, 3}, {2, 3, 1}},     {{0, 2}, {3}, {1, 3, 1}},
                        {{-3, -2, -1}, {}, {1, 1, 1}}, {{}, {}, {1, 1, 1}}};
  for (const auto& c : cases) {
    SCOPED_TRACE(xg::shape_to_string(c.dims));
    EXPECT_EQ(xg::sum(x, c.dims).shape(), c.drop);
    EXPECT_EQ(xg::sum(x, c.dims, true).shape(), c.keep);
    EXPECT_EQ(xg::mean(x, c.dims, true).shape(), c.keep);
    EXPECT_EQ(xg::amax(x, c.dims, true).shape(), c.keep);
    EXPECT_EQ(xg::amin(x, c.dims).shape(), c.drop);
    EXPECT_EQ(xg::logsumexp(x, c.dims, true).shape(), c.keep);
    EXPECT_EQ(x.sum(c.dims, false).shape(), c.drop);
  }
  EXPECT_EQ(xg::argmax(x, 1).shape(), (Shape{2, 4}));
  EXPECT_EQ(xg::argmax(x, 1, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(xg::argmax(x).shape(), Shape{});
  EXPECT_EQ(xg::argmax(x, std::nullopt, true).shape(), (Shape{1, 1, 1}));
  // values: a keepdim result broadcasts back against its input
  const Tensor y = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, xg::kFloat64);
  EXPECT_EQ(values_of(y - xg::mean(y, {1}, true)), (std::vector<double>{-1, 0, 1, -1, 0, 1}));
  EXPECT_EQ(values_of(y / xg::sum(y, {0}, true)),
            (std::vector<double>{1.0 / 5, 2.0 / 7, 3.0 / 9, 4.0 / 5, 5.0 / 7, 6.0 / 9}));
  // 0-d input: dims 0 and -1 both name "the" dim, keepdim keeps 0-d
  const Tensor s = xg::scalar_tensor(2.5);
  EXPECT_EQ(xg::sum(s, {0}).dim(), 0);
  EXPECT_EQ(xg::sum(s, {-1}, true).dim(), 0);
  EXPECT_EQ(xg::sum(s, {0}).item(), 2.5);
}

// ---- empty tensors ----------------------------------------------------------------------------

TEST(EmptyReductions, SumIsZeroMeanIsNaN) {
  for (xg::Dtype dt : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dt)));
    const Tensor e = xg::zeros({0}, dt);
    EXPECT_EQ(e.sum().item(), 0.0);
    EXPECT_EQ(e.sum().dtype(), dt);
    EXPECT_EQ(xg::sum(e, {0}).item(), 0.0);
    const Tensor e2 = xg::ones({2, 0, 3}, dt);
    EXPECT_EQ(e2.sum().item(), 0.0);
    const Tensor over_empty = xg::sum(e2, {1});
    EXPECT_EQ(over_empty.shape(), (Shape{2, 3}));
    EXPECT_EQ(values_of(over_empty), std::vector<double>(6, 0.0));
    EXPECT_EQ(xg::sum(e2, {1}, true).shape(), (Shape{2, 1, 3}));
    const Tensor keep_empty = xg::sum(e2, {2});
    EXPECT_EQ(keep_empty.shape(), (Shape{2, 0}));
    EXPECT_EQ(keep_empty.numel(), 0);
  }
  // PyTorch: the mean of nothing is NaN.
  EXPECT_TRUE(std::isnan(xg::zeros({0}).mean().item()));
  const auto m = values_of(xg::mean(xg::zeros({2, 0}, xg::kFloat64), {1}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(std::isnan(m[0]) && std::isnan(m[1]));
  // PyTorch: logsumexp over an empty dim is log(0) = -inf.
  EXPECT_EQ(values_of(xg::logsumexp(xg::zeros({2, 0}), {1})), (std::vector<double>{-kInf, -kInf}));
}

TEST(EmptyReductions, MaxOverAnEmptyDimThrows) {
  // No identity to return; PyTorch raises too.
  EXPECT_THROW(xg::amax(xg::zeros({2, 0}), {1}), std::invalid_argument);
  EXPECT_THROW(xg::amin(xg::zeros({2, 0}), {1}), std::invalid_argument);
  EXPECT_THROW(xg::amax(xg::zeros({0})), std::invalid_argument);
  EXPECT_THROW(xg::zeros({0}).max(), std::invalid_argument);
  EXPECT_THROW(xg::zeros({0, 3}).min(), std::invalid_argument);
  EXPECT_THROW(xg::argmax(xg::zeros({0})), std::invalid_argument);
  EXPECT_THROW(xg::argmax(xg::zeros({2, 0}), 1), std::invalid_argument);
  EXPECT_THROW(xg::argmin(xg::zeros({0, 2}), 0), std::invalid_argument);
  // Reducing a non-empty dim of a tensor with an empty one is fine: an empty result.
  EXPECT_EQ(xg::amax(xg::zeros({0, 3}), {1}).shape(), (Shape{0}));
  EXPECT_EQ(xg::argmax(xg::zeros({0, 3}), 1).shape(), (Shape{0}));
}

// ---- NaN propagation --------------------------------------------------------------------------

TEST(NaNPropagation, MaxAmaxMaximum) {
  // A NaN anywhere (first, in the middle of a long run, last) makes max and min NaN.
  for (std::int64_t n : {1, 5, 1000, 4099}) {
    for (std::int64_t pos : {INT64_C(0), n / 2, n - 1}) {
      for (xg::Dtype dt : {xg::kFloat32, xg::kFloat64}) {
        SCOPED_TRACE("n " + std::to_string(n) + ", NaN at " + std::to_string(pos) + ", " +
                     std::string(xg::dtype_name(dt)));
        std::vector<double> v(static_cast<std::size_t>(n));
        for (std::int64_t k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = std::sin(double(k));
        v[static_cast<std::size_t>(pos)] = kNaN;
        const Tensor x = xg::tensor(v, xg::dtype(dt));
        EXPECT_TRUE(std::isnan(x.max().item()));
        EXPECT_TRUE(std::isnan(x.min().item()));
        EXPECT_TRUE(std::isnan(xg::amax(x, {0}).item()));
        EXPECT_TRUE(std::isnan(xg::amin(x, {0}).item()));
        EXPECT_TRUE(std::isnan(x.sum().item()));
        EXPECT_TRUE(std::isnan(xg::logsumexp(x, {0}).item()));
        // PyTorch's argmax/argmin treat NaN as the extreme: its index is returned.
        EXPECT_EQ(xg::argmax(x).item<std::int64_t>(), pos);
        EXPECT_EQ(xg::argmin(x).item<std::int64_t>(), pos);
      }
    }
  }
  // Along a dim: only the rows with a NaN become NaN.
  const Tensor m = xg::tensor({1, kNaN, 3, 4, 5, 6, kNaN, 0, -1}, {3, 3}, xg::kFloat64);
  const auto rows = values_of(xg::amax(m, {1}));
  EXPECT_TRUE(std::isnan(rows[0]));
  EXPECT_EQ(rows[1], 6.0);
  EXPECT_TRUE(std::isnan(rows[2]));
  const auto cols = values_of(xg::amax(m, {0}));
  EXPECT_TRUE(std::isnan(cols[0]));
  EXPECT_TRUE(std::isnan(cols[1]));
  EXPECT_EQ(cols[2], 6.0);
  const auto mins = values_of(xg::amin(m, {0}));
  EXPECT_TRUE(std::isnan(mins[0]));
  EXPECT_TRUE(std::isnan(mins[1]));
  EXPECT_EQ(mins[2], -1.0);
  // maximum/minimum: NaN on either side wins, elementwise.
  const Tensor a = xg::tensor({kNaN, 1, kNaN, 2}, xg::kFloat64);
  const Tensor b = xg::tensor({1, kNaN, kNaN, -2}, xg::kFloat64);
  for (const Tensor& r :
       {xg::maximum(a, b), xg::maximum(b, a), xg::minimum(a, b), xg::minimum(b, a)}) {
    const auto v = values_of(r);
    EXPECT_TRUE(std::isnan(v[0]) && std::isnan(v[1]) && std::isnan(v[2]));
  }
  EXPECT_EQ(values_of(xg::maximum(a, b))[3], 2.0);
  EXPECT_EQ(values_of(xg::minimum(a, b))[3], -2.0);
  // Longer arrays take vectorized paths: NaN must survive them too.
  std::vector<double> lv(1001, 1.0);
  lv[777] = kNaN;
  const Tensor la = xg::tensor(lv), lb = xg::zeros({1001});
  EXPECT_TRUE(std::isnan(values_of(xg::maximum(la, lb))[777]));
  EXPECT_TRUE(std::isnan(values_of(xg::maximum(lb, la))[777]));
  EXPECT_TRUE(std::isnan(values_of(xg::minimum(lb, la))[777]));
  EXPECT_EQ(values_of(xg::maximum(lb, la))[776], 1.0);
}

TEST(NaNPropagation, InfinitiesAreOrdinaryExtremes) {
  const Tensor x = xg::tensor({-kInf, 0, kInf, 5}, xg::kFloat64);
  EXPECT_EQ(x.max().item(), kInf);
  EXPECT_EQ(x.min().item(), -kInf);
  EXPECT_EQ(xg::argmax(x).item<std::int64_t>(), 2);
  EXPECT_EQ(xg::argmin(x).item<std::int64_t>(), 0);
  EXPECT_TRUE(std::isnan(x.sum().item()));  // inf - inf
  EXPECT_EQ(xg::tensor({kInf, 1}).sum().item(), kInf);
  EXPECT_EQ(xg::logsumexp(xg::tensor({-kInf, -kInf}), {0}).item(), -kInf);
  EXPECT_EQ(xg::logsumexp(xg::tensor({kInf, 1}), {0}).item(), kInf);
}

}  // namespace
