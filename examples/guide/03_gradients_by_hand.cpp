// Guide, section 3: the four gradients of the summed squared error, derived by hand, train the
// cubic (the tutorial's numpy version), and at every step autograd must produce the same
// numbers.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <limits>
#include <numbers>
#include <xgrad/xgrad.hpp>

int main() {
  xg::manual_seed(0);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);
  const xg::Tensor x2 = x.pow(2), x3 = x.pow(3);
  // The parameters as plain leaf tensors; requires_grad only so that autograd can be compared.
  xg::Tensor a = xg::randn({}, xg::requires_grad()), b = xg::randn({}, xg::requires_grad());
  xg::Tensor c = xg::randn({}, xg::requires_grad()), d = xg::randn({}, xg::requires_grad());
  const double learning_rate = 1e-6;

  // Both sides compute each gradient as a float32 sum of 2000 products, perhaps in another
  // order. xgrad sums 2000 values as two blocks, each with 8 accumulators of at most 128
  // values combined pairwise, so one such sum is off by at most about (127 + 4) u sum|t_i|,
  // u = 2^-24, and each product by u |t_i|: two computations differ by at most
  // 2 * 132 u sum|t_i| (about 1.6e-5 of sum|t_i|). A wrong formula misses by far more.
  const double u = std::numeric_limits<float>::epsilon() / 2;
  double worst = 0;  // the largest difference seen, as a fraction of its allowance
  for (int t = 0; t < 2000; ++t) {
    const xg::Tensor y_pred = a + b * x + c * x2 + d * x3;
    const xg::Tensor loss = (y_pred - y).pow(2).sum();

    // By hand (nothing to record, so grad mode off):
    //   loss = sum_i (y_pred_i - y_i)^2       dloss/dy_pred_i = 2 (y_pred_i - y_i)
    //   y_pred_i = a + b x_i + c x_i^2 + d x_i^3, so dy_pred_i/da = 1, /db = x_i, /dc = x_i^2,
    //   /dd = x_i^3, and each parameter's gradient sums over the points (the chain rule).
    xg::Tensor grad_a, grad_b, grad_c, grad_d, terms[4];
    {
      xg::NoGradGuard no_grad;
      const xg::Tensor grad_y_pred = 2.0 * (y_pred - y);
      terms[0] = grad_y_pred;
      terms[1] = grad_y_pred * x;
      terms[2] = grad_y_pred * x2;
      terms[3] = grad_y_pred * x3;
      grad_a = terms[0].sum();
      grad_b = terms[1].sum();
      grad_c = terms[2].sum();
      grad_d = terms[3].sum();
    }

    // By autograd.
    for (xg::Tensor* p : {&a, &b, &c, &d}) p->mutable_grad() = xg::Tensor();  // a.grad = None
    loss.backward();

    const xg::Tensor by_hand[4] = {grad_a, grad_b, grad_c, grad_d};
    const xg::Tensor by_autograd[4] = {a.grad(), b.grad(), c.grad(), d.grad()};
    for (int k = 0; k < 4; ++k) {
      const double allowed = 2 * 132 * u * xg::abs(terms[k]).sum().item();
      const double diff = std::abs(by_autograd[k].item() - by_hand[k].item());
      worst = std::max(worst, diff / allowed);
      if (!(diff <= allowed)) {
        std::cerr << "FAILED at step " << t << ": gradient " << k << " is " << by_autograd[k].item()
                  << " by autograd, " << by_hand[k].item() << " by hand\n";
        return 1;
      }
    }
    if (t == 0) {
      std::cout << "step 0, loss " << loss.item() << "\n"
                << "  grad_a: by hand " << grad_a.item() << ", autograd " << a.grad().item() << "\n"
                << "  grad_b: by hand " << grad_b.item() << ", autograd " << b.grad().item() << "\n"
                << "  grad_c: by hand " << grad_c.item() << ", autograd " << c.grad().item() << "\n"
                << "  grad_d: by hand " << grad_d.item() << ", autograd " << d.grad().item()
                << "\n";
    }

    // The update, with the hand-derived gradients, under no-grad: an update is not part of
    // the model's computation.
    xg::NoGradGuard no_grad;
    a -= learning_rate * grad_a;
    b -= learning_rate * grad_b;
    c -= learning_rate * grad_c;
    d -= learning_rate * grad_d;
  }
  std::cout << "2000 steps: autograd matched the hand-derived gradients at every step (largest "
               "difference "
            << worst << " of the allowance)\n"
            << "y = " << a.item() << " + " << b.item() << " x + " << c.item() << " x^2 + "
            << d.item() << " x^3\n";
  return 0;
}
