/*
 * The ggml block layouts (elements and bytes per block) of the types rill
 * reads, and the half-precision conversions every dequantizer needs.
 */
#include <string.h>

#include "gguf/types.h"
#include "rill/error.h"
#include "rill/gguf.h"

#define QK_K 256

static const struct {
  int id;
  rill__gguf_typeinfo info;
} known_types[] = {
    {RILL_GGUF_TYPE_F32, {"F32", 1, 4}},
    {RILL_GGUF_TYPE_F16, {"F16", 1, 2}},
    {RILL_GGUF_TYPE_Q4_0, {"Q4_0", 32, 18}},
    {RILL_GGUF_TYPE_Q4_1, {"Q4_1", 32, 20}},
    {RILL_GGUF_TYPE_Q5_0, {"Q5_0", 32, 22}},
    {RILL_GGUF_TYPE_Q5_1, {"Q5_1", 32, 24}},
    {RILL_GGUF_TYPE_Q8_0, {"Q8_0", 32, 34}},
    {RILL_GGUF_TYPE_Q8_1, {"Q8_1", 32, 36}},
    {RILL_GGUF_TYPE_Q2_K, {"Q2_K", QK_K, 84}},
    {RILL_GGUF_TYPE_Q3_K, {"Q3_K", QK_K, 110}},
    {RILL_GGUF_TYPE_Q4_K, {"Q4_K", QK_K, 144}},
    {RILL_GGUF_TYPE_Q5_K, {"Q5_K", QK_K, 176}},
    {RILL_GGUF_TYPE_Q6_K, {"Q6_K", QK_K, 210}},
    {RILL_GGUF_TYPE_Q8_K, {"Q8_K", QK_K, 292}},
    {RILL_GGUF_TYPE_BF16, {"BF16", 1, 2}},
};

const rill__gguf_typeinfo *rill__gguf_type(int type) {
  size_t i;
  for (i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
    if (known_types[i].id == type)
      return &known_types[i].info;
  return NULL;
}

const char *rill_gguf_type_name(int type) {
  const rill__gguf_typeinfo *t = rill__gguf_type(type);
  return t ? t->name : NULL;
}

int rill_gguf_type_block(int type, uint32_t *block_elems,
                         uint32_t *block_bytes) {
  const rill__gguf_typeinfo *t = rill__gguf_type(type);
  if (!t)
    return RILL_E_UNSUPPORTED;
  if (block_elems)
    *block_elems = t->block_elems;
  if (block_bytes)
    *block_bytes = t->block_bytes;
  return RILL_OK;
}

int rill_gguf_row_bytes(int type, uint64_t n, uint64_t *bytes) {
  const rill__gguf_typeinfo *t = rill__gguf_type(type);
  uint64_t blocks;
  if (!t)
    return RILL_E_UNSUPPORTED;
  if (!bytes || n % t->block_elems != 0)
    return RILL_E_INVALID;
  blocks = n / t->block_elems;
  if (blocks > UINT64_MAX / t->block_bytes)
    return RILL_E_LIMIT;
  *bytes = blocks * t->block_bytes;
  return RILL_OK;
}

static float bits_to_f32(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

float rill_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) /* Inf and NaN: keep the payload */
    return bits_to_f32(sign | 0x7f800000u | man << 13);
  if (exp == 0) {
    if (man == 0)
      return bits_to_f32(sign);
    /* Subnormal half: normalise into a float exponent. */
    exp = 127 - 15 + 1;
    while (!(man & 0x400u)) {
      man <<= 1;
      exp--;
    }
    man &= 0x3ffu;
    return bits_to_f32(sign | exp << 23 | man << 13);
  }
  return bits_to_f32(sign | (exp + 127 - 15) << 23 | man << 13);
}

float rill_bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }
