// The tensor ops as free functions, with PyTorch's names, defaults and semantics.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "../tensor/op_table.hpp"
#include "tensor.hpp"

namespace xg {

// ---- arithmetic: broadcasting, with PyTorch's type promotion (Bool < Int64 < Float32 <
// Float64; a number raises a tensor's dtype only into its own category, as xg::result_type);
// on Bool, + is or and * is and, and subtraction is refused, as in PyTorch ----
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha = 1);  // a + alpha * b
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha = 1);  // a - alpha * b
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: Int64 / Int64 is Float32
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, Scalar b);
Tensor operator-(const Tensor& a, Scalar b);
Tensor operator*(const Tensor& a, Scalar b);
Tensor operator/(const Tensor& a, Scalar b);
Tensor operator+(Scalar a, const Tensor& b);
Tensor operator-(Scalar a, const Tensor& b);
Tensor operator*(Scalar a, const Tensor& b);
Tensor operator/(Scalar a, const Tensor& b);
Tensor operator-(const Tensor& a);

// ---- elementwise math ----
Tensor pow(const Tensor& t, Scalar exponent);
Tensor pow(const Tensor& t, const Tensor& exponent);
Tensor pow(Scalar base, const Tensor& exponent);  // base raised to each element
// The unary ops (neg, exp, sigmoid, gelu, ...): Tensor name(const Tensor& t), one per row of
// XG_UNARY_OPS in tensor/op_table.hpp, which lists them all with their dtype rules.
#define XG_UNARY_DECLARATION(E, name, ...) Tensor name(const Tensor& t);
XG_UNARY_OPS(XG_UNARY_DECLARATION)
#undef XG_UNARY_DECLARATION
// approximate "none" is gelu(t), the exact erf form; "tanh" is
// 0.5 t (1 + tanh(sqrt(2 / pi) (t + 0.044715 t^3))), one node with its own backward, as
// torch.nn.functional.gelu(t, approximate='tanh'). Another string throws.
Tensor gelu(const Tensor& t, std::string_view approximate);
// Either bound may be left out; at least one is required, as in PyTorch.
Tensor clamp(const Tensor& t, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor clamp_min(const Tensor& t, Scalar min);
Tensor clamp_max(const Tensor& t, Scalar max);
Tensor maximum(const Tensor& a, const Tensor& b);  // elementwise, NaN-propagating
Tensor minimum(const Tensor& a, const Tensor& b);
// Elements of a where the Bool cond is true, else of b; all three broadcast. A number for a or
// b takes the dtype result_type gives it next to the other.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, Scalar b);
Tensor where(const Tensor& cond, Scalar a, const Tensor& b);
Tensor where(const Tensor& cond, Scalar a, Scalar b);  // Bool, Int64 or Float32, as PyTorch

// ---- comparisons and logical ops: Bool tensors, not differentiable ----
// eq, ne, lt, le, gt, ge: Tensor name(const Tensor& a, const Tensor& b) and
// Tensor name(const Tensor& a, Scalar b), one pair per row of XG_COMPARISON_OPS (op_table.hpp).
#define XG_COMPARISON_DECLARATIONS(E, name, ...) \
  Tensor name(const Tensor& a, const Tensor& b); \
  Tensor name(const Tensor& a, Scalar b);
XG_COMPARISON_OPS(XG_COMPARISON_DECLARATIONS)
#undef XG_COMPARISON_DECLARATIONS
// Any dtypes; an element is true when nonzero (NaN included). Broadcasting.
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& t);
Tensor isnan(const Tensor& t);  // integers and bools are never NaN or infinite
Tensor isinf(const Tensor& t);
Tensor isfinite(const Tensor& t);
// Whether any (all) elements are nonzero: of the whole tensor (0-d), or along dim.
Tensor any(const Tensor& t);
Tensor any(const Tensor& t, std::int64_t dim, bool keepdim = false);
Tensor all(const Tensor& t);
Tensor all(const Tensor& t, std::int64_t dim, bool keepdim = false);

// ---- masks (differentiable in t, and in a tensor value) ----
// t with value where the Bool mask (broadcasting with t) is true, in t's dtype; the value is a
// number or a 0-d tensor.
Tensor masked_fill(const Tensor& t, const Tensor& mask, Scalar value);
Tensor masked_fill(const Tensor& t, const Tensor& mask, const Tensor& value);
// The lower (upper) triangle of each matrix in the last two dims: the elements on diagonal k
// and below (above); k > 0 is above the main diagonal, k < 0 below. Other elements are 0.
Tensor tril(const Tensor& t, std::int64_t k = 0);
Tensor triu(const Tensor& t, std::int64_t k = 0);

// ---- reductions (an empty dims list reduces every dim; negative dims count from the end) ----
Tensor sum(const Tensor& t);  // a Bool tensor sums to an Int64 count
Tensor sum(const Tensor& t, const Shape& dims, bool keepdim = false);
Tensor mean(const Tensor& t);  // floating tensors only, as in PyTorch
Tensor mean(const Tensor& t, const Shape& dims, bool keepdim = false);
Tensor max(const Tensor& t);  // of all elements; NaN if any is NaN
Tensor min(const Tensor& t);
Tensor amax(const Tensor& t, const Shape& dims = {}, bool keepdim = false);
Tensor amin(const Tensor& t, const Shape& dims = {}, bool keepdim = false);
// The maximum (minimum) along dim and its Int64 index, as LibTorch's std::tuple: the first one
// where several are equal, a NaN where there is one (PyTorch's CPU kernel). Differentiable in
// the values: the gradient goes to that one element. Bool input gives Bool values.
std::tuple<Tensor, Tensor> max(const Tensor& t, std::int64_t dim, bool keepdim = false);
std::tuple<Tensor, Tensor> min(const Tensor& t, std::int64_t dim, bool keepdim = false);
// Int64 index of the first maximum along dim, or in the flattened tensor without a dim.
Tensor argmax(const Tensor& t, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
Tensor argmin(const Tensor& t, std::optional<std::int64_t> dim = std::nullopt,
              bool keepdim = false);
// The k largest (smallest) values along dim and their Int64 indices, as torch.topk; always in
// sorted order, equal values in index order, NaN above every number.
std::tuple<Tensor, Tensor> topk(const Tensor& t, std::int64_t k, std::int64_t dim = -1,
                                bool largest = true, bool sorted = true);
// The values along dim in order and the Int64 indices they came from, as torch.sort; stable.
std::tuple<Tensor, Tensor> sort(const Tensor& t, std::int64_t dim = -1, bool descending = false);
// log(sum(exp(t))) over dims, shifted by the max so that large values stay finite.
Tensor logsumexp(const Tensor& t, const Shape& dims, bool keepdim = false);
// Running sums along dim; Int64 and Bool input give Int64, as PyTorch. Float32 sums are
// accumulated in double, as PyTorch's CPU kernel.
Tensor cumsum(const Tensor& t, std::int64_t dim);

// ---- linear algebra ----
// torch.matmul: 1-D (dot), 2-D (mm), and batched with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);  // 2-D only
// input W^T + bias for weight [out, in], as torch.nn.functional.linear; bias may be undefined.
Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias = {});

// ---- shape ----
// Views share their input's data (a write through one is seen through the other), as PyTorch:
// reshape, view, flatten, unflatten, squeeze, unsqueeze, transpose, t, permute, expand, narrow,
// select, slice, split, split_with_sizes, chunk, unbind, diagonal, as_strided. reshape and
// flatten copy when the strides allow no view; view throws then. cat, stack, index_select,
// gather and masked_select copy.
Tensor reshape(const Tensor& t, const Shape& shape);  // one -1 may stand for the rest
Tensor view(const Tensor& t, const Shape& shape);     // as reshape, but never a copy
// Merges dims start_dim..end_dim (inclusive) into one.
Tensor flatten(const Tensor& t, std::int64_t start_dim = 0, std::int64_t end_dim = -1);
// Splits dim into `sizes` (one may be -1: what the others leave), as torch.unflatten.
Tensor unflatten(const Tensor& t, std::int64_t dim, const Shape& sizes);
Tensor squeeze(const Tensor& t);                      // drops every dim of size 1
Tensor squeeze(const Tensor& t, std::int64_t dim);    // drops dim if its size is 1
Tensor unsqueeze(const Tensor& t, std::int64_t dim);  // inserts a dim of size 1 at dim
Tensor transpose(const Tensor& t, std::int64_t dim0, std::int64_t dim1);
Tensor t(const Tensor& t);  // transpose of a tensor of at most 2 dims
Tensor permute(const Tensor& t, const Shape& dims);
Tensor expand(const Tensor& t, const Shape& shape);  // -1 keeps a size; new dims have stride 0
// cat joins tensors along an existing dim; stack joins same-shaped tensors along a new one.
Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim = 0);
// The `length` elements from `start` along dim.
Tensor narrow(const Tensor& t, std::int64_t dim, std::int64_t start, std::int64_t length);
// The slice at `index` along dim, which it removes (negative indices count from the end).
Tensor select(const Tensor& t, std::int64_t dim, std::int64_t index);
// Elements start, start + step, ... before end along dim, as Python's t[start:end:step]
// (bounds clamp; negative ones count from the end; step > 0).
Tensor slice(const Tensor& t, std::int64_t dim = 0,
             std::optional<std::int64_t> start = std::nullopt,
             std::optional<std::int64_t> end = std::nullopt, std::int64_t step = 1);
// Pieces of split_size along dim (the last may be smaller).
std::vector<Tensor> split(const Tensor& t, std::int64_t split_size, std::int64_t dim = 0);
std::vector<Tensor> split_with_sizes(const Tensor& t, const Shape& split_sizes,
                                     std::int64_t dim = 0);
// At most `chunks` pieces of ceil(size / chunks) along dim.
std::vector<Tensor> chunk(const Tensor& t, std::int64_t chunks, std::int64_t dim = 0);
std::vector<Tensor> unbind(const Tensor& t, std::int64_t dim = 0);  // every select along dim
// The data seen with these sizes and element strides from storage_offset (default: t's own),
// checked to stay inside t's storage.
Tensor as_strided(const Tensor& t, const Shape& size, const Shape& stride,
                  std::optional<std::int64_t> storage_offset = std::nullopt);
// t itself when contiguous, else a contiguous copy (differentiable).
Tensor contiguous(const Tensor& t);
Tensor index_select(const Tensor& t, std::int64_t dim, const Tensor& index);  // Int64 index
// out[i][j][k] = t[i][index[i][j][k]][k] for dim 1 (likewise for any dim): the Int64 index
// has t's number of dims, and no dim but `dim` larger than t's. The result has the index's shape.
Tensor gather(const Tensor& t, std::int64_t dim, const Tensor& index);
// The elements of t where the Bool mask (broadcasting with t) is true, as a 1-D tensor.
Tensor masked_select(const Tensor& t, const Tensor& mask);
// The diagonal `offset` above (below, when negative) the main one of the matrices in dims dim1
// and dim2, as a view: those dims are removed and the diagonal becomes the last dim.
Tensor diagonal(const Tensor& t, std::int64_t offset = 0, std::int64_t dim1 = 0,
                std::int64_t dim2 = 1);

// ---- softmax family: along dim, shifted by the max ----
Tensor softmax(const Tensor& t, std::int64_t dim);
Tensor log_softmax(const Tensor& t, std::int64_t dim);

}  // namespace xg
