// simd.hpp's kernels for AVX-512 (F): this unit alone is compiled with -mavx512f.
#define XG_SIMD_UNIT avx512
#include "simd_kernels.hpp"

namespace xg::detail::simd {

const Kernels* avx512_kernels() { return make_kernels<xsimd::avx512f>(Isa::Avx512, "AVX512"); }

}  // namespace xg::detail::simd
