#!/usr/bin/env python3
"""Prints the comparison table of one run of scripts/bench_compare.sh.

The run's folder holds, for each round, xgrad-<r>.json (this checkout), base-<r>.json (xgrad at
the earlier commit) and libtorch-<r>.json (LibTorch's workloads, named BM_libtorch_<workload>).
Each benchmark's time is the median over the rounds (wall time); ratios divide by LibTorch's.
"""
import argparse
import glob
import json
import os
import statistics

UNITS = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
ORDER = ["sinfit_step", "elementwise_fwd", "elementwise_fwdbwd", "matmul_fwd", "matmul_fwdbwd",
         "mlp_train_step", "scalar_chain_fwdbwd", "view_transpose", "attention_block_fwdbwd",
         "gpt_train_step"]


def fmt_time(ns):
    if ns is None:
        return ""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_bytes(b):
    if b is None:
        return ""
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"


def load(folder, kind):
    """{workload name without BM_ or BM_libtorch_: (median ns, max peak bytes)}."""
    times, peaks = {}, {}
    for path in sorted(glob.glob(os.path.join(folder, f"{kind}-*.json"))):
        with open(path) as f:
            for b in json.load(f)["benchmarks"]:
                if b.get("run_type") != "iteration":
                    continue
                name = b["name"].replace("BM_libtorch_", "", 1).replace("BM_", "", 1)
                times.setdefault(name, []).append(b["real_time"] * UNITS[b["time_unit"]])
                if "peak_bytes" in b:
                    peaks[name] = max(peaks.get(name, 0), b["peak_bytes"])
    return {n: (statistics.median(t), peaks.get(n)) for n, t in times.items()}


def ratio(a, b):
    return f"{a / b:.3f}" if a is not None and b else ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--cpu", default="")
    parser.add_argument("--base", default="the earlier commit")
    args = parser.parse_args()
    now, base, torch = (load(args.folder, k) for k in ("xgrad", "base", "libtorch"))
    rounds = len(glob.glob(os.path.join(args.folder, "xgrad-*.json")))
    print(f"CPU: {args.cpu}. Medians of {rounds} rounds, wall time; LibTorch in its own process "
          f"with OMP_WAIT_POLICY=passive; 'before' is xgrad at {args.base}, same run.\n")
    print("| workload | xgrad | before | LibTorch | xgrad / LibTorch | before / LibTorch "
          "| peak bytes xgrad | peak bytes LibTorch |")
    print("|---|---|---|---|---|---|---|---|")

    def key(name):  # BENCHMARKS.md's order, then the sizes
        workload, _, arg = name.partition("/")
        sizes = [int(a) for a in arg.split("/") if a.isdigit()]
        return (ORDER.index(workload) if workload in ORDER else len(ORDER), sizes)

    for name in sorted((n for n in torch if n in now), key=key):
        t, lt = now[name][0], torch[name][0]
        b = base.get(name, (None, None))[0]
        print(f"| {name} | {fmt_time(t)} | {fmt_time(b)} | {fmt_time(lt)} | {ratio(t, lt)} | "
              f"{ratio(b, lt)} | {fmt_bytes(now[name][1])} | {fmt_bytes(torch[name][1])} |")
    step, manual = now.get("sinfit_step/2000"), now.get("sinfit_manual/2000")
    if step and manual:
        print(f"\nsinfit_step/2000 against the hand-fused loop (sinfit_manual/2000, "
              f"{fmt_time(manual[0])}): {step[0] / manual[0]:.2f}x")
    floors = sorted(n for n in now if n.startswith("floor"))
    if floors:
        print("\n| floor (bench/floors.cpp) | time | before | / LibTorch's workload "
              "| xgrad's workload / floor |")
        print("|---|---|---|---|---|")
    for name in floors:
        workload = (name.replace("floor_", "", 1).replace("sgemm", "matmul_fwd")
                    .replace("gpt_gemms", "gpt_train_step")
                    .replace("attention_gemms", "attention_block_fwdbwd")
                    .replace("mlp_gemms", "mlp_train_step"))
        lt = torch.get(workload, (None, None))[0]
        b = base.get(name, (None, None))[0]
        ours = now.get(workload, (None, None))[0]
        over = f"{ours / now[name][0]:.2f}x" if ours and now[name][0] else ""
        print(f"| {name} | {fmt_time(now[name][0])} | {fmt_time(b)} | "
              f"{ratio(now[name][0], lt)} | {over} |")


if __name__ == "__main__":
    main()
