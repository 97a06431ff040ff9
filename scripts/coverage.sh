#!/usr/bin/env bash
# Line and branch coverage of the library by the test suite (RELIABILITY.md
# G13): a gcc --coverage build in build-cov, `ctest -LE heavy`, then gcovr
# per directory. Fails when a directory is under its floor:
#   src/stream, src/json, src/gguf        >= 95% lines, >= 90% branches
#   providers, src/http, src/core         >= 85% lines, >= 75% branches
#   src/embed                             reported, no floor
#   coverage.sh [--no-build]   (--no-build: report on the existing build-cov)
# Counters are updated atomically: the embedder's thread pool otherwise
# races them into negative counts that gcov prints and gcovr cannot read.
# Warnings are not errors here: at -O0 gcc warns differently (e.g. format-
# truncation in tests/tools), and the other builds hold the -Werror line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [[ "${1:-}" != "--no-build" ]]; then
  cmake -S . -B build-cov -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="--coverage -O0 -fprofile-update=atomic" -DCMAKE_EXE_LINKER_FLAGS=--coverage \
    -DCMAKE_SHARED_LINKER_FLAGS=--coverage -DRILL_WERROR=OFF \
    -DRILL_BUILD_TESTS=ON -DRILL_BUILD_BENCH=OFF >/dev/null
  cmake --build build-cov -j"$(nproc)" >build-cov/build.log 2>&1 || {
    tail -40 build-cov/build.log; echo "coverage: the build failed"; exit 1; }
  find build-cov -name '*.gcda' -delete
  # library_shape checks the shared library's exported symbols, which the
  # gcov runtime adds to here (__gcov_*): it runs in the other builds.
  (cd build-cov && ctest -LE heavy -E '^library_shape$' -j"$(nproc)" \
     --output-on-failure >ctest.log 2>&1) || {
    tail -40 build-cov/ctest.log; echo "coverage: the tests failed"; exit 1; }
fi
# One gcovr pass over the library's sources; the per-directory sums below.
gcovr -r "$root" --object-directory build-cov --branches --exclude-unreachable-branches \
  --exclude-throw-branches -f "$root/src/" -f "$root/providers/" \
  --json build-cov/coverage.json build-cov >/dev/null 2>build-cov/gcovr.log || {
    tail -20 build-cov/gcovr.log; echo "coverage: gcovr failed"; exit 1; }
python3 - "$root" build-cov/coverage.json <<'PY'
import json, sys
root, path = sys.argv[1], sys.argv[2]
floors = {  # directory: (lines %, branches %) or None for no floor
    "src/stream": (95, 90), "src/json": (95, 90), "src/gguf": (95, 90),
    "providers": (85, 75), "src/http": (85, 75), "src/core": (85, 75),
    "src/embed": None,
}
sums = {d: [0, 0, 0, 0] for d in floors}  # lines hit, lines, branches hit, branches
for f in json.load(open(path))["files"]:
    name = f["file"]
    d = next((d for d in floors if name.startswith(d + "/")), None)
    if d is None:
        continue
    s = sums[d]
    for ln in f["lines"]:
        if ln.get("gcovr/noncode"):
            continue
        s[1] += 1
        s[0] += ln["count"] > 0
        for b in ln["branches"]:
            s[3] += 1
            s[2] += b["count"] > 0
bad = 0
print(f"{'directory':<12} {'lines':>16} {'branches':>16}  floor")
for d, fl in floors.items():
    lh, lt, bh, bt = sums[d]
    lp = 100.0 * lh / lt if lt else 100.0
    bp = 100.0 * bh / bt if bt else 100.0
    verdict = "-"
    if fl:
        ok = lp >= fl[0] and bp >= fl[1]
        verdict = f"{fl[0]}/{fl[1]} {'ok' if ok else 'UNDER'}"
        bad += not ok
    print(f"{d:<12} {lp:6.2f}% {lh:>5}/{lt:<5} {bp:6.2f}% {bh:>5}/{bt:<5}  {verdict}")
sys.exit(1 if bad else 0)
PY
