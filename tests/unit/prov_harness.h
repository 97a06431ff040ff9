/*
 * prov_harness.h — sans-I/O harness for the provider decoders (included by
 * test_ollama.c, test_openai.c and test_chat_result.c).
 *
 * A decoder is created with no stream; recorded provider bytes go through
 * the real framer (rill_ndjson / rill_sse, or the whole body at once), fed
 * whole, in 1-byte pieces and split in two at every position; each run
 * writes every application callback into a text log, and all runs must
 * give the same log as expected:
 *   text:<s>            think:<s>
 *   delta:<i>|<id or ~>|<name or ~>|<args>
 *   tool:<i>|<id>|<name>|<args>
 *   done:<finish>|<raw>|in=<n>|out=<n>|think=<n>|model=<m>
 *   error:<E_NAME>|<message>
 * Bytes below 0x20 are written as \xHH.
 */
#ifndef PROV_HARNESS_H
#define PROV_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "provider.h"
#include "rill/alloc.h"
#include "rill/chat.h"
#include "rill/error.h"
#include "rill/stream.h"

typedef struct plog {
  char *s;
  size_t len, cap;
  int n_cb;
  int cancel_at; /* return non-zero from the cancel_at-th callback (1-based) */
  double tps;    /* last done's tokens_per_s */
} plog;

static void plog_putc(plog *l, char c) {
  if (l->len + 2 > l->cap) {
    l->cap = l->cap ? l->cap * 2 : 512;
    l->s = realloc(l->s, l->cap);
    assert_non_null(l->s);
  }
  l->s[l->len++] = c;
  l->s[l->len] = '\0';
}

static void plog_str(plog *l, const char *s) {
  while (*s)
    plog_putc(l, *s++);
}

static void plog_bytes(plog *l, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20) {
      char hex[8];
      snprintf(hex, sizeof hex, "\\x%02X", c);
      plog_str(l, hex);
    } else
      plog_putc(l, (char)c);
  }
}

static int plog_tick(plog *l) {
  l->n_cb++;
  return l->cancel_at && l->n_cb == l->cancel_at;
}

static int cb_text(void *u, const char *s, size_t n) {
  plog *l = u;
  assert_int_equal(s[n], '\0');
  assert_true(n > 0);
  plog_str(l, "text:");
  plog_bytes(l, s, n);
  plog_putc(l, '\n');
  return plog_tick(l);
}

static int cb_think(void *u, const char *s, size_t n) {
  plog *l = u;
  assert_int_equal(s[n], '\0');
  assert_true(n > 0);
  plog_str(l, "think:");
  plog_bytes(l, s, n);
  plog_putc(l, '\n');
  return plog_tick(l);
}

static int cb_tool(void *u, const rill_tool_call *tc) {
  plog *l = u;
  char num[32];
  assert_int_equal(tc->arguments[tc->arguments_len], '\0');
  snprintf(num, sizeof num, "tool:%zu|", tc->index);
  plog_str(l, num);
  plog_str(l, tc->id);
  plog_putc(l, '|');
  plog_str(l, tc->name);
  plog_putc(l, '|');
  plog_bytes(l, tc->arguments, tc->arguments_len);
  plog_putc(l, '\n');
  return plog_tick(l);
}

static int cb_delta(void *u, size_t index, const char *id, const char *name,
                    const char *args, size_t n) {
  plog *l = u;
  char num[32];
  assert_int_equal(args[n], '\0');
  snprintf(num, sizeof num, "delta:%zu|", index);
  plog_str(l, num);
  plog_str(l, id ? id : "~");
  plog_putc(l, '|');
  plog_str(l, name ? name : "~");
  plog_putc(l, '|');
  plog_bytes(l, args, n);
  plog_putc(l, '\n');
  return plog_tick(l);
}

static int cb_done(void *u, const rill_done *d) {
  plog *l = u;
  char buf[256];
  snprintf(buf, sizeof buf, "done:%s|%s|in=%lld|out=%lld|think=%lld|model=",
           rill_finish_name(d->finish), d->raw_finish,
           (long long)d->usage.input_tokens,
           (long long)d->usage.output_tokens,
           (long long)d->usage.thinking_tokens);
  plog_str(l, buf);
  plog_str(l, d->model);
  plog_putc(l, '\n');
  l->tps = d->tokens_per_s;
  return plog_tick(l);
}

static void cb_error(void *u, const rill_error_info *e) {
  plog *l = u;
  plog_str(l, "error:");
  plog_str(l, rill_error_name(e->code));
  plog_putc(l, '|');
  plog_str(l, e->message);
  plog_putc(l, '\n');
}

static rill_chat_callbacks plog_callbacks(plog *l) {
  rill_chat_callbacks cb;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = cb_text;
  cb.on_thinking = cb_think;
  cb.on_tool_call = cb_tool;
  cb.on_tool_call_delta = cb_delta;
  cb.on_done = cb_done;
  cb.on_error = cb_error;
  cb.user = l;
  return cb;
}

/* ---- feeding: tests/common/prov_feed.h ----------------------------------- */

#include "../common/prov_feed.h"

static char *read_fixture(const char *name, size_t *len) {
  char path[1024];
  FILE *f;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/providers/%s", RILL_TESTDATA_DIR, name);
  f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

typedef int (*make_fn)(const rill_chat_callbacks *cb, rill__decoder **out);

/* One run: a fresh decoder, fed as asked; the log is compared. */
__attribute__((unused)) static int run_once(make_fn make, feed_kind kind, const char *data, size_t len,
                    size_t piece, size_t split, const char *expect,
                    int expect_rc) {
  plog l;
  rill_chat_callbacks cb;
  rill__decoder *d = NULL;
  int rc;
  memset(&l, 0, sizeof l);
  cb = plog_callbacks(&l);
  assert_int_equal(make(&cb, &d), RILL_OK);
  rc = feed(d, kind, data, len, piece, split);
  d->ops->destroy(d);
  if (strcmp(l.s ? l.s : "", expect) != 0) {
    print_error("piece %zu split %zu\n--- expected\n%s--- got\n%s", piece,
                split, expect, l.s ? l.s : "");
    fail();
  }
  assert_int_equal(rc, expect_rc);
  free(l.s);
  return rc;
}

/* Whole, 1-byte pieces, 7-byte pieces and every two-piece split. */
__attribute__((unused)) static void check_all(make_fn make, feed_kind kind, const char *fixture,
                      const char *expect, int expect_rc) {
  size_t len, k;
  char *data = read_fixture(fixture, &len);
  run_once(make, kind, data, len, 0, 0, expect, expect_rc);
  if (kind != FEED_WHOLE) {
    run_once(make, kind, data, len, 1, 0, expect, expect_rc);
    run_once(make, kind, data, len, 7, 0, expect, expect_rc);
    for (k = 1; k < len; k++)
      run_once(make, kind, data, len, 0, k, expect, expect_rc);
  }
  free(data);
}

/* Allocation failure at every allocation (once, and from k on): the run
 * must end (success or an error), never crash, and free everything. */
__attribute__((unused)) static void check_alloc_failures(make_fn make, feed_kind kind,
                                 const char *fixture) {
  size_t len;
  char *data = read_fixture(fixture, &len);
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  uint64_t n, k;
  int mode;
  rill_alloc_get_stats(&before);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  {
    plog l;
    rill_chat_callbacks cb;
    rill__decoder *d = NULL;
    memset(&l, 0, sizeof l);
    cb = plog_callbacks(&l);
    assert_int_equal(make(&cb, &d), RILL_OK);
    assert_int_equal(feed(d, kind, data, len, 3, 0), RILL_OK);
    d->ops->destroy(d);
    free(l.s);
  }
  n = rill_alloc_attempts();
  assert_true(n > 0);
  for (mode = RILL_FAIL_ONCE; mode <= RILL_FAIL_FROM; mode++) {
    for (k = 1; k <= n; k++) {
      plog l;
      rill_chat_callbacks cb;
      rill__decoder *d = NULL;
      int rc;
      memset(&l, 0, sizeof l);
      cb = plog_callbacks(&l);
      rill_alloc_fail_at(k, (rill_fail_mode)mode);
      rc = make(&cb, &d);
      if (rc == RILL_OK) {
        rc = feed(d, kind, data, len, 3, 0);
        d->ops->destroy(d);
      }
      rill_alloc_fail_at(0, RILL_FAIL_ONCE);
      assert_true(rc == RILL_OK || rc == RILL_E_NOMEM);
      free(l.s);
      rill_alloc_get_stats(&after);
      assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    }
  }
  free(data);
}

#endif
