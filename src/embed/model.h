/*
 * A nomic-bert model bound to an open GGUF handle: the hyper-parameters
 * read and checked from the metadata, and every tensor found by name,
 * shape-checked and pointed at in the read-only mapping (NOMIC-BERT.md
 * sections 2 and 3). Weights stay in the file's types; the heap holds only
 * this index and, for 1-D tensors stored in another type than F32 (or
 * misaligned), their float copies (a few KiB).
 */
#ifndef RILL_EMBED_MODEL_H
#define RILL_EMBED_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "embed/kernels.h"
#include "rill/gguf.h"

/* Caps that keep one call's activations bounded (about n_ctx * (E + 2F)
 * floats): far above nomic-embed-text (2048, 768, 12 layers, 3072). */
#define RILL__NB_MAX_CTX 8192u
#define RILL__NB_MAX_EMBD 8192u
#define RILL__NB_MAX_FF 65536u
#define RILL__NB_MAX_LAYERS 128u
#define RILL__NB_MAX_HEADS 256u

enum { RILL__POOL_MEAN = 1, RILL__POOL_CLS = 2, RILL__POOL_LAST = 3 };

typedef struct rill__nb_layer {
  /* Q, K, V: fused in qkv (out 3E), or separate (q, k, v, out E each). */
  rill__wmat qkv, q, k, v;
  int fused;
  const float *b_qkv, *b_q, *b_k, *b_v; /* optional */
  rill__wmat out;
  const float *b_out; /* optional */
  const float *ln1_w, *ln1_b; /* attn_output_norm */
  rill__wmat up, gate, down;
  const float *b_up, *b_down; /* optional */
  const float *ln2_w, *ln2_b; /* layer_output_norm */
} rill__nb_layer;

typedef struct rill__nb_model {
  uint32_t n_ctx, n_embd, n_head, head_dim, n_ff, n_layer, n_vocab;
  float eps;
  double rope_base;
  int causal;
  int pooling; /* RILL__POOL_* */
  /* token_embd: V rows of E, any type rill_gguf_dequantize reads. */
  const unsigned char *tok_embd;
  int tok_embd_type;
  size_t tok_embd_row_bytes;
  const float *tok_type0; /* row 0 of token_types, or NULL */
  const float *ln0_w, *ln0_b; /* token_embd_norm */
  rill__nb_layer *layers;
  uint64_t bytes_mapped;
  size_t heap_bytes;
  uint32_t types[RILL_GGUF_GGML_TYPE_END];
  /* float copies of 1-D tensors, freed with the model */
  float **copies;
  size_t n_copies;
} rill__nb_model;

/* Read and check everything. n_vocab is the tokenizer's vocabulary size
 * (token_embd must have that many rows). Returns RILL_OK; RILL_E_FORMAT
 * (err names the key or tensor); RILL_E_UNSUPPORTED (another architecture,
 * a weight type the kernels do not read, a feature nomic-bert does not
 * use); RILL_E_NOMEM. On failure *m holds nothing to free. */
int rill__nb_load(rill__nb_model *m, const rill_gguf *g, uint32_t n_vocab,
                  rill_gguf_error *err);
void rill__nb_free(rill__nb_model *m);

#endif
