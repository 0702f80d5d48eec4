// Intra-op threads, as torch.set_num_threads / torch.get_num_threads: how many threads one
// large kernel (an elementwise op, a reduction, a product, an optimizer step) may use.
#pragma once

namespace xg {

// The threads a kernel may use from now on, n >= 1 (1: every kernel on the calling thread).
// Throws std::invalid_argument for n < 1. The default is the cores this process may run on, or
// OMP_NUM_THREADS when it is set to a positive number. Results do not depend on it: every
// reduction adds fixed blocks in a fixed order.
void set_num_threads(int n);
int get_num_threads();

}  // namespace xg
