/*
 * test_anthropic_e2e.c — the Anthropic provider against rill-mock over real
 * HTTP, with the scenarios tests/mock/scenarios/anthropic-*.json (literal
 * bodies shaped like the API's recorded streams): text in record, 1-byte
 * and random splits, a thinking stream, parallel tool uses, a 429 and a
 * 503 with retry-after-ms then success, a mid-stream error event, a
 * connection closed mid-record, a stream without message_stop, a 401,
 * model listing; each request the mock received is checked (x-api-key,
 * anthropic-version, no Authorization, the body).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_proc.h"
#include "rill/rill.h"

#define KEY "sk-ant-api03-e2e-0123456789abcdef"
#define MODEL "claude-sonnet-4-20250514"
#define TEXT "Hello w\xc3\xb6rld <\xf0\x9f\x8c\x8a\n!"

static mock_proc g_chat, g_errors;
static rill_client *g_client;

static char *read_text(const char *name) {
  char path[1024];
  FILE *f;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/%s", RILL_SCENARIO_DIR, name);
  f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
    buf[n] = '\0';
  else {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  return buf;
}

static int start_mock(mock_proc *m, const char *name) {
  char *s = read_text(name);
  int rc = s ? mock_start(m, RILL_MOCK_BIN, s, NULL) : -1;
  free(s);
  return rc;
}

static int setup(void **state) {
  (void)state;
  if (rill_global_init(NULL) != RILL_OK ||
      start_mock(&g_chat, "anthropic-chat.json") != 0 ||
      start_mock(&g_errors, "anthropic-errors.json") != 0)
    return -1;
  return rill_client_new(&g_client, NULL) == RILL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  rill_client_free(g_client);
  mock_stop(&g_chat);
  mock_stop(&g_errors);
  rill_global_cleanup();
  return 0;
}

/* The requests the mock recorded for path, and the last one of them. */
typedef struct recorded {
  rill_json_doc *log;
  int last;  /* token of the last request for the path, -1 if none */
  size_t n;  /* how many */
} recorded;

static recorded requests_for(const mock_proc *m, const char *path) {
  recorded r = {NULL, -1, 0};
  char *log = mock_get(m, "/__mock/requests");
  size_t i, n;
  assert_non_null(log);
  assert_int_equal(rill_json_parse(&r.log, log, strlen(log), NULL), RILL_OK);
  free(log);
  n = rill_json_count(r.log, 0);
  for (i = 0; i < n; i++) {
    int q = rill_json_at(r.log, 0, i);
    const char *p = rill_json_string(r.log, rill_json_get(r.log, q, "path"), NULL);
    if (p && strcmp(p, path) == 0) {
      r.last = q;
      r.n++;
    }
  }
  return r;
}

static const char *header_of(recorded *r, const char *name) {
  int h = rill_json_get(r->log, r->last, "headers");
  return rill_json_string(r->log, rill_json_get(r->log, h, name), NULL);
}

/* The last request's headers are Anthropic's, and its body parsed. */
static rill_json_doc *check_request(const mock_proc *m, const char *path,
                                    size_t n_expected) {
  recorded r = requests_for(m, path);
  const char *body;
  rill_json_doc *b = NULL;
  assert_true(r.last >= 0);
  assert_int_equal(r.n, n_expected);
  assert_string_equal(header_of(&r, "x-api-key"), KEY);
  assert_string_equal(header_of(&r, "anthropic-version"), "2023-06-01");
  assert_null(header_of(&r, "authorization"));
  body = rill_json_string(r.log, rill_json_get(r.log, r.last, "body"), NULL);
  assert_non_null(body);
  assert_null(strstr(body, KEY));
  assert_int_equal(rill_json_parse(&b, body, strlen(body), NULL), RILL_OK);
  rill_json_doc_free(r.log);
  return b;
}

static const char *str_at(rill_json_doc *d, int tok, const char *key) {
  return rill_json_string(d, rill_json_get(d, tok, key), NULL);
}

static double num_at(rill_json_doc *d, int tok, const char *key) {
  double v = -1;
  assert_int_equal(rill_json_number(d, rill_json_get(d, tok, key), &v), RILL_OK);
  return v;
}

/* One chat to base + prefix; the result is the caller's. */
static int chat(const mock_proc *m, const char *prefix, rill_think think,
                const rill_tool *tools, size_t n_tools,
                rill_chat_result **out) {
  char url[256];
  rill_message msg[2];
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb;
  rill_chat_result *res = NULL;
  int rc;
  memset(msg, 0, sizeof msg);
  msg[0].role = RILL_ROLE_SYSTEM;
  msg[0].content = "Be brief.";
  msg[1].role = RILL_ROLE_USER;
  msg[1].content = "Say hello.";
  snprintf(url, sizeof url, "%s%s/v1", m->base, prefix);
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.endpoint.base_url = url;
  req.endpoint.api_key = KEY;
  req.model = MODEL;
  req.messages = msg;
  req.n_messages = 2;
  req.tools = tools;
  req.n_tools = n_tools;
  req.think = think;
  req.retry.max_retries = 3;
  req.retry.base_delay_ms = 1;
  req.retry.max_delay_ms = 5;
  assert_int_equal(rill_chat_result_new(&res), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(res, NULL, &cb), RILL_OK);
  rc = rill_chat(g_client, &req, &cb);
  *out = res;
  return rc;
}

static void check_text_result(rill_chat_result *res) {
  const rill_done *d = rill_chat_result_done(res);
  size_t len;
  assert_string_equal(rill_chat_result_text(res, &len), TEXT);
  assert_int_equal(len, strlen(TEXT));
  assert_non_null(d);
  assert_int_equal(d->finish, RILL_FINISH_STOP);
  assert_string_equal(d->raw_finish, "end_turn");
  assert_int_equal(d->usage.input_tokens, 21);
  assert_int_equal(d->usage.output_tokens, 6);
  assert_int_equal(d->usage.thinking_tokens, -1);
  assert_string_equal(d->model, MODEL);
}

static void test_text_splits(void **state) {
  static const char *const prefixes[] = {"", "/bytes", "/random"};
  size_t k;
  (void)state;
  for (k = 0; k < 3; k++) {
    rill_chat_result *res;
    rill_json_doc *b;
    char path[64];
    int msgs, c0;
    assert_int_equal(chat(&g_chat, prefixes[k], RILL_THINK_DEFAULT, NULL, 0,
                          &res),
                     RILL_OK);
    check_text_result(res);
    rill_chat_result_free(res);
    snprintf(path, sizeof path, "%s/v1/messages", prefixes[k]);
    b = check_request(&g_chat, path, 1);
    assert_string_equal(str_at(b, 0, "model"), MODEL);
    assert_true(num_at(b, 0, "max_tokens") == 4096);
    assert_int_equal(rill_json_type_of(b, rill_json_get(b, 0, "stream")),
                     RILL_JSON_TRUE);
    assert_string_equal(str_at(b, 0, "system"), "Be brief.");
    msgs = rill_json_get(b, 0, "messages");
    assert_int_equal(rill_json_count(b, msgs), 1);
    assert_string_equal(str_at(b, rill_json_at(b, msgs, 0), "role"), "user");
    c0 = rill_json_at(b, rill_json_get(b, rill_json_at(b, msgs, 0), "content"),
                      0);
    assert_string_equal(str_at(b, c0, "type"), "text");
    assert_string_equal(str_at(b, c0, "text"), "Say hello.");
    assert_int_equal(rill_json_get(b, 0, "thinking"), -1);
    rill_json_doc_free(b);
  }
}

static void test_thinking(void **state) {
  rill_chat_result *res;
  rill_json_doc *b;
  const rill_done *d;
  int th;
  (void)state;
  assert_int_equal(chat(&g_chat, "/thinking", RILL_THINK_ON, NULL, 0, &res),
                   RILL_OK);
  assert_string_equal(rill_chat_result_thinking(res, NULL),
                      "Let me think about 2+2.");
  assert_string_equal(rill_chat_result_text(res, NULL), "4");
  d = rill_chat_result_done(res);
  assert_non_null(d);
  assert_int_equal(d->usage.input_tokens, 57);
  assert_int_equal(d->usage.output_tokens, 30);
  assert_int_equal(d->usage.thinking_tokens, 25);
  rill_chat_result_free(res);
  b = check_request(&g_chat, "/thinking/v1/messages", 1);
  th = rill_json_get(b, 0, "thinking");
  assert_string_equal(str_at(b, th, "type"), "enabled");
  assert_true(num_at(b, th, "budget_tokens") == 1024);
  rill_json_doc_free(b);
}

static void test_tools(void **state) {
  static const rill_tool tools[] = {
      {"get_weather", "Weather of a city",
       "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"},
      {"get_time", NULL, NULL},
      {"now", NULL, NULL}};
  static const char *const expect[][3] = {
      {"toolu_01A", "get_weather", "{\"city\": \"Paris\"}"},
      {"toolu_01B", "get_time", "{\"tz\": \"Europe/Paris\"}"},
      {"toolu_01C", "now", "{}"}};
  rill_chat_result *res;
  rill_json_doc *b;
  size_t k;
  int t;
  (void)state;
  assert_int_equal(chat(&g_chat, "/tools", RILL_THINK_DEFAULT, tools, 3, &res),
                   RILL_OK);
  assert_int_equal(rill_chat_result_n_tool_calls(res), 3);
  for (k = 0; k < 3; k++) {
    const rill_tool_call *tc = rill_chat_result_tool_call(res, k);
    assert_non_null(tc);
    assert_int_equal(tc->index, k);
    assert_string_equal(tc->id, expect[k][0]);
    assert_string_equal(tc->name, expect[k][1]);
    assert_string_equal(tc->arguments, expect[k][2]);
  }
  assert_int_equal(rill_chat_result_done(res)->finish, RILL_FINISH_TOOL_CALLS);
  assert_string_equal(rill_chat_result_done(res)->raw_finish, "tool_use");
  rill_chat_result_free(res);
  b = check_request(&g_chat, "/tools/v1/messages", 1);
  t = rill_json_get(b, 0, "tools");
  assert_int_equal(rill_json_count(b, t), 3);
  assert_string_equal(str_at(b, rill_json_at(b, t, 0), "name"), "get_weather");
  assert_string_equal(
      str_at(b, rill_json_get(b, rill_json_at(b, t, 0), "input_schema"), "type"),
      "object");
  rill_json_doc_free(b);
}

static void test_retry_then_ok(void **state) {
  rill_chat_result *res;
  rill_json_doc *b;
  (void)state;
  /* 429 (retry-after-ms 20), 503 (retry-after-ms 20), then the stream.
   * (529, Anthropic's overloaded status, is not retried by the transport.) */
  assert_int_equal(chat(&g_errors, "/retry", RILL_THINK_DEFAULT, NULL, 0, &res),
                   RILL_OK);
  check_text_result(res);
  assert_int_equal(rill_chat_result_error(res)->code, RILL_OK);
  rill_chat_result_free(res);
  b = check_request(&g_errors, "/retry/v1/messages", 3);
  rill_json_doc_free(b);
}

static void test_stream_error(void **state) {
  rill_chat_result *res;
  const rill_error_info *e;
  (void)state;
  assert_int_equal(
      chat(&g_errors, "/overloaded", RILL_THINK_DEFAULT, NULL, 0, &res),
      RILL_E_UNAVAILABLE);
  assert_string_equal(rill_chat_result_text(res, NULL), "Par");
  assert_null(rill_chat_result_done(res));
  e = rill_chat_result_error(res);
  assert_int_equal(e->code, RILL_E_UNAVAILABLE);
  assert_int_equal(e->http_status, 200);
  assert_string_equal(e->message, "Overloaded (overloaded_error)");
  rill_chat_result_free(res);
  /* Content had arrived: never retried. */
  rill_json_doc_free(check_request(&g_errors, "/overloaded/v1/messages", 1));
}

static void test_truncated(void **state) {
  rill_chat_result *res;
  const rill_error_info *e;
  size_t len;
  (void)state;
  /* The connection closes in the middle of a record. */
  assert_int_not_equal(
      chat(&g_errors, "/truncated", RILL_THINK_DEFAULT, NULL, 0, &res),
      RILL_OK);
  assert_null(rill_chat_result_done(res));
  assert_int_not_equal(rill_chat_result_error(res)->code, RILL_OK);
  rill_chat_result_text(res, &len);
  assert_true(len < strlen(TEXT));
  assert_memory_equal(rill_chat_result_text(res, NULL), TEXT, len);
  rill_chat_result_free(res);
  /* A clean end without message_stop. */
  assert_int_equal(chat(&g_errors, "/nodone", RILL_THINK_DEFAULT, NULL, 0, &res),
                   RILL_E_TRUNCATED);
  assert_string_equal(rill_chat_result_text(res, NULL), TEXT);
  assert_null(rill_chat_result_done(res));
  e = rill_chat_result_error(res);
  assert_non_null(strstr(e->message, "truncated stream"));
  assert_non_null(strstr(e->message, "message_stop"));
  rill_chat_result_free(res);
}

static void test_http_errors(void **state) {
  rill_chat_result *res;
  const rill_error_info *e;
  (void)state;
  assert_int_equal(chat(&g_errors, "/auth", RILL_THINK_DEFAULT, NULL, 0, &res),
                   RILL_E_AUTH);
  e = rill_chat_result_error(res);
  assert_int_equal(e->http_status, 401);
  assert_non_null(strstr(e->message, "invalid x-api-key"));
  assert_null(strstr(e->message, KEY));
  rill_chat_result_free(res);
  /* 529 with a Retry-After beyond the ceiling: not retried. */
  assert_int_equal(chat(&g_errors, "/busy", RILL_THINK_DEFAULT, NULL, 0, &res),
                   RILL_E_UNAVAILABLE);
  e = rill_chat_result_error(res);
  assert_int_equal(e->http_status, 529);
  assert_non_null(strstr(e->message, "Overloaded"));
  rill_chat_result_free(res);
}

static int on_model(void *user, const rill_model_info *m) {
  char *names = user;
  strncat(names, m->name, 200);
  strncat(names, ";", 2);
  return 0;
}

static void test_models_and_env_key(void **state) {
  rill_endpoint ep;
  char names[512] = "", url[256], msg[256];
  recorded r;
  (void)state;
  memset(&ep, 0, sizeof ep);
  snprintf(url, sizeof url, "%s/v1", g_chat.base);
  ep.provider = RILL_PROVIDER_ANTHROPIC;
  ep.base_url = url;
  setenv("ANTHROPIC_API_KEY", KEY, 1);
  assert_int_equal(
      rill_models(g_client, &ep, NULL, on_model, names, msg, sizeof msg),
      RILL_OK);
  unsetenv("ANTHROPIC_API_KEY");
  assert_string_equal(names,
                      "claude-sonnet-4-20250514;claude-3-5-haiku-20241022;");
  r = requests_for(&g_chat, "/v1/models");
  assert_int_equal(r.n, 1);
  assert_string_equal(header_of(&r, "x-api-key"), KEY);
  assert_string_equal(header_of(&r, "anthropic-version"), "2023-06-01");
  rill_json_doc_free(r.log);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text_splits),
      cmocka_unit_test(test_thinking),
      cmocka_unit_test(test_tools),
      cmocka_unit_test(test_retry_then_ok),
      cmocka_unit_test(test_stream_error),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_http_errors),
      cmocka_unit_test(test_models_and_env_key),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
