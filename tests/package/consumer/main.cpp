// Built against an installed xgrad by the package_install test; exits 0 when the sum is right.
#include <iostream>
#include <xgrad/xgrad.hpp>

int main() {
  const double sum = (xg::ones({3}) * 2).sum().item();
  if (sum != 6.0) {
    std::cerr << "consumer: expected (ones({3}) * 2).sum() == 6, got " << sum << "\n";
    return 1;
  }
  std::cout << "consumer: xgrad works, sum = " << sum << "\n";
  return 0;
}
