// Fits y = sin(x) on [-pi, pi] with y = a + b x + c x^2 + d x^3 by full-batch gradient descent on
// the summed squared error (learning rate 1e-6): the seed program of xgrad.
//   manual:   gradients derived by hand: grad_a = sum 2 (y_pred - y), grad_b = ... x, and so on
//   autograd: the same loop with loss.backward(), the updates under NoGradGuard
#include "sin_fit.hpp"

#include <cmath>
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

Coefficients finish(const Params& p, std::ostream& out) {
  const Coefficients c{p.a.item(), p.b.item(), p.c.item(), p.d.item()};
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
  return finish(p, out);
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
  return finish(p, out);
}

}  // namespace

Coefficients run(const Options& opts, std::ostream& out) {
  if (opts.mode == "manual") return run_manual(opts, out);
  if (opts.mode == "autograd") return run_autograd(opts, out);
  throw std::invalid_argument("sin_fit: unknown mode '" + opts.mode + "'");
}

}  // namespace sin_fit
