#!/usr/bin/env bash
# Run the unit test programs under valgrind memcheck: any error or leak fails.
#   valgrind-check.sh BUILD_DIR
# Tests labelled "heavy" in tests/CMakeLists.txt are left out: they stream
# gigabytes or run 10,000 requests and measure RSS, which takes hours and
# means nothing under valgrind; ASan runs them (scripts/test.sh), and their
# own allocator-statistics assertions cover their memory.
set -euo pipefail
build=${1:-build}
status=0
n=0
heavy=" $(cd "$build" && ctest -N -L heavy | awk '/Test +#/ {print $3}' | tr '\n' ' ') "
[[ "$heavy" == *test_heap_constant* ]] || { echo "valgrind: cannot list heavy tests in $build" >&2; exit 1; }
for t in "$build"/bin/test_*; do
  [[ "$heavy" == *" $(basename "$t") "* ]] && continue
  n=$((n + 1))
  if ! valgrind -q --error-exitcode=9 --leak-check=full \
       --errors-for-leak-kinds=definite,indirect,possible \
       "$t" >"$build/valgrind-$(basename "$t").log" 2>&1; then
    echo "valgrind: $(basename "$t") FAILED"; tail -40 "$build/valgrind-$(basename "$t").log"
    status=1
  else
    echo "valgrind: $(basename "$t") clean"
  fi
done
[[ $n -gt 0 ]] || { echo "valgrind: no test programs in $build/bin" >&2; exit 1; }
exit $status
