/*
 * test_retry.c — the transport's retry policy (src/http/retry.c): which
 * failures are retried, full-jitter back-off bounds and caps with a fixed
 * random source, Retry-After (seconds, HTTP date, garbage), retry-after-ms,
 * the max_retry_after_ms ceiling, and the defaults.
 */
#include <curl/curl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/retry.h"

static uint64_t rnd_max(void *u) { (void)u; return UINT64_MAX; }
static uint64_t rnd_zero(void *u) { (void)u; return 0; }
static uint64_t rnd_seq(void *u) {
  uint64_t *x = u;
  *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
  return *x;
}

static rill_retry norm(int max, long base, long maxd, long maxafter) {
  rill_retry in = {max, base, maxd, maxafter}, out;
  rill__retry_normalise(&in, &out);
  return out;
}

static void test_defaults(void **st) {
  rill_retry p = norm(0, 0, 0, 0);
  (void)st;
  assert_int_equal(p.max_retries, 2);
  assert_int_equal(p.base_delay_ms, 500);
  assert_int_equal(p.max_delay_ms, 8000);
  assert_int_equal(p.max_retry_after_ms, 60000);
  p = norm(-1, -5, -5, -5);
  assert_int_equal(p.max_retries, 0);
  assert_int_equal(p.base_delay_ms, 500);
  p = norm(7, 10, 20, 30);
  assert_int_equal(p.max_retries, 7);
  assert_int_equal(p.base_delay_ms, 10);
  assert_int_equal(p.max_delay_ms, 20);
  assert_int_equal(p.max_retry_after_ms, 30);
  rill__retry_normalise(NULL, &p);
  assert_int_equal(p.max_retries, 2);
}

static void test_statuses(void **st) {
  static const long yes[] = {408, 429, 500, 502, 503, 504, 529};
  static const long no[] = {0, 200, 301, 400, 401, 403, 404, 409, 422, 501, 505, 599};
  size_t i;
  (void)st;
  for (i = 0; i < sizeof yes / sizeof yes[0]; i++)
    assert_true(rill__retry_status_is_retryable(yes[i]));
  for (i = 0; i < sizeof no / sizeof no[0]; i++)
    assert_false(rill__retry_status_is_retryable(no[i]));
}

static void test_curl_codes(void **st) {
  (void)st;
  assert_true(rill__retry_curl_is_retryable(CURLE_COULDNT_CONNECT, 0));
  assert_true(rill__retry_curl_is_retryable(CURLE_COULDNT_RESOLVE_HOST, 0));
  assert_true(rill__retry_curl_is_retryable(CURLE_GOT_NOTHING, 0));
  assert_true(rill__retry_curl_is_retryable(CURLE_RECV_ERROR, 0));
  assert_false(rill__retry_curl_is_retryable(CURLE_RECV_ERROR, 1));
  assert_false(rill__retry_curl_is_retryable(CURLE_PARTIAL_FILE, 0));
  assert_false(rill__retry_curl_is_retryable(CURLE_PEER_FAILED_VERIFICATION, 0));
  assert_false(rill__retry_curl_is_retryable(CURLE_SSL_CONNECT_ERROR, 0));
  assert_false(rill__retry_curl_is_retryable(CURLE_OK, 0));
}

static void test_backoff_bounds(void **st) {
  rill_retry p = norm(10, 100, 1000, 0);
  uint64_t seed = 42;
  int a, i;
  (void)st;
  /* The upper bound doubles per attempt and stops at max_delay_ms. */
  assert_int_equal(rill__retry_backoff_ms(&p, 0, rnd_max, NULL),
                   (long)(UINT64_MAX % 101));
  assert_int_equal(rill__retry_backoff_ms(&p, 0, NULL, NULL), 100);
  assert_int_equal(rill__retry_backoff_ms(&p, 1, NULL, NULL), 200);
  assert_int_equal(rill__retry_backoff_ms(&p, 2, NULL, NULL), 400);
  assert_int_equal(rill__retry_backoff_ms(&p, 3, NULL, NULL), 800);
  assert_int_equal(rill__retry_backoff_ms(&p, 4, NULL, NULL), 1000);
  assert_int_equal(rill__retry_backoff_ms(&p, 60, NULL, NULL), 1000);
  assert_int_equal(rill__retry_backoff_ms(&p, 100000, NULL, NULL), 1000);
  assert_int_equal(rill__retry_backoff_ms(&p, -3, NULL, NULL), 100);
  assert_int_equal(rill__retry_backoff_ms(&p, 5, rnd_zero, NULL), 0);
  /* Full jitter: every value in [0, cap], and both halves are reached. */
  for (a = 0; a < 8; a++) {
    long cap = rill__retry_backoff_ms(&p, a, NULL, NULL), lo = LONG_MAX, hi = -1;
    for (i = 0; i < 2000; i++) {
      long d = rill__retry_backoff_ms(&p, a, rnd_seq, &seed);
      assert_true(d >= 0 && d <= cap);
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    assert_true(lo < cap / 4);
    assert_true(hi > cap * 3 / 4);
  }
  /* Huge settings do not overflow. */
  p = norm(10, LONG_MAX / 2, LONG_MAX, 0);
  assert_int_equal(rill__retry_backoff_ms(&p, 30, NULL, NULL), LONG_MAX);
}

static void test_retry_after_seconds(void **st) {
  long ms = -1;
  (void)st;
  assert_true(rill__retry_parse_after("1", 1, 0, &ms));
  assert_int_equal(ms, 1000);
  assert_true(rill__retry_parse_after(" 120 ", 5, 0, &ms));
  assert_int_equal(ms, 120000);
  assert_true(rill__retry_parse_after("0", 1, 0, &ms));
  assert_int_equal(ms, 0);
  assert_true(rill__retry_parse_after("1000000000", 10, 0, &ms));
  assert_int_equal(ms, 1000000000L * 1000L);
  assert_true(rill__retry_parse_after("999999999999999999999999999999", 30, 0, &ms));
  assert_int_equal(ms, LONG_MAX);
  /* Only the first len bytes count. */
  assert_true(rill__retry_parse_after("12garbage", 2, 0, &ms));
  assert_int_equal(ms, 12000);
}

static void test_retry_after_garbage(void **st) {
  static const char *bad[] = {"", " ", "-1", "-", "1.5", "abc", "12abc", "1 2",
                              "+3", "Mon, 99 Foo 2020 00:00:00 GMT", "0x10"};
  size_t i;
  long ms = 77;
  (void)st;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_false(rill__retry_parse_after(bad[i], strlen(bad[i]), 0, &ms));
    assert_int_equal(ms, 77);
  }
  assert_false(rill__retry_parse_after(NULL, 0, 0, &ms));
}

static void test_retry_after_date(void **st) {
  long ms = -1;
  const char *d = "Wed, 21 Oct 2015 07:28:00 GMT";
  int64_t t = 1445412480; /* that date */
  (void)st;
  assert_true(rill__retry_parse_after(d, strlen(d), t - 30, &ms));
  assert_int_equal(ms, 30000);
  /* A date in the past: no wait. */
  assert_true(rill__retry_parse_after(d, strlen(d), t + 3600, &ms));
  assert_int_equal(ms, 0);
  /* Far in the future: large, later capped by max_retry_after_ms. */
  d = "Fri, 31 Dec 9999 23:59:59 GMT";
  if (rill__retry_parse_after(d, strlen(d), t, &ms))
    assert_true(ms > 86400000L);
  /* Other HTTP date forms curl accepts. */
  d = "Wednesday, 21-Oct-15 07:28:00 GMT";
  assert_true(rill__retry_parse_after(d, strlen(d), t - 5, &ms));
  assert_int_equal(ms, 5000);
}

static void test_retry_after_ms(void **st) {
  long ms = -1;
  (void)st;
  assert_true(rill__retry_parse_after_ms("20", 2, &ms));
  assert_int_equal(ms, 20);
  assert_true(rill__retry_parse_after_ms(" 200 ", 5, &ms));
  assert_int_equal(ms, 200);
  assert_true(rill__retry_parse_after_ms("1.2", 3, &ms));
  assert_int_equal(ms, 2);
  assert_true(rill__retry_parse_after_ms("7.0", 3, &ms));
  assert_int_equal(ms, 7);
  assert_true(rill__retry_parse_after_ms("99999999999999999999999", 23, &ms));
  assert_int_equal(ms, LONG_MAX);
  ms = 5;
  assert_false(rill__retry_parse_after_ms("", 0, &ms));
  assert_false(rill__retry_parse_after_ms("-20", 3, &ms));
  assert_false(rill__retry_parse_after_ms("x", 1, &ms));
  assert_false(rill__retry_parse_after_ms("1.", 2, &ms));
  assert_false(rill__retry_parse_after_ms("1e3", 3, &ms));
  assert_int_equal(ms, 5);
}

static void test_decide(void **st) {
  rill_retry p = norm(2, 100, 1000, 5000);
  long d = -7;
  (void)st;
  /* Back-off while attempts remain. */
  assert_int_equal(rill__retry_decide(&p, 0, -1, NULL, NULL, &d), 1);
  assert_int_equal(d, 100);
  assert_int_equal(rill__retry_decide(&p, 1, -1, NULL, NULL, &d), 1);
  assert_int_equal(d, 200);
  assert_int_equal(rill__retry_decide(&p, 2, -1, NULL, NULL, &d), 0);
  /* The server's wait wins over the back-off, up to the ceiling. */
  assert_int_equal(rill__retry_decide(&p, 0, 20, NULL, NULL, &d), 1);
  assert_int_equal(d, 20);
  assert_int_equal(rill__retry_decide(&p, 0, 0, NULL, NULL, &d), 1);
  assert_int_equal(d, 0);
  assert_int_equal(rill__retry_decide(&p, 0, 5000, NULL, NULL, &d), 1);
  assert_int_equal(d, 5000);
  d = -7;
  assert_int_equal(rill__retry_decide(&p, 0, 5001, NULL, NULL, &d), -1);
  assert_int_equal(d, -7);
  assert_int_equal(rill__retry_decide(&p, 0, LONG_MAX, NULL, NULL, &d), -1);
  /* Attempts exhausted: no retry whatever the server says. */
  assert_int_equal(rill__retry_decide(&p, 2, 10, NULL, NULL, &d), 0);
  /* max_retries -1: never. */
  p = norm(-1, 0, 0, 0);
  assert_int_equal(rill__retry_decide(&p, 0, -1, NULL, NULL, &d), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_statuses),
      cmocka_unit_test(test_curl_codes),
      cmocka_unit_test(test_backoff_bounds),
      cmocka_unit_test(test_retry_after_seconds),
      cmocka_unit_test(test_retry_after_garbage),
      cmocka_unit_test(test_retry_after_date),
      cmocka_unit_test(test_retry_after_ms),
      cmocka_unit_test(test_decide),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
