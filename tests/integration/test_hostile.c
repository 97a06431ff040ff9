/*
 * test_hostile.c — RELIABILITY.md §3.3, the hostile-server scenarios 1-18,
 * one test per scenario (numbered as in the spec), each through the public
 * chat API against rill-mock (tests/mock/scenarios/hostile-g8.json).
 *
 * Every run checks, besides the scenario's own expectation: exactly one of
 * on_done / on_error and no callback after it, the heap back to where it
 * was before the client was made, and the peak heap of the run under a
 * cap (8 MiB of framer record plus slack for the scenarios that fill a
 * record, 2 MiB for the rest). Clocks in the tests are 150-400 ms against
 * mock delays of seconds or endless streams; nothing asserts on time.
 * Outcomes that differ from the spec's wording are explained in
 * docs/limits.md ("Hostile servers").
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

/* A body that ends cleanly without the final frame: the providers' code
 * for it (RILL__E_TRUNCATED_STREAM, providers/common.h). */
#define END_WITHOUT_FINAL RILL_E_TRUNCATED

#define KEY "sk-hostile-SECRET-0123456789abcdef"

static const run_opts k_openai = {.provider = RILL_PROVIDER_OPENAI};

/* ---- the scenarios ------------------------------------------------------ */

/* 1. 1-byte writes, random splits, pauses inside CRLF pairs: the text is
 * exact. */
static void test_s01_splits(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s01-bytes", NULL, &o), RILL_OK);
  assert_true(o.usage.output_tokens > 0);
  assert_true(is_word_prefix(&o, o.usage.output_tokens));
  assert_int_equal(run("s01-random", &k_openai, &o), RILL_OK);
  assert_true(is_word_prefix(&o, o.usage.output_tokens));
  /* CRLF line ends, one byte per write with a pause after each: every CR
   * and its LF arrive in separate reads. */
  assert_int_equal(run("s01-crlf", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(o.finish, RILL_FINISH_STOP);
}

/* 2. A line (NDJSON) or SSE field that never ends: RILL_E_LIMIT at
 * max_record_bytes, the framer's buffer the only big allocation. */
static void test_s02_endless_record(void **st) {
  run_opts ro = {.peak_cap = PEAK_RECORD};
  obs o;
  (void)st;
  assert_int_equal(run("s02-line", &ro, &o), RILL_E_LIMIT);
  ro.provider = RILL_PROVIDER_OPENAI;
  assert_int_equal(run("s02-field", &ro, &o), RILL_E_LIMIT);
  assert_int_equal(o.n_text, 0);
}

/* 3. data: lines forever without the blank line that ends the event. */
static void test_s03_endless_event(void **st) {
  run_opts ro = {.provider = RILL_PROVIDER_OPENAI, .peak_cap = PEAK_RECORD};
  obs o;
  (void)st;
  assert_int_equal(run("s03-data", &ro, &o), RILL_E_LIMIT);
  assert_int_equal(o.n_text, 0);
}

/* 4. Only keep-alives forever (SSE comments; Ollama lines with empty
 * content): they reset no clock, so the first-content, idle and total
 * clocks fire. */
static void test_s04_keepalive_forever(void **st) {
  run_opts ro = {.provider = RILL_PROVIDER_OPENAI};
  obs o;
  (void)st;
  ro.timeouts.first_content_ms = 300;
  assert_int_equal(run("s04-comments", &ro, &o), RILL_E_TIMEOUT);
  ro.timeouts.first_content_ms = 0;
  ro.timeouts.idle_ms = 300;
  assert_int_equal(run("s04-comments", &ro, &o), RILL_E_TIMEOUT);
  ro.timeouts.idle_ms = 0;
  ro.timeouts.total_ms = 300;
  assert_int_equal(run("s04-comments", &ro, &o), RILL_E_TIMEOUT);
  ro.provider = RILL_PROVIDER_OLLAMA;
  ro.timeouts.total_ms = 0;
  ro.timeouts.idle_ms = 300;
  assert_int_equal(run("s04-ollama-empty", &ro, &o), RILL_E_TIMEOUT);
  assert_int_equal(o.text_len, 0);
}

/* 5. One byte per 20 ms (a word record every few seconds) trips the idle
 * clock; a server that accepts and never answers trips the connect clock
 * (headers) and the total clock. */
static void test_s05_drip_and_silence(void **st) {
  run_opts ro = {0};
  obs o;
  (void)st;
  ro.timeouts.idle_ms = 400;
  assert_int_equal(run("s05-drip", &ro, &o), RILL_E_TIMEOUT);
  assert_true(is_word_prefix(&o, -1));
  ro.timeouts.idle_ms = 0;
  ro.timeouts.first_content_ms = 300;
  assert_int_equal(run("s05-drip", &ro, &o), RILL_E_TIMEOUT);
  ro.timeouts.first_content_ms = 0;
  ro.timeouts.connect_ms = 300;
  assert_int_equal(run("s05-silent", &ro, &o), RILL_E_TIMEOUT);
  ro.timeouts.connect_ms = 0;
  ro.timeouts.total_ms = 300;
  assert_int_equal(run("s05-silent", &ro, &o), RILL_E_TIMEOUT);
}

/* 6. Cut streams: never success, and the deltas already delivered stay
 * delivered (the text so far is a prefix of the generated text). */
static void test_s06_truncated(void **st) {
  obs o;
  int rc;
  (void)st;
  rc = run("s06-close", NULL, &o);
  assert_int_equal(rc, RILL_E_TRUNCATED);
  assert_true(o.n_text > 0 && is_word_prefix(&o, -1));
  rc = run("s06-reset", &k_openai, &o);
  assert_int_equal(rc, RILL_E_TRUNCATED);
  assert_true(o.n_text > 0 && is_word_prefix(&o, -1));
  rc = run("s06-nodone-oll", NULL, &o);
  assert_int_equal(rc, END_WITHOUT_FINAL);
  assert_true(o.n_text > 0 && is_word_prefix(&o, -1));
  rc = run("s06-nodone-oai", &k_openai, &o);
  assert_int_equal(rc, END_WITHOUT_FINAL);
  assert_true(o.n_text > 0 && is_word_prefix(&o, -1));
}

/* 7. A 200 that is not a stream of the expected kind. An HTML page
 * (Content-Type text/html: a proxy, a captive portal, a wrong URL) is
 * RILL_E_PROTOCOL before its first byte is parsed. Otherwise rill reports
 * what the body is: for NDJSON a line that is not JSON (RILL_E_JSON), for
 * SSE a body without the final frame. Never success, never text. */
static void test_s07_not_a_stream(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s07-html", NULL, &o), RILL_E_PROTOCOL);
  assert_int_equal(o.text_len, 0);
  assert_non_null(strstr(o.msg, "HTML page"));
  assert_int_equal(run("s07-text", NULL, &o), RILL_E_JSON);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s07-html", &k_openai, &o), RILL_E_PROTOCOL);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s07-oai-json", &k_openai, &o), RILL_E_PROTOCOL);
  assert_int_equal(o.text_len, 0);
  assert_non_null(strstr(o.msg, "not an event stream"));
}

/* 8. Error bodies: the provider's message; a 10 MiB body read only up to
 * the kept cap; a body echoing the key shows it masked. */
static void test_s08_error_bodies(void **st) {
  run_opts ro = {.provider = RILL_PROVIDER_OPENAI, .api_key = KEY};
  obs o;
  (void)st;
  assert_int_equal(run("s08-normal", &ro, &o), RILL_E_HTTP);
  assert_int_equal(o.http, 400);
  assert_non_null(strstr(o.msg, "not found"));
  assert_int_equal(run("s08-huge", &ro, &o), RILL_E_UNAVAILABLE);
  assert_int_equal(o.http, 500);
  assert_true(strlen(o.msg) < 1024);
  assert_int_equal(run("s08-echo", &ro, &o), RILL_E_AUTH);
  assert_int_equal(o.http, 401);
  assert_null(strstr(o.msg, KEY));
  assert_null(strstr(o.msg, "0123456789abcdef"));
}

/* 9. Retry-After: absurdly far (seconds or date) is above the ceiling, so
 * the status is returned at once; negative or garbage is not a delay, so
 * the ordinary back-off applies and the retry succeeds. */
static void test_s09_retry_after(void **st) {
  run_opts ro = {0};
  obs o;
  char *log;
  (void)st;
  ro.retry.max_retries = 1;
  ro.retry.base_delay_ms = 1;
  ro.retry.max_delay_ms = 5;
  ro.retry.max_retry_after_ms = 200;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("s09-big", &ro, &o), RILL_E_RATE_LIMITED);
  assert_int_equal(o.http, 429);
  assert_int_equal(run("s09-date", &ro, &o), RILL_E_RATE_LIMITED);
  assert_int_equal(run("s09-503", &ro, &o), RILL_E_UNAVAILABLE);
  assert_int_equal(o.http, 503);
  assert_int_equal(run("s09-neg", &ro, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s09-garbage", &ro, &o), RILL_OK);
  assert_hello(&o);
  log = requests(&g_mock);
  assert_int_equal(count(log, "/s09-big/"), 1);
  assert_int_equal(count(log, "/s09-date/"), 1);
  assert_int_equal(count(log, "/s09-503/"), 1);
  assert_int_equal(count(log, "/s09-neg/"), 2);
  assert_int_equal(count(log, "/s09-garbage/"), 2);
  free(log);
}

/* 10. Redirects: not followed by default; when following, never to
 * another host, port or scheme with a key, never file:// or ftp://, and
 * a loop stops. The second mock never sees a request. */
static void test_s10_redirects(void **st) {
  static const char *const codes[] = {"s10-301", "s10-302", "s10-307",
                                      "s10-308"};
  run_opts ro = {.api_key = KEY};
  obs o;
  char *log;
  size_t i;
  (void)st;
  for (i = 0; i < 4; i++)
    assert_int_equal(run(codes[i], &ro, &o), RILL_E_HTTP);
  assert_int_equal(run("s10-file", &ro, &o), RILL_E_HTTP);
  ro.follow_redirects = 1;
  for (i = 0; i < 4; i++)
    assert_int_not_equal(run(codes[i], &ro, &o), RILL_OK);
  assert_int_not_equal(run("s10-host", &ro, &o), RILL_OK);
  assert_int_not_equal(run("s10-scheme", &ro, &o), RILL_OK);
  assert_int_not_equal(run("s10-file", &ro, &o), RILL_OK);
  assert_int_not_equal(run("s10-ftp", &ro, &o), RILL_OK);
  assert_int_not_equal(run("s10-loop", &ro, &o), RILL_OK);
  log = requests(&g_mock2);
  assert_string_equal(log, "[]");
  free(log);
  log = requests(&g_mock);
  assert_true(count(log, "/s10-loop/") <= 6);
  free(log);
}

/* 11. Content-Encoding: gzip although rill never asked for it: the request
 * carries no Accept-Encoding, and the compressed bytes are not decoded
 * into text: they fail as a line that is not JSON. (A gzip bomb cannot
 * inflate inside rill: nothing decodes.) */
static void test_s11_gzip(void **st) {
  obs o;
  char *log;
  (void)st;
  free(mock_get(&g_mock, "/__mock/reset"));
  assert_int_equal(run("s11-gzip", NULL, &o), RILL_E_JSON);
  assert_int_equal(o.text_len, 0);
  log = requests(&g_mock);
  assert_non_null(strstr(log, "/s11-gzip/"));
  assert_null(strstr(log, "accept-encoding"));
  free(log);
}

/* 12. Byte-level oddities: invalid UTF-8 and raw NUL inside a JSON string
 * are malformed JSON (RFC 8259); a BOM is skipped; CR, LF and CRLF all end
 * SSE lines; NDJSON lines end at LF only (CRLF tolerated), so CR-only
 * NDJSON is one line with garbage after its first object. */
static void test_s12_bytes(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s12-badutf8", NULL, &o), RILL_E_JSON);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s12-nul", NULL, &o), RILL_E_JSON);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s12-bom-oll", NULL, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s12-bom-sse", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s12-cr-sse", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s12-mixed", NULL, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s12-cr-oll", NULL, &o), RILL_E_JSON);
}

/* 13. JSON hostility: 100,000 nested [ stop at depth 128 (E_JSON, the
 * walker is iterative); 200,000 tokens in one record pass the token cap
 * (E_LIMIT); \u0000 is delivered as a byte (the length says so); lone
 * surrogates become U+FFFD; numbers out of range (1e999999, 400 digits,
 * negative or >= 2^63 counts) are "not reported" (-1), -0 is 0. */
static void test_s13_json(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s13-deep", NULL, &o), RILL_E_JSON);
  assert_int_equal(run("s13-tokens", NULL, &o), RILL_E_LIMIT);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s13-u0000", NULL, &o), RILL_OK);
  assert_int_equal(o.text_len, 3);
  assert_memory_equal(o.text, "a\0b", 3);
  assert_int_equal(run("s13-surrogate", NULL, &o), RILL_OK);
  assert_int_equal(o.text_len, 9);
  assert_memory_equal(o.text, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c", 9);
  assert_int_equal(run("s13-numbers", NULL, &o), RILL_OK);
  assert_int_equal(o.usage.input_tokens, -1);
  assert_int_equal(o.usage.output_tokens, 0);
  assert_int_equal(run("s13-usage-neg", NULL, &o), RILL_OK);
  assert_int_equal(o.usage.input_tokens, -1);
  assert_int_equal(o.usage.output_tokens, -1);
  assert_int_equal(run("s13-usage-oai", &k_openai, &o), RILL_OK);
  assert_int_equal(o.usage.input_tokens, -1);
  assert_int_equal(o.usage.output_tokens, -1);
  assert_hello(&o);
}

/* 14. Wrong types and shapes: a content that is not a string is treated
 * as absent (no text, the stream goes on); of duplicate keys the first
 * wins; a chunk without choices and an empty candidates array carry
 * nothing and are skipped. */
static void test_s14_shapes(void **st) {
  run_opts gem = {.provider = RILL_PROVIDER_GEMINI};
  obs o;
  (void)st;
  assert_int_equal(run("s14-number", NULL, &o), RILL_OK);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s14-oai-number", &k_openai, &o), RILL_OK);
  assert_int_equal(o.text_len, 0);
  assert_int_equal(run("s14-dup", NULL, &o), RILL_OK);
  assert_int_equal(o.text_len, 5);
  assert_memory_equal(o.text, "first", 5);
  assert_int_equal(run("s14-nochoices", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s14-candidates", &gem, &o), RILL_OK);
  assert_int_equal(o.text_len, 2);
  assert_memory_equal(o.text, "Hi", 2);
}

/* 15. Tool-call deltas: the server's index only tells calls apart (a call
 * is numbered by arrival, so 10^9 allocates nothing); interleaved pieces
 * are assembled per call; arguments are passed on as the server sent them,
 * even when they are not closed (models do emit invalid JSON; the
 * application validates); the 129th call is RILL_E_LIMIT. */
static void test_s15_tool_calls(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s15-bigindex", &k_openai, &o), RILL_OK);
  assert_int_equal(o.n_tools, 1);
  assert_int_equal(o.tool_index[0], 0);
  assert_int_equal(run("s15-interleaved", &k_openai, &o), RILL_OK);
  assert_int_equal(o.n_tools, 2);
  assert_string_equal(o.tool_args[0], "{\"a\":1}");
  assert_string_equal(o.tool_args[1], "{\"b\":2}");
  assert_int_equal(run("s15-unclosed", &k_openai, &o), RILL_OK);
  assert_int_equal(o.n_tools, 1);
  assert_string_equal(o.tool_args[0], "{\"a\":[1,2");
  assert_int_equal(run("s15-atcap", &k_openai, &o), RILL_OK);
  assert_int_equal(o.n_tools, 128);
  assert_int_equal(run("s15-many", &k_openai, &o), RILL_E_LIMIT);
}

/* 16. SSE fields: retry: with 30 digits, id: with a NUL, unknown event
 * names are ignored; event: error mid-stream fails the stream. */
static void test_s16_sse_fields(void **st) {
  run_opts ant = {.provider = RILL_PROVIDER_ANTHROPIC};
  obs o;
  (void)st;
  assert_int_equal(run("s16-retry", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s16-idnul", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s16-unknown", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s16-error", &k_openai, &o), RILL_E_UNAVAILABLE);
  assert_int_equal(run("s16-ant-error", &ant, &o), RILL_E_UNAVAILABLE);
  assert_int_equal(o.text_len, 5);
}

/* 17. Bytes after [DONE] or after Ollama's final object are ignored. */
static void test_s17_after_the_end(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s17-oai", &k_openai, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s17-oll", NULL, &o), RILL_OK);
  assert_hello(&o);
}

/* 18. Framing: malformed chunked and a Content-Length longer than the body
 * are cuts (RILL_E_TRUNCATED, text so far kept); HTTP/1.0 close-delimited
 * is valid. */
static void test_s18_framing(void **st) {
  obs o;
  (void)st;
  assert_int_equal(run("s18-chunked", NULL, &o), RILL_E_TRUNCATED);
  assert_true(o.n_text > 0 && is_word_prefix(&o, -1));
  /* Content-Length 20 bytes short: curl stops there, and the framer hands
   * the cut last line on as a record (NDJSON may omit the final newline),
   * which is not JSON. */
  assert_int_equal(run("s18-short", NULL, &o), RILL_E_JSON);
  assert_hello(&o);
  assert_int_equal(run("s18-long", NULL, &o), RILL_E_TRUNCATED);
  assert_int_equal(o.text_len, 5);
  /* The final line arrived before the cut: the answer is complete. */
  assert_int_equal(run("s18-long-after-done", NULL, &o), RILL_OK);
  assert_hello(&o);
  assert_int_equal(run("s18-http10", NULL, &o), RILL_OK);
  assert_true(is_word_prefix(&o, 20));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_s01_splits),
      cmocka_unit_test(test_s02_endless_record),
      cmocka_unit_test(test_s03_endless_event),
      cmocka_unit_test(test_s04_keepalive_forever),
      cmocka_unit_test(test_s05_drip_and_silence),
      cmocka_unit_test(test_s06_truncated),
      cmocka_unit_test(test_s07_not_a_stream),
      cmocka_unit_test(test_s08_error_bodies),
      cmocka_unit_test(test_s09_retry_after),
      cmocka_unit_test(test_s10_redirects),
      cmocka_unit_test(test_s11_gzip),
      cmocka_unit_test(test_s12_bytes),
      cmocka_unit_test(test_s13_json),
      cmocka_unit_test(test_s14_shapes),
      cmocka_unit_test(test_s15_tool_calls),
      cmocka_unit_test(test_s16_sse_fields),
      cmocka_unit_test(test_s17_after_the_end),
      cmocka_unit_test(test_s18_framing),
  };
  return cmocka_run_group_tests(tests, hostile_setup, hostile_teardown);
}
