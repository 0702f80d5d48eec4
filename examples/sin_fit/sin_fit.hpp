// The sin-fit program's training loops, apart from its command line, so tests can run them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <xgrad/xgrad.hpp>

namespace sin_fit {

struct Options {
  std::string mode = "autograd";  // manual | autograd | sgd | adamw
  xg::Dtype dtype = xg::kFloat32;
  std::uint64_t seed = 0;
  int steps = 2000;
  bool check =
      false;  // autograd, sgd, adamw: fail when a gradient differs from the hand-derived one
};

// y = a + b x + c x^2 + d x^3
struct Coefficients {
  double a, b, c, d;
};

// Trains as opts says, printing "t loss" every 100 steps and the final "Result: ..." line.
// Throws std::runtime_error when --check finds a gradient that differs.
Coefficients run(const Options& opts, std::ostream& out);

}  // namespace sin_fit
