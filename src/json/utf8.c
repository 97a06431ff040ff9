/*
 * utf8.c — decode one UTF-8 sequence strictly, encode one code point.
 *
 * Job: the writer needs, for each non-ASCII byte, either the length of the
 * well-formed sequence that starts there or the length of the "maximal
 * subpart of an ill-formed subsequence" (Unicode 15, section 3.9, "U+FFFD
 * Substitution of Maximal Subparts") to replace with one U+FFFD; the
 * unescaper needs to encode code points. Both live here so that every part
 * of src/json agrees on what well-formed UTF-8 is (Unicode Table 3-7):
 *
 *   U+0000..U+007F      00..7F
 *   U+0080..U+07FF      C2..DF 80..BF
 *   U+0800..U+0FFF      E0     A0..BF 80..BF
 *   U+1000..U+CFFF      E1..EC 80..BF 80..BF
 *   U+D000..U+D7FF      ED     80..9F 80..BF
 *   U+E000..U+FFFF      EE..EF 80..BF 80..BF
 *   U+10000..U+3FFFF    F0     90..BF 80..BF 80..BF
 *   U+40000..U+FFFFF    F1..F3 80..BF 80..BF 80..BF
 *   U+100000..U+10FFFF  F4     80..8F 80..BF 80..BF
 *
 * validate.c inlines the same table in its hot loop (a call per byte would
 * cost too much there); the unit tests check that both agree.
 *
 * Must not know: JSON syntax, buffers, allocation.
 */
#include "json/json.h"

size_t rill__utf8_seq(const unsigned char *s, size_t n, size_t *bad) {
  unsigned char c, lo = 0x80, hi = 0xBF;
  size_t need, k;
  *bad = 1;
  if (n == 0)
    return 0;
  c = s[0];
  if (c < 0x80)
    return 1;
  if (c < 0xC2 || c > 0xF4)
    return 0; /* continuation byte, overlong lead C0/C1, or past U+10FFFF */
  if (c < 0xE0) {
    need = 1;
  } else if (c < 0xF0) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0; /* overlong */
    else if (c == 0xED)
      hi = 0x9F; /* UTF-16 surrogates */
  } else {
    need = 3;
    if (c == 0xF0)
      lo = 0x90; /* overlong */
    else if (c == 0xF4)
      hi = 0x8F; /* past U+10FFFF */
  }
  for (k = 1; k <= need; k++) {
    if (k >= n || s[k] < lo || s[k] > hi) {
      *bad = k; /* the lead plus the continuations that were still valid */
      return 0;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return need + 1;
}

size_t rill__utf8_put(uint32_t cp, char *out) {
  unsigned char *o = (unsigned char *)out;
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xC0 | (cp >> 6));
    o[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    cp = 0xFFFD; /* not encodable: the replacement character instead */
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xE0 | (cp >> 12));
    o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (unsigned char)(0xF0 | (cp >> 18));
  o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}
