/*
 * test_quantize.c — the test-side quantizers (tests/common/quantize.c) that
 * gguf_gen uses to write real models: every block decoded by the library's
 * rill_gguf_dequantize must be within the error bound of its type's scheme
 * (abs-max or min/max, with the stored precision of the scales), and the
 * relative RMS error on gaussian data must be that of a sensible quantizer.
 * Edge inputs: zeros, constant rows, huge and tiny magnitudes, outliers.
 * The half and bfloat16 conversions are checked against every bit pattern.
 * Golden checksums pin the exact bytes: the embedding references in
 * tests/unit/data/embed were computed by llama.cpp on files regenerated
 * from these bytes, so any change to a quantizer invalidates them.
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

#include "quantize.h"
#include "rill/error.h"
#include "rill/gguf.h"

static const int types[] = {
    RILL_GGUF_TYPE_F32,  RILL_GGUF_TYPE_F16,  RILL_GGUF_TYPE_BF16,
    RILL_GGUF_TYPE_Q8_0, RILL_GGUF_TYPE_Q4_0, RILL_GGUF_TYPE_Q4_1,
    RILL_GGUF_TYPE_Q5_0, RILL_GGUF_TYPE_Q5_1, RILL_GGUF_TYPE_Q4_K,
    RILL_GGUF_TYPE_Q5_K, RILL_GGUF_TYPE_Q6_K};
#define NTYPES (sizeof types / sizeof types[0])
#define N 4096 /* elements per test row: 16 K blocks, 128 small blocks */

static uint64_t rng_state;
static uint64_t rng(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
/* Roughly N(0, 1): a sum of four uniforms (Irwin-Hall), exact arithmetic. */
static float gauss(void) {
  uint64_t r = rng();
  int64_t s = (int64_t)(r & 0xFFFF) + (int64_t)(r >> 16 & 0xFFFF) +
              (int64_t)(r >> 32 & 0xFFFF) + (int64_t)(r >> 48) - 131070;
  return (float)s / 37837.0f;
}

static size_t qbytes(int type, size_t n) {
  uint64_t b = 0;
  assert_int_equal(rill_gguf_row_bytes(type, n, &b), RILL_OK);
  return (size_t)b;
}

/* Quantize and decode n elements through the library. */
static void round_trip(int type, const float *x, float *y, size_t n,
                       unsigned char *buf) {
  size_t nb = qbytes(type, n);
  assert_int_equal(q_quantize(type, x, n, buf), 0);
  assert_int_equal(rill_gguf_dequantize(type, buf, nb, y, n), RILL_OK);
}

static float amax_of(const float *x, int n) {
  float a = 0.0f;
  int i;
  for (i = 0; i < n; i++)
    if (fabsf(x[i]) > a)
      a = fabsf(x[i]);
  return a;
}

static void minmax(const float *x, int n, float *mn, float *mx) {
  int i;
  *mn = *mx = x[0];
  for (i = 1; i < n; i++) {
    if (x[i] < *mn)
      *mn = x[i];
    if (x[i] > *mx)
      *mx = x[i];
  }
}

/* Where a block scale falls in the half's subnormal range it is stored to
 * within 2^-24 absolute, and that error is multiplied by the largest
 * factor it meets: quant x sub-scale. */
static double slack(int type) {
  double k;
  switch (type) {
  case RILL_GGUF_TYPE_Q8_0:
    k = 127.0;
    break;
  case RILL_GGUF_TYPE_Q4_0:
  case RILL_GGUF_TYPE_Q4_1:
    k = 16.0;
    break;
  case RILL_GGUF_TYPE_Q5_0:
  case RILL_GGUF_TYPE_Q5_1:
    k = 32.0;
    break;
  case RILL_GGUF_TYPE_Q4_K:
    k = 63.0 * 16.0;
    break;
  case RILL_GGUF_TYPE_Q5_K:
    k = 63.0 * 32.0;
    break;
  case RILL_GGUF_TYPE_Q6_K:
    k = 127.0 * 33.0;
    break;
  default:
    k = 0.0;
  }
  return k / 16777216.0;
}

/*
 * The error each element of the block starting at x may have: the step of
 * the type's scheme (half of it for rounding, all of it where an abs-max
 * scheme clamps the opposite extreme), plus what storing the scales costs:
 * 2^-11 relative for f16 scales, the 6-bit sub-scales of Q4_K/Q5_K (one d
 * and half a dmin), the 8-bit sub-scales of Q6_K (16.5 d), and slack().
 */
static void block_bounds(int type, const float *x, double *bound) {
  int i, j;
  float mn, mx, a;
  double sub = slack(type);
  switch (type) {
  case RILL_GGUF_TYPE_F32:
    bound[0] = 0.0;
    break;
  case RILL_GGUF_TYPE_F16:
    bound[0] = fabs((double)x[0]) * (1.0 / 2048.0) + 3e-8;
    break;
  case RILL_GGUF_TYPE_BF16:
    bound[0] = fabs((double)x[0]) * (1.0 / 256.0) + 1e-38;
    break;
  case RILL_GGUF_TYPE_Q8_0:
    a = amax_of(x, 32);
    for (i = 0; i < 32; i++)
      bound[i] = a / 254.0 * 1.002 + 1e-7 * a + sub;
    break;
  case RILL_GGUF_TYPE_Q4_0:
  case RILL_GGUF_TYPE_Q5_0:
    a = amax_of(x, 32);
    for (i = 0; i < 32; i++)
      bound[i] = a / (type == RILL_GGUF_TYPE_Q4_0 ? 8.0 : 16.0) * 1.002 + sub;
    break;
  case RILL_GGUF_TYPE_Q4_1:
  case RILL_GGUF_TYPE_Q5_1:
    minmax(x, 32, &mn, &mx);
    for (i = 0; i < 32; i++)
      bound[i] = ((double)mx - mn) /
                     (type == RILL_GGUF_TYPE_Q4_1 ? 30.0 : 62.0) * 1.01 +
                 fabs((double)mn) / 1024.0 + sub;
    break;
  case RILL_GGUF_TYPE_Q4_K:
  case RILL_GGUF_TYPE_Q5_K: {
    double top = type == RILL_GGUF_TYPE_Q4_K ? 15.0 : 31.0;
    double r[8], maxr = 0.0, maxo = 0.0, d, dmin;
    for (j = 0; j < 8; j++) {
      minmax(x + 32 * j, 32, &mn, &mx);
      if (mn > 0.0f)
        mn = 0.0f;
      r[j] = (double)mx - mn;
      if (r[j] > maxr)
        maxr = r[j];
      if (-mn > maxo)
        maxo = -mn;
    }
    d = maxr / top / 63.0, dmin = maxo / 63.0;
    for (j = 0; j < 8; j++)
      for (i = 0; i < 32; i++)
        bound[32 * j + i] = (r[j] + dmin / 2.0) / (2.0 * top) + d / 2.0 +
                            dmin / 2.0 + (maxr + maxo) * 2e-3 + sub;
    break;
  }
  case RILL_GGUF_TYPE_Q6_K: {
    double d;
    a = amax_of(x, 256);
    d = a / 32.0 / 127.0;
    for (j = 0; j < 16; j++) {
      float aj = amax_of(x + 16 * j, 16);
      for (i = 0; i < 16; i++)
        bound[16 * j + i] = aj / 32.0 * 1.002 + 16.5 * d * 1.002 + sub;
    }
    break;
  }
  default:
    fail();
  }
}

/* Check every element of x (n) against its bound after a round trip;
 * returns the relative RMS error. */
static double check_row(int type, const float *x, size_t n) {
  unsigned char *buf = malloc(qbytes(type, n) + 1);
  float *y = malloc(n * sizeof *y);
  double bound[256], se = 0.0, sx = 0.0;
  uint32_t be = 1, bb = 1;
  size_t i, k;
  assert_non_null(buf);
  assert_non_null(y);
  assert_int_equal(rill_gguf_type_block(type, &be, &bb), RILL_OK);
  round_trip(type, x, y, n, buf);
  for (i = 0; i < n; i += be) {
    block_bounds(type, x + i, bound);
    for (k = 0; k < be; k++) {
      double e = fabs((double)y[i + k] - x[i + k]);
      if (!(e <= bound[k])) {
        print_error("%s: element %zu: x %.9g y %.9g error %.3g > bound %.3g\n",
                    rill_gguf_type_name(type), i + k, (double)x[i + k],
                    (double)y[i + k], e, bound[k]);
        fail();
      }
      se += e * e;
      sx += (double)x[i + k] * x[i + k];
    }
  }
  free(buf);
  free(y);
  return sx > 0.0 ? sqrt(se / sx) : sqrt(se);
}

/* ---- half and bfloat16 ----------------------------------------------------
 */

static void test_f16_every_pattern(void **state) {
  uint32_t h;
  (void)state;
  for (h = 0; h < 65536; h++) {
    float f = rill_f16_to_f32((uint16_t)h);
    if (isnan(f)) {
      assert_true((q_f32_to_f16(f) & 0x7C00u) == 0x7C00u &&
                  (q_f32_to_f16(f) & 0x3FFu) != 0);
      continue;
    }
    assert_int_equal(q_f32_to_f16(f), h);
    /* Midpoints to the next half up in magnitude round to even. */
    if ((h & 0x7FFFu) < 0x7BFFu) {
      float g = rill_f16_to_f32((uint16_t)(h + 1));
      double mid = ((double)f + g) / 2.0;
      float fm = (float)mid, below, above;
      uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
      assert_true((double)fm == mid); /* exact in float */
      assert_int_equal(q_f32_to_f16(fm), even);
      below = nextafterf(fm, f), above = nextafterf(fm, g);
      assert_int_equal(q_f32_to_f16(below), h);
      assert_int_equal(q_f32_to_f16(above), h + 1);
    }
  }
  assert_int_equal(q_f32_to_f16(65519.996f), 0x7BFF);
  assert_int_equal(q_f32_to_f16(65520.0f), 0x7C00);
  assert_int_equal(q_f32_to_f16(-1e30f), 0xFC00);
  assert_int_equal(q_f32_to_f16(1e-30f), 0);
  assert_int_equal(q_f32_to_f16(-1e-30f), 0x8000);
  assert_int_equal(q_f32_to_f16_sat(1e30f), 0x7BFF);
  assert_int_equal(q_f32_to_f16_sat(-70000.0f), 0xFBFF);
  assert_int_equal(q_f32_to_f16(2.9802322e-8f), 0); /* 2^-25: tie */
  assert_int_equal(q_f32_to_f16(2.9802326e-8f), 1); /* just above */
  assert_int_equal(q_f32_to_f16(INFINITY), 0x7C00);
}

static void test_bf16(void **state) {
  uint32_t h;
  (void)state;
  for (h = 0; h < 65536; h++) {
    float f = rill_bf16_to_f32((uint16_t)h);
    uint32_t u;
    if (isnan(f))
      continue;
    assert_int_equal(q_f32_to_bf16(f), h);
    memcpy(&u, &f, 4);
    if ((h & 0x7F80u) != 0x7F80u && (h & 0x7FFFu) != 0x7F7Fu) {
      float mid;
      uint32_t m = u + 0x8000u; /* halfway to the next pattern */
      memcpy(&mid, &m, 4);
      assert_int_equal(q_f32_to_bf16(mid), (h & 1) ? h + 1 : h);
    }
  }
  assert_true(isnan(rill_bf16_to_f32(q_f32_to_bf16(NAN))));
}

/* ---- round trips ------------------------------------------------------------
 */

static void fill_gauss(float *x, size_t n, float scale) {
  size_t i;
  for (i = 0; i < n; i++)
    x[i] = gauss() * scale;
}

static void test_gaussian_rows(void **state) {
  /* The relative RMS error a sensible quantizer reaches on N(0,1) data
   * (measured values are printed; ggml's searches do somewhat better). */
  static const double ceiling[NTYPES] = {0,    4e-4, 4e-3, 8e-3, 0.12, 0.10,
                                         0.06, 0.05, 0.10, 0.05, 0.025};
  static const float scales[] = {1.0f, 0.02f, 3e-4f, 700.0f};
  float *x = malloc(N * sizeof *x);
  size_t t, s;
  (void)state;
  assert_non_null(x);
  rng_state = 11;
  for (t = 0; t < NTYPES; t++) {
    for (s = 0; s < sizeof scales / sizeof scales[0]; s++) {
      double rel;
      fill_gauss(x, N, scales[s]);
      rel = check_row(types[t], x, N);
      if (s == 0)
        print_message("%-5s relative RMS error %.4g\n",
                      rill_gguf_type_name(types[t]), rel);
      assert_true(rel <= ceiling[t] || types[t] == RILL_GGUF_TYPE_F32);
      if (types[t] == RILL_GGUF_TYPE_F32)
        assert_true(rel == 0.0);
    }
  }
  free(x);
}

/* Rows whose blocks differ wildly: outliers, one-signed blocks, blocks of
 * very different magnitude inside one K super-block. */
static void test_awkward_rows(void **state) {
  float *x = malloc(N * sizeof *x);
  size_t t, i;
  (void)state;
  assert_non_null(x);
  for (t = 0; t < NTYPES; t++) {
    rng_state = 77;
    fill_gauss(x, N, 1.0f);
    for (i = 0; i < N; i += 97)
      x[i] *= 40.0f; /* outliers */
    for (i = 512; i < 1024; i++)
      x[i] = fabsf(x[i]) + 3.0f; /* all positive, offset */
    for (i = 1024; i < 1536; i++)
      x[i] = -fabsf(x[i]) - 0.5f; /* all negative */
    for (i = 1536; i < 2048; i++)
      x[i] *= (i / 32) % 2 ? 1e-4f : 10.0f; /* alternating sub-blocks */
    for (i = 2048; i < 2304; i++)
      x[i] = (i % 16 == 3) ? 5.0f : 0.0f; /* sparse */
    check_row(types[t], x, N);
  }
  free(x);
}

static void test_zeros(void **state) {
  float x[512], y[512];
  unsigned char buf[2048];
  size_t t, i;
  (void)state;
  memset(x, 0, sizeof x);
  for (t = 0; t < NTYPES; t++) {
    round_trip(types[t], x, y, 512, buf);
    for (i = 0; i < 512; i++)
      assert_true(y[i] == 0.0f);
  }
}

static void test_constant_rows(void **state) {
  static const float cs[] = {0.37f, -2.5f, 1.0f, -1e-3f, 1234.5f};
  float x[512], y[512];
  unsigned char buf[2100];
  size_t t, i, c;
  (void)state;
  for (c = 0; c < sizeof cs / sizeof cs[0]; c++) {
    for (i = 0; i < 512; i++)
      x[i] = cs[c];
    for (t = 0; t < NTYPES; t++) {
      round_trip(types[t], x, y, 512, buf);
      for (i = 0; i < 512; i++)
        if (!(fabsf(y[i] - cs[c]) <= fabsf(cs[c]) * 4e-3f)) {
          print_error("%s constant %g -> %g\n", rill_gguf_type_name(types[t]),
                      (double)cs[c], (double)y[i]);
          fail();
        }
    }
  }
}

/* Magnitudes at the edges of the f16 scales: inside the range the bounds
 * hold; beyond it the scales saturate and the values clamp, finite. */
static void test_huge_and_tiny(void **state) {
  float *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
  unsigned char *buf = malloc(N * 4);
  size_t t, i;
  (void)state;
  assert_true(x && y && buf);
  for (t = 0; t < NTYPES; t++) {
    int ty = types[t];
    rng_state = 5;
    /* Largest values whose scales still fit a half: Q4_0 needs amax/8,
     * Q4_K maxr/945 and F16 the value itself below 65504. */
    fill_gauss(x, N, ty == RILL_GGUF_TYPE_F16 ? 9000.0f : 1e4f);
    check_row(ty, x, N);
    fill_gauss(x, N, 1e-6f); /* scales in the half's subnormal range */
    round_trip(ty, x, y, N, buf);
    for (i = 0; i < N; i++)
      assert_true(isfinite(y[i]) && fabsf(y[i] - x[i]) <= 1e-5f);
    if (ty == RILL_GGUF_TYPE_F16 || ty == RILL_GGUF_TYPE_F32 ||
        ty == RILL_GGUF_TYPE_BF16)
      continue;
    fill_gauss(x, N, 1e12f); /* beyond: clamped, finite, sign kept */
    round_trip(ty, x, y, N, buf);
    for (i = 0; i < N; i++) {
      assert_true(isfinite(y[i]));
      assert_true(y[i] == 0.0f || (y[i] > 0.0f) == (x[i] > 0.0f) ||
                  fabsf(x[i]) < 1e11f);
    }
  }
  free(x);
  free(y);
  free(buf);
}

static void test_refusals(void **state) {
  float x[256] = {0};
  unsigned char buf[1024];
  (void)state;
  assert_int_equal(q_quantize(RILL_GGUF_TYPE_Q8_0, x, 31, buf), -1);
  assert_int_equal(q_quantize(RILL_GGUF_TYPE_Q4_K, x, 32, buf), -1);
  assert_int_equal(q_quantize(RILL_GGUF_TYPE_Q2_K, x, 256, buf), -1);
  assert_int_equal(q_quantize(RILL_GGUF_TYPE_Q8_1, x, 32, buf), -1);
  assert_int_equal(q_quantize(99, x, 32, buf), -1);
  assert_false(q_supported(RILL_GGUF_TYPE_Q3_K));
  assert_true(q_supported(RILL_GGUF_TYPE_Q6_K));
}

/* FNV-1a over the bytes of every type for one seeded row: the committed
 * embedding references depend on these exact bytes. */
static void test_golden_bytes(void **state) {
  static const uint64_t golden[NTYPES] = {
      0xb4d76e211a6287b5ull, /* F32 */
      0x10fd8be2e5067dafull, /* F16 */
      0x0c72d229ea7686acull, /* BF16 */
      0xef6d1ebc470e49c9ull, /* Q8_0 */
      0xa4ee499f56cbd135ull, /* Q4_0 */
      0xb4672d5821f8a3f6ull, /* Q4_1 */
      0x67d47f1e070dea8cull, /* Q5_0 */
      0xefce57418d51f6e6ull, /* Q5_1 */
      0xf272f2aee1209441ull, /* Q4_K */
      0x38865638ab8e9f47ull, /* Q5_K */
      0x5536c75c0d5552b4ull, /* Q6_K */
  };
  float *x = malloc(N * sizeof *x);
  unsigned char *buf = malloc(N * 4);
  size_t t, i, nb;
  int bad = 0;
  (void)state;
  assert_true(x && buf);
  for (t = 0; t < NTYPES; t++) {
    uint64_t h = 0xcbf29ce484222325ull;
    rng_state = 2024;
    fill_gauss(x, N, 0.03f);
    for (i = 0; i < N; i += 61)
      x[i] *= 9.0f;
    assert_int_equal(q_quantize(types[t], x, N, buf), 0);
    nb = qbytes(types[t], N);
    for (i = 0; i < nb; i++)
      h = (h ^ buf[i]) * 0x100000001b3ull;
    print_message("%-5s 0x%016llxull\n", rill_gguf_type_name(types[t]),
                  (unsigned long long)h);
    bad += h != golden[t];
  }
  free(x);
  free(buf);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_f16_every_pattern),
      cmocka_unit_test(test_bf16),
      cmocka_unit_test(test_gaussian_rows),
      cmocka_unit_test(test_awkward_rows),
      cmocka_unit_test(test_zeros),
      cmocka_unit_test(test_constant_rows),
      cmocka_unit_test(test_huge_and_tiny),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_golden_bytes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
