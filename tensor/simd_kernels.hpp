// Internal: the bodies of simd.hpp's kernels, templates on an xsimd architecture A. Included
// only by simd_default.cpp, simd_avx2.cpp and simd_avx512.cpp, each compiled for its instruction
// set, which instantiate make_kernels<A>().
//
// Everything here is a template on A (or local to a unit): an inline function shared with the
// rest of the library would be compiled once per instruction set and the linker would keep one
// copy, perhaps one the CPU cannot run. So no xtensor, no std algorithms; xsimd's batch
// functions are templates on A. Loops without xsimd are plain C++ the compiler vectorizes for
// the unit's instruction set; they round exactly as the scalar code does (no reassociation).
#pragma once

// xsimd 8.1 has two inline functions that are not templates (the range reduction of sin and
// cos for large arguments): each unit renames them after itself (XG_SIMD_UNIT), so that no
// unit's copy compiled for AVX can stand in for another's. tests/simd_symbols.cmake checks
// that the AVX units define no other shared function.
#if !defined(XG_SIMD_UNIT)
#error "define XG_SIMD_UNIT (the unit's instruction set) before including simd_kernels.hpp"
#endif
#define XG_SIMD_PASTE2(a, b) a##b
#define XG_SIMD_PASTE(a, b) XG_SIMD_PASTE2(a, b)
#define __kernel_rem_pio2 XG_SIMD_PASTE(xg_kernel_rem_pio2_, XG_SIMD_UNIT)
#define __ieee754_rem_pio2 XG_SIMD_PASTE(xg_ieee754_rem_pio2_, XG_SIMD_UNIT)
#include <xsimd/xsimd.hpp>
#undef __kernel_rem_pio2
#undef __ieee754_rem_pio2

#include "simd.hpp"

namespace xg::detail::simd {
namespace {

template <class A, class T>
using Batch = xsimd::batch<T, A>;

// out[i] = f(in[i]) for whole vectors, then once more for the last partial vector through a
// zero-padded buffer, so every value goes through the same vector code.
template <class A, class T, class F>
void map1(const T* in, T* out, std::int64_t n, F f) {
  using B = Batch<A, T>;
  constexpr std::int64_t W = B::size;
  std::int64_t i = 0;
  for (; i + W <= n; i += W) f(B::load_unaligned(in + i)).store_unaligned(out + i);
  if (i < n) {
    alignas(64) T buf[W] = {};
    for (std::int64_t j = 0; j < n - i; ++j) buf[j] = in[i + j];
    f(B::load_unaligned(buf)).store_unaligned(buf);
    for (std::int64_t j = 0; j < n - i; ++j) out[i + j] = buf[j];
  }
}

template <class A, class T, class F>
void map2(const T* a, const T* b, T* out, std::int64_t n, F f) {
  using B = Batch<A, T>;
  constexpr std::int64_t W = B::size;
  std::int64_t i = 0;
  for (; i + W <= n; i += W) {
    f(B::load_unaligned(a + i), B::load_unaligned(b + i)).store_unaligned(out + i);
  }
  if (i < n) {
    alignas(64) T ba[W] = {};
    alignas(64) T bb[W] = {};
    for (std::int64_t j = 0; j < n - i; ++j) {
      ba[j] = a[i + j];
      bb[j] = b[i + j];
    }
    f(B::load_unaligned(ba), B::load_unaligned(bb)).store_unaligned(ba);
    for (std::int64_t j = 0; j < n - i; ++j) out[i + j] = ba[j];
  }
}

// Plain loops: what the scalar code computes, vectorized by the compiler.
template <class T, class F>
void each(const T* in, T* out, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

// NaN in either operand gives NaN, as torch.maximum and torch.minimum; otherwise the same
// choice as tensor/nan_minmax.hpp's (which the broadcasting loops use), signed zeros included.
template <class T>
T nan_max(T a, T b) {
  return a != a ? a : (b != b ? b : (a > b ? a : b));
}
template <class T>
T nan_min(T a, T b) {
  return a != a ? a : (b != b ? b : (a < b ? a : b));
}

template <class T>
constexpr T kSqrt1_2 = T(0.70710678118654752440084436210484903928483593768847);
template <class T>
constexpr T kInvSqrt2Pi = T(0.39894228040143267793994605993438186847585863116493);  // 1/sqrt(2pi)
template <class T>
constexpr T kGeluBeta = T(0.79788456080286535587989211986876373695171726232986);  // sqrt(2/pi)
template <class T>
constexpr T kGeluKappa = T(0.044715);

template <class A, class T>
void math(MathOp op, const T* in, T* out, std::int64_t n) {
  using B = Batch<A, T>;
  switch (op) {
    case MathOp::Neg:
      return each(in, out, n, [](T v) { return -v; });
    case MathOp::Abs:
      return each(in, out, n, [](T v) { return v < 0 ? -v : v; });
    case MathOp::Relu:
      return each(in, out, n, [](T v) { return v < 0 ? T(0) : v; });  // NaN stays NaN
    case MathOp::Square:
      return each(in, out, n, [](T v) { return v * v; });
    case MathOp::Reciprocal:
      return each(in, out, n, [](T v) { return T(1) / v; });
    case MathOp::Sqrt:
      return map1<A>(in, out, n, [](B x) { return xsimd::sqrt(x); });
    case MathOp::Rsqrt:
      return map1<A>(in, out, n, [](B x) { return B(T(1)) / xsimd::sqrt(x); });
    case MathOp::Exp:
      return map1<A>(in, out, n, [](B x) { return xsimd::exp(x); });
    case MathOp::Log:
      return map1<A>(in, out, n, [](B x) { return xsimd::log(x); });
    case MathOp::Log1p:
      return map1<A>(in, out, n, [](B x) { return xsimd::log1p(x); });
    case MathOp::Sin:
      return map1<A>(in, out, n, [](B x) { return xsimd::sin(x); });
    case MathOp::Cos:
      return map1<A>(in, out, n, [](B x) { return xsimd::cos(x); });
    case MathOp::Tanh:
      return map1<A>(in, out, n, [](B x) { return xsimd::tanh(x); });
    case MathOp::Erf:
      return map1<A>(in, out, n, [](B x) { return xsimd::erf(x); });
    case MathOp::Sigmoid:
      // 1 / (1 + exp(-x)) saturates to exactly 0 or 1 at the extremes: no NaN, no overflow.
      return map1<A>(in, out, n, [](B x) { return B(T(1)) / (B(T(1)) + xsimd::exp(-x)); });
    case MathOp::Gelu:
      return map1<A>(in, out, n, [](B x) {
        return B(T(0.5)) * x * (B(T(1)) + xsimd::erf(x * B(kSqrt1_2<T>)));
      });
    case MathOp::GeluTanh:
      return map1<A>(in, out, n, [](B x) {
        const B inner = B(kGeluBeta<T>) * (x + B(kGeluKappa<T>) * x * x * x);
        return B(T(0.5)) * x * (B(T(1)) + xsimd::tanh(inner));
      });
  }
}

template <class A, class T>
void gelu_backward(bool tanh_form, const T* grad, const T* x, T* out, std::int64_t n) {
  using B = Batch<A, T>;
  if (tanh_form) {  // PyTorch's GeluBackward for approximate='tanh', term by term
    map2<A>(grad, x, out, n, [](B g, B v) {
      const B v2 = v * v;
      const B t = xsimd::tanh(B(kGeluBeta<T>) * (v + B(kGeluKappa<T>) * v2 * v));
      const B left = B(T(0.5)) * v;
      const B right = B(T(1)) + t;
      const B dinner = B(kGeluBeta<T>) * (B(T(1)) + B(T(3) * kGeluKappa<T>) * v2);
      return g * (B(T(0.5)) * right + left * (B(T(1)) - t * t) * dinner);
    });
  } else {  // Phi(x) + x phi(x)
    map2<A>(grad, x, out, n, [](B g, B v) {
      const B cdf = B(T(0.5)) * (B(T(1)) + xsimd::erf(v * B(kSqrt1_2<T>)));
      const B pdf = xsimd::exp(B(T(-0.5)) * v * v) * B(kInvSqrt2Pi<T>);
      return g * (cdf + v * pdf);
    });
  }
}

template <class T, class F>
void zip(const T* a, const T* b, T* out, std::int64_t n, F f) {
  for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}
template <class T, class F>
void with_scalar(const T* a, T s, bool scalar_first, T* out, std::int64_t n, F f) {
  if (scalar_first) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(s, a[i]);
  } else {
    for (std::int64_t i = 0; i < n; ++i) out[i] = f(a[i], s);
  }
}

// Calls run(f) with op's scalar function.
template <class T, class Run>
void with_arith(ArithOp op, Run run) {
  switch (op) {
    case ArithOp::Add:
      return run([](T a, T b) { return a + b; });
    case ArithOp::Sub:
      return run([](T a, T b) { return a - b; });
    case ArithOp::Mul:
      return run([](T a, T b) { return a * b; });
    case ArithOp::Div:
      return run([](T a, T b) { return a / b; });
    case ArithOp::Maximum:
      return run([](T a, T b) { return nan_max(a, b); });
    case ArithOp::Minimum:
      return run([](T a, T b) { return nan_min(a, b); });
  }
}

template <class A, class T>
void arith(ArithOp op, const T* a, const T* b, T* out, std::int64_t n) {
  with_arith<T>(op, [&](auto f) { zip(a, b, out, n, f); });
}
template <class A, class T>
void arith_scalar(ArithOp op, const T* a, T s, bool scalar_first, T* out, std::int64_t n) {
  with_arith<T>(op, [&](auto f) { with_scalar(a, s, scalar_first, out, n, f); });
}

// Eight accumulators, value i into i % 8, joined pairwise, then the tail: what reduce.cpp's
// sum_block did in scalar code; 8 floats are one AVX2 vector, two SSE2 ones, half an AVX-512.
template <class T, class Value>
T sum8(std::int64_t n, Value value) {
  T acc[8] = {};
  std::int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) acc[j] += value(i + j);
  }
  T tail = 0;
  for (; i < n; ++i) tail += value(i);
  return (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) + tail;
}

template <class A, class T>
T sum(const T* x, std::int64_t n) {
  return sum8<T>(n, [x](std::int64_t i) { return x[i]; });
}
template <class A, class T>
T dot(const T* a, const T* b, std::int64_t n) {
  return sum8<T>(n, [a, b](std::int64_t i) {
    const T p = a[i] * b[i];  // rounded before it is added, even where FMA is at hand
    return p;
  });
}

template <class A, class T>
T exp_shifted(const T* in, T shift, T* out, std::int64_t n) {
  using B = Batch<A, T>;
  const B s(shift);
  map1<A>(in, out, n, [s](B x) { return xsimd::exp(x - s); });
  return sum<A, T>(out, n);
}

// The square root in T's own precision (the builtins: std::sqrt is a function of <cmath>,
// shared with the other units).
template <class T>
T root(T x) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return __builtin_sqrtf(x);
  } else {
    return __builtin_sqrt(x);
  }
}

// The options' branches hoisted out of the loop, so that it vectorizes.
template <class T, bool Decoupled, bool L2, bool Amsgrad, bool Maximize>
void adam_loop(const AdamStep<T>& s, std::int64_t begin, std::int64_t end) {
  // Locals, not s's fields: a store through p could change those, as far as the compiler knows.
  T* const p = s.param;
  const T* const grad = s.grad;
  T* const m = s.exp_avg;
  T* const v = s.exp_avg_sq;
  T* const v_max = s.max_exp_avg_sq;
  const T b1 = s.beta1, b2 = s.beta2, c1 = s.one_minus_beta1, c2 = s.one_minus_beta2;
  const T wd = s.weight_decay, decay = s.decay, eps = s.eps;
  const T bc2_sqrt = s.bias_correction2_sqrt, step_size = s.step_size;
  for (std::int64_t i = begin; i < end; ++i) {
    T g = Maximize ? -grad[i] : grad[i];
    if constexpr (Decoupled) {
      p[i] = p[i] * decay;
    } else if constexpr (L2) {
      g = g + wd * p[i];
    }
    m[i] = m[i] * b1 + c1 * g;
    v[i] = v[i] * b2 + c2 * g * g;
    T second = v[i];
    if constexpr (Amsgrad) {
      v_max[i] = v_max[i] < v[i] ? v[i] : v_max[i];
      second = v_max[i];
    }
    const T denom = root(second) / bc2_sqrt + eps;
    p[i] = p[i] - step_size * (m[i] / denom);
  }
}

template <class T, bool... Flags>
void adam_dispatch(const AdamStep<T>& s, std::int64_t begin, std::int64_t end) {
  constexpr int k = sizeof...(Flags);
  if constexpr (k == 4) {
    adam_loop<T, Flags...>(s, begin, end);
  } else {
    const bool flag = k == 0 ? s.decoupled : k == 1 ? s.l2 : k == 2 ? s.amsgrad : s.maximize;
    if (flag) {
      adam_dispatch<T, Flags..., true>(s, begin, end);
    } else {
      adam_dispatch<T, Flags..., false>(s, begin, end);
    }
  }
}

template <class A, class T>
void adam(const AdamStep<T>& s, std::int64_t begin, std::int64_t end) {
  adam_dispatch<T>(s, begin, end);
}

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", 2011) of the L
// counters {first + j, 0, 0} under key, words[4 j + w] its word w. The compiler does not
// vectorize the 32 x 32 -> 64-bit products, so they are written with the unit's instructions:
// each 64-bit lane holds one counter's 32-bit word, and one unsigned multiply of the lanes' low
// halves (pmuludq) gives both halves of a product.
#if defined(__AVX512F__)
using Lanes = __m512i;
inline constexpr int kLanes = 8;
#define XG_LANES(op) _mm512_##op
#define XG_LANES_SI(op) _mm512_##op##_si512
#define XG_LANES_SET1 _mm512_set1_epi64
#elif defined(__AVX2__)
using Lanes = __m256i;
inline constexpr int kLanes = 4;
#define XG_LANES(op) _mm256_##op
#define XG_LANES_SI(op) _mm256_##op##_si256
#define XG_LANES_SET1 _mm256_set1_epi64x
#elif defined(__SSE2__)
using Lanes = __m128i;
inline constexpr int kLanes = 2;
#define XG_LANES(op) _mm_##op
#define XG_LANES_SI(op) _mm_##op##_si128
#define XG_LANES_SET1 _mm_set1_epi64x
#endif

template <int L>
void philox_lanes(std::uint64_t first, std::uint64_t key, std::uint32_t (&words)[4 * L]) {
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
#if defined(XG_LANES)
  static_assert(L % kLanes == 0);
  alignas(64) std::uint64_t c[4][kLanes];
  const Lanes m0 = XG_LANES_SET1(0xD2511F53), m1 = XG_LANES_SET1(0xCD9E8D57);
  const Lanes low = XG_LANES_SET1(0xFFFFFFFF);
  for (int j0 = 0; j0 < L; j0 += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const std::uint64_t n = first + static_cast<std::uint64_t>(j0 + j);
      c[0][j] = n & 0xFFFFFFFF;
      c[1][j] = n >> 32;
    }
    Lanes c0 = XG_LANES_SI(load)(reinterpret_cast<const Lanes*>(c[0]));
    Lanes c1 = XG_LANES_SI(load)(reinterpret_cast<const Lanes*>(c[1]));
    Lanes c2 = XG_LANES_SI(setzero)(), c3 = XG_LANES_SI(setzero)();
    std::uint32_t r0 = k0, r1 = k1;
    for (int round = 0; round < 10; ++round) {
      const Lanes p0 = XG_LANES(mul_epu32)(c0, m0), p1 = XG_LANES(mul_epu32)(c2, m1);
      const Lanes key0 = XG_LANES_SET1(r0), key1 = XG_LANES_SET1(r1);
      c0 = XG_LANES_SI(xor)(XG_LANES_SI(xor)(XG_LANES(srli_epi64)(p1, 32), c1), key0);
      c2 = XG_LANES_SI(xor)(XG_LANES_SI(xor)(XG_LANES(srli_epi64)(p0, 32), c3), key1);
      c1 = XG_LANES_SI(and)(p1, low);
      c3 = XG_LANES_SI(and)(p0, low);
      r0 += 0x9E3779B9;  // the Weyl sequence of the key
      r1 += 0xBB67AE85;
    }
    XG_LANES_SI(store)(reinterpret_cast<Lanes*>(c[0]), c0);
    XG_LANES_SI(store)(reinterpret_cast<Lanes*>(c[1]), c1);
    XG_LANES_SI(store)(reinterpret_cast<Lanes*>(c[2]), c2);
    XG_LANES_SI(store)(reinterpret_cast<Lanes*>(c[3]), c3);
    for (int j = 0; j < kLanes; ++j) {
      for (int w = 0; w < 4; ++w) words[4 * (j0 + j) + w] = static_cast<std::uint32_t>(c[w][j]);
    }
  }
#else  // not x86: the same rounds in scalar code
  std::uint32_t c0[L], c1[L], c2[L], c3[L];
  for (int j = 0; j < L; ++j) {
    const std::uint64_t n = first + static_cast<std::uint64_t>(j);
    c0[j] = static_cast<std::uint32_t>(n);
    c1[j] = static_cast<std::uint32_t>(n >> 32);
    c2[j] = 0;
    c3[j] = 0;
  }
  for (int round = 0; round < 10; ++round) {
    for (int j = 0; j < L; ++j) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53} * c0[j];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57} * c2[j];
      const auto n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
      const auto n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = static_cast<std::uint32_t>(p1);
      c3[j] = static_cast<std::uint32_t>(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += 0x9E3779B9;
    k1 += 0xBB67AE85;
  }
  for (int j = 0; j < L; ++j) {
    words[4 * j] = c0[j];
    words[4 * j + 1] = c1[j];
    words[4 * j + 2] = c2[j];
    words[4 * j + 3] = c3[j];
  }
#endif
}
#undef XG_LANES
#undef XG_LANES_SI
#undef XG_LANES_SET1

template <class A, class T>
void dropout(const T* x, T* out, T* mask, std::int64_t begin, std::int64_t end, std::uint64_t key,
             std::uint32_t threshold, T scale) {
  constexpr int L = 16;  // counters per block: 64 elements
  std::uint32_t words[4 * L];
  for (std::int64_t base = begin / 4 * 4; base < end; base += 4 * L) {
    philox_lanes<L>(static_cast<std::uint64_t>(base / 4), key, words);
    const std::int64_t lo = begin > base ? begin - base : 0;
    const std::int64_t hi = end - base < 4 * L ? end - base : 4 * L;
    T* const o = out + base;
    T* const mk = mask + base;
    const T* const in = x + base;
    for (std::int64_t i = lo; i < hi; ++i) {
      const T m = words[i] >= threshold ? scale : T(0);
      mk[i] = m;
      o[i] = in[i] * m;
    }
  }
}

template <class A, class T>
constexpr Table<T> make_table() {
  return {&math<A, T>, &gelu_backward<A, T>, &arith<A, T>, &arith_scalar<A, T>, &exp_shifted<A, T>,
          &sum<A, T>,  &dot<A, T>,           &adam<A, T>,  &dropout<A, T>};
}

template <class A>
const Kernels* make_kernels(Isa isa, const char* name) {
  static const Kernels kernels{isa, name, make_table<A, float>(), make_table<A, double>()};
  return &kernels;
}

}  // namespace
}  // namespace xg::detail::simd
