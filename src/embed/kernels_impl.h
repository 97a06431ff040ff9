/*
 * What the kernel files share: the converted-activation layouts, the
 * per-path tables and the conversion entry points (kernels_act.c), which
 * every path uses so that all of them see bit-identical activations.
 */
#ifndef RILL_EMBED_KERNELS_IMPL_H
#define RILL_EMBED_KERNELS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "embed/kernels.h"

/* Converted activation rows, per block (little-endian fields, packed):
 *   Q8_0: d f16, qs int8[32]                        34 bytes / 32
 *   Q8_1: d f16, s f16 (f16 of d*sum(qs), d before
 *         its f16 rounding), qs int8[32]             36 bytes / 32
 *   Q8_K: d f32, qs int8[256], bsums int16[16]     292 bytes / 256
 *   F16 partner: floats already rounded to half precision, kept as f32
 *   (4 bytes / 1) so the inner loops need no conversion; the products are
 *   the ones llama.cpp forms from its F16 copy.
 *   F32 partner: the floats as they are. */
#define RILL__Q8_0_BYTES 34
#define RILL__Q8_1_BYTES 36
#define RILL__Q8_K_BYTES 292
#define RILL__QK 32
#define RILL__QK_K 256

/* The partner a weight type's dot product reads (a ggml type id: F32 for
 * F32, F16 for F16, Q8_0, Q8_1 or Q8_K), -1 if unsupported. */
int rill__kernels_partner(int type);

size_t rill__act_row_bytes(int type, size_t in);
void rill__act_convert(int type, const float *x, size_t in, void *dst);

/* Conversions by partner, n a multiple of the block (kernels_act.c). */
void rill__act_q8_0(const float *x, size_t n, unsigned char *dst);
void rill__act_q8_1(const float *x, size_t n, unsigned char *dst);
void rill__act_q8_k(const float *x, size_t n, unsigned char *dst);
void rill__act_f16(const float *x, size_t n, float *dst);

/* IEEE half from float, round to nearest even, overflow to infinity, NaN
 * kept NaN: what F16C's vcvtps2ph and ggml's FP32_TO_FP16 give. */
uint16_t rill__f32_to_f16(float f);

/* Tokens processed per pass over the weights: the converted rows of one
 * pass should stay in the L2 cache while every row tile streams past. */
size_t rill__kernels_tok_chunk(size_t act_row_bytes);

extern const rill__kernels rill__kernels_scalar;
/* NULL when the CPU (or the build) lacks the instructions. */
const rill__kernels *rill__kernels_avx2(void);
const rill__kernels *rill__kernels_avx512(void);

#endif
