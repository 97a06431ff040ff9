/*
 * sc_mock.c — the public API against rill-mock on 127.0.0.1 (scenario files
 * in tests/mock/scenarios, tests/mock/CONTRACT.md): a chat per provider
 * with thinking and tool calls, embeddings, model listing, an HTTP error,
 * retry-then-ok and a stream cut mid-record. One mock per scenario serves
 * every run; each run starts from a fresh client so that its allocation
 * sequence (rill's and curl's) is the same every time.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mock_proc.h"
#include "rill/chat.h"
#include "rill/client.h"
#include "rill/embeddings.h"
#include "rill/error.h"
#include "rill/models.h"
#include "torture.h"

/* Polls allowed per run. A poll may bring a single byte (the scenarios
 * split "bytes" send a 2.5 KB body one byte per write), so the bound sits
 * far above the longest body; RUN_LIMIT_MS stops a stuck run sooner. */
#define MAX_POLLS 50000
#define RUN_LIMIT_MS 60000

/* rill_stream_status still 1 after either bound: not a rill code. */
#define TT_STILL_RUNNING (-30)

typedef enum call_kind {
  CALL_CHAT,       /* rill_chat_start, driven with rill_client_poll */
  CALL_CHAT_RESULT,/* blocking rill_chat into a rill_chat_result */
  CALL_CHAT_LOOP,  /* rill_chat_start in event-loop mode (a host poll loop) */
  CALL_EMBED,
  CALL_MODELS
} call_kind;

typedef struct mock_def {
  const char *file;   /* scenario in RILL_SCENARIO_DIR, or NULL: inline */
  const char *inline_json;
  rill_provider provider;
  const char *prefix; /* appended to the mock's base URL */
  const char *model;
  call_kind call;
  int think;
  int reset; /* rewind the response sequence before every run */
  size_t n_inputs; /* CALL_EMBED: texts sent (as many vectors come back) */
} mock_def;

typedef struct mock_ctx {
  const mock_def *def;
  mock_proc m;
  char base[256];
} mock_ctx;

static int mock_setup(const mock_def *def, void **ctx) {
  mock_ctx *c = calloc(1, sizeof *c);
  char *json = NULL;
  size_t len;
  int rc;
  if (!c)
    return -1;
  *ctx = c;
  c->def = def;
  if (def->file) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", RILL_SCENARIO_DIR, def->file);
    if (!(json = tt_read_file(path, &len)))
      return -1;
  }
  rc = mock_start(&c->m, RILL_MOCK_BIN, json ? json : def->inline_json, NULL);
  free(json);
  if (rc != 0)
    return -1;
  snprintf(c->base, sizeof c->base, "%s%s", c->m.base,
           def->prefix ? def->prefix : "");
  return 0;
}

static void mock_teardown(void *ctx) {
  mock_ctx *c = ctx;
  if (!c)
    return;
  mock_stop(&c->m);
  free(c);
}

static void mock_prepare(void *ctx) {
  mock_ctx *c = ctx;
  if (c->def->reset)
    free(mock_get(&c->m, "/__mock/reset"));
}

static void fill_endpoint(const mock_ctx *c, rill_endpoint *ep) {
  memset(ep, 0, sizeof *ep);
  ep->provider = c->def->provider;
  ep->base_url = c->base;
  if (ep->provider != RILL_PROVIDER_OLLAMA)
    ep->api_key = "sk-torture-0123456789abcdef";
}

/* Retries stay on (their paths fail too) but wait a millisecond. */
static void fill_retry(rill_retry *r) {
  memset(r, 0, sizeof *r);
  r->max_retries = 2;
  r->base_delay_ms = 1;
  r->max_delay_ms = 1;
}

static long long mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int drive(rill_client *cl, rill_stream *s) {
  long long stop = mono_ms() + RUN_LIMIT_MS;
  int i, rc;
  for (i = 0; i < MAX_POLLS && rill_client_active(cl) > 0 && mono_ms() < stop;
       i++) {
    rc = rill_client_poll(cl, 100);
    if (rc < 0)
      return rc;
  }
  rc = rill_stream_status(s);
  return rc == 1 ? TT_STILL_RUNNING : rc;
}

static const rill_tool k_tool = {
    "get_weather", "The weather in a city",
    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"};
static const rill_message k_msg = {RILL_ROLE_USER, "What is the weather in Oslo?",
                                   NULL, NULL, 0, NULL, 0, NULL, NULL};

static void fill_chat(const mock_ctx *c, rill_chat_request *req) {
  fill_endpoint(c, &req->endpoint);
  req->model = c->def->model;
  req->messages = &k_msg;
  req->n_messages = 1;
  req->tools = &k_tool;
  req->n_tools = 1;
  req->think = c->def->think ? RILL_THINK_ON : RILL_THINK_DEFAULT;
  req->timeouts.total_ms = 30000;
  fill_retry(&req->retry);
}

static int run_chat(mock_ctx *c, rill_client *cl, tt_run *r) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = tt_chat_callbacks(r);
  rill_stream *s = NULL;
  int rc;
  fill_chat(c, &req);
  rc = rill_chat_start(cl, &req, &cb, &s);
  if (rc != RILL_OK) {
    r->start_failed = 1;
    return s ? RILL_E_INTERNAL : rc;
  }
  rc = drive(cl, s);
  rill_stream_free(s);
  return rc;
}

/* The accumulator between the stream and the application: what it kept
 * goes into the log after the application's own callbacks. */
static int run_chat_result(mock_ctx *c, rill_client *cl, tt_run *r) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks app = tt_chat_callbacks(r), cb;
  rill_chat_result *res = NULL;
  const rill_done *d;
  const char *s;
  size_t i, len;
  int rc = rill_chat_result_new(&res);
  if (rc != RILL_OK) {
    r->start_failed = 1;
    return res ? RILL_E_INTERNAL : rc;
  }
  rill_chat_result_callbacks(res, &app, &cb);
  fill_chat(c, &req);
  rc = rill_chat(cl, &req, &cb);
  /* rill_chat cannot tell a failed start from a stream error; a failed
   * start is one that ran no callback. */
  r->start_failed = rc != RILL_OK && r->n_done + r->n_error == 0;
  if (rc == RILL_OK && rill_chat_result_error(res)->code != RILL_OK) {
    /* The stream succeeded but the result could not keep all of it. */
    rc = rill_chat_result_error(res)->code;
    r->n_done = 0; /* judged as a failure the application was told of */
    r->n_error = 1;
    r->err_code = rc;
  } else if (rc == RILL_OK) {
    s = rill_chat_result_text(res, &len);
    tt_log_str(&r->log, "result text:");
    tt_log_bytes(&r->log, s, len);
    s = rill_chat_result_thinking(res, &len);
    tt_log_str(&r->log, "\nresult thinking:");
    tt_log_bytes(&r->log, s, len);
    for (i = 0; i < rill_chat_result_n_tool_calls(res); i++) {
      const rill_tool_call *tc = rill_chat_result_tool_call(res, i);
      tt_log_fmt(&r->log, "\nresult tool:%s|%s|%s", tc->id, tc->name,
                 tc->arguments);
    }
    if ((d = rill_chat_result_done(res)) != NULL)
      tt_log_fmt(&r->log, "\nresult done:%s|%s\n", d->raw_finish, d->model);
  } else if (rc == RILL_E_CANCELLED &&
             rill_chat_result_error(res)->code != RILL_OK) {
    /* The accumulator cancels the stream when it cannot keep a delta; its
     * own error says why (rill/chat.h). */
    rc = rill_chat_result_error(res)->code;
    r->err_code = rc;
  }
  rill_chat_result_free(res);
  return rc;
}

static int run_embed(mock_ctx *c, rill_client *cl, tt_run *r) {
  static const char *const inputs[] = {"hello", "world"};
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill_embeddings *out = NULL;
  char err[256];
  size_t i;
  int rc;
  fill_endpoint(c, &req.endpoint);
  req.model = c->def->model;
  req.inputs = inputs;
  req.n_inputs = c->def->n_inputs;
  req.timeouts.total_ms = 30000;
  fill_retry(&req.retry);
  rc = rill_embed_remote(cl, &req, &out, err, sizeof err);
  if (rc == RILL_OK) {
    tt_log_fmt(&r->log, "n=%zu dims=%zu\n", out->n, out->dims);
    for (i = 0; i < out->n * out->dims; i++)
      tt_log_fmt(&r->log, "%a\n", (double)out->data[i]);
  } else if (out) {
    rc = RILL_E_INTERNAL;
  }
  rill_embeddings_free(out);
  return rc;
}

static int on_model(void *user, const rill_model_info *m) {
  tt_run *r = user;
  tt_log_fmt(&r->log, "%s|%s|%lld|%s|%s\n", m->name, m->digest,
             (long long)m->size, m->family, m->owned_by);
  return 0;
}

static int run_models(mock_ctx *c, rill_client *cl, tt_run *r) {
  rill_endpoint ep;
  rill_timeouts t;
  char err[256];
  fill_endpoint(c, &ep);
  memset(&t, 0, sizeof t);
  t.total_ms = 30000;
  return rill_models(cl, &ep, &t, on_model, r, err, sizeof err);
}

/* ---- event-loop mode: a minimal host loop over poll(2) ----------------- */

#define HOST_FDS 16

typedef struct host {
  struct pollfd fds[HOST_FDS];
  int n;
  long long due; /* ms on CLOCK_MONOTONIC, -1: no timer */
} host;


static int host_watch(void *user, int fd, int events) {
  host *h = user;
  int i;
  for (i = 0; i < h->n && h->fds[i].fd != fd; i++) {
  }
  if (events & RILL_POLL_REMOVE) {
    if (i < h->n)
      h->fds[i] = h->fds[--h->n];
    return 0;
  }
  if (i == h->n) {
    if (h->n == HOST_FDS)
      return -1;
    h->n++;
  }
  h->fds[i].fd = fd;
  h->fds[i].events = (short)(((events & RILL_POLL_IN) ? POLLIN : 0) |
                             ((events & RILL_POLL_OUT) ? POLLOUT : 0));
  return 0;
}

static int host_timer(void *user, long ms) {
  host *h = user;
  h->due = ms < 0 ? -1 : mono_ms() + ms;
  return 0;
}

/* Drive the client as an editor's loop would; a negative status from an
 * action is the run's result (the stream is then left to rill_stream_free,
 * and the callback check says whether it ended properly). */
static int host_drive(host *h, rill_client *cl, rill_stream *s) {
  long long stop = mono_ms() + RUN_LIMIT_MS;
  int i, k, rc;
  for (i = 0; i < MAX_POLLS && rill_client_active(cl) > 0 && mono_ms() < stop;
       i++) {
    struct pollfd fds[HOST_FDS];
    long long now = mono_ms();
    int n = h->n, wait = h->due < 0 ? 100 : (int)(h->due > now ? h->due - now : 0);
    memcpy(fds, h->fds, sizeof fds);
    if (poll(fds, (nfds_t)n, wait > 100 ? 100 : wait) < 0)
      return RILL_E_IO;
    for (k = 0; k < n; k++) {
      if (!fds[k].revents)
        continue;
      rc = rill_client_socket_action(
          cl, fds[k].fd,
          ((fds[k].revents & (POLLIN | POLLHUP | POLLERR)) ? RILL_POLL_IN : 0) |
              ((fds[k].revents & POLLOUT) ? RILL_POLL_OUT : 0));
      if (rc < 0)
        return rc;
    }
    if (h->due >= 0 && mono_ms() >= h->due) {
      h->due = -1;
      if ((rc = rill_client_timeout_action(cl)) < 0)
        return rc;
    }
  }
  rc = rill_stream_status(s);
  return rc == 1 ? TT_STILL_RUNNING : rc;
}

static int run_chat_loop(mock_ctx *c, rill_client *cl, host *h, tt_run *r) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = tt_chat_callbacks(r);
  rill_stream *s = NULL;
  int rc;
  fill_chat(c, &req);
  rc = rill_chat_start(cl, &req, &cb, &s);
  if (rc != RILL_OK) {
    r->start_failed = 1;
    return s ? RILL_E_INTERNAL : rc;
  }
  rc = host_drive(h, cl, s);
  rill_stream_free(s);
  return rc;
}

static int mock_run(void *ctx, tt_run *r) {
  mock_ctx *c = ctx;
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  rill_loop_callbacks lcb = {sizeof lcb, host_watch, host_timer, NULL};
  rill_client *cl = NULL;
  host h;
  int rc;
  memset(&h, 0, sizeof h);
  h.due = -1;
  lcb.user = &h;
  if (c->def->call == CALL_CHAT_LOOP)
    o.loop = &lcb;
  rc = rill_client_new(&cl, &o);
  if (rc != RILL_OK) {
    r->start_failed = 1;
    (void)tt_chat_callbacks(r); /* the chat contract: no callback at all */
    return cl ? RILL_E_INTERNAL : rc;
  }
  switch (c->def->call) {
  case CALL_CHAT:
    rc = run_chat(c, cl, r);
    break;
  case CALL_CHAT_RESULT:
    rc = run_chat_result(c, cl, r);
    break;
  case CALL_CHAT_LOOP:
    rc = run_chat_loop(c, cl, &h, r);
    break;
  case CALL_EMBED:
    rc = run_embed(c, cl, r);
    break;
  default:
    rc = run_models(c, cl, r);
    break;
  }
  rill_client_free(cl);
  return rc;
}

/* 503 without Retry-After, then the answer; rewound before every run. */
static const char k_retry_json[] =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"/api/chat\",\"responses\":["
    "{\"status\":503,\"body\":\"{\\\"error\\\":\\\"busy\\\"}\"},"
    "{\"content_type\":\"application/x-ndjson\",\"split\":{\"mode\":\"records\"},"
    "\"body\":\"{\\\"model\\\":\\\"m\\\",\\\"message\\\":{\\\"role\\\":"
    "\\\"assistant\\\",\\\"content\\\":\\\"Hi\\\"},\\\"done\\\":false}\\n"
    "{\\\"model\\\":\\\"m\\\",\\\"message\\\":{\\\"role\\\":\\\"assistant\\\","
    "\\\"content\\\":\\\"\\\"},\\\"done\\\":true,\\\"done_reason\\\":\\\"stop\\\","
    "\\\"prompt_eval_count\\\":3,\\\"eval_count\\\":1}\\n\"}]}]}";

/* 8 KB of generated Ollama lines with a line of binary garbage halfway
 * (tests/mock/CONTRACT.md, fault "garbage"). */
static const char k_garbage_json[] =
    "{\"routes\":[{\"method\":\"POST\",\"path\":\"/api/chat\",\"responses\":["
    "{\"generate\":{\"kind\":\"ollama_chat\",\"bytes\":8192},"
    "\"fault\":\"garbage\"}]}]}";

static const mock_def k_defs[] = {
    {"ollama-tool-call.json", NULL, RILL_PROVIDER_OLLAMA, NULL, "llama3.2", CALL_CHAT, 0, 0, 0},
    {"ollama-thinking.json", NULL, RILL_PROVIDER_OLLAMA, NULL, "qwen3", CALL_CHAT, 1, 0, 0},
    {"openai-tool-call.json", NULL, RILL_PROVIDER_OPENAI, "/v1", "gpt-4o-mini", CALL_CHAT, 0, 0, 0},
    {"openai-chat.json", NULL, RILL_PROVIDER_OPENAI, "/v1", "gpt-4o-mini", CALL_CHAT, 0, 0, 0},
    {"gemini-chat.json", NULL, RILL_PROVIDER_GEMINI, "/v1beta", "gemini-2.5-flash", CALL_CHAT, 1, 0, 0},
    {"gemini-chat.json", NULL, RILL_PROVIDER_GEMINI, "/v1beta", "tools", CALL_CHAT, 0, 0, 0},
    {"anthropic-chat.json", NULL, RILL_PROVIDER_ANTHROPIC, "/thinking/v1", "claude-sonnet-4-20250514", CALL_CHAT, 1, 0, 0},
    {"anthropic-chat.json", NULL, RILL_PROVIDER_ANTHROPIC, "/tools/v1", "claude-sonnet-4-20250514", CALL_CHAT, 0, 0, 0},
    {"models.json", NULL, RILL_PROVIDER_OLLAMA, NULL, "nomic-embed-text", CALL_EMBED, 0, 0, 1},
    {"models.json", NULL, RILL_PROVIDER_OLLAMA, NULL, NULL, CALL_MODELS, 0, 0, 0},
    {"models.json", NULL, RILL_PROVIDER_OPENAI, "/v1", NULL, CALL_MODELS, 0, 0, 0},
    {"errors.json", NULL, RILL_PROVIDER_OLLAMA, NULL, "llama9", CALL_CHAT, 0, 0, 0},
    {NULL, k_retry_json, RILL_PROVIDER_OLLAMA, NULL, "m", CALL_CHAT, 0, 1, 0},
    {"anthropic-errors.json", NULL, RILL_PROVIDER_ANTHROPIC, "/truncated/v1", "claude-sonnet-4-20250514", CALL_CHAT, 0, 0, 0},
    {"gemini-chat.json", NULL, RILL_PROVIDER_GEMINI, "/v1beta", "gemini-embedding-001", CALL_EMBED, 0, 0, 2},
    {"openai-tool-call.json", NULL, RILL_PROVIDER_OPENAI, "/v1", "gpt-4o-mini", CALL_CHAT_RESULT, 0, 0, 0},
    {"ollama-thinking.json", NULL, RILL_PROVIDER_OLLAMA, NULL, "qwen3", CALL_CHAT_RESULT, 1, 0, 0},
    {"anthropic-chat.json", NULL, RILL_PROVIDER_ANTHROPIC, "/tools/v1", "claude-sonnet-4-20250514", CALL_CHAT_LOOP, 0, 0, 0},
    {NULL, k_retry_json, RILL_PROVIDER_OLLAMA, NULL, "m", CALL_CHAT_LOOP, 0, 1, 0},
    {"anthropic-errors.json", NULL, RILL_PROVIDER_ANTHROPIC, "/auth/v1", "claude-sonnet-4-20250514", CALL_CHAT, 0, 0, 0},
    {"gemini-errors.json", NULL, RILL_PROVIDER_GEMINI, "/v1beta", "midstream", CALL_CHAT, 0, 0, 0},
    {NULL, k_garbage_json, RILL_PROVIDER_OLLAMA, NULL, "llama3.2", CALL_CHAT, 0, 0, 0},
};

#define DEF(i)                                                              \
  static int setup_##i(void **ctx) { return mock_setup(&k_defs[i], ctx); }
DEF(0) DEF(1) DEF(2) DEF(3) DEF(4) DEF(5) DEF(6) DEF(7) DEF(8) DEF(9)
DEF(10) DEF(11) DEF(12) DEF(13) DEF(14) DEF(15) DEF(16) DEF(17) DEF(18)
DEF(19) DEF(20) DEF(21)

/* Codes the transport documents besides RILL_E_NOMEM (docs/testing.md,
 * "Allocation failure (G3)"): none so far. */
static const int k_also[] = {0};

#define SC(name, i)                                                         \
  { name, "mock", setup_##i, mock_prepare, mock_run, mock_teardown, k_also }

const tt_scenario tt_mock_scenarios[] = {
    SC("mock-chat-ollama-tools", 0),
    SC("mock-chat-ollama-thinking", 1),
    SC("mock-chat-openai-tools", 2),
    SC("mock-chat-openai-text", 3),
    SC("mock-chat-gemini-thinking", 4),
    SC("mock-chat-gemini-tools", 5),
    SC("mock-chat-anthropic-thinking", 6),
    SC("mock-chat-anthropic-tools", 7),
    SC("mock-embed-ollama", 8),
    SC("mock-models-ollama", 9),
    SC("mock-models-openai", 10),
    SC("mock-http-error-404", 11),
    SC("mock-retry-then-ok", 12),
    SC("mock-midstream-close", 13),
    SC("mock-embed-gemini-batch", 14),
    SC("mock-chat-result-openai-tools", 15),
    SC("mock-chat-result-ollama-thinking", 16),
    SC("mock-loop-anthropic-tools", 17),
    SC("mock-loop-retry-then-ok", 18),
    SC("mock-http-auth-401", 19),
    SC("mock-stream-error-gemini", 20),
    SC("mock-garbage-ollama", 21),
};
const size_t tt_n_mock_scenarios =
    sizeof tt_mock_scenarios / sizeof *tt_mock_scenarios;
