/*
 * AVX2 + FMA + F16C kernels (Haswell, Zen 1 and later): kernels_x86.inc
 * with vpmaddubsw/vpmaddwd integer dots and a 2-row x 4-token register
 * tile, which keeps the 8 accumulators and their operands within the 16
 * ymm registers.
 */
#include "embed/kernels_impl.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KX_TARGET "avx2,fma,f16c"
#define KX_VNNI 0
#define KX_TR 2
#define KX_TT 4
#define KX_NAME "avx2"
#define KX_GETTER rill__kernels_avx2
#define KX_NEED (RILL__CPU_AVX2 | RILL__CPU_FMA | RILL__CPU_F16C)
#include "embed/kernels_x86.inc"
#else
const rill__kernels *rill__kernels_avx2(void) {
  return NULL;
}
#endif
