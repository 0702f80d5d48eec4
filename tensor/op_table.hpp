// The op registry: each elementwise op is one row here, and the row gives its kernel enum value
// (kernels::UnaryOp, kernels::BinaryOp), its name (in messages and grad_fn names: "ExpBackward"),
// the free function in ops.hpp and the Tensor method. docs/design.md, "Adding an op", lists the
// other places a new op touches.
//
// These are X-macros: a user of the table defines a macro X taking a row's columns and passes it
// in; XG_UNARY_OPS(X) expands to X(row 1) X(row 2) ... in table order.
#pragma once

// ---- unary ops ----
// X(Enum, name, int_input, bool_input)
//   int_input, what an Int64 input gives: KeepInt (Int64), ToFloat (computed in Float32),
//     Refuse (an error naming the floating dtypes, as PyTorch; the row must refuse Bool too).
//   bool_input, what a Bool input gives: Compute (as an Int64 for KeepInt ops, in Float32 for
//     ToFloat ops), Keep (Bool: sign), Refuse (an error, as PyTorch), RefuseNegation (neg's own
//     error, which points to logical_not).
// One row per line, not aligned, so adding an op is a one-line change.
// clang-format off
#define XG_UNARY_OPS(X) \
  X(Neg, neg, KeepInt, RefuseNegation) \
  X(Abs, abs, KeepInt, Refuse) \
  X(Exp, exp, ToFloat, Compute) \
  X(Log, log, ToFloat, Compute) \
  X(Sqrt, sqrt, ToFloat, Compute) \
  X(Rsqrt, rsqrt, ToFloat, Compute) /* 1 / sqrt */ \
  X(Sin, sin, ToFloat, Compute) \
  X(Cos, cos, ToFloat, Compute) \
  X(Tanh, tanh, ToFloat, Compute) \
  X(Sigmoid, sigmoid, ToFloat, Compute) \
  X(Relu, relu, KeepInt, Refuse) \
  X(Gelu, gelu, Refuse, Refuse) /* exact, erf */ \
  X(Sign, sign, KeepInt, Keep) /* -1, 0 or 1 */ \
  X(Square, square, KeepInt, Compute) \
  X(Erf, erf, ToFloat, Compute) \
  X(Log1p, log1p, ToFloat, Compute) /* log(1 + x) */ \
  X(Reciprocal, reciprocal, ToFloat, Compute) /* 1 / x */ \
  /* end of the table */
// clang-format on

// ---- comparisons: Bool results, not differentiable; each has a tensor and a number form ----
// X(Enum, name, C++ operator)
// clang-format off
#define XG_COMPARISON_OPS(X) \
  X(Eq, eq, ==) \
  X(Ne, ne, !=) \
  X(Lt, lt, <) \
  X(Le, le, <=) \
  X(Gt, gt, >) \
  X(Ge, ge, >=) \
  /* end of the table */
// clang-format on
