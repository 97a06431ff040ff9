/*
 * doc.c — the public JSON reading API (rill_json_doc): the internal reader
 * (tokens.c, lookup.c, unescape.c, number.c) behind an opaque handle that
 * owns a copy of the text, so applications never see jsmn's types.
 *
 * Invariants: doc->json.text points at doc->text (owned); the unescape
 * buffer is reused across rill_json_string calls.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "json/json.h"
#include "rill/error.h"
#include "rill/json.h"

#define DOC_MAX_TOKENS (1u << 20)

struct rill_json_doc {
  rill__json json;
  char *text;
  rill__buf str; /* last unescaped string */
};

int rill_json_parse(rill_json_doc **out, const char *text, size_t len,
                    rill_json_error *err) {
  rill_json_doc *d;
  int rc;
  if (!out || (!text && len))
    return RILL_E_INVALID;
  *out = NULL;
  d = rill__calloc(1, sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  d->text = rill__strndup(text ? text : "", len);
  if (!d->text) {
    rill__free(d);
    return RILL_E_NOMEM;
  }
  rill__json_init(&d->json, NULL, DOC_MAX_TOKENS);
  rill__buf_init(&d->str, NULL, len + 1);
  rc = rill__json_parse(&d->json, d->text, len, err);
  if (rc != RILL_OK) {
    rill_json_doc_free(d);
    return rc;
  }
  *out = d;
  return RILL_OK;
}

void rill_json_doc_free(rill_json_doc *d) {
  if (!d)
    return;
  rill__json_release(&d->json);
  rill__buf_release(&d->str);
  rill__free(d->text);
  rill__free(d);
}

rill_json_type rill_json_type_of(const rill_json_doc *d, int tok) {
  const jsmntok_t *t = d ? rill__json_tok(&d->json, tok) : NULL;
  if (!t)
    return RILL_JSON_NONE;
  switch (t->type) {
  case JSMN_OBJECT:
    return RILL_JSON_OBJECT;
  case JSMN_ARRAY:
    return RILL_JSON_ARRAY;
  case JSMN_STRING:
    return RILL_JSON_STRING;
  case JSMN_PRIMITIVE:
    switch (d->json.text[t->start]) {
    case 't':
      return RILL_JSON_TRUE;
    case 'f':
      return RILL_JSON_FALSE;
    case 'n':
      return RILL_JSON_NULL;
    default:
      return RILL_JSON_NUMBER;
    }
  default:
    return RILL_JSON_NONE;
  }
}

size_t rill_json_count(const rill_json_doc *d, int tok) {
  const jsmntok_t *t = d ? rill__json_tok(&d->json, tok) : NULL;
  if (!t || (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY))
    return 0;
  return (size_t)t->size;
}

int rill_json_get(const rill_json_doc *d, int obj, const char *key) {
  return d ? rill__json_getz(&d->json, obj, key) : -1;
}

int rill_json_at(const rill_json_doc *d, int arr, size_t i) {
  return d ? rill__json_at(&d->json, arr, i) : -1;
}

const char *rill_json_text(const rill_json_doc *d, int tok, size_t *len) {
  const jsmntok_t *t = d ? rill__json_tok(&d->json, tok) : NULL;
  size_t dummy;
  if (!len)
    len = &dummy;
  if (!t) {
    *len = 0;
    return NULL;
  }
  if (t->type == JSMN_STRING) { /* jsmn's span excludes the quotes */
    *len = (size_t)(t->end - t->start) + 2;
    return d->json.text + t->start - 1;
  }
  *len = (size_t)(t->end - t->start);
  return d->json.text + t->start;
}

const char *rill_json_string(rill_json_doc *d, int tok, size_t *len) {
  if (!d || !rill__json_is_string(&d->json, tok))
    return NULL;
  rill__buf_clear(&d->str);
  if (rill__json_unescape(&d->json, tok, &d->str) != RILL_OK ||
      rill__buf_putc(&d->str, '\0') != RILL_OK)
    return NULL;
  if (len)
    *len = d->str.len - 1;
  return d->str.data;
}

int rill_json_number(const rill_json_doc *d, int tok, double *out) {
  if (!d || !out)
    return RILL_E_INVALID;
  return rill__json_double(&d->json, tok, out);
}
