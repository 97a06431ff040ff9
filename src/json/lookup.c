/*
 * lookup.c — find values in a tokenized document without allocating.
 *
 * Job: member lookup, array indexing, dotted paths, type tests and raw
 * spans over the tokens tokens.c produced.
 *
 * The tree shape comes from jsmn's sizes: an object's size is its number of
 * members, each member name is a string token of size 1 whose one child is
 * the value, an array's size is its number of elements. So the subtree at i
 * ends where a running count of "tokens still owed" (start 1, add each
 * token's size, subtract one per token) reaches zero. Lookups are linear in
 * the size of the container, which for streamed chat chunks (a few dozen
 * tokens) beats building any index.
 *
 * Invariants: every index handed out is in [0, ntok) or -1; nothing here
 * reads outside d->text[0..len) (token offsets come from jsmn, which only
 * saw that range).
 *
 * Must not know: jsmn's parser (types only), providers, allocation.
 */
#include "json/json.h"

#include <stdint.h>
#include <string.h>

int rill__json_skip(const rill__json *d, int i) {
  unsigned j, owed = 1;
  if (i < 0 || (unsigned)i >= d->ntok)
    return (int)d->ntok;
  j = (unsigned)i;
  while (owed > 0 && j < d->ntok) {
    owed += (unsigned)d->tok[j].size;
    owed--;
    j++;
  }
  return (int)j;
}

int rill__json_get(const rill__json *d, int obj, const char *key,
                   size_t len) {
  const jsmntok_t *t = rill__json_tok(d, obj);
  int j, k, n;
  if (!t || t->type != JSMN_OBJECT || (!key && len))
    return -1;
  n = t->size;
  j = obj + 1;
  for (k = 0; k < n && (unsigned)j < d->ntok; k++) {
    const jsmntok_t *name = &d->tok[j];
    const char *raw = d->text + name->start;
    size_t raw_len = (size_t)(name->end - name->start);
    /* Inline rejection of most mismatches (shorter name, different first
     * byte) before the full comparison, which handles escapes. */
    if (name->type == JSMN_STRING && raw_len >= len &&
        (len == 0 || raw[0] == key[0] || raw[0] == '\\') &&
        rill__json_span_eq(raw, raw_len, key, len))
      return (unsigned)(j + 1) < d->ntok ? j + 1 : -1;
    j = rill__json_skip(d, j); /* the name and its value */
  }
  return -1;
}

size_t rill__json_get_many(const rill__json *d, int obj,
                           const char *const *keys, size_t n, int *out) {
  const jsmntok_t *t = rill__json_tok(d, obj);
  size_t lens[RILL_JSON_GET_MANY_MAX], found = 0, k;
  int j, m, members;
  for (k = 0; k < n; k++)
    out[k] = -1;
  if (!t || t->type != JSMN_OBJECT || n > RILL_JSON_GET_MANY_MAX)
    return 0;
  for (k = 0; k < n; k++)
    lens[k] = SIZE_MAX; /* measured on first need: most keys never match */
  members = t->size;
  j = obj + 1;
  for (m = 0; m < members && (unsigned)j + 1 < d->ntok && found < n; m++) {
    const jsmntok_t *name = &d->tok[j];
    const char *raw = d->text + name->start;
    size_t raw_len = (size_t)(name->end - name->start);
    for (k = 0; k < n; k++) {
      if (out[k] >= 0 || (raw_len && raw[0] != keys[k][0] && raw[0] != '\\'))
        continue;
      if (lens[k] == SIZE_MAX)
        lens[k] = strlen(keys[k]);
      if (raw_len < lens[k])
        continue;
      if (rill__json_span_eq(raw, raw_len, keys[k], lens[k])) {
        out[k] = j + 1;
        found++;
        break;
      }
    }
    j = rill__json_skip(d, j);
  }
  return found;
}

int rill__json_getz(const rill__json *d, int obj, const char *key) {
  if (!key)
    return -1;
  return rill__json_get(d, obj, key, strlen(key));
}

int rill__json_at(const rill__json *d, int arr, size_t idx) {
  const jsmntok_t *t = rill__json_tok(d, arr);
  int j;
  size_t k;
  if (!t || t->type != JSMN_ARRAY || idx >= (size_t)t->size)
    return -1;
  j = arr + 1;
  for (k = 0; k < idx && (unsigned)j < d->ntok; k++)
    j = rill__json_skip(d, j);
  return (unsigned)j < d->ntok ? j : -1;
}

/* "[N]" at *pp: the element N of cur, -1 if absent or malformed; *pp
 * moves past the ']'. */
static int path_index(const rill__json *d, int cur, const char **pp) {
  const char *p = *pp + 1, *digits = p;
  size_t idx = 0;
  while (*p >= '0' && *p <= '9') {
    if (idx > (SIZE_MAX - 9) / 10)
      return -1;
    idx = idx * 10 + (size_t)(*p - '0');
    p++;
  }
  if (p == digits || *p != ']')
    return -1;
  *pp = p + 1;
  return rill__json_at(d, cur, idx);
}

/* "name" (".name" after the first step) at *pp: the member of cur, -1 if
 * absent or malformed; *pp moves past the name. */
static int path_member(const rill__json *d, int cur, const char **pp,
                       int first) {
  const char *p = *pp, *name;
  if (!first) {
    if (*p != '.')
      return -1;
    p++;
  }
  name = p;
  while (*p && *p != '.' && *p != '[')
    p++;
  if (p == name)
    return -1; /* empty member name: "a..b", ".a", "a." */
  *pp = p;
  return rill__json_get(d, cur, name, (size_t)(p - name));
}

int rill__json_path(const rill__json *d, int root, const char *path) {
  const char *p = path;
  int cur = root, first = 1;
  if (!path || !rill__json_tok(d, root))
    return -1;
  while (*p) {
    if (*p == '[')
      cur = path_index(d, cur, &p);
    else
      cur = path_member(d, cur, &p, first);
    if (cur < 0)
      return -1;
    first = 0;
  }
  return cur;
}

int rill__json_is_string(const rill__json *d, int i) {
  const jsmntok_t *t = rill__json_tok(d, i);
  return t && t->type == JSMN_STRING;
}

int rill__json_is_object(const rill__json *d, int i) {
  const jsmntok_t *t = rill__json_tok(d, i);
  return t && t->type == JSMN_OBJECT;
}

int rill__json_is_array(const rill__json *d, int i) {
  const jsmntok_t *t = rill__json_tok(d, i);
  return t && t->type == JSMN_ARRAY;
}

int rill__json_is_null(const rill__json *d, int i) {
  const jsmntok_t *t = rill__json_tok(d, i);
  return t && t->type == JSMN_PRIMITIVE && d->text[t->start] == 'n';
}

int rill__json_bool(const rill__json *d, int i) {
  const jsmntok_t *t = rill__json_tok(d, i);
  if (!t || t->type != JSMN_PRIMITIVE)
    return -1;
  if (d->text[t->start] == 't')
    return 1;
  if (d->text[t->start] == 'f')
    return 0;
  return -1;
}

const char *rill__json_raw(const rill__json *d, int i, size_t *len) {
  const jsmntok_t *t = rill__json_tok(d, i);
  if (!t) {
    if (len)
      *len = 0;
    return NULL;
  }
  if (len)
    *len = (size_t)(t->end - t->start);
  return d->text + t->start;
}

int rill__json_str_eq(const rill__json *d, int i, const char *lit,
                      size_t len) {
  const jsmntok_t *t = rill__json_tok(d, i);
  if (!t || t->type != JSMN_STRING || (!lit && len))
    return 0;
  return rill__json_span_eq(d->text + t->start,
                            (size_t)(t->end - t->start), lit, len);
}
