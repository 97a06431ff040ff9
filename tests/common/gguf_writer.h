/*
 * gguf_writer — a test-side GGUF builder (not part of the library).
 *
 * Two levels:
 *
 * 1. gw: a file described by calls, laid out the way llama.cpp's writer lays
 *    it out: header, metadata in call order, tensor infos in call order,
 *    zero padding to the alignment, then each tensor's data padded to the
 *    alignment. The alignment is 32 unless a general.alignment key is set
 *    with gw_u32 (then that value is used for the layout too).
 *
 *      gw *w = gw_new(3);
 *      gw_str(w, "general.architecture", "nomic-bert");
 *      gw_u32(w, "bert.block_count", 12);
 *      uint64_t ne[2] = {768, 3072};
 *      gw_tensor(w, "blk.0.ffn_up.weight", RILL_GGUF_TYPE_F16, 2, ne, data);
 *      gw_write_file(w, "/tmp/x.gguf");         (or gw_build for memory)
 *      gw_free(w);
 *
 *    Large files: pass data NULL to gw_tensor, write the head with
 *    gw_build_head (header + metadata + infos + padding, ending at the data
 *    section), then write each tensor's bytes yourself at
 *    gw_data_offset() + gw_tensor_offset(w, i), padding included
 *    (gw_data_bytes() is the whole data section). gw_build and
 *    gw_write_file fill tensors given NULL data with zeros.
 *
 *    Crafting broken files: gw_kv_raw writes a key of any bytes with any type
 *    id and any value bytes; gw_tensor_raw writes a tensor info verbatim
 *    (any name bytes, n_dims, ne, type id, offset) and adds no data;
 *    gw_set_counts overrides the n_tensors / n_kv the header claims;
 *    gw_tail appends bytes after the data section (for raw tensors to point
 *    into). Anything else (magic, version bytes) is easiest patched in the
 *    buffer gw_build returns.
 *
 * 2. gwb: a growable byte buffer with little-endian appenders, for files
 *    written field by field.
 *
 * Every function exits the process on out-of-memory (test code). Byte order
 * is always little-endian whatever the host.
 */
#ifndef RILL_TEST_GGUF_WRITER_H
#define RILL_TEST_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "rill/gguf.h"

/* ---- raw byte buffer ---- */
typedef struct gwb {
  unsigned char *p;
  size_t len, cap;
} gwb;

void gwb_bytes(gwb *b, const void *p, size_t n);
void gwb_u8(gwb *b, uint8_t v);
void gwb_u16(gwb *b, uint16_t v);
void gwb_u32(gwb *b, uint32_t v);
void gwb_u64(gwb *b, uint64_t v);
void gwb_f32(gwb *b, float v);
void gwb_f64(gwb *b, double v);
/* A GGUF string: u64 length, then the bytes. */
void gwb_strn(gwb *b, const char *s, size_t n);
void gwb_str(gwb *b, const char *s);
/* Zero bytes up to the next multiple of align (a power of two). */
void gwb_pad(gwb *b, uint64_t align);
void gwb_free(gwb *b);

/* ---- structured writer ---- */
typedef struct gw gw;

/* version is written as given (2 and 3 are the valid ones). */
gw *gw_new(uint32_t version);
void gw_free(gw *w);

/* Scalars. */
void gw_u8(gw *w, const char *key, uint8_t v);
void gw_i8(gw *w, const char *key, int8_t v);
void gw_u16(gw *w, const char *key, uint16_t v);
void gw_i16(gw *w, const char *key, int16_t v);
void gw_u32(gw *w, const char *key, uint32_t v); /* general.alignment too */
void gw_i32(gw *w, const char *key, int32_t v);
void gw_f32(gw *w, const char *key, float v);
void gw_bool(gw *w, const char *key, int v);
void gw_u64(gw *w, const char *key, uint64_t v);
void gw_i64(gw *w, const char *key, int64_t v);
void gw_f64(gw *w, const char *key, double v);
void gw_str(gw *w, const char *key, const char *v);
void gw_strn(gw *w, const char *key, const char *v, size_t n);

/* Arrays. gw_arr takes count elements of a numeric or bool element type in
 * host representation (uint8_t for U8 and BOOL, int16_t for I16, float for
 * F32, ...) and writes them little-endian. */
void gw_arr(gw *w, const char *key, rill_gguf_vtype elem, const void *elems,
            uint64_t count);
void gw_arr_str(gw *w, const char *key, const char *const *strs,
                uint64_t count);

/* A key of key_len arbitrary bytes, value type id type, then value bytes
 * verbatim. */
void gw_kv_raw(gw *w, const void *key, size_t key_len, uint32_t type,
               const void *value, size_t value_len);

/* A tensor; data holds its rill_gguf_row_bytes-sized bytes (copied), or
 * NULL (zeros on build). The type must be one rill knows. */
void gw_tensor(gw *w, const char *name, int type, uint32_t n_dims,
               const uint64_t *ne, const void *data);
/* A tensor info written verbatim; no data is added for it. */
void gw_tensor_raw(gw *w, const void *name, size_t name_len, uint32_t n_dims,
                   const uint64_t *ne, uint32_t type, uint64_t offset);

/* Lie about the counts in the header (UINT64_MAX: the true one). */
void gw_set_counts(gw *w, uint64_t n_tensors, uint64_t n_kv);
/* Bytes appended after the data section. */
void gw_tail(gw *w, const void *p, size_t n);

/* Layout, valid after the calls above. Tensor index i counts gw_tensor
 * calls only (raw infos are not laid out). */
uint64_t gw_alignment(const gw *w);
uint64_t gw_data_offset(const gw *w);
uint64_t gw_tensor_offset(const gw *w, size_t i); /* from data section */
uint64_t gw_data_bytes(const gw *w);              /* padded, tail excluded */

/* Header, metadata, tensor infos and padding: gw_data_offset() bytes,
 * malloc'd; free with free(). */
unsigned char *gw_build_head(const gw *w, size_t *len);
/* The whole file in memory, malloc'd; free with free(). */
unsigned char *gw_build(const gw *w, size_t *len);
/* The whole file to path, streamed. Returns 0 or -1 (errno set). */
int gw_write_file(const gw *w, const char *path);
/* Write bytes to path. Returns 0 or -1. */
int gw_save(const char *path, const void *p, size_t n);

/* ---- a forward-only source over memory, for rill_gguf_open_stream ---- */
typedef struct gw_reader {
  const unsigned char *p;
  size_t len, pos;
  /* Bytes per call: 0 as many as asked, k at most k, GW_RANDOM a random
   * 1..cap (seeded by seed). */
  size_t chunk;
  uint32_t seed;
  /* Fail (return -1) once pos reaches fail_at; 0: never. */
  size_t fail_at;
  size_t calls;
} gw_reader;
#define GW_RANDOM ((size_t)-1)
/* A rill_gguf_read_fn; user is a gw_reader. */
int gw_read(void *user, void *buf, size_t cap, size_t *got);

#endif
