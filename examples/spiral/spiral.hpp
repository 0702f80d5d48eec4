// The spiral example's data and training loop, apart from its command line.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <xgrad/xgrad.hpp>

namespace spiral {

struct Options {
  std::uint64_t seed = 0;
  int steps = 1000;
  std::int64_t hidden = 100;
  double lr = 1e-2;
};

// Points [classes * points_per_class, 2] (Float32) and their classes (Int64).
struct Data {
  xg::Tensor x, y;
};

// CS231n's spiral: class k has the points (r sin t, r cos t) for r = linspace(0, 1, n) and
// t = linspace(4k, 4(k + 1), n) plus N(0, 0.2^2) noise, drawn from xg's generator.
Data make_spiral(std::int64_t points_per_class, std::int64_t classes);

struct Result {
  double loss;      // the cross-entropy after the last step
  double accuracy;  // on the training points
};

// Seeds xg's generator, makes 300 points per class of 3 classes, and trains
// Linear(2, hidden) -> ReLU -> Linear(hidden, 3) full-batch with cross_entropy and AdamW,
// printing "step S loss L" every 100 steps and the final "accuracy A" line.
Result run(const Options& opts, std::ostream& out);

}  // namespace spiral
