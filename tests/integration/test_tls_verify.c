/*
 * test_tls_verify.c — G10: TLS verification is on by default. One rill-mock
 * per certificate rill-mock-certs writes (expired, wrong host name,
 * self-signed, issued by a CA the client was not given); the client trusts
 * the test CA (ca_file), so only the certificate's own fault can fail it.
 * Each chat must fail with RILL_E_TLS, and the mock must have recorded no
 * HTTP request (so no key left the client) while it did see the
 * connection. The good certificate passes (the set-up works), and turning
 * verification off needs tls_insecure_skip_verify and logs a warning.
 * Nothing asserts on time.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "mock_proc.h"
#include "rill/rill.h"

#ifndef RILL_MOCK_BIN
#error "RILL_MOCK_BIN must name the rill-mock binary"
#endif
#ifndef RILL_MOCK_CERTS_BIN
#error "RILL_MOCK_CERTS_BIN must name the rill-mock-certs binary"
#endif

#define KEY "sk-rillTLS0123456789abcdefXYZ"

static const char *k_scenario =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"*\",\"responses\":[{"
    "\"content_type\":\"text/event-stream\",\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":5}}]}]}";

static char g_dir[] = "/tmp/rill-tls-verify-XXXXXX";
static char g_ca[300];

static char *control(const mock_proc *m, const char *path) {
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
  rc = curl_easy_perform(h);
  curl_easy_cleanup(h);
  fclose(f);
  if (rc != CURLE_OK) {
    free(buf);
    fail_msg("control %s failed", path);
  }
  return buf;
}

static long stat_of(const mock_proc *m, const char *key) {
  char *s = control(m, "/__mock/stats");
  const char *p = strstr(s, key);
  long v = p ? strtol(p + strlen(key), NULL, 10) : -1;
  free(s);
  return v;
}

static void start_tls_mock(mock_proc *m, const char *name) {
  char cert[320], key[320];
  const char *args[5];
  snprintf(cert, sizeof cert, "%s/%s.pem", g_dir, name);
  snprintf(key, sizeof key, "%s/%s.key", g_dir, name);
  args[0] = "--tls-cert";
  args[1] = cert;
  args[2] = "--tls-key";
  args[3] = key;
  args[4] = NULL;
  assert_int_equal(mock_start(m, RILL_MOCK_BIN, k_scenario, args), 0);
  assert_int_equal(strncmp(m->base, "https://", 8), 0);
}

typedef struct outcome {
  int code;
  int n_text;
  char msg[2048];
} outcome;

static int on_text(void *u, const char *t, size_t n) {
  (void)t;
  (void)n;
  ((outcome *)u)->n_text++;
  return 0;
}

static void on_error(void *u, const rill_error_info *e) {
  snprintf(((outcome *)u)->msg, sizeof((outcome *)u)->msg, "%s", e->message);
}

static void chat(const mock_proc *m, const rill_client_opts *co, outcome *o) {
  rill_client *c = NULL;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = {sizeof cb, on_text, NULL,     NULL,
                            NULL,      NULL,    on_error, o};
  rill_message msg;
  char base[256];
  memset(o, 0, sizeof *o);
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  snprintf(base, sizeof base, "%s/v1", m->base);
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  req.endpoint.base_url = base;
  req.endpoint.api_key = KEY;
  req.model = "m";
  req.messages = &msg;
  req.n_messages = 1;
  req.retry.max_retries = -1;
  assert_int_equal(rill_client_new(&c, co), RILL_OK);
  o->code = rill_chat(c, &req, &cb);
  rill_client_free(c);
}

static void test_bad_certificates(void **st) {
  static const char *const bad[] = {"expired", "wrong-host", "self-signed",
                                    "unknown-ca"};
  rill_client_opts co = RILL_CLIENT_OPTS_INIT;
  size_t i;
  (void)st;
  co.ca_file = g_ca;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    mock_proc m;
    outcome o;
    start_tls_mock(&m, bad[i]);
    chat(&m, &co, &o);
    if (o.code != RILL_E_TLS)
      fail_msg("%s: %s: %s", bad[i], rill_error_name(o.code), o.msg);
    assert_int_equal(o.n_text, 0);
    assert_null(strstr(o.msg, KEY));
    /* The client did connect (the handshake failed there), and no HTTP
     * request, so no header with the key, arrived. */
    assert_true(stat_of(&m, "\"connections\":") >= 2);
    assert_int_equal(stat_of(&m, "\"requests\":"), 0);
    print_message("%s: RILL_E_TLS: %s\n", bad[i], o.msg);
    mock_stop(&m);
  }
}

static int g_warnings;
static void log_hook(void *user, rill_log_level level, const char *msg) {
  (void)user;
  if (level == RILL_LOG_WARN && strstr(msg, "tls_insecure_skip_verify"))
    g_warnings++;
}

static void test_good_and_insecure(void **st) {
  rill_client_opts co = RILL_CLIENT_OPTS_INIT;
  mock_proc m;
  outcome o;
  (void)st;
  /* The server certificate from the trusted CA: accepted. */
  start_tls_mock(&m, "server");
  co.ca_file = g_ca;
  chat(&m, &co, &o);
  if (o.code != RILL_OK)
    fail_msg("server.pem: %s: %s", rill_error_name(o.code), o.msg);
  assert_true(o.n_text > 0);
  assert_int_equal(stat_of(&m, "\"requests\":"), 1);
  mock_stop(&m);

  /* The self-signed one is accepted only with verification off, which
   * logs a warning for the client. */
  start_tls_mock(&m, "self-signed");
  co.ca_file = NULL;
  g_warnings = 0;
  rill_log_set(log_hook, NULL, RILL_LOG_WARN);
  chat(&m, &co, &o);
  assert_int_equal(o.code, RILL_E_TLS);
  assert_int_equal(g_warnings, 0);
  co.tls_insecure_skip_verify = 1;
  chat(&m, &co, &o);
  rill_log_set(NULL, NULL, RILL_LOG_WARN);
  if (o.code != RILL_OK)
    fail_msg("insecure: %s: %s", rill_error_name(o.code), o.msg);
  assert_int_equal(g_warnings, 1);
  assert_int_equal(stat_of(&m, "\"requests\":"), 1);
  mock_stop(&m);
}

static int setup(void **st) {
  char cmd[512];
  (void)st;
  if (!mkdtemp(g_dir))
    return -1;
  snprintf(cmd, sizeof cmd, "'%s' '%s' >/dev/null", RILL_MOCK_CERTS_BIN, g_dir);
  if (system(cmd) != 0)
    return -1;
  snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_dir);
  return 0;
}

static int teardown(void **st) {
  char cmd[512];
  (void)st;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_certificates),
      cmocka_unit_test(test_good_and_insecure),
  };
  int rc;
  signal(SIGPIPE, SIG_IGN);
  if (rill_global_init(NULL) != RILL_OK)
    return 1;
  rc = cmocka_run_group_tests(tests, setup, teardown);
  rill_global_cleanup();
  return rc;
}
