/*
 * test_kernels.c — the embedder's matrix kernels (src/embed/kernels*.c).
 *
 * For every weight type: random but valid weights (random bytes with sane
 * f16 scale fields, or random floats for F32/F16) and random activations.
 *   (a) the scalar path against a float64 reference built from
 *       rill_gguf_dequantize'd weight rows and the converted activations
 *       decoded here (so exactly the math the kernels claim);
 *   (b) each SIMD path against the reference and against the scalar path
 *       (they may differ only in float summation order); a path the CPU
 *       lacks is reported as SKIPPED, never passed silently;
 *   (c) every output subrange [o0, o1) and odd token counts, with rows
 *       and tokens that are not multiples of the tiles, and a run that
 *       crosses the token chunks: results identical to the full run, and
 *       nothing outside the range written;
 *   (d) the activation conversions against independent formulas (libm
 *       rintf, a double-precision half rounding, F16C where present),
 *       including all-zero blocks, huge values and negative maxima.
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

#include "embed/cpu.h"
#include "embed/kernels.h"
#include "embed/kernels_impl.h"
#include "rill/gguf.h"

/* ---- random numbers -------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next64(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float unif(void) {
  return (float)((double)(next64() >> 11) * 0x1p-52 - 1.0);
}

/* Roughly normal, with an occasional outlier like real activations. */
static float act_value(void) {
  float s = unif() + unif() + unif();
  if ((next64() & 63) == 0)
    s *= 20.0f;
  return s;
}

/* ---- an independent half conversion ----------------------------------- */

/* Round to the nearest half in double (ties to even through nearbyint),
 * from the IEEE definition: 11 significant bits, exponent >= -14. */
static double half_round(double v) {
  double a = fabs(v), q, r;
  int e;
  if (isnan(v))
    return v;
  if (a == 0.0)
    return v;
  e = ilogb(a);
  if (e < -14)
    e = -14;
  q = ldexp(1.0, e - 10);
  r = nearbyint(a / q) * q;
  if (r >= 65520.0 || isinf(a))
    r = INFINITY;
  return v < 0 ? -r : r;
}

static uint16_t le16(const unsigned char *p) {
  return (uint16_t)(p[0] | p[1] << 8);
}
static float h16(const unsigned char *p) {
  return rill_f16_to_f32(le16(p));
}
static void put_h16(unsigned char *p, float v) {
  uint16_t h = rill__f32_to_f16(v);
  p[0] = (unsigned char)(h & 0xff);
  p[1] = (unsigned char)(h >> 8);
}

/* ---- weight types -------------------------------------------------------- */

typedef struct wtype {
  int type;
  const char *name;
  size_t elems, bytes;
  int scale_off[2]; /* f16 scale fields per block (-1: none) */
  int min_off;      /* f16 minimum combined with Q8_1's s (-1: none) */
} wtype;

static const wtype types[] = {
    {RILL_GGUF_TYPE_F32, "F32", 1, 4, {-1, -1}, -1},
    {RILL_GGUF_TYPE_F16, "F16", 1, 2, {-1, -1}, -1},
    {RILL_GGUF_TYPE_Q4_0, "Q4_0", 32, 18, {0, -1}, -1},
    {RILL_GGUF_TYPE_Q4_1, "Q4_1", 32, 20, {0, 2}, 2},
    {RILL_GGUF_TYPE_Q5_0, "Q5_0", 32, 22, {0, -1}, -1},
    {RILL_GGUF_TYPE_Q5_1, "Q5_1", 32, 24, {0, 2}, 2},
    {RILL_GGUF_TYPE_Q8_0, "Q8_0", 32, 34, {0, -1}, -1},
    {RILL_GGUF_TYPE_Q4_K, "Q4_K", 256, 144, {0, 2}, -1},
    {RILL_GGUF_TYPE_Q5_K, "Q5_K", 256, 176, {0, 2}, -1},
    {RILL_GGUF_TYPE_Q6_K, "Q6_K", 256, 210, {208, -1}, -1},
};
#define NTYPES (sizeof types / sizeof types[0])

/* Random bytes, then every f16 field set to a finite scale of either
 * sign (small enough that a row's sum stays far from overflow). */
static unsigned char *make_weights(const wtype *wt, size_t in, size_t out,
                                   size_t *row_bytes) {
  size_t nb = in / wt->elems, rb = nb * wt->bytes, o, b, i;
  unsigned char *w = malloc(rb * out + 1);
  assert_non_null(w);
  *row_bytes = rb;
  for (i = 0; i < rb * out; i++)
    w[i] = (unsigned char)next64();
  for (o = 0; o < out; o++)
    for (b = 0; b < nb; b++) {
      unsigned char *blk = w + o * rb + b * wt->bytes;
      if (wt->type == RILL_GGUF_TYPE_F32) {
        float v = unif();
        memcpy(blk, &v, 4);
      } else if (wt->type == RILL_GGUF_TYPE_F16) {
        put_h16(blk, unif());
      }
      for (i = 0; i < 2; i++)
        if (wt->scale_off[i] >= 0)
          put_h16(blk + wt->scale_off[i], unif() * 0.05f);
    }
  return w;
}

/* ---- the converted activations, decoded here -------------------------- */

/* Values of a converted row, and for Q8_1 the per-block s and sum(q). */
static void decode_act(int type, const unsigned char *a, size_t in,
                       double *v, double *s, double *dsum) {
  int p = rill__kernels_partner(type);
  size_t i, b;
  for (i = 0; i < in; i++) {
    if (p == RILL_GGUF_TYPE_F32 || p == RILL_GGUF_TYPE_F16) {
      float f;
      memcpy(&f, a + 4 * i, 4);
      v[i] = f;
    } else if (p == RILL_GGUF_TYPE_Q8_0) {
      const unsigned char *blk = a + (i / 32) * RILL__Q8_0_BYTES;
      v[i] = (double)h16(blk) * (int8_t)blk[2 + i % 32];
    } else if (p == RILL_GGUF_TYPE_Q8_1) {
      const unsigned char *blk = a + (i / 32) * RILL__Q8_1_BYTES;
      v[i] = (double)h16(blk) * (int8_t)blk[4 + i % 32];
    } else {
      const unsigned char *blk = a + (i / 256) * RILL__Q8_K_BYTES;
      float d;
      memcpy(&d, blk, 4);
      v[i] = (double)d * (int8_t)blk[4 + i % 256];
    }
  }
  if (p == RILL_GGUF_TYPE_Q8_1)
    for (b = 0; b < in / 32; b++) {
      const unsigned char *blk = a + b * RILL__Q8_1_BYTES;
      s[b] = h16(blk + 2);
      dsum[b] = 0;
      for (i = 0; i < 32; i++)
        dsum[b] += v[32 * b + i];
    }
}

/* ---- reference matmul --------------------------------------------------- */

typedef struct problem {
  const wtype *wt;
  size_t in, out, n_tok, row_bytes, act_bytes;
  unsigned char *w, *act;
  double *ref, *abssum;
} problem;

static void problem_make(problem *p, const wtype *wt, size_t in, size_t out,
                         size_t n_tok) {
  const rill__kernels *k = rill__kernels_get(1);
  float *x = malloc(in * sizeof *x), *wrow = malloc(in * sizeof *wrow);
  double *av = malloc(in * sizeof *av);
  double *s = malloc((in / 32 + 1) * sizeof *s);
  double *dsum = malloc((in / 32 + 1) * sizeof *dsum);
  size_t t, o, i;
  assert_true(x && wrow && av && s && dsum);
  memset(p, 0, sizeof *p);
  p->wt = wt;
  p->in = in;
  p->out = out;
  p->n_tok = n_tok;
  p->w = make_weights(wt, in, out, &p->row_bytes);
  p->act_bytes = k->act_row_bytes(wt->type, in);
  assert_true(p->act_bytes > 0);
  p->act = malloc(p->act_bytes * n_tok);
  p->ref = calloc(out * n_tok, sizeof *p->ref);
  p->abssum = calloc(out * n_tok, sizeof *p->abssum);
  assert_true(p->act && p->ref && p->abssum);
  for (t = 0; t < n_tok; t++) {
    for (i = 0; i < in; i++)
      x[i] = act_value();
    if (t == 1) /* an all-zero token */
      memset(x, 0, in * sizeof *x);
    k->act_convert(wt->type, x, in, p->act + t * p->act_bytes);
  }
  for (o = 0; o < out; o++) {
    const unsigned char *wr = p->w + o * p->row_bytes;
    assert_int_equal(rill_gguf_dequantize(wt->type, wr, p->row_bytes, wrow,
                                          in),
                     0);
    for (t = 0; t < n_tok; t++) {
      double r = 0, a = 0;
      decode_act(wt->type, p->act + t * p->act_bytes, in, av, s, dsum);
      for (i = 0; i < in; i++) {
        r += (double)wrow[i] * av[i];
        a += fabs((double)wrow[i] * av[i]);
      }
      /* Q4_1/Q5_1: the minimum meets s (an f16 of d*sum(q) computed
       * before d was rounded), not the decoded activations' sum. */
      if (wt->min_off >= 0) {
        size_t b;
        for (b = 0; b < in / 32; b++) {
          double m = h16(wr + b * wt->bytes + wt->min_off);
          r += m * (s[b] - dsum[b]);
          a += fabs(m * s[b]);
        }
      }
      p->ref[t * out + o] = r;
      p->abssum[t * out + o] = a;
    }
  }
  free(x);
  free(wrow);
  free(av);
  free(s);
  free(dsum);
}

static void problem_free(problem *p) {
  free(p->w);
  free(p->act);
  free(p->ref);
  free(p->abssum);
}

/* Float rounding allowed relative to sum |w a|: one rounding per block
 * scale and sum, plus a float sum over the blocks (or, for F32/F16 in
 * SIMD, over in/8 lane terms). */
static double tolerance(const problem *p, int simd) {
  size_t terms = p->in / p->wt->elems;
  if (p->wt->elems == 1)
    terms = simd ? p->in / 8 + 8 : 2;
  return (double)(terms + 8) * 0x1p-23;
}

static void run(const rill__kernels *k, const problem *p, size_t o0,
                size_t o1, float *y, size_t ldy) {
  rill__wmat m;
  m.data = p->w;
  m.type = p->wt->type;
  m.in = p->in;
  m.out = p->out;
  m.row_bytes = p->row_bytes;
  k->matmul(&m, p->act, p->act_bytes, p->n_tok, o0, o1, y, ldy);
}

static void check_against_ref(const rill__kernels *k, const problem *p,
                              const float *y, int simd) {
  double tol = tolerance(p, simd);
  size_t t, o;
  for (t = 0; t < p->n_tok; t++)
    for (o = 0; o < p->out; o++) {
      double r = p->ref[t * p->out + o], a = p->abssum[t * p->out + o];
      double d = fabs((double)y[t * p->out + o] - r);
      if (!(d <= tol * a + 1e-30)) {
        print_error("%s %s in %zu tok %zu row %zu: got %.9g want %.9g "
                    "(|diff| %.3g > %.3g)\n",
                    k->name, p->wt->name, p->in, t, o, y[t * p->out + o], r,
                    d, tol * a);
        fail();
      }
    }
}

/* ---- (a) scalar vs float64, (b) SIMD vs both --------------------------- */

static const size_t shapes[][3] = {
    /* in (legacy), in (K), out, n_tok */
    {96, 256, 13}, {160, 512, 8}, {768, 768, 5}};

static void check_path(const rill__kernels *k) {
  const rill__kernels *ref = rill__kernels_get(1);
  size_t ti, si;
  for (ti = 0; ti < NTYPES; ti++)
    for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
      const wtype *wt = &types[ti];
      size_t in = wt->elems == 256 ? shapes[si][1] : shapes[si][0];
      size_t out = shapes[si][2], n_tok = 7, i;
      problem p;
      float *y, *ys;
      if (wt->elems == 1)
        in += si; /* F32/F16: rows of any length, not just multiples of 8 */
      problem_make(&p, wt, in, out, n_tok);
      y = malloc(out * n_tok * sizeof *y);
      ys = malloc(out * n_tok * sizeof *ys);
      assert_true(y && ys);
      run(k, &p, 0, out, y, out);
      check_against_ref(k, &p, y, k != ref);
      if (k != ref) {
        double tol = 2 * tolerance(&p, 1);
        run(ref, &p, 0, out, ys, out);
        for (i = 0; i < out * n_tok; i++)
          if (!(fabs((double)y[i] - ys[i]) <= tol * p.abssum[i] + 1e-30)) {
            print_error("%s vs scalar %s in %zu [%zu]: %.9g vs %.9g\n",
                        k->name, wt->name, in, i, y[i], ys[i]);
            fail();
          }
      }
      free(y);
      free(ys);
      problem_free(&p);
    }
}

static void test_scalar_vs_f64(void **state) {
  (void)state;
  check_path(rill__kernels_get(1));
}

static void simd_or_skip(const rill__kernels *k, const char *what) {
  if (!k) {
    print_message("SKIPPED: this CPU lacks %s; its kernels were NOT "
                  "tested\n",
                  what);
    skip();
  }
  check_path(k);
}

static void test_avx2_vs_scalar(void **state) {
  (void)state;
  simd_or_skip(rill__kernels_avx2(), "AVX2+FMA+F16C");
}

static void test_avx512_vs_scalar(void **state) {
  (void)state;
  simd_or_skip(rill__kernels_avx512(), "AVX-512 F/BW/VL/VNNI");
}

static void test_dispatch(void **state) {
  const rill__kernels *k = rill__kernels_get(0);
  size_t ti;
  (void)state;
  assert_string_equal(rill__kernels_get(1)->name, "scalar");
  print_message("dispatch picks '%s' (cpu features 0x%x)\n", k->name,
                rill__cpu_features());
  if (rill__kernels_avx512())
    assert_string_equal(k->name, "avx512");
  else if (rill__kernels_avx2())
    assert_string_equal(k->name, "avx2");
  for (ti = 0; ti < NTYPES; ti++)
    assert_true(rill__kernels_supports(types[ti].type));
  assert_false(rill__kernels_supports(RILL_GGUF_TYPE_Q2_K));
  assert_false(rill__kernels_supports(RILL_GGUF_TYPE_Q3_K));
  assert_false(rill__kernels_supports(RILL_GGUF_TYPE_BF16));
  assert_false(rill__kernels_supports(RILL_GGUF_TYPE_Q8_K));
  assert_false(rill__kernels_supports(-1));
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q2_K, 256), 0);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q4_0, 48), 0);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q4_K, 768 + 32), 0);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q4_0, 64), 68);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q5_1, 64), 72);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_Q6_K, 512), 584);
  assert_int_equal(k->act_row_bytes(RILL_GGUF_TYPE_F16, 5), 20);
}

/* ---- (c) subranges, odd token counts, chunk crossing -------------------- */

#define SENTINEL 12345.0f

static void check_subranges(const rill__kernels *k) {
  static const size_t toks[] = {1, 2, 3, 7, 17};
  size_t ti, ni;
  for (ti = 0; ti < NTYPES; ti++)
    for (ni = 0; ni < sizeof toks / sizeof toks[0]; ni++) {
      const wtype *wt = &types[ti];
      size_t in = wt->elems == 1 ? 37 : wt->elems * 2, out = 11;
      size_t n_tok = toks[ni], ldy = out + 3, o0, o1, t, o;
      problem p;
      float *full, *y;
      problem_make(&p, wt, in, out, n_tok);
      full = malloc(ldy * n_tok * sizeof *full);
      y = malloc(ldy * n_tok * sizeof *y);
      assert_true(full && y);
      run(k, &p, 0, out, full, ldy);
      for (o0 = 0; o0 < out; o0++)
        for (o1 = o0 + 1; o1 <= out; o1++) {
          for (t = 0; t < ldy * n_tok; t++)
            y[t] = SENTINEL;
          run(k, &p, o0, o1, y, ldy);
          for (t = 0; t < n_tok; t++)
            for (o = 0; o < ldy; o++) {
              float want = o >= o0 && o < o1 ? full[t * ldy + o] : SENTINEL;
              if (memcmp(&y[t * ldy + o], &want, sizeof want) != 0) {
                print_error("%s %s n_tok %zu range [%zu,%zu) tok %zu out "
                            "%zu: %.9g, want %.9g\n",
                            k->name, wt->name, n_tok, o0, o1, t, o,
                            y[t * ldy + o], want);
                fail();
              }
            }
        }
      /* Empty range: nothing written. */
      for (t = 0; t < ldy * n_tok; t++)
        y[t] = SENTINEL;
      run(k, &p, 4, 4, y, ldy);
      for (t = 0; t < ldy * n_tok; t++)
        assert_true(y[t] == SENTINEL);
      free(full);
      free(y);
      problem_free(&p);
    }
}

/* Rows so long that a token chunk holds the minimum of 16: 37 tokens
 * cross two chunk boundaries. Checked against the float64 reference. */
static void check_chunks(const rill__kernels *k) {
  static const int ty[] = {RILL_GGUF_TYPE_F32, RILL_GGUF_TYPE_Q8_0,
                           RILL_GGUF_TYPE_Q6_K};
  size_t i, ti;
  for (i = 0; i < 3; i++)
    for (ti = 0; ti < NTYPES; ti++)
      if (types[ti].type == ty[i]) {
        size_t in = types[ti].elems == 1 ? 16384 + 3 : 16384;
        problem p;
        float *y;
        problem_make(&p, &types[ti], in, 3, 37);
        assert_true(rill__kernels_tok_chunk(p.act_bytes) < 37 / 2);
        y = malloc(3 * 37 * sizeof *y);
        assert_non_null(y);
        run(k, &p, 0, 3, y, 3);
        check_against_ref(k, &p, y, 1);
        free(y);
        problem_free(&p);
      }
}

static void test_subranges(void **state) {
  const rill__kernels *paths[3];
  size_t i, n = 0;
  (void)state;
  paths[n++] = rill__kernels_get(1);
  if (rill__kernels_avx2())
    paths[n++] = rill__kernels_avx2();
  else
    print_message("SKIPPED for avx2: CPU lacks AVX2+FMA+F16C\n");
  if (rill__kernels_avx512())
    paths[n++] = rill__kernels_avx512();
  else
    print_message("SKIPPED for avx512: CPU lacks AVX-512 F/BW/VL/VNNI\n");
  for (i = 0; i < n; i++) {
    check_subranges(paths[i]);
    check_chunks(paths[i]);
  }
}

/* ---- (d) activation conversions ----------------------------------------- */

static void fill_case(float *x, size_t n, int c) {
  size_t i;
  for (i = 0; i < n; i++)
    x[i] = act_value();
  switch (c) {
  case 0: /* all zero */
    memset(x, 0, n * sizeof *x);
    break;
  case 1: /* the largest magnitude is negative */
    x[n / 3] = -40.0f;
    break;
  case 2: /* huge: the f16 scale overflows to infinity */
    for (i = 0; i < n; i++)
      x[i] *= 1e30f;
    break;
  case 3: /* a tie between +max and -max, the negative first */
    x[2] = -8.0f;
    x[n - 1] = 8.0f;
    break;
  case 4: /* a tiny block with subnormal half scale */
    for (i = 0; i < n; i++)
      x[i] *= 1e-7f;
    break;
  case 5: /* exact halves of the step: ties to even */
    for (i = 0; i < n; i++)
      x[i] = (float)((int)(i % 64) - 31) * 0.5f;
    x[0] = 127.0f;
    break;
  default:
    break;
  }
}

static void test_convert_q8_0_q8_1(void **state) {
  float x[256];
  unsigned char got[8 * RILL__Q8_1_BYTES];
  int c, one;
  size_t b, j;
  (void)state;
  for (one = 0; one < 2; one++)
    for (c = 0; c < 8; c++) {
      int type = one ? RILL_GGUF_TYPE_Q4_1 : RILL_GGUF_TYPE_Q4_0;
      size_t bb = one ? RILL__Q8_1_BYTES : RILL__Q8_0_BYTES, qo = one ? 4 : 2;
      fill_case(x, 256, c);
      rill__kernels_get(0)->act_convert(type, x, 256, got);
      for (b = 0; b < 8; b++) {
        const unsigned char *blk = got + b * bb;
        float amax = 0, d, id;
        int sum = 0;
        for (j = 0; j < 32; j++)
          amax = fmaxf(amax, fabsf(x[32 * b + j]));
        d = amax / 127.f;
        id = amax != 0 ? 127.f / amax : 0.f;
        assert_true((float)half_round(d) == h16(blk) ||
                    (isnan(half_round(d)) && isnan(h16(blk))));
        for (j = 0; j < 32; j++) {
          int q = (int)rintf(x[32 * b + j] * id);
          assert_int_equal((int8_t)blk[qo + j], q);
          sum += q;
        }
        if (one)
          assert_true((float)half_round(d * (float)sum) == h16(blk + 2));
      }
    }
}

static void test_convert_q8_k(void **state) {
  float x[512];
  unsigned char got[2 * RILL__Q8_K_BYTES];
  int c;
  size_t b, j;
  (void)state;
  for (c = 0; c < 8; c++) {
    fill_case(x, 512, c);
    rill__kernels_get(0)->act_convert(RILL_GGUF_TYPE_Q6_K, x, 512, got);
    for (b = 0; b < 2; b++) {
      const unsigned char *blk = got + b * RILL__Q8_K_BYTES;
      const float *xb = x + 256 * b;
      float max = 0, amax = 0, d;
      int16_t bs[16] = {0};
      for (j = 0; j < 256; j++)
        if (fabsf(xb[j]) > amax) {
          amax = fabsf(xb[j]);
          max = xb[j];
        }
      memcpy(&d, blk, 4);
      if (amax == 0) {
        for (j = 0; j < RILL__Q8_K_BYTES; j++)
          assert_int_equal(blk[j], 0);
        continue;
      }
      {
        float iscale = -127.f / max;
        assert_true(d == 1.f / iscale);
        for (j = 0; j < 256; j++) {
          int q = (int)rintf(iscale * xb[j]);
          if (q > 127)
            q = 127;
          assert_int_equal((int8_t)blk[4 + j], q);
          bs[j / 16] = (int16_t)(bs[j / 16] + q);
        }
      }
      for (j = 0; j < 16; j++)
        assert_int_equal((int16_t)le16(blk + 260 + 2 * j), bs[j]);
      /* The largest magnitude always maps to -127: d takes the sign
       * opposite to it. */
      if (c == 1 && b == 0)
        assert_true(d > 0 && (int8_t)blk[4 + 512 / 3] == -127);
    }
  }
}

/* Every SIMD path converts to the same bytes as the scalar reference. */
static void test_convert_paths_identical(void **state) {
  static const int ctypes[] = {RILL_GGUF_TYPE_F16, RILL_GGUF_TYPE_Q8_0,
                               RILL_GGUF_TYPE_Q4_1, RILL_GGUF_TYPE_Q6_K};
  const rill__kernels *paths[2];
  float x[1024];
  unsigned char want[4 * 1024], got[4 * 1024];
  size_t i, t, k;
  int c;
  (void)state;
  paths[0] = rill__kernels_avx2();
  paths[1] = rill__kernels_avx512();
  for (c = 0; c < 9; c++) {
    if (c < 8)
      fill_case(x, 1024, c);
    else
      for (i = 0; i < 1024; i++)
        x[i] = act_value() * (i % 7 == 0 ? 1e3f : 1.0f);
    for (t = 0; t < sizeof ctypes / sizeof ctypes[0]; t++) {
      size_t nb = rill__act_row_bytes(ctypes[t], 1024);
      rill__kernels_scalar.act_convert(ctypes[t], x, 1024, want);
      for (k = 0; k < 2; k++) {
        if (!paths[k])
          continue;
        memset(got, 0xa5, sizeof got);
        paths[k]->act_convert(ctypes[t], x, 1024, got);
        assert_memory_equal(want, got, nb);
      }
    }
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
__attribute__((target("f16c"))) static uint16_t hw_f16(float f) {
  return (uint16_t)_cvtss_sh(f, 0);
}
#endif

static void test_convert_f16(void **state) {
  static const float edge[] = {0.0f,     -0.0f,    65504.0f, 65519.99f,
                               65520.0f, -65520.f, 1e-8f,    -3e-8f,
                               6.1e-5f,  5.96e-8f, 2.98e-8f, 2.99e-8f,
                               1.0f,     1.00049f, 1.000489f, INFINITY,
                               -INFINITY, 1e30f};
  float x[64], y[64];
  size_t i, n;
  int hw = (rill__cpu_features() & RILL__CPU_F16C) != 0;
  (void)state;
  for (i = 0; i < sizeof edge / sizeof edge[0]; i++) {
    double r = half_round(edge[i]);
    assert_true(rill_f16_to_f32(rill__f32_to_f16(edge[i])) == (float)r);
    assert_true(signbit(rill_f16_to_f32(rill__f32_to_f16(edge[i]))) ==
                signbit(edge[i]));
  }
  if (!hw)
    print_message("F16C absent: f32->f16 checked against the double "
                  "formula only\n");
  for (n = 0; n < 2000000; n++) {
    uint32_t u = (uint32_t)next64();
    float f;
    uint16_t h;
    memcpy(&f, &u, 4);
    h = rill__f32_to_f16(f);
    if (isnan(f)) {
      assert_true(isnan(rill_f16_to_f32(h)));
    } else {
      assert_true(rill_f16_to_f32(h) == (float)half_round(f));
    }
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (hw)
      assert_int_equal(h, hw_f16(f));
#endif
  }
  for (i = 0; i < 64; i++)
    x[i] = act_value() * (i & 1 ? 1e4f : 1e-5f);
  rill__kernels_get(0)->act_convert(RILL_GGUF_TYPE_F16, x, 64, y);
  for (i = 0; i < 64; i++)
    assert_true(y[i] == (float)half_round(x[i]));
  rill__kernels_get(0)->act_convert(RILL_GGUF_TYPE_F32, x, 64, y);
  assert_memory_equal(x, y, sizeof x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dispatch),
      cmocka_unit_test(test_convert_f16),
      cmocka_unit_test(test_convert_q8_0_q8_1),
      cmocka_unit_test(test_convert_q8_k),
      cmocka_unit_test(test_convert_paths_identical),
      cmocka_unit_test(test_scalar_vs_f64),
      cmocka_unit_test(test_avx2_vs_scalar),
      cmocka_unit_test(test_avx512_vs_scalar),
      cmocka_unit_test(test_subranges),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
