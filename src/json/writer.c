/*
 * writer.c — the public JSON writer (rill_jw_*).
 *
 * Job: build one JSON document in a capped buffer, placing commas and
 * colons itself and refusing misuse, so request bodies are valid JSON by
 * construction whatever bytes the application hands in.
 *
 * Invariants:
 * - buf.len <= max_bytes, and buf.data[buf.len] == '\0' whenever data is
 *   non-NULL (the buffer's limit is max_bytes + 1 to leave room for it), so
 *   rill_jw_data never copies.
 * - st[1..depth] is the state of each open container; depth <=
 *   RILL_JSON_MAX_DEPTH. Level 0 is the top: top_done says its one value
 *   has begun.
 * - err is the first failure; once set, every call returns it unchanged
 *   and the output is no longer extended (it may end mid-value).
 *
 * Escaping policy: '"' and '\\' escaped; \b \f \n \r \t by name; other
 * bytes below 0x20 (NUL included) as \u00xx with lowercase hex, as
 * JavaScript's JSON.stringify writes them; DEL (0x7f) and all well-formed
 * UTF-8 pass through unchanged, copied in runs; each maximal ill-formed
 * subpart (see utf8.c) becomes one U+FFFD. '/' is not escaped.
 *
 * Doubles: "%.*g" at precision 15, then 16, then 17, keeping the first text
 * that strtod_l reads back to the same bits (17 always does). Values with at
 * most 15 significant digits thus come out in their short form ("0.1",
 * "1e+300"); others take 16 or 17 digits, not always the very shortest
 * possible. snprintf runs under uselocale(C) — a per-thread switch,
 * restored at once — so a ',' decimal point from the process locale
 * never leaks into the output.
 *
 * Must not know: jsmn's parser, providers, HTTP.
 */
#include "rill/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "json/c_locale.h"
#include "json/json.h"
#include "rill/error.h"

/* 64 MiB: far above any chat request, far below what would hurt a host. */
#define DEFAULT_MAX_BYTES ((size_t)64 << 20)

enum { ARR_FIRST, ARR_NEXT, OBJ_KEY_FIRST, OBJ_KEY_NEXT, OBJ_VALUE };

struct rill_jw {
  rill__buf buf;   /* limit = max_bytes + 1: the NUL always fits */
  int err;         /* sticky: RILL_OK until the first failure */
  int top_done;    /* the top-level value has begun */
  unsigned depth;  /* open containers, <= RILL_JSON_MAX_DEPTH */
  unsigned char st[RILL_JSON_MAX_DEPTH + 1]; /* st[1..depth] */
};

static int fail(rill_jw *w, int rc) {
  if (w->err == RILL_OK)
    w->err = rc;
  return w->err;
}

int rill__jw_fail(rill_jw *w, int rc) {
  if (!w)
    return RILL_E_INVALID;
  return rc == RILL_OK ? w->err : fail(w, rc);
}

/* Append n bytes and keep the NUL after them. */
static int put(rill_jw *w, const char *p, size_t n) {
  int rc = rill__buf_reserve(&w->buf, n + 1);
  if (rc != RILL_OK)
    return fail(w, rc);
  if (n)
    memcpy(w->buf.data + w->buf.len, p, n);
  w->buf.len += n;
  w->buf.data[w->buf.len] = '\0';
  return RILL_OK;
}

/* Whether a value may be written now (no side effects). */
static int value_allowed(const rill_jw *w) {
  if (w->depth == 0)
    return !w->top_done;
  return w->st[w->depth] == ARR_FIRST || w->st[w->depth] == ARR_NEXT ||
         w->st[w->depth] == OBJ_VALUE;
}

/* Check the sticky error and the state, then write the separator a value
 * needs here and advance the state. */
static int value_prefix(rill_jw *w) {
  unsigned char *s;
  if (w->err)
    return w->err;
  if (!value_allowed(w))
    return fail(w, RILL_E_STATE);
  if (w->depth == 0) {
    w->top_done = 1;
    return RILL_OK;
  }
  s = &w->st[w->depth];
  if (*s == ARR_NEXT)
    return put(w, ",", 1);
  *s = *s == ARR_FIRST ? ARR_NEXT : OBJ_KEY_NEXT;
  return RILL_OK;
}

int rill_jw_new(rill_jw **out, size_t max_bytes) {
  rill_jw *w;
  if (!out)
    return RILL_E_INVALID;
  *out = NULL;
  w = rill__calloc(1, sizeof *w);
  if (!w)
    return RILL_E_NOMEM;
  if (max_bytes == 0)
    max_bytes = DEFAULT_MAX_BYTES;
  rill__buf_init(&w->buf, NULL,
                 max_bytes == SIZE_MAX ? SIZE_MAX : max_bytes + 1);
  *out = w;
  return RILL_OK;
}

void rill_jw_free(rill_jw *w) {
  if (!w)
    return;
  rill__buf_release(&w->buf);
  rill__free(w);
}

void rill_jw_reset(rill_jw *w) {
  if (!w)
    return;
  rill__buf_clear(&w->buf);
  if (w->buf.data)
    w->buf.data[0] = '\0';
  w->err = RILL_OK;
  w->top_done = 0;
  w->depth = 0;
}

static int begin(rill_jw *w, char c, unsigned char state) {
  int rc;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (w->depth >= RILL_JSON_MAX_DEPTH)
    return fail(w, RILL_E_STATE);
  rc = value_prefix(w);
  if (rc == RILL_OK)
    rc = put(w, &c, 1);
  if (rc != RILL_OK)
    return rc;
  w->st[++w->depth] = state;
  return RILL_OK;
}

static int end(rill_jw *w, char c, int is_object) {
  unsigned char s;
  int rc;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (w->depth == 0)
    return fail(w, RILL_E_STATE);
  s = w->st[w->depth];
  if (is_object ? (s != OBJ_KEY_FIRST && s != OBJ_KEY_NEXT)
                : (s != ARR_FIRST && s != ARR_NEXT))
    return fail(w, RILL_E_STATE); /* wrong kind, or a key without value */
  rc = put(w, &c, 1);
  if (rc != RILL_OK)
    return rc;
  w->depth--;
  return RILL_OK;
}

int rill_jw_object_begin(rill_jw *w) { return begin(w, '{', OBJ_KEY_FIRST); }
int rill_jw_object_end(rill_jw *w) { return end(w, '}', 1); }
int rill_jw_array_begin(rill_jw *w) { return begin(w, '[', ARR_FIRST); }
int rill_jw_array_end(rill_jw *w) { return end(w, ']', 0); }

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x

/* Bytes that go out as they are: printable ASCII but '"' and '\\', and
 * DEL. Bytes >= 0x80 are checked as UTF-8 separately. */
static const unsigned char plain[256] = {
    R16(0), R16(0),
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
    R16(1), R16(1),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
    R16(1), R16(1),
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)};

/* The quoted, escaped form of s[0..len). */
static int put_string(rill_jw *w, const char *str, size_t len) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, run = 0, k, bad = 1;
  int rc = put(w, "\"", 1);
  while (rc == RILL_OK && i < len) {
    unsigned char c = s[i];
    char esc[6];
    size_t n = 2;
    if (plain[c]) {
      i++;
      continue;
    }
    if (c >= 0x80) {
      k = rill__utf8_seq(s + i, len - i, &bad);
      if (k) {
        i += k;
        continue;
      }
    }
    if (i > run)
      rc = put(w, str + run, i - run);
    if (rc != RILL_OK)
      break;
    if (c >= 0x80) {
      rc = put(w, "\xEF\xBF\xBD", 3);
      i += bad;
      run = i;
      continue;
    }
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      esc[1] = 'u';
      esc[2] = '0';
      esc[3] = '0';
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      n = 6;
      break;
    }
    rc = put(w, esc, n);
    i++;
    run = i;
  }
  if (rc == RILL_OK && i > run)
    rc = put(w, str + run, i - run);
  if (rc == RILL_OK)
    rc = put(w, "\"", 1);
  return rc;
}

int rill_jw_key(rill_jw *w, const char *key, size_t len) {
  unsigned char *s;
  int rc = RILL_OK;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (w->depth == 0)
    return fail(w, RILL_E_STATE);
  s = &w->st[w->depth];
  if (*s != OBJ_KEY_FIRST && *s != OBJ_KEY_NEXT)
    return fail(w, RILL_E_STATE);
  if (!key && len)
    return fail(w, RILL_E_INVALID);
  if (*s == OBJ_KEY_NEXT)
    rc = put(w, ",", 1);
  if (rc == RILL_OK)
    rc = put_string(w, key ? key : "", len);
  if (rc == RILL_OK)
    rc = put(w, ":", 1);
  if (rc == RILL_OK)
    *s = OBJ_VALUE;
  return rc;
}

int rill_jw_string(rill_jw *w, const char *s, size_t len) {
  int rc;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (!s && len)
    return fail(w, RILL_E_INVALID);
  rc = value_prefix(w);
  return rc == RILL_OK ? put_string(w, s ? s : "", len) : rc;
}

/* Decimal digits of v, written backwards ending at end; returns start. */
static char *utoa_back(uint64_t v, char *end) {
  do {
    *--end = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  return end;
}

int rill_jw_uint(rill_jw *w, uint64_t v) {
  char tmp[24], *p;
  int rc;
  if (!w)
    return RILL_E_INVALID;
  rc = value_prefix(w);
  if (rc != RILL_OK)
    return rc;
  p = utoa_back(v, tmp + sizeof tmp);
  return put(w, p, (size_t)(tmp + sizeof tmp - p));
}

int rill_jw_int(rill_jw *w, int64_t v) {
  char tmp[24], *p;
  uint64_t mag;
  int rc;
  if (!w)
    return RILL_E_INVALID;
  rc = value_prefix(w);
  if (rc != RILL_OK)
    return rc;
  /* Negate in unsigned: -INT64_MIN does not fit an int64. */
  mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  p = utoa_back(mag, tmp + sizeof tmp);
  if (v < 0)
    *--p = '-';
  return put(w, p, (size_t)(tmp + sizeof tmp - p));
}

/* Shortest of %.15g/%.16g/%.17g that reads back to the same bits. */
static int format_double(double v, char *out, size_t cap, size_t *n) {
  locale_t c = rill__json_c_locale(), old;
  int prec, len = -1;
  if (c == (locale_t)0)
    return RILL_E_NOMEM;
  old = uselocale(c);
  if (old == (locale_t)0)
    return RILL_E_INTERNAL;
  for (prec = 15; prec <= 17; prec++) {
    char *endp;
    double back;
    /* checksrc: allow float-format (uselocale(C) is in force here) */
    len = snprintf(out, cap, "%.*g", prec, v);
    if (len <= 0 || (size_t)len >= cap) {
      len = -1;
      break;
    }
    back = strtod_l(out, &endp, c);
    /* Bits, not ==: the shortest form must give back this very double.
     * NOLINTNEXTLINE(cert-exp42-c,bugprone-suspicious-memory-comparison) */
    if (memcmp(&back, &v, sizeof v) == 0)
      break;
  }
  uselocale(old);
  if (len < 0)
    return RILL_E_INTERNAL;
  *n = (size_t)len;
  return RILL_OK;
}

int rill__json_format_double(double v, char *out, size_t cap) {
  size_t n;
  int rc;
  if (cap < 2)
    return RILL_E_INTERNAL;
  rc = format_double(v, out, cap, &n);
  if (rc != RILL_OK)
    memcpy(out, "?", 2);
  return rc;
}

int rill_jw_double(rill_jw *w, double v) {
  char tmp[40];
  size_t n = 0;
  int rc;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (!isfinite(v))
    return fail(w, RILL_E_INVALID);
  if (!value_allowed(w))
    return fail(w, RILL_E_STATE);
  rc = format_double(v, tmp, sizeof tmp, &n);
  if (rc != RILL_OK)
    return fail(w, rc);
  rc = value_prefix(w);
  return rc == RILL_OK ? put(w, tmp, n) : rc;
}

int rill_jw_bool(rill_jw *w, int v) {
  int rc;
  if (!w)
    return RILL_E_INVALID;
  rc = value_prefix(w);
  if (rc != RILL_OK)
    return rc;
  return v ? put(w, "true", 4) : put(w, "false", 5);
}

int rill_jw_null(rill_jw *w) {
  int rc;
  if (!w)
    return RILL_E_INVALID;
  rc = value_prefix(w);
  return rc == RILL_OK ? put(w, "null", 4) : rc;
}

int rill_jw_raw(rill_jw *w, const char *json, size_t len) {
  size_t before;
  int rc;
  if (!w)
    return RILL_E_INVALID;
  if (w->err)
    return w->err;
  if (!value_allowed(w))
    return fail(w, RILL_E_STATE);
  if (rill_json_validate(json, len, NULL) != RILL_OK)
    return fail(w, RILL_E_INVALID);
  rc = value_prefix(w);
  if (rc != RILL_OK)
    return rc;
  before = w->buf.len;
  rc = rill__json_minify(&w->buf, json, len);
  if (rc == RILL_OK)
    rc = rill__buf_reserve(&w->buf, 1); /* room for the NUL */
  if (rc != RILL_OK) {
    w->buf.len = before; /* keep the output a clean prefix */
    if (w->buf.data)
      w->buf.data[before] = '\0';
    return fail(w, rc);
  }
  w->buf.data[w->buf.len] = '\0';
  return RILL_OK;
}

const char *rill_jw_data(const rill_jw *w, size_t *len) {
  if (!w || !w->buf.data) {
    if (len)
      *len = 0;
    return "";
  }
  if (len)
    *len = w->buf.len;
  return w->buf.data;
}

int rill_jw_error(const rill_jw *w) { return w ? w->err : RILL_E_INVALID; }

int rill_jw_complete(const rill_jw *w) {
  return w && w->err == RILL_OK && w->top_done && w->depth == 0;
}
