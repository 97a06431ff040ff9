/*
 * sc_files.c — scenarios over files: a GGUF open (path, unmapped and
 * forward-only stream) of a small file built with tests/common/gguf_writer,
 * and a tiny nomic-bert model written by gguf_gen (tests/tools; path in
 * RILL_GGUF_GEN_BIN) for the local embedder (open + embed) and the
 * WordPiece tokenizer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed/tokenizer.h"
#include "gguf_writer.h"
#include "rill/embed.h"
#include "rill/error.h"
#include "rill/gguf.h"
#include "torture.h"

typedef struct file_ctx {
  char dir[64];
  char path[128];
  unsigned char *buf; /* the GGUF scenario's file, for the stream source */
  size_t len;
  rill_gguf *g; /* the tokenizer scenario's model, opened once */
} file_ctx;

static file_ctx *new_ctx(void) {
  file_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  snprintf(c->dir, sizeof c->dir, "/tmp/rill-torture-XXXXXX");
  if (!mkdtemp(c->dir)) {
    perror("mkdtemp");
    free(c);
    return NULL;
  }
  return c;
}

static void files_teardown(void *ctx) {
  file_ctx *c = ctx;
  if (!c)
    return;
  rill_gguf_close(c->g);
  if (c->path[0])
    unlink(c->path);
  rmdir(c->dir);
  free(c->buf);
  free(c);
}

/* ---- GGUF ----------------------------------------------------------------- */

static int gguf_setup(void **ctx) {
  static const char *const strs[] = {"a", "b\xC3\xA9", "", "longer string"};
  static const int32_t ints[] = {1, -2, 3, -4, 5};
  float data[16];
  uint64_t ne[2] = {8, 2};
  int i;
  file_ctx *c = new_ctx();
  gw *w;
  if (!c)
    return -1;
  *ctx = c;
  for (i = 0; i < 16; i++)
    data[i] = (float)i * 0.5f;
  w = gw_new(3);
  gw_str(w, "general.architecture", "torture");
  gw_u32(w, "general.alignment", 64);
  gw_u8(w, "k.u8", 1);
  gw_i16(w, "k.i16", -2);
  gw_i64(w, "k.i64", -3);
  gw_f64(w, "k.f64", 0.25);
  gw_bool(w, "k.bool", 1);
  gw_arr(w, "k.arr_i32", RILL_GGUF_I32, ints, 5);
  gw_arr_str(w, "k.arr_str", strs, 4);
  gw_tensor(w, "t0", RILL_GGUF_TYPE_F32, 2, ne, data);
  gw_tensor(w, "t1", RILL_GGUF_TYPE_F16, 2, ne, NULL);
  gw_tensor(w, "blk.0.attn_qkv.weight", RILL_GGUF_TYPE_F32, 2, ne, data);
  c->buf = gw_build(w, &c->len);
  gw_free(w);
  snprintf(c->path, sizeof c->path, "%s/small.gguf", c->dir);
  return gw_save(c->path, c->buf, c->len);
}

/* What a caller reads after an open: info, every key, every tensor. */
static void describe(rill_gguf *g, tt_log *l) {
  rill_gguf_info info;
  uint64_t i;
  const char *s;
  size_t len;
  memset(&info, 0, sizeof info);
  rill_gguf_get_info(g, &info);
  tt_log_fmt(l, "v%u kv=%llu tensors=%llu data=%llu\n", info.version,
             (unsigned long long)info.n_kv, (unsigned long long)info.n_tensors,
             (unsigned long long)info.data_offset);
  for (i = 0; i < info.n_kv; i++) {
    rill_gguf_kv kv;
    if (rill_gguf_kv_at(g, i, &kv) == RILL_OK)
      tt_log_fmt(l, "%s %d %llu\n", kv.key, (int)kv.type,
                 (unsigned long long)kv.count);
  }
  for (i = 0; i < info.n_tensors; i++) {
    rill_gguf_tensor t;
    if (rill_gguf_tensor_at(g, i, &t) == RILL_OK)
      tt_log_fmt(l, "%s\n", t.name);
  }
  if (rill_gguf_get_str(g, "general.architecture", &s, &len) == RILL_OK)
    tt_log_bytes(l, s, len);
}

static int run_gguf_path(void *ctx, tt_run *r) {
  file_ctx *c = ctx;
  rill_gguf_options opt;
  rill_gguf_error err;
  int rc, no_mmap;
  for (no_mmap = 0; no_mmap <= 1; no_mmap++) {
    rill_gguf *g = NULL;
    memset(&opt, 0, sizeof opt);
    opt.no_mmap = no_mmap;
    rc = rill_gguf_open(&g, c->path, &opt, &err);
    if (rc != RILL_OK)
      return g ? RILL_E_INTERNAL : rc; /* *out must be NULL on failure */
    describe(g, &r->log);
    rill_gguf_close(g);
  }
  return RILL_OK;
}

static int run_gguf_stream(void *ctx, tt_run *r) {
  file_ctx *c = ctx;
  rill_gguf *g = NULL;
  rill_gguf_error err;
  gw_reader rd;
  float out[16];
  int rc;
  memset(&rd, 0, sizeof rd);
  rd.p = c->buf;
  rd.len = c->len;
  rd.chunk = 7;
  rc = rill_gguf_open_stream(&g, gw_read, &rd, NULL, &err);
  if (rc != RILL_OK)
    return g ? RILL_E_INTERNAL : rc;
  describe(g, &r->log);
  rc = rill_gguf_tensor_read(g, 0, 0, out, sizeof out);
  if (rc == RILL_OK)
    tt_log_fmt(&r->log, "t0[15]=%g\n", (double)out[15]);
  rill_gguf_close(g);
  return rc;
}

/* ---- the local embedder and its tokenizer --------------------------------- */

static int model_setup(void **ctx) {
  char cmd[512];
  file_ctx *c = new_ctx();
  if (!c)
    return -1;
  *ctx = c;
  snprintf(c->path, sizeof c->path, "%s/nomic.gguf", c->dir);
  /* The smallest shape gguf_gen allows: 1 layer, width 64, 1000 tokens. */
  snprintf(cmd, sizeof cmd,
           "'%s' nomic '%s' --type F32 --layers 1 --embd 64 --heads 2 "
           "--ff 64 --vocab 1000 --ctx 64 >/dev/null",
           RILL_GGUF_GEN_BIN, c->path);
  if (system(cmd) != 0) {
    fprintf(stderr, "rill-torture: %s failed\n", cmd);
    return -1;
  }
  return 0;
}

static const char *const k_texts[] = {
    "The quick brown fox jumps over the lazy dog.",
    "",
    ("caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9, \xCE\xB1\xCE\xB2 "
     "\xE3\x81\x82 unbelievably"),
};

static int run_embed(void *ctx, tt_run *r) {
  file_ctx *c = ctx;
  rill_embedder_options o;
  rill_embed_options eo;
  rill_embedder *e = NULL;
  rill_embeddings *out = NULL;
  rill_gguf_error err;
  char msg[128];
  size_t i;
  int rc;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.n_threads = 1; /* one thread: the allocation order is fixed */
  rc = rill_embedder_open(&e, c->path, &o, &err);
  if (rc != RILL_OK)
    return e ? RILL_E_INTERNAL : rc;
  memset(&eo, 0, sizeof eo);
  eo.size = sizeof eo;
  eo.prefix = RILL_EMBED_PREFIX_QUERY; /* the joined-copy path allocates */
  rc = rill_embedder_embed(e, k_texts, NULL, 3, &eo, &out, msg, sizeof msg);
  if (rc == RILL_OK) {
    tt_log_fmt(&r->log, "n=%zu dims=%zu tokens=%lld\n", out->n, out->dims,
               (long long)out->input_tokens);
    for (i = 0; i < out->n * out->dims; i++)
      tt_log_fmt(&r->log, "%a\n", (double)out->data[i]);
  } else if (out) {
    rc = RILL_E_INTERNAL; /* *out must stay NULL on failure */
  }
  rill_embeddings_free(out);
  rill_embedder_close(e);
  return rc;
}

static int tokenizer_setup(void **ctx) {
  file_ctx *c;
  int rc = model_setup(ctx);
  c = *ctx;
  if (rc != 0)
    return rc;
  return rill_gguf_open(&c->g, c->path, NULL, NULL) == RILL_OK ? 0 : -1;
}

static int run_tokenizer(void *ctx, tt_run *r) {
  file_ctx *c = ctx;
  rill__wpm *t = NULL;
  rill_gguf_error err;
  int32_t ids[128];
  size_t i, j, n;
  int rc = rill__wpm_new(&t, c->g, &err);
  if (rc != RILL_OK)
    return t ? RILL_E_INTERNAL : rc;
  for (i = 0; i < sizeof k_texts / sizeof *k_texts && rc == RILL_OK; i++) {
    rc = rill__wpm_tokenize(t, k_texts[i], strlen(k_texts[i]), 1, ids, 128, &n);
    for (j = 0; rc == RILL_OK && j < n; j++)
      tt_log_fmt(&r->log, "%d ", (int)ids[j]);
    tt_log_str(&r->log, "\n");
  }
  rill__wpm_free(t);
  return rc;
}

const tt_scenario tt_file_scenarios[] = {
    {"gguf-open-path", "unit", gguf_setup, NULL, run_gguf_path, files_teardown, NULL},
    {"gguf-open-stream", "unit", gguf_setup, NULL, run_gguf_stream, files_teardown, NULL},
    {"embedder-open-embed", "unit", model_setup, NULL, run_embed, files_teardown, NULL},
    {"tokenizer", "unit", tokenizer_setup, NULL, run_tokenizer, files_teardown, NULL},
};
const size_t tt_n_file_scenarios =
    sizeof tt_file_scenarios / sizeof *tt_file_scenarios;
