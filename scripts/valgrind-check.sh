#!/usr/bin/env bash
# Run the unit test programs under valgrind memcheck: any error or leak fails.
#   valgrind-check.sh BUILD_DIR
# test_heap_constant and test_chat_e2e stream gigabytes and would take hours
# under valgrind; their memory behaviour is covered by ASan and by their own
# allocator-statistics assertions.
set -euo pipefail
build=${1:-build}
status=0
n=0
for t in "$build"/bin/test_*; do
  case "$(basename "$t")" in test_heap_constant | test_chat_e2e) continue ;; esac
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
