/*
 * Kernel dispatch: the widest path this CPU runs, or the reference.
 */
#include "embed/kernels_impl.h"

int rill__kernels_supports(int type) {
  return rill__kernels_partner(type) >= 0;
}

/* 256 KiB of converted rows per pass: half of the smallest L2 in current
 * x86 server and desktop parts, leaving room for the weight tile. At least
 * 16 tokens, so the tile loops never degenerate. */
size_t rill__kernels_tok_chunk(size_t act_row_bytes) {
  size_t n = act_row_bytes ? (256u * 1024u) / act_row_bytes : 16;
  return n < 16 ? 16 : n;
}

const rill__kernels *rill__kernels_get(int force_scalar) {
  const rill__kernels *k = NULL;
  if (!force_scalar) {
    k = rill__kernels_avx512();
    if (!k)
      k = rill__kernels_avx2();
  }
  return k ? k : &rill__kernels_scalar;
}
