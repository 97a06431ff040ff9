/*
 * providers/manage.c — the calls that are not chats: model lists, model
 * info, version, pull, and remote embeddings, for Ollama and
 * OpenAI-compatible servers. Each answer is one whole JSON object (WHOLE
 * framing), except the pull progress (NDJSON).
 *
 * Fields written:
 *   Ollama POST /api/pull  {model, stream:true}
 *   Ollama POST /api/show  {model}
 *   Ollama POST /api/embed {model, input[], truncate, dimensions, keep_alive}
 *   OpenAI POST /embeddings {model, input[], dimensions, encoding_format:
 *          "float"}
 * Fields read:
 *   Ollama /api/tags, /api/ps: models[] {name (else model), modified_at,
 *          size, digest, details{family, parameter_size,
 *          quantization_level}, size_vram, expires_at}
 *   OpenAI /models: data[] {id, owned_by}
 *   Ollama /api/pull lines: status ("success" ends), digest, completed,
 *          total; error
 *   Ollama /api/embed: embeddings[][], prompt_eval_count
 *   OpenAI /embeddings: data[] {index, embedding[]}, usage.prompt_tokens
 *   Gemini :embedContent embedding.values[]; :batchEmbedContents
 *          embeddings[].values[] (requests built in providers/gemini.c;
 *          GET /models is read as Ollama's list: models[].name)
 *   Ollama /api/version: version;  /api/show: the whole object as text
 *   Any of them: error (string or {message}) → the call fails.
 */
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

/* Embedding answers hold one token per number: a 64 MiB body of floats
 * (~12 bytes each) is about 5.6 M tokens; 8 M tokens (160 MB of token
 * array) is the ceiling. */
#define EMBED_MAX_BODY ((size_t)64 << 20)
#define EMBED_MAX_TOKENS (8u << 20)
#define LIST_MAX_TOKENS (1u << 20)

/* ---- model lists ------------------------------------------------------- */

typedef struct models_dec {
  rill__mdec m;
  int kind; /* 0 tags, 1 ps, 2 openai */
  rill_model_fn fn;
  void *user;
  rill__buf strs; /* the strings of one model, NUL-separated */
} models_dec;

/* Append the unescaped string at token i (absent: "") + NUL; *off gets its
 * offset in strs. */
static int add_str(models_dec *d, int i, size_t *off) {
  int rc = RILL_OK;
  *off = d->strs.len;
  if (rill__json_is_string(&d->m.js, i))
    rc = rill__json_unescape(&d->m.js, i, &d->strs);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->strs, '\0');
  return rc;
}

static int one_model(models_dec *d, int o) {
  const rill__json *js = &d->m.js;
  enum { NAME, MOD, DIGEST, FAMILY, PSIZE, QUANT, OWNED, EXPIRES, N };
  size_t off[N];
  rill_model_info mi;
  int det = rill__json_getz(js, o, "details"), rc = RILL_OK;
  int name = rill__json_getz(js, o, d->kind == 2 ? "id" : "name");
  if (!rill__json_is_string(js, name) && d->kind != 2)
    name = rill__json_getz(js, o, "model");
  rill__buf_clear(&d->strs);
  rc = add_str(d, name, &off[NAME]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, o, "modified_at"), &off[MOD]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, o, "digest"), &off[DIGEST]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, det, "family"), &off[FAMILY]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, det, "parameter_size"), &off[PSIZE]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, det, "quantization_level"),
                 &off[QUANT]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, o, "owned_by"), &off[OWNED]);
  if (rc == RILL_OK)
    rc = add_str(d, rill__json_getz(js, o, "expires_at"), &off[EXPIRES]);
  if (rc != RILL_OK)
    return rill__pdec_fail(&d->m.p, rc, 0, "model list: %s",
                           rill_strerror(rc));
  mi.name = d->strs.data + off[NAME];
  mi.modified_at = d->strs.data + off[MOD];
  mi.digest = d->strs.data + off[DIGEST];
  mi.family = d->strs.data + off[FAMILY];
  mi.parameter_size = d->strs.data + off[PSIZE];
  mi.quantization = d->strs.data + off[QUANT];
  mi.owned_by = d->strs.data + off[OWNED];
  mi.expires_at = d->strs.data + off[EXPIRES];
  mi.size = rill__json_member_i64(js, o, "size");
  mi.size_vram = rill__json_member_i64(js, o, "size_vram");
  if (d->kind == 2) {
    mi.size = -1;
    mi.size_vram = -1;
  } else if (d->kind == 0) {
    mi.size_vram = -1;
  }
  rill__stream_content(d->m.p.base.stream);
  if (d->fn && d->fn(d->user, &mi) != 0)
    return rill__pdec_fail(&d->m.p, RILL_E_CANCELLED, 0,
                           "cancelled by the application");
  return RILL_OK;
}

static int models_record(rill__decoder *base, const char *rec, size_t len) {
  models_dec *d = (models_dec *)base;
  const rill__json *js = &d->m.js;
  int rc, arr, o;
  if (d->m.done)
    return RILL_OK;
  rc = rill__mdec_parse(&d->m, rec, len, "the model list");
  if (rc != RILL_OK)
    return rc;
  d->strs.pool = rill__stream_pool(d->m.p.base.stream);
  arr = rill__json_getz(js, 0, d->kind == 2 ? "data" : "models");
  if (arr >= 0 && rill__json_is_null(js, arr))
    arr = -1; /* Ollama may send "models":null for none */
  if (arr >= 0 && !rill__json_is_array(js, arr))
    return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0,
                           "the model list is not an array");
  if (arr < 0 && d->kind == 2)
    return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0,
                           "the answer has no \"data\" list");
  for (o = rill__json_first(js, arr); o >= 0;
       o = rill__json_next(js, arr, o)) {
    if (!rill__json_is_object(js, o))
      continue;
    rc = one_model(d, o);
    if (rc != RILL_OK)
      return rc;
  }
  d->m.done = 1;
  return RILL_OK;
}

static void models_destroy(rill__decoder *base) {
  models_dec *d = (models_dec *)base;
  if (!d)
    return;
  rill__buf_release(&d->strs);
  rill__mdec_release(&d->m);
  rill__free(d);
}

static const rill__decoder_ops models_ops = {
    models_record,         NULL,          rill__mdec_end,
    rill__mdec_http_error, rill__mdec_failure, models_destroy};

static int models_new(int kind, rill_model_fn fn, void *user, char *errmsg,
                      size_t errmsg_cap, rill__decoder **out) {
  models_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  rill__mdec_init(&d->m, &models_ops, errmsg, errmsg_cap, LIST_MAX_TOKENS);
  d->kind = kind;
  d->fn = fn;
  d->user = user;
  rill__buf_init(&d->strs, NULL, (size_t)1 << 20);
  *out = &d->m.p.base;
  return RILL_OK;
}

int rill__ollama_models_decoder_new(int ps, rill_model_fn fn, void *user,
                                    char *errmsg, size_t errmsg_cap,
                                    rill__decoder **out) {
  return models_new(ps ? 1 : 0, fn, user, errmsg, errmsg_cap, out);
}

int rill__openai_models_decoder_new(rill_model_fn fn, void *user, char *errmsg,
                                    size_t errmsg_cap, rill__decoder **out) {
  return models_new(2, fn, user, errmsg, errmsg_cap, out);
}

/* ---- pull progress ----------------------------------------------------- */

typedef struct pull_dec {
  rill__mdec m;
  rill_pull_fn fn;
  void *user;
  rill__buf strs;
} pull_dec;

static int pull_record(rill__decoder *base, const char *rec, size_t len) {
  pull_dec *d = (pull_dec *)base;
  const rill__json *js = &d->m.js;
  rill_pull_progress pp;
  size_t dig;
  int rc, st, dg;
  if (d->m.done)
    return RILL_OK;
  rc = rill__mdec_parse(&d->m, rec, len, "a progress line");
  if (rc != RILL_OK)
    return rc;
  d->strs.pool = rill__stream_pool(d->m.p.base.stream);
  st = rill__json_getz(js, 0, "status");
  if (!rill__json_is_string(js, st))
    return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0,
                           "a progress line without a status");
  dg = rill__json_getz(js, 0, "digest");
  rill__buf_clear(&d->strs);
  rc = rill__json_unescape(js, st, &d->strs);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->strs, '\0');
  dig = d->strs.len;
  if (rc == RILL_OK && rill__json_is_string(js, dg))
    rc = rill__json_unescape(js, dg, &d->strs);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->strs, '\0');
  if (rc != RILL_OK)
    return rill__pdec_fail(&d->m.p, rc, 0, "progress line: %s",
                           rill_strerror(rc));
  pp.status = d->strs.data;
  pp.digest = d->strs.data + dig;
  pp.completed = rill__json_member_i64(js, 0, "completed");
  pp.total = rill__json_member_i64(js, 0, "total");
  if (!strcmp(pp.status, "success"))
    d->m.done = 1;
  rill__stream_content(d->m.p.base.stream);
  if (d->fn && d->fn(d->user, &pp) != 0 && !d->m.done)
    return rill__pdec_fail(&d->m.p, RILL_E_CANCELLED, 0,
                           "cancelled by the application");
  return RILL_OK;
}

static int pull_end(rill__decoder *base) {
  pull_dec *d = (pull_dec *)base;
  if (d->m.done)
    return RILL_OK;
  return rill__pdec_fail(&d->m.p, RILL__E_TRUNCATED_STREAM, 0,
                         "truncated stream: the pull ended without "
                         "\"success\"");
}

static void pull_destroy(rill__decoder *base) {
  pull_dec *d = (pull_dec *)base;
  if (!d)
    return;
  rill__buf_release(&d->strs);
  rill__mdec_release(&d->m);
  rill__free(d);
}

static const rill__decoder_ops pull_ops = {
    pull_record, NULL, pull_end, rill__mdec_http_error, rill__mdec_failure,
    pull_destroy};

int rill__ollama_pull_decoder_new(rill_pull_fn fn, void *user, char *errmsg,
                                  size_t errmsg_cap, rill__decoder **out) {
  pull_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  rill__mdec_init(&d->m, &pull_ops, errmsg, errmsg_cap, 0);
  d->fn = fn;
  d->user = user;
  rill__buf_init(&d->strs, NULL, (size_t)1 << 20);
  *out = &d->m.p.base;
  return RILL_OK;
}

int rill__ollama_pull_build(const rill_endpoint *ep, const char *model,
                            rill__pool *pool, rill__request *r) {
  rill_jw *w = NULL;
  int rc;
  (void)pool;
  if (!model || !*model)
    return RILL_E_INVALID;
  rc = rill__request_setup(r, ep, "POST", "/api/pull", RILL__FRAME_NDJSON);
  if (rc == RILL_OK)
    rc = rill_jw_new(&w, 1 << 20);
  if (rc != RILL_OK)
    return rc;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "model", model);
  rill_jw_key(w, "stream", 6);
  rill_jw_bool(w, 1);
  rill_jw_object_end(w);
  rc = rill__request_body(r, w);
  rill_jw_free(w);
  return rc;
}

/* ---- embeddings -------------------------------------------------------- */

typedef struct embed_dec {
  rill__mdec m;
  int format; /* RILL__EMBED_* */
  size_t n_expected;
  rill_embeddings **slot;
  rill_embeddings *res;
} embed_dec;

static int embed_fail(embed_dec *d, const char *why) {
  return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0, "embeddings: %s", why);
}

/* Copy the numbers of array token row into dst[0..dims). */
static int read_row(embed_dec *d, int row, float *dst, size_t dims) {
  const rill__json *js = &d->m.js;
  size_t k = 0;
  int v;
  for (v = rill__json_first(js, row); v >= 0;
       v = rill__json_next(js, row, v), k++) {
    double x;
    if (k >= dims || rill__json_double(js, v, &x) != RILL_OK)
      return embed_fail(d, "a value is not a number, or ragged dimensions");
    dst[k] = (float)x;
  }
  if (k != dims)
    return embed_fail(d, "ragged dimensions");
  return RILL_OK;
}

/* An OpenAI row el: its "embedding" array into *row, and its "index"
 * (default: its position, already in *at) checked against n and the rows
 * seen so far. */
static int openai_row(embed_dec *d, int el, size_t n, unsigned char *seen,
                      size_t *at, int *row) {
  const rill__json *js = &d->m.js;
  int64_t ix;
  int it = rill__json_getz(js, el, "index");
  *row = rill__json_getz(js, el, "embedding");
  if (it >= 0) {
    if (rill__json_int64(js, it, &ix) != RILL_OK || ix < 0 ||
        (uint64_t)ix >= n)
      return embed_fail(d, "an index is out of range");
    *at = (size_t)ix;
  }
  if (seen[*at])
    return embed_fail(d, "two vectors with the same index");
  seen[*at] = 1;
  return RILL_OK;
}

/* Every vector from el on (el alone when single >= 0) into e->data. */
static int read_rows(embed_dec *d, int arr, int el, int single,
                     rill_embeddings *e) {
  const rill__json *js = &d->m.js;
  int is_openai = d->format == RILL__EMBED_OPENAI, rc = RILL_OK;
  size_t i;
  /* OpenAI rows may come in any order: each says its index. */
  unsigned char *seen = is_openai ? rill__calloc(e->n, 1) : NULL;
  if (is_openai && !seen)
    return rill__pdec_fail(&d->m.p, RILL_E_NOMEM, 0, "out of memory");
  for (i = 0; el >= 0 && rc == RILL_OK;
       el = single >= 0 ? -1 : rill__json_next(js, arr, el), i++) {
    size_t at = i;
    int row = d->format == RILL__EMBED_GEMINI ? rill__json_getz(js, el, "values")
                                              : el;
    if (is_openai && (rc = openai_row(d, el, e->n, seen, &at, &row)) != RILL_OK)
      break;
    if (!rill__json_is_array(js, row)) {
      rc = embed_fail(d, "a vector is not an array");
      break;
    }
    rc = read_row(d, row, e->data + at * e->dims, e->dims);
  }
  rill__free(seen);
  return rc;
}

static int embed_record(rill__decoder *base, const char *rec, size_t len) {
  embed_dec *d = (embed_dec *)base;
  const rill__json *js = &d->m.js;
  /* OpenAI lists {index, embedding} objects under "data", placed by index,
   * with usage.prompt_tokens; Ollama and Gemini list the vectors in order. */
  int is_openai = d->format == RILL__EMBED_OPENAI;
  int rc, arr, el, first_row, single = -1;
  size_t n = 0, dims;
  rill_embeddings *e;
  if (d->m.done)
    return RILL_OK;
  rc = rill__mdec_parse(&d->m, rec, len, "the embeddings answer");
  if (rc != RILL_OK)
    return rc;
  arr = rill__json_getz(js, 0, is_openai ? "data" : "embeddings");
  if (d->format == RILL__EMBED_GEMINI && !rill__json_is_array(js, arr)) {
    /* :embedContent answers {"embedding":{"values":[…]}} */
    single = rill__json_getz(js, 0, "embedding");
    if (!rill__json_is_object(js, single))
      return embed_fail(d, "no vector in the answer");
  } else if (!rill__json_is_array(js, arr))
    return embed_fail(d, "no list of vectors in the answer");
  n = single >= 0 ? 1 : (size_t)rill__json_tok(js, arr)->size;
  if (n != d->n_expected)
    return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0,
                           "embeddings: %zu vectors for %zu inputs", n,
                           d->n_expected);
  el = single >= 0 ? single : rill__json_first(js, arr);
  first_row = is_openai ? rill__json_getz(js, el, "embedding")
              : d->format == RILL__EMBED_GEMINI ? rill__json_getz(js, el, "values")
                                                : el;
  if (!rill__json_is_array(js, first_row))
    return embed_fail(d, "a vector is not an array");
  dims = (size_t)rill__json_tok(js, first_row)->size;
  if (dims == 0)
    return embed_fail(d, "empty vectors");
  e = rill__calloc(1, sizeof *e);
  if (!e)
    return rill__pdec_fail(&d->m.p, RILL_E_NOMEM, 0, "out of memory");
  d->res = e;
  e->n = n;
  e->dims = dims;
  e->data = rill__calloc(n, dims * sizeof(float));
  if (!e->data)
    return rill__pdec_fail(&d->m.p, RILL_E_NOMEM, 0, "out of memory");
  rc = read_rows(d, arr, el, single, e);
  if (rc != RILL_OK)
    return rc;
  e->input_tokens = d->format == RILL__EMBED_OLLAMA
                        ? rill__json_member_i64(js, 0, "prompt_eval_count")
                        : -1; /* Gemini reports none */
  if (is_openai) {
    int u = rill__json_getz(js, 0, "usage");
    if (rill__json_is_object(js, u))
      e->input_tokens = rill__json_member_i64(js, u, "prompt_tokens");
  }
  d->m.done = 1;
  return RILL_OK;
}

static int embed_end(rill__decoder *base) {
  embed_dec *d = (embed_dec *)base;
  int rc = rill__mdec_end(base);
  if (rc == RILL_OK && d->slot) {
    *d->slot = d->res;
    d->res = NULL;
  }
  return rc;
}

static void embed_destroy(rill__decoder *base) {
  embed_dec *d = (embed_dec *)base;
  if (!d)
    return;
  rill_embeddings_free(d->res);
  rill__mdec_release(&d->m);
  rill__free(d);
}

static const rill__decoder_ops embed_ops = {
    embed_record,          NULL,          embed_end,
    rill__mdec_http_error, rill__mdec_failure, embed_destroy};

int rill__embed_decoder_new(int format, size_t n_expected,
                            rill_embeddings **slot, char *errmsg,
                            size_t errmsg_cap, rill__decoder **out) {
  embed_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  rill__mdec_init(&d->m, &embed_ops, errmsg, errmsg_cap, EMBED_MAX_TOKENS);
  d->format = format;
  d->n_expected = n_expected;
  d->slot = slot;
  d->res = NULL;
  *out = &d->m.p.base;
  return RILL_OK;
}

void rill_embeddings_free(rill_embeddings *e) {
  if (!e)
    return;
  rill__free(e->data);
  rill__free(e);
}

static int embed_check(const rill_embed_request *req) {
  size_t i;
  if (!req->model || !*req->model || req->n_inputs == 0 || !req->inputs ||
      req->dimensions < 0 || req->truncate < 0 || req->truncate > 2)
    return RILL_E_INVALID;
  for (i = 0; i < req->n_inputs; i++)
    if (!req->inputs[i])
      return RILL_E_INVALID;
  return RILL_OK;
}

static int embed_build(const rill_embed_request *req, rill__request *r,
                       int openai) {
  rill_jw *w = NULL;
  size_t i;
  int rc = embed_check(req);
  if (rc == RILL_OK)
    rc = rill__request_setup(r, &req->endpoint, "POST",
                             openai ? "/embeddings" : "/api/embed",
                             RILL__FRAME_WHOLE);
  if (rc == RILL_OK)
    rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  r->max_body = EMBED_MAX_BODY;
  rc = rill__request_limits(&req->limits, r);
  if (rc != RILL_OK) {
    rill_jw_free(w);
    return rc;
  }
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "model", req->model);
  rill_jw_key(w, "input", 5);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_inputs; i++)
    rill_jw_string(w, req->inputs[i], strlen(req->inputs[i]));
  rill_jw_array_end(w);
  if (!openai && req->truncate) {
    rill_jw_key(w, "truncate", 8);
    rill_jw_bool(w, req->truncate == 1);
  }
  if (req->dimensions > 0) {
    rill_jw_key(w, "dimensions", 10);
    rill_jw_int(w, req->dimensions);
  }
  if (!openai && req->keep_alive && *req->keep_alive) {
    rill_jw_key(w, "keep_alive", 10);
    rill__jw_keep_alive(w, req->keep_alive);
  }
  if (openai)
    rill__jw_kstr(w, "encoding_format", "float");
  rill_jw_object_end(w);
  rc = rill__request_body(r, w);
  rill_jw_free(w);
  return rc;
}

int rill__ollama_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r) {
  (void)pool;
  return embed_build(req, r, 0);
}

int rill__openai_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r) {
  (void)pool;
  return embed_build(req, r, 1);
}

/* ---- whole answers as text (show, version) ------------------------------ */

typedef struct text_dec {
  rill__mdec m;
  const char *member;
  char **slot;
  size_t *len_slot;
  char *res;
  size_t res_len;
} text_dec;

static int text_record(rill__decoder *base, const char *rec, size_t len) {
  text_dec *d = (text_dec *)base;
  int rc;
  if (d->m.done)
    return RILL_OK;
  rc = rill__mdec_parse(&d->m, rec, len, "the answer");
  if (rc != RILL_OK)
    return rc;
  if (d->member) {
    rill__buf b;
    int i = rill__json_getz(&d->m.js, 0, d->member);
    if (!rill__json_is_string(&d->m.js, i))
      return rill__pdec_fail(&d->m.p, RILL_E_PROTOCOL, 0,
                             "the answer has no \"%s\" string", d->member);
    rill__buf_init(&b, NULL, len + 1);
    rc = rill__json_unescape(&d->m.js, i, &b);
    if (rc == RILL_OK) {
      d->res = rill__strndup(b.data ? b.data : "", b.len);
      d->res_len = b.len;
    }
    rill__buf_release(&b);
  } else {
    while (len > 0 && (rec[len - 1] == '\n' || rec[len - 1] == '\r' ||
                       rec[len - 1] == ' ' || rec[len - 1] == '\t'))
      len--;
    d->res = rill__strndup(rec, len);
    d->res_len = len;
  }
  if (rc == RILL_OK && !d->res)
    rc = RILL_E_NOMEM;
  if (rc != RILL_OK)
    return rill__pdec_fail(&d->m.p, rc, 0, "%s", rill_strerror(rc));
  d->m.done = 1;
  return RILL_OK;
}

static int text_end(rill__decoder *base) {
  text_dec *d = (text_dec *)base;
  int rc = rill__mdec_end(base);
  if (rc == RILL_OK && d->slot) {
    *d->slot = d->res;
    if (d->len_slot)
      *d->len_slot = d->res_len;
    d->res = NULL;
  }
  return rc;
}

static void text_destroy(rill__decoder *base) {
  text_dec *d = (text_dec *)base;
  if (!d)
    return;
  rill__free(d->res);
  rill__mdec_release(&d->m);
  rill__free(d);
}

static const rill__decoder_ops text_ops = {
    text_record,           NULL,          text_end,
    rill__mdec_http_error, rill__mdec_failure, text_destroy};

int rill__text_decoder_new(const char *member, char **slot, size_t *len,
                           char *errmsg, size_t errmsg_cap,
                           rill__decoder **out) {
  text_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  /* The whole-text answer (/api/show) can hold thousands of tensors. */
  rill__mdec_init(&d->m, &text_ops, errmsg, errmsg_cap,
                  member ? 0 : LIST_MAX_TOKENS * 4);
  d->member = member;
  d->slot = slot;
  d->len_slot = len;
  d->res = NULL;
  d->res_len = 0;
  *out = &d->m.p.base;
  return RILL_OK;
}
