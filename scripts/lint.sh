#!/usr/bin/env bash
# Static analysis for G1 (RELIABILITY.md): cppcheck and clang-tidy over the
# library (src/, providers/) and the CLI (examples/cli/). Exits non-zero on
# any finding. clang-tidy's checks live in .clang-tidy; it reads the flags
# of each file from compile_commands.json in a build directory made here.
#
# Functions still above the cognitive-complexity threshold are listed in
# scripts/lint-complexity-baseline.txt until they are split: a listed one
# is counted, not failed; a new one fails, and so does a listed one that
# no longer needs its line (the list only shrinks).
#
# Usage: scripts/lint.sh [build-dir]   (default build-lint; CLANG_TIDY,
# CPPCHECK and LINT_JOBS (2) override the tools and the parallelism)
set -euo pipefail
cd "$(dirname "$0")/.."
bdir=${1:-build-lint}
jobs=${LINT_JOBS:-2}
tidy=${CLANG_TIDY:-clang-tidy}
cppcheck=${CPPCHECK:-cppcheck}
baseline=scripts/lint-complexity-baseline.txt
start=$(date +%s)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

mapfile -t files < <(find src providers examples/cli -name '*.c' | sort)
[[ ${#files[@]} -gt 0 ]] || { echo "lint: no sources found" >&2; exit 1; }

# --- cppcheck -----------------------------------------------------------------
# Every configuration of the #if blocks is checked (no -D), so code behind
# __AVX2__ and friends is seen too.
"$cppcheck" --enable=warning,portability,performance --std=c11 \
  --inline-suppr --quiet -j "$jobs" -Iinclude -Isrc -Iproviders \
  --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
  "${files[@]}" 2>"$out/cppcheck.txt" || true
n_cpp=$(grep -cE ': (error|warning|style|performance|portability): ' \
  "$out/cppcheck.txt" || true)

# --- clang-tidy ---------------------------------------------------------------
cmake -S . -B "$bdir" -DCMAKE_C_COMPILER=clang -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_BENCH=OFF >"$out/cmake.txt" 2>&1 ||
  { cat "$out/cmake.txt"; exit 1; }
printf '%s\n' "${files[@]}" |
  xargs -P "$jobs" -n 4 "$tidy" -p "$bdir" --quiet >"$out/tidy.txt" 2>"$out/tidy.err" ||
  true
if grep -qE 'error: .*(compilation database|no such file)' "$out/tidy.err"; then
  cat "$out/tidy.err" >&2; exit 1
fi
# One line per finding; a header's finding is seen from every file that
# includes it, so count each place once.
grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): .*\[[a-z0-9.,-]+\]$' "$out/tidy.txt" |
  sed "s#^$PWD/##" | sort -u >"$out/tidy_findings.txt" || true

# Complexity findings of listed functions are known; all else is new.
: >"$out/known.txt"
: >"$out/new.txt"
while IFS= read -r line; do
  if [[ $line == *readability-function-cognitive-complexity* ]]; then
    f=${line%%:*}
    fn=$(sed -E "s/.*function '([^']+)'.*/\1/" <<<"$line")
    if grep -qxF "$f $fn" "$baseline" 2>/dev/null; then
      echo "$f $fn" >>"$out/known.txt"; continue
    fi
  fi
  echo "$line" >>"$out/new.txt"
done <"$out/tidy_findings.txt"
sort -u -o "$out/known.txt" "$out/known.txt"
stale=$(grep -vE '^(#|$)' "$baseline" 2>/dev/null | sort -u | comm -23 - "$out/known.txt" || true)
n_tidy=$(wc -l <"$out/new.txt")
n_known=$(wc -l <"$out/known.txt")

status=0
if [[ $n_cpp -gt 0 ]]; then
  echo "== cppcheck: $n_cpp finding(s)"; cat "$out/cppcheck.txt"; status=1
fi
if [[ $n_tidy -gt 0 ]]; then
  echo "== clang-tidy: $n_tidy finding(s)"; cat "$out/new.txt"
  echo "-- details:"; cat "$out/tidy.txt"; status=1
fi
if [[ -n $stale ]]; then
  echo "== $baseline lists functions now at or under the threshold; remove:"
  echo "$stale"; status=1
fi
echo "lint: ${#files[@]} files; cppcheck $n_cpp finding(s); clang-tidy $n_tidy" \
     "finding(s), $n_known function(s) still in $baseline; $(( $(date +%s) - start )) s"
exit $status
