#!/usr/bin/env bash
# G16 (and G12's cross-thread cancel): the threaded tests under
# ThreadSanitizer, in their own build directory (clang, -fsanitize=thread):
#   test_cancel_each  rill_cancel from another thread, one client per thread
#                     streaming from rill-mock, cancel at every callback;
#   test_embed        the embedder's worker pool, concurrent embed calls on
#                     one embedder, thread counts, refcounts.
# halt_on_error=1: the first report fails the run.
#
# usage: bash scripts/tsan.sh            (JOBS=N for the build, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${RILL_TSAN_BUILD:-build-tsan}
flags="-fsanitize=thread -fno-omit-frame-pointer -g"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRILL_WERROR=ON -DRILL_BUILD_TESTS=ON -DRILL_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target test_cancel_each test_embed rill-mock

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
# TSan's shadow layout needs the classic address-space layout: kernels with
# 32+ bits of mmap randomisation make it abort at start, so ASLR is turned
# off for the test processes (setarch -R) when setarch is there.
run() {
  echo "== tsan: $1"
  if command -v setarch >/dev/null; then
    setarch "$(uname -m)" -R "$build/bin/$1"
  else
    "$build/bin/$1"
  fi
}
run test_cancel_each
run test_embed
echo "tsan: clean"
