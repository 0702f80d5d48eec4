#!/usr/bin/env bash
# Installs the Debian packages xgrad needs to build, test and benchmark, only those that are
# missing. Safe to run again: with everything installed it changes nothing.
set -euo pipefail

packages=(
  cmake g++ make                  # the toolchain
  xtl-dev libxtensor-dev libxsimd-dev libxtensor-blas-dev libopenblas-dev libtbb-dev  # the library
  libgtest-dev                    # tests
  libbenchmark-dev                # benchmarks
  nlohmann-json3-dev              # the JSON header of safetensors checkpoints
  libcli11-dev                    # command-line options of the examples
  wamerican                       # /usr/share/dict/words, data for the char_lm example
  fortunes                        # /usr/share/games/fortunes/cookie, the GPT fine-tuning corpus
  libopenmpi-dev openmpi-bin      # MPI, for xgrad::distributed and its tests under mpirun
  procps                          # pgrep, for the test of a rank killed mid-run
  clang libclang-rt-14-dev        # libFuzzer, for the fuzz target of the reliability pass
)

missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "setup: not root and no sudo; as root run: apt-get install ${missing[*]}" >&2
  exit 1
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  "${missing[@]}"
