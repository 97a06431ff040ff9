/*
 * test_limits.c — RELIABILITY.md G7: every cap of a chat request
 * (rill_limits, rill_timeouts, rill_retry; docs/limits.md) at its value
 * (passes) and one byte or unit past it (RILL_E_LIMIT, or RILL_E_TIMEOUT
 * for clocks), through the public chat API against rill-mock routes with
 * bodies of exact sizes (the "lim-*" routes of hostile-g8.json). Each run
 * also checks the heap returns to where it was (hostile_run.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hostile_run.h"

/* One NDJSON line, and one SSE line ("data: " and the event's data), of
 * exactly 4096 bytes: the framers count whole lines (rill/stream.h). */
static void test_max_record_bytes(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.limits.max_record_bytes = 4096;
  assert_int_equal(run("lim-record-oll", &ro, &o), RILL_OK);
  ro.limits.max_record_bytes = 4095;
  assert_int_equal(run("lim-record-oll", &ro, &o), RILL_E_LIMIT);
  assert_non_null(strstr(o.msg, "max_record_bytes"));
  ro.provider = RILL_PROVIDER_OPENAI;
  ro.limits.max_record_bytes = 4096;
  assert_int_equal(run("lim-record-sse", &ro, &o), RILL_OK);
  ro.limits.max_record_bytes = 4095;
  assert_int_equal(run("lim-record-sse", &ro, &o), RILL_E_LIMIT);
  /* The hard maximum is accepted; one byte more is refused at the start
   * (no callback runs then: rill_chat returns it directly). */
  ro.limits.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES;
  assert_int_equal(run("lim-record-sse", &ro, &o), RILL_OK);
}

static void test_max_record_bytes_invalid(void **st) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg = {0};
  rill_client *c;
  (void)st;
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = g_mock.base;
  req.model = "m";
  msg.content = "hi";
  req.messages = &msg;
  req.n_messages = 1;
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  req.limits.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES + 1;
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.limits.max_record_bytes = 0;
  req.limits.max_tool_calls = 65537;
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.limits.max_tool_calls = 0;
  req.limits.max_json_tokens = ((size_t)1 << 24) + 1;
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.limits.max_json_tokens = 0;
  req.limits.max_tool_args_bytes = ((size_t)64 << 20) + 1;
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.limits.max_tool_args_bytes = 0;
  req.limits.max_error_body_bytes = ((size_t)64 << 10) + 1;
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.limits.max_error_body_bytes = 0;
  req.limits.low_speed_bytes = 10; /* without low_speed_ms */
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  rill_client_free(c);
}

/* A record of exactly 1000 JSON tokens. */
static void test_max_json_tokens(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.limits.max_json_tokens = 1000;
  assert_int_equal(run("lim-tokens", &ro, &o), RILL_OK);
  ro.limits.max_json_tokens = 999;
  assert_int_equal(run("lim-tokens", &ro, &o), RILL_E_LIMIT);
  assert_int_equal(o.text_len, 0);
}

/* Nesting is fixed at RILL_JSON_MAX_DEPTH (128): not an option (the
 * walker's stack is static), but tested at 128 and 129 all the same. */
static void test_json_depth(void **st) {
  obs o;
  (void)st;
  assert_int_equal(RILL_JSON_MAX_DEPTH, 128);
  assert_int_equal(run("lim-depth128", NULL, &o), RILL_OK);
  assert_int_equal(run("lim-depth129", NULL, &o), RILL_E_JSON);
  assert_non_null(strstr(o.msg, "too deep"));
}

/* 128 tool calls in one answer (s15-atcap): the default passes; a cap of
 * 127 fails at the 128th; the default fails at the 129th (s15-many). */
static void test_max_tool_calls(void **st) {
  run_opts ro = {.provider = RILL_PROVIDER_OPENAI};
  obs o;
  (void)st;
  assert_int_equal(run("s15-atcap", &ro, &o), RILL_OK);
  assert_int_equal(o.n_tools, 128);
  ro.limits.max_tool_calls = 128;
  assert_int_equal(run("s15-atcap", &ro, &o), RILL_OK);
  ro.limits.max_tool_calls = 127;
  assert_int_equal(run("s15-atcap", &ro, &o), RILL_E_LIMIT);
  assert_non_null(strstr(o.msg, "more than 127 tool calls"));
  ro.limits.max_tool_calls = 0;
  assert_int_equal(run("s15-many", &ro, &o), RILL_E_LIMIT);
  ro.limits.max_tool_calls = 129;
  assert_int_equal(run("s15-many", &ro, &o), RILL_OK);
}

/* Two calls whose arguments are 7 bytes each, streamed in pieces. */
static void test_max_tool_args_bytes(void **st) {
  run_opts ro = {.provider = RILL_PROVIDER_OPENAI};
  obs o;
  (void)st;
  ro.limits.max_tool_args_bytes = 7;
  assert_int_equal(run("s15-interleaved", &ro, &o), RILL_OK);
  assert_int_equal(o.n_tools, 2);
  ro.limits.max_tool_args_bytes = 6;
  assert_int_equal(run("s15-interleaved", &ro, &o), RILL_E_LIMIT);
  assert_non_null(strstr(o.msg, "arguments longer than 6"));
}

/* The same two calls (7-byte arguments) from Ollama (whole calls), Gemini
 * (functionCall parts) and Anthropic (input_json_delta pieces). */
static void test_tool_caps_per_provider(void **st) {
  static const struct {
    const char *route;
    rill_provider p;
  } k[] = {{"lim-tools-oll", RILL_PROVIDER_OLLAMA},
           {"lim-tools-gem", RILL_PROVIDER_GEMINI},
           {"lim-tools-ant", RILL_PROVIDER_ANTHROPIC}};
  size_t i;
  obs o;
  (void)st;
  for (i = 0; i < 3; i++) {
    run_opts ro = {.provider = k[i].p};
    ro.limits.max_tool_calls = 2;
    ro.limits.max_tool_args_bytes = 7;
    assert_int_equal(run(k[i].route, &ro, &o), RILL_OK);
    assert_int_equal(o.n_tools, 2);
    assert_string_equal(o.tool_args[0], "{\"a\":1}");
    assert_string_equal(o.tool_args[1], "{\"b\":2}");
    ro.limits.max_tool_calls = 1;
    assert_int_equal(run(k[i].route, &ro, &o), RILL_E_LIMIT);
    assert_non_null(strstr(o.msg, "more than 1 tool calls"));
    ro.limits.max_tool_calls = 2;
    ro.limits.max_tool_args_bytes = 6;
    assert_int_equal(run(k[i].route, &ro, &o), RILL_E_LIMIT);
    assert_non_null(strstr(o.msg, "6 bytes"));
  }
}

/* A caller built against an older header passes a smaller size: the
 * limits member is not read (an impossible cap there changes nothing). */
static void test_older_request_size(void **st) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg = {0};
  rill_client *c;
  char url[160];
  (void)st;
  snprintf(url, sizeof url, "%s/target", g_mock.base);
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = url;
  req.model = "m";
  msg.content = "hi";
  req.messages = &msg;
  req.n_messages = 1;
  req.limits.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES + 1;
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  assert_int_equal(rill_chat(c, &req, NULL), RILL_E_INVALID);
  req.size = offsetof(rill_chat_request, limits);
  assert_int_equal(rill_chat(c, &req, NULL), RILL_OK);
  rill_client_free(c);
}

/* A 2xx body of exactly 1000 bytes, in 100-byte writes. */
static void test_max_response_bytes(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.limits.max_response_bytes = 1000;
  assert_int_equal(run("lim-response", &ro, &o), RILL_OK);
  ro.limits.max_response_bytes = 999;
  assert_int_equal(run("lim-response", &ro, &o), RILL_E_LIMIT);
  assert_non_null(strstr(o.msg, "max_response_bytes"));
}

/* Embeddings take the transport's caps: a 39-byte answer. */
static void test_embed_limits(void **st) {
  static const char body[] = "{\"model\":\"m\",\"embeddings\":[[0.5,0.25]]}";
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  const char *in = "hi";
  rill_embeddings *e = NULL;
  rill_alloc_stats a = RILL_ALLOC_STATS_INIT, b = RILL_ALLOC_STATS_INIT;
  rill_client *c;
  char url[160], msg[256];
  (void)st;
  snprintf(url, sizeof url, "%s/lim-embed", g_mock.base);
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = url;
  req.model = "m";
  req.inputs = &in;
  req.n_inputs = 1;
  req.retry.max_retries = -1;
  rill_alloc_get_stats(&a);
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  req.limits.max_response_bytes = sizeof body - 1;
  assert_int_equal(rill_embed_remote(c, &req, &e, msg, sizeof msg), RILL_OK);
  assert_int_equal(e->dims, 2);
  rill_embeddings_free(e);
  e = NULL;
  req.limits.max_response_bytes = sizeof body - 2;
  assert_int_equal(rill_embed_remote(c, &req, &e, msg, sizeof msg),
                   RILL_E_LIMIT);
  assert_null(e);
  assert_non_null(strstr(msg, "max_response_bytes"));
  req.limits.max_record_bytes = RILL_HARD_MAX_RECORD_BYTES + 1;
  assert_int_equal(rill_embed_remote(c, &req, &e, msg, sizeof msg),
                   RILL_E_INVALID);
  rill_client_free(c);
  rill_alloc_get_stats(&b);
  assert_true(a.bytes_in_use == b.bytes_in_use);
}

/* An error body of 299 'E' and a final 'Z': with 300 bytes kept the Z is
 * in the message, with 299 it is not. The code stays the HTTP one. */
static void test_max_error_body_bytes(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.limits.max_error_body_bytes = 300;
  assert_int_equal(run("lim-errbody", &ro, &o), RILL_E_UNAVAILABLE);
  assert_non_null(strstr(o.msg, "EZ"));
  ro.limits.max_error_body_bytes = 299;
  assert_int_equal(run("lim-errbody", &ro, &o), RILL_E_UNAVAILABLE);
  assert_null(strstr(o.msg, "Z"));
  assert_non_null(strstr(o.msg, "EEE"));
}

/* Clocks: each one generous passes, each one short of the mock's delay
 * fails with RILL_E_TIMEOUT naming it. */
static void test_clocks(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.timeouts.connect_ms = 10000;
  ro.timeouts.first_content_ms = 10000;
  ro.timeouts.idle_ms = 10000;
  ro.timeouts.total_ms = 10000;
  assert_int_equal(run("target", &ro, &o), RILL_OK);
  memset(&ro.timeouts, 0, sizeof ro.timeouts);
  ro.timeouts.connect_ms = 200;
  assert_int_equal(run("lim-slow-headers", &ro, &o), RILL_E_TIMEOUT);
  assert_non_null(strstr(o.msg, "connect"));
  memset(&ro.timeouts, 0, sizeof ro.timeouts);
  ro.timeouts.first_content_ms = 200;
  assert_int_equal(run("lim-slow-headers", &ro, &o), RILL_E_TIMEOUT);
  assert_non_null(strstr(o.msg, "first-content"));
  memset(&ro.timeouts, 0, sizeof ro.timeouts);
  ro.timeouts.idle_ms = 200;
  assert_int_equal(run("s05-drip", &ro, &o), RILL_E_TIMEOUT);
  assert_non_null(strstr(o.msg, "idle"));
  memset(&ro.timeouts, 0, sizeof ro.timeouts);
  ro.timeouts.total_ms = 200;
  assert_int_equal(run("lim-slow-headers", &ro, &o), RILL_E_TIMEOUT);
  assert_non_null(strstr(o.msg, "total"));
}

/* Low speed: 1000 bytes a second is met by a fast answer and not by one
 * byte every 20 ms. */
static void test_low_speed(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.limits.low_speed_bytes = 1000;
  ro.limits.low_speed_ms = 1000;
  assert_int_equal(run("target", &ro, &o), RILL_OK);
  assert_int_equal(run("s05-drip", &ro, &o), RILL_E_TIMEOUT);
}

/* Retry-After: 1 s is honoured with a ceiling of 1000 ms and refused with
 * 999 (the 429 is returned at once). */
static void test_retry_after_ceiling(void **st) {
  run_opts ro = {0};
  obs o;
  char *log;
  (void)st;
  ro.retry.max_retries = 1;
  ro.retry.max_retry_after_ms = 999;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("lim-retry-after", &ro, &o), RILL_E_RATE_LIMITED);
  ro.retry.max_retry_after_ms = 1000;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("lim-retry-after", &ro, &o), RILL_OK);
  assert_hello(&o);
  log = requests(&g_mock);
  assert_int_equal(count(log, "/lim-retry-after/"), 2);
  free(log);
}

/* Two 503s then an answer: 2 retries succeed, 1 fails with the 503. */
static void test_max_retries(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.retry.base_delay_ms = 1;
  ro.retry.max_delay_ms = 2;
  ro.retry.max_retries = 1;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("lim-retries", &ro, &o), RILL_E_UNAVAILABLE);
  assert_int_equal(o.http, 503);
  ro.retry.max_retries = 2;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("lim-retries", &ro, &o), RILL_OK);
  assert_hello(&o);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_record_bytes),
      cmocka_unit_test(test_max_record_bytes_invalid),
      cmocka_unit_test(test_max_json_tokens),
      cmocka_unit_test(test_json_depth),
      cmocka_unit_test(test_max_tool_calls),
      cmocka_unit_test(test_max_tool_args_bytes),
      cmocka_unit_test(test_tool_caps_per_provider),
      cmocka_unit_test(test_older_request_size),
      cmocka_unit_test(test_max_response_bytes),
      cmocka_unit_test(test_max_error_body_bytes),
      cmocka_unit_test(test_embed_limits),
      cmocka_unit_test(test_clocks),
      cmocka_unit_test(test_low_speed),
      cmocka_unit_test(test_retry_after_ceiling),
      cmocka_unit_test(test_max_retries),
  };
  return cmocka_run_group_tests(tests, hostile_setup, hostile_teardown);
}
