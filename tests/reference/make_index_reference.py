#!/usr/bin/env python3
"""Writes tests/reference/index_reference.inc: PyTorch's results for x[...] (Tensor::index).

Every input and index is written literally below. Each case indexes one freshly made float64
tensor (arange-like values, so a value names its storage position) with one index tuple, and
the script prints PyTorch's result: sizes, strides, storage offset, whether the result shares
the input's storage (a view) or is a copy, its values in row-major order, the input after
`result.add_(100)` on a fresh replay (changed only through a view), and the input's gradient
of `(result * w).sum()`, w = 1, 2, ... over the result in row-major order (repeated indices
accumulate). The C++ test (tests/test_indexing.cpp) replays each case through
`Tensor::index` and compares.

A case that PyTorch refuses is printed with the error xgrad must raise instead (the exception
type and message parts), after the script checked that PyTorch's message is of the same kind.
A case named `unsupported_*` is one PyTorch accepts but xgrad deliberately refuses (several
tensor indices, a partial Bool mask, ...): the script checks that PyTorch does accept it, so the
limitation is real, and prints xgrad's error.
The test suite never needs PyTorch; only regenerating the table does.

    python3 tests/reference/make_index_reference.py      # Debian: apt-get install python3-torch
    # (use /usr/bin/python3 if another python3, e.g. pyenv's, comes first on PATH)

Made with Debian 12's python3-torch (PyTorch 1.13.1); the version is in the generated header.

Index entries (as in the .inc: {kind, {args}, {tensor shape}}):
    ("int", [i])                  an integer
    ("slice", [start, stop, step]) Slice(start, stop, step); None is printed as kNone
    ("None", [])                  None
    ("Ellipsis", []), ("...", [])  Ellipsis, as the object and as the string "..."
    ("bool", [0 or 1])            false / true
    ("long", values, shape)       an Int64 tensor (0-d when shape is [])
    ("bool_t", values, shape)     a Bool tensor (a mask; 0-d when shape is [])
    ("double", values, shape)     a Float64 tensor (refused by both)
"""

import math
import os
import sys

import torch

# The output helpers are the view generator's: the same formats for the same kind of table.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_view_reference import floats, ints, same_storage  # noqa: E402

N = None


def arange(shape, start=0.0):
    n = math.prod(shape)
    return (list(shape), [start + float(i) for i in range(n)])


A0 = ([], [7.5])
A1 = arange([5], 10.0)
A2 = arange([3, 4])
A3 = arange([2, 3, 4])
A4 = arange([2, 1, 3, 2])


def I(i):  # noqa: E743
    return ("int", [i])


def S(start=N, stop=N, step=N):
    return ("slice", [start, stop, step])


NONE = ("None", [])
ELL = ("Ellipsis", [])
DOTS = ("...", [])
TRUE = ("bool", [1])
FALSE = ("bool", [0])


def L(values, shape=None):  # an Int64 tensor: 1-D by default
    return ("long", list(values), [len(values)] if shape is None else list(shape))


def L0(v):  # a 0-d Int64 tensor
    return ("long", [v], [])


def B(values, shape):  # a Bool tensor
    return ("bool_t", [int(bool(v)) for v in values], list(shape))


def D(values):
    return ("double", list(values), [len(values)])


CASES = []  # (name, input, index entries)


def case(name, spec, index):
    CASES.append((name, spec, index))


# ---- 1-D ----
case("d1_int_2", A1, [I(2)])
case("d1_int_m1", A1, [I(-1)])
case("d1_int_m5", A1, [I(-5)])
case("d1_int_0", A1, [I(0)])
case("d1_slice_all", A1, [S()])
case("d1_slice_1_4", A1, [S(1, 4)])
case("d1_slice_step2", A1, [S(N, N, 2)])
case("d1_slice_1_none_3", A1, [S(1, N, 3)])
case("d1_slice_m3_none", A1, [S(-3, N)])
case("d1_slice_none_m1", A1, [S(N, -1)])
case("d1_slice_m4_m1_2", A1, [S(-4, -1, 2)])
case("d1_slice_clamp_both", A1, [S(-10, 10)])
case("d1_slice_stop_past_end", A1, [S(2, 100, 2)])
case("d1_slice_start_past_end", A1, [S(7, N)])
case("d1_slice_stop_before_start", A1, [S(3, 1)])
case("d1_slice_stop_below_minus_size", A1, [S(N, -8)])
case("d1_slice_step_past_end", A1, [S(1, N, 10)])
case("d1_none", A1, [NONE])
case("d1_slice_none", A1, [S(), NONE])
case("d1_ellipsis", A1, [ELL])
case("d1_dots", A1, [DOTS])
case("d1_true", A1, [TRUE])
case("d1_false", A1, [FALSE])
case("d1_empty_index", A1, [])
case("d1_tensor", A1, [L([0, 3, 3, 1])])
case("d1_tensor_negative", A1, [L([-1, 0, -5, 2])])
case("d1_tensor_empty", A1, [L([])])
case("d1_tensor_0d", A1, [L0(3)])
case("d1_tensor_0d_negative", A1, [L0(-2)])
case("d1_mask", A1, [B([1, 0, 1, 1, 0], [5])])
case("d1_mask_all_false", A1, [B([0, 0, 0, 0, 0], [5])])
case("d1_bool_0d_true", A1, [B([1], [])])
case("d1_bool_0d_false", A1, [B([0], [])])
case("d1_none_int", A1, [NONE, I(-2)])
case("d1_int_none", A1, [I(1), NONE])
case("d1_dots_int", A1, [DOTS, I(4)])
case("d1_int_dots", A1, [I(4), ELL])
case("d1_tensor_none", A1, [L([4, 0]), NONE])
case("d1_none_tensor", A1, [NONE, L([4, 0])])

# ---- 2-D ----
case("d2_int", A2, [I(1)])
case("d2_int_int", A2, [I(1), I(-1)])
case("d2_slice_int", A2, [S(), I(-1)])
case("d2_int_slice_step", A2, [I(0), S(1, N, 2)])
case("d2_slice_none_int", A2, [S(), NONE, I(-1)])
case("d2_dots_0", A2, [DOTS, I(0)])
case("d2_ellipsis_m1", A2, [ELL, I(-1)])
case("d2_0_dots", A2, [I(0), DOTS])
case("d2_dots_int_int", A2, [DOTS, I(1), I(2)])
case("d2_int_dots_int", A2, [I(-1), DOTS, I(2)])
case("d2_none_dots_none", A2, [NONE, DOTS, NONE])
case("d2_none_none", A2, [NONE, NONE])
case("d2_slices_negative", A2, [S(-2, N), S(N, -2)])
case("d2_slices_steps", A2, [S(N, N, 2), S(1, N, 2)])
case("d2_slice_clamped_empty", A2, [S(5, 9), S(1, 3)])
case("d2_true_slice", A2, [TRUE, S(1, 3)])
case("d2_slice_false", A2, [S(), FALSE])
case("d2_int_true", A2, [I(2), TRUE])
case("d2_tensor_cols", A2, [S(), L([3, 0, 3])])
case("d2_tensor_rows_int", A2, [L([2, 0]), I(1)])
case("d2_tensor_rows_slice", A2, [L([-1, 1]), S(1, 3)])
case("d2_tensor_none", A2, [L([1, 2]), NONE])
case("d2_ellipsis_tensor", A2, [ELL, L([-1, 1])])
case("d2_tensor_0d_slice", A2, [L0(1), S(N, N, 3)])
case("d2_slice_tensor_0d", A2, [S(), L0(-1)])
case("d2_tensor_0d_tensor_0d", A2, [L0(2), L0(0)])
case("d2_tensor_0d_and_tensor", A2, [L0(0), L([2, 1])])
case("d2_slice_bool_0d", A2, [S(), B([1], [])])
case("d2_mask", A2, [B([1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1], [3, 4])])
case("d2_empty_index", A2, [])

# ---- 3-D and 4-D ----
case("d3_slice_none_m1", A3, [S(), NONE, I(-1)])
case("d3_dots_0", A3, [DOTS, I(0)])
case("d3_0_slice_step", A3, [I(0), S(1, N, 2)])
case("d3_int_int_int", A3, [I(1), I(2), I(3)])
case("d3_int_none_slice_ellipsis", A3, [I(-1), NONE, S(N, N, 2), ELL])
case("d3_int_ellipsis_int", A3, [I(0), ELL, I(1)])
case("d3_slice_steps", A3, [S(N, N, 2), S(1, N, 2), S(N, N, 3)])
case("d3_tensor_middle", A3, [S(), L([2, 0, 2]), S(1, 3)])
case("d3_int_tensor", A3, [I(1), L([0, 2])])
case("d3_tensor_none_int", A3, [L([1, 0]), NONE, I(1)])
case("d3_dots_tensor", A3, [DOTS, L([3, 0])])
case("d3_tensor_dots_int", A3, [L([1, 1, 0]), DOTS, I(-1)])
case("d3_none_dots_m1", A3, [NONE, DOTS, I(-1)])
case("d3_true_dots_2", A3, [TRUE, DOTS, I(2)])
case("d3_false_dots", A3, [FALSE, ELL])
case("d3_tensor_0d_tensor_0d", A3, [L0(1), L0(-1)])
case("d3_tensor_0d_tensor", A3, [L0(0), L([2, 1])])
case("d3_tensor_empty_slice", A3, [L([]), S()])
case("d3_mask", A3, [B([(i * 7) % 3 == 0 for i in range(24)], [2, 3, 4])])
case("d3_slice_none_slice_none", A3, [S(1, N), NONE, S(N, 2), NONE])
case("d4_dots_middle", A4, [I(1), DOTS, I(0)])
case("d4_none_int_dots_slice", A4, [NONE, I(0), DOTS, S(N, N, 2)])
case("d4_tensor_last", A4, [S(), I(0), S(), L([1, 1, 0])])

# ---- 0-d ----
case("d0_none", A0, [NONE])
case("d0_ellipsis", A0, [ELL])
case("d0_dots_none", A0, [DOTS, NONE])
case("d0_none_dots_none", A0, [NONE, ELL, NONE])
case("d0_true", A0, [TRUE])
case("d0_false", A0, [FALSE])
case("d0_mask_true", A0, [B([1], [])])
case("d0_mask_false", A0, [B([0], [])])
case("d0_empty_index", A0, [])

# ---- PyTorch refuses: xgrad must throw (type, message parts) ----
RANGE, ARG = "std::out_of_range", "std::invalid_argument"
TOO_MANY = (RANGE, ["index: too many indices for tensor"])
OUT_OF_RANGE = (RANGE, ["index: index ", " is out of range for dim "])
STEP = (ARG, ["index: slice step must be positive"])
ELLIPSES = (ARG, ["index: an index can only have a single ellipsis"])
MASK = (ARG, ["index: a Bool mask", "must be the only index and have the tensor's shape"])
DTYPE = (ARG, ["index: a tensor index must be Int64 or Bool"])
SEVERAL = (ARG, ["index: one tensor index at most"])
MULTI_DIM = (ARG, ["index: an Int64 tensor index must be 0-d or 1-D"])

ERRORS = {}  # name -> (type, parts)


def error(name, spec, index, expected):
    case(name, spec, index)
    ERRORS[name] = expected


error("error_too_many_1d", A1, [I(0), I(0)], TOO_MANY)
error("error_too_many_3d", A3, [I(0), S(), I(0), I(0)], TOO_MANY)
error("error_too_many_with_ellipsis", A2, [ELL, I(0), I(0), I(0)], TOO_MANY)
error("error_too_many_0d_int", A0, [I(0)], TOO_MANY)
error("error_too_many_0d_slice", A0, [S()], TOO_MANY)
error("error_too_many_0d_tensor", A0, [L([0])], TOO_MANY)
error("error_too_many_mask_dims", A1, [B([1, 0, 1, 1, 0], [5, 1])], TOO_MANY)
error("unsupported_two_ellipses", A3, [ELL, I(0), DOTS], ELLIPSES)  # PyTorch 1.13 takes it; NumPy refuses
error("error_int_past_end", A2, [I(3)], OUT_OF_RANGE)
error("error_int_below_minus_size", A2, [I(0), I(-5)], OUT_OF_RANGE)
error("error_int_after_ellipsis", A3, [ELL, I(4)], OUT_OF_RANGE)
error("error_int_after_none", A2, [NONE, I(3)], OUT_OF_RANGE)
error("error_tensor_0d_past_end", A1, [L0(5)], OUT_OF_RANGE)
error("error_tensor_past_end", A2, [S(), L([0, 4])], OUT_OF_RANGE)
error("error_tensor_below_minus_size", A2, [L([-4])], OUT_OF_RANGE)
error("error_step_zero", A1, [S(N, N, 0)], STEP)
error("error_step_negative", A2, [S(), S(N, N, -1)], STEP)
error("error_mask_wrong_shape", A2, [B([1] * 15, [3, 5])], MASK)
error("error_mask_wrong_shape_1d", A1, [B([1, 0, 1, 0], [4])], MASK)
error("error_double_tensor", A1, [D([0.0, 1.0])], DTYPE)

# ---- PyTorch accepts, xgrad refuses (documented limitations) ----
error("unsupported_two_tensors", A2, [L([0, 1]), L([1, 2])], SEVERAL)
error("unsupported_tensor_and_true", A3, [TRUE, S(), L([0, 1])], SEVERAL)
error("unsupported_tensor_and_false", A2, [L([1]), FALSE], SEVERAL)
error("unsupported_true_true", A2, [TRUE, TRUE], SEVERAL)
error("unsupported_bool_0d_and_tensor", A2, [B([1], []), L([0])], SEVERAL)
error("unsupported_mask_and_tensor", A2, [B([1, 0, 1], [3]), L([0])], SEVERAL)
error("unsupported_tensor_2d", A2, [L([0, 2, 1, 1], [2, 2])], MULTI_DIM)
error("unsupported_mask_partial", A3, [B([1, 0, 1, 1, 0, 1], [2, 3])], MASK)
error("unsupported_mask_after_ellipsis", A2, [DOTS, B([1, 0, 0, 1], [4])], MASK)
error("unsupported_mask_with_none", A2, [NONE, B([1] * 12, [3, 4])], MASK)

# PyTorch's message for each kind of refusal (the case's name says which kind it is).
PYTORCH_MESSAGE = {
    "too_many": ["too many indices for tensor of dimension", "invalid index of a 0-dim tensor"],
    "int": ["is out of bounds for dimension"],
    "tensor": ["is out of bounds for dimension"],
    "step_zero": ["slice step cannot be zero"],
    "step_negative": ["step must be greater than zero"],
    "mask": ["The shape of the mask"],
    "double": ["tensors used as indices must be long, byte or bool tensors"],
}


def to_python(entry):
    kind, args = entry[0], entry[1]
    if kind == "int":
        return args[0]
    if kind == "slice":
        return slice(*args)
    if kind == "None":
        return None
    if kind in ("Ellipsis", "..."):
        return Ellipsis
    if kind == "bool":
        return bool(args[0])
    dtype = {"long": torch.int64, "bool_t": torch.bool, "double": torch.float64}[kind]
    return torch.tensor(args, dtype=dtype).reshape(entry[2])


def make(spec):
    shape, values = spec
    return torch.tensor(values, dtype=torch.float64).reshape(shape).clone()


def index(x, entries):
    return x[tuple(to_python(e) for e in entries)]


# ---- output ----


def entry_text(e):
    shape = e[2] if len(e) > 2 else []
    args = floats(e[1]) if e[0] == "double" else ints(e[1])
    return f'{{"{e[0]}", {args}, {ints(shape)}}}'


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "index_reference.inc")
    lines = [
        "// Generated by tests/reference/make_index_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// One RawIndexCase per line: {name, {{input shape}, {input values}}, {{kind, {args},",
        "// {tensor shape}}, ...}, error type (\"\" when PyTorch gives a result), {error message",
        "// parts}, {sizes}, {strides}, storage_offset, is_view, {values in row-major order},",
        "// {input values after result.add_(100)}, {input grad of (result * w).sum(), w = 1, 2, ...}}.",
    ]
    names = set()
    for name, spec, entries in CASES:
        assert name.replace("_", "").isalnum(), name
        assert name not in names, name
        names.add(name)
        shape, values = spec
        head = (f'{{"{name}", {{{ints(shape)}, {floats(values)}}}, '
                f'{{{", ".join(entry_text(e) for e in entries)}}}, ')
        if name in ERRORS:
            etype, parts = ERRORS[name]
            try:
                y = index(make(spec), entries)
                assert name.startswith("unsupported_"), (name, "PyTorch accepts it")
                print(f"{name}: PyTorch accepts it, shape {tuple(y.shape)}", file=sys.stderr)
            except (IndexError, ValueError, RuntimeError) as e:
                assert name.startswith("error_"), (name, "PyTorch refuses it", e)
                kind = next(k for k in PYTORCH_MESSAGE if name.startswith("error_" + k))
                assert any(m in str(e) for m in PYTORCH_MESSAGE[kind]), (name, str(e))
            lines.append(head + f'"{etype}", {{' + ", ".join(f'"{p}"' for p in parts) +
                         "}, {}, {}, 0, false, {}, {}, {}},")
            continue
        x = make(spec)
        with torch.no_grad():
            y = index(x, entries)
        # a write through the result reaches the input only when the result is a view
        x2 = make(spec)
        with torch.no_grad():
            y2 = index(x2, entries)
            y2.add_(100)
        # the input's gradient of (result * w).sum(), w = 1, 2, ... in row-major order
        x3 = make(spec).requires_grad_()
        y3 = index(x3, entries)
        w = torch.arange(1, y3.numel() + 1, dtype=torch.float64).reshape(y3.shape)
        (y3 * w).sum().backward()
        lines.append(
            head + f'"", {{}}, {ints(y.shape)}, {ints(y.stride())}, {y.storage_offset()}, '
            f"{str(same_storage(x, y)).lower()}, {floats(y.reshape(-1).tolist())}, "
            f"{floats(x2.reshape(-1).tolist())}, {floats(x3.grad.reshape(-1).tolist())}}},")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases ({len(ERRORS)} errors) to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
