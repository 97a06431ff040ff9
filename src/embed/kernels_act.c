/*
 * Activation conversion: one float row to the form the weight type's dot
 * product reads, with llama.cpp's x86 rounding (quantize_row_q8_0/_q8_1
 * in ggml-cpu/arch/x86/quants.c, quantize_row_q8_K_ref in ggml-quants.c).
 * Every kernel path uses these, so paths differ only in summation order.
 */
#include <math.h>
#include <string.h>

#include "embed/kernels_impl.h"
#include "gguf/dequant.h"
#include "rill/gguf.h"

#define bits_f32 rill__bits_f32
#define f32_bits rill__f32_bits

uint16_t rill__f32_to_f16(float f) {
  uint32_t x = f32_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  if (x > 0x7f800000u) /* NaN: quieted, payload truncated, as vcvtps2ph */
    return (uint16_t)(sign | 0x7e00u | ((x >> 13) & 0x3ffu));
  if (x >= 0x477ff000u) /* 65520 and up round to infinity */
    return (uint16_t)(sign | 0x7c00u);
  if (x < 0x38800000u) {
    /* Below 2^-14 the half is subnormal with a step of 2^-24, which is
     * the float step at 0.5: the addition rounds to nearest even for us
     * and leaves the half's mantissa in the low bits. */
    uint32_t r = f32_bits(bits_f32(x) + 0.5f) - 0x3f000000u;
    return (uint16_t)(sign | r);
  }
  /* Rebias the exponent and round the 13 dropped bits to nearest even; a
   * carry out of the mantissa correctly bumps the exponent. */
  x += 0xc8000fffu + ((x >> 13) & 1u);
  return (uint16_t)(sign | (x >> 13));
}

static void put16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)(v & 0xffu);
  p[1] = (unsigned char)(v >> 8);
}

/* Round to nearest, ties to even, for |v| < 2^22 (ggml's nearest_int, and
 * what vroundps gives): adding 1.5 * 2^23 leaves the integer in the low
 * mantissa bits. No float-to-int conversion, so a NaN or infinity gives
 * some integer, never undefined behaviour. */
static int nearest_int(float v) {
  uint32_t i = f32_bits(v + 12582912.f);
  return (int)(i & 0x007fffffu) - 0x00400000;
}

static int8_t sat8(int v) {
  return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
}

static float absmax(const float *x, size_t n) {
  float m = 0.0f;
  size_t j;
  for (j = 0; j < n; j++) {
    float a = fabsf(x[j]);
    m = a > m ? a : m;
  }
  return m;
}

/* Scale by 127/amax (not 1/d: the x86 path multiplies by this) and round
 * ties to even; d = amax/127 is stored as f16. Returns sum(q). */
static int q8_block(const float *x, float amax, int8_t *q) {
  float id = amax != 0.0f ? 127.f / amax : 0.0f;
  int s = 0, j;
  for (j = 0; j < RILL__QK; j++) {
    q[j] = sat8(nearest_int(x[j] * id));
    s += q[j];
  }
  return s;
}

void rill__act_q8_0(const float *x, size_t n, unsigned char *dst) {
  size_t b;
  for (b = 0; b < n / RILL__QK; b++, x += RILL__QK, dst += RILL__Q8_0_BYTES) {
    float amax = absmax(x, RILL__QK);
    int8_t q[RILL__QK];
    put16(dst, rill__f32_to_f16(amax / 127.f));
    q8_block(x, amax, q);
    memcpy(dst + 2, q, RILL__QK);
  }
}

void rill__act_q8_1(const float *x, size_t n, unsigned char *dst) {
  size_t b;
  for (b = 0; b < n / RILL__QK; b++, x += RILL__QK, dst += RILL__Q8_1_BYTES) {
    float amax = absmax(x, RILL__QK);
    float d = amax / 127.f;
    int8_t q[RILL__QK];
    int s = q8_block(x, amax, q);
    put16(dst, rill__f32_to_f16(d));
    put16(dst + 2, rill__f32_to_f16(d * (float)s));
    memcpy(dst + 4, q, RILL__QK);
  }
}

/* The scale comes from the element of largest magnitude with its sign, so
 * that element maps to -127 (llama.cpp chose this for its IQ2 kernels);
 * the first such element wins a tie. d = 1/iscale, kept as f32. */
void rill__act_q8_k(const float *x, size_t n, unsigned char *dst) {
  size_t b;
  for (b = 0; b < n / RILL__QK_K;
       b++, x += RILL__QK_K, dst += RILL__Q8_K_BYTES) {
    float amax = 0.0f, max = 0.0f, iscale, d;
    int8_t q[RILL__QK_K];
    int16_t bs[RILL__QK_K / 16];
    int j, k;
    for (j = 0; j < RILL__QK_K; j++) {
      float a = fabsf(x[j]);
      if (a > amax) {
        amax = a;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      memset(dst, 0, RILL__Q8_K_BYTES);
      continue;
    }
    iscale = -127.f / max;
    for (j = 0; j < RILL__QK_K; j++) {
      int v = nearest_int(iscale * x[j]);
      q[j] = sat8(v);
    }
    for (j = 0; j < RILL__QK_K / 16; j++) {
      int s = 0;
      for (k = 0; k < 16; k++)
        s += q[16 * j + k];
      bs[j] = (int16_t)s;
    }
    d = 1.0f / iscale;
    memcpy(dst, &d, 4);
    memcpy(dst + 4, q, RILL__QK_K);
    memcpy(dst + 4 + RILL__QK_K, bs, sizeof bs);
  }
}

void rill__act_f16(const float *x, size_t n, float *dst) {
  size_t j;
  for (j = 0; j < n; j++)
    dst[j] = rill__f16_decode(rill__f32_to_f16(x[j]));
}

int rill__kernels_partner(int type) {
  switch (type) {
  case RILL_GGUF_TYPE_F32:
  case RILL_GGUF_TYPE_F16:
    return type;
  case RILL_GGUF_TYPE_Q4_0:
  case RILL_GGUF_TYPE_Q5_0:
  case RILL_GGUF_TYPE_Q8_0:
    return RILL_GGUF_TYPE_Q8_0;
  case RILL_GGUF_TYPE_Q4_1:
  case RILL_GGUF_TYPE_Q5_1:
    return RILL_GGUF_TYPE_Q8_1;
  case RILL_GGUF_TYPE_Q4_K:
  case RILL_GGUF_TYPE_Q5_K:
  case RILL_GGUF_TYPE_Q6_K:
    return RILL_GGUF_TYPE_Q8_K;
  default:
    return -1;
  }
}

size_t rill__act_row_bytes(int type, size_t in) {
  switch (rill__kernels_partner(type)) {
  case RILL_GGUF_TYPE_F32:
  case RILL_GGUF_TYPE_F16:
    return in * sizeof(float);
  case RILL_GGUF_TYPE_Q8_0:
    return in % RILL__QK ? 0 : in / RILL__QK * RILL__Q8_0_BYTES;
  case RILL_GGUF_TYPE_Q8_1:
    return in % RILL__QK ? 0 : in / RILL__QK * RILL__Q8_1_BYTES;
  case RILL_GGUF_TYPE_Q8_K:
    return in % RILL__QK_K ? 0 : in / RILL__QK_K * RILL__Q8_K_BYTES;
  default:
    return 0;
  }
}

void rill__act_convert(int type, const float *x, size_t in, void *dst) {
  switch (rill__kernels_partner(type)) {
  case RILL_GGUF_TYPE_F32:
    memcpy(dst, x, in * sizeof(float));
    break;
  case RILL_GGUF_TYPE_F16:
    rill__act_f16(x, in, (float *)dst);
    break;
  case RILL_GGUF_TYPE_Q8_0:
    rill__act_q8_0(x, in, (unsigned char *)dst);
    break;
  case RILL_GGUF_TYPE_Q8_1:
    rill__act_q8_1(x, in, (unsigned char *)dst);
    break;
  case RILL_GGUF_TYPE_Q8_K:
    rill__act_q8_k(x, in, (unsigned char *)dst);
    break;
  default:
    break;
  }
}
