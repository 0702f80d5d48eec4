// Guide, section 1: ops record a graph; backward() walks it from the loss back to the leaves,
// multiplying local derivatives (the chain rule). Checks the gradients against the chain rule
// written out by hand.
#include <cmath>
#include <iostream>
#include <xgrad/xgrad.hpp>

int main() {
  // Two leaves: tensors we made ourselves and want gradients for. Float64, so the check below
  // can be tight.
  const auto opts = xg::TensorOptions().dtype(xg::kFloat64).requires_grad(true);
  xg::Tensor x = xg::scalar_tensor(1.5, opts);
  xg::Tensor w = xg::scalar_tensor(2.0, opts);

  // The forward pass. Every op computes its value and records a node that knows its inputs
  // and its local derivatives.
  xg::Tensor s = w * x;       // MulBackward:  ds/dw = x,  ds/dx = w
  xg::Tensor h = xg::sin(s);  // SinBackward:  dh/ds = cos(s)
  xg::Tensor loss = h * h;    // MulBackward:  dloss/dh = 2 h
  h.retain_grad();            // keep dloss/dh, which backward computes on its way
  std::cout << std::boolalpha << "loss = " << loss.item() << ", recorded by " << loss.grad_fn_name()
            << "; h by " << h.grad_fn_name() << "; x is a leaf: " << x.is_leaf() << "\n";

  // The backward pass: seed dloss/dloss = 1, then run the nodes in reverse order, each
  // multiplying the gradient it receives by its local derivatives.
  loss.backward();

  // The same chain rule, written out.
  const double s_value = 2.0 * 1.5, h_value = std::sin(s_value);
  const double dloss_dh = 2 * h_value;
  const double dloss_ds = dloss_dh * std::cos(s_value);
  const double dloss_dx = dloss_ds * 2.0;  // times ds/dx = w
  const double dloss_dw = dloss_ds * 1.5;  // times ds/dw = x
  std::cout << "dloss/dx: autograd " << x.grad().item() << ", by hand " << dloss_dx << "\n"
            << "dloss/dw: autograd " << w.grad().item() << ", by hand " << dloss_dw << "\n"
            << "dloss/dh: autograd " << h.grad().item() << ", by hand " << dloss_dh << "\n";

  // Both sides round the same few products of numbers below 10 in double precision
  // (about 1e-16 relative each); 1e-12 leaves a wide margin and still catches any wrong formula.
  bool ok = std::abs(x.grad().item() - dloss_dx) < 1e-12 &&
            std::abs(w.grad().item() - dloss_dw) < 1e-12 &&
            std::abs(h.grad().item() - dloss_dh) < 1e-12;

  // Gradients accumulate: a second forward and backward adds to .grad, which is why a
  // training loop zeroes the gradients at every step.
  const double first = x.grad().item();
  (xg::sin(w * x) * xg::sin(w * x)).backward();
  std::cout << "after a second backward: " << x.grad().item() << " = 2 * " << first << "\n";
  ok = ok && std::abs(x.grad().item() - 2 * first) < 1e-12;

  // Inside a NoGradGuard nothing is recorded: the result is a plain value.
  {
    xg::NoGradGuard no_grad;
    xg::Tensor plain = w * x;
    std::cout << "under NoGradGuard, w * x requires grad: " << plain.requires_grad() << "\n";
    ok = ok && !plain.requires_grad();
  }
  if (!ok) {
    std::cerr << "FAILED: autograd disagrees with the chain rule\n";
    return 1;
  }
  return 0;
}
