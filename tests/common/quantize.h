/*
 * quantize — float to ggml blocks, for test data and tools (not part of the
 * library).
 *
 * Simple, deterministic schemes (no search): abs-max for the symmetric
 * types (Q8_0, Q4_0, Q5_0, Q6_K), min/max for the ones with a minimum
 * (Q4_1, Q5_1, Q4_K, Q5_K). Block layouts as NOMIC-BERT.md section 6. The
 * block scales are rounded to their stored precision (f16, 6-bit or int8
 * sub-scales) before the quants are chosen, so each quant is the nearest
 * one under the scale the reader will actually use.
 *
 * Only exact IEEE operations and integer arithmetic are used (no libm
 * beyond fabsf), so the same input gives the same bytes on every
 * platform: model files regenerated from a seed are bit-identical.
 *
 * Range: a block scale saturates at the largest finite half (65504), so
 * inputs beyond about 65504 x (largest quant) are clamped rather than
 * turned into Inf. NaN inputs are not supported.
 */
#ifndef RILL_TEST_QUANTIZE_H
#define RILL_TEST_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

/* IEEE half from float, round to nearest even; overflow gives +-Inf. */
uint16_t q_f32_to_f16(float f);
/* The same, saturating at +-65504 instead of overflowing. */
uint16_t q_f32_to_f16_sat(float f);
/* bfloat16 from float, round to nearest even. */
uint16_t q_f32_to_bf16(float f);

/*
 * Quantize n elements (a whole number of blocks of type, a ggml type id:
 * 0 F32, 1 F16, 2 Q4_0, 3 Q4_1, 6 Q5_0, 7 Q5_1, 8 Q8_0, 12 Q4_K, 13 Q5_K,
 * 14 Q6_K, 30 BF16) from src into dst (n / block_elems * block_bytes
 * bytes). Returns 0, or -1 for an unsupported type or a partial block.
 */
int q_quantize(int type, const float *src, size_t n, void *dst);

/* Whether q_quantize handles type. */
int q_supported(int type);

#endif
