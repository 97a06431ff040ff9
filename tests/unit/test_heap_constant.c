/*
 * test_heap_constant.c — the memory promise: parsing a 1 GiB stream costs
 * the same peak heap as a 1 MiB stream, for NDJSON (Ollama) and SSE
 * (OpenAI), through the framer and the JSON reader with a pool, as the
 * transport will use them. Measured with the allocator statistics, never
 * with time. The stream is generated on the fly, never stored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../common/stream_gen.h"
#include "core/buf.h"
#include "core/pool.h"
#include "json/json.h"
#include "rill/rill.h"

#define CHUNK 65536u
#define PATTERN_WANT (65536u + 4099u) /* not a multiple of CHUNK: splits vary */

typedef struct sink {
  rill__json doc;
  rill__buf text;
  uint64_t records;
  uint64_t text_bytes;
  int bad;
} sink;

/* Decode as a provider would: parse, find the delta, unescape it. */
static int decode(sink *s, const char *rec, size_t len, const char *path) {
  int tok;
  if (rill__json_parse(&s->doc, rec, len, NULL) != RILL_OK) {
    s->bad++;
    return 1;
  }
  tok = rill__json_path(&s->doc, 0, path);
  rill__buf_clear(&s->text);
  if (tok < 0 || rill__json_unescape(&s->doc, tok, &s->text) != RILL_OK) {
    s->bad++;
    return 1;
  }
  s->records++;
  s->text_bytes += s->text.len;
  return 0;
}

static int on_record(void *user, const char *rec, size_t len, uint64_t line) {
  (void)line;
  return decode(user, rec, len, "message.content");
}

static int on_event(void *user, const rill_sse_event *ev) {
  return decode(user, ev->data, ev->data_len, "choices[0].delta.content");
}

typedef struct run_result {
  uint64_t peak;     /* peak heap above the baseline */
  uint64_t records;
  uint64_t leaked;
} run_result;

static run_result run(stream_kind kind, uint64_t total_bytes) {
  static char pattern[2 * (PATTERN_WANT + 2048)];
  size_t plen, n_per, off = 0;
  uint64_t fed = 0, reps;
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  rill__pool *pool;
  rill_sse *sse = NULL;
  rill_ndjson *nd = NULL;
  sink s;
  run_result r;

  plen = stream_gen_pattern(kind, pattern, sizeof pattern / 2, PATTERN_WANT, &n_per);
  memcpy(pattern + plen, pattern, plen); /* doubled: any window is contiguous */
  reps = (total_bytes + plen - 1) / plen;

  rill_alloc_get_stats(&before);
  rill_alloc_reset_peak();
  pool = rill__pool_new(RILL_POOL_DEFAULT_CACHE);
  assert_non_null(pool);
  rill__json_init(&s.doc, pool, 0);
  rill__buf_init(&s.text, pool, 1 << 20);
  s.records = 0;
  s.text_bytes = 0;
  s.bad = 0;
  if (kind == STREAM_OLLAMA_NDJSON)
    assert_int_equal(rill_ndjson_new(&nd, NULL, on_record, &s), RILL_OK);
  else
    assert_int_equal(rill_sse_new(&sse, NULL, on_event, &s), RILL_OK);

  while (fed < reps * plen) {
    uint64_t left = reps * plen - fed;
    size_t n = left < CHUNK ? (size_t)left : CHUNK;
    int rc = nd ? rill_ndjson_feed(nd, pattern + off, n)
                : rill_sse_feed(sse, pattern + off, n);
    assert_int_equal(rc, RILL_OK);
    fed += n;
    off = (off + n) % plen;
  }
  assert_int_equal(nd ? rill_ndjson_finish(nd) : rill_sse_finish(sse), RILL_OK);
  assert_int_equal(s.bad, 0);

  rill_alloc_get_stats(&after);
  r.peak = after.peak_bytes - before.bytes_in_use;
  r.records = s.records;
  rill_ndjson_free(nd);
  rill_sse_free(sse);
  rill__buf_release(&s.text);
  rill__json_release(&s.doc);
  rill__pool_free(pool);
  rill_alloc_get_stats(&after);
  r.leaked = after.bytes_in_use - before.bytes_in_use;
  assert_int_equal(r.records, reps * n_per);
  return r;
}

static void check_constant(stream_kind kind, const char *name) {
  run_result small = run(kind, (uint64_t)1 << 20);
  run_result big = run(kind, (uint64_t)1 << 30);
  printf("%s: 1 MiB stream: %llu records, peak heap %llu B; "
         "1 GiB stream: %llu records, peak heap %llu B\n",
         name, (unsigned long long)small.records, (unsigned long long)small.peak,
         (unsigned long long)big.records, (unsigned long long)big.peak);
  assert_true(big.records > 1000 * small.records / 2);
  assert_int_equal(big.peak, small.peak);
  assert_int_equal(small.leaked, 0);
  assert_int_equal(big.leaked, 0);
  assert_true(small.peak > 0);
  assert_true(small.peak < 64 * 1024); /* a few pooled blocks, nothing more */
}

static void test_ndjson_heap_constant(void **state) {
  (void)state;
  check_constant(STREAM_OLLAMA_NDJSON, "ndjson");
}

static void test_sse_heap_constant(void **state) {
  (void)state;
  check_constant(STREAM_OPENAI_SSE, "sse");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ndjson_heap_constant),
      cmocka_unit_test(test_sse_heap_constant),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
