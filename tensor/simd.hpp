// Internal: the hot kernels compiled once per instruction set (SSE2, AVX2 with FMA, AVX-512)
// and chosen once at run time from the CPU, as PyTorch's DispatchStub does. The kernels live in
// simd_kernels.hpp, instantiated by simd_default.cpp, simd_avx2.cpp and simd_avx512.cpp, each
// compiled with its own -m flags; everything else calls them through the table here.
//
// This header is included by those translation units: it must stay free of inline functions
// and templates from elsewhere, whose copies would be compiled with each unit's instructions.
#pragma once

#include <cstdint>

namespace xg::detail::simd {

// The instruction sets a table exists for, worst to best: Default is the build's baseline
// (SSE2 on x86-64; the build machine's own with XGRAD_NATIVE=ON).
enum class Isa : std::uint8_t { Default, Avx2, Avx512 };
inline constexpr int kIsaCount = 3;

// The elementwise math of `math`: kernels::UnaryOp's floating rows, plus GELU's tanh form.
enum class MathOp : std::uint8_t {
  Neg,
  Abs,
  Relu,
  Square,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Sigmoid,
  Gelu,      // exact: x Phi(x), with erf
  GeluTanh,  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
  Erf,
  Log1p,
  Reciprocal,
};

// The correctly rounded arithmetic of `arith`, the same to the bit on every instruction set.
enum class ArithOp : std::uint8_t { Add, Sub, Mul, Div, Maximum, Minimum };

// One step of Adam or AdamW over elements [begin, end) of a parameter, every factor computed
// once by the caller (optim/adam.cpp).
template <class T>
struct AdamStep {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  T* max_exp_avg_sq;  // only with amsgrad
  T beta1, beta2, one_minus_beta1, one_minus_beta2;
  T weight_decay;  // Adam's L2 term (coupled)
  T decay;         // AdamW's factor 1 - lr * weight_decay (decoupled)
  T eps, bias_correction2_sqrt, step_size;
  bool decoupled, l2, amsgrad, maximize;
};

template <class T>
struct Table {
  // out[i] = op(in[i]), i < n. The same function on a partial vector at the end, so a value's
  // result does not depend on where a thread's range starts or ends.
  void (*math)(MathOp op, const T* in, T* out, std::int64_t n);
  // out[i] = grad[i] * gelu'(x[i]), the exact or the tanh form.
  void (*gelu_backward)(bool tanh_form, const T* grad, const T* x, T* out, std::int64_t n);
  // out[i] = a[i] op b[i]; and a[i] op s (s op a[i] when scalar_first).
  void (*arith)(ArithOp op, const T* a, const T* b, T* out, std::int64_t n);
  void (*arith_scalar)(ArithOp op, const T* a, T s, bool scalar_first, T* out, std::int64_t n);
  // out[i] = exp(in[i] - shift) (out may be in); returns their sum, added as `sum` adds.
  T (*exp_shifted)(const T* in, T shift, T* out, std::int64_t n);
  // The sum of x[0..n), and of a[i] * b[i] (each product rounded first), in eight interleaved
  // accumulators (value i to accumulator i % 8) joined pairwise: the same on every set.
  T (*sum)(const T* x, std::int64_t n);
  T (*dot)(const T* a, const T* b, std::int64_t n);
  void (*adam)(const AdamStep<T>& step, std::int64_t begin, std::int64_t end);
  // Dropout over elements [begin, end) of a contiguous x: element i is kept when word i % 4 of
  // Philox4x32-10 (random.hpp) at counter {i / 4 low, high, 0, 0} under key {low, high} is at
  // least threshold; then mask[i] = scale, else 0; out[i] = x[i] * mask[i]. So a mask depends
  // on the key and the element's index only, never on the threads.
  void (*dropout)(const T* x, T* out, T* mask, std::int64_t begin, std::int64_t end,
                  std::uint64_t key, std::uint32_t threshold, T scale);
};

struct Kernels {
  Isa isa;
  const char* name;  // PyTorch's names: "DEFAULT" (SSE2), "NATIVE", "AVX2", "AVX512"
  Table<float> f32;
  Table<double> f64;
};

template <class T>
const Table<T>& table(const Kernels& k) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return k.f32;
  } else {
    return k.f64;
  }
}

// The kernels in use: the best set this CPU runs, or a lower one that XGRAD_CPU_CAPABILITY
// (default, avx2 or avx512, as PyTorch's ATEN_CPU_CAPABILITY) asks for; chosen at first use.
const Kernels& active();
template <class T>
const Table<T>& kernels() {
  return table<T>(active());
}

// The table of one set, or nullptr when it is not compiled in or this CPU cannot run it.
const Kernels* kernels_for(Isa isa);
// Makes `isa`'s table the active one (tests and benchmarks); throws std::invalid_argument
// when kernels_for(isa) is null. Not while kernels run on other threads.
void set_active(Isa isa);

// Each instruction set's unit defines its own (simd_*.cpp); those not built return nullptr.
const Kernels* default_kernels();
const Kernels* avx2_kernels();
const Kernels* avx512_kernels();

}  // namespace xg::detail::simd
