/*
 * test_json_writer.c — the public JSON writer: every value kind, automatic
 * separators, misuse, sticky errors, the byte limit, string escaping and
 * UTF-8 repair, doubles that round-trip in any locale, raw JSON, and
 * allocation failures. Every output is checked with rill_json_validate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json/json.h"
#include "rill/alloc.h"
#include "rill/error.h"
#include "rill/json.h"

static rill_jw *new_writer(size_t max) {
  rill_jw *w = NULL;
  assert_int_equal(rill_jw_new(&w, max), RILL_OK);
  assert_non_null(w);
  return w;
}

/* The output is what we expect, valid JSON, and NUL-terminated. */
static void expect_out(const rill_jw *w, const char *want, size_t want_len) {
  size_t len = 12345;
  const char *got = rill_jw_data(w, &len);
  if (len != want_len || memcmp(got, want, len) != 0) {
    print_error("got  [%.*s] (%zu)\nwant [%.*s] (%zu)\n", (int)len, got, len,
                (int)want_len, want, want_len);
    fail();
  }
  assert_int_equal(got[len], '\0');
  if (rill_jw_complete(w))
    assert_int_equal(rill_json_validate(got, len, NULL), RILL_OK);
}
#define EXPECT(w, lit) expect_out((w), (lit), sizeof(lit) - 1)

static void test_kinds(void **state) {
  rill_jw *w = new_writer(0);
  size_t len = 99;
  (void)state;
  assert_string_equal(rill_jw_data(w, &len), "");
  assert_int_equal(len, 0);
  assert_false(rill_jw_complete(w));
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_false(rill_jw_complete(w));
  assert_int_equal(rill_jw_key(w, "s", 1), RILL_OK);
  assert_int_equal(rill_jw_string(w, "text", 4), RILL_OK);
  assert_int_equal(rill_jw_key(w, "i", 1), RILL_OK);
  assert_int_equal(rill_jw_int(w, -42), RILL_OK);
  assert_int_equal(rill_jw_key(w, "imin", 4), RILL_OK);
  assert_int_equal(rill_jw_int(w, INT64_MIN), RILL_OK);
  assert_int_equal(rill_jw_key(w, "imax", 4), RILL_OK);
  assert_int_equal(rill_jw_int(w, INT64_MAX), RILL_OK);
  assert_int_equal(rill_jw_key(w, "u", 1), RILL_OK);
  assert_int_equal(rill_jw_uint(w, UINT64_MAX), RILL_OK);
  assert_int_equal(rill_jw_key(w, "z", 1), RILL_OK);
  assert_int_equal(rill_jw_uint(w, 0), RILL_OK);
  assert_int_equal(rill_jw_key(w, "d", 1), RILL_OK);
  assert_int_equal(rill_jw_double(w, 0.1), RILL_OK);
  assert_int_equal(rill_jw_key(w, "t", 1), RILL_OK);
  assert_int_equal(rill_jw_bool(w, 7), RILL_OK);
  assert_int_equal(rill_jw_key(w, "f", 1), RILL_OK);
  assert_int_equal(rill_jw_bool(w, 0), RILL_OK);
  assert_int_equal(rill_jw_key(w, "n", 1), RILL_OK);
  assert_int_equal(rill_jw_null(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, "r", 1), RILL_OK);
  assert_int_equal(rill_jw_raw(w, " [ 1 , 2 ] ", 11), RILL_OK);
  assert_int_equal(rill_jw_key(w, "", 0), RILL_OK);
  assert_int_equal(rill_jw_string(w, NULL, 0), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  assert_true(rill_jw_complete(w));
  assert_int_equal(rill_jw_error(w), RILL_OK);
  EXPECT(w, "{\"s\":\"text\",\"i\":-42,\"imin\":-9223372036854775808,"
            "\"imax\":9223372036854775807,\"u\":18446744073709551615,"
            "\"z\":0,\"d\":0.1,\"t\":true,\"f\":false,\"n\":null,"
            "\"r\":[1,2],\"\":\"\"}");
  /* each scalar alone at the top level */
  rill_jw_reset(w);
  assert_int_equal(rill_jw_int(w, 0), RILL_OK);
  EXPECT(w, "0");
  assert_true(rill_jw_complete(w));
  rill_jw_reset(w);
  assert_int_equal(rill_jw_string(w, "x", 1), RILL_OK);
  EXPECT(w, "\"x\"");
  rill_jw_reset(w);
  assert_int_equal(rill_jw_null(w), RILL_OK);
  EXPECT(w, "null");
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, "\"a\"", 3), RILL_OK);
  EXPECT(w, "\"a\"");
  rill_jw_free(w);
  rill_jw_free(NULL);
  assert_int_equal(rill_jw_new(NULL, 0), RILL_E_INVALID);
  assert_int_equal(rill_jw_null(NULL), RILL_E_INVALID);
  assert_int_equal(rill_jw_error(NULL), RILL_E_INVALID);
  assert_false(rill_jw_complete(NULL));
  assert_string_equal(rill_jw_data(NULL, NULL), "");
  rill_jw_reset(NULL);
}

static void test_nesting(void **state) {
  rill_jw *w = new_writer(0);
  int i;
  (void)state;
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_int(w, 1), RILL_OK);
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_int(w, 2), RILL_OK);
  assert_int_equal(rill_jw_int(w, 3), RILL_OK);
  assert_int_equal(rill_jw_array_end(w), RILL_OK);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, "a", 1), RILL_OK);
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_array_end(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, "b", 1), RILL_OK);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  assert_int_equal(rill_jw_raw(w, "{\"x\" : [ ] }", 12), RILL_OK);
  assert_int_equal(rill_jw_array_end(w), RILL_OK);
  EXPECT(w, "[1,[2,3],{\"a\":[],\"b\":{}},{},{\"x\":[]}]");
  /* exactly RILL_JSON_MAX_DEPTH levels; one more is refused */
  rill_jw_reset(w);
  for (i = 0; i < RILL_JSON_MAX_DEPTH; i++)
    assert_int_equal(i % 2 ? rill_jw_array_begin(w) : rill_jw_object_begin(w) ||
                                                          rill_jw_key(w, "k", 1),
                     RILL_OK);
  assert_int_equal(rill_jw_array_begin(w), RILL_E_STATE);
  rill_jw_reset(w);
  for (i = 0; i < RILL_JSON_MAX_DEPTH; i++)
    assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  for (i = 0; i < RILL_JSON_MAX_DEPTH; i++)
    assert_int_equal(rill_jw_array_end(w), RILL_OK);
  assert_true(rill_jw_complete(w));
  {
    size_t len;
    const char *s = rill_jw_data(w, &len);
    assert_int_equal(len, 2 * RILL_JSON_MAX_DEPTH);
    assert_int_equal(rill_json_validate(s, len, NULL), RILL_OK);
  }
  rill_jw_free(w);
}

typedef int (*misuse_fn)(rill_jw *w);

static int m_key_top(rill_jw *w) { return rill_jw_key(w, "a", 1); }
static int m_key_in_array(rill_jw *w) {
  rill_jw_array_begin(w);
  return rill_jw_key(w, "a", 1);
}
static int m_value_without_key(rill_jw *w) {
  rill_jw_object_begin(w);
  return rill_jw_int(w, 1);
}
static int m_two_keys(rill_jw *w) {
  rill_jw_object_begin(w);
  rill_jw_key(w, "a", 1);
  return rill_jw_key(w, "b", 1);
}
static int m_end_after_key(rill_jw *w) {
  rill_jw_object_begin(w);
  rill_jw_key(w, "a", 1);
  return rill_jw_object_end(w);
}
static int m_wrong_end(rill_jw *w) {
  rill_jw_array_begin(w);
  return rill_jw_object_end(w);
}
static int m_wrong_end2(rill_jw *w) {
  rill_jw_object_begin(w);
  return rill_jw_array_end(w);
}
static int m_end_top(rill_jw *w) { return rill_jw_array_end(w); }
static int m_end_top2(rill_jw *w) { return rill_jw_object_end(w); }
static int m_second_value(rill_jw *w) {
  rill_jw_int(w, 1);
  return rill_jw_int(w, 2);
}
static int m_second_container(rill_jw *w) {
  rill_jw_array_begin(w);
  rill_jw_array_end(w);
  return rill_jw_object_begin(w);
}
static int m_second_raw(rill_jw *w) {
  rill_jw_null(w);
  return rill_jw_raw(w, "1", 1);
}
static int m_second_double(rill_jw *w) {
  rill_jw_null(w);
  return rill_jw_double(w, 1.5);
}
static int m_extra_end(rill_jw *w) {
  rill_jw_array_begin(w);
  rill_jw_array_end(w);
  return rill_jw_array_end(w);
}
static int m_raw_without_key(rill_jw *w) {
  rill_jw_object_begin(w);
  return rill_jw_raw(w, "1", 1);
}
static int m_string_without_key(rill_jw *w) {
  rill_jw_object_begin(w);
  return rill_jw_string(w, "a", 1);
}

static void test_misuse(void **state) {
  static const misuse_fn fns[] = {
      m_key_top,       m_key_in_array,     m_value_without_key, m_two_keys,
      m_end_after_key, m_wrong_end,        m_wrong_end2,        m_end_top,
      m_end_top2,      m_second_value,     m_second_container,  m_second_raw,
      m_second_double, m_extra_end,        m_raw_without_key,
      m_string_without_key};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    rill_jw *w = new_writer(0);
    size_t len_before, len_after;
    rill_jw_data(w, &len_before);
    assert_int_equal(fns[i](w), RILL_E_STATE);
    /* sticky: every call now returns the same */
    rill_jw_data(w, &len_before);
    assert_int_equal(rill_jw_error(w), RILL_E_STATE);
    assert_int_equal(rill_jw_null(w), RILL_E_STATE);
    assert_int_equal(rill_jw_array_begin(w), RILL_E_STATE);
    assert_int_equal(rill_jw_array_end(w), RILL_E_STATE);
    assert_int_equal(rill_jw_string(w, "x", 1), RILL_E_STATE);
    assert_int_equal(rill_jw_double(w, NAN), RILL_E_STATE);
    assert_int_equal(rill_jw_raw(w, "[", 1), RILL_E_STATE);
    rill_jw_data(w, &len_after);
    assert_int_equal(len_before, len_after);
    assert_false(rill_jw_complete(w));
    /* reset clears the error */
    rill_jw_reset(w);
    assert_int_equal(rill_jw_error(w), RILL_OK);
    assert_int_equal(rill_jw_int(w, 5), RILL_OK);
    EXPECT(w, "5");
    rill_jw_free(w);
  }
}

static void test_invalid_args(void **state) {
  rill_jw *w = new_writer(0);
  (void)state;
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_double(w, NAN), RILL_E_INVALID);
  assert_int_equal(rill_jw_int(w, 1), RILL_E_INVALID); /* sticky */
  EXPECT(w, "[");
  rill_jw_reset(w);
  assert_int_equal(rill_jw_double(w, INFINITY), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_double(w, -INFINITY), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_string(w, NULL, 1), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, NULL, 2), RILL_E_INVALID);
  rill_jw_reset(w);
  /* raw text that is not JSON: refused without touching the output */
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_int(w, 1), RILL_OK);
  assert_int_equal(rill_jw_raw(w, "[1,]", 4), RILL_E_INVALID);
  EXPECT(w, "[1");
  assert_int_equal(rill_jw_array_end(w), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, NULL, 0), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, NULL, 3), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, "", 0), RILL_E_INVALID);
  rill_jw_free(w);
}

/* A document of exactly n bytes fits max_bytes n and not n - 1. */
static int write_doc(rill_jw *w) {
  rill_jw_object_begin(w);
  rill_jw_key(w, "k\n", 2);
  rill_jw_array_begin(w);
  rill_jw_string(w, "caf\xc3\xa9\x01", 6);
  rill_jw_double(w, 0.25);
  rill_jw_raw(w, " { } ", 5);
  rill_jw_array_end(w);
  return rill_jw_object_end(w);
}

static void test_limit(void **state) {
  static const char want[] = "{\"k\\n\":[\"caf\xc3\xa9\\u0001\",0.25,{}]}";
  const size_t n = sizeof want - 1;
  size_t m;
  (void)state;
  for (m = 1; m <= n + 1; m++) {
    rill_jw *w = new_writer(m);
    int rc = write_doc(w);
    size_t len;
    const char *s = rill_jw_data(w, &len);
    assert_true(len <= m);
    assert_int_equal(s[len], '\0');
    if (m >= n) {
      assert_int_equal(rc, RILL_OK);
      EXPECT(w, "{\"k\\n\":[\"caf\xc3\xa9\\u0001\",0.25,{}]}");
    } else {
      assert_int_equal(rc, RILL_E_LIMIT);
      assert_int_equal(rill_jw_error(w), RILL_E_LIMIT);
      assert_int_equal(rill_jw_null(w), RILL_E_LIMIT);
      assert_false(rill_jw_complete(w));
    }
    rill_jw_free(w);
  }
  /* a large limit and a long string that crosses several growth steps */
  {
    rill_jw *w = new_writer(100000);
    char *big = malloc(99998);
    memset(big, 'a', 99998);
    assert_int_equal(rill_jw_string(w, big, 99998), RILL_OK); /* 100000 */
    rill_jw_reset(w);
    assert_int_equal(rill_jw_string(w, big, 99998), RILL_OK);
    rill_jw_reset(w);
    big[5] = '\n'; /* one more byte: \n */
    assert_int_equal(rill_jw_string(w, big, 99998), RILL_E_LIMIT);
    free(big);
    rill_jw_free(w);
  }
}

static void test_escaping(void **state) {
  static const char *const ctl[32] = {
      "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005",
      "\\u0006", "\\u0007", "\\b",     "\\t",     "\\n",     "\\u000b",
      "\\f",     "\\r",     "\\u000e", "\\u000f", "\\u0010", "\\u0011",
      "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
      "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
      "\\u001e", "\\u001f"};
  rill_jw *w = new_writer(0);
  char want[32];
  unsigned c;
  (void)state;
  for (c = 0; c < 32; c++) {
    char in = (char)c;
    rill_jw_reset(w);
    assert_int_equal(rill_jw_string(w, &in, 1), RILL_OK);
    snprintf(want, sizeof want, "\"%s\"", ctl[c]);
    expect_out(w, want, strlen(want));
  }
  /* every printable ASCII byte and DEL pass through, but '"' and '\\' */
  for (c = 0x20; c < 0x80; c++) {
    char in = (char)c;
    rill_jw_reset(w);
    assert_int_equal(rill_jw_string(w, &in, 1), RILL_OK);
    if (c == '"')
      EXPECT(w, "\"\\\"\"");
    else if (c == '\\')
      EXPECT(w, "\"\\\\\"");
    else {
      want[0] = '"';
      want[1] = (char)c;
      want[2] = '"';
      expect_out(w, want, 3);
    }
  }
  /* runs around escapes, keys escaped the same way */
  rill_jw_reset(w);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, "a\"b\\c\x00" "d", 7), RILL_OK);
  assert_int_equal(rill_jw_string(w, "line1\nline2\ttab/slash\x7f", 22), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  EXPECT(w, "{\"a\\\"b\\\\c\\u0000d\":\"line1\\nline2\\ttab/slash\x7f\"}");
  rill_jw_free(w);
}

typedef struct utf8_case {
  const char *in;
  size_t in_len;
  const char *out; /* inside the quotes */
  size_t out_len;
} utf8_case;

#define U(in, out) {in, sizeof(in) - 1, out, sizeof(out) - 1}
#define R "\xef\xbf\xbd" /* U+FFFD */

static void test_utf8_repair(void **state) {
  static const utf8_case cases[] = {
      /* well-formed passes through */
      U("caf\xc3\xa9", "caf\xc3\xa9"),
      U("\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
        "\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
      U("\xef\xbb\xbf", "\xef\xbb\xbf"),
      /* Unicode 15, Table 3-8: maximal subparts */
      U("\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64",
        "a" R R R "b" R "c" R R "d"),
      /* Unicode 15, section 3.9 examples (Tables 3-9..3-11) */
      U("\xc0\xaf\xe0\x80\xbf\xf0\x81\x82\x41", R R R R R R R R "A"),
      U("\xed\xa0\x80\xed\xbf\xbf\xed\xaf\x41", R R R R R R R R "A"),
      U("\xf4\x91\x92\x93\xff\x41\x80\xbf\x42", R R R R R "A" R R "B"),
      U("\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", R R R R "A"),
      /* single bad bytes */
      U("\x80", R), U("\xbf", R), U("\xc0", R), U("\xc1", R), U("\xf5", R),
      U("\xff", R), U("\xfe\xfe", R R),
      /* truncated at the end: one U+FFFD per maximal subpart */
      U("\xc3", R), U("\xe2\x82", R), U("\xf0\x9f\x98", R), U("a\xf0\x9f", "a" R),
      /* overlongs, surrogates, past U+10FFFF */
      U("\xc0\x80", R R), U("\xe0\x80\x80", R R R), U("\xe0\x9f\xbf", R R R),
      U("\xf0\x80\x80\x80", R R R R), U("\xf0\x8f\xbf\xbf", R R R R),
      U("\xed\xa0\x80", R R R), U("\xf4\x90\x80\x80", R R R R),
      U("\xf8\x88\x80\x80\x80", R R R R R),
      /* a bad byte followed by a control character and a quote */
      U("\xc3\n\"", R "\\n\\\""),
  };
  rill_jw *w = new_writer(0);
  size_t i;
  char want[128];
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    rill_jw_reset(w);
    assert_int_equal(rill_jw_string(w, cases[i].in, cases[i].in_len), RILL_OK);
    want[0] = '"';
    memcpy(want + 1, cases[i].out, cases[i].out_len);
    want[cases[i].out_len + 1] = '"';
    expect_out(w, want, cases[i].out_len + 2);
  }
  /* random bytes: output always valid JSON */
  {
    uint64_t x = 0x9E3779B97F4A7C15u;
    char buf[64];
    int k, j;
    for (k = 0; k < 20000; k++) {
      size_t len;
      const char *s;
      for (j = 0; j < 64; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[j] = (char)(x >> 56);
      }
      rill_jw_reset(w);
      assert_int_equal(rill_jw_string(w, buf, (size_t)(k % 65)), RILL_OK);
      s = rill_jw_data(w, &len);
      assert_int_equal(rill_json_validate(s, len, NULL), RILL_OK);
    }
  }
  rill_jw_free(w);
}

static void expect_double(rill_jw *w, double v, const char *want) {
  rill_jw_reset(w);
  assert_int_equal(rill_jw_double(w, v), RILL_OK);
  expect_out(w, want, strlen(want));
}

static void test_doubles(void **state) {
  rill_jw *w = new_writer(0);
  uint64_t x = 0x243F6A8885A308D3u; /* fixed seed */
  int k, n_checked = 0;
  (void)state;
  expect_double(w, 0.1, "0.1");
  expect_double(w, 0.0, "0");
  expect_double(w, -0.0, "-0");
  expect_double(w, 1.0, "1");
  expect_double(w, -2.5, "-2.5");
  expect_double(w, 1e300, "1e+300");
  expect_double(w, 1e-7, "1e-07");
  expect_double(w, 123456.789, "123456.789");
  expect_double(w, 0.3, "0.3");
  expect_double(w, 1.0 / 3.0, "0.3333333333333333");
  expect_double(w, 2.0 / 3.0, "0.6666666666666666");
  expect_double(w, DBL_MAX, "1.7976931348623157e+308");
  expect_double(w, 9007199254740993.0, "9007199254740992");
  for (k = 0; k < 10000 + 64; k++) {
    double v, back;
    size_t len;
    const char *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if (k < 64) { /* a few edge families first */
      v = k % 2 ? DBL_MIN * (k + 1) : ldexp(1.0, k * 16 - 512);
      if (k == 0)
        v = 5e-324;
      if (k == 2)
        v = -DBL_MAX;
    } else {
      memcpy(&v, &x, sizeof v);
    }
    if (!isfinite(v))
      continue;
    rill_jw_reset(w);
    assert_int_equal(rill_jw_double(w, v), RILL_OK);
    s = rill_jw_data(w, &len);
    assert_int_equal(rill_json_validate(s, len, NULL), RILL_OK);
    assert_int_equal(rill__parse_double(s, len, &back), RILL_OK);
    if (memcmp(&back, &v, sizeof v) != 0) {
      print_error("%.17g -> %s -> %.17g\n", v, s, back);
      fail();
    }
    n_checked++;
  }
  assert_true(n_checked > 9900);
  print_message("doubles: %d values round-tripped bit-exactly\n", n_checked);
  rill_jw_free(w);
}

/* See test_json.c: a ',' locale, built with localedef if none is installed. */
static int set_comma_locale(char *dir, size_t dirlen) {
  static const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8",
                                "fr_FR.utf8",  "nl_NL.UTF-8", "ru_RU.UTF-8",
                                "de_DE",       NULL};
  char tmpl[] = "/tmp/rill_test_locale_XXXXXX", cmd[256];
  size_t i;
  dir[0] = '\0';
  for (i = 0; names[i]; i++)
    if (setlocale(LC_ALL, names[i]) && localeconv()->decimal_point[0] == ',')
      return 1;
  if (access("/usr/bin/localedef", X_OK) == 0 && mkdtemp(tmpl)) {
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1",
             tmpl);
    snprintf(dir, dirlen, "%s", tmpl);
    if (system(cmd) == 0) {
      setenv("LOCPATH", tmpl, 1);
      if (setlocale(LC_ALL, "de_DE.UTF-8") &&
          localeconv()->decimal_point[0] == ',')
        return 1;
    }
  }
  setlocale(LC_ALL, "");
  return 0;
}

static void drop_comma_locale(const char *dir) {
  char cmd[256];
  setlocale(LC_ALL, "C");
  unsetenv("LOCPATH");
  if (dir[0]) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
      print_message("could not remove %s\n", dir);
  }
}

static void test_locale(void **state) {
  char dir[64], probe[16];
  rill_jw *w = new_writer(0);
  int comma = set_comma_locale(dir, sizeof dir);
  (void)state;
  if (comma) {
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    assert_string_equal(probe, "0,5");
    print_message("',' locale active: %s%s\n", setlocale(LC_ALL, NULL),
                  dir[0] ? " (built with localedef)" : "");
  } else {
    print_message("no ',' locale available: checked under the default\n");
  }
  expect_double(w, 0.5, "0.5");
  expect_double(w, 1234.5, "1234.5");
  expect_double(w, -1e-300, "-1e-300");
  rill_jw_reset(w);
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_double(w, 0.25), RILL_OK);
  assert_int_equal(rill_jw_double(w, 3.75), RILL_OK);
  assert_int_equal(rill_jw_array_end(w), RILL_OK);
  EXPECT(w, "[0.25,3.75]");
  /* the application's locale is untouched afterwards */
  if (comma) {
    snprintf(probe, sizeof probe, "%.1f", 0.5);
    assert_string_equal(probe, "0,5");
  }
  drop_comma_locale(dir);
  rill_jw_free(w);
}

static void test_raw(void **state) {
  rill_jw *w = new_writer(0);
  static const char in[] =
      " {\r\n \"a b\" : [ 1 , \"x \\\" y\\\\\" , { } , [ ] , true ,"
      "\t\"\xc3\xa9 \\u00e9\" ] ,\n\"c\":null } ";
  (void)state;
  assert_int_equal(rill_jw_raw(w, in, sizeof in - 1), RILL_OK);
  EXPECT(w, "{\"a b\":[1,\"x \\\" y\\\\\",{},[],true,\"\xc3\xa9 \\u00e9\"],"
            "\"c\":null}");
  rill_jw_reset(w);
  assert_int_equal(rill_jw_array_begin(w), RILL_OK);
  assert_int_equal(rill_jw_raw(w, " 1 ", 3), RILL_OK);
  assert_int_equal(rill_jw_raw(w, "\" \"", 3), RILL_OK);
  assert_int_equal(rill_jw_raw(w, "[ ]", 3), RILL_OK);
  assert_int_equal(rill_jw_object_begin(w), RILL_OK);
  assert_int_equal(rill_jw_key(w, "k", 1), RILL_OK);
  assert_int_equal(rill_jw_raw(w, "-1.5e3", 6), RILL_OK);
  assert_int_equal(rill_jw_object_end(w), RILL_OK);
  assert_int_equal(rill_jw_array_end(w), RILL_OK);
  EXPECT(w, "[1,\" \",[],{\"k\":-1.5e3}]");
  /* raw is checked strictly */
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, "\"\xc0\x80\"", 4), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, "[1] x", 5), RILL_E_INVALID);
  rill_jw_reset(w);
  assert_int_equal(rill_jw_raw(w, "1\0", 2), RILL_E_INVALID);
  rill_jw_free(w);
}

/* Allocation failure on growth: every call returns OK or the sticky
 * RILL_E_NOMEM, nothing leaks. */
static int build_big(rill_jw *w) {
  int i, rc;
  rill_jw_array_begin(w);
  for (i = 0; i < 500; i++) {
    rill_jw_object_begin(w);
    rill_jw_key(w, "text", 4);
    rill_jw_string(w, "some text to make the output grow \xc3\xa9\n", 37);
    rill_jw_key(w, "value", 5);
    rill_jw_double(w, i * 0.1);
    rill_jw_object_end(w);
  }
  rc = rill_jw_array_end(w);
  return rc;
}

static void test_alloc_failure(void **state) {
  rill_alloc_stats s0 = RILL_ALLOC_STATS_INIT, s1 = RILL_ALLOC_STATS_INIT;
  uint64_t n, k;
  size_t n_nomem = 0;
  rill_jw *w;
  (void)state;
  assert_int_equal(rill_alloc_get_stats(&s0), RILL_OK);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  w = new_writer(0);
  assert_int_equal(build_big(w), RILL_OK);
  rill_jw_free(w);
  n = rill_alloc_attempts();
  assert_true(n >= 3); /* the writer, then the buffer growing */
  for (k = 1; k <= n + 1; k++) {
    int rc;
    w = NULL;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_jw_new(&w, 0);
    if (rc != RILL_OK) {
      assert_int_equal(rc, RILL_E_NOMEM);
      assert_null(w);
      n_nomem++;
      continue;
    }
    rc = build_big(w);
    assert_true(rc == RILL_OK || rc == RILL_E_NOMEM);
    assert_int_equal(rill_jw_error(w), rc);
    if (rc == RILL_OK) {
      size_t len;
      const char *s = rill_jw_data(w, &len);
      assert_int_equal(rill_json_validate(s, len, NULL), RILL_OK);
    } else {
      n_nomem++;
      assert_int_equal(rill_jw_string(w, "x", 1), RILL_E_NOMEM);
    }
    rill_jw_free(w);
  }
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_true(n_nomem >= n);
  assert_int_equal(rill_alloc_get_stats(&s1), RILL_OK);
  assert_true(s1.bytes_in_use == s0.bytes_in_use);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),         cmocka_unit_test(test_nesting),
      cmocka_unit_test(test_misuse),        cmocka_unit_test(test_invalid_args),
      cmocka_unit_test(test_limit),         cmocka_unit_test(test_escaping),
      cmocka_unit_test(test_utf8_repair),   cmocka_unit_test(test_doubles),
      cmocka_unit_test(test_locale),        cmocka_unit_test(test_raw),
      cmocka_unit_test(test_alloc_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
