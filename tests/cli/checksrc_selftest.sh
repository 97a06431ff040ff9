#!/usr/bin/env bash
# scripts/checksrc.sh must fail on each banned use, naming it and its line,
# and pass on the clean tree and on the look-alikes it must not flag.
# Usage: checksrc_selftest.sh SOURCE_DIR. Works on a copy of src/,
# providers/ and the script in a temporary directory.
set -euo pipefail
root=${1:?usage: checksrc_selftest.sh SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/scripts"
cp "$root/scripts/checksrc.sh" "$tmp/scripts/"
cp -r "$root/src" "$root/providers" "$tmp/"
target=src/core/buf.c   # any library file; restored after each case
cp "$tmp/$target" "$tmp/pristine.c"
fails=0
n_cases=0

run() { (cd "$tmp" && bash scripts/checksrc.sh) >"$tmp/out" 2>&1; }

if ! run; then
  echo "FAIL: clean tree not accepted:"; cat "$tmp/out"; fails=$((fails + 1))
fi

# The cases below touch one file: the rest of the copy would only slow
# each run down.
rm -rf "$tmp/providers"
find "$tmp/src" -mindepth 1 -maxdepth 1 ! -name core -exec rm -rf {} +

# plant RULE NAME CODE: CODE on a new last line must give "file:line: RULE: NAME".
plant() {
  local rule=$1 name=$2 code=$3 line
  n_cases=$((n_cases + 1))
  cp "$tmp/pristine.c" "$tmp/$target"
  printf '%s\n' "$code" >>"$tmp/$target"
  line=$(wc -l <"$tmp/$target")
  if run; then
    echo "FAIL: '$code' passed"; fails=$((fails + 1))
  elif ! grep -qF "$target:$line: $rule: $name" "$tmp/out"; then
    echo "FAIL: '$code' not reported as $target:$line: $rule: $name; got:"
    cat "$tmp/out"; fails=$((fails + 1))
  fi
}

# clean CODE: must not be a finding.
clean() {
  n_cases=$((n_cases + 1))
  cp "$tmp/pristine.c" "$tmp/$target"
  printf '%s\n' "$1" >>"$tmp/$target"
  if ! run; then
    echo "FAIL: '$1' reported:"; cat "$tmp/out"; fails=$((fails + 1))
  fi
}

for f in sprintf vsprintf strcpy strcat strncpy strncat strtok gets alloca \
         atoi atol atoll atof; do
  plant banned-function "$f" "static void p(char *d) { $f(d, 0); }"
done
for f in abort exit _exit _Exit quick_exit assert; do
  plant process-exit "$f" "static void p(int x) { $f(x); }"
done
for f in strtod strtof strtold setlocale; do
  plant locale "$f" "static void p(const char *s) { (void)$f(s, 0); }"
done
for f in malloc calloc realloc free strdup; do
  plant direct-alloc "$f" "static void p(void *q) { $f(q); }"
done
plant banned-function sprintf "  if (x) n = sprintf (buf, \"%d\", x);"
for c in '%f' '%.3f' '%g' '%.*g' '%e' '%10.2E' '%Lf' '%a'; do
  plant float-format "$c" "static void p(char *b, double v) { snprintf(b, 8, \"v=$c\", v); }"
done
plant float-format '%g' $'static const char *m = "a %s"\n  "b %g";'

clean "/* abort() and exit(1) in prose, sprintf(buf) too */"
clean "// assert(x) in a line comment"
clean "static const char *m = \"never call abort() or exit(\";"
clean "static void p(const char *s, locale_t l) { (void)strtod_l(s, 0, l); }"
clean "static void p(struct s *o) { o->exit(0); o->free(o); rill__free(o); }"
clean "static void p(void) { _Static_assert(1, \"x\"); static_assert(1, \"y\"); }"
clean "static void p(char *b) { snprintf(b, 8, \"100%%f %s %d %zu\", \"\", 1, (size_t)2); }"
clean $'/* checksrc: allow float-format (test: the marker on the line above) */\nstatic void p(char *b) { snprintf(b, 8, "%g", 1.0); }'

if [[ $fails -ne 0 ]]; then
  echo "checksrc_selftest: $fails of $n_cases cases failed"; exit 1
fi
echo "checksrc_selftest: $n_cases cases passed"
