/*
 * test_mock.c — rill-mock checked from the outside with libcurl: routes
 * and response sequences, every generator (exact word and byte counts
 * against the X-Mock-* headers), framing, split modes, delays (ordering
 * only, never wall-clock bounds), faults as curl sees them, redirect,
 * control endpoints, keep-alive, 200 parallel transfers, request parsing
 * limits, and TLS with a CA made by rill-mock-certs.
 *
 * Mocks are child processes; each dies with the test (PR_SET_PDEATHSIG),
 * at group teardown and from an atexit handler, so no run leaves one
 * behind.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "json/json.h"
#include "rill/error.h"

#ifndef RILL_MOCK_BIN
#error "RILL_MOCK_BIN must name the rill-mock binary"
#endif
#ifndef RILL_MOCK_CERTS_BIN
#error "RILL_MOCK_CERTS_BIN must name the rill-mock-certs binary"
#endif

/* ---- mock processes ------------------------------------------------------- */

typedef struct mock {
  pid_t pid;
  int port;
  int tls;
} mock;

#define MAX_MOCKS 16
static pid_t g_pids[MAX_MOCKS];
static char g_dir[256];
static mock g_plain;   /* the main scenario */
static char g_base[64];

static void kill_all(void) {
  int i;
  for (i = 0; i < MAX_MOCKS; i++)
    if (g_pids[i] > 0) {
      kill(g_pids[i], SIGTERM);
      waitpid(g_pids[i], NULL, 0);
      g_pids[i] = 0;
    }
}

static int mock_start(mock *m, const char *scenario, const char *cert,
                      const char *key) {
  int fds[2], i;
  char line[256];
  size_t n = 0;
  pid_t pid;
  memset(m, 0, sizeof *m);
  if (pipe(fds) != 0)
    return -1;
  pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    const char *argv[8];
    int a = 0;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    argv[a++] = RILL_MOCK_BIN;
    if (cert) {
      argv[a++] = "--tls-cert";
      argv[a++] = cert;
      argv[a++] = "--tls-key";
      argv[a++] = key;
    }
    argv[a++] = scenario;
    argv[a] = NULL;
    execv(RILL_MOCK_BIN, (char *const *)argv);
    _exit(127);
  }
  close(fds[1]);
  for (i = 0; i < MAX_MOCKS; i++)
    if (g_pids[i] == 0) {
      g_pids[i] = pid;
      break;
    }
  while (n < sizeof line - 1) {
    ssize_t r = read(fds[0], line + n, 1);
    if (r <= 0 || line[n] == '\n')
      break;
    n++;
  }
  line[n] = '\0';
  close(fds[0]);
  m->pid = pid;
  if (sscanf(line, "{\"port\":%d,\"tls\":", &m->port) != 1)
    return -1;
  m->tls = strstr(line, "true") != NULL;
  return 0;
}

static void mock_stop(mock *m) {
  int i;
  if (m->pid <= 0)
    return;
  kill(m->pid, SIGTERM);
  waitpid(m->pid, NULL, 0);
  for (i = 0; i < MAX_MOCKS; i++)
    if (g_pids[i] == m->pid)
      g_pids[i] = 0;
  m->pid = 0;
}

static void write_text(const char *name, const char *text) {
  char path[512];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", g_dir, name);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void path_of(char *out, size_t n, const char *name) {
  snprintf(out, n, "%s/%s", g_dir, name);
}

/* ---- HTTP helpers ------------------------------------------------------------ */

typedef struct resp {
  char *body;
  size_t len, cap;
  long status;
  char words[32], text_bytes[32], location[256], ctype[128];
  int n_writes;
  CURLcode rc;
} resp;

static size_t on_body(char *p, size_t sz, size_t n, void *u) {
  resp *r = u;
  size_t len = sz * n;
  r->n_writes++;
  if (r->len + len + 1 > r->cap) {
    size_t cap = r->cap ? r->cap : 4096;
    while (cap < r->len + len + 1)
      cap *= 2;
    r->body = realloc(r->body, cap);
    assert_non_null(r->body);
    r->cap = cap;
  }
  memcpy(r->body + r->len, p, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

static void copy_header(const char *line, size_t n, const char *name,
                        char *dst, size_t cap) {
  size_t nl = strlen(name);
  if (n > nl && !strncasecmp(line, name, nl)) {
    const char *v = line + nl;
    size_t vl = n - nl;
    while (vl && (*v == ' '))
      v++, vl--;
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n'))
      vl--;
    if (vl >= cap)
      vl = cap - 1;
    memcpy(dst, v, vl);
    dst[vl] = '\0';
  }
}

static size_t on_header(char *p, size_t sz, size_t n, void *u) {
  resp *r = u;
  copy_header(p, sz * n, "x-mock-words:", r->words, sizeof r->words);
  copy_header(p, sz * n, "x-mock-text-bytes:", r->text_bytes,
              sizeof r->text_bytes);
  copy_header(p, sz * n, "location:", r->location, sizeof r->location);
  copy_header(p, sz * n, "content-type:", r->ctype, sizeof r->ctype);
  return sz * n;
}

static CURL *easy(const char *url, resp *r) {
  CURL *h = curl_easy_init();
  assert_non_null(h);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 120L); /* a hang fails, not blocks */
  return h;
}

static void resp_free(resp *r) {
  free(r->body);
  memset(r, 0, sizeof *r);
}

/* One request on a fresh handle; body NULL means GET. */
static CURLcode req(resp *r, const char *method, const char *path,
                    const char *body) {
  char url[512];
  CURL *h;
  memset(r, 0, sizeof *r);
  snprintf(url, sizeof url, "%s%s", g_base, path);
  h = easy(url, r);
  if (body)
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  if (method)
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  r->rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_cleanup(h);
  return r->rc;
}

static void reset_mock(void) {
  resp r;
  assert_int_equal(req(&r, "POST", "/__mock/reset", ""), CURLE_OK);
  resp_free(&r);
}

/* ---- body checks -------------------------------------------------------------- */

static const char CYCLE[] = "The quick brown fox jumps over the lazy dog. ";

typedef struct tally {
  uint64_t words, text_bytes, done_count, records;
  int text_ok, saw_done, saw_usage, saw_done_marker, saw_success;
  uint64_t last_completed;
} tally;

/* Parse one record (an NDJSON line or an SSE event's data) and count. */
static void tally_record(tally *t, const char *rec, size_t len) {
  rill__json d;
  int i;
  rill__buf b;
  rill__json_init(&d, NULL, 0);
  t->records++;
  if (len == 6 && !memcmp(rec, "[DONE]", 6)) {
    t->saw_done_marker = 1;
    return;
  }
  assert_int_equal(rill__json_parse(&d, rec, len, NULL), RILL_OK);
  i = rill__json_path(&d, 0, "message.content");
  if (i < 0)
    i = rill__json_path(&d, 0, "choices[0].delta.content");
  if (i < 0)
    i = rill__json_path(&d, 0, "response");
  if (i >= 0) {
    rill__buf_init(&b, NULL, 1 << 20);
    assert_int_equal(rill__json_unescape(&d, i, &b), RILL_OK);
    if (b.len) {
      size_t k;
      for (k = 0; k < b.len; k++)
        if (b.data[k] != CYCLE[(t->text_bytes + k) % 45])
          t->text_ok = 0;
      t->words++;
      t->text_bytes += b.len;
    }
    rill__buf_release(&b);
  }
  if ((i = rill__json_getz(&d, 0, "done")) >= 0 && rill__json_bool(&d, i) == 1) {
    t->saw_done = 1;
    assert_int_equal(
        rill__json_uint64(&d, rill__json_getz(&d, 0, "eval_count"),
                          &t->done_count),
        RILL_OK);
  }
  if ((i = rill__json_path(&d, 0, "usage.completion_tokens")) >= 0) {
    t->saw_usage = 1;
    assert_int_equal(rill__json_uint64(&d, i, &t->done_count), RILL_OK);
  }
  if ((i = rill__json_getz(&d, 0, "completed")) >= 0) {
    uint64_t c;
    assert_int_equal(rill__json_uint64(&d, i, &c), RILL_OK);
    assert_true(c >= t->last_completed);
    t->last_completed = c;
    t->words++;
  }
  if ((i = rill__json_getz(&d, 0, "status")) >= 0 &&
      rill__json_str_eq(&d, i, "success", 7))
    t->saw_success = 1;
  rill__json_release(&d);
}

static tally tally_body(const char *body, size_t len, int sse) {
  tally t;
  size_t pos = 0;
  memset(&t, 0, sizeof t);
  t.text_ok = 1;
  while (pos < len) {
    const char *end;
    if (sse) {
      const char *ev = strstr(body + pos, "\n\n");
      assert_non_null(ev);
      assert_memory_equal(body + pos, "data: ", 6);
      tally_record(&t, body + pos + 6, (size_t)(ev - body - pos - 6));
      pos = (size_t)(ev - body) + 2;
    } else {
      end = memchr(body + pos, '\n', len - pos);
      assert_non_null(end);
      tally_record(&t, body + pos, (size_t)(end - body - pos));
      pos = (size_t)(end - body) + 1;
    }
  }
  return t;
}

/* ---- the scenario --------------------------------------------------------------- */

static const char SCENARIO[] =
    "{\"routes\": [\n"
    " {\"method\":\"POST\",\"path\":\"/seq\",\"responses\":[\n"
    "   {\"status\":503,\"headers\":{\"Retry-After\":\"1\"},"
    "\"body\":\"{\\\"error\\\":\\\"busy\\\"}\"},\n"
    "   {\"status\":429,\"body\":\"{}\"},\n"
    "   {\"status\":200,\"body\":\"{\\\"ok\\\":true}\"}]},\n"
    " {\"path\":\"/pre/*\",\"responses\":[{\"body\":\"prefix\"}]},\n"
    " {\"method\":\"POST\",\"path\":\"/api/chat\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_chat\",\"bytes\":20000}}]},\n"
    " {\"path\":\"/chat/words\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_chat\",\"words\":1000}}]},\n"
    " {\"path\":\"/chat/big\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_chat\",\"bytes\":8388608},"
    "\"split\":{\"mode\":\"random\",\"n\":65536,\"seed\":3}}]},\n"
    " {\"path\":\"/chat/cl\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_chat\",\"bytes\":20000},"
    "\"chunked\":false}]},\n"
    " {\"path\":\"/v1/chat/completions\",\"responses\":["
    "{\"generate\":{\"kind\":\"openai_chat\",\"bytes\":20000,"
    "\"model\":\"gpt-mock\",\"done_reason\":\"length\"}}]},\n"
    " {\"path\":\"/api/generate\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_generate\",\"words\":77}}]},\n"
    " {\"path\":\"/api/pull\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_pull\",\"words\":25,\"total\":1000}}]},\n"
    " {\"path\":\"/split/*\",\"responses\":[{\"generate\":"
    "{\"kind\":\"openai_chat\",\"words\":50}}]},\n"
    " {\"path\":\"/s/records\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"split\":{\"mode\":\"records\"}}]},\n"
    " {\"path\":\"/s/fixed\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"split\":{\"mode\":\"fixed\",\"n\":7}}]},\n"
    " {\"path\":\"/s/random\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"split\":{\"mode\":\"random\",\"n\":9,"
    "\"seed\":5}}]},\n"
    " {\"path\":\"/s/bytes\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"split\":{\"mode\":\"bytes\"}}]},\n"
    " {\"path\":\"/s/bytes-cl\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"chunked\":false,"
    "\"split\":{\"mode\":\"bytes\"}}]},\n"
    " {\"path\":\"/s/records-cl\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"chunked\":false,"
    "\"split\":{\"mode\":\"records\"}}]},\n"
    " {\"path\":\"/s/close\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"close_delimited\":true}]},\n"
    " {\"path\":\"/s/http10\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":50},\"http10\":true}]},\n"
    " {\"path\":\"/slow\",\"responses\":[{\"first_byte_delay_ms\":300,"
    "\"body\":\"slow\"}]},\n"
    " {\"path\":\"/fast\",\"responses\":[{\"body\":\"fast\"}]},\n"
    " {\"path\":\"/drip\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":5},\"split\":{\"mode\":\"records\"},"
    "\"delay_ms\":30}]},\n"
    " {\"path\":\"/f/close\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"fault\":\"close_mid_record\"}]},\n"
    " {\"path\":\"/f/close-cl\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"chunked\":false,"
    "\"fault\":\"close_mid_record\"}]},\n"
    " {\"path\":\"/f/reset\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"fault\":\"reset_mid_record\"}]},\n"
    " {\"path\":\"/f/stall\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"fault\":\"stall\"}]},\n"
    " {\"path\":\"/f/garbage\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"fault\":\"garbage\"}]},\n"
    " {\"path\":\"/f/oversize\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":40},\"fault\":\"oversize_record\","
    "\"fault_bytes\":1048576}]},\n"
    " {\"path\":\"/f/bad-chunked\",\"responses\":[{\"generate\":{\"kind\":"
    "\"ollama_chat\",\"words\":40},\"fault\":\"bad_chunked\"}]},\n"
    " {\"path\":\"/f/no-done\",\"responses\":[{\"generate\":{\"kind\":"
    "\"openai_chat\",\"words\":40},\"fault\":\"no_done\"}]},\n"
    " {\"path\":\"/f/redirect\",\"responses\":[{\"fault\":\"redirect\","
    "\"status\":307,\"redirect_to\":\"http://127.0.0.1:1/elsewhere\"}]},\n"
    " {\"path\":\"/f/redirect-default\",\"responses\":[{\"fault\":"
    "\"redirect\",\"redirect_to\":\"/fast\"}]},\n"
    " {\"path\":\"/raw-cl\",\"responses\":[{\"headers\":{\"Content-Length\":"
    "\"100\"},\"body\":\"short\"}]},\n"
    " {\"path\":\"/b64\",\"responses\":[{\"body_base64\":\"AP8K\"}]},\n"
    " {\"path\":\"/file\",\"responses\":[{\"body_file\":\"body.ndjson\","
    "\"content_type\":\"application/x-ndjson\","
    "\"split\":{\"mode\":\"records\"}}]},\n"
    " {\"method\":\"*\",\"path\":\"/echo\",\"responses\":[{\"body\":\"{}\"}]}\n"
    "]}\n";

static int setup_group(void **state) {
  char scen[512];
  (void)state;
  atexit(kill_all);
  curl_global_init(CURL_GLOBAL_ALL);
  snprintf(g_dir, sizeof g_dir, "/tmp/rill-mock-test-XXXXXX");
  if (!mkdtemp(g_dir))
    return -1;
  write_text("scenario.json", SCENARIO);
  write_text("body.ndjson", "{\"a\":1}\n{\"b\":2}\n");
  path_of(scen, sizeof scen, "scenario.json");
  if (mock_start(&g_plain, scen, NULL, NULL) != 0)
    return -1;
  snprintf(g_base, sizeof g_base, "http://127.0.0.1:%d", g_plain.port);
  return 0;
}

static int teardown_group(void **state) {
  char cmd[600];
  (void)state;
  mock_stop(&g_plain);
  kill_all();
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0)
    return -1;
  curl_global_cleanup();
  return 0;
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_routes_and_sequences(void **state) {
  resp r;
  (void)state;
  reset_mock();
  assert_int_equal(req(&r, NULL, "/seq", "{}"), CURLE_OK);
  assert_int_equal(r.status, 503);
  assert_string_equal(r.body, "{\"error\":\"busy\"}");
  resp_free(&r);
  req(&r, NULL, "/seq", "{}");
  assert_int_equal(r.status, 429);
  resp_free(&r);
  req(&r, NULL, "/seq", "{}");
  assert_int_equal(r.status, 200);
  resp_free(&r);
  req(&r, NULL, "/seq", "{}"); /* the last one repeats */
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{\"ok\":true}");
  resp_free(&r);
  req(&r, NULL, "/seq", NULL); /* GET: method does not match */
  assert_int_equal(r.status, 404);
  assert_string_equal(r.body, "{\"error\":\"no route\"}");
  resp_free(&r);
  req(&r, NULL, "/nowhere?x=1", NULL);
  assert_int_equal(r.status, 404);
  resp_free(&r);
  req(&r, NULL, "/pre/fix/deeper?q=1", NULL);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "prefix");
  resp_free(&r);
  req(&r, "DELETE", "/echo", NULL);
  assert_int_equal(r.status, 200);
  resp_free(&r);
  req(&r, NULL, "/b64", NULL);
  assert_int_equal(r.len, 3);
  assert_memory_equal(r.body, "\0\xff\n", 3);
  resp_free(&r);
  req(&r, NULL, "/file", NULL);
  assert_string_equal(r.body, "{\"a\":1}\n{\"b\":2}\n");
  assert_string_equal(r.ctype, "application/x-ndjson");
  resp_free(&r);
  /* a reset restarts the sequences */
  reset_mock();
  req(&r, NULL, "/seq", "{}");
  assert_int_equal(r.status, 503);
  resp_free(&r);
}

static void check_gen(const char *path, int sse, int with_done_count) {
  resp r;
  tally t;
  assert_int_equal(req(&r, NULL, path, "{}"), CURLE_OK);
  assert_int_equal(r.status, 200);
  t = tally_body(r.body, r.len, sse);
  assert_true(t.text_ok);
  assert_int_equal(t.words, strtoull(r.words, NULL, 10));
  assert_int_equal(t.text_bytes, strtoull(r.text_bytes, NULL, 10));
  if (with_done_count)
    assert_int_equal(t.done_count, t.words);
  if (sse) {
    assert_true(t.saw_usage);
    assert_true(t.saw_done_marker);
    assert_string_equal(r.ctype, "text/event-stream");
  } else {
    assert_true(t.saw_done);
    assert_string_equal(r.ctype, "application/x-ndjson");
  }
  resp_free(&r);
}

static void test_generators(void **state) {
  resp r;
  tally t;
  (void)state;
  check_gen("/api/chat", 0, 1);
  check_gen("/v1/chat/completions", 1, 1);
  check_gen("/api/generate", 0, 1);
  /* bytes: the body reaches at least the target and stops at the first
   * record that gets there */
  req(&r, NULL, "/api/chat", "{}");
  assert_true(r.len >= 20000 && r.len < 20000 + 400);
  resp_free(&r);
  req(&r, NULL, "/chat/words", NULL);
  assert_string_equal(r.words, "00000000000000001000");
  assert_string_equal(r.text_bytes, "00000000000000004999"); /* 111 cycles + "The " */
  resp_free(&r);
  req(&r, NULL, "/api/generate", NULL);
  assert_string_equal(r.words, "00000000000000000077");
  assert_non_null(strstr(r.body, "\"context\":[1,2,3]"));
  resp_free(&r);
  req(&r, NULL, "/v1/chat/completions", NULL);
  assert_non_null(strstr(r.body, "\"model\":\"gpt-mock\""));
  assert_non_null(strstr(r.body, "\"finish_reason\":\"length\""));
  resp_free(&r);
  /* pull: progress lines rising to total, then success */
  req(&r, NULL, "/api/pull", "{}");
  t = tally_body(r.body, r.len, 0);
  assert_int_equal(t.words, 25);
  assert_string_equal(r.words, "00000000000000000025");
  assert_int_equal(t.last_completed, 1000);
  assert_true(t.saw_success);
  assert_memory_equal(r.body, "{\"status\":\"pulling manifest\"}\n", 30);
  resp_free(&r);
}

static void test_generator_big(void **state) {
  resp r;
  tally t;
  (void)state;
  assert_int_equal(req(&r, NULL, "/chat/big", NULL), CURLE_OK);
  assert_true(r.len >= 8388608);
  t = tally_body(r.body, r.len, 0);
  assert_true(t.text_ok);
  assert_int_equal(t.words, strtoull(r.words, NULL, 10));
  assert_int_equal(t.text_bytes, strtoull(r.text_bytes, NULL, 10));
  assert_int_equal(t.done_count, t.words);
  resp_free(&r);
}

static void test_content_length(void **state) {
  resp r, ref;
  char url[256];
  CURL *h;
  curl_off_t cl = -1;
  (void)state;
  snprintf(url, sizeof url, "%s/chat/cl", g_base);
  memset(&r, 0, sizeof r);
  h = easy(url, &r);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
  curl_easy_cleanup(h);
  assert_int_equal(cl, r.len);
  req(&ref, NULL, "/api/chat", "{}"); /* the same body, chunked */
  assert_int_equal(ref.len, r.len);
  assert_memory_equal(ref.body, r.body, r.len);
  resp_free(&r);
  resp_free(&ref);
  /* raw framing: Content-Length from the scenario, longer than the body */
  req(&r, NULL, "/raw-cl", NULL);
  assert_int_equal(r.rc, CURLE_PARTIAL_FILE);
  resp_free(&r);
}

static void test_split_modes(void **state) {
  static const char *const paths[] = {
      "/s/records", "/s/fixed",    "/s/random", "/s/bytes",
      "/s/bytes-cl", "/s/records-cl", "/s/close",  "/s/http10"};
  resp ref, r;
  size_t i;
  (void)state;
  assert_int_equal(req(&ref, NULL, "/split/ref", NULL), CURLE_OK);
  for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    assert_int_equal(req(&r, NULL, paths[i], NULL), CURLE_OK);
    assert_int_equal(r.len, ref.len);
    assert_memory_equal(r.body, ref.body, ref.len);
    resp_free(&r);
  }
  resp_free(&ref);
}

static void test_delays(void **state) {
  CURLM *m = curl_multi_init();
  resp a, b, d;
  char u1[256], u2[256];
  CURL *h1, *h2;
  int running = 1, first_done = 0;
  tally t;
  (void)state;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  snprintf(u1, sizeof u1, "%s/slow", g_base);
  snprintf(u2, sizeof u2, "%s/fast", g_base);
  h1 = easy(u1, &a);
  h2 = easy(u2, &b);
  curl_multi_add_handle(m, h1);
  curl_multi_add_handle(m, h2);
  while (running) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE && !first_done)
        first_done = msg->easy_handle == h2 ? 2 : 1;
    if (running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  assert_int_equal(first_done, 2); /* the delayed one finishes last */
  assert_string_equal(a.body, "slow");
  assert_string_equal(b.body, "fast");
  curl_multi_remove_handle(m, h1);
  curl_multi_remove_handle(m, h2);
  curl_easy_cleanup(h1);
  curl_easy_cleanup(h2);
  curl_multi_cleanup(m);
  resp_free(&a);
  resp_free(&b);
  /* delays between pieces: the body is unchanged */
  assert_int_equal(req(&d, NULL, "/drip", NULL), CURLE_OK);
  t = tally_body(d.body, d.len, 0);
  assert_int_equal(t.words, 5);
  assert_true(t.saw_done);
  resp_free(&d);
}

static void test_faults(void **state) {
  resp r;
  tally t;
  char *nl;
  (void)state;
  /* close mid-record: curl sees a truncated transfer; the body ends in the
   * middle of a line */
  req(&r, NULL, "/f/close", NULL);
  assert_true(r.rc == CURLE_PARTIAL_FILE || r.rc == CURLE_RECV_ERROR);
  assert_true(r.len > 0 && r.body[r.len - 1] != '\n');
  resp_free(&r);
  req(&r, NULL, "/f/close-cl", NULL);
  assert_int_equal(r.rc, CURLE_PARTIAL_FILE);
  assert_true(r.len > 0 && r.body[r.len - 1] != '\n');
  resp_free(&r);
  req(&r, NULL, "/f/reset", NULL);
  assert_true(r.rc == CURLE_RECV_ERROR || r.rc == CURLE_PARTIAL_FILE);
  resp_free(&r);
  /* stall: half the body, then nothing (the client's timeout ends it) */
  {
    char url[256];
    CURL *h;
    snprintf(url, sizeof url, "%s/f/stall", g_base);
    memset(&r, 0, sizeof r);
    h = easy(url, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 500L);
    assert_int_equal(curl_easy_perform(h), CURLE_OPERATION_TIMEDOUT);
    curl_easy_cleanup(h);
    assert_true(r.len > 0);
    assert_null(strstr(r.body, "\"done\":true"));
    resp_free(&r);
  }
  /* garbage: one line of binary noise in the middle, the rest intact */
  req(&r, NULL, "/f/garbage", NULL);
  assert_int_equal(r.rc, CURLE_OK);
  nl = memchr(r.body, '\xff', r.len);
  assert_non_null(nl);
  assert_true(nl > r.body && nl[-1] == '\n');
  assert_non_null(strstr(nl + 4, "\"done\":true"));
  resp_free(&r);
  /* oversize record: one 1 MiB event, then the stream goes on */
  req(&r, NULL, "/f/oversize", NULL);
  assert_int_equal(r.rc, CURLE_OK);
  {
    char *pad = strstr(r.body, "data: {\"pad\":\"");
    char *end;
    assert_non_null(pad);
    end = strstr(pad, "\n\n");
    assert_non_null(end);
    assert_int_equal(end + 2 - pad, 1048576);
    assert_non_null(strstr(end, "data: [DONE]"));
  }
  resp_free(&r);
  req(&r, NULL, "/f/bad-chunked", NULL);
  assert_true(r.rc != CURLE_OK);
  resp_free(&r);
  /* no_done: a clean end without the last record */
  req(&r, NULL, "/f/no-done", NULL);
  assert_int_equal(r.rc, CURLE_OK);
  assert_null(strstr(r.body, "[DONE]"));
  t = tally_body(r.body, r.len, 1);
  assert_int_equal(t.words, 40);
  assert_true(t.saw_usage);
  resp_free(&r);
  /* redirect: not followed by curl here; status and Location */
  req(&r, NULL, "/f/redirect", NULL);
  assert_int_equal(r.status, 307);
  assert_string_equal(r.location, "http://127.0.0.1:1/elsewhere");
  resp_free(&r);
  req(&r, NULL, "/f/redirect-default", NULL);
  assert_int_equal(r.status, 302);
  assert_string_equal(r.location, "/fast");
  resp_free(&r);
}

static void test_control(void **state) {
  resp r;
  rill__json d;
  int i;
  uint64_t v;
  (void)state;
  reset_mock();
  req(&r, "PUT", "/echo?key=v&x=1", "{\"hello\":\"w\\u00f6rld\"}");
  resp_free(&r);
  req(&r, NULL, "/__mock/requests", NULL);
  assert_int_equal(r.status, 200);
  rill__json_init(&d, NULL, 0);
  assert_int_equal(rill__json_parse(&d, r.body, r.len, NULL), RILL_OK);
  assert_int_equal(rill__json_tok(&d, 0)->size, 1); /* control: not recorded */
  assert_true(rill__json_str_eq(&d, rill__json_path(&d, 0, "[0].method"),
                                "PUT", 3));
  assert_true(rill__json_str_eq(&d, rill__json_path(&d, 0, "[0].path"),
                                "/echo", 5));
  assert_true(rill__json_str_eq(&d, rill__json_path(&d, 0, "[0].query"),
                                "key=v&x=1", 9));
  i = rill__json_path(&d, 0, "[0].headers.content-type");
  assert_true(rill__json_str_eq(&d, i, "application/x-www-form-urlencoded",
                                33));
  assert_true(rill__json_str_eq(&d, rill__json_path(&d, 0, "[0].body"),
                                "{\"hello\":\"w\\u00f6rld\"}", 22));
  rill__json_release(&d);
  resp_free(&r);
  req(&r, NULL, "/__mock/stats", NULL);
  rill__json_init(&d, NULL, 0);
  assert_int_equal(rill__json_parse(&d, r.body, r.len, NULL), RILL_OK);
  assert_int_equal(rill__json_uint64(&d, rill__json_getz(&d, 0, "requests"),
                                     &v),
                   RILL_OK);
  assert_int_equal(v, 1);
  rill__json_release(&d);
  resp_free(&r);
  reset_mock();
  req(&r, NULL, "/__mock/requests", NULL);
  assert_string_equal(r.body, "[]");
  resp_free(&r);
  req(&r, NULL, "/__mock/nope", NULL);
  assert_int_equal(r.status, 404);
  resp_free(&r);
}

static uint64_t stat_of(CURL *h, const char *name) {
  resp r;
  char url[256];
  rill__json d;
  uint64_t v = 0;
  memset(&r, 0, sizeof r);
  snprintf(url, sizeof url, "%s/__mock/stats", g_base);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  rill__json_init(&d, NULL, 0);
  assert_int_equal(rill__json_parse(&d, r.body, r.len, NULL), RILL_OK);
  assert_int_equal(rill__json_uint64(&d, rill__json_getz(&d, 0, name), &v),
                   RILL_OK);
  rill__json_release(&d);
  resp_free(&r);
  return v;
}

static void test_keep_alive(void **state) {
  resp r;
  char url[256];
  CURL *h;
  struct curl_slist *hdr;
  (void)state;
  reset_mock();
  memset(&r, 0, sizeof r);
  snprintf(url, sizeof url, "%s/fast", g_base);
  h = easy(url, &r);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_setopt(h, CURLOPT_URL, url);
  assert_int_equal(curl_easy_perform(h), CURLE_OK); /* a chunked one too */
  snprintf(url, sizeof url, "%s/v1/chat/completions", g_base);
  curl_easy_setopt(h, CURLOPT_URL, url);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  resp_free(&r);
  assert_int_equal(stat_of(h, "connections"), 1);
  assert_int_equal(stat_of(h, "requests"), 4);
  /* Connection: close is honoured: the next request needs a new one */
  hdr = curl_slist_append(NULL, "Connection: close");
  snprintf(url, sizeof url, "%s/fast", g_base);
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  assert_int_equal(stat_of(h, "connections"), 2);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(h);
  resp_free(&r);
}

static void test_parallel(void **state) {
  enum { N = 200 };
  CURLM *m = curl_multi_init();
  CURL *h[N];
  resp *r = calloc(N, sizeof *r);
  char url[256];
  int i, running = 1, done = 0;
  CURL *probe;
  resp pr;
  (void)state;
  assert_non_null(r);
  reset_mock();
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
  snprintf(url, sizeof url, "%s/chat/words", g_base);
  for (i = 0; i < N; i++) {
    h[i] = easy(url, &r[i]);
    curl_easy_setopt(h[i], CURLOPT_FORBID_REUSE, 1L);
    curl_multi_add_handle(m, h[i]);
  }
  while (running) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL)
      if (msg->msg == CURLMSG_DONE) {
        assert_int_equal(msg->data.result, CURLE_OK);
        done++;
      }
    if (running)
      curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  assert_int_equal(done, N);
  for (i = 0; i < N; i++) {
    assert_true(r[i].len > 0);
    assert_int_equal(r[i].len, r[N - 1].len);
    assert_string_equal(r[i].words, "00000000000000001000");
    curl_multi_remove_handle(m, h[i]);
    curl_easy_cleanup(h[i]);
    resp_free(&r[i]);
  }
  free(r);
  curl_multi_cleanup(m);
  memset(&pr, 0, sizeof pr);
  probe = easy(g_base, &pr);
  assert_int_equal(stat_of(probe, "requests"), N);
  assert_true(stat_of(probe, "connections") >= N);
  curl_easy_cleanup(probe);
}

/* Send raw bytes, return what comes back until close (up to cap). */
static size_t raw_exchange(const char *data, size_t len, char *out,
                           size_t cap) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  size_t got = 0, sent = 0;
  struct timeval tv = {10, 0};
  assert_true(fd >= 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)g_plain.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (sent < len) {
    ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break; /* the server may refuse early */
    sent += (size_t)n;
  }
  shutdown(fd, SHUT_WR);
  while (got < cap - 1) {
    ssize_t n = recv(fd, out + got, cap - 1 - got, 0);
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  out[got] = '\0';
  close(fd);
  return got;
}

static void test_request_parsing(void **state) {
  char out[4096];
  char *big;
  size_t n;
  resp r;
  (void)state;
  reset_mock();
  /* pipelined keep-alive requests and a chunked request body */
  {
    static const char two[] =
        "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
        "GET /fast HTTP/1.0\r\n\r\n";
    n = raw_exchange(two, sizeof two - 1, out, sizeof out);
    assert_true(n > 0);
    assert_non_null(strstr(out, "fast"));
    assert_non_null(strstr(strstr(out, "fast") + 4, "{}"));
  }
  req(&r, NULL, "/__mock/requests", NULL);
  assert_non_null(strstr(r.body, "\"body\":\"hello world\""));
  resp_free(&r);
  n = raw_exchange("BROKEN\r\n\r\n", 10, out, sizeof out);
  assert_true(n > 12 && !memcmp(out, "HTTP/1.1 400", 12));
  n = raw_exchange("GET / HTTP/2.0\r\n\r\n", 18, out, sizeof out);
  assert_true(n > 12 && !memcmp(out, "HTTP/1.1 505", 12));
  n = raw_exchange("POST /echo HTTP/1.1\r\nContent-Length: 16777217\r\n\r\n",
                   49, out, sizeof out);
  assert_true(n > 12 && !memcmp(out, "HTTP/1.1 413", 12));
  n = raw_exchange("POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                   48, out, sizeof out);
  assert_true(n > 12 && !memcmp(out, "HTTP/1.1 501", 12));
  big = malloc(70000);
  assert_non_null(big);
  memcpy(big, "GET / HTTP/1.1\r\nX-Big: ", 23);
  memset(big + 23, 'a', 70000 - 23);
  n = raw_exchange(big, 70000, out, sizeof out);
  assert_true(n > 12 && !memcmp(out, "HTTP/1.1 431", 12));
  free(big);
  /* a 2 MiB body (curl sends Expect: 100-continue): recorded, cut to 1 MiB */
  reset_mock();
  big = malloc(2 << 20);
  assert_non_null(big);
  memset(big, 'b', 2 << 20);
  {
    char url[256];
    CURL *h;
    memset(&r, 0, sizeof r);
    snprintf(url, sizeof url, "%s/echo", g_base);
    h = easy(url, &r);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, big);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(2 << 20));
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_cleanup(h);
    assert_string_equal(r.body, "{}");
    resp_free(&r);
  }
  free(big);
  req(&r, NULL, "/__mock/requests", NULL);
  assert_non_null(strstr(r.body, "\"body_bytes\":2097152,"
                                 "\"body_truncated\":true"));
  assert_non_null(strstr(r.body, "\"expect\":\"100-continue\""));
  resp_free(&r);
  /* nothing above crashed it */
  req(&r, NULL, "/fast", NULL);
  assert_string_equal(r.body, "fast");
  resp_free(&r);
}

static CURLcode tls_get(int port, const char *path, const char *ca,
                        resp *r) {
  char url[256];
  CURL *h;
  CURLcode rc;
  memset(r, 0, sizeof *r);
  snprintf(url, sizeof url, "https://127.0.0.1:%d%s", port, path);
  h = easy(url, r);
  if (ca) {
    curl_easy_setopt(h, CURLOPT_CAINFO, ca);
  } else {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
  curl_easy_cleanup(h);
  return rc;
}

static void test_tls(void **state) {
  static const char *const bad[] = {"wrong-host", "expired", "self-signed"};
  char cmd[1200], ca[600], scen[512], cert[600], key[600], certs[300];
  mock m;
  resp r;
  size_t i;
  (void)state;
  path_of(certs, sizeof certs, "certs");
  snprintf(cmd, sizeof cmd, "'%s' '%s'", RILL_MOCK_CERTS_BIN, certs);
  assert_int_equal(system(cmd), 0);
  snprintf(ca, sizeof ca, "%s/ca.pem", certs);
  path_of(scen, sizeof scen, "scenario.json");
  /* the good certificate, verification on */
  snprintf(cert, sizeof cert, "%s/server.pem", certs);
  snprintf(key, sizeof key, "%s/server.key", certs);
  assert_int_equal(mock_start(&m, scen, cert, key), 0);
  assert_true(m.tls);
  assert_int_equal(tls_get(m.port, "/fast", ca, &r), CURLE_OK);
  assert_string_equal(r.body, "fast");
  resp_free(&r);
  assert_int_equal(tls_get(m.port, "/v1/chat/completions", ca, &r), CURLE_OK);
  assert_non_null(strstr(r.body, "data: [DONE]\n\n"));
  resp_free(&r);
  /* a client without the CA fails, and nothing is recorded for it */
  assert_int_equal(tls_get(m.port, "/__mock/reset", ca, &r), CURLE_OK);
  resp_free(&r);
  assert_int_not_equal(tls_get(m.port, "/fast", "/dev/null", &r), CURLE_OK);
  resp_free(&r);
  assert_int_equal(tls_get(m.port, "/__mock/requests", ca, &r), CURLE_OK);
  assert_string_equal(r.body, "[]");
  resp_free(&r);
  mock_stop(&m);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CURLcode rc;
    snprintf(cert, sizeof cert, "%s/%s.pem", certs, bad[i]);
    snprintf(key, sizeof key, "%s/%s.key", certs, bad[i]);
    assert_int_equal(mock_start(&m, scen, cert, key), 0);
    rc = tls_get(m.port, "/fast", ca, &r);
    assert_true(rc == CURLE_PEER_FAILED_VERIFICATION ||
                rc == CURLE_SSL_CONNECT_ERROR);
    resp_free(&r);
    /* look with verification off: no request arrived */
    assert_int_equal(tls_get(m.port, "/__mock/requests", NULL, &r), CURLE_OK);
    assert_string_equal(r.body, "[]");
    resp_free(&r);
    mock_stop(&m);
  }
}

static void test_shutdown(void **state) {
  char scen[512];
  mock m;
  resp r;
  int status = -1;
  char url[256];
  CURL *h;
  (void)state;
  path_of(scen, sizeof scen, "scenario.json");
  assert_int_equal(mock_start(&m, scen, NULL, NULL), 0);
  memset(&r, 0, sizeof r);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/__mock/shutdown", m.port);
  h = easy(url, &r);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  assert_int_equal(curl_easy_perform(h), CURLE_OK);
  curl_easy_cleanup(h);
  resp_free(&r);
  assert_int_equal(waitpid(m.pid, &status, 0), m.pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  {
    int i;
    for (i = 0; i < MAX_MOCKS; i++)
      if (g_pids[i] == m.pid)
        g_pids[i] = 0;
  }
  /* a bad scenario is refused at start */
  write_text("bad.json", "{\"routes\":[{\"path\":\"/x\",\"responses\":"
                         "[{\"stauts\":200}]}]}");
  path_of(scen, sizeof scen, "bad.json");
  assert_int_not_equal(mock_start(&m, scen, NULL, NULL), 0);
  assert_int_equal(waitpid(m.pid, &status, 0), m.pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  {
    int i;
    for (i = 0; i < MAX_MOCKS; i++)
      if (g_pids[i] == m.pid)
        g_pids[i] = 0;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_routes_and_sequences),
      cmocka_unit_test(test_generators),
      cmocka_unit_test(test_generator_big),
      cmocka_unit_test(test_content_length),
      cmocka_unit_test(test_split_modes),
      cmocka_unit_test(test_delays),
      cmocka_unit_test(test_faults),
      cmocka_unit_test(test_control),
      cmocka_unit_test(test_keep_alive),
      cmocka_unit_test(test_parallel),
      cmocka_unit_test(test_request_parsing),
      cmocka_unit_test(test_tls),
      cmocka_unit_test(test_shutdown),
  };
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
