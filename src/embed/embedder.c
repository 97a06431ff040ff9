/*
 * The local embedder: rill/embed.h's open, embed, tokenize, info, ref and
 * close over a mapped GGUF model (model.c), its WordPiece tokenizer
 * (tokenizer.c), the kernels (kernels*.c), the worker pool (threadpool.c)
 * and the forward pass (forward.c).
 *
 * What the heap holds: between calls, the GGUF index, the tokenizer's
 * vocabulary index, the model's tensor index and the pool's thread
 * handles; during a call, the result, one id buffer of max_tokens ids and
 * one scratch block sized for the longest text seen so far in the call
 * (linear in its tokens). Weights are never copied.
 */
#include "embed/embedder.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "embed/forward.h"
#include "embed/ops.h"
#include "rill/error.h"

/* Threads above this are refused rather than started: no CPU the embedder
 * runs on has more cores, and each costs a stack. */
#define MAX_THREADS 256
/* nomic's Matryoshka recipe: F.layer_norm's default eps. */
#define MATRYOSHKA_EPS 1e-5f

void rill__embed_msg(char *errmsg, size_t cap, const char *fmt, ...) {
  va_list ap;
  if (!errmsg || cap == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(errmsg, cap, fmt, ap);
  va_end(ap);
}

static void set_err(rill_gguf_error *err, const char *msg) {
  if (!err)
    return;
  err->offset = 0;
  snprintf(err->message, sizeof err->message, "%s", msg);
}

/* min(size, sizeof) bytes of a caller's options; size 0 means the
 * caller's struct is ours. */
static void copy_opts(void *dst, size_t dst_size, const void *src,
                      size_t src_size) {
  memset(dst, 0, dst_size);
  if (!src)
    return;
  if (src_size == 0 || src_size > dst_size)
    src_size = dst_size;
  memcpy(dst, src, src_size);
}

static void local_free(rill_embedder *e) {
  rill__tpool_free(e->pool);
  rill__nb_free(&e->m);
  rill__wpm_free(e->tok);
  rill_gguf_close(e->g);
}

rill_embedder *rill_embedder_ref(rill_embedder *e) {
  if (e)
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
  return e;
}

void rill_embedder_close(rill_embedder *e) {
  if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
    return;
  if (e->local)
    local_free(e);
  else
    rill__remote_free(e);
  rill__free(e->model_name);
  rill__free(e);
}

/* ---- tokenizing a text with the call's prefix ---------------------------- */

static int ends_with_space(const char *s, size_t n) {
  char c = n ? s[n - 1] : 'x';
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
         c == '\v';
}

/* Tokens of prefix + text into ids[0..cap), *n_full the whole count. A
 * prefix that ends in whitespace ends a word, so the text tokenizes the
 * same on its own: then the two are tokenized in turn without copying the
 * text. Otherwise they are joined in a heap copy. */
static int tokenize_call(const rill_embedder *e, const char *prefix,
                         size_t plen, const char *text, size_t len,
                         int32_t *ids, size_t cap, size_t *n_full) {
  size_t np = 0, nt = 0, kp, kt;
  int rc;
  if (plen == 0) {
    rc = rill__wpm_tokenize(e->tok, text, len, 1, ids, cap, n_full);
    return rc == RILL_E_LIMIT ? RILL_OK : rc;
  }
  if (!e->has_specials || !ends_with_space(prefix, plen)) {
    char *buf;
    if (len > SIZE_MAX - plen)
      return RILL_E_LIMIT;
    buf = rill__malloc(plen + len);
    if (!buf)
      return RILL_E_NOMEM;
    memcpy(buf, prefix, plen);
    if (len)
      memcpy(buf + plen, text, len);
    rc = rill__wpm_tokenize(e->tok, buf, plen + len, 1, ids, cap, n_full);
    rill__free(buf);
    return rc == RILL_E_LIMIT ? RILL_OK : rc;
  }
  /* cap >= 2 (max_tokens >= 2) */
  ids[0] = e->cls;
  rc = rill__wpm_tokenize(e->tok, prefix, plen, 0, ids + 1, cap - 1, &np);
  if (rc != RILL_OK && rc != RILL_E_LIMIT)
    return rc;
  kp = np < cap - 1 ? np : cap - 1;
  rc = rill__wpm_tokenize(e->tok, text, len, 0, ids + 1 + kp, cap - 1 - kp,
                          &nt);
  if (rc != RILL_OK && rc != RILL_E_LIMIT)
    return rc;
  kt = nt < cap - 1 - kp ? nt : cap - 1 - kp;
  if (1 + kp + kt < cap)
    ids[1 + kp + kt] = e->sep;
  *n_full = 2 + np + nt;
  return RILL_OK;
}

/* ---- one call ------------------------------------------------------------ */

/* The vector the caller asked for, from the pooled one. */
static void finish_vec(const rill_embedder *e, const rill_embed_options *o,
                       float *pooled, float *dst, size_t dims) {
  size_t E = e->m.n_embd;
  if (o->no_normalize) {
    memcpy(dst, pooled, E * sizeof *dst);
    return;
  }
  if (o->dims) {
    /* nomic v1.5: F.layer_norm over the whole pooled vector (no affine),
     * keep the first dims, then L2. */
    rill__layer_norm(pooled, pooled, E, NULL, NULL, MATRYOSHKA_EPS);
  }
  memcpy(dst, pooled, dims * sizeof *dst);
  rill__l2_normalize(dst, dims);
}

/* Text i's n_full tokens against the limit: refused, or cut with [SEP]
 * put back last; *nt the count to run. */
static int fit_tokens(const rill_embedder *e, size_t i, size_t n_full,
                      int32_t *ids, size_t *nt, char *errmsg,
                      size_t errmsg_cap) {
  *nt = n_full;
  if (*nt > e->max_tokens) {
    if (e->overflow == RILL_EMBED_REFUSE) {
      rill__embed_msg(errmsg, errmsg_cap,
                      "text %zu has %zu tokens, more than the limit %u", i,
                      *nt, (unsigned)e->max_tokens);
      return RILL_E_LIMIT;
    }
    *nt = e->max_tokens;
    if (e->has_specials)
      ids[*nt - 1] = e->sep;
  }
  if (*nt == 0) {
    rill__embed_msg(errmsg, errmsg_cap, "text %zu has no tokens", i);
    return RILL_E_INVALID;
  }
  return RILL_OK;
}

/* Replace the scratch area by one of need bytes (its contents are not
 * kept: each forward pass starts afresh). */
static int grow_scratch(void **scratch, size_t *cap, size_t need) {
  rill__free(*scratch);
  *scratch = rill__malloc(need);
  *cap = *scratch ? need : 0;
  return *scratch ? RILL_OK : RILL_E_NOMEM;
}

/* dims within the model's width E (and only with normalising), and n
 * vectors of dims floats addressable. */
static int check_sizes(const rill_embed_options *o, size_t E, size_t n,
                       size_t dims, char *errmsg, size_t errmsg_cap) {
  if (o->dims > E || (o->no_normalize && o->dims)) {
    rill__embed_msg(errmsg, errmsg_cap,
                    o->dims > E ? "dims %u exceeds the model's width %zu"
                                : "dims %u with no_normalize",
                    (unsigned)o->dims, E);
    return RILL_E_INVALID;
  }
  if (n > SIZE_MAX / sizeof(float) / dims) {
    rill__embed_msg(errmsg, errmsg_cap, "too many texts");
    return RILL_E_LIMIT;
  }
  return RILL_OK;
}

static int local_embed(rill_embedder *e, const char *const *texts,
                       const size_t *lens, size_t n,
                       const rill_embed_options *o, rill_embeddings **out,
                       char *errmsg, size_t errmsg_cap) {
  size_t E = e->m.n_embd, dims = o->dims ? o->dims : E, i;
  size_t plen = o->prefix ? strlen(o->prefix) : 0, scratch_cap = 0;
  rill_embeddings *res;
  int32_t *ids = NULL;
  float *pooled = NULL;
  void *scratch = NULL;
  int rc = RILL_OK;

  rc = check_sizes(o, E, n, dims, errmsg, errmsg_cap);
  if (rc != RILL_OK)
    return rc;
  res = rill__calloc(1, sizeof *res);
  if (res)
    res->data = rill__malloc(n * dims * sizeof(float));
  ids = rill__malloc(e->max_tokens * sizeof *ids + E * sizeof(float));
  if (!res || !res->data || !ids) {
    rc = RILL_E_NOMEM;
    goto fail;
  }
  pooled = (float *)(void *)(ids + e->max_tokens);
  res->n = n;
  res->dims = dims;
  for (i = 0; i < n; i++) {
    size_t len = lens ? lens[i] : strlen(texts[i]), n_full = 0, nt, need;
    rc = tokenize_call(e, o->prefix, plen, texts[i], len, ids, e->max_tokens,
                       &n_full);
    if (rc != RILL_OK)
      goto fail;
    rc = fit_tokens(e, i, n_full, ids, &nt, errmsg, errmsg_cap);
    if (rc != RILL_OK)
      goto fail;
    need = rill__fw_scratch_bytes(&e->m, e->k, nt);
    if (need > scratch_cap && (rc = grow_scratch(&scratch, &scratch_cap,
                                                 need)) != RILL_OK)
      goto fail;
    rc = rill__fw_run(&e->m, e->k, e->pool, ids, nt, scratch, pooled);
    if (rc != RILL_OK) {
      rill__embed_msg(errmsg, errmsg_cap, "text %zu: internal error", i);
      goto fail;
    }
    finish_vec(e, o, pooled, res->data + i * dims, dims);
    res->input_tokens += (int64_t)nt;
  }
  rill__free(scratch);
  rill__free(ids);
  *out = res;
  return RILL_OK;
fail:
  if (rc == RILL_E_NOMEM)
    rill__embed_msg(errmsg, errmsg_cap, "out of memory");
  rill__free(scratch);
  rill__free(ids);
  rill_embeddings_free(res);
  return rc;
}

int rill_embedder_embed(rill_embedder *e, const char *const *texts,
                        const size_t *lens, size_t n,
                        const rill_embed_options *opt, rill_embeddings **out,
                        char *errmsg, size_t errmsg_cap) {
  rill_embed_options o;
  size_t i;
  if (out)
    *out = NULL;
  if (errmsg && errmsg_cap)
    errmsg[0] = '\0';
  if (!e || !out || !texts || n == 0) {
    rill__embed_msg(errmsg, errmsg_cap, "%s", rill_strerror(RILL_E_INVALID));
    return RILL_E_INVALID;
  }
  for (i = 0; i < n; i++)
    if (!texts[i]) {
      rill__embed_msg(errmsg, errmsg_cap, "text %zu is NULL", i);
      return RILL_E_INVALID;
    }
  copy_opts(&o, sizeof o, opt, opt ? opt->size : 0);
  if (!e->local)
    return rill__remote_embed(e, texts, lens, n, &o, out, errmsg, errmsg_cap);
  return local_embed(e, texts, lens, n, &o, out, errmsg, errmsg_cap);
}

int rill_embedder_tokenize(const rill_embedder *e, const char *text,
                           size_t len, int add_special, int32_t *ids,
                           size_t cap, size_t *n_out) {
  if (n_out)
    *n_out = 0;
  if (!e || (!text && len) || (!ids && cap) || !n_out)
    return RILL_E_INVALID;
  if (!e->local)
    return RILL_E_UNSUPPORTED;
  return rill__wpm_tokenize(e->tok, text ? text : "", len, add_special != 0,
                            ids, cap, n_out);
}

int rill_embedder_get_info(const rill_embedder *e, rill_embedder_info *out) {
  rill_gguf_info gi;
  if (!e || !out)
    return RILL_E_INVALID;
  memset(out, 0, sizeof *out);
  out->local = e->local;
  out->model = e->model_name;
  if (!e->local)
    return RILL_OK;
  out->architecture = "nomic-bert";
  out->dims = e->m.n_embd;
  out->context = e->max_tokens;
  out->n_layers = e->m.n_layer;
  out->n_heads = e->m.n_head;
  out->vocab_size = e->m.n_vocab;
  out->n_threads = rill__tpool_threads(e->pool);
  out->kernels = e->k->name;
  out->bytes_mapped = e->m.bytes_mapped;
  out->heap_bytes = sizeof *e + e->m.heap_bytes +
                    rill__wpm_heap_bytes(e->tok) +
                    (uint64_t)out->n_threads * sizeof(pthread_t);
  if (rill_gguf_get_info(e->g, &gi) == RILL_OK)
    out->heap_bytes += gi.heap_bytes;
  memcpy(out->types, e->m.types, sizeof out->types);
  return RILL_OK;
}

/* ---- open ---------------------------------------------------------------- */

typedef struct touch_job {
  const rill_gguf *g;
  size_t page;
  atomic_uint sink;
} touch_job;

/* Read one byte per page of tensor i, so its pages are resident before the
 * first call needs them. */
static void touch_task(void *ctx, size_t i) {
  touch_job *j = ctx;
  rill_gguf_tensor t;
  const void *data;
  const volatile unsigned char *p;
  uint64_t off;
  unsigned acc = 0;
  if (rill_gguf_tensor_at(j->g, i, &t) != RILL_OK ||
      rill_gguf_tensor_data(j->g, i, &data) != RILL_OK)
    return;
  p = data;
  for (off = 0; off < t.n_bytes; off += j->page)
    acc += p[off];
  atomic_fetch_add_explicit(&j->sink, acc, memory_order_relaxed);
}

static int preload(rill_embedder *e) {
  rill_gguf_info gi;
  touch_job j;
  rill_embeddings *r = NULL;
  rill_embed_options o;
  const char *warm = "warm up";
  long ps = sysconf(_SC_PAGESIZE);
  int rc;
  if (rill_gguf_get_info(e->g, &gi) != RILL_OK)
    return RILL_E_INTERNAL;
  j.g = e->g;
  j.page = ps > 0 ? (size_t)ps : 4096;
  atomic_init(&j.sink, 0u);
  rill__tpool_run(e->pool, (size_t)gi.n_tensors, touch_task, &j);
  memset(&o, 0, sizeof o);
  rc = local_embed(e, &warm, NULL, 1, &o, &r, NULL, 0);
  rill_embeddings_free(r);
  return rc;
}

static int online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

/* The model file, its tokenizer and its weights into e, with the token
 * limit and the special ids; err is set on failure. */
static int load_model(rill_embedder *e, const char *model,
                      const rill_embedder_options *o, rill_gguf_error *err) {
  rill_gguf_options go;
  int32_t sp[2];
  size_t nsp = 0;
  int rc;
  /* Weights are read in place by the kernels: a copy would be the whole
   * model on the heap, so the embedder always maps. */
  memset(&go, 0, sizeof go);
  go.prefetch = o->preload;
  rc = rill_gguf_open_model(&e->g, model, o->models_dir, &go, err);
  if (rc != RILL_OK)
    return rc;
  rc = rill__wpm_new(&e->tok, e->g, err);
  if (rc != RILL_OK)
    return rc;
  rc = rill__nb_load(&e->m, e->g, rill__wpm_vocab_size(e->tok), err);
  if (rc != RILL_OK)
    return rc;
  e->k = rill__kernels_get(o->force_scalar);
  e->max_tokens = o->max_tokens && o->max_tokens < e->m.n_ctx ? o->max_tokens
                                                              : e->m.n_ctx;
  if (e->max_tokens < 2) {
    set_err(err, "nomic-bert.context_length: 1 leaves no room for [CLS] "
                 "and [SEP]");
    return RILL_E_FORMAT;
  }
  /* The ids of [CLS] and [SEP] as the tokenizer adds them: what prefix
   * splicing and truncation put back. */
  if (rill__wpm_tokenize(e->tok, "", 0, 1, sp, 2, &nsp) == RILL_OK &&
      nsp == 2) {
    e->has_specials = 1;
    e->cls = sp[0];
    e->sep = sp[1];
  }
  return RILL_OK;
}

int rill_embedder_open(rill_embedder **out, const char *model,
                       const rill_embedder_options *opt,
                       rill_gguf_error *err) {
  rill_embedder_options o;
  rill_gguf_error local_err;
  rill_embedder *e;
  int rc, nt;

  if (!err)
    err = &local_err;
  memset(err, 0, sizeof *err);
  if (out)
    *out = NULL;
  if (!out || !model) {
    set_err(err, "no output or no model given");
    return RILL_E_INVALID;
  }
  copy_opts(&o, sizeof o, opt, opt ? opt->size : 0);
  if (o.n_threads < 0 || o.n_threads > MAX_THREADS || o.max_tokens == 1 ||
      (o.overflow != RILL_EMBED_TRUNCATE && o.overflow != RILL_EMBED_REFUSE)) {
    set_err(err, "invalid options (n_threads 0..256, max_tokens 0 or >= 2, "
                 "overflow truncate or refuse)");
    return RILL_E_INVALID;
  }
  nt = o.n_threads ? o.n_threads : online_cpus();

  e = rill__calloc(1, sizeof *e);
  if (!e) {
    set_err(err, "out of memory");
    return RILL_E_NOMEM;
  }
  atomic_init(&e->refs, 1);
  e->local = 1;
  e->overflow = (int)o.overflow;
  e->model_name = rill__strndup(model, strlen(model));
  if (!e->model_name) {
    rc = RILL_E_NOMEM;
    set_err(err, "out of memory");
    goto fail;
  }
  rc = load_model(e, model, &o, err);
  if (rc != RILL_OK)
    goto fail;
  rc = rill__tpool_new(&e->pool, nt);
  if (rc != RILL_OK) {
    set_err(err, rc == RILL_E_NOMEM ? "out of memory"
                                    : "could not start the worker threads");
    goto fail;
  }
  if (o.preload) {
    rc = preload(e);
    if (rc != RILL_OK) {
      set_err(err, rc == RILL_E_NOMEM ? "out of memory"
                                      : "the warm-up embedding failed");
      goto fail;
    }
  }
  *out = e;
  return RILL_OK;
fail:
  local_free(e);
  rill__free(e->model_name);
  rill__free(e);
  return rc;
}
