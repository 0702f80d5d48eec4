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
