// Guide, section 4: SGD and AdamW. Checks three steps of each against their update rules
// written out, then trains the sin-fit cubic with each and checks that AdamW with Llama 2's
// settings reaches the best cubic.
#include <cmath>
#include <iostream>
#include <numbers>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

// The sin-fit cubic of section 2.
struct Cubic : xg::nn::Module {
  Cubic() : Module("Cubic") {
    a = register_parameter("a", xg::randn({}));
    b = register_parameter("b", xg::randn({}));
    c = register_parameter("c", xg::randn({}));
    d = register_parameter("d", xg::randn({}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    return a + b * x + c * x.pow(2) + d * x.pow(3);
  }
  xg::Tensor a, b, c, d;
};

// Trains a fresh cubic (same seed, so the same start) with the optimizer `make` builds, its lr
// cosine-annealed to a tenth over the run when `cosine` is set, and returns the loss before
// the first step and after the last.
template <class MakeOptimizer>
std::pair<double, double> train(MakeOptimizer make, int iterations, bool cosine = false) {
  xg::manual_seed(0);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);
  Cubic model;
  auto optimizer = make(model.parameters());
  const double peak_lr = optimizer.param_groups()[0].options().get_lr();
  xg::optim::CosineAnnealingLR schedule(optimizer, iterations, cosine ? peak_lr / 10 : peak_lr);
  double first = 0;
  for (int t = 0; t < iterations; ++t) {
    const xg::Tensor loss = (model.forward(x) - y).pow(2).sum();
    if (t == 0) first = loss.item();
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    schedule.step();
  }
  xg::NoGradGuard no_grad;
  return {first, (model.forward(x) - y).pow(2).sum().item()};
}

int main() {
  bool ok = true;
  // ---- the update rules, three steps on one parameter vector with a fixed gradient ----
  // loss = sum(g * p) has gradient g whatever p is. Float64, so the rules can be checked to
  // 1e-12: each step is a handful of roundings of numbers near 1 (about 1e-16 each).
  const std::vector<double> g = {0.5, -2.0, 1e-3};
  const xg::Tensor g_t = xg::tensor(g, xg::kFloat64);
  auto start = [] { return xg::ones({3}, xg::TensorOptions(xg::kFloat64).requires_grad(true)); };
  auto step = [&](xg::optim::Optimizer& opt, const xg::Tensor& p) {
    opt.zero_grad();
    (g_t * p).sum().backward();
    opt.step();
  };

  // SGD with momentum: buf = g at the first step, then buf = momentum * buf + g;
  // p -= lr * buf.
  const double lr = 0.1, momentum = 0.9;
  xg::Tensor p_sgd = start();
  xg::optim::SGD sgd({p_sgd}, xg::optim::SGDOptions(lr).momentum(momentum));
  // AdamW with Llama 2's settings (betas 0.9 and 0.95, eps 1e-5, weight decay 0.1):
  // p *= 1 - lr * weight_decay (decoupled decay); m and v are running means of g and g^2;
  // p -= lr * m_hat / (sqrt(v_hat) + eps), where m_hat, v_hat undo the means' bias to zero.
  const double beta1 = 0.9, beta2 = 0.95, eps = 1e-5, weight_decay = 0.1;
  xg::Tensor p_adamw = start();
  xg::optim::AdamW adamw(
      {p_adamw},
      xg::optim::AdamWOptions(lr).betas({beta1, beta2}).eps(eps).weight_decay(weight_decay));
  std::vector<double> want_sgd(3, 1.0), buf(3), want_adamw(3, 1.0), m(3, 0.0), v(3, 0.0);
  for (int t = 1; t <= 3; ++t) {
    step(sgd, p_sgd);
    step(adamw, p_adamw);
    for (int i = 0; i < 3; ++i) {
      buf[i] = t == 1 ? g[i] : momentum * buf[i] + g[i];
      want_sgd[i] -= lr * buf[i];
      want_adamw[i] *= 1 - lr * weight_decay;
      m[i] = beta1 * m[i] + (1 - beta1) * g[i];
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
      const double m_hat = m[i] / (1 - std::pow(beta1, t));
      const double v_hat = v[i] / (1 - std::pow(beta2, t));
      want_adamw[i] -= lr * m_hat / (std::sqrt(v_hat) + eps);
    }
  }
  const auto got_sgd = p_sgd.to_xarray<double>(), got_adamw = p_adamw.to_xarray<double>();
  for (int i = 0; i < 3; ++i) {
    std::cout << "g = " << g[i] << ": after 3 steps SGD p = " << got_sgd(i)
              << ", AdamW p = " << got_adamw(i) << "\n";
    ok = ok && std::abs(got_sgd(i) - want_sgd[i]) < 1e-12 &&
         std::abs(got_adamw(i) - want_adamw[i]) < 1e-12;
  }

  // ---- the sin fit with each ----
  const int iterations = 2000;
  auto [sgd_first, sgd_last] = train(
      [](std::vector<xg::Tensor> p) { return xg::optim::SGD(p, xg::optim::SGDOptions(1e-6)); },
      iterations);
  // PyTorch's defaults (betas 0.9 and 0.999, eps 1e-8, weight decay 0.01) at lr 1e-2...
  auto [defaults_first, defaults_last] = train(
      [](std::vector<xg::Tensor> p) { return xg::optim::AdamW(p, xg::optim::AdamWOptions(1e-2)); },
      iterations);
  // ...and Llama 2's: beta2 0.95, eps 1e-5, weight decay 0.1, lr 1e-2 annealed to 1e-3.
  auto [llama_first, llama_last] = train(
      [](std::vector<xg::Tensor> p) {
        return xg::optim::AdamW(
            p, xg::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-5).weight_decay(0.1));
      },
      iterations, /*cosine=*/true);
  std::cout << "sin fit, " << iterations << " steps from a loss of " << sgd_first
            << ": SGD(lr 1e-6) " << sgd_last << ", AdamW(PyTorch's defaults) " << defaults_last
            << ", AdamW(Llama 2's settings) " << llama_last << "\n";
  // The best cubic's loss is 8.81717 (section 2): Llama 2's settings must reach it within
  // 0.1%; PyTorch's defaults must at least lower the loss.
  ok = ok && llama_last < 8.81717 * 1.001 && defaults_last < defaults_first;
  if (!ok) {
    std::cerr << "FAILED\n";
    return 1;
  }
  return 0;
}
