/*
 * The nomic-bert forward pass over one sequence of token ids, on the
 * handle's pool, with activations in a caller-provided scratch block whose
 * size grows linearly with the number of tokens.
 */
#ifndef RILL_EMBED_FORWARD_H
#define RILL_EMBED_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "embed/kernels.h"
#include "embed/model.h"
#include "embed/threadpool.h"

/* Bytes of scratch for n tokens (n <= m->n_ctx); 0 if it would overflow. */
size_t rill__fw_scratch_bytes(const rill__nb_model *m,
                              const rill__kernels *k, size_t n);

/* Compute the pooled vector (m->n_embd floats, before any normalisation)
 * of ids[0..n), 1 <= n <= m->n_ctx, every id < m->n_vocab. scratch: at
 * least rill__fw_scratch_bytes(m, k, n) bytes, aligned for float. Returns
 * RILL_OK or RILL_E_INTERNAL (an id out of range, a weight row that does
 * not convert). */
int rill__fw_run(const rill__nb_model *m, const rill__kernels *k,
                 rill__tpool *pool, const int32_t *ids, size_t n,
                 void *scratch, float *pooled);

#endif
