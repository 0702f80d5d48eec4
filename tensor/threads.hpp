// Intra-op threads, as torch.set_num_threads / torch.get_num_threads: how many threads one
// large kernel (an elementwise op, a reduction, a product, an optimizer step) may use. And the
// vector instructions the kernels use, as torch.backends.cpu.get_cpu_capability.
#pragma once

#include <string>

namespace xg {

// The threads a kernel may use from now on, n >= 1 (1: every kernel on the calling thread).
// Throws std::invalid_argument for n < 1. The default is the cores this process may run on, or
// OMP_NUM_THREADS when it is set to a positive number. Results do not depend on it: every
// reduction adds fixed blocks in a fixed order.
void set_num_threads(int n);
int get_num_threads();

// The instruction set of the hot kernels (elementwise math, sums, the optimizers' updates):
// "AVX512", "AVX2" (with FMA) or "DEFAULT" (x86-64's SSE2), the best this CPU runs, chosen at
// first use; "NATIVE" in a build with XGRAD_NATIVE=ON. The environment variable
// XGRAD_CPU_CAPABILITY=default, avx2 or avx512 caps it (PyTorch's ATEN_CPU_CAPABILITY).
std::string get_cpu_capability();

}  // namespace xg
