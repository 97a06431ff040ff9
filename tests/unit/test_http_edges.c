/*
 * test_http_edges.c — the transport's pure helpers at their edges, without
 * a server: header lines a request refuses (header injection), the
 * Retry-After / retry-after-ms readers on NULL, over-long, saturating and
 * unusual inputs, and the HTTP status → error code mapping at its bounds.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/internal.h"
#include "http/retry.h"
#include "http/transport.h"
#include "rill/error.h"

/* A header name or value that could end the line, or a name with a colon,
 * would let the caller's text forge another header: refused, nothing
 * added. */
static void test_request_header_refused(void **st) {
  rill__request r;
  (void)st;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__request_add_header(NULL, "A", "b"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, NULL, "b"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "A", NULL), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "", "b"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "A:B", "b"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "A\r\nX", "b"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "A", "b\r\nX: y"), RILL_E_INVALID);
  assert_int_equal(rill__request_add_header(&r, "A", "b\n"), RILL_E_INVALID);
  assert_int_equal(r.n_headers, 0);
  assert_int_equal(r.headers.len, 0);
  assert_int_equal(rill__request_add_header(&r, "X-Ok", "v"), RILL_OK);
  assert_int_equal(r.n_headers, 1);
  assert_memory_equal(r.headers.data, "X-Ok: v", 8);
  rill__request_release(&r);
  /* Both accept NULL. */
  rill__request_init(NULL, NULL);
  rill__request_release(NULL);
}

static void test_retry_after_edges(void **st) {
  long ms = 7;
  const char *longdate =
      "Sun, 06 Nov 1994 08:49:37 GMT                                    x";
  (void)st;
  assert_int_equal(rill__retry_parse_after(NULL, 3, 0, &ms), 0);
  assert_int_equal(rill__retry_parse_after("5", 1, 0, NULL), 0);
  assert_int_equal(rill__retry_parse_after_ms(NULL, 3, &ms), 0);
  assert_int_equal(rill__retry_parse_after_ms("5", 1, NULL), 0);
  assert_int_equal(ms, 7);
  /* Blanks around the value, tabs included. */
  assert_int_equal(rill__retry_parse_after("\t 3 \t", 5, 0, &ms), 1);
  assert_int_equal(ms, 3000);
  /* Seconds whose milliseconds pass 2^64 saturate. */
  assert_int_equal(rill__retry_parse_after("18446744073709552", 17, 0, &ms), 1);
  assert_int_equal(ms, LONG_MAX);
  /* Not a date: longer than any HTTP date, or not starting with a
   * letter (characters on each side of the letter ranges). */
  assert_int_equal(rill__retry_parse_after(longdate, strlen(longdate), 0, &ms), 0);
  assert_int_equal(rill__retry_parse_after("@5", 2, 0, &ms), 0);
  assert_int_equal(rill__retry_parse_after("[x", 2, 0, &ms), 0);
  assert_int_equal(rill__retry_parse_after("{x", 2, 0, &ms), 0);
  assert_int_equal(rill__retry_parse_after("-5", 2, 0, &ms), 0);
  /* A date in lower case is still a date (784111777 = that instant). */
  assert_int_equal(rill__retry_parse_after("sun, 06 nov 1994 08:49:37 gmt", 29,
                                           784111777 - 2, &ms), 1);
  assert_int_equal(ms, 2000);
  /* retry-after-ms: a zero fraction adds nothing, any other rounds up. */
  assert_int_equal(rill__retry_parse_after_ms("12.000", 6, &ms), 1);
  assert_int_equal(ms, 12);
  assert_int_equal(rill__retry_parse_after_ms("12.001", 6, &ms), 1);
  assert_int_equal(ms, 13);
  assert_int_equal(rill__retry_parse_after_ms("12.", 3, &ms), 0);
  assert_int_equal(rill__retry_parse_after_ms("12.5x", 5, &ms), 0);
}

static void test_status_mapping_bounds(void **st) {
  (void)st;
  assert_int_equal(rill__status_from_http(401), RILL_E_AUTH);
  assert_int_equal(rill__status_from_http(403), RILL_E_AUTH);
  assert_int_equal(rill__status_from_http(404), RILL_E_NOT_FOUND);
  assert_int_equal(rill__status_from_http(429), RILL_E_RATE_LIMITED);
  assert_int_equal(rill__status_from_http(499), RILL_E_HTTP);
  assert_int_equal(rill__status_from_http(500), RILL_E_UNAVAILABLE);
  assert_int_equal(rill__status_from_http(599), RILL_E_UNAVAILABLE);
  assert_int_equal(rill__status_from_http(600), RILL_E_HTTP);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_header_refused),
      cmocka_unit_test(test_retry_after_edges),
      cmocka_unit_test(test_status_mapping_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
