/*
 * sc_unit.c — sans-I/O scenarios: the SSE and NDJSON framers, the JSON
 * reader and writer, each provider's chat decoder over a recorded stream
 * (tests/unit/data/providers, through tests/common/prov_feed.h as the
 * provider unit tests do) and each provider's chat request builder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/prov_feed.h"
#include "provider.h"
#include "rill/json.h"
#include "rill/stream.h"
#include "torture.h"

/* ---- framers -------------------------------------------------------- */

/* Event data long enough to make the framers grow their buffers. */
static char g_long[6000];

static const char *long_text(void) {
  if (!g_long[0]) {
    memset(g_long, 'x', sizeof g_long - 1);
    g_long[sizeof g_long - 1] = '\0';
  }
  return g_long;
}

static int on_event(void *u, const rill_sse_event *ev) {
  tt_run *r = u;
  tt_log_str(&r->log, "ev:");
  tt_log_bytes(&r->log, ev->type, ev->type_len);
  tt_log_str(&r->log, "|");
  tt_log_bytes(&r->log, ev->id, ev->id_len);
  tt_log_str(&r->log, "|");
  tt_log_bytes(&r->log, ev->data, ev->data_len);
  tt_log_str(&r->log, "\n");
  return 0;
}

static int on_record(void *u, const char *rec, size_t len, uint64_t line) {
  tt_run *r = u;
  tt_log_fmt(&r->log, "rec %llu:", (unsigned long long)line);
  tt_log_bytes(&r->log, rec, len);
  tt_log_str(&r->log, "\n");
  return 0;
}

/* Feed text in pieces of `piece` bytes to a new framer; log what came. */
static int frame(int sse, const char *text, size_t len, size_t piece,
                 tt_run *r) {
  rill_sse *s = NULL;
  rill_ndjson *nd = NULL;
  size_t off = 0;
  int rc = sse ? rill_sse_new(&s, NULL, on_event, r)
               : rill_ndjson_new(&nd, NULL, on_record, r);
  while (rc == RILL_OK && off < len) {
    size_t n = len - off < piece ? len - off : piece;
    rc = sse ? rill_sse_feed(s, text + off, n) : rill_ndjson_feed(nd, text + off, n);
    off += n;
  }
  if (rc == RILL_OK)
    rc = sse ? rill_sse_finish(s) : rill_ndjson_finish(nd);
  rill_sse_free(s);
  rill_ndjson_free(nd);
  return rc;
}

static int run_sse(void *ctx, tt_run *r) {
  static const char a[] =
      "\xEF\xBB\xBF: comment\r\nevent: delta\r\ndata: one\r\ndata: two\r\n"
      "id: 7\r\nretry: 15\r\n\r\ndata:{\"x\":1}\n\nevent: end\rdata\r\r";
  char b[6100];
  int rc;
  (void)ctx;
  snprintf(b, sizeof b, "data: %s\ndata: tail\n\n", long_text());
  rc = frame(1, a, sizeof a - 1, 5, r);
  if (rc == RILL_OK)
    rc = frame(1, b, strlen(b), 700, r);
  if (rc == RILL_OK)
    rc = frame(1, b, strlen(b), 1, r);
  return rc;
}

static int run_ndjson(void *ctx, tt_run *r) {
  static const char a[] = "\xEF\xBB\xBF{\"a\":1}\r\n\n  \n{\"b\":[1,2]}\n{\"c\":3}";
  char b[6100];
  int rc;
  (void)ctx;
  snprintf(b, sizeof b, "{\"long\":\"%s\"}\n{}\n", long_text());
  rc = frame(0, a, sizeof a - 1, 3, r);
  if (rc == RILL_OK)
    rc = frame(0, b, strlen(b), 512, r);
  if (rc == RILL_OK)
    rc = frame(0, b, strlen(b), 1, r);
  return rc;
}

/* ---- JSON ------------------------------------------------------------- */

static const char *const k_docs[] = {
    "{\"model\":\"m\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"caf\\u00e9 \\ud83c\\udf0a \\\"q\\\"\"},\"done\":false,\"n\":-1.5e3}",
    "[1,2,[3,[4,[5,{\"k\":null}]]],true,false,\"\\n\\t\",0.1]",
    "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,"
    "\"id\":\"call_1\",\"function\":{\"name\":\"f\",\"arguments\":"
    "\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]}}],\"usage\":null}",
    "\"just a string with \\u0000 inside\"",
};

/* Walk every token: types, counts, strings and numbers into the log.
 * rill_json_string's NULL for a string token means out of memory (its
 * header): that is the run's result. */
static int walk(rill_json_doc *d, int tok, tt_log *l, int depth) {
  rill_json_type t = rill_json_type_of(d, tok);
  size_t i, n = rill_json_count(d, tok), len = 0;
  const char *s;
  double v;
  tt_log_fmt(l, "%d:%d ", (int)t, (int)n);
  if (t == RILL_JSON_STRING) {
    if ((s = rill_json_string(d, tok, &len)) == NULL)
      return RILL_E_NOMEM;
    tt_log_bytes(l, s, len);
  }
  if (t == RILL_JSON_NUMBER && rill_json_number(d, tok, &v) == RILL_OK)
    tt_log_fmt(l, "%.17g", v);
  tt_log_str(l, "\n");
  if (depth > 16)
    return RILL_OK;
  for (i = 0; i < n; i++) {
    int rc = RILL_OK;
    if (t == RILL_JSON_ARRAY) {
      rc = walk(d, rill_json_at(d, tok, i), l, depth + 1);
    } else if (t == RILL_JSON_OBJECT) {
      /* Members by name: the keys this document set uses. */
      static const char *const keys[] = {"model", "message", "content",
                                         "choices", "delta", "tool_calls",
                                         "function", "arguments", "k", "n"};
      size_t j;
      for (j = 0; j < sizeof keys / sizeof *keys && rc == RILL_OK; j++) {
        int m = rill_json_get(d, tok, keys[j]);
        if (m >= 0)
          rc = walk(d, m, l, depth + 1);
      }
      return rc;
    }
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

static int run_json_parse(void *ctx, tt_run *r) {
  size_t i;
  (void)ctx;
  for (i = 0; i < sizeof k_docs / sizeof *k_docs; i++) {
    rill_json_doc *d = NULL;
    rill_json_error e;
    int rc = rill_json_parse(&d, k_docs[i], strlen(k_docs[i]), &e);
    if (rc != RILL_OK)
      return rc;
    rc = walk(d, 0, &r->log, 0);
    rill_json_doc_free(d);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

/* Escapes, a control byte and invalid UTF-8 (replaced on output). */
static const char k_odd[] = "caf\xC3\xA9 \"quoted\"\n\x01 bad \xFF end";

static int run_json_writer(void *ctx, tt_run *r) {
  rill_jw *w = NULL;
  int rc, i;
  const char *out;
  size_t len;
  (void)ctx;
  rc = rill_jw_new(&w, 0);
  if (rc != RILL_OK)
    return rc;
  rill_jw_object_begin(w);
  rill_jw_key(w, "model", 5);
  rill_jw_string(w, "llama3.2", 8);
  rill_jw_key(w, "messages", 8);
  rill_jw_array_begin(w);
  for (i = 0; i < 40; i++) {
    rill_jw_object_begin(w);
    rill_jw_key(w, "content", 7);
    rill_jw_string(w, k_odd, sizeof k_odd - 1);
    rill_jw_key(w, "n", 1);
    rill_jw_int(w, -i);
    rill_jw_key(w, "x", 1);
    rill_jw_double(w, 0.1 * i);
    rill_jw_key(w, "big", 3);
    rill_jw_string(w, long_text(), 300);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  rill_jw_key(w, "raw", 3);
  rill_jw_raw(w, k_docs[1], strlen(k_docs[1]));
  rill_jw_key(w, "ok", 2);
  rill_jw_bool(w, 1);
  rill_jw_object_end(w);
  rc = rill_jw_error(w);
  if (rc == RILL_OK) {
    out = rill_jw_data(w, &len);
    tt_log_bytes(&r->log, out, len);
  }
  rill_jw_free(w);
  return rc;
}

/* ---- provider decoders ------------------------------------------------- */

typedef struct decode_ctx {
  char *data;
  size_t len;
} decode_ctx;

static int decode_setup(const char *fixture, void **ctx) {
  char path[1024];
  decode_ctx *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  snprintf(path, sizeof path, "%s/providers/%s", RILL_TESTDATA_DIR, fixture);
  c->data = tt_read_file(path, &c->len);
  *ctx = c;
  return c->data ? 0 : -1;
}

static void decode_teardown(void *ctx) {
  decode_ctx *c = ctx;
  if (c)
    free(c->data);
  free(c);
}

static int decode(void *ctx, tt_run *r, int provider, feed_kind kind) {
  decode_ctx *c = ctx;
  rill_chat_callbacks cb = tt_chat_callbacks(r);
  rill__decoder *d = NULL;
  int rc;
  switch (provider) {
  case RILL_PROVIDER_OLLAMA:
    rc = rill__ollama_chat_decoder_new(&cb, 0, &d);
    break;
  case RILL_PROVIDER_OPENAI:
    rc = rill__openai_chat_decoder_new(&cb, &d);
    break;
  case RILL_PROVIDER_GEMINI:
    rc = rill__gemini_chat_decoder_new(&cb, &d);
    break;
  default:
    rc = rill__anthropic_chat_decoder_new(&cb, &d);
    break;
  }
  if (rc != RILL_OK) {
    r->start_failed = 1;
    return rc;
  }
  /* 3-byte pieces: records and events span feeds, so the framers copy. */
  rc = feed(d, kind, c->data, c->len, 3, 0);
  d->ops->destroy(d);
  return rc;
}

#define DECODER(fn, fixture, provider, kind)                                  \
  static int fn##_setup(void **ctx) { return decode_setup(fixture, ctx); }    \
  static int fn##_run(void *ctx, tt_run *r) {                                 \
    return decode(ctx, r, provider, kind);                                    \
  }

DECODER(dec_ollama_tools, "ollama_chat_tools.ndjson", RILL_PROVIDER_OLLAMA, FEED_NDJSON)
DECODER(dec_ollama_think, "ollama_chat_thinking.ndjson", RILL_PROVIDER_OLLAMA, FEED_NDJSON)
DECODER(dec_openai_tools, "openai_tools_parallel.sse", RILL_PROVIDER_OPENAI, FEED_SSE)
DECODER(dec_openai_reason, "openai_reasoning_crlf.sse", RILL_PROVIDER_OPENAI, FEED_SSE)
DECODER(dec_gemini_tools, "gemini_parallel_calls.sse", RILL_PROVIDER_GEMINI, FEED_SSE)
DECODER(dec_gemini_think, "gemini_thinking.sse", RILL_PROVIDER_GEMINI, FEED_SSE)
DECODER(dec_anthropic_tools, "anthropic_tools_parallel.sse", RILL_PROVIDER_ANTHROPIC, FEED_SSE)
DECODER(dec_anthropic_think, "anthropic_thinking.sse", RILL_PROVIDER_ANTHROPIC, FEED_SSE)

/* ---- request builders --------------------------------------------------- */

static int build(tt_run *r, rill_provider p) {
  static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10};
  static const char *const stop[] = {"END", "\n\n"};
  static const char *const headers[] = {"X-Extra: 1"};
  rill_image img = {"image/jpeg", jpeg, sizeof jpeg};
  rill_tool_call tc = {0, "call_1", "get_weather", "{\"city\":\"Oslo\"}", 15};
  rill_message m[5];
  rill_tool tool = {"get_weather", "The weather in a city",
                    "{\"type\":\"object\",\"properties\":{\"city\":"
                    "{\"type\":\"string\"}},\"required\":[\"city\"]}"};
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request rq;
  int rc;
  memset(m, 0, sizeof m);
  m[0].role = RILL_ROLE_SYSTEM;
  m[0].content = "Be brief.";
  m[1].role = RILL_ROLE_USER;
  m[1].content = "What is the weather in Oslo? \xF0\x9F\x8C\x8A";
  m[1].images = &img;
  m[1].n_images = 1;
  m[2].role = RILL_ROLE_ASSISTANT;
  m[2].thinking = "The user wants weather.";
  m[2].tool_calls = &tc;
  m[2].n_tool_calls = 1;
  m[3].role = RILL_ROLE_TOOL;
  m[3].content = "11 degrees";
  m[3].tool_call_id = "call_1";
  m[3].tool_name = "get_weather";
  m[4].role = RILL_ROLE_USER;
  m[4].content = long_text();
  req.endpoint.provider = p;
  req.endpoint.base_url = "http://127.0.0.1:9/v1";
  req.endpoint.api_key = "sk-torture-0123456789";
  req.endpoint.headers = headers;
  req.endpoint.n_headers = 1;
  req.model = "some-model";
  req.messages = m;
  req.n_messages = 5;
  req.tools = &tool;
  req.n_tools = 1;
  req.set = RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_MAX_TOKENS |
            RILL_SET_SEED;
  req.temperature = 0.25;
  req.top_p = 0.5;
  req.max_tokens = 2048;
  req.seed = 42;
  req.stop = stop;
  req.n_stop = 2;
  req.think = RILL_THINK_ON;
  req.keep_alive = "5m";
  if (p == RILL_PROVIDER_GEMINI)
    req.extra_json = "{\"safetySettings\":[{\"category\":"
                     "\"HARM_CATEGORY_HATE_SPEECH\",\"threshold\":\"BLOCK_NONE\"}]}";
  rill__request_init(&rq, NULL);
  switch (p) {
  case RILL_PROVIDER_OLLAMA:
    rc = rill__ollama_chat_build(&req, NULL, &rq);
    break;
  case RILL_PROVIDER_OPENAI:
    rc = rill__openai_chat_build(&req, NULL, &rq);
    break;
  case RILL_PROVIDER_GEMINI:
    rc = rill__gemini_chat_build(&req, NULL, &rq);
    break;
  default:
    rc = rill__anthropic_chat_build(&req, NULL, &rq);
    break;
  }
  if (rc == RILL_OK) {
    tt_log_fmt(&r->log, "%s %s\n", rq.method, rq.url.data ? rq.url.data : "");
    if (rq.headers.len)
      tt_log_bytes(&r->log, rq.headers.data, rq.headers.len);
    tt_log_str(&r->log, "\n");
    if (rq.body.len)
      tt_log_bytes(&r->log, rq.body.data, rq.body.len);
  }
  rill__request_release(&rq);
  return rc;
}

static int run_build_ollama(void *c, tt_run *r) { (void)c; return build(r, RILL_PROVIDER_OLLAMA); }
static int run_build_openai(void *c, tt_run *r) { (void)c; return build(r, RILL_PROVIDER_OPENAI); }
static int run_build_gemini(void *c, tt_run *r) { (void)c; return build(r, RILL_PROVIDER_GEMINI); }
static int run_build_anthropic(void *c, tt_run *r) { (void)c; return build(r, RILL_PROVIDER_ANTHROPIC); }

#define DEC(name, fn) {name, "unit", fn##_setup, NULL, fn##_run, decode_teardown, NULL}

const tt_scenario tt_unit_scenarios[] = {
    {"sse-framing", "unit", NULL, NULL, run_sse, NULL, NULL},
    {"ndjson-framing", "unit", NULL, NULL, run_ndjson, NULL, NULL},
    {"json-parse", "unit", NULL, NULL, run_json_parse, NULL, NULL},
    {"json-writer", "unit", NULL, NULL, run_json_writer, NULL, NULL},
    DEC("decode-ollama-tools", dec_ollama_tools),
    DEC("decode-ollama-thinking", dec_ollama_think),
    DEC("decode-openai-tools", dec_openai_tools),
    DEC("decode-openai-reasoning", dec_openai_reason),
    DEC("decode-gemini-tools", dec_gemini_tools),
    DEC("decode-gemini-thinking", dec_gemini_think),
    DEC("decode-anthropic-tools", dec_anthropic_tools),
    DEC("decode-anthropic-thinking", dec_anthropic_think),
    {"build-ollama", "unit", NULL, NULL, run_build_ollama, NULL, NULL},
    {"build-openai", "unit", NULL, NULL, run_build_openai, NULL, NULL},
    {"build-gemini", "unit", NULL, NULL, run_build_gemini, NULL, NULL},
    {"build-anthropic", "unit", NULL, NULL, run_build_anthropic, NULL, NULL},
};
const size_t tt_n_unit_scenarios =
    sizeof tt_unit_scenarios / sizeof *tt_unit_scenarios;
