// Linear algebra and its derivatives: one primitive, gemm (2-D or batched 3-D products with
// either operand transposed inside the BLAS call), and matmul, mm and t built on it.
#include "op_prelude.hpp"

namespace xg {

namespace {

[[noreturn]] void throw_mismatch(const char* op, const Tensor& a, const Tensor& b, std::int64_t ka,
                                 std::int64_t kb) {
  detail::fail<std::invalid_argument>(op, ": shapes ", shape_to_string(a.shape()), " and ",
                                      shape_to_string(b.shape()), " cannot be multiplied (", ka,
                                      " != ", kb, ")");
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  XG_CHECK_ARG(a.dtype() == b.dtype(), op, ": expected both operands to have the same dtype, got ",
               describe(a), " and ", describe(b), " (convert one with .to())");
  detail::check_not_bool(a, op);  // PyTorch has no Bool matrix product either
}

// op(a) @ op(b), op = transpose of the last two dims when the flag is set. With C = op(A) op(B):
//   dA = g op(B)^T, or its transpose op(B) g^T when A is transposed;
//   dB = op(A)^T g, or its transpose g^T op(A) when B is transposed.
// Each is again one gemm with flags, so no transpose is ever copied.
Tensor gemm(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  return record("mm", kernels::bmm(array_of(a), array_of(b), ta, tb), {a, b}, kSaveInputs,
                [ta, tb](const Tensor& g, const BackwardArgs& s) {
                  Grads grads(2);
                  if (s.needs(0)) {
                    const Tensor b = s.input(1);
                    grads[0] = ta ? gemm(b, g, tb, true) : gemm(g, b, false, !tb);
                  }
                  if (s.needs(1)) {
                    const Tensor a = s.input(0);
                    grads[1] = tb ? gemm(g, a, true, ta) : gemm(a, g, !ta, false);
                  }
                  return grads;
                });
}

}  // namespace

Tensor mm(const Tensor& a, const Tensor& b) {
  check_defined(a, "mm");
  check_defined(b, "mm");
  XG_CHECK_ARG(a.dim() == 2 && b.dim() == 2, "mm: expected 2-D tensors, got ", describe(a), " and ",
               describe(b), " (use matmul for other ranks)");
  check_same_dtype("mm", a, b);
  if (a.size(1) != b.size(0)) throw_mismatch("mm", a, b, a.size(1), b.size(0));
  return gemm(a, b, false, false);
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul");
  check_defined(b, "matmul");
  XG_CHECK_ARG(a.dim() != 0 && b.dim() != 0, "matmul: both arguments need at least 1 dim, got ",
               describe(a), " and ", describe(b));
  check_same_dtype("matmul", a, b);
  const Shape as = a.shape(), bs = b.shape();
  const std::int64_t ka = as.back();
  const std::int64_t kb = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
  if (ka != kb) throw_mismatch("matmul", a, b, ka, kb);

  if (a.dim() <= 2 && b.dim() <= 2) {
    // 1-D operands become a row (left) or a column (right), then lose that dim again.
    const Tensor a2 = a.dim() == 1 ? reshape(a, {1, ka}) : a;
    const Tensor b2 = b.dim() == 1 ? reshape(b, {kb, 1}) : b;
    const Tensor out = gemm(a2, b2, false, false);
    Shape shape;
    if (a.dim() == 2) shape.push_back(as[0]);
    if (b.dim() == 2) shape.push_back(bs[1]);
    return shape.size() == 2 ? out : reshape(out, shape);
  }

  // Batched: the batch dims broadcast; 1-D operands gain and later lose a dim.
  const Shape a_mat = a.dim() == 1 ? Shape{1, ka} : Shape(as.end() - 2, as.end());
  const Shape b_mat = b.dim() == 1 ? Shape{kb, 1} : Shape(bs.end() - 2, bs.end());
  const Shape a_batch = a.dim() > 2 ? Shape(as.begin(), as.end() - 2) : Shape{};
  const Shape b_batch = b.dim() > 2 ? Shape(bs.begin(), bs.end() - 2) : Shape{};
  Shape batch;
  try {
    batch = broadcast_shapes(a_batch, b_batch, "matmul");
  } catch (const std::invalid_argument&) {
    detail::fail<std::invalid_argument>(
        "matmul: the batch dims of ", describe(a), " and ", describe(b), " do not broadcast (",
        shape_to_string(a_batch), " and ", shape_to_string(b_batch), ")");
  }
  const std::int64_t count = shape_numel(batch);
  const std::int64_t m = a_mat[0], n = b_mat[1];

  Shape out_shape = batch;
  if (a.dim() > 1) out_shape.push_back(m);
  if (b.dim() > 1) out_shape.push_back(n);

  if (b.dim() <= 2 && a.dim() > 2) {
    // One matrix on the right: fold the batch into the rows, one BLAS call.
    const Tensor a2 = reshape(a, {count * m, ka});
    const Tensor b2 = b.dim() == 1 ? reshape(b, b_mat) : b;
    return reshape(gemm(a2, b2, false, false), out_shape);
  }
  auto batched = [&](const Tensor& x, const Shape& x_batch, const Shape& mat) {
    Shape full = batch;
    full.insert(full.end(), mat.begin(), mat.end());
    Shape own = x_batch;
    own.insert(own.end(), mat.begin(), mat.end());
    const Tensor shaped = x.shape() == own ? x : reshape(x, own);
    // Expanded batch dims are views of stride 0: gemm reads them in place, and expand's
    // backward sums their gradients.
    return own == full ? shaped : expand(shaped, full);
  };
  const Tensor out = gemm(batched(a, a_batch, a_mat), batched(b, b_batch, b_mat), false, false);
  return out.shape() == out_shape ? out : reshape(out, out_shape);
}

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  check_defined(input, "linear");
  check_defined(weight, "linear");
  XG_CHECK_ARG(weight.dim() == 2 && input.dim() != 0,
               "linear: expected a 2-D weight [out, in] and an input with at least 1 dim, "
               "got input ",
               describe(input), " and weight ", describe(weight));
  check_same_dtype("linear", input, weight);
  const std::int64_t in = weight.size(1);
  if (input.size(-1) != in) throw_mismatch("linear", input, weight.t(), input.size(-1), in);
  // x W^T as one gemm with W transposed inside BLAS; leading dims fold into the rows.
  const Shape shape = input.shape();
  const Tensor rows = input.dim() == 2 ? input : reshape(input, {-1, in});
  Tensor out = gemm(rows, weight, false, true);
  if (input.dim() != 2) {
    Shape out_shape(shape.begin(), shape.end() - 1);
    out_shape.push_back(weight.size(0));
    out = reshape(out, out_shape);
  }
  return bias.defined() ? out + bias : out;
}

Tensor t(const Tensor& x) {
  check_defined(x, "t");
  XG_CHECK_ARG(x.dim() <= 2, "t: expects a tensor of at most 2 dims, got ", describe(x),
               " (use transpose or permute)");
  return x.dim() < 2 ? permute(x, x.dim() == 0 ? Shape{} : Shape{0}) : transpose(x, 0, 1);
}

}  // namespace xg
