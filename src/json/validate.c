/*
 * validate.c — the strict RFC 8259 checker in front of jsmn.
 *
 * Job: decide in one pass, without allocating, whether text[0..len) is
 * exactly one JSON document as RFC 8259 defines it (the rules are listed in
 * include/rill/json.h), and say where and why it is not. It also counts the
 * values and member names it sees, which is exactly the number of tokens
 * jsmn will produce, so tokens.c can size its array once.
 *
 * Why it exists: jsmn 1.1.0, even with JSMN_STRICT, accepts "[1 2]",
 * "{\"a\" 1}", "[1,]", "01", raw control characters and bad UTF-8, and
 * rejects a bare top-level 42. Everything rill reads from the network
 * passes here first.
 *
 * Speed: this runs on every streamed chunk. The loop is a hand-written
 * state machine (gotos, no recursion, no per-byte calls); string bodies are
 * scanned eight bytes at a time while they hold only plain ASCII, then by a
 * byte-class table. UTF-8 is decoded inline with the table of utf8.c.
 *
 * Invariants: p never passes end; every read is guarded by p < end (or
 * end - p >= k); depth <= RILL_JSON_MAX_DEPTH; the container kinds are kept
 * in a 128-bit stack (bit set: object).
 *
 * Must not know: jsmn, tokens, allocation, numbers' values.
 */
#include <string.h>

#include "json/json.h"
#include "rill/error.h"

#define R16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x

/* Byte classes inside a string: 0 plain, 1 '"', 2 '\\', 3 control (incl.
 * NUL), 4 non-ASCII (a UTF-8 sequence to check). */
static const unsigned char str_class[256] = {
    R16(3), R16(3),
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' = 0x22 */
    R16(0), R16(0),
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, /* 0x50: '\\' = 0x5c */
    R16(0), R16(0),
    R16(4), R16(4), R16(4), R16(4), R16(4), R16(4), R16(4), R16(4)};

/* JSON whitespace: space, tab, LF, CR and nothing else. */
static const unsigned char ws_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, /* \t \n \r */
    R16(0),
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* ' ' */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0),
    R16(0), R16(0), R16(0), R16(0)};

/* Hex digits for \uXXXX. */
static const unsigned char hex_class[256] = {
    R16(0), R16(0), R16(0),
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 0-9 */
    0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* A-F */
    R16(0),
    0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* a-f */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)};

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/* Non-zero when some byte of v needs a closer look in a string body: a
 * control byte, '"', '\\' or a byte >= 0x80. Each term is the classic
 * exact "has a zero / has a byte less than n" test (n <= 128). */
static inline uint64_t swar_special(uint64_t v) {
  uint64_t q = v ^ (ONES * 0x22), b = v ^ (ONES * 0x5C);
  uint64_t ctl = (v - ONES * 0x20) & ~v; /* a byte < 0x20 */
  uint64_t quo = (q - ONES) & ~q;        /* a '"' */
  uint64_t bsl = (b - ONES) & ~b;        /* a '\\' */
  return (ctl | quo | bsl | v) & HIGHS;  /* v: a byte >= 0x80 */
}

static inline int is_digit(unsigned char c) {
  return (unsigned char)(c - '0') < 10;
}

static int fail(rill_json_error *err, const char *text, const unsigned char *at,
                const char *reason) {
  if (err) {
    err->offset = (size_t)((const char *)at - text);
    err->reason = reason;
  }
  return RILL_E_JSON;
}

/* Past the plain bytes of a string body: eight at a time while none of
 * them needs a look, then by the byte-class table. */
static inline const unsigned char *skip_plain(const unsigned char *p,
                                              const unsigned char *end) {
  while (end - p >= 8) {
    uint64_t v;
    memcpy(&v, p, 8);
    if (swar_special(v))
      break;
    p += 8;
  }
  while (p < end && str_class[*p] == 0)
    p++;
  return p;
}

static inline const unsigned char *at_end(const unsigned char *end,
                                          const char **why,
                                          const unsigned char **where) {
  *why = "unexpected end of input";
  *where = end;
  return NULL;
}

/* An escape from its '\\'; returns the position after it, or NULL with
 * *why and *where set. */
static inline const unsigned char *scan_escape(const unsigned char *p,
                                               const unsigned char *end,
                                               const char **why,
                                               const unsigned char **where) {
  size_t k;
  if (end - p < 2)
    return at_end(end, why, where);
  switch (p[1]) {
  case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
  case 't':
    return p + 2;
  case 'u':
    for (k = 2; k < 6; k++) {
      if (p + k >= end)
        return at_end(end, why, where);
      if (!hex_class[p[k]]) {
        *why = "invalid \\u escape";
        *where = p + k;
        return NULL;
      }
    }
    return p + 6; /* lone surrogates are valid JSON (RFC 8259, 8.2) */
  default:
    *why = "invalid escape";
    *where = p + 1;
    return NULL;
  }
}

/* A UTF-8 sequence from its lead byte c = *p (>= 0x80): Table 3-7, as in
 * utf8.c. Returns the position after it, or NULL with *why and *where. */
static inline const unsigned char *scan_utf8(const unsigned char *p,
                                             const unsigned char *end,
                                             const char **why,
                                             const unsigned char **where) {
  unsigned char c = *p, lo = 0x80, hi = 0xBF;
  size_t need, k;
  if (c < 0xC2 || c > 0xF4) {
    *why = "invalid UTF-8";
    *where = p;
    return NULL;
  }
  if (c < 0xE0) {
    need = 1;
  } else if (c < 0xF0) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  }
  for (k = 1; k <= need; k++) {
    if (p + k >= end)
      return at_end(end, why, where);
    if (p[k] < lo || p[k] > hi) {
      *why = "invalid UTF-8";
      *where = p + k;
      return NULL;
    }
    lo = 0x80;
    hi = 0xBF;
  }
  return p + need + 1;
}

/* A string body from just after the opening quote; returns the position
 * after the closing quote, or NULL with *why and *where set. */
static const unsigned char *scan_string(const unsigned char *p,
                                        const unsigned char *end,
                                        const char **why,
                                        const unsigned char **where) {
  for (;;) {
    const unsigned char *q;
    unsigned char c;
    p = skip_plain(p, end);
    if (p >= end)
      return at_end(end, why, where);
    c = *p;
    switch (str_class[c]) {
    case 0: /* the SWAR test was conservative; go on */
      p++;
      continue;
    case 1:
      return p + 1;
    case 2:
      q = scan_escape(p, end, why, where);
      break;
    case 3:
      *why = c ? "control character in string" : "NUL byte";
      *where = p;
      return NULL;
    default:
      q = scan_utf8(p, end, why, where);
      break;
    }
    if (!q)
      return NULL;
    p = q;
  }
}

/* One or more digits at p (a fraction or an exponent); what: the message
 * when something else is there. */
static const unsigned char *scan_digits(const unsigned char *p,
                                        const unsigned char *end,
                                        const char *what, const char **why,
                                        const unsigned char **where) {
  if (p >= end || !is_digit(*p)) {
    *why = p >= end ? "unexpected end of input" : what;
    *where = p;
    return NULL;
  }
  while (p < end && is_digit(*p))
    p++;
  return p;
}

/* A number per RFC 8259 section 6 from its first byte ('-' or a digit). */
static const unsigned char *scan_number(const unsigned char *p,
                                        const unsigned char *end,
                                        const char **why,
                                        const unsigned char **where) {
  if (*p == '-')
    p++;
  if (p >= end) {
    *why = "unexpected end of input";
    *where = end;
    return NULL;
  }
  if (*p == '0') {
    p++;
    if (p < end && is_digit(*p)) {
      *why = "leading zero";
      *where = p - 1;
      return NULL;
    }
  } else if (is_digit(*p)) {
    p++;
    while (p < end && is_digit(*p))
      p++;
  } else {
    *why = "expected digit";
    *where = p;
    return NULL;
  }
  if (p < end && *p == '.') {
    p = scan_digits(p + 1, end, "expected digit after '.'", why, where);
    if (!p)
      return NULL;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    p++;
    if (p < end && (*p == '+' || *p == '-'))
      p++;
    p = scan_digits(p, end, "expected digit in exponent", why, where);
  }
  return p;
}

/* true / false / null, exactly. */
static const unsigned char *scan_literal(const unsigned char *p,
                                         const unsigned char *end,
                                         const char *lit, size_t n,
                                         const char **why,
                                         const unsigned char **where) {
  size_t k;
  for (k = 0; k < n; k++) {
    if (p + k >= end) {
      *why = "unexpected end of input";
      *where = end;
      return NULL;
    }
    if (p[k] != (unsigned char)lit[k]) {
      *why = "invalid literal";
      *where = p + k;
      return NULL;
    }
  }
  return p + n;
}

/* Why the byte c cannot start a value. */
static inline const char *not_a_value(unsigned char c) {
  switch (c) {
  case ',':
    return "unexpected ','";
  case ']':
  case '}':
    return "expected a value";
  case 0:
    return "NUL byte";
  default:
    return "unexpected character";
  }
}

static inline int is_at(const unsigned char *p, const unsigned char *end,
                        unsigned char ch) {
  return p < end && *p == ch;
}

/* The reason for a byte that is not what the grammar wants: a NUL byte is
 * named as such, whatever was expected. */
static inline const char *or_nul(const unsigned char *p, const char *reason) {
  return *p ? reason : "NUL byte";
}

/* Bit depth of the container stack: set for an object, clear for an array. */
static inline void push_kind(uint64_t *stack, unsigned depth, int object) {
  if (object)
    stack[depth >> 6] |= UINT64_C(1) << (depth & 63);
  else
    stack[depth >> 6] &= ~(UINT64_C(1) << (depth & 63));
}

static inline int in_object(const uint64_t *stack, unsigned depth) {
  return (int)((stack[(depth - 1) >> 6] >> ((depth - 1) & 63)) & 1);
}

/* Not a '"' where a member name must start. */
static inline const char *bad_key(const unsigned char *p) {
  return *p == '}' ? "trailing comma" : or_nul(p, "expected string key");
}

/* The top-level value ended at p: only the end of the text may follow. */
static inline int end_of_document(const char *text, const unsigned char *p,
                           const unsigned char *end, rill_json_error *err,
                           size_t *n_tokens, size_t count) {
  if (p != end)
    return fail(err, text, p, or_nul(p, "trailing garbage"));
  if (n_tokens)
    *n_tokens = count;
  return RILL_OK;
}

/* Before the first byte: *n_tokens is 0 until the end, and NULL text is
 * the empty text when len is 0 (RILL_E_INVALID otherwise). */
static inline int start_check(const char **text, size_t len, rill_json_error *err,
                       size_t *n_tokens) {
  if (n_tokens)
    *n_tokens = 0;
  if (*text)
    return RILL_OK;
  if (len) {
    if (err) {
      err->offset = 0;
      err->reason = "NULL text";
    }
    return RILL_E_INVALID;
  }
  *text = "";
  return RILL_OK;
}

static inline const unsigned char *skip_ws(const unsigned char *p,
                                           const unsigned char *end) {
  while (p < end && ws_class[*p])
    p++;
  return p;
}

/* A member name and its ':' from where the name should start; returns the
 * position of the value (whitespace skipped), or NULL with *why and
 * *where set. */
static inline const unsigned char *scan_member_name(const unsigned char *p,
                                                    const unsigned char *end,
                                                    const char **why,
                                                    const unsigned char **where) {
  if (p >= end)
    return at_end(end, why, where);
  if (*p != '"') {
    *why = bad_key(p);
    *where = p;
    return NULL;
  }
  p = scan_string(p + 1, end, why, where);
  if (!p)
    return NULL;
  p = skip_ws(p, end);
  if (p >= end)
    return at_end(end, why, where);
  if (*p != ':') {
    *why = "expected ':'";
    *where = p;
    return NULL;
  }
  return skip_ws(p + 1, end);
}

#define SKIP_WS()                                                              \
  do {                                                                         \
    while (p < end && ws_class[*p])                                            \
      p++;                                                                     \
  } while (0)

#define FAIL_AT(at, why) return fail(err, text, (at), (why))

#define FAIL_SCAN() return fail(err, text, where, why)

int rill__json_check(const char *text, size_t len, rill_json_error *err,
                     size_t *n_tokens) {
  const unsigned char *p, *end, *q;
  const char *why = NULL;
  const unsigned char *where = NULL;
  uint64_t stack[RILL_JSON_MAX_DEPTH / 64] = {0, 0};
  unsigned depth = 0;
  size_t count = 0;

  if (start_check(&text, len, err, n_tokens) != RILL_OK)
    return RILL_E_INVALID;
  p = (const unsigned char *)text;
  end = p + len;

  SKIP_WS();

value:
  if (p >= end)
    FAIL_AT(end, "unexpected end of input");
  count++;
  switch (*p) {
  case '{':
    goto open_object;
  case '[':
    goto open_array;
  case '"':
    q = scan_string(p + 1, end, &why, &where);
    break;
  case '-': case '0': case '1': case '2': case '3': case '4': case '5':
  case '6': case '7': case '8': case '9':
    q = scan_number(p, end, &why, &where);
    break;
  case 't':
    q = scan_literal(p, end, "true", 4, &why, &where);
    break;
  case 'f':
    q = scan_literal(p, end, "false", 5, &why, &where);
    break;
  case 'n':
    q = scan_literal(p, end, "null", 4, &why, &where);
    break;
  default:
    FAIL_AT(p, not_a_value(*p));
  }
  if (!q)
    FAIL_SCAN();
  p = q;
  goto after_value;

open_array:
  if (depth >= RILL_JSON_MAX_DEPTH)
    FAIL_AT(p, "nesting too deep");
  push_kind(stack, depth++, 0);
  p++;
  SKIP_WS();
  if (is_at(p, end, ']'))
    goto close;
  goto value;

open_object:
  if (depth >= RILL_JSON_MAX_DEPTH)
    FAIL_AT(p, "nesting too deep");
  push_kind(stack, depth++, 1);
  p++;
  SKIP_WS();
  if (is_at(p, end, '}'))
    goto close;
  /* fall through */
member: /* at a member name (after '{' or ','), whitespace skipped */
  count++;
  q = scan_member_name(p, end, &why, &where);
  if (!q)
    FAIL_SCAN();
  p = q;
  goto value;

close: /* at the '}' or ']' that ends the innermost container */
  p++;
  depth--;
  /* fall through */
after_value:
  SKIP_WS();
  if (depth == 0)
    return end_of_document(text, p, end, err, n_tokens, count);
  if (p >= end)
    FAIL_AT(end, "unexpected end of input");
  if (in_object(stack, depth))
    goto after_member;
  if (*p == ',') {
    p++;
    SKIP_WS();
    if (is_at(p, end, ']'))
      FAIL_AT(p, "trailing comma");
    goto value;
  }
  if (*p == ']')
    goto close;
  FAIL_AT(p, or_nul(p, "expected ',' or ']'"));

after_member: /* after a member's value, inside its object */
  if (*p == ',') {
    p++;
    SKIP_WS();
    goto member;
  }
  if (*p == '}')
    goto close;
  FAIL_AT(p, or_nul(p, "expected ',' or '}'"));
}

int rill_json_validate(const char *text, size_t len, rill_json_error *err) {
  return rill__json_check(text, len, err, NULL);
}
