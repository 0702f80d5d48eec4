#!/usr/bin/env bash
# One comparison run, as ../shared/BENCHMARKS.md says: every workload in xgrad (this checkout),
# in xgrad at an earlier commit (BASE, default HEAD~1, built in a worktree), and in LibTorch
# (its own process, default threads, OMP_WAIT_POLICY=passive), the three programs alternated
# ROUNDS times; then the table of medians and ratios, with the CPU named.
#   ./scripts/bench_compare.sh [rounds] [base]      (defaults: 3, HEAD~1)
# Installs libtorch-dev if it is missing; builds in build-bench/ and build-bench-base/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds="${1:-3}"
base="${2:-HEAD~1}"
jobs="$(nproc)"

./scripts/setup.sh
if ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo_cmd=""
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y libtorch-dev
fi
configure=(-DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF)
cmake -S . -B build-bench "${configure[@]}" -DXGRAD_BENCH_TORCH=ON > /dev/null
cmake --build build-bench --target xgrad_bench libtorch_bench -j "$jobs"

# The earlier commit, in a worktree of its own (removed again at the end; a fixed path, so that
# build-bench-base/'s cache stays valid from one run to the next).
base_sha="$(git rev-parse --short "$base")"
base_tree="$PWD/build-bench-base-src"
git worktree remove --force "$base_tree" 2> /dev/null || rm -rf "$base_tree"
git worktree add --detach "$base_tree" "$base_sha" > /dev/null
trap 'git worktree remove --force "$base_tree"' EXIT
cmake -S "$base_tree" -B build-bench-base "${configure[@]}" > /dev/null
cmake --build build-bench-base --target xgrad_bench -j "$jobs"

out=build-bench/comparison
rm -rf "$out" && mkdir -p "$out"
flags=(--benchmark_min_time=0.2 --benchmark_format=json)
for ((r = 1; r <= rounds; r++)); do
  echo "round $r of $rounds" >&2
  ./build-bench/bench/xgrad_bench "${flags[@]}" --benchmark_out="$out/xgrad-$r.json" > /dev/null
  ./build-bench-base/bench/xgrad_bench "${flags[@]}" \
    --benchmark_out="$out/base-$r.json" > /dev/null
  OMP_WAIT_POLICY=passive ./build-bench/bench/libtorch_bench "${flags[@]}" \
    --benchmark_out="$out/libtorch-$r.json" > /dev/null
done
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
simd="$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w 'avx512f\|avx2\|fma\|sse4_2' | sort -u | tr '\n' ' ')"
python3 bench/compare.py --cpu "$cpu ($(nproc) cores; $simd)" --base "$base_sha" "$out"
