/*
 * test_sse.c — unit tests of the SSE framer (src/stream/sse.c) and of the
 * CR/LF scanner it uses (src/stream/scan.c).
 *
 * Events are logged as text, one per line: "type|data|id" with control
 * and non-ASCII bytes written as \n, \r, \xHH, so each expectation reads as
 * the event stream it describes. Most cases are checked whole, in 1-byte
 * pieces and split at every position (check_all).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rill/alloc.h"
#include "rill/error.h"
#include "rill/stream.h"
#include "stream/scan.h"
#include "stream/sse.h"

/* ---- event log ---------------------------------------------------------- */

typedef struct log_t {
  char *s;
  size_t len, cap;
  int n_events;
  int stop_at;            /* return non-zero from the stop_at-th event (1-based) */
  const char *last_data;  /* pointer of the last event's data */
  size_t last_data_len;
  char *copy;             /* copy of the last event's data (for big records) */
} log_t;

static void log_putc(log_t *l, char c) {
  if (l->len + 2 > l->cap) {
    l->cap = l->cap ? l->cap * 2 : 256;
    l->s = realloc(l->s, l->cap);
    assert_non_null(l->s);
  }
  l->s[l->len++] = c;
  l->s[l->len] = '\0';
}

static void log_bytes(log_t *l, const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\n') {
      log_putc(l, '\\');
      log_putc(l, 'n');
    } else if (c == '\r') {
      log_putc(l, '\\');
      log_putc(l, 'r');
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[5];
      snprintf(hex, sizeof hex, "\\x%02X", c);
      log_putc(l, hex[0]);
      log_putc(l, hex[1]);
      log_putc(l, hex[2]);
      log_putc(l, hex[3]);
    } else {
      log_putc(l, (char)c);
    }
  }
}

static int on_event(void *user, const rill_sse_event *ev) {
  log_t *l = user;
  assert_non_null(ev->type);
  assert_non_null(ev->data);
  assert_non_null(ev->id);
  l->n_events++;
  log_bytes(l, ev->type, ev->type_len);
  log_putc(l, '|');
  if (ev->data_len <= 256)
    log_bytes(l, ev->data, ev->data_len);
  else {
    char tmp[40];
    snprintf(tmp, sizeof tmp, "<%zu bytes>", ev->data_len);
    log_bytes(l, tmp, strlen(tmp));
  }
  log_putc(l, '|');
  log_bytes(l, ev->id, ev->id_len);
  log_putc(l, '\n');
  l->last_data = ev->data;
  l->last_data_len = ev->data_len;
  free(l->copy);
  l->copy = malloc(ev->data_len + 1);
  assert_non_null(l->copy);
  memcpy(l->copy, ev->data, ev->data_len);
  return l->stop_at && l->n_events == l->stop_at;
}

static void log_init(log_t *l) { memset(l, 0, sizeof *l); }

static void log_free(log_t *l) {
  free(l->s);
  free(l->copy);
  memset(l, 0, sizeof *l);
}

static const char *log_str(const log_t *l) { return l->s ? l->s : ""; }

static rill_sse *make(size_t max, log_t *l) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_sse *p = NULL;
  o.max_record_bytes = max;
  assert_int_equal(rill_sse_new(&p, &o, on_event, l), RILL_OK);
  assert_non_null(p);
  return p;
}

/* Feed in[0..n) as pieces ending at the cut positions (sorted, each in
 * 0..n), then finish. Returns the first failing status, or RILL_OK. */
static int feed_cuts(rill_sse *p, const char *in, size_t n, const size_t *cuts,
                     size_t n_cuts, int do_finish) {
  size_t i, at = 0;
  int rc;
  for (i = 0; i <= n_cuts; i++) {
    size_t to = i < n_cuts ? cuts[i] : n;
    rc = rill_sse_feed(p, in + at, to - at);
    if (rc != RILL_OK)
      return rc;
    at = to;
  }
  return do_finish ? rill_sse_finish(p) : RILL_OK;
}

static int feed_pieces(rill_sse *p, const char *in, size_t n, size_t piece) {
  size_t at;
  int rc;
  for (at = 0; at < n; at += piece) {
    size_t k = n - at < piece ? n - at : piece;
    rc = rill_sse_feed(p, in + at, k);
    if (rc != RILL_OK)
      return rc;
  }
  return rill_sse_finish(p);
}

/* Run in[0..n) whole, byte by byte and split at every position; each run
 * must give expect_log, the status expect_rc and (on error) expect_off. */
static void check_all_n(const char *in, size_t n, size_t max,
                        const char *expect_log, int expect_rc,
                        uint64_t expect_off) {
  log_t l;
  rill_sse *p;
  size_t cut;
  int rc;

  log_init(&l);
  p = make(max, &l);
  rc = feed_cuts(p, in, n, NULL, 0, 1);
  assert_string_equal(log_str(&l), expect_log);
  assert_int_equal(rc, expect_rc);
  assert_int_equal(rill_sse_error_offset(p), expect_rc ? expect_off : 0);
  rill_sse_free(p);
  log_free(&l);

  log_init(&l);
  p = make(max, &l);
  rc = feed_pieces(p, in, n, 1);
  assert_string_equal(log_str(&l), expect_log);
  assert_int_equal(rc, expect_rc);
  assert_int_equal(rill_sse_error_offset(p), expect_rc ? expect_off : 0);

  for (cut = 0; cut <= n; cut++) {
    log_free(&l);
    log_init(&l);
    rill_sse_reset(p);
    rc = feed_cuts(p, in, n, &cut, 1, 1);
    if (strcmp(log_str(&l), expect_log) != 0)
      fail_msg("cut %zu: got\n%s\nwant\n%s", cut, log_str(&l), expect_log);
    assert_int_equal(rc, expect_rc);
    assert_int_equal(rill_sse_error_offset(p), expect_rc ? expect_off : 0);
  }
  rill_sse_free(p);
  log_free(&l);
}

static void check_all(const char *in, const char *expect_log) {
  check_all_n(in, strlen(in), 0, expect_log, RILL_OK, 0);
}

/* ---- API misuse ---------------------------------------------------------- */

static void test_new_invalid(void **state) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_sse *p = (rill_sse *)&o;
  log_t l;
  (void)state;
  log_init(&l);
  assert_int_equal(rill_sse_new(NULL, NULL, on_event, &l), RILL_E_INVALID);
  assert_int_equal(rill_sse_new(&p, NULL, NULL, &l), RILL_E_INVALID);
  assert_null(p);
  o.size = 0;
  assert_int_equal(rill_sse_new(&p, &o, on_event, &l), RILL_E_INVALID);
  o.size = sizeof o;
  o.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES + 1;
  assert_int_equal(rill_sse_new(&p, &o, on_event, &l), RILL_E_INVALID);
  assert_null(p);
  o.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES;
  assert_int_equal(rill_sse_new(&p, &o, on_event, &l), RILL_OK);
  rill_sse_free(p);
  /* An older, shorter struct: only size bytes are read (max = default). */
  o.size = sizeof(size_t);
  o.max_record_bytes = (size_t)-1;
  assert_int_equal(rill_sse_new(&p, &o, on_event, &l), RILL_OK);
  rill_sse_free(p);
  assert_int_equal(rill_sse_new(&p, NULL, on_event, NULL), RILL_OK);
  rill_sse_free(p);
  rill_sse_free(NULL);
  rill_sse_reset(NULL);
  assert_int_equal(rill_sse_error_offset(NULL), 0);
  assert_int_equal(rill_sse_finish(NULL), RILL_E_INVALID);
  assert_int_equal(rill_sse_retry(NULL, NULL), 0);
  log_free(&l);
}

static void test_feed_invalid(void **state) {
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_sse_feed(NULL, "x", 1), RILL_E_INVALID);
  assert_int_equal(rill_sse_feed(p, NULL, 1), RILL_E_INVALID);
  assert_int_equal(rill_sse_feed(p, NULL, 0), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "", 0), RILL_OK);
  /* RILL_E_INVALID is not sticky. */
  assert_int_equal(rill_sse_feed(p, "data: a\n\n", 9), RILL_OK);
  assert_int_equal(rill_sse_error_offset(p), 0);
  assert_string_equal(log_str(&l), "message|a|\n");
  rill_sse_free(p);
  log_free(&l);
}

/* ---- the WHATWG rules -------------------------------------------------------- */

static void test_basic(void **state) {
  (void)state;
  check_all("data: hello\n\n", "message|hello|\n");
  check_all("data:hello\n\ndata: world\n\n", "message|hello|\nmessage|world|\n");
  check_all("", "");
  check_all("\n\n\n", "");
}

static void test_line_endings(void **state) {
  (void)state;
  check_all("data: a\r\n\r\n", "message|a|\n");
  check_all("data: a\r\r", "message|a|\n");
  check_all("data: a\n\r", "message|a|\n");
  check_all("data: a\r\ndata: b\rdata: c\n\r\n", "message|a\\nb\\nc|\n");
  /* \n\r is two line ends, not one. */
  check_all("data: a\n\rdata: b\n\n", "message|a|\nmessage|b|\n");
}

static void test_crlf_split(void **state) {
  log_t l;
  rill_sse *p;
  (void)state;
  /* If the LF after the split CR counted as a blank line, "a" would be
   * dispatched alone. */
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_sse_feed(p, "data: a\r", 8), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\n", 1), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "data: b\r", 8), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\ndata: c\r", 9), RILL_OK);
  assert_string_equal(log_str(&l), "");
  assert_int_equal(rill_sse_feed(p, "\r", 1), RILL_OK); /* CR CR: dispatch */
  assert_string_equal(log_str(&l), "message|a\\nb\\nc|\n");
  assert_int_equal(rill_sse_feed(p, "\n", 1), RILL_OK); /* 2nd half of CRLF */
  assert_int_equal(rill_sse_finish(p), RILL_OK);
  assert_string_equal(log_str(&l), "message|a\\nb\\nc|\n");
  rill_sse_free(p);
  log_free(&l);
  check_all("data: a\r\ndata: b\r\n\r\n", "message|a\\nb|\n");
}

static void test_cr_last_byte(void **state) {
  (void)state;
  /* The CR as the very last byte ends its line and dispatches. */
  check_all("data: x\n\r", "message|x|\n");
  check_all("data: x\r\r", "message|x|\n");
  check_all("data: x\r", "");
}

static void test_bom(void **state) {
  (void)state;
  check_all("\xEF\xBB\xBF" "data: a\n\n", "message|a|\n");
  check_all("\xEF\xBB\xBF" "\xEF\xBB\xBF" "data: a\n\n", "");
  check_all("\xEF\xBB\xBF" "\n" "\xEF\xBB\xBF" "data: a\n\n", "");
  check_all("\xEF\xBB" "data: a\n\n", "");
  check_all("\xEF" "\n" "data: a\n\n", "message|a|\n");
  check_all("\xEF\xBB\xBF", "");
  check_all("\xEF\xBB", "");
  check_all("\xEF\xBB\xBF" "\r\n" "data: a\r\n\r\n", "message|a|\n");
  check_all("data:\xEF\xBB\xBF" "a\n\n", "message|\\xEF\\xBB\\xBFa|\n");
}

static void test_bom_split(void **state) {
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_sse_feed(p, "\xEF", 1), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\xBB", 1), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\xBF" "data", 5), RILL_OK);
  assert_int_equal(rill_sse_feed(p, ": a\n\n", 5), RILL_OK);
  assert_string_equal(log_str(&l), "message|a|\n");
  rill_sse_free(p);
  log_free(&l);
  /* A partial BOM followed by more bytes is part of the first line. */
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_sse_feed(p, "\xEF\xBB", 2), RILL_OK);
  assert_int_equal(rill_sse_feed(p, ":comment\ndata: b\n\n", 18), RILL_OK);
  assert_string_equal(log_str(&l), "message|b|\n");
  rill_sse_free(p);
  log_free(&l);
}

static void test_fields(void **state) {
  (void)state;
  check_all(": comment\ndata: a\n:\n\n", "message|a|\n");
  check_all("data\n\n", "message||\n");
  check_all("data:\n\n", "message||\n");
  check_all("data\ndata\n\n", "message|\\n|\n");
  check_all("data:  two\n\n", "message| two|\n");
  check_all("data:x:y\n\n", "message|x:y|\n");
  check_all("data: a\ndata: b\ndata: c\n\n", "message|a\\nb\\nc|\n");
  check_all("data: a\ndata:\n\n", "message|a\\n|\n");
  check_all("Data: a\n\nDATA: b\n\n data: c\n\n", "");
  check_all("foo: bar\ndata: a\nbaz\n\n", "message|a|\n");
  check_all("data : a\n\n", "");
}

static void test_event_type(void **state) {
  (void)state;
  check_all("event: ping\ndata: {}\n\ndata: x\n\n", "ping|{}|\nmessage|x|\n");
  check_all("event:\ndata: a\n\n", "message|a|\n");
  check_all("event: a\nevent: b\ndata: x\n\n", "b|x|\n");
  check_all("data: x\nevent: late\n\n", "late|x|\n");
  /* No data: no dispatch, but the type is reset all the same. */
  check_all("event: lost\n\ndata: x\n\n", "message|x|\n");
  check_all("event\ndata: x\n\n", "message|x|\n");
}

static void test_id(void **state) {
  log_t l;
  rill_sse *p;
  size_t n = 9;
  const char *id;
  (void)state;
  check_all("id: 1\ndata: a\n\ndata: b\n\n", "message|a|1\nmessage|b|1\n");
  check_all("id: 1\ndata: a\n\nid\ndata: b\n\n", "message|a|1\nmessage|b|\n");
  check_all("id: 1\ndata: a\n\nid:\ndata: b\n\n", "message|a|1\nmessage|b|\n");
  check_all("id: 7\n\ndata: a\n\n", "message|a|7\n");
  check_all("data: a\nid: 2\n\n", "message|a|2\n");
  check_all_n("id: 1\ndata: a\n\nid: x\0y\ndata: b\n\n", 32, 0,
              "message|a|1\nmessage|b|1\n", RILL_OK, 0);
  check_all("id:  sp\ndata: a\n\n", "message|a| sp\n");

  log_init(&l);
  p = make(0, &l);
  id = rill_sse_last_event_id(p, &n);
  assert_string_equal(id, "");
  assert_int_equal(n, 0);
  assert_int_equal(rill_sse_feed(p, "id: abc\n", 8), RILL_OK);
  id = rill_sse_last_event_id(p, &n);
  assert_int_equal(n, 3);
  assert_memory_equal(id, "abc", 3);
  assert_int_equal(rill_sse_finish(p), RILL_OK);
  id = rill_sse_last_event_id(p, &n);
  assert_int_equal(n, 3);
  rill_sse_reset(p);
  id = rill_sse_last_event_id(p, &n);
  assert_int_equal(n, 0);
  assert_string_equal(id, "");
  rill_sse_free(p);
  log_free(&l);
}

static void check_retry(const char *in, int has, uint64_t want) {
  log_t l;
  rill_sse *p;
  uint64_t ms = 12345;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(feed_pieces(p, in, strlen(in), 1), RILL_OK);
  assert_int_equal(rill_sse_retry(p, &ms), has);
  if (has)
    assert_true(ms == want);
  rill_sse_reset(p);
  assert_int_equal(feed_cuts(p, in, strlen(in), NULL, 0, 1), RILL_OK);
  assert_int_equal(rill_sse_retry(p, NULL), has);
  rill_sse_reset(p);
  assert_int_equal(rill_sse_retry(p, &ms), 0);
  rill_sse_free(p);
  log_free(&l);
}

static void test_retry(void **state) {
  (void)state;
  check_retry("retry: 3000\n", 1, 3000);
  check_retry("retry:0\n", 1, 0);
  check_retry("retry: 1a\n", 0, 0);
  check_retry("retry:\n", 0, 0);
  check_retry("retry\n", 0, 0);
  check_retry("retry:  5\n", 0, 0);
  check_retry("retry: -5\n", 0, 0);
  check_retry("retry: 5 \n", 0, 0);
  check_retry("retry: 10\nretry: x\n", 1, 10);
  check_retry("retry: 10\nretry: 20\n", 1, 20);
  check_retry("retry: 18446744073709551615\n", 1, UINT64_MAX);
  check_retry("retry: 18446744073709551616\n", 1, UINT64_MAX);
  check_retry("retry: 123456789012345678901234567890\n", 1, UINT64_MAX);
  check_retry("retry: 18446744073709551614\n", 1, UINT64_MAX - 1);
  check_retry("retry: 5", 0, 0); /* unfinished line */
  check_retry("Retry: 5\n", 0, 0);
}

static void test_unfinished(void **state) {
  (void)state;
  check_all("data: a\n", "");
  check_all("data: a", "");
  check_all("data: a\n\ndata: b\n", "message|a|\n");
  check_all("data: a\n\ndata: b\ndata: c", "message|a|\n");
}

static void test_bytes_pass_through(void **state) {
  (void)state;
  check_all("data: \xFF\xC3(\n\n", "message|\\xFF\\xC3(|\n");
  check_all_n("data: a\0b\n\n", 11, 0, "message|a\\x00b|\n", RILL_OK, 0);
  check_all("event: \xE2\x82\xAC\ndata: x\n\n", "\\xE2\\x82\\xAC|x|\n");
}

/* ---- limits ------------------------------------------------------------------- */

static void test_limit_line(void **state) {
  (void)state;
  /* A line of exactly max bytes (line end not counted) passes. */
  check_all_n("data: 0123456789\n\n", 18, 16, "message|0123456789|\n", RILL_OK,
              0);
  check_all_n("data: 0123456789\r\n\r\n", 20, 16, "message|0123456789|\n",
              RILL_OK, 0);
  /* One more fails at the first byte past the limit. */
  check_all_n("data: 0123456789A\n\n", 19, 16, "", RILL_E_LIMIT, 16);
  check_all_n("data: 0123456789A", 17, 16, "", RILL_E_LIMIT, 16);
  check_all_n("data: x\n\n:0123456789abcdefXYZ\n", 30, 16, "message|x|\n",
              RILL_E_LIMIT, 25);
  check_all_n("\xEF\xBB\xBF" ":234567890123456\n", 20, 16, "", RILL_OK, 0);
  check_all_n("\xEF\xBB\xBF" ":2345678901234567\n", 21, 16, "", RILL_E_LIMIT,
              19);
  /* A partial BOM is part of the line. */
  check_all_n("\xEF\xBB" ":", 3, 2, "", RILL_E_LIMIT, 2);
  check_all_n("\xEF\xBB" "\n", 3, 2, "", RILL_OK, 0);
  check_all_n("\xEF" "\n", 2, 1, "", RILL_OK, 0);
  check_all_n("\xEF" "x", 2, 1, "", RILL_E_LIMIT, 1);
  check_all_n("data\n\n", 6, 4, "message||\n", RILL_OK, 0);
  check_all_n("data:\n\n", 7, 4, "", RILL_E_LIMIT, 4);
}

static void test_limit_event(void **state) {
  (void)state;
  /* Joined data: 7 + 1 + 8 = 16 = max passes. */
  check_all_n("data: aaaaaaa\ndata: bbbbbbbb\n\n", 30, 16,
              "message|aaaaaaa\\nbbbbbbbb|\n", RILL_OK, 0);
  /* 7 + 1 + 9 = 17: the 9th b (offset 14 + 6 + 8 = 28) is past it. */
  check_all_n("data: aaaaaaa\ndata: bbbbbbbbb\n\n", 31, 16, "", RILL_E_LIMIT,
              28);
  /* Many lines: exactly max, then one more. */
  check_all_n("data:abc\ndata:def\ndata:ghi\ndata:jkl\n\n", 37, 15,
              "message|abc\\ndef\\nghi\\njkl|\n", RILL_OK, 0);
  check_all_n("data:abc\ndata:def\ndata:ghi\ndata:jklm\n\n", 38, 15, "",
              RILL_E_LIMIT, 35);
  /* The data is exactly max: even the joining LF of an empty line does not
   * fit; reported at the value's start (= the line end here). */
  check_all_n("data:abc\ndata:abc\ndata\ndata\n\n", 29, 8, "", RILL_E_LIMIT,
              27);
  check_all_n("data:abc\ndata:abc\ndata\n\n", 24, 8,
              "message|abc\\nabc\\n|\n", RILL_OK, 0);
  /* The limit is per event. */
  check_all_n("data: aaaaaaa\ndata: bbbbbbbb\n\ndata: aaaaaaa\ndata: bbbbbbbb\n\n",
              60, 16, "message|aaaaaaa\\nbbbbbbbb|\nmessage|aaaaaaa\\nbbbbbbbb|\n",
              RILL_OK, 0);
}

static void test_limit_sticky(void **state) {
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(8, &l);
  assert_int_equal(rill_sse_feed(p, "data: 123", 9), RILL_E_LIMIT);
  assert_int_equal(rill_sse_error_offset(p), 8);
  assert_int_equal(rill_sse_feed(p, "\n\n", 2), RILL_E_LIMIT);
  assert_int_equal(rill_sse_finish(p), RILL_E_LIMIT);
  assert_int_equal(rill_sse_finish(p), RILL_E_LIMIT);
  assert_int_equal(rill_sse_error_offset(p), 8);
  assert_string_equal(log_str(&l), "");
  /* reset: a new stream, offsets from 0. */
  rill_sse_reset(p);
  assert_int_equal(rill_sse_error_offset(p), 0);
  assert_int_equal(rill_sse_feed(p, "data: 1\n\n", 9), RILL_OK);
  assert_string_equal(log_str(&l), "message|1|\n");
  rill_sse_free(p);
  log_free(&l);
}

static void test_state(void **state) {
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_sse_feed(p, "data: a\n\n", 9), RILL_OK);
  assert_int_equal(rill_sse_finish(p), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "data: b\n\n", 9), RILL_E_STATE);
  assert_int_equal(rill_sse_feed(p, "", 0), RILL_E_STATE);
  assert_int_equal(rill_sse_finish(p), RILL_E_STATE);
  assert_int_equal(rill_sse_error_offset(p), 0);
  rill_sse_reset(p);
  assert_int_equal(rill_sse_feed(p, "data: c\n\n", 9), RILL_OK);
  assert_int_equal(rill_sse_finish(p), RILL_OK);
  assert_string_equal(log_str(&l), "message|a|\nmessage|c|\n");
  rill_sse_free(p);
  log_free(&l);
}

static void test_reset(void **state) {
  static const char first[] =
      "\xEF\xBB\xBFid: 9\nretry: 5\nevent: e\ndata: a\ndata: b\r";
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  /* Mid-line, mid-event, with an id, a retry, a pending CR and a BOM. */
  assert_int_equal(rill_sse_feed(p, first, sizeof first - 1), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "dat", 3), RILL_OK);
  rill_sse_reset(p);
  assert_int_equal(rill_sse_retry(p, NULL), 0);
  /* The new stream starts fresh: a BOM is dropped again, the LF is a line
   * end of its own (a blank line: nothing to dispatch). */
  assert_int_equal(rill_sse_feed(p, "\n\xEF\xBB\xBF" "data: x\n\n", 1 + 3 + 9), RILL_OK);
  assert_string_equal(log_str(&l), "");
  rill_sse_reset(p);
  assert_int_equal(rill_sse_feed(p, "\xEF\xBB\xBF" "data: x\n\n", 3 + 9), RILL_OK);
  assert_string_equal(log_str(&l), "message|x|\n");
  rill_sse_free(p);
  log_free(&l);
}

static void test_cancel(void **state) {
  const char *in = "data: 1\n\ndata: 2\r\n\r\ndata: 3\n\n";
  size_t n = strlen(in), cut;
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  l.stop_at = 1;
  assert_int_equal(rill_sse_feed(p, in, n), RILL_E_CANCELLED);
  assert_int_equal(rill_sse_error_offset(p), 9);
  assert_int_equal(l.n_events, 1);
  assert_int_equal(rill_sse_feed(p, in, n), RILL_E_CANCELLED);
  assert_int_equal(rill_sse_finish(p), RILL_E_CANCELLED);
  assert_int_equal(l.n_events, 1);
  /* Stopping at the 2nd event, whose blank line ends in CRLF: the offset
   * is just past the CR (the LF's own offset), whatever the split. */
  for (cut = 0; cut <= n; cut++) {
    log_free(&l);
    log_init(&l);
    l.stop_at = 2;
    rill_sse_reset(p);
    assert_int_equal(feed_cuts(p, in, n, &cut, 1, 1), RILL_E_CANCELLED);
    assert_int_equal(rill_sse_error_offset(p), 19);
    assert_int_equal(l.n_events, 2);
    assert_string_equal(log_str(&l), "message|1|\nmessage|2|\n");
  }
  rill_sse_free(p);
  log_free(&l);
}

static void test_zero_copy(void **state) {
  char in[] = "event: x\ndata: {\"a\":1}\n\ndata: 1\ndata: 2\n\ndata: {\"b\"";
  char in2[] = ":2}\n\n";
  log_t l;
  rill_sse *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  l.stop_at = 0;
  assert_int_equal(rill_sse_feed(p, in, 24), RILL_OK);
  assert_int_equal(l.n_events, 1);
  /* A single data line whole in the input is handed over in place. */
  assert_ptr_equal(l.last_data, in + 15);
  assert_int_equal(l.last_data_len, 7);
  assert_int_equal(rill_sse_feed(p, in + 24, sizeof in - 1 - 24), RILL_OK);
  assert_int_equal(l.n_events, 2);
  assert_memory_equal(l.copy, "1\n2", 3);
  assert_true(l.last_data < in || l.last_data >= in + sizeof in);
  assert_int_equal(rill_sse_feed(p, in2, sizeof in2 - 1), RILL_OK);
  assert_int_equal(l.n_events, 3);
  assert_memory_equal(l.copy, "{\"b\":2}", 7);
  assert_true(l.last_data < in2 || l.last_data >= in2 + sizeof in2);
  /* The data line whole in one feed, the blank line in the next: copied
   * at the end of the first feed (the caller's buffer is gone after it). */
  assert_int_equal(rill_sse_feed(p, "data: z\n", 8), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\n", 1), RILL_OK);
  assert_int_equal(l.n_events, 4);
  assert_memory_equal(l.copy, "z", 1);
  assert_string_equal(log_str(&l),
                      "x|{\"a\":1}|\nmessage|1\\n2|\nmessage|{\"b\":2}|\nmessage|z|\n");
  rill_sse_free(p);
  log_free(&l);
}

/* 1 MiB of data in one event, whole and in 1-, 7- and 4096-byte pieces. */
static void test_big_record(void **state) {
  size_t big = (size_t)1 << 20, n, i;
  size_t pieces[] = {0, 1, 7, 4096};
  char *in = malloc(big + 16);
  (void)state;
  assert_non_null(in);
  memcpy(in, "data: ", 6);
  for (i = 0; i < big; i++)
    in[6 + i] = (char)('a' + (i * 7) % 26);
  memcpy(in + 6 + big, "\r\n\r\n", 4);
  n = 6 + big + 4;
  for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    log_t l;
    rill_sse *p;
    log_init(&l);
    p = make(big + 6, &l);
    assert_int_equal(feed_pieces(p, in, n, pieces[i] ? pieces[i] : n),
                     RILL_OK);
    assert_int_equal(l.n_events, 1);
    assert_int_equal(l.last_data_len, big);
    assert_memory_equal(l.copy, in + 6, big);
    rill_sse_free(p);
    log_free(&l);
    /* One byte less of limit: the line no longer fits. */
    log_init(&l);
    p = make(big + 5, &l);
    assert_int_equal(feed_pieces(p, in, n, pieces[i] ? pieces[i] : n),
                     RILL_E_LIMIT);
    assert_int_equal(rill_sse_error_offset(p), big + 5);
    assert_int_equal(l.n_events, 0);
    rill_sse_free(p);
    log_free(&l);
  }
  free(in);
}

/* ---- allocation failure injection --------------------------------------------- */

static int alloc_scenario(size_t piece) {
  static const char in[] =
      "\xEF\xBB\xBFid: some-id\nevent: a-fairly-long-event-type\nretry: 10\n"
      "data: 0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123\n"
      "data: second line of the same event that forces the data buffer\n"
      "data: " "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123"
      "0123456789012345678901234567890123456789012345678901234567890123\n\n"
      "data: {\"whole\":true}\n\n: done\n";
  log_t l;
  rill_sse *p = NULL;
  int rc;
  log_init(&l);
  rc = rill_sse_new(&p, NULL, on_event, &l);
  if (rc == RILL_OK) {
    rc = feed_pieces(p, in, sizeof in - 1, piece);
    if (rc == RILL_OK && strstr(log_str(&l), "|{\"whole\":true}|some-id\n") == NULL)
      rc = RILL_E_INTERNAL;
    if (rc == RILL_E_NOMEM)
      assert_int_equal(rill_sse_feed(p, "x", 1), RILL_E_NOMEM); /* sticky */
    rill_sse_free(p);
  } else {
    assert_null(p);
  }
  log_free(&l);
  return rc;
}

static void test_alloc_fail(void **state) {
  size_t pieces[] = {1, 7, 100, 100000};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    rill_alloc_stats st0 = RILL_ALLOC_STATS_INIT, st1 = RILL_ALLOC_STATS_INIT;
    uint64_t n, k;
    int mode;
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    assert_int_equal(alloc_scenario(pieces[i]), RILL_OK);
    n = rill_alloc_attempts();
    assert_true(n >= 4); /* the framer, tail, data, type, id */
    for (mode = RILL_FAIL_ONCE; mode <= RILL_FAIL_FROM; mode++) {
      for (k = 1; k <= n; k++) {
        int rc;
        assert_int_equal(rill_alloc_get_stats(&st0), RILL_OK);
        rill_alloc_fail_at(k, (rill_fail_mode)mode);
        rc = alloc_scenario(pieces[i]);
        rill_alloc_fail_at(0, RILL_FAIL_ONCE);
        if (rc != RILL_E_NOMEM)
          fail_msg("piece %zu, fail at %llu (mode %d): %s", pieces[i],
                   (unsigned long long)k, mode, rill_error_name(rc));
        assert_int_equal(rill_alloc_get_stats(&st1), RILL_OK);
        assert_true(st1.bytes_in_use == st0.bytes_in_use);
      }
    }
    print_message("alloc failure: piece %zu, %llu allocations, each failed "
                  "once and from-on\n",
                  pieces[i], (unsigned long long)n);
  }
}

/* ---- scanner -------------------------------------------------------------------- */

static const char *naive_eol(const char *p, const char *end) {
  for (; p < end; p++)
    if (*p == '\r' || *p == '\n')
      return p;
  return end;
}

static void test_scan(void **state) {
  enum { N = 512 };
  char *buf = malloc(N + 64);
  unsigned seed = 12345;
  size_t runs = 0;
  int density;
  (void)state;
  assert_non_null(buf);
  for (density = 0; density < 5; density++) {
    int rep;
    for (rep = 0; rep < 4; rep++) {
      size_t i, off, len;
      for (i = 0; i < N + 64; i++) {
        unsigned r;
        seed = seed * 1103515245u + 12345u;
        r = (seed >> 16) & 0x7fff;
        /* density 0: no line ends; then 1/1000, 1/64, 1/8, 1/2 */
        if (density == 1 && r % 1000 == 0)
          buf[i] = (r & 1) ? '\r' : '\n';
        else if (density == 2 && r % 64 == 0)
          buf[i] = (r & 64) ? '\r' : '\n';
        else if (density == 3 && r % 8 == 0)
          buf[i] = (r & 64) ? '\r' : '\n';
        else if (density == 4 && r % 2 == 0)
          buf[i] = (r & 64) ? '\r' : '\n';
        else
          /* also bytes next to CR/LF, and 0x8A/0x8D (high bit variants) */
          buf[i] = (char)("\x0c\x0b\x0e\x8a\x8d" "abc{}\"\\ \xff\x00"[r % 16]);
      }
      for (off = 0; off < 64; off++)
        for (len = 0; off + len <= N + 64 && len <= 300; len++) {
          const char *p = buf + off, *e = p + len;
          const char *want = naive_eol(p, e);
          assert_ptr_equal(rill__scan_eol(p, e), want);
          assert_ptr_equal(rill__scan_eol_portable(p, e), want);
          runs++;
        }
      /* Long ranges too (the 64-byte loop). */
      for (off = 0; off < 64; off++) {
        const char *p = buf + off, *e = buf + N + 64;
        assert_ptr_equal(rill__scan_eol(p, e), naive_eol(p, e));
        assert_ptr_equal(rill__scan_eol_portable(p, e), naive_eol(p, e));
      }
    }
  }
  /* A line end at every position of a range with none elsewhere. */
  memset(buf, 'x', N + 64);
  {
    size_t at, len;
    for (len = 1; len <= 200; len++)
      for (at = 0; at < len; at++) {
        buf[at] = (at & 1) ? '\r' : '\n';
        assert_ptr_equal(rill__scan_eol(buf, buf + len), buf + at);
        assert_ptr_equal(rill__scan_eol_portable(buf, buf + len), buf + at);
        buf[at] = 'x';
      }
  }
  print_message("scanner: %zu random ranges checked against a naive loop\n",
                runs);
  free(buf);
}

/* ---- differential: random streams against a naive WHATWG reference ------------ */

/* The algorithm read straight from the spec, on the whole stream, one byte
 * at a time, no limits. */
static void reference(const char *in, size_t n, log_t *l) {
  char *line = malloc(n + 1), *data = malloc(2 * n + 2), *type = malloc(n + 1),
       *id = malloc(n + 1);
  size_t ll = 0, dl = 0, tl = 0, il = 0, i = 0;
  int have_data = 0;
  assert_true(line && data && type && id);
  if (n >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  for (; i < n; i++) {
    char c = in[i];
    if (c != '\r' && c != '\n') {
      line[ll++] = c;
      continue;
    }
    if (c == '\r' && i + 1 < n && in[i + 1] == '\n')
      i++;
    if (ll == 0) {
      if (have_data) {
        rill_sse_event ev;
        ev.type = tl ? type : "message";
        ev.type_len = tl ? tl : 7;
        ev.data = data;
        ev.data_len = dl - 1;
        ev.id = id;
        ev.id_len = il;
        on_event(l, &ev);
      }
      have_data = 0;
      dl = 0;
      tl = 0;
    } else if (line[0] != ':') {
      char *colon = memchr(line, ':', ll);
      size_t nl = colon ? (size_t)(colon - line) : ll;
      char *v = colon ? colon + 1 : line + ll;
      size_t vl;
      if (v < line + ll && *v == ' ')
        v++;
      vl = (size_t)(line + ll - v);
      if (nl == 4 && memcmp(line, "data", 4) == 0) {
        memcpy(data + dl, v, vl);
        dl += vl;
        data[dl++] = '\n';
        have_data = 1;
      } else if (nl == 5 && memcmp(line, "event", 5) == 0) {
        memcpy(type, v, vl);
        tl = vl;
      } else if (nl == 2 && memcmp(line, "id", 2) == 0 &&
                 !memchr(v, '\0', vl)) {
        memcpy(id, v, vl);
        il = vl;
      }
    }
    ll = 0;
  }
  free(line);
  free(data);
  free(type);
  free(id);
}

static void test_random_vs_reference(void **state) {
  static const char *atoms[] = {"data", "data:", "data: ", ":", " ", "\r",
                                "\n", "\r\n", "event:", "event: e", "id:",
                                "id: 7", "id:\0", "x", "{\"a\":1}",
                                "\xEF\xBB\xBF", "retry: 9", "ev", "\n\n"};
  static const size_t atom_len[] = {4, 5, 6, 1, 1, 1, 1, 2, 6, 8, 3, 5, 4,
                                    1, 7, 3, 8, 2, 2};
  unsigned seed = 777;
  int iter;
  char in[400];
  (void)state;
  for (iter = 0; iter < 3000; iter++) {
    size_t n = 0, cuts[6], i, n_cuts;
    log_t want, got;
    rill_sse *p;
    while (n < 300) {
      size_t a;
      seed = seed * 1103515245u + 12345u;
      a = (seed >> 16) % (sizeof atom_len / sizeof atom_len[0]);
      memcpy(in + n, atoms[a], atom_len[a]);
      n += atom_len[a];
    }
    n_cuts = iter % 7;
    if (n_cuts > 6)
      n_cuts = 6;
    for (i = 0; i < n_cuts; i++) {
      seed = seed * 1103515245u + 12345u;
      cuts[i] = (seed >> 8) % (n + 1);
    }
    /* sort the cuts */
    for (i = 1; i < n_cuts; i++) {
      size_t j = i, t = cuts[i];
      while (j > 0 && cuts[j - 1] > t) {
        cuts[j] = cuts[j - 1];
        j--;
      }
      cuts[j] = t;
    }
    log_init(&want);
    log_init(&got);
    reference(in, n, &want);
    p = make(0, &got);
    assert_int_equal(feed_cuts(p, in, n, cuts, n_cuts, 1), RILL_OK);
    if (strcmp(log_str(&want), log_str(&got)) != 0)
      fail_msg("iteration %d: got\n%s\nwant\n%s", iter, log_str(&got),
               log_str(&want));
    rill_sse_free(p);
    log_free(&want);
    log_free(&got);
  }
}

static void test_pooled(void **state) {
  log_t l;
  rill_sse *p = NULL;
  (void)state;
  log_init(&l);
  assert_int_equal(rill__sse_new_pooled(&p, NULL, on_event, &l, NULL), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "data: a", 7), RILL_OK);
  assert_int_equal(rill_sse_feed(p, "\n\n", 2), RILL_OK);
  assert_string_equal(log_str(&l), "message|a|\n");
  rill_sse_free(p);
  log_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_invalid),
      cmocka_unit_test(test_feed_invalid),
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_line_endings),
      cmocka_unit_test(test_crlf_split),
      cmocka_unit_test(test_cr_last_byte),
      cmocka_unit_test(test_bom),
      cmocka_unit_test(test_bom_split),
      cmocka_unit_test(test_fields),
      cmocka_unit_test(test_event_type),
      cmocka_unit_test(test_id),
      cmocka_unit_test(test_retry),
      cmocka_unit_test(test_unfinished),
      cmocka_unit_test(test_bytes_pass_through),
      cmocka_unit_test(test_limit_line),
      cmocka_unit_test(test_limit_event),
      cmocka_unit_test(test_limit_sticky),
      cmocka_unit_test(test_state),
      cmocka_unit_test(test_reset),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_zero_copy),
      cmocka_unit_test(test_big_record),
      cmocka_unit_test(test_alloc_fail),
      cmocka_unit_test(test_scan),
      cmocka_unit_test(test_random_vs_reference),
      cmocka_unit_test(test_pooled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
