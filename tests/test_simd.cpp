// The kernels compiled per instruction set (tensor/simd.hpp): every set this CPU runs, checked
// against the math in long double. Transcendental functions are held to the ulps bounds below
// (docs/performance.md, "Vector instructions", lists them); the arithmetic, the sums and Adam's
// update must agree to the bit with the scalar formulas on every set; and a value's result must
// not depend on where a thread's range starts (the partial vector at the end of a range goes
// through the same code).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>
#include <xgrad/tensor/random.hpp>
#include <xgrad/tensor/simd.hpp>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"

namespace {

namespace simd = xg::detail::simd;
using simd::Isa;
using simd::MathOp;

// The sets this test runs on: each compiled in and runnable here; a missing one is reported.
std::vector<const simd::Kernels*> runnable() {
  std::vector<const simd::Kernels*> out;
  for (int i = 0; i < simd::kIsaCount; ++i) {
    if (const auto* k = simd::kernels_for(static_cast<Isa>(i))) out.push_back(k);
  }
  return out;
}

// Restores the active table a test changed.
class ActiveKernels {
 public:
  ActiveKernels() : saved_(simd::active().isa) {}
  ~ActiveKernels() { simd::set_active(saved_); }

 private:
  Isa saved_;
};

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

// The distance from got to the exact value in units of T's spacing at the exact value; with
// `mixed`, in units of the spacing at max(|exact|, 1) (an absolute error below 1, for functions
// whose small values come from cancellation, as GELU's for negative x).
template <class T>
double ulps(T got, long double exact, bool mixed = false) {
  if (std::isnan(exact)) return std::isnan(got) ? 0 : 1e30;
  if (std::isinf(exact)) return got == static_cast<T>(exact) ? 0 : 1e30;
  if (std::isnan(got) || std::isinf(got)) return 1e30;
  long double scale = std::fabs(exact);
  if (mixed) scale = std::max(scale, 1.0L);
  // the spacing of T at scale; the smallest subnormal's below T's normal range
  int e = 0;
  std::frexp(static_cast<double>(scale), &e);
  const long double spacing = std::ldexp(
      1.0L, std::max(e - std::numeric_limits<T>::digits,
                     std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits));
  return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / spacing);
}

long double gelu_exact(long double x) { return 0.5L * x * (1 + std::erf(x / std::sqrt(2.0L))); }
long double gelu_tanh_exact(long double x) {
  const long double beta = std::sqrt(2 / 3.14159265358979323846264338327950288L);
  return 0.5L * x * (1 + std::tanh(beta * (x + 0.044715L * x * x * x)));
}

struct MathCase {
  MathOp op;
  const char* name;
  long double (*exact)(long double);
  double lo, hi;                   // the range of the random inputs
  double float_ulps, double_ulps;  // the bounds
  bool mixed;
};

// The bounds, per function, in ulps of the result (mixed: below 1, of 1). sqrt and 1/x are
// correctly rounded; rsqrt rounds twice. Measured on 20,000 random inputs (the worst, on SSE2
// and AVX2 alike): exp 1.3 / 0.8 (float / double), log 0.7 / 0.7, log1p 0.5 / 0.6, sin and cos
// 1.5 / 1.4, tanh 1.2 / 1.1, sigmoid 2.1 / 1.8, erf 2.2 / 68, gelu 1.2 / 52, gelu(tanh)
// 1.3 / 1.2.
const MathCase kMathCases[] = {
    {MathOp::Exp, "exp", [](long double x) { return std::exp(x); }, -80, 80, 2, 2, false},
    {MathOp::Log, "log", [](long double x) { return std::log(x); }, 1e-30, 1e30, 2, 2, false},
    {MathOp::Log1p, "log1p", [](long double x) { return std::log1p(x); }, -0.999, 1e6, 2, 2, false},
    {MathOp::Sqrt, "sqrt", [](long double x) { return std::sqrt(x); }, 0, 1e6, 0.5, 0.5, false},
    {MathOp::Rsqrt, "rsqrt", [](long double x) { return 1 / std::sqrt(x); }, 1e-6, 1e6, 1.5, 1.5,
     false},
    {MathOp::Reciprocal, "reciprocal", [](long double x) { return 1 / x; }, -1e6, 1e6, 0.5, 0.5,
     false},
    {MathOp::Sin, "sin", [](long double x) { return std::sin(x); }, -100, 100, 2, 2, false},
    {MathOp::Cos, "cos", [](long double x) { return std::cos(x); }, -100, 100, 2, 2, false},
    {MathOp::Tanh, "tanh", [](long double x) { return std::tanh(x); }, -20, 20, 3, 3, false},
    {MathOp::Sigmoid, "sigmoid", [](long double x) { return 1 / (1 + std::exp(-x)); }, -80, 80, 3,
     3, false},
    // xsimd 8.1's erf in double is good to about 70 ulps (1e-14 relative), and GELU with it
    {MathOp::Erf, "erf", [](long double x) { return std::erf(x); }, -6, 6, 3, 100, false},
    {MathOp::Gelu, "gelu", gelu_exact, -10, 10, 4, 100, true},
    {MathOp::GeluTanh, "gelu(tanh)", gelu_tanh_exact, -10, 10, 4, 4, true},
};

template <class T>
std::vector<T> inputs(double lo, double hi, std::size_t n, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<T> x(n);
  if (lo > 0 && hi / lo > 1e3) {  // log-uniform over decades
    std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
    for (auto& v : x) v = static_cast<T>(std::exp(u(gen)));
  } else {
    std::uniform_real_distribution<double> u(lo, hi);
    for (auto& v : x) v = static_cast<T>(u(gen));
  }
  return x;
}

template <class T>
void check_math(const simd::Kernels& k, const MathCase& c) {
  const auto x = inputs<T>(c.lo, c.hi, 20000, 17);
  std::vector<T> y(x.size());
  simd::table<T>(k).math(c.op, x.data(), y.data(), static_cast<std::int64_t>(x.size()));
  const double bound = sizeof(T) == 4 ? c.float_ulps : c.double_ulps;
  double worst = 0;
  std::size_t at = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double u = ulps<T>(y[i], c.exact(static_cast<long double>(x[i])), c.mixed);
    if (u > worst) {
      worst = u;
      at = i;
    }
  }
  EXPECT_LE(worst, bound) << k.name << " " << c.name << (sizeof(T) == 4 ? " float" : " double")
                          << " at x = " << x[at] << ": " << y[at] << " against "
                          << static_cast<double>(c.exact(x[at]));
}

TEST(Simd, TheDefaultSetIsAlwaysThereAndTheActiveOneIsNamed) {
  ASSERT_NE(simd::kernels_for(Isa::Default), nullptr);
  EXPECT_EQ(xg::get_cpu_capability(), std::string(simd::active().name));
  if (std::getenv("XGRAD_CPU_CAPABILITY") == nullptr) {  // then the best this CPU runs
    EXPECT_EQ(simd::active().isa, runnable().back()->isa);
  }
  ActiveKernels restore;
  simd::set_active(Isa::Default);
  EXPECT_TRUE(xg::get_cpu_capability() == "DEFAULT" || xg::get_cpu_capability() == "NATIVE");
  if (simd::kernels_for(Isa::Avx512) == nullptr) {
    EXPECT_THROW(simd::set_active(Isa::Avx512), std::invalid_argument);
  }
}

TEST(Simd, MathIsWithinItsUlpsBoundsOnEverySet) {
  for (const auto* k : runnable()) {
    for (const auto& c : kMathCases) {
      check_math<float>(*k, c);
      check_math<double>(*k, c);
    }
  }
  if (simd::kernels_for(Isa::Avx512) == nullptr) {
    std::cout << "[ note ] this CPU does not run AVX-512: those kernels are not checked here\n";
  }
}

template <class T>
void check_special_values(const simd::Kernels& k) {
  const T inf = std::numeric_limits<T>::infinity(), nan = std::numeric_limits<T>::quiet_NaN();
  struct Special {
    MathOp op;
    T x, y;
  };
  const Special cases[] = {
      {MathOp::Exp, -inf, 0},       {MathOp::Exp, inf, inf},      {MathOp::Exp, T(-1000), 0},
      {MathOp::Exp, T(1000), inf},  {MathOp::Log, 0, -inf},       {MathOp::Log, inf, inf},
      {MathOp::Log, T(-1), nan},    {MathOp::Log1p, T(-1), -inf}, {MathOp::Tanh, inf, 1},
      {MathOp::Tanh, -inf, -1},     {MathOp::Sigmoid, inf, 1},    {MathOp::Sigmoid, -inf, 0},
      {MathOp::Erf, inf, 1},        {MathOp::Erf, -inf, -1},      {MathOp::Sqrt, T(-1), nan},
      {MathOp::Reciprocal, 0, inf}, {MathOp::Gelu, -inf, nan},  // -inf * 0, as PyTorch's
      {MathOp::Gelu, inf, inf},     {MathOp::Relu, nan, nan},     {MathOp::Relu, T(-2), 0},
      {MathOp::Exp, nan, nan},      {MathOp::Tanh, nan, nan},     {MathOp::Sin, nan, nan},
  };
  for (const auto& c : cases) {
    T y = 0;
    simd::table<T>(k).math(c.op, &c.x, &y, 1);
    if (std::isnan(c.y)) {
      EXPECT_TRUE(std::isnan(y)) << k.name << " op " << int(c.op) << " of " << c.x;
    } else {
      EXPECT_EQ(y, c.y) << k.name << " op " << int(c.op) << " of " << c.x;
    }
  }
}

TEST(Simd, SpecialValuesGiveWhatPyTorchGives) {
  for (const auto* k : runnable()) {
    check_special_values<float>(*k);
    check_special_values<double>(*k);
  }
}

// A value computed in a range of any length, at any offset, is the same bits as computed in
// one long range: the thread split cannot change a result.
TEST(Simd, AResultDoesNotDependOnWhereItsRangeStartsOrEnds) {
  const auto x = inputs<float>(-5, 5, 103, 3);
  for (const auto* k : runnable()) {
    for (const auto& c : kMathCases) {
      std::vector<float> whole(x.size()), parts(x.size());
      const auto& t = simd::table<float>(*k);
      t.math(c.op, x.data(), whole.data(), 103);
      for (std::int64_t b = 0, len = 1; b < 103; b += len, len = len % 13 + 2) {
        t.math(c.op, x.data() + b, parts.data() + b, std::min<std::int64_t>(len, 103 - b));
      }
      for (std::size_t i = 0; i < x.size(); ++i) {
        ASSERT_TRUE(same_bits(whole[i], parts[i])) << k->name << " " << c.name << " at " << i;
      }
    }
  }
}

template <class T>
void check_gelu_backward(const simd::Kernels& k) {
  const auto x = inputs<T>(-10, 10, 5000, 5);
  const auto g = inputs<T>(-2, 2, 5000, 6);
  std::vector<T> out(x.size());
  const long double beta = std::sqrt(2 / 3.14159265358979323846264338327950288L);
  const long double kappa = 0.044715L;
  for (bool tanh_form : {false, true}) {
    simd::table<T>(k).gelu_backward(tanh_form, g.data(), x.data(), out.data(),
                                    static_cast<std::int64_t>(x.size()));
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const long double v = x[i];
      long double d = 0;
      if (tanh_form) {
        const long double t = std::tanh(beta * (v + kappa * v * v * v));
        d = 0.5L * (1 + t) + 0.5L * v * (1 - t * t) * beta * (1 + 3 * kappa * v * v);
      } else {
        d = 0.5L * (1 + std::erf(v / std::sqrt(2.0L))) +
            v * std::exp(-0.5L * v * v) / std::sqrt(2 * 3.14159265358979323846264338327950288L);
      }
      worst = std::max(worst, ulps<T>(out[i], g[i] * d, /*mixed=*/true));
    }
    // measured: exact 1.7 / 29 ulps (float / double), tanh form 8.4 / 19.5
    EXPECT_LE(worst, sizeof(T) == 4 ? 16 : 64)
        << k.name << (tanh_form ? " tanh" : " exact") << " gelu backward";
  }
}

TEST(Simd, GeluBackwardIsWithinItsUlpsBoundOfTheDerivative) {
  for (const auto* k : runnable()) {
    check_gelu_backward<float>(*k);
    check_gelu_backward<double>(*k);
  }
}

template <class T>
void check_exact_kernels(const simd::Kernels& k) {
  auto a = inputs<T>(-3, 3, 1001, 8);
  auto b = inputs<T>(-3, 3, 1001, 9);
  a[5] = std::numeric_limits<T>::quiet_NaN();
  b[7] = std::numeric_limits<T>::quiet_NaN();
  a[10] = T(-0.0);  // signed zeros: maximum and minimum pick as the broadcasting loops do
  b[10] = T(0.0);
  a[11] = T(0.0);
  b[11] = T(-0.0);
  const auto n = static_cast<std::int64_t>(a.size());
  const auto& t = simd::table<T>(k);
  std::vector<T> out(a.size()), out_s(a.size()), out_f(a.size());
  using simd::ArithOp;
  for (ArithOp op : {ArithOp::Add, ArithOp::Sub, ArithOp::Mul, ArithOp::Div, ArithOp::Maximum,
                     ArithOp::Minimum}) {
    t.arith(op, a.data(), b.data(), out.data(), n);
    t.arith_scalar(op, a.data(), T(0.75), false, out_s.data(), n);
    t.arith_scalar(op, a.data(), T(0.75), true, out_f.data(), n);
    auto f = [op](T x, T y) -> T {
      switch (op) {
        case ArithOp::Add:
          return x + y;
        case ArithOp::Sub:
          return x - y;
        case ArithOp::Mul:
          return x * y;
        case ArithOp::Div:
          return x / y;
        case ArithOp::Maximum:  // tensor/nan_minmax.hpp's rule, as torch.maximum
          return std::isnan(x) || std::isnan(y) ? std::numeric_limits<T>::quiet_NaN()
                                                : (x > y ? x : y);
        case ArithOp::Minimum:
          return std::isnan(x) || std::isnan(y) ? std::numeric_limits<T>::quiet_NaN()
                                                : (x < y ? x : y);
      }
      return 0;
    };
    for (std::size_t i = 0; i < a.size(); ++i) {
      const T want = f(a[i], b[i]);
      ASSERT_TRUE(same_bits(out[i], want) || (std::isnan(out[i]) && std::isnan(want)))
          << k.name << " op " << int(op) << " at " << i;
      ASSERT_TRUE(same_bits(out_s[i], f(a[i], T(0.75))) || std::isnan(a[i])) << k.name;
      ASSERT_TRUE(same_bits(out_f[i], f(T(0.75), a[i])) || std::isnan(a[i])) << k.name;
    }
  }
  a[5] = 1;
  b[7] = 2;
  // sums: value i into accumulator i % 8, the eight joined pairwise, then the tail
  T acc[8] = {}, dacc[8] = {}, tail = 0, dtail = 0;
  const std::int64_t whole = n / 8 * 8;
  for (std::int64_t i = 0; i < whole; ++i) {
    acc[i % 8] += a[static_cast<std::size_t>(i)];
    const T p = a[static_cast<std::size_t>(i)] * b[static_cast<std::size_t>(i)];
    dacc[i % 8] += p;
  }
  for (std::int64_t i = whole; i < n; ++i) {
    tail += a[static_cast<std::size_t>(i)];
    const T p = a[static_cast<std::size_t>(i)] * b[static_cast<std::size_t>(i)];
    dtail += p;
  }
  auto join = [](const T* s, T last) {
    return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) + last;
  };
  EXPECT_TRUE(same_bits(t.sum(a.data(), n), join(acc, tail))) << k.name;
  EXPECT_TRUE(same_bits(t.dot(a.data(), b.data(), n), join(dacc, dtail))) << k.name;
}

TEST(Simd, ArithmeticAndSumsAreTheScalarFormulasToTheBitOnEverySet) {
  for (const auto* k : runnable()) {
    check_exact_kernels<float>(*k);
    check_exact_kernels<double>(*k);
  }
}

TEST(Simd, ExpShiftedWritesTheExpsAndReturnsTheirSum) {
  const auto x = inputs<float>(-10, 3, 777, 12);
  for (const auto* k : runnable()) {
    const auto& t = simd::table<float>(*k);
    std::vector<float> e(x.size()), direct(x.size()), shifted(x.size());
    const float sum = t.exp_shifted(x.data(), 2.5F, e.data(), 777);
    for (std::size_t i = 0; i < x.size(); ++i) shifted[i] = x[i] - 2.5F;
    t.math(MathOp::Exp, shifted.data(), direct.data(), 777);
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_TRUE(same_bits(e[i], direct[i])) << i;
    EXPECT_TRUE(same_bits(sum, t.sum(e.data(), 777))) << k->name;
  }
}

// Adam's update, every option, against the formula of PyTorch's documentation written out here.
template <class T>
void check_adam(const simd::Kernels& k) {
  for (int flags = 0; flags < 16; ++flags) {
    const bool decoupled = flags & 1, l2 = (flags & 2) && !decoupled, amsgrad = flags & 4,
               maximize = flags & 8;
    auto p = inputs<T>(-1, 1, 203, 20), g = inputs<T>(-1, 1, 203, 21);
    auto m = inputs<T>(-0.1, 0.1, 203, 22), v = inputs<T>(0, 0.01, 203, 23);
    auto vm = inputs<T>(0, 0.02, 203, 24);
    auto p2 = p, m2 = m, v2 = v, vm2 = vm;
    simd::AdamStep<T> s{
        p.data(), g.data(), m.data(),           v.data(), vm.data(), T(0.9),  T(0.999),  T(0.1),
        T(0.001), T(0.01),  T(1 - 1e-3 * 0.01), T(1e-8),  T(0.3),    T(2e-3), decoupled, l2,
        amsgrad,  maximize};
    simd::table<T>(k).adam(s, 0, 203);
    for (std::size_t i = 0; i < p2.size(); ++i) {
      T gi = maximize ? -g[i] : g[i];
      if (decoupled) p2[i] = p2[i] * s.decay;
      if (l2) gi = gi + s.weight_decay * p2[i];
      m2[i] = m2[i] * s.beta1 + s.one_minus_beta1 * gi;
      const T g2 = s.one_minus_beta2 * gi;
      v2[i] = v2[i] * s.beta2 + g2 * gi;
      T second = v2[i];
      if (amsgrad) second = vm2[i] = std::max(vm2[i], v2[i]);
      const T denom = std::sqrt(second) / s.bias_correction2_sqrt + s.eps;
      const T stepped = s.step_size * (m2[i] / denom);
      p2[i] = p2[i] - stepped;
      ASSERT_TRUE(same_bits(p[i], p2[i])) << k.name << " flags " << flags << " at " << i;
      ASSERT_TRUE(same_bits(m[i], m2[i]) && same_bits(v[i], v2[i])) << k.name << " " << i;
      if (amsgrad) {
        ASSERT_TRUE(same_bits(vm[i], vm2[i])) << k.name;
      }
    }
  }
}

TEST(Simd, AdamsUpdateIsItsFormulaToTheBitOnEverySet) {
  for (const auto* k : runnable()) {
    check_adam<float>(*k);
    check_adam<double>(*k);
  }
}

// The public ops run on the active table: xg::tanh and xg::exp give, to the bit, what each
// set's own kernel gives (the sets differ in their last bits), and a sum the same on all.
TEST(Simd, OpsFollowTheActiveSet) {
  ActiveKernels restore;
  const auto x = xg::linspace(-4, 4, 1001);
  const auto xs = xg_test::values(x);
  std::vector<float> in(xs.begin(), xs.end()), want(in.size());
  std::vector<float> first;
  for (const auto* k : runnable()) {
    simd::set_active(k->isa);
    EXPECT_EQ(xg::get_cpu_capability(), std::string(k->name));
    for (MathOp op : {MathOp::Tanh, MathOp::Exp}) {
      const auto got = xg_test::values(op == MathOp::Tanh ? xg::tanh(x) : xg::exp(x));
      k->f32.math(op, in.data(), want.data(), static_cast<std::int64_t>(in.size()));
      for (std::size_t i = 0; i < in.size(); ++i) {
        ASSERT_TRUE(same_bits(static_cast<float>(got[i]), want[i])) << k->name << " at " << i;
      }
    }
    const float v = (x * 1.5 + 0.25).sum().item<float>();
    if (first.empty()) {
      first.push_back(v);
    } else {
      EXPECT_TRUE(same_bits(v, first[0])) << k->name;
    }
  }
}

// Random123's known answers for Philox4x32-10 (its kat_vectors file): counter, key, output.
TEST(Philox, GivesRandom123sKnownAnswers) {
  struct Kat {
    std::uint32_t counter[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    std::uint32_t out[4];
    xg::philox4x32_10(k.counter, k.key, out);
    for (int w = 0; w < 4; ++w) EXPECT_EQ(out[w], k.out[w]) << "word " << w;
  }
}

// Each set's dropout keeps element i exactly when word i % 4 of Philox4x32-10 at counter i / 4
// is at least the threshold, whatever range it is computed in.
template <class T>
void check_dropout(const simd::Kernels& k) {
  const std::uint64_t key = 0x0123456789abcdefULL;
  const std::uint32_t threshold = 0x4ccccccd;  // p = 0.3
  const T scale = T(1 / 0.7);
  const auto x = inputs<T>(-2, 2, 1000, 30);
  std::vector<T> out(x.size(), T(-7)), mask(x.size(), T(-7));
  const auto& t = simd::table<T>(k);
  // in pieces of uneven lengths starting anywhere, as threads would
  for (std::int64_t b = 3, len = 1; b < 1000; b += len, len = len * 3 % 101 + 1) {
    t.dropout(x.data(), out.data(), mask.data(), b, std::min<std::int64_t>(b + len, 1000), key,
              threshold, scale);
  }
  EXPECT_EQ(out[0], T(-7)) << "an element before the range was written";
  const std::uint32_t key_words[2] = {static_cast<std::uint32_t>(key),
                                      static_cast<std::uint32_t>(key >> 32)};
  std::int64_t kept = 0;
  for (std::size_t i = 3; i < x.size(); ++i) {
    const std::uint64_t c = i / 4;
    const std::uint32_t counter[4] = {static_cast<std::uint32_t>(c),
                                      static_cast<std::uint32_t>(c >> 32), 0, 0};
    std::uint32_t words[4];
    xg::philox4x32_10(counter, key_words, words);
    const T want = words[i % 4] >= threshold ? scale : T(0);
    ASSERT_TRUE(same_bits(mask[i], want)) << k.name << " at " << i;
    ASSERT_TRUE(same_bits(out[i], x[i] * want)) << k.name << " at " << i;
    kept += want != 0;
  }
  // 997 draws kept with probability 0.7: within 5 standard deviations (72 +- 14.5)
  EXPECT_NEAR(static_cast<double>(kept), 0.7 * 997, 5 * std::sqrt(997 * 0.21)) << k.name;
}

TEST(Simd, DropoutMasksArePhiloxWordsOnEverySet) {
  for (const auto* k : runnable()) {
    check_dropout<float>(*k);
    check_dropout<double>(*k);
  }
}

// F::dropout: one node whose backward is grad * mask; the mask is reproducible from the
// generator's seed and the same on any number of threads; about p of a large tensor is zero.
TEST(Dropout, IsReproduciblePerSeedOnAnyThreadCountAndItsGradientIsTheMask) {
  namespace F = xg::nn::functional;
  using xg_test::values;
  const int saved_threads = xg::get_num_threads();
  const xg::Tensor x = xg::randn({300, 1000}, xg::Generator(4)).requires_grad_(true);
  std::vector<xg::Tensor> outs;
  for (int threads : {1, 2, 3}) {
    xg::set_num_threads(threads);
    outs.push_back(F::dropout(x, 0.25, true, xg::Generator(11)));
  }
  xg::set_num_threads(saved_threads);
  const auto y = values(outs[0]), xs = values(x);
  EXPECT_EQ(values(outs[1]), y);
  EXPECT_EQ(values(outs[2]), y);
  EXPECT_NE(outs[0].grad_fn_name().find("Dropout"), std::string::npos) << outs[0].grad_fn_name();
  outs[0].sum().backward();
  const auto grad = values(x.grad());
  std::int64_t zeros = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (y[i] == 0) {
      ++zeros;
      ASSERT_EQ(grad[i], 0) << i;
    } else {  // kept: x / (1 - p) in float, and the gradient 1 / (1 - p)
      ASSERT_EQ(y[i], static_cast<float>(xs[i]) * static_cast<float>(1 / 0.75)) << i;
      ASSERT_EQ(grad[i], static_cast<float>(1 / 0.75)) << i;
    }
  }
  const double n = 300 * 1000;
  EXPECT_NEAR(static_cast<double>(zeros) / n, 0.25, 5 * std::sqrt(0.25 * 0.75 / n));
  // another draw from the same generator gives another mask
  xg::Generator g(11);
  EXPECT_NE(values(F::dropout(x, 0.25, true, g)), values(F::dropout(x, 0.25, true, g)));
}

TEST(Dropout, PassesGradcheckAndGradgradcheck) {
  namespace F = xg::nn::functional;
  const xg::Tensor x = xg::randn({4, 7}, xg::Generator(2), xg::kFloat64).requires_grad_(true);
  auto fn = [](const std::vector<xg::Tensor>& in) {
    return F::dropout(in[0] * in[0], 0.4, true, xg::Generator(5));  // one mask on every call
  };
  const auto report = xg::autograd::gradcheck(fn, {x});
  EXPECT_TRUE(report.ok) << report.message;
  const auto grad_fn =
      xg_test::gradients_of(fn, [](const auto& g, const auto&) { return (g[0] * g[0]).sum(); });
  const auto report2 = xg::autograd::gradcheck(grad_fn, {x});
  EXPECT_TRUE(report2.ok) << report2.message;
}

}  // namespace
