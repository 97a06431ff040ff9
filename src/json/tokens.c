/*
 * tokens.c — the one translation unit that compiles jsmn.
 *
 * Job: turn a document that rill__json_check has accepted into jsmn
 * tokens held in an array taken from the pool and kept across parses, so a
 * warm reader allocates nothing per streamed chunk.
 *
 * jsmn is compiled static (JSMN_STATIC) so an application that links its
 * own jsmn cannot clash with ours, strict (JSMN_STRICT: primitives must be
 * numbers or literals) and with parent links (JSMN_PARENT_LINKS: closing
 * brackets find their opener in O(1) instead of scanning back). It only
 * ever sees valid documents, so its own laxness (see validate.c) does not
 * matter; what it gives us is the token tree.
 *
 * Sizing: the validator counts the tokens, so the array is grown (by
 * doubling, capped at max_tokens) before jsmn runs and jsmn never runs out.
 * The JSMN_ERROR_NOMEM path still grows and resumes (jsmn keeps its state
 * and continues with a larger array) in case the two ever disagree.
 *
 * A bare top-level scalar (42, true, null) makes strict jsmn report
 * JSMN_ERROR_PART (it wants a delimiter after a primitive), so its single
 * token is built here; a top-level string is fine for jsmn.
 *
 * Invariants: ntok <= cap; tok is NULL exactly when cap is 0; tok_bytes is
 * the pool block size of tok; after a failed parse ntok is 0.
 *
 * Must not know: providers, framers, what the tokens mean.
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#if defined(__GNUC__)
/* jsmn's code mixes int and unsigned freely; it is not ours to rewrite. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <jsmn.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "json/json.h"

#include <limits.h>
#include <string.h>

#include "rill/error.h"

/* The smallest array worth taking: one pool block of the smallest class
 * would hold only 12 tokens, and a typical chat chunk needs 20 to 40. */
#define MIN_TOKENS 64u

void rill__json_init(rill__json *d, rill__pool *pool, unsigned max_tokens) {
  memset(d, 0, sizeof *d);
  d->pool = pool;
  d->max_tokens = max_tokens ? max_tokens : RILL_JSON_DEFAULT_MAX_TOKENS;
}

void rill__json_release(rill__json *d) {
  rill__pool_put(d->pool, d->tok, d->tok_bytes);
  d->tok = NULL;
  d->tok_bytes = 0;
  d->cap = 0;
  d->ntok = 0;
  d->text = NULL;
  d->len = 0;
}

/* Make room for at least need tokens (need <= max_tokens), doubling from
 * the current capacity; keep copies the first keep tokens over. */
static int grow(rill__json *d, size_t need, size_t keep) {
  size_t want = d->cap ? d->cap : MIN_TOKENS, got, cap;
  jsmntok_t *t;
  if (need <= d->cap)
    return RILL_OK;
  while (want < need)
    want *= 2; /* need <= UINT_MAX: no overflow in size_t */
  if (want > d->max_tokens)
    want = need > d->max_tokens ? need : d->max_tokens;
  t = rill__pool_get(d->pool, want * sizeof(jsmntok_t), &got);
  if (!t)
    return RILL_E_NOMEM;
  cap = got / sizeof(jsmntok_t);
  if (cap > UINT_MAX)
    cap = UINT_MAX;
  if (keep)
    memcpy(t, d->tok, keep * sizeof(jsmntok_t));
  rill__pool_put(d->pool, d->tok, d->tok_bytes);
  d->tok = t;
  d->tok_bytes = got;
  d->cap = (unsigned)cap;
  return RILL_OK;
}

static int is_json_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A bare scalar at text[i..): validated, so it runs up to whitespace or
 * the end; one primitive token. */
static void bare_scalar(rill__json *d, const char *text, size_t len,
                        size_t i) {
  size_t e = i;
  while (e < len && !is_json_ws(text[e]))
    e++;
  d->tok[0].type = JSMN_PRIMITIVE;
  d->tok[0].start = (int)i;
  d->tok[0].end = (int)e;
  d->tok[0].size = 0;
  d->tok[0].parent = -1;
  d->ntok = 1;
}

int rill__json_parse(rill__json *d, const char *text, size_t len,
                     rill_json_error *err) {
  size_t need = 0, i = 0;
  jsmn_parser parser;
  unsigned limit;
  int rc, r;

  d->ntok = 0;
  d->text = text;
  d->len = len;
  /* jsmn keeps offsets in int. */
  if (len >= (size_t)INT_MAX)
    return RILL_E_LIMIT;
  rc = rill__json_check(text, len, err, &need);
  if (rc != RILL_OK)
    return rc;
  if (need > d->max_tokens)
    return RILL_E_LIMIT;
  rc = grow(d, need, 0);
  if (rc != RILL_OK)
    return rc;

  while (i < len && is_json_ws(text[i]))
    i++;
  if (text[i] != '{' && text[i] != '[' && text[i] != '"') {
    bare_scalar(d, text, len, i);
    return RILL_OK;
  }

  jsmn_init(&parser);
  for (;;) {
    limit = d->cap < d->max_tokens ? d->cap : d->max_tokens;
    r = jsmn_parse(&parser, text, len, d->tok, limit);
    if (r >= 0)
      break;
    if (r != JSMN_ERROR_NOMEM)
      return RILL_E_INTERNAL; /* jsmn refused what the validator accepted */
    if (limit >= d->max_tokens)
      return RILL_E_LIMIT;
    /* jsmn resumes where it stopped once given a larger array. */
    rc = grow(d,
              (size_t)limit * 2 < d->max_tokens ? (size_t)limit * 2
                                                : (size_t)d->max_tokens,
              parser.toknext);
    if (rc != RILL_OK)
      return rc;
  }
  if ((size_t)r != need)
    return RILL_E_INTERNAL; /* the validator and jsmn disagree: a bug */
  d->ntok = (unsigned)r;
  return RILL_OK;
}
