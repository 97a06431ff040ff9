/*
 * Matrix kernels of the embedder: activations (float, one row per token)
 * times weights in their file type (rows of ne[0] elements, quantized along
 * the row), as llama.cpp's CPU backend computes them: the activations are
 * first converted to the weight type's dot-product partner (none for F32,
 * F16 for F16, Q8_0 for Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the
 * K-quants; NOMIC-BERT.md "Numerics"), then each output is an integer or
 * float dot product of one weight row with one converted activation row.
 *
 * A portable scalar path is the reference; SIMD paths (AVX2/FMA, AVX-512)
 * are chosen at run time and must agree with it (within float summation
 * order). Everything here is pure: no allocation, no globals but the
 * dispatch table, any thread.
 */
#ifndef RILL_EMBED_KERNELS_H
#define RILL_EMBED_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/* A weight matrix: out rows of in elements of type (ggml id), row_bytes
 * apart, in the mapping. */
typedef struct rill__wmat {
  const void *data;
  int type;
  size_t in, out;
  size_t row_bytes;
} rill__wmat;

typedef struct rill__kernels {
  const char *name; /* "scalar", "avx2", "avx512" */
  /* Bytes of one activation row of in elements converted for weights of
   * type (0 if type is not supported, or in is not a multiple of its
   * block: 32, or 256 for the K types). Layouts: kernels_impl.h. */
  size_t (*act_row_bytes)(int type, size_t in);
  /* Convert one activation row x[0..in) for weights of type into dst
   * (act_row_bytes bytes). */
  void (*act_convert)(int type, const float *x, size_t in, void *dst);
  /* y[t * ldy + o] = dot(W row o, act row t) for t < n_tok and
   * o in [o0, o1); act rows are act_stride bytes apart. Nothing else in y
   * is written, and each result is the same bits whatever the range, so
   * threads may split [0, out) any way. Uses up to ~36 KiB of stack. */
  void (*matmul)(const rill__wmat *w, const void *act, size_t act_stride,
                 size_t n_tok, size_t o0, size_t o1, float *y, size_t ldy);
} rill__kernels;

/* The best kernels this CPU runs (force_scalar: the reference). */
const rill__kernels *rill__kernels_get(int force_scalar);

/* 1 if the embedder's kernels read weights of this type. */
int rill__kernels_supports(int type);

#endif
