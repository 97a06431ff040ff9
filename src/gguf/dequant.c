/* Placeholder until the dequantizers land (issue 5, in progress). */
#include "rill/error.h"
#include "rill/gguf.h"

int rill_gguf_dequantize(int type, const void *src, size_t src_bytes,
                         float *dst, size_t n) {
  (void)type, (void)src, (void)src_bytes, (void)dst, (void)n;
  return RILL_E_UNSUPPORTED;
}
