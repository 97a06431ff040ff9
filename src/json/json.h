/*
 * Internal JSON reader: strict validation, then jsmn tokens in a pooled
 * array, then lookups that walk the tokens without allocating.
 *
 * Token indices are ints (as jsmn's); -1 means "absent". Token 0 is the
 * root. jsmn runs with JSMN_STRICT and JSMN_PARENT_LINKS. jsmn alone is not
 * strict enough (it accepts "[1 2]" and raw control characters), so
 * rill__json_parse validates first (rill_json_validate's rules) and
 * tokenizes only valid documents; a top-level scalar, which jsmn reports as
 * incomplete, gets its single token here.
 */
#ifndef RILL_JSON_INTERNAL_H
#define RILL_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Types only. src/json/tokens.c is the one file that compiles jsmn's
 * parser (static, so an application's own jsmn cannot clash); it includes
 * jsmn.h with the same two options before this header. */
#ifndef JSMN_H
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#define JSMN_HEADER
#include <jsmn.h>
#endif

#include "core/buf.h"
#include "core/pool.h"
#include "rill/json.h"

#define RILL_JSON_DEFAULT_MAX_TOKENS 65536u

typedef struct rill__json {
  jsmntok_t *tok;      /* pooled array */
  size_t tok_bytes;    /* its block size (for the pool) */
  unsigned ntok;       /* tokens of the current document */
  unsigned cap;        /* tokens the array holds */
  unsigned max_tokens; /* growth limit: RILL_E_LIMIT beyond it */
  const char *text;    /* the document (borrowed, not copied) */
  size_t len;
  rill__pool *pool;    /* may be NULL */
} rill__json;

/* Set up an empty reader; nothing allocated until the first parse.
 * max_tokens 0 means RILL_JSON_DEFAULT_MAX_TOKENS. */
void rill__json_init(rill__json *d, rill__pool *pool, unsigned max_tokens);

/* Give the token array back to the pool. */
void rill__json_release(rill__json *d);

/* rill_json_validate that also counts the tokens jsmn will make for the
 * document (every value plus every member name), so the token array can be
 * sized once instead of re-parsing after JSMN_ERROR_NOMEM. *n_tokens (may
 * be NULL) is 0 on failure. Same returns as rill_json_validate. */
int rill__json_check(const char *text, size_t len, rill_json_error *err,
                     size_t *n_tokens);

/* Validate and tokenize text (borrowed: must outlive the lookups).
 * Returns RILL_OK, RILL_E_JSON (err filled when non-NULL), RILL_E_LIMIT
 * (more than max_tokens tokens, or len >= INT_MAX), RILL_E_NOMEM,
 * RILL_E_INVALID (text NULL with len > 0), RILL_E_INTERNAL (jsmn and the
 * validator disagree: a bug). On any failure the reader holds no tokens
 * (lookups return -1); the array is kept for the next parse. */
int rill__json_parse(rill__json *d, const char *text, size_t len,
                     rill_json_error *err);

/* The token, or NULL when i is out of range. */
static inline const jsmntok_t *rill__json_tok(const rill__json *d, int i) {
  return (i >= 0 && (unsigned)i < d->ntok) ? &d->tok[i] : NULL;
}

/* Index of the token after the whole subtree at i (its next sibling's
 * position), or ntok. */
int rill__json_skip(const rill__json *d, int i);

/* The value of member key (len bytes, compared after unescaping the member
 * name) of the object at obj; -1 when obj is not an object or has no such
 * member. The first match wins. */
int rill__json_get(const rill__json *d, int obj, const char *key, size_t len);
/* Same with a NUL-terminated key. */
int rill__json_getz(const rill__json *d, int obj, const char *key);

/* One pass over the members of object obj for n keys (NUL-terminated, at
 * most RILL_JSON_GET_MANY_MAX): out[k] receives the value of keys[k] (the
 * first match) or -1. For decoders that read several members of every
 * streamed record: one walk instead of n. Returns how many were found. */
#define RILL_JSON_GET_MANY_MAX 16
size_t rill__json_get_many(const rill__json *d, int obj,
                           const char *const *keys, size_t n, int *out);

/* Element idx of the array at arr; -1 when absent. */
int rill__json_at(const rill__json *d, int arr, size_t idx);

/* Follow a path from token root: members separated by '.', array indices
 * as "[n]", e.g. "choices[0].delta.content". -1 when any step is absent. */
int rill__json_path(const rill__json *d, int root, const char *path);

/* Type tests. */
int rill__json_is_string(const rill__json *d, int i);
int rill__json_is_null(const rill__json *d, int i);
int rill__json_is_object(const rill__json *d, int i);
int rill__json_is_array(const rill__json *d, int i);
/* 1 true, 0 false; -1 when the token is not a boolean. */
int rill__json_bool(const rill__json *d, int i);

/* The raw bytes of token i (for strings: between the quotes, still
 * escaped). Sets *len; NULL when absent. */
const char *rill__json_raw(const rill__json *d, int i, size_t *len);

/* Whether string token i, unescaped, equals lit[0..len). */
int rill__json_str_eq(const rill__json *d, int i, const char *lit,
                      size_t len);

/* Append the unescaped UTF-8 value of string token i to out. \uXXXX
 * surrogate pairs combine; a lone surrogate becomes U+FFFD.
 * Returns RILL_OK, RILL_E_JSON (not a string), RILL_E_LIMIT, RILL_E_NOMEM. */
int rill__json_unescape(const rill__json *d, int i, rill__buf *out);

/* Unescape raw (the escaped bytes of a valid JSON string, without quotes)
 * into dst, which must hold at least n bytes (unescaping never grows
 * text). Returns the length written. */
size_t rill__json_unescape_span(const char *raw, size_t n, char *dst);

/* Whether raw (the escaped bytes of a string, without quotes) unescapes to
 * exactly lit[0..len), without a buffer: memcmp when raw holds no
 * backslash, else decoded on the fly. */
int rill__json_span_eq(const char *raw, size_t n, const char *lit, size_t len);

/* Numbers. Return RILL_OK, RILL_E_JSON (not a number, or not an integer
 * for the integer getters), RILL_E_LIMIT (out of range). The integer
 * getters decide on the digits, exactly: any spelling of an integer value
 * is accepted ("1.0", "1e2", "100e-2", "-0"), a fraction is RILL_E_JSON,
 * and a negative value other than zero is RILL_E_LIMIT for uint64. The
 * double getter is locale-independent and correctly rounded (strtod_l in
 * the C locale); a finite number beyond DBL_MAX is RILL_E_LIMIT, underflow
 * gives zero or a subnormal; a number text of 512 bytes or more is copied
 * to the heap and may also fail with RILL_E_NOMEM. The number helpers take
 * exactly one JSON number (no sign '+', no spaces) and accept out NULL. */
int rill__json_int64(const rill__json *d, int i, int64_t *out);
int rill__json_uint64(const rill__json *d, int i, uint64_t *out);
int rill__json_double(const rill__json *d, int i, double *out);

/* Append valid JSON text json[0..len) to out without the whitespace
 * outside strings. Returns RILL_OK, RILL_E_LIMIT or RILL_E_NOMEM (out may
 * then hold part of it). */
int rill__json_minify(rill__buf *out, const char *json, size_t len);

/* Make rc the writer's sticky error (RILL_OK is ignored), for helpers that
 * produce a value outside the writer and fail before writing it: the
 * writer must not go on as if the value had been written. Returns the
 * sticky error. */
int rill__jw_fail(rill_jw *w, int rc);

/* Number text helpers usable without a document. */
int rill__parse_int64(const char *s, size_t n, int64_t *out);
int rill__parse_uint64(const char *s, size_t n, uint64_t *out);
int rill__parse_double(const char *s, size_t n, double *out);
/* v as the shortest text that reads back to it, in any locale (for
 * messages; printf's %g would write a decimal comma under de_DE). Writes a
 * NUL-terminated string to out[0..cap); 32 bytes always suffice. Returns
 * RILL_OK, or RILL_E_INTERNAL (cap too small) / RILL_E_NOMEM with out
 * holding "?". */
int rill__json_format_double(double v, char *out, size_t cap);

/* UTF-8: length of the valid sequence at s[0..n) (1..4), or 0 if the bytes
 * there are not valid UTF-8 (then *bad receives the length of the maximal
 * invalid subpart to replace with one U+FFFD, at least 1). */
size_t rill__utf8_seq(const unsigned char *s, size_t n, size_t *bad);

/* Encode code point cp (<= 0x10FFFF, not a surrogate) into out[0..4).
 * Returns the byte count. */
size_t rill__utf8_put(uint32_t cp, char *out);

#endif
