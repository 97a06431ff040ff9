/*
 * test_gemini_tls.c — the Gemini provider end to end against rill-mock over
 * TLS (certificates from rill-mock-certs, scenario
 * tests/mock/scenarios/gemini-chat.json) and over plain HTTP
 * (gemini-errors.json):
 *  1. a server certificate from an unknown CA is refused by default and a
 *     wrong host name is refused (RILL_E_TLS, and the mock saw no request,
 *     so no key left the client); the test CA given as
 *     rill_client_opts.ca_file is accepted;
 *  2. streaming chats delivered in records, 1-byte and random splits give
 *     the exact text; thinking, parallel function calls, a whole answer,
 *     the model list and embeddings; a 429 with Retry-After, then success;
 *     the key travels in x-goog-api-key, never in the URL;
 *  3. memory: 20 and then 10,000 sequential streaming requests over TLS on
 *     one client: the heap (rill_alloc_get_stats: rill's and curl's
 *     allocations; OpenSSL allocates outside the hooks) is the same after
 *     every request, and RSS after the first 100 requests grows by less
 *     than 256 KiB over the rest. The figures are printed
 *     (docs/PERFORMANCE.md, "Memory over TLS (issue 4)").
 *  4. errors (plain HTTP): blocked prompt, error mid-stream, truncation, a
 *     cut connection, 400 and 503 bodies;
 *  5. Anthropic over TLS (anthropic-chat.json): every split gives over TLS
 *     exactly the answer it gives over plain HTTP.
 * Only 127.0.0.1; nothing asserts on time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "mock_proc.h"
#include "rill/rill.h"

/* AddressSanitizer keeps freed memory in quarantine (hundreds of MB), so
 * RSS says nothing about rill there: the RSS bound is checked in plain
 * builds only (the heap bound always). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define KEY "AIzaSyTLS-test-key-0123456789abcdefghij"
#define TEXT                                                                  \
  "Rust gives you <speed> & safety: é🦀\nDone."

static char g_dir[] = "/tmp/rill-gemini-certs-XXXXXX";
static char g_ca[300];
static char *g_chat_scenario;
static mock_proc g_tls; /* server.pem, gemini-chat.json */

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  if (buf)
    buf[n] = '\0';
  fclose(f);
  return buf;
}

static char *scenario(const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", RILL_SCENARIO_DIR, name);
  return read_file(path);
}

static int start_tls(mock_proc *m, const char *cert_name, const char *scen) {
  char cert[300], key[300];
  const char *args[5];
  snprintf(cert, sizeof cert, "%s/%s.pem", g_dir, cert_name);
  snprintf(key, sizeof key, "%s/%s.key", g_dir, cert_name);
  args[0] = "--tls-cert";
  args[1] = cert;
  args[2] = "--tls-key";
  args[3] = key;
  args[4] = NULL;
  return mock_start(m, RILL_MOCK_BIN, scen, args);
}

static int setup(void **state) {
  char cmd[512];
  (void)state;
  if (rill_global_init(NULL) != RILL_OK || !mkdtemp(g_dir))
    return -1;
  snprintf(cmd, sizeof cmd, "'%s' '%s' >/dev/null", RILL_MOCK_CERTS_BIN, g_dir);
  if (system(cmd) != 0)
    return -1;
  snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_dir);
  g_chat_scenario = scenario("gemini-chat.json");
  if (!g_chat_scenario)
    return -1;
  return start_tls(&g_tls, "server", g_chat_scenario);
}

static int teardown(void **state) {
  char cmd[512];
  (void)state;
  mock_stop(&g_tls);
  free(g_chat_scenario);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0)
    return -1;
  rill_global_cleanup();
  return 0;
}

/* A control endpoint of the mock, TLS verification off (test only). */
static char *control(const mock_proc *m, const char *method, const char *path) {
  char url[512];
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  CURL *h = curl_easy_init();
  CURLcode rc;
  snprintf(url, sizeof url, "%s%s", m->base, path);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  if (strcmp(method, "POST") == 0)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  fclose(f);
  if (rc != CURLE_OK) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void reset_mock(const mock_proc *m) {
  char *s = control(m, "POST", "/__mock/reset");
  assert_non_null(s);
  free(s);
}

static long stat_of(const mock_proc *m, const char *key) {
  char *s = control(m, "GET", "/__mock/stats");
  const char *p;
  long v = -1;
  assert_non_null(s);
  p = strstr(s, key);
  if (p)
    v = strtol(p + strlen(key), NULL, 10);
  free(s);
  return v;
}

static rill_client *client(const char *ca) {
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  rill_client *c = NULL;
  o.ca_file = ca;
  assert_int_equal(rill_client_new(&c, &o), RILL_OK);
  return c;
}

static void make_req(rill_chat_request *req, rill_message *msg,
                     const mock_proc *m, const char *model, char *url,
                     size_t cap) {
  memset(req, 0, sizeof *req);
  req->size = sizeof *req;
  req->endpoint.provider = RILL_PROVIDER_GEMINI;
  snprintf(url, cap, "%s/v1beta", m->base);
  req->endpoint.base_url = url;
  req->endpoint.api_key = KEY;
  req->model = model;
  memset(msg, 0, sizeof *msg);
  msg->role = RILL_ROLE_USER;
  msg->content = "Tell me about Rust.";
  req->messages = msg;
  req->n_messages = 1;
  req->retry.base_delay_ms = 10;
}

/* Run one chat into a fresh result; returns the code. */
static int chat(rill_client *c, const mock_proc *m, const char *model,
                int no_stream, rill_chat_result **out) {
  rill_chat_request req;
  rill_message msg;
  rill_chat_callbacks cb;
  char url[256];
  int rc;
  make_req(&req, &msg, m, model, url, sizeof url);
  req.no_stream = no_stream;
  assert_int_equal(rill_chat_result_new(out), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(*out, NULL, &cb), RILL_OK);
  rc = rill_chat(c, &req, &cb);
  return rc;
}

/* ---- 1. certificates ---------------------------------------------------- */

static void test_tls_verification(void **state) {
  rill_chat_result *r;
  mock_proc wrong;
  rill_client *c;
  (void)state;
  assert_int_equal(strncmp(g_tls.base, "https://", 8), 0);
  reset_mock(&g_tls);
  /* Default trust store: the test CA is unknown. */
  c = client(NULL);
  assert_int_equal(chat(c, &g_tls, "gemini-2.0-flash", 0, &r), RILL_E_TLS);
  assert_int_equal(rill_chat_result_error(r)->code, RILL_E_TLS);
  assert_null(strstr(rill_chat_result_error(r)->message, "AIza"));
  rill_chat_result_free(r);
  rill_client_free(c);
  assert_int_equal(stat_of(&g_tls, "\"requests\":"), 0);
  /* The right CA but a certificate for another host name. */
  assert_int_equal(start_tls(&wrong, "wrong-host", g_chat_scenario), 0);
  c = client(g_ca);
  assert_int_equal(chat(c, &wrong, "gemini-2.0-flash", 0, &r), RILL_E_TLS);
  rill_chat_result_free(r);
  rill_client_free(c);
  assert_int_equal(stat_of(&wrong, "\"requests\":"), 0);
  mock_stop(&wrong);
  /* The test CA as an option: accepted. */
  c = client(g_ca);
  assert_int_equal(chat(c, &g_tls, "gemini-2.0-flash", 0, &r), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, NULL), TEXT);
  rill_chat_result_free(r);
  rill_client_free(c);
  assert_int_equal(stat_of(&g_tls, "\"requests\":"), 1);
}

/* ---- 2. chats over TLS -------------------------------------------------- */

static void test_chat_splits(void **state) {
  static const char *const models[] = {"gemini-2.0-flash", "bytes", "random"};
  rill_client *c = client(g_ca);
  rill_chat_result *r;
  const rill_done *d;
  char *log;
  size_t i;
  (void)state;
  reset_mock(&g_tls);
  for (i = 0; i < 3; i++) {
    assert_int_equal(chat(c, &g_tls, models[i], 0, &r), RILL_OK);
    assert_string_equal(rill_chat_result_text(r, NULL), TEXT);
    d = rill_chat_result_done(r);
    assert_non_null(d);
    assert_int_equal(d->finish, RILL_FINISH_STOP);
    assert_string_equal(d->raw_finish, "STOP");
    assert_int_equal(d->usage.input_tokens, 11);
    assert_int_equal(d->usage.output_tokens, 11);
    assert_string_equal(d->model, "gemini-2.0-flash");
    rill_chat_result_free(r);
  }
  /* The key went in the header only. */
  log = control(&g_tls, "GET", "/__mock/requests");
  assert_non_null(log);
  assert_non_null(strstr(log, "\"x-goog-api-key\":\"" KEY "\""));
  assert_non_null(strstr(log, "\"query\":\"alt=sse\""));
  assert_non_null(strstr(log, "\"path\":\"/v1beta/models/bytes:"
                              "streamGenerateContent\""));
  assert_null(strstr(log, "key="));
  assert_null(strstr(log, "authorization"));
  free(log);
  /* Thinking in random splits; parallel calls; a whole answer. */
  assert_int_equal(chat(c, &g_tls, "gemini-2.5-flash", 0, &r), RILL_OK);
  assert_string_equal(rill_chat_result_thinking(r, NULL),
                      "**Weighing the question**\n\nThe user asks for a "
                      "number.");
  assert_string_equal(rill_chat_result_text(r, NULL), "42");
  assert_int_equal(rill_chat_result_done(r)->usage.thinking_tokens, 171);
  rill_chat_result_free(r);
  assert_int_equal(chat(c, &g_tls, "tools", 0, &r), RILL_OK);
  assert_int_equal(rill_chat_result_n_tool_calls(r), 3);
  assert_string_equal(rill_chat_result_tool_call(r, 1)->name, "get_time");
  assert_string_equal(rill_chat_result_tool_call(r, 1)->id, "call-2");
  assert_string_equal(rill_chat_result_tool_call(r, 0)->arguments,
                      "{\"city\":\"Paris\"}");
  assert_int_equal(rill_chat_result_done(r)->finish, RILL_FINISH_TOOL_CALLS);
  rill_chat_result_free(r);
  assert_int_equal(chat(c, &g_tls, "gemini-2.0-flash", 1, &r), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, NULL), "Sure > here.");
  assert_int_equal(rill_chat_result_n_tool_calls(r), 1);
  rill_chat_result_free(r);
  rill_client_free(c);
}

static void test_retry_after(void **state) {
  rill_client *c = client(g_ca);
  rill_chat_result *r;
  (void)state;
  reset_mock(&g_tls);
  assert_int_equal(chat(c, &g_tls, "busy", 0, &r), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, NULL), TEXT);
  rill_chat_result_free(r);
  assert_int_equal(stat_of(&g_tls, "\"requests\":"), 2);
  rill_client_free(c);
}

static int on_model(void *u, const rill_model_info *m) {
  char *acc = u;
  strncat(acc, m->name, 255 - strlen(acc));
  strncat(acc, ";", 255 - strlen(acc));
  return 0;
}

static void test_models_embeddings(void **state) {
  rill_client *c = client(g_ca);
  rill_endpoint ep;
  rill_embed_request er = RILL_EMBED_REQUEST_INIT;
  rill_embeddings *e = NULL;
  const char *in[] = {"a", "b"};
  char names[256] = "", url[256], err[256];
  char *log;
  (void)state;
  memset(&ep, 0, sizeof ep);
  ep.provider = RILL_PROVIDER_GEMINI;
  snprintf(url, sizeof url, "%s/v1beta", g_tls.base);
  ep.base_url = url;
  ep.api_key = KEY;
  assert_int_equal(rill_models(c, &ep, NULL, on_model, names, err, sizeof err),
                   RILL_OK);
  assert_string_equal(names, "models/gemini-2.0-flash;models/gemini-2.5-flash;"
                             "models/gemini-embedding-001;");
  er.endpoint = ep;
  er.model = "gemini-embedding-001";
  er.inputs = in;
  er.n_inputs = 1;
  er.dimensions = 3;
  assert_int_equal(rill_embed_remote(c, &er, &e, err, sizeof err), RILL_OK);
  assert_true(e->n == 1 && e->dims == 3);
  rill_embeddings_free(e);
  er.n_inputs = 2;
  assert_int_equal(rill_embed_remote(c, &er, &e, err, sizeof err), RILL_OK);
  assert_true(e->n == 2 && e->dims == 2 && e->data[2] == 1.0f);
  rill_embeddings_free(e);
  log = control(&g_tls, "GET", "/__mock/requests");
  assert_non_null(strstr(log, "\"query\":\"pageSize=1000\""));
  assert_non_null(strstr(log, "outputDimensionality"));
  assert_null(strstr(log, "key="));
  free(log);
  rill_client_free(c);
}

/* ---- 3. memory over TLS ------------------------------------------------- */

typedef struct counter {
  size_t text;
  int done;
} counter;

static int count_text(void *u, const char *s, size_t n) {
  (void)s;
  ((counter *)u)->text += n;
  return 0;
}

static int count_done(void *u, const rill_done *d) {
  ((counter *)u)->done = d->finish == RILL_FINISH_STOP;
  return 0;
}

static long rss_kib(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return -1;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
    resident = -1;
  fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint64_t heap(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&s);
  return s.bytes_in_use;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* n sequential streaming requests on c; the heap after each one must equal
 * *base, which is set after the second request when it is still 0. */
static void sequential(rill_client *c, int n, uint64_t *base, long *rss100,
                       uint64_t *heap100) {
  rill_chat_request req;
  rill_message msg;
  rill_chat_callbacks cb;
  counter k;
  char url[256];
  int i;
  make_req(&req, &msg, &g_tls, "gemini-2.0-flash", url, sizeof url);
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = count_text;
  cb.on_done = count_done;
  cb.user = &k;
  for (i = 0; i < n; i++) {
    uint64_t h;
    memset(&k, 0, sizeof k);
    assert_int_equal(rill_chat(c, &req, &cb), RILL_OK);
    assert_int_equal(k.text, sizeof TEXT - 1);
    assert_true(k.done);
    h = heap();
    /* The first request warms the client's buffer pool and curl's
     * connection cache (the kept-alive TLS connection). It also leaves a
     * few bytes more (10 B in our runs) than every later request: state
     * of the connection's first transfer that the second one replaces.
     * So the baseline is the heap after the second request, and from then
     * on every request must leave the heap exactly where it found it. */
    if (*base == 0) {
      if (i == 1)
        *base = h;
    } else if (h != *base) {
      print_error("request %d: heap %llu B, baseline %llu B\n", i,
                  (unsigned long long)h, (unsigned long long)*base);
      fail();
    }
    if (rss100 && i == 99) {
      *rss100 = rss_kib();
      *heap100 = h;
    }
  }
}

static void test_memory_over_tls(void **state) {
  rill_client *c;
  uint64_t before, base = 0, heap100 = 0;
  long rss_start, rss100 = 0, rss_end, conns;
  double t0, t1;
  (void)state;
  reset_mock(&g_tls);
  before = heap();
  rss_start = rss_kib();
  c = client(g_ca);
  sequential(c, 20, &base, NULL, NULL);
  printf("TLS, 20 sequential Gemini streams: heap %llu B above the "
         "process baseline after each request from the 2nd on (client pool "
         "+ curl's connection cache)\n",
         (unsigned long long)(base - before));
  t0 = now_s();
  sequential(c, 10000, &base, &rss100, &heap100);
  t1 = now_s();
  rss_end = rss_kib();
  conns = stat_of(&g_tls, "\"connections\":");
  printf("TLS, 10000 sequential Gemini streams on one client: %.1f s "
         "(%.0f requests/s), %ld connection(s) accepted by the mock (one is "
         "this stats query's); heap "
         "after each request %llu B (0 B growth per request); RSS at start "
         "%ld KiB, after 100 requests %ld KiB, after 10000 %ld KiB (growth "
         "%ld KiB)\n",
         t1 - t0, 10000.0 / (t1 - t0), conns,
         (unsigned long long)(base - before), rss_start, rss100, rss_end,
         rss_end - rss100);
  assert_int_equal(heap100, base);
  if (!UNDER_ASAN)
    assert_true(rss_end - rss100 < 256);
  /* Keep-alive: one connection carries all the requests; the mock also
   * counts the connection of the stats query itself (hence 2). */
  assert_true(conns >= 1 && conns <= 3);
  rill_client_free(c);
  assert_int_equal(heap(), before);
}

/* ---- 4. errors (plain HTTP) --------------------------------------------- */

static void expect_error(rill_client *c, const mock_proc *m, const char *model,
                         int code, long status, const char *msg_part) {
  rill_chat_result *r;
  const rill_error_info *e;
  assert_int_equal(chat(c, m, model, 0, &r), code);
  e = rill_chat_result_error(r);
  assert_int_equal(e->code, code);
  if (status >= 0)
    assert_int_equal(e->http_status, status);
  if (!strstr(e->message, msg_part)) {
    print_error("%s: message \"%s\" lacks \"%s\"\n", model, e->message,
                msg_part);
    fail();
  }
  assert_null(strstr(e->message, "AIza"));
  rill_chat_result_free(r);
}

static void test_errors(void **state) {
  mock_proc m;
  char *s = scenario("gemini-errors.json");
  rill_client *c;
  (void)state;
  assert_non_null(s);
  assert_int_equal(mock_start(&m, RILL_MOCK_BIN, s, NULL), 0);
  free(s);
  c = client(NULL);
  expect_error(c, &m, "blocked", RILL_E_INVALID, 200,
               "the prompt was blocked (blockReason SAFETY)");
  expect_error(c, &m, "midstream", RILL_E_UNAVAILABLE, 200,
               "The model is overloaded. Please try again later.");
  expect_error(c, &m, "truncated", RILL_E_TRUNCATED, -1,
               "truncated stream: the answer ended without a finishReason");
  /* A connection closed mid-record: the transport's own code. */
  expect_error(c, &m, "cut", RILL_E_TRUNCATED, -1, "");
  expect_error(c, &m, "badkey", RILL_E_HTTP, 400,
               "API key not valid. Please pass a valid API key. "
               "(INVALID_ARGUMENT)");
  expect_error(c, &m, "overloaded", RILL_E_UNAVAILABLE, 503,
               "The model is overloaded. Please try again later. "
               "(UNAVAILABLE)");
  rill_client_free(c);
  mock_stop(&m);
}

/* Anthropic over TLS: each split of the scenario gives, over TLS, exactly
 * the answer the same scenario gives over plain HTTP. */
static void anthropic_text(rill_client *c, const mock_proc *m,
                           const char *prefix, char *out, size_t cap) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg;
  rill_chat_result *r;
  rill_chat_callbacks cb;
  char url[300];
  const char *text;
  size_t len;
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  snprintf(url, sizeof url, "%s%s/v1", m->base, prefix);
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.endpoint.base_url = url;
  req.endpoint.api_key = "sk-ant-test-key-over-tls";
  req.model = "claude-sonnet-4-20250514";
  req.messages = &msg;
  req.n_messages = 1;
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &cb), RILL_OK);
  assert_int_equal(rill_chat(c, &req, &cb), RILL_OK);
  assert_int_equal(rill_chat_result_done(r)->finish, RILL_FINISH_STOP);
  text = rill_chat_result_text(r, &len);
  assert_true(len > 0 && len < cap);
  memcpy(out, text, len + 1);
  rill_chat_result_free(r);
}

static void test_anthropic_over_tls(void **state) {
  static const char *const prefixes[] = {"", "/bytes", "/random"};
  char *scen = scenario("anthropic-chat.json");
  mock_proc tls, plain;
  rill_client *c_tls, *c_plain;
  char a[4096], b[4096];
  size_t i;
  (void)state;
  assert_non_null(scen);
  assert_int_equal(start_tls(&tls, "server", scen), 0);
  assert_int_equal(mock_start(&plain, RILL_MOCK_BIN, scen, NULL), 0);
  assert_non_null(strstr(tls.base, "https://"));
  c_tls = client(g_ca);
  c_plain = client(NULL);
  for (i = 0; i < 3; i++) {
    anthropic_text(c_tls, &tls, prefixes[i], a, sizeof a);
    anthropic_text(c_plain, &plain, prefixes[i], b, sizeof b);
    assert_string_equal(a, b);
  }
  rill_client_free(c_tls);
  rill_client_free(c_plain);
  mock_stop(&tls);
  mock_stop(&plain);
  free(scen);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_tls_verification),
      cmocka_unit_test(test_chat_splits),
      cmocka_unit_test(test_retry_after),
      cmocka_unit_test(test_models_embeddings),
      cmocka_unit_test(test_memory_over_tls),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_anthropic_over_tls),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
