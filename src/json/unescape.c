/*
 * unescape.c — JSON string escapes to UTF-8.
 *
 * Job: turn the raw bytes between a string token's quotes into the UTF-8
 * text they stand for, either into a buffer or compared on the fly against
 * a literal (member lookup, rill__json_str_eq) without any buffer.
 *
 * Rules: the nine escapes of RFC 8259; \uXXXX becomes UTF-8; a high
 * surrogate followed by a low one combines into one supplementary code
 * point; a lone high or lone low surrogate becomes U+FFFD (EF BF BD), since
 * UTF-8 cannot carry it. \u0000 becomes a NUL byte (the caller gets a
 * length, not a C string).
 *
 * Invariant: the output is never longer than the input ("\n" 2 -> 1,
 * "\u00e9" 6 -> 2, "\ud800" 6 -> 3, a pair 12 -> 4), so a destination of n
 * bytes always suffices. Input is normally validated, but a malformed
 * escape is copied through byte by byte rather than trusted, so the
 * functions are safe on any bytes.
 *
 * Must not know: jsmn's parser, the validator, providers.
 */
#include "json/json.h"

#include <string.h>

#include "rill/error.h"

static int hex4(const char *s, uint32_t *out) {
  uint32_t v = 0;
  int k;
  for (k = 0; k < 4; k++) {
    unsigned char c = (unsigned char)s[k];
    uint32_t d;
    if (c >= '0' && c <= '9')
      d = (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      d = (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      d = (uint32_t)(c - 'A' + 10);
    else
      return 0;
    v = v << 4 | d;
  }
  *out = v;
  return 1;
}

/* Decode the escape at raw[i] (a backslash) into out[0..4); *used gets the
 * raw bytes consumed. Returns the bytes written (never more than *used). */
static size_t escape_at(const char *raw, size_t n, size_t i, char *out,
                        size_t *used) {
  uint32_t cp, lo;
  *used = 2;
  if (n - i >= 2) {
    switch (raw[i + 1]) {
    case '"': out[0] = '"'; return 1;
    case '\\': out[0] = '\\'; return 1;
    case '/': out[0] = '/'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u':
      if (n - i < 6 || !hex4(raw + i + 2, &cp))
        break;
      *used = 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (n - i >= 12 && raw[i + 6] == '\\' && raw[i + 7] == 'u' &&
            hex4(raw + i + 8, &lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
          *used = 12;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else {
          cp = 0xFFFD; /* lone high surrogate */
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD; /* lone low surrogate */
      }
      return rill__utf8_put(cp, out);
    default:
      break;
    }
  }
  /* Not a valid escape: copy the backslash as it is. */
  *used = 1;
  out[0] = '\\';
  return 1;
}

size_t rill__json_unescape_span(const char *raw, size_t n, char *dst) {
  size_t i = 0, o = 0;
  while (i < n) {
    const char *bs = memchr(raw + i, '\\', n - i);
    size_t run = bs ? (size_t)(bs - (raw + i)) : n - i, used;
    if (run) {
      memmove(dst + o, raw + i, run); /* dst may be raw itself */
      i += run;
      o += run;
    }
    if (!bs)
      break;
    {
      char tmp[4];
      size_t k = escape_at(raw, n, i, tmp, &used);
      memcpy(dst + o, tmp, k);
      o += k;
      i += used;
    }
  }
  return o;
}

/* The length rill__json_unescape_span would write. */
static size_t unescaped_len(const char *raw, size_t n) {
  size_t i = 0, o = 0, used;
  char tmp[4];
  while (i < n) {
    if (raw[i] != '\\') {
      i++;
      o++;
      continue;
    }
    o += escape_at(raw, n, i, tmp, &used);
    i += used;
  }
  return o;
}

int rill__json_span_eq(const char *raw, size_t n, const char *lit,
                       size_t len) {
  size_t i = 0, j = 0, used;
  const char *bs;
  if (!lit)
    lit = ""; /* memcmp must not see NULL, even for 0 bytes */
  if (!raw)
    return len == 0;
  /* Fast rejections first: this runs for every member name of every
   * streamed record. Unescaping never grows, so a shorter raw name cannot
   * match; a first byte that differs and is not an escape cannot either. */
  if (len > n)
    return 0;
  if (n == 0)
    return 1;
  if (len == 0 || (raw[0] != lit[0] && raw[0] != '\\'))
    return 0;
  bs = memchr(raw, '\\', n);
  if (!bs) /* nothing to unescape */
    return n == len && memcmp(raw, lit, n) == 0;
  while (i < n) {
    size_t run;
    char tmp[4];
    size_t k;
    bs = memchr(raw + i, '\\', n - i);
    run = bs ? (size_t)(bs - (raw + i)) : n - i;
    if (run > len - j || memcmp(raw + i, lit + j, run) != 0)
      return 0;
    i += run;
    j += run;
    if (!bs)
      break;
    k = escape_at(raw, n, i, tmp, &used);
    if (k > len - j || memcmp(tmp, lit + j, k) != 0)
      return 0;
    i += used;
    j += k;
  }
  return j == len;
}

int rill__json_unescape(const rill__json *d, int i, rill__buf *out) {
  const jsmntok_t *t = rill__json_tok(d, i);
  const char *raw;
  size_t n, need;
  int rc;
  if (!t || t->type != JSMN_STRING)
    return RILL_E_JSON;
  raw = d->text + t->start;
  n = (size_t)(t->end - t->start);
  need = n;
  rc = rill__buf_reserve(out, need);
  if (rc == RILL_E_LIMIT) {
    /* The escaped form does not fit; the text itself may. */
    need = unescaped_len(raw, n);
    rc = rill__buf_reserve(out, need);
  }
  if (rc != RILL_OK)
    return rc;
  if (n)
    out->len += rill__json_unescape_span(raw, n, out->data + out->len);
  return RILL_OK;
}
