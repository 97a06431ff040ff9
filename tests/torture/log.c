/*
 * log.c — the runner's output log and the chat callbacks every chat
 * scenario uses. The log lives in libc memory so it never shifts the
 * allocation sequence under test; the callbacks count terminal callbacks
 * and anything that arrives after one (the contract in rill/chat.h: a
 * stream ends with exactly one of on_done or on_error, nothing after).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torture.h"

static void put(tt_log *l, const char *s, size_t n) {
  if (l->len + n + 1 > l->cap) {
    size_t cap = l->cap ? l->cap : 256;
    while (cap < l->len + n + 1)
      cap *= 2;
    l->s = realloc(l->s, cap);
    if (!l->s) {
      fprintf(stderr, "rill-torture: out of memory in the log\n");
      exit(2);
    }
    l->cap = cap;
  }
  memcpy(l->s + l->len, s, n);
  l->len += n;
  l->s[l->len] = '\0';
}

void tt_log_str(tt_log *l, const char *s) { put(l, s, strlen(s)); }

void tt_log_bytes(tt_log *l, const char *s, size_t n) { put(l, s, n); }

void tt_log_fmt(tt_log *l, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0)
    put(l, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

void tt_log_free(tt_log *l) {
  free(l->s);
  memset(l, 0, sizeof *l);
}

static void tick(tt_run *r) {
  if (r->n_done + r->n_error > 0)
    r->late++;
}

static int on_text(void *u, const char *s, size_t n) {
  tt_run *r = u;
  tick(r);
  tt_log_str(&r->log, "text:");
  tt_log_bytes(&r->log, s, n);
  tt_log_str(&r->log, "\n");
  return 0;
}

static int on_thinking(void *u, const char *s, size_t n) {
  tt_run *r = u;
  tick(r);
  tt_log_str(&r->log, "think:");
  tt_log_bytes(&r->log, s, n);
  tt_log_str(&r->log, "\n");
  return 0;
}

static int on_tool(void *u, const rill_tool_call *tc) {
  tt_run *r = u;
  tick(r);
  tt_log_fmt(&r->log, "tool:%zu|%s|%s|", tc->index, tc->id, tc->name);
  tt_log_bytes(&r->log, tc->arguments, tc->arguments_len);
  tt_log_str(&r->log, "\n");
  return 0;
}

static int on_delta(void *u, size_t index, const char *id, const char *name,
                    const char *args, size_t n) {
  tt_run *r = u;
  tick(r);
  tt_log_fmt(&r->log, "delta:%zu|%s|%s|", index, id ? id : "~",
             name ? name : "~");
  tt_log_bytes(&r->log, args, n);
  tt_log_str(&r->log, "\n");
  return 0;
}

static int on_done(void *u, const rill_done *d) {
  tt_run *r = u;
  tick(r);
  r->n_done++;
  tt_log_fmt(&r->log, "done:%s|%s|in=%lld|out=%lld|think=%lld|model=%s\n",
             rill_finish_name(d->finish), d->raw_finish,
             (long long)d->usage.input_tokens,
             (long long)d->usage.output_tokens,
             (long long)d->usage.thinking_tokens, d->model);
  return 0;
}

static void on_error(void *u, const rill_error_info *e) {
  tt_run *r = u;
  tick(r);
  r->n_error++;
  r->err_code = e->code;
  /* The message is not logged: under allocation failure it may be
   * shortened, and only OK runs are compared. */
}

rill_chat_callbacks tt_chat_callbacks(tt_run *r) {
  rill_chat_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = on_text;
  cb.on_thinking = on_thinking;
  cb.on_tool_call = on_tool;
  cb.on_tool_call_delta = on_delta;
  cb.on_done = on_done;
  cb.on_error = on_error;
  cb.user = r;
  r->uses_chat_cb = 1;
  return cb;
}

char *tt_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) {
    perror(path);
    return NULL;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) {
    buf[n] = '\0';
    *len = (size_t)n;
  }
  return buf;
}
