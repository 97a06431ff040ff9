/*
 * test_cancel_each.c — G12 and the client side of G16, against rill-mock
 * with the recorded provider scenarios (tests/mock/scenarios):
 *  1. for each provider scenario (text, thinking, tool calls), count the K
 *     cancellable callbacks a whole answer makes (on_text, on_thinking,
 *     on_tool_call, on_tool_call_delta); then for every i = 1..K return
 *     non-zero from the i-th: rill_chat returns RILL_E_CANCELLED, on_error
 *     runs once with it, no callback runs after the i-th, the connection
 *     is closed (the next request on the same client arrives on a new
 *     connection, while two whole answers share one), and after
 *     rill_client_free the heap is back where it started. on_done cannot
 *     cancel (the answer is complete): a non-zero return from it still
 *     gives RILL_OK, with no on_error;
 *  2. rill_cancel from a second thread makes a running chat return
 *     RILL_E_CANCELLED;
 *  3. N threads, each with its own client, stream answers at once.
 * A watchdog thread (a bounded count of short sleeps) ends the process
 * with a message if a chat hangs; nothing asserts on time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
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

#ifndef RILL_MOCK_BIN
#error "RILL_MOCK_BIN must name the rill-mock binary"
#endif
#ifndef RILL_SCENARIO_DIR
#error "RILL_SCENARIO_DIR must name tests/mock/scenarios"
#endif

/* ------------------------------------------------------------------------
 * Watchdog: fails the run instead of letting a hung chat block ctest.
 * ------------------------------------------------------------------------ */

static atomic_int g_watch_armed;
static atomic_int g_watch_stop;
static _Atomic(const char *) g_watch_what;

static void *watchdog(void *arg) {
  struct timespec ts = {0, 50 * 1000 * 1000};
  int ticks = 0;
  (void)arg;
  /* 1200 ticks of 50 ms with a chat running: far beyond any chat here. */
  while (!atomic_load(&g_watch_stop)) {
    nanosleep(&ts, NULL);
    if (!atomic_load(&g_watch_armed)) {
      ticks = 0;
      continue;
    }
    if (++ticks > 1200) {
      fprintf(stderr, "watchdog: %s did not return\n",
              atomic_load(&g_watch_what));
      _exit(3);
    }
  }
  return NULL;
}

static void watch(const char *what) {
  atomic_store(&g_watch_what, what);
  atomic_store(&g_watch_armed, 1);
}

static void unwatch(void) {
  atomic_store(&g_watch_armed, 0);
}

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

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

static void start_scenario(mock_proc *m, const char *name) {
  char path[512];
  char *json;
  snprintf(path, sizeof path, "%s/%s", RILL_SCENARIO_DIR, name);
  json = read_file(path);
  if (!json)
    fail_msg("cannot read %s", path);
  assert_int_equal(mock_start(m, RILL_MOCK_BIN, json, NULL), 0);
  free(json);
}

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
  if (strcmp(method, "POST") == 0)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  fclose(f);
  if (rc != CURLE_OK) {
    free(buf);
    fail_msg("control %s %s failed", method, path);
  }
  return buf;
}

/* The connection numbers of the recorded requests, in order. */
static int recorded_conns(const mock_proc *m, long *conn, int cap) {
  char *s = control(m, "GET", "/__mock/requests");
  rill_json_doc *d = NULL;
  int i, n;
  assert_int_equal(rill_json_parse(&d, s, strlen(s), NULL), RILL_OK);
  n = (int)rill_json_count(d, 0);
  for (i = 0; i < n && i < cap; i++) {
    double v = -1;
    assert_int_equal(
        rill_json_number(
            d, rill_json_get(d, rill_json_at(d, 0, (size_t)i), "conn"), &v),
        RILL_OK);
    conn[i] = (long)v;
  }
  rill_json_doc_free(d);
  free(s);
  return n;
}

static void reset_mock(const mock_proc *m) {
  free(control(m, "POST", "/__mock/reset"));
}

static uint64_t in_use(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&s);
  return s.bytes_in_use;
}

/* ------------------------------------------------------------------------
 * Callbacks that count, and cancel at the i-th
 * ------------------------------------------------------------------------ */

typedef struct counter {
  int stop_at;    /* 1-based cancellable callback that returns 1; 0 none */
  int n;          /* cancellable callbacks so far */
  int after_stop; /* callbacks of any kind after the stopping one */
  int n_done;
  int done_rc; /* what on_done returns */
  int n_errors;
  int error_code;
  char msg[512];
} counter;

static int step(counter *k) {
  if (k->stop_at > 0 && k->n >= k->stop_at) {
    k->after_stop++;
    return 1;
  }
  k->n++;
  return k->stop_at > 0 && k->n == k->stop_at;
}

static int c_text(void *u, const char *t, size_t n) {
  (void)t;
  (void)n;
  return step(u);
}

static int c_thinking(void *u, const char *t, size_t n) {
  (void)t;
  (void)n;
  return step(u);
}

static int c_tool(void *u, const rill_tool_call *tc) {
  (void)tc;
  return step(u);
}

static int c_tool_delta(void *u, size_t index, const char *id, const char *name,
                        const char *args, size_t len) {
  (void)index;
  (void)id;
  (void)name;
  (void)args;
  (void)len;
  return step(u);
}

static int c_done(void *u, const rill_done *d) {
  counter *k = u;
  (void)d;
  if (k->stop_at > 0 && k->n >= k->stop_at)
    k->after_stop++;
  k->n_done++;
  return k->done_rc;
}

static void c_error(void *u, const rill_error_info *e) {
  counter *k = u;
  k->n_errors++;
  k->error_code = e->code;
  snprintf(k->msg, sizeof k->msg, "%s", e->message);
}

typedef struct chat_case {
  const char *scenario;
  rill_provider provider;
  const char *base_path;
  const char *model;
} chat_case;

static int run_chat(rill_client *c, const mock_proc *m, const chat_case *cc,
                    counter *k) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = {sizeof cb,    c_text, c_thinking, c_tool,
                            c_tool_delta, c_done, c_error,    k};
  rill_message msg;
  char base[256];
  int rc;
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  snprintf(base, sizeof base, "%s%s", m->base, cc->base_path);
  req.endpoint.provider = cc->provider;
  req.endpoint.base_url = base;
  req.endpoint.api_key = cc->provider == RILL_PROVIDER_OLLAMA ? NULL : "k-test";
  req.model = cc->model;
  req.messages = &msg;
  req.n_messages = 1;
  req.retry.max_retries = -1;
  watch(cc->scenario);
  rc = rill_chat(c, &req, &cb);
  unwatch();
  return rc;
}

static rill_client *client(void) {
  rill_client *c = NULL;
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  return c;
}

/* ------------------------------------------------------------------------
 * 1. Cancel at every callback
 * ------------------------------------------------------------------------ */

static const chat_case k_cases[] = {
    {"ollama-chat.json", RILL_PROVIDER_OLLAMA, "", "llama3.2"},
    {"ollama-thinking.json", RILL_PROVIDER_OLLAMA, "", "qwen3:8b"},
    {"ollama-tool-call.json", RILL_PROVIDER_OLLAMA, "", "llama3.1:8b"},
    {"openai-chat.json", RILL_PROVIDER_OPENAI, "/v1", "gpt-4o-mini"},
    {"openai-tool-call.json", RILL_PROVIDER_OPENAI, "/v1", "gpt-4o-mini"},
    {"gemini-chat.json", RILL_PROVIDER_GEMINI, "/v1beta", "gemini-2.0-flash"},
    {"gemini-chat.json", RILL_PROVIDER_GEMINI, "/v1beta", "gemini-2.5-flash"},
    {"gemini-chat.json", RILL_PROVIDER_GEMINI, "/v1beta", "tools"},
    {"anthropic-chat.json", RILL_PROVIDER_ANTHROPIC, "/v1", "claude"},
    {"anthropic-chat.json", RILL_PROVIDER_ANTHROPIC, "/thinking/v1", "claude"},
    {"anthropic-chat.json", RILL_PROVIDER_ANTHROPIC, "/tools/v1", "claude"},
};

static void cancel_each(const chat_case *cc, int *k_out) {
  mock_proc m;
  rill_client *c;
  counter k;
  long conn[4];
  int K, i, rc;
  uint64_t base;
  start_scenario(&m, cc->scenario);

  /* Count K; two whole answers on one client share a connection (so a new
   * connection after a cancel means the old one was closed). */
  base = in_use();
  c = client();
  memset(&k, 0, sizeof k);
  rc = run_chat(c, &m, cc, &k);
  if (rc != RILL_OK)
    fail_msg("%s %s: %s: %s", cc->scenario, cc->base_path, rill_error_name(rc),
             k.msg);
  K = k.n;
  assert_true(K > 0);
  assert_int_equal(k.n_done, 1);
  memset(&k, 0, sizeof k);
  assert_int_equal(run_chat(c, &m, cc, &k), RILL_OK);
  assert_int_equal(k.n, K);
  assert_int_equal(recorded_conns(&m, conn, 4), 2);
  assert_int_equal(conn[0], conn[1]);

  /* on_done returning non-zero: the answer is complete, nothing cancels. */
  memset(&k, 0, sizeof k);
  k.done_rc = 1;
  assert_int_equal(run_chat(c, &m, cc, &k), RILL_OK);
  assert_int_equal(k.n_done, 1);
  assert_int_equal(k.n_errors, 0);
  rill_client_free(c);
  assert_int_equal(in_use(), base);

  for (i = 1; i <= K; i++) {
    reset_mock(&m);
    base = in_use();
    c = client();
    memset(&k, 0, sizeof k);
    k.stop_at = i;
    rc = run_chat(c, &m, cc, &k);
    if (rc != RILL_E_CANCELLED)
      fail_msg("%s %s, cancel at %d of %d: %s: %s", cc->scenario, cc->base_path,
               i, K, rill_error_name(rc), k.msg);
    assert_int_equal(k.n, i);
    assert_int_equal(k.after_stop, 0);
    assert_int_equal(k.n_done, 0);
    assert_int_equal(k.n_errors, 1);
    assert_int_equal(k.error_code, RILL_E_CANCELLED);
    /* The next request on this client needs a new connection. */
    memset(&k, 0, sizeof k);
    assert_int_equal(run_chat(c, &m, cc, &k), RILL_OK);
    assert_int_equal(k.n, K);
    assert_int_equal(recorded_conns(&m, conn, 4), 2);
    if (conn[0] == conn[1])
      fail_msg("%s %s, cancel at %d: the connection was reused", cc->scenario,
               cc->base_path, i);
    rill_client_free(c);
    assert_int_equal(in_use(), base);
  }
  mock_stop(&m);
  *k_out = K;
}

static void test_cancel_each(void **st) {
  size_t i;
  int total = 0;
  (void)st;
  for (i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
    int K = 0;
    cancel_each(&k_cases[i], &K);
    print_message("%-22s %-13s %-17s K = %2d, cancelled at each\n",
                  k_cases[i].scenario, k_cases[i].base_path, k_cases[i].model,
                  K);
    total += K;
  }
  print_message("%d cancelled runs in all\n", total);
}

/* ------------------------------------------------------------------------
 * 2. rill_cancel from another thread
 * ------------------------------------------------------------------------ */

static const char *k_slow =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"*\",\"responses\":[{"
    "\"content_type\":\"text/event-stream\",\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":2000},\"split\":{\"mode\":\"records\"},"
    "\"delay_ms\":5}]}]}";

typedef struct slow_state {
  _Atomic(rill_stream *) stream;
  atomic_int n_text;
  atomic_int cancelled;
} slow_state;

static int slow_text(void *u, const char *t, size_t n) {
  slow_state *ss = u;
  (void)t;
  (void)n;
  atomic_fetch_add(&ss->n_text, 1);
  return 0;
}

static int slow_done(void *u, const rill_done *d) {
  (void)u;
  (void)d;
  return 0;
}

static void slow_error(void *u, const rill_error_info *e) {
  slow_state *ss = u;
  if (e->code == RILL_E_CANCELLED)
    atomic_store(&ss->cancelled, 1);
}

static void *canceller(void *arg) {
  slow_state *ss = arg;
  struct timespec ts = {0, 2 * 1000 * 1000};
  int i;
  /* Wait (bounded) until text flows, then cancel. */
  for (i = 0; i < 5000 && atomic_load(&ss->n_text) < 3; i++)
    nanosleep(&ts, NULL);
  rill_cancel(atomic_load(&ss->stream));
  return NULL;
}

static void test_cancel_from_thread(void **st) {
  mock_proc m;
  rill_client *c = client();
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  slow_state ss;
  rill_chat_callbacks cb = {sizeof cb, slow_text, NULL,       NULL,
                            NULL,      slow_done, slow_error, &ss};
  rill_message msg;
  rill_stream *s = NULL;
  pthread_t th;
  char base[256];
  int guard, n;
  (void)st;
  assert_int_equal(mock_start(&m, RILL_MOCK_BIN, k_slow, NULL), 0);
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  snprintf(base, sizeof base, "%s/v1", m.base);
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  req.endpoint.base_url = base;
  req.model = "m";
  req.messages = &msg;
  req.n_messages = 1;
  atomic_init(&ss.stream, NULL);
  atomic_init(&ss.n_text, 0);
  atomic_init(&ss.cancelled, 0);
  assert_int_equal(rill_chat_start(c, &req, &cb, &s), RILL_OK);
  atomic_store(&ss.stream, s);
  assert_int_equal(pthread_create(&th, NULL, canceller, &ss), 0);
  watch("a chat cancelled from another thread");
  for (guard = 0; rill_stream_status(s) == 1 && guard < 1000000; guard++)
    assert_true(rill_client_poll(c, 1000) >= 0);
  unwatch();
  pthread_join(th, NULL);
  assert_int_equal(rill_stream_status(s), RILL_E_CANCELLED);
  assert_int_equal(atomic_load(&ss.cancelled), 1);
  n = atomic_load(&ss.n_text);
  /* Cancelled while running: some text, far from all 2000 words. */
  assert_true(n >= 3 && n < 2000);
  rill_stream_free(s);
  rill_client_free(c);
  mock_stop(&m);
}

/* ------------------------------------------------------------------------
 * 3. One client per thread
 * ------------------------------------------------------------------------ */

enum { N_THREADS = 4, N_CHATS = 5, N_WORDS = 300 };

static const char *k_words =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"*\",\"responses\":[{"
    "\"content_type\":\"text/event-stream\",\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":300},\"split\":{\"mode\":\"random\",\"n\":40}}]}"
    "]}";

typedef struct worker {
  const mock_proc *m;
  int ok; /* chats that returned RILL_OK with every word */
  int texts;
  char why[256];
} worker;

static int w_text(void *u, const char *t, size_t n) {
  (void)t;
  (void)n;
  ((worker *)u)->texts++;
  return 0;
}

static void *work(void *arg) {
  worker *w = arg;
  rill_client *c = NULL;
  int i, rc;
  char base[256];
  if (rill_client_new(&c, NULL) != RILL_OK) {
    snprintf(w->why, sizeof w->why, "rill_client_new failed");
    return NULL;
  }
  snprintf(base, sizeof base, "%s/v1", w->m->base);
  for (i = 0; i < N_CHATS; i++) {
    rill_chat_request req = RILL_CHAT_REQUEST_INIT;
    rill_chat_callbacks cb = {sizeof cb, w_text, NULL, NULL,
                              NULL,      NULL,   NULL, w};
    rill_message msg = {RILL_ROLE_USER, "hi", NULL, NULL, 0,
                        NULL,           0,    NULL, NULL};
    req.endpoint.provider = RILL_PROVIDER_OPENAI;
    req.endpoint.base_url = base;
    req.model = "m";
    req.messages = &msg;
    req.n_messages = 1;
    w->texts = 0;
    rc = rill_chat(c, &req, &cb);
    if (rc != RILL_OK || w->texts != N_WORDS) {
      snprintf(w->why, sizeof w->why, "chat %d: %s, %d words", i,
               rill_error_name(rc), w->texts);
      break;
    }
    w->ok++;
  }
  rill_client_free(c);
  return NULL;
}

static void test_client_per_thread(void **st) {
  mock_proc m;
  pthread_t th[N_THREADS];
  worker w[N_THREADS];
  uint64_t base;
  int i;
  (void)st;
  assert_int_equal(mock_start(&m, RILL_MOCK_BIN, k_words, NULL), 0);
  base = in_use();
  memset(w, 0, sizeof w);
  watch("the client-per-thread chats");
  for (i = 0; i < N_THREADS; i++) {
    w[i].m = &m;
    assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
  }
  for (i = 0; i < N_THREADS; i++)
    pthread_join(th[i], NULL);
  unwatch();
  for (i = 0; i < N_THREADS; i++)
    if (w[i].ok != N_CHATS)
      fail_msg("thread %d: %s", i, w[i].why);
  assert_int_equal(in_use(), base);
  mock_stop(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cancel_each),
      cmocka_unit_test(test_cancel_from_thread),
      cmocka_unit_test(test_client_per_thread),
  };
  pthread_t wd;
  int rc;
  signal(SIGPIPE, SIG_IGN);
  if (rill_global_init(NULL) != RILL_OK)
    return 1;
  atomic_init(&g_watch_armed, 0);
  atomic_init(&g_watch_stop, 0);
  atomic_init(&g_watch_what, "");
  if (pthread_create(&wd, NULL, watchdog, NULL) != 0)
    return 1;
  rc = cmocka_run_group_tests(tests, NULL, NULL);
  atomic_store(&g_watch_stop, 1);
  pthread_join(wd, NULL);
  rill_global_cleanup();
  return rc;
}
