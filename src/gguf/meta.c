/*
 * meta.c — the metadata getters.
 *
 * Job: look keys up in the hash table and convert values under one rule:
 * an integer getter takes any integer type whose value fits, a float
 * getter takes F32 or F64, bool takes BOOL only. Everything read here was
 * checked at open, and every length comes from the heap index, never from
 * the (possibly mapped, possibly changing) file.
 *
 * Must not know: how the file was read.
 */
#include <float.h>
#include <string.h>

#include "gguf/gguf_internal.h"
#include "gguf/types.h"
#include "rill/error.h"

/* An arena that never received a byte is NULL; the only offset ever added
 * to it then is 0, which is not defined on a null pointer. */
const unsigned char *rill__gguf_vbase(const rill_gguf *g) {
  static const unsigned char none[1];
  const unsigned char *b =
      g->copy_values ? (const unsigned char *)g->arena.p : g->map;
  return b ? b : none;
}

const char *rill__gguf_name(const rill_gguf *g, uint64_t off) {
  return (const char *)g->names.p + off;
}

int rill_gguf_kv_at(const rill_gguf *g, uint64_t index, rill_gguf_kv *out) {
  const rill__gkv *k;
  if (!g || !out || index >= g->kv.len)
    return RILL_E_INVALID;
  k = (const rill__gkv *)g->kv.p + index;
  out->key = rill__gguf_name(g, k->key_off);
  out->key_len = k->key_len;
  out->type = k->type;
  out->elem_type = k->elem_type;
  out->count = k->type == RILL_GGUF_ARRAY ? k->n : 1;
  out->offset = k->file_off;
  return RILL_OK;
}

int64_t rill_gguf_find_key(const rill_gguf *g, const char *key) {
  if (!g || !key)
    return -1;
  return rill__ghash_find(&g->kv_hash, g->names.p, &g->kv, 0, key, strlen(key));
}

static const rill__gkv *lookup(const rill_gguf *g, const char *key, int *rc) {
  int64_t i;
  if (!g || !key) {
    *rc = RILL_E_INVALID;
    return NULL;
  }
  i = rill_gguf_find_key(g, key);
  if (i < 0) {
    *rc = RILL_E_NOT_FOUND;
    return NULL;
  }
  *rc = RILL_OK;
  return (const rill__gkv *)g->kv.p + i;
}

/* An integer value as a sign and a magnitude-carrying pair: exactly one of
 * *neg (the value is negative, as int64) or *u (non-negative) is used. */
static int int_value(rill_gguf_vtype t, uint64_t bits, int *neg, int64_t *s,
                     uint64_t *u) {
  int64_t v;
  switch (t) {
  case RILL_GGUF_U8:
  case RILL_GGUF_U16:
  case RILL_GGUF_U32:
  case RILL_GGUF_U64:
    *neg = 0;
    *u = bits;
    return RILL_OK;
  case RILL_GGUF_I8:
    /* GGUF I8 is signed: sign extension is meant.
     * NOLINTNEXTLINE(cert-str34-c,bugprone-signed-char-misuse) */
    v = (int8_t)(uint8_t)bits;
    break;
  case RILL_GGUF_I16:
    v = (int16_t)(uint16_t)bits;
    break;
  case RILL_GGUF_I32:
    v = (int32_t)(uint32_t)bits;
    break;
  case RILL_GGUF_I64:
    v = bits > (uint64_t)INT64_MAX
            ? (int64_t)(bits - (uint64_t)INT64_MAX - 1) + INT64_MIN
            : (int64_t)bits;
    break;
  default:
    return RILL_E_FORMAT;
  }
  *neg = v < 0;
  *s = v;
  *u = v < 0 ? 0 : (uint64_t)v;
  return RILL_OK;
}

static int float_value(rill_gguf_vtype t, uint64_t bits, double *out) {
  if (t == RILL_GGUF_F32) {
    uint32_t b = (uint32_t)bits;
    float f;
    memcpy(&f, &b, sizeof f);
    *out = f;
    return RILL_OK;
  }
  if (t == RILL_GGUF_F64) {
    memcpy(out, &bits, sizeof *out);
    return RILL_OK;
  }
  return RILL_E_FORMAT;
}

static int scalar(const rill_gguf *g, const char *key, const rill__gkv **k) {
  int rc;
  *k = lookup(g, key, &rc);
  if (rc == RILL_OK &&
      ((*k)->type == RILL_GGUF_STRING || (*k)->type == RILL_GGUF_ARRAY))
    rc = RILL_E_FORMAT;
  return rc;
}

int rill_gguf_get_u64(const rill_gguf *g, const char *key, uint64_t *out) {
  const rill__gkv *k;
  int neg, rc = scalar(g, key, &k);
  int64_t s;
  uint64_t u;
  if (rc == RILL_OK && !out)
    rc = RILL_E_INVALID;
  if (rc == RILL_OK)
    rc = int_value(k->type, k->val, &neg, &s, &u);
  if (rc == RILL_OK && neg)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK)
    *out = u;
  return rc;
}

int rill_gguf_get_u32(const rill_gguf *g, const char *key, uint32_t *out) {
  uint64_t v;
  int rc = out ? rill_gguf_get_u64(g, key, &v) : RILL_E_INVALID;
  if (rc == RILL_OK && v > UINT32_MAX)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK)
    *out = (uint32_t)v;
  return rc;
}

static int to_i64(rill_gguf_vtype t, uint64_t bits, int64_t *out) {
  int neg;
  int64_t s;
  uint64_t u;
  int rc = int_value(t, bits, &neg, &s, &u);
  if (rc != RILL_OK)
    return rc;
  if (neg) {
    *out = s;
    return RILL_OK;
  }
  if (u > (uint64_t)INT64_MAX)
    return RILL_E_FORMAT;
  *out = (int64_t)u;
  return RILL_OK;
}

int rill_gguf_get_i64(const rill_gguf *g, const char *key, int64_t *out) {
  const rill__gkv *k;
  int rc = scalar(g, key, &k);
  if (rc == RILL_OK && !out)
    rc = RILL_E_INVALID;
  if (rc == RILL_OK)
    rc = to_i64(k->type, k->val, out);
  return rc;
}

int rill_gguf_get_f64(const rill_gguf *g, const char *key, double *out) {
  const rill__gkv *k;
  int rc = scalar(g, key, &k);
  if (rc == RILL_OK && !out)
    rc = RILL_E_INVALID;
  if (rc == RILL_OK)
    rc = float_value(k->type, k->val, out);
  return rc;
}

/* A double as a float: a finite value beyond float's range does not fit;
 * infinities and NaN carry over. */
static int narrow(double d, float *out) {
  if (d == d && (d > FLT_MAX || d < -FLT_MAX) && d - d == 0)
    return RILL_E_FORMAT;
  *out = (float)d;
  return RILL_OK;
}

int rill_gguf_get_f32(const rill_gguf *g, const char *key, float *out) {
  double d;
  int rc = out ? rill_gguf_get_f64(g, key, &d) : RILL_E_INVALID;
  if (rc == RILL_OK)
    rc = narrow(d, out);
  return rc;
}

int rill_gguf_get_bool(const rill_gguf *g, const char *key, int *out) {
  const rill__gkv *k;
  int rc = scalar(g, key, &k);
  if (rc == RILL_OK && !out)
    rc = RILL_E_INVALID;
  if (rc == RILL_OK && k->type != RILL_GGUF_BOOL)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK)
    *out = k->val != 0;
  return rc;
}

int rill_gguf_get_str(const rill_gguf *g, const char *key, const char **str,
                      size_t *len) {
  int rc;
  const rill__gkv *k = lookup(g, key, &rc);
  if (rc == RILL_OK && (!str || !len))
    rc = RILL_E_INVALID;
  if (rc == RILL_OK && k->type != RILL_GGUF_STRING)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK) {
    *str = (const char *)rill__gguf_vbase(g) + k->val;
    *len = (size_t)k->n;
  }
  return rc;
}

int rill_gguf_get_arr(const rill_gguf *g, const char *key,
                      rill_gguf_vtype *elem_type, uint64_t *count) {
  int rc;
  const rill__gkv *k = lookup(g, key, &rc);
  if (rc == RILL_OK && k->type != RILL_GGUF_ARRAY)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK) {
    if (elem_type)
      *elem_type = k->elem_type;
    if (count)
      *count = k->n;
  }
  return rc;
}

static const rill__gkv *element(const rill_gguf *g, uint64_t kv, uint64_t i,
                                const void *out, int *rc) {
  const rill__gkv *k;
  *rc = RILL_E_INVALID;
  if (!g || !out || kv >= g->kv.len)
    return NULL;
  k = (const rill__gkv *)g->kv.p + kv;
  if (k->type != RILL_GGUF_ARRAY || i >= k->n)
    return NULL;
  *rc = RILL_OK;
  return k;
}

int rill_gguf_arr_str(const rill_gguf *g, uint64_t kv, uint64_t i,
                      const char **str, size_t *len) {
  int rc;
  const rill__gkv *k = element(g, kv, i, str, &rc);
  const uint32_t *idx;
  if (rc == RILL_OK && !len)
    rc = RILL_E_INVALID;
  if (rc == RILL_OK && k->elem_type != RILL_GGUF_STRING)
    rc = RILL_E_FORMAT;
  if (rc != RILL_OK)
    return rc;
  idx = (const uint32_t *)g->sidx.p + k->sidx + i;
  *str = (const char *)rill__gguf_vbase(g) + k->val + idx[0] + 8;
  *len = (size_t)(idx[1] - idx[0] - 8);
  return RILL_OK;
}

static uint64_t elem_bits(const rill_gguf *g, const rill__gkv *k, uint64_t i,
                          size_t *size) {
  static const unsigned char sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
  const unsigned char *p;
  uint64_t v = 0;
  size_t b;
  *size = sz[k->elem_type];
  p = rill__gguf_vbase(g) + k->val + i * *size;
  for (b = 0; b < *size; b++)
    v |= (uint64_t)p[b] << (8 * b);
  return v;
}

int rill_gguf_arr_i64(const rill_gguf *g, uint64_t kv, uint64_t i,
                      int64_t *out) {
  int rc;
  size_t size;
  const rill__gkv *k = element(g, kv, i, out, &rc);
  if (rc != RILL_OK)
    return rc;
  if (k->elem_type == RILL_GGUF_STRING || k->elem_type == RILL_GGUF_BOOL)
    return RILL_E_FORMAT;
  return to_i64(k->elem_type, elem_bits(g, k, i, &size), out);
}

int rill_gguf_arr_f32(const rill_gguf *g, uint64_t kv, uint64_t i, float *out) {
  int rc;
  size_t size;
  double d;
  const rill__gkv *k = element(g, kv, i, out, &rc);
  if (rc != RILL_OK)
    return rc;
  if (k->elem_type != RILL_GGUF_F32 && k->elem_type != RILL_GGUF_F64)
    return RILL_E_FORMAT;
  rc = float_value(k->elem_type, elem_bits(g, k, i, &size), &d);
  if (rc == RILL_OK)
    rc = narrow(d, out);
  return rc;
}

int rill_gguf_arr_u64(const rill_gguf *g, uint64_t kv, uint64_t i,
                      uint64_t *out) {
  int rc, neg;
  size_t size;
  int64_t s;
  uint64_t u;
  const rill__gkv *k = element(g, kv, i, out, &rc);
  if (rc != RILL_OK)
    return rc;
  rc = int_value(k->elem_type, elem_bits(g, k, i, &size), &neg, &s, &u);
  if (rc == RILL_OK && neg)
    rc = RILL_E_FORMAT;
  if (rc == RILL_OK)
    *out = u;
  return rc;
}

int rill_gguf_arr_f64(const rill_gguf *g, uint64_t kv, uint64_t i,
                      double *out) {
  int rc;
  size_t size;
  const rill__gkv *k = element(g, kv, i, out, &rc);
  if (rc != RILL_OK)
    return rc;
  return float_value(k->elem_type, elem_bits(g, k, i, &size), out);
}

int rill_gguf_arr_bool(const rill_gguf *g, uint64_t kv, uint64_t i, int *out) {
  int rc;
  size_t size;
  const rill__gkv *k = element(g, kv, i, out, &rc);
  if (rc != RILL_OK)
    return rc;
  if (k->elem_type != RILL_GGUF_BOOL)
    return RILL_E_FORMAT;
  *out = elem_bits(g, k, i, &size) != 0;
  return RILL_OK;
}
