// simd.hpp's kernels for AVX2 with FMA: this unit alone is compiled with -mavx2 -mfma.
#define XG_SIMD_UNIT avx2
#include "simd_kernels.hpp"

namespace xg::detail::simd {

const Kernels* avx2_kernels() { return make_kernels<xsimd::fma3<xsimd::avx2>>(Isa::Avx2, "AVX2"); }

}  // namespace xg::detail::simd
