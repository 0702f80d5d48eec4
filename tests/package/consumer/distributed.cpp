// Built against an installed xgrad's component `distributed` when xgrad was built with MPI;
// run alone, it is a group of one: exits 0 when all_reduce leaves the tensor as it was.
#include <iostream>
#include <xgrad/distributed/distributed.hpp>
#include <xgrad/xgrad.hpp>

int main() {
  xg::distributed::init_process_group();
  xg::Tensor t = xg::ones({3}) * 2;
  xg::distributed::all_reduce(t);
  const double sum = t.sum().item();
  const int size = xg::distributed::get_world_size();
  xg::distributed::destroy_process_group();
  if (size != 1 || sum != 6.0) {
    std::cerr << "consumer_distributed: expected a group of 1 and a sum of 6, got " << size
              << " and " << sum << "\n";
    return 1;
  }
  std::cout << "consumer_distributed: xgrad::distributed works\n";
  return 0;
}
