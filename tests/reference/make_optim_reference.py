#!/usr/bin/env python3
"""Writes tests/reference/optim_reference.inc: PyTorch's optimizer trajectories and lr schedules.

Optimizers. Three parameters, of shapes [], [3] and [2, 3], start from the fixed values in
PARAMS below and receive a fixed sequence of STEPS gradients each (GRAD_SCALES times a sin-based
formula, rounded to float32 so that Float32 and Float64 cases start from exactly the same
numbers; a few gradient elements are exactly 0). For every option combination in OPTIMIZERS and
for both float32 and float64, the script runs torch.optim.SGD / Adam / AdamW (foreach=False, the
single-tensor code path) on all three parameters in one optimizer, assigning the gradients to
p.grad before each step, and records every parameter after every step.

Schedulers. An SGD optimizer with two parameter groups of lrs 0.1 and 0.02; each scheduler in
SCHEDULERS records get_last_lr() after construction and after each of SCHED_STEPS step() calls.

Every number is written as repr() of a Python float (float64), which round-trips exactly; float32
results are converted to float64 exactly first. The C++ test (tests/test_optim.cpp) replays the
same gradients through xgrad's optimizers and compares. The test suite never needs PyTorch; only
regenerating the table does:

    /usr/bin/python3 tests/reference/make_optim_reference.py   # Debian: apt-get install python3-torch

The script also checks that each option combination changes the trajectory compared with the
combination without that option, so that every case in the table can catch a missing option.
"""

import math
import os
import sys

import torch

STEPS = 6
SCHED_STEPS = 12
GRAD_SCALES = [1.5, 0.03, 0.8, 0.01, 0.3, 0.002]  # large and tiny steps: amsgrad's max matters


def f32(x):
    """x rounded to the nearest float32, as a Python float."""
    return float(torch.tensor(x, dtype=torch.float32).item())


def make_params():
    shapes = [[], [3], [2, 3]]
    initial = [[0.75], [1.5, -0.5, 0.25], [-1.0, 0.5, 2.0, -0.25, 1.25, -1.75]]
    params = []
    for k, (shape, init) in enumerate(zip(shapes, initial)):
        grads = []
        for s in range(STEPS):
            g = [f32(GRAD_SCALES[s] * math.sin(1.3 * (j + 1) + 0.7 * s + 0.4 * k))
                 for j in range(len(init))]
            grads.append(g)
        params.append((shape, [f32(v) for v in init], grads))
    # exact zeros: a zero gradient at the first step (Adam's m and v stay 0) and later on
    params[1][2][0][1] = 0.0
    params[2][2][3][4] = 0.0
    return params


PARAMS = make_params()

# (name, optimizer, options). Options not given take PyTorch's defaults.
OPTIMIZERS = [
    ("sgd_plain", "SGD", dict(lr=0.1)),
    ("sgd_momentum", "SGD", dict(lr=0.1, momentum=0.9)),
    ("sgd_momentum_dampening", "SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("sgd_nesterov", "SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", "SGD", dict(lr=0.1, weight_decay=0.1)),
    ("sgd_maximize", "SGD", dict(lr=0.1, maximize=True)),
    ("sgd_momentum_dampening_wd", "SGD", dict(lr=0.1, momentum=0.5, dampening=0.5,
                                              weight_decay=0.2)),
    ("sgd_all", "SGD", dict(lr=0.1, momentum=0.8, weight_decay=0.05, nesterov=True,
                            maximize=True)),
    ("adam_default", "Adam", dict(lr=0.05)),
    ("adam_weight_decay", "Adam", dict(lr=0.05, weight_decay=0.1)),
    ("adam_amsgrad", "Adam", dict(lr=0.05, amsgrad=True)),
    ("adam_amsgrad_beta2", "Adam", dict(lr=0.05, betas=(0.9, 0.9), amsgrad=True)),
    ("adam_maximize", "Adam", dict(lr=0.05, maximize=True)),
    ("adam_betas", "Adam", dict(lr=0.05, betas=(0.8, 0.9))),
    ("adam_eps", "Adam", dict(lr=0.05, eps=0.1)),
    ("adam_all", "Adam", dict(lr=0.05, betas=(0.85, 0.95), eps=1e-2, weight_decay=0.05,
                              amsgrad=True, maximize=True)),
    ("adamw_default", "AdamW", dict(lr=0.05)),
    ("adamw_wd0", "AdamW", dict(lr=0.05, weight_decay=0.0)),
    ("adamw_amsgrad", "AdamW", dict(lr=0.05, amsgrad=True)),
    ("adamw_amsgrad_beta2", "AdamW", dict(lr=0.05, betas=(0.9, 0.9), amsgrad=True)),
    ("adamw_maximize", "AdamW", dict(lr=0.05, maximize=True)),
    ("adamw_all", "AdamW", dict(lr=0.05, betas=(0.85, 0.95), eps=1e-2, weight_decay=0.2,
                                amsgrad=True, maximize=True)),
]

# Leaving out any one option of a case (PyTorch's default instead) must change its trajectory
# by more than this relative amount somewhere, or the case could not catch a missing option.
# With the default beta2 = 0.999 the second moment hardly ever decreases within 6 steps, so
# amsgrad alone changes little; the *_amsgrad_beta2 cases make its running maximum matter.
MIN_EFFECT = 1e-3
MIN_EFFECT_EXCEPTIONS = {("adam_amsgrad", "amsgrad"): 5e-5, ("adamw_amsgrad", "amsgrad"): 5e-5}

SCHED_LRS = [0.1, 0.02]
S = torch.optim.lr_scheduler
SCHEDULERS = [
    ("step_lr", "StepLR", [3, 0.5], lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    ("multi_step_lr", "MultiStepLR", [2, 5, 9, 0.3],
     lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.3)),
    ("multi_step_lr_repeated", "MultiStepLR", [3, 3, 8, 0.5],
     lambda o: S.MultiStepLR(o, milestones=[3, 3, 8], gamma=0.5)),
    ("exponential_lr", "ExponentialLR", [0.9], lambda o: S.ExponentialLR(o, gamma=0.9)),
    ("cosine_annealing_lr", "CosineAnnealingLR", [10, 0.0],
     lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.0)),
    ("cosine_annealing_lr_past_t_max", "CosineAnnealingLR", [5, 0.001],
     lambda o: S.CosineAnnealingLR(o, T_max=5, eta_min=0.001)),
    ("linear_lr_default", "LinearLR", [1.0 / 3, 1.0, 5], lambda o: S.LinearLR(o)),
    ("linear_lr_warmup", "LinearLR", [0.25, 1.0, 4],
     lambda o: S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4)),
    ("linear_lr_decay", "LinearLR", [1.0, 0.1, 6],
     lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=6)),
]


def run_optimizer(kind, options, dtype):
    params = [torch.tensor(init, dtype=dtype).reshape(shape).requires_grad_()
              for shape, init, _ in PARAMS]
    cls = {"SGD": torch.optim.SGD, "Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW}[kind]
    opt = cls(params, foreach=False, **options)
    trajectory = []
    for s in range(STEPS):
        for p, (shape, _, grads) in zip(params, PARAMS):
            p.grad = torch.tensor(grads[s], dtype=dtype).reshape(shape)
        opt.step()
        trajectory.append([p.detach().reshape(-1).tolist() for p in params])
    return trajectory


def full_options(kind, options):
    """Every option of the xgrad options class, PyTorch's defaults filled in."""
    if kind == "SGD":
        d = dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
                 betas=(0.9, 0.999), eps=1e-8, amsgrad=False)
    else:
        d = dict(momentum=0.0, dampening=0.0, weight_decay=1e-2 if kind == "AdamW" else 0.0,
                 nesterov=False, maximize=False, betas=(0.9, 0.999), eps=1e-8, amsgrad=False)
    d.update(options)
    return d


def fmt(v):
    v = float(v)
    assert math.isfinite(v), v
    if v == int(v) and abs(v) < 2**53:
        return ("-" if math.copysign(1, v) < 0 and v == 0 else "") + f"{int(v)}.0"
    return repr(v)


def fmt_list(values):
    return "{" + ", ".join(fmt(v) for v in values) + "}"


def max_rel_diff(a, b):
    worst = 0.0
    for sa, sb in zip(a, b):
        for pa, pb in zip(sa, sb):
            for x, y in zip(pa, pb):
                worst = max(worst, abs(x - y) / max(abs(y), 1e-300))
    return worst


def main():
    out_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim_reference.inc")
    lines = [
        f"// Generated by tests/reference/make_optim_reference.py with PyTorch {torch.__version__};",
        "// do not edit. PyTorch's optimizer trajectories and lr schedules for tests/test_optim.cpp.",
        "",
        "namespace optim_ref {",
        "",
        f"constexpr int kSteps = {STEPS};",
        "",
        "// One parameter: its shape, initial values and one gradient per step (row-major).",
        "// The values are float32-representable, so Float32 and Float64 cases share them.",
        "struct Param {",
        "  std::vector<std::int64_t> shape;",
        "  std::vector<double> initial;",
        "  std::vector<std::vector<double>> grads;  // [step][element]",
        "};",
        "",
        "// One optimizer run over all of kParams: its options (PyTorch's defaults filled in) and",
        "// every parameter after every step.",
        "struct OptimizerCase {",
        "  const char* name;",
        "  const char* optimizer;  // \"SGD\", \"Adam\" or \"AdamW\"",
        "  xg::Dtype dtype;",
        "  double lr, momentum, dampening, weight_decay;",
        "  bool nesterov, maximize;",
        "  double beta1, beta2, eps;",
        "  bool amsgrad;",
        "  std::vector<std::vector<std::vector<double>>> expected;  // [step][param][element]",
        "};",
        "",
        "// One scheduler on an SGD optimizer whose groups have kSchedulerLrs: its arguments, and",
        "// get_last_lr() after construction and after each step().",
        "struct SchedulerCase {",
        "  const char* name;",
        "  const char* scheduler;",
        "  std::vector<double> args;  // as listed in make_optim_reference.py, in argument order",
        "  std::vector<std::vector<double>> last_lr;  // [epoch 0..kSchedulerSteps][group]",
        "};",
        "",
        f"constexpr int kSchedulerSteps = {SCHED_STEPS};",
        f"inline const std::vector<double> kSchedulerLrs = {fmt_list(SCHED_LRS)};",
        "",
        "inline const std::vector<Param> kParams = {",
    ]
    for shape, init, grads in PARAMS:
        lines.append(f"  {{{{{', '.join(map(str, shape))}}}, {fmt_list(init)},")
        lines.append("   {" + ",\n    ".join(fmt_list(g) for g in grads) + "}},")
    lines.append("};")
    lines.append("")
    lines.append("inline const std::vector<OptimizerCase> kOptimizerCases = {")

    results = {}
    for name, kind, options in OPTIMIZERS:
        for dtype, dname in ((torch.float64, "f64"), (torch.float32, "f32")):
            traj = run_optimizer(kind, options, dtype)
            results[(name, dname)] = traj
            o = full_options(kind, options)
            steps = ",\n    ".join(
                "{" + ", ".join(fmt_list(p) for p in step) + "}" for step in traj)
            lines.append(
                f'  {{"{name}_{dname}", "{kind}", xg::kFloat{dname[1:]}, {fmt(o["lr"])}, '
                f'{fmt(o["momentum"])}, {fmt(o["dampening"])}, {fmt(o["weight_decay"])}, '
                f'{str(o["nesterov"]).lower()}, {str(o["maximize"]).lower()}, '
                f'{fmt(o["betas"][0])}, {fmt(o["betas"][1])}, {fmt(o["eps"])}, '
                f'{str(o["amsgrad"]).lower()},\n   {{{steps}}}}},')
    lines.append("};")
    lines.append("")

    # Every option of every case must change the trajectory.
    for name, kind, options in OPTIMIZERS:
        for key in options:
            if key == "lr":
                continue
            ablated = {k: v for k, v in options.items() if k != key}
            for dtype, dname in ((torch.float64, "f64"), (torch.float32, "f32")):
                try:
                    other = run_optimizer(kind, ablated, dtype)
                except ValueError:  # e.g. nesterov without momentum
                    continue
                d = max_rel_diff(results[(name, dname)], other)
                need = MIN_EFFECT_EXCEPTIONS.get((name, key), MIN_EFFECT)
                assert d > need, f"{name} without {key} ({dname}): differs by only {d}"
                print(f"  {name:28s} without {key:13s} {dname}: max rel change {d:.2e}",
                      file=sys.stderr)

    lines.append("inline const std::vector<SchedulerCase> kSchedulerCases = {")
    for name, kind, args, make in SCHEDULERS:
        params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
        opt = torch.optim.SGD([{"params": [params[0]], "lr": SCHED_LRS[0]},
                               {"params": [params[1]], "lr": SCHED_LRS[1]}], lr=SCHED_LRS[0])
        sched = make(opt)
        last = [list(sched.get_last_lr())]
        for _ in range(SCHED_STEPS):
            opt.step()  # no gradients: changes nothing, keeps PyTorch from warning
            sched.step()
            last.append(list(sched.get_last_lr()))
            assert last[-1] == [g["lr"] for g in opt.param_groups]
        lines.append(f'  {{"{name}", "{kind}", {fmt_list(args)},')
        lines.append("   {" + ",\n    ".join(fmt_list(lr) for lr in last) + "}},")
    lines.append("};")
    lines.append("")
    lines.append("}  // namespace optim_ref")

    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {2 * len(OPTIMIZERS)} optimizer cases and {len(SCHEDULERS)} scheduler cases "
          f"to {out_path} ({os.path.getsize(out_path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
