/*
 * test_chat_result.c — the accumulator (providers/result.c): it records
 * text, thinking, complete tool calls, the done record and the error, and
 * forwards every callback; fed by real decoders over recorded streams, at
 * every split, and under allocation failures.
 */
#include "prov_harness.h"

static int make_ollama(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__ollama_chat_decoder_new(cb, 0, out);
}

static int make_openai(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__openai_chat_decoder_new(cb, out);
}

/* Run fixture through make with an accumulator that forwards to a log. */
static rill_chat_result *accumulate(make_fn make, feed_kind kind,
                                    const char *fixture, size_t split,
                                    plog *l, int expect_rc) {
  rill_chat_result *r = NULL;
  rill_chat_callbacks fwd = plog_callbacks(l), acc;
  rill__decoder *d;
  size_t len;
  char *data = read_fixture(fixture, &len);
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, &fwd, &acc), RILL_OK);
  assert_int_equal(make(&acc, &d), RILL_OK);
  assert_int_equal(feed(d, kind, data, len, 0, split), expect_rc);
  d->ops->destroy(d);
  free(data);
  return r;
}

static void test_text_and_thinking(void **state) {
  plog l;
  size_t n, k, len;
  char *data = read_fixture("ollama_chat_thinking.ndjson", &len);
  (void)state;
  free(data);
  for (k = 0; k < len; k += 13) {
    rill_chat_result *r;
    const rill_done *dn;
    memset(&l, 0, sizeof l);
    r = accumulate(make_ollama, FEED_NDJSON, "ollama_chat_thinking.ndjson", k,
                   &l, RILL_OK);
    assert_string_equal(rill_chat_result_text(r, &n), "340.");
    assert_int_equal(n, 4);
    assert_string_equal(rill_chat_result_thinking(r, &n),
                        "Let me compute 17 × 20.");
    assert_int_equal(rill_chat_result_n_tool_calls(r), 0);
    assert_null(rill_chat_result_tool_call(r, 0));
    dn = rill_chat_result_done(r);
    assert_non_null(dn);
    assert_int_equal(dn->finish, RILL_FINISH_LENGTH);
    assert_string_equal(dn->raw_finish, "length");
    assert_string_equal(dn->model, "qwen3:8b");
    assert_int_equal(dn->usage.input_tokens, 12);
    assert_int_equal(dn->usage.output_tokens, 3);
    assert_int_equal(rill_chat_result_error(r)->code, RILL_OK);
    /* Everything was forwarded too. */
    assert_string_equal(l.s, "think:Let me\nthink: compute 17 × 20.\n"
                             "text:340\ntext:.\n"
                             "done:length|length|in=12|out=3|think=-1|model="
                             "qwen3:8b\n");
    rill_chat_result_free(r);
    free(l.s);
  }
}

static void test_tool_calls(void **state) {
  plog l;
  rill_chat_result *r;
  const rill_tool_call *tc;
  (void)state;
  memset(&l, 0, sizeof l);
  r = accumulate(make_openai, FEED_SSE, "openai_tools_parallel.sse", 0, &l,
                 RILL_OK);
  assert_int_equal(rill_chat_result_n_tool_calls(r), 2);
  tc = rill_chat_result_tool_call(r, 1);
  assert_int_equal(tc->index, 1);
  assert_string_equal(tc->id, "call_OE9");
  assert_string_equal(tc->name, "get_stock_price");
  assert_string_equal(tc->arguments, "{\"ticker\":\"AAPL\"}");
  assert_int_equal(tc->arguments_len, 17);
  assert_int_equal(rill_chat_result_done(r)->finish, RILL_FINISH_TOOL_CALLS);
  assert_string_equal(rill_chat_result_text(r, NULL), "");
  /* Deltas are forwarded, not accumulated. */
  assert_non_null(strstr(l.s, "delta:1|~|~|cker\":\"AAPL\"}\n"));
  rill_chat_result_free(r);
  free(l.s);
}

static void test_error(void **state) {
  plog l;
  rill_chat_result *r;
  const rill_error_info *e;
  (void)state;
  memset(&l, 0, sizeof l);
  r = accumulate(make_openai, FEED_SSE, "openai_error.sse", 0, &l,
                 RILL_E_UNAVAILABLE);
  assert_null(rill_chat_result_done(r));
  e = rill_chat_result_error(r);
  assert_int_equal(e->code, RILL_E_UNAVAILABLE);
  assert_string_equal(e->message, "The server had an error while processing "
                                  "your request. Sorry about that!");
  assert_string_equal(rill_chat_result_text(r, NULL), "Par");
  assert_non_null(strstr(l.s, "error:E_UNAVAILABLE|"));
  rill_chat_result_free(r);
  free(l.s);
}

static void test_no_forward_and_nulls(void **state) {
  rill_chat_result *r = NULL;
  rill_chat_callbacks acc, bad;
  rill_tool_call tc = {3, NULL, NULL, NULL, 0};
  size_t n = 9;
  (void)state;
  assert_int_equal(rill_chat_result_new(NULL), RILL_E_INVALID);
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(NULL, NULL, &acc),
                   RILL_E_INVALID);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, NULL), RILL_E_INVALID);
  memset(&bad, 0, sizeof bad);
  assert_int_equal(rill_chat_result_callbacks(r, &bad, &acc), RILL_E_INVALID);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &acc), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, &n), "");
  assert_int_equal(n, 0);
  assert_int_equal(acc.on_text(acc.user, "ab", 2), 0);
  assert_int_equal(acc.on_text(acc.user, "c", 1), 0);
  assert_int_equal(acc.on_tool_call(acc.user, &tc), 0);
  assert_int_equal(acc.on_tool_call_delta(acc.user, 0, NULL, NULL, "x", 1), 0);
  assert_string_equal(rill_chat_result_text(r, &n), "abc");
  assert_int_equal(rill_chat_result_n_tool_calls(r), 1);
  assert_string_equal(rill_chat_result_tool_call(r, 0)->id, "");
  assert_int_equal(rill_chat_result_tool_call(r, 0)->index, 3);
  {
    rill_error_info e = {RILL_E_TIMEOUT, 0, NULL};
    acc.on_error(acc.user, &e);
    assert_int_equal(rill_chat_result_error(r)->code, RILL_E_TIMEOUT);
    assert_string_equal(rill_chat_result_error(r)->message, "");
  }
  rill_chat_result_free(r);
  rill_chat_result_free(NULL);
  assert_null(rill_chat_result_done(NULL));
  assert_int_equal(rill_chat_result_error(NULL)->code, RILL_OK);
  assert_int_equal(rill_chat_result_n_tool_calls(NULL), 0);
}

static void test_alloc_failures(void **state) {
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  uint64_t n = 0, k;
  size_t len;
  char *data = read_fixture("openai_tools_parallel.sse", &len);
  (void)state;
  rill_alloc_get_stats(&before);
  for (k = 0;; k++) {
    rill_chat_result *r = NULL;
    rill_chat_callbacks acc;
    rill__decoder *d = NULL;
    int rc;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_chat_result_new(&r);
    if (rc == RILL_OK) {
      rill_chat_result_callbacks(r, NULL, &acc);
      rc = make_openai(&acc, &d);
      if (rc == RILL_OK) {
        rc = feed(d, FEED_SSE, data, len, 5, 0);
        d->ops->destroy(d);
      }
      /* The accumulator's own failure cancels; the result says why. */
      if (rc == RILL_E_CANCELLED)
        assert_int_equal(rill_chat_result_error(r)->code, RILL_E_NOMEM);
      rill_chat_result_free(r);
    }
    if (k == 0)
      n = rill_alloc_attempts();
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    assert_true(rc == RILL_OK || rc == RILL_E_NOMEM || rc == RILL_E_CANCELLED);
    rill_alloc_get_stats(&after);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    if (k >= n)
      break;
  }
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_and_thinking),
      cmocka_unit_test(test_tool_calls),
      cmocka_unit_test(test_error),
      cmocka_unit_test(test_no_forward_and_nulls),
      cmocka_unit_test(test_alloc_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
