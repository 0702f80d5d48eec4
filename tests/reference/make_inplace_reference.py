#!/usr/bin/env python3
"""Writes tests/reference/inplace_reference.inc: PyTorch's values and gradients for small programs
that change non-leaf tensors in place, directly and through views (PyTorch's CopySlices).

Each program below has a C++ twin of the same name in tests/test_inplace.cpp (`program`), written
op for op. For every program the script draws its Float64 inputs (seeded; divisors are moved away
from 0), runs it, and prints the inputs, the output's shape and values, fixed weights v of the
output's shape and the gradients of sum(output * v) with respect to every input (zeros for an
input the output does not depend on). Programs named second_order_* compute first-order
gradients with create_graph=True inside, so their gradients are second derivatives. Values are
printed with repr (float64 round-trips exactly). The test suite never needs PyTorch; only
regenerating the table does.

    /usr/bin/python3 tests/reference/make_inplace_reference.py   # Debian: python3-torch
"""

import math
import os
import sys

import torch

F64 = torch.float64


def chain_on_result(x, w):
    y = x * 2
    y.add_(w)
    y.mul_(w)
    y.sub_(x, alpha=0.5)
    y.div_(w)
    return y.sin()


def mul_broadcast_row(x, w):
    y = x.sin()
    y.mul_(w)
    y.add_(w, alpha=-1.5)
    return y


def select_mul(x, w):
    y = x * 2
    y.select(1, 0).mul_(w)
    return y.sin()


def narrow_add(x, w):
    y = x * 2
    y.narrow(0, 1, 2).add_(w)
    return y * y


def t_slice_div(x, w):
    y = x * 2
    y.t()[0:3:2].div_(w)
    return y.sin()


def view_of_view_mul(x, w):
    y = x + 1
    y.narrow(0, 1, 3).select(1, 2).mul_(w)
    return y.cos()


def two_views_then_older_view(x, w1, w2):
    y = x * 2
    old = y.t()
    y.select(0, 0).mul_(w1)
    y.narrow(1, 1, 2).add_(w2)
    return old.sin()


def buffer_copy(x, w):
    buf = torch.zeros(3, 4, dtype=F64)
    buf.select(0, 1).copy_(w)
    buf.narrow(1, 2, 2).mul_(x.narrow(1, 0, 2))
    return buf * x


def through_the_view(x, w):
    y = x * 2
    v = y.select(0, 1)
    v.mul_(w)
    v.add_(1)
    return v.sin()


def sibling_views(x):
    y = x * 2
    a = y.select(1, 0)
    b = y.select(1, 1)
    a.add_(b)
    b.sub_(a, alpha=0.5)  # add and sub save nothing: mul_ by a would save a, which b's write
    return y.sin()        # changes (one storage, one version counter)


def as_strided_mul(x, w):
    y = x * 2
    y.as_strided((3, 2), (1, 3)).mul_(w)
    return y.sin()


def fill_then_use(x):
    y = x * 2
    y.narrow(0, 0, 1).fill_(3)
    y.mul_(x)
    return y


def copy_into_transposed_row(x, w):
    y = x * 2
    y.t().select(1, 1).copy_(w)
    return y.exp()


def mul_self_view(x):
    y = x + 0.5
    v = y.narrow(1, 1, 2)
    # xgrad's v.mul_(v) reads the old value for both operands; PyTorch 1.13 saves v as the
    # other operand and then refuses it at backward (modified in place), so the same math is
    # written here with a copy
    v.mul_(v.clone())
    return y


def unsqueeze_and_flat_views(x, w):
    y = x * 2
    y.unsqueeze(0).add_(w)
    y.view(6).mul_(x.view(6))
    return y.sin()


def second_order_select_mul(x, w):
    y = x * x
    y.select(1, 0).mul_(w)
    loss = (y.sin() * y).sum()
    gx, gw = torch.autograd.grad(loss, [x, w], create_graph=True)
    return gx.sin().sum() + (gw * gw).sum()


def second_order_chain(x, w):
    y = x * 2
    y.mul_(w)
    y.add_(x.exp())
    y.narrow(0, 0, 2).div_(w.narrow(0, 0, 2))
    loss = (y ** 3).sum()
    gx, gw = torch.autograd.grad(loss, [x, w], create_graph=True)
    return gx * gw


# name: (function, [(shape, positive)] per input)
CASES = [
    ("chain_on_result", chain_on_result, [([2, 3], False), ([2, 3], True)]),
    ("mul_broadcast_row", mul_broadcast_row, [([2, 3], False), ([3], False)]),
    ("select_mul", select_mul, [([2, 3], False), ([2], False)]),
    ("narrow_add", narrow_add, [([4, 3], False), ([2, 3], False)]),
    ("t_slice_div", t_slice_div, [([3, 4], False), ([2, 3], True)]),
    ("view_of_view_mul", view_of_view_mul, [([4, 3], False), ([3], False)]),
    ("two_views_then_older_view", two_views_then_older_view,
     [([3, 4], False), ([4], False), ([3, 2], False)]),
    ("buffer_copy", buffer_copy, [([3, 4], False), ([4], False)]),
    ("through_the_view", through_the_view, [([2, 3], False), ([3], False)]),
    ("sibling_views", sibling_views, [([3, 2], False)]),
    ("as_strided_mul", as_strided_mul, [([2, 3], False), ([3, 2], False)]),
    ("fill_then_use", fill_then_use, [([2, 3], False)]),
    ("copy_into_transposed_row", copy_into_transposed_row, [([2, 3], False), ([3], False)]),
    ("mul_self_view", mul_self_view, [([2, 3], False)]),
    ("unsqueeze_and_flat_views", unsqueeze_and_flat_views, [([2, 3], False), ([1, 2, 3], False)]),
    ("second_order_select_mul", second_order_select_mul, [([2, 3], False), ([2], False)]),
    ("second_order_chain", second_order_chain, [([3], False), ([3], True)]),
]


def fmt(v):
    v = float(v)
    assert math.isfinite(v)
    return repr(v)


def floats(values):
    return "{" + ", ".join(fmt(v) for v in values) + "}"


def ints(values):
    return "{" + ", ".join(str(v) for v in values) + "}"


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "inplace_reference.inc")
    lines = [
        "// Generated by tests/reference/make_inplace_reference.py with PyTorch "
        f"{torch.__version__}; do not edit.",
        "// One RawInplaceCase per line: {name, {{input shape, {values}}, ...}, {output shape},",
        "// {output values}, {weights v}, {{d sum(output * v) / d input}, ...}}.",
    ]
    for k, (name, fn, specs) in enumerate(CASES):
        torch.manual_seed(100 + k)
        inputs = []
        for shape, positive in specs:
            t = torch.randn(shape, dtype=F64)
            if positive:
                t = t.abs() + 0.5
            inputs.append(t.requires_grad_())
        out = fn(*inputs)
        v = torch.randn(out.shape, dtype=F64)
        grads = torch.autograd.grad((out * v).sum(), inputs, allow_unused=True)
        grads = [torch.zeros_like(i) if g is None else g for g, i in zip(grads, inputs)]
        ins = ", ".join(
            f"{{{ints(i.shape)}, {floats(i.detach().reshape(-1).tolist())}}}" for i in inputs)
        gs = ", ".join(floats(g.reshape(-1).tolist()) for g in grads)
        lines.append(
            f'{{"{name}", {{{ins}}}, {ints(out.shape)}, '
            f"{floats(out.detach().reshape(-1).tolist())}, {floats(v.reshape(-1).tolist())}, "
            f"{{{gs}}}}},")
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {len(CASES)} cases to {out_path}", file=sys.stderr)


if __name__ == "__main__":
    main()
