/*
 * hostile_run.c — see hostile_run.h.
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

#ifndef RILL_SCENARIO_DIR
#error "RILL_SCENARIO_DIR must name tests/mock/scenarios"
#endif

mock_proc g_mock;
mock_proc g_mock2;

/* ---- what the callbacks saw ------------------------------------------- */


static int ended(obs *o) {
  if (o->n_done + o->n_error == 0)
    return 0;
  o->n_after++;
  return 1;
}

static int cb_text(void *u, const char *t, size_t n) {
  obs *o = u;
  if (ended(o))
    return 0;
  if (o->text_len < sizeof o->text) {
    size_t room = sizeof o->text - 1 - o->text_len;
    memcpy(o->text + o->text_len, t, n < room ? n : room);
  }
  o->text_len += n;
  o->n_text++;
  return 0;
}

static int cb_tool(void *u, const rill_tool_call *c) {
  obs *o = u;
  if (ended(o))
    return 0;
  if (o->n_tools < 4) {
    o->tool_index[o->n_tools] = c->index;
    snprintf(o->tool_args[o->n_tools], sizeof o->tool_args[0], "%.*s",
             (int)(c->arguments_len < 63 ? c->arguments_len : 63),
             c->arguments);
  }
  o->n_tools++;
  return 0;
}

static int cb_tool_delta(void *u, size_t i, const char *id, const char *name,
                         const char *a, size_t n) {
  obs *o = u;
  (void)i, (void)id, (void)name, (void)a, (void)n;
  if (ended(o))
    return 0;
  o->n_tool_deltas++;
  return 0;
}

static int cb_done(void *u, const rill_done *d) {
  obs *o = u;
  if (ended(o))
    return 0;
  o->n_done++;
  o->finish = d->finish;
  o->usage = d->usage;
  return 0;
}

static void cb_error(void *u, const rill_error_info *e) {
  obs *o = u;
  if (ended(o))
    return;
  o->n_error++;
  o->code = e->code;
  o->http = e->http_status;
  snprintf(o->msg, sizeof o->msg, "%s", e->message ? e->message : "");
}

/* ---- one run ------------------------------------------------------------ */

/* Chat with route "/name/…" of the scenario. Returns rill_chat's code
 * after the per-run checks. */
int run(const char *name, const run_opts *ro, obs *o) {
  run_opts d = {0};
  const mock_proc *m;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg = {0};
  rill_chat_callbacks cb = {0};
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, peak = RILL_ALLOC_STATS_INIT,
                   after = RILL_ALLOC_STATS_INIT;
  rill_client *c;
  char url[256];
  int rc;
  if (!ro)
    ro = &d;
  m = ro->mock ? ro->mock : &g_mock;
  memset(o, 0, sizeof *o);
  req.endpoint.provider = ro->provider ? ro->provider : RILL_PROVIDER_OLLAMA;
  switch (req.endpoint.provider) {
  case RILL_PROVIDER_OLLAMA:
    snprintf(url, sizeof url, "%s/%s", m->base, name);
    break;
  case RILL_PROVIDER_GEMINI:
    snprintf(url, sizeof url, "%s/%s/v1beta", m->base, name);
    break;
  default:
    snprintf(url, sizeof url, "%s/%s/v1", m->base, name);
    break;
  }
  req.endpoint.base_url = url;
  req.endpoint.api_key = ro->api_key ? ro->api_key : "k";
  req.endpoint.follow_redirects = ro->follow_redirects;
  req.model = "m";
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  req.messages = &msg;
  req.n_messages = 1;
  req.timeouts = ro->timeouts;
  if (!req.timeouts.total_ms)
    req.timeouts.total_ms = 20000; /* a hung test fails instead of hanging */
  req.retry = ro->retry;
  req.limits = ro->limits;
  if (!req.retry.max_retries)
    req.retry.max_retries = -1;
  cb.size = sizeof cb;
  cb.on_text = cb_text;
  cb.on_tool_call = cb_tool;
  cb.on_tool_call_delta = cb_tool_delta;
  cb.on_done = cb_done;
  cb.on_error = cb_error;
  cb.user = o;

  assert_int_equal(rill_alloc_get_stats(&before), RILL_OK);
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  rill_alloc_reset_peak();
  rc = rill_chat(c, &req, &cb);
  assert_int_equal(rill_alloc_get_stats(&peak), RILL_OK);
  rill_client_free(c);
  assert_int_equal(rill_alloc_get_stats(&after), RILL_OK);

  printf("  %-18s rc=%-3d %-12s http=%ld text=%zu tools=%d peak=%llu KiB %s\n",
         name, rc, rill_error_name(rc), o->http, o->text_len, o->n_tools,
         (unsigned long long)((peak.peak_bytes - before.bytes_in_use) >> 10),
         o->msg);
  assert_int_equal(o->n_done + o->n_error, 1);
  assert_int_equal(o->n_after, 0);
  assert_int_equal(rc == RILL_OK, o->n_done == 1);
  if (rc != RILL_OK)
    assert_int_equal(o->code, rc);
  assert_true(after.bytes_in_use == before.bytes_in_use);
  assert_true(peak.peak_bytes - before.bytes_in_use <
              (ro->peak_cap ? ro->peak_cap : PEAK_SMALL));
  return rc;
}

/* "Hello world" from the hand-made streams. */
void assert_hello(const obs *o) {
  assert_int_equal(o->text_len, 11);
  assert_memory_equal(o->text, "Hello world", 11);
}

static const char *const k_words[] = {"The ", "quick ", "brown ", "fox ",
                                      "jumps ", "over ", "the ", "lazy ",
                                      "dog. "};

/* Whether the kept text is a prefix of the generators' word cycle (with
 * exactly n words when n >= 0). */
int is_word_prefix(const obs *o, int64_t n) {
  size_t off = 0, len = o->text_len < sizeof o->text - 1 ? o->text_len
                                                         : sizeof o->text - 1;
  int64_t i;
  for (i = 0; off < len; i++) {
    const char *w = k_words[i % 9];
    size_t wl = strlen(w), cmp = wl < len - off ? wl : len - off;
    if (memcmp(o->text + off, w, cmp) != 0)
      return 0;
    off += cmp;
  }
  return n < 0 || i == n;
}

/* Requests the mock recorded, as its JSON text (free it). */
char *requests(const mock_proc *m) {
  char *s = mock_get(m, "/__mock/requests");
  assert_non_null(s);
  return s;
}

int count(const char *hay, const char *needle) {
  int n = 0;
  const char *p = hay;
  while ((p = strstr(p, needle)) != NULL) {
    n++;
    p += strlen(needle);
  }
  return n;
}

/* ---- set-up ------------------------------------------------------------- */

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  char *s;
  long n;
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n + 1);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  if (s)
    s[n] = '\0';
  fclose(f);
  return s;
}

/* Replace every "@PORT2@" with the second mock's port. */
static char *with_port(const char *text, int port) {
  static const char tag[] = "@PORT2@";
  size_t n = strlen(text), cap = n + 64 * (size_t)count(text, tag) + 1, o = 0;
  char *out = malloc(cap);
  const char *p = text, *q;
  if (!out)
    return NULL;
  while ((q = strstr(p, tag)) != NULL) {
    memcpy(out + o, p, (size_t)(q - p));
    o += (size_t)(q - p);
    o += (size_t)snprintf(out + o, cap - o, "%d", port);
    p = q + sizeof tag - 1;
  }
  memcpy(out + o, p, strlen(p) + 1);
  return out;
}

int hostile_setup(void **st) {
  char *text, *scen;
  int rc;
  obs o;
  (void)st;
  if (rill_global_init(NULL) != RILL_OK)
    return -1;
  if (mock_start(&g_mock2, RILL_MOCK_BIN,
                 "{\"routes\":[{\"path\":\"*\",\"responses\":[{\"body\":"
                 "\"{}\"}]}]}",
                 NULL) != 0)
    return -1;
  text = slurp(RILL_SCENARIO_DIR "/hostile-g8.json");
  if (!text) {
    fprintf(stderr, "cannot read %s/hostile-g8.json\n", RILL_SCENARIO_DIR);
    return -1;
  }
  scen = with_port(text, g_mock2.port);
  free(text);
  if (!scen)
    return -1;
  rc = mock_start(&g_mock, RILL_MOCK_BIN, scen, NULL);
  free(scen);
  if (rc != 0)
    return -1;
  /* One request first: curl's and rill's one-time global allocations are
   * then made before any run measures the heap. */
  (void)run("target", NULL, &o);
  return 0;
}

int hostile_teardown(void **st) {
  (void)st;
  mock_stop(&g_mock);
  mock_stop(&g_mock2);
  rill_global_cleanup();
  return 0;
}
