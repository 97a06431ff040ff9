/*
 * dequant.h — the per-type block decoders behind rill_gguf_dequantize.
 *
 * Each decoder turns nb whole blocks at src into floats at dst. The checks
 * (type, block count, source length, NULLs, overlap) are done once by the
 * dispatcher in dequant.c, so the decoders trust their arguments and keep
 * their loops free of anything that would stop the compiler vectorising
 * them. src may have any alignment; dst is ordinary float storage.
 *
 * Rounding: every decoder evaluates the formulas of the block layout in the
 * same order as ggml does, in float, so the outputs are the same bits
 * (signed zeros included). For every type all products before the last
 * operation are exact in float, so each output is the exactly rounded value
 * of its formula.
 */
#ifndef RILL_GGUF_DEQUANT_H
#define RILL_GGUF_DEQUANT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "gguf/types.h"

typedef void (*rill__dq_fn)(const unsigned char *restrict src,
                            float *restrict dst, size_t nb);

/* dequant.c: one element per "block". */
void rill__dq_f32(const unsigned char *restrict src, float *restrict dst,
                  size_t nb);
void rill__dq_bf16(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
/* F16: the portable path, the F16C path (x86-64 only; NULL elsewhere or on
 * a CPU without F16C and AVX), and the one the dispatcher uses. */
void rill__dq_f16_portable(const unsigned char *restrict src,
                           float *restrict dst, size_t nb);
rill__dq_fn rill__dq_f16_f16c(void);
rill__dq_fn rill__dq_f16_best(void);

/* dequant_legacy.c: 32-element blocks. */
void rill__dq_q4_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q4_1(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q5_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q5_1(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q8_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);

/* dequant_k.c: 256-element super-blocks. */
void rill__dq_q2_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q3_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q4_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q5_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q6_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);
void rill__dq_q8_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb);

static inline float rill__bits_f32(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}
static inline uint32_t rill__f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/*
 * Half to float without branches, so that a loop of it vectorises and a
 * block scale costs a few instructions instead of a call with a loop in it.
 * Shifting the 15 exponent-and-mantissa bits into float position and adding
 * 112 to the exponent is the whole conversion for normal halves; Inf/NaN
 * need 112 more (exponent 31 must become 255, payload kept as is), and a
 * subnormal half is rebuilt exactly as (2^-14 + m 2^-24) - 2^-14, which
 * never puts a subnormal float into the arithmetic. Same bits as
 * rill_f16_to_f32 for all 65,536 inputs (test_gguf_dequant checks).
 */
static inline float rill__f16_decode(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t em = (uint32_t)(h & 0x7fffu) << 13;
  /* Masks from comparisons rather than ?: , which gcc keeps as branches;
   * em < 2^28, so the signed compare (all SSE2 has) is exact. */
  uint32_t inf = 0u - (uint32_t)((int32_t)em >= (int32_t)(0x7c00u << 13));
  uint32_t sub = 0u - (uint32_t)((int32_t)em < (int32_t)(0x0400u << 13));
  uint32_t r = em + (112u << 23) + (inf & (112u << 23));
  uint32_t s = rill__f32_bits(rill__bits_f32(em + (113u << 23)) - 0x1p-14f);
  r = (r & ~sub) | (s & sub);
  return rill__bits_f32(r | sign);
}

static inline float rill__f16_at(const unsigned char *p) {
  return rill__f16_decode(rill__le16(p));
}

#endif
