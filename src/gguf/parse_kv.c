/*
 * parse_kv.c — the metadata entries of a GGUF file.
 *
 * Job: read each key and value, check it (lengths against the bytes left,
 * UTF-8, duplicates, value types), and index it: scalars are decoded into
 * the entry; strings and arrays are referenced by offset, in the file when
 * it will be mapped, else in the arena they are copied into as they are
 * met. String arrays also get one offset per element (plus the end), so
 * element i is found at once and its length never has to be re-read from
 * a file that might change under the mapping.
 *
 * Must not know: where bytes come from, the tensor table.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "gguf/gguf_internal.h"
#include "gguf/types.h"
#include "rill/error.h"

static const unsigned char scalar_size[] = {1, 1, 2, 2, 4, 4, 4,
                                            1, 0, 0, 8, 8, 8};

static size_t arena_max(const rill__gparse *p) {
  uint64_t m = p->g->opt.max_metadata_bytes;
  return m > SIZE_MAX ? SIZE_MAX : (size_t)m;
}

static int append(rill__gparse *p, const unsigned char *b, size_t n) {
  rill__gvec *a = &p->g->arena;
  int rc = rill__gvec_reserve(a, 1, n, arena_max(p));
  if (rc != RILL_OK)
    return rc == RILL_E_LIMIT ? RILL_E_INTERNAL : rc; /* span() ran first */
  memcpy((unsigned char *)a->p + a->len, b, n);
  a->len += n;
  return RILL_OK;
}

static int nomem(rill__gparse *p) {
  return rill__gguf_fail(p->err, RILL_E_NOMEM, p->s->pos,
                         "out of memory at offset %llu",
                         (unsigned long long)p->s->pos);
}

/* Move over n bytes already checked by span(): check them as UTF-8 if
 * asked, copy them to the arena unless the file will be mapped. A mapped
 * descriptor source that needs no check does not read them at all. */
static int pass(rill__gparse *p, uint64_t n, int utf8, const char *what) {
  rill__gsrc *s = p->s;
  rill__gutf8 u = {0, 0x80, 0xBF};
  uint64_t start = s->pos;
  if (!utf8 && !p->g->copy_values && s->fd >= 0) {
    s->pos += n;
    return RILL_OK;
  }
  while (n) {
    const unsigned char *b;
    size_t k = n < RILL_GGUF_WINDOW ? (size_t)n : RILL_GGUF_WINDOW, bad;
    int rc = rill__gsrc_need(s, k, &b, what, p->err);
    if (rc != RILL_OK)
      return rc;
    if (utf8 && (bad = rill__gutf8_feed(&u, b, k)) != k)
      return rill__gguf_fail(p->err, RILL_E_FORMAT, start,
                             "%s is not valid UTF-8 (bad byte 0x%02x at "
                             "offset %llu)",
                             what, b[bad], (unsigned long long)s->pos + bad);
    if (p->g->copy_values && append(p, b, k) != RILL_OK)
      return nomem(p);
    s->pos += k;
    n -= k;
  }
  if (!rill__gutf8_done(&u))
    return rill__gguf_fail(p->err, RILL_E_FORMAT, start,
                           "%s is not valid UTF-8 (it ends inside a "
                           "character at offset %llu)",
                           what, (unsigned long long)s->pos);
  return RILL_OK;
}

/* Where the value about to be passed will live. */
static uint64_t here(const rill__gparse *p) {
  return p->g->copy_values ? (uint64_t)p->g->arena.len : p->s->pos;
}

static int string_value(rill__gparse *p, rill__gkv *k) {
  uint64_t len;
  int rc = rill__gguf_u64(p, &len, "a string length");
  if (rc != RILL_OK)
    return rc;
  rc = rill__gguf_span(p, len, "the string");
  if (rc != RILL_OK)
    return rc;
  k->n = len;
  k->val = here(p);
  return pass(p, len, 1, "the string");
}

static int sidx_push(rill__gparse *p, uint64_t rel) {
  rill__gvec *v = &p->g->sidx;
  if (rel > UINT32_MAX)
    return rill__gguf_fail(p->err, RILL_E_LIMIT, p->s->pos,
                           "a string array larger than 4 GiB is not "
                           "supported");
  if (rill__gvec_reserve(v, sizeof(uint32_t), 1, SIZE_MAX / 8) != RILL_OK)
    return nomem(p);
  ((uint32_t *)v->p)[v->len++] = (uint32_t)rel;
  return RILL_OK;
}

static int string_array(rill__gparse *p, rill__gkv *k) {
  uint64_t i, start = p->s->pos;
  int rc;
  if (k->n > UINT64_MAX / 8)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "string array count %llu overflows",
                           (unsigned long long)k->n);
  rc = rill__gguf_span(p, k->n * 8, "the string array");
  if (rc != RILL_OK)
    return rc;
  k->val = here(p);
  k->sidx = p->g->sidx.len;
  for (i = 0; i < k->n && rc == RILL_OK; i++) {
    uint64_t len;
    rc = sidx_push(p, p->s->pos - start);
    if (rc == RILL_OK && p->g->copy_values) {
      const unsigned char *b;
      rc = rill__gsrc_need(p->s, 8, &b, "a string length", p->err);
      if (rc == RILL_OK && append(p, b, 8) != RILL_OK)
        rc = nomem(p);
    }
    if (rc == RILL_OK)
      rc = rill__gguf_u64(p, &len, "a string length");
    if (rc == RILL_OK)
      rc = rill__gguf_span(p, len, "an array string");
    if (rc == RILL_OK)
      rc = pass(p, len, 1, "an array string");
    if (rc != RILL_OK && rc != RILL_E_NOMEM) {
      char ctx[32];
      (void)snprintf(ctx, sizeof ctx, "element %llu", (unsigned long long)i);
      rill__gguf_prefix(p, ctx);
    }
  }
  if (rc == RILL_OK)
    rc = sidx_push(p, p->s->pos - start);
  return rc;
}

static int array_value(rill__gparse *p, rill__gkv *k) {
  uint32_t et;
  size_t sz;
  int rc = rill__gguf_u32(p, &et, "the array element type");
  if (rc == RILL_OK)
    rc = rill__gguf_u64(p, &k->n, "the array count");
  if (rc != RILL_OK)
    return rc;
  if (et == RILL_GGUF_ARRAY)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "an array of arrays is not supported (nothing in "
                           "GGUF uses one)");
  if (et > RILL_GGUF_F64)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "unknown array element type %u", et);
  k->elem_type = (rill_gguf_vtype)et;
  if (et == RILL_GGUF_STRING)
    return string_array(p, k);
  sz = scalar_size[et];
  if (k->n > UINT64_MAX / sz)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "array count %llu times %zu-byte elements "
                           "overflows",
                           (unsigned long long)k->n, sz);
  rc = rill__gguf_span(p, k->n * sz, "the array");
  if (rc != RILL_OK)
    return rc;
  k->val = here(p);
  return pass(p, k->n * sz, 0, "the array");
}

static int scalar_value(rill__gparse *p, rill__gkv *k) {
  const unsigned char *b;
  size_t sz = scalar_size[k->type], i;
  int rc = rill__gguf_span(p, sz, "a metadata value");
  if (rc == RILL_OK)
    rc = rill__gsrc_need(p->s, sz, &b, "a metadata value", p->err);
  if (rc != RILL_OK)
    return rc;
  k->val = 0;
  for (i = 0; i < sz; i++)
    k->val |= (uint64_t)b[i] << (8 * i);
  k->n = 1;
  p->s->pos += sz;
  return RILL_OK;
}

static int value(rill__gparse *p, rill__gkv *k) {
  uint32_t type;
  int rc = rill__gguf_u32(p, &type, "a metadata value type");
  if (rc != RILL_OK)
    return rc;
  k->file_off = p->s->pos;
  if (type > RILL_GGUF_F64)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, p->s->pos - 4,
                           "unknown value type %u (GGUF defines 0..12)", type);
  k->type = k->elem_type = (rill_gguf_vtype)type;
  if (type == RILL_GGUF_STRING)
    return string_value(p, k);
  if (type == RILL_GGUF_ARRAY)
    return array_value(p, k);
  return scalar_value(p, k);
}

/* Keys and tensor names: 1..max bytes of UTF-8 without NUL, copied with a
 * terminator into the names store. */
static int name_bytes(rill__gparse *p, uint64_t len, uint64_t max,
                      uint64_t *name_off, const char *what) {
  rill__gvec *names = &p->g->names;
  const unsigned char *b;
  rill__gutf8 u = {0, 0x80, 0xBF};
  uint64_t off = p->s->pos - 8;
  size_t bad;
  int rc;
  if (len == 0)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off, "%s is empty", what);
  if (len > max)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "%s is %llu bytes long, over the %llu allowed", what,
                           (unsigned long long)len, (unsigned long long)max);
  rc = rill__gguf_span(p, len, what);
  if (rc == RILL_OK)
    rc = rill__gsrc_need(p->s, (size_t)len, &b, what, p->err);
  if (rc != RILL_OK)
    return rc;
  if ((bad = rill__gutf8_feed(&u, b, (size_t)len)) != len ||
      !rill__gutf8_done(&u))
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "%s is not valid UTF-8 (byte %zu)", what, bad);
  if (memchr(b, 0, (size_t)len))
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off, "%s contains a NUL byte",
                           what);
  if (rill__gvec_reserve(names, 1, (size_t)len + 1, SIZE_MAX) != RILL_OK)
    return nomem(p);
  *name_off = names->len;
  memcpy((char *)names->p + names->len, b, (size_t)len);
  ((char *)names->p)[names->len + (size_t)len] = 0;
  names->len += (size_t)len + 1;
  p->s->pos += len;
  return RILL_OK;
}

int rill__gguf_name_field(rill__gparse *p, uint64_t max, uint64_t *name_off,
                          size_t *name_len, const char *what) {
  uint64_t len;
  int rc = rill__gguf_u64(p, &len, what);
  if (rc == RILL_OK)
    rc = name_bytes(p, len, max, name_off, what);
  if (rc == RILL_OK)
    *name_len = (size_t)len;
  return rc;
}

/* Put "CONTEXT: " in front of the message the failing step wrote; the
 * end of the message gives way when the whole does not fit. */
void rill__gguf_prefix(rill__gparse *p, const char *ctx) {
  char *m;
  size_t cap, c, have, keep;
  if (!p->err)
    return;
  m = p->err->message;
  cap = sizeof p->err->message - 1;
  c = strlen(ctx);
  if (c + 2 > cap)
    c = cap - 2;
  have = strnlen(m, cap);
  keep = have < cap - c - 2 ? have : cap - c - 2;
  memmove(m + c + 2, m, keep);
  memcpy(m, ctx, c);
  m[c] = ':';
  m[c + 1] = ' ';
  m[c + 2 + keep] = 0;
}

static int one(rill__gparse *p, uint64_t i) {
  rill_gguf *g = p->g;
  rill__gkv *k;
  char ctx[96];
  int64_t dup;
  int rc;
  if (rill__gvec_reserve(&g->kv, sizeof *k, 1, SIZE_MAX) != RILL_OK)
    return nomem(p);
  k = (rill__gkv *)g->kv.p + g->kv.len;
  memset(k, 0, sizeof *k);
  rc = rill__gguf_name_field(p, RILL_GGUF_MAX_KEY, &k->key_off, &k->key_len,
                             "the key");
  if (rc != RILL_OK) {
    (void)snprintf(ctx, sizeof ctx, "metadata entry %llu",
                   (unsigned long long)i);
    rill__gguf_prefix(p, ctx);
    return rc;
  }
  (void)snprintf(
      ctx, sizeof ctx, "metadata key '%.*s'",
      rill__gguf_shown((const char *)g->names.p + k->key_off, k->key_len, 48),
      (const char *)g->names.p + k->key_off);
  dup = rill__ghash_find(&g->kv_hash, g->names.p, &g->kv, 0,
                         (const char *)g->names.p + k->key_off, k->key_len);
  if (dup >= 0) {
    rc = rill__gguf_fail(p->err, RILL_E_FORMAT, p->s->pos - k->key_len - 8,
                         "duplicate key (entry %llu has it too)",
                         (unsigned long long)dup);
  } else {
    rc = value(p, k);
  }
  if (rc == RILL_OK) {
    g->kv.len++;
    rc = rill__ghash_insert(&g->kv_hash, g->names.p, &g->kv, 0, g->kv.len - 1);
    if (rc != RILL_OK)
      rc = nomem(p);
  }
  if (rc != RILL_OK && rc != RILL_E_NOMEM)
    rill__gguf_prefix(p, ctx);
  return rc;
}

int rill__gguf_parse_kv(rill__gparse *p, uint64_t n_kv) {
  uint64_t i;
  for (i = 0; i < n_kv; i++) {
    int rc = one(p, i);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}
