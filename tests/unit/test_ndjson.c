/*
 * test_ndjson.c — unit tests of the NDJSON framer (src/stream/ndjson.c).
 *
 * Records are logged as text, one per line: "line:record" with control and
 * non-ASCII bytes written as \r, \t, \xHH. Most cases are checked whole, in
 * 1-byte pieces and split at every position (check_all).
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
#include "stream/ndjson.h"

typedef struct log_t {
  char *s;
  size_t len, cap;
  int n_records;
  int stop_at;           /* return non-zero from the stop_at-th record */
  const char *last_rec;  /* pointer of the last record */
  size_t last_len;
  char *copy;            /* copy of the last record */
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

static void log_str_add(log_t *l, const char *s) {
  while (*s)
    log_putc(l, *s++);
}

static void log_bytes(log_t *l, const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    char hex[8];
    if (c == '\r')
      log_str_add(l, "\\r");
    else if (c == '\t')
      log_str_add(l, "\\t");
    else if (c < 0x20 || c >= 0x7f) {
      snprintf(hex, sizeof hex, "\\x%02X", c);
      log_str_add(l, hex);
    } else
      log_putc(l, (char)c);
  }
}

static int on_record(void *user, const char *rec, size_t len, uint64_t line) {
  log_t *l = user;
  char num[32];
  assert_non_null(rec);
  assert_true(len > 0);
  l->n_records++;
  snprintf(num, sizeof num, "%llu:", (unsigned long long)line);
  log_str_add(l, num);
  if (len <= 256)
    log_bytes(l, rec, len);
  else {
    snprintf(num, sizeof num, "<%zu bytes>", len);
    log_str_add(l, num);
  }
  log_putc(l, '\n');
  l->last_rec = rec;
  l->last_len = len;
  free(l->copy);
  l->copy = malloc(len);
  assert_non_null(l->copy);
  memcpy(l->copy, rec, len);
  return l->stop_at && l->n_records == l->stop_at;
}

static void log_init(log_t *l) { memset(l, 0, sizeof *l); }

static void log_free(log_t *l) {
  free(l->s);
  free(l->copy);
  memset(l, 0, sizeof *l);
}

static const char *log_str(const log_t *l) { return l->s ? l->s : ""; }

static rill_ndjson *make(size_t max, log_t *l) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_ndjson *p = NULL;
  o.max_record_bytes = max;
  assert_int_equal(rill_ndjson_new(&p, &o, on_record, l), RILL_OK);
  assert_non_null(p);
  return p;
}

static int feed_cuts(rill_ndjson *p, const char *in, size_t n,
                     const size_t *cuts, size_t n_cuts) {
  size_t i, at = 0;
  int rc;
  for (i = 0; i <= n_cuts; i++) {
    size_t to = i < n_cuts ? cuts[i] : n;
    rc = rill_ndjson_feed(p, in + at, to - at);
    if (rc != RILL_OK)
      return rc;
    at = to;
  }
  return rill_ndjson_finish(p);
}

static int feed_pieces(rill_ndjson *p, const char *in, size_t n, size_t piece) {
  size_t at;
  int rc;
  for (at = 0; at < n; at += piece) {
    size_t k = n - at < piece ? n - at : piece;
    rc = rill_ndjson_feed(p, in + at, k);
    if (rc != RILL_OK)
      return rc;
  }
  return rill_ndjson_finish(p);
}

static void check_all_n(const char *in, size_t n, size_t max,
                        const char *expect_log, int expect_rc,
                        uint64_t expect_off) {
  log_t l;
  rill_ndjson *p;
  size_t cut;
  int rc;

  log_init(&l);
  p = make(max, &l);
  rc = feed_cuts(p, in, n, NULL, 0);
  assert_string_equal(log_str(&l), expect_log);
  assert_int_equal(rc, expect_rc);
  assert_int_equal(rill_ndjson_error_offset(p), expect_rc ? expect_off : 0);
  rill_ndjson_free(p);
  log_free(&l);

  log_init(&l);
  p = make(max, &l);
  rc = feed_pieces(p, in, n, 1);
  assert_string_equal(log_str(&l), expect_log);
  assert_int_equal(rc, expect_rc);
  assert_int_equal(rill_ndjson_error_offset(p), expect_rc ? expect_off : 0);

  for (cut = 0; cut <= n; cut++) {
    log_free(&l);
    log_init(&l);
    rill_ndjson_reset(p);
    rc = feed_cuts(p, in, n, &cut, 1);
    if (strcmp(log_str(&l), expect_log) != 0)
      fail_msg("cut %zu: got\n%s\nwant\n%s", cut, log_str(&l), expect_log);
    assert_int_equal(rc, expect_rc);
    assert_int_equal(rill_ndjson_error_offset(p), expect_rc ? expect_off : 0);
  }
  rill_ndjson_free(p);
  log_free(&l);
}

static void check_all(const char *in, const char *expect_log) {
  check_all_n(in, strlen(in), 0, expect_log, RILL_OK, 0);
}

/* ---- API misuse ------------------------------------------------------------ */

static void test_new_invalid(void **state) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_ndjson *p = (rill_ndjson *)&o;
  log_t l;
  (void)state;
  log_init(&l);
  assert_int_equal(rill_ndjson_new(NULL, NULL, on_record, &l), RILL_E_INVALID);
  assert_int_equal(rill_ndjson_new(&p, NULL, NULL, &l), RILL_E_INVALID);
  assert_null(p);
  o.size = 0;
  assert_int_equal(rill_ndjson_new(&p, &o, on_record, &l), RILL_E_INVALID);
  o.size = sizeof o;
  o.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES + 1;
  assert_int_equal(rill_ndjson_new(&p, &o, on_record, &l), RILL_E_INVALID);
  assert_null(p);
  o.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES;
  assert_int_equal(rill_ndjson_new(&p, &o, on_record, &l), RILL_OK);
  rill_ndjson_free(p);
  o.size = sizeof(size_t);
  o.max_record_bytes = (size_t)-1; /* not read */
  assert_int_equal(rill_ndjson_new(&p, &o, on_record, &l), RILL_OK);
  rill_ndjson_free(p);
  rill_ndjson_free(NULL);
  rill_ndjson_reset(NULL);
  assert_int_equal(rill_ndjson_error_offset(NULL), 0);
  assert_int_equal(rill_ndjson_finish(NULL), RILL_E_INVALID);
  log_free(&l);
}

static void test_feed_invalid(void **state) {
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_ndjson_feed(NULL, "x", 1), RILL_E_INVALID);
  assert_int_equal(rill_ndjson_feed(p, NULL, 1), RILL_E_INVALID);
  assert_int_equal(rill_ndjson_feed(p, NULL, 0), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "{}\n", 3), RILL_OK);
  assert_int_equal(rill_ndjson_error_offset(p), 0);
  assert_string_equal(log_str(&l), "1:{}\n");
  rill_ndjson_free(p);
  log_free(&l);
}

/* ---- rules ----------------------------------------------------------------- */

static void test_basic(void **state) {
  (void)state;
  check_all("{\"a\":1}\n{\"b\":2}\n", "1:{\"a\":1}\n2:{\"b\":2}\n");
  check_all("", "");
  check_all("\n", "");
  check_all("not json\n", "1:not json\n"); /* the framer does not parse */
}

static void test_line_ends(void **state) {
  (void)state;
  check_all("{}\r\n[]\r\n", "1:{}\n2:[]\n");
  check_all("{}\r[]\n", "1:{}\\r[]\n"); /* a lone CR is not a line end */
  check_all("{}\r\r\n", "1:{}\\r\n");   /* only one CR is removed */
  check_all("\r{}\n", "1:\\r{}\n");
  check_all("{}\n\r\n[]\n", "1:{}\n3:[]\n");
}

static void test_blank_lines(void **state) {
  (void)state;
  check_all("\n \n\t\r\n{}\n\r\n[]", "4:{}\n6:[]\n");
  check_all("  \t  \n", "");
  check_all(" {} \n", "1: {} \n"); /* kept as is: not whitespace-only */
  check_all("\r\r\r\n1\n", "2:1\n");
  check_all("\v\n\f\n", "1:\\x0B\n2:\\x0C\n"); /* only space, tab, CR */
}

static void test_last_record(void **state) {
  log_t l;
  rill_ndjson *p;
  (void)state;
  check_all("{}\n[]", "1:{}\n2:[]\n");
  check_all("{}\n[]\r", "1:{}\n2:[]\n"); /* CRLF cut by the stream's end */
  check_all("{}\n  ", "1:{}\n");
  check_all("{}\n\r", "1:{}\n");
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_ndjson_feed(p, "{}\n[1]", 6), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n");
  assert_int_equal(rill_ndjson_finish(p), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n2:[1]\n");
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_bom(void **state) {
  (void)state;
  check_all("\xEF\xBB\xBF{}\n", "1:{}\n");
  check_all("\xEF\xBB\xBF\xEF\xBB\xBF{}\n", "1:\\xEF\\xBB\\xBF{}\n");
  check_all("{}\n\xEF\xBB\xBF{}\n", "1:{}\n2:\\xEF\\xBB\\xBF{}\n");
  check_all("\xEF\xBB{}\n", "1:\\xEF\\xBB{}\n");
  check_all("\xEF\xBB", "1:\\xEF\\xBB\n");
  check_all("\xEF", "1:\\xEF\n");
  check_all("\xEF\n", "1:\\xEF\n");
  check_all("\xEF\xBB\xBF", "");
  check_all("\xEF\xBB\xBF\n{}", "2:{}\n");
  check_all("\xEF\xBB\xBF\r\n{}\r\n", "2:{}\n");
}

static void test_bom_split(void **state) {
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_ndjson_feed(p, "\xEF", 1), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "\xBB", 1), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "\xBF{", 2), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "}\n", 2), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n");
  rill_ndjson_reset(p);
  assert_int_equal(rill_ndjson_feed(p, "\xEF\xBB", 2), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "x\n", 2), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n1:\\xEF\\xBBx\n");
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_crlf_split(void **state) {
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_ndjson_feed(p, "{}\r", 3), RILL_OK);
  assert_string_equal(log_str(&l), "");
  assert_int_equal(rill_ndjson_feed(p, "\n[]\r", 4), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n");
  assert_int_equal(rill_ndjson_feed(p, "x\n", 2), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n2:[]\\rx\n");
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_bytes_pass_through(void **state) {
  (void)state;
  check_all_n("{\"a\0\":1}\n", 9, 0, "1:{\"a\\x00\":1}\n", RILL_OK, 0);
  check_all("\xFF\xFE\n", "1:\\xFF\\xFE\n");
}

/* ---- limits ------------------------------------------------------------------ */

static void test_limit(void **state) {
  (void)state;
  /* The record (line without LF or CRLF) may be exactly max bytes. */
  check_all_n("abcd\n", 5, 4, "1:abcd\n", RILL_OK, 0);
  check_all_n("abcd\r\n", 6, 4, "1:abcd\n", RILL_OK, 0);
  check_all_n("abcd", 4, 4, "1:abcd\n", RILL_OK, 0);
  check_all_n("abcd\r", 5, 4, "1:abcd\n", RILL_OK, 0);
  /* One more byte fails, at the first byte past the limit. */
  check_all_n("abcde\n", 6, 4, "", RILL_E_LIMIT, 4);
  check_all_n("abcde", 5, 4, "", RILL_E_LIMIT, 4);
  check_all_n("abcd\rx\n", 7, 4, "", RILL_E_LIMIT, 4);
  check_all_n("abcd\r\r\n", 7, 4, "", RILL_E_LIMIT, 4);
  check_all_n("{}\nabcde\n[]\n", 12, 4, "1:{}\n", RILL_E_LIMIT, 7);
  /* Whitespace-only lines are lines too. */
  check_all_n("     \n", 6, 4, "", RILL_E_LIMIT, 4);
  check_all_n("    \n1\n", 7, 4, "2:1\n", RILL_OK, 0);
  /* A partial BOM counts; a whole one does not. */
  check_all_n("\xEF\xBB\xBF" "abcd\n", 8, 4, "1:abcd\n", RILL_OK, 0);
  check_all_n("\xEF\xBB" "ab\n", 5, 4, "1:\\xEF\\xBBab\n", RILL_OK, 0);
  check_all_n("\xEF\xBB" "abc\n", 6, 4, "", RILL_E_LIMIT, 4);
  check_all_n("\xEF\xBB", 2, 1, "", RILL_E_LIMIT, 1);
  check_all_n("\xEF", 1, 1, "1:\\xEF\n", RILL_OK, 0);
  check_all_n("a\nb\nc", 5, 1, "1:a\n2:b\n3:c\n", RILL_OK, 0);
}

static void test_sticky_state_reset(void **state) {
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(4, &l);
  assert_int_equal(rill_ndjson_feed(p, "{}\n", 3), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "[1,2", 4), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, ",3]\n", 4), RILL_E_LIMIT);
  assert_int_equal(rill_ndjson_error_offset(p), 7);
  assert_int_equal(rill_ndjson_feed(p, "{}\n", 3), RILL_E_LIMIT);
  assert_int_equal(rill_ndjson_finish(p), RILL_E_LIMIT);
  assert_int_equal(rill_ndjson_error_offset(p), 7);
  rill_ndjson_reset(p);
  assert_int_equal(rill_ndjson_error_offset(p), 0);
  assert_int_equal(rill_ndjson_feed(p, "\xEF\xBB\xBF{}\n\n1", 8), RILL_OK);
  assert_int_equal(rill_ndjson_finish(p), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "{}\n", 3), RILL_E_STATE);
  assert_int_equal(rill_ndjson_finish(p), RILL_E_STATE);
  assert_int_equal(rill_ndjson_error_offset(p), 0);
  assert_string_equal(log_str(&l), "1:{}\n1:{}\n3:1\n");
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_cancel(void **state) {
  const char *in = "{}\n[]\r\n\n\"x\"";
  size_t n = strlen(in), cut;
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  for (cut = 0; cut <= n; cut++) {
    int k;
    for (k = 1; k <= 3; k++) {
      static const uint64_t want_off[] = {0, 3, 7, 11};
      log_free(&l);
      log_init(&l);
      l.stop_at = k;
      rill_ndjson_reset(p);
      assert_int_equal(feed_cuts(p, in, n, &cut, 1), RILL_E_CANCELLED);
      assert_int_equal(rill_ndjson_error_offset(p), want_off[k]);
      assert_int_equal(l.n_records, k);
      assert_int_equal(rill_ndjson_feed(p, "{}\n", 3), RILL_E_CANCELLED);
      assert_int_equal(rill_ndjson_finish(p), RILL_E_CANCELLED);
      assert_int_equal(l.n_records, k);
    }
  }
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_zero_copy(void **state) {
  char in[] = "{\"a\":1}\n{\"b\":2}\r\n{\"c\"";
  char in2[] = ":3}\n";
  log_t l;
  rill_ndjson *p;
  (void)state;
  log_init(&l);
  p = make(0, &l);
  assert_int_equal(rill_ndjson_feed(p, in, sizeof in - 1), RILL_OK);
  assert_int_equal(l.n_records, 2);
  assert_ptr_equal(l.last_rec, in + 8);
  assert_int_equal(l.last_len, 7);
  assert_int_equal(rill_ndjson_feed(p, in2, sizeof in2 - 1), RILL_OK);
  assert_int_equal(l.n_records, 3);
  assert_true(l.last_rec < in2 || l.last_rec >= in2 + sizeof in2);
  assert_true(l.last_rec < in || l.last_rec >= in + sizeof in);
  assert_memory_equal(l.copy, "{\"c\":3}", 7);
  rill_ndjson_free(p);
  log_free(&l);
}

static void test_big_record(void **state) {
  size_t big = (size_t)1 << 20, n, i;
  size_t pieces[] = {0, 1, 7, 4096};
  char *in = malloc(big + 16);
  (void)state;
  assert_non_null(in);
  in[0] = '"';
  for (i = 1; i + 1 < big; i++)
    in[i] = (char)('a' + (i * 11) % 26);
  in[big - 1] = '"';
  memcpy(in + big, "\r\n{}\n", 5);
  n = big + 5;
  for (i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    log_t l;
    rill_ndjson *p;
    log_init(&l);
    p = make(big, &l);
    assert_int_equal(feed_pieces(p, in, n, pieces[i] ? pieces[i] : n), RILL_OK);
    assert_int_equal(l.n_records, 2);
    assert_string_equal(log_str(&l), "1:<1048576 bytes>\n2:{}\n");
    rill_ndjson_reset(p);
    l.stop_at = 1;
    l.n_records = 0;
    assert_int_equal(feed_pieces(p, in, n, pieces[i] ? pieces[i] : n),
                     RILL_E_CANCELLED);
    assert_int_equal(l.last_len, big);
    assert_memory_equal(l.copy, in, big);
    if (!pieces[i]) /* whole in the input: no copy */
      assert_ptr_equal(l.last_rec, in);
    rill_ndjson_free(p);
    log_free(&l);
    log_init(&l);
    p = make(big - 1, &l);
    assert_int_equal(feed_pieces(p, in, n, pieces[i] ? pieces[i] : n),
                     RILL_E_LIMIT);
    assert_int_equal(rill_ndjson_error_offset(p), big - 1);
    assert_int_equal(l.n_records, 0);
    rill_ndjson_free(p);
    log_free(&l);
  }
  free(in);
}

/* ---- allocation failure injection ----------------------------------------------- */

static int alloc_scenario(size_t piece) {
  char in[3000];
  size_t n = 0, i;
  log_t l;
  rill_ndjson *p = NULL;
  int rc;
  memcpy(in, "\xEF\xBB", 2);
  n = 2;
  in[n++] = '[';
  for (i = 0; i < 2000; i++)
    in[n++] = (char)('0' + i % 10);
  memcpy(in + n, "]\r\n{\"done\":true}\n[1", 19);
  n += 19;
  log_init(&l);
  rc = rill_ndjson_new(&p, NULL, on_record, &l);
  if (rc == RILL_OK) {
    rc = feed_pieces(p, in, n, piece);
    if (rc == RILL_OK && strcmp(log_str(&l),
                                "1:<2004 bytes>\n2:{\"done\":true}\n3:[1\n") != 0)
      rc = RILL_E_INTERNAL;
    if (rc == RILL_E_NOMEM)
      assert_int_equal(rill_ndjson_feed(p, "x", 1), RILL_E_NOMEM);
    rill_ndjson_free(p);
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
    assert_true(n >= 2);
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

/* ---- differential: random streams against a naive reference -------------------- */

static void reference(const char *in, size_t n, log_t *l) {
  size_t i = 0, start;
  uint64_t line = 0;
  if (n >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0)
    i = 3;
  start = i;
  for (; i <= n; i++) {
    if (i == n || in[i] == '\n') {
      size_t len = i - start, k;
      int blank = 1;
      if (i == n && len == 0)
        break;
      line++;
      if (len && in[start + len - 1] == '\r')
        len--;
      for (k = 0; k < len; k++)
        if (in[start + k] != ' ' && in[start + k] != '\t' &&
            in[start + k] != '\r')
          blank = 0;
      if (!blank)
        on_record(l, in + start, len, line);
      start = i + 1;
    }
  }
}

static void test_random_vs_reference(void **state) {
  static const char *atoms[] = {"{}", "\n", "\r", "\r\n", " ", "\t", "x",
                                "\xEF\xBB\xBF", "\xEF", "[1,2]", "\n\n"};
  unsigned seed = 4242;
  int iter;
  char in[400];
  (void)state;
  for (iter = 0; iter < 3000; iter++) {
    size_t n = 0, cuts[6], i, n_cuts = (size_t)(iter % 7);
    log_t want, got;
    rill_ndjson *p;
    size_t target = (size_t)(iter % 50) * 6;
    while (n < target) {
      size_t a;
      seed = seed * 1103515245u + 12345u;
      a = (seed >> 16) % (sizeof atoms / sizeof atoms[0]);
      memcpy(in + n, atoms[a], strlen(atoms[a]));
      n += strlen(atoms[a]);
    }
    if (n_cuts > 6)
      n_cuts = 6;
    for (i = 0; i < n_cuts; i++) {
      seed = seed * 1103515245u + 12345u;
      cuts[i] = (seed >> 8) % (n + 1);
    }
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
    assert_int_equal(feed_cuts(p, in, n, cuts, n_cuts), RILL_OK);
    if (strcmp(log_str(&want), log_str(&got)) != 0)
      fail_msg("iteration %d: got\n%s\nwant\n%s", iter, log_str(&got),
               log_str(&want));
    rill_ndjson_free(p);
    log_free(&want);
    log_free(&got);
  }
}

static void test_pooled(void **state) {
  log_t l;
  rill_ndjson *p = NULL;
  (void)state;
  log_init(&l);
  assert_int_equal(rill__ndjson_new_pooled(&p, NULL, on_record, &l, NULL),
                   RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "{", 1), RILL_OK);
  assert_int_equal(rill_ndjson_feed(p, "}\n", 2), RILL_OK);
  assert_string_equal(log_str(&l), "1:{}\n");
  rill_ndjson_free(p);
  log_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_invalid),
      cmocka_unit_test(test_feed_invalid),
      cmocka_unit_test(test_basic),
      cmocka_unit_test(test_line_ends),
      cmocka_unit_test(test_blank_lines),
      cmocka_unit_test(test_last_record),
      cmocka_unit_test(test_bom),
      cmocka_unit_test(test_bom_split),
      cmocka_unit_test(test_crlf_split),
      cmocka_unit_test(test_bytes_pass_through),
      cmocka_unit_test(test_limit),
      cmocka_unit_test(test_sticky_state_reset),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_zero_copy),
      cmocka_unit_test(test_big_record),
      cmocka_unit_test(test_alloc_fail),
      cmocka_unit_test(test_random_vs_reference),
      cmocka_unit_test(test_pooled),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
