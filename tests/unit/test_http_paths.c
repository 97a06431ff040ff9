/*
 * test_http_paths.c — the transport's failure paths (src/http) through the
 * public chat API against rill-mock on 127.0.0.1: every allocation of a
 * whole chat (client, request, curl, framer, decoder) failed in turn, once
 * and from then on, and cancellation from a callback while records are
 * still arriving, and a client freed with its streams in flight (owned by
 * the caller, or freeing themselves) and built with connection limits.
 *
 * What must hold for each injected failure: the call returns (no crash),
 * either RILL_OK with the exact text or a negative code after on_error, and
 * every byte the library allocated is back once the client is freed. The
 * sweep ends when a run sees no injected failure (bounded by MAX_K).
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

#ifndef RILL_MOCK_BIN
#error "RILL_MOCK_BIN must name the rill-mock binary"
#endif

/* A chat takes a few hundred allocations; the bound only stops a runaway. */
#define MAX_K 5000

/* Error bodies are kept up to 64 KiB: this one is longer. */
#define BIG_BODY 70000

/* The scenario: /empty (a 200 with no body), the two chats, then /big (a
 * 400 with a BIG_BODY-byte body, added by setup); /empty and /big are
 * under an Ollama base URL. */
static char g_scenario[BIG_BODY + 4096];

static const char *scenario_head =
    "{\"routes\":["
    "{\"method\":\"POST\",\"path\":\"/empty/api/chat\",\"responses\":[{\"status\":200,"
    "\"content_type\":\"application/x-ndjson\",\"body\":\"\"}]},"
    "{\"method\":\"POST\",\"path\":\"/api/chat\",\"responses\":[{\"status\":200,"
    "\"content_type\":\"application/x-ndjson\",\"split\":{\"mode\":\"fixed\",\"n\":7},"
    "\"body\":\"{\\\"message\\\":{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"Hel\\\"},\\\"done\\\":false}\\n"
    "{\\\"message\\\":{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"lo.\\\"},\\\"done\\\":false}\\n"
    "{\\\"message\\\":{\\\"role\\\":\\\"assistant\\\",\\\"content\\\":\\\"\\\"},\\\"done\\\":true,"
    "\\\"done_reason\\\":\\\"stop\\\",\\\"eval_count\\\":2}\\n\"}]},"
    "{\"method\":\"POST\",\"path\":\"/v1/chat/completions\",\"responses\":[{\"status\":200,"
    "\"content_type\":\"text/event-stream\",\"split\":{\"mode\":\"bytes\"},"
    "\"body\":\"data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"Hel\\\"}}]}\\n\\n"
    "data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{\\\"content\\\":\\\"lo.\\\"}}]}\\n\\n"
    "data: {\\\"choices\\\":[{\\\"index\\\":0,\\\"delta\\\":{},\\\"finish_reason\\\":\\\"stop\\\"}]}\\n\\n"
    "data: [DONE]\\n\\n\"}]},";

static mock_proc g_mock;

static uint64_t stat_of(int which) {
  rill_alloc_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  assert_int_equal(rill_alloc_get_stats(&st), RILL_OK);
  return which ? st.n_failed : st.bytes_in_use;
}

typedef struct acc {
  char text[64];
  size_t len;
  int n_done, n_error, cancel_at, n_text;
  rill_stream *self;
} acc;

static int on_text(void *u, const char *s, size_t n) {
  acc *a = u;
  assert_true(a->len + n < sizeof a->text);
  memcpy(a->text + a->len, s, n);
  a->len += n;
  a->text[a->len] = '\0';
  a->n_text++;
  if (a->cancel_at && a->n_text == a->cancel_at && a->self)
    assert_int_equal(rill_cancel(a->self), RILL_OK);
  return 0;
}

static int on_done(void *u, const rill_done *d) {
  acc *a = u;
  (void)d;
  a->n_done++;
  return 0;
}

static void on_error(void *u, const rill_error_info *e) {
  acc *a = u;
  assert_true(e->code < 0);
  a->n_error++;
}

static void set_req(rill_chat_request *req, rill_message *msg, int openai,
                    char *url, size_t url_cap) {
  msg->role = RILL_ROLE_USER;
  msg->content = "Hi";
  req->endpoint.provider = openai ? RILL_PROVIDER_OPENAI : RILL_PROVIDER_OLLAMA;
  snprintf(url, url_cap, "%s%s", g_mock.base, openai ? "/v1" : "");
  req->endpoint.base_url = url;
  req->model = "m";
  req->messages = msg;
  req->n_messages = 1;
}

static void set_cb(rill_chat_callbacks *cb, acc *a) {
  memset(cb, 0, sizeof *cb);
  cb->size = sizeof *cb;
  cb->on_text = on_text;
  cb->on_done = on_done;
  cb->on_error = on_error;
  cb->user = a;
}

/* One chat on a fresh client; returns its code (the client's own failure
 * included). */
static int one_chat(int openai, acc *a) {
  rill_client *c = NULL;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb;
  rill_message msg;
  char url[160];
  int rc;
  memset(a, 0, sizeof *a);
  memset(&msg, 0, sizeof msg);
  set_req(&req, &msg, openai, url, sizeof url);
  set_cb(&cb, a);
  rc = rill_client_new(&c, NULL);
  if (rc != RILL_OK) {
    assert_null(c);
    return rc;
  }
  rc = rill_chat(c, &req, &cb);
  rill_client_free(c);
  return rc;
}

static void sweep(int openai, rill_fail_mode mode) {
  acc a;
  uint64_t base, failed;
  int k, rc, n_fail = 0;
  /* Warm up: process-wide state (curl's global init) stays allocated. */
  assert_int_equal(one_chat(openai, &a), RILL_OK);
  base = stat_of(0);
  for (k = 1; k <= MAX_K; k++) {
    failed = stat_of(1);
    rill_alloc_fail_at((uint64_t)k, mode);
    rc = one_chat(openai, &a);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    assert_int_equal(stat_of(0), base);
    if (rc == RILL_OK) {
      /* A success is a whole one: the failure was absorbed, not lost. */
      assert_string_equal(a.text, "Hello.");
      assert_int_equal(a.n_done, 1);
      assert_int_equal(a.n_error, 0);
    } else {
      assert_true(rc < 0);
      assert_int_equal(a.n_done + a.n_error <= 1, 1);
    }
    if (stat_of(1) == failed)
      break; /* no allocation was failed: past the last one */
    n_fail++;
  }
  assert_true(k <= MAX_K);
  assert_int_equal(rc, RILL_OK);
  print_message("%s, %s: %d runs with a failed allocation\n",
                openai ? "OpenAI" : "Ollama",
                mode == RILL_FAIL_ONCE ? "once" : "from then on", n_fail);
  assert_true(n_fail > 20);
}

static void test_nomem_ollama(void **st) {
  (void)st;
  sweep(0, RILL_FAIL_ONCE);
  sweep(0, RILL_FAIL_FROM);
}

static void test_nomem_openai(void **st) {
  (void)st;
  sweep(1, RILL_FAIL_ONCE);
  sweep(1, RILL_FAIL_FROM);
}

/* rill_cancel from on_text: the records already framed are not delivered,
 * the call ends with RILL_E_CANCELLED after on_error, nothing leaks. */
static void test_cancel_in_callback(void **st) {
  int openai;
  (void)st;
  for (openai = 0; openai < 2; openai++) {
    rill_client *c = NULL;
    rill_stream *s = NULL;
    rill_chat_request req = RILL_CHAT_REQUEST_INIT;
    rill_chat_callbacks cb;
    rill_message msg;
    char url[160];
    acc a;
    int guard = 0;
    uint64_t base;
    assert_int_equal(one_chat(openai, &a), RILL_OK);
    base = stat_of(0);
    memset(&a, 0, sizeof a);
    memset(&msg, 0, sizeof msg);
    set_req(&req, &msg, openai, url, sizeof url);
    set_cb(&cb, &a);
    a.cancel_at = 1;
    assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
    assert_int_equal(rill_chat_start(c, &req, &cb, &s), RILL_OK);
    a.self = s;
    while (rill_client_active(c) > 0 && guard++ < 100000)
      assert_true(rill_client_poll(c, 100) >= 0);
    assert_int_equal(rill_stream_status(s), RILL_E_CANCELLED);
    assert_string_equal(a.text, "Hel");
    assert_int_equal(a.n_done, 0);
    assert_int_equal(a.n_error, 1);
    rill_stream_free(s);
    rill_client_free(c);
    assert_int_equal(stat_of(0), base);
  }
}

/* rill_client_free with streams running: each gets on_error with
 * RILL_E_CANCELLED once; the caller's stream outlives the client (its
 * status readable, freed after), the self-freeing one goes with it. */
static void test_free_client_mid_stream(void **st) {
  rill_client *c = NULL;
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  rill_stream *s = NULL;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb1, cb2;
  rill_message msg;
  char url[160];
  acc a1, a2;
  uint64_t base;
  (void)st;
  assert_int_equal(one_chat(1, &a1), RILL_OK);
  base = stat_of(0);
  memset(&a1, 0, sizeof a1);
  memset(&a2, 0, sizeof a2);
  memset(&msg, 0, sizeof msg);
  set_req(&req, &msg, 1, url, sizeof url);
  set_cb(&cb1, &a1);
  set_cb(&cb2, &a2);
  o.max_host_connections = 2;
  o.max_total_connections = 4;
  assert_int_equal(rill_client_new(&c, &o), RILL_OK);
  assert_int_equal(rill_chat_start(c, &req, &cb1, &s), RILL_OK);
  assert_int_equal(rill_chat_start(c, &req, &cb2, NULL), RILL_OK);
  assert_int_equal(rill_client_active(c), 2);
  rill_client_free(c);
  assert_int_equal(a1.n_error, 1);
  assert_int_equal(a2.n_error, 1);
  assert_int_equal(a1.n_done + a2.n_done, 0);
  assert_int_equal(rill_stream_status(s), RILL_E_CANCELLED);
  rill_stream_free(s);
  assert_int_equal(stat_of(0), base);
}

/* Invalid connection limits are refused before anything is allocated. */
static void test_client_opts_invalid(void **st) {
  rill_client *c = NULL;
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  uint64_t base = stat_of(0);
  (void)st;
  o.max_host_connections = -1;
  assert_int_equal(rill_client_new(&c, &o), RILL_E_INVALID);
  assert_null(c);
  o.max_host_connections = 0;
  o.max_total_connections = -1;
  assert_int_equal(rill_client_new(&c, &o), RILL_E_INVALID);
  assert_null(c);
  assert_int_equal(stat_of(0), base);
}

/* A blocking Ollama chat against base URL g_mock.base + prefix. */
static int chat_at(const char *prefix, acc *a, char *errmsg, size_t cap) {
  rill_client *c = NULL;
  rill_stream *s = NULL;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb;
  rill_message msg;
  char url[160];
  int rc, guard = 0;
  memset(a, 0, sizeof *a);
  memset(&msg, 0, sizeof msg);
  set_req(&req, &msg, 0, url, sizeof url);
  snprintf(url, sizeof url, "%s%s", g_mock.base, prefix);
  set_cb(&cb, a);
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  assert_int_equal(rill_chat_start(c, &req, &cb, &s), RILL_OK);
  while (rill_client_active(c) > 0 && guard++ < 100000)
    assert_true(rill_client_poll(c, 100) >= 0);
  rc = rill_stream_status(s);
  snprintf(errmsg, cap, "%s", rill_stream_errmsg(s));
  rill_stream_free(s);
  rill_client_free(c);
  return rc;
}

/* A 200 with no body at all is a truncated stream, not an empty success;
 * a 400 whose body passes the 64 KiB kept is read no further and still
 * reported as the HTTP error, with a bounded message. */
static void test_empty_and_oversized_bodies(void **st) {
  acc a;
  char msg[4096];
  uint64_t base;
  int rc;
  (void)st;
  assert_int_equal(one_chat(0, &a), RILL_OK);
  base = stat_of(0);
  /* The providers' truncated-stream code (RILL__E_TRUNCATED_STREAM) is
   * RILL_E_PROTOCOL today; RELIABILITY.md §3.3-6 asks RILL_E_TRUNCATED. */
  rc = chat_at("/empty", &a, msg, sizeof msg);
  assert_true(rc == RILL_E_PROTOCOL || rc == RILL_E_TRUNCATED);
  assert_int_equal(a.n_error, 1);
  assert_int_equal(a.n_done, 0);
  assert_int_equal(a.len, 0);
  assert_int_equal(chat_at("/big", &a, msg, sizeof msg), RILL_E_HTTP);
  assert_int_equal(a.n_error, 1);
  assert_non_null(strstr(msg, "HTTP 400"));
  assert_non_null(strstr(msg, "xxxx"));
  assert_true(strlen(msg) < 2048);
  assert_int_equal(stat_of(0), base);
}

/* rill_stream_free on a running stream cancels it without any callback;
 * rill_cancel before the first byte ends it with RILL_E_CANCELLED. */
static void test_free_and_cancel_before_answer(void **st) {
  rill_client *c = NULL;
  rill_stream *s = NULL;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb;
  rill_message msg;
  char url[160];
  acc a;
  int guard = 0;
  uint64_t base;
  (void)st;
  assert_int_equal(one_chat(1, &a), RILL_OK);
  base = stat_of(0);
  memset(&a, 0, sizeof a);
  memset(&msg, 0, sizeof msg);
  set_req(&req, &msg, 1, url, sizeof url);
  set_cb(&cb, &a);
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  assert_int_equal(rill_chat_start(c, &req, &cb, &s), RILL_OK);
  assert_int_equal(rill_stream_status(s), 1);
  rill_stream_free(s);
  assert_int_equal(a.n_error + a.n_done + a.n_text, 0);
  assert_int_equal(rill_client_active(c), 0);
  assert_int_equal(rill_chat_start(c, &req, &cb, &s), RILL_OK);
  assert_int_equal(rill_cancel(s), RILL_OK);
  while (rill_client_active(c) > 0 && guard++ < 100000)
    assert_true(rill_client_poll(c, 100) >= 0);
  assert_int_equal(rill_stream_status(s), RILL_E_CANCELLED);
  assert_int_equal(a.n_error, 1);
  assert_int_equal(a.n_text + a.n_done, 0);
  /* Cancelling a finished stream does nothing. */
  assert_int_equal(rill_cancel(s), RILL_OK);
  assert_int_equal(rill_stream_status(s), RILL_E_CANCELLED);
  rill_stream_free(s);
  rill_client_free(c);
  assert_int_equal(stat_of(0), base);
}

/* The documented answers to NULL handles. */
static void test_null_handles(void **st) {
  (void)st;
  assert_int_equal(rill_cancel(NULL), RILL_E_INVALID);
  assert_int_equal(rill_stream_status(NULL), RILL_E_INVALID);
  assert_int_equal(rill_stream_http_status(NULL), 0);
  assert_string_equal(rill_stream_errmsg(NULL), "");
  assert_int_equal(rill_client_active(NULL), 0);
  assert_true(rill_client_poll(NULL, 0) < 0);
  rill_stream_free(NULL);
  rill_client_free(NULL);
}

static int setup(void **st) {
  size_t n;
  (void)st;
  n = (size_t)snprintf(g_scenario, sizeof g_scenario, "%s", scenario_head);
  n += (size_t)snprintf(g_scenario + n, sizeof g_scenario - n,
                        "{\"method\":\"POST\",\"path\":\"/big/api/chat\","
                        "\"responses\":[{\"status\":400,\"content_type\":"
                        "\"text/plain\",\"body\":\"");
  memset(g_scenario + n, 'x', BIG_BODY);
  n += BIG_BODY;
  snprintf(g_scenario + n, sizeof g_scenario - n, "\"}]}]}");
  if (rill_global_init(NULL) != RILL_OK)
    return -1;
  return mock_start(&g_mock, RILL_MOCK_BIN, g_scenario, NULL);
}

static int teardown(void **st) {
  (void)st;
  mock_stop(&g_mock);
  rill_global_cleanup();
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nomem_ollama),
      cmocka_unit_test(test_nomem_openai),
      cmocka_unit_test(test_cancel_in_callback),
      cmocka_unit_test(test_free_client_mid_stream),
      cmocka_unit_test(test_client_opts_invalid),
      cmocka_unit_test(test_empty_and_oversized_bodies),
      cmocka_unit_test(test_free_and_cancel_before_answer),
      cmocka_unit_test(test_null_handles),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
