// Elementwise ops: arithmetic, math functions, clamp, maximum/minimum, where, comparisons.
#include <stdexcept>

#include "../tensor/kernels.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

using detail::array_of;
using detail::check_defined;
using detail::make_tensor;
using kernels::BinaryOp;
using kernels::UnaryOp;

namespace {

Tensor binary_op(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name);
  check_defined(b, name);
  broadcast_shapes(a.shape(), b.shape(), name);  // throws with the op's name
  return make_tensor(kernels::binary(op, array_of(a), array_of(b)));
}

Tensor scalar_op(BinaryOp op, const Tensor& a, const Scalar& s, bool scalar_first,
                 const char* name) {
  check_defined(a, name);
  return make_tensor(
      kernels::binary_scalar(op, array_of(a), s.to_double(), s.is_integral(), scalar_first));
}

Tensor unary_op(UnaryOp op, const Tensor& t) {
  check_defined(t, kernels::unary_name(op));
  return make_tensor(kernels::unary(op, array_of(t)));
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, Scalar alpha) {
  if (alpha.to_double() == 1.0) return binary_op(BinaryOp::Add, a, b, "add");
  return binary_op(BinaryOp::Add, a, b * alpha, "add");
}
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha) {
  if (alpha.to_double() == 1.0) return binary_op(BinaryOp::Sub, a, b, "sub");
  return binary_op(BinaryOp::Sub, a, b * alpha, "sub");
}
Tensor mul(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Mul, a, b, "mul"); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Div, a, b, "div"); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Add, a, b, false, "add"); }
Tensor operator-(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Sub, a, b, false, "sub"); }
Tensor operator*(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Mul, a, b, false, "mul"); }
Tensor operator/(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Div, a, b, false, "div"); }
Tensor operator+(Scalar a, const Tensor& b) { return scalar_op(BinaryOp::Add, b, a, true, "add"); }
Tensor operator-(Scalar a, const Tensor& b) { return scalar_op(BinaryOp::Sub, b, a, true, "sub"); }
Tensor operator*(Scalar a, const Tensor& b) { return scalar_op(BinaryOp::Mul, b, a, true, "mul"); }
Tensor operator/(Scalar a, const Tensor& b) { return scalar_op(BinaryOp::Div, b, a, true, "div"); }
Tensor operator-(const Tensor& a) { return neg(a); }

Tensor pow(const Tensor& t, Scalar exponent) {
  check_defined(t, "pow");
  const double e = exponent.to_double();
  // A floating exponent makes an Int64 base Float32, as in PyTorch.
  const Tensor base = t.is_floating_point() || exponent.is_integral() ? t : t.to(kFloat32);
  if (!base.is_floating_point() && e < 0) {
    throw std::invalid_argument("pow: an Int64 tensor " + detail::describe(t) +
                                " cannot be raised to a negative integer power");
  }
  // Small integer powers are products, not std::pow: faster and exact.
  if (e == 2.0) return unary_op(UnaryOp::Square, base);
  if (e == 3.0) return base * unary_op(UnaryOp::Square, base);
  if (e == 0.5 && base.is_floating_point()) return unary_op(UnaryOp::Sqrt, base);
  return scalar_op(BinaryOp::Pow, base, exponent, false, "pow");
}
Tensor pow(const Tensor& t, const Tensor& exponent) {
  return binary_op(BinaryOp::Pow, t, exponent, "pow");
}
Tensor pow(Scalar base, const Tensor& exponent) {
  return scalar_op(BinaryOp::Pow, exponent, base, true, "pow");
}

Tensor exp(const Tensor& t) { return unary_op(UnaryOp::Exp, t); }
Tensor log(const Tensor& t) { return unary_op(UnaryOp::Log, t); }
Tensor sqrt(const Tensor& t) { return unary_op(UnaryOp::Sqrt, t); }
Tensor rsqrt(const Tensor& t) { return unary_op(UnaryOp::Rsqrt, t); }
Tensor abs(const Tensor& t) { return unary_op(UnaryOp::Abs, t); }
Tensor neg(const Tensor& t) { return unary_op(UnaryOp::Neg, t); }
Tensor sin(const Tensor& t) { return unary_op(UnaryOp::Sin, t); }
Tensor cos(const Tensor& t) { return unary_op(UnaryOp::Cos, t); }
Tensor tanh(const Tensor& t) { return unary_op(UnaryOp::Tanh, t); }
Tensor sigmoid(const Tensor& t) { return unary_op(UnaryOp::Sigmoid, t); }
Tensor relu(const Tensor& t) { return unary_op(UnaryOp::Relu, t); }
Tensor gelu(const Tensor& t) { return unary_op(UnaryOp::Gelu, t); }
Tensor square(const Tensor& t) { return unary_op(UnaryOp::Square, t); }

Tensor clamp(const Tensor& t, std::optional<Scalar> min, std::optional<Scalar> max) {
  check_defined(t, "clamp");
  if (!min && !max) {
    throw std::invalid_argument("clamp: at least one of min and max must be given");
  }
  auto bound = [](const std::optional<Scalar>& s) -> std::optional<double> {
    if (!s) return std::nullopt;
    return s->to_double();
  };
  Array x = array_of(t);
  // A floating bound on an Int64 tensor gives Float32, as in PyTorch.
  if (!t.is_floating_point() && ((min && !min->is_integral()) || (max && !max->is_integral()))) {
    x = x.to(Dtype::Float32);
  }
  return make_tensor(kernels::clamp(x, bound(min), bound(max)));
}
Tensor clamp_min(const Tensor& t, Scalar min) { return clamp(t, min, std::nullopt); }
Tensor clamp_max(const Tensor& t, Scalar max) { return clamp(t, std::nullopt, max); }

Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Maximum, a, b, "maximum");
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_op(BinaryOp::Minimum, a, b, "minimum");
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where");
  check_defined(a, "where");
  check_defined(b, "where");
  broadcast_shapes(cond.shape(), broadcast_shapes(a.shape(), b.shape(), "where"), "where");
  return make_tensor(kernels::where(array_of(cond), array_of(a), array_of(b)));
}

Tensor eq(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Ne, a, b, "ne"); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Le, a, b, "le"); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary_op(BinaryOp::Ge, a, b, "ge"); }
Tensor eq(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Eq, a, b, false, "eq"); }
Tensor ne(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Ne, a, b, false, "ne"); }
Tensor lt(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Lt, a, b, false, "lt"); }
Tensor le(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Le, a, b, false, "le"); }
Tensor gt(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Gt, a, b, false, "gt"); }
Tensor ge(const Tensor& a, Scalar b) { return scalar_op(BinaryOp::Ge, a, b, false, "ge"); }

}  // namespace xg
