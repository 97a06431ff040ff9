/*
 * test_secrets.c — G9: a marker key must never leave rill except in its
 * own request header. Against rill-mock on 127.0.0.1, with the key
 * KEY and the check "absent whole and as every 6-character run of it":
 *  1. every log line at RILL_LOG_TRACE during chats with each provider
 *     (Authorization: Bearer, x-api-key, x-goog-api-key), and the request
 *     lines the mock recorded (the key is in the expected header, never in
 *     a path or query);
 *  2. rill's error message after a 401 whose body echoes the key: whole,
 *     first 8 + last 4 characters, and a short key;
 *  3. the rill command's --json error lines (keys from the environment);
 *  4. the second server of a cross-host, cross-port and https->http
 *     redirect (follow on): nothing arrives there; without a key the same
 *     redirects are followed (so the counting can see a request);
 *  5. a key over plain http:// to a host that is not loopback is refused
 *     before any connection (no attempt is logged, no socket watched in
 *     event-loop mode; the message comes through on_error), unless the
 *     client opts in with allow_insecure_credentials;
 *  6. rill's own copies of the key (request, header list) are wiped before
 *     they are freed: the test's allocator looks into every freed block;
 *  7. the rill command makes itself non-dumpable (no core dumps).
 * Nothing asserts on time.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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
#ifndef RILL_CLI_BIN
#error "RILL_CLI_BIN must name the rill binary"
#endif
#ifndef RILL_SCENARIO_DIR
#error "RILL_SCENARIO_DIR must name tests/mock/scenarios"
#endif

#define KEY "sk-rillMARKER0123456789abcdefXYZ"
#define SHORT_KEY "kk4821"

/* ------------------------------------------------------------------------
 * The check
 * ------------------------------------------------------------------------ */

/* Where text holds key whole or any 6-character run of it; NULL if not. */
static const char *key_in(const char *text, const char *key) {
  size_t n = strlen(key), i;
  const char *hit;
  if ((hit = strstr(text, key)) != NULL)
    return hit;
  for (i = 0; i + 6 <= n; i++) {
    char win[7];
    memcpy(win, key + i, 6);
    win[6] = '\0';
    if ((hit = strstr(text, win)) != NULL)
      return hit;
  }
  return NULL;
}

static void assert_no_key(const char *what, const char *text, const char *key) {
  const char *hit = key_in(text, key);
  if (hit)
    fail_msg("%s leaks the key at \"%.40s\" (in: %.300s)", what, hit, text);
}

/* ------------------------------------------------------------------------
 * The allocator: every block freed while g_scan is on is searched for the
 * key. curl's own request buffer (the serialised request, "POST … HTTP/1.1")
 * is outside rill's reach and counted apart (docs/transport.md).
 * ------------------------------------------------------------------------ */

typedef union ahdr {
  size_t size;
  max_align_t align;
} ahdr;

static atomic_int g_scan;
static atomic_int g_rill_copies; /* freed blocks holding the key */
static atomic_int g_curl_copies; /* curl's serialised requests */
static char g_copy_sample[80];

static void scan_block(const char *p, size_t n) {
  if (!memmem(p, n, KEY, strlen(KEY)))
    return;
  if (memmem(p, n, " HTTP/1.1\r\n", 11)) {
    atomic_fetch_add(&g_curl_copies, 1);
    return;
  }
  if (atomic_fetch_add(&g_rill_copies, 1) == 0) {
    size_t i, k = n < sizeof g_copy_sample - 1 ? n : sizeof g_copy_sample - 1;
    for (i = 0; i < k; i++)
      g_copy_sample[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.';
    g_copy_sample[k] = '\0';
  }
}

static void *a_malloc(void *u, size_t n) {
  ahdr *h = malloc(sizeof *h + n);
  (void)u;
  if (!h)
    return NULL;
  h->size = n;
  /* Zeroed, so that a block holds the key only if something wrote it
   * there during its own life (not stale bytes of an earlier block). */
  memset(h + 1, 0, n);
  return h + 1;
}

static void a_free(void *u, void *p) {
  ahdr *h = (ahdr *)p - 1;
  (void)u;
  if (atomic_load(&g_scan))
    scan_block(p, h->size);
  free(h);
}

static void *a_realloc(void *u, void *p, size_t n) {
  ahdr *h = (ahdr *)p - 1, *nh;
  size_t old;
  if (!p)
    return a_malloc(u, n);
  if (atomic_load(&g_scan))
    scan_block(p, h->size < n ? h->size : n);
  old = h->size;
  nh = realloc(h, sizeof *nh + n);
  if (!nh)
    return NULL;
  if (n > old)
    memset((char *)(nh + 1) + old, 0, n - old);
  nh->size = n;
  return nh + 1;
}

/* ------------------------------------------------------------------------
 * Logs
 * ------------------------------------------------------------------------ */

static char g_log[1 << 20];
static size_t g_log_len;
static int g_log_lines;

static void log_hook(void *user, rill_log_level level, const char *msg) {
  size_t n = strlen(msg);
  (void)user;
  (void)level;
  g_log_lines++;
  if (g_log_len + n + 2 < sizeof g_log) {
    memcpy(g_log + g_log_len, msg, n);
    g_log_len += n;
    g_log[g_log_len++] = '\n';
    g_log[g_log_len] = '\0';
  }
}

static void log_start(void) {
  g_log_len = 0;
  g_log[0] = '\0';
  g_log_lines = 0;
  rill_log_set(log_hook, NULL, RILL_LOG_TRACE);
}

static void log_stop(void) {
  rill_log_set(NULL, NULL, RILL_LOG_WARN);
}

/* ------------------------------------------------------------------------
 * Mocks
 * ------------------------------------------------------------------------ */

static char g_certs[] = "/tmp/rill-secrets-certs-XXXXXX";
static char g_ca[300], g_cert[300], g_key[300];

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
  char *s;
  snprintf(path, sizeof path, "%s/%s", RILL_SCENARIO_DIR, name);
  s = read_file(path);
  if (!s)
    fail_msg("cannot read %s", path);
  return s;
}

static void start_mock(mock_proc *m, const char *json, int tls) {
  const char *args[5] = {"--tls-cert", g_cert, "--tls-key", g_key, NULL};
  assert_int_equal(mock_start(m, RILL_MOCK_BIN, json, tls ? args : NULL), 0);
}

/* A control endpoint (the mock's own certificate is not checked here). */
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
    fail_msg("control %s %s failed", method, path);
  }
  return buf;
}

static long n_requests(const mock_proc *m) {
  char *s = control(m, "GET", "/__mock/stats");
  const char *p = strstr(s, "\"requests\":");
  long v = p ? strtol(p + 11, NULL, 10) : -1;
  free(s);
  return v;
}

/* Every recorded request: path and query free of the key; the header
 * hname (lower case) equals want. Returns how many requests were seen. */
static int check_recorded(const mock_proc *m, const char *hname,
                          const char *want, const char *key) {
  char *s = control(m, "GET", "/__mock/requests");
  rill_json_doc *d = NULL;
  size_t i, n;
  assert_int_equal(rill_json_parse(&d, s, strlen(s), NULL), RILL_OK);
  n = rill_json_count(d, 0);
  for (i = 0; i < n; i++) {
    int r = rill_json_at(d, 0, i), t;
    size_t len;
    const char *v;
    t = rill_json_get(d, r, "path");
    assert_true(t >= 0);
    assert_no_key("a request path", rill_json_string(d, t, &len), key);
    t = rill_json_get(d, r, "query");
    if (t >= 0 && rill_json_type_of(d, t) == RILL_JSON_STRING)
      assert_no_key("a request query", rill_json_string(d, t, &len), key);
    t = rill_json_get(d, rill_json_get(d, r, "headers"), hname);
    if (t < 0)
      fail_msg("request %zu has no %s header", i, hname);
    v = rill_json_string(d, t, &len);
    assert_string_equal(v, want);
  }
  rill_json_doc_free(d);
  free(s);
  return (int)n;
}

/* ------------------------------------------------------------------------
 * One chat
 * ------------------------------------------------------------------------ */

typedef struct outcome {
  int code;
  int n_text;
  int n_errors;
  char msg[4096];
} outcome;

static int on_text(void *u, const char *t, size_t n) {
  (void)t;
  (void)n;
  ((outcome *)u)->n_text++;
  return 0;
}

static void on_error(void *u, const rill_error_info *e) {
  outcome *o = u;
  o->n_errors++;
  snprintf(o->msg, sizeof o->msg, "%s", e->message);
}

typedef struct chat_spec {
  rill_provider provider;
  const char *base; /* base_url */
  const char *model;
  const char *key;
  int follow;
  long connect_ms;
} chat_spec;

static void chat(rill_client *c, const chat_spec *cs, outcome *o) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = {sizeof cb, on_text, NULL,     NULL,
                            NULL,      NULL,    on_error, o};
  rill_message msg;
  memset(o, 0, sizeof *o);
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  req.endpoint.provider = cs->provider;
  req.endpoint.base_url = cs->base;
  req.endpoint.api_key = cs->key;
  req.endpoint.follow_redirects = cs->follow;
  req.model = cs->model;
  req.messages = &msg;
  req.n_messages = 1;
  req.retry.max_retries = -1;
  req.timeouts.connect_ms = cs->connect_ms;
  o->code = rill_chat(c, &req, &cb);
}

static rill_client *client(const char *ca, int allow_insecure) {
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  rill_client *c = NULL;
  o.ca_file = ca;
  o.allow_insecure_credentials = allow_insecure;
  assert_int_equal(rill_client_new(&c, &o), RILL_OK);
  return c;
}

/* ------------------------------------------------------------------------
 * 1 + 6. Logs, recorded requests and freed copies, per provider
 * ------------------------------------------------------------------------ */

typedef struct provider_case {
  rill_provider provider;
  const char *scenario;
  const char *base_path;
  const char *model;
  const char *header; /* lower case, as the mock records it */
  const char *value;  /* what it must carry */
} provider_case;

static const provider_case k_providers[] = {
    {RILL_PROVIDER_OLLAMA, "ollama-chat.json", "", "llama3.2", "authorization",
     "Bearer " KEY},
    {RILL_PROVIDER_OPENAI, "openai-chat.json", "/v1", "gpt-4o-mini",
     "authorization", "Bearer " KEY},
    {RILL_PROVIDER_GEMINI, "gemini-chat.json", "/v1beta", "gemini-2.0-flash",
     "x-goog-api-key", KEY},
    {RILL_PROVIDER_ANTHROPIC, "anthropic-chat.json", "/v1",
     "claude-sonnet-4-20250514", "x-api-key", KEY},
};

static void test_providers(void **st) {
  size_t i;
  (void)st;
  for (i = 0; i < sizeof k_providers / sizeof k_providers[0]; i++) {
    const provider_case *pc = &k_providers[i];
    char *json = scenario(pc->scenario), base[256];
    mock_proc m;
    rill_client *c;
    outcome o;
    chat_spec cs = {pc->provider, base, pc->model, KEY, 0, 0};
    start_mock(&m, json, 0);
    free(json);
    snprintf(base, sizeof base, "%s%s", m.base, pc->base_path);
    log_start();
    atomic_store(&g_rill_copies, 0);
    atomic_store(&g_curl_copies, 0);
    atomic_store(&g_scan, 1);
    c = client(NULL, 0);
    chat(c, &cs, &o);
    rill_client_free(c);
    atomic_store(&g_scan, 0);
    log_stop();
    if (o.code != RILL_OK)
      fail_msg("%s: %s: %s", rill_provider_name(pc->provider),
               rill_error_name(o.code), o.msg);
    assert_true(o.n_text > 0);
    /* The hook saw lines (a silent log would pass trivially). */
    assert_true(g_log_lines > 0);
    assert_no_key("a log line", g_log, KEY);
    assert_int_equal(check_recorded(&m, pc->header, pc->value, KEY), 1);
    if (atomic_load(&g_rill_copies) != 0)
      fail_msg("%s: %d freed block(s) still held the key, e.g. \"%s\"",
               rill_provider_name(pc->provider), atomic_load(&g_rill_copies),
               g_copy_sample);
    print_message("%s: %d log lines, key-free; curl's serialised request "
                  "freed %d time(s) with the key (documented limit)\n",
                  rill_provider_name(pc->provider), g_log_lines,
                  atomic_load(&g_curl_copies));
    mock_stop(&m);
  }
}

/* ------------------------------------------------------------------------
 * 2. A 401 that echoes the key
 * ------------------------------------------------------------------------ */

static const char *k_echo_scenario =
    "{\"routes\":["
    "{\"method\":\"POST\",\"path\":\"/whole/v1/chat/"
    "completions\",\"responses\":"
    "[{\"status\":401,\"body\":\"{\\\"error\\\":{\\\"message\\\":\\\"Incorrect "
    "API key "
    "provided: " KEY
    ". You can find your API key at https://example.invalid.\\\","
    "\\\"type\\\":\\\"invalid_request_error\\\",\\\"code\\\":\\\"invalid_api_"
    "key\\\"}}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/part/v1/chat/completions\",\"responses\":"
    "[{\"status\":401,\"body\":\"{\\\"error\\\":{\\\"message\\\":\\\"Incorrect "
    "API key "
    "provided: sk-rillM****************fXYZ.\\\"}}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/short/v1/chat/"
    "completions\",\"responses\":"
    "[{\"status\":401,\"body\":\"{\\\"error\\\":{\\\"message\\\":\\\"Incorrect "
    "API key "
    "provided: " SHORT_KEY ".\\\"}}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/plain/api/chat\",\"responses\":"
    "[{\"status\":401,\"content_type\":\"text/plain\",\"body\":\"bad key " KEY
    "\"}]},"
    "{\"method\":\"POST\",\"path\":\"/ant/v1/messages\",\"responses\":"
    "[{\"status\":401,\"body\":\"{\\\"type\\\":\\\"error\\\",\\\"error\\\":{"
    "\\\"type\\\":"
    "\\\"authentication_error\\\",\\\"message\\\":\\\"invalid x-api-key " KEY
    "\\\"}}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/gem/*\",\"responses\":"
    "[{\"status\":400,\"body\":\"{\\\"error\\\":{\\\"code\\\":400,"
    "\\\"message\\\":"
    "\\\"API key not valid: " KEY
    "\\\",\\\"status\\\":\\\"INVALID_ARGUMENT\\\"}}\"}]}"
    "]}";

static void expect_masked(rill_client *c, const mock_proc *m, rill_provider p,
                          const char *path, const char *key, int code,
                          const char *must_have) {
  char base[256];
  outcome o;
  chat_spec cs = {p, base, "m", key, 0, 0};
  snprintf(base, sizeof base, "%s%s", m->base, path);
  log_start();
  chat(c, &cs, &o);
  log_stop();
  if (o.code != code)
    fail_msg("%s: %s, wanted %s: %s", path, rill_error_name(o.code),
             rill_error_name(code), o.msg);
  assert_int_equal(o.n_errors, 1);
  /* The provider's text made it through (so the masking, not a missing
   * message, is what keeps the key out). */
  if (!strstr(o.msg, must_have))
    fail_msg("%s: message lacks \"%s\": %s", path, must_have, o.msg);
  assert_no_key("the error message", o.msg, key);
  assert_no_key("a log line", g_log, key);
}

static void test_error_echo(void **st) {
  mock_proc m;
  rill_client *c;
  (void)st;
  start_mock(&m, k_echo_scenario, 0);
  c = client(NULL, 0);
  expect_masked(c, &m, RILL_PROVIDER_OPENAI, "/whole/v1", KEY, RILL_E_AUTH,
                "Incorrect API key provided");
  expect_masked(c, &m, RILL_PROVIDER_OPENAI, "/part/v1", KEY, RILL_E_AUTH,
                "fXYZ");
  expect_masked(c, &m, RILL_PROVIDER_OPENAI, "/short/v1", SHORT_KEY,
                RILL_E_AUTH, "Incorrect API key provided");
  expect_masked(c, &m, RILL_PROVIDER_OLLAMA, "/plain", KEY, RILL_E_AUTH,
                "bad key");
  expect_masked(c, &m, RILL_PROVIDER_ANTHROPIC, "/ant/v1", KEY, RILL_E_AUTH,
                "invalid x-api-key");
  expect_masked(c, &m, RILL_PROVIDER_GEMINI, "/gem/v1beta", KEY, RILL_E_HTTP,
                "API key not valid");
  rill_client_free(c);
  mock_stop(&m);
}

/* ------------------------------------------------------------------------
 * 3 + 7. The rill command
 * ------------------------------------------------------------------------ */

/* Run the rill command with one extra environment variable; stdout and
 * stderr together into out. Returns its exit status. */
static int run_cli(const char *const *argv, const char *env_name,
                   const char *env_value, char *out, size_t cap) {
  int fd[2], status = -1;
  size_t n = 0;
  ssize_t r;
  pid_t pid;
  assert_int_equal(pipe(fd), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(fd[1], 1);
    dup2(fd[1], 2);
    close(fd[0]);
    close(fd[1]);
    unsetenv("OPENAI_API_KEY");
    unsetenv("ANTHROPIC_API_KEY");
    unsetenv("GEMINI_API_KEY");
    unsetenv("GOOGLE_API_KEY");
    if (env_name)
      setenv(env_name, env_value, 1);
    execv(RILL_CLI_BIN, (char *const *)(void *)argv);
    _exit(127);
  }
  close(fd[1]);
  while (n + 1 < cap && (r = read(fd[0], out + n, cap - 1 - n)) != 0) {
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      break;
    n += (size_t)r;
  }
  out[n] = '\0';
  close(fd[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_cli_json_errors(void **st) {
  static const struct {
    const char *provider, *path, *env;
  } cases[] = {{"openai", "/whole/v1", "OPENAI_API_KEY"},
               {"anthropic", "/ant/v1", "ANTHROPIC_API_KEY"},
               {"gemini", "/gem/v1beta", "GEMINI_API_KEY"}};
  mock_proc m;
  size_t i;
  (void)st;
  start_mock(&m, k_echo_scenario, 0);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char url[256], out[16384];
    const char *argv[] = {
        RILL_CLI_BIN, "chat", "--json",  "--provider", cases[i].provider,
        "--url",      url,    "--model", "m",          "hi",
        NULL};
    int rc;
    snprintf(url, sizeof url, "%s%s", m.base, cases[i].path);
    rc = run_cli(argv, cases[i].env, KEY, out, sizeof out);
    assert_int_equal(rc, 1);
    if (!strstr(out, "\"type\":\"error\""))
      fail_msg("%s: no --json error line: %s", cases[i].provider, out);
    assert_no_key("the CLI's output", out, KEY);
  }
  /* The key did reach the server, in its header (the CLI read it). */
  {
    char *s = control(&m, "GET", "/__mock/requests");
    assert_non_null(strstr(s, "\"authorization\":\"Bearer " KEY "\""));
    assert_non_null(strstr(s, "\"x-api-key\":\"" KEY "\""));
    assert_non_null(strstr(s, "\"x-goog-api-key\":\"" KEY "\""));
    free(s);
  }
  mock_stop(&m);
}

static void test_cli_not_dumpable(void **st) {
  char out[4096];
  const char *argv[] = {RILL_CLI_BIN, "version", "--verbose", NULL};
  (void)st;
  assert_int_equal(run_cli(argv, NULL, NULL, out, sizeof out), 0);
  if (!strstr(out, "core dumps: off"))
    fail_msg("rill version --verbose: %s", out);
}

/* ------------------------------------------------------------------------
 * 4. Redirects with follow on
 * ------------------------------------------------------------------------ */

static const char *k_landing =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"*\",\"responses\":[{"
    "\"content_type\":\"text/event-stream\",\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":3}}]}]}";

/* Count recorded requests whose path starts with prefix. */
static int n_paths(const mock_proc *m, const char *prefix) {
  char *s = control(m, "GET", "/__mock/requests"), pat[128];
  const char *p = s;
  int n = 0;
  snprintf(pat, sizeof pat, "\"path\":\"%s", prefix);
  while ((p = strstr(p, pat)) != NULL) {
    n++;
    p++;
  }
  free(s);
  return n;
}

static void expect_refused(rill_client *c, const char *base) {
  outcome o;
  chat_spec cs = {RILL_PROVIDER_OPENAI, base, "m", KEY, 1, 0};
  log_start();
  chat(c, &cs, &o);
  log_stop();
  if (o.code != RILL_E_HTTP ||
      !strstr(o.msg, "redirect to another host refused"))
    fail_msg("%s: %s: %s", base, rill_error_name(o.code), o.msg);
  assert_no_key("the error message", o.msg, KEY);
  assert_no_key("a log line", g_log, KEY);
}

static void expect_followed(rill_client *c, const char *base) {
  outcome o;
  chat_spec cs = {RILL_PROVIDER_OPENAI, base, "m", NULL, 1, 0};
  chat(c, &cs, &o);
  if (o.code != RILL_OK)
    fail_msg("%s without a key: %s: %s", base, rill_error_name(o.code), o.msg);
}

/* A port that was free a moment ago (the mock binds it next). */
static int free_port(void) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port;
  assert_true(fd >= 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
  port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

static void test_redirects(void **st) {
  mock_proc a, b, t;
  char scen[2048], base[256], port[16];
  const char *args[7];
  rill_client *c;
  int pa = free_port();
  (void)st;
  start_mock(&b, k_landing, 0);
  /* a: 127.0.0.1:pa, redirecting to itself under the name localhost (another
   * host, same port), to b (another port), and to itself (same origin). */
  snprintf(scen, sizeof scen,
           "{\"routes\":["
           "{\"method\":\"POST\",\"path\":\"/landed/*\",\"responses\":[{"
           "\"content_type\":\"text/event-stream\",\"generate\":{\"kind\":"
           "\"openai_chat\",\"words\":3}}]},"
           "{\"method\":\"POST\",\"path\":\"/host/"
           "*\",\"responses\":[{\"status\":307,"
           "\"fault\":\"redirect\",\"redirect_to\":"
           "\"http://localhost:%d/landed/v1/chat/completions\"}]},"
           "{\"method\":\"POST\",\"path\":\"/port/"
           "*\",\"responses\":[{\"status\":307,"
           "\"fault\":\"redirect\",\"redirect_to\":\"%s/landed/v1/chat/"
           "completions\"}]},"
           "{\"method\":\"POST\",\"path\":\"/same/"
           "*\",\"responses\":[{\"status\":308,"
           "\"fault\":\"redirect\",\"redirect_to\":\"/landed/v1/chat/"
           "completions\"}]}"
           "]}",
           pa, b.base);
  snprintf(port, sizeof port, "%d", pa);
  args[0] = "--port";
  args[1] = port;
  args[2] = NULL;
  assert_int_equal(mock_start(&a, RILL_MOCK_BIN, scen, args), 0);
  assert_int_equal(a.port, pa);
  /* t: https, redirecting down to plain http on b. */
  snprintf(scen, sizeof scen,
           "{\"routes\":[{\"method\":\"POST\",\"path\":\"*\",\"responses\":"
           "[{\"status\":302,\"fault\":\"redirect\",\"redirect_to\":"
           "\"%s/landed/v1/chat/completions\"}]}]}",
           b.base);
  start_mock(&t, scen, 1);
  c = client(g_ca, 0);

  /* Same origin, with the key: followed (the key goes along). */
  snprintf(base, sizeof base, "%s/same/v1", a.base);
  {
    outcome o;
    chat_spec cs = {RILL_PROVIDER_OPENAI, base, "m", KEY, 1, 0};
    chat(c, &cs, &o);
    if (o.code != RILL_OK)
      fail_msg("same origin: %s: %s", rill_error_name(o.code), o.msg);
  }
  assert_int_equal(n_paths(&a, "/landed/"), 1);

  snprintf(base, sizeof base, "%s/host/v1", a.base);
  expect_refused(c, base);
  assert_int_equal(n_paths(&a, "/landed/"), 1);
  snprintf(base, sizeof base, "%s/port/v1", a.base);
  expect_refused(c, base);
  snprintf(base, sizeof base, "%s/down/v1", t.base);
  expect_refused(c, base);
  assert_int_equal(n_requests(&b), 0);

  /* Without a key the same redirects are followed: the second servers
   * would have counted a request that had gone there. */
  snprintf(base, sizeof base, "%s/host/v1", a.base);
  expect_followed(c, base);
  assert_int_equal(n_paths(&a, "/landed/"), 2);
  snprintf(base, sizeof base, "%s/port/v1", a.base);
  expect_followed(c, base);
  snprintf(base, sizeof base, "%s/down/v1", t.base);
  expect_followed(c, base);
  assert_int_equal(n_requests(&b), 2);
  {
    char *s = control(&b, "GET", "/__mock/requests");
    assert_no_key("the second server's requests", s, KEY);
    free(s);
  }
  rill_client_free(c);
  mock_stop(&t);
  mock_stop(&a);
  mock_stop(&b);
}

/* ------------------------------------------------------------------------
 * 5. Plain http:// to a host that is not loopback
 * ------------------------------------------------------------------------ */

static int count_attempts(void) {
  int n = 0;
  const char *p = g_log;
  while ((p = strstr(p, "(attempt ")) != NULL) {
    n++;
    p++;
  }
  return n;
}

static int g_el_watched;
static long g_el_timer;

static int el_watch(void *user, int fd, int events) {
  (void)user;
  (void)fd;
  if (!(events & RILL_POLL_REMOVE))
    g_el_watched++;
  return 0;
}

static int el_timer(void *user, long ms) {
  (void)user;
  g_el_timer = ms;
  return 0;
}

static void test_plain_http_refused(void **st) {
  rill_client *c;
  outcome o;
  chat_spec cs = {
      RILL_PROVIDER_OPENAI, "http://192.0.2.1:9/v1", "m", KEY, 0, 300};
  (void)st;
  c = client(NULL, 0);
  log_start();
  chat(c, &cs, &o);
  log_stop();
  assert_int_equal(o.code, RILL_E_INVALID);
  assert_int_equal(o.n_errors, 1);
  if (!strstr(o.msg, "plain http://") ||
      !strstr(o.msg, "allow_insecure_credentials") ||
      !strstr(o.msg, "192.0.2.1"))
    fail_msg("message: %s", o.msg);
  assert_no_key("the error message", o.msg, KEY);
  /* Refused before any attempt: no request line was ever logged. */
  assert_int_equal(count_attempts(), 0);

  /* The scheme in capitals is the same scheme. */
  {
    chat_spec up = {
        RILL_PROVIDER_OPENAI, "HTTP://192.0.2.1:9/v1", "m", KEY, 0, 300};
    log_start();
    chat(c, &up, &o);
    log_stop();
    assert_int_equal(o.code, RILL_E_INVALID);
    assert_non_null(strstr(o.msg, "plain http://"));
    assert_int_equal(count_attempts(), 0);
  }

  /* A credential in an extra header is a credential too. */
  {
    rill_chat_request req = RILL_CHAT_REQUEST_INIT;
    rill_chat_callbacks cb = {sizeof cb, on_text, NULL,     NULL,
                              NULL,      NULL,    on_error, &o};
    rill_message msg = {RILL_ROLE_USER, "hi", NULL, NULL, 0,
                        NULL,           0,    NULL, NULL};
    const char *hdr[] = {"X-Api-Key: " KEY};
    memset(&o, 0, sizeof o);
    req.endpoint.provider = RILL_PROVIDER_OLLAMA;
    req.endpoint.base_url = "http://192.0.2.1:9";
    req.endpoint.headers = hdr;
    req.endpoint.n_headers = 1;
    req.model = "m";
    req.messages = &msg;
    req.n_messages = 1;
    assert_int_equal(rill_chat(c, &req, &cb), RILL_E_INVALID);
    assert_no_key("the error message", o.msg, KEY);
  }

  /* Event-loop mode: the refusal comes through on_error at the first
   * timer action; no socket is ever watched. */
  {
    rill_client_opts lo = RILL_CLIENT_OPTS_INIT;
    rill_loop_callbacks lc = {sizeof lc, el_watch, el_timer, NULL};
    rill_client *ec = NULL;
    rill_chat_request req = RILL_CHAT_REQUEST_INIT;
    rill_chat_callbacks cb = {sizeof cb, on_text, NULL,     NULL,
                              NULL,      NULL,    on_error, &o};
    rill_message msg = {RILL_ROLE_USER, "hi", NULL, NULL, 0,
                        NULL,           0,    NULL, NULL};
    rill_stream *es = NULL;
    int guard;
    lo.loop = &lc;
    g_el_watched = 0;
    g_el_timer = -1;
    assert_int_equal(rill_client_new(&ec, &lo), RILL_OK);
    memset(&o, 0, sizeof o);
    req.endpoint.provider = RILL_PROVIDER_OPENAI;
    req.endpoint.base_url = "http://192.0.2.1:9/v1";
    req.endpoint.api_key = KEY;
    req.model = "m";
    req.messages = &msg;
    req.n_messages = 1;
    assert_int_equal(rill_chat_start(ec, &req, &cb, &es), RILL_OK);
    assert_int_equal(o.n_errors, 0); /* not from inside the start call */
    assert_true(g_el_timer >= 0);    /* the host timer was armed */
    for (guard = 0; rill_stream_status(es) == 1 && guard < 100; guard++)
      assert_true(rill_client_timeout_action(ec) >= 0);
    assert_int_equal(rill_stream_status(es), RILL_E_INVALID);
    assert_int_equal(o.n_errors, 1);
    assert_non_null(strstr(rill_stream_errmsg(es), "plain http://"));
    assert_int_equal(g_el_watched, 0);
    rill_stream_free(es);
    rill_client_free(ec);
  }

  /* Loopback hosts are this machine: not refused (nothing listens on
   * port 9, so the connection itself fails). */
  {
    static const char *const loops[] = {
        "http://127.0.0.1:9/v1", "http://127.45.6.7:9/v1",
        "http://localhost:9/v1", "http://[::1]:9/v1"};
    size_t i;
    for (i = 0; i < sizeof loops / sizeof loops[0]; i++) {
      chat_spec lc = {RILL_PROVIDER_OPENAI, loops[i], "m", KEY, 0, 2000};
      chat(c, &lc, &o);
      if (o.code == RILL_E_INVALID)
        fail_msg("%s refused: %s", loops[i], o.msg);
    }
  }
  /* https:// anywhere is fine, and no key over http:// is fine: both
   * try to connect (connect clock, the TEST-NET address never answers). */
  {
    chat_spec nk = {
        RILL_PROVIDER_OPENAI, "http://192.0.2.1:9/v1", "m", NULL, 0, 300};
    chat_spec tl = {
        RILL_PROVIDER_OPENAI, "https://192.0.2.1:9/v1", "m", KEY, 0, 300};
    chat(c, &nk, &o);
    assert_int_not_equal(o.code, RILL_E_INVALID);
    chat(c, &tl, &o);
    assert_int_not_equal(o.code, RILL_E_INVALID);
  }
  rill_client_free(c);

  /* Opted in: rill tries to connect. */
  c = client(NULL, 1);
  log_start();
  chat(c, &cs, &o);
  log_stop();
  if (o.code != RILL_E_TIMEOUT && o.code != RILL_E_CONNECT)
    fail_msg("opted in: %s: %s", rill_error_name(o.code), o.msg);
  assert_true(count_attempts() >= 1);
  assert_no_key("the error message", o.msg, KEY);
  assert_no_key("a log line", g_log, KEY);
  rill_client_free(c);
}

/* ------------------------------------------------------------------------ */

static int setup_certs(void **st) {
  char cmd[512];
  (void)st;
  if (!mkdtemp(g_certs))
    return -1;
  snprintf(cmd, sizeof cmd, "'%s' '%s' >/dev/null", RILL_MOCK_CERTS_BIN,
           g_certs);
  if (system(cmd) != 0)
    return -1;
  snprintf(g_ca, sizeof g_ca, "%s/ca.pem", g_certs);
  snprintf(g_cert, sizeof g_cert, "%s/server.pem", g_certs);
  snprintf(g_key, sizeof g_key, "%s/server.key", g_certs);
  return 0;
}

static int teardown_certs(void **st) {
  char cmd[512];
  (void)st;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_certs);
  return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_providers),
      cmocka_unit_test(test_error_echo),
      cmocka_unit_test(test_cli_json_errors),
      cmocka_unit_test(test_cli_not_dumpable),
      cmocka_unit_test(test_redirects),
      cmocka_unit_test(test_plain_http_refused),
  };
  const rill_allocator a = {a_malloc, a_realloc, a_free, NULL};
  int rc;
  signal(SIGPIPE, SIG_IGN);
  if (rill_global_init(&a) != RILL_OK)
    return 1;
  rc = cmocka_run_group_tests(tests, setup_certs, teardown_certs);
  rill_global_cleanup();
  return rc;
}
