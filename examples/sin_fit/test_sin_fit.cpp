// The sin-fit example's modes agree: hand-derived and autograd gradients drive the same descent.
#include <gtest/gtest.h>

#include <sstream>

#include "sin_fit.hpp"

namespace {

sin_fit::Outcome fit(const std::string& mode, xg::Dtype dtype) {
  sin_fit::Options opts;
  opts.mode = mode;
  opts.dtype = dtype;
  opts.seed = 7;
  opts.check = mode == "autograd";
  std::ostringstream out;
  return sin_fit::run(opts, out);
}

void expect_same(const sin_fit::Outcome& a, const sin_fit::Outcome& b, double tol) {
  EXPECT_NEAR(a.a, b.a, tol);
  EXPECT_NEAR(a.b, b.b, tol);
  EXPECT_NEAR(a.c, b.c, tol);
  EXPECT_NEAR(a.d, b.d, tol);
}

}  // namespace

// Both modes compute the same sums in a different order; after 2000 steps the coefficients
// (of size about 1) differ by accumulated rounding only: a few float32 ulps per step at most.
TEST(SinFit, ManualAndAutogradAgreeFloat32) {
  expect_same(fit("manual", xg::kFloat32), fit("autograd", xg::kFloat32), 1e-4);
}

TEST(SinFit, ManualAndAutogradAgreeFloat64) {
  expect_same(fit("manual", xg::kFloat64), fit("autograd", xg::kFloat64), 1e-12);
}

// --mode adamw (Llama 2's AdamW settings, lr 1e-2 annealed to 1e-3) reaches the least-squares
// cubic within 2000 steps from every random start: within 0.1% of its loss (8.817).
TEST(SinFit, AdamWReachesTheLeastSquaresOptimum) {
  for (std::uint64_t seed = 0; seed < 8; ++seed) {
    sin_fit::Options opts;
    opts.mode = "adamw";
    opts.seed = seed;
    std::ostringstream out;
    const sin_fit::Outcome o = sin_fit::run(opts, out);
    EXPECT_GT(o.optimum_loss, 8.8);
    EXPECT_LT(o.optimum_loss, 8.83);
    EXPECT_LT(o.final_loss, o.optimum_loss * 1.001) << "seed " << seed;
  }
}

// --check ends with its report: the steps checked (only this process's, after a resume), the
// largest differences per coefficient, all within the dtype's tolerance, and the tolerance.
TEST(SinFit, CheckReportsWhatItChecked) {
  for (const xg::Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    sin_fit::Options opts;
    opts.mode = "autograd";
    opts.dtype = dtype;
    opts.check = true;
    opts.steps = 300;
    std::ostringstream out;
    const sin_fit::Outcome o = sin_fit::run(opts, out);
    EXPECT_EQ(o.check_steps, 300);
    EXPECT_EQ(o.check_rtol, dtype == xg::kFloat64 ? 1e-12 : 1e-5);
    for (int k = 0; k < 4; ++k) {
      EXPECT_GE(o.check_max_abs[k], 0);
      EXPECT_LE(o.check_max_rel[k], o.check_rtol) << k;
    }
    std::string text = out.str(), last;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) last = line;
    EXPECT_EQ(last.rfind("--check: 300 steps, autograd against the hand-derived gradients", 0), 0u)
        << last;
    EXPECT_NE(last.find(dtype == xg::kFloat64 ? "tolerance 1e-12 relative (Float64)"
                                              : "tolerance 1e-05 relative (Float32)"),
              std::string::npos)
        << last;
  }
  // without --check, no report
  sin_fit::Options plain;
  plain.steps = 10;
  std::ostringstream out;
  EXPECT_EQ(sin_fit::run(plain, out).check_steps, 0);
  EXPECT_EQ(out.str().find("--check"), std::string::npos);
}
