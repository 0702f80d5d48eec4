// Fits y = sin(x) on [-pi, pi] with a cubic polynomial by gradient descent, with the gradients
// derived by hand: the seed program of xgrad, written with xgrad tensor ops.
#include <CLI/CLI.hpp>
#include <cstdint>
#include <iostream>
#include <numbers>
#include <xgrad/xgrad.hpp>

int main(int argc, char** argv) {
  CLI::App app{"Fit y = a + b x + c x^2 + d x^3 to sin(x) with hand-derived gradients."};
  std::uint64_t seed = 0;
  int steps = 2000;
  app.add_option("--seed", seed, "seed for the initial draw of a, b, c, d")->capture_default_str();
  app.add_option("--steps", steps, "number of gradient-descent steps")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  xg::manual_seed(seed);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);

  // Randomly initialize the weights: 0-d tensors drawn from a standard normal.
  xg::Tensor a = xg::randn({});
  xg::Tensor b = xg::randn({});
  xg::Tensor c = xg::randn({});
  xg::Tensor d = xg::randn({});

  const double learning_rate = 1e-6;
  for (int t = 0; t < steps; ++t) {
    // Forward pass: predict y.
    const xg::Tensor y_pred = a + b * x + c * xg::pow(x, 2) + d * xg::pow(x, 3);

    const double loss = xg::pow(y_pred - y, 2).sum().item();
    if (t % 100 == 99) std::cout << t << ' ' << loss << '\n';

    // Backward pass by hand: the gradients of the loss with respect to a, b, c, d.
    const xg::Tensor grad_y_pred = 2.0 * (y_pred - y);
    const xg::Tensor grad_a = grad_y_pred.sum();
    const xg::Tensor grad_b = (grad_y_pred * x).sum();
    const xg::Tensor grad_c = (grad_y_pred * xg::pow(x, 2)).sum();
    const xg::Tensor grad_d = (grad_y_pred * xg::pow(x, 3)).sum();

    a -= learning_rate * grad_a;
    b -= learning_rate * grad_b;
    c -= learning_rate * grad_c;
    d -= learning_rate * grad_d;
  }

  std::cout << "Result: y = " << a.item() << " + " << b.item() << " x + " << c.item() << " x^2 + "
            << d.item() << " x^3\n";
  return 0;
}
