// Elementwise kernels: unary math, broadcasting binary ops, clamp and where.
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "check.hpp"
#include "kernels.hpp"
#include "nan_minmax.hpp"
#include "parallel.hpp"
#include "simd.hpp"
#include "strided_loop.hpp"
#include "wrapping.hpp"

namespace xg::kernels {
namespace simd = detail::simd;
namespace {

using detail::StridedLoop;

template <class T>
T int_pow(T base, T exp) {
  XG_CHECK_ARG(exp >= 0, "pow: integers to negative integer powers are not allowed");
  T result = 1;
  while (exp) {
    if (exp & 1) result = detail::wrap_mul(result, base);
    base = detail::wrap_mul(base, base);
    exp >>= 1;
  }
  return result;
}

using detail::nan_max;
using detail::nan_min;

// Calls f with a functor (T, T) -> T for op, or (T, T) -> bool for a comparison. On bool, add
// is or and mul is and (wrapping.hpp), as in PyTorch; sub, div and pow have no bool kernel (the
// ops refuse Bool subtraction and pow, and divide in Float32).
template <class T, class F>
decltype(auto) with_binary_functor(BinaryOp op, F&& f) {
  constexpr bool is_bool = std::is_same_v<T, bool>;
  switch (op) {
    case BinaryOp::Add:
      return f([](T a, T b) { return detail::wrap_add(a, b); });
    case BinaryOp::Sub:
      if constexpr (is_bool) {
        detail::fail<std::logic_error>("binary: no Bool kernel for sub, div or pow");
      } else {
        return f([](T a, T b) { return detail::wrap_sub(a, b); });
      }
    case BinaryOp::Mul:
      return f([](T a, T b) { return detail::wrap_mul(a, b); });
    case BinaryOp::Div:
      if constexpr (is_bool) {
        detail::fail<std::logic_error>("binary: no Bool kernel for sub, div or pow");
      } else {
        return f([](T a, T b) { return a / b; });
      }
    case BinaryOp::Pow:
      if constexpr (is_bool) {
        detail::fail<std::logic_error>("binary: no Bool kernel for sub, div or pow");
      } else if constexpr (std::is_integral_v<T>) {
        return f([](T a, T b) { return int_pow(a, b); });
      } else {
        return f([](T a, T b) { return std::pow(a, b); });
      }
    case BinaryOp::Maximum:
      return f([](T a, T b) { return nan_max(a, b); });
    case BinaryOp::Minimum:
      return f([](T a, T b) { return nan_min(a, b); });
#define XG_COMPARISON_FUNCTOR(E, name, op) \
  case BinaryOp::E:                        \
    return f([](T a, T b) { return a op b; });
      XG_COMPARISON_OPS(XG_COMPARISON_FUNCTOR)
#undef XG_COMPARISON_FUNCTOR
  }
  detail::fail<std::logic_error>("binary: unhandled op");
}

using detail::Operand;

// The grain of a kernel (tensor/parallel.hpp): memory-bound ops split late, math early.
std::int64_t unary_grain(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg:
    case UnaryOp::Abs:
    case UnaryOp::Relu:
    case UnaryOp::Sign:
    case UnaryOp::Square:
      return detail::kGrainCopy;
    default:
      return detail::kGrainMath;
  }
}
std::int64_t binary_grain(BinaryOp op) {
  return op == BinaryOp::Pow ? detail::kGrainMath : detail::kGrainCopy;
}

Operand operand(const Array& x) { return {x.sizes(), x.strides()}; }

// The vector kernel of an arithmetic op (simd.hpp), if it has one.
std::optional<simd::ArithOp> arith_op(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add:
      return simd::ArithOp::Add;
    case BinaryOp::Sub:
      return simd::ArithOp::Sub;
    case BinaryOp::Mul:
      return simd::ArithOp::Mul;
    case BinaryOp::Div:
      return simd::ArithOp::Div;
    case BinaryOp::Maximum:
      return simd::ArithOp::Maximum;
    case BinaryOp::Minimum:
      return simd::ArithOp::Minimum;
    default:
      return std::nullopt;
  }
}

// out = op(a, b) over out's shape, every operand strided (a and b broadcast); the inner loop is
// specialised so the compiler vectorizes the contiguous same-shape and scalar cases.
template <class T, class R, class Op>
void broadcast_loop(const T* a, Operand ao, const T* b, Operand bo, R* out, Operand oo, Op op) {
  StridedLoop<3> loop(oo.sizes, {oo, ao, bo});
  auto row = [&](const std::array<std::int64_t, 3>& off, std::int64_t n,
                 const std::array<std::int64_t, 3>& s) {
    R* dst = out + off[0];
    const T* pa = a + off[1];
    const T* pb = b + off[2];
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (std::int64_t i = 0; i < n; ++i) dst[i] = static_cast<R>(op(pa[i], pb[i]));
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const T va = *pa;
      for (std::int64_t i = 0; i < n; ++i) dst[i] = static_cast<R>(op(va, pb[i]));
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const T vb = *pb;
      for (std::int64_t i = 0; i < n; ++i) dst[i] = static_cast<R>(op(pa[i], vb));
    } else {
      for (std::int64_t i = 0; i < n; ++i) {
        dst[i * s[0]] = static_cast<R>(op(pa[i * s[1]], pb[i * s[2]]));
      }
    }
  };
  if (loop.ndim == 1) {  // one long row (same shapes, or a scalar): split it across the cores
    const std::array<std::int64_t, 3> inner{loop.strides[0][0], loop.strides[1][0],
                                            loop.strides[2][0]};
    detail::parallel_for(loop.sizes[0], detail::kGrainCopy, [&](std::int64_t b, std::int64_t e) {
      row({b * inner[0], b * inner[1], b * inner[2]}, e - b, inner);
    });
  } else {  // rows across the threads
    detail::parallel_for(loop.row_count(),
                         detail::kGrainCopy / std::max<std::int64_t>(loop.row_length(), 1),
                         [&](std::int64_t b, std::int64_t e) { loop.for_each_row_in(b, e, row); });
  }
}

// x itself when it has the dtype already, else a converted copy kept in `storage`: operands
// are never copied just to be read.
const Array& as_dtype(const Array& x, Dtype dtype, std::optional<Array>& storage) {
  if (x.dtype() == dtype) return x;
  storage = x.to(dtype);
  return *storage;
}

// The input of an elementwise op that writes a contiguous result of `dtype`: x itself when it
// is contiguous with that dtype, else a converted contiguous copy, which the op then overwrites
// with its result (so a strided or converted input costs no extra buffer). Sets `in_place`.
Array dense_input(const Array& x, Dtype dtype, bool& in_place) {
  in_place = x.dtype() != dtype || !x.is_contiguous();
  if (!in_place) return x;
  return x.dtype() != dtype ? x.to(dtype) : x.clone();
}

Dtype unary_result_dtype(UnaryOp op, Dtype x) {
  if (is_floating(x)) return x;
  if (x == Dtype::Bool && unary_bool_input(op) == BoolInput::Keep) return x;
  return unary_int_input(op) == IntInput::KeepInt ? Dtype::Int64 : Dtype::Float32;
}

// The vector kernel of a floating op (simd.hpp), if it has one.
std::optional<simd::MathOp> math_op(UnaryOp op) {
  switch (op) {
#define XG_MATH_CASE(E) \
  case UnaryOp::E:      \
    return simd::MathOp::E;
    XG_MATH_CASE(Neg)
    XG_MATH_CASE(Abs)
    XG_MATH_CASE(Relu)
    XG_MATH_CASE(Square)
    XG_MATH_CASE(Exp)
    XG_MATH_CASE(Log)
    XG_MATH_CASE(Sqrt)
    XG_MATH_CASE(Rsqrt)
    XG_MATH_CASE(Sin)
    XG_MATH_CASE(Cos)
    XG_MATH_CASE(Tanh)
    XG_MATH_CASE(Sigmoid)
    XG_MATH_CASE(Gelu)
    XG_MATH_CASE(Erf)
    XG_MATH_CASE(Log1p)
    XG_MATH_CASE(Reciprocal)
#undef XG_MATH_CASE
    case UnaryOp::Sign:
      return std::nullopt;
  }
  return std::nullopt;
}

// out[i] = op(in[i]) for i < n: floating math in the vector kernels of this CPU (simd.hpp),
// integers here.
template <class T>
void unary_numeric(UnaryOp op, const T* in, T* o, std::int64_t n) {
  if constexpr (std::is_floating_point_v<T>) {
    if (const auto m = math_op(op)) return simd::kernels<T>().math(*m, in, o, n);
  }
  auto each = [&](auto f) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = f(in[i]);
  };
  switch (op) {
    case UnaryOp::Neg:
      return each([](T v) { return detail::wrap_neg(v); });
    case UnaryOp::Abs:
      return each([](T v) { return v < 0 ? detail::wrap_neg(v) : v; });
    case UnaryOp::Relu:
      return each([](T v) { return v < 0 ? T(0) : v; });
    case UnaryOp::Sign:
      return each([](T v) { return T((T(0) < v) - (v < T(0))); });
    case UnaryOp::Square:
      return each([](T v) { return detail::wrap_mul(v, v); });
    default:
      detail::fail<std::logic_error>("unary: unhandled op");
  }
}

template <class T>
void unary_range(UnaryOp op, const T* in, T* o, std::int64_t n) {
  if constexpr (std::is_same_v<T, bool>) {
    std::copy(in, in + n, o);  // sign, the one op with a Bool result: the identity
  } else {
    unary_numeric(op, in, o, n);
  }
}

}  // namespace

Array unary(UnaryOp op, const Array& x) {
  const Dtype dtype = unary_result_dtype(op, x.dtype());
  bool in_place = false;
  const Array in = dense_input(x, dtype, in_place);
  const Array out = in_place ? in : Array::empty_with_sizes(dtype, x.sizes());
  detail::dispatch(dtype, [&](auto t) {
    using T = decltype(t);
    const T* pi = in.data<T>();
    T* po = out.data<T>();
    detail::parallel_for(x.numel(), unary_grain(op), [&](std::int64_t b, std::int64_t e) {
      unary_range<T>(op, pi + b, po + b, e - b);
    });
  });
  return out;
}

Array gelu_tanh(const Array& x) {
  bool in_place = false;
  const Array in = dense_input(x, x.dtype(), in_place);
  const Array out = in_place ? in : Array::empty_with_sizes(x.dtype(), x.sizes());
  detail::dispatch_floating(x.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* pi = in.data<T>();
    T* po = out.data<T>();
    const auto kernel = simd::kernels<T>().math;
    detail::parallel_for(x.numel(), detail::kGrainMath, [&](std::int64_t b, std::int64_t e) {
      kernel(simd::MathOp::GeluTanh, pi + b, po + b, e - b);
    });
  });
  return out;
}

Array gelu_backward(const Array& grad, const Array& x, bool tanh_form) {
  if (grad.sizes() != x.sizes() || grad.dtype() != x.dtype() || !is_floating(x.dtype())) {
    detail::fail<std::logic_error>("gelu_backward: grad and input differ in sizes or dtype");
  }
  bool in_place = false;
  const Array g = dense_input(grad, grad.dtype(), in_place);  // a copy is overwritten below
  const Array in = x.is_contiguous() ? x : x.clone();
  const Array out = in_place ? g : Array::empty_with_sizes(x.dtype(), x.sizes());
  detail::dispatch_floating(x.dtype(), [&](auto t) {
    using T = decltype(t);
    const T* pg = g.data<T>();
    const T* px = in.data<T>();
    T* po = out.data<T>();
    const auto kernel = simd::kernels<T>().gelu_backward;
    detail::parallel_for(x.numel(), detail::kGrainMath, [&](std::int64_t b, std::int64_t e) {
      kernel(tanh_form, pg + b, px + b, po + b, e - b);
    });
  });
  return out;
}

bool is_comparison(BinaryOp op) {
  switch (op) {
#define XG_COMPARISON_CASE(E, ...) case BinaryOp::E:
    XG_COMPARISON_OPS(XG_COMPARISON_CASE)
#undef XG_COMPARISON_CASE
    return true;
    default:
      return false;
  }
}

namespace {
// The dtype both operands are converted to before the loop runs.
Dtype compute_dtype(BinaryOp op, Dtype a, Dtype b) {
  const Dtype common = promote_types(a, b);
  if (op == BinaryOp::Div && !is_floating(common)) return Dtype::Float32;
  return common;
}
}  // namespace

Dtype binary_result_dtype(BinaryOp op, Dtype a, Dtype b) {
  return is_comparison(op) ? Dtype::Bool : compute_dtype(op, a, b);
}

Array binary(BinaryOp op, const Array& a, const Array& b) {
  const Dtype compute = compute_dtype(op, a.dtype(), b.dtype());
  const Dtype result = binary_result_dtype(op, a.dtype(), b.dtype());
  std::optional<Array> a_converted, b_converted;
  const Array& ca = as_dtype(a, compute, a_converted);
  const Array& cb = as_dtype(b, compute, b_converted);
  // Same sizes, both contiguous (the common case): one flat loop, no broadcasting or strides.
  const bool flat = ca.is_contiguous() && cb.is_contiguous() && a.sizes() == b.sizes();
  Array out = Array::empty_with_sizes(
      result, flat ? a.sizes() : broadcast_shapes(a.sizes(), b.sizes(), "broadcast"));
  detail::dispatch(compute, [&](auto t) {
    using T = decltype(t);
    with_binary_functor<T>(op, [&](auto f) {
      detail::dispatch(result, [&](auto r) {
        using R = decltype(r);
        if constexpr (std::is_same_v<R, T> || std::is_same_v<R, bool>) {
          const T* pa = ca.data<T>();
          const T* pb = cb.data<T>();
          R* o = out.data<R>();
          if constexpr (std::is_floating_point_v<T> && std::is_same_v<R, T>) {
            const auto arith = arith_op(op);
            if (flat && arith) {
              const auto kernel = simd::kernels<T>().arith;
              detail::parallel_for(out.numel(), binary_grain(op),
                                   [&](std::int64_t begin, std::int64_t end) {
                                     kernel(*arith, pa + begin, pb + begin, o + begin, end - begin);
                                   });
              return;
            }
          }
          if (flat) {
            detail::parallel_for(out.numel(), binary_grain(op),
                                 [&](std::int64_t begin, std::int64_t end) {
                                   for (std::int64_t i = begin; i < end; ++i)
                                     o[i] = static_cast<R>(f(pa[i], pb[i]));
                                 });
          } else {
            broadcast_loop(pa, operand(ca), pb, operand(cb), o, operand(out), f);
          }
        }
      });
    });
  });
  return out;
}

Array binary_scalar(BinaryOp op, const Array& a, const Scalar& s, bool scalar_first) {
  // A scalar raises the tensor's dtype only into its own category (result_type).
  const Dtype operand = result_type(a.dtype(), s);
  const Dtype compute = compute_dtype(op, operand, operand);
  const Dtype result = is_comparison(op) ? Dtype::Bool : compute;
  bool in_place = false;
  const Array ca = dense_input(a, compute, in_place);
  const Array out = in_place && result == compute ? ca : Array::empty_with_sizes(result, a.sizes());
  detail::dispatch(compute, [&](auto t) {
    using T = decltype(t);
    const T sv = s.to<T>();
    const T* x = ca.data<T>();
    const std::int64_t n = ca.numel();
    with_binary_functor<T>(op, [&](auto f) {
      detail::dispatch(result, [&](auto r) {
        using R = decltype(r);
        if constexpr (std::is_same_v<R, T> || std::is_same_v<R, bool>) {
          R* o = out.data<R>();
          if constexpr (std::is_floating_point_v<T> && std::is_same_v<R, T>) {
            if (const auto arith = arith_op(op)) {
              const auto kernel = simd::kernels<T>().arith_scalar;
              detail::parallel_for(n, binary_grain(op), [&](std::int64_t b, std::int64_t e) {
                kernel(*arith, x + b, sv, scalar_first, o + b, e - b);
              });
              return;
            }
          }
          detail::parallel_for(n, binary_grain(op), [&](std::int64_t b, std::int64_t e) {
            if (scalar_first) {
              for (std::int64_t i = b; i < e; ++i) o[i] = static_cast<R>(f(sv, x[i]));
            } else {
              for (std::int64_t i = b; i < e; ++i) o[i] = static_cast<R>(f(x[i], sv));
            }
          });
        }
      });
    });
  });
  return out;
}

namespace {
// other as an operand of an in-place op on self: converted to self's dtype, and copied when it
// shares self's buffer in another layout (x.add_(x.t()) reads what it has not yet written).
Array inplace_operand(const Array& self, const Array& other) {
  if (other.dtype() != self.dtype()) return other.to(self.dtype());
  if (other.shares_storage(self) && !other.same_view(self)) return other.clone();
  return other;
}
}  // namespace

void binary_inplace(BinaryOp op, Array& self, const Array& other) {
  const Array co = inplace_operand(self, other);
  detail::dispatch(self.dtype(), [&](auto t) {
    using T = decltype(t);
    with_binary_functor<T>(op, [&](auto f) {
      broadcast_loop(self.data<T>(), operand(self), co.data<T>(), operand(co), self.data<T>(),
                     operand(self), f);
    });
  });
}

void binary_scalar_inplace(BinaryOp op, Array& self, const Scalar& s) {
  detail::dispatch(self.dtype(), [&](auto t) {
    using T = decltype(t);
    const T sv = s.to<T>();
    with_binary_functor<T>(op, [&](auto f) {
      broadcast_loop(self.data<T>(), operand(self), &sv, Operand{}, self.data<T>(), operand(self),
                     f);
    });
  });
}

void add_scaled_inplace(Array& self, const Array& other, double alpha) {
  const Array co = inplace_operand(self, other);
  detail::dispatch(self.dtype(), [&](auto t) {
    using T = decltype(t);
    const T al = static_cast<T>(alpha);
    broadcast_loop(self.data<T>(), operand(self), co.data<T>(), operand(co), self.data<T>(),
                   operand(self),
                   [al](T x, T y) { return detail::wrap_add(x, detail::wrap_mul(al, y)); });
  });
}

void accumulate_into(Array& target, const Array& src) {
  const Array co = src.to(target.dtype());
  detail::dispatch(target.dtype(), [&](auto t) {
    using T = decltype(t);
    T* out = target.data<T>();
    const T* in = co.data<T>();
    StridedLoop<2> loop(target.sizes(), {operand(target), operand(co)});
    loop.for_each_row([&](const std::array<std::int64_t, 2>& off, std::int64_t n,
                          const std::array<std::int64_t, 2>& st) {
      for (std::int64_t i = 0; i < n; ++i) {
        T& dst = out[off[0] + i * st[0]];
        dst = detail::wrap_add(dst, in[off[1] + i * st[1]]);
      }
    });
  });
}

void fill(Array& self, const Scalar& value) {
  detail::dispatch(self.dtype(), [&](auto t) {
    using T = decltype(t);
    // An Int64 value the op checked fits; a Bool is true for any nonzero value.
    const T v = std::is_integral_v<T> && !std::is_same_v<T, bool>
                    ? static_cast<T>(value.to_int64("fill_"))
                    : value.to<T>();
    broadcast_loop(self.data<T>(), operand(self), &v, Operand{}, self.data<T>(), operand(self),
                   [](T, T y) { return y; });
  });
}

Array clamp(const Array& x, std::optional<double> min, std::optional<double> max) {
  bool in_place = false;
  const Array in = dense_input(x, x.dtype(), in_place);
  const Array out = in_place ? in : Array::empty_with_sizes(x.dtype(), x.sizes());
  in.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    // A missing bound leaves that side open, infinities included.
    constexpr bool inf = std::numeric_limits<T>::has_infinity;
    // Int64 bounds are integral (the op widens for floating ones) but may round to 2^63.
    auto bound = [](double v) {
      if constexpr (std::is_integral_v<T>) {
        return v >= 0x1p63 ? std::numeric_limits<T>::max() : static_cast<T>(v);
      } else {
        return static_cast<T>(v);
      }
    };
    const T lo =
        min ? bound(*min)
            : (inf ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest());
    const T hi = max ? bound(*max)
                     : (inf ? std::numeric_limits<T>::infinity() : std::numeric_limits<T>::max());
    const T* in = a.data();
    T* o = out.data<T>();
    for (std::size_t i = 0; i < a.size(); ++i) o[i] = nan_min(nan_max(in[i], lo), hi);
  });
  return out;
}

Array where(const Array& cond, const Array& a, const Array& b) {
  const Dtype dtype = promote_types(a.dtype(), b.dtype());
  std::optional<Array> a_converted, b_converted;
  const Array& ca = as_dtype(a, dtype, a_converted);
  const Array& cb = as_dtype(b, dtype, b_converted);
  const Array::Sizes ab = broadcast_shapes(a.sizes(), b.sizes(), "where");
  const Array::Sizes out_shape = broadcast_shapes(cond.sizes(), {ab.data(), ab.size()}, "where");
  Array out = Array::empty_with_sizes(dtype, {out_shape.data(), out_shape.size()});
  detail::dispatch(dtype, [&](auto t) {
    using T = decltype(t);
    const bool* pc = cond.data<bool>();
    const T* pa = ca.data<T>();
    const T* pb = cb.data<T>();
    T* o = out.data<T>();
    StridedLoop<4> loop(out.sizes(), {operand(out), operand(cond), operand(ca), operand(cb)});
    loop.for_each_row([&](const std::array<std::int64_t, 4>& off, std::int64_t n,
                          const std::array<std::int64_t, 4>& s) {
      for (std::int64_t i = 0; i < n; ++i) {
        o[off[0] + i * s[0]] =
            pc[off[1] + i * s[1]] ? pa[off[2] + i * s[2]] : pb[off[3] + i * s[3]];
      }
    });
  });
  return out;
}

}  // namespace xg::kernels
