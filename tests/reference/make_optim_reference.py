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
SCHEDULERS records get_last_lr() after construction and after each of its step() calls
(SCHED_STEPS unless the case says otherwise; the long nanoGPT-style cases record only some
epochs). LambdaLR's functions are the ones in LR_LAMBDAS, named by index (tests/test_optim.cpp
has the same list, computed with the same operations in the same order, so the factors agree
to the bit). A SequentialLR case lists its schedulers as (kind, args) pairs, made in order on
the same optimizer before the SequentialLR itself; its args are the milestones. Another case may
list schedulers too: they are made first and never stepped (a scheduler made after another runs
from the lr the other left, LambdaLR from the initial lr).

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
import warnings

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


def cosine_factor(epoch, t, floor):
    """nanoGPT's decay as a factor of the peak lr: a half cosine from 1 to floor over t epochs,
    then floor."""
    ratio = min(epoch, t) / t
    coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
    return floor + coeff * (1.0 - floor)


# LambdaLR's functions, by index; the C++ test's kLrLambdas must compute the same.
LR_LAMBDAS = [
    lambda e: 0.95 ** e,
    lambda e: 1.0 / (1 + e),
    lambda e: e // 3,  # an int, as in PyTorch's docs example; 0 for the first epochs
    lambda e: cosine_factor(e, 8, 0.1),
    lambda e: cosine_factor(e, 1900, 0.1),
]


def make_one(o, kind, args):
    """The scheduler `kind` with the arguments of a case, as the C++ test makes it."""
    if kind == "StepLR":
        return S.StepLR(o, step_size=int(args[0]), gamma=args[1])
    if kind == "MultiStepLR":
        return S.MultiStepLR(o, milestones=[int(a) for a in args[:-1]], gamma=args[-1])
    if kind == "ExponentialLR":
        return S.ExponentialLR(o, gamma=args[0])
    if kind == "CosineAnnealingLR":
        return S.CosineAnnealingLR(o, T_max=int(args[0]), eta_min=args[1])
    if kind == "LinearLR":
        return S.LinearLR(o, start_factor=args[0], end_factor=args[1], total_iters=int(args[2]))
    if kind == "LambdaLR":
        fns = [LR_LAMBDAS[int(a)] for a in args]
        return S.LambdaLR(o, fns[0] if len(fns) == 1 else fns)
    raise ValueError(kind)


def sequential(milestones, children):
    def make(o):
        made = [make_one(o, kind, args) for kind, args in children]
        return S.SequentialLR(o, made, milestones=milestones)
    return make


NANOGPT_STEPS = 2100
# The epochs a long case records: the warm-up and its end, a sample of the decay, its end and
# what follows it.
NANOGPT_EPOCHS = sorted(set(list(range(0, 111)) + list(range(150, 1951, 50)) +
                            list(range(1990, 2011)) + [2050, 2100]))

# (name, kind, args, make[, before[, steps, recorded epochs]]). `before` lists (kind, args)
# pairs made first on the same optimizer: a SequentialLR's schedulers, or, for another kind,
# schedulers that are never stepped.
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
    ("lambda_lr_exponential", "LambdaLR", [0], lambda o: S.LambdaLR(o, LR_LAMBDAS[0])),
    ("lambda_lr_cosine", "LambdaLR", [3], lambda o: S.LambdaLR(o, LR_LAMBDAS[3])),
    ("lambda_lr_per_group", "LambdaLR", [2, 1],
     lambda o: S.LambdaLR(o, [LR_LAMBDAS[2], LR_LAMBDAS[1]])),
    # Made after a LinearLR that set the lrs to half the initial ones (T_max past the last
    # epoch: after it, PyTorch's chainable cosine mixes in the initial lr).
    ("exponential_lr_after_linear", "ExponentialLR", [0.5], None, [("LinearLR", [0.5, 1.0, 4])]),
    ("step_lr_after_linear", "StepLR", [2, 0.5], None, [("LinearLR", [0.5, 1.0, 4])]),
    ("cosine_annealing_lr_after_linear", "CosineAnnealingLR", [20, 0.001], None,
     [("LinearLR", [0.5, 1.0, 4])]),
    ("linear_lr_after_linear", "LinearLR", [0.25, 1.0, 4], None, [("LinearLR", [0.5, 1.0, 4])]),
    ("lambda_lr_after_linear", "LambdaLR", [0], None, [("LinearLR", [0.5, 1.0, 4])]),
    # The nanoGPT shape, short: warm-up over 4 epochs, then a cosine over 6 (and past it).
    ("sequential_linear_cosine", "SequentialLR", [4], None,
     [("LinearLR", [0.25, 1.0, 4]), ("CosineAnnealingLR", [6, 0.001])]),
    # The warm-up ends before the linear factor reaches 1: the cosine restarts at the milestone.
    ("sequential_linear_lambda", "SequentialLR", [3], None,
     [("LinearLR", [0.5, 1.0, 5]), ("LambdaLR", [3])]),
    ("sequential_three", "SequentialLR", [3, 7], None,
     [("ExponentialLR", [0.8]), ("StepLR", [2, 0.5]), ("LinearLR", [1.0, 0.1, 4])]),
    # A milestone of 0: the second scheduler never restarts; PyTorch's chainable form runs it
    # from the lr the first one set at construction (LambdaLR from the initial lr).
    ("sequential_milestone_zero", "SequentialLR", [0], None,
     [("LinearLR", [0.25, 1.0, 4]), ("ExponentialLR", [0.9])]),
    ("sequential_milestone_zero_cosine", "SequentialLR", [0], None,
     [("LinearLR", [0.25, 1.0, 4]), ("CosineAnnealingLR", [20, 0.001])]),
    ("sequential_milestone_zero_lambda", "SequentialLR", [0], None,
     [("LinearLR", [0.25, 1.0, 4]), ("LambdaLR", [0])]),
    # Milestones as given, unsorted: PyTorch bisects them anyway; the middle one never runs.
    ("sequential_unsorted_milestones", "SequentialLR", [5, 3], None,
     [("ExponentialLR", [0.8]), ("StepLR", [2, 0.5]), ("LinearLR", [0.5, 1.0, 4])]),
    # nanoGPT's schedule: linear warm-up over 100 iterations, then a cosine to 1e-4 at 2000
    # (CosineAnnealingLR's eta_min is absolute and rises again after T_max; the LambdaLR's
    # floor is a tenth of each group's lr and stays there).
    ("nanogpt_linear_cosine", "SequentialLR", [100], None,
     [("LinearLR", [0.01, 1.0, 100]), ("CosineAnnealingLR", [1900, 1e-4])],
     NANOGPT_STEPS, NANOGPT_EPOCHS),
    ("nanogpt_linear_lambda", "SequentialLR", [100], None,
     [("LinearLR", [0.01, 1.0, 100]), ("LambdaLR", [4])],
     NANOGPT_STEPS, NANOGPT_EPOCHS),
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
        "// A scheduler made before a case's own: its kind and arguments.",
        "struct SchedulerSpec {",
        "  const char* scheduler;",
        "  std::vector<double> args;",
        "};",
        "",
        "// One scheduler on an SGD optimizer whose groups have kSchedulerLrs: its arguments, and",
        "// get_last_lr() after construction (epoch 0) and after step() number `epochs[i]`.",
        "struct SchedulerCase {",
        "  const char* name;",
        "  const char* scheduler;",
        "  std::vector<double> args;  // as listed in make_optim_reference.py, in argument order;",
        "                             // LambdaLR: indices into kLrLambdas; SequentialLR: milestones",
        "  std::vector<SchedulerSpec> before;  // made first, in order: SequentialLR's schedulers,",
        "                                      // or schedulers made before this one, never stepped",
        "  int steps;                          // step() calls",
        "  std::vector<int> epochs;            // the epochs recorded, ascending",
        "  std::vector<std::vector<double>> last_lr;  // [i][group]: at epochs[i]",
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
    for case in SCHEDULERS:
        name, kind, args, make = case[:4]
        children = case[4] if len(case) > 4 else []
        steps = case[5] if len(case) > 5 else SCHED_STEPS
        epochs = case[6] if len(case) > 6 else list(range(steps + 1))
        if kind == "SequentialLR":
            make = sequential([int(a) for a in args], children)
        elif children:
            make = (lambda before, kind, args: lambda o: (
                [make_one(o, k, a) for k, a in before], make_one(o, kind, args))[1])(
                    children, kind, args)
        params = [torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)]
        opt = torch.optim.SGD([{"params": [params[0]], "lr": SCHED_LRS[0]},
                               {"params": [params[1]], "lr": SCHED_LRS[1]}], lr=SCHED_LRS[0])
        with warnings.catch_warnings():
            # SequentialLR's step(0) is deprecated in PyTorch's own code
            warnings.simplefilter("ignore", UserWarning)
            sched = make(opt)
            last = {0: list(sched.get_last_lr())}
            for e in range(1, steps + 1):
                opt.step()  # no gradients: changes nothing, keeps PyTorch from warning
                sched.step()
                last[e] = list(sched.get_last_lr())
                assert last[e] == [g["lr"] for g in opt.param_groups]
        assert epochs[0] == 0 and epochs[-1] == steps and epochs == sorted(set(epochs))
        spec = ", ".join(f'{{"{k}", {fmt_list(a)}}}' for k, a in children)
        lines.append(f'  {{"{name}", "{kind}", {fmt_list(args)}, {{{spec}}}, {steps},')
        lines.append("   {" + ", ".join(str(e) for e in epochs) + "},")
        lines.append("   {" + ",\n    ".join(fmt_list(last[e]) for e in epochs) + "}},")
    lines.append("};")
    lines.append("")
    lines.append("}  // namespace optim_ref")

    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {2 * len(OPTIMIZERS)} optimizer cases and {len(SCHEDULERS)} scheduler cases "
          f"to {out_path} ({os.path.getsize(out_path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
