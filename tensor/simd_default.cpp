// simd.hpp's kernels for the build's baseline instruction set (x86-64: SSE2), or for the build
// machine's own with XGRAD_NATIVE=ON.
#define XG_SIMD_UNIT baseline
#include "simd_kernels.hpp"

namespace xg::detail::simd {

const Kernels* default_kernels() {
#if defined(XGRAD_SIMD_NATIVE)
  return make_kernels<xsimd::default_arch>(Isa::Default, "NATIVE");
#else
  return make_kernels<xsimd::default_arch>(Isa::Default, "DEFAULT");
#endif
}

}  // namespace xg::detail::simd
