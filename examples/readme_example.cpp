// The example of README.md ("A taste of the API"), built and run by CTest so it cannot rot.
#include <iostream>
#include <numbers>
#include <xgrad/xgrad.hpp>

int main() {
  xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  xg::Tensor y = xg::sin(x);
  std::vector<xg::Tensor> w;  // a, b, c, d
  for (int i = 0; i < 4; ++i) w.push_back(xg::randn({}, xg::requires_grad()));
  xg::optim::SGD opt(w, xg::optim::SGDOptions(1e-6));
  for (int t = 0; t < 2000; ++t) {
    xg::Tensor loss = (w[0] + w[1] * x + w[2] * x.pow(2) + w[3] * x.pow(3) - y).pow(2).sum();
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::cout << "y = " << w[0].item() << " + " << w[1].item() << " x + " << w[2].item() << " x^2 + "
            << w[3].item() << " x^3\n";
}
