/* gguf_writer.c — see gguf_writer.h. Test code: plain malloc, exits on OOM. */
#include "gguf_writer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fputs("gguf_writer: out of memory\n", stderr);
    exit(1);
  }
  return q;
}

/* ---- gwb ---- */

void gwb_bytes(gwb *b, const void *p, size_t n) {
  if (n == 0)
    return;
  if (b->cap - b->len < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
      cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
}

void gwb_u8(gwb *b, uint8_t v) {
  gwb_bytes(b, &v, 1);
}

static void gwb_le(gwb *b, uint64_t v, int n) {
  unsigned char t[8];
  int i;
  for (i = 0; i < n; i++)
    t[i] = (unsigned char)(v >> (8 * i));
  gwb_bytes(b, t, (size_t)n);
}

void gwb_u16(gwb *b, uint16_t v) {
  gwb_le(b, v, 2);
}
void gwb_u32(gwb *b, uint32_t v) {
  gwb_le(b, v, 4);
}
void gwb_u64(gwb *b, uint64_t v) {
  gwb_le(b, v, 8);
}

void gwb_f32(gwb *b, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  gwb_u32(b, u);
}

void gwb_f64(gwb *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  gwb_u64(b, u);
}

void gwb_strn(gwb *b, const char *s, size_t n) {
  gwb_u64(b, n);
  gwb_bytes(b, s, n);
}

void gwb_str(gwb *b, const char *s) {
  gwb_strn(b, s, strlen(s));
}

void gwb_pad(gwb *b, uint64_t align) {
  static const unsigned char z[64];
  while (b->len % align) {
    size_t n = (size_t)(align - b->len % align);
    gwb_bytes(b, z, n < sizeof z ? n : sizeof z);
  }
}

void gwb_free(gwb *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

/* ---- gw ---- */

typedef struct gw_tensor_ent {
  char *name;
  size_t name_len;
  uint32_t n_dims;
  uint64_t *ne;
  uint32_t type;
  int raw;             /* written verbatim, no data */
  uint64_t raw_offset; /* raw only */
  unsigned char *data; /* NULL: zeros */
  uint64_t bytes;
} gw_tensor_ent;

struct gw {
  uint32_t version;
  uint64_t n_kv;
  gwb kv;
  gw_tensor_ent *t;
  size_t n_t, cap_t;
  uint64_t claim_tensors, claim_kv;
  uint64_t alignment;
  gwb tail;
};

gw *gw_new(uint32_t version) {
  gw *w = xrealloc(NULL, sizeof *w);
  memset(w, 0, sizeof *w);
  w->version = version;
  w->alignment = 32;
  w->claim_tensors = w->claim_kv = UINT64_MAX;
  return w;
}

void gw_free(gw *w) {
  size_t i;
  if (!w)
    return;
  for (i = 0; i < w->n_t; i++) {
    free(w->t[i].name);
    free(w->t[i].ne);
    free(w->t[i].data);
  }
  free(w->t);
  gwb_free(&w->kv);
  gwb_free(&w->tail);
  free(w);
}

static void key_type(gw *w, const char *key, uint32_t type) {
  gwb_str(&w->kv, key);
  gwb_u32(&w->kv, type);
  w->n_kv++;
}

void gw_u8(gw *w, const char *key, uint8_t v) {
  key_type(w, key, RILL_GGUF_U8);
  gwb_u8(&w->kv, v);
}
void gw_i8(gw *w, const char *key, int8_t v) {
  key_type(w, key, RILL_GGUF_I8);
  gwb_u8(&w->kv, (uint8_t)v);
}
void gw_u16(gw *w, const char *key, uint16_t v) {
  key_type(w, key, RILL_GGUF_U16);
  gwb_u16(&w->kv, v);
}
void gw_i16(gw *w, const char *key, int16_t v) {
  key_type(w, key, RILL_GGUF_I16);
  gwb_u16(&w->kv, (uint16_t)v);
}
void gw_u32(gw *w, const char *key, uint32_t v) {
  key_type(w, key, RILL_GGUF_U32);
  gwb_u32(&w->kv, v);
  if (strcmp(key, "general.alignment") == 0 && v && !(v & (v - 1)))
    w->alignment = v;
}
void gw_i32(gw *w, const char *key, int32_t v) {
  key_type(w, key, RILL_GGUF_I32);
  gwb_u32(&w->kv, (uint32_t)v);
}
void gw_f32(gw *w, const char *key, float v) {
  key_type(w, key, RILL_GGUF_F32);
  gwb_f32(&w->kv, v);
}
void gw_bool(gw *w, const char *key, int v) {
  key_type(w, key, RILL_GGUF_BOOL);
  gwb_u8(&w->kv, v ? 1 : 0);
}
void gw_u64(gw *w, const char *key, uint64_t v) {
  key_type(w, key, RILL_GGUF_U64);
  gwb_u64(&w->kv, v);
}
void gw_i64(gw *w, const char *key, int64_t v) {
  key_type(w, key, RILL_GGUF_I64);
  gwb_u64(&w->kv, (uint64_t)v);
}
void gw_f64(gw *w, const char *key, double v) {
  key_type(w, key, RILL_GGUF_F64);
  gwb_f64(&w->kv, v);
}
void gw_str(gw *w, const char *key, const char *v) {
  gw_strn(w, key, v, strlen(v));
}
void gw_strn(gw *w, const char *key, const char *v, size_t n) {
  key_type(w, key, RILL_GGUF_STRING);
  gwb_strn(&w->kv, v, n);
}

void gw_arr(gw *w, const char *key, rill_gguf_vtype elem, const void *elems,
            uint64_t count) {
  uint64_t i;
  key_type(w, key, RILL_GGUF_ARRAY);
  gwb_u32(&w->kv, (uint32_t)elem);
  gwb_u64(&w->kv, count);
  for (i = 0; i < count; i++) {
    switch (elem) {
    case RILL_GGUF_U8:
    case RILL_GGUF_I8:
    case RILL_GGUF_BOOL:
      gwb_u8(&w->kv, ((const uint8_t *)elems)[i]);
      break;
    case RILL_GGUF_U16:
    case RILL_GGUF_I16:
      gwb_u16(&w->kv, ((const uint16_t *)elems)[i]);
      break;
    case RILL_GGUF_U32:
    case RILL_GGUF_I32:
      gwb_u32(&w->kv, ((const uint32_t *)elems)[i]);
      break;
    case RILL_GGUF_F32:
      gwb_f32(&w->kv, ((const float *)elems)[i]);
      break;
    case RILL_GGUF_U64:
    case RILL_GGUF_I64:
      gwb_u64(&w->kv, ((const uint64_t *)elems)[i]);
      break;
    case RILL_GGUF_F64:
      gwb_f64(&w->kv, ((const double *)elems)[i]);
      break;
    default:
      fputs("gw_arr: not a numeric element type\n", stderr);
      exit(1);
    }
  }
}

void gw_arr_str(gw *w, const char *key, const char *const *strs,
                uint64_t count) {
  uint64_t i;
  key_type(w, key, RILL_GGUF_ARRAY);
  gwb_u32(&w->kv, RILL_GGUF_STRING);
  gwb_u64(&w->kv, count);
  for (i = 0; i < count; i++)
    gwb_str(&w->kv, strs[i]);
}

void gw_kv_raw(gw *w, const void *key, size_t key_len, uint32_t type,
               const void *value, size_t value_len) {
  gwb_strn(&w->kv, key, key_len);
  gwb_u32(&w->kv, type);
  gwb_bytes(&w->kv, value, value_len);
  w->n_kv++;
}

static gw_tensor_ent *new_tensor(gw *w, const void *name, size_t name_len,
                                 uint32_t n_dims, const uint64_t *ne) {
  gw_tensor_ent *e;
  if (w->n_t == w->cap_t) {
    w->cap_t = w->cap_t ? w->cap_t * 2 : 8;
    w->t = xrealloc(w->t, w->cap_t * sizeof *w->t);
  }
  e = &w->t[w->n_t++];
  memset(e, 0, sizeof *e);
  e->name = xrealloc(NULL, name_len + 1);
  memcpy(e->name, name, name_len);
  e->name[name_len] = 0;
  e->name_len = name_len;
  e->n_dims = n_dims;
  e->ne = xrealloc(NULL, (n_dims ? n_dims : 1) * sizeof *ne);
  if (n_dims)
    memcpy(e->ne, ne, n_dims * sizeof *ne);
  return e;
}

void gw_tensor(gw *w, const char *name, int type, uint32_t n_dims,
               const uint64_t *ne, const void *data) {
  gw_tensor_ent *e = new_tensor(w, name, strlen(name), n_dims, ne);
  uint64_t n = 1, row;
  uint32_t i;
  for (i = 1; i < n_dims; i++)
    n *= ne[i];
  if (rill_gguf_row_bytes(type, n_dims ? ne[0] : 1, &row) != 0) {
    fprintf(stderr, "gw_tensor %s: bad type %d or ne[0]\n", name, type);
    exit(1);
  }
  e->type = (uint32_t)type;
  e->bytes = row * n;
  if (data) {
    e->data = xrealloc(NULL, (size_t)e->bytes);
    memcpy(e->data, data, (size_t)e->bytes);
  }
}

void gw_tensor_raw(gw *w, const void *name, size_t name_len, uint32_t n_dims,
                   const uint64_t *ne, uint32_t type, uint64_t offset) {
  gw_tensor_ent *e = new_tensor(w, name, name_len, n_dims, ne);
  e->type = type;
  e->raw = 1;
  e->raw_offset = offset;
}

void gw_set_counts(gw *w, uint64_t n_tensors, uint64_t n_kv) {
  w->claim_tensors = n_tensors;
  w->claim_kv = n_kv;
}

void gw_tail(gw *w, const void *p, size_t n) {
  gwb_bytes(&w->tail, p, n);
}

uint64_t gw_alignment(const gw *w) {
  return w->alignment;
}

static uint64_t pad_to(uint64_t x, uint64_t a) {
  return (x + a - 1) / a * a;
}

uint64_t gw_tensor_offset(const gw *w, size_t i) {
  uint64_t off = 0;
  size_t k, seen = 0;
  for (k = 0; k < w->n_t; k++) {
    if (w->t[k].raw)
      continue;
    if (seen++ == i)
      return off;
    off += pad_to(w->t[k].bytes, w->alignment);
  }
  return off;
}

uint64_t gw_data_bytes(const gw *w) {
  uint64_t off = 0;
  size_t k;
  for (k = 0; k < w->n_t; k++)
    if (!w->t[k].raw)
      off += pad_to(w->t[k].bytes, w->alignment);
  return off;
}

static void head(const gw *w, gwb *b) {
  uint64_t off = 0;
  size_t k;
  gwb_bytes(b, "GGUF", 4);
  gwb_u32(b, w->version);
  gwb_u64(b,
          w->claim_tensors != UINT64_MAX ? w->claim_tensors : (uint64_t)w->n_t);
  gwb_u64(b, w->claim_kv != UINT64_MAX ? w->claim_kv : w->n_kv);
  gwb_bytes(b, w->kv.p, w->kv.len);
  for (k = 0; k < w->n_t; k++) {
    const gw_tensor_ent *e = &w->t[k];
    uint32_t d;
    gwb_strn(b, e->name, e->name_len);
    gwb_u32(b, e->n_dims);
    for (d = 0; d < e->n_dims; d++)
      gwb_u64(b, e->ne[d]);
    gwb_u32(b, e->type);
    if (e->raw) {
      gwb_u64(b, e->raw_offset);
    } else {
      gwb_u64(b, off);
      off += pad_to(e->bytes, w->alignment);
    }
  }
  gwb_pad(b, w->alignment);
}

uint64_t gw_data_offset(const gw *w) {
  gwb b = {0};
  uint64_t n;
  head(w, &b);
  n = b.len;
  gwb_free(&b);
  return n;
}

unsigned char *gw_build_head(const gw *w, size_t *len) {
  gwb b = {0};
  head(w, &b);
  *len = b.len;
  return b.p ? b.p : xrealloc(NULL, 1);
}

unsigned char *gw_build(const gw *w, size_t *len) {
  gwb b = {0};
  size_t k;
  head(w, &b);
  for (k = 0; k < w->n_t; k++) {
    const gw_tensor_ent *e = &w->t[k];
    if (e->raw)
      continue;
    if (e->data) {
      gwb_bytes(&b, e->data, (size_t)e->bytes);
    } else {
      uint64_t left = e->bytes;
      static const unsigned char z[4096];
      while (left) {
        size_t n = left < sizeof z ? (size_t)left : sizeof z;
        gwb_bytes(&b, z, n);
        left -= n;
      }
    }
    gwb_pad(&b, w->alignment);
  }
  gwb_bytes(&b, w->tail.p, w->tail.len);
  *len = b.len;
  return b.p ? b.p : xrealloc(NULL, 1);
}

static int put(FILE *f, const void *p, size_t n) {
  return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1;
}

int gw_write_file(const gw *w, const char *path) {
  static const unsigned char z[4096];
  gwb b = {0};
  FILE *f = fopen(path, "wb");
  size_t k;
  int rc;
  if (!f)
    return -1;
  head(w, &b);
  rc = put(f, b.p, b.len);
  gwb_free(&b);
  for (k = 0; k < w->n_t && rc == 0; k++) {
    const gw_tensor_ent *e = &w->t[k];
    uint64_t left, padded;
    if (e->raw)
      continue;
    padded = pad_to(e->bytes, w->alignment);
    if (e->data) {
      rc = put(f, e->data, (size_t)e->bytes);
      left = padded - e->bytes;
    } else {
      left = padded;
    }
    while (left && rc == 0) {
      size_t n = left < sizeof z ? (size_t)left : sizeof z;
      rc = put(f, z, n);
      left -= n;
    }
  }
  if (rc == 0)
    rc = put(f, w->tail.p, w->tail.len);
  if (fclose(f) != 0)
    rc = -1;
  return rc;
}

int gw_save(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  int rc;
  if (!f)
    return -1;
  rc = put(f, p, n);
  if (fclose(f) != 0)
    rc = -1;
  if (rc != 0 && errno == 0)
    errno = EIO;
  return rc;
}

int gw_read(void *user, void *buf, size_t cap, size_t *got) {
  gw_reader *r = user;
  size_t n = r->len - r->pos;
  r->calls++;
  if (r->fail_at && r->pos >= r->fail_at)
    return -1;
  if (n > cap)
    n = cap;
  if (r->chunk == GW_RANDOM && n > 1) {
    r->seed = r->seed * 1103515245u + 12345u;
    n = 1 + (size_t)(r->seed >> 8) % n;
  } else if (r->chunk && r->chunk != GW_RANDOM && n > r->chunk) {
    n = r->chunk;
  }
  if (r->fail_at && r->pos + n > r->fail_at)
    n = r->fail_at - r->pos;
  memcpy(buf, r->p + r->pos, n);
  r->pos += n;
  *got = n;
  return 0;
}
