/*
 * The ggml element types rill reads: block geometry and names, shared by the
 * parser (row sizes), the dequantizers and the command.
 */
#ifndef RILL_GGUF_TYPES_H
#define RILL_GGUF_TYPES_H

#include <stdint.h>

typedef struct rill__gguf_typeinfo {
  const char *name;
  uint32_t block_elems;
  uint32_t block_bytes;
} rill__gguf_typeinfo;

/* The entry for a ggml type id, or NULL when rill does not read it. */
const rill__gguf_typeinfo *rill__gguf_type(int type);

/* Little-endian loads that need no alignment (file bytes are unaligned). */
static inline uint16_t rill__le16(const unsigned char *p) {
  return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}
static inline uint32_t rill__le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t rill__le64(const unsigned char *p) {
  return (uint64_t)rill__le32(p) | (uint64_t)rill__le32(p + 4) << 32;
}

#endif
