/* quantize — see quantize.h. Block layouts: NOMIC-BERT.md section 6. */
#include "quantize.h"

#include <math.h>
#include <string.h>

#include "rill/error.h"
#include "rill/gguf.h"

/* ---- scalar conversions ---- */

uint16_t q_f32_to_f16(float f) {
  uint32_t x, ax, sign, h, rem;
  memcpy(&x, &f, 4);
  sign = (x >> 16) & 0x8000u;
  ax = x & 0x7FFFFFFFu;
  if (ax >= 0x7F800000u) /* Inf, NaN (quiet) */
    return (uint16_t)(sign | 0x7C00u | (ax > 0x7F800000u ? 0x200u : 0u));
  if (ax >= 0x477FF000u) /* >= 65520 rounds to Inf */
    return (uint16_t)(sign | 0x7C00u);
  if (ax < 0x38800000u) { /* below 2^-14: a half subnormal (or zero) */
    uint32_t e = ax >> 23, m, shift, k, half;
    if (e < 102) /* below 2^-25: rounds to zero */
      return (uint16_t)sign;
    m = (ax & 0x7FFFFFu) | 0x800000u;
    shift = 126 - e; /* 14 .. 24 */
    k = m >> shift;
    rem = m & ((1u << shift) - 1);
    half = 1u << (shift - 1);
    if (rem > half || (rem == half && (k & 1)))
      k++;
    return (uint16_t)(sign | k);
  }
  h = (ax - 0x38000000u) >> 13;
  rem = ax & 0x1FFFu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
    h++;
  return (uint16_t)(sign | h);
}

uint16_t q_f32_to_f16_sat(float f) {
  if (f > 65504.0f)
    f = 65504.0f;
  if (f < -65504.0f)
    f = -65504.0f;
  return q_f32_to_f16(f);
}

uint16_t q_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  if ((x & 0x7FFFFFFFu) > 0x7F800000u)
    return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1u)) >> 16);
}

/* ---- helpers ---- */

static void put16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put32f(unsigned char *p, float f) {
  uint32_t u;
  int i;
  memcpy(&u, &f, 4);
  for (i = 0; i < 4; i++)
    p[i] = (unsigned char)(u >> (8 * i));
}

/* Store a scale as a saturated half; return the value the reader sees. */
static float put_scale(unsigned char *p, float v) {
  uint16_t h = q_f32_to_f16_sat(v);
  put16(p, h);
  return rill_f16_to_f32(h);
}

/* The same, rounded away from zero if needed so that |stored| >= |v|:
 * block scales computed as max / levels then never make the extreme
 * element overflow its quant range (matters where the half is
 * subnormal, as for Q6_K's d on weights of ordinary size). */
static float put_scale_up(unsigned char *p, float v) {
  uint16_t h = q_f32_to_f16_sat(v);
  if (fabsf(rill_f16_to_f32(h)) < fabsf(v) && (h & 0x7FFFu) < 0x7BFFu)
    h++;
  put16(p, h);
  return rill_f16_to_f32(h);
}

static int clampi(long v, int lo, int hi) {
  return v < lo ? lo : v > hi ? hi : (int)v;
}

/* Nearest quant of x for step d (0 when d is 0), clamped to lo..hi. */
static int nearest(float x, float d, int lo, int hi) {
  float r;
  if (d == 0.0f)
    return clampi(0, lo, hi);
  r = x / d;
  if (r > 1e6f)
    r = 1e6f;
  if (r < -1e6f)
    r = -1e6f;
  return clampi(lrintf(r), lo, hi);
}

/* The element of largest magnitude, with its sign. */
static float signed_max(const float *x, int n) {
  float m = 0.0f, am = 0.0f;
  int i;
  for (i = 0; i < n; i++)
    if (fabsf(x[i]) > am)
      am = fabsf(x[i]), m = x[i];
  return m;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
  int i;
  *mn = *mx = x[0];
  for (i = 1; i < n; i++) {
    if (x[i] < *mn)
      *mn = x[i];
    if (x[i] > *mx)
      *mx = x[i];
  }
}

/* ---- 32-element types ---- */

static void q8_0(const float *x, unsigned char *b) {
  float am = 0.0f, d;
  int i;
  for (i = 0; i < 32; i++)
    if (fabsf(x[i]) > am)
      am = fabsf(x[i]);
  d = put_scale_up(b, am / 127.0f);
  for (i = 0; i < 32; i++)
    b[2 + i] = (unsigned char)(signed char)nearest(x[i], d, -127, 127);
}

/* Q4_0 (bits 4) and Q5_0 (bits 5): the signed extreme maps to the lowest
 * quant, as ggml does. */
static void qx_0(const float *x, unsigned char *b, int bits) {
  int off = 1 << (bits - 1), top = (1 << bits) - 1, j;
  float d = put_scale_up(b, signed_max(x, 32) / (float)-off);
  uint32_t qh = 0;
  unsigned char *qs = b + (bits == 5 ? 6 : 2);
  for (j = 0; j < 16; j++) {
    int a = nearest(x[j], d, -off, top - off) + off;
    int c = nearest(x[j + 16], d, -off, top - off) + off;
    qs[j] = (unsigned char)((a & 15) | (c & 15) << 4);
    qh |= (uint32_t)(a >> 4) << j | (uint32_t)(c >> 4) << (j + 16);
  }
  if (bits == 5) {
    for (j = 0; j < 4; j++)
      b[2 + j] = (unsigned char)(qh >> (8 * j));
  }
}

/* Q4_1 and Q5_1: min/max. */
static void qx_1(const float *x, unsigned char *b, int bits) {
  int top = (1 << bits) - 1, j;
  float mn, mx, d, m;
  uint32_t qh = 0;
  unsigned char *qs = b + (bits == 5 ? 8 : 4);
  min_max(x, 32, &mn, &mx);
  d = put_scale_up(b, (mx - mn) / (float)top);
  m = put_scale(b + 2, mn);
  for (j = 0; j < 16; j++) {
    int a = nearest(x[j] - m, d, 0, top);
    int c = nearest(x[j + 16] - m, d, 0, top);
    qs[j] = (unsigned char)((a & 15) | (c & 15) << 4);
    qh |= (uint32_t)(a >> 4) << j | (uint32_t)(c >> 4) << (j + 16);
  }
  if (bits == 5) {
    for (j = 0; j < 4; j++)
      b[4 + j] = (unsigned char)(qh >> (8 * j));
  }
}

/* ---- K types (256 elements) ---- */

/* Q4_K (bits 4) and Q5_K (bits 5): 8 sub-blocks of 32, each with a 6-bit
 * scale and a 6-bit min under the block's d and dmin. */
static void qx_k(const float *x, unsigned char *b, int bits) {
  int top = (1 << bits) - 1, i, l, j;
  float range[8], off[8], mx[8], maxr = 0.0f, maxo = 0.0f, d, dmin;
  unsigned char sc[8], mq[8], q[256];
  unsigned char *scales = b + 4, *qh = b + 16, *qs = b + (bits == 5 ? 48 : 16);
  for (i = 0; i < 8; i++) {
    float mn;
    min_max(x + 32 * i, 32, &mn, &mx[i]);
    if (mn > 0.0f)
      mn = 0.0f;
    range[i] = mx[i] - mn;
    off[i] = -mn;
    if (range[i] > maxr)
      maxr = range[i];
    if (off[i] > maxo)
      maxo = off[i];
  }
  d = put_scale_up(b, maxr / (float)top / 63.0f);
  dmin = put_scale_up(b + 2, maxo / 63.0f);
  for (i = 0; i < 8; i++) {
    float lo, step, need;
    mq[i] = (unsigned char)nearest(off[i], dmin, 0, 63);
    lo = -dmin * (float)mq[i];
    /* The smallest sub-scale whose top quant reaches the maximum. */
    need = d > 0.0f ? (mx[i] - lo) / ((float)top * d) : 0.0f;
    if (need > 1e6f)
      need = 1e6f;
    if (need <= 0.0f)
      sc[i] = 0;
    else {
      long s = lrintf(need);
      if ((float)s < need)
        s++;
      sc[i] = (unsigned char)clampi(s, 1, 63);
    }
    step = d * (float)sc[i];
    for (l = 0; l < 32; l++)
      q[32 * i + l] = (unsigned char)nearest(x[32 * i + l] - lo, step, 0, top);
  }
  for (i = 0; i < 4; i++) {
    scales[i] = (unsigned char)(sc[i] | (sc[i + 4] >> 4) << 6);
    scales[i + 4] = (unsigned char)(mq[i] | (mq[i + 4] >> 4) << 6);
    scales[i + 8] = (unsigned char)((sc[i + 4] & 15) | (mq[i + 4] & 15) << 4);
  }
  if (bits == 5)
    memset(qh, 0, 32);
  for (j = 0; j < 4; j++) {
    for (l = 0; l < 32; l++) {
      unsigned a = q[64 * j + l], c = q[64 * j + 32 + l];
      qs[32 * j + l] = (unsigned char)((a & 15) | (c & 15) << 4);
      if (bits == 5)
        qh[l] = (unsigned char)(qh[l] | (a >> 4) << (2 * j) |
                                (c >> 4) << (2 * j + 1));
    }
  }
}

/* Q6_K: 16 sub-blocks of 16 with signed 8-bit scales under d. */
static void q6_k(const float *x, unsigned char *b) {
  float sub[16], maxs = 0.0f, d;
  signed char sc[16];
  unsigned char q[256];
  unsigned char *ql = b, *qh = b + 128;
  int i, l, h;
  for (i = 0; i < 16; i++) {
    sub[i] = signed_max(x + 16 * i, 16) / -32.0f;
    if (fabsf(sub[i]) > maxs)
      maxs = fabsf(sub[i]);
  }
  d = put_scale_up(b + 208, maxs / 127.0f);
  for (i = 0; i < 16; i++) {
    float step;
    sc[i] = (signed char)nearest(sub[i], d, -127, 127);
    step = d * (float)sc[i];
    for (l = 0; l < 16; l++)
      q[16 * i + l] =
          (unsigned char)(nearest(x[16 * i + l], step, -32, 31) + 32);
    b[192 + i] = (unsigned char)sc[i];
  }
  for (h = 0; h < 2; h++) {
    for (l = 0; l < 32; l++) {
      unsigned q1 = q[128 * h + l], q2 = q[128 * h + l + 32];
      unsigned q3 = q[128 * h + l + 64], q4 = q[128 * h + l + 96];
      ql[64 * h + l] = (unsigned char)((q1 & 15) | (q3 & 15) << 4);
      ql[64 * h + l + 32] = (unsigned char)((q2 & 15) | (q4 & 15) << 4);
      qh[32 * h + l] = (unsigned char)((q1 >> 4) | (q2 >> 4) << 2 |
                                       (q3 >> 4) << 4 | (q4 >> 4) << 6);
    }
  }
}

/* ---- dispatch ---- */

int q_supported(int type) {
  switch (type) {
  case RILL_GGUF_TYPE_F32:
  case RILL_GGUF_TYPE_F16:
  case RILL_GGUF_TYPE_BF16:
  case RILL_GGUF_TYPE_Q4_0:
  case RILL_GGUF_TYPE_Q4_1:
  case RILL_GGUF_TYPE_Q5_0:
  case RILL_GGUF_TYPE_Q5_1:
  case RILL_GGUF_TYPE_Q8_0:
  case RILL_GGUF_TYPE_Q4_K:
  case RILL_GGUF_TYPE_Q5_K:
  case RILL_GGUF_TYPE_Q6_K:
    return 1;
  default:
    return 0;
  }
}

int q_quantize(int type, const float *src, size_t n, void *dst) {
  unsigned char *p = dst;
  uint32_t be = 0, bb = 0;
  size_t i, nb;
  if (!q_supported(type) || rill_gguf_type_block(type, &be, &bb) != RILL_OK ||
      n % be != 0)
    return -1;
  nb = n / be;
  for (i = 0; i < nb; i++, p += bb) {
    const float *x = src + i * be;
    switch (type) {
    case RILL_GGUF_TYPE_F32:
      put32f(p, x[0]);
      break;
    case RILL_GGUF_TYPE_F16:
      put16(p, q_f32_to_f16(x[0]));
      break;
    case RILL_GGUF_TYPE_BF16:
      put16(p, q_f32_to_bf16(x[0]));
      break;
    case RILL_GGUF_TYPE_Q8_0:
      q8_0(x, p);
      break;
    case RILL_GGUF_TYPE_Q4_0:
      qx_0(x, p, 4);
      break;
    case RILL_GGUF_TYPE_Q5_0:
      qx_0(x, p, 5);
      break;
    case RILL_GGUF_TYPE_Q4_1:
      qx_1(x, p, 4);
      break;
    case RILL_GGUF_TYPE_Q5_1:
      qx_1(x, p, 5);
      break;
    case RILL_GGUF_TYPE_Q4_K:
      qx_k(x, p, 4);
      break;
    case RILL_GGUF_TYPE_Q5_K:
      qx_k(x, p, 5);
      break;
    case RILL_GGUF_TYPE_Q6_K:
      q6_k(x, p);
      break;
    default:
      return -1;
    }
  }
  return 0;
}
