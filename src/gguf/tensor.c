/*
 * tensor.c — tensor lookup, reads and dequantization.
 *
 * Job: hand out tensor infos, bytes from the mapping, copies into caller
 * buffers, and floats; dequantization of an unmapped tensor goes through a
 * fixed stack window of whole blocks, so it allocates nothing whatever the
 * tensor's size.
 *
 * Must not know: how blocks decode (dequant.c), the GGUF layout.
 */
#include <string.h>

#include "gguf/gguf_internal.h"
#include "gguf/types.h"
#include "rill/error.h"

/* Bytes of tensor data per dequantization step of an unmapped handle. */
#define DEQ_WINDOW (16 * 1024)

static const rill__gtensor *get(const rill_gguf *g, uint64_t index) {
  if (!g || index >= g->tensor.len)
    return NULL;
  return (const rill__gtensor *)g->tensor.p + index;
}

int rill_gguf_tensor_at(const rill_gguf *g, uint64_t index,
                        rill_gguf_tensor *out) {
  const rill__gtensor *t = get(g, index);
  if (!t || !out)
    return RILL_E_INVALID;
  out->name = rill__gguf_name(g, t->name_off);
  out->name_len = t->name_len;
  out->type = t->type;
  out->n_dims = t->n_dims;
  memcpy(out->ne, t->ne, sizeof out->ne);
  out->n_elements = t->n_elements;
  out->n_bytes = t->n_bytes;
  out->row_bytes = t->row_bytes;
  out->offset = t->offset;
  return RILL_OK;
}

int64_t rill_gguf_find_tensor(const rill_gguf *g, const char *name) {
  if (!g || !name)
    return -1;
  return rill__ghash_find(&g->tensor_hash, g->names.p, &g->tensor, 1, name,
                          strlen(name));
}

int rill_gguf_tensor_data(const rill_gguf *g, uint64_t index,
                          const void **data) {
  const rill__gtensor *t = get(g, index);
  if (!t || !data)
    return RILL_E_INVALID;
  if (!g->mapped)
    return RILL_E_STATE;
  /* Checked at open: data_offset + offset + n_bytes <= the mapping. */
  *data = g->map + g->data_offset + t->offset;
  return RILL_OK;
}

int rill_gguf_tensor_read(rill_gguf *g, uint64_t index, uint64_t offset,
                          void *buf, size_t len) {
  const rill__gtensor *t = get(g, index);
  if (!t || (!buf && len) || offset > t->n_bytes || len > t->n_bytes - offset)
    return RILL_E_INVALID;
  if (len == 0)
    return RILL_OK;
  if (g->mapped) {
    memcpy(buf, g->map + g->data_offset + t->offset + offset, len);
    return RILL_OK;
  }
  return rill__gsrc_read_at(&g->src, g->data_offset + t->offset + offset, buf,
                            len);
}

static int deq_chunks(rill_gguf *g, uint64_t index, const rill__gtensor *t,
                      uint64_t first_byte, uint64_t bytes, float *dst) {
  const rill__gguf_typeinfo *ti = rill__gguf_type((int)t->type);
  unsigned char win[DEQ_WINDOW];
  size_t step = DEQ_WINDOW / ti->block_bytes * ti->block_bytes;
  size_t per = step / ti->block_bytes * ti->block_elems;
  while (bytes) {
    size_t k = bytes < step ? (size_t)bytes : step;
    size_t n = k / ti->block_bytes * ti->block_elems;
    int rc = rill_gguf_tensor_read(g, index, first_byte, win, k);
    if (rc == RILL_OK)
      rc = rill_gguf_dequantize((int)t->type, win, k, dst, n);
    if (rc != RILL_OK)
      return rc;
    first_byte += k;
    bytes -= k;
    dst += per;
  }
  return RILL_OK;
}

int rill_gguf_tensor_dequantize(rill_gguf *g, uint64_t index,
                                uint64_t first_row, uint64_t n_rows, float *dst,
                                size_t dst_count) {
  const rill__gtensor *t = get(g, index);
  uint64_t rows, first_byte, bytes;
  if (!t)
    return RILL_E_INVALID;
  if (t->type == RILL_GGUF_TYPE_Q8_1)
    return RILL_E_UNSUPPORTED;
  rows = t->ne[0] ? t->n_elements / t->ne[0] : 0;
  if (first_row > rows || n_rows > rows - first_row || (n_rows && !dst) ||
      (t->ne[0] && n_rows > dst_count / t->ne[0]))
    return RILL_E_INVALID;
  if (n_rows == 0 || t->ne[0] == 0)
    return RILL_OK;
  first_byte = first_row * t->row_bytes;
  bytes = n_rows * t->row_bytes;
  if (g->mapped)
    return rill_gguf_dequantize(
        (int)t->type, g->map + g->data_offset + t->offset + first_byte,
        (size_t)bytes, dst, (size_t)(n_rows * t->ne[0]));
  return deq_chunks(g, index, t, first_byte, bytes, dst);
}
