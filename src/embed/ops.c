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
