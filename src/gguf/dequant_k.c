/*
 * dequant_k.c — the 256-element "K" super-block types: Q2_K, Q3_K, Q4_K,
 * Q5_K, Q6_K, Q8_K (layouts in docs/gguf.md).
 *
 * A super-block carries one or two f16 factors and 8 or 16 small per-group
 * scales. The scales are unpacked first into a local array, then each group
 * of 16 or 32 elements is one fixed-length loop whose scale, min and bit
 * shift do not change inside it: that shape is what lets gcc -O2 vectorise
 * every inner loop (uniform shifts only, no gathers, no remainder).
 */
#include <stddef.h>
#include <stdint.h>

#include "gguf/dequant.h"
#include "gguf/types.h"

void rill__dq_q2_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int h, j, s, l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 84 * b;
    float *restrict y = dst + 256 * b;
    float d = rill__f16_at(p + 80), dmin = rill__f16_at(p + 82);
    for (h = 0; h < 2; h++)
      for (j = 0; j < 4; j++)
        for (s = 0; s < 2; s++) {
          const unsigned char *restrict q = p + 16 + 32 * h + 16 * s;
          float *restrict o = y + 128 * h + 32 * j + 16 * s;
          unsigned sc = p[8 * h + 2 * j + s];
          float dl = d * (float)(sc & 15), ml = dmin * (float)(sc >> 4);
          int sh = 2 * j;
          for (l = 0; l < 16; l++)
            o[l] = dl * (float)((q[l] >> sh) & 3) - ml;
        }
  }
}

/* The 16 six-bit scales of Q3_K: low nibbles in bytes 0..7 (elements 0..7
 * from the low halves, 8..15 from the high halves), and the top two bits of
 * scale i in byte 8 + i % 4 at bit 2 (i / 4). */
static void q3_k_scales(const unsigned char *restrict q, int *restrict sc) {
  int i;
  for (i = 0; i < 16; i++) {
    int lo = i < 8 ? q[i] & 15 : q[i - 8] >> 4;
    int hi = (q[8 + i % 4] >> (2 * (i / 4))) & 3;
    sc[i] = (lo | hi << 4) - 32;
  }
}

void rill__dq_q3_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int h, j, s, l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 110 * b;
    float *restrict y = dst + 256 * b;
    float d = rill__f16_at(p + 108);
    int sc[16];
    q3_k_scales(p + 96, sc);
    for (h = 0; h < 2; h++)
      for (j = 0; j < 4; j++)
        for (s = 0; s < 2; s++) {
          const unsigned char *restrict q = p + 32 + 32 * h + 16 * s;
          const unsigned char *restrict hm = p + 16 * s;
          float *restrict o = y + 128 * h + 32 * j + 16 * s;
          float dl = d * (float)sc[8 * h + 2 * j + s];
          int sh = 2 * j, hb = 4 * h + j;
          /* A clear high bit subtracts 4: the 3-bit value less 4. */
          for (l = 0; l < 16; l++)
            o[l] = dl *
                   (float)(((q[l] >> sh) & 3) - 4 + (((hm[l] >> hb) & 1) << 2));
        }
  }
}

/* The 8 six-bit scales and mins of Q4_K and Q5_K, packed in 12 bytes:
 * groups 0..3 in the low six bits of bytes 0..3 (scales) and 4..7 (mins);
 * groups 4..7 take a nibble of bytes 8..11 and their top two bits from the
 * spare top bits of bytes 0..7. */
static void k_scale_min(const unsigned char *restrict q, float d, float dmin,
                        float *restrict dl, float *restrict ml) {
  int i;
  for (i = 0; i < 4; i++) {
    dl[i] = d * (float)(q[i] & 63);
    ml[i] = dmin * (float)(q[i + 4] & 63);
  }
  for (i = 4; i < 8; i++) {
    dl[i] = d * (float)((q[i + 4] & 15) | (q[i - 4] >> 6) << 4);
    ml[i] = dmin * (float)((q[i + 4] >> 4) | (q[i] >> 6) << 4);
  }
}

void rill__dq_q4_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j, l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 144 * b;
    float *restrict y = dst + 256 * b;
    float dl[8], ml[8];
    k_scale_min(p + 4, rill__f16_at(p), rill__f16_at(p + 2), dl, ml);
    for (j = 0; j < 4; j++) {
      const unsigned char *restrict q = p + 16 + 32 * j;
      float *restrict o = y + 64 * j;
      float d1 = dl[2 * j], m1 = ml[2 * j];
      float d2 = dl[2 * j + 1], m2 = ml[2 * j + 1];
      for (l = 0; l < 32; l++) {
        o[l] = d1 * (float)(q[l] & 15) - m1;
        o[l + 32] = d2 * (float)(q[l] >> 4) - m2;
      }
    }
  }
}

void rill__dq_q5_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int j, l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 176 * b;
    const unsigned char *restrict qh = p + 16;
    float *restrict y = dst + 256 * b;
    float dl[8], ml[8];
    k_scale_min(p + 4, rill__f16_at(p), rill__f16_at(p + 2), dl, ml);
    for (j = 0; j < 4; j++) {
      const unsigned char *restrict q = p + 48 + 32 * j;
      float *restrict o = y + 64 * j;
      float d1 = dl[2 * j], m1 = ml[2 * j];
      float d2 = dl[2 * j + 1], m2 = ml[2 * j + 1];
      int sh = 2 * j;
      for (l = 0; l < 32; l++) {
        int h1 = ((qh[l] >> sh) & 1) << 4, h2 = ((qh[l] >> (sh + 1)) & 1) << 4;
        o[l] = d1 * (float)((q[l] & 15) + h1) - m1;
        o[l + 32] = d2 * (float)((q[l] >> 4) + h2) - m2;
      }
    }
  }
}

void rill__dq_q6_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int h, s, l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 210 * b;
    /* int8 scales: a character-type view of the same bytes is allowed. */
    const signed char *restrict sc = (const signed char *)(p + 192);
    float *restrict y = dst + 256 * b;
    float d = rill__f16_at(p + 208);
    for (h = 0; h < 2; h++) {
      const unsigned char *restrict ql = p + 64 * h;
      const unsigned char *restrict qh = p + 128 + 32 * h;
      float *restrict o = y + 128 * h;
      /* Elements l and l + 32k (k = 0..3) share the bytes ql[l], ql[l+32]
       * and qh[l]; the scale changes every 16 elements, so each half of
       * 32 runs as two loops of 16 with the four scales fixed. */
      for (s = 0; s < 2; s++) {
        float d0 = d * (float)sc[8 * h + s], d1 = d * (float)sc[8 * h + s + 2];
        float d2 = d * (float)sc[8 * h + s + 4];
        float d3 = d * (float)sc[8 * h + s + 6];
        for (l = 16 * s; l < 16 * s + 16; l++) {
          int q1 = (ql[l] & 15) | (qh[l] & 3) << 4;
          int q2 = (ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4;
          int q3 = (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4;
          int q4 = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4;
          o[l] = d0 * (float)(q1 - 32);
          o[l + 32] = d1 * (float)(q2 - 32);
          o[l + 64] = d2 * (float)(q3 - 32);
          o[l + 96] = d3 * (float)(q4 - 32);
        }
      }
    }
  }
}

void rill__dq_q8_k(const unsigned char *restrict src, float *restrict dst,
                   size_t nb) {
  size_t b;
  int l;
  for (b = 0; b < nb; b++) {
    const unsigned char *restrict p = src + 292 * b;
    const signed char *restrict qs = (const signed char *)(p + 4);
    float *restrict y = dst + 256 * b;
    float d = rill__bits_f32(rill__le32(p)); /* f32, unlike the others */
    for (l = 0; l < 256; l++)
      y[l] = d * (float)qs[l];
  }
}
