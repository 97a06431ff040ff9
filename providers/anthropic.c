/*
 * providers/anthropic.c — the Anthropic Messages API: POST {base}/messages
 * (default base https://api.anthropic.com/v1) streamed as SSE with named
 * events ("stream":true) or, with no_stream, one whole Message object.
 * Headers (providers/common.c): x-api-key (the credential, from
 * endpoint.api_key or $ANTHROPIC_API_KEY) and anthropic-version:
 * 2023-06-01.
 *
 * Request fields written: model, max_tokens (RILL_SET_MAX_TOKENS, else
 * ANT_DEFAULT_MAX_TOKENS: the API requires it), stream, system (the system
 * messages' contents joined with a blank line), messages[] (user and tool
 * results as role "user", assistant as "assistant"; consecutive messages
 * of the same wire role are one message) with content blocks: text, image
 * {source{type:base64, media_type, data}}, tool_use {id, name, input (the
 * arguments object)}, tool_result {tool_use_id, content}; req->prompt, if
 * set, as a last user text block; tools[] {name, description,
 * input_schema}; temperature, top_p, top_k, stop_sequences; thinking
 * {type:enabled, budget_tokens:ANT_THINKING_BUDGET} (think on) or
 * {type:disabled} (think off). Not sent: seed, num_ctx, keep_alive, the
 * earlier thinking of assistant turns (the API wants its signature, which
 * rill_message does not carry). An output format other than text is
 * RILL_E_UNSUPPORTED.
 *
 * Events read (the JSON "type" member; the SSE event name when it has
 * none): message_start {message{model, usage{input_tokens,
 * cache_creation_input_tokens, cache_read_input_tokens}}};
 * content_block_start {index, content_block{type: text | thinking |
 * redacted_thinking | tool_use {id, name} | server blocks}};
 * content_block_delta {index, delta{type: text_delta {text} → on_text,
 * thinking_delta {thinking} → on_thinking, input_json_delta {partial_json}
 * → on_tool_call_delta and assembled, signature_delta and others
 * ignored}}; content_block_stop {index} (a tool_use block: on_tool_call
 * with the assembled arguments, validated; empty → "{}"); message_delta
 * {delta{stop_reason}, usage{output_tokens (cumulative), input and cache
 * counts when repeated, output_tokens_details.thinking_tokens}};
 * message_stop → on_done; ping ignored; error {error{type, message}} ends
 * the stream. Unknown events are ignored.
 *
 * Invariants: blocks are sequential (one open block at a time, as the API
 * sends them); a delta for another index than the open block's is
 * ignored; only "tool_use" blocks become tool calls (server tools run on
 * the server).
 */
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

/* max_tokens is required by the API; this is sent when the caller did not
 * set RILL_SET_MAX_TOKENS. */
#define ANT_DEFAULT_MAX_TOKENS 4096
/* thinking.budget_tokens when think is on: the API's minimum. */
#define ANT_THINKING_BUDGET 1024

typedef enum ant_block {
  BLOCK_NONE = 0,
  BLOCK_TEXT,
  BLOCK_THINKING,
  BLOCK_TOOL,
  BLOCK_OTHER
} ant_block;

typedef struct ant_dec {
  rill__chatdec c;
  ant_block block;     /* the open content block's kind */
  int64_t block_index; /* its wire index */
  rill__toolcall call; /* the open tool_use block */
  int64_t in_tokens, cache_create, cache_read; /* -1: not reported */
  int saw_stop_reason;
} ant_dec;

static void ant_ready(ant_dec *d) {
  rill__pool *pool;
  if (d->c.p.inited)
    return;
  rill__chatdec_ready(&d->c);
  pool = rill__stream_pool(d->c.p.base.stream);
  d->call.id.pool = pool;
  d->call.name.pool = pool;
  d->call.args.pool = pool;
}

/* stop_reason → rill_finish. */
static rill_finish finish_from(const char *s, size_t n) {
#define IS(lit) (n == sizeof(lit) - 1 && !memcmp(s, lit, n))
  if (n == 0)
    return RILL_FINISH_NONE;
  if (IS("end_turn") || IS("stop_sequence"))
    return RILL_FINISH_STOP;
  if (IS("max_tokens") || IS("model_context_window_exceeded"))
    return RILL_FINISH_LENGTH;
  if (IS("tool_use"))
    return RILL_FINISH_TOOL_CALLS;
  if (IS("refusal"))
    return RILL_FINISH_CONTENT_FILTER;
  return RILL_FINISH_OTHER;
#undef IS
}

/* An error type (from an error event or body) → a rill code. */
static int code_from_error_type(const rill__json *js, int t) {
  static const struct {
    const char *type;
    int code;
  } map[] = {{"overloaded_error", RILL_E_UNAVAILABLE},
             {"api_error", RILL_E_UNAVAILABLE},
             {"timeout_error", RILL_E_UNAVAILABLE},
             {"gateway_timeout_error", RILL_E_UNAVAILABLE},
             {"rate_limit_error", RILL_E_RATE_LIMITED},
             {"authentication_error", RILL_E_AUTH},
             {"permission_error", RILL_E_AUTH},
             {"not_found_error", RILL_E_NOT_FOUND},
             {"invalid_request_error", RILL_E_HTTP},
             {"request_too_large", RILL_E_HTTP},
             {"billing_error", RILL_E_HTTP}};
  size_t k;
  if (!rill__json_is_string(js, t))
    return RILL__E_STREAM_ERROR;
  for (k = 0; k < sizeof map / sizeof map[0]; k++)
    if (rill__json_str_eq(js, t, map[k].type, strlen(map[k].type)))
      return map[k].code;
  return RILL__E_STREAM_ERROR;
}

/* An error object (the value of "error") inside a 200 answer. */
static int stream_error(ant_dec *d, int e) {
  const rill__json *js = &d->c.js;
  char msg[RILL__PROVIDER_MSG_MAX + 1];
  char type[64];
  int t = rill__json_getz(js, e, "type");
  int code = code_from_error_type(js, t);
  rill__error_member_message(js, e, msg, sizeof msg);
  type[0] = '\0';
  if (rill__json_is_string(js, t))
    rill__error_member_message(js, t, type, sizeof type);
  if (type[0] && msg[0] && strcmp(type, msg) != 0)
    return rill__pdec_fail(&d->c.p, code, 200, "%s (%s)", msg, type);
  return rill__pdec_fail(&d->c.p, code, 200, "%s",
                         msg[0] ? msg : "the server reported an error");
}

/* Copy string token i into dst (NUL-terminated). */
static int put_str(ant_dec *d, int i, rill__buf *dst, const char *what) {
  int rc;
  rill__buf_clear(dst);
  if (!rill__json_is_string(&d->c.js, i))
    return RILL_OK;
  rc = rill__json_unescape(&d->c.js, i, dst);
  if (rc == RILL_OK)
    rc = rill__buf_putc(dst, '\0');
  if (rc == RILL_OK) {
    dst->len--;
    return RILL_OK;
  }
  rill__buf_clear(dst);
  return rill__pdec_fail(&d->c.p, rc, 0, "%s: %s", what, rill_strerror(rc));
}

static void set_input_tokens(ant_dec *d) {
  int64_t n = d->in_tokens;
  if (n < 0)
    return;
  if (d->cache_create > 0)
    n += d->cache_create;
  if (d->cache_read > 0)
    n += d->cache_read;
  d->c.usage.input_tokens = n;
}

static void read_usage(ant_dec *d, int u) {
  static const char *const keys[] = {"input_tokens", "output_tokens",
                                     "cache_creation_input_tokens",
                                     "cache_read_input_tokens",
                                     "output_tokens_details"};
  const rill__json *js = &d->c.js;
  int v[5];
  int64_t n;
  if (!rill__json_is_object(js, u))
    return;
  rill__json_get_many(js, u, keys, 5, v);
  if (v[0] >= 0 && rill__json_int64(js, v[0], &n) == RILL_OK && n >= 0)
    d->in_tokens = n;
  if (v[2] >= 0 && rill__json_int64(js, v[2], &n) == RILL_OK && n >= 0)
    d->cache_create = n;
  if (v[3] >= 0 && rill__json_int64(js, v[3], &n) == RILL_OK && n >= 0)
    d->cache_read = n;
  set_input_tokens(d);
  if (v[1] >= 0 && rill__json_int64(js, v[1], &n) == RILL_OK && n >= 0)
    d->c.usage.output_tokens = n;
  if (rill__json_is_object(js, v[4]) &&
      (n = rill__json_member_i64(js, v[4], "thinking_tokens")) >= 0)
    d->c.usage.thinking_tokens = n;
}

static int keep_stop_reason(ant_dec *d, int sr) {
  int rc;
  if (!rill__json_is_string(&d->c.js, sr) || d->saw_stop_reason)
    return RILL_OK;
  d->saw_stop_reason = 1;
  rc = rill__chatdec_keep(&d->c, sr, &d->c.raw_finish);
  if (rc != RILL_OK)
    return rc;
  d->c.finish = finish_from(d->c.raw_finish.data ? d->c.raw_finish.data : "",
                            d->c.raw_finish.len);
  return RILL_OK;
}

/* ---- tool calls ------------------------------------------------------------ */

static int tool_start(ant_dec *d, int idt, int nmt) {
  int rc;
  if (d->c.n_calls >= d->c.max_tool_calls)
    return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                           "more than %zu tool calls in one answer",
                           d->c.max_tool_calls);
  rill__buf_clear(&d->call.args);
  d->call.args.limit = d->c.max_tool_args + 1;
  rc = put_str(d, idt, &d->call.id, "tool call id");
  if (rc == RILL_OK)
    rc = put_str(d, nmt, &d->call.name, "tool call name");
  if (rc != RILL_OK)
    return rc;
  if (d->call.name.len == 0)
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "a tool_use block without a name");
  d->block = BLOCK_TOOL;
  return rill__chatdec_tool_delta(&d->c, d->c.n_calls,
                                  d->call.id.len ? d->call.id.data : "", d->call.name.data,
                                  "", 0);
}

static int tool_piece(ant_dec *d, int pj) {
  size_t old = d->call.args.len;
  int rc;
  if (!rill__json_is_string(&d->c.js, pj))
    return RILL_OK;
  rc = rill__json_unescape(&d->c.js, pj, &d->call.args);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->call.args, '\0');
  if (rc != RILL_OK) {
    d->call.args.len = old;
    if (rc == RILL_E_LIMIT)
      return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                             "tool call arguments longer than %zu bytes",
                             d->c.max_tool_args);
    return rill__pdec_fail(&d->c.p, rc, 0, "tool call arguments: %s",
                           rill_strerror(rc));
  }
  d->call.args.len--;
  if (d->call.args.len == old)
    return RILL_OK;
  return rill__chatdec_tool_delta(&d->c, d->c.n_calls, NULL, NULL,
                                  d->call.args.data + old, d->call.args.len - old);
}

/* The complete call of the open tool_use block. */
static int tool_finish(ant_dec *d) {
  const char *args = d->call.args.len ? d->call.args.data : "";
  d->block = BLOCK_NONE;
  if (d->call.args.len > 0 && !rill__is_json_object(args))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "tool call %s: the arguments are not a JSON object",
                           d->call.name.data);
  return rill__chatdec_tool_call(&d->c, d->c.n_calls,
                                 d->call.id.len ? d->call.id.data : "", d->call.name.data,
                                 args, d->call.args.len);
}

/* ---- events ---------------------------------------------------------------- */

enum { K_TYPE, K_MESSAGE, K_INDEX, K_BLOCK, K_DELTA, K_USAGE, K_ERROR, K_N };

static int block_start(ant_dec *d, const int *top) {
  static const char *const keys[] = {"type", "id", "name"};
  const rill__json *js = &d->c.js;
  int v[3];
  if (d->block == BLOCK_TOOL) {
    int rc = tool_finish(d); /* a block the server never stopped */
    if (rc != RILL_OK)
      return rc;
  }
  d->block = BLOCK_OTHER;
  d->block_index = -1;
  if (top[K_INDEX] >= 0)
    (void)rill__json_int64(js, top[K_INDEX], &d->block_index);
  if (!rill__json_is_object(js, top[K_BLOCK]))
    return RILL_OK;
  rill__json_get_many(js, top[K_BLOCK], keys, 3, v);
  if (rill__json_str_eq(js, v[0], "text", 4))
    d->block = BLOCK_TEXT;
  else if (rill__json_str_eq(js, v[0], "thinking", 8))
    d->block = BLOCK_THINKING;
  else if (rill__json_str_eq(js, v[0], "tool_use", 8))
    return tool_start(d, v[1], v[2]);
  return RILL_OK;
}

static int same_block(ant_dec *d, int ixt) {
  int64_t ix = -1;
  if (ixt < 0)
    return 1;
  return rill__json_int64(&d->c.js, ixt, &ix) == RILL_OK &&
         ix == d->block_index;
}

static int block_delta(ant_dec *d, const int *top) {
  static const char *const keys[] = {"type", "text", "thinking",
                                     "partial_json"};
  const rill__json *js = &d->c.js;
  int v[4];
  if (!rill__json_is_object(js, top[K_DELTA]))
    return RILL_OK;
  rill__json_get_many(js, top[K_DELTA], keys, 4, v);
  if (rill__json_str_eq(js, v[0], "text_delta", 10))
    return rill__chatdec_text_tok(&d->c, 0, v[1]);
  if (rill__json_str_eq(js, v[0], "thinking_delta", 14))
    return rill__chatdec_text_tok(&d->c, 1, v[2]);
  if (rill__json_str_eq(js, v[0], "input_json_delta", 16) &&
      d->block == BLOCK_TOOL && same_block(d, top[K_INDEX]))
    return tool_piece(d, v[3]);
  return RILL_OK; /* signature_delta, citations_delta, … */
}

static int block_stop(ant_dec *d, const int *top) {
  if (d->block == BLOCK_TOOL && same_block(d, top[K_INDEX]))
    return tool_finish(d);
  if (same_block(d, top[K_INDEX]))
    d->block = BLOCK_NONE;
  return RILL_OK;
}

static int message_start(ant_dec *d, int m) {
  static const char *const keys[] = {"model", "usage"};
  int v[2];
  if (!rill__json_is_object(&d->c.js, m))
    return RILL_OK;
  rill__json_get_many(&d->c.js, m, keys, 2, v);
  read_usage(d, v[1]);
  return rill__chatdec_keep(&d->c, v[0], &d->c.model);
}

static int message_stop(ant_dec *d) {
  if (d->block == BLOCK_TOOL) {
    int rc = tool_finish(d);
    if (rc != RILL_OK)
      return rc;
  }
  if (d->c.n_calls > 0 && d->c.finish == RILL_FINISH_NONE)
    d->c.finish = RILL_FINISH_TOOL_CALLS;
  return rill__chatdec_done(&d->c);
}

#define TYPE_IS(lit)                                                           \
  (tn == sizeof(lit) - 1 && !memcmp(type, lit, sizeof(lit) - 1))

static int on_event(rill__decoder *base, const rill_sse_event *ev) {
  static const char *const keys[K_N] = {"type",  "message", "index",
                                        "content_block", "delta", "usage",
                                        "error"};
  ant_dec *d = (ant_dec *)base;
  rill__json *js = &d->c.js;
  rill_json_error err = {0, NULL};
  int top[K_N], rc;
  const char *type;
  size_t tn;
  ant_ready(d);
  if (d->c.done_sent)
    return RILL_OK; /* bytes after message_stop are ignored */
  rc = rill__json_parse(js, ev->data, ev->data_len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&d->c.p, rc, &err, "an event's data");
  if (!rill__json_is_object(js, 0))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "the server sent JSON that is not an object");
  rill__json_get_many(js, 0, keys, K_N, top);
  if (rill__json_is_string(js, top[K_TYPE]))
    type = rill__json_raw(js, top[K_TYPE], &tn);
  else {
    type = ev->type;
    tn = ev->type_len;
  }
  if (TYPE_IS("content_block_delta"))
    return block_delta(d, top);
  if (TYPE_IS("ping"))
    return RILL_OK;
  if (TYPE_IS("content_block_start"))
    return block_start(d, top);
  if (TYPE_IS("content_block_stop"))
    return block_stop(d, top);
  if (TYPE_IS("message_start"))
    return message_start(d, top[K_MESSAGE]);
  if (TYPE_IS("message_delta")) {
    read_usage(d, top[K_USAGE]);
    if (rill__json_is_object(js, top[K_DELTA]))
      return keep_stop_reason(d,
                              rill__json_getz(js, top[K_DELTA], "stop_reason"));
    return RILL_OK;
  }
  if (TYPE_IS("message_stop"))
    return message_stop(d);
  if (TYPE_IS("error") ||
      (top[K_ERROR] >= 0 && !rill__json_is_null(js, top[K_ERROR])))
    return stream_error(d, top[K_ERROR] >= 0 ? top[K_ERROR] : 0);
  return RILL_OK; /* an event this version does not know */
}

/* ---- a whole Message (no_stream) ------------------------------------------- */

static int whole_block(ant_dec *d, int b) {
  static const char *const keys[] = {"type", "text", "thinking", "id", "name",
                                     "input"};
  const rill__json *js = &d->c.js;
  int v[6], rc;
  size_t n;
  const char *raw;
  rill__json_get_many(js, b, keys, 6, v);
  if (rill__json_str_eq(js, v[0], "text", 4))
    return rill__chatdec_text_tok(&d->c, 0, v[1]);
  if (rill__json_str_eq(js, v[0], "thinking", 8))
    return rill__chatdec_text_tok(&d->c, 1, v[2]);
  if (!rill__json_str_eq(js, v[0], "tool_use", 8))
    return RILL_OK;
  rc = tool_start(d, v[3], v[4]);
  if (rc != RILL_OK)
    return rc;
  if (rill__json_is_object(js, v[5])) {
    raw = rill__json_raw(js, v[5], &n);
    rill__buf_clear(&d->call.args);
    rc = rill__buf_append(&d->call.args, raw, n);
    if (rc == RILL_OK)
      rc = rill__buf_putc(&d->call.args, '\0');
    if (rc != RILL_OK) {
      rill__buf_clear(&d->call.args);
      return rill__pdec_fail(&d->c.p, rc, 0, "tool call arguments: %s",
                             rill_strerror(rc));
    }
    d->call.args.len--;
    if (d->call.args.len > 0) {
      rc = rill__chatdec_tool_delta(&d->c, d->c.n_calls, NULL, NULL,
                                    d->call.args.data, d->call.args.len);
      if (rc != RILL_OK)
        return rc;
    }
  }
  return tool_finish(d);
}

static int on_record(rill__decoder *base, const char *rec, size_t len) {
  static const char *const keys[] = {"type",  "error",       "model",
                                     "content", "stop_reason", "usage"};
  ant_dec *d = (ant_dec *)base;
  rill__json *js = &d->c.js;
  rill_json_error err = {0, NULL};
  int v[6], rc, b;
  size_t k;
  ant_ready(d);
  if (d->c.done_sent)
    return RILL_OK;
  rc = rill__json_parse(js, rec, len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&d->c.p, rc, &err, "the answer");
  if (!rill__json_is_object(js, 0))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "the server sent JSON that is not an object");
  rill__json_get_many(js, 0, keys, 6, v);
  if (v[1] >= 0 && !rill__json_is_null(js, v[1]))
    return stream_error(d, v[1]);
  if (!rill__json_is_array(js, v[3]))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "the answer has no content array");
  rc = rill__chatdec_keep(&d->c, v[2], &d->c.model);
  if (rc != RILL_OK)
    return rc;
  read_usage(d, v[5]);
  rc = keep_stop_reason(d, v[4]);
  if (rc != RILL_OK)
    return rc;
  for (k = 0; (b = rill__json_at(js, v[3], k)) >= 0; k++) {
    if (!rill__json_is_object(js, b))
      continue;
    rc = whole_block(d, b);
    if (rc != RILL_OK)
      return rc;
  }
  return message_stop(d);
}

static int on_end(rill__decoder *base) {
  ant_dec *d = (ant_dec *)base;
  if (d->c.done_sent)
    return RILL_OK;
  if (d->saw_stop_reason)
    return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                           "truncated stream: no message_stop after the "
                           "stop_reason");
  return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                         "truncated stream: the answer ended without "
                         "message_stop");
}

static void http_error_message(rill__decoder *base, long status,
                               const char *body, size_t len, rill__buf *msg) {
  ant_dec *d = (ant_dec *)base;
  (void)status;
  ant_ready(d);
  rill__error_body_message(&d->c.js, body, len, msg);
}

static void destroy(rill__decoder *base) {
  ant_dec *d = (ant_dec *)base;
  if (!d)
    return;
  rill__toolcall_release(&d->call);
  rill__chatdec_release(&d->c);
  rill__free(d);
}

static const rill__decoder_ops anthropic_chat_ops = {
    on_record, on_event, on_end, http_error_message, rill__chatdec_failure,
    destroy};

int rill__anthropic_chat_decoder_new(const rill_chat_callbacks *cb,
                                     rill__decoder **out) {
  ant_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  memset(d, 0, sizeof *d);
  rill__chatdec_init(&d->c, &anthropic_chat_ops, cb);
  rill__toolcall_init(&d->call, NULL, RILL__MAX_TOOL_ARGS + 1);
  d->block_index = -1;
  d->in_tokens = -1;
  d->cache_create = -1;
  d->cache_read = -1;
  *out = &d->c.p.base;
  return RILL_OK;
}

/* ---- the request ----------------------------------------------------------- */

/* The system messages' contents joined with a blank line, into sys
 * (NUL-terminated when any). Returns RILL_OK, RILL_E_NOMEM, RILL_E_LIMIT. */
static int join_system(const rill_chat_request *req, rill__buf *sys,
                       int *any) {
  size_t i;
  int rc = RILL_OK;
  *any = 0;
  for (i = 0; i < req->n_messages && rc == RILL_OK; i++) {
    const rill_message *m = &req->messages[i];
    if (m->role != RILL_ROLE_SYSTEM || !m->content)
      continue;
    if (*any)
      rc = rill__buf_append(sys, "\n\n", 2);
    if (rc == RILL_OK)
      rc = rill__buf_append(sys, m->content, strlen(m->content));
    *any = 1;
  }
  return rc;
}

static void write_text_block(rill_jw *w, const char *text) {
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "type", "text");
  rill__jw_kstr(w, "text", text);
  rill_jw_object_end(w);
}

/* The content blocks of one message. */
static void write_blocks(rill_jw *w, const rill_message *m) {
  size_t i;
  if (m->role == RILL_ROLE_TOOL) {
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "tool_result");
    rill__jw_kstr(w, "tool_use_id", m->tool_call_id);
    if (m->content)
      rill__jw_kstr(w, "content", m->content);
    rill_jw_object_end(w);
    return;
  }
  if (m->content && *m->content)
    write_text_block(w, m->content);
  for (i = 0; i < m->n_images; i++) {
    const rill_image *img = &m->images[i];
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "image");
    rill_jw_key(w, "source", 6);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "base64");
    rill__jw_kstr(w, "media_type", img->mime_type && *img->mime_type
                                       ? img->mime_type
                                       : "image/png");
    rill_jw_key(w, "data", 4);
    rill__jw_image(w, img, 0);
    rill_jw_object_end(w);
    rill_jw_object_end(w);
  }
  for (i = 0; m->role == RILL_ROLE_ASSISTANT && i < m->n_tool_calls; i++) {
    const rill_tool_call *tc = &m->tool_calls[i];
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "tool_use");
    rill__jw_kstr(w, "id", tc->id);
    rill__jw_kstr(w, "name", tc->name);
    rill__jw_kraw(w, "input",
                  tc->arguments && *tc->arguments ? tc->arguments : "{}");
    rill_jw_object_end(w);
  }
}

static void write_messages(rill_jw *w, const rill_chat_request *req) {
  int open = -1; /* the wire role of the open message: 0 user, 1 assistant */
  size_t i;
  rill_jw_key(w, "messages", 8);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_messages; i++) {
    const rill_message *m = &req->messages[i];
    int role = m->role == RILL_ROLE_ASSISTANT;
    if (m->role == RILL_ROLE_SYSTEM)
      continue;
    if (open != role) {
      if (open >= 0) {
        rill_jw_array_end(w);
        rill_jw_object_end(w);
      }
      open = role;
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "role", role ? "assistant" : "user");
      rill_jw_key(w, "content", 7);
      rill_jw_array_begin(w);
    }
    write_blocks(w, m);
  }
  if (req->prompt && *req->prompt) {
    if (open == 0) {
      write_text_block(w, req->prompt);
    } else {
      if (open >= 0) {
        rill_jw_array_end(w);
        rill_jw_object_end(w);
      }
      open = 0;
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "role", "user");
      rill_jw_key(w, "content", 7);
      rill_jw_array_begin(w);
      write_text_block(w, req->prompt);
    }
  }
  if (open >= 0) {
    rill_jw_array_end(w);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
}

static void write_tools(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  rill_jw_key(w, "tools", 5);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_tools; i++) {
    const rill_tool *t = &req->tools[i];
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "name", t->name);
    if (t->description)
      rill__jw_kstr(w, "description", t->description);
    rill__jw_kraw(w, "input_schema",
                  t->parameters_json ? t->parameters_json
                                     : "{\"type\":\"object\",\"properties\":{}}");
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
}

static void write_body(rill_jw *w, const rill_chat_request *req,
                       const rill__buf *sys, int has_system) {
  size_t i;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "model", req->model);
  rill_jw_key(w, "max_tokens", 10);
  rill_jw_int(w, (req->set & RILL_SET_MAX_TOKENS) ? req->max_tokens
                                                  : ANT_DEFAULT_MAX_TOKENS);
  rill_jw_key(w, "stream", 6);
  rill_jw_bool(w, !req->no_stream);
  if (has_system) {
    rill_jw_key(w, "system", 6);
    rill_jw_string(w, sys->data ? sys->data : "", sys->len);
  }
  write_messages(w, req);
  if (req->n_tools > 0)
    write_tools(w, req);
  if (req->set & RILL_SET_TEMPERATURE) {
    rill_jw_key(w, "temperature", 11);
    rill_jw_double(w, req->temperature);
  }
  if (req->set & RILL_SET_TOP_P) {
    rill_jw_key(w, "top_p", 5);
    rill_jw_double(w, req->top_p);
  }
  if (req->set & RILL_SET_TOP_K) {
    rill_jw_key(w, "top_k", 5);
    rill_jw_int(w, req->top_k);
  }
  if (req->n_stop > 0) {
    rill_jw_key(w, "stop_sequences", 14);
    rill_jw_array_begin(w);
    for (i = 0; i < req->n_stop; i++)
      rill_jw_string(w, req->stop[i], strlen(req->stop[i]));
    rill_jw_array_end(w);
  }
  if (req->think == RILL_THINK_ON) {
    rill_jw_key(w, "thinking", 8);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "enabled");
    rill_jw_key(w, "budget_tokens", 13);
    rill_jw_int(w, ANT_THINKING_BUDGET);
    rill_jw_object_end(w);
  } else if (req->think == RILL_THINK_OFF) {
    rill__jw_kraw(w, "thinking", "{\"type\":\"disabled\"}");
  }
  rill_jw_object_end(w);
}

int rill__anthropic_chat_build(const rill_chat_request *req, rill__pool *pool,
                               rill__request *r) {
  rill_jw *w = NULL;
  rill__buf sys;
  int has_system = 0;
  int rc = rill__chat_request_check(req);
  (void)pool;
  if (rc != RILL_OK)
    return rc;
  if (req->format != RILL_FORMAT_TEXT)
    return RILL_E_UNSUPPORTED;
  rc = rill__request_setup(r, &req->endpoint, "POST", "/messages",
                           req->no_stream ? RILL__FRAME_WHOLE
                                          : RILL__FRAME_SSE);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  rill__buf_init(&sys, NULL, RILL__MAX_BODY);
  rc = join_system(req, &sys, &has_system);
  if (rc == RILL_OK)
    rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc == RILL_OK) {
    write_body(w, req, &sys, has_system);
    rc = rill__request_body(r, w);
  }
  rill_jw_free(w);
  rill__buf_release(&sys);
  return rc;
}

int rill__anthropic_chat_start(rill_client *c, const rill_chat_request *req,
                               const rill_chat_callbacks *cb,
                               rill_stream **out) {
  rill__request r;
  rill__decoder *d = NULL;
  int rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__anthropic_chat_build(req, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__anthropic_chat_decoder_new(cb, &d);
  if (rc == RILL_OK)
    rc = rill__chat_limits(&req->limits, &r, d);
  if (rc == RILL_OK)
    rc = rill__stream_start(c, &r, d, out);
  if (rc != RILL_OK) {
    rill__request_release(&r);
    if (d)
      d->ops->destroy(d);
  }
  return rc;
}
