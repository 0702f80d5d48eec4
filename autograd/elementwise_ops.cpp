// Elementwise ops and their derivatives, side by side: arithmetic, math functions, clamp,
// maximum/minimum, where, and the (non-differentiable) comparisons, which return Bool. Broadcast
// gradients are summed back to each input's shape by the engine (sum_to), so formulas use full
// shapes.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "creation.hpp"
#include "op_prelude.hpp"

namespace xg {

namespace {

Array binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name);
  check_defined(b, name);
  const Shape &sa = array_of(a).sizes(), &sb = array_of(b).sizes();
  if (sa != sb) {
    broadcast_shapes(sa, sb, name);  // throws, naming op
  }
  return kernels::binary(op, array_of(a), array_of(b));
}

// The gradient of a factor of a product, g * other, which the engine sums back to the factor's
// shape. When the factor is one element broadcast over g, that sum is a dot product: done here
// in one pass, without the temporary, rounded exactly as sum(g * other) would be. Only when the
// backward is not itself recorded (create_graph records g * other).
Tensor factor_grad(const Tensor& g, const Tensor& other, const autograd::InputMeta& factor) {
  std::int64_t factor_numel = 1;
  for (const auto d : factor.shape) factor_numel *= d;
  if (factor_numel == 1 && g.numel() > 1 && !GradMode::is_enabled() && g.dtype() == other.dtype() &&
      g.is_same_size(other)) {
    Tensor dot = make_tensor(kernels::dot_all(array_of(g), array_of(other)));
    return factor.shape.empty() ? dot : dot.reshape(factor.shape);
  }
  return g * other;
}

Array scalar_kernel(BinaryOp op, const Tensor& a, const Scalar& s, bool scalar_first,
                    const char* name) {
  check_defined(a, name);
  return kernels::binary_scalar(op, array_of(a), s, scalar_first);
}

Array unary_kernel(UnaryOp op, const Tensor& t) {
  const char* name = kernels::unary_name(op);
  check_defined(t, name);
  if (kernels::unary_int_input(op) == kernels::IntInput::Refuse) {
    detail::check_floating(t, name);  // as PyTorch, which has no Int64 or Bool gelu
  }
  if (t.dtype() == kBool) {
    switch (kernels::unary_bool_input(op)) {
      case kernels::BoolInput::RefuseNegation:
        detail::fail<std::invalid_argument>(
            name, ": negation of a Bool tensor is not supported, got ", detail::describe(t),
            "; use logical_not() to invert a mask");
      case kernels::BoolInput::Refuse:
        detail::check_not_bool(t, name);  // as PyTorch, which has no Bool abs or relu
        break;
      default:
        break;
    }
  }
  return kernels::unary(op, array_of(t));
}

// "a bool" or "a number": a Scalar operand, described in a message.
std::string describe_scalar(const Scalar& s) { return s.is_bool() ? "a bool" : "a number"; }

[[noreturn]] void throw_sub_bool(const std::string& a, const std::string& b, const char* op) {
  detail::fail<std::invalid_argument>(
      op, ": subtraction with a Bool operand is not supported, got ", a, " and ", b,
      "; use logical_not() to invert a mask, logical_xor() to find where two masks differ");
}

// A Bool comparison result cast to the dtype of `like`, so a mask never widens a gradient.
Tensor cast_like(const Tensor& m, const Tensor& like) { return m.to(like.dtype()); }

}  // namespace

void detail::check_not_bool(const Tensor& t, const char* op) {
  check_defined(t, op);
  XG_CHECK_ARG(t.dtype() != kBool, op, ": expected a Float32, Float64 or Int64 tensor, got ",
               detail::describe(t));
}

void detail::check_sub(const Tensor& a, const Tensor& b, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  if (a.dtype() == kBool || b.dtype() == kBool) {
    throw_sub_bool(detail::describe(a), detail::describe(b), op);
  }
}

void detail::check_alpha(const Tensor& a, const Tensor& b, const Scalar& alpha, const char* op) {
  check_defined(a, op);
  check_defined(b, op);
  XG_CHECK_ARG(alpha.is_integral() || is_floating(a.dtype()) || is_floating(b.dtype()), op,
               ": for integral input tensors, argument alpha must not be a floating point number, "
               "got ",
               detail::describe(a), " and ", detail::describe(b));
}

void detail::check_sub(const Tensor& a, const Scalar& s, bool scalar_first, const char* op) {
  check_defined(a, op);
  if (a.dtype() == kBool || s.is_bool()) {
    const std::string t = detail::describe(a), n = describe_scalar(s);
    throw_sub_bool(scalar_first ? n : t, scalar_first ? t : n, op);
  }
}

// ---- arithmetic ------------------------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  if (!alpha.is_integral()) detail::check_alpha(a, b, alpha, "add");
  if (alpha.to_double() != 1.0) {
    check_defined(a, "add");
    check_defined(b, "add");
    // Two masks: alpha counts as a bool (PyTorch casts it to the result's dtype).
    if (a.dtype() == kBool && b.dtype() == kBool) return add(a, b * (alpha.to_double() != 0.0));
    return add(a, b * alpha);
  }
  return record("add", binary_kernel(BinaryOp::Add, a, b, "add"), {a, b}, kSaveNone,
                [](const Tensor& g, const BackwardArgs&) {
                  return Grads{g, g};
                });
}

Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  detail::check_sub(a, b, "sub");
  if (!alpha.is_integral()) detail::check_alpha(a, b, alpha, "sub");
  if (alpha.to_double() != 1.0) return sub(a, b * alpha);
  return record("sub", binary_kernel(BinaryOp::Sub, a, b, "sub"), {a, b}, kSaveNone,
                [](const Tensor& g, const BackwardArgs& s) {
                  return Grads{g, s.needs(1) ? -g : Tensor()};
                });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return record("mul", binary_kernel(BinaryOp::Mul, a, b, "mul"), {a, b}, kSaveInputs,
                [](const Tensor& g, const BackwardArgs& s) {
                  // Each gradient reads the other factor only, as PyTorch saves them.
                  return Grads{s.needs(0) ? factor_grad(g, s.input(1), s.input_meta(0)) : Tensor(),
                               s.needs(1) ? factor_grad(g, s.input(0), s.input_meta(1)) : Tensor()};
                });
}

Tensor div(const Tensor& a, const Tensor& b) {
  return record("div", binary_kernel(BinaryOp::Div, a, b, "div"), {a, b}, kSaveInputs,
                [](const Tensor& g, const BackwardArgs& s) {
                  const Tensor b = s.input(1);
                  return Grads{s.needs(0) ? g / b : Tensor(),
                               s.needs(1) ? -g * s.input(0) / (b * b) : Tensor()};
                });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }

Tensor operator+(const Tensor& a, Scalar b) {
  return record("add", scalar_kernel(BinaryOp::Add, a, b, false, "add"), {a}, kSaveNone,
                [](const Tensor& g, const BackwardArgs&) { return Grads{g}; });
}
Tensor operator-(const Tensor& a, Scalar b) {
  detail::check_sub(a, b, false, "sub");
  return record("sub", scalar_kernel(BinaryOp::Sub, a, b, false, "sub"), {a}, kSaveNone,
                [](const Tensor& g, const BackwardArgs&) { return Grads{g}; });
}
Tensor operator*(const Tensor& a, Scalar b) {
  return record("mul", scalar_kernel(BinaryOp::Mul, a, b, false, "mul"), {a}, kSaveNone,
                [b](const Tensor& g, const BackwardArgs&) { return Grads{g * b}; });
}
Tensor operator/(const Tensor& a, Scalar b) {
  return record("div", scalar_kernel(BinaryOp::Div, a, b, false, "div"), {a}, kSaveNone,
                [b](const Tensor& g, const BackwardArgs&) { return Grads{g / b}; });
}
Tensor operator+(Scalar a, const Tensor& b) { return b + a; }
Tensor operator-(Scalar a, const Tensor& b) {
  detail::check_sub(b, a, true, "sub");
  return record("rsub", scalar_kernel(BinaryOp::Sub, b, a, true, "sub"), {b}, kSaveNone,
                [](const Tensor& g, const BackwardArgs&) { return Grads{-g}; });
}
Tensor operator*(Scalar a, const Tensor& b) { return b * a; }
Tensor operator/(Scalar a, const Tensor& b) {
  // d(a / b) = -a / b^2 = -out / b
  return record(
      "div", scalar_kernel(BinaryOp::Div, b, a, true, "div"), {b}, kSaveBoth,
      [](const Tensor& g, const BackwardArgs& s) { return Grads{-g * s.output() / s.input(0)}; });
}
Tensor operator-(const Tensor& a) { return neg(a); }

// ---- powers ----------------------------------------------------------------------------------

Tensor pow(const Tensor& t, Scalar exponent) {
  check_defined(t, "pow");
  const double e = exponent.to_double();
  // A floating exponent makes an Int64 or Bool base Float32, an integral one a Bool base Int64,
  // as in PyTorch; a Bool raised to a bool has no kernel there either.
  const Dtype dtype = result_type(t.dtype(), exponent);
  if (dtype == kBool) detail::check_not_bool(t, "pow");
  const Tensor base = t.to(dtype);
  XG_CHECK_ARG(base.is_floating_point() || !(e < 0), "pow: an Int64 tensor ",
               detail::describe(base), " cannot be raised to a negative integer power");
  // Small integer powers are products, not std::pow: faster and exact.
  if (e == 2.0) return square(base);
  if (e == 3.0) return base * square(base);
  if (e == 0.5 && base.is_floating_point()) return sqrt(base);
  return record("pow", scalar_kernel(BinaryOp::Pow, base, exponent, false, "pow"), {base},
                kSaveInputs, [e](const Tensor& g, const BackwardArgs& s) {
                  if (e == 0.0) return Grads{zeros_like(g)};
                  return Grads{g * e * pow(s.input(0), e - 1.0)};
                });
}

Tensor pow(const Tensor& t, const Tensor& exponent) {
  check_defined(t, "pow");
  check_defined(exponent, "pow");
  if (promote_types(t.dtype(), exponent.dtype()) == kBool) detail::check_not_bool(t, "pow");
  return record("pow", binary_kernel(BinaryOp::Pow, t, exponent, "pow"), {t, exponent}, kSaveBoth,
                [](const Tensor& g, const BackwardArgs& s) {
                  const Tensor a = s.input(0), b = s.input(1);
                  Grads grads(2);
                  if (s.needs(0)) grads[0] = g * b * pow(a, b - 1.0);
                  if (s.needs(1)) {
                    // d/db a^b = a^b log(a); PyTorch takes it as 0 where a == 0 and b >= 0.
                    const Tensor term = g * s.output() * log(a);
                    grads[1] = where(eq(a, 0.0) * ge(b, 0.0), zeros_like(term), term);
                  }
                  return grads;
                });
}

Tensor pow(Scalar base, const Tensor& exponent) {
  check_defined(exponent, "pow");
  if (result_type(exponent.dtype(), base) == kBool) detail::check_not_bool(exponent, "pow");
  const double log_base = std::log(base.to_double());
  return record("pow", scalar_kernel(BinaryOp::Pow, exponent, base, true, "pow"), {exponent},
                kSaveOutput, [log_base](const Tensor& g, const BackwardArgs& s) {
                  return Grads{g * s.output() * log_base};
                });
}

// ---- unary ops: one row each in XG_UNARY_OPS, one derivative each here -----------------------
// Derivative<Op>::saves says what the backward reads (the input, s.input(0), or the result,
// s.output()); grad gives the input's gradient from the result's, g. An op without one does not
// compile.
namespace {

template <UnaryOp Op>
struct Derivative;

template <>
struct Derivative<UnaryOp::Neg> {
  static constexpr auto saves = kSaveNone;
  static Tensor grad(const Tensor& g, const BackwardArgs&) { return -g; }
};
template <>
struct Derivative<UnaryOp::Abs> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g * sign(s.input(0)); }
};
template <>
struct Derivative<UnaryOp::Exp> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g * s.output(); }
};
template <>
struct Derivative<UnaryOp::Log> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g / s.input(0); }
};
template <>
struct Derivative<UnaryOp::Sqrt> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g / (s.output() * 2.0); }
};
template <>
struct Derivative<UnaryOp::Rsqrt> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor out = s.output();
    return g * out * out * out * -0.5;
  }
};
template <>
struct Derivative<UnaryOp::Sin> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g * cos(s.input(0)); }
};
template <>
struct Derivative<UnaryOp::Cos> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return -g * sin(s.input(0)); }
};
template <>
struct Derivative<UnaryOp::Tanh> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor out = s.output();
    return g * (1.0 - out * out);
  }
};
template <>
struct Derivative<UnaryOp::Sigmoid> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor out = s.output();
    return g * out * (1.0 - out);
  }
};
template <>
struct Derivative<UnaryOp::Relu> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    return g * cast_like(gt(s.output(), 0.0), g);
  }
};
template <>
struct Derivative<UnaryOp::Gelu> {
  // gelu(x) = x * Phi(x), so gelu'(x) = Phi(x) + x * phi(x).
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor x = s.input(0);
    if (!GradMode::is_enabled() && g.dtype() == x.dtype() && g.shape() == x.shape()) {
      // One fused pass, as PyTorch's GeluBackward; under create_graph the formula below is
      // recorded instead, so that it can be differentiated again.
      return detail::make_tensor(kernels::gelu_backward(detail::array_of(g), detail::array_of(x)));
    }
    const Tensor cdf = (erf(x * std::numbers::sqrt2 / 2.0) + 1.0) * 0.5;
    const Tensor pdf = exp(x * x * -0.5) * (1.0 / std::sqrt(2.0 * std::numbers::pi));
    return g * (cdf + x * pdf);
  }
};
template <>
struct Derivative<UnaryOp::Sign> {
  static constexpr auto saves = kSaveNone;
  static Tensor grad(const Tensor& g, const BackwardArgs&) { return zeros_like(g); }
};
template <>
struct Derivative<UnaryOp::Square> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g * s.input(0) * 2.0; }
};
template <>
struct Derivative<UnaryOp::Erf> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor x = s.input(0);
    return g * exp(-(x * x)) * (2.0 / std::sqrt(std::numbers::pi));
  }
};
template <>
struct Derivative<UnaryOp::Log1p> {
  static constexpr auto saves = kSaveInputs;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) { return g / (s.input(0) + 1.0); }
};
template <>
struct Derivative<UnaryOp::Reciprocal> {
  static constexpr auto saves = kSaveOutput;
  static Tensor grad(const Tensor& g, const BackwardArgs& s) {
    const Tensor out = s.output();
    return -g * out * out;
  }
};

template <UnaryOp Op>
Tensor unary_op(const Tensor& t) {
  return record(
      kernels::unary_name(Op), unary_kernel(Op, t), {t}, Derivative<Op>::saves,
      [](const Tensor& g, const BackwardArgs& s) { return Grads{Derivative<Op>::grad(g, s)}; });
}
}  // namespace

#define XG_UNARY_DEFINITION(E, name, ...) \
  Tensor name(const Tensor& t) { return unary_op<UnaryOp::E>(t); }
XG_UNARY_OPS(XG_UNARY_DEFINITION)
#undef XG_UNARY_DEFINITION

// ---- clamp, maximum, minimum, where ----------------------------------------------------------

Tensor clamp(const Tensor& t, std::optional<Scalar> min, std::optional<Scalar> max) {
  check_defined(t, "clamp");
  XG_CHECK_ARG(min || max, "clamp: at least one of min and max must be given");
  // A floating bound on an Int64 or Bool tensor gives Float32, an integral one on a Bool tensor
  // Int64, as in PyTorch (which has no Bool clamp).
  Dtype dtype = t.dtype();
  if (min) dtype = result_type(dtype, *min);
  if (max) dtype = result_type(dtype, *max);
  if (dtype == kBool) detail::check_not_bool(t, "clamp");
  const Tensor x = t.to(dtype);
  const std::optional<double> lo = min ? std::optional(min->to_double()) : std::nullopt;
  const std::optional<double> hi = max ? std::optional(max->to_double()) : std::nullopt;
  return record("clamp", kernels::clamp(array_of(x), lo, hi), {x}, kSaveInputs,
                [lo, hi](const Tensor& g, const BackwardArgs& s) {
                  // The gradient passes where min <= x <= max, as in PyTorch.
                  const Tensor x = s.input(0);
                  Tensor pass = ones_like(g);
                  if (lo) pass = pass * cast_like(ge(x, *lo), g);
                  if (hi) pass = pass * cast_like(le(x, *hi), g);
                  return Grads{g * pass};
                });
}
Tensor clamp_min(const Tensor& t, Scalar min) { return clamp(t, min, std::nullopt); }
Tensor clamp_max(const Tensor& t, Scalar max) { return clamp(t, std::nullopt, max); }

namespace {
// maximum and minimum send the gradient to the chosen input, half to each on a tie.
Tensor extremum(BinaryOp op, const char* name, const Tensor& a, const Tensor& b) {
  const bool is_max = op == BinaryOp::Maximum;
  return record(name, binary_kernel(op, a, b, name), {a, b}, kSaveInputs,
                [is_max](const Tensor& g, const BackwardArgs& s) {
                  const Tensor a = s.input(0), b = s.input(1);
                  const Tensor tie = cast_like(eq(a, b), g) * 0.5;
                  const Tensor a_wins = cast_like(is_max ? gt(a, b) : lt(a, b), g) + tie;
                  const Tensor b_wins = cast_like(is_max ? lt(a, b) : gt(a, b), g) + tie;
                  return Grads{g * a_wins, g * b_wins};
                });
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum(BinaryOp::Maximum, "maximum", a, b);
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum(BinaryOp::Minimum, "minimum", a, b);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where");
  check_defined(a, "where");
  check_defined(b, "where");
  XG_CHECK_ARG(cond.dtype() == kBool, "where: expected a Bool condition, got ",
               detail::describe(cond), " (make one with a comparison, such as ne(cond, 0))");
  broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  // The condition is saved as a detached input: it never needs a gradient.
  const Tensor c = cond.detach();
  return record("where", kernels::where(array_of(c), array_of(a), array_of(b)), {c, a, b},
                kSaveInputs, [](const Tensor& g, const BackwardArgs& s) {
                  const Tensor c = s.input(0);
                  const Tensor zero = zeros_like(g);
                  return Grads{Tensor(), s.needs(1) ? where(c, g, zero) : Tensor(),
                               s.needs(2) ? where(c, zero, g) : Tensor()};
                });
}

// The number as a 0-d tensor of the dtype it takes next to `other` (result_type).
Tensor where(const Tensor& cond, const Tensor& a, Scalar b) {
  check_defined(a, "where");
  return where(cond, a, scalar_tensor(b, result_type(a.dtype(), b)));
}
Tensor where(const Tensor& cond, Scalar a, const Tensor& b) {
  check_defined(b, "where");
  return where(cond, scalar_tensor(a, result_type(b.dtype(), a)), b);
}
// Two numbers: Bool for two bools, Float32 (the default dtype) if either is floating, else Int64.
Tensor where(const Tensor& cond, Scalar a, Scalar b) {
  const Dtype dtype = result_type(result_type(kBool, a), b);
  return where(cond, scalar_tensor(a, dtype), scalar_tensor(b, dtype));
}

// ---- comparisons: one row each in XG_COMPARISON_OPS; not differentiable ----------------------

#define XG_COMPARISON_DEFINITIONS(E, name, ...)                         \
  Tensor name(const Tensor& a, const Tensor& b) {                       \
    return make_tensor(binary_kernel(BinaryOp::E, a, b, #name));        \
  }                                                                     \
  Tensor name(const Tensor& a, Scalar b) {                              \
    return make_tensor(scalar_kernel(BinaryOp::E, a, b, false, #name)); \
  }
XG_COMPARISON_OPS(XG_COMPARISON_DEFINITIONS)
#undef XG_COMPARISON_DEFINITIONS

}  // namespace xg
