#!/usr/bin/env bash
# Ban functions that have no place in a library that parses hostile input
# (as curl's checksrc does), in src/ and providers/:
# - unbounded string copies: sprintf vsprintf strcpy strcat strncpy strncat
#   strtok gets alloca;
# - number parsing without error reporting: atoi atol atoll atof;
# - process-ending calls (a library never ends its host, G14): abort exit
#   _exit _Exit quick_exit assert (the project has no RILL_ASSERT; an
#   internal "can't happen" returns RILL_E_INTERNAL);
# - locale-dependent numbers (G15): strtod strtof strtold, setlocale, and
#   printf-family %f %e %g %a conversions; the _l variants with the C
#   locale (src/json/number.c, writer.c) are the way;
# - the C allocator outside src/core/alloc.c (use rill__malloc & co.).
# A line may opt out of one rule with a comment on it or on the line above
# naming the rule and saying why:
#   /* checksrc: allow float-format (uselocale(C) is in force here) */
# Comments and string literals are blanked before the function checks, so
# prose that names a banned call is not a finding.
# Output: one "file:line: rule: name: code" line per finding; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
dirs=()
for d in src providers; do [[ -d $d ]] && dirs+=("$d"); done
[[ ${#dirs[@]} -gt 0 ]] || { echo "checksrc: no sources found" >&2; exit 1; }
mapfile -t files < <(find "${dirs[@]}" \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) | sort)
[[ ${#files[@]} -gt 0 ]] || { echo "checksrc: no sources found" >&2; exit 1; }

exec perl -e '
use strict; use warnings;
my %rule = (
  (map { $_ => "banned-function" } qw(sprintf vsprintf strcpy strcat strncpy
     strncat strtok gets alloca atoi atol atoll atof)),
  (map { $_ => "process-exit" } qw(abort exit _exit _Exit quick_exit assert)),
  (map { $_ => "locale" } qw(strtod strtof strtold setlocale)),
);
my $banned = join "|", sort keys %rule;
my $alloc = "malloc|calloc|realloc|free|strdup|strndup|aligned_alloc|posix_memalign";
# A call of the name itself: not a member (s->exit, o.free), not a longer
# identifier (strtod_l, rill__free).
my $call = sub { qr/(?<![\w.>])($_[0])\s*\(/ };
my ($re_banned, $re_alloc) = ($call->($banned), $call->($alloc));
# A printf conversion that writes a floating-point number.
my $floatconv = qr/%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*)?)?[lL]?([fFeEgGaA])/;
my ($n_found, $n_files) = (0, 0);

for my $f (@ARGV) {
  open my $fh, "<", $f or die "checksrc: $f: $!\n";
  local $/; my $raw = <$fh>; close $fh; $n_files++;
  my @raw = split /\n/, $raw, -1;
  # Blank comments (keeping newlines); "code" also empties literals.
  my ($code, $strs) = ($raw, $raw);
  my $lit = qr{(/\*.*?\*/)|(//[^\n]*)|("(?:\\.|[^"\\\n])*")|('"'"'(?:\\.|[^'"'"'\\\n])*'"'"')}s;
  $code =~ s{$lit}{ defined $1 ? "\n" x ($1 =~ tr/\n//) : defined $2 ? "" :
                    defined $3 ? "\"\"" : "0" }ge;
  $strs =~ s{$lit}{ defined $1 ? "\n" x ($1 =~ tr/\n//) : defined $2 ? "" :
                    defined $3 ? $3 : $4 }ge;
  my @code = split /\n/, $code, -1;
  my @strs = split /\n/, $strs, -1;
  my $report = sub {
    my ($i, $r, $name) = @_;
    for my $j ($i, $i - 1) {
      return if $j >= 0 && $raw[$j] =~ /checksrc: allow \Q$r\E\b/;
    }
    (my $text = $raw[$i]) =~ s/^\s+//;
    print "$f:", $i + 1, ": $r: $name: $text\n";
    $n_found++;
  };
  for my $i (0 .. $#code) {
    while ($code[$i] =~ /$re_banned/g) { $report->($i, $rule{$1}, $1) }
    if ($f ne "src/core/alloc.c") { # the one place that calls the C allocator
      while ($code[$i] =~ /$re_alloc/g) {
        $report->($i, "direct-alloc", "$1 (use rill__malloc & co.)");
      }
    }
    while ($strs[$i] =~ /"((?:\\.|[^"\\])*)"/g) {
      my $s = $1;
      $s =~ s/%%//g;
      $report->($i, "float-format", $&) if $s =~ $floatconv;
    }
  }
}
if ($n_found) { print "checksrc: $n_found finding(s) in $n_files files\n"; exit 1 }
print "checksrc: $n_files files clean\n";
' "${files[@]}"
