#!/usr/bin/env python3
"""Writes tests/reference/op_reference.inc: PyTorch's forward values for xgrad's ops.

Every input is written literally below. For each case the script runs the op in PyTorch and
prints the inputs, the op's arguments and PyTorch's result (shape, dtype, values at full
precision: repr of the float64 value, which round-trips exactly) as one C++ initializer of
`RawCase` (declared in tests/test_ops.cpp). The C++ test runs the same op through xgrad and
compares. The test suite never needs PyTorch; only regenerating the table does.

    python3 tests/reference/make_op_reference.py      # Debian: apt-get install python3-torch
    # (use /usr/bin/python3 if another python3, e.g. pyenv's, comes first on PATH)

Made with Debian 12's python3-torch (PyTorch 1.13.1); the version is in the generated header.

Bool tensors (inputs and results: comparisons, logical ops, masks) are stored with dtype
xg::kBool and the values 0.0 and 1.0.
"""

import math
import os
import sys

import torch

torch.set_default_dtype(torch.float32)

INF = math.inf
NAN = math.nan

# ---- inputs (float64 values; Float32 cases round them to float32 first) ----
A = ([2, 3], [-1.5, 0.0, 2.25, 0.5, -3.0, 1.0])
A2 = ([2, 3], [0.5, 0.0, -2.0, 0.5, 1.75, -4.0])  # same shape as A, some elements equal to A's
R = ([1, 3], [2.0, -0.5, 4.0])  # a row
C = ([2, 1], [3.0, -2.0])  # a column
V = ([3], [0.25, 1.0, -1.0])  # 1-D
Z = ([], [1.5])  # 0-d
C3 = ([3, 1], [1.0, -2.0, 0.5])
R4 = ([1, 4], [0.5, -1.0, 2.0, 3.0])
X = ([2, 1, 3], [1.0, -2.0, 0.5, 3.0, 0.25, -1.0])
Y = ([4, 1], [2.0, -1.0, 0.0, 0.5])
P = ([2, 3], [0.25, 1.0, 2.0, 3.5, 10.0, 0.001])  # positive
S = ([6], [0.0, -0.0, -1.0, INF, -INF, NAN])  # special values
L = ([6], [-20.0, -5.0, -0.1, 0.1, 5.0, 20.0])  # wide range
T = ([2, 3, 4], [
    0.5, -1.25, 2.0, 3.75, -0.5, 1.0, 0.0, -2.5, 4.0, 1.5, -3.0, 0.25,
    2.5, -0.75, 1.25, -4.0, 3.0, 0.125, -1.0, 2.25, -2.0, 0.75, 1.75, -3.5])
NANROW = ([2, 3], [1.0, NAN, 3.0, -1.0, 0.5, 2.0])
TIES = ([2, 4], [1.0, 3.0, 3.0, -1.0, -2.0, -2.0, -5.0, -2.0])  # repeated maxima and minima
BIG = ([2, 3], [1000.0, 1001.0, 1002.0, -1000.0, -1000.0, -1001.0])  # overflow-prone for exp
NEGINF = ([2, 3], [-INF, 0.0, 1.0, -INF, -INF, 2.0])
DIVA = ([6], [1.0, -1.0, 0.0, INF, NAN, -3.0])
DIVB = ([6], [0.0, 0.0, 0.0, INF, 2.0, -0.0])
COND = ([2, 3], [1, 0, 1, 0, 1, 1])  # a Bool condition or mask
MASK_R = ([1, 3], [1, 0, 1])  # a Bool row, broadcast over rows
MASK_C = ([2, 1], [0, 1])  # a Bool column
MASK_Z = ([], [1])  # a 0-d Bool
SQ = ([1, 3, 1], [1.0, -2.0, 3.0])
B23 = ([2, 2], [7.0, -8.0, 0.5, 9.0])
M34 = ([3, 4], [1.0, -2.0, 0.5, 3.0, -1.0, 0.25, 2.0, -0.5, 4.0, 1.5, -3.0, 1.0])
B223 = ([2, 2, 3], [1.0, 2.0, -1.0, 0.5, -0.5, 3.0, 2.0, 0.0, 1.0, -2.0, 1.5, 0.25])
B234 = ([2, 3, 4], T[1])
B2123 = ([2, 1, 2, 3], [1.0, -1.0, 2.0, 0.5, 3.0, -2.0, 0.25, 1.0, -0.5, 2.0, -3.0, 1.5])
B332 = ([3, 3, 2], [1.0, 0.5, -1.0, 2.0, 0.0, 3.0, -2.0, 1.0, 0.25, -0.5, 1.5, 2.0,
                    -1.0, -1.0, 0.5, 0.5, 3.0, -3.0])

# Bool inputs
BA = ([2, 3], [1, 0, 1, 1, 0, 0])
BA2 = ([2, 3], [1, 1, 0, 0, 0, 1])
BR = ([1, 3], [0, 1, 1])
BT = ([2, 3, 4], [(i * 5) % 3 == 0 for i in range(24)])
BSQ = ([3, 3], [1] * 9)

# Int64 inputs
AI = ([2, 3], [-3, 0, 7, 2, -5, 1])
AI2 = ([2, 3], [4, 0, -2, 2, 3, -1])
RI = ([1, 3], [2, -1, 3])
CI = ([2, 1], [4, -2])
MI = ([3, 2], [1, -2, 3, 4, 0, -1])
TI = ([2, 3, 4], [(i * 7) % 11 - 5 for i in range(24)])
TIESI = ([2, 4], [1, 3, 3, -1, -2, -2, -5, -2])
IDX = ([3], [1, 0, 1])  # an Int64 index for index_select
IDX2 = ([2], [2, 0])

F64, F32, I64, BOOL = torch.float64, torch.float32, torch.int64, torch.bool
DTYPE_NAME = {F64: "xg::kFloat64", F32: "xg::kFloat32", I64: "xg::kInt64", BOOL: "xg::kBool"}
SHORT = {F64: "f64", F32: "f32", I64: "i64", BOOL: "bool"}


def make(spec, dtype):
    shape, values = spec
    return torch.tensor(values, dtype=dtype).reshape(shape)


# Each op: how to call it in PyTorch from (inputs, ints, scalars, keepdim). The C++ test has the
# same table for xgrad (test_ops.cpp, `run_reference_op`).
def binary(fn):
    return lambda x, i, s, k: fn(x[0], x[1])


def unary(fn):
    return lambda x, i, s, k: fn(x[0])


# The unary ops, one row each (tensor/op_table.hpp has the same list): PyTorch's function, and
# the cases beyond those every row gets ("2x3", "special" and "wide" in Float32 and Float64, "i64"
# on Int64 input and "bool" on Bool input, or a refusal where PyTorch refuses the dtype):
# "positive" (also on positive inputs).
UNARY = {
    "exp": (torch.exp, set()),
    "log": (torch.log, {"positive"}),
    "sqrt": (torch.sqrt, {"positive"}),
    "rsqrt": (torch.rsqrt, {"positive"}),
    "abs": (torch.abs, set()),
    "neg": (torch.neg, set()),
    "sin": (torch.sin, set()),
    "cos": (torch.cos, set()),
    "tanh": (torch.tanh, set()),
    "sigmoid": (torch.sigmoid, set()),
    "relu": (torch.relu, set()),
    "gelu": (lambda t: torch.nn.functional.gelu(t, approximate="none"), set()),
    "square": (torch.square, set()),
    "sign": (torch.sign, set()),
    "erf": (torch.erf, set()),
    "log1p": (torch.log1p, {"positive"}),
    "reciprocal": (torch.reciprocal, set()),
}


def unary_with(flag):
    return [op for op, (_, flags) in UNARY.items() if flag in flags]


OPS = {
    "add": lambda x, i, s, k: torch.add(x[0], x[1], alpha=s[0]) if s else x[0] + x[1],
    "sub": lambda x, i, s, k: torch.sub(x[0], x[1], alpha=s[0]) if s else x[0] - x[1],
    "mul": binary(torch.mul),
    "div": binary(torch.div),
    # tensor op scalar (…_s) and scalar op tensor (r…_s)
    "add_s": lambda x, i, s, k: x[0] + s[0],
    "radd_s": lambda x, i, s, k: s[0] + x[0],
    "sub_s": lambda x, i, s, k: x[0] - s[0],
    "rsub_s": lambda x, i, s, k: s[0] - x[0],
    "mul_s": lambda x, i, s, k: x[0] * s[0],
    "rmul_s": lambda x, i, s, k: s[0] * x[0],
    "div_s": lambda x, i, s, k: x[0] / s[0],
    "rdiv_s": lambda x, i, s, k: s[0] / x[0],
    "pow_s": lambda x, i, s, k: torch.pow(x[0], s[0]),
    "rpow_s": lambda x, i, s, k: torch.pow(s[0], x[0]),
    "pow": binary(torch.pow),
    **{op: unary(fn) for op, (fn, _) in UNARY.items()},
    "clamp": lambda x, i, s, k: torch.clamp(x[0], min=s[0], max=s[1]),
    "clamp_min": lambda x, i, s, k: torch.clamp(x[0], min=s[0]),
    "clamp_max": lambda x, i, s, k: torch.clamp(x[0], max=s[0]),
    "maximum": binary(torch.maximum),
    "minimum": binary(torch.minimum),
    "where": lambda x, i, s, k: torch.where(x[0], x[1], x[2]),
    "where_s": lambda x, i, s, k: torch.where(x[0], x[1], s[0]),
    "rwhere_s": lambda x, i, s, k: torch.where(x[0], s[0], x[1]),
    "where_ss": lambda x, i, s, k: torch.where(x[0], s[0], s[1]),
    "eq": binary(torch.eq), "ne": binary(torch.ne), "lt": binary(torch.lt),
    "le": binary(torch.le), "gt": binary(torch.gt), "ge": binary(torch.ge),
    "eq_s": lambda x, i, s, k: torch.eq(x[0], s[0]),
    "ne_s": lambda x, i, s, k: torch.ne(x[0], s[0]),
    "lt_s": lambda x, i, s, k: torch.lt(x[0], s[0]),
    "le_s": lambda x, i, s, k: torch.le(x[0], s[0]),
    "gt_s": lambda x, i, s, k: torch.gt(x[0], s[0]),
    "ge_s": lambda x, i, s, k: torch.ge(x[0], s[0]),
    "sum_all": lambda x, i, s, k: torch.sum(x[0]),
    "sum": lambda x, i, s, k: torch.sum(x[0], dim=i, keepdim=k),
    "mean_all": lambda x, i, s, k: torch.mean(x[0]),
    "mean": lambda x, i, s, k: torch.mean(x[0], dim=i, keepdim=k),
    "max_all": lambda x, i, s, k: torch.max(x[0]),
    "min_all": lambda x, i, s, k: torch.min(x[0]),
    "amax": lambda x, i, s, k: torch.amax(x[0], dim=i, keepdim=k),
    "amin": lambda x, i, s, k: torch.amin(x[0], dim=i, keepdim=k),
    "argmax": lambda x, i, s, k: torch.argmax(x[0], dim=i[0] if i else None, keepdim=k),
    "argmin": lambda x, i, s, k: torch.argmin(x[0], dim=i[0] if i else None, keepdim=k),
    "logsumexp": lambda x, i, s, k: torch.logsumexp(x[0], dim=i, keepdim=k),
    "matmul": binary(torch.matmul),
    "mm": binary(torch.mm),
    "t": unary(torch.t),
    "reshape": lambda x, i, s, k: torch.reshape(x[0], i),
    "view": lambda x, i, s, k: x[0].view(i),
    "flatten": lambda x, i, s, k: torch.flatten(x[0], *i),
    "squeeze": lambda x, i, s, k: torch.squeeze(x[0], *i),
    "unsqueeze": lambda x, i, s, k: torch.unsqueeze(x[0], i[0]),
    "transpose": lambda x, i, s, k: torch.transpose(x[0], i[0], i[1]),
    "permute": lambda x, i, s, k: x[0].permute(*i),
    "expand": lambda x, i, s, k: x[0].expand(*i),
    "cat": lambda x, i, s, k: torch.cat(x, dim=i[0]),
    "stack": lambda x, i, s, k: torch.stack(x, dim=i[0]),
    "narrow": lambda x, i, s, k: torch.narrow(x[0], i[0], i[1], i[2]),
    "index_select": lambda x, i, s, k: torch.index_select(x[0], i[0], x[1]),
    "logical_and": binary(torch.logical_and),
    "logical_or": binary(torch.logical_or),
    "logical_xor": binary(torch.logical_xor),
    "logical_not": unary(torch.logical_not),
    "isnan": unary(torch.isnan),
    "isinf": unary(torch.isinf),
    "isfinite": unary(torch.isfinite),
    "any": lambda x, i, s, k: torch.any(x[0], dim=i[0], keepdim=k) if i else torch.any(x[0]),
    "all": lambda x, i, s, k: torch.all(x[0], dim=i[0], keepdim=k) if i else torch.all(x[0]),
    "masked_fill": lambda x, i, s, k: torch.masked_fill(x[0], x[1], s[0]),
    "masked_fill_t": lambda x, i, s, k: torch.masked_fill(x[0], x[1], x[2]),
    "tril": lambda x, i, s, k: torch.tril(x[0], *i),
    "triu": lambda x, i, s, k: torch.triu(x[0], *i),
    # topk: ints (k, dim), keepdim carries `largest`; sort: ints (dim,), keepdim carries
    # `descending`. Values and indices are separate ops, as the table holds one result.
    "topk_values": lambda x, i, s, k: torch.topk(x[0], i[0], dim=i[1], largest=k).values,
    "topk_indices": lambda x, i, s, k: torch.topk(x[0], i[0], dim=i[1], largest=k).indices,
    "sort_values": lambda x, i, s, k: torch.sort(x[0], dim=i[0], descending=k, stable=True).values,
    "sort_indices": lambda x, i, s, k: torch.sort(x[0], dim=i[0], descending=k, stable=True).indices,
    "softmax": lambda x, i, s, k: torch.softmax(x[0], i[0]),
    "log_softmax": lambda x, i, s, k: torch.log_softmax(x[0], i[0]),
    "cumsum": lambda x, i, s, k: torch.cumsum(x[0], i[0]),
    "gather": lambda x, i, s, k: torch.gather(x[0], i[0], x[1]),
    # max/min along a dim: the values and the indices, one case each
    "max_dim": lambda x, i, s, k: torch.max(x[0], i[0], keepdim=k).values,
    "max_dim_indices": lambda x, i, s, k: torch.max(x[0], i[0], keepdim=k).indices,
    "min_dim": lambda x, i, s, k: torch.min(x[0], i[0], keepdim=k).values,
    "min_dim_indices": lambda x, i, s, k: torch.min(x[0], i[0], keepdim=k).indices,
    "diagonal": lambda x, i, s, k: torch.diagonal(x[0], *i),
    "unflatten": lambda x, i, s, k: torch.unflatten(x[0], i[0], tuple(i[1:])),
    "masked_select": lambda x, i, s, k: torch.masked_select(x[0], x[1]),
}

FLOATS = (F64, F32)
CASES = []  # (label, op, [(spec, dtype)], ints, scalars, keepdim, int_scalar)


def case(op, label, inputs, ints=(), scalars=(), keepdim=False, int_scalar=False):
    """inputs: list of (spec, dtype) pairs."""
    CASES.append((label, op, inputs, list(ints), list(scalars), keepdim, int_scalar))


def float_case(op, label, specs, ints=(), scalars=(), keepdim=False, extra=(), lead=(),
               int_scalar=False):
    """The case in Float64 and in Float32 (every input of that dtype; `lead` inputs, as given,
    come first and `extra` inputs last)."""
    for dt in FLOATS:
        case(op, f"{label}_{SHORT[dt]}", list(lead) + [(s, dt) for s in specs] + list(extra), ints,
             scalars, keepdim, int_scalar)


# ---- arithmetic with broadcasting ----
PAIRS = [("2x3_1x3", A, R), ("2x3_2x1", A, C), ("2x3_3", A, V), ("2x3_0d", A, Z),
         ("0d_2x3", Z, A), ("3x1_1x4", C3, R4), ("2x1x3_4x1", X, Y), ("2x3_2x3", A, A2)]
for op in ("add", "sub", "mul", "div"):
    for label, a, b in PAIRS:
        float_case(op, label, [a, b])
    case(op, "2x3_1x3_i64", [(AI, I64), (RI, I64)])
    case(op, "2x3_2x1_i64", [(AI, I64), (CI, I64)])
float_case("add", "alpha_2x3_1x3", [A, R], scalars=[2.5])
float_case("sub", "alpha_2x3_2x1", [A, C], scalars=[-0.5])
float_case("div", "special", [DIVA, DIVB])
float_case("mul", "special", [S, L])

# type promotion between tensors (each mixed pair, both orders)
for op in ("add", "sub", "mul", "div"):
    for da, db in [(F32, F64), (F64, F32), (I64, F32), (F32, I64), (I64, F64), (F64, I64)]:
        spec_a = AI if da == I64 else A
        spec_b = RI if db == I64 else R
        case(op, f"promote_{SHORT[da]}_{SHORT[db]}", [(spec_a, da), (spec_b, db)])

# tensor-scalar arithmetic: a C++ int or double scalar with each dtype
for op in ("add_s", "radd_s", "sub_s", "rsub_s", "mul_s", "rmul_s", "div_s", "rdiv_s"):
    for dt in (F64, F32, I64):
        spec = AI if dt == I64 else A
        if op == "rdiv_s":  # keep the divisor free of zeros: 1/0 is covered by "div special"
            spec = RI if dt == I64 else R
        case(op, f"int_{SHORT[dt]}", [(spec, dt)], scalars=[3], int_scalar=True)
        case(op, f"double_{SHORT[dt]}", [(spec, dt)], scalars=[2.5])

# ---- pow ----
for e in (2, 3, 0.5, -1, 2.5, 0, -2, 1.5):
    float_case("pow_s", f"{e}".replace(".", "p").replace("-", "m"), [A], scalars=[e])
float_case("pow_s", "2_special", [S], scalars=[2])
float_case("pow_s", "0p5_special", [S], scalars=[0.5])
for e in (2, 3):
    case("pow_s", f"{e}_i64", [(AI, I64)], scalars=[e], int_scalar=True)
# (Int64 results beyond 2^53 do not fit the table's doubles: test_ops.cpp checks them by hand.)
float_case("pow", "2x3_1x3", [P, R])
float_case("pow", "2x3_2x3", [P, A])
float_case("pow", "negbase_int_exponents", [A, ([3], [2.0, 3.0, -1.0])])
float_case("rpow_s", "2", [A], scalars=[2.0])

# ---- unary math ----
for op in UNARY:
    float_case(op, "2x3", [A])
    float_case(op, "special", [S])
    float_case(op, "wide", [L])
for op in unary_with("positive"):
    float_case(op, "positive", [P])
# Int64 and Bool inputs: a reference case where PyTorch computes, a refusal where it raises
REFUSALS = []  # (op, dtype)
for op, (fn, _) in UNARY.items():
    for dt, spec in ((I64, AI), (BOOL, BA)):
        try:
            fn(make(spec, dt))
        except RuntimeError:
            REFUSALS.append((op, dt))
            continue
        case(op, SHORT[dt], [(spec, dt)])
float_case("exp", "0d", [Z])

# ---- clamp, maximum, minimum, where ----
float_case("clamp", "m1_1", [A], scalars=[-1.0, 1.0])
float_case("clamp", "special", [S], scalars=[-0.5, 2.0])
float_case("clamp_min", "0p5", [A], scalars=[0.5])
float_case("clamp_max", "0", [A], scalars=[0.0])
float_case("clamp_max", "special", [S], scalars=[0.0])
float_case("clamp_min", "special", [S], scalars=[0.0])
float_case("clamp", "inverted", [A], scalars=[1.0, -1.0])  # min > max: every element is max
case("clamp", "i64", [(AI, I64)], scalars=[-2, 3], int_scalar=True)
for op in ("maximum", "minimum"):
    float_case(op, "2x3_1x3", [A, R])
    float_case(op, "2x3_2x3", [A, A2])
    float_case(op, "nan", [NANROW, ([3], [0.0, 0.0, NAN])])
    float_case(op, "special", [S, L])
    case(op, "i64", [(AI, I64), (RI, I64)])
    case(op, "promote_i64_f64", [(AI, I64), (R, F64)])
float_case("where", "2x3", [A, A2], lead=[(COND, BOOL)])
float_case("where", "broadcast", [R, C], lead=[(MASK_C, BOOL)])
float_case("where", "scalar_branch", [A, Z], lead=[(COND, BOOL)])
float_case("where", "0d_cond", [A, A2], lead=[(MASK_Z, BOOL)])
case("where", "i64", [(COND, BOOL), (AI, I64), (AI2, I64)])
case("where", "bool", [(COND, BOOL), (BA, BOOL), (BA2, BOOL)])
case("where", "promote_f32_f64", [(COND, BOOL), (A, F32), (A2, F64)])
case("where", "promote_bool_i64", [(COND, BOOL), (BA, BOOL), (AI, I64)])
# a number for one branch: it takes the other branch's dtype unless its category is higher
for op in ("where_s", "rwhere_s"):
    float_case(op, "double", [A], scalars=[2.5], lead=[(COND, BOOL)])
    float_case(op, "int", [A], scalars=[-3], lead=[(MASK_R, BOOL)], int_scalar=True)
    case(op, "i64_int", [(COND, BOOL), (AI, I64)], scalars=[9], int_scalar=True)
    case(op, "i64_double", [(COND, BOOL), (AI, I64)], scalars=[0.5])
    case(op, "bool_int", [(COND, BOOL), (BA, BOOL)], scalars=[2], int_scalar=True)
    case(op, "bool_double", [(COND, BOOL), (BA, BOOL)], scalars=[-1.5])
case("where_ss", "int", [(COND, BOOL)], scalars=[4, -2], int_scalar=True)
case("where_ss", "double", [(MASK_C, BOOL)], scalars=[0.25, NAN])

# ---- comparisons (Bool results) ----
for op in ("eq", "ne", "lt", "le", "gt", "ge"):
    case(op, "bool", [(BA, BOOL), (BA2, BOOL)])
    case(op, "promote_bool_f32", [(BA, BOOL), (A, F32)])
    case(op + "_s", "bool_int", [(BA, BOOL)], scalars=[1], int_scalar=True)
    case(op + "_s", "bool_double", [(BA, BOOL)], scalars=[0.5])
    float_case(op, "2x3_2x3", [A, A2])
    float_case(op, "2x3_1x3", [A, ([1, 3], [0.5, 0.0, 1.0])])
    float_case(op, "nan", [S, ([6], [0.0, 0.0, NAN, INF, 0.0, NAN])])
    case(op, "i64", [(AI, I64), (AI2, I64)])
    case(op, "promote_i64_f32", [(AI, I64), (([1, 3], [-3.0, 0.5, 7.0]), F32)])
    float_case(op + "_s", "0p5", [A], scalars=[0.5])
    float_case(op + "_s", "0", [S], scalars=[0.0])
    case(op + "_s", "i64_int", [(AI, I64)], scalars=[2], int_scalar=True)
    case(op + "_s", "i64_double", [(AI, I64)], scalars=[1.5])

# ---- logical ops and tests (Bool results; any dtypes in: nonzero, NaN included, is true) ----
for op in ("logical_and", "logical_or", "logical_xor"):
    float_case(op, "2x3_2x3", [S, L])
    float_case(op, "2x3_1x3", [A, ([1, 3], [0.0, NAN, 2.0])])
    case(op, "i64", [(AI, I64), (AI2, I64)])
    case(op, "bool", [(BA, BOOL), (BA2, BOOL)])
    case(op, "bool_1x3", [(BA, BOOL), (BR, BOOL)])
    case(op, "mixed_bool_f32", [(BA, BOOL), (([1, 3], [0.0, NAN, -1.0]), F32)])
float_case("logical_not", "special", [S])
float_case("logical_not", "2x3", [A])
case("logical_not", "i64", [(AI, I64)])
case("logical_not", "bool", [(BA, BOOL)])
for op in ("isnan", "isinf", "isfinite"):
    float_case(op, "special", [S])
    float_case(op, "2x3", [NANROW])
    case(op, "i64", [(AI, I64)])
    case(op, "bool", [(BA, BOOL)])
for op in ("any", "all"):
    float_case(op, "all_2x3", [A])
    float_case(op, "all_zeros", [([2, 2], [0.0, 0.0, 0.0, 0.0])])
    float_case(op, "all_nan", [([2], [NAN, 0.0])])
    float_case(op, "all_empty", [([0, 3], [])])
    float_case(op, "all_0d", [Z])
    for d in (0, 1, -1):
        for keep in (False, True):
            float_case(op, f"2x3_d{d}_k{int(keep)}".replace("-", "m"), [A], ints=[d],
                       keepdim=keep)
    float_case(op, "empty_d0", [([0, 3], [])], ints=[0])
    float_case(op, "0d_d0", [Z], ints=[0])
    case(op, "i64", [(AI, I64)])
    case(op, "i64_d1", [(AI, I64)], ints=[1])
    case(op, "bool", [(BA, BOOL)])
    case(op, "bool_d0_k1", [(BA, BOOL)], ints=[0], keepdim=True)
    case(op, "bool_3d_d1", [(BT, BOOL)], ints=[1])

# ---- masks: masked_fill, tril, triu ----
float_case("masked_fill", "2x3", [A], scalars=[-7.5], extra=[(COND, BOOL)])
float_case("masked_fill", "row_mask", [A], scalars=[0.0], extra=[(MASK_R, BOOL)])
float_case("masked_fill", "column_mask", [A], scalars=[NAN], extra=[(MASK_C, BOOL)])
float_case("masked_fill", "0d_mask", [A], scalars=[-INF], extra=[(MASK_Z, BOOL)])
float_case("masked_fill", "mask_broadcasts_t", [R], scalars=[2.0], extra=[(COND, BOOL)])
float_case("masked_fill", "int_value", [A], scalars=[3], extra=[(COND, BOOL)], int_scalar=True)
case("masked_fill", "i64_int", [(AI, I64), (COND, BOOL)], scalars=[-4], int_scalar=True)
case("masked_fill", "i64_double", [(AI, I64), (COND, BOOL)], scalars=[2.75])
case("masked_fill", "bool_int", [(BA, BOOL), (MASK_R, BOOL)], scalars=[0], int_scalar=True)
case("masked_fill", "bool_double", [(BA, BOOL), (COND, BOOL)], scalars=[0.5])
for dt in FLOATS:
    case("masked_fill_t", f"2x3_{SHORT[dt]}", [(A, dt), (COND, BOOL), (Z, dt)])
    case("masked_fill_t", f"row_mask_{SHORT[dt]}", [(A, dt), (MASK_R, BOOL), (([], [-2.0]), dt)])
case("masked_fill_t", "f32_value_f64", [(A, F32), (COND, BOOL), (([], [0.1]), F64)])
case("masked_fill_t", "i64_value_f32", [(AI, I64), (COND, BOOL), (([], [-2.5]), F32)])
case("masked_fill_t", "f64_value_i64", [(A, F64), (COND, BOOL), (([], [5]), I64)])
case("masked_fill_t", "bool_value_bool", [(BA, BOOL), (MASK_R, BOOL), (([], [1]), BOOL)])
for op in ("tril", "triu"):
    for k in ([], [0], [1], [-1], [2], [-2], [5], [-5]):
        label = "k" + ("_".join(map(str, k)) if k else "default")
        float_case(op, f"3x4_{label}".replace("-", "m"), [M34], ints=k)
    float_case(op, "batched_k1", [T], ints=[1])
    float_case(op, "batched_km1", [T], ints=[-1])
    float_case(op, "4x1_k0", [([4, 1], [1.0, 2.0, 3.0, 4.0])], ints=[0])
    float_case(op, "empty", [([0, 3], [])], ints=[0])
    float_case(op, "nan", [([2, 2], [NAN, NAN, NAN, NAN])], ints=[0])
    case(op, "i64_km1", [(TI, I64)], ints=[-1])
    case(op, "i64_k2", [(MI, I64)], ints=[2])
    case(op, "bool", [(BSQ, BOOL)])
    case(op, "bool_k1", [(BSQ, BOOL)], ints=[1])
    case(op, "bool_3d_km1", [(BT, BOOL)], ints=[-1])

# ---- Bool with other ops: arithmetic (+ is or, * is and), promotion, math, reductions ----
for op in ("add", "mul", "div", "maximum", "minimum"):
    case(op, "bool", [(BA, BOOL), (BA2, BOOL)])
    case(op, "bool_1x3", [(BA, BOOL), (BR, BOOL)])
    for da, db in [(BOOL, I64), (I64, BOOL), (BOOL, F32), (F64, BOOL)]:
        spec_a = {BOOL: BA, I64: AI}.get(da, A)
        spec_b = {BOOL: BR, I64: RI}.get(db, R)
        case(op, f"promote_{SHORT[da]}_{SHORT[db]}", [(spec_a, da), (spec_b, db)])
case("add", "alpha_bool", [(BA, BOOL), (BA2, BOOL)], scalars=[2], int_scalar=True)
case("add", "alpha_bool_i64", [(BA, BOOL), (AI, I64)], scalars=[2], int_scalar=True)
for op in ("add_s", "radd_s", "mul_s", "rmul_s", "div_s"):
    case(op, "int_bool", [(BA, BOOL)], scalars=[3], int_scalar=True)
    case(op, "double_bool", [(BA, BOOL)], scalars=[2.5])
case("rdiv_s", "int_bool", [(BR, BOOL)], scalars=[3], int_scalar=True)
case("pow_s", "2_bool", [(BA, BOOL)], scalars=[2], int_scalar=True)
case("pow_s", "0p5_bool", [(BA, BOOL)], scalars=[0.5])
case("rpow_s", "2_bool", [(BA, BOOL)], scalars=[2], int_scalar=True)
case("pow", "i64_bool", [(AI, I64), (BA, BOOL)])
case("clamp", "bool_int", [(BA, BOOL)], scalars=[1, 2], int_scalar=True)
case("clamp_min", "bool_double", [(BA, BOOL)], scalars=[0.5])
case("sum_all", "bool", [(BT, BOOL)])
case("sum", "bool_d1", [(BT, BOOL)], ints=[1])
case("sum", "bool_d0_2_k1", [(BT, BOOL)], ints=[0, 2], keepdim=True)
case("max_all", "bool", [(BA, BOOL)])
case("min_all", "bool", [(BA, BOOL)])
case("amax", "bool_d1", [(BA, BOOL)], ints=[1])
case("amin", "bool_d0_k1", [(BA, BOOL)], ints=[0], keepdim=True)
case("logsumexp", "bool_d1", [(BA, BOOL)], ints=[1])
case("cat", "bool", [(BA, BOOL), (BR, BOOL)], ints=[0])
case("cat", "promote_bool_f32", [(BA, BOOL), (R, F32)], ints=[0])
case("stack", "bool", [(BA, BOOL), (BA2, BOOL)], ints=[0])
case("transpose", "bool", [(BT, BOOL)], ints=[0, 2])
case("index_select", "bool", [(BA, BOOL), (IDX2, I64)], ints=[1])

# ---- reductions ----
for op in ("sum", "mean"):
    float_case(op + "_all", "2x3", [A])
    float_case(op + "_all", "3d", [T])
    float_case(op + "_all", "0d", [Z])
    for dims in ([0], [1], [-1], [0, 1], [-2, -1], [1, 0]):
        for keep in (False, True):
            float_case(op, f"2x3_d{'_'.join(map(str, dims))}_k{int(keep)}", [A], ints=dims,
                       keepdim=keep)
    for dims in ([0], [1], [2], [-1], [0, 2], [-3, -2], [0, 1, 2]):
        for keep in (False, True):
            float_case(op, f"3d_d{'_'.join(map(str, dims))}_k{int(keep)}", [T], ints=dims,
                       keepdim=keep)
    float_case(op, "nan", [NANROW], ints=[1])
    float_case(op + "_all", "inf", [([3], [INF, 1.0, -INF])])
case("sum_all", "i64", [(AI, I64)])
case("sum", "i64_d1", [(AI, I64)], ints=[1])
case("sum", "i64_3d_d0_2_k1", [(TI, I64)], ints=[0, 2], keepdim=True)

for op in ("max_all", "min_all"):
    float_case(op, "2x3", [A])
    float_case(op, "nan", [NANROW])
    float_case(op, "inf", [([3], [-INF, 1.0, INF])])
    float_case(op, "0d", [Z])
    case(op, "i64", [(AI, I64)])
for op in ("amax", "amin"):
    for dims in ([0], [1], [-1], [0, 1]):
        for keep in (False, True):
            float_case(op, f"2x3_d{'_'.join(map(str, dims))}_k{int(keep)}", [A], ints=dims,
                       keepdim=keep)
    for dims in ([1], [0, 2], [-1]):
        float_case(op, f"3d_d{'_'.join(map(str, dims))}_k1", [T], ints=dims, keepdim=True)
    float_case(op, "nan_d1", [NANROW], ints=[1])
    float_case(op, "nan_d0", [NANROW], ints=[0])
    case(op, "i64_d1", [(AI, I64)], ints=[1])
for op in ("argmax", "argmin"):
    float_case(op, "flat", [A])
    float_case(op, "flat_3d", [T])
    float_case(op, "ties_flat", [TIES])
    float_case(op, "0d", [Z])
    for d in (0, 1, -1):
        for keep in (False, True):
            float_case(op, f"ties_d{d}_k{int(keep)}".replace("-", "m"), [TIES], ints=[d],
                       keepdim=keep)
    float_case(op, "3d_d1", [T], ints=[1])
    float_case(op, "3d_dm1_k1", [T], ints=[-1], keepdim=True)
    case(op, "i64_flat", [(TIESI, I64)])
    case(op, "i64_d1", [(TIESI, I64)], ints=[1])
for dims in ([1], [0], [-1], [0, 1]):
    for keep in (False, True):
        float_case("logsumexp", f"2x3_d{'_'.join(map(str, dims))}_k{int(keep)}".replace("-", "m"),
                   [A], ints=dims, keepdim=keep)
float_case("logsumexp", "big_d1", [BIG], ints=[1])
float_case("logsumexp", "neginf_d1", [NEGINF], ints=[1])
float_case("logsumexp", "3d_d0_2", [T], ints=[0, 2])

# ---- linear algebra ----
MATMULS = [("1d_1d", V, ([3], [2.0, -1.0, 0.5])), ("2d_2d", A, M34), ("1d_2d", V, M34),
           ("2d_1d", A, V), ("3d_3d", B223, B234), ("3d_2d", B223, M34), ("1d_3d", V, B234),
           ("3d_1d", B223, V), ("4d_3d_broadcast", B2123, B332),
           ("2d_3d", ([2, 2], [1.0, -1.0, 0.5, 2.0]), ([3, 2, 3], T[1][:18]))]
for label, a, b in MATMULS:
    float_case("matmul", label, [a, b])
case("matmul", "i64_2d_2d", [(AI, I64), (MI, I64)])
case("matmul", "i64_1d_1d", [(([3], [1, -2, 3]), I64), (([3], [4, 5, -6]), I64)])
case("matmul", "i64_3d_2d", [(TI, I64), (([4, 2], [1, 0, -1, 2, 3, 1, 0, -2]), I64)])
float_case("mm", "2x3_3x4", [A, M34])
float_case("mm", "2x2_2x3", [B23, A])
case("mm", "i64", [(AI, I64), (MI, I64)])
float_case("t", "2x3", [A])
float_case("t", "1d", [V])
float_case("t", "0d", [Z])

# ---- shape ----
for label, spec, shape in [("2x3_to_3xm1", A, [3, -1]), ("2x3_to_m1", A, [-1]),
                           ("2x3_to_1xm1x2", A, [1, -1, 2]), ("3d_to_4x6", T, [4, 6]),
                           ("3d_to_m1x2x3", T, [-1, 2, 3]), ("0d_to_1x1", Z, [1, 1]),
                           ("1d_to_0d", ([1], [4.0]), [])]:
    float_case("reshape", label, [spec], ints=shape)
    float_case("view", label, [spec], ints=shape)
case("reshape", "i64", [(AI, I64)], ints=[3, 2])
for label, se in [("all", []), ("0_m1", [0, -1]), ("1_2", [1, 2]), ("0_1", [0, 1]),
                  ("m2_m1", [-2, -1]), ("1_1", [1, 1])]:
    float_case("flatten", f"3d_{label}", [T], ints=se)
float_case("flatten", "0d", [Z])
float_case("squeeze", "all", [SQ])
for d in (0, 1, 2, -1):
    float_case("squeeze", f"d{d}".replace("-", "m"), [SQ], ints=[d])
float_case("squeeze", "0d", [Z])
for d in (0, 1, 2, -1, -3):
    float_case("unsqueeze", f"d{d}".replace("-", "m"), [A], ints=[d])
float_case("unsqueeze", "0d", [Z], ints=[0])
for label, spec, d in [("2x3_0_1", A, [0, 1]), ("2x3_1_0", A, [1, 0]), ("2x3_m1_m2", A, [-1, -2]),
                       ("2x3_1_1", A, [1, 1]), ("3d_0_2", T, [0, 2]), ("3d_1_2", T, [1, 2]),
                       ("3d_m3_m1", T, [-3, -1])]:
    float_case("transpose", label, [spec], ints=d)
case("transpose", "i64", [(TI, I64)], ints=[0, 2])
for p in ([2, 0, 1], [1, 2, 0], [0, 2, 1], [0, 1, 2], [-1, 0, -2]):
    float_case("permute", "3d_" + "_".join(map(str, p)).replace("-", "m"), [T], ints=p)
float_case("permute", "2x3_1_0", [A], ints=[1, 0])
for label, spec, shape in [("3x1_to_3x4", C3, [3, 4]), ("1x3_to_2x2x3", R, [2, 2, 3]),
                           ("3x1_to_m1x4", C3, [-1, 4]), ("0d_to_2x3", Z, [2, 3]),
                           ("3_to_2x3", V, [2, 3]), ("same", A, [2, 3]),
                           ("2x1x3_to_2x4x3", X, [2, 4, -1])]:
    float_case("expand", label, [spec], ints=shape)
for label, specs, d in [("d0", [A, R], 0), ("d1", [A, B23], 1), ("dm1", [A, B23], -1),
                        ("three_d0", [A, R, A2], 0), ("3d_d1", [T, ([2, 1, 4], T[1][:8])], 1),
                        ("1d", [V, ([2], [7.0, 8.0])], 0), ("single", [A], 1)]:
    float_case("cat", label, specs, ints=[d])
case("cat", "i64", [(AI, I64), (RI, I64)], ints=[0])
case("cat", "promote_f32_f64", [(A, F32), (R, F64)], ints=[0])
case("cat", "promote_i64_f32", [(AI, I64), (R, F32)], ints=[0])
for d in (0, 1, 2, -1, -3):
    float_case("stack", f"d{d}".replace("-", "m"), [A, A2], ints=[d])
float_case("stack", "0d", [Z, ([], [-2.0])], ints=[0])
float_case("stack", "three_1d", [V, ([3], [4.0, 5.0, 6.0]), ([3], [-1.0, 0.0, 1.0])], ints=[1])
case("stack", "i64", [(AI, I64), (AI2, I64)], ints=[1])
for label, spec, args in [("d1_1_2", A, [1, 1, 2]), ("d0_1_1", A, [0, 1, 1]),
                          ("dm1_0_1", A, [-1, 0, 1]), ("d1_0_0", A, [1, 0, 0]),
                          ("d1_m2_2", A, [1, -2, 2]), ("3d_d2_1_3", T, [2, 1, 3]),
                          ("full", A, [1, 0, 3])]:
    float_case("narrow", label.replace("-", "m"), [spec], ints=args)
for label, spec, d, idx in [("d0", A, 0, IDX), ("d1", A, 1, IDX2), ("dm1", A, -1, IDX),
                            ("3d_d1", T, 1, IDX2), ("3d_d2", T, 2, ([4], [3, 3, 0, 1])),
                            ("empty", A, 1, ([0], []))]:
    float_case("index_select", label, [spec], ints=[d], extra=[(idx, I64)])
case("index_select", "i64", [(AI, I64), (IDX2, I64)], ints=[1])

# ---- sorting: distinct values (PyTorch's order of ties is unspecified; xgrad's is stable),
# NaN (sorted above every number), every dim, both directions ----
SORTA = ([2, 4], [0.5, -1.25, 3.0, 2.0, -0.75, 4.5, 1.0, -2.5])
SORTN = ([5], [1.0, NAN, -2.0, INF, 0.5])
SORTT = ([2, 3, 2], [3.0, -1.0, 0.25, 2.5, -4.0, 1.5, 0.0, 5.0, -2.25, 0.75, 1.25, -0.5])
SORTI = ([2, 3], [4, -2, 9, 7, 1, -5])
for largest in (True, False):
    tag = "largest" if largest else "smallest"
    for part in ("values", "indices"):
        op = f"topk_{part}"
        float_case(op, f"k2_d1_{tag}", [SORTA], ints=[2, 1], keepdim=largest)
        float_case(op, f"k1_d0_{tag}", [SORTA], ints=[1, 0], keepdim=largest)
        float_case(op, f"k3_dm1_3d_{tag}", [SORTT], ints=[2, -2], keepdim=largest)
        float_case(op, f"k0_{tag}", [SORTA], ints=[0, 1], keepdim=largest)
        float_case(op, f"nan_{tag}", [SORTN], ints=[3, 0], keepdim=largest)
        float_case(op, f"0d_{tag}", [Z], ints=[1, 0], keepdim=largest)
        case(op, f"i64_{tag}", [(SORTI, I64)], ints=[2, 1], keepdim=largest)
for descending in (False, True):
    tag = "descending" if descending else "ascending"
    for part in ("values", "indices"):
        op = f"sort_{part}"
        float_case(op, f"d1_{tag}", [SORTA], ints=[1], keepdim=descending)
        float_case(op, f"d0_{tag}", [SORTA], ints=[0], keepdim=descending)
        float_case(op, f"3d_dm1_{tag}", [SORTT], ints=[-1], keepdim=descending)
        float_case(op, f"nan_{tag}", [SORTN], ints=[0], keepdim=descending)
        float_case(op, f"0d_{tag}", [Z], ints=[0], keepdim=descending)
        case(op, f"i64_{tag}", [(SORTI, I64)], ints=[1], keepdim=descending)
        case(op, f"bool_{tag}", [(([5], [1, 0, 1, 0, 0]), BOOL)], ints=[0], keepdim=descending)

# ---- softmax family ----
for op in ("softmax", "log_softmax"):
    for d in (0, 1, -1, -2):
        float_case(op, f"2x3_d{d}".replace("-", "m"), [A], ints=[d])
    float_case(op, "big_d1", [BIG], ints=[1])
    float_case(op, "neginf_d1", [NEGINF], ints=[1])
    float_case(op, "3d_d1", [T], ints=[1])
    float_case(op, "3d_d2", [T], ints=[2])
    float_case(op, "1d", [L], ints=[0])
    float_case(op, "0d", [Z], ints=[0])


# ---- cumsum, gather, max/min along a dim, diagonal, unflatten, masked_select ----
for d in (0, 1, -1):
    float_case("cumsum", f"2x3_d{d}".replace("-", "m"), [A], ints=[d])
for d in (0, 1, 2, -2):
    float_case("cumsum", f"3d_d{d}".replace("-", "m"), [T], ints=[d])
float_case("cumsum", "0d", [Z], ints=[0])
float_case("cumsum", "0d_dm1", [Z], ints=[-1])
float_case("cumsum", "special", [S], ints=[0])
float_case("cumsum", "empty", [([0, 3], [])], ints=[0])
# Float32 sums accumulate in double: 1e8 + 1 + 1 + 1 - 1e8 is 3, not 0
float_case("cumsum", "accumulates_in_double", [([6], [1e8, 1.0, 1.0, 1.0, -1e8, 1.0])], ints=[0])
case("cumsum", "i64_d1", [(AI, I64)], ints=[1])
case("cumsum", "i64_3d_d0", [(TI, I64)], ints=[0])
case("cumsum", "bool_d1", [(BA, BOOL)], ints=[1])
case("cumsum", "bool_3d_dm1", [(BT, BOOL)], ints=[-1])

GATHER = [("d1", A, 1, ([2, 2], [0, 2, 1, 1])),
          ("d0", A, 0, ([1, 3], [1, 0, 1])),
          ("dm1_longer", A, -1, ([2, 5], [0, 1, 2, 2, 1, 2, 2, 0, 0, 1])),
          ("d0_narrower", A, 0, ([3, 2], [1, 1, 0, 0, 1, 0])),
          ("3d_d2", T, 2, ([2, 2, 3], [3, 0, 1, 2, 2, 2, 0, 0, 3, 1, 3, 2])),
          ("3d_d1", T, 1, ([2, 1, 4], [2, 0, 1, 1, 0, 2, 2, 1])),
          ("0d", Z, 0, ([], [0])),
          ("0d_index_1d", Z, 0, ([3], [0, 0, 0])),
          ("1d_index_0d", V, 0, ([], [2])),
          ("empty_index", A, 1, ([0, 2], []))]
for label, spec, d, idx in GATHER:
    float_case("gather", label, [spec], ints=[d], extra=[(idx, I64)])
case("gather", "i64", [(AI, I64), (([2, 2], [2, 2, 0, 1]), I64)], ints=[1])
case("gather", "bool", [(BA, BOOL), (([1, 3], [1, 0, 0]), I64)], ints=[0])

for op in ("max_dim", "min_dim"):
    for part in ("", "_indices"):
        name = op + part
        for d in (0, 1, -1):
            for keep in (False, True):
                float_case(name, f"ties_d{d}_k{int(keep)}".replace("-", "m"), [TIES], ints=[d],
                           keepdim=keep)
        float_case(name, "nan_d1", [NANROW], ints=[1])
        float_case(name, "nan_d0", [NANROW], ints=[0])
        float_case(name, "special", [S], ints=[0])
        float_case(name, "3d_d1_k1", [T], ints=[1], keepdim=True)
        float_case(name, "3d_d2", [T], ints=[2])
        float_case(name, "0d", [Z], ints=[0])
        float_case(name, "0d_k1", [Z], ints=[-1], keepdim=True)
        float_case(name, "empty_other_dim", [([0, 3], [])], ints=[1])
        case(name, "i64_d1", [(TIESI, I64)], ints=[1])
        case(name, "i64_d0_k1", [(TIESI, I64)], ints=[0], keepdim=True)
        case(name, "bool_d1", [(BA, BOOL)], ints=[1])
        case(name, "bool_d0", [(BA, BOOL)], ints=[0])

for label, spec, args in [("2x3", A, []), ("2x3_o1", A, [1]), ("2x3_om1", A, [-1]),
                          ("2x3_o2", A, [2]), ("2x3_o3", A, [3]), ("2x3_om5", A, [-5]),
                          ("3d_o1_d1_d2", T, [1, 1, 2]), ("3d_om1_d2_d0", T, [-1, 2, 0]),
                          ("3d_o0_dm1_d0", T, [0, -1, 0]), ("3x4_o0_d1_d0", M34, [0, 1, 0]),
                          ("empty", ([0, 3], []), [0])]:
    float_case("diagonal", label, [spec], ints=args)
case("diagonal", "i64", [(AI, I64)], ints=[1])
case("diagonal", "bool_3d", [(BT, BOOL)], ints=[-1, 0, 2])

for label, spec, args in [("3x4_d1_2_2", M34, [1, 2, 2]), ("3x4_d1_2_m1", M34, [1, 2, -1]),
                          ("3x4_dm1_m1_2", M34, [-1, -1, 2]), ("3x4_d0_3_1", M34, [0, 3, 1]),
                          ("3x4_d1_4", M34, [1, 4]), ("3x4_d0_1_3_1", M34, [0, 1, 3, 1]),
                          ("3d_d2_2_2", T, [2, 2, 2]), ("3d_d0_1_2", T, [0, 1, 2]),
                          ("empty_d1_m1_2", ([3, 0], []), [1, -1, 2]),
                          ("1d_d0_2_m1", L, [0, 2, -1])]:
    float_case("unflatten", label, [spec], ints=args)
case("unflatten", "i64", [(AI, I64)], ints=[1, 3, 1])
case("unflatten", "bool", [(BT, BOOL)], ints=[-1, 2, 2])

for label, spec, mask in [("2x3", A, COND), ("row_mask", A, MASK_R), ("column_mask", A, MASK_C),
                          ("0d_mask", A, MASK_Z), ("both_broadcast", R, MASK_C),
                          ("0d_t", Z, ([1, 2], [1, 0])), ("special", S, ([6], [1, 1, 0, 1, 1, 1])),
                          ("none", A, ([2, 3], [0] * 6))]:
    float_case("masked_select", label, [spec], extra=[(mask, BOOL)])
case("masked_select", "i64", [(AI, I64), (COND, BOOL)])
case("masked_select", "bool", [(BA, BOOL), (MASK_R, BOOL)])


# ---- the dtypes of the OpInfo table's ops (tests/op_info.hpp, same ids) ----
# For each op form and input dtype (every input of that dtype): PyTorch's result dtype, or a
# refusal. Int64 inputs are positive so that pow's integer exponents are allowed.
OPINFO = {
    "add": (2, torch.add), "sub": (2, torch.sub), "mul": (2, torch.mul), "div": (2, torch.div),
    "pow": (2, torch.pow), "maximum": (2, torch.maximum), "minimum": (2, torch.minimum),
    "eq": (2, torch.eq), "ne": (2, torch.ne), "lt": (2, torch.lt), "le": (2, torch.le),
    "gt": (2, torch.gt), "ge": (2, torch.ge),
    "logical_and": (2, torch.logical_and), "logical_or": (2, torch.logical_or),
    "logical_xor": (2, torch.logical_xor),
    "where": (2, lambda a, b: torch.where(a > 0, a, b)),
    "sum_all": (1, torch.sum), "sum_dim": (1, lambda a: torch.sum(a, dim=[-1])),
    "sum_keepdim": (1, lambda a: torch.sum(a, dim=[0], keepdim=True)),
    "mean_all": (1, torch.mean), "mean_dim": (1, lambda a: torch.mean(a, dim=[-1])),
    "max_all": (1, torch.max), "min_all": (1, torch.min),
    "amax": (1, lambda a: torch.amax(a, dim=[-1])),
    "amin": (1, lambda a: torch.amin(a, dim=[-1], keepdim=True)),
    "argmax": (1, lambda a: torch.argmax(a, dim=-1)),
    "argmin": (1, lambda a: torch.argmin(a, dim=-1, keepdim=True)),
    "logsumexp": (1, lambda a: torch.logsumexp(a, dim=[-1])),
    "softmax": (1, lambda a: torch.softmax(a, -1)),
    "log_softmax": (1, lambda a: torch.log_softmax(a, -1)),
    "topk": (1, lambda a: torch.topk(a, 1).values),
    "sort": (1, lambda a: torch.sort(a).values),
    "matmul": (2, torch.matmul), "mm": (2, torch.mm),
    "cat": (2, lambda a, b: torch.cat([a, b], 0)),
    "stack": (2, lambda a, b: torch.stack([a, b], -1)),
    "cumsum": (1, lambda a: torch.cumsum(a, -1)),
    "max_dim": (1, lambda a: torch.max(a, -1).values),
    "max_dim_indices": (1, lambda a: torch.max(a, 0, keepdim=True).indices),
    "min_dim": (1, lambda a: torch.min(a, -1, keepdim=True).values),
    "diagonal": (1, lambda a: torch.diagonal(a, 1)),
    "unflatten": (1, lambda a: torch.unflatten(a, -1, (3, -1))),
    "masked_select": (1, lambda a: torch.masked_select(a, a > 0)),
}
OPINFO_SHAPES = {"matmul": ([2, 3], [3, 4]), "mm": ([2, 3], [3, 4]), "cat": ([2, 3], [4, 3])}


def opinfo_input(shape, dtype, gen):
    if dtype == I64:
        return torch.randint(1, 7, shape, generator=gen)
    if dtype == BOOL:
        return torch.randint(0, 2, shape, generator=gen).bool()
    return torch.randn(shape, generator=gen, dtype=dtype)


def opinfo_dtypes():
    rows = []
    gen = torch.Generator().manual_seed(0)
    for op_id, (arity, fn) in OPINFO.items():
        shapes = OPINFO_SHAPES.get(op_id, ([2, 3],) * arity)
        for dt in (F32, F64, I64, BOOL):
            try:
                result = fn(*[opinfo_input(sh, dt, gen) for sh in shapes])
                rows.append(f'{{"{op_id}", {DTYPE_NAME[dt]}, false, {DTYPE_NAME[result.dtype]}}},')
            except RuntimeError:
                rows.append(f'{{"{op_id}", {DTYPE_NAME[dt]}, true, {DTYPE_NAME[dt]}}},')
    return rows


# ---- output ----
def fmt(v):
    v = float(v)
    if math.isnan(v):
        return "kNaN"
    if math.isinf(v):
        return "kInf" if v > 0 else "-kInf"
    if v == int(v) and abs(v) < 2**53:
        return ("-" if math.copysign(1, v) < 0 and v == 0 else "") + f"{int(v)}.0"
    return repr(v)


def fmt_tensor(t, dtype_name=None):
    shape = ", ".join(str(s) for s in t.shape)
    values = ", ".join(fmt(v) for v in t.reshape(-1).tolist())
    return f"{{{{{shape}}}, {dtype_name or DTYPE_NAME[t.dtype]}, {{{values}}}}}"


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "op_reference.inc")
    lines = [
        "// Generated by tests/reference/make_op_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// One RefCase per line: {name, op, {inputs}, {ints}, {scalars}, keepdim, int_scalar,",
        "// expected}; a tensor is {{shape}, dtype, {values in row-major order}}.",
        "// Bool tensors are stored with dtype xg::kBool and the values 0.0 and 1.0.",
    ]
    names = set()
    for label, op, inputs, ints, scalars, keepdim, int_scalar in CASES:
        # a C++ identifier: GoogleTest names each case after it
        name = f"{op}_{label}".replace("-", "m").replace(".", "p")
        assert name.replace("_", "").isalnum(), name
        assert name not in names, name
        names.add(name)
        tensors = [make(spec, dt) for spec, dt in inputs]
        py_scalars = [int(s) if int_scalar else float(s) for s in scalars]
        with torch.no_grad():
            result = OPS[op](tensors, ints, py_scalars, keepdim)
        result_dtype = DTYPE_NAME[result.dtype]
        ins = ", ".join(fmt_tensor(t) for t in tensors)
        lines.append(
            f'{{"{name}", "{op}", {{{ins}}}, {{{", ".join(map(str, ints))}}}, '
            f'{{{", ".join(fmt(s) for s in scalars)}}}, {str(keepdim).lower()}, '
            f'{str(int_scalar).lower()}, {fmt_tensor(result, result_dtype)}}},')
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases to {out_path}", file=sys.stderr)

    refusals_path = os.path.join(os.path.dirname(out_path), "op_refusals.inc")
    lines = [
        "// Generated by tests/reference/make_op_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// The unary ops PyTorch refuses on an input dtype: {op, dtype}.",
    ]
    lines += [f'{{"{op}", {DTYPE_NAME[dt]}}},' for op, dt in REFUSALS]
    with open(refusals_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(REFUSALS)} refusals to {refusals_path}", file=sys.stderr)

    dtypes_path = os.path.join(os.path.dirname(out_path), "op_dtypes.inc")
    lines = [
        "// Generated by tests/reference/make_op_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// The OpInfo table's ops (tests/op_info.hpp) on each input dtype:",
        "// {id, input dtype, refused, result dtype (the input dtype when refused)}.",
    ] + opinfo_dtypes()
    with open(dtypes_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 3} dtype rows to {dtypes_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
