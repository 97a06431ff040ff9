/*
 * AVX-512 kernels (Ice Lake, Zen 4 and later): kernels_x86.inc on 256-bit
 * vectors with VNNI dot products (vpdpbusd, vpdpwssd: one instruction
 * where AVX2 needs two or three). 256 rather than 512 bits: Zen 4 splits
 * 512-bit operations in two anyway, and Intel parts lower their clock for
 * them; what AVX-512VL does give is 32 registers, room for a 4 x 4 tile.
 */
#include "embed/kernels_impl.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KX_TARGET "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni"
#define KX_VNNI 1
#define KX_TR 4
#define KX_TT 4
#define KX_NAME "avx512"
#define KX_GETTER rill__kernels_avx512
#define KX_NEED                                                                \
  (RILL__CPU_AVX2 | RILL__CPU_FMA | RILL__CPU_F16C | RILL__CPU_AVX512F |       \
   RILL__CPU_AVX512BW | RILL__CPU_AVX512VL | RILL__CPU_AVX512VNNI)
#include "embed/kernels_x86.inc"
#else
const rill__kernels *rill__kernels_avx512(void) {
  return NULL;
}
#endif
