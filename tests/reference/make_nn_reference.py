#!/usr/bin/env python3
"""Writes tests/reference/nn_reference.inc: PyTorch's values for xgrad's nn layer.

Losses. For each case in LOSS_CASES, torch.nn.functional's mse_loss, l1_loss, nll_loss,
cross_entropy or binary_cross_entropy_with_logits runs on fixed literal inputs (rounded to
float32 so that the Float32 and Float64 cases start from exactly the same numbers), once in
float32 and once in float64, with each reduction. The script records the loss and the gradient
of sum(loss * grad_output) with respect to the input (and, for binary_cross_entropy_with_logits,
the target), grad_output being a fixed non-trivial tensor of the loss's shape.

LayerNorm and Linear. torch.nn.LayerNorm / torch.nn.Linear with fixed weights (not the default
ones, so that the affine part matters) on fixed inputs: the output and the gradients of
sum(out * grad_output) with respect to the input and every parameter.

scaled_dot_product_attention. PyTorch 1.13 has no public F.scaled_dot_product_attention, so
the script evaluates the formula PyTorch 2.x documents for it, softmax(q k^T scale + mask) v,
with torch ops as the docs' reference code does: an additive bias, -inf where a Bool mask is
false (true takes part), or the float mask, is_causal as the top-left lower triangle of an L x S ones matrix, scale 1/sqrt(E) unless
given; the leading dims broadcast through matmul. It records the output and the gradients of
sum(out * grad_output) with respect to q, k and v.

Activations. torch.relu, tanh, sigmoid and gelu (exact erf form, and approximate='tanh') on a
fixed vector; for the tanh gelu also its derivative (the gradient of the sum), as "gelu_tanh_grad".

Every number is written as repr() of a Python float (float64), which round-trips exactly;
float32 results are converted to float64 exactly first. The test suite never needs PyTorch;
only regenerating the table does:

    /usr/bin/python3 tests/reference/make_nn_reference.py   # Debian: apt-get install python3-torch

The script also checks what PyTorch divides by for cross_entropy with reduction='mean',
label_smoothing and ignore_index together (torch 1.13: the number of targets that are not
ignore_index, for both the nll term and the smoothing term), and fails if that changes.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_reference.inc")
DTYPES = [(torch.float32, "xg::kFloat32"), (torch.float64, "xg::kFloat64")]


def f32(x):
    return float(torch.tensor(x, dtype=torch.float32).item())


def f32list(values):
    return [f32(v) for v in values]


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def pattern(n, a=1.3, b=0.4, scale=2.0, offset=0.0):
    """n fixed, irregular, float32-representable values."""
    return f32list([offset + scale * math.sin(a * (i + 1) + b) for i in range(n)])


# ---- loss cases: (name, loss, input shape, input values, target shape, target values,
#                   ignore_index, label_smoothing, reductions) ----
LOSS_CASES = []


def add(name, loss, ishape, ivals, tshape, tvals, ignore_index=-100, smoothing=0.0,
        reductions=("mean", "sum", "none")):
    assert len(ivals) == numel(ishape) and len(tvals) == numel(tshape)
    LOSS_CASES.append((name, loss, ishape, ivals, tshape, tvals, ignore_index, smoothing,
                       list(reductions)))


# elementwise losses: [2, 3], and a 3-D shape for l1
add("mse_2x3", "mse_loss", [2, 3], pattern(6), [2, 3], pattern(6, 0.7, 1.1, 1.5, 0.2))
add("l1_2x3", "l1_loss", [2, 3], pattern(6), [2, 3], pattern(6, 0.7, 1.1, 1.5, 0.2))
add("l1_2x2x2", "l1_loss", [2, 2, 2], pattern(8, 2.1, 0.3, 3.0), [2, 2, 2],
    pattern(8, 0.9, 0.5, 1.0, -0.3))
# input equal to target in two places: PyTorch's l1 gradient there is 0 (sign(0))
add("l1_ties", "l1_loss", [4], [0.5, -1.25, 2.0, 0.0], [4], [0.5, 1.0, 2.0, -0.75])

# class losses. nll_loss takes any scores as log-probabilities.
X23 = pattern(12, 1.7, 0.2, 2.5)          # [4, 3]
T4 = [2, 0, 1, 2]
X5 = f32list([0.3, -1.2, 2.2, 0.9, -0.4])  # [5]
X233 = pattern(18, 0.8, 0.9, 3.0)         # [2, 3, 3]
T23 = [1, 0, 2, 2, 1, 0]
X2322 = pattern(24, 1.1, 0.1, 2.0)        # [2, 3, 2, 2]
T222 = [0, 2, 1, 1, 2, 0, 0, 1]
for loss in ["nll_loss", "cross_entropy"]:
    p = "nll" if loss == "nll_loss" else "ce"
    add(f"{p}_NxC", loss, [4, 3], X23, [4], T4)
    add(f"{p}_C", loss, [5], X5, [], [3])
    add(f"{p}_NxCxd", loss, [2, 3, 3], X233, [2, 3], T23)
    if loss == "cross_entropy":
        add(f"{p}_NxCxd1xd2", loss, [2, 3, 2, 2], X2322, [2, 2, 2], T222)
    add(f"{p}_ignore_default", loss, [4, 3], X23, [4], [2, -100, 1, -100])
    add(f"{p}_ignore_1", loss, [4, 3], X23, [4], [2, 1, 0, 1], ignore_index=1)
    add(f"{p}_ignore_NxCxd", loss, [2, 3, 3], X233, [2, 3], [1, 5, 2, 5, 1, 0], ignore_index=5)
    # every target ignored: mean is 0/0 (NaN) in PyTorch, so only sum and none
    add(f"{p}_C_ignored", loss, [5], X5, [], [-100], reductions=("sum", "none"))
add("ce_smooth", "cross_entropy", [4, 3], X23, [4], T4, smoothing=0.1)
add("ce_smooth_C", "cross_entropy", [5], X5, [], [3], smoothing=0.1)
add("ce_smooth_NxCxd", "cross_entropy", [2, 3, 3], X233, [2, 3], T23, smoothing=0.1)
add("ce_smooth_ignore", "cross_entropy", [4, 3], X23, [4], [2, -100, 1, 0], smoothing=0.1)
add("ce_smooth_ignore_1", "cross_entropy", [4, 3], X23, [4], [2, 1, 0, 1], ignore_index=1,
    smoothing=0.1)
add("ce_smooth_ignore_NxCxd", "cross_entropy", [2, 3, 3], X233, [2, 3], [1, 5, 2, 5, 1, 0],
    ignore_index=5, smoothing=0.1)
add("ce_smooth_0.35", "cross_entropy", [4, 3], X23, [4], T4, smoothing=0.35)
add("ce_smooth_1", "cross_entropy", [4, 3], X23, [4], T4, smoothing=1.0)
add("ce_large_logits", "cross_entropy", [3, 4],
    f32list([80.0, -50.0, 3.0, 79.5, -60.0, 0.0, 61.0, 60.0, 1e3, 999.0, -1e3, 0.5]), [3], [3, 2, 1])

# binary cross entropy with logits: targets in [0, 1], not only 0 and 1
add("bce_2x3", "bce_with_logits", [2, 3], pattern(6, 1.9, 0.6, 4.0),
    [2, 3], f32list([0.0, 1.0, 0.25, 1.0, 0.0, 0.7]))
add("bce_2x2x2", "bce_with_logits", [2, 2, 2], pattern(8, 0.6, 0.2, 6.0),
    [2, 2, 2], f32list([1.0, 0.0, 0.5, 0.9, 0.1, 1.0, 0.0, 0.3]))
add("bce_large", "bce_with_logits", [4], f32list([30.0, -30.0, 95.0, -90.0]),
    [4], f32list([0.0, 1.0, 0.75, 0.2]))


def grad_output_for(shape):
    if len(shape) == 0:
        return [0.75]
    return pattern(numel(shape), 0.37, 0.9, 1.0, 0.5)


def run_loss(case, reduction, dtype):
    name, loss, ishape, ivals, tshape, tvals, ignore_index, smoothing, _ = case
    x = torch.tensor(ivals, dtype=dtype).reshape(ishape).requires_grad_(True)
    if loss in ("nll_loss", "cross_entropy"):
        t = torch.tensor(tvals, dtype=torch.int64).reshape(tshape)
    else:
        t = torch.tensor(tvals, dtype=dtype).reshape(tshape)
        t.requires_grad_(loss == "bce_with_logits")
    if loss == "mse_loss":
        out = F.mse_loss(x, t, reduction=reduction)
    elif loss == "l1_loss":
        out = F.l1_loss(x, t, reduction=reduction)
    elif loss == "nll_loss":
        out = F.nll_loss(x, t, reduction=reduction, ignore_index=ignore_index)
    elif loss == "cross_entropy":
        out = F.cross_entropy(x, t, reduction=reduction, ignore_index=ignore_index,
                              label_smoothing=smoothing)
    else:
        out = F.binary_cross_entropy_with_logits(x, t, reduction=reduction)
    go = torch.tensor(grad_output_for(list(out.shape)),
                      dtype=dtype).reshape(out.shape)
    (out * go).sum().backward()
    gt = t.grad.reshape(-1).tolist() if loss == "bce_with_logits" else []
    return (list(out.shape), out.detach().reshape(-1).tolist(), go.reshape(-1).tolist(),
            x.grad.reshape(-1).tolist(), gt)


def check_smoothing_divisor():
    """torch 1.13: mean with label_smoothing and ignore_index divides both terms by the number
    of targets that are not ignored."""
    x = torch.tensor(X23, dtype=torch.float64).reshape(4, 3)
    t = torch.tensor([2, -100, 1, 0])
    s = 0.1
    got = F.cross_entropy(x, t, label_smoothing=s).item()
    lp = F.log_softmax(x, 1)
    keep = t != -100
    nll = -lp[keep].gather(1, t[keep][:, None]).squeeze(1)
    smooth = -lp[keep].sum(1)
    per_valid = ((1 - s) * nll + s / 3 * smooth).sum().item() / keep.sum().item()
    mixed = (1 - s) * nll.sum().item() / 3 + s / 3 * smooth.sum().item() / 4
    assert abs(got - per_valid) < 1e-12, (got, per_valid)
    assert abs(got - mixed) > 1e-3
    return got


# ---- LayerNorm: (name, normalized_shape, eps, input shape) ----
LN_CASES = [
    ("ln_last", [4], 1e-5, [2, 3, 4]),
    ("ln_last2", [3, 4], 1e-5, [2, 3, 4]),
    ("ln_eps", [5], 0.1, [3, 5]),
    ("ln_1d", [6], 1e-5, [6]),
]


def run_layernorm(case, dtype):
    name, nshape, eps, ishape = case
    ln = torch.nn.LayerNorm(nshape, eps=eps).to(dtype)
    w = pattern(numel(nshape), 0.5, 0.3, 0.8, 1.0)
    b = pattern(numel(nshape), 1.4, 0.7, 0.5)
    with torch.no_grad():
        ln.weight.copy_(torch.tensor(w, dtype=dtype).reshape(nshape))
        ln.bias.copy_(torch.tensor(b, dtype=dtype).reshape(nshape))
    # a large common offset in one row: the variance must be computed around the mean
    xv = pattern(numel(ishape), 2.3, 0.1, 3.0)
    xv = [v + (100.0 if i < nshape[-1] else 0.0) for i, v in enumerate(xv)]
    x = torch.tensor(xv, dtype=dtype).reshape(ishape).requires_grad_(True)
    out = ln(x)
    go = torch.tensor(pattern(numel(ishape), 0.77, 0.2, 1.0, 0.1), dtype=dtype).reshape(ishape)
    (out * go).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return dict(weight=w, bias=b, input=xv, grad_output=flat(go), output=flat(out),
                grad_input=flat(x.grad), grad_weight=flat(ln.weight.grad),
                grad_bias=flat(ln.bias.grad))


# ---- F.layer_norm with optional affine: (name, normalized_shape, eps, input shape, weight?,
#      bias?) ----
LN_FUNCTIONAL_CASES = [
    ("lnf_weight_only", [4], 1e-5, [2, 3, 4], True, False),
    ("lnf_weight_only_2d", [3, 4], 1e-5, [2, 3, 4], True, False),
    ("lnf_bias_only", [5], 0.1, [3, 5], False, True),
    ("lnf_none", [4], 1e-5, [3, 4], False, False),
    ("lnf_both", [6], 1e-5, [6], True, True),
]


def run_layer_norm_functional(case, dtype):
    name, nshape, eps, ishape, has_w, has_b = case
    w = pattern(numel(nshape), 0.5, 0.3, 0.8, 1.0) if has_w else []
    b = pattern(numel(nshape), 1.4, 0.7, 0.5) if has_b else []
    wt = torch.tensor(w, dtype=dtype).reshape(nshape).requires_grad_(True) if has_w else None
    bt = torch.tensor(b, dtype=dtype).reshape(nshape).requires_grad_(True) if has_b else None
    xv = pattern(numel(ishape), 2.3, 0.1, 3.0)
    xv = [v + (100.0 if i < nshape[-1] else 0.0) for i, v in enumerate(xv)]
    x = torch.tensor(xv, dtype=dtype).reshape(ishape).requires_grad_(True)
    out = F.layer_norm(x, nshape, wt, bt, eps)
    go = torch.tensor(pattern(numel(ishape), 0.77, 0.2, 1.0, 0.1), dtype=dtype).reshape(ishape)
    (out * go).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return dict(weight=w, bias=b, input=xv, grad_output=flat(go), output=flat(out),
                grad_input=flat(x.grad), grad_weight=flat(wt.grad) if has_w else [],
                grad_bias=flat(bt.grad) if has_b else [])


# ---- Linear: (name, in, out, bias, input shape) ----
LINEAR_CASES = [
    ("linear_2d", 4, 3, True, [2, 4]),
    ("linear_1d", 4, 3, True, [4]),
    ("linear_3d", 4, 3, True, [2, 3, 4]),
    ("linear_nobias", 5, 2, False, [3, 5]),
]


def run_linear(case, dtype):
    name, fin, fout, bias, ishape = case
    lin = torch.nn.Linear(fin, fout, bias=bias).to(dtype)
    w = pattern(fin * fout, 0.9, 0.4, 0.6)
    b = pattern(fout, 1.7, 0.2, 0.4) if bias else []
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(w, dtype=dtype).reshape(fout, fin))
        if bias:
            lin.bias.copy_(torch.tensor(b, dtype=dtype))
    xv = pattern(numel(ishape), 1.3, 0.8, 2.0)
    x = torch.tensor(xv, dtype=dtype).reshape(ishape).requires_grad_(True)
    out = lin(x)
    go = torch.tensor(pattern(out.numel(), 0.61, 0.3, 1.0), dtype=dtype).reshape(out.shape)
    (out * go).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return dict(weight=w, bias=b, input=xv, output_shape=list(out.shape), output=flat(out),
                grad_output=flat(go), grad_input=flat(x.grad), grad_weight=flat(lin.weight.grad),
                grad_bias=flat(lin.bias.grad) if bias else [])


# ---- scaled_dot_product_attention: (name, q shape, k shape, v shape, mask kind, mask shape,
#      scale); mask kind is none, bool, float or causal ----
SDPA_CASES = [
    ("sdpa_3d", [2, 3, 4], [2, 5, 4], [2, 5, 6], "none", [], None),
    ("sdpa_2d_scale", [3, 4], [5, 4], [5, 3], "none", [], 0.3),
    ("sdpa_4d_bool", [2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 3], "bool", [3, 5], None),
    ("sdpa_bool_full", [2, 3, 2], [2, 4, 2], [2, 4, 3], "bool", [2, 3, 4], None),
    ("sdpa_float_mask", [2, 3, 4], [2, 4, 4], [2, 4, 2], "float", [2, 1, 4], None),
    ("sdpa_float_4d", [1, 2, 3, 2], [1, 2, 3, 2], [1, 2, 3, 2], "float", [2, 1, 3], 0.7),
    ("sdpa_causal_square", [2, 4, 3], [2, 4, 3], [2, 4, 5], "causal", [], None),
    ("sdpa_causal_l_lt_s", [1, 3, 4], [1, 5, 4], [1, 5, 2], "causal", [], None),
    ("sdpa_causal_l_gt_s", [2, 1, 5, 2], [2, 1, 3, 2], [2, 1, 3, 2], "causal", [], None),
    ("sdpa_broadcast", [2, 3, 2, 4], [3, 5, 4], [1, 5, 2], "none", [], None),
]


def sdpa_mask_values(kind, shape):
    n = numel(shape)
    if kind == "bool":  # every row keeps its first key, so no row is fully masked
        raw = pattern(n, 2.1, 0.5)
        last = shape[-1]
        return [1.0 if (i % last == 0 or v > -0.6) else 0.0 for i, v in enumerate(raw)]
    if kind == "float":
        return pattern(n, 0.8, 0.9, 1.5)
    return []


def run_sdpa(case, dtype):
    name, qs, ks, vs, kind, mshape, scale = case
    qv, kv, vv = pattern(numel(qs), 1.1, 0.2, 1.0), pattern(numel(ks), 0.7, 0.5, 1.2), \
        pattern(numel(vs), 1.9, 0.1, 1.5)
    q = torch.tensor(qv, dtype=dtype).reshape(qs).requires_grad_(True)
    k = torch.tensor(kv, dtype=dtype).reshape(ks).requires_grad_(True)
    v = torch.tensor(vv, dtype=dtype).reshape(vs).requires_grad_(True)
    mv = sdpa_mask_values(kind, mshape)
    sc = scale if scale is not None else 1.0 / math.sqrt(qs[-1])
    # the documented reference: an additive bias, -inf where a Bool mask is false
    bias = torch.zeros(qs[-2], ks[-2], dtype=dtype)
    if kind == "causal":
        bias = bias.masked_fill(~torch.ones(qs[-2], ks[-2], dtype=torch.bool).tril(), float("-inf"))
    elif kind == "bool":
        bias = bias.masked_fill(~torch.tensor(mv).reshape(mshape).bool(), float("-inf"))
    elif kind == "float":
        bias = bias + torch.tensor(mv, dtype=dtype).reshape(mshape)
    s = torch.matmul(q, k.transpose(-2, -1)) * sc + bias
    out = torch.matmul(torch.softmax(s, dim=-1), v)
    go = torch.tensor(pattern(out.numel(), 0.93, 0.6, 1.0, 0.2), dtype=dtype).reshape(out.shape)
    (out * go).sum().backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    return dict(q=qv, k=kv, v=vv, mask=mv, output_shape=list(out.shape), output=flat(out),
                grad_output=flat(go), grad_q=flat(q.grad), grad_k=flat(k.grad),
                grad_v=flat(v.grad))


ACT_INPUT = f32list([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.5, 3.0, 8.0])


def run_activations(dtype):
    x = torch.tensor(ACT_INPUT, dtype=dtype)
    return {
        "relu": torch.relu(x).tolist(),
        "tanh": torch.tanh(x).tolist(),
        "sigmoid": torch.sigmoid(x).tolist(),
        "gelu": F.gelu(x).tolist(),
        "gelu_tanh": F.gelu(x, approximate="tanh").tolist(),
        "gelu_tanh_grad": gelu_tanh_grad(dtype),
    }


def gelu_tanh_grad(dtype):
    x = torch.tensor(ACT_INPUT, dtype=dtype).requires_grad_(True)
    F.gelu(x, approximate="tanh").sum().backward()
    return x.grad.tolist()


def fmt(v):
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        raise ValueError("non-finite reference value")
    r = repr(v)
    return r if ("." in r or "e" in r) else r + ".0"


def fl(values):
    return "{" + ", ".join(fmt(v) for v in values) + "}"


def il(values):
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def main():
    divisor_value = check_smoothing_divisor()
    lines = [
        "// Generated by tests/reference/make_nn_reference.py with PyTorch " + torch.__version__ + ";",
        "// do not edit. PyTorch's losses, LayerNorm, layer_norm, Linear, attention and activations",
        "// for tests/test_nn_layers.cpp, tests/test_nn_losses.cpp and tests/test_attention.cpp.",
        "//",
        "// cross_entropy with reduction='mean', label_smoothing and ignore_index: PyTorch "
        + torch.__version__,
        "// divides both the nll term and the smoothing term by the number of targets that are not",
        "// ignore_index (checked by the script; ce_smooth_ignore Float64 mean = "
        + fmt(divisor_value) + ").",
        "",
        "namespace nn_ref {",
        "",
        "// One loss evaluation: inputs (float32-representable, shared by both dtypes), the loss and",
        "// the gradients of sum(loss * grad_output). Class targets are stored as doubles.",
        "struct LossCase {",
        "  const char* name;",
        "  const char* loss;  // mse_loss, l1_loss, nll_loss, cross_entropy, bce_with_logits",
        "  xg::Dtype dtype;",
        "  xg::nn::Reduction reduction;",
        "  std::vector<std::int64_t> input_shape;",
        "  std::vector<double> input;",
        "  std::vector<std::int64_t> target_shape;",
        "  std::vector<double> target;",
        "  std::int64_t ignore_index;",
        "  double label_smoothing;",
        "  std::vector<std::int64_t> output_shape;",
        "  std::vector<double> output;",
        "  std::vector<double> grad_output;",
        "  std::vector<double> grad_input;",
        "  std::vector<double> grad_target;  // bce_with_logits only",
        "};",
        "",
        "struct LayerNormCase {",
        "  const char* name;",
        "  xg::Dtype dtype;",
        "  std::vector<std::int64_t> normalized_shape;",
        "  double eps;",
        "  std::vector<std::int64_t> input_shape;",
        "  std::vector<double> weight, bias, input, grad_output;",
        "  std::vector<double> output, grad_input, grad_weight, grad_bias;",
        "};",
        "",
        "// F.layer_norm: weight and bias are empty when not given (None).",
        "struct LayerNormFunctionalCase {",
        "  const char* name;",
        "  xg::Dtype dtype;",
        "  std::vector<std::int64_t> normalized_shape;",
        "  double eps;",
        "  std::vector<std::int64_t> input_shape;",
        "  std::vector<double> weight, bias, input, grad_output;",
        "  std::vector<double> output, grad_input, grad_weight, grad_bias;",
        "};",
        "",
        "struct LinearCase {",
        "  const char* name;",
        "  xg::Dtype dtype;",
        "  std::int64_t in_features, out_features;",
        "  bool bias;",
        "  std::vector<std::int64_t> input_shape;",
        "  std::vector<double> weight, bias_values, input;  // weight [out, in] row-major",
        "  std::vector<std::int64_t> output_shape;",
        "  std::vector<double> output, grad_output, grad_input, grad_weight, grad_bias;",
        "};",
        "",
        "// scaled_dot_product_attention by its documented formula; mask_kind is none, bool",
        "// (values 0/1), float or causal; scale 0 means the default 1/sqrt(E).",
        "struct SdpaCase {",
        "  const char* name;",
        "  xg::Dtype dtype;",
        "  std::vector<std::int64_t> q_shape, k_shape, v_shape;",
        "  const char* mask_kind;",
        "  std::vector<std::int64_t> mask_shape;",
        "  double scale;",
        "  std::vector<double> q, k, v, mask;",
        "  std::vector<std::int64_t> output_shape;",
        "  std::vector<double> output, grad_output, grad_q, grad_k, grad_v;",
        "};",
        "",
        "struct ActivationCase {",
        "  const char* name;  // relu, tanh, sigmoid, gelu, gelu_tanh, gelu_tanh_grad",
        "  xg::Dtype dtype;",
        "  std::vector<double> output;",
        "};",
        "",
        "inline const std::vector<double> kActivationInput = " + fl(ACT_INPUT) + ";",
        "",
        "inline const std::vector<LossCase> kLossCases = {",
    ]
    red_cpp = {"mean": "xg::nn::Reduction::Mean", "sum": "xg::nn::Reduction::Sum",
               "none": "xg::nn::Reduction::None"}
    n_loss = 0
    for case in LOSS_CASES:
        name, loss, ishape, ivals, tshape, tvals, ignore_index, smoothing, reductions = case
        for dtype, dcpp in DTYPES:
            for reduction in reductions:
                oshape, out, go, gi, gt = run_loss(case, reduction, dtype)
                lines.append(
                    f'    {{"{name}", "{loss}", {dcpp}, {red_cpp[reduction]}, {il(ishape)}, '
                    f"{fl(ivals)}, {il(tshape)}, {fl(tvals)}, {ignore_index}, {fmt(smoothing)}, "
                    f"{il(oshape)}, {fl(out)}, {fl(go)}, {fl(gi)}, {fl(gt)}}},")
                n_loss += 1
    lines += ["};", "", "inline const std::vector<LayerNormCase> kLayerNormCases = {"]
    for case in LN_CASES:
        name, nshape, eps, ishape = case
        for dtype, dcpp in DTYPES:
            r = run_layernorm(case, dtype)
            lines.append(
                f'    {{"{name}", {dcpp}, {il(nshape)}, {fmt(eps)}, {il(ishape)}, '
                f"{fl(r['weight'])}, {fl(r['bias'])}, {fl(r['input'])}, {fl(r['grad_output'])}, "
                f"{fl(r['output'])}, {fl(r['grad_input'])}, {fl(r['grad_weight'])}, "
                f"{fl(r['grad_bias'])}}},")
    lines += ["};", "",
              "inline const std::vector<LayerNormFunctionalCase> kLayerNormFunctionalCases = {"]
    for case in LN_FUNCTIONAL_CASES:
        name, nshape, eps, ishape, _, _ = case
        for dtype, dcpp in DTYPES:
            r = run_layer_norm_functional(case, dtype)
            lines.append(
                f'    {{"{name}", {dcpp}, {il(nshape)}, {fmt(eps)}, {il(ishape)}, '
                f"{fl(r['weight'])}, {fl(r['bias'])}, {fl(r['input'])}, {fl(r['grad_output'])}, "
                f"{fl(r['output'])}, {fl(r['grad_input'])}, {fl(r['grad_weight'])}, "
                f"{fl(r['grad_bias'])}}},")
    lines += ["};", "", "inline const std::vector<LinearCase> kLinearCases = {"]
    for case in LINEAR_CASES:
        name, fin, fout, bias, ishape = case
        for dtype, dcpp in DTYPES:
            r = run_linear(case, dtype)
            lines.append(
                f'    {{"{name}", {dcpp}, {fin}, {fout}, {"true" if bias else "false"}, '
                f"{il(ishape)}, {fl(r['weight'])}, {fl(r['bias'])}, {fl(r['input'])}, "
                f"{il(r['output_shape'])}, {fl(r['output'])}, {fl(r['grad_output'])}, "
                f"{fl(r['grad_input'])}, {fl(r['grad_weight'])}, {fl(r['grad_bias'])}}},")
    lines += ["};", "", "inline const std::vector<SdpaCase> kSdpaCases = {"]
    for case in SDPA_CASES:
        name, qs, ks, vs, kind, mshape, scale = case
        for dtype, dcpp in DTYPES:
            r = run_sdpa(case, dtype)
            lines.append(
                f'    {{"{name}", {dcpp}, {il(qs)}, {il(ks)}, {il(vs)}, "{kind}", {il(mshape)}, '
                f"{fmt(scale or 0.0)}, {fl(r['q'])}, {fl(r['k'])}, {fl(r['v'])}, {fl(r['mask'])}, "
                f"{il(r['output_shape'])}, {fl(r['output'])}, {fl(r['grad_output'])}, "
                f"{fl(r['grad_q'])}, {fl(r['grad_k'])}, {fl(r['grad_v'])}}},")
    lines += ["};", "", "inline const std::vector<ActivationCase> kActivationCases = {"]
    for dtype, dcpp in DTYPES:
        for name, out in run_activations(dtype).items():
            lines.append(f'    {{"{name}", {dcpp}, {fl(out)}}},')
    lines += ["};", "", "}  // namespace nn_ref", ""]
    text = "\n".join(lines)
    with open(OUT, "w") as f:
        f.write(text)
    print(f"wrote {OUT}: {n_loss} loss cases, {2 * len(LN_CASES)} LayerNorm cases, "
          f"{2 * len(LINEAR_CASES)} Linear cases, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
