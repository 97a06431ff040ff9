/*
 * nomic-bert's hyper-parameters and tensors, read from a GGUF handle and
 * checked against each other before any activation is sized from them
 * (NOMIC-BERT.md sections 2 and 3, RELIABILITY.md section 3.4).
 *
 * What is refused, and why: a value that would make the forward pass divide
 * by zero, index out of a tensor or size activations past the caps in
 * model.h is RILL_E_FORMAT naming the key; a well-formed file that needs
 * something this embedder does not compute (another architecture, grouped
 * or partial-rotary heads, RoPE scaling, a weight type the kernels do not
 * read) is RILL_E_UNSUPPORTED. Defaults are llama.cpp's, including
 * attention.causal = true when the key is absent: such a file is computed
 * as llama.cpp computes it (causally), not as the author probably meant.
 *
 * Must not know: how the forward pass uses the tensors beyond their shapes.
 */
#include "embed/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "json/json.h"
#include "rill/error.h"

#define ARCH "nomic-bert"

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(rill_gguf_error *err, int rc, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    err->offset = 0;
  }
  return rc;
}

static int nomem(rill_gguf_error *err) {
  return fail(err, RILL_E_NOMEM, "out of memory");
}

/* A u32 hyper-parameter: a scalar, or (per_layer) an array of n_layer
 * equal values (llama.cpp allows per-layer arrays; nomic-bert never has
 * different values per layer, and this embedder does not compute them).
 * *present is 0 when the key is absent (then *out is untouched). */
static int hp_u32(const rill_gguf *g, const char *key, int per_layer,
                  uint32_t n_layer, uint32_t *out, int *present,
                  rill_gguf_error *err) {
  int64_t ix = rill_gguf_find_key(g, key);
  rill_gguf_kv kv;
  *present = 0;
  if (ix < 0)
    return RILL_OK;
  *present = 1;
  if (rill_gguf_kv_at(g, (uint64_t)ix, &kv) != RILL_OK)
    return fail(err, RILL_E_FORMAT, "%s: unreadable", key);
  if (kv.type == RILL_GGUF_ARRAY) {
    uint64_t i;
    int64_t first = 0;
    if (!per_layer)
      return fail(err, RILL_E_FORMAT, "%s: an array, expected an integer",
                  key);
    if (kv.count != n_layer)
      return fail(err, RILL_E_FORMAT,
                  "%s: %llu per-layer values for %u layers", key,
                  (unsigned long long)kv.count, n_layer);
    for (i = 0; i < kv.count; i++) {
      int64_t v;
      if (rill_gguf_arr_i64(g, (uint64_t)ix, i, &v) != RILL_OK)
        return fail(err, RILL_E_FORMAT, "%s: element %llu is not an integer",
                    key, (unsigned long long)i);
      if (i == 0)
        first = v;
      else if (v != first)
        return fail(err, RILL_E_UNSUPPORTED,
                    "%s: values that differ per layer are not supported", key);
    }
    if (first < 0 || first > (int64_t)UINT32_MAX)
      return fail(err, RILL_E_FORMAT, "%s: %lld is out of range", key,
                  (long long)first);
    *out = (uint32_t)first;
    return RILL_OK;
  }
  if (rill_gguf_get_u32(g, key, out) != RILL_OK)
    return fail(err, RILL_E_FORMAT, "%s: not an unsigned 32-bit integer",
                key);
  return RILL_OK;
}

static int req_u32(const rill_gguf *g, const char *key, int per_layer,
                   uint32_t n_layer, uint32_t lo, uint32_t hi, uint32_t *out,
                   rill_gguf_error *err) {
  int present, rc = hp_u32(g, key, per_layer, n_layer, out, &present, err);
  if (rc != RILL_OK)
    return rc;
  if (!present)
    return fail(err, RILL_E_FORMAT, "%s: missing (required)", key);
  if (*out < lo || *out > hi)
    return fail(err, RILL_E_FORMAT, "%s: %u is outside %u..%u", key, *out, lo,
                hi);
  return RILL_OK;
}

static int check_arch(const rill_gguf *g, rill_gguf_error *err) {
  const char *s;
  size_t n;
  int rc = rill_gguf_get_str(g, "general.architecture", &s, &n);
  if (rc == RILL_E_NOT_FOUND)
    return fail(err, RILL_E_FORMAT, "general.architecture: missing");
  if (rc != RILL_OK)
    return fail(err, RILL_E_FORMAT, "general.architecture: not a string");
  if (n != strlen(ARCH) || memcmp(s, ARCH, n) != 0)
    return fail(err, RILL_E_UNSUPPORTED,
                "general.architecture: '%.*s' is not supported (the local "
                "embedder computes " ARCH " only)",
                (int)(n > 64 ? 64 : n), s);
  return RILL_OK;
}

/* Layers, context, widths and heads: each in range, heads dividing the
 * width into an even head size, no grouped-query attention. */
static int read_shape(rill__nb_model *m, const rill_gguf *g,
                      rill_gguf_error *err) {
  uint32_t v;
  int present, rc;

  if ((rc = req_u32(g, ARCH ".block_count", 0, 0, 1, RILL__NB_MAX_LAYERS,
                    &m->n_layer, err)) != RILL_OK ||
      (rc = req_u32(g, ARCH ".context_length", 0, 0, 1, RILL__NB_MAX_CTX,
                    &m->n_ctx, err)) != RILL_OK ||
      (rc = req_u32(g, ARCH ".embedding_length", 0, 0, 1, RILL__NB_MAX_EMBD,
                    &m->n_embd, err)) != RILL_OK ||
      (rc = req_u32(g, ARCH ".feed_forward_length", 1, m->n_layer, 1,
                    RILL__NB_MAX_FF, &m->n_ff, err)) != RILL_OK ||
      (rc = req_u32(g, ARCH ".attention.head_count", 1, m->n_layer, 1,
                    RILL__NB_MAX_HEADS, &m->n_head, err)) != RILL_OK)
    return rc;
  /* n_head >= 1 after req_u32; the 0 test keeps the analyzer, which
   * gives up inlining that chain, from seeing a division by zero. */
  if (m->n_head == 0 || m->n_embd % m->n_head != 0)
    return fail(err, RILL_E_FORMAT,
                ARCH ".attention.head_count: %u does not divide "
                "embedding_length %u",
                m->n_head, m->n_embd);
  m->head_dim = m->n_embd / m->n_head;
  if (m->head_dim % 2 != 0)
    return fail(err, RILL_E_FORMAT,
                ARCH ".attention.head_count: head size %u is odd (rotary "
                "embedding pairs need an even size)",
                m->head_dim);

  v = m->n_head;
  if ((rc = hp_u32(g, ARCH ".attention.head_count_kv", 1, m->n_layer, &v,
                   &present, err)) != RILL_OK)
    return rc;
  if (v != m->n_head)
    return fail(err, RILL_E_UNSUPPORTED,
                ARCH ".attention.head_count_kv: %u differs from head_count "
                "%u (grouped-query attention is not nomic-bert)",
                v, m->n_head);
  {
    static const char *const dkeys[] = {ARCH ".rope.dimension_count",
                                        ARCH ".attention.key_length",
                                        ARCH ".attention.value_length"};
    size_t i;
    for (i = 0; i < sizeof dkeys / sizeof dkeys[0]; i++) {
      v = m->head_dim;
      if ((rc = hp_u32(g, dkeys[i], 0, 0, &v, &present, err)) != RILL_OK)
        return rc;
      if (v != m->head_dim)
        return fail(err, RILL_E_UNSUPPORTED,
                    "%s: %u differs from the head size %u", dkeys[i], v,
                    m->head_dim);
    }
  }
  return RILL_OK;
}

static int read_hparams(rill__nb_model *m, const rill_gguf *g,
                        rill_gguf_error *err) {
  const char *s;
  size_t n;
  uint32_t v;
  int present, rc;
  float f;

  if ((rc = check_arch(g, err)) != RILL_OK ||
      (rc = read_shape(m, g, err)) != RILL_OK)
    return rc;

  rc = rill_gguf_get_f32(g, ARCH ".attention.layer_norm_epsilon", &f);
  if (rc == RILL_E_NOT_FOUND)
    return fail(err, RILL_E_FORMAT,
                ARCH ".attention.layer_norm_epsilon: missing (required)");
  if (rc != RILL_OK)
    return fail(err, RILL_E_FORMAT,
                ARCH ".attention.layer_norm_epsilon: not a float");
  /* 0 would divide by zero on a constant row; 1 and above is no layer norm
   * anyone trained. */
  if (!(f > 0.0f && f < 1.0f)) {
    char num[32];
    (void)rill__json_format_double((double)f, num, sizeof num);
    return fail(err, RILL_E_FORMAT,
                ARCH ".attention.layer_norm_epsilon: %s is outside (0, 1)",
                num);
  }
  m->eps = f;

  m->causal = 1;
  rc = rill_gguf_get_bool(g, ARCH ".attention.causal", &m->causal);
  if (rc != RILL_OK && rc != RILL_E_NOT_FOUND)
    return fail(err, RILL_E_FORMAT, ARCH ".attention.causal: not a bool");

  v = 0;
  if ((rc = hp_u32(g, ARCH ".pooling_type", 0, 0, &v, &present, err)) !=
      RILL_OK)
    return rc;
  /* 0 (none: per-token vectors) has no single embedding; nomic models are
   * trained with mean pooling, which is what a file without the key gets. */
  if (v == 0)
    v = RILL__POOL_MEAN;
  if (v > RILL__POOL_LAST)
    return fail(err, RILL_E_UNSUPPORTED,
                ARCH ".pooling_type: %u is not mean (1), cls (2) or last (3)",
                v);
  m->pooling = (int)v;

  m->rope_base = 10000.0;
  rc = rill_gguf_get_f32(g, ARCH ".rope.freq_base", &f);
  if (rc == RILL_OK) {
    if (!(f > 0.0f) || !isfinite(f)) {
      char num[32];
      (void)rill__json_format_double((double)f, num, sizeof num);
      return fail(err, RILL_E_FORMAT, ARCH ".rope.freq_base: %s is not a "
                  "positive number", num);
    }
    m->rope_base = f;
  } else if (rc != RILL_E_NOT_FOUND) {
    return fail(err, RILL_E_FORMAT, ARCH ".rope.freq_base: not a float");
  }
  rc = rill_gguf_get_str(g, ARCH ".rope.scaling.type", &s, &n);
  if (rc == RILL_OK && !(n == 4 && memcmp(s, "none", 4) == 0))
    return fail(err, RILL_E_UNSUPPORTED,
                ARCH ".rope.scaling.type: '%.*s' is not supported",
                (int)(n > 32 ? 32 : n), s);
  return RILL_OK;
}

/* ---- tensors ------------------------------------------------------------- */

typedef struct binder {
  rill__nb_model *m;
  const rill_gguf *g;
  unsigned char *used; /* per tensor index */
  size_t max_copies;
  rill_gguf_error *err;
} binder;

/* Find name; check ne = {ne0, ne1} (ne1 0: a 1-D tensor {ne0}). Returns
 * RILL_OK with *t filled and *data set, RILL_E_NOT_FOUND when absent and
 * optional, or an error. */
static int find(binder *b, const char *name, int required, uint64_t ne0,
                uint64_t ne1, rill_gguf_tensor *t, const void **data) {
  int64_t ix = rill_gguf_find_tensor(b->g, name);
  int d;
  /* rill_gguf_tensor_at lives in another file: without this the analyzer
   * cannot see that *t and *data are set whenever RILL_OK comes back. */
  memset(t, 0, sizeof *t);
  *data = NULL;
  if (ix < 0) {
    if (!required)
      return RILL_E_NOT_FOUND;
    return fail(b->err, RILL_E_FORMAT, "tensor '%s': missing", name);
  }
  if (rill_gguf_tensor_at(b->g, (uint64_t)ix, t) != RILL_OK)
    return fail(b->err, RILL_E_FORMAT, "tensor '%s': unreadable", name);
  for (d = ne1 ? 2 : 1; d < RILL_GGUF_MAX_DIMS; d++)
    if (t->ne[d] != 1)
      break;
  if (t->ne[0] != ne0 || (ne1 && t->ne[1] != ne1) || d < RILL_GGUF_MAX_DIMS) {
    char want[48];
    if (ne1)
      snprintf(want, sizeof want, "{%llu, %llu}", (unsigned long long)ne0,
               (unsigned long long)ne1);
    else
      snprintf(want, sizeof want, "{%llu}", (unsigned long long)ne0);
    return fail(b->err, RILL_E_FORMAT,
                "tensor '%s': shape {%llu, %llu, %llu, %llu}, expected %s",
                name, (unsigned long long)t->ne[0],
                (unsigned long long)t->ne[1], (unsigned long long)t->ne[2],
                (unsigned long long)t->ne[3], want);
  }
  if (rill_gguf_tensor_data(b->g, (uint64_t)ix, data) != RILL_OK)
    return fail(b->err, RILL_E_FORMAT, "tensor '%s': data not mapped", name);
  b->used[ix] = 1;
  b->m->bytes_mapped += t->n_bytes;
  if ((unsigned)t->type < RILL_GGUF_GGML_TYPE_END)
    b->m->types[t->type]++;
  return RILL_OK;
}

static const char *type_name(int type) {
  const char *s = rill_gguf_type_name(type);
  return s ? s : "?";
}

static int bind_mat(binder *b, const char *name, int required, uint64_t in,
                    uint64_t out, rill__wmat *w) {
  rill_gguf_tensor t;
  const void *data;
  int rc = find(b, name, required, in, out, &t, &data);
  if (rc != RILL_OK)
    return rc;
  if (!rill__kernels_supports((int)t.type))
    return fail(b->err, RILL_E_UNSUPPORTED,
                "tensor '%s': type %s (%d) is not supported by the "
                "embedder's kernels",
                name, type_name((int)t.type), (int)t.type);
  w->data = data;
  w->type = (int)t.type;
  w->in = (size_t)in;
  w->out = (size_t)out;
  w->row_bytes = (size_t)t.row_bytes;
  return RILL_OK;
}

/* A float vector of n elements: the first row of a tensor {n} or {n, rows}
 * (rows 0: 1-D). F32 data is used in place; other types are converted
 * into a heap copy. */
static int to_floats(binder *b, const char *name, const rill_gguf_tensor *t,
                     const void *data, uint64_t n, const float **out) {
  float *c;
  uint64_t rb;
  if (t->type == RILL_GGUF_TYPE_F32 && ((uintptr_t)data & 3u) == 0) {
    *out = data;
    return RILL_OK;
  }
  if (t->type == RILL_GGUF_TYPE_Q8_1 ||
      rill_gguf_row_bytes((int)t->type, n, &rb) != RILL_OK)
    return fail(b->err, RILL_E_UNSUPPORTED, "tensor '%s': type %s (%d) is "
                "not supported", name, type_name((int)t->type), (int)t->type);
  if (b->m->n_copies >= b->max_copies)
    return fail(b->err, RILL_E_INTERNAL, "tensor '%s': too many copies", name);
  c = rill__malloc((size_t)n * sizeof *c);
  if (!c)
    return nomem(b->err);
  if (rill_gguf_dequantize((int)t->type, data, (size_t)rb, c, (size_t)n) !=
      RILL_OK) {
    rill__free(c);
    return fail(b->err, RILL_E_UNSUPPORTED, "tensor '%s': cannot convert "
                "type %s", name, type_name((int)t->type));
  }
  b->m->copies[b->m->n_copies++] = c;
  b->m->heap_bytes += (size_t)n * sizeof *c;
  *out = c;
  return RILL_OK;
}

static int bind_vec(binder *b, const char *name, int required, uint64_t n,
                    const float **out) {
  rill_gguf_tensor t;
  const void *data;
  int rc = find(b, name, required, n, 0, &t, &data);
  if (rc != RILL_OK)
    return rc;
  return to_floats(b, name, &t, data, n, out);
}

static int opt_ok(int rc) { return rc == RILL_OK || rc == RILL_E_NOT_FOUND; }

static int bind_layer(binder *b, uint32_t il, rill__nb_layer *l) {
  rill__nb_model *m = b->m;
  uint64_t E = m->n_embd, F = m->n_ff;
  char name[RILL_GGUF_MAX_NAME + 1];
  int rc;
#define NM(suffix) (snprintf(name, sizeof name, "blk.%u." suffix, il), name)
  rc = bind_mat(b, NM("attn_qkv.weight"), 0, E, 3 * E, &l->qkv);
  if (rc == RILL_OK) {
    l->fused = 1;
    if (!opt_ok(rc = bind_vec(b, NM("attn_qkv.bias"), 0, 3 * E, &l->b_qkv)))
      return rc;
    if (rill_gguf_find_tensor(b->g, NM("attn_q.weight")) >= 0)
      return fail(b->err, RILL_E_FORMAT,
                  "tensor '%s': unexpected next to a fused attn_qkv", name);
  } else if (rc == RILL_E_NOT_FOUND) {
    if (rill_gguf_find_tensor(b->g, NM("attn_q.weight")) < 0)
      return fail(b->err, RILL_E_FORMAT,
                  "tensor 'blk.%u.attn_qkv.weight': missing (and no separate "
                  "attn_q/attn_k/attn_v)",
                  il);
    if ((rc = bind_mat(b, NM("attn_q.weight"), 1, E, E, &l->q)) != RILL_OK ||
        (rc = bind_mat(b, NM("attn_k.weight"), 1, E, E, &l->k)) != RILL_OK ||
        (rc = bind_mat(b, NM("attn_v.weight"), 1, E, E, &l->v)) != RILL_OK)
      return rc;
    if (!opt_ok(rc = bind_vec(b, NM("attn_q.bias"), 0, E, &l->b_q)) ||
        !opt_ok(rc = bind_vec(b, NM("attn_k.bias"), 0, E, &l->b_k)) ||
        !opt_ok(rc = bind_vec(b, NM("attn_v.bias"), 0, E, &l->b_v)))
      return rc;
  } else {
    return rc;
  }
  if ((rc = bind_mat(b, NM("attn_output.weight"), 1, E, E, &l->out)) !=
          RILL_OK ||
      !opt_ok(rc = bind_vec(b, NM("attn_output.bias"), 0, E, &l->b_out)) ||
      (rc = bind_vec(b, NM("attn_output_norm.weight"), 1, E, &l->ln1_w)) !=
          RILL_OK ||
      (rc = bind_vec(b, NM("attn_output_norm.bias"), 1, E, &l->ln1_b)) !=
          RILL_OK ||
      (rc = bind_mat(b, NM("ffn_up.weight"), 1, E, F, &l->up)) != RILL_OK ||
      !opt_ok(rc = bind_vec(b, NM("ffn_up.bias"), 0, F, &l->b_up)) ||
      (rc = bind_mat(b, NM("ffn_gate.weight"), 1, E, F, &l->gate)) !=
          RILL_OK ||
      (rc = bind_mat(b, NM("ffn_down.weight"), 1, F, E, &l->down)) !=
          RILL_OK ||
      !opt_ok(rc = bind_vec(b, NM("ffn_down.bias"), 0, E, &l->b_down)) ||
      (rc = bind_vec(b, NM("layer_output_norm.weight"), 1, E, &l->ln2_w)) !=
          RILL_OK ||
      (rc = bind_vec(b, NM("layer_output_norm.bias"), 1, E, &l->ln2_b)) !=
          RILL_OK)
    return rc;
#undef NM
  return RILL_OK;
}

static int bind_all(binder *b) {
  rill__nb_model *m = b->m;
  rill_gguf_tensor t;
  const void *data;
  uint32_t ntt = 0, il;
  int rc;
  rc = find(b, "token_embd.weight", 1, m->n_embd, m->n_vocab, &t, &data);
  if (rc != RILL_OK)
    return rc;
  if (t.type == RILL_GGUF_TYPE_Q8_1 || !rill_gguf_type_name((int)t.type))
    return fail(b->err, RILL_E_UNSUPPORTED,
                "tensor 'token_embd.weight': type %s (%d) is not supported",
                type_name((int)t.type), (int)t.type);
  m->tok_embd = data;
  m->tok_embd_type = (int)t.type;
  m->tok_embd_row_bytes = (size_t)t.row_bytes;

  /* llama.cpp's nomic-bert needs the token type count ("sentence A/B"),
   * and adds row 0 of token_types to every token. */
  rc = rill_gguf_get_u32(b->g, "tokenizer.ggml.token_type_count", &ntt);
  if (rc == RILL_E_NOT_FOUND || (rc == RILL_OK && ntt == 0))
    return fail(b->err, RILL_E_FORMAT,
                "tokenizer.ggml.token_type_count: missing or 0 (" ARCH
                " needs the token type count)");
  if (rc != RILL_OK || ntt > 65536)
    return fail(b->err, RILL_E_FORMAT,
                "tokenizer.ggml.token_type_count: not a count up to 65536");
  rc = find(b, "token_types.weight", 0, m->n_embd, ntt, &t, &data);
  if (rc == RILL_OK)
    rc = to_floats(b, "token_types.weight", &t, data, m->n_embd,
                   &m->tok_type0);
  if (!opt_ok(rc))
    return rc;
  if ((rc = bind_vec(b, "token_embd_norm.weight", 1, m->n_embd, &m->ln0_w)) !=
          RILL_OK ||
      (rc = bind_vec(b, "token_embd_norm.bias", 1, m->n_embd, &m->ln0_b)) !=
          RILL_OK)
    return rc;
  for (il = 0; il < m->n_layer; il++)
    if ((rc = bind_layer(b, il, &m->layers[il])) != RILL_OK)
      return rc;
  return RILL_OK;
}

void rill__nb_free(rill__nb_model *m) {
  size_t i;
  if (!m)
    return;
  for (i = 0; i < m->n_copies; i++)
    rill__free(m->copies[i]);
  rill__free(m->copies);
  rill__free(m->layers);
  memset(m, 0, sizeof *m);
}

int rill__nb_load(rill__nb_model *m, const rill_gguf *g, uint32_t n_vocab,
                  rill_gguf_error *err) {
  rill_gguf_info gi;
  binder b;
  uint64_t i;
  int rc;

  memset(m, 0, sizeof *m);
  if ((rc = read_hparams(m, g, err)) != RILL_OK)
    return rc;
  if (n_vocab == 0)
    return fail(err, RILL_E_FORMAT, "tokenizer.ggml.tokens: empty");
  m->n_vocab = n_vocab;
  if (rill_gguf_get_info(g, &gi) != RILL_OK || !gi.mapped)
    return fail(err, RILL_E_STATE, "the model's weights are not mapped");

  memset(&b, 0, sizeof b);
  b.m = m;
  b.g = g;
  b.err = err;
  /* token_types, token_embd_norm x2, and per layer at most 11 vectors. */
  b.max_copies = 3 + (size_t)m->n_layer * 11;
  m->layers = rill__calloc(m->n_layer, sizeof *m->layers);
  m->copies = rill__calloc(b.max_copies, sizeof *m->copies);
  b.used = rill__calloc(gi.n_tensors ? (size_t)gi.n_tensors : 1, 1);
  if (!m->layers || !m->copies || !b.used) {
    rc = nomem(err);
    goto out;
  }
  m->heap_bytes = m->n_layer * sizeof *m->layers +
                  b.max_copies * sizeof *m->copies;
  if ((rc = bind_all(&b)) != RILL_OK)
    goto out;
  /* llama.cpp fails a file with tensors it did not ask for ("wrong number
   * of tensors"): such a file is not the model it claims to be. */
  for (i = 0; i < gi.n_tensors; i++) {
    rill_gguf_tensor t;
    if (b.used[i])
      continue;
    if (rill_gguf_tensor_at(g, i, &t) != RILL_OK)
      t.name = "?";
    rc = fail(err, RILL_E_FORMAT, "tensor '%s': unexpected in a " ARCH
              " model", t.name);
    goto out;
  }
out:
  rill__free(b.used);
  if (rc != RILL_OK)
    rill__nb_free(m);
  return rc;
}
