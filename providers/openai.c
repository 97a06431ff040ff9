/*
 * providers/openai.c — OpenAI-compatible Chat Completions (OpenAI, LM
 * Studio, llama.cpp server, vLLM, Ollama's /v1): POST {base}/chat/completions
 * streamed as SSE (stream:true, stream_options.include_usage:true) or, with
 * stream:false, one whole JSON object.
 *
 * Request fields written: model, messages[] (system/user: content, as a
 * string or, with images, as parts [{type:text,text},{type:image_url,
 * image_url:{url:"data:<mime>;base64,…"}}]; assistant: content (null when
 * only tool calls), tool_calls[] {id, type:function, function{name,
 * arguments (string)}}; tool: tool_call_id, content), tools[] {type:
 * function, function{name, description, parameters}}, stream,
 * stream_options{include_usage}, temperature, top_p, top_k (LM Studio only),
 * seed, max_completion_tokens (OpenAI) / max_tokens (LM Studio), stop[],
 * response_format {type:json_object} / {type:json_schema, json_schema:{name,
 * schema}}, reasoning_effort:"medium" (think on).
 *
 * Response fields read (each data: event; stream:false reads the same from
 * choices[].message): error → on_error; model; choices[] with index 0 only:
 * delta.reasoning_content or else delta.reasoning → on_thinking,
 * delta.content and delta.refusal → on_text, delta.tool_calls[] {index, id,
 * function{name, arguments}} → assembled calls, finish_reason; usage
 * {prompt_tokens, completion_tokens, completion_tokens_details
 * .reasoning_tokens}; timings.predicted_per_second (llama.cpp). "data:
 * [DONE]" ends the answer; "event: error" is an error.
 *
 * Tool-call assembly: a fragment belongs to the call with the same
 * "index", unless it carries an id different from that call's id (then it
 * starts a new call); without "index", to the call with the same id, else
 * (no id) a fragment with a name starts a new call and one without name
 * continues the last call. id and name are taken once (empty values never
 * clear or extend them); argument strings are concatenated. Complete calls
 * are delivered when the choice finishes, or at [DONE]; a fragment for a
 * call already delivered starts a new call.
 */
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

typedef struct oa_call {
  int64_t wire_index; /* the server's "index", -1 when it gave none */
  rill__toolcall call;
  int announced; /* first piece delivered */
  int emitted;   /* complete call delivered */
} oa_call;

typedef struct openai_dec {
  rill__chatdec c;
  oa_call *calls;
  size_t n, cap;
  int saw_finish;
} openai_dec;

static int set_once(openai_dec *d, int tok, rill__buf *dst) {
  int rc;
  if (dst->len > 0)
    return RILL_OK;
  rc = rill__json_unescape(&d->c.js, tok, dst);
  if (rc == RILL_OK)
    rc = rill__buf_putc(dst, '\0');
  if (rc == RILL_OK) {
    dst->len--;
    return RILL_OK;
  }
  rill__buf_clear(dst);
  return rill__pdec_fail(&d->c.p, rc, 0, "tool call id or name: %s",
                         rill_strerror(rc));
}

static int nonempty_str(const rill__json *js, int i) {
  const jsmntok_t *t = rill__json_tok(js, i);
  return rill__json_is_string(js, i) && t && t->end > t->start;
}

static int new_call(openai_dec *d, int64_t wire_index, size_t *at) {
  oa_call *c;
  rill__pool *pool = rill__stream_pool(d->c.p.base.stream);
  if (d->n >= d->c.max_tool_calls)
    return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                           "more than %zu tool calls in one answer",
                           d->c.max_tool_calls);
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 4;
    oa_call *nc = rill__realloc(d->calls, cap * sizeof *nc);
    if (!nc)
      return rill__pdec_fail(&d->c.p, RILL_E_NOMEM, 0, "out of memory");
    d->calls = nc;
    d->cap = cap;
  }
  c = &d->calls[d->n];
  memset(c, 0, sizeof *c);
  c->wire_index = wire_index;
  rill__toolcall_init(&c->call, pool, d->c.max_tool_args + 1);
  *at = d->n++;
  return RILL_OK;
}

/* The latest call with wire index ix; SIZE_MAX: a new one. */
static size_t find_by_index(const openai_dec *d, int64_t ix, int idt) {
  size_t k;
  for (k = d->n; k-- > 0;) {
    const oa_call *c = &d->calls[k];
    if (c->wire_index != ix)
      continue;
    if (idt >= 0 && c->call.id.len > 0 &&
        !rill__json_str_eq(&d->c.js, idt, c->call.id.data, c->call.id.len))
      return SIZE_MAX; /* another call reusing the index */
    /* A delivered call is complete: a later fragment starts a new one. */
    return c->emitted ? SIZE_MAX : k;
  }
  return SIZE_MAX;
}

/* The latest call whose id is token idt; SIZE_MAX: a new one. */
static size_t find_by_id(const openai_dec *d, int idt) {
  size_t k;
  for (k = d->n; k-- > 0;) {
    const oa_call *c = &d->calls[k];
    if (c->call.id.len > 0 &&
        rill__json_str_eq(&d->c.js, idt, c->call.id.data, c->call.id.len))
      return c->emitted ? SIZE_MAX : k;
  }
  return SIZE_MAX;
}

/* Find the call a fragment belongs to; SIZE_MAX: a new one. */
static size_t find_call(openai_dec *d, int has_ix, int64_t ix, int idt,
                        int has_name) {
  if (has_ix)
    return find_by_index(d, ix, idt);
  if (idt >= 0)
    return find_by_id(d, idt);
  if (has_name || d->n == 0 || d->calls[d->n - 1].emitted)
    return SIZE_MAX;
  return d->n - 1;
}

static int fragment(openai_dec *d, int f) {
  const rill__json *js = &d->c.js;
  int ixt = rill__json_getz(js, f, "index");
  int fn = rill__json_getz(js, f, "function");
  int idt = rill__json_getz(js, f, "id");
  int nmt = rill__json_getz(js, fn, "name");
  int argt = rill__json_getz(js, fn, "arguments");
  int64_t ix = -1;
  int has_ix = ixt >= 0 && rill__json_int64(js, ixt, &ix) == RILL_OK &&
               ix >= 0;
  int has_name = nonempty_str(js, nmt);
  size_t at, old;
  oa_call *c;
  int rc;
  if (!nonempty_str(js, idt))
    idt = -1;
  at = find_call(d, has_ix, ix, idt, has_name);
  if (at == SIZE_MAX) {
    rc = new_call(d, has_ix ? ix : -1, &at);
    if (rc != RILL_OK)
      return rc;
  }
  c = &d->calls[at];
  if (idt >= 0 && (rc = set_once(d, idt, &c->call.id)) != RILL_OK)
    return rc;
  if (has_name && (rc = set_once(d, nmt, &c->call.name)) != RILL_OK)
    return rc;
  old = c->call.args.len;
  rc = RILL_OK;
  if (rill__json_is_string(js, argt))
    rc = rill__json_unescape(js, argt, &c->call.args);
  else if (rill__json_is_object(js, argt) && c->call.args.len == 0) {
    /* Some servers send the arguments as an object: keep its text. */
    size_t n;
    const char *raw = rill__json_raw(js, argt, &n);
    rc = rill__buf_append(&c->call.args, raw, n);
  }
  if (rc == RILL_OK)
    rc = rill__buf_putc(&c->call.args, '\0');
  if (rc != RILL_OK) {
    c->call.args.len = old;
    if (rc == RILL_E_LIMIT)
      return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                             "tool call arguments longer than %zu bytes",
                             d->c.max_tool_args);
    return rill__pdec_fail(&d->c.p, rc, 0, "tool call arguments: %s",
                           rill_strerror(rc));
  }
  c->call.args.len--;
  if (!c->announced) {
    c->announced = 1;
    return rill__chatdec_tool_delta(&d->c, at, c->call.id.len ? c->call.id.data : "",
                                    c->call.name.len ? c->call.name.data : "",
                                    c->call.args.data + old, c->call.args.len - old);
  }
  if (c->call.args.len > old)
    return rill__chatdec_tool_delta(&d->c, at, NULL, NULL, c->call.args.data + old,
                                    c->call.args.len - old);
  return RILL_OK;
}

static int emit_calls(openai_dec *d) {
  size_t k;
  for (k = 0; k < d->n; k++) {
    oa_call *c = &d->calls[k];
    int rc;
    if (c->emitted)
      continue;
    c->emitted = 1;
    rc = rill__chatdec_tool_call(&d->c, k, c->call.id.len ? c->call.id.data : "",
                                 c->call.name.len ? c->call.name.data : "",
                                 c->call.args.len ? c->call.args.data : "", c->call.args.len);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

static int finalize(openai_dec *d) {
  int rc = emit_calls(d);
  if (rc != RILL_OK)
    return rc;
  if (d->c.n_calls > 0 &&
      (d->c.finish == RILL_FINISH_STOP || d->c.finish == RILL_FINISH_NONE))
    d->c.finish = RILL_FINISH_TOOL_CALLS;
  return rill__chatdec_done(&d->c);
}

static int delta(openai_dec *d, int dl) {
  static const char *const keys[] = {"reasoning_content", "reasoning",
                                     "content", "refusal", "tool_calls"};
  const rill__json *js = &d->c.js;
  int v[5], r, tc, rc;
  size_t k;
  rill__json_get_many(js, dl, keys, 5, v);
  r = nonempty_str(js, v[0]) ? v[0] : v[1];
  rc = rill__chatdec_text_tok(&d->c, 1, r);
  if (rc == RILL_OK)
    rc = rill__chatdec_text_tok(&d->c, 0, v[2]);
  if (rc == RILL_OK)
    rc = rill__chatdec_text_tok(&d->c, 0, v[3]);
  if (rc != RILL_OK)
    return rc;
  tc = v[4];
  if (!rill__json_is_array(js, tc))
    return RILL_OK;
  for (k = 0;; k++) {
    int f = rill__json_at(js, tc, k);
    if (f < 0)
      break;
    if (!rill__json_is_object(js, f))
      continue;
    rc = fragment(d, f);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

static void usage(openai_dec *d, int u) {
  const rill__json *js = &d->c.js;
  int64_t v;
  int t;
  if (!rill__json_is_object(js, u))
    return;
  if ((v = rill__json_member_i64(js, u, "prompt_tokens")) >= 0)
    d->c.usage.input_tokens = v;
  if ((v = rill__json_member_i64(js, u, "completion_tokens")) >= 0)
    d->c.usage.output_tokens = v;
  t = rill__json_getz(js, u, "completion_tokens_details");
  if (rill__json_is_object(js, t) &&
      (v = rill__json_member_i64(js, t, "reasoning_tokens")) >= 0)
    d->c.usage.thinking_tokens = v;
}

/* One chunk (streaming) or the whole answer (whole = 1). */
/* One element c of "choices": its delta (message when whole), then its
 * finish_reason the first time one comes. Choices other than index 0 are
 * skipped (n > 1 is not supported). */
static int choice(openai_dec *d, int c, int whole) {
  static const char *const choice_keys[] = {"index", "delta", "message",
                                            "finish_reason"};
  const rill__json *js = &d->c.js;
  int cv[4], rc;
  int64_t n = 0;
  rill__json_get_many(js, c, choice_keys, 4, cv);
  if (cv[0] >= 0 && (rill__json_int64(js, cv[0], &n) != RILL_OK || n != 0))
    return RILL_OK;
  rc = delta(d, whole ? cv[2] : cv[1]);
  if (rc != RILL_OK || !rill__json_is_string(js, cv[3]) || d->saw_finish)
    return rc;
  d->saw_finish = 1;
  rc = rill__chatdec_keep(&d->c, cv[3], &d->c.raw_finish);
  if (rc != RILL_OK)
    return rc;
  d->c.finish = rill__finish_from(d->c.raw_finish.data, d->c.raw_finish.len);
  return emit_calls(d);
}

static int chunk(openai_dec *d, const char *data, size_t len, int whole) {
  rill__json *js = &d->c.js;
  rill_json_error err = {0, NULL};
  static const char *const top_keys[] = {"error", "model", "choices", "usage",
                                         "timings"};
  int top[5];
  int rc, e, ch, t;
  size_t k;
  rc = rill__json_parse(js, data, len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&d->c.p, rc, &err,
                               whole ? "the answer" : "an event's data");
  if (!rill__json_is_object(js, 0))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "the server sent JSON that is not an object");
  rill__json_get_many(js, 0, top_keys, 5, top);
  e = top[0];
  if (e >= 0 && !rill__json_is_null(js, e)) {
    char msg[RILL__PROVIDER_MSG_MAX + 1];
    rill__error_member_message(js, e, msg, sizeof msg);
    return rill__pdec_fail(&d->c.p, RILL__E_STREAM_ERROR, 200, "%s",
                           msg[0] ? msg : "the server reported an error");
  }
  rc = rill__chatdec_keep(&d->c, top[1], &d->c.model);
  if (rc != RILL_OK)
    return rc;
  ch = top[2];
  for (k = 0; rill__json_is_array(js, ch); k++) {
    int c = rill__json_at(js, ch, k);
    if (c < 0)
      break;
    rc = choice(d, c, whole);
    if (rc != RILL_OK)
      return rc;
  }
  usage(d, top[3]);
  t = rill__json_getz(js, top[4], "predicted_per_second");
  if (t >= 0) {
    double tps;
    if (rill__json_double(js, t, &tps) == RILL_OK && tps > 0)
      d->c.tokens_per_s = tps;
  }
  if (whole)
    return finalize(d);
  return RILL_OK;
}

static int on_event(rill__decoder *base, const rill_sse_event *ev) {
  openai_dec *d = (openai_dec *)base;
  rill__chatdec_ready(&d->c);
  if (d->c.done_sent)
    return RILL_OK; /* bytes after [DONE] are ignored */
  if (ev->type_len == 5 && !memcmp(ev->type, "error", 5)) {
    char msg[RILL__PROVIDER_MSG_MAX + 1] = "";
    rill__buf m;
    rill__buf_init(&m, NULL, sizeof msg - 1);
    rill__error_body_message(&d->c.js, ev->data, ev->data_len, &m);
    if (m.len)
      memcpy(msg, m.data, m.len), msg[m.len] = '\0';
    rill__buf_release(&m);
    return rill__pdec_fail(&d->c.p, RILL__E_STREAM_ERROR, 200, "%s",
                           msg[0] ? msg : "the server reported an error");
  }
  if (ev->data_len == 6 && !memcmp(ev->data, "[DONE]", 6)) {
    if (!d->saw_finish)
      return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                             "truncated stream: [DONE] without a "
                             "finish_reason");
    return finalize(d);
  }
  return chunk(d, ev->data, ev->data_len, 0);
}

static int on_record(rill__decoder *base, const char *rec, size_t len) {
  openai_dec *d = (openai_dec *)base;
  rill__chatdec_ready(&d->c);
  if (d->c.done_sent)
    return RILL_OK;
  return chunk(d, rec, len, 1);
}

static int on_end(rill__decoder *base) {
  openai_dec *d = (openai_dec *)base;
  if (d->c.done_sent)
    return RILL_OK;
  if (d->saw_finish)
    return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                           "truncated stream: no \"data: [DONE]\" after the "
                           "finish_reason");
  return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                         "truncated stream: the answer ended without a "
                         "finish_reason");
}

static void destroy(rill__decoder *base) {
  openai_dec *d = (openai_dec *)base;
  size_t k;
  if (!d)
    return;
  for (k = 0; k < d->n; k++)
    rill__toolcall_release(&d->calls[k].call);
  rill__free(d->calls);
  rill__chatdec_release(&d->c);
  rill__free(d);
}

static const rill__decoder_ops openai_chat_ops = {
    on_record, on_event, on_end, rill__chatdec_http_error, rill__chatdec_failure,
    destroy};

int rill__openai_chat_decoder_new(const rill_chat_callbacks *cb,
                                  rill__decoder **out) {
  openai_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  memset(d, 0, sizeof *d);
  rill__chatdec_init(&d->c, &openai_chat_ops, cb);
  *out = &d->c.p.base;
  return RILL_OK;
}

/* ---- the request --------------------------------------------------------- */

static void write_content(rill_jw *w, const rill_message *m) {
  size_t i;
  if (m->n_images == 0) {
    rill__jw_kstr(w, "content", m->content);
    return;
  }
  rill_jw_key(w, "content", 7);
  rill_jw_array_begin(w);
  if (m->content && *m->content) {
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "text");
    rill__jw_kstr(w, "text", m->content);
    rill_jw_object_end(w);
  }
  for (i = 0; i < m->n_images; i++) {
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "image_url");
    rill_jw_key(w, "image_url", 9);
    rill_jw_object_begin(w);
    rill_jw_key(w, "url", 3);
    rill__jw_image(w, &m->images[i], 1);
    rill_jw_object_end(w);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
}

static void write_message(rill_jw *w, const rill_message *m) {
  static const char *const roles[] = {"user", "system", "assistant", "tool"};
  size_t i;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "role", roles[m->role]);
  if (m->role == RILL_ROLE_TOOL) {
    rill__jw_kstr(w, "tool_call_id", m->tool_call_id);
    rill__jw_kstr(w, "content", m->content);
  } else if (m->role == RILL_ROLE_ASSISTANT && m->n_tool_calls > 0) {
    if (m->content) {
      rill__jw_kstr(w, "content", m->content);
    } else {
      rill_jw_key(w, "content", 7);
      rill_jw_null(w);
    }
    rill_jw_key(w, "tool_calls", 10);
    rill_jw_array_begin(w);
    for (i = 0; i < m->n_tool_calls; i++) {
      const rill_tool_call *tc = &m->tool_calls[i];
      const char *args = tc->arguments && *tc->arguments ? tc->arguments
                                                          : "{}";
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "id", tc->id);
      rill__jw_kstr(w, "type", "function");
      rill_jw_key(w, "function", 8);
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "name", tc->name);
      rill__jw_kstr(w, "arguments", args);
      rill_jw_object_end(w);
      rill_jw_object_end(w);
    }
    rill_jw_array_end(w);
  } else {
    write_content(w, m);
  }
  rill_jw_object_end(w);
}

static void write_body(rill_jw *w, const rill_chat_request *req) {
  int lmstudio = req->endpoint.provider == RILL_PROVIDER_LMSTUDIO;
  size_t i;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "model", req->model);
  rill_jw_key(w, "messages", 8);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_messages; i++)
    write_message(w, &req->messages[i]);
  if (req->prompt && *req->prompt) {
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "role", "user");
    rill__jw_kstr(w, "content", req->prompt);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  if (req->n_tools > 0)
    rill__jw_tools(w, req);
  rill_jw_key(w, "stream", 6);
  rill_jw_bool(w, !req->no_stream);
  if (!req->no_stream)
    rill__jw_kraw(w, "stream_options", "{\"include_usage\":true}");
  if (req->set & RILL_SET_TEMPERATURE) {
    rill_jw_key(w, "temperature", 11);
    rill_jw_double(w, req->temperature);
  }
  if (req->set & RILL_SET_TOP_P) {
    rill_jw_key(w, "top_p", 5);
    rill_jw_double(w, req->top_p);
  }
  if ((req->set & RILL_SET_TOP_K) && lmstudio) {
    rill_jw_key(w, "top_k", 5);
    rill_jw_int(w, req->top_k);
  }
  if (req->set & RILL_SET_SEED) {
    rill_jw_key(w, "seed", 4);
    rill_jw_int(w, req->seed);
  }
  if (req->set & RILL_SET_MAX_TOKENS) {
    if (lmstudio)
      rill_jw_key(w, "max_tokens", 10);
    else
      rill_jw_key(w, "max_completion_tokens", 21);
    rill_jw_int(w, req->max_tokens);
  }
  if (req->n_stop > 0)
    rill__jw_stop(w, req);
  if (req->format == RILL_FORMAT_JSON) {
    rill__jw_kraw(w, "response_format", "{\"type\":\"json_object\"}");
  } else if (req->format == RILL_FORMAT_JSON_SCHEMA) {
    rill_jw_key(w, "response_format", 15);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "json_schema");
    rill_jw_key(w, "json_schema", 11);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "name", "response");
    rill__jw_kraw(w, "schema", req->json_schema);
    rill_jw_object_end(w);
    rill_jw_object_end(w);
  }
  if (req->think == RILL_THINK_ON)
    rill__jw_kstr(w, "reasoning_effort", "medium");
  rill_jw_object_end(w);
}

int rill__openai_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r) {
  rill_jw *w = NULL;
  int rc = rill__chat_request_check(req);
  (void)pool;
  if (rc != RILL_OK)
    return rc;
  rc = rill__request_setup(r, &req->endpoint, "POST", "/chat/completions",
                           req->no_stream ? RILL__FRAME_WHOLE
                                          : RILL__FRAME_SSE);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc != RILL_OK)
    return rc;
  write_body(w, req);
  rc = rill__request_body(r, w);
  rill_jw_free(w);
  return rc;
}

int rill__openai_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out) {
  rill__request r;
  rill__decoder *d = NULL;
  int rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__openai_chat_build(req, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__openai_chat_decoder_new(cb, &d);
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
