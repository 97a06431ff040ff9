/*
 * fuzz_common.h — the chat-decoder harness shared by fuzz_provider.c (one
 * target per provider) and fuzz_pipeline.c (the provider chosen by the
 * input). Included by exactly one source per target (static functions).
 *
 * The decoder runs without a stream, as in the unit tests (prov_harness.h),
 * driven the way src/http/stream.c drives it: framer → on_record/on_event,
 * then the framer's finish, on_end, and on_failure on any failure. Every
 * callback is written to a log.
 *
 * Options byte (opt):
 *   bit 0     whole answer (RILL__FRAME_WHOLE: the body to on_record once)
 *             instead of the stream (NDJSON for Ollama, SSE for the others)
 *   bit 1     Ollama: /api/generate lines instead of /api/chat
 *   bits 2-4  cancel at the N-th application callback (0: never)
 *   bits 5-6  the framer's max_record_bytes: default, 64, 512, 4096
 *   bit 7     (fuzz_provider) the third feed cuts in random pieces instead
 *             of two halves
 *
 * Differential oracle (streams): fed whole, in 1-byte pieces and in the
 * pieces of a split pattern (fz_cut), the logs and final statuses must be
 * identical byte for byte, else __builtin_trap(). Invariants on every run:
 * exactly one of on_done / on_error, and no callback after it; on_error
 * only with a failed status, a successful status only after on_done;
 * text and arguments NUL-terminated at their length, text non-empty; tool
 * calls complete in order 0, 1, …, each with id and name on its first
 * piece only, no piece after it is complete, and its arguments equal to
 * its pieces put together ("{}" for none) and valid JSON (Gemini,
 * Anthropic: see ARGS_VALIDATED); the library's bytes in use
 * (rill_alloc_get_stats) the same after the decoder is freed as before it
 * was made. The body is also given to http_error_message as an error
 * body: the message it appends is bounded. Leaks: LeakSanitizer.
 */
#ifndef RILL_FUZZ_COMMON_H
#define RILL_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "provider.h"
#include "rill/chat.h"
#include "rill/error.h"
#include "rill/json.h"
#include "rill/stream.h"

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The provider under test: 1 Ollama, 2 OpenAI, 3 Gemini, 4 Anthropic (set
 * by the target before each input). */
static int fz_prov;

/* Whether a complete tool call's arguments are always valid JSON. Gemini
 * re-serialises a parsed object and Anthropic validates the assembled
 * text; OpenAI (docs/providers.md: "the arguments are not validated: a call
 * cut by length is delivered as it came") and Ollama (a string value "is
 * used as is") pass the server's text through by design. */
#define ARGS_VALIDATED (fz_prov == 3 || fz_prov == 4)

#define OPT_WHOLE 0x01u
#define OPT_GENERATE 0x02u
#define OPT_PIECES 0x80u

/* Longest message http_error_message may append (the provider's message is
 * cut at 400 bytes; Gemini adds " (STATUS)" of at most 63). */
#define ERRMSG_BOUND 1024u
/* RILL__MAX_TOOL_CALLS: index is a position among at most 128 calls. */
#define MAX_CALLS 128u

typedef struct flog {
  unsigned char *s;
  size_t len, cap;
  unsigned n_cb, cancel_at;
  int ended; /* on_done or on_error seen */
  int n_done, n_error;
  /* Tool calls: the arguments pieces seen per index, and the next index
   * on_tool_call must give (calls come complete in order 0, 1, …). */
  char *acc[MAX_CALLS];
  size_t acc_len[MAX_CALLS];
  unsigned char started[MAX_CALLS];
  size_t next_call;
} flog;

static void put(flog *l, const void *p, size_t n) {
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

static void put_u64(flog *l, uint64_t v) { put(l, &v, sizeof v); }

static void put_str(flog *l, const char *s, size_t n) {
  put_u64(l, n);
  put(l, s, n);
}

static void put_z(flog *l, const char *s) {
  if (!s)
    __builtin_trap();
  put_str(l, s, strlen(s));
}

/* Every callback: none after the end; count; cancel when asked. */
static int tick(flog *l) {
  if (l->ended)
    __builtin_trap();
  l->n_cb++;
  return l->cancel_at && l->n_cb == l->cancel_at;
}

static int cb_text(void *u, const char *s, size_t n) {
  flog *l = u;
  if (!s || n == 0 || s[n] != '\0')
    __builtin_trap();
  put(l, "T", 1);
  put_str(l, s, n);
  return tick(l);
}

static int cb_think(void *u, const char *s, size_t n) {
  flog *l = u;
  if (!s || n == 0 || s[n] != '\0')
    __builtin_trap();
  put(l, "K", 1);
  put_str(l, s, n);
  return tick(l);
}

static int cb_tool(void *u, const rill_tool_call *tc) {
  flog *l = u;
  if (!tc || !tc->id || !tc->name || !tc->arguments ||
      tc->arguments[tc->arguments_len] != '\0' ||
      (ARGS_VALIDATED &&
       rill_json_validate(tc->arguments, tc->arguments_len, NULL) != RILL_OK))
    __builtin_trap();
  /* In order, once each; the arguments are the pieces delivered for the
   * call put together ("{}" when there were none). */
  if (tc->index != l->next_call || tc->index >= MAX_CALLS ||
      !l->started[tc->index])
    __builtin_trap();
  l->next_call++;
  if (l->acc_len[tc->index] == 0
          ? !(tc->arguments_len == 2 && memcmp(tc->arguments, "{}", 2) == 0)
          : (l->acc_len[tc->index] != tc->arguments_len ||
             memcmp(l->acc[tc->index], tc->arguments, tc->arguments_len)))
    __builtin_trap();
  put(l, "C", 1);
  put_u64(l, tc->index);
  put_z(l, tc->id);
  put_z(l, tc->name);
  put_str(l, tc->arguments, tc->arguments_len);
  return tick(l);
}

static int cb_delta(void *u, size_t index, const char *id, const char *name,
                    const char *args, size_t n) {
  flog *l = u;
  if (!args || args[n] != '\0' || index >= MAX_CALLS ||
      index < l->next_call || (!id) != (!name) ||
      (!id) != l->started[index])
    __builtin_trap();
  l->started[index] = 1;
  if (n) {
    l->acc[index] = realloc(l->acc[index], l->acc_len[index] + n);
    if (!l->acc[index])
      __builtin_trap();
    memcpy(l->acc[index] + l->acc_len[index], args, n);
    l->acc_len[index] += n;
  }
  put(l, "D", 1);
  put_u64(l, index);
  put(l, id ? "i" : "-", 1);
  if (id)
    put_z(l, id);
  put(l, name ? "n" : "-", 1);
  if (name)
    put_z(l, name);
  put_str(l, args, n);
  return tick(l);
}

static int cb_done(void *u, const rill_done *d) {
  flog *l = u;
  int r;
  put(l, "O", 1);
  put_u64(l, (uint64_t)d->finish);
  put_z(l, d->raw_finish);
  put_u64(l, (uint64_t)d->usage.input_tokens);
  put_u64(l, (uint64_t)d->usage.output_tokens);
  put_u64(l, (uint64_t)d->usage.thinking_tokens);
  put(l, &d->tokens_per_s, sizeof d->tokens_per_s);
  put_z(l, d->model);
  r = tick(l);
  l->ended = 1;
  l->n_done++;
  return r;
}

static void cb_error(void *u, const rill_error_info *e) {
  flog *l = u;
  if (l->ended || e->code >= 0 || !e->message)
    __builtin_trap();
  put(l, "E", 1);
  put_u64(l, (uint64_t)(int64_t)e->code);
  put_u64(l, (uint64_t)e->http_status);
  put_z(l, e->message);
  l->ended = 1;
  l->n_error++;
}

static int make(const rill_chat_callbacks *cb, unsigned opt,
                rill__decoder **out) {
  switch (fz_prov) {
  case 1:
    return rill__ollama_chat_decoder_new(cb, (opt & OPT_GENERATE) != 0, out);
  case 2:
    return rill__openai_chat_decoder_new(cb, out);
  case 3:
    return rill__gemini_chat_decoder_new(cb, out);
  case 4:
    return rill__anthropic_chat_decoder_new(cb, out);
  default:
    __builtin_trap();
  }
}

/* The framer's callbacks, as src/http/stream.c's on_ndjson / on_sse. */
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

static int fwd_event(void *u, const rill_sse_event *ev) {
  fwd *f = u;
  int rc = f->d->ops->on_event(f->d, ev);
  if (rc < 0) {
    f->dec_rc = rc;
    return 1;
  }
  return 0;
}

static size_t pick_max(unsigned opt) {
  static const size_t m[4] = {0, 64, 512, 4096};
  return m[(opt >> 5) & 3u];
}

static uint32_t hash(const char *in, size_t n) {
  uint32_t h = 2166136261u;
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ (unsigned char)in[i]) * 16777619u;
  return h;
}

/* The length of the next piece of in[at..n) (at < n) for a split pattern:
 * 0 whole; 1 1-byte pieces; 2 two halves cut at a place chosen from the
 * input (h); 3 random pieces of 1..97 bytes; 4 of 1..7 bytes; 5 line by
 * line (each piece ends with its '\n'); 6 each piece ends with a '\r'
 * (CRLF pairs cut in two); 7 pieces of 1 + (pattern >> 8) bytes. */
static size_t fz_cut(unsigned pattern, const char *in, size_t n, size_t at,
                     uint32_t h, uint32_t *x) {
  const char *p;
  size_t k;
  switch (pattern & 0xffu) {
  case 0:
    k = n - at;
    break;
  case 1:
    k = 1;
    break;
  case 2:
    k = at == 0 ? 1 + h % n : n - at;
    break;
  case 3:
  case 4:
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    k = 1 + *x % ((pattern & 0xffu) == 3 ? 97u : 7u);
    break;
  case 5:
  case 6:
    p = memchr(in + at, (pattern & 0xffu) == 5 ? '\n' : '\r', n - at);
    k = p ? (size_t)(p - (in + at)) + 1 : n - at;
    break;
  default:
    k = 1 + (pattern >> 8);
    break;
  }
  return k > n - at ? n - at : k;
}

/* One run on a fresh decoder, fed in the pieces of split pattern (fz_cut);
 * every byte the library allocated for it is freed at the end. */
static int run(unsigned opt, const char *in, size_t n, unsigned pattern,
               flog *l) {
  rill_chat_callbacks cb;
  rill__decoder *d = NULL;
  rill_framer_opts fo = RILL_FRAMER_OPTS_INIT;
  rill_ndjson *nd = NULL;
  rill_sse *sse = NULL;
  fwd f;
  int rc;
  size_t at = 0;
  uint32_t h = hash(in, n), x = h | 1u;
  uint64_t in_use = fz_in_use();
  memset(l, 0, sizeof *l);
  l->cancel_at = (opt >> 2) & 7u;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = cb_text;
  cb.on_thinking = cb_think;
  cb.on_tool_call = cb_tool;
  cb.on_tool_call_delta = cb_delta;
  cb.on_done = cb_done;
  cb.on_error = cb_error;
  cb.user = l;
  if (make(&cb, opt, &d) != RILL_OK)
    __builtin_trap();
  f.d = d;
  f.dec_rc = RILL_OK;
  if (opt & OPT_WHOLE) {
    rc = d->ops->on_record(d, in, n);
    if (rc > 0)
      rc = RILL_E_INTERNAL;
  } else {
    fo.max_record_bytes = pick_max(opt);
    rc = fz_prov == 1 ? rill_ndjson_new(&nd, &fo, fwd_record, &f)
                            : rill_sse_new(&sse, &fo, fwd_event, &f);
    if (rc != RILL_OK)
      __builtin_trap();
    while (rc == RILL_OK && at < n) {
      size_t k = fz_cut(pattern, in, n, at, h, &x);
      rc = nd ? rill_ndjson_feed(nd, in + at, k)
              : rill_sse_feed(sse, in + at, k);
      at += k;
    }
    if (rc == RILL_OK)
      rc = nd ? rill_ndjson_finish(nd) : rill_sse_finish(sse);
    if (rc != RILL_OK && f.dec_rc < 0)
      rc = f.dec_rc;
    rill_ndjson_free(nd);
    rill_sse_free(sse);
  }
  if (rc == RILL_OK)
    rc = d->ops->on_end(d);
  if (rc == RILL_OK) {
    if (l->n_done != 1 || l->n_error != 0)
      __builtin_trap();
  } else {
    d->ops->on_failure(d, rc, 0, rill__decoder_errmsg(d));
    /* on_done may have come before a later failure (bytes after the
     * final frame that break the framer, or a cancel from on_done). */
    if (l->n_done + l->n_error != 1)
      __builtin_trap();
  }
  /* Nothing after the end, even a second failure report. */
  d->ops->on_failure(d, RILL_E_INTERNAL, 0, "again");
  if (l->n_done + l->n_error != 1)
    __builtin_trap();
  put(l, "S", 1);
  put_u64(l, (uint64_t)(int64_t)rc);
  d->ops->destroy(d);
  if (fz_in_use() != in_use)
    __builtin_trap();
  for (at = 0; at < MAX_CALLS; at++)
    free(l->acc[at]);
  return rc;
}

static void same(const flog *a, const flog *b) {
  if (a->len != b->len || (a->len && memcmp(a->s, b->s, a->len) != 0))
    __builtin_trap();
}

static void error_body(unsigned opt, const char *in, size_t n) {
  rill__decoder *d = NULL;
  rill__buf msg;
  size_t i;
  if (make(NULL, opt, &d) != RILL_OK)
    __builtin_trap();
  rill__buf_init(&msg, NULL, (size_t)1 << 20);
  (void)rill__buf_append(&msg, "HTTP 400: ", 10);
  d->ops->http_error_message(d, 400, in, n, &msg);
  if (msg.len < 10 || msg.len - 10 > ERRMSG_BOUND)
    __builtin_trap();
  for (i = 0; i < msg.len; i++)
    if ((unsigned char)msg.data[i] < 0x20)
      __builtin_trap();
  rill__buf_release(&msg);
  d->ops->destroy(d);
}

/* Two of the pieces' feeds (or the whole answer once), each checked
 * against the unsplit feed, then the body as an error body. */
static void fz_chat_input(unsigned opt, const char *in, size_t n,
                          unsigned pattern) {
  flog a, b;
  uint64_t in_use = fz_in_use();
  if (fz_prov != 1)
    opt &= ~OPT_GENERATE;
  run(opt, in, n, 0, &a);
  if (!(opt & OPT_WHOLE)) {
    run(opt, in, n, 1, &b);
    same(&a, &b);
    free(b.s);
    if (n > 0) {
      run(opt, in, n, pattern, &b);
      same(&a, &b);
      free(b.s);
    }
  }
  free(a.s);
  error_body(opt, in, n);
  if (fz_in_use() != in_use)
    __builtin_trap();
}

#endif
