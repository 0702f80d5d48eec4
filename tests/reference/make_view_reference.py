#!/usr/bin/env python3
"""Writes tests/reference/view_reference.inc: PyTorch's results for chains of view ops.

Every input is written literally below. Each case starts from one freshly made (contiguous)
tensor and applies a chain of steps (an op name and its int arguments; see `apply_step`). For the
chain's result the script prints PyTorch's sizes, strides, storage offset, is_contiguous, whether
the result shares the input's storage, its values in logical row-major order (repr of the
float64 value, which round-trips exactly), and the input's values after `result.add_(100)` on a
fresh replay (empty when PyTorch refuses the write: a result in which several elements share one
memory location). A case whose last step fails in PyTorch (a view that strides do not allow, an
as_strided out of bounds) is printed with the message parts the C++ test expects instead. The
C++ test (tests/test_views.cpp, `apply_step`) replays the same chains through xgrad and compares.
The test suite never needs PyTorch; only regenerating the table does.

    python3 tests/reference/make_view_reference.py      # Debian: apt-get install python3-torch
    # (use /usr/bin/python3 if another python3, e.g. pyenv's, comes first on PATH)

Made with Debian 12's python3-torch (PyTorch 1.13.1); the version is in the generated header.

Arguments per op (None, for slice and as_strided, is printed as kNone):
    view / reshape / expand / permute / expand_as: the shape (or dims; expand_as: other's shape)
    flatten: [start, end]; squeeze: [] or [dim]; unsqueeze: [dim]; transpose: [d0, d1]
    t, mT, contiguous, detach: []
    narrow: [dim, start, length]; select: [dim, index]; slice: [dim, start, end, step]
    split: [split_size, dim, piece]; split_with_sizes: [dim, piece, sizes...]
    chunk: [chunks, dim, piece]; unbind: [dim, piece]
    as_strided: [sizes..., strides..., storage_offset]  (as many sizes as strides)
    diagonal: [offset, dim1, dim2]; unflatten: [dim, sizes...]
"""

import math
import os
import sys

import torch

F64, F32, I64 = torch.float64, torch.float32, torch.int64
DTYPE_NAME = {F64: "xg::kFloat64", F32: "xg::kFloat32", I64: "xg::kInt64"}
SHORT = {F64: "f64", F32: "f32", I64: "i64"}

# ---- inputs (shape, values) ----
R24 = ([24], [float(i) for i in range(24)])  # arange(24): a value names its storage position
R12 = ([12], [float(i) for i in range(12)])
S24 = ([24], [0.5, -1.25, 2.0, 3.75, -0.5, 1.0, 0.0, -2.5, 4.0, 1.5, -3.0, 0.25,
              2.5, -0.75, 1.25, -4.0, 3.0, 0.125, -1.0, 2.25, -2.0, 0.75, 1.75, -3.5])
C3 = ([3, 1], [1.5, -2.0, 3.25])
SQ = ([1, 3, 1, 2], [1.0, -2.0, 3.0, -4.0, 5.0, -6.0])
Z = ([], [2.5])
V5 = ([5], [10.0, 11.0, 12.0, 13.0, 14.0])

N = None
V234 = ("view", [2, 3, 4])
CASES = []  # (name, (spec, dtype), steps)


def case(name, spec, steps, dtype=F32):
    CASES.append((name, (spec, dtype), steps))


# ---- single view ops on arange(24).view(2, 3, 4) ----
case("view_2x3x4", R24, [V234])
case("view_m1", R24, [("view", [4, -1])])
case("view_1x24x1", R24, [("view", [1, 24, 1])])
case("transpose_0_2", R24, [V234, ("transpose", [0, 2])])
case("transpose_m1_m2", R24, [V234, ("transpose", [-1, -2])])
case("transpose_1_1", R24, [V234, ("transpose", [1, 1])])
case("permute_2_0_1", R24, [V234, ("permute", [2, 0, 1])])
case("permute_1_2_0", R24, [V234, ("permute", [1, 2, 0])])
case("permute_m1_0_1", R24, [V234, ("permute", [-1, 0, 1])])
case("narrow_d1_1_2", R24, [V234, ("narrow", [1, 1, 2])])
case("narrow_d0_1_1", R24, [V234, ("narrow", [0, 1, 1])])
case("narrow_d2_m3_2", R24, [V234, ("narrow", [2, -3, 2])])
case("narrow_empty", R24, [V234, ("narrow", [1, 3, 0])])
case("select_d0_1", R24, [V234, ("select", [0, 1])])
case("select_d1_m1", R24, [V234, ("select", [1, -1])])
case("select_d2_2", R24, [V234, ("select", [2, 2])])
case("select_to_0d", R24, [V234, ("select", [0, 1]), ("select", [0, 2]), ("select", [0, 3])])
case("slice_d2_step2", R24, [V234, ("slice", [2, 0, N, 2])])
case("slice_d1_0_3_step2", R24, [V234, ("slice", [1, 0, 3, 2])])
case("slice_d2_1_none_step3", R24, [V234, ("slice", [2, 1, N, 3])])
case("slice_d0_none_none", R24, [V234, ("slice", [0, N, N, 1])])
case("slice_clamp_both", R24, [V234, ("slice", [1, -10, 10, 1])])
case("slice_negative_end", R24, [V234, ("slice", [1, 1, -1, 1])])
case("slice_negative_start", R24, [V234, ("slice", [2, -3, N, 2])])
case("slice_start_past_end", R24, [V234, ("slice", [2, 5, 10, 1])])
case("slice_end_before_start", R24, [V234, ("slice", [2, 3, 1, 1])])
case("slice_1d_step4", R24, [("slice", [0, 1, 23, 4])])
case("expand_3x1_to_3x4", C3, [("expand", [3, 4])])
case("expand_3x1_to_2x3x4", C3, [("expand", [2, 3, 4])])
case("expand_3x1_to_m1x4", C3, [("expand", [-1, 4])])
case("expand_0d_to_2x3", Z, [("expand", [2, 3])])
case("expand_as_2x3x5", C3, [("expand_as", [2, 3, 5])])
case("unsqueeze_0", R24, [V234, ("unsqueeze", [0])])
case("unsqueeze_1", R24, [V234, ("unsqueeze", [1])])
case("unsqueeze_3", R24, [V234, ("unsqueeze", [3])])
case("unsqueeze_m1", R24, [V234, ("unsqueeze", [-1])])
case("unsqueeze_0d", Z, [("unsqueeze", [0])])
case("squeeze_all", SQ, [("squeeze", [])])
case("squeeze_0", SQ, [("squeeze", [0])])
case("squeeze_1_not_1", SQ, [("squeeze", [1])])
case("squeeze_m2", SQ, [("squeeze", [-2])])
case("squeeze_0d", Z, [("squeeze", [])])
case("split_d2_size2_piece1", R24, [V234, ("split", [2, 2, 1])])
case("split_d1_size2_piece1", R24, [V234, ("split", [2, 1, 1])])
case("split_d0_size5_piece0", R24, [V234, ("split", [5, 0, 0])])
case("split_with_sizes_d2_piece1", R24, [V234, ("split_with_sizes", [2, 1, 1, 3])])
case("split_with_sizes_d1_piece2", R24, [V234, ("split_with_sizes", [1, 2, 1, 0, 2])])
case("chunk_2_d1_piece1", R24, [V234, ("chunk", [2, 1, 1])])
case("chunk_3_d2_piece1", R24, [V234, ("chunk", [3, 2, 1])])  # 4 elements: 2 chunks of 2
case("unbind_d1_piece2", R24, [V234, ("unbind", [1, 2])])
case("unbind_d2_piece0", R24, [V234, ("unbind", [2, 0])])
case("t_2d", R24, [("view", [4, 6]), ("t", [])])
case("t_1d", V5, [("t", [])])
case("t_0d", Z, [("t", [])])
case("mT_3d", R24, [V234, ("mT", [])])
case("as_strided_overlapping", R24, [("as_strided", [4, 3, 2, 1, 0])])
case("as_strided_offset", R24, [("as_strided", [3, 3, 1, 1, 5])])
case("as_strided_stride0", R24, [("as_strided", [3, 0, 7])])
case("as_strided_transposed", R24, [("as_strided", [4, 3, 1, 4, 2])])
case("as_strided_default_offset", R24,
     [V234, ("narrow", [0, 1, 1]), ("as_strided", [2, 2, 1, 1, N])])
case("as_strided_beyond_view", R24, [("narrow", [0, 0, 2]), ("as_strided", [2, 3, 8, 1, 4])])
case("as_strided_0d", Z, [("as_strided", [3, 0, N])])
case("contiguous_of_contiguous", R24, [V234, ("contiguous", [])])
case("contiguous_of_narrow_d0", R24, [V234, ("narrow", [0, 1, 1]), ("contiguous", [])])
case("contiguous_of_transpose", R24, [V234, ("transpose", [0, 2]), ("contiguous", [])])
case("contiguous_of_expand", C3, [("expand", [3, 4]), ("contiguous", [])])
case("detach_of_transpose", R24, [V234, ("transpose", [0, 1]), ("detach", [])])

# ---- view, reshape and flatten of non-contiguous tensors: a view where strides allow ----
case("view_transposed_split_dim", R24, [V234, ("transpose", [0, 2]), ("view", [2, 2, 3, 2])])
case("view_transposed_m1", R24, [V234, ("transpose", [0, 2]), ("view", [-1, 2, 3, 2])])
case("view_t_split", R24, [("view", [4, 6]), ("t", []), ("view", [2, 3, 4])])
case("view_select_merge", R24, [V234, ("select", [2, 0]), ("view", [6])])
case("view_narrow_merge_outer", R24, [V234, ("narrow", [2, 0, 2]), ("view", [6, 2])])
case("view_expanded_split", C3, [("expand", [3, 4]), ("view", [3, 2, 2])])
case("view_expanded_split_3d", C3, [("expand", [2, 3, 4]), ("view", [2, 3, 2, 2])])
case("view_add_unit_dims", R24, [V234, ("transpose", [0, 1]), ("view", [3, 1, 2, 4, 1])])
case("view_0d_to_1x1", Z, [("view", [1, 1])])
case("reshape_transposed_copy", R24, [V234, ("transpose", [0, 2]), ("reshape", [-1])])
case("reshape_transposed_view", R24, [V234, ("transpose", [0, 2]), ("reshape", [2, 2, 3, 2])])
case("reshape_transpose12_copy", R24, [V234, ("transpose", [1, 2]), ("reshape", [2, 12])])
case("reshape_narrow_d2_copy", R24, [V234, ("narrow", [2, 0, 2]), ("reshape", [12])])
case("reshape_narrow_d0_view", R24, [V234, ("narrow", [0, 1, 1]), ("reshape", [12])])
case("reshape_select_view", R24, [V234, ("select", [2, 0]), ("reshape", [6])])
case("reshape_expanded_copy", C3, [("expand", [3, 4]), ("reshape", [12])])
case("reshape_step_slice_view", R24, [("slice", [0, 0, N, 2]), ("reshape", [3, 4])])
case("reshape_step3_slice_copy", R24, [V234, ("slice", [2, 0, N, 3]), ("reshape", [2, 6])])
case("reshape_0d", Z, [("reshape", [])])
case("flatten_transposed_copy", R24, [V234, ("transpose", [0, 1]), ("flatten", [0, -1])])
case("flatten_narrow_0_1_view", R24, [V234, ("narrow", [2, 0, 2]), ("flatten", [0, 1])])
case("flatten_narrow_1_2_copy", R24, [V234, ("narrow", [2, 0, 2]), ("flatten", [1, 2])])
case("flatten_permuted_noop", R24, [V234, ("permute", [2, 0, 1]), ("flatten", [1, 1])])
case("flatten_permuted_view", R24, [V234, ("permute", [1, 2, 0]), ("flatten", [0, 1])])
case("flatten_0d", Z, [("flatten", [0, -1])])

# ---- diagonal and unflatten ----
case("diagonal_3x4", R12, [("view", [3, 4]), ("diagonal", [0, 0, 1])])
case("diagonal_o1_d1_d2", R24, [V234, ("diagonal", [1, 1, 2])])
case("diagonal_om1_d2_d0", R24, [V234, ("diagonal", [-1, 2, 0])])
case("diagonal_o2_dm1_dm2", R24, [V234, ("diagonal", [2, -1, -2])])
case("diagonal_empty", R12, [("view", [3, 4]), ("diagonal", [5, 0, 1])])
case("diagonal_of_transpose", R24, [V234, ("transpose", [0, 2]), ("diagonal", [0, 0, 1])])
case("diagonal_of_narrow", R24, [V234, ("narrow", [2, 1, 3]), ("diagonal", [-1, 1, 2])])
case("diagonal_of_expand", C3, [("expand", [3, 3]), ("diagonal", [0, 0, 1])])
case("unflatten_d1", R24, [("view", [4, 6]), ("unflatten", [1, 2, 3])])
case("unflatten_m1", R24, [V234, ("unflatten", [-1, 2, -1])])
case("unflatten_of_transpose", R24, [V234, ("transpose", [0, 2]), ("unflatten", [0, 2, 2])])
case("unflatten_of_narrow", R24, [V234, ("narrow", [2, 0, 2]), ("unflatten", [2, 2, 1])])
case("unflatten_d0_keep", V5, [("unflatten", [0, 5])])

# ---- longer chains ----
case("chain_permute_narrow_select_expand", R24,
     [V234, ("permute", [2, 0, 1]), ("narrow", [0, 1, 2]), ("select", [2, 1]),
      ("unsqueeze", [0]), ("expand", [3, 2, 2])])
case("chain_transpose_slice_t", R24,
     [("view", [4, 6]), ("transpose", [0, 1]), ("slice", [0, 1, N, 2]), ("t", [])])
case("chain_split_of_transpose", R24, [V234, ("transpose", [0, 2]), ("split", [3, 0, 1]),
                                       ("select", [1, 0])])
case("chain_chunk_unbind", R24, [V234, ("mT", []), ("chunk", [2, 1, 1]), ("unbind", [0, 1])])
case("chain_unsqueeze_squeeze", R24, [V234, ("transpose", [0, 2]), ("unsqueeze", [2]),
                                      ("squeeze", [-3])])
case("chain_view_after_copy", R24, [V234, ("transpose", [0, 2]), ("reshape", [24]),
                                    ("view", [6, 4]), ("narrow", [0, 2, 3])])
case("chain_as_strided_of_transpose", R24, [V234, ("transpose", [0, 2]),
                                            ("as_strided", [2, 2, 6, 2, 3])])
case("chain_expand_select_slice", C3, [("expand", [3, 5]), ("select", [1, 2]),
                                       ("slice", [0, 1, N, 1])])
case("chain_narrow_narrow", R12, [("view", [3, 4]), ("narrow", [1, 1, 3]), ("narrow", [0, 1, 2]),
                                  ("narrow", [1, 1, 1])])
case("chain_flatten_of_expand", C3, [("unsqueeze", [0]), ("expand", [2, 3, 4]),
                                     ("flatten", [1, 2])])

# ---- the same chains in each dtype (other values) ----
for dt in (F64, F32, I64):
    spec = S24 if dt != I64 else R24
    sfx = SHORT[dt]
    case(f"dtype_transpose_narrow_{sfx}", spec,
         [V234, ("transpose", [0, 2]), ("narrow", [0, 1, 2])], dt)
    case(f"dtype_slice_select_{sfx}", spec, [V234, ("slice", [2, 1, N, 2]), ("select", [1, 2])],
         dt)
    case(f"dtype_reshape_copy_{sfx}", spec, [V234, ("permute", [1, 2, 0]), ("reshape", [4, 6])],
         dt)
    case(f"dtype_as_strided_{sfx}", spec, [("as_strided", [3, 2, 5, 3, 1])], dt)

# ---- errors ----
case("error_view_transposed", R24, [V234, ("transpose", [0, 2]), ("view", [24])])
case("error_view_t", R12, [("view", [3, 4]), ("t", []), ("view", [12])])
case("error_view_narrow", R24, [V234, ("narrow", [2, 0, 2]), ("view", [12])])
case("error_view_expanded", C3, [("expand", [3, 4]), ("view", [12])])
case("error_view_expanded_merge", C3, [("expand", [2, 3, 4]), ("view", [6, 4])])
case("error_view_permuted_merge", R24, [V234, ("permute", [1, 2, 0]), ("view", [3, 8])])
case("error_as_strided_sizes", R24, [("as_strided", [5, 5, 5, 1, 0])])
case("error_as_strided_offset", R24, [("as_strided", [2, 1, 23])])
case("error_as_strided_from_view", R24, [("narrow", [0, 12, 12]), ("as_strided", [3, 5, 5, 1, N])])

VIEW_ERROR = ["view size is not compatible with input tensor's size and stride",
              "Use .reshape(...) instead"]


def apply_step(x, op, a):
    if op == "view":
        return x.view(a)
    if op == "reshape":
        return x.reshape(a)
    if op == "flatten":
        return torch.flatten(x, a[0], a[1])
    if op == "transpose":
        return x.transpose(a[0], a[1])
    if op == "t":
        return x.t()
    if op == "mT":
        return x.mT
    if op == "permute":
        return x.permute(a)
    if op == "narrow":
        return x.narrow(a[0], a[1], a[2])
    if op == "select":
        return x.select(a[0], a[1])
    if op == "slice":
        return torch.ops.aten.slice(x, a[0], a[1], a[2], a[3])
    if op == "expand":
        return x.expand(a)
    if op == "expand_as":
        return x.expand_as(torch.zeros(a))
    if op == "squeeze":
        return x.squeeze(*a)
    if op == "unsqueeze":
        return x.unsqueeze(a[0])
    if op == "split":
        return x.split(a[0], a[1])[a[2]]
    if op == "split_with_sizes":
        return x.split_with_sizes(a[2:], a[0])[a[1]]
    if op == "chunk":
        return x.chunk(a[0], a[1])[a[2]]
    if op == "unbind":
        return x.unbind(a[0])[a[1]]
    if op == "as_strided":
        n = (len(a) - 1) // 2
        assert len(a) == 2 * n + 1
        return x.as_strided(a[:n], a[n:2 * n], a[2 * n])
    if op == "diagonal":
        return torch.diagonal(x, a[0], a[1], a[2])
    if op == "unflatten":
        return torch.unflatten(x, a[0], tuple(a[1:]))
    if op == "contiguous":
        return x.contiguous()
    if op == "detach":
        return x.detach()
    raise ValueError(op)


def make(spec, dtype):
    shape, values = spec
    return torch.tensor(values, dtype=dtype).reshape(shape).clone()


def replay(spec, dtype, steps):
    x = make(spec, dtype)
    assert x.is_contiguous() and x.storage_offset() == 0 and len(x.storage()) == x.numel()
    y = x
    for op, a in steps:
        y = apply_step(y, op, a)
    return x, y


def same_storage(a, b):
    return a.storage().data_ptr() == b.storage().data_ptr()


# ---- output ----
def fmt(v):
    v = float(v)
    assert math.isfinite(v)
    if v == int(v) and abs(v) < 2**53:
        return ("-" if math.copysign(1, v) < 0 and v == 0 else "") + f"{int(v)}.0"
    return repr(v)


def ints(values):
    return "{" + ", ".join("kNone" if v is None else str(v) for v in values) + "}"


def floats(values):
    return "{" + ", ".join(fmt(v) for v in values) + "}"


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "view_reference.inc")
    lines = [
        "// Generated by tests/reference/make_view_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// One RawViewCase per line: {name, {{input shape}, dtype, {input values}},",
        "// {{op, {int args}}, ...}, {error message parts (only when the last step throws)},",
        "// {sizes}, {strides}, storage_offset, is_contiguous, aliases_input, {values in",
        "// row-major order}, {input values after result.add_(100), or {} when PyTorch refuses}}.",
    ]
    names = set()
    ops_seen = set()
    for name, (spec, dtype), steps in CASES:
        assert name.replace("_", "").isalnum(), name
        assert name not in names, name
        names.add(name)
        ops_seen.update(op for op, _ in steps)
        shape, values = spec
        step_list = ", ".join(f'{{"{op}", {ints(a)}}}' for op, a in steps)
        head = (f'{{"{name}", {{{ints(shape)}, {DTYPE_NAME[dtype]}, {floats(values)}}}, '
                f'{{{step_list}}}, ')
        try:
            with torch.no_grad():
                x, y = replay(spec, dtype, steps)
        except RuntimeError as e:
            msg = str(e)
            last = steps[-1][0]
            if last == "view":
                parts = VIEW_ERROR
                assert all(p in msg for p in parts), (name, msg)
            elif last == "as_strided":
                assert "setStorage" in msg and "out of bounds" in msg, (name, msg)
                parts = ["as_strided"]  # xgrad's messages start with the op's name
            else:
                raise
            assert name.startswith("error_"), (name, msg)
            # the steps before the last one must work
            with torch.no_grad():
                replay(spec, dtype, steps[:-1])
            lines.append(head + "{" + ", ".join(f'"{p}"' for p in parts) +
                         "}, {}, {}, 0, false, false, {}, {}},")
            continue
        assert not name.startswith("error_"), name
        # the input after writing 100 into every element of the result (PyTorch refuses to
        # write into a result whose elements overlap)
        x2, y2 = replay(spec, dtype, steps)
        try:
            with torch.no_grad():
                y2.add_(100)
            after = floats(x2.reshape(-1).tolist())
        except RuntimeError as e:
            assert "more than one element of the written-to tensor" in str(e), (name, e)
            after = "{}"
        lines.append(
            head + f"{{}}, {ints(y.shape)}, {ints(y.stride())}, {y.storage_offset()}, "
            f"{str(y.is_contiguous()).lower()}, {str(same_storage(x, y)).lower()}, "
            f"{floats(y.reshape(-1).tolist())}, {after}}},")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases ({len(ops_seen)} ops) to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
