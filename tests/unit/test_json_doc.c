/*
 * test_json_doc.c — the public JSON reading API (rill_json_doc).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rill/rill.h"

static const char k_tools[] =
    "[{\"name\":\"get_weather\",\"description\":\"Weather \\u00e0 la "
    "city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
    "{\"type\":\"string\"}},\"required\":[\"city\"]}},\n"
    " {\"name\":\"t\\\"q\",\"n\":-1.5e2,\"ok\":true,\"no\":false,\"x\":null}]";

static void test_walk(void **state) {
  rill_json_doc *d = NULL;
  const char *s, *raw;
  size_t len;
  double v;
  int t0, t1, params;
  (void)state;
  assert_int_equal(rill_json_parse(&d, k_tools, sizeof k_tools - 1, NULL), RILL_OK);
  assert_int_equal(rill_json_type_of(d, 0), RILL_JSON_ARRAY);
  assert_int_equal(rill_json_count(d, 0), 2);
  t0 = rill_json_at(d, 0, 0);
  t1 = rill_json_at(d, 0, 1);
  assert_true(t0 > 0 && t1 > t0);
  assert_int_equal(rill_json_at(d, 0, 2), -1);
  s = rill_json_string(d, rill_json_get(d, t0, "name"), &len);
  assert_string_equal(s, "get_weather");
  assert_int_equal(len, 11);
  s = rill_json_string(d, rill_json_get(d, t0, "description"), NULL);
  assert_string_equal(s, "Weather \xc3\xa0 la city");
  params = rill_json_get(d, t0, "parameters");
  assert_int_equal(rill_json_type_of(d, params), RILL_JSON_OBJECT);
  raw = rill_json_text(d, params, &len);
  assert_int_equal(rill_json_validate(raw, len, NULL), RILL_OK);
  assert_memory_equal(raw, "{\"type\":\"object\"", 16);
  raw = rill_json_text(d, rill_json_get(d, t1, "name"), &len);
  assert_int_equal(len, 6);
  assert_memory_equal(raw, "\"t\\\"q\"", 6);
  s = rill_json_string(d, rill_json_get(d, t1, "name"), NULL);
  assert_string_equal(s, "t\"q");
  assert_int_equal(rill_json_number(d, rill_json_get(d, t1, "n"), &v), RILL_OK);
  assert_true(v == -150.0);
  assert_int_equal(rill_json_type_of(d, rill_json_get(d, t1, "ok")), RILL_JSON_TRUE);
  assert_int_equal(rill_json_type_of(d, rill_json_get(d, t1, "no")), RILL_JSON_FALSE);
  assert_int_equal(rill_json_type_of(d, rill_json_get(d, t1, "x")), RILL_JSON_NULL);
  assert_int_equal(rill_json_type_of(d, rill_json_get(d, t1, "missing")), RILL_JSON_NONE);
  assert_null(rill_json_string(d, rill_json_get(d, t1, "n"), NULL));
  assert_int_equal(rill_json_number(d, rill_json_get(d, t1, "name"), &v), RILL_E_JSON);
  assert_int_equal(rill_json_count(d, rill_json_get(d, t1, "n")), 0);
  assert_int_equal(rill_json_type_of(d, 100000), RILL_JSON_NONE);
  rill_json_doc_free(d);
  rill_json_doc_free(NULL);
}

static void test_errors_and_scalars(void **state) {
  rill_json_doc *d = (rill_json_doc *)(void *)&d;
  rill_json_error err = {0, NULL};
  const char *s;
  (void)state;
  assert_int_equal(rill_json_parse(&d, "[1,]", 4, &err), RILL_E_JSON);
  assert_null(d);
  assert_int_equal(err.offset, 3);
  assert_non_null(err.reason);
  assert_int_equal(rill_json_parse(NULL, "1", 1, NULL), RILL_E_INVALID);
  assert_int_equal(rill_json_parse(&d, NULL, 1, NULL), RILL_E_INVALID);
  assert_int_equal(rill_json_parse(&d, "\"top\"", 5, NULL), RILL_OK);
  s = rill_json_string(d, 0, NULL);
  assert_string_equal(s, "top");
  rill_json_doc_free(d);
  assert_int_equal(rill_json_parse(&d, "42", 2, NULL), RILL_OK);
  assert_int_equal(rill_json_type_of(d, 0), RILL_JSON_NUMBER);
  rill_json_doc_free(d);
}

static void test_alloc_failure(void **state) {
  rill_alloc_stats a = RILL_ALLOC_STATS_INIT, b = RILL_ALLOC_STATS_INIT;
  uint64_t k, n;
  rill_json_doc *d;
  (void)state;
  rill_alloc_get_stats(&a);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(rill_json_parse(&d, k_tools, sizeof k_tools - 1, NULL), RILL_OK);
  assert_non_null(rill_json_string(d, rill_json_get(d, rill_json_at(d, 0, 0), "name"), NULL));
  n = rill_alloc_attempts();
  rill_json_doc_free(d);
  assert_true(n >= 3);
  for (k = 1; k <= n; k++) {
    int rc;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_json_parse(&d, k_tools, sizeof k_tools - 1, NULL);
    if (rc == RILL_OK) {
      (void)rill_json_string(d, rill_json_get(d, rill_json_at(d, 0, 0), "name"), NULL);
      rill_json_doc_free(d);
    } else {
      assert_int_equal(rc, RILL_E_NOMEM);
      assert_null(d);
    }
  }
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  rill_alloc_get_stats(&b);
  assert_int_equal(b.bytes_in_use, a.bytes_in_use);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_walk),
      cmocka_unit_test(test_errors_and_scalars),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
