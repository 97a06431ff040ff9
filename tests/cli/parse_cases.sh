#!/usr/bin/env bash
# End-to-end check of `rill parse` against the data-driven framer cases.
#   parse_cases.sh RILL_BINARY DATA_DIR
# Every tests/unit/data/{sse,ndjson}/*.case file is run through the command
# at several --chunk sizes; stdout and the exit code must equal the case's
# "expect:" lines and "exit:" value. The format is described in
# docs/streaming.md; tests/unit/test_framer_cases.c checks the same files
# through the library at every split position.
set -u
# The command calls setlocale(LC_ALL, ""): run it under a comma-decimal
# locale (scripts/setup-debian.sh --test generates it) to show the output
# does not depend on it.
export LC_ALL=de_DE.UTF-8
# Without the locale setlocale fails and the cases would pass in "C",
# proving nothing (RELIABILITY G15): fail instead.
if ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  echo "FAIL: locale de_DE.UTF-8 missing (scripts/setup-debian.sh --test makes it)"
  exit 1
fi
rill=$1
data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Split a case file into input (decoded bytes), expect, exit and max-record.
split_case() {
  perl -e '
    my ($file, $dir) = @ARGV;
    open(my $f, "<", $file) or die "$file: $!";
    my ($sec, $in, $exp, $exit, $max) = ("", "", "", 0, "");
    while (my $l = <$f>) {
      chomp $l;
      if ($sec ne "input" && $sec ne "expect" && $l =~ /^#/) { next; }
      if ($l =~ /^max-record:\s*(\d+)\s*$/ && $sec eq "") { $max = $1; next; }
      if ($l eq "input:") { $sec = "input"; next; }
      if ($l eq "expect:") { $sec = "expect"; next; }
      if ($l =~ /^exit:\s*(\d+)\s*$/ && $sec eq "expect") { $exit = $1; $sec = "done"; next; }
      if ($sec eq "input") { $in .= $l; }
      elsif ($sec eq "expect") { $exp .= "$l\n" if length $l; }   # output has no blank lines
    }
    $in =~ s/\\(x([0-9A-Fa-f]{2})|n|r|t|0|\\)/
      defined $2 ? chr(hex $2) :
      $1 eq "n" ? "\n" : $1 eq "r" ? "\r" : $1 eq "t" ? "\t" :
      $1 eq "0" ? "\0" : "\\"/ge;
    open(my $o, ">:raw", "$dir/input") or die; print $o $in; close $o;
    open($o, ">:raw", "$dir/expect") or die; print $o $exp; close $o;
    open($o, ">", "$dir/exit") or die; print $o "$exit\n"; close $o;
    open($o, ">", "$dir/max") or die; print $o "$max\n"; close $o;
  ' "$1" "$tmp"
}

n_cases=0
n_runs=0
n_fail=0
for kind in sse ndjson; do
  shopt -s nullglob
  files=("$data/$kind"/*.case)
  if [[ ${#files[@]} -eq 0 ]]; then
    echo "FAIL: no cases in $data/$kind" >&2
    exit 1
  fi
  for f in "${files[@]}"; do
    split_case "$f" || { echo "FAIL: cannot read $f" >&2; n_fail=$((n_fail + 1)); continue; }
    n_cases=$((n_cases + 1))
    want_exit=$(cat "$tmp/exit")
    max=$(cat "$tmp/max")
    extra=()
    [[ -n "$max" ]] && extra=(--max-record "$max")
    for chunk in 1 2 3 5 7 64K; do
      "$rill" parse "$kind" --chunk "$chunk" "${extra[@]}" <"$tmp/input" \
        >"$tmp/out" 2>"$tmp/err"
      got_exit=$?
      n_runs=$((n_runs + 1))
      if [[ $got_exit -ne $want_exit ]] || ! cmp -s "$tmp/out" "$tmp/expect"; then
        n_fail=$((n_fail + 1))
        echo "FAIL: $f --chunk $chunk: exit $got_exit (want $want_exit)" >&2
        diff "$tmp/expect" "$tmp/out" | head -20 >&2
        head -3 "$tmp/err" >&2
      fi
    done
  done
done

# Usage errors exit 2, and a bad chunk size is refused.
for args in "" "parse" "parse xml" "parse sse --chunk 0" "parse sse --chunk x" \
            "parse ndjson --max-record 65M" "frobnicate"; do
  # shellcheck disable=SC2086
  "$rill" $args </dev/null >/dev/null 2>&1
  rc=$?
  n_runs=$((n_runs + 1))
  if [[ $rc -ne 2 ]]; then
    echo "FAIL: 'rill $args' exited $rc, want 2" >&2
    n_fail=$((n_fail + 1))
  fi
done

echo "parse_cases: $n_cases cases, $n_runs runs, $n_fail failures"
[[ $n_fail -eq 0 ]]
