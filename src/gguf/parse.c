/*
 * parse.c — the GGUF header, general.alignment and the data section.
 *
 * Job: run the parse in file order (header, metadata, tensor table), check
 * the header's counts against what the file could hold before anything is
 * allocated for them, and place the data section.
 *
 * Must not know: how bytes are fetched (source.c), how entries are stored.
 */
#include <string.h>

#include "gguf/gguf_internal.h"
#include "gguf/types.h"
#include "rill/error.h"

/* Move the cursor over n bytes, fetching them; the budget check comes
 * first so that a stream is not read past max_metadata_bytes. */
static int take(rill__gparse *p, size_t n, const unsigned char **b,
                const char *what) {
  rill__gsrc *s = p->s;
  int rc;
  /* The constant return (not rill__gguf_fail's) lets callers, and the
   * static analyzer, see that *b is set exactly when RILL_OK comes back. */
  if (s->pos + n > p->g->opt.max_metadata_bytes) {
    (void)rill__gguf_fail(p->err, RILL_E_LIMIT, s->pos,
                          "%s at offset %llu lies past max_metadata_bytes "
                          "(%llu): raise the limit to open this file",
                          what, (unsigned long long)s->pos,
                          (unsigned long long)p->g->opt.max_metadata_bytes);
    return RILL_E_LIMIT;
  }
  rc = rill__gsrc_need(s, n, b, what, p->err);
  if (rc == RILL_OK)
    s->pos += n;
  return rc;
}

int rill__gguf_u32(rill__gparse *p, uint32_t *v, const char *what) {
  const unsigned char *b;
  int rc = take(p, 4, &b, what);
  if (rc == RILL_OK)
    *v = rill__le32(b);
  return rc;
}

int rill__gguf_u64(rill__gparse *p, uint64_t *v, const char *what) {
  const unsigned char *b;
  int rc = take(p, 8, &b, what);
  if (rc == RILL_OK)
    *v = rill__le64(b);
  return rc;
}

int rill__gguf_span(rill__gparse *p, uint64_t n, const char *what) {
  rill__gsrc *s = p->s;
  uint64_t max = p->g->opt.max_metadata_bytes;
  if (s->size != UINT64_MAX && n > s->size - s->pos)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, s->pos,
                           "%s at offset %llu needs %llu bytes but the file "
                           "has %llu left",
                           what, (unsigned long long)s->pos,
                           (unsigned long long)n,
                           (unsigned long long)(s->size - s->pos));
  if (n > max - s->pos)
    return rill__gguf_fail(p->err, RILL_E_LIMIT, s->pos,
                           "%s at offset %llu (%llu bytes) runs past "
                           "max_metadata_bytes (%llu)",
                           what, (unsigned long long)s->pos,
                           (unsigned long long)n, (unsigned long long)max);
  return RILL_OK;
}

static uint32_t bswap32(uint32_t v) {
  return (v >> 24) | (v >> 8 & 0xff00u) | (v << 8 & 0xff0000u) | v << 24;
}

static int check_magic_version(rill__gparse *p) {
  const unsigned char *b;
  uint32_t v;
  int rc;
  if (p->s->size == 0)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, 0,
                           "empty file: a GGUF file starts with 'GGUF'");
  rc = take(p, 4, &b, "the magic");
  if (rc != RILL_OK)
    return rc;
  if (memcmp(b, "GGUF", 4) != 0)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, 0,
                           "bad magic %02x %02x %02x %02x: not a GGUF file "
                           "(expected 'GGUF')",
                           b[0], b[1], b[2], b[3]);
  rc = rill__gguf_u32(p, &v, "the version");
  if (rc != RILL_OK)
    return rc;
  if (v == 2 || v == 3) {
    p->g->version = v;
    return RILL_OK;
  }
  if (bswap32(v) >= 1 && bswap32(v) <= 3)
    return rill__gguf_fail(p->err, RILL_E_UNSUPPORTED, 4,
                           "version %u read byte-swapped: big-endian GGUF is "
                           "not supported",
                           bswap32(v));
  if (v == 1)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, 4,
                           "GGUF version 1 is not supported (only 2 and 3): "
                           "convert the model again with a current llama.cpp");
  return rill__gguf_fail(p->err, RILL_E_FORMAT, 4,
                         "unknown GGUF version %u (rill reads 2 and 3)", v);
}

/* A count is refused as malformed when even the smallest entries could not
 * fit in the file, and as over the limit when the file could hold it but
 * the caller's cap is lower. */
static int check_count(rill__gparse *p, uint64_t n, uint64_t min_bytes,
                       uint64_t max, uint64_t off, const char *what,
                       const char *opt_name) {
  uint64_t room =
      p->s->size != UINT64_MAX ? p->s->size - p->s->pos : UINT64_MAX;
  if (n > room / min_bytes)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, off,
                           "%s is %llu: more than the file could hold "
                           "(%llu bytes left)",
                           what, (unsigned long long)n,
                           (unsigned long long)room);
  if (n > max)
    return rill__gguf_fail(
        p->err, RILL_E_LIMIT, off, "%s is %llu, over %s (%llu)", what,
        (unsigned long long)n, opt_name, (unsigned long long)max);
  return RILL_OK;
}

static int header(rill__gparse *p, uint64_t *n_tensors, uint64_t *n_kv) {
  int rc = check_magic_version(p);
  if (rc == RILL_OK)
    rc = rill__gguf_u64(p, n_tensors, "the tensor count");
  if (rc == RILL_OK)
    rc = rill__gguf_u64(p, n_kv, "the metadata count");
  if (rc == RILL_OK)
    rc = check_count(p, *n_kv, RILL__GGUF_MIN_KV, p->g->opt.max_kv, 16,
                     "the metadata count", "max_kv");
  if (rc == RILL_OK)
    rc =
        check_count(p, *n_tensors, RILL__GGUF_MIN_TENSOR, p->g->opt.max_tensors,
                    8, "the tensor count", "max_tensors");
  /* Both counts at once, which the checks above do not cover. */
  if (rc == RILL_OK && p->s->size != UINT64_MAX &&
      *n_kv * RILL__GGUF_MIN_KV >
          p->s->size - p->s->pos - *n_tensors * RILL__GGUF_MIN_TENSOR)
    rc = rill__gguf_fail(p->err, RILL_E_FORMAT, 8,
                         "%llu tensors and %llu metadata entries cannot fit "
                         "in the %llu bytes left in the file",
                         (unsigned long long)*n_tensors,
                         (unsigned long long)*n_kv,
                         (unsigned long long)(p->s->size - p->s->pos));
  return rc;
}

static int alignment(rill__gparse *p) {
  rill_gguf *g = p->g;
  int64_t i = rill__ghash_find(&g->kv_hash, g->names.p, &g->kv, 0,
                               "general.alignment", 17);
  const rill__gkv *k;
  g->alignment = RILL__GGUF_DEF_ALIGN;
  if (i < 0)
    return RILL_OK;
  k = (const rill__gkv *)g->kv.p + i;
  if (k->type != RILL_GGUF_U32)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "general.alignment has value type %u: it must be "
                           "UINT32 (type 4)",
                           (unsigned)k->type);
  if (k->val == 0 || (k->val & (k->val - 1)) != 0)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "general.alignment is %llu: it must be a nonzero "
                           "power of two",
                           (unsigned long long)k->val);
  if (k->val > RILL__GGUF_MAX_ALIGN)
    return rill__gguf_fail(p->err, RILL_E_FORMAT, k->file_off,
                           "general.alignment is %llu: larger than rill's "
                           "limit of %u",
                           (unsigned long long)k->val, RILL__GGUF_MAX_ALIGN);
  g->alignment = (uint32_t)k->val;
  return RILL_OK;
}

/* Place the data section and check every tensor lies inside the file
 * (file sources) before anything maps or reads it. */
static int data_section(rill__gparse *p) {
  rill_gguf *g = p->g;
  const rill__gtensor *t = g->tensor.p;
  uint64_t a = g->alignment, end = 0, size = p->s->size;
  size_t i;
  g->data_offset = (p->s->pos + a - 1) / a * a; /* pos is small: no wrap */
  for (i = 0; i < g->tensor.len; i++) {
    end = t[i].offset + t[i].n_bytes;
    if (size != UINT64_MAX &&
        (g->data_offset > size || end > size - g->data_offset))
      return rill__gguf_fail(
          p->err, RILL_E_FORMAT,
          t[i].offset > UINT64_MAX - g->data_offset
              ? g->data_offset
              : g->data_offset + t[i].offset,
          "tensor '%s' (%llu bytes at data offset %llu) runs past the "
          "end of the file (%llu bytes): the file is truncated",
          (const char *)g->names.p + t[i].name_off,
          (unsigned long long)t[i].n_bytes, (unsigned long long)t[i].offset,
          (unsigned long long)size);
    if (end > UINT64_MAX - g->data_offset - a)
      return rill__gguf_fail(p->err, RILL_E_FORMAT, g->data_offset,
                             "tensor '%s' ends past 2^64 bytes",
                             (const char *)g->names.p + t[i].name_off);
  }
  g->data_bytes = (end + a - 1) / a * a;
  return RILL_OK;
}

int rill__gguf_parse(rill_gguf *g, rill_gguf_error *err) {
  rill__gparse p;
  uint64_t n_tensors = 0, n_kv = 0;
  int rc;
  p.g = g;
  p.s = &g->src;
  p.err = err;
  rc = header(&p, &n_tensors, &n_kv);
  if (rc == RILL_OK)
    rc = rill__gguf_parse_kv(&p, n_kv);
  if (rc == RILL_OK)
    rc = alignment(&p);
  if (rc == RILL_OK)
    rc = rill__gguf_parse_tensors(&p, n_tensors);
  if (rc == RILL_OK)
    rc = data_section(&p);
  if (rc == RILL_OK)
    rc = rill__gsrc_finish_parse(&g->src);
  return rc;
}
