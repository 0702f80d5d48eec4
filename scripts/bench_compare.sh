#!/usr/bin/env bash
# Times every workload of shared/BENCHMARKS.md in xgrad and in LibTorch in one run (repetitions
# interleaved at random) and prints the table of medians and ratios. Installs libtorch-dev if it
# is missing, and builds in build-bench/ (Release).
#   ./scripts/bench_compare.sh [repetitions]      (default 5)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repetitions="${1:-5}"

./scripts/setup.sh
if ! dpkg-query -W -f='${Status}' libtorch-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo_cmd=""
  [[ "$(id -u)" -ne 0 ]] && sudo_cmd="sudo"
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y libtorch-dev
fi
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DXGRAD_BENCH_TORCH=ON \
  -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF > /dev/null
cmake --build build-bench --target xgrad_vs_libtorch -j "$(nproc)"
./build-bench/bench/xgrad_vs_libtorch --benchmark_repetitions="$repetitions" \
  --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2 \
  --benchmark_format=json --benchmark_out=build-bench/comparison.json > /dev/null
python3 bench/compare.py build-bench/comparison.json
