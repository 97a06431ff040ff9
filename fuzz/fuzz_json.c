/*
 * fuzz_json.c — libFuzzer target for the JSON reader and writer.
 *
 * Checks, for any bytes:
 * - rill_json_validate and rill__json_parse agree on the verdict (and on
 *   the error offset and reason when both reject);
 * - for a valid document: every token can be walked (skip stays in range,
 *   every string unescapes without growing and compares equal to its own
 *   unescaping, every primitive goes through the number and literal getters
 *   with a documented code), and rill_jw_raw minifies it into a document
 *   that validates and tokenizes to the same number of tokens;
 * - rill_jw_string of the input always yields valid JSON whose unescaped
 *   value is the input itself when the input is well-formed UTF-8.
 * Leaks are caught by LeakSanitizer when built with RILL_SANITIZE.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "json/json.h"
#include "rill/error.h"
#include "rill/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c))                                                                  \
      __builtin_trap();                                                        \
  } while (0)

static int is_utf8(const unsigned char *s, size_t n) {
  size_t i = 0, bad;
  while (i < n) {
    size_t k = rill__utf8_seq(s + i, n - i, &bad);
    if (!k)
      return 0;
    i += k;
  }
  return 1;
}

static void walk(const rill__json *d, rill__buf *tmp) {
  unsigned i;
  for (i = 0; i < d->ntok; i++) {
    const jsmntok_t *t = &d->tok[i];
    int next = rill__json_skip(d, (int)i);
    CHECK(next > (int)i && (unsigned)next <= d->ntok);
    CHECK(t->start >= 0 && t->end >= t->start && (size_t)t->end <= d->len);
    if (t->type == JSMN_STRING) {
      size_t n = (size_t)(t->end - t->start);
      rill__buf_clear(tmp);
      CHECK(rill__json_unescape(d, (int)i, tmp) == RILL_OK);
      CHECK(tmp->len <= n);
      CHECK(rill__json_str_eq(d, (int)i, tmp->data ? tmp->data : "",
                              tmp->len));
    } else if (t->type == JSMN_PRIMITIVE) {
      int64_t iv;
      uint64_t uv;
      double dv;
      int rc = rill__json_int64(d, (int)i, &iv);
      CHECK(rc == RILL_OK || rc == RILL_E_JSON || rc == RILL_E_LIMIT);
      rc = rill__json_uint64(d, (int)i, &uv);
      CHECK(rc == RILL_OK || rc == RILL_E_JSON || rc == RILL_E_LIMIT);
      rc = rill__json_double(d, (int)i, &dv);
      CHECK(rc == RILL_OK || rc == RILL_E_JSON || rc == RILL_E_LIMIT ||
            rc == RILL_E_NOMEM);
      if (rc == RILL_E_JSON) /* not a number: a literal */
        CHECK(rill__json_bool(d, (int)i) >= 0 || rill__json_is_null(d, (int)i));
    } else if (t->type == JSMN_OBJECT && t->size > 0) {
      /* the first member is found by its own (unescaped) name */
      int name = (int)i + 1, v;
      rill__buf_clear(tmp);
      CHECK(rill__json_unescape(d, name, tmp) == RILL_OK);
      v = rill__json_get(d, (int)i, tmp->data ? tmp->data : "", tmp->len);
      CHECK(v == name + 1);
    } else if (t->type == JSMN_ARRAY && t->size > 0) {
      CHECK(rill__json_at(d, (int)i, (size_t)t->size - 1) >= 0);
      CHECK(rill__json_at(d, (int)i, (size_t)t->size) == -1);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  rill_json_error e1 = {0, NULL}, e2 = {0, NULL};
  rill__json d, d2;
  rill__buf tmp;
  rill_jw *w = NULL;
  int v, p;

  v = rill_json_validate(s, size, &e1);
  rill__json_init(&d, NULL, 0);
  p = rill__json_parse(&d, s, size, &e2);
  CHECK(v == RILL_OK || v == RILL_E_JSON);
  if (p == RILL_E_LIMIT) {
    CHECK(v == RILL_OK); /* too many tokens, but valid */
  } else {
    CHECK((v == RILL_OK) == (p == RILL_OK));
  }
  if (v != RILL_OK) {
    CHECK(e1.reason != NULL && e1.offset <= size);
    CHECK(e1.offset == e2.offset && strcmp(e1.reason, e2.reason) == 0);
    CHECK(d.ntok == 0);
  }

  rill__buf_init(&tmp, NULL, size + 16);
  if (p == RILL_OK) {
    size_t len;
    const char *out;
    walk(&d, &tmp);
    CHECK(rill_jw_new(&w, 0) == RILL_OK);
    CHECK(rill_jw_raw(w, s, size) == RILL_OK);
    CHECK(rill_jw_complete(w));
    out = rill_jw_data(w, &len);
    CHECK(len <= size);
    CHECK(rill_json_validate(out, len, NULL) == RILL_OK);
    rill__json_init(&d2, NULL, 0);
    CHECK(rill__json_parse(&d2, out, len, NULL) == RILL_OK);
    CHECK(d2.ntok == d.ntok);
    rill__json_release(&d2);
    rill_jw_free(w);
    w = NULL;
  }
  rill__json_release(&d);

  /* the writer's string escaping on the same bytes */
  if (size <= 4096) {
    size_t len;
    const char *out;
    CHECK(rill_jw_new(&w, 0) == RILL_OK);
    CHECK(rill_jw_string(w, s, size) == RILL_OK);
    out = rill_jw_data(w, &len);
    CHECK(rill_json_validate(out, len, NULL) == RILL_OK);
    rill__json_init(&d2, NULL, 0);
    CHECK(rill__json_parse(&d2, out, len, NULL) == RILL_OK);
    CHECK(d2.ntok == 1);
    rill__buf_release(&tmp);
    rill__buf_init(&tmp, NULL, 6 * size + 16);
    CHECK(rill__json_unescape(&d2, 0, &tmp) == RILL_OK);
    if (is_utf8(data, size))
      CHECK(tmp.len == size && (size == 0 || memcmp(tmp.data, s, size) == 0));
    rill__json_release(&d2);
    rill_jw_free(w);
  }
  rill__buf_release(&tmp);
  return 0;
}
