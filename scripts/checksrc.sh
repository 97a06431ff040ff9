#!/usr/bin/env bash
# Ban functions that have no place in a library that parses hostile input
# (as curl's checksrc does): unbounded string copies, number parsing without
# error reporting, process-ending calls (a library never ends its host), and
# locale-dependent number conversion outside the one guarded place.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
dirs=()
for d in src providers; do [[ -d $d ]] && dirs+=("$d"); done
files=$(find "${dirs[@]}" -name '*.c' -o -name '*.h' | sort)
[[ -z "$files" ]] && { echo "checksrc: no sources found" >&2; exit 1; }
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strncat|strtok|atoi|atol|atof|gets|abort|exit|_exit|assert|alloca|setlocale)[[:space:]]*\('
# Plain strtod/strtof/printf("%f") depend on LC_NUMERIC; src/json/number.c
# and writer.c use the _l variants or a C-locale guard.
localedep='\b(strtod|strtof|strtold)[[:space:]]*\('
direct_alloc='(^|[^_a-z])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\('
for f in $files; do
  # Strip comments and string literals crudely, then look.
  body=$(sed -e 's://.*$::' -e 's:"[^"]*"::g' "$f")
  if hits=$(grep -nE "$banned" <<<"$body"); then
    echo "$f: banned function:"; echo "$hits"; status=1
  fi
  if hits=$(grep -nE "$localedep" <<<"$body"); then
    echo "$f: locale-dependent number parsing (use the _l variant):"; echo "$hits"; status=1
  fi
  case "$f" in
    src/core/alloc.c) ;; # the one place that calls the C allocator
    *)
      if hits=$(grep -nE "$direct_alloc" <<<"$body" | grep -vE '\.(malloc|realloc|free)|->(malloc|realloc|free)'); then
        echo "$f: direct allocation (use rill__malloc & co.):"; echo "$hits"; status=1
      fi ;;
  esac
done
if [[ $status -eq 0 ]]; then echo "checksrc: $(wc -w <<<"$files") files clean"; fi
exit $status
