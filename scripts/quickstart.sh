#!/usr/bin/env bash
# The README's quick start. Installs what is missing, configures build/ (Release, without the
# benchmarks), then
#   example: builds and runs the sin-fit example
#   test:    builds the library, examples and tests, and runs the whole suite through CTest
# The reliability pass (sanitizer builds and a short fuzz run) is its own command,
# ./scripts/sanitize.sh; CI (.ci/run) runs it after this one.
set -euo pipefail

usage() {
  echo "usage: $0 example|test" >&2
  exit 2
}
(($# == 1)) || usage
case "$1" in
  example | test) ;;
  *) usage ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc)"

./scripts/setup.sh
# The benchmarks are not tests; leaving them out keeps the test command quick.
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXGRAD_BUILD_BENCHMARKS=OFF

if [[ "$1" == example ]]; then
  cmake --build build --target sin_fit -j "$jobs"
  ./build/examples/sin_fit/sin_fit
else
  cmake --build build -j "$jobs"
  ctest --test-dir build --output-on-failure -j "$jobs"
fi
