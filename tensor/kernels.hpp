// The numeric kernels on xg::Array that every op calls: no graph, no grad, no argument checks
// beyond what the kernel itself needs (the public ops check and name themselves).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "array.hpp"
#include "op_table.hpp"
#include "scalar.hpp"

namespace xg {
struct RandomEngine;  // tensor/random.hpp
}  // namespace xg

namespace xg::kernels {

// ---- elementwise ----------------------------------------------------------------------------
// One value per row of XG_UNARY_OPS (op_table.hpp), in its order.
#define XG_KERNEL_ENUM_ROW(E, ...) E,
enum class UnaryOp { XG_UNARY_OPS(XG_KERNEL_ENUM_ROW) };
// Float ops on Int64 or Bool input compute in Float32 (PyTorch's promotion); the table's KeepInt
// ops keep Int64 and make Bool Int64, except that sign keeps Bool.
Array unary(UnaryOp op, const Array& x);

#define XG_KERNEL_NAME_ROW(E, name, ...) #name,
inline constexpr const char* kUnaryNames[] = {XG_UNARY_OPS(XG_KERNEL_NAME_ROW)};
constexpr const char* unary_name(UnaryOp op) { return kUnaryNames[static_cast<int>(op)]; }

// GELU's tanh form, 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), of a floating x.
Array gelu_tanh(const Array& x);
// grad * gelu'(x) in one pass (PyTorch's GeluBackward kernel): the exact GELU's
// gelu'(x) = Phi(x) + x phi(x), or the tanh form's derivative; grad and x of the same sizes and
// floating dtype; the result contiguous.
Array gelu_backward(const Array& grad, const Array& x, bool tanh_form = false);

// What an Int64 or Bool input of a unary op gives: the table's third and fourth columns.
enum class IntInput { KeepInt, ToFloat, Refuse };
enum class BoolInput { Compute, Keep, Refuse, RefuseNegation };
#define XG_KERNEL_INT_ROW(E, name, int_input, ...) IntInput::int_input,
#define XG_KERNEL_BOOL_ROW(E, name, int_input, bool_input) BoolInput::bool_input,
inline constexpr IntInput kUnaryIntInput[] = {XG_UNARY_OPS(XG_KERNEL_INT_ROW)};
inline constexpr BoolInput kUnaryBoolInput[] = {XG_UNARY_OPS(XG_KERNEL_BOOL_ROW)};
constexpr BoolInput unary_bool_input(UnaryOp op) { return kUnaryBoolInput[static_cast<int>(op)]; }
constexpr IntInput unary_int_input(UnaryOp op) { return kUnaryIntInput[static_cast<int>(op)]; }

// The enum and the names come from the same rows; this checks the row order did not drift from
// the enum's values and that no two rows share a name.
#define XG_KERNEL_CHECK_ROW(E, name, ...) \
  static_assert(std::string_view(unary_name(UnaryOp::E)) == #name, "op table and enum disagree");
XG_UNARY_OPS(XG_KERNEL_CHECK_ROW)
consteval bool unary_names_unique() {
  constexpr auto n = sizeof(kUnaryNames) / sizeof(kUnaryNames[0]);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      if (std::string_view(kUnaryNames[i]) == kUnaryNames[j]) return false;
    }
  }
  return true;
}
static_assert(unary_names_unique(), "two rows of XG_UNARY_OPS share a name");
consteval bool refused_ints_refuse_bools() {
  for (std::size_t i = 0; i < sizeof(kUnaryIntInput) / sizeof(kUnaryIntInput[0]); ++i) {
    if (kUnaryIntInput[i] == IntInput::Refuse && kUnaryBoolInput[i] != BoolInput::Refuse) {
      return false;
    }
  }
  return true;
}
static_assert(refused_ints_refuse_bools(), "a row that refuses Int64 input must refuse Bool too");

// The arithmetic ops, then one value per row of XG_COMPARISON_OPS.
enum class BinaryOp {
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Maximum,
  Minimum,
  XG_COMPARISON_OPS(XG_KERNEL_ENUM_ROW)
};
#undef XG_KERNEL_ENUM_ROW
#undef XG_KERNEL_NAME_ROW
#undef XG_KERNEL_INT_ROW
#undef XG_KERNEL_BOOL_ROW
#undef XG_KERNEL_CHECK_ROW
bool is_comparison(BinaryOp op);
// Result dtype of op on operands of these dtypes: promotion (Bool < Int64 < Float32 < Float64);
// Div of Int64 or Bool gives Float32; comparisons give Bool. On Bool, Add is or and Mul is and;
// Sub, Div and Pow have no Bool kernel (the ops refuse Bool subtraction and pow).
Dtype binary_result_dtype(BinaryOp op, Dtype a, Dtype b);
// Broadcasting binary op. Shapes must broadcast (checked by the caller).
Array binary(BinaryOp op, const Array& a, const Array& b);
// `a op s` (or `s op a` when scalar_first) with a C++ number, promoted as xg::result_type says.
Array binary_scalar(BinaryOp op, const Array& a, const Scalar& s, bool scalar_first);
// self = self op other in place; other broadcasts to self's shape, dtype stays self's.
void binary_inplace(BinaryOp op, Array& self, const Array& other);
void binary_scalar_inplace(BinaryOp op, Array& self, const Scalar& s);
// self += alpha * other, in place, other broadcast to self.
void add_scaled_inplace(Array& self, const Array& other, double alpha);
// target += src element by element, serially: where target reaches one element twice (an
// as_strided view), both additions land (the backward of as_strided).
void accumulate_into(Array& target, const Array& src);
// Every element of self (which may be strided) set to value.
void fill(Array& self, const Scalar& value);
// In-place kernels write through self's strides: self may be any view (without internal
// overlap, which the ops refuse).

Array clamp(const Array& x, std::optional<double> min, std::optional<double> max);
// Elements of a where the Bool cond is true, else of b; all three broadcast.
Array where(const Array& cond, const Array& a, const Array& b);

// ---- masks -----------------------------------------------------------------------------------
// self's elements where the Bool mask (broadcast to self's shape) is true set to value, in place.
void masked_fill(Array& self, const Array& mask, const Scalar& value);
// A copy of x with the elements off the lower (tril, upper = false) or upper (triu) triangle of
// each matrix over the last two dims set to 0; diagonal k is j - i = k. x has at least 2 dims.
Array triangle(const Array& x, std::int64_t k, bool upper);
enum class FloatClass { Nan, Inf, Finite };
// A Bool array: whether each element is NaN, infinite or finite (integers are always finite).
Array classify(FloatClass c, const Array& x);

// ---- reductions ------------------------------------------------------------------------------
// Blocked summation with several accumulators: exact for 2^25 Float32 ones. A Bool array sums
// to an Int64 count, as in PyTorch.
Array sum(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim);  // dims normalized
Array sum_all(const Array& x);
// sum(a * b) as a 0-d array, for a and b of one dtype and size, in one pass: rounded exactly as
// sum_all(binary(Mul, a, b)) is (the same products, added in the same order).
Array dot_all(const Array& a, const Array& b);
Array amax(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim);
Array amin(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim);
// Index of the first maximum (or minimum) along dim (Int64); dim < 0: over the flattened tensor.
Array argmax(const Array& x, std::int64_t dim, bool keepdim);
Array argmin(const Array& x, std::int64_t dim, bool keepdim);
// Running sums along dim (from the end when reverse): Int64 for Int64 and Bool input, as
// PyTorch; Float32 accumulates in double, as PyTorch's CPU kernel, and rounds each sum.
Array cumsum(const Array& x, std::int64_t dim, bool reverse);

// ---- linear algebra --------------------------------------------------------------------------
// Matrix products over the last two dims on BLAS, batched over any leading dims (the same
// sizes in a and b; any strides); transposes, and operands that are transposed views, fold into
// the call.
Array bmm(const Array& a, const Array& b, bool transpose_a, bool transpose_b);

// ---- shape -----------------------------------------------------------------------------------
Array reshape(const Array& x, const Shape& shape);  // sizes checked by the caller
Array permute(const Array& x, const std::vector<std::int64_t>& dims);
Array expand(const Array& x, const Shape& shape);  // broadcast copy
Array cat(const std::vector<const Array*>& xs, std::int64_t dim);
Array narrow(const Array& x, std::int64_t dim, std::int64_t start, std::int64_t length);
Array index_select(const Array& x, std::int64_t dim, const Array& index);
// zeros(shape) with src's slices added at `index` along dim: the backward of index_select.
Array index_add_zeros(const Shape& shape, std::int64_t dim, const Array& index, const Array& src);
// out[p] = x[p with p[dim] replaced by index[p]] for every position p of the Int64 index
// (torch.gather); out has the index's shape. A 0-d x or index counts as one element of 1 dim.
// The caller checks the shapes and the indices.
Array gather(const Array& x, std::int64_t dim, const Array& index);
// zeros(shape) with src[p] added at (p with p[dim] replaced by index[p]), src of the index's
// shape: the backward of gather (torch.scatter_add on zeros).
Array scatter_add_zeros(const Shape& shape, std::int64_t dim, const Array& index, const Array& src);
// The elements of x where the Bool mask is true, in row-major order, as a 1-D array; x and mask
// have one shape (the caller broadcasts them).
Array masked_select(const Array& x, const Array& mask);
// zeros(shape) (mask's shape) with src's elements, in order, where the Bool mask is true: the
// backward of masked_select (torch.masked_scatter on zeros).
Array masked_scatter_zeros(const Array& mask, const Array& src);

// ---- softmax family --------------------------------------------------------------------------
Array softmax(const Array& x, std::int64_t dim);
Array log_softmax(const Array& x, std::int64_t dim);
Array logsumexp(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim);
// Cross entropy of the rows of x [N, C] (or one row [C]) against Int64 class indices target
// [N] (or []), fused: loss[i] = -log_softmax(x[i])[target[i]], with log_softmax's arithmetic,
// and 0 where target is ignore_index. Parallel over rows.
Array cross_entropy_rows(const Array& x, const Array& target, std::int64_t ignore_index);
// Its gradient: (softmax(x[i]) - one_hot(target[i])) * scale, scale = row_scale[i] when
// row_scale has N values, else its one value; rows of ignore_index are 0.
Array cross_entropy_rows_backward(const Array& x, const Array& target, std::int64_t ignore_index,
                                  const Array& row_scale);

// ---- sorting ---------------------------------------------------------------------------------
// The k largest (or smallest) values along dim (a valid dim; 0 for a 0-d array, with k <= 1) and
// their indices, in order, NaN above every number, equal values in index order. k = the dim's
// size sorts the whole dim.
std::pair<Array, Array> topk(const Array& x, std::int64_t k, std::int64_t dim, bool largest);

// ---- creation --------------------------------------------------------------------------------
// n elements start + i * step (the op layer counts them from the end).
Array arange(double start, double step, std::int64_t n, Dtype dtype);
Array linspace(double start, double end, std::int64_t steps, Dtype dtype);
// Draws from a random engine (tensor/random.hpp).
Array randn(Dtype dtype, const Shape& shape, RandomEngine& g);  // standard normal (Box-Muller)
Array rand(Dtype dtype, const Shape& shape, RandomEngine& g);   // uniform on [0, 1)
Array randint(std::int64_t low, std::int64_t high, Dtype dtype, const Shape& shape,
              RandomEngine& g);  // [low, high)
// num_samples category indices per row of probs (1-D [n] or 2-D [rows, n], non-negative weights
// with a positive finite sum per row, checked by the op layer), as an Int64 [num_samples] or
// [rows, num_samples] array; without replacement each drawn category leaves the row.
Array multinomial(const Array& probs, std::int64_t num_samples, bool replacement, RandomEngine& g);
// Dropout of a floating x with probability p in (0, 1): {x * mask, mask}, mask 1 / (1 - p) or 0
// per element, from Philox4x32-10 under a key drawn once from g (simd.hpp's dropout).
std::pair<Array, Array> dropout(const Array& x, double p, RandomEngine& g);

// A serial, low-error sum of n contiguous values: the building block of every reduction.
template <class T>
T sum_contiguous(const T* x, std::int64_t n);

}  // namespace xg::kernels
