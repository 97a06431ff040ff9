/*
 * test_core.c — allocator hooks, statistics and failure injection; buffer
 * pool; capped buffer; ring buffer; status codes; logging and redaction;
 * global init with libcurl's allocations routed through the hooks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/pool.h"
#include "core/redact.h"
#include "core/ring.h"
#include "rill/rill.h"

static rill_alloc_stats stats(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  assert_int_equal(rill_alloc_get_stats(&s), RILL_OK);
  return s;
}

/* ---- allocator ---------------------------------------------------------- */

static void test_alloc_counts(void **state) {
  rill_alloc_stats a, b, c;
  char *p, *q;
  (void)state;
  a = stats();
  rill_alloc_reset_peak();
  p = rill__malloc(1000);
  assert_non_null(p);
  memset(p, 1, 1000);
  b = stats();
  assert_int_equal(b.bytes_in_use - a.bytes_in_use, 1000);
  assert_int_equal(b.n_allocs - a.n_allocs, 1);
  q = rill__realloc(p, 5000); /* growing counts as an allocation */
  assert_non_null(q);
  assert_int_equal(q[999], 1);
  c = stats();
  assert_int_equal(c.bytes_in_use - a.bytes_in_use, 5000);
  assert_int_equal(c.n_allocs - a.n_allocs, 2);
  q = rill__realloc(q, 10); /* shrinking does not */
  c = stats();
  assert_int_equal(c.bytes_in_use - a.bytes_in_use, 10);
  assert_int_equal(c.n_allocs - a.n_allocs, 2);
  assert_true(c.peak_bytes >= a.bytes_in_use + 5000);
  rill__free(q);
  rill__free(NULL);
  c = stats();
  assert_int_equal(c.bytes_in_use, a.bytes_in_use);
  assert_int_equal(c.n_frees - a.n_frees, 1);
}

static void test_alloc_alignment_and_zero(void **state) {
  int i;
  (void)state;
  for (i = 0; i < 32; i++) {
    void *p = rill__malloc((size_t)i * 7);
    assert_non_null(p); /* malloc(0) gives a real block */
    assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    rill__free(p);
  }
}

static void test_calloc_overflow_and_zeroing(void **state) {
  unsigned char *p;
  size_t i;
  uint64_t failed_before = stats().n_failed;
  (void)state;
  assert_null(rill__calloc(SIZE_MAX / 2, 3));
  assert_int_equal(stats().n_failed, failed_before + 1);
  assert_null(rill__malloc(SIZE_MAX - 4));
  p = rill__calloc(100, 3);
  assert_non_null(p);
  for (i = 0; i < 300; i++)
    assert_int_equal(p[i], 0);
  rill__free(p);
}

static void test_strndup_and_wipe(void **state) {
  char *s;
  (void)state;
  s = rill__strndup("hello world", 5);
  assert_string_equal(s, "hello");
  rill__wipe(s, 5);
  assert_int_equal(memcmp(s, "\0\0\0\0\0", 5), 0);
  rill__free(s);
  s = rill__strndup(NULL, 0);
  assert_string_equal(s, "");
  rill__free(s);
}

static void test_fail_once(void **state) {
  void *p[5];
  int i;
  (void)state;
  rill_alloc_fail_at(3, RILL_FAIL_ONCE);
  for (i = 0; i < 5; i++)
    p[i] = rill__malloc(16);
  assert_non_null(p[0]);
  assert_non_null(p[1]);
  assert_null(p[2]);
  assert_non_null(p[3]);
  assert_non_null(p[4]);
  assert_int_equal(rill_alloc_attempts(), 5);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  for (i = 0; i < 5; i++)
    rill__free(p[i]);
}

static void test_fail_from(void **state) {
  void *a, *b, *c, *g;
  (void)state;
  a = rill__malloc(8);
  rill_alloc_fail_at(2, RILL_FAIL_FROM);
  b = rill__malloc(8);
  assert_non_null(b);
  c = rill__malloc(8);
  assert_null(c);
  assert_null(rill__malloc(8));
  /* A growing realloc is an allocation and fails; the block survives. */
  g = rill__realloc(b, 4096);
  assert_null(g);
  memset(b, 7, 8);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(rill_alloc_attempts(), 0);
  rill__free(a);
  rill__free(b);
}

static void test_stats_size_contract(void **state) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  struct {
    size_t size;
    uint64_t bytes_in_use;
  } small = {sizeof small, 0};
  (void)state;
  assert_int_equal(rill_alloc_get_stats(NULL), RILL_E_INVALID);
  s.size = sizeof(size_t);
  assert_int_equal(rill_alloc_get_stats(&s), RILL_E_INVALID);
  /* An older, shorter struct gets only its own fields. */
  assert_int_equal(rill_alloc_get_stats((rill_alloc_stats *)(void *)&small), RILL_OK);
  assert_int_equal(small.size, sizeof small);
}

/* ---- global init: curl allocates through the hooks ----------------------- */

typedef struct counting {
  size_t calls;
} counting;

static void *c_malloc(void *u, size_t n) {
  ((counting *)u)->calls++;
  return malloc(n);
}
static void *c_realloc(void *u, void *p, size_t n) {
  ((counting *)u)->calls++;
  return realloc(p, n);
}
static void c_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void test_global_init(void **state) {
  counting cnt = {0};
  rill_allocator a = {c_malloc, c_realloc, c_free, &cnt};
  rill_allocator bad = {c_malloc, NULL, c_free, &cnt};
  rill_alloc_stats before, during;
  CURL *h;
  (void)state;
  assert_int_equal(rill_global_init(&bad), RILL_E_INVALID);
  before = stats();
  assert_int_equal(rill_global_init(&a), RILL_OK);
  assert_int_equal(rill_global_init(&a), RILL_E_STATE);
  cnt.calls = 0;
  h = curl_easy_init();
  assert_non_null(h);
  during = stats();
  assert_true(cnt.calls > 0); /* curl's allocations reached our allocator */
  assert_true(during.bytes_in_use > before.bytes_in_use);
  curl_easy_cleanup(h);
  rill_global_cleanup();
  rill_global_cleanup(); /* harmless twice */
  assert_int_equal(stats().bytes_in_use, before.bytes_in_use);
  assert_int_equal(rill_global_init(NULL), RILL_OK);
  rill_global_cleanup();
}

/* ---- pool --------------------------------------------------------------- */

static void test_pool_classes(void **state) {
  (void)state;
  assert_int_equal(rill__pool_class_size(0), 256);
  assert_int_equal(rill__pool_class_size(1), 256);
  assert_int_equal(rill__pool_class_size(256), 256);
  assert_int_equal(rill__pool_class_size(257), 512);
  assert_int_equal(rill__pool_class_size(65536), 65536);
  assert_int_equal(rill__pool_class_size(65537), 131072);
  assert_int_equal(rill__pool_class_size(SIZE_MAX), 0);
}

static void test_pool_reuse(void **state) {
  rill__pool *p = rill__pool_new(1 << 20);
  rill__pool_stats st;
  size_t got1, got2;
  void *a, *b;
  uint64_t allocs;
  (void)state;
  assert_non_null(p);
  a = rill__pool_get(p, 1000, &got1);
  assert_non_null(a);
  assert_int_equal(got1, 1024);
  rill__pool_put(p, a, got1);
  allocs = stats().n_allocs;
  b = rill__pool_get(p, 900, &got2); /* same class: the same block */
  assert_ptr_equal(a, b);
  assert_int_equal(stats().n_allocs, allocs);
  rill__pool_get_stats(p, &st);
  assert_int_equal(st.gets, 2);
  assert_int_equal(st.hits, 1);
  assert_int_equal(st.outstanding, 1);
  assert_int_equal(st.cached_bytes, 0);
  rill__pool_put(p, b, got2);
  rill__pool_get_stats(p, &st);
  assert_int_equal(st.cached_bytes, 1024);
  assert_int_equal(st.cached_blocks, 1);
  assert_null(rill__pool_get(p, SIZE_MAX, &got1));
  rill__pool_free(p);
  rill__pool_free(NULL);
}

static void test_pool_bounded(void **state) {
  rill__pool *p = rill__pool_new(4096);
  rill__pool_stats st;
  void *blk[8];
  size_t got[8];
  int i;
  uint64_t in_use;
  (void)state;
  in_use = stats().bytes_in_use;
  for (i = 0; i < 8; i++)
    blk[i] = rill__pool_get(p, 1024, &got[i]);
  for (i = 0; i < 8; i++)
    rill__pool_put(p, blk[i], got[i]);
  rill__pool_get_stats(p, &st);
  assert_int_equal(st.cached_bytes, 4096); /* four kept, four freed */
  assert_int_equal(st.dropped, 4);
  /* A block larger than the whole cache is never kept. */
  blk[0] = rill__pool_get(p, 1 << 16, &got[0]);
  rill__pool_put(p, blk[0], got[0]);
  rill__pool_get_stats(p, &st);
  assert_int_equal(st.dropped, 5);
  assert_int_equal(st.outstanding, 0);
  rill__pool_free(p);
  (void)in_use;
}

static void test_pool_null_and_nomem(void **state) {
  size_t got;
  void *b;
  rill__pool *p;
  rill__pool_stats st;
  (void)state;
  b = rill__pool_get(NULL, 10, &got);
  assert_non_null(b);
  rill__pool_put(NULL, b, got);
  rill__pool_get_stats(NULL, &st);
  assert_int_equal(st.gets, 0);
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  assert_null(rill__pool_new(100));
  p = rill__pool_new(100);
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  assert_null(rill__pool_get(p, 10, &got));
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  rill__pool_free(p);
}

/* ---- capped buffer -------------------------------------------------------- */

static void test_buf_limit(void **state) {
  rill__buf b;
  char big[1000];
  (void)state;
  memset(big, 'x', sizeof big);
  rill__buf_init(&b, NULL, 600);
  assert_int_equal(rill__buf_append(&b, big, 600), RILL_OK);
  assert_int_equal(b.len, 600);
  assert_int_equal(rill__buf_putc(&b, 'y'), RILL_E_LIMIT);
  assert_int_equal(rill__buf_append(&b, big, 1), RILL_E_LIMIT);
  assert_int_equal(b.len, 600); /* a failed append changes nothing */
  assert_true(b.cap <= 1024);   /* no block beyond what the limit can use */
  rill__buf_clear(&b);
  assert_int_equal(rill__buf_append(&b, "ab", 2), RILL_OK);
  assert_memory_equal(b.data, "ab", 2);
  rill__buf_release(&b);
  assert_null(b.data);
  rill__buf_release(&b);
}

static void test_buf_first_block(void **state) {
  rill__buf b;
  (void)state;
  rill__buf_init(&b, NULL, 1 << 20);
  rill__buf_first_block(&b, 1024);
  assert_int_equal(rill__buf_append(&b, "x", 1), RILL_OK);
  assert_int_equal(b.cap, 1024); /* room for a typical record at once */
  assert_int_equal(rill__buf_reserve(&b, 1000), RILL_OK);
  assert_int_equal(b.cap, 1024);
  rill__buf_release(&b);
  rill__buf_init(&b, NULL, 100); /* the limit still caps the first block */
  rill__buf_first_block(&b, 1024);
  assert_int_equal(rill__buf_append(&b, "x", 1), RILL_OK);
  assert_true(b.cap <= 256);
  rill__buf_release(&b);
}

static void test_buf_growth_and_nomem(void **state) {
  rill__pool *p = rill__pool_new(1 << 20);
  rill__buf b;
  size_t i;
  int rc;
  (void)state;
  rill__buf_init(&b, p, 1 << 20);
  for (i = 0; i < 100000; i++)
    assert_int_equal(rill__buf_putc(&b, (char)('a' + i % 26)), RILL_OK);
  for (i = 0; i < 100000; i++)
    assert_int_equal(b.data[i], (char)('a' + i % 26));
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  rc = rill__buf_reserve(&b, 200000);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(rc, RILL_E_NOMEM);
  assert_int_equal(b.len, 100000); /* contents survive a failed growth */
  assert_int_equal(b.data[99999], (char)('a' + 99999 % 26));
  rill__buf_release(&b);
  rill__pool_free(p);
}

/* ---- ring ------------------------------------------------------------------ */

static void test_ring_basic(void **state) {
  rill__ring r;
  const char *p;
  char out[300];
  size_t n;
  (void)state;
  assert_int_equal(rill__ring_init(&r, NULL, 0), RILL_E_INVALID);
  assert_int_equal(rill__ring_init(&r, NULL, 200), RILL_OK);
  assert_int_equal(r.cap, 256);
  assert_int_equal(rill__ring_peek(&r, &p), 0);
  assert_null(p);
  memset(out, 'a', sizeof out);
  assert_int_equal(rill__ring_write(&r, out, 300), 256); /* never grows */
  assert_int_equal(rill__ring_free_space(&r), 0);
  assert_int_equal(rill__ring_write(&r, "x", 1), 0);
  rill__ring_consume(&r, 250);
  assert_int_equal(rill__ring_write(&r, "0123456789", 10), 10); /* wraps */
  n = rill__ring_peek(&r, &p);
  assert_int_equal(n, 6);
  assert_int_equal(rill__ring_copy_out(&r, out, sizeof out), 16);
  assert_memory_equal(out, "aaaaaa0123456789", 16);
  rill__ring_consume(&r, 6);
  n = rill__ring_peek(&r, &p);
  assert_int_equal(n, 10);
  assert_memory_equal(p, "0123456789", 10);
  rill__ring_consume(&r, 100);
  assert_int_equal(r.len, 0);
  assert_int_equal(r.head, 0);
  rill__ring_release(&r);
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  assert_int_equal(rill__ring_init(&r, NULL, 64), RILL_E_NOMEM);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
}

/* The ring against a trivially correct model, over random operations. */
static void test_ring_model(void **state) {
  rill__ring r;
  static unsigned char model[1 << 16], tmp[4096];
  size_t m_head = 0, m_len = 0, i;
  uint32_t seed = 12345;
  (void)state;
  assert_int_equal(rill__ring_init(&r, NULL, 1000), RILL_OK);
  for (i = 0; i < 200000; i++) {
    size_t n, k;
    seed = seed * 1103515245u + 12345u;
    n = (seed >> 8) % 700;
    if ((seed >> 4) & 1) {
      for (k = 0; k < n; k++)
        tmp[k] = (unsigned char)(seed + k);
      k = rill__ring_write(&r, tmp, n);
      assert_int_equal(k, n < r.cap - m_len ? n : r.cap - m_len);
      if (m_head + m_len + k > sizeof model) { /* compact the model */
        memmove(model, model + m_head, m_len);
        m_head = 0;
      }
      memcpy(model + m_head + m_len, tmp, k);
      m_len += k;
    } else {
      const char *p;
      size_t span = rill__ring_peek(&r, &p);
      assert_true(span <= m_len);
      if (span)
        assert_memory_equal(p, model + m_head, span);
      k = rill__ring_copy_out(&r, tmp, n);
      assert_int_equal(k, n < m_len ? n : m_len);
      assert_memory_equal(tmp, model + m_head, k);
      rill__ring_consume(&r, k);
      m_head += k;
      m_len -= k;
    }
    assert_int_equal(r.len, m_len);
  }
  rill__ring_release(&r);
}

/* ---- errors ------------------------------------------------------------------ */

static void test_errors(void **state) {
  int code;
  (void)state;
  assert_string_equal(rill_error_name(RILL_OK), "OK");
  assert_string_equal(rill_error_name(RILL_E_LIMIT), "E_LIMIT");
  assert_string_equal(rill_strerror(RILL_E_NOMEM), "out of memory");
  assert_string_equal(rill_strerror(12345), "unknown error");
  assert_string_equal(rill_error_name(-999), "E_UNKNOWN");
  for (code = 0; code >= RILL_E_INTERNAL; code--) {
    assert_non_null(rill_strerror(code));
    assert_string_not_equal(rill_strerror(code), "unknown error");
    assert_string_not_equal(rill_error_name(code), "E_UNKNOWN");
  }
  assert_true(rill_error_is_retryable(RILL_E_TIMEOUT));
  assert_true(rill_error_is_retryable(RILL_E_RATE_LIMITED));
  assert_true(rill_error_is_retryable(RILL_E_UNAVAILABLE));
  assert_true(rill_error_is_retryable(RILL_E_CONNECT));
  assert_false(rill_error_is_retryable(RILL_E_AUTH));
  assert_false(rill_error_is_retryable(RILL_E_JSON));
  assert_false(rill_error_is_retryable(7));
}

/* ---- logging and redaction ------------------------------------------------------ */

typedef struct log_capture {
  int n;
  rill_log_level level;
  char last[2048];
} log_capture;

static void capture(void *user, rill_log_level level, const char *msg) {
  log_capture *c = user;
  c->n++;
  c->level = level;
  snprintf(c->last, sizeof c->last, "%s", msg);
}

static void test_log(void **state) {
  log_capture c = {0, RILL_LOG_ERROR, ""};
  char longmsg[3000];
  (void)state;
  rill__log(RILL_LOG_ERROR, "nobody listens %d", 1); /* no hook: no-op */
  rill_log_set(capture, &c, RILL_LOG_INFO);
  assert_true(rill__log_enabled(RILL_LOG_INFO));
  assert_false(rill__log_enabled(RILL_LOG_DEBUG));
  rill__log(RILL_LOG_DEBUG, "filtered");
  assert_int_equal(c.n, 0);
  rill__log(RILL_LOG_WARN, "retry %d of %s", 2, "3");
  assert_int_equal(c.n, 1);
  assert_int_equal(c.level, RILL_LOG_WARN);
  assert_string_equal(c.last, "retry 2 of 3");
  rill__log(RILL_LOG_INFO, "header x-api-key: sk-ant-api03-abcdefghijklmnop sent");
  assert_null(strstr(c.last, "abcdefghijklmnop"));
  assert_non_null(strstr(c.last, "sent"));
  memset(longmsg, 'z', sizeof longmsg - 1);
  longmsg[sizeof longmsg - 1] = '\0';
  rill__log(RILL_LOG_ERROR, "%s", longmsg); /* cut, not overflowed */
  assert_int_equal(strlen(c.last), RILL_LOG_LINE_MAX - 1);
  rill_log_set(NULL, NULL, RILL_LOG_TRACE);
  rill__log(RILL_LOG_ERROR, "after removal");
  assert_int_equal(c.n, 3);
  assert_string_equal(rill_log_level_name(RILL_LOG_TRACE), "trace");
  assert_string_equal(rill_log_level_name((rill_log_level)99), "unknown");
}

static void test_redact(void **state) {
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"Authorization: Bearer sk-proj-1234567890abcdef",
       "Authorization: Bearer ************************"},
      {"x-goog-api-key: AIzaSyA-123_456 rest", "x-goog-api-key: *************** rest"},
      {"GET /v1beta/models?key=AIzaSecret&alt=sse", "GET /v1beta/models?key=**********&alt=sse"},
      {"monkey=banana", "monkey=banana"},
      {"the key sk-abcdefghijklmnopqrstuvwxyz leaked",
       "the key ***************************** leaked"},
      {"AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "***************************************"},
      {"task-12345678901234567890 is not a key", "task-12345678901234567890 is not a key"},
      {"sk-short", "sk-short"},
      {"X-API-KEY:secretvalue", "X-API-KEY:***********"},
      {"", ""},
  };
  size_t i;
  char buf[256];
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(buf, sizeof buf, "%s", cases[i].in);
    rill__redact(buf);
    assert_string_equal(buf, cases[i].out);
  }
  snprintf(buf, sizeof buf, "echo: mysecret123 and mysecret123!");
  assert_int_equal(rill__redact_secret(buf, "mysecret123", 11), 22);
  assert_string_equal(buf, "echo: *********** and ***********!");
  assert_int_equal(rill__redact_secret(buf, "abc", 3), 0);
}

static void test_version(void **state) {
  const rill_version_info *v = rill_version();
  (void)state;
  assert_int_equal(v->version_num, RILL_VERSION_NUM);
  assert_int_equal(v->age, RILL_VERSION_AGE);
  assert_string_equal(v->version, RILL_VERSION_STRING);
  assert_non_null(v->curl_version);
  assert_string_not_equal(v->curl_version, "unknown");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alloc_counts),
      cmocka_unit_test(test_alloc_alignment_and_zero),
      cmocka_unit_test(test_calloc_overflow_and_zeroing),
      cmocka_unit_test(test_strndup_and_wipe),
      cmocka_unit_test(test_fail_once),
      cmocka_unit_test(test_fail_from),
      cmocka_unit_test(test_stats_size_contract),
      cmocka_unit_test(test_global_init),
      cmocka_unit_test(test_pool_classes),
      cmocka_unit_test(test_pool_reuse),
      cmocka_unit_test(test_pool_bounded),
      cmocka_unit_test(test_pool_null_and_nomem),
      cmocka_unit_test(test_buf_limit),
      cmocka_unit_test(test_buf_first_block),
      cmocka_unit_test(test_buf_growth_and_nomem),
      cmocka_unit_test(test_ring_basic),
      cmocka_unit_test(test_ring_model),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_log),
      cmocka_unit_test(test_redact),
      cmocka_unit_test(test_version),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
