/*
 * providers/ollama.c — Ollama's native chat: POST /api/chat and
 * POST /api/generate, streamed as NDJSON (one JSON object per line) or, with
 * stream:false, as one whole JSON object (the same fields, all at once).
 *
 * Request fields written:
 *   /api/chat:     model, messages[] {role, content, thinking, images[],
 *                  tool_calls[] {id, function{name, arguments (object)}},
 *                  tool_name, tool_call_id}, tools[], format, options{},
 *                  keep_alive, think, stream
 *   /api/generate: model, prompt, system, images[], format, options{},
 *                  keep_alive, think, stream
 *   options:       temperature, top_p, top_k, seed, num_predict
 *                  (= max_tokens), num_ctx, stop[]
 * Response fields read (each line):
 *   error (string, or object with message) → on_error, the stream ends
 *   model → rill_done.model
 *   /api/chat:     message.thinking → on_thinking, message.content →
 *                  on_text, message.tool_calls[] {id, function{name,
 *                  arguments}} → on_tool_call_delta + on_tool_call
 *   /api/generate: thinking, response, tool_calls[] (same shape)
 *   done (true ends the answer), done_reason → finish, prompt_eval_count →
 *   usage.input_tokens, eval_count → usage.output_tokens, eval_duration
 *   (ns) → tokens_per_s
 * Lines after the done line are ignored. A body that ends without a done
 * line is a truncated stream. Non-2xx bodies: {"error":"…"}.
 *
 * Ollama sends each tool call whole, its arguments as a JSON object: they
 * are re-serialised compactly as the call's argument text.
 */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

typedef struct ollama_dec {
  rill__chatdec c;
  int generate;
  rill__buf id;   /* the current tool call's id */
  rill__buf args; /* its arguments text */
} ollama_dec;

static int keep_str(ollama_dec *d, int i, rill__buf *dst) {
  int rc = RILL_OK;
  rill__buf_clear(dst);
  if (rill__json_is_string(&d->c.js, i))
    rc = rill__json_unescape(&d->c.js, i, dst);
  if (rc == RILL_OK)
    rc = rill__buf_putc(dst, '\0');
  if (rc == RILL_OK)
    dst->len--;
  return rc;
}

/* A call's arguments (token a of the function object) into d->args as
 * NUL-terminated compact JSON ("{}" when absent); len excludes the NUL. */
static int call_args(ollama_dec *d, int a) {
  const rill__json *js = &d->c.js;
  int rc = RILL_OK;
  rill__buf_clear(&d->args);
  d->args.limit = d->c.max_tool_args + 1; /* + the NUL */
  if (rill__json_is_string(js, a))
    rc = rill__json_unescape(js, a, &d->args);
  else if (a >= 0 && !rill__json_is_null(js, a)) {
    size_t n;
    const char *raw = rill__json_raw(js, a, &n);
    rc = rill__json_minify(&d->args, raw, n);
  }
  if (rc == RILL_OK && d->args.len == 0)
    rc = rill__buf_append(&d->args, "{}", 2);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->args, '\0');
  if (rc == RILL_OK)
    d->args.len--;
  return rc;
}

static int tool_calls(ollama_dec *d, int arr) {
  size_t k;
  const rill__json *js = &d->c.js;
  if (!rill__json_is_array(js, arr))
    return RILL_OK;
  for (k = 0;; k++) {
    int el = rill__json_at(js, arr, k), fn, nm, rc;
    size_t index = d->c.n_calls;
    if (el < 0)
      break;
    if (index >= d->c.max_tool_calls)
      return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                             "more than %zu tool calls in one answer",
                             d->c.max_tool_calls);
    fn = rill__json_getz(js, el, "function");
    if (!rill__json_is_object(js, fn))
      return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                             "a tool call without a function object");
    nm = rill__json_getz(js, fn, "name");
    if (!rill__json_is_string(js, nm))
      return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                             "a tool call without a name");
    rc = keep_str(d, rill__json_getz(js, el, "id"), &d->id);
    if (rc != RILL_OK)
      return rill__pdec_fail(&d->c.p, rc, 0, "tool call id: %s",
                             rill_strerror(rc));
    rc = rill__chatdec_str(&d->c, nm);
    if (rc != RILL_OK)
      return rc;
    rc = call_args(d, rill__json_getz(js, fn, "arguments"));
    if (rc == RILL_E_LIMIT)
      return rill__pdec_fail(&d->c.p, rc, 0,
                             "tool call arguments longer than %zu bytes",
                             d->c.max_tool_args);
    if (rc != RILL_OK)
      return rill__pdec_fail(&d->c.p, rc, 0, "tool call arguments: %s",
                             rill_strerror(rc));
    rc = rill__chatdec_tool_delta(&d->c, index, d->id.data, d->c.str.data,
                                  d->args.data, d->args.len);
    if (rc == RILL_OK)
      rc = rill__chatdec_tool_call(&d->c, index, d->id.data, d->c.str.data,
                                   d->args.data, d->args.len);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

static int finish_line(ollama_dec *d) {
  rill__json *js = &d->c.js;
  int r = rill__json_getz(js, 0, "done_reason");
  int64_t eval_count, eval_ns;
  int rc = rill__chatdec_keep(&d->c, r, &d->c.raw_finish);
  if (rc != RILL_OK)
    return rc;
  d->c.finish = rill__finish_from(d->c.raw_finish.data, d->c.raw_finish.len);
  /* Ollama keeps done_reason "stop" when the model called tools (its own
   * OpenAI layer rewrites it the same way). */
  if (d->c.n_calls > 0 &&
      (d->c.finish == RILL_FINISH_STOP || d->c.finish == RILL_FINISH_NONE))
    d->c.finish = RILL_FINISH_TOOL_CALLS;
  d->c.usage.input_tokens = rill__json_member_i64(js, 0, "prompt_eval_count");
  eval_count = rill__json_member_i64(js, 0, "eval_count");
  d->c.usage.output_tokens = eval_count;
  eval_ns = rill__json_member_i64(js, 0, "eval_duration");
  if (eval_count > 0 && eval_ns > 0)
    d->c.tokens_per_s = (double)eval_count / ((double)eval_ns / 1e9);
  return rill__chatdec_done(&d->c);
}

static int on_record(rill__decoder *base, const char *rec, size_t len) {
  ollama_dec *d = (ollama_dec *)base;
  rill__json *js = &d->c.js;
  rill_json_error err = {0, NULL};
  /* One walk over the record's members finds all of them. */
  static const char *const top_keys[] = {"error",    "model",      "message",
                                         "done",     "thinking",   "response",
                                         "tool_calls"};
  int top[7];
  int rc, e, m, done;
  rill__chatdec_ready(&d->c);
  if (d->c.done_sent)
    return RILL_OK; /* bytes after the done line are ignored */
  rc = rill__json_parse(js, rec, len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&d->c.p, rc, &err, "a line of the answer");
  if (!rill__json_is_object(js, 0))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "a line of the answer is not a JSON object");
  rill__json_get_many(js, 0, top_keys, 7, top);
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
  if (d->generate) {
    rc = rill__chatdec_text_tok(&d->c, 1, top[4]);
    if (rc == RILL_OK)
      rc = rill__chatdec_text_tok(&d->c, 0, top[5]);
    if (rc == RILL_OK)
      rc = tool_calls(d, top[6]);
  } else {
    m = top[2];
    if (m >= 0 && !rill__json_is_null(js, m) && !rill__json_is_object(js, m))
      return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                             "\"message\" is not an object");
    rc = rill__chatdec_text_tok(&d->c, 1, rill__json_getz(js, m, "thinking"));
    if (rc == RILL_OK)
      rc = rill__chatdec_text_tok(&d->c, 0,
                                  rill__json_getz(js, m, "content"));
    if (rc == RILL_OK)
      rc = tool_calls(d, rill__json_getz(js, m, "tool_calls"));
  }
  if (rc != RILL_OK)
    return rc;
  done = rill__json_bool(js, top[3]);
  if (done == 1)
    return finish_line(d);
  return RILL_OK;
}

static int on_end(rill__decoder *base) {
  ollama_dec *d = (ollama_dec *)base;
  if (d->c.done_sent)
    return RILL_OK;
  return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                         "truncated stream: the answer ended without a "
                         "\"done\":true line");
}

static void destroy(rill__decoder *base) {
  ollama_dec *d = (ollama_dec *)base;
  if (!d)
    return;
  rill__chatdec_release(&d->c);
  rill__buf_release(&d->id);
  rill__buf_release(&d->args);
  rill__free(d);
}

static const rill__decoder_ops ollama_chat_ops = {
    on_record, NULL, on_end, rill__chatdec_http_error, rill__chatdec_failure,
    destroy};

int rill__ollama_chat_decoder_new(const rill_chat_callbacks *cb, int generate,
                                  rill__decoder **out) {
  ollama_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  rill__chatdec_init(&d->c, &ollama_chat_ops, cb);
  d->generate = generate;
  rill__buf_init(&d->id, NULL, 1024);
  rill__buf_init(&d->args, NULL, RILL__MAX_TOOL_ARGS);
  *out = &d->c.p.base;
  return RILL_OK;
}

/* ---- the request --------------------------------------------------------- */

static const char *role_name(rill_role r) {
  switch (r) {
  case RILL_ROLE_SYSTEM:
    return "system";
  case RILL_ROLE_ASSISTANT:
    return "assistant";
  case RILL_ROLE_TOOL:
    return "tool";
  default:
    return "user";
  }
}

static void write_message(rill_jw *w, const rill_message *m) {
  size_t i;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "role", role_name(m->role));
  rill__jw_kstr(w, "content", m->content);
  if (m->thinking && *m->thinking)
    rill__jw_kstr(w, "thinking", m->thinking);
  if (m->n_images > 0) {
    rill_jw_key(w, "images", 6);
    rill_jw_array_begin(w);
    for (i = 0; i < m->n_images; i++)
      rill__jw_image(w, &m->images[i], 0);
    rill_jw_array_end(w);
  }
  if (m->n_tool_calls > 0) {
    rill_jw_key(w, "tool_calls", 10);
    rill_jw_array_begin(w);
    for (i = 0; i < m->n_tool_calls; i++) {
      const rill_tool_call *tc = &m->tool_calls[i];
      rill_jw_object_begin(w);
      if (tc->id && *tc->id)
        rill__jw_kstr(w, "id", tc->id);
      rill_jw_key(w, "function", 8);
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "name", tc->name);
      rill__jw_kraw(w, "arguments",
                    tc->arguments && *tc->arguments ? tc->arguments : "{}");
      rill_jw_object_end(w);
      rill_jw_object_end(w);
    }
    rill_jw_array_end(w);
  }
  if (m->tool_name && *m->tool_name)
    rill__jw_kstr(w, "tool_name", m->tool_name);
  if (m->tool_call_id && *m->tool_call_id)
    rill__jw_kstr(w, "tool_call_id", m->tool_call_id);
  rill_jw_object_end(w);
}

static void write_options(rill_jw *w, const rill_chat_request *req) {
  unsigned set = req->set;
  if (!(set & (RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_TOP_K |
               RILL_SET_SEED | RILL_SET_MAX_TOKENS | RILL_SET_NUM_CTX)) &&
      req->n_stop == 0)
    return;
  rill_jw_key(w, "options", 7);
  rill_jw_object_begin(w);
  if (set & RILL_SET_TEMPERATURE) {
    rill_jw_key(w, "temperature", 11);
    rill_jw_double(w, req->temperature);
  }
  if (set & RILL_SET_TOP_P) {
    rill_jw_key(w, "top_p", 5);
    rill_jw_double(w, req->top_p);
  }
  if (set & RILL_SET_TOP_K) {
    rill_jw_key(w, "top_k", 5);
    rill_jw_int(w, req->top_k);
  }
  if (set & RILL_SET_SEED) {
    rill_jw_key(w, "seed", 4);
    rill_jw_int(w, req->seed);
  }
  if (set & RILL_SET_MAX_TOKENS) {
    rill_jw_key(w, "num_predict", 11);
    rill_jw_int(w, req->max_tokens);
  }
  if (set & RILL_SET_NUM_CTX) {
    rill_jw_key(w, "num_ctx", 7);
    rill_jw_int(w, req->num_ctx);
  }
  if (req->n_stop > 0)
    rill__jw_stop(w, req);
  rill_jw_object_end(w);
}

/* /api/generate: the prompt, the first system message's text as
 * "system", and the user messages' images in order. */
static void write_generate(rill_jw *w, const rill_chat_request *req) {
  size_t i, j, n_images = 0;
  const char *system = NULL;
  rill__jw_kstr(w, "prompt", req->prompt);
  for (i = 0; i < req->n_messages; i++) {
    if (req->messages[i].role == RILL_ROLE_SYSTEM && !system &&
        req->messages[i].content)
      system = req->messages[i].content;
    if (req->messages[i].role == RILL_ROLE_USER)
      n_images += req->messages[i].n_images;
  }
  if (system)
    rill__jw_kstr(w, "system", system);
  if (n_images == 0)
    return;
  rill_jw_key(w, "images", 6);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_messages; i++)
    if (req->messages[i].role == RILL_ROLE_USER)
      for (j = 0; j < req->messages[i].n_images; j++)
        rill__jw_image(w, &req->messages[i].images[j], 0);
  rill_jw_array_end(w);
}

static void write_body(rill_jw *w, const rill_chat_request *req, int generate) {
  size_t i;
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "model", req->model);
  if (generate) {
    write_generate(w, req);
  } else {
    rill_jw_key(w, "messages", 8);
    rill_jw_array_begin(w);
    for (i = 0; i < req->n_messages; i++)
      write_message(w, &req->messages[i]);
    rill_jw_array_end(w);
    if (req->n_tools > 0)
      rill__jw_tools(w, req);
  }
  if (req->format == RILL_FORMAT_JSON)
    rill__jw_kstr(w, "format", "json");
  else if (req->format == RILL_FORMAT_JSON_SCHEMA)
    rill__jw_kraw(w, "format", req->json_schema);
  write_options(w, req);
  if (req->keep_alive && *req->keep_alive) {
    rill_jw_key(w, "keep_alive", 10);
    rill__jw_keep_alive(w, req->keep_alive);
  }
  if (req->think != RILL_THINK_DEFAULT) {
    rill_jw_key(w, "think", 5);
    rill_jw_bool(w, req->think == RILL_THINK_ON);
  }
  rill_jw_key(w, "stream", 6);
  rill_jw_bool(w, !req->no_stream);
  rill_jw_object_end(w);
}

int rill__ollama_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r) {
  rill_jw *w = NULL;
  int generate = req->prompt && *req->prompt;
  int rc = rill__chat_request_check(req);
  (void)pool;
  if (rc != RILL_OK)
    return rc;
  rc = rill__request_setup(r, &req->endpoint, "POST",
                           generate ? "/api/generate" : "/api/chat",
                           req->no_stream ? RILL__FRAME_WHOLE
                                          : RILL__FRAME_NDJSON);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc != RILL_OK)
    return rc;
  write_body(w, req, generate);
  rc = rill__request_body(r, w);
  rill_jw_free(w);
  return rc;
}

int rill__ollama_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out) {
  rill__request r;
  rill__decoder *d = NULL;
  int rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__ollama_chat_build(req, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__ollama_chat_decoder_new(cb, req->prompt && *req->prompt, &d);
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
