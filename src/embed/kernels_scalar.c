/*
 * The reference kernels: plain C, any CPU. Each block's dot product is an
 * exact integer sum scaled once in float, as in ggml's generic vec_dot
 * (ggml-cpu/quants.c); blocks are summed in float in row order. F32 and
 * F16 rows sum their (exact) products in double, as ggml's scalar F16 dot
 * does, so this path is the yardstick the SIMD paths are held to.
 */
#include <string.h>

#include "embed/kernels_impl.h"
#include "gguf/dequant.h"
#include "rill/gguf.h"

typedef float (*dot_fn)(const unsigned char *w, const unsigned char *a,
                        size_t in);

static float dot_f32(const unsigned char *w, const unsigned char *a,
                     size_t in) {
  double s = 0.0;
  size_t i;
  for (i = 0; i < in; i++) {
    float x, y;
    memcpy(&x, w + 4 * i, 4);
    memcpy(&y, a + 4 * i, 4);
    s += (double)x * (double)y;
  }
  return (float)s;
}

static float dot_f16(const unsigned char *w, const unsigned char *a,
                     size_t in) {
  double s = 0.0;
  size_t i;
  for (i = 0; i < in; i++) {
    float y;
    memcpy(&y, a + 4 * i, 4);
    s += (double)rill__f16_at(w + 2 * i) * (double)y;
  }
  return (float)s;
}

/* Legacy blocks: 32 weights as integers (offset already applied). */
static void unpack_q4(const unsigned char *qs, int off, int *q) {
  int j;
  for (j = 0; j < 16; j++) {
    q[j] = (qs[j] & 15) - off;
    q[j + 16] = (qs[j] >> 4) - off;
  }
}

static void unpack_q5(const unsigned char *qh4, const unsigned char *qs,
                      int off, int *q) {
  uint32_t qh = rill__le32(qh4);
  int j;
  for (j = 0; j < 16; j++) {
    q[j] = ((qs[j] & 15) | (int)((qh >> j) & 1u) << 4) - off;
    q[j + 16] = ((qs[j] >> 4) | (int)((qh >> (j + 16)) & 1u) << 4) - off;
  }
}

static int idot32(const int *q, const unsigned char *a) {
  int s = 0, j;
  for (j = 0; j < RILL__QK; j++)
    s += q[j] * (int8_t)a[j];
  return s;
}

static float dot_q4_0(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK; b++, w += 18, a += RILL__Q8_0_BYTES) {
    int q[RILL__QK];
    unpack_q4(w + 2, 8, q);
    s += rill__f16_at(w) * rill__f16_at(a) * (float)idot32(q, a + 2);
  }
  return s;
}

static float dot_q5_0(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK; b++, w += 22, a += RILL__Q8_0_BYTES) {
    int q[RILL__QK];
    unpack_q5(w + 2, w + 6, 16, q);
    s += rill__f16_at(w) * rill__f16_at(a) * (float)idot32(q, a + 2);
  }
  return s;
}

static float dot_q8_0(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK; b++, w += 34, a += RILL__Q8_0_BYTES) {
    int q[RILL__QK], j;
    for (j = 0; j < RILL__QK; j++)
      /* Q8_0 quants are two's-complement bytes: sign extension is meant.
       * NOLINTNEXTLINE(cert-str34-c,bugprone-signed-char-misuse) */
      q[j] = (int8_t)w[2 + j];
    s += rill__f16_at(w) * rill__f16_at(a) * (float)idot32(q, a + 2);
  }
  return s;
}

/* The weight's minimum m meets the activation block's s = d*sum(q). */
static float dot_q4_1(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK; b++, w += 20, a += RILL__Q8_1_BYTES) {
    int q[RILL__QK];
    unpack_q4(w + 4, 0, q);
    s += rill__f16_at(w) * rill__f16_at(a) * (float)idot32(q, a + 4) +
         rill__f16_at(w + 2) * rill__f16_at(a + 2);
  }
  return s;
}

static float dot_q5_1(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK; b++, w += 24, a += RILL__Q8_1_BYTES) {
    int q[RILL__QK];
    unpack_q5(w + 4, w + 8, 0, q);
    s += rill__f16_at(w) * rill__f16_at(a) * (float)idot32(q, a + 4) +
         rill__f16_at(w + 2) * rill__f16_at(a + 2);
  }
  return s;
}

/* Q8_K fields: d f32, qs, bsums. */
static float q8k_d(const unsigned char *a) {
  float d;
  memcpy(&d, a, 4);
  return d;
}
static int q8k_bsum(const unsigned char *a, int i) {
  return (int16_t)rill__le16(a + 4 + RILL__QK_K + 2 * i);
}

/* The 6-bit scales and mins of Q4_K and Q5_K (ggml's get_scale_min_k4). */
static void scale_min_k4(const unsigned char *q, int *sc, int *m) {
  int j;
  for (j = 0; j < 4; j++) {
    sc[j] = q[j] & 63;
    m[j] = q[j + 4] & 63;
  }
  for (j = 4; j < 8; j++) {
    sc[j] = (q[j + 4] & 15) | ((q[j - 4] >> 6) << 4);
    m[j] = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

/* Q4_K and Q5_K: sum_j sc_j (q . a)_j scaled by d, minus the mins against
 * the activation's 16-element sums scaled by dmin. qh is NULL for Q4_K. */
static float q45k_block(const unsigned char *w, const unsigned char *qh,
                        const unsigned char *qs, const unsigned char *a) {
  const unsigned char *aq = a + 4;
  int sc[8], m[8], s1 = 0, s2 = 0, j, l;
  float da = q8k_d(a);
  scale_min_k4(w + 4, sc, m);
  for (j = 0; j < 4; j++) {
    int lo = 0, hi = 0;
    for (l = 0; l < 32; l++) {
      int q0 = qs[32 * j + l] & 15, q1 = qs[32 * j + l] >> 4;
      if (qh) {
        q0 |= ((qh[l] >> (2 * j)) & 1) << 4;
        q1 |= ((qh[l] >> (2 * j + 1)) & 1) << 4;
      }
      lo += q0 * (int8_t)aq[64 * j + l];
      hi += q1 * (int8_t)aq[64 * j + 32 + l];
    }
    s1 += sc[2 * j] * lo + sc[2 * j + 1] * hi;
  }
  for (j = 0; j < 8; j++)
    s2 += m[j] * (q8k_bsum(a, 2 * j) + q8k_bsum(a, 2 * j + 1));
  return rill__f16_at(w) * da * (float)s1 -
         rill__f16_at(w + 2) * da * (float)s2;
}

static float dot_q4_k(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK_K; b++, w += 144, a += RILL__Q8_K_BYTES)
    s += q45k_block(w, NULL, w + 16, a);
  return s;
}

static float dot_q5_k(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK_K; b++, w += 176, a += RILL__Q8_K_BYTES)
    s += q45k_block(w, w + 16, w + 48, a);
  return s;
}

static float dot_q6_k(const unsigned char *w, const unsigned char *a,
                      size_t in) {
  float s = 0.0f;
  size_t b;
  for (b = 0; b < in / RILL__QK_K; b++, w += 210, a += RILL__Q8_K_BYTES) {
    const unsigned char *aq = a + 4;
    int g[16] = {0}, s1 = 0, h, l, k;
    for (h = 0; h < 2; h++) {
      const unsigned char *ql = w + 64 * h, *qh = w + 128 + 32 * h;
      for (l = 0; l < 32; l++) {
        int q[4];
        q[0] = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
        q[1] = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
        q[2] = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
        q[3] = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
        for (k = 0; k < 4; k++) {
          int e = 128 * h + 32 * k + l;
          g[e / 16] += q[k] * (int8_t)aq[e];
        }
      }
    }
    for (k = 0; k < 16; k++)
      s1 += (int8_t)w[192 + k] * g[k];
    s += rill__f16_at(w + 208) * q8k_d(a) * (float)s1;
  }
  return s;
}

static dot_fn dot_for(int type) {
  switch (type) {
  case RILL_GGUF_TYPE_F32:
    return dot_f32;
  case RILL_GGUF_TYPE_F16:
    return dot_f16;
  case RILL_GGUF_TYPE_Q4_0:
    return dot_q4_0;
  case RILL_GGUF_TYPE_Q4_1:
    return dot_q4_1;
  case RILL_GGUF_TYPE_Q5_0:
    return dot_q5_0;
  case RILL_GGUF_TYPE_Q5_1:
    return dot_q5_1;
  case RILL_GGUF_TYPE_Q8_0:
    return dot_q8_0;
  case RILL_GGUF_TYPE_Q4_K:
    return dot_q4_k;
  case RILL_GGUF_TYPE_Q5_K:
    return dot_q5_k;
  case RILL_GGUF_TYPE_Q6_K:
    return dot_q6_k;
  default:
    return NULL;
  }
}

/* Tokens in L2-sized chunks, so each weight row is fetched from memory
 * once per chunk rather than once per token. */
static void matmul_scalar(const rill__wmat *w, const void *act,
                          size_t act_stride, size_t n_tok, size_t o0,
                          size_t o1, float *y, size_t ldy) {
  dot_fn dot = dot_for(w->type);
  const unsigned char *wd = (const unsigned char *)w->data;
  const unsigned char *ad = (const unsigned char *)act;
  size_t chunk = rill__kernels_tok_chunk(act_stride), t0, t, o;
  if (!dot)
    return;
  for (t0 = 0; t0 < n_tok; t0 += chunk) {
    size_t t1 = n_tok - t0 < chunk ? n_tok : t0 + chunk;
    for (o = o0; o < o1; o++)
      for (t = t0; t < t1; t++)
        y[t * ldy + o] = dot(wd + o * w->row_bytes, ad + t * act_stride, w->in);
  }
}

const rill__kernels rill__kernels_scalar = {
    "scalar", rill__act_row_bytes, rill__act_convert, matmul_scalar};
