/*
 * fuzz_models.c — libFuzzer target for the decoders of the answers that are
 * not chats (providers/manage.c): model lists, pull progress, and whole
 * answers kept as text.
 *
 * Input layout:
 *   byte 0   bits 0-2  what the body answers:
 *                      0 Ollama /api/tags (Gemini's /models is read the same
 *                        way), 1 Ollama /api/ps, 2 OpenAI /v1/models (and
 *                        Anthropic's), 3 Gemini /models (as 0, the same
 *                        decoder), 4 Ollama /api/pull progress (NDJSON),
 *                        5 /api/version ("version" member), 6 /api/show
 *                        (the whole answer as text), 7 as 4, the third feed
 *                        in 1..7-byte pieces instead of two halves
 *            bits 3-5  cancel at the N-th callback (0: never)
 *            bits 6-7  the caller's errmsg capacity: 0, 1, 16, 256
 *   rest     the server's 2xx body
 * The whole answers go to on_record once (src/http/stream.c's WHOLE
 * framing); the pull lines go through the NDJSON framer, as on_ndjson.
 *
 * Invariants: every callback logged; no callback after the one that
 * cancelled (unless it was the final "success" line, where a non-zero
 * return is ignored), after the pull's "success" line, or after on_end /
 * on_failure; a cancel ends in RILL_E_CANCELLED; every string of a model
 * or progress line non-NULL; a text answer NUL-terminated at its length,
 * and (/api/show) valid JSON; on failure a NUL-terminated message within
 * the caller's capacity. Pull: fed whole, in 1-byte pieces and cut at a
 * place chosen from the input, the logs and statuses are identical. The
 * body as an error body gives a bounded message. The library's bytes in
 * use are the same after each decoder is freed as before. Leaks:
 * LeakSanitizer.
 *
 *   build-fuzz/bin/fuzz_models fuzz/corpus/models -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz_util.h"
#include "provider.h"
#include "rill/json.h"
#include "rill/models.h"
#include "rill/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ERRMSG_BOUND 1024u

typedef struct mlog {
  unsigned char *s;
  size_t len, cap;
  unsigned n_cb, cancel_at;
  int stopped; /* a callback cancelled, or "success" was delivered */
  int ended;   /* on_end returned or on_failure was called */
  int cancelled;
} mlog;

static void put(mlog *l, const void *p, size_t n) {
  if (l->len + n > l->cap) {
    size_t cap = l->cap ? l->cap : 1024;
    while (cap < l->len + n)
      cap *= 2;
    l->s = realloc(l->s, cap);
    if (!l->s)
      __builtin_trap();
    l->cap = cap;
  }
  if (n)
    memcpy(l->s + l->len, p, n);
  l->len += n;
}

static void put_z(mlog *l, const char *s) {
  uint64_t n;
  if (!s)
    __builtin_trap();
  n = strlen(s);
  put(l, &n, sizeof n);
  put(l, s, (size_t)n);
}

static void put_i64(mlog *l, int64_t v) { put(l, &v, sizeof v); }

static int tick(mlog *l) {
  if (l->stopped || l->ended)
    __builtin_trap();
  l->n_cb++;
  if (l->cancel_at && l->n_cb == l->cancel_at) {
    l->cancelled = 1;
    l->stopped = 1;
    return 1;
  }
  return 0;
}

static int on_model(void *u, const rill_model_info *m) {
  mlog *l = u;
  put(l, "M", 1);
  put_z(l, m->name);
  put_z(l, m->modified_at);
  put_z(l, m->digest);
  put_z(l, m->family);
  put_z(l, m->parameter_size);
  put_z(l, m->quantization);
  put_z(l, m->owned_by);
  put_z(l, m->expires_at);
  put_i64(l, m->size);
  put_i64(l, m->size_vram);
  return tick(l);
}

static int on_pull(void *u, const rill_pull_progress *p) {
  mlog *l = u;
  int r;
  put(l, "P", 1);
  put_z(l, p->status);
  put_z(l, p->digest);
  put_i64(l, p->completed);
  put_i64(l, p->total);
  r = tick(l);
  if (!strcmp(p->status, "success")) {
    /* The final line: a cancel from it is too late to count. */
    l->cancelled = 0;
    l->stopped = 1;
  }
  return r;
}

typedef struct fwd {
  rill__decoder *d;
  int dec_rc;
} fwd;

static int fwd_record(void *u, const char *rec, size_t len, uint64_t line) {
  fwd *f = u;
  int rc;
  (void)line;
  rc = f->d->ops->on_record(f->d, rec, len);
  if (rc < 0) {
    f->dec_rc = rc;
    return 1;
  }
  return 0;
}

static uint32_t hash(const char *in, size_t n) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ (unsigned char)in[i]) * 16777619u;
  return h;
}

static int make(unsigned kind, mlog *l, char **text, size_t *text_len,
                char *errmsg, size_t cap, rill__decoder **d) {
  switch (kind) {
  case 0:
  case 3:
    return rill__ollama_models_decoder_new(0, on_model, l, errmsg, cap, d);
  case 1:
    return rill__ollama_models_decoder_new(1, on_model, l, errmsg, cap, d);
  case 2:
    return rill__openai_models_decoder_new(on_model, l, errmsg, cap, d);
  case 5:
    return rill__text_decoder_new("version", text, text_len, errmsg, cap, d);
  case 6:
    return rill__text_decoder_new(NULL, text, text_len, errmsg, cap, d);
  default:
    return rill__ollama_pull_decoder_new(on_pull, l, errmsg, cap, d);
  }
}

/* One run on a fresh decoder. pattern (pull only) 0: whole; 1: 1-byte
 * pieces; 2: two halves; 3: pieces of 1..7 bytes. */
static void run(unsigned opt, const char *in, size_t n, int pattern,
                mlog *l) {
  static const size_t caps[4] = {0, 1, 16, 256};
  unsigned kind = opt & 7u;
  size_t cap = caps[(opt >> 6) & 3u], text_len = 0, at = 0, k;
  char errmsg[256], *text = NULL;
  rill__decoder *d = NULL;
  uint64_t in_use = fz_in_use();
  uint32_t h = hash(in, n), x = h | 1u;
  int rc;
  memset(l, 0, sizeof *l);
  l->cancel_at = (opt >> 3) & 7u;
  memset(errmsg, 0x55, sizeof errmsg);
  if (make(kind, l, &text, &text_len, cap ? errmsg : NULL, cap, &d) !=
      RILL_OK)
    __builtin_trap();
  if (kind == 4 || kind == 7) {
    rill_ndjson *nd = NULL;
    rill_framer_opts fo = RILL_FRAMER_OPTS_INIT;
    fwd f = {d, RILL_OK};
    if (rill_ndjson_new(&nd, &fo, fwd_record, &f) != RILL_OK)
      __builtin_trap();
    rc = RILL_OK;
    while (rc == RILL_OK && at < n) {
      if (pattern == 0)
        k = n - at;
      else if (pattern == 1)
        k = 1;
      else if (pattern == 2)
        k = at == 0 ? 1 + h % n : n - at;
      else {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        k = 1 + x % 7u;
      }
      if (k > n - at)
        k = n - at;
      rc = rill_ndjson_feed(nd, in + at, k);
      at += k;
    }
    if (rc == RILL_OK)
      rc = rill_ndjson_finish(nd);
    if (rc != RILL_OK && f.dec_rc < 0)
      rc = f.dec_rc;
    rill_ndjson_free(nd);
  } else {
    rc = d->ops->on_record(d, in, n);
    if (rc > 0)
      rc = RILL_E_INTERNAL;
  }
  if (rc == RILL_OK)
    rc = d->ops->on_end(d);
  l->ended = 1;
  if (l->cancelled != (rc == RILL_E_CANCELLED))
    __builtin_trap();
  if (rc == RILL_OK) {
    if (kind == 5 || kind == 6) {
      if (!text || text[text_len] != '\0' ||
          (kind == 6 && rill_json_validate(text, text_len, NULL) != RILL_OK))
        __builtin_trap();
      put(l, "X", 1);
      put(l, text, text_len);
    }
  } else {
    if (text || rc >= 0)
      __builtin_trap();
    d->ops->on_failure(d, rc, 0, rill__decoder_errmsg(d));
    if (cap) {
      for (k = 0; k < cap && errmsg[k]; k++)
        ;
      if (k == cap || (cap > 1 && k == 0))
        __builtin_trap();
    }
  }
  put(l, "S", 1);
  put_i64(l, rc);
  d->ops->destroy(d);
  rill_free(text);
  if (fz_in_use() != in_use)
    __builtin_trap();
}

static void error_body(unsigned opt, const char *in, size_t n) {
  rill__decoder *d = NULL;
  rill__buf msg;
  mlog l;
  char *text = NULL;
  size_t i, text_len;
  memset(&l, 0, sizeof l);
  if (make(opt & 7u, &l, &text, &text_len, NULL, 0, &d) != RILL_OK)
    __builtin_trap();
  rill__buf_init(&msg, NULL, (size_t)1 << 20);
  d->ops->http_error_message(d, 400, in, n, &msg);
  if (msg.len > ERRMSG_BOUND)
    __builtin_trap();
  for (i = 0; i < msg.len; i++)
    if ((unsigned char)msg.data[i] < 0x20)
      __builtin_trap();
  rill__buf_release(&msg);
  d->ops->destroy(d);
}

static void same(const mlog *a, const mlog *b) {
  if (a->len != b->len || (a->len && memcmp(a->s, b->s, a->len) != 0))
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned opt, kind;
  const char *in;
  size_t n;
  mlog a, b;
  uint64_t in_use = fz_in_use();
  if (size < 1)
    return 0;
  opt = data[0];
  kind = opt & 7u;
  in = (const char *)data + 1;
  n = size - 1;
  run(opt, in, n, 0, &a);
  if ((kind == 4 || kind == 7) && n > 0) {
    run(opt, in, n, 1, &b);
    same(&a, &b);
    free(b.s);
    run(opt, in, n, kind == 7 ? 3 : 2, &b);
    same(&a, &b);
    free(b.s);
  }
  free(a.s);
  error_body(opt, in, n);
  if (fz_in_use() != in_use)
    __builtin_trap();
  return 0;
}
