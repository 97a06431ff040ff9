/*
 * dequant.c — rill_gguf_dequantize: argument checks and dispatch, and the
 * three plain float types (F32, F16, BF16).
 *
 * Nothing here allocates or keeps state beyond what the CPU reports, so
 * every entry point may run on any number of threads at once.
 */
#include <stdint.h>
#include <string.h>

#include "gguf/dequant.h"
#include "gguf/types.h"
#include "rill/error.h"
#include "rill/gguf.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define RILL_DQ_F16C 1
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#else
#define RILL_DQ_F16C 0
#endif

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define RILL_DQ_LE 1
#else
#define RILL_DQ_LE 0
#endif

/* Halves are staged through a stack array of this many: a straight copy
 * takes care of alignment, so the conversion loop below it sees aligned
 * host-order data and a fixed trip count, which is what gcc -O2 needs to
 * vectorise it. */
#define STAGE 256

static void load_u16(uint16_t *restrict out, const unsigned char *restrict p,
                     size_t n) {
#if RILL_DQ_LE
  memcpy(out, p, n * 2);
#else
  size_t i;
  for (i = 0; i < n; i++)
    out[i] = rill__le16(p + 2 * i);
#endif
}

void rill__dq_f32(const unsigned char *restrict src, float *restrict dst,
                  size_t nb) {
#if RILL_DQ_LE
  memcpy(dst, src, nb * 4);
#else
  size_t i;
  for (i = 0; i < nb; i++)
    dst[i] = rill__bits_f32(rill__le32(src + 4 * i));
#endif
}

static void bf16_run(const uint16_t *restrict h, float *restrict y, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    y[i] = rill__bits_f32((uint32_t)h[i] << 16);
}

void rill__dq_bf16(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  uint16_t h[STAGE];
  size_t i, k;
  for (i = 0; i + STAGE <= nb; i += STAGE) {
    load_u16(h, src + 2 * i, STAGE);
    bf16_run(h, dst + i, STAGE);
  }
  k = nb - i;
  load_u16(h, src + 2 * i, k);
  bf16_run(h, dst + i, k);
}

static void f16_run(const uint16_t *restrict h, float *restrict y, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    y[i] = rill__f16_decode(h[i]);
}

void rill__dq_f16_portable(const unsigned char *restrict src,
                           float *restrict dst, size_t nb) {
  uint16_t h[STAGE];
  size_t i, k;
  for (i = 0; i + STAGE <= nb; i += STAGE) {
    load_u16(h, src + 2 * i, STAGE);
    f16_run(h, dst + i, STAGE);
  }
  k = nb - i;
  load_u16(h, src + 2 * i, k);
  f16_run(h, dst + i, k);
}

#if RILL_DQ_F16C
/* True when any of the eight halves is a signalling NaN (exponent 31, top
 * mantissa bit clear, rest not zero): 0x7c00 < (h & 0x7fff) < 0x7e00. */
__attribute__((target("avx,f16c"))) static int any_snan(__m128i h) {
  __m128i x = _mm_and_si128(h, _mm_set1_epi16(0x7fff));
  __m128i s = _mm_and_si128(_mm_cmpgt_epi16(x, _mm_set1_epi16(0x7c00)),
                            _mm_cmplt_epi16(x, _mm_set1_epi16(0x7e00)));
  return _mm_movemask_epi8(s) != 0;
}

/* vcvtph2ps converts eight halves exactly, subnormals included, in one
 * instruction, but it quiets a signalling NaN (sets the top mantissa bit).
 * The portable decoder keeps the payload as it is, so the rare group that
 * holds one goes through it: both paths give the same bits for every
 * input. The ragged tail goes through it too. */
__attribute__((target("avx,f16c"))) static void
dq_f16_f16c(const unsigned char *restrict src, float *restrict dst, size_t nb) {
  size_t i, k;
  for (i = 0; i + 16 <= nb; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i));
    __m128i b =
        _mm_loadu_si128((const __m128i *)(const void *)(src + 2 * i + 16));
    if (any_snan(a) | any_snan(b)) {
      for (k = i; k < i + 16; k++)
        dst[k] = rill__f16_at(src + 2 * k);
      continue;
    }
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(a));
    _mm256_storeu_ps(dst + i + 8, _mm256_cvtph_ps(b));
  }
  for (; i < nb; i++)
    dst[i] = rill__f16_at(src + 2 * i);
}

/* 0: not asked yet, 1: absent, 2: present. Every thread that races on the
 * first call computes the same answer, so relaxed order is enough; the
 * cache matters because CPUID traps to the hypervisor on virtual machines
 * (microseconds, against a row that takes less). */
static _Atomic int f16c_state;

static int has_f16c(void) {
  unsigned a, b, c, d, lo, hi;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  if (!(c & bit_F16C) || !(c & bit_AVX) || !(c & bit_OSXSAVE))
    return 0;
  /* The VEX-encoded conversion also needs the OS to save the SSE and AVX
   * register state (XCR0 bits 1 and 2). */
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  return (lo & 6u) == 6u;
}

rill__dq_fn rill__dq_f16_f16c(void) {
  int st = atomic_load_explicit(&f16c_state, memory_order_relaxed);
  if (st == 0) {
    st = has_f16c() ? 2 : 1;
    atomic_store_explicit(&f16c_state, st, memory_order_relaxed);
  }
  return st == 2 ? dq_f16_f16c : NULL;
}
#else
rill__dq_fn rill__dq_f16_f16c(void) {
  return NULL;
}
#endif

rill__dq_fn rill__dq_f16_best(void) {
  rill__dq_fn f = rill__dq_f16_f16c();
  return f ? f : rill__dq_f16_portable;
}

static rill__dq_fn decoder(int type) {
  switch (type) {
  case RILL_GGUF_TYPE_F32:
    return rill__dq_f32;
  case RILL_GGUF_TYPE_F16:
    return rill__dq_f16_best();
  case RILL_GGUF_TYPE_BF16:
    return rill__dq_bf16;
  case RILL_GGUF_TYPE_Q4_0:
    return rill__dq_q4_0;
  case RILL_GGUF_TYPE_Q4_1:
    return rill__dq_q4_1;
  case RILL_GGUF_TYPE_Q5_0:
    return rill__dq_q5_0;
  case RILL_GGUF_TYPE_Q5_1:
    return rill__dq_q5_1;
  case RILL_GGUF_TYPE_Q8_0:
    return rill__dq_q8_0;
  case RILL_GGUF_TYPE_Q2_K:
    return rill__dq_q2_k;
  case RILL_GGUF_TYPE_Q3_K:
    return rill__dq_q3_k;
  case RILL_GGUF_TYPE_Q4_K:
    return rill__dq_q4_k;
  case RILL_GGUF_TYPE_Q5_K:
    return rill__dq_q5_k;
  case RILL_GGUF_TYPE_Q6_K:
    return rill__dq_q6_k;
  case RILL_GGUF_TYPE_Q8_K:
    return rill__dq_q8_k;
  default: /* Q8_1 holds activations, never weights: not decoded */
    return NULL;
  }
}

int rill_gguf_dequantize(int type, const void *src, size_t src_bytes,
                         float *dst, size_t n) {
  const rill__gguf_typeinfo *t = rill__gguf_type(type);
  rill__dq_fn f = t ? decoder(type) : NULL;
  size_t nb;
  uintptr_t s, d;
  if (!f)
    return RILL_E_UNSUPPORTED;
  if (n == 0)
    return RILL_OK;
  if (!src || !dst || n % t->block_elems != 0 || n > SIZE_MAX / sizeof(float))
    return RILL_E_INVALID;
  nb = n / t->block_elems;
  if (nb > SIZE_MAX / t->block_bytes || nb * t->block_bytes > src_bytes)
    return RILL_E_INVALID;
  /* The decoders are written for restrict pointers: overlapping buffers
   * would give unspecified output, so refuse them outright. */
  s = (uintptr_t)src;
  d = (uintptr_t)dst;
  if (s < d + n * sizeof(float) && d < s + nb * t->block_bytes)
    return RILL_E_INVALID;
  f((const unsigned char *)src, dst, nb);
  return RILL_OK;
}
