#!/usr/bin/env bash
# The reliability pass, run by CI (.ci/run) after the README's test command:
#   1. build-asan: the library, tests and examples with AddressSanitizer, LeakSanitizer and
#      UndefinedBehaviorSanitizer (g++, -fno-sanitize-recover=all); the whole CTest suite (the
#      unit tests in GoogleTest shards, one process each).
#   2. build-tsan: the threads test (tests/test_threads.cpp) under ThreadSanitizer.
#   3. build-fuzz: the libFuzzer targets (clang), FUZZ_SECONDS seconds each (default 60): the
#      safetensors loader from the seed corpus in fuzz/corpus/safetensors, then the op API
#      (fuzz/fuzz_ops.cpp) from nothing.
# Any sanitizer report stops its program, so it fails its test and this script. These builds
# leave out xgrad::distributed (-DXGRAD_WITH_MPI=OFF): Debian's Open MPI is not instrumented,
# and it keeps allocations until exit that LeakSanitizer would report.
# Usage: scripts/sanitize.sh [asan|tsan|fuzz]...   (no argument: all three)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
jobs="$(nproc)"
steps=("$@")
((${#steps[@]})) || steps=(asan tsan fuzz)

# Reports stop the program; LeakSanitizer runs at exit (detect_leaks is ASan's default on Linux,
# set here so it is explicit). An allocation too large to serve returns null, as malloc does, so
# that xgrad's xg::OutOfMemoryError is what is tested, not ASan's own report.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/fuzz/ubsan.supp"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"

for step in "${steps[@]}"; do
  start=$SECONDS
  case "$step" in
    asan)
      cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DXGRAD_SANITIZE=address,undefined -DXGRAD_BUILD_BENCHMARKS=OFF -DXGRAD_WITH_MPI=OFF
      cmake --build build-asan -j "$jobs"
      # The GoogleTest suite is a few CTest tests, shards of one binary (tests/CMakeLists.txt).
      ctest --test-dir build-asan --output-on-failure -j "$jobs"
      ;;
    tsan)
      # OpenBLAS and oneTBB (xgrad's thread pool) are Debian's uninstrumented builds, so TSan
      # cannot see their synchronization: one BLAS thread and one pool thread (OMP_NUM_THREADS),
      # so that TSan sees every thread the test starts. The pool is checked by the main suite
      # (tests/test_parallel.cpp: every index once, the same bits on 1, 2 and 3 threads).
      cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DXGRAD_SANITIZE=thread \
        -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCHMARKS=OFF -DXGRAD_WITH_MPI=OFF
      cmake --build build-tsan --target xgrad_thread_tests -j "$jobs"
      OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 ./build-tsan/tests/xgrad_thread_tests
      ;;
    fuzz)
      cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_CXX_COMPILER=clang++ -DXGRAD_BUILD_FUZZERS=ON -DXGRAD_SANITIZE=address,undefined \
        -DXGRAD_BUILD_TESTS=OFF -DXGRAD_BUILD_EXAMPLES=OFF -DXGRAD_BUILD_BENCHMARKS=OFF \
        -DXGRAD_WITH_MPI=OFF
      cmake --build build-fuzz --target fuzz_safetensors fuzz_ops -j "$jobs"
      # New inputs go to scratch corpora; the committed seeds are read only. No single
      # allocation of the loader may exceed 64 MiB: inputs are at most 64 KiB.
      mkdir -p build-fuzz/corpus build-fuzz/corpus-ops
      ./build-fuzz/fuzz/fuzz_safetensors build-fuzz/corpus fuzz/corpus/safetensors \
        -max_total_time="${FUZZ_SECONDS:-60}" -max_len=65536 -malloc_limit_mb=64 \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
      # The op fuzzer has no malloc limit: a shape too large to allocate must fail as
      # xg::OutOfMemoryError, which libFuzzer's limit would report before malloc could refuse.
      # The target itself keeps what it fills small (fuzz/fuzz_ops.cpp).
      ./build-fuzz/fuzz/fuzz_ops build-fuzz/corpus-ops -max_total_time="${FUZZ_SECONDS:-60}" \
        -max_len=512 -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
      ;;
    *)
      echo "usage: $0 [asan|tsan|fuzz]..." >&2
      exit 2
      ;;
  esac
  echo "sanitize: $step passed in $((SECONDS - start)) s"
done
