// The sin-fit program's training loops, apart from its command line, so tests can run them.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <xgrad/xgrad.hpp>

namespace sin_fit {

// The modes follow PyTorch's "Learning PyTorch with Examples":
//   manual    gradients derived by hand            autograd  loss.backward(), manual update
//   sgd       xg::optim::SGD (lr 1e-6)
//   adamw     xg::optim::AdamW as for Llama 2: lr 1e-2 cosine-annealed to 1e-3 over 2000 steps,
//             betas (0.9, 0.95), eps 1e-5, weight decay 0.1
//   function  y = a + b P3(c + d x), P3 a custom autograd Function (lr 5e-6)
//   module    a Polynomial3 module and SGD          nn        Linear(3, 1) on (x, x^2, x^3)
//   dynamic   DynamicNet: adds e x^4 (and e x^5) at random; SGD momentum 0.9, lr 1e-8
struct Options {
  std::string mode = "autograd";
  xg::Dtype dtype = xg::kFloat32;
  std::uint64_t seed = 0;
  int steps = -1;      // -1: the mode's own (30000 for dynamic, 2000 otherwise)
  bool check = false;  // autograd, sgd, adamw: fail when a gradient differs from the hand-derived
  std::string save;    // write a checkpoint (model, optimizer, step) at the end
  std::string resume;  // continue from a checkpoint
  std::string plot;    // write an SVG figure: the fit and the loss curve
};

struct Outcome {
  double a = 0, b = 0, c = 0, d = 0;  // the mode's coefficients (see its Result line)
  double final_loss = 0;
  double optimum_loss = 0;  // the least-squares cubic's loss
  // With --check: the steps checked and, for a, b, c, d, the largest |autograd - hand| and the
  // largest relative to the sum of the absolute terms, which the tolerance check_rtol bounds.
  int check_steps = 0;
  double check_max_abs[4] = {};
  double check_max_rel[4] = {};
  double check_rtol = 0;
};

// Trains as opts says, printing "t loss" every 100 steps (2000 for dynamic), the final loss
// next to the optimum's, and a "Result: y = ..." line, then with check a "--check: N steps, ..."
// line (the largest differences per coefficient and the tolerance). Throws
// std::invalid_argument when check
// is set for a mode it does not apply to, std::runtime_error when --check finds a gradient that
// differs, or when a checkpoint does not fit.
Outcome run(const Options& opts, std::ostream& out);

// Writes an SVG figure: sin(x) and the fit on the left, the loss on a log scale on the right.
void write_plot(const std::string& path, const xg::Tensor& x, const xg::Tensor& y,
                const xg::Tensor& fit, const std::vector<double>& losses, int first_step);

}  // namespace sin_fit
