/*
 * Multi-head softmax attention over one sequence, computed block by block
 * with a running (online) softmax, so it needs O(n * d) memory, never the
 * n x n score matrix.
 */
#ifndef RILL_EMBED_ATTENTION_H
#define RILL_EMBED_ATTENTION_H

#include <stddef.h>

/* Queries per task: one task is one head times one block of queries. */
#define RILL__ATT_QBLOCK 16
/* Keys scored at once (the scores live on the stack). */
#define RILL__ATT_KBLOCK 64
/* Widest head the blocked body takes (its buffers are on the stack);
 * wider heads go one query at a time. */
#define RILL__ATT_MAXD 128

typedef struct rill__att_args {
  const float *qkv; /* n rows of 3E: q at 0, k at E, v at 2E (roped) */
  float *out;       /* n rows of E: head h at h*d */
  size_t n, n_embd, n_head, head_dim;
  int causal;       /* 1: token p sees tokens 0..p only */
  int simd;         /* rill__att_simd(): use the AVX2 body */
} rill__att_args;

/* 1 if the AVX2+FMA body may run here (never with force_scalar). */
int rill__att_simd(int force_scalar);

/* Tasks of one call: n_head * ceil(n / RILL__ATT_QBLOCK). */
size_t rill__att_tasks(const rill__att_args *a);

/* Run task i (a rill__task_fn over a rill__att_args). */
void rill__att_task(void *args, size_t i);

#endif
