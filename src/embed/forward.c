/*
 * The forward pass of NOMIC-BERT.md section 4 over one sequence.
 *
 * Every step is one or two parallel-fors on the pool: over token ranges for
 * the per-row work (embedding lookup, bias + RoPE, residual + layer norm,
 * SwiGLU), over (head, query block) for attention, and over output-row
 * ranges for the matrix products, whose activations are converted once per
 * product (not once per task) for the weight type's dot-product partner.
 *
 * Scratch layout (floats unless said, each part 64-byte aligned):
 *   x    n x E        the residual stream
 *   R    max(4nE, 2nF), reused by phase:
 *          attention: qkv = R[0, 3nE), att = R[3nE, 4nE), then the output
 *                     projection into R[0, nE) (qkv is dead by then)
 *          FFN:       gate = R[0, nF), up = R[nF, 2nF); silu(gate) * up in
 *                     gate; the down projection into R[nF, nF + nE)
 *   cos, sin   n x d/2 each
 *   act  n rows of the widest converted activation row (bytes)
 * so memory is linear in n: no n x n buffer exists.
 */
#include "embed/forward.h"

#include <stdatomic.h>
#include <string.h>

#include "embed/attention.h"
#include "embed/ops.h"
#include "rill/error.h"

#define ALIGN 64u
#define MM_ROW_ALIGN 16u

typedef struct fw {
  const rill__nb_model *m;
  const rill__kernels *k;
  rill__tpool *pool;
  size_t n, E, F, d, threads;
  int simd; /* attention's AVX2 body */
  float *x, *R, *cos_t, *sin_t;
  unsigned char *act;
  size_t act_stride;
  const int32_t *ids;
  const rill__nb_layer *l;
  atomic_int bad;
  /* the current conversion */
  const float *src;
  size_t in;
  int type;
  /* the current matrix product: nw matrices of one type */
  const rill__wmat *w[3];
  float *y[3];
  size_t ldy, chunk, ntask[3], nw;
  /* the current residual + layer norm */
  const float *delta, *bias, *ln_w, *ln_b;
  size_t delta_ld;
} fw;

static size_t up64(size_t v) { return (v + ALIGN - 1) & ~(size_t)(ALIGN - 1); }

static size_t max_act_stride(const rill__nb_model *m, const rill__kernels *k) {
  size_t best = 0, il;
  for (il = 0; il < m->n_layer; il++) {
    const rill__nb_layer *l = &m->layers[il];
    const rill__wmat *ws[7];
    size_t i, nw = 0;
    if (l->fused) {
      ws[nw++] = &l->qkv;
    } else {
      ws[nw++] = &l->q;
      ws[nw++] = &l->k;
      ws[nw++] = &l->v;
    }
    ws[nw++] = &l->out;
    ws[nw++] = &l->up;
    ws[nw++] = &l->gate;
    ws[nw++] = &l->down;
    for (i = 0; i < nw; i++) {
      size_t b = up64(k->act_row_bytes(ws[i]->type, ws[i]->in));
      if (b > best)
        best = b;
    }
  }
  return best;
}

size_t rill__fw_scratch_bytes(const rill__nb_model *m, const rill__kernels *k,
                              size_t n) {
  /* The caps in model.h bound every factor; the sum is computed in 64 bits
   * and refused if it does not fit size_t (32-bit hosts). */
  uint64_t E = m->n_embd, F = m->n_ff, N = n, d = m->head_dim;
  uint64_t r = 4 * N * E > 2 * N * F ? 4 * N * E : 2 * N * F;
  uint64_t tot = (N * E * 4 + ALIGN) + (r * 4 + ALIGN) +
                 2 * (N * (d / 2) * 4 + ALIGN) +
                 N * (uint64_t)max_act_stride(m, k) + ALIGN;
  if (n == 0 || n > m->n_ctx || tot > (uint64_t)SIZE_MAX)
    return 0;
  return (size_t)tot;
}

/* ---- parallel ranges ----------------------------------------------------- */

typedef void (*range_fn)(fw *f, size_t r0, size_t r1);
typedef struct range_job {
  fw *f;
  range_fn fn;
  size_t n, chunk;
} range_job;

static void range_task(void *ctx, size_t i) {
  range_job *j = ctx;
  size_t r0 = i * j->chunk, r1 = r0 + j->chunk < j->n ? r0 + j->chunk : j->n;
  j->fn(j->f, r0, r1);
}

/* Token ranges: two per thread, so one slow thread does not hold the
 * others up for long. */
static void par_tokens(fw *f, range_fn fn) {
  range_job j;
  size_t target = f->threads * 2;
  j.f = f;
  j.fn = fn;
  j.n = f->n;
  j.chunk = (f->n + target - 1) / target;
  if (j.chunk == 0)
    j.chunk = 1;
  rill__tpool_run(f->pool, (f->n + j.chunk - 1) / j.chunk, range_task, &j);
}

/* ---- matrix products ----------------------------------------------------- */

static void convert_rows(fw *f, size_t r0, size_t r1) {
  size_t p;
  for (p = r0; p < r1; p++)
    f->k->act_convert(f->type, f->src + p * f->in, f->in,
                      f->act + p * f->act_stride);
}

static void mm_task(void *ctx, size_t t) {
  fw *f = ctx;
  size_t j = 0, o0, o1;
  while (t >= f->ntask[j]) {
    t -= f->ntask[j];
    j++;
  }
  o0 = t * f->chunk;
  o1 = o0 + f->chunk < f->w[j]->out ? o0 + f->chunk : f->w[j]->out;
  f->k->matmul(f->w[j], f->act, f->act_stride, f->n, o0, o1, f->y[j], f->ldy);
}

/* y[i] (rows of ldy floats) = src (n rows of in floats) x w[i]^T, for the
 * matrices of one type at a time, sharing one conversion of src. */
static void mm(fw *f, const float *src, size_t in, size_t nw,
               const rill__wmat *const *w, float *const *y, size_t ldy) {
  unsigned done = 0;
  size_t i, j;
  for (i = 0; i < nw; i++) {
    size_t rows = 0, target, ntasks = 0;
    if (done & (1u << i))
      continue;
    f->type = w[i]->type;
    f->src = src;
    f->in = in;
    f->act_stride = up64(f->k->act_row_bytes(f->type, in));
    par_tokens(f, convert_rows);
    f->nw = 0;
    for (j = i; j < nw; j++) {
      if (w[j]->type != f->type)
        continue;
      done |= 1u << j;
      f->w[f->nw] = w[j];
      f->y[f->nw] = y[j];
      f->nw++;
      rows += w[j]->out;
    }
    /* Four ranges per thread balance uneven progress; ranges stay whole
     * multiples of MM_ROW_ALIGN rows for the SIMD kernels' row blocks. */
    target = f->threads * 4;
    f->chunk = (rows + target - 1) / target;
    f->chunk = (f->chunk + MM_ROW_ALIGN - 1) / MM_ROW_ALIGN * MM_ROW_ALIGN;
    f->ldy = ldy;
    for (j = 0; j < f->nw; j++) {
      f->ntask[j] = (f->w[j]->out + f->chunk - 1) / f->chunk;
      ntasks += f->ntask[j];
    }
    rill__tpool_run(f->pool, ntasks, mm_task, f);
  }
}

/* ---- per-token steps ----------------------------------------------------- */

static void embed_rows(fw *f, size_t r0, size_t r1) {
  const rill__nb_model *m = f->m;
  size_t p;
  for (p = r0; p < r1; p++) {
    float *x = f->x + p * f->E;
    const unsigned char *row =
        m->tok_embd + (size_t)f->ids[p] * m->tok_embd_row_bytes;
    if (rill_gguf_dequantize(m->tok_embd_type, row, m->tok_embd_row_bytes, x,
                             f->E) != RILL_OK) {
      atomic_store(&f->bad, 1);
      memset(x, 0, f->E * sizeof *x);
    }
    if (m->tok_type0)
      rill__add(x, m->tok_type0, f->E);
    rill__layer_norm(x, x, f->E, m->ln0_w, m->ln0_b, m->eps);
  }
}

static void rope_rows(fw *f, size_t r0, size_t r1) {
  const rill__nb_layer *l = f->l;
  size_t E = f->E, d = f->d, half = d / 2, H = E / d, p, h;
  for (p = r0; p < r1; p++) {
    float *qkv = f->R + p * 3 * E;
    const float *c = f->cos_t + p * half, *s = f->sin_t + p * half;
    if (l->b_qkv)
      rill__add(qkv, l->b_qkv, 3 * E);
    if (l->b_q)
      rill__add(qkv, l->b_q, E);
    if (l->b_k)
      rill__add(qkv + E, l->b_k, E);
    if (l->b_v)
      rill__add(qkv + 2 * E, l->b_v, E);
    for (h = 0; h < H; h++) {
      rill__rope_apply(qkv + h * d, d, c, s);
      rill__rope_apply(qkv + E + h * d, d, c, s);
    }
  }
}

/* x = LN(delta + bias + x) row by row. */
static void residual_ln_rows(fw *f, size_t r0, size_t r1) {
  size_t E = f->E, p, i;
  for (p = r0; p < r1; p++) {
    float *x = f->x + p * E;
    const float *dl = f->delta + p * f->delta_ld;
    if (f->bias) {
      for (i = 0; i < E; i++)
        x[i] += dl[i] + f->bias[i];
    } else {
      for (i = 0; i < E; i++)
        x[i] += dl[i];
    }
    rill__layer_norm(x, x, E, f->ln_w, f->ln_b, f->m->eps);
  }
}

static void swiglu_rows(fw *f, size_t r0, size_t r1) {
  size_t F = f->F, n = f->n, p;
  for (p = r0; p < r1; p++) {
    float *g = f->R + p * F, *u = f->R + n * F + p * F;
    if (f->l->b_up)
      rill__add(u, f->l->b_up, F);
    rill__silu_mul_fast(g, u, F, f->simd);
  }
}

static void residual_ln(fw *f, const float *delta, size_t ld,
                        const float *bias, const float *w, const float *b) {
  f->delta = delta;
  f->delta_ld = ld;
  f->bias = bias;
  f->ln_w = w;
  f->ln_b = b;
  par_tokens(f, residual_ln_rows);
}

static void layer(fw *f, const rill__nb_layer *l) {
  size_t n = f->n, E = f->E, F = f->F;
  float *qkv = f->R, *att = f->R + 3 * n * E;
  rill__att_args aa;
  f->l = l;

  if (l->fused) {
    const rill__wmat *w[1];
    float *y[1];
    w[0] = &l->qkv;
    y[0] = qkv;
    mm(f, f->x, E, 1, w, y, 3 * E);
  } else {
    const rill__wmat *w[3];
    float *y[3];
    w[0] = &l->q;
    w[1] = &l->k;
    w[2] = &l->v;
    y[0] = qkv;
    y[1] = qkv + E;
    y[2] = qkv + 2 * E;
    mm(f, f->x, E, 3, w, y, 3 * E);
  }
  par_tokens(f, rope_rows);

  aa.qkv = qkv;
  aa.out = att;
  aa.n = n;
  aa.n_embd = E;
  aa.n_head = f->m->n_head;
  aa.head_dim = f->d;
  aa.causal = f->m->causal;
  aa.simd = f->simd;
  rill__tpool_run(f->pool, rill__att_tasks(&aa), rill__att_task, &aa);

  {
    const rill__wmat *w[1];
    float *y[1];
    w[0] = &l->out;
    y[0] = f->R; /* qkv is dead */
    mm(f, att, E, 1, w, y, E);
  }
  residual_ln(f, f->R, E, l->b_out, l->ln1_w, l->ln1_b);

  {
    const rill__wmat *w[2];
    float *y[2];
    w[0] = &l->gate;
    w[1] = &l->up;
    y[0] = f->R;
    y[1] = f->R + n * F;
    mm(f, f->x, E, 2, w, y, F);
  }
  par_tokens(f, swiglu_rows);
  {
    const rill__wmat *w[1];
    float *y[1];
    w[0] = &l->down;
    y[0] = f->R + n * F; /* up is dead */
    mm(f, f->R, F, 1, w, y, E);
  }
  residual_ln(f, f->R + n * F, E, l->b_down, l->ln2_w, l->ln2_b);
}

static void pool_out(const fw *f, float *pooled) {
  size_t E = f->E, n = f->n, p, i;
  if (f->m->pooling == RILL__POOL_CLS || f->m->pooling == RILL__POOL_LAST) {
    memcpy(pooled, f->x + (f->m->pooling == RILL__POOL_CLS ? 0 : n - 1) * E,
           E * sizeof *pooled);
    return;
  }
  /* Mean over all n tokens, [CLS] and [SEP] included, as llama.cpp. Summed
   * per column in double: n can be thousands. */
  for (i = 0; i < E; i++) {
    double s = 0.0;
    for (p = 0; p < n; p++)
      s += f->x[p * E + i];
    pooled[i] = (float)(s / (double)n);
  }
}

int rill__fw_run(const rill__nb_model *m, const rill__kernels *k,
                 rill__tpool *pool, const int32_t *ids, size_t n,
                 void *scratch, float *pooled) {
  fw f;
  unsigned char *s = scratch;
  size_t r, il, p;
  if (n == 0 || n > m->n_ctx)
    return RILL_E_INTERNAL;
  for (p = 0; p < n; p++)
    if (ids[p] < 0 || (uint32_t)ids[p] >= m->n_vocab)
      return RILL_E_INTERNAL;
  memset(&f, 0, sizeof f);
  f.m = m;
  f.k = k;
  f.pool = pool;
  f.n = n;
  f.E = m->n_embd;
  f.F = m->n_ff;
  f.d = m->head_dim;
  f.threads = (size_t)rill__tpool_threads(pool);
  f.ids = ids;
  f.simd = rill__att_simd(strcmp(k->name, "scalar") == 0);
  atomic_init(&f.bad, 0);
  r = 4 * n * f.E > 2 * n * f.F ? 4 * n * f.E : 2 * n * f.F;
  s = (unsigned char *)(((uintptr_t)s + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
  f.x = (float *)(void *)s;
  s += up64(n * f.E * sizeof(float));
  f.R = (float *)(void *)s;
  s += up64(r * sizeof(float));
  f.cos_t = (float *)(void *)s;
  s += up64(n * (f.d / 2) * sizeof(float));
  f.sin_t = (float *)(void *)s;
  s += up64(n * (f.d / 2) * sizeof(float));
  f.act = s;

  rill__rope_table(f.cos_t, f.sin_t, n, f.d, m->rope_base);
  par_tokens(&f, embed_rows);
  for (il = 0; il < m->n_layer; il++)
    layer(&f, &m->layers[il]);
  pool_out(&f, pooled);
  return atomic_load(&f.bad) ? RILL_E_INTERNAL : RILL_OK;
}
