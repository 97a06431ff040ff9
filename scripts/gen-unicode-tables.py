#!/usr/bin/env python3
"""Generate src/embed/unicode_tables.c, the character data of the WordPiece
tokenizer (src/embed/tokenizer.c), from the Unicode Character Database.

    python3 scripts/gen-unicode-tables.py > src/embed/unicode_tables.c
    python3 scripts/gen-unicode-tables.py --compare LLAMA/src/unicode-data.cpp

Input: UnicodeData.txt (Debian package unicode-data:
/usr/share/unicode/UnicodeData.txt, or --ucd PATH). Needed only to
regenerate; the output is committed.

The tables reproduce what llama.cpp's WPM tokenizer sees, not a general
Unicode library:

- class of a code point, in the order llama.cpp tests it: SPACE (its fixed
  White_Space list), DROP (general category Cc Cf Co Cs, and U+FFFD which
  stands for invalid input), MARK (Mn Mc Me), SPLIT (any P*, an S* below
  U+007F, or one of the CJK ideograph ranges the tokenizer hard-codes),
  else JOIN (letters, numbers, other symbols, unassigned code points);
- simple lowercase mapping (UnicodeData field 13);
- "NFD base": the first code point of the full canonical decomposition,
  which is all llama.cpp keeps (e -> e, Hangul syllable -> its leading jamo).

Unicode version: llama.cpp's tables (the release node-llama-cpp 3.22.1
bundles) were generated from Unicode 15.1. Debian 12 ships 15.0.0. 15.1 added
exactly 627 characters and changed no existing property the tables use:
U+2EBF0..U+2EE5D (CJK Extension I, Lo), U+2FFC..U+2FFF (ideographic
description characters, So) and U+31EF (CJK stroke, So). The generator adds
them when the input is 15.0, so the output is 15.1 either way. With --compare
it checks every code point 0..U+10FFFF against llama.cpp's generated file
(class, lowercase, NFD base) and prints each difference.
"""
import argparse
import bisect
import re
import sys

MAX_CP = 0x110000
JOIN, SPACE, DROP, MARK, SPLIT = 0, 1, 2, 3, 4
CLASS_NAMES = ["JOIN", "SPACE", "DROP", "MARK", "SPLIT"]

# llama.cpp's whitespace list (PropList's White_Space without U+001C..1F).
WHITESPACE = (list(range(0x09, 0x0E)) + list(range(0x2000, 0x200B)) +
              [0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F,
               0x3000])
# The ranges llama.cpp's WPM tokenizer treats as CJK ideographs (copied from
# HF BertTokenizer, including its 0x2B920 lower bound).
CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF),
       (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B920, 0x2CEAF),
       (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]
# Unicode 15.1's additions (see above).
ADD_15_1 = [(0x2EBF0, 0x2EE5D, "Lo"), (0x2FFC, 0x2FFF, "So"),
            (0x31EF, 0x31EF, "So")]

S_BASE, L_BASE, V_COUNT, T_COUNT = 0xAC00, 0x1100, 21, 28
N_COUNT, S_COUNT = V_COUNT * T_COUNT, 19 * V_COUNT * T_COUNT


def read_ucd(path):
    cat = {}
    lower = {}
    decomp = {}
    first = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            cp = int(fields[0], 16)
            name, gc = fields[1], fields[2]
            if name.endswith(", First>"):
                first = cp
                continue
            if name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    cat[c] = gc
                continue
            cat[cp] = gc
            if fields[13]:
                lower[cp] = int(fields[13], 16)
            d = fields[5]
            if d and not d.startswith("<"):
                decomp[cp] = [int(x, 16) for x in d.split()]
    return cat, lower, decomp


def nfd_first(cp, decomp):
    if S_BASE <= cp < S_BASE + S_COUNT:
        return L_BASE + (cp - S_BASE) // N_COUNT
    while cp in decomp:
        cp = decomp[cp][0]
    return cp


def build(path):
    cat, lower, decomp = read_ucd(path)
    is_15_0 = 0x31350 in cat and 0x2EBF0 not in cat
    if is_15_0:
        for a, b, gc in ADD_15_1:
            for c in range(a, b + 1):
                cat[c] = gc
    ws = set(WHITESPACE)
    cls = bytearray(MAX_CP)
    for cp in range(MAX_CP):
        gc = cat.get(cp, "Cn")
        if cp in ws:
            c = SPACE
        elif gc in ("Cc", "Cf", "Co", "Cs") or cp == 0xFFFD:
            c = DROP
        elif gc[0] == "M":
            c = MARK
        elif (gc[0] == "P" or (gc[0] == "S" and cp < 0x7F) or
              any(a <= cp <= b for a, b in CJK)):
            c = SPLIT
        else:
            c = JOIN
        cls[cp] = c
    nfd = {}
    for cp in cat:
        n = nfd_first(cp, decomp)
        if n != cp:
            nfd[cp] = n
    return cls, lower, nfd


def class_ranges(cls):
    out = [(0, cls[0])]
    for cp in range(1, MAX_CP):
        if cls[cp] != out[-1][1]:
            out.append((cp, cls[cp]))
    return out


def lower_runs(lower):
    """(first, count, stride, delta): cp = first + k*stride maps to cp+delta."""
    runs = []
    for cp in sorted(lower):
        d = lower[cp] - cp
        if runs:
            f, n, s, dd = runs[-1]
            last = f + (n - 1) * s
            if dd == d and ((n == 1 and cp - last in (1, 2)) or
                            (n > 1 and cp - last == s)):
                runs[-1] = (f, n + 1, cp - last if n == 1 else s, d)
                continue
        runs.append((cp, 1, 1, d))
    return runs


def nfd_runs(nfd):
    runs = []
    for cp in sorted(nfd):
        if runs and runs[-1][1] == cp - 1 and runs[-1][2] == nfd[cp]:
            runs[-1] = (runs[-1][0], cp, nfd[cp])
        else:
            runs.append((cp, cp, nfd[cp]))
    return runs


def emit(cls, lower, nfd, out):
    cr = class_ranges(cls)
    lr = lower_runs(lower)
    nr = nfd_runs(nfd)
    for f, n, s, d in lr:
        assert n < 1 << 16 and s < 1 << 8 and -(1 << 23) <= d < 1 << 23
    for a, b, _ in nr:
        assert b - a < 1 << 11
    w = out.write
    w("/* Generated by scripts/gen-unicode-tables.py from UnicodeData.txt\n"
      " * (Unicode 15.1, the version of llama.cpp's tables). Do not edit. */\n"
      "#include \"embed/unicode.h\"\n\n")
    w("/* (first code point << 3) | class; a range runs to the next entry. */\n")
    w("const uint32_t rill__uc_class_ranges[] = {\n")
    for i in range(0, len(cr), 9):
        w("  " + " ".join("0x%xu," % ((a << 3) | c) for a, c in cr[i:i + 9]) + "\n")
    w("};\nconst size_t rill__uc_class_ranges_n = %d;\n\n" % len(cr))
    w("/* first, count, stride, delta: first + k*stride lowercases to itself\n"
      " * + delta, for k < count. */\n")
    w("const rill__uc_lower_run rill__uc_lower_runs[] = {\n")
    for f, n, s, d in lr:
        w("  {0x%xu, %d, %d, %d},\n" % (f, n, s, d))
    w("};\nconst size_t rill__uc_lower_runs_n = %d;\n\n" % len(lr))
    w("/* first | (last - first) << 21, and the NFD base of the range. */\n")
    w("const rill__uc_nfd_run rill__uc_nfd_runs[] = {\n")
    for i in range(0, len(nr), 5):
        w("  " + " ".join("{0x%xu, 0x%xu}," % (a | ((b - a) << 21), n)
                          for a, b, n in nr[i:i + 5]) + "\n")
    w("};\nconst size_t rill__uc_nfd_runs_n = %d;\n" % len(nr))


def compare(cls, lower, nfd, path):
    """Check against llama.cpp's generated unicode-data.cpp (facts only)."""
    src = open(path, encoding="utf-8").read()

    def block(name):
        i = src.index(name)
        return src[src.index("{", i + len(name)) + 1:src.index("};", i)]
    pair = r"\{0x([0-9A-F]+), 0x([0-9A-F]+)\}"
    flags = [(int(a, 16), int(b, 16)) for a, b in
             re.findall(pair, block("unicode_ranges_flags"))]
    ws = {int(x, 16) for x in
          re.findall(r"0x([0-9A-F]+)", block("unicode_set_whitespace"))}
    lw = {int(a, 16): int(b, 16) for a, b in
          re.findall(pair, block("unicode_map_lowercase"))}
    nf = [tuple(int(x, 16) for x in t) for t in re.findall(
        r"\{0x([0-9A-F]+), 0x([0-9A-F]+), 0x([0-9A-F]+)\}",
        block("unicode_ranges_nfd"))]
    starts = [a for a, _ in flags]
    nstarts = [a for a, _, _ in nf]
    bad = 0
    for cp in range(MAX_CP):
        f = flags[bisect.bisect_right(starts, cp) - 1][1]
        if cp in ws:
            c = SPACE
        elif f & 0x80 or cp == 0xFFFD:
            c = DROP
        elif f & 0x10:
            c = MARK
        elif f & 0x20 or (f & 0x40 and cp < 0x7F) or any(
                a <= cp <= b for a, b in CJK):
            c = SPLIT
        else:
            c = JOIN
        i = bisect.bisect_right(nstarts, cp) - 1
        n = nf[i][2] if nf[i][0] <= cp <= nf[i][1] else cp
        mine_n = nfd.get(cp, cp)
        if c != cls[cp] or lw.get(cp, cp) != lower.get(cp, cp) or n != mine_n:
            bad += 1
            if bad <= 50:
                print("U+%04X: llama %s lower %X nfd %X; here %s lower %X nfd %X"
                      % (cp, CLASS_NAMES[c], lw.get(cp, cp), n,
                         CLASS_NAMES[cls[cp]], lower.get(cp, cp), mine_n))
    print("%d code points differ" % bad)
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ucd", default="/usr/share/unicode/UnicodeData.txt")
    ap.add_argument("--compare", metavar="UNICODE_DATA_CPP")
    a = ap.parse_args()
    cls, lower, nfd = build(a.ucd)
    if a.compare:
        sys.exit(1 if compare(cls, lower, nfd, a.compare) else 0)
    emit(cls, lower, nfd, sys.stdout)


if __name__ == "__main__":
    main()
