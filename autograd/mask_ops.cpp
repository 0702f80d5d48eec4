// Masks: the logical ops, isnan/isinf/isfinite and any/all (Bool results, not differentiable),
// and masked_fill, masked_select, tril and triu with their derivatives.
#include "op_prelude.hpp"

namespace xg {

namespace {

// a op b on both operands seen as Bool (nonzero, NaN included, is true): And is Mul on Bool,
// Or is Add, Xor is Ne.
Tensor logical(BinaryOp op, const Tensor& a, const Tensor& b, const char* name) {
  check_defined(a, name);
  check_defined(b, name);
  broadcast_shapes(array_of(a).sizes(), array_of(b).sizes(), name);  // throws, naming op
  return make_tensor(kernels::binary(op, array_of(a).to(kBool), array_of(b).to(kBool)));
}

Tensor classify(kernels::FloatClass c, const Tensor& t, const char* name) {
  check_defined(t, name);
  return make_tensor(kernels::classify(c, array_of(t)));
}

// any (IsAny) or all over dims (every dim when empty): the max or min of the values as Bool.
template <bool IsAny>
Tensor any_all(const Tensor& t, const std::vector<std::int64_t>& dims, bool keepdim) {
  const Array b = array_of(t).to(kBool);
  return make_tensor(IsAny ? kernels::amax(b, dims, keepdim) : kernels::amin(b, dims, keepdim));
}

// t (broadcast with the mask) with value where the mask is true; t's dtype.
Array filled(const Tensor& t, const Tensor& mask, const Scalar& value, const char* op) {
  const auto sizes = broadcast_shapes(array_of(t).sizes(), array_of(mask).sizes(), op);
  if (t.dtype() == kInt64) value.to_int64(op);  // throws for a value Int64 cannot hold
  Array out = Array::empty_with_sizes(t.dtype(), {sizes.data(), sizes.size()});
  detail::copy_into(out, array_of(t));
  kernels::masked_fill(out, array_of(mask), value);
  return out;
}

Tensor triangle(const Tensor& t, std::int64_t k, bool upper) {
  const char* op = upper ? "triu" : "tril";
  check_defined(t, op);
  XG_CHECK_ARG(t.dim() >= 2, op, ": expects a matrix or a batch of matrices, got ", describe(t));
  return record(op, kernels::triangle(array_of(t), k, upper), {t}, kSaveNone,
                [k, upper](const Tensor& g, const BackwardArgs&) {
                  return Grads{upper ? triu(g, k) : tril(g, k)};
                });
}

}  // namespace

void detail::check_mask(const Tensor& mask, const char* op) {
  check_defined(mask, op);
  XG_CHECK_ARG(mask.dtype() == kBool, op, ": expected a Bool mask, got ", describe(mask),
               " (make one with a comparison, such as ne(mask, 0))");
}

Scalar detail::masked_fill_value(const Tensor& value, const char* op) {
  check_defined(value, op);
  XG_CHECK_ARG(value.dim() == 0, op, ": expected a 0-d value tensor, got ", describe(value));
  switch (value.dtype()) {
    case kBool:
      return value.item<bool>();
    case kInt64:
      return value.item<std::int64_t>();
    default:
      return value.item();
  }
}

// ---- logical ops and tests: Bool results, not differentiable -------------------------------

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return logical(BinaryOp::Mul, a, b, "logical_and");
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return logical(BinaryOp::Add, a, b, "logical_or");
}
Tensor logical_xor(const Tensor& a, const Tensor& b) {
  return logical(BinaryOp::Ne, a, b, "logical_xor");
}
Tensor logical_not(const Tensor& t) {
  check_defined(t, "logical_not");
  return make_tensor(kernels::binary_scalar(BinaryOp::Eq, array_of(t).to(kBool), false, false));
}

Tensor isnan(const Tensor& t) { return classify(kernels::FloatClass::Nan, t, "isnan"); }
Tensor isinf(const Tensor& t) { return classify(kernels::FloatClass::Inf, t, "isinf"); }
Tensor isfinite(const Tensor& t) { return classify(kernels::FloatClass::Finite, t, "isfinite"); }

Tensor any(const Tensor& t) {
  check_defined(t, "any");
  return any_all<true>(t, {}, false);
}
Tensor any(const Tensor& t, std::int64_t dim, bool keepdim) {
  check_defined(t, "any");
  return any_all<true>(t, detail::normalize_dims({dim}, t.dim(), "any"), keepdim);
}
Tensor all(const Tensor& t) {
  check_defined(t, "all");
  return any_all<false>(t, {}, false);
}
Tensor all(const Tensor& t, std::int64_t dim, bool keepdim) {
  check_defined(t, "all");
  return any_all<false>(t, detail::normalize_dims({dim}, t.dim(), "all"), keepdim);
}

// ---- masked_fill, tril, triu -----------------------------------------------------------------

// The mask is kept by the backward as a detached tensor (it never needs a gradient), and t is
// not saved at all: masked_fill_ records this op on a tensor it then overwrites.
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value) {
  check_defined(t, "masked_fill");
  detail::check_mask(mask, "masked_fill");
  const Tensor m = mask.detach();
  return record("masked_fill", filled(t, m, value, "masked_fill"), {t}, kSaveNone,
                [m](const Tensor& g, const BackwardArgs&) { return Grads{masked_fill(g, m, 0)}; });
}

Tensor masked_fill(const Tensor& t, const Tensor& mask, const Tensor& value) {
  check_defined(t, "masked_fill");
  detail::check_mask(mask, "masked_fill");
  Array out = filled(t, mask, detail::masked_fill_value(value, "masked_fill"), "masked_fill");
  // An Int64 or Bool result carries no gradient, whatever the value.
  if (!t.is_floating_point()) return make_tensor(std::move(out));
  const Tensor m = mask.detach();
  return record("masked_fill", std::move(out), {t, value}, kSaveNone,
                [m](const Tensor& g, const BackwardArgs& s) {
                  Grads grads(2);
                  if (s.needs(0)) grads[0] = masked_fill(g, m, 0);
                  // The value lands on every masked element: its gradient is their sum.
                  if (s.needs(1)) {
                    grads[1] = sum(masked_fill(g, logical_not(m), 0)).to(s.input_meta(1).dtype);
                  }
                  return grads;
                });
}

Tensor masked_select(const Tensor& t, const Tensor& mask) {
  check_defined(t, "masked_select");
  detail::check_mask(mask, "masked_select");
  const auto sizes = broadcast_shapes(array_of(t).sizes(), array_of(mask).sizes(), "masked_select");
  const Shape shape(sizes.begin(), sizes.end());
  const Tensor m = mask.detach();
  const Array mask_b = kernels::expand(array_of(m), shape);
  return record(
      "masked_select", kernels::masked_select(kernels::expand(array_of(t), shape), mask_b), {t},
      kSaveNone, [m, shape, in = t.shape()](const Tensor& g, const BackwardArgs&) {
        return Grads{detail::sum_to(detail::masked_scatter_zeros(expand(m, shape), g), in)};
      });
}

Tensor detail::masked_scatter_zeros(const Tensor& mask, const Tensor& src) {
  const Tensor m = mask.detach();
  return record("masked_scatter", kernels::masked_scatter_zeros(array_of(m), array_of(src)), {src},
                kSaveNone,
                [m](const Tensor& g, const BackwardArgs&) { return Grads{masked_select(g, m)}; });
}

Tensor tril(const Tensor& t, std::int64_t k) { return triangle(t, k, false); }
Tensor triu(const Tensor& t, std::int64_t k) { return triangle(t, k, true); }

}  // namespace xg
