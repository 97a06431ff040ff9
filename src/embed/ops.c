/*
 * Per-row operations of the forward pass (see ops.h). Statistics that sum
 * a whole row (layer norm, L2 norm) accumulate in double: it costs nothing
 * next to the matrix products and keeps the result independent of the row
 * length's rounding, which is what the float64 reference in the tests and
 * llama.cpp's float (pairwise-ish) sums both approximate.
 */
#include "embed/ops.h"

#include <math.h>

void rill__layer_norm(float *y, const float *x, size_t n, const float *w,
                      const float *b, float eps) {
  double s = 0.0, v = 0.0, mean, inv;
  size_t i;
  for (i = 0; i < n; i++)
    s += x[i];
  mean = s / (double)n;
  for (i = 0; i < n; i++) {
    double d = x[i] - mean;
    v += d * d;
  }
  inv = 1.0 / sqrt(v / (double)n + (double)eps);
  if (w && b) {
    for (i = 0; i < n; i++)
      y[i] = (float)((x[i] - mean) * inv) * w[i] + b[i];
  } else {
    for (i = 0; i < n; i++)
      y[i] = (float)((x[i] - mean) * inv);
  }
}

void rill__rope_table(float *cos_t, float *sin_t, size_t n_pos, size_t d,
                      double base) {
  size_t half = d / 2, p, i;
  for (i = 0; i < half; i++) {
    double inv_freq = pow(base, -2.0 * (double)i / (double)d);
    for (p = 0; p < n_pos; p++) {
      double th = (double)p * inv_freq;
      cos_t[p * half + i] = (float)cos(th);
      sin_t[p * half + i] = (float)sin(th);
    }
  }
}

void rill__rope_apply(float *v, size_t d, const float *cos_p,
                      const float *sin_p) {
  size_t half = d / 2, i;
  for (i = 0; i < half; i++) {
    float a = v[i], b = v[i + half];
    v[i] = a * cos_p[i] - b * sin_p[i];
    v[i + half] = a * sin_p[i] + b * cos_p[i];
  }
}

void rill__silu_mul(float *g, const float *u, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_SILU_AVX2 1

/* e^-x clamped to [-87, 88] (no overflow, no subnormal), as n ln2 + r
 * with |r| <= ln2/2, a degree-6 polynomial and 2^n in the exponent. */
__attribute__((target("avx2,fma"))) static void
silu_mul_avx2(float *g, const float *u, size_t n) {
  size_t i;
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 x = _mm256_loadu_ps(g + i);
    __m256 t = _mm256_sub_ps(_mm256_setzero_ps(), x);
    __m256 k, r, p;
    __m256i e;
    t = _mm256_min_ps(_mm256_max_ps(t, _mm256_set1_ps(-87.0f)),
                      _mm256_set1_ps(88.0f));
    k = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(1.44269504088896341f)),
                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), t);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);
    p = _mm256_set1_ps(1.0f / 720.0f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    e = _mm256_add_epi32(_mm256_castps_si256(p),
                         _mm256_slli_epi32(_mm256_cvtps_epi32(k), 23));
    p = _mm256_add_ps(_mm256_set1_ps(1.0f), _mm256_castsi256_ps(e));
    _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(x, p),
                                          _mm256_loadu_ps(u + i)));
  }
  if (i < n)
    rill__silu_mul(g + i, u + i, n - i);
}
#endif

void rill__silu_mul_fast(float *g, const float *u, size_t n, int simd) {
#ifdef HAVE_SILU_AVX2
  if (simd) {
    silu_mul_avx2(g, u, n);
    return;
  }
#else
  (void)simd;
#endif
  rill__silu_mul(g, u, n);
}

void rill__add(float *y, const float *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    y[i] += b[i];
}

void rill__l2_normalize(float *v, size_t n) {
  double s = 0.0;
  size_t i;
  for (i = 0; i < n; i++)
    s += (double)v[i] * v[i];
  if (s > 0.0) {
    double inv = 1.0 / sqrt(s);
    for (i = 0; i < n; i++)
      v[i] = (float)(v[i] * inv);
  }
}
