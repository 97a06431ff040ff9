/*
 * parse_tensor.c — the tensor table of a GGUF file.
 *
 * Job: read each tensor info and check it: name, dimensions (none
 * negative, their product and the byte size without overflow), element
 * type, block multiple, and offset (aligned, in file order, not
 * overlapping the tensor before). Requiring file order is what ggml's own
 * reader does (it wants each offset to follow the previous tensor), it
 * makes the overlap check one comparison, and it lets a stream source read
 * the tensors front to back.
 *
 * Must not know: where bytes come from, the metadata.
 */
#include <stdio.h>
#include <string.h>

#include "gguf/gguf_internal.h"
#include "gguf/types.h"
#include "rill/error.h"

static int dims(rill__gparse *p, rill__gtensor *t) {
  uint64_t n = 1;
  uint32_t d;
  int rc = rill__gguf_u32(p, &t->n_dims, "the dimension count");
  if (rc != RILL_OK)
    return rc;
  if (t->n_dims > RILL_GGUF_MAX_DIMS)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, p->s->pos - 4,
                           "%u dimensions (at most %d)", t->n_dims,
                           RILL_GGUF_MAX_DIMS);
  for (d = 0; d < RILL_GGUF_MAX_DIMS; d++)
    t->ne[d] = 1;
  for (d = 0; d < t->n_dims; d++) {
    uint64_t off = p->s->pos;
    rc = rill__gguf_u64(p, &t->ne[d], "a dimension");
    if (rc != RILL_OK)
      return rc;
    if (t->ne[d] > (uint64_t)INT64_MAX)
      return rill__gguf_fail(
          p->err, RILL_E_FORMAT, off, "dimension %u is negative (%lld)", d,
          (long long)(t->ne[d] - (uint64_t)INT64_MAX - 1) + INT64_MIN);
    if (t->ne[d] != 0 && n > (uint64_t)INT64_MAX / t->ne[d])
      return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                             "the element count overflows int64 at "
                             "dimension %u (%llu)",
                             d, (unsigned long long)t->ne[d]);
    n *= t->ne[d];
  }
  t->n_elements = n;
  return RILL_OK;
}

static int type_and_size(rill__gparse *p, rill__gtensor *t) {
  const rill__gguf_typeinfo *ti;
  uint64_t off = p->s->pos, blocks, rows;
  uint32_t type;
  int rc = rill__gguf_u32(p, &type, "the element type");
  if (rc != RILL_OK)
    return rc;
  ti = type <= (uint32_t)INT32_MAX ? rill__gguf_type((int)type) : NULL;
  if (!ti && type < RILL_GGUF_GGML_TYPE_END)
    return rill__gguf_fail(p->err, RILL_E_UNSUPPORTED, off,
                           "element type %u is a ggml type rill does not "
                           "read (it reads F32, F16, BF16, Q4_0..Q8_0 and "
                           "the K quants)",
                           type);
  if (!ti)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "unknown element type id %u", type);
  t->type = (rill_gguf_type)type;
  if (t->ne[0] % ti->block_elems != 0)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "ne[0] = %llu is not a multiple of the %s block "
                           "size %u",
                           (unsigned long long)t->ne[0], ti->name,
                           ti->block_elems);
  blocks = t->ne[0] / ti->block_elems;
  rows = t->ne[0] ? t->n_elements / t->ne[0] : 0;
  if (blocks > UINT64_MAX / ti->block_bytes ||
      (rows && blocks * ti->block_bytes > UINT64_MAX / rows))
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "the byte size of %llu %s elements overflows",
                           (unsigned long long)t->n_elements, ti->name);
  t->row_bytes = blocks * ti->block_bytes;
  t->n_bytes = t->row_bytes * rows;
#if SIZE_MAX < UINT64_MAX
  if (t->n_bytes > SIZE_MAX)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "the byte size %llu does not fit in memory",
                           (unsigned long long)t->n_bytes);
#endif
  return RILL_OK;
}

static int offset(rill__gparse *p, rill__gtensor *t,
                  const rill__gtensor *prev) {
  uint64_t off = p->s->pos, a = p->g->alignment;
  int rc = rill__gguf_u64(p, &t->offset, "the data offset");
  if (rc != RILL_OK)
    return rc;
  if (t->offset % a != 0)
    return rill__gguf_fail(
        p->err, RILL_E_FORMAT, off,
        "offset %llu is not a multiple of the alignment %llu",
        (unsigned long long)t->offset, (unsigned long long)a);
  if (t->n_bytes > UINT64_MAX - t->offset)
    return rill__gguf_fail(
        p->err, RILL_E_FORMAT, off, "offset %llu plus size %llu overflows",
        (unsigned long long)t->offset, (unsigned long long)t->n_bytes);
  if (prev && t->offset < prev->offset)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "offset %llu is before the previous tensor's "
                           "(%llu): tensors out of order",
                           (unsigned long long)t->offset,
                           (unsigned long long)prev->offset);
  if (prev && t->offset < prev->offset + prev->n_bytes)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "offset %llu overlaps the previous tensor "
                           "(bytes %llu..%llu)",
                           (unsigned long long)t->offset,
                           (unsigned long long)prev->offset,
                           (unsigned long long)prev->offset + prev->n_bytes);
  return RILL_OK;
}

static int nomem(rill__gparse *p) {
  return rill__gguf_fail(p->err, RILL_E_NOMEM, p->s->pos, "out of memory");
}

static int one(rill__gparse *p, uint64_t i) {
  rill_gguf *g = p->g;
  rill__gtensor *t;
  const char *name;
  char ctx[96];
  int rc;
  if (rill__gvec_reserve(&g->tensor, sizeof *t, 1, SIZE_MAX) != RILL_OK)
    return nomem(p);
  t = (rill__gtensor *)g->tensor.p + g->tensor.len;
  memset(t, 0, sizeof *t);
  rc = rill__gguf_name_field(p, RILL_GGUF_MAX_NAME, &t->name_off, &t->name_len,
                             "the name");
  if (rc != RILL_OK) {
    (void)snprintf(ctx, sizeof ctx, "tensor %llu", (unsigned long long)i);
    if (rc != RILL_E_NOMEM)
      rill__gguf_prefix(p, ctx);
    return rc;
  }
  name = (const char *)g->names.p + t->name_off;
  (void)snprintf(ctx, sizeof ctx, "tensor '%s'", name);
  if (rill__ghash_find(&g->tensor_hash, g->names.p, &g->tensor, 1, name,
                       t->name_len) >= 0)
    rc = rill__gguf_fail(p->err, RILL_E_FORMAT, p->s->pos - t->name_len - 8,
                         "duplicate tensor name");
  if (rc == RILL_OK)
    rc = dims(p, t);
  if (rc == RILL_OK)
    rc = type_and_size(p, t);
  if (rc == RILL_OK)
    rc = offset(p, t, g->tensor.len ? t - 1 : NULL);
  if (rc == RILL_OK) {
    g->tensor.len++;
    if (rill__ghash_insert(&g->tensor_hash, g->names.p, &g->tensor, 1,
                           g->tensor.len - 1) != RILL_OK)
      rc = nomem(p);
  }
  if (rc != RILL_OK && rc != RILL_E_NOMEM)
    rill__gguf_prefix(p, ctx);
  return rc;
}

int rill__gguf_parse_tensors(rill__gparse *p, uint64_t n_tensors) {
  uint64_t i;
  for (i = 0; i < n_tensors; i++) {
    int rc = one(p, i);
    uint64_t n;
    if (rc != RILL_OK)
      return rc;
    n = ((rill__gtensor *)p->g->tensor.p)[i].n_elements;
    /* Only a stream could sum past 2^64 (no file size bounds it). */
    p->g->n_elements =
        n > UINT64_MAX - p->g->n_elements ? UINT64_MAX : p->g->n_elements + n;
  }
  return RILL_OK;
}
