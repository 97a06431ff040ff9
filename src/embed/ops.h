/*
 * The element-wise and per-row operations of the forward pass: layer norm,
 * rotary position embedding, SwiGLU's gate, pooling and the final
 * normalisations. Pure functions on caller memory; any thread.
 */
#ifndef RILL_EMBED_OPS_H
#define RILL_EMBED_OPS_H

#include <stddef.h>

/* y = (x - mean) / sqrt(var + eps) * w + b over n elements (population
 * variance; statistics in double). y may be x. w, b NULL: no affine. */
void rill__layer_norm(float *y, const float *x, size_t n, const float *w,
                      const float *b, float eps);

/* cos/sin of theta = p * base^(-2i/d) for p < n_pos, i < d/2, row p at
 * [p * d/2]. */
void rill__rope_table(float *cos_t, float *sin_t, size_t n_pos, size_t d,
                      double base);

/* NeoX rotation of one head vector v[0..d): pairs (i, i + d/2). */
void rill__rope_apply(float *v, size_t d, const float *cos_p,
                      const float *sin_p);

/* g[i] = silu(g[i]) * u[i]. */
void rill__silu_mul(float *g, const float *u, size_t n);

/* The same; simd (rill__att_simd()): eight lanes with AVX2+FMA and a
 * polynomial e^x of expf's accuracy (relative error about 2e-7). */
void rill__silu_mul_fast(float *g, const float *u, size_t n, int simd);

/* y[i] += b[i]. */
void rill__add(float *y, const float *b, size_t n);

/* Scale v to unit L2 norm (left as is when its norm is 0). */
void rill__l2_normalize(float *v, size_t n);

#endif
