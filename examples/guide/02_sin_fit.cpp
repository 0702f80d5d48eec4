// Guide, section 2: the five steps of training (data, model, loss, optimizer, loop), fitting
// y = sin(x) on [-pi, pi] with a cubic, as PyTorch's "Learning PyTorch with Examples" does.
// Checks that training brings the loss down to near the best cubic's.
#include <iostream>
#include <numbers>
#include <xgrad/xgrad.hpp>

// Step 2, the model: y_pred = a + b x + c x^2 + d x^3. Its four parameters start as draws
// from a standard normal; training will move them.
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

// Step 3, the loss: the summed squared error, sum_i (y_pred_i - y_i)^2.
xg::Tensor loss_fn(const xg::Tensor& y_pred, const xg::Tensor& y) {
  return (y_pred - y).pow(2).sum();
}

int main() {
  xg::manual_seed(0);  // the same initial parameters at every run

  // Step 1, the data: 2000 inputs evenly spaced on [-pi, pi] and their targets.
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);

  Cubic model;

  // Step 4, the optimizer: plain gradient descent, p -= learning_rate * p.grad().
  // The learning rate and the number of iterations are hyperparameters: we choose them,
  // training does not change them.
  const double learning_rate = 1e-6;
  const int iterations = 2000;
  xg::optim::SGD optimizer(model.parameters(), xg::optim::SGDOptions(learning_rate));

  // Step 5, the training loop.
  double first_loss = 0, last_loss = 0;
  for (int t = 0; t < iterations; ++t) {
    const xg::Tensor y_pred = model.forward(x);  // the predictions
    const xg::Tensor loss = loss_fn(y_pred, y);  // how wrong they are: one number
    optimizer.zero_grad();                       // forget the previous step's gradients
    loss.backward();                             // d loss / d p into every p.grad()
    optimizer.step();                            // the update
    last_loss = loss.item();
    if (t == 0) first_loss = last_loss;
    if (t % 500 == 499) std::cout << "iteration " << t + 1 << ": loss " << last_loss << "\n";
  }
  std::cout << "y = " << model.a.item() << " + " << model.b.item() << " x + " << model.c.item()
            << " x^2 + " << model.d.item() << " x^3\n";

  // The best cubic (least squares) has a loss of about 8.8 on these points; gradient descent
  // from a random start gets within a few units of it in 2000 steps. Above 100 it has
  // diverged or a gradient is wrong.
  if (!(last_loss < 100 && last_loss < first_loss)) {
    std::cerr << "FAILED: the loss went from " << first_loss << " to " << last_loss << "\n";
    return 1;
  }
  return 0;
}
