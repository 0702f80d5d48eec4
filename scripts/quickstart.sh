#!/usr/bin/env bash
# The README's quick start. Installs what is missing, configures build/ (Release), then
#   example: builds and runs the sin-fit example
#   test:    builds everything and runs the whole test suite through CTest, then the
#            reliability pass: sanitizer builds and a short fuzz run (scripts/sanitize.sh)
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
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release

if [[ "$1" == example ]]; then
  cmake --build build --target sin_fit -j "$jobs"
  ./build/examples/sin_fit/sin_fit
else
  cmake --build build -j "$jobs"
  ctest --test-dir build --output-on-failure -j "$jobs"
  ./scripts/sanitize.sh
fi
