/*
 * dequant_legacy.c — the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1,
 * Q8_0 (layouts in docs/gguf.md).
 *
 * Each block is decoded by loops of fixed length over its bytes, with the
 * block's scale read once into a local, so that gcc -O2 turns every inner
 * loop into whole vectors with no remainder and no alias checks.
 */
#include <stddef.h>
#include <stdint.h>

#include "gguf/dequant.h"
#include "gguf/types.h"

/* Q5's fifth bits are indexed by element: testing against a constant mask
 * per lane vectorises everywhere, where a shift by the element index would
 * need per-lane shift counts (AVX2). */
static const uint32_t bit_of[32] = {
    1u << 0,  1u << 1,  1u << 2,  1u << 3,  1u << 4,  1u << 5,  1u << 6,
    1u << 7,  1u << 8,  1u << 9,  1u << 10, 1u << 11, 1u << 12, 1u << 13,
    1u << 14, 1u << 15, 1u << 16, 1u << 17, 1u << 18, 1u << 19, 1u << 20,
    1u << 21, 1u << 22, 1u << 23, 1u << 24, 1u << 25, 1u << 26, 1u << 27,
    1u << 28, 1u << 29, 1u << 30, 1u << 31};

void rill__dq_q4_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 18 * b;
    const unsigned char *restrict qs = p + 2;
    float *restrict y = dst + 32 * b;
    float d = rill__f16_at(p);
    for (j = 0; j < 16; j++) {
      y[j] = (float)((qs[j] & 15) - 8) * d;
      y[j + 16] = (float)((qs[j] >> 4) - 8) * d;
    }
  }
}

void rill__dq_q4_1(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 20 * b;
    const unsigned char *restrict qs = p + 4;
    float *restrict y = dst + 32 * b;
    float d = rill__f16_at(p), m = rill__f16_at(p + 2);
    for (j = 0; j < 16; j++) {
      y[j] = (float)(qs[j] & 15) * d + m;
      y[j + 16] = (float)(qs[j] >> 4) * d + m;
    }
  }
}

void rill__dq_q5_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 22 * b;
    const unsigned char *restrict qs = p + 6;
    float *restrict y = dst + 32 * b;
    float d = rill__f16_at(p);
    uint32_t qh = rill__le32(p + 2);
    for (j = 0; j < 16; j++) {
      int h0 = (qh & bit_of[j]) ? 16 : 0;
      int h1 = (qh & bit_of[j + 16]) ? 16 : 0;
      y[j] = (float)(((qs[j] & 15) | h0) - 16) * d;
      y[j + 16] = (float)(((qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

void rill__dq_q5_1(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 24 * b;
    const unsigned char *restrict qs = p + 8;
    float *restrict y = dst + 32 * b;
    float d = rill__f16_at(p), m = rill__f16_at(p + 2);
    uint32_t qh = rill__le32(p + 4);
    for (j = 0; j < 16; j++) {
      int h0 = (qh & bit_of[j]) ? 16 : 0;
      int h1 = (qh & bit_of[j + 16]) ? 16 : 0;
      y[j] = (float)((qs[j] & 15) | h0) * d + m;
      y[j + 16] = (float)((qs[j] >> 4) | h1) * d + m;
    }
  }
}

void rill__dq_q8_0(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 34 * b;
    /* int8 quants: a character-type view of the same bytes is allowed. */
    const signed char *restrict qs = (const signed char *)(p + 2);
    float *restrict y = dst + 32 * b;
    float d = rill__f16_at(p);
    for (j = 0; j < 32; j++)
      y[j] = (float)qs[j] * d;
  }
}
