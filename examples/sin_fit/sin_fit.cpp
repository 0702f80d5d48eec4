// Fits y = sin(x) on [-pi, pi] with y = a + b x + c x^2 + d x^3 by full-batch gradient descent on
// the summed squared error (learning rate 1e-6): the seed program of xgrad.
//   manual:   gradients derived by hand: grad_a = sum 2 (y_pred - y), grad_b = ... x, and so on
//   autograd: the same loop with loss.backward(), the updates under NoGradGuard
//   sgd:      the same loop with xg::optim::SGD (lr 1e-6): the same numbers as autograd
//   adamw:    xg::optim::AdamW with lr 1e-2
// Each mode ends by printing its final loss next to the least-squares optimum's.
#include "sin_fit.hpp"

#include <array>
#include <cmath>
#include <memory>
#include <numbers>
#include <ostream>
#include <stdexcept>

namespace sin_fit {
namespace {

constexpr double kLearningRate = 1e-6;

struct Data {
  xg::Tensor x, y;
};

struct Params {
  xg::Tensor a, b, c, d;
};

Data make_data(xg::Dtype dtype) {
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000, dtype);
  return {x, xg::sin(x)};
}

// Randomly initialized weights: 0-d tensors drawn from a standard normal.
Params init_params(const Options& opts) {
  xg::manual_seed(opts.seed);
  const xg::Dtype dtype = opts.dtype;
  return {xg::randn({}, dtype), xg::randn({}, dtype), xg::randn({}, dtype), xg::randn({}, dtype)};
}

xg::Tensor predict(const Data& data, const Params& p) {
  return p.a + p.b * data.x + p.c * xg::pow(data.x, 2) + p.d * xg::pow(data.x, 3);
}

// The gradients of loss = sum((y_pred - y)^2), derived by hand.
struct HandGradients {
  xg::Tensor loss, a, b, c, d;
  double scale[4];  // sum |2 (y_pred - y) x^k|, k = 0..3: the size of each sum's rounding error
};

HandGradients hand_gradients(const Data& data, const Params& p) {
  xg::NoGradGuard no_grad;
  const xg::Tensor y_pred = predict(data, p);
  const xg::Tensor grad_y_pred = 2.0 * (y_pred - data.y);
  const xg::Tensor x2 = xg::pow(data.x, 2), x3 = xg::pow(data.x, 3);
  HandGradients g{xg::pow(y_pred - data.y, 2).sum(), grad_y_pred.sum(),
                  (grad_y_pred * data.x).sum(),      (grad_y_pred * x2).sum(),
                  (grad_y_pred * x3).sum(),          {}};
  const xg::Tensor powers[4] = {xg::ones_like(data.x), data.x, x2, x3};
  for (int k = 0; k < 4; ++k) g.scale[k] = xg::abs(grad_y_pred * powers[k]).sum().item();
  return g;
}

// Throws when autograd's gradient differs from the hand-derived one by more than summation
// rounding explains: a relative error of rtol on the sum of the absolute terms.
void check_gradients(int step, const Params& p, const HandGradients& hand, xg::Dtype dtype) {
  const double rtol = dtype == xg::kFloat64 ? 1e-12 : 1e-5;
  const char* names[4] = {"a", "b", "c", "d"};
  const xg::Tensor* by_autograd[4] = {&p.a, &p.b, &p.c, &p.d};
  const xg::Tensor* by_hand[4] = {&hand.a, &hand.b, &hand.c, &hand.d};
  for (int k = 0; k < 4; ++k) {
    const double got = by_autograd[k]->grad().item();
    const double want = by_hand[k]->item();
    if (!(std::abs(got - want) <= rtol * hand.scale[k])) {
      throw std::runtime_error("--check: at step " + std::to_string(step) + " the gradient of " +
                               names[k] + " is " + std::to_string(got) + " by autograd but " +
                               std::to_string(want) + " by hand");
    }
  }
}

// The loss of the best cubic: the least-squares solution of the 4x4 normal equations
// (X^T X) w = X^T y with X = [1, x, x^2, x^3], solved in double by Gaussian elimination.
double least_squares_loss(const Data& data) {
  const xg::Tensor x = data.x.to(xg::kFloat64), y = data.y.to(xg::kFloat64);
  const xg::Tensor features[4] = {xg::ones_like(x), x, x * x, x * x * x};
  std::array<std::array<double, 5>, 4> m{};  // [X^T X | X^T y]
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) m[i][j] = (features[i] * features[j]).sum().item();
    m[i][4] = (features[i] * y).sum().item();
  }
  for (int col = 0; col < 4; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 4; ++r) {
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    }
    std::swap(m[col], m[pivot]);
    for (int r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double f = m[r][col] / m[col][col];
      for (int k = col; k < 5; ++k) m[r][k] -= f * m[col][k];
    }
  }
  xg::Tensor fit = xg::zeros_like(x);
  for (int i = 0; i < 4; ++i) fit = fit + features[i] * (m[i][4] / m[i][i]);
  return xg::pow(fit - y, 2).sum().item();
}

Coefficients finish(const Data& data, const Params& p, std::ostream& out) {
  const Coefficients c{p.a.item(), p.b.item(), p.c.item(), p.d.item()};
  const double loss = xg::pow(predict(data, p) - data.y, 2).sum().item();
  out << "Final loss " << loss << " (least-squares optimum " << least_squares_loss(data) << ")\n";
  out << "Result: y = " << c.a << " + " << c.b << " x + " << c.c << " x^2 + " << c.d << " x^3\n";
  return c;
}

Coefficients run_manual(const Options& opts, std::ostream& out) {
  const Data data = make_data(opts.dtype);
  Params p = init_params(opts);
  for (int t = 0; t < opts.steps; ++t) {
    const HandGradients g = hand_gradients(data, p);
    if (t % 100 == 99) out << t << ' ' << g.loss.item() << '\n';
    p.a -= kLearningRate * g.a;
    p.b -= kLearningRate * g.b;
    p.c -= kLearningRate * g.c;
    p.d -= kLearningRate * g.d;
  }
  return finish(data, p, out);
}

Coefficients run_autograd(const Options& opts, std::ostream& out) {
  const Data data = make_data(opts.dtype);
  Params p = init_params(opts);
  xg::Tensor* weights[4] = {&p.a, &p.b, &p.c, &p.d};
  for (xg::Tensor* w : weights) w->requires_grad_();
  for (int t = 0; t < opts.steps; ++t) {
    const xg::Tensor loss = xg::pow(predict(data, p) - data.y, 2).sum();
    if (t % 100 == 99) out << t << ' ' << loss.item() << '\n';
    for (xg::Tensor* w : weights) w->mutable_grad() = xg::Tensor();
    loss.backward();
    if (opts.check) check_gradients(t, p, hand_gradients(data, p), opts.dtype);
    xg::NoGradGuard no_grad;
    for (xg::Tensor* w : weights) *w -= kLearningRate * w->grad();
  }
  return finish(data, p, out);
}

// The autograd loop with an optimizer doing the update: SGD, or AdamW.
Coefficients run_optimizer(const Options& opts, std::ostream& out) {
  const Data data = make_data(opts.dtype);
  Params p = init_params(opts);
  std::vector<xg::Tensor> weights{p.a, p.b, p.c, p.d};  // handles on the same tensors
  for (auto& w : weights) w.requires_grad_();
  std::unique_ptr<xg::optim::Optimizer> optimizer;
  if (opts.mode == "sgd") {
    optimizer = std::make_unique<xg::optim::SGD>(weights, xg::optim::SGDOptions(kLearningRate));
  } else {
    optimizer = std::make_unique<xg::optim::AdamW>(weights, xg::optim::AdamWOptions(1e-2));
  }
  for (int t = 0; t < opts.steps; ++t) {
    const xg::Tensor loss = xg::pow(predict(data, p) - data.y, 2).sum();
    if (t % 100 == 99) out << t << ' ' << loss.item() << '\n';
    optimizer->zero_grad();
    loss.backward();
    if (opts.check) check_gradients(t, p, hand_gradients(data, p), opts.dtype);
    optimizer->step();
  }
  return finish(data, p, out);
}

}  // namespace

Coefficients run(const Options& opts, std::ostream& out) {
  if (opts.mode == "manual") return run_manual(opts, out);
  if (opts.mode == "autograd") return run_autograd(opts, out);
  if (opts.mode == "sgd" || opts.mode == "adamw") return run_optimizer(opts, out);
  throw std::invalid_argument("sin_fit: unknown mode '" + opts.mode + "'");
}

}  // namespace sin_fit
