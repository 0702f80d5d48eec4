#!/usr/bin/env python3
"""Prints the xgrad / LibTorch table from one Google Benchmark JSON run of xgrad_vs_libtorch.

Each workload ran --benchmark_repetitions times, interleaved at random with the others; the
table takes the median wall time of each and divides xgrad's by LibTorch's.
"""
import json
import sys


def fmt_time(ns):
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


def main(path):
    with open(path) as f:
        run = json.load(f)
    medians, peaks = {}, {}
    for b in run["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median":
            medians[b["run_name"]] = b["real_time"] * {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
        if b.get("run_type") == "iteration" and "peak_bytes" in b:
            peaks[b["run_name"]] = max(peaks.get(b["run_name"], 0), b["peak_bytes"])
    ctx = run["context"]
    print(f"Machine: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz; "
          f"{ctx.get('date')}; medians of the repetitions, wall time.\n")
    print("| workload | xgrad | LibTorch | xgrad / LibTorch | peak bytes xgrad | peak bytes LibTorch |")
    print("|---|---|---|---|---|---|")
    order = ["sinfit_step", "elementwise_fwd", "elementwise_fwdbwd", "matmul_fwd", "matmul_fwdbwd",
             "mlp_train_step", "scalar_chain_fwdbwd"]

    def key(name):  # BENCHMARKS.md's order, then the size
        base, _, arg = name.replace("BM_", "", 1).partition("/")
        return (order.index(base) if base in order else len(order), int(arg) if arg else 0)

    for name in sorted(medians, key=key):
        t = medians[name]
        if ("libtorch" in name or name.startswith("BM_sum") or name.startswith("BM_sinfit_manual")
                or name.startswith("BM_floor")):
            continue
        torch_name = name.replace("BM_", "BM_libtorch_", 1)
        if torch_name not in medians:
            continue
        lt = medians[torch_name]
        workload = name.replace("BM_", "", 1)
        print(f"| {workload} | {fmt_time(t)} | {fmt_time(lt)} | {t / lt:.3f} | "
              f"{fmt_bytes(peaks.get(name))} | {fmt_bytes(peaks.get(torch_name))} |")
    step, manual = medians.get("BM_sinfit_step/2000"), medians.get("BM_sinfit_manual/2000")
    if step and manual:
        print(f"\nsinfit_step/2000 against the hand-fused loop (sinfit_manual/2000, "
              f"{fmt_time(manual)}): {step / manual:.2f}x")
    floors = sorted(n for n in medians if n.startswith("BM_floor"))
    if floors:
        print("\n| floor (bench/floors.cpp) | time | / LibTorch's workload |")
        print("|---|---|---|")
    for name in floors:
        workload = name.replace("BM_floor_", "BM_libtorch_", 1).replace("sgemm", "matmul_fwd")
        ratio = f"{medians[name] / medians[workload]:.3f}" if workload in medians else ""
        print(f"| {name.replace('BM_', '', 1)} | {fmt_time(medians[name])} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
