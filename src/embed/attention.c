/*
 * Attention per head and block of queries (see attention.h).
 *
 * For a block of up to QBLOCK queries, keys and values are visited in
 * blocks of KBLOCK; each query keeps its running maximum m, the running sum
 * l of exp(s - m) and the weighted sum of values (accumulated in its own
 * output slot), rescaled by exp(m_old - m_new) whenever the maximum grows.
 * That is the exact softmax, reordered; the K/V block is reused by every
 * query of the block while it is in cache.
 *
 * Attention is O(n^2 d) against the matrix products' O(n E F): under a
 * tenth of the work at 512 tokens, but scalar loops made it a third of the
 * time. So the task body (attention_impl.inc) is written with GCC/clang
 * vector extensions and compiled twice: 4 floats wide for any CPU (SSE2 on
 * x86-64, NEON on arm64), and 8 wide with AVX2+FMA where the CPU has them,
 * picked at run time as the kernels are.
 */
#include "embed/attention.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "embed/cpu.h"

size_t rill__att_tasks(const rill__att_args *a) {
  return a->n_head * ((a->n + RILL__ATT_QBLOCK - 1) / RILL__ATT_QBLOCK);
}

typedef float att_v4f __attribute__((vector_size(16)));
typedef int32_t att_v4i __attribute__((vector_size(16)));
#define ATT_VF att_v4f
#define ATT_VI att_v4i
#define ATT_VW 4
#define ATT_ATTR
#define ATT_SPLAT(x) ((att_v4f){(x), (x), (x), (x)})
#define ATT_FMA(a, b, c) ((a) * (b) + (c))
#define ATT_NAME(x) x##_v4
#define ATT_FN att_v4
#include "embed/attention_impl.inc"
#undef ATT_VF
#undef ATT_VI
#undef ATT_VW
#undef ATT_ATTR
#undef ATT_SPLAT
#undef ATT_FMA
#undef ATT_NAME
#undef ATT_FN

#if defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1
typedef float att_v8f __attribute__((vector_size(32)));
typedef int32_t att_v8i __attribute__((vector_size(32)));
#define ATT_VF att_v8f
#define ATT_VI att_v8i
#define ATT_VW 8
#define ATT_ATTR __attribute__((target("avx2,fma")))
#define ATT_SPLAT(x) ((att_v8f)_mm256_set1_ps(x))
#define ATT_FMA(a, b, c) ((att_v8f)_mm256_fmadd_ps((a), (b), (c)))
#define ATT_NAME(x) x##_v8
#define ATT_FN att_v8
#include "embed/attention_impl.inc"
#endif

int rill__att_simd(int force_scalar) {
#ifdef HAVE_AVX2_PATH
  unsigned need = RILL__CPU_AVX2 | RILL__CPU_FMA;
  return !force_scalar && (rill__cpu_features() & need) == need;
#else
  (void)force_scalar;
  return 0;
#endif
}

void rill__att_task(void *args, size_t task) {
  const rill__att_args *a = args;
#ifdef HAVE_AVX2_PATH
  if (a->simd) {
    att_v8(a, task);
    return;
  }
#endif
  att_v4(a, task);
}
