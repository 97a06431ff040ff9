/*
 * number.c — JSON numbers to int64, uint64 and double, exactly.
 *
 * Job: read the text of a JSON number (RFC 8259 grammar, checked here
 * again so the helpers are safe on any bytes) into a C value, or say why
 * not. Also owns the process-wide C locale used for every double
 * conversion in src/json (see c_locale.h).
 *
 * Integer policy: the value must be an integer exactly, whatever its
 * spelling: "100", "1e2", "1.0", "100e-2" and "-0" are all accepted;
 * "1.5" and "1e-1" are RILL_E_JSON (not an integer); a value outside the
 * type's range (including any negative value other than zero for uint64)
 * is RILL_E_LIMIT. The decision is made on the digits, never through a
 * double, so 9007199254740993 is read exactly.
 *
 * Double policy: strtod_l in the C locale, so the result is correctly
 * rounded and independent of the process locale. A finite number too
 * large for a double (1e309) is RILL_E_LIMIT; underflow gives the nearest
 * subnormal or zero, as strtod does, with RILL_OK. The text is copied to a
 * 512-byte stack buffer to NUL-terminate it; longer numbers (legal JSON:
 * "0.000...1" with many digits) get a heap copy, which can fail with
 * RILL_E_NOMEM.
 *
 * Must not know: jsmn's parser (types only), providers, the writer.
 */
#include "json/json.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "json/c_locale.h"
#include "rill/error.h"

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

static void make_c_locale(void) {
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t rill__json_c_locale(void) {
  pthread_once(&c_locale_once, make_c_locale);
  return c_locale;
}

/* The parts of a number: sign, integer digits, fraction digits and the
 * exponent (saturated at +-EXP_CAP: beyond that only "zero", "not an
 * integer" or "too large" can be the answer, and the cap keeps them so). */
typedef struct parts {
  int neg;
  const char *ip, *fp; /* digits */
  size_t ilen, flen;
  long long exp;
} parts;

#define EXP_CAP 1000000LL

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* The exponent after the 'e' at s[*i], capped at +-EXP_CAP (beyond it
 * every double is 0 or infinite); *i moves past its digits. */
static int split_exp(const char *s, size_t n, size_t *i, long long *exp) {
  size_t k = *i + 1, e0;
  int eneg = 0;
  long long e = 0;
  if (k < n && (s[k] == '+' || s[k] == '-'))
    eneg = s[k++] == '-';
  e0 = k;
  while (k < n && is_digit(s[k])) {
    if (e < EXP_CAP)
      e = e * 10 + (s[k] - '0');
    k++;
  }
  if (k == e0)
    return RILL_E_JSON;
  if (e > EXP_CAP)
    e = EXP_CAP;
  *exp = eneg ? -e : e;
  *i = k;
  return RILL_OK;
}

static int split(const char *s, size_t n, parts *pt) {
  size_t i = 0;
  memset(pt, 0, sizeof *pt);
  if (!s || n == 0)
    return RILL_E_JSON;
  if (s[i] == '-') {
    pt->neg = 1;
    i++;
  }
  if (i >= n || !is_digit(s[i]))
    return RILL_E_JSON;
  pt->ip = s + i;
  if (s[i] == '0') {
    i++;
  } else {
    while (i < n && is_digit(s[i]))
      i++;
  }
  pt->ilen = (size_t)(s + i - pt->ip);
  if (i < n && s[i] == '.') {
    i++;
    pt->fp = s + i;
    while (i < n && is_digit(s[i]))
      i++;
    pt->flen = (size_t)(s + i - pt->fp);
    if (pt->flen == 0)
      return RILL_E_JSON;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E') &&
      split_exp(s, n, &i, &pt->exp) != RILL_OK)
    return RILL_E_JSON;
  return i == n ? RILL_OK : RILL_E_JSON;
}

/* Digit k of the integer digits followed by the fraction digits. */
static int digit_at(const parts *pt, size_t k) {
  return (k < pt->ilen ? pt->ip[k] : pt->fp[k - pt->ilen]) - '0';
}

/* The magnitude of an integer-valued number. */
static int magnitude(const char *s, size_t n, int *neg, uint64_t *mag) {
  parts pt;
  size_t first, last, k, nd;
  long long e;
  uint64_t v = 0;
  int rc = split(s, n, &pt);
  if (rc != RILL_OK)
    return rc;
  *neg = pt.neg;
  *mag = 0;
  nd = pt.ilen + pt.flen;
  for (first = 0; first < nd && digit_at(&pt, first) == 0; first++)
    ;
  if (first == nd)
    return RILL_OK; /* zero, whatever its exponent */
  for (last = nd; digit_at(&pt, last - 1) == 0; last--)
    ;
  /* value = digits[first..last) * 10^e */
  e = pt.exp - (long long)pt.flen + (long long)(nd - last);
  if (e < 0)
    return RILL_E_JSON; /* not an integer */
  if ((long long)(last - first) + e > 20)
    return RILL_E_LIMIT; /* more than 20 digits: > UINT64_MAX */
  for (k = first; k < last; k++) {
    unsigned dg = (unsigned)digit_at(&pt, k);
    if (v > (UINT64_MAX - dg) / 10)
      return RILL_E_LIMIT;
    v = v * 10 + dg;
  }
  for (; e > 0; e--) {
    if (v > UINT64_MAX / 10)
      return RILL_E_LIMIT;
    v *= 10;
  }
  *mag = v;
  return RILL_OK;
}

int rill__parse_uint64(const char *s, size_t n, uint64_t *out) {
  int neg;
  uint64_t mag;
  int rc = magnitude(s, n, &neg, &mag);
  if (rc != RILL_OK)
    return rc;
  if (neg && mag)
    return RILL_E_LIMIT;
  if (out)
    *out = mag;
  return RILL_OK;
}

int rill__parse_int64(const char *s, size_t n, int64_t *out) {
  int neg;
  uint64_t mag;
  int64_t v;
  int rc = magnitude(s, n, &neg, &mag);
  if (rc != RILL_OK)
    return rc;
  if (neg) {
    if (mag > (uint64_t)INT64_MAX + 1)
      return RILL_E_LIMIT;
    /* -(2^63) has no positive counterpart: negate in unsigned. */
    v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > (uint64_t)INT64_MAX)
      return RILL_E_LIMIT;
    v = (int64_t)mag;
  }
  if (out)
    *out = v;
  return RILL_OK;
}

#define STACK_COPY 512

int rill__parse_double(const char *s, size_t n, double *out) {
  char small[STACK_COPY];
  char *buf = small, *endp = NULL;
  parts pt;
  locale_t loc;
  double v;
  int rc = split(s, n, &pt);
  if (rc != RILL_OK)
    return rc;
  loc = rill__json_c_locale();
  if (loc == (locale_t)0)
    return RILL_E_NOMEM;
  if (n >= sizeof small) {
    buf = rill__malloc(n + 1);
    if (!buf)
      return RILL_E_NOMEM;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  v = strtod_l(buf, &endp, loc);
  rc = endp == buf + n ? RILL_OK : RILL_E_INTERNAL;
  if (buf != small)
    rill__free(buf);
  if (rc != RILL_OK)
    return rc; /* the grammar was checked: strtod must read it all */
  if (isinf(v))
    return RILL_E_LIMIT;
  if (out)
    *out = v;
  return RILL_OK;
}

/* The bytes of a number token, or NULL when token i is not one. */
static const char *number_tok(const rill__json *d, int i, size_t *n) {
  const jsmntok_t *t = rill__json_tok(d, i);
  char c;
  if (!t || t->type != JSMN_PRIMITIVE || t->end <= t->start)
    return NULL;
  c = d->text[t->start];
  if (c != '-' && !is_digit(c))
    return NULL;
  *n = (size_t)(t->end - t->start);
  return d->text + t->start;
}

int rill__json_int64(const rill__json *d, int i, int64_t *out) {
  size_t n;
  const char *s = number_tok(d, i, &n);
  return s ? rill__parse_int64(s, n, out) : RILL_E_JSON;
}

int rill__json_uint64(const rill__json *d, int i, uint64_t *out) {
  size_t n;
  const char *s = number_tok(d, i, &n);
  return s ? rill__parse_uint64(s, n, out) : RILL_E_JSON;
}

int rill__json_double(const rill__json *d, int i, double *out) {
  size_t n;
  const char *s = number_tok(d, i, &n);
  return s ? rill__parse_double(s, n, out) : RILL_E_JSON;
}
