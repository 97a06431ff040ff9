/*
 * test_gguf_dequant.c — rill_gguf_dequantize for every type it reads, the
 * half and bfloat16 conversions, and the type table.
 *
 * How the quantized types are checked: a block is described logically (its
 * f16 factors, its per-group scales and mins, one quant value per element),
 * packed into bytes by placing each element's bits one at a time at the
 * byte and bit the layout gives for that element index, decoded by the
 * library, and compared with the formula evaluated on the logical values in
 * double precision. Nothing here shares code or structure with the library
 * decoders (those unpack bytes group by group; this packs element by
 * element), and the half decoder is a separate one built from the IEEE
 * definition.
 *
 * Why exact equality holds: in every formula all products before the last
 * operation are exact in float (at most 11 + 8 + 6 = 25 significant bits,
 * and only Q6_K's last product reaches that), so the library's float result
 * is the exactly rounded value of the formula. The double evaluation here
 * is exact for the same reason (the widest sum spans 2^27 .. 2^-24, fewer
 * than 53 bits), so converting it to float once gives the same bits, signed
 * zeros included. NaN is compared as "is NaN", except where the contract
 * promises payloads (rill_f16_to_f32, F16, BF16, F32).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "gguf/dequant.h"
#include "gguf/types.h"
#include "rill/error.h"
#include "rill/gguf.h"

/* ---- independent helpers ------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rng(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static int rng_range(int lo, int hi) {
  return lo + (int)(rng() % (uint64_t)(hi - lo + 1));
}

static uint32_t fbits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static float bitsf(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

static double pow2(int e) {
  double v = 1.0;
  for (; e > 0; e--)
    v *= 2.0;
  for (; e < 0; e++)
    v *= 0.5;
  return v;
}

static const double ref_nan = (double)NAN;

/* IEEE binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), or
 * 2^-14 (m/1024) when e = 0; e = 31 is Inf (m = 0) or NaN. */
static double ref_half(uint16_t h) {
  int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
  double v;
  if (e == 31)
    v = m ? ref_nan : (double)INFINITY;
  else if (e == 0)
    v = (double)m * pow2(-24);
  else
    v = (double)(1024 + m) * pow2(e - 25);
  return s ? -v : v;
}

/* The float a half must become, as bits: exact values, and for NaN the
 * same sign and payload moved to the top of the float mantissa. */
static uint32_t ref_half_bits(uint16_t h) {
  if ((h & 0x7c00u) == 0x7c00u && (h & 0x3ffu))
    return (uint32_t)(h >> 15) << 31 | 0x7f800000u |
           (uint32_t)(h & 0x3ffu) << 13;
  return fbits((float)ref_half(h));
}

static double ref_bf16(uint16_t h) {
  int s = h >> 15, e = (h >> 7) & 255, m = h & 127;
  double v;
  if (e == 255)
    v = m ? ref_nan : (double)INFINITY;
  else if (e == 0)
    v = (double)m * pow2(-133);
  else
    v = (double)(128 + m) * pow2(e - 134);
  return s ? -v : v;
}

/* Set nbits of value at bit `bit` of byte `byte` (fields never straddle a
 * byte in these layouts). */
static void put(unsigned char *blk, int byte, int bit, int nbits,
                unsigned value) {
  unsigned mask = ((1u << nbits) - 1u) << bit;
  blk[byte] = (unsigned char)((blk[byte] & ~mask) | ((value << bit) & mask));
}
static void put16(unsigned char *blk, int byte, unsigned v) {
  blk[byte] = (unsigned char)(v & 255);
  blk[byte + 1] = (unsigned char)(v >> 8);
}

/* ---- logical blocks ----------------------------------------------------- */

typedef struct lblock {
  uint16_t d, m; /* f16 bits: d, and m / dmin where the type has one */
  uint32_t d32;  /* Q8_K: its f32 d, as bits */
  int sc[16];    /* per-group scale, as its formula uses it */
  int mn[16];    /* per-group min */
  int q[256];    /* quant value as stored (signed for the 8-bit types) */
} lblock;

typedef struct qtype {
  int type;
  const char *name;
  int elems, bytes;
  int qmin, qmax;
  int groups, group_elems; /* scale groups (0: none) */
  int scmin, scmax, mnmin, mnmax;
  int has_m;
  void (*pack)(const lblock *, unsigned char *);
  double (*ref)(const lblock *, int e);
} qtype;

/* ---- packers: element index -> where its bits live ---------------------- */

static void pack_q4_0(const lblock *b, unsigned char *o) {
  int e;
  put16(o, 0, b->d);
  for (e = 0; e < 32; e++) /* byte e % 16, low nibble for the first 16 */
    put(o, 2 + e % 16, 4 * (e / 16), 4, (unsigned)b->q[e]);
}
static void pack_q4_1(const lblock *b, unsigned char *o) {
  int e;
  put16(o, 0, b->d);
  put16(o, 2, b->m);
  for (e = 0; e < 32; e++)
    put(o, 4 + e % 16, 4 * (e / 16), 4, (unsigned)b->q[e]);
}
static void pack_q5(const lblock *b, unsigned char *o, int qh_at, int qs_at) {
  int e;
  for (e = 0; e < 32; e++) {
    put(o, qs_at + e % 16, 4 * (e / 16), 4, (unsigned)b->q[e] & 15);
    /* bit e of the little-endian u32 qh */
    put(o, qh_at + e / 8, e % 8, 1, (unsigned)b->q[e] >> 4);
  }
}
static void pack_q5_0(const lblock *b, unsigned char *o) {
  put16(o, 0, b->d);
  pack_q5(b, o, 2, 6);
}
static void pack_q5_1(const lblock *b, unsigned char *o) {
  put16(o, 0, b->d);
  put16(o, 2, b->m);
  pack_q5(b, o, 4, 8);
}
static void pack_q8_0(const lblock *b, unsigned char *o) {
  int e;
  put16(o, 0, b->d);
  for (e = 0; e < 32; e++)
    put(o, 2 + e, 0, 8, (unsigned)(b->q[e] & 255));
}

static void pack_q2_k(const lblock *b, unsigned char *o) {
  int e, g;
  for (g = 0; g < 16; g++) {
    put(o, g, 0, 4, (unsigned)b->sc[g]);
    put(o, g, 4, 4, (unsigned)b->mn[g]);
  }
  for (e = 0; e < 256; e++) {
    int h = e / 128, j = e % 128 / 32, s = e % 32 / 16, l = e % 16;
    put(o, 16 + 32 * h + 16 * s + l, 2 * j, 2, (unsigned)b->q[e]);
  }
  put16(o, 80, b->d);
  put16(o, 82, b->m);
}

static void pack_q3_k(const lblock *b, unsigned char *o) {
  int e, i;
  for (e = 0; e < 256; e++) {
    int h = e / 128, j = e % 128 / 32, s = e % 32 / 16, l = e % 16;
    put(o, 32 + 32 * h + 16 * s + l, 2 * j, 2, (unsigned)b->q[e] & 3);
    put(o, 16 * s + l, 4 * h + j, 1, (unsigned)b->q[e] >> 2);
  }
  /* scale i is byte k = i % 4 of word w = i / 4 of the unpacked words
   * s0..s3: its low nibble comes from word a0 (w even) or a1 (w odd), low
   * or high nibble by w / 2; its top two bits from a2, bits 2w of byte k. */
  for (i = 0; i < 16; i++) {
    int w = i / 4, k = i % 4;
    unsigned v = (unsigned)(b->sc[i] + 32);
    put(o, 96 + 4 * (w & 1) + k, 4 * (w >> 1), 4, v & 15);
    put(o, 96 + 8 + k, 2 * w, 2, v >> 4);
  }
  put16(o, 108, b->d);
}

static void pack_k_scales(const lblock *b, unsigned char *o, int at) {
  int g;
  for (g = 0; g < 8; g++) {
    unsigned sc = (unsigned)b->sc[g], mn = (unsigned)b->mn[g];
    if (g < 4) {
      put(o, at + g, 0, 6, sc);
      put(o, at + g + 4, 0, 6, mn);
    } else {
      put(o, at + g + 4, 0, 4, sc & 15);
      put(o, at + g - 4, 6, 2, sc >> 4);
      put(o, at + g + 4, 4, 4, mn & 15);
      put(o, at + g, 6, 2, mn >> 4);
    }
  }
}
static void pack_q4_k(const lblock *b, unsigned char *o) {
  int e;
  put16(o, 0, b->d);
  put16(o, 2, b->m);
  pack_k_scales(b, o, 4);
  for (e = 0; e < 256; e++) /* group e / 32; pairs of groups share bytes */
    put(o, 16 + 32 * (e / 64) + e % 32, 4 * (e / 32 % 2), 4, (unsigned)b->q[e]);
}
static void pack_q5_k(const lblock *b, unsigned char *o) {
  int e;
  put16(o, 0, b->d);
  put16(o, 2, b->m);
  pack_k_scales(b, o, 4);
  for (e = 0; e < 256; e++) {
    put(o, 48 + 32 * (e / 64) + e % 32, 4 * (e / 32 % 2), 4,
        (unsigned)b->q[e] & 15);
    put(o, 16 + e % 32, e / 32, 1, (unsigned)b->q[e] >> 4);
  }
}
static void pack_q6_k(const lblock *b, unsigned char *o) {
  int e, g;
  for (e = 0; e < 256; e++) {
    int h = e / 128, k = e % 128 / 32, l = e % 32;
    put(o, 64 * h + l + 32 * (k % 2), 4 * (k / 2), 4, (unsigned)b->q[e] & 15);
    put(o, 128 + 32 * h + l, 2 * k, 2, (unsigned)b->q[e] >> 4);
  }
  for (g = 0; g < 16; g++)
    put(o, 192 + g, 0, 8, (unsigned)(b->sc[g] & 255));
  put16(o, 208, b->d);
}
static void pack_q8_k(const lblock *b, unsigned char *o) {
  int e, g;
  for (e = 0; e < 4; e++)
    o[e] = (unsigned char)(b->d32 >> (8 * e));
  for (e = 0; e < 256; e++)
    put(o, 4 + e, 0, 8, (unsigned)(b->q[e] & 255));
  for (g = 0; g < 16; g++) {
    int sum = 0;
    for (e = 16 * g; e < 16 * g + 16; e++)
      sum += b->q[e];
    put16(o, 260 + 2 * g, (unsigned)(sum & 0xffff));
  }
}

/* ---- the formulas, on logical values ------------------------------------ */

static double ref_q4_0(const lblock *b, int e) {
  return (double)(b->q[e] - 8) * ref_half(b->d);
}
static double ref_q4_1(const lblock *b, int e) {
  return (double)b->q[e] * ref_half(b->d) + ref_half(b->m);
}
static double ref_q5_0(const lblock *b, int e) {
  return (double)(b->q[e] - 16) * ref_half(b->d);
}
static double ref_q8_0(const lblock *b, int e) {
  return (double)b->q[e] * ref_half(b->d);
}
/* Q2_K, Q4_K, Q5_K: (d * scale) * q - dmin * min, per group. */
static double ref_kmin(const lblock *b, int e, int group_elems) {
  int g = e / group_elems;
  return ref_half(b->d) * (double)b->sc[g] * (double)b->q[e] -
         ref_half(b->m) * (double)b->mn[g];
}
static double ref_q2_k(const lblock *b, int e) {
  return ref_kmin(b, e, 16);
}
static double ref_q45_k(const lblock *b, int e) {
  return ref_kmin(b, e, 32);
}
static double ref_q3_k(const lblock *b, int e) {
  return ref_half(b->d) * (double)b->sc[e / 16] * (double)(b->q[e] - 4);
}
static double ref_q6_k(const lblock *b, int e) {
  return ref_half(b->d) * (double)b->sc[e / 16] * (double)(b->q[e] - 32);
}
static double ref_q8_k(const lblock *b, int e) {
  return (double)bitsf(b->d32) * (double)b->q[e];
}

static const qtype qtypes[] = {
    {RILL_GGUF_TYPE_Q4_0, "Q4_0", 32, 18, 0, 15, 0, 0, 0, 0, 0, 0, 0, pack_q4_0,
     ref_q4_0},
    {RILL_GGUF_TYPE_Q4_1, "Q4_1", 32, 20, 0, 15, 0, 0, 0, 0, 0, 0, 1, pack_q4_1,
     ref_q4_1},
    {RILL_GGUF_TYPE_Q5_0, "Q5_0", 32, 22, 0, 31, 0, 0, 0, 0, 0, 0, 0, pack_q5_0,
     ref_q5_0},
    {RILL_GGUF_TYPE_Q5_1, "Q5_1", 32, 24, 0, 31, 0, 0, 0, 0, 0, 0, 1, pack_q5_1,
     ref_q4_1},
    {RILL_GGUF_TYPE_Q8_0, "Q8_0", 32, 34, -128, 127, 0, 0, 0, 0, 0, 0, 0,
     pack_q8_0, ref_q8_0},
    {RILL_GGUF_TYPE_Q2_K, "Q2_K", 256, 84, 0, 3, 16, 16, 0, 15, 0, 15, 1,
     pack_q2_k, ref_q2_k},
    {RILL_GGUF_TYPE_Q3_K, "Q3_K", 256, 110, 0, 7, 16, 16, -32, 31, 0, 0, 0,
     pack_q3_k, ref_q3_k},
    {RILL_GGUF_TYPE_Q4_K, "Q4_K", 256, 144, 0, 15, 8, 32, 0, 63, 0, 63, 1,
     pack_q4_k, ref_q45_k},
    {RILL_GGUF_TYPE_Q5_K, "Q5_K", 256, 176, 0, 31, 8, 32, 0, 63, 0, 63, 1,
     pack_q5_k, ref_q45_k},
    {RILL_GGUF_TYPE_Q6_K, "Q6_K", 256, 210, 0, 63, 16, 16, -128, 127, 0, 0, 0,
     pack_q6_k, ref_q6_k},
    {RILL_GGUF_TYPE_Q8_K, "Q8_K", 256, 292, -128, 127, 0, 0, 0, 0, 0, 0, 0,
     pack_q8_k, ref_q8_k},
};
#define N_QTYPES (sizeof qtypes / sizeof qtypes[0])

/* ---- comparing ---------------------------------------------------------- */

/* Compare n blocks of output with the formula; returns mismatches (and
 * prints the first few). */
static int check_blocks(const qtype *t, const lblock *blk, size_t nblk,
                        const float *got, const char *what) {
  size_t i;
  int e, bad = 0;
  for (i = 0; i < nblk; i++)
    for (e = 0; e < t->elems; e++) {
      float want = (float)t->ref(&blk[i], e);
      float g = got[i * (size_t)t->elems + (size_t)e];
      int ok = want != want ? g != g : fbits(want) == fbits(g);
      if (!ok && bad++ < 5)
        print_error("%s %s: block %zu element %d: got %.9g (0x%08x), want "
                    "%.9g (0x%08x); d 0x%04x m 0x%04x q %d\n",
                    t->name, what, i, e, (double)g, fbits(g), (double)want,
                    fbits(want), blk[i].d, blk[i].m, blk[i].q[e]);
    }
  return bad;
}

/* Pack, decode in one call (from an odd address too), compare. */
static void run_blocks(const qtype *t, const lblock *blk, size_t nblk,
                       const char *what) {
  size_t bytes = nblk * (size_t)t->bytes, n = nblk * (size_t)t->elems, i;
  unsigned char *raw = calloc(bytes + 8, 1);
  float *out = malloc((n + 4) * sizeof(float));
  int off;
  assert_non_null(raw);
  assert_non_null(out);
  for (i = 0; i < nblk; i++)
    t->pack(&blk[i], raw + i * (size_t)t->bytes);
  for (off = 0; off < 8; off += 3) {
    if (off)
      memmove(raw + off, raw + off - 3, bytes);
    memset(out, 0xa5, (n + 4) * sizeof(float));
    assert_int_equal(rill_gguf_dequantize(t->type, raw + off, bytes, out, n),
                     RILL_OK);
    assert_int_equal(check_blocks(t, blk, nblk, out, what), 0);
    for (i = n; i < n + 4; i++) /* nothing written past n */
      assert_int_equal(fbits(out[i]), 0xa5a5a5a5u);
  }
  free(raw);
  free(out);
}

/* ---- block makers ------------------------------------------------------- */

/* f16 factors worth trying: zero, both signs of the largest finite, the
 * smallest subnormal, ordinary values, both infinities, quiet and
 * signalling NaN. */
static const uint16_t edge_halves[] = {0x0000, 0x8000, 0x7bff, 0xfbff, 0x0001,
                                       0x8001, 0x3c00, 0xbc00, 0x3555, 0x03ff,
                                       0x7c00, 0xfc00, 0x7e00, 0x7c01};
#define N_EDGE_HALVES (sizeof edge_halves / sizeof edge_halves[0])

static const uint32_t edge_floats[N_EDGE_HALVES] = {
    0x00000000u, 0x80000000u, 0x7f7fffffu, 0xff7fffffu, 0x00000001u,
    0x3f800000u, 0xbf800000u, 0x3daaaaabu, 0x7f800000u, 0xff800000u,
    0x7fc00000u, 0x00800000u, 0x7effffffu, 0x33800000u};

/* Quant and scale patterns: all minimum, all maximum, a ramp over the
 * range, and random. */
static int pattern(int which, int lo, int hi, int i) {
  switch (which) {
  case 0:
    return lo;
  case 1:
    return hi;
  case 2:
    return lo + i % (hi - lo + 1);
  default:
    return rng_range(lo, hi);
  }
}

static void fill(const qtype *t, lblock *b, int qpat, int spat) {
  int e, g;
  memset(b, 0, sizeof *b);
  for (e = 0; e < t->elems; e++)
    b->q[e] = pattern(qpat, t->qmin, t->qmax, e);
  for (g = 0; g < t->groups; g++) {
    b->sc[g] = pattern(spat, t->scmin, t->scmax, g);
    b->mn[g] = pattern(spat, t->mnmin, t->mnmax, g + 5);
  }
}

static void test_quant_edges(void **state) {
  size_t ti;
  (void)state;
  rng_state = 1;
  for (ti = 0; ti < N_QTYPES; ti++) {
    const qtype *t = &qtypes[ti];
    size_t max = 4 * 4 * N_EDGE_HALVES * N_EDGE_HALVES, n = 0, a, c;
    lblock *blk = calloc(max, sizeof *blk);
    int qp, sp;
    assert_non_null(blk);
    for (qp = 0; qp < 4; qp++)
      for (sp = 0; sp < 4; sp++)
        for (a = 0; a < N_EDGE_HALVES; a++)
          for (c = 0; c < (t->has_m ? N_EDGE_HALVES : 1); c++) {
            /* Q8_K's d is an f32: its own edge list, same length */
            lblock *b = &blk[n++];
            fill(t, b, qp, sp);
            if (t->type == RILL_GGUF_TYPE_Q8_K)
              b->d32 = edge_floats[a];
            else
              b->d = edge_halves[a];
            b->m = t->has_m ? edge_halves[c] : 0;
          }
    run_blocks(t, blk, n, "edges");
    free(blk);
  }
}

/* Scales at their extremes group by group, against quants at theirs: each
 * group gets min or max independently (a bit of the block index), so a
 * scale that lands in the wrong group shows. */
static void test_quant_scale_extremes(void **state) {
  size_t ti;
  (void)state;
  for (ti = 0; ti < N_QTYPES; ti++) {
    const qtype *t = &qtypes[ti];
    lblock blk[64];
    size_t i;
    int e, g;
    if (!t->groups)
      continue;
    for (i = 0; i < 64; i++) {
      lblock *b = &blk[i];
      memset(b, 0, sizeof *b);
      b->d = i & 1 ? 0x3c00 : 0xc000; /* 1, -2 */
      b->m = i & 2 ? 0x3800 : 0x7bff; /* 0.5, 65504 */
      for (g = 0; g < t->groups; g++) {
        int bit = (int)((i * 0x9e37u >> (g % 12)) & 1);
        b->sc[g] = bit ? t->scmax : t->scmin;
        b->mn[g] = (int)((i >> (g % 5)) & 1) ? t->mnmax : t->mnmin;
      }
      for (e = 0; e < t->elems; e++)
        b->q[e] = (e + (int)i) % 3 == 0   ? t->qmax
                  : (e + (int)i) % 3 == 1 ? t->qmin
                                          : (t->qmin + t->qmax) / 2;
    }
    run_blocks(t, blk, 64, "scale extremes");
  }
}

static void test_quant_random(void **state) {
  size_t ti;
  (void)state;
  rng_state = 0x5eed;
  for (ti = 0; ti < N_QTYPES; ti++) {
    const qtype *t = &qtypes[ti];
    size_t n = t->elems == 32 ? 4000 : 1000, i;
    lblock *blk = calloc(n, sizeof *blk);
    assert_non_null(blk);
    for (i = 0; i < n; i++) {
      lblock *b = &blk[i];
      fill(t, b, 3, 3);
      /* any 16 bits: about 3% are Inf or NaN, 6% subnormal */
      b->d = (uint16_t)rng();
      b->m = t->has_m ? (uint16_t)rng() : 0;
      b->d32 = (uint32_t)rng();
    }
    run_blocks(t, blk, n, "random");
    free(blk);
  }
}

/* A few blocks worked out by hand from the layout table, so that a packer
 * and a decoder that misread the layout the same way cannot agree. */
static void test_quant_known_answers(void **state) {
  /* Q4_0, d = 1: byte 0x21 holds element 0 (1 - 8) and element 16
   * (2 - 8). */
  unsigned char q40[18] = {0x00, 0x3c, 0x21, 0xf0};
  /* Q5_0, d = 0.5, qh = 0x00010001: elements 0 and 16 get their fifth bit:
   * (0x1 | 16) - 16 = 1 and (0x2 | 16) - 16 = 2, times 0.5. Element 1 has
   * no fifth bit: (0 - 16) * 0.5. */
  unsigned char q50[22] = {0x00, 0x38, 0x01, 0x00, 0x01, 0x00, 0x21};
  /* Q8_0, d = 0.5: -128 and 127. */
  unsigned char q80[34] = {0x00, 0x38, 0x80, 0x7f};
  /* Q4_K, d = 1, dmin = 0.5; scale bytes: q[0] = 0x81 (group 0 scale 1,
   * top bits 2 for group 4's scale), q[4] = 0x03 (group 0 min 3),
   * q[8] = 0x25 (group 4: scale nibble 5, min nibble 2). So group 0:
   * 1 * q - 1.5; group 4: (5 | 2 << 4 = 37) q - 0.5 * 2. qs[0] = 0xf7:
   * element 0 is 7 (5.5), element 32 is 15 in group 1 (scale 0, min 0:
   * 0). qs[64] = 0x0a: element 128 is 10 in group 4 (369). */
  unsigned char q4k[144] = {0x00, 0x3c, 0x00, 0x38, 0x81, 0, 0, 0, 0x03};
  /* Q6_K, d = 2, scale[0] = -1, scale[2] = 3: ql[0] = 0x0f, qh[0] = 0x03
   * gives element 0 = (15 | 3 << 4) - 32 = 31 -> 2 * -1 * 31 = -62;
   * element 32 = ql[32] low | qh[0] bits 2-3 (0) = 0 - 32 -> scale[2]:
   * 2 * 3 * -32 = -192. */
  unsigned char q6k[210] = {0x0f};
  /* Q3_K, d = 1: scale 0 is byte 0's low nibble | byte 8's bits 0-1 << 4:
   * 0x0f | 1 << 4 = 31 -> -1. Element 0: qs[0] bits 0-1 = 3, hmask[0]
   * bit 0 clear -> 3 - 4 = -1 -> 1. Element 1: qs[1] = 2, hmask[1] bit 0
   * set -> 2 -> -2. */
  unsigned char q3k[110] = {0};
  float y[256];
  (void)state;
  q4k[12] = 0x25;
  q4k[16] = 0xf7;
  q4k[16 + 64] = 0x0a;
  q6k[192] = 0xff;
  q6k[194] = 3;
  q6k[128] = 0x03;
  q6k[208] = 0x00;
  q6k[209] = 0x40;
  q3k[1] = 0x01;
  q3k[32] = 0x03;
  q3k[33] = 0x02;
  q3k[96] = 0x0f;
  q3k[104] = 0x01;
  q3k[108] = 0x00;
  q3k[109] = 0x3c;

  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q4_0, q40, 18, y, 32),
                   RILL_OK);
  assert_true(y[0] == -7.0f && y[16] == -6.0f && y[1] == -8.0f &&
              y[17] == 7.0f && y[2] == -8.0f);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q5_0, q50, 22, y, 32),
                   RILL_OK);
  assert_true(y[0] == 0.5f && y[16] == 1.0f && y[1] == -8.0f);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q8_0, q80, 34, y, 32),
                   RILL_OK);
  assert_true(y[0] == -64.0f && y[1] == 63.5f && y[2] == 0.0f);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q4_K, q4k, 144, y, 256),
                   RILL_OK);
  assert_true(y[0] == 5.5f && y[32] == 0.0f && y[128] == 369.0f &&
              y[1] == -1.5f && y[129] == -1.0f);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q6_K, q6k, 210, y, 256),
                   RILL_OK);
  assert_true(y[0] == -62.0f && y[32] == -192.0f);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_Q3_K, q3k, 110, y, 256),
                   RILL_OK);
  assert_true(y[0] == 1.0f && y[1] == -2.0f);
}

/* ---- the float types ---------------------------------------------------- */

static void test_f16_all(void **state) {
  static unsigned char raw[2 * 65536 + 1];
  static float a[65536], b[65536];
  rill__dq_fn f16c = rill__dq_f16_f16c();
  uint32_t h;
  int bad = 0;
  (void)state;
  for (h = 0; h < 65536; h++) {
    raw[1 + 2 * h] = (unsigned char)(h & 255);
    raw[2 + 2 * h] = (unsigned char)(h >> 8);
  }
  /* the scalar converter, the portable block path, and the dispatcher */
  rill__dq_f16_portable(raw + 1, a, 65536);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_F16, raw + 1,
                                        sizeof raw - 1, b, 65536),
                   RILL_OK);
  for (h = 0; h < 65536; h++) {
    uint32_t want = ref_half_bits((uint16_t)h);
    uint32_t s = fbits(rill_f16_to_f32((uint16_t)h));
    uint32_t inl = fbits(rill__f16_decode((uint16_t)h));
    if ((s != want || fbits(a[h]) != want || fbits(b[h]) != want ||
         inl != want) &&
        bad++ < 5)
      print_error("half 0x%04x: want 0x%08x, scalar 0x%08x, inline 0x%08x, "
                  "portable 0x%08x, dispatched 0x%08x\n",
                  h, want, s, inl, fbits(a[h]), fbits(b[h]));
  }
  assert_int_equal(bad, 0);
  if (f16c) {
    /* every length 0..40 from every start, to cover the vector body and
     * the scalar tail */
    size_t n, at;
    f16c(raw + 1, b, 65536);
    assert_memory_equal(a, b, sizeof a);
    for (n = 0; n <= 40; n++)
      for (at = 0; at < 4; at++) {
        float c[48];
        memset(c, 0x5a, sizeof c);
        f16c(raw + 1 + 2 * (65536 - 48) + 2 * at, c, n);
        assert_memory_equal(c, a + 65536 - 48 + at, n * sizeof(float));
        assert_int_equal(fbits(c[n]), 0x5a5a5a5au);
      }
  } else {
    print_message("F16C path not available on this CPU: portable only\n");
  }
}

static void test_bf16(void **state) {
  static unsigned char raw[2 * 65536 + 3];
  static float out[65536];
  static const struct {
    uint16_t h;
    uint32_t bits;
  } samples[] = {
      {0x0000, 0x00000000u}, {0x8000, 0x80000000u}, {0x3f80, 0x3f800000u},
      {0xc000, 0xc0000000u}, {0x7f7f, 0x7f7f0000u}, {0x0001, 0x00010000u},
      {0x7f80, 0x7f800000u}, {0xff80, 0xff800000u}, {0x7fc0, 0x7fc00000u},
      {0x7f81, 0x7f810000u}, {0xffff, 0xffff0000u}, {0x3eab, 0x3eab0000u}};
  size_t i;
  uint32_t h;
  (void)state;
  for (i = 0; i < sizeof samples / sizeof samples[0]; i++)
    assert_int_equal(fbits(rill_bf16_to_f32(samples[i].h)), samples[i].bits);
  for (h = 0; h < 65536; h++) {
    raw[3 + 2 * h] = (unsigned char)(h & 255);
    raw[4 + 2 * h] = (unsigned char)(h >> 8);
  }
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_BF16, raw + 3,
                                        sizeof raw - 3, out, 65536),
                   RILL_OK);
  for (h = 0; h < 65536; h++) {
    double r = ref_bf16((uint16_t)h);
    if (r != r) { /* NaN: payload kept, sign too */
      assert_int_equal(fbits(out[h]), h << 16);
      assert_int_equal(fbits(rill_bf16_to_f32((uint16_t)h)), h << 16);
    } else {
      assert_int_equal(fbits(out[h]), fbits((float)r));
      assert_int_equal(fbits(rill_bf16_to_f32((uint16_t)h)), fbits((float)r));
    }
  }
}

static void test_f32(void **state) {
  unsigned char raw[4 * 1000 + 1];
  float out[1001];
  uint32_t want[1000];
  size_t i;
  (void)state;
  rng_state = 42;
  for (i = 0; i < 1000; i++) {
    want[i] = i < 4 ? (uint32_t[]){0x7f800001u, 0xffc00000u, 0x80000000u,
                                   0x00000001u}[i]
                    : (uint32_t)rng();
    raw[1 + 4 * i] = (unsigned char)want[i];
    raw[2 + 4 * i] = (unsigned char)(want[i] >> 8);
    raw[3 + 4 * i] = (unsigned char)(want[i] >> 16);
    raw[4 + 4 * i] = (unsigned char)(want[i] >> 24);
  }
  memset(out, 0x77, sizeof out);
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_F32, raw + 1, 4000, out, 1000),
      RILL_OK);
  for (i = 0; i < 1000; i++) /* bit for bit: NaN payloads survive */
    assert_int_equal(fbits(out[i]), want[i]);
  assert_int_equal(fbits(out[1000]), 0x77777777u);
}

/* ---- arguments and the type table --------------------------------------- */

static void test_errors(void **state) {
  static unsigned char src[292 * 4 + 64];
  static float dst[1024 + 64];
  static const int unknown[] = {-1, 4, 5, 16, 17, 29, 31, 39, 40, 1000};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_int_equal(rill_gguf_dequantize(unknown[i], src, sizeof src, dst, 1),
                     RILL_E_UNSUPPORTED);
    assert_int_equal(rill_gguf_dequantize(unknown[i], NULL, 0, NULL, 0),
                     RILL_E_UNSUPPORTED);
  }
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_Q8_1, src, sizeof src, dst, 32),
      RILL_E_UNSUPPORTED);
  for (i = 0; i < N_QTYPES; i++) {
    const qtype *t = &qtypes[i];
    size_t n = (size_t)t->elems, need = (size_t)t->bytes;
    /* n = 0: nothing to do, whatever the pointers */
    assert_int_equal(rill_gguf_dequantize(t->type, NULL, 0, NULL, 0), RILL_OK);
    assert_int_equal(rill_gguf_dequantize(t->type, src, need, dst, n), RILL_OK);
    assert_int_equal(rill_gguf_dequantize(t->type, src, need - 1, dst, n),
                     RILL_E_INVALID);
    assert_int_equal(
        rill_gguf_dequantize(t->type, src, 3 * need - 1, dst, 3 * n),
        RILL_E_INVALID);
    assert_int_equal(rill_gguf_dequantize(t->type, src, sizeof src, dst, n + 1),
                     RILL_E_INVALID);
    assert_int_equal(rill_gguf_dequantize(t->type, src, sizeof src, dst, n / 2),
                     RILL_E_INVALID);
    assert_int_equal(rill_gguf_dequantize(t->type, NULL, need, dst, n),
                     RILL_E_INVALID);
    assert_int_equal(rill_gguf_dequantize(t->type, src, need, NULL, n),
                     RILL_E_INVALID);
    /* a length whose byte count overflows */
    assert_int_equal(
        rill_gguf_dequantize(t->type, src, SIZE_MAX, dst,
                             SIZE_MAX / (size_t)t->elems * (size_t)t->elems),
        RILL_E_INVALID);
    /* overlapping buffers */
    assert_int_equal(
        rill_gguf_dequantize(t->type, (unsigned char *)dst + 8, need, dst, n),
        RILL_E_INVALID);
  }
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_F32, src, 3, dst, 1),
                   RILL_E_INVALID);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_F16, src, 1, dst, 1),
                   RILL_E_INVALID);
  assert_int_equal(rill_gguf_dequantize(RILL_GGUF_TYPE_F16, src, SIZE_MAX, dst,
                                        SIZE_MAX / 2 + 1),
                   RILL_E_INVALID);
  /* overlap at both edges, and just clear of it (8 floats from 32 bytes) */
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_F32, dst + 7, 32, dst, 8),
      RILL_E_INVALID);
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_F32, dst + 8, 32, dst, 8), RILL_OK);
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_F32, dst, 32, dst + 8, 8), RILL_OK);
  assert_int_equal(
      rill_gguf_dequantize(RILL_GGUF_TYPE_F32, dst + 1, 32, dst + 8, 8),
      RILL_E_INVALID);
}

static void test_type_table(void **state) {
  static const struct {
    int type;
    const char *name;
    uint32_t elems, bytes;
  } want[] = {
      {0, "F32", 1, 4},       {1, "F16", 1, 2},       {2, "Q4_0", 32, 18},
      {3, "Q4_1", 32, 20},    {6, "Q5_0", 32, 22},    {7, "Q5_1", 32, 24},
      {8, "Q8_0", 32, 34},    {9, "Q8_1", 32, 36},    {10, "Q2_K", 256, 84},
      {11, "Q3_K", 256, 110}, {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
      {14, "Q6_K", 256, 210}, {15, "Q8_K", 256, 292}, {30, "BF16", 1, 2}};
  size_t i;
  int id;
  uint64_t bytes;
  (void)state;
  for (i = 0; i < sizeof want / sizeof want[0]; i++) {
    uint32_t e = 0, b = 0;
    assert_string_equal(rill_gguf_type_name(want[i].type), want[i].name);
    assert_int_equal(rill_gguf_type_block(want[i].type, &e, &b), RILL_OK);
    assert_int_equal(e, want[i].elems);
    assert_int_equal(b, want[i].bytes);
    assert_int_equal(rill_gguf_type_block(want[i].type, NULL, NULL), RILL_OK);
    assert_int_equal(rill_gguf_row_bytes(want[i].type, 0, &bytes), RILL_OK);
    assert_int_equal(bytes, 0);
    assert_int_equal(
        rill_gguf_row_bytes(want[i].type, 3ull * want[i].elems, &bytes),
        RILL_OK);
    assert_int_equal(bytes, 3ull * want[i].bytes);
    assert_int_equal(rill_gguf_row_bytes(want[i].type, want[i].elems, NULL),
                     RILL_E_INVALID);
    if (want[i].elems > 1) {
      assert_int_equal(
          rill_gguf_row_bytes(want[i].type, want[i].elems + 1ull, &bytes),
          RILL_E_INVALID);
      assert_int_equal(
          rill_gguf_row_bytes(want[i].type, want[i].elems / 2, &bytes),
          RILL_E_INVALID);
    }
    /* Overflow: only types of at least a byte per element can get there
     * (Q4_0's largest whole-block count still fits in 64 bits). */
    if (want[i].bytes >= want[i].elems) {
      uint64_t most = UINT64_MAX / want[i].bytes;
      assert_int_equal(
          rill_gguf_row_bytes(want[i].type, (most + 1) * want[i].elems, &bytes),
          RILL_E_LIMIT);
      assert_int_equal(
          rill_gguf_row_bytes(want[i].type, most * want[i].elems, &bytes),
          RILL_OK);
      assert_true(bytes == most * want[i].bytes);
    } else {
      uint64_t blocks = UINT64_MAX / want[i].elems;
      assert_int_equal(
          rill_gguf_row_bytes(want[i].type, blocks * want[i].elems, &bytes),
          RILL_OK);
      assert_true(bytes == blocks * want[i].bytes);
    }
  }
  assert_int_equal(rill_gguf_row_bytes(RILL_GGUF_TYPE_Q4_K, 4096, &bytes),
                   RILL_OK);
  assert_int_equal(bytes, 2304);
  assert_int_equal(rill_gguf_row_bytes(RILL_GGUF_TYPE_Q8_0, 768, &bytes),
                   RILL_OK);
  assert_int_equal(bytes, 816);
  for (id = -2; id < 64; id++) {
    int known = 0;
    uint32_t e = 7, b = 7;
    for (i = 0; i < sizeof want / sizeof want[0]; i++)
      known |= want[i].type == id;
    if (known)
      continue;
    assert_null(rill_gguf_type_name(id));
    assert_int_equal(rill_gguf_type_block(id, &e, &b), RILL_E_UNSUPPORTED);
    assert_int_equal(e, 7);
    assert_int_equal(rill_gguf_row_bytes(id, 32, &bytes), RILL_E_UNSUPPORTED);
  }
}

/* ---- block sizes the library and the layouts agree on ------------------- */

static void test_layout_sizes(void **state) {
  size_t i;
  (void)state;
  for (i = 0; i < N_QTYPES; i++) {
    uint32_t e, b;
    assert_int_equal(rill_gguf_type_block(qtypes[i].type, &e, &b), RILL_OK);
    assert_int_equal(e, qtypes[i].elems);
    assert_int_equal(b, qtypes[i].bytes);
    assert_string_equal(rill_gguf_type_name(qtypes[i].type), qtypes[i].name);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_layout_sizes),
      cmocka_unit_test(test_quant_known_answers),
      cmocka_unit_test(test_quant_edges),
      cmocka_unit_test(test_quant_scale_extremes),
      cmocka_unit_test(test_quant_random),
      cmocka_unit_test(test_f16_all),
      cmocka_unit_test(test_bf16),
      cmocka_unit_test(test_f32),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_type_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
