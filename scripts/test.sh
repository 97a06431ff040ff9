#!/usr/bin/env bash
# Build rill and run the whole test suite. Does all set-up on a fresh Debian 12
# machine (installs missing packages). Steps:
#   1. gcc, warnings as errors: build everything, run every ctest test;
#   2. clang, warnings as errors: build everything (the second compiler);
#   3. gcc with ASan + UBSan: run every ctest test under the sanitizers;
#   4. scripts/checksrc.sh: banned functions in the library sources.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
bash scripts/setup-debian.sh --test

echo "== [1/4] gcc build + tests"
cmake -S . -B build -DCMAKE_C_COMPILER=gcc -DRILL_WERROR=ON -DRILL_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --no-tests=error --output-on-failure -j"$jobs" -E '^rill-torture$')
# The allocation-failure runner directly, so its table (N allocations and
# runs per scenario, RELIABILITY G3) is in the output; ASan runs it below.
build/bin/rill-torture

echo "== [2/4] clang build"
cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang -DRILL_WERROR=ON -DRILL_BUILD_TESTS=ON >/dev/null
cmake --build build-clang -j"$jobs"

echo "== [3/4] ASan + UBSan build + tests"
cmake -S . -B build-san -DCMAKE_C_COMPILER=gcc -DRILL_SANITIZE=ON \
  -DRILL_BUILD_TESTS=ON -DRILL_BUILD_BENCH=OFF >/dev/null
cmake --build build-san -j"$jobs"
(cd build-san && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --no-tests=error --output-on-failure -j"$jobs")

echo "== [4/4] checksrc"
bash scripts/checksrc.sh

echo "all tests passed"
