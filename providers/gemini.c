/*
 * providers/gemini.c — the Gemini API (Generative Language, v1beta):
 * POST {base}/models/{model}:streamGenerateContent?alt=sse, streamed as SSE
 * (each data: event one whole GenerateContentResponse, frames ending in
 * CRLF, no end marker: the last chunk carries finishReason and the server
 * closes), or :generateContent (no_stream: one whole JSON object); the
 * embedding requests (:embedContent, :batchEmbedContents). The key travels
 * in the x-goog-api-key header (providers/common.c), never in the URL.
 *
 * Request fields written: contents[] {role user|model, parts[] {text,
 * inlineData {mimeType, data (base64)}, functionCall {id?, name, args},
 * functionResponse {id?, name, response}}}, systemInstruction {parts[]
 * {text}}, tools[] {functionDeclarations[] {name, description?,
 * parameters?}}, generationConfig {temperature, topP, topK, seed,
 * maxOutputTokens, stopSequences, responseMimeType, responseSchema,
 * thinkingConfig {includeThoughts, thinkingBudget}}, and the members of
 * req->extra_json (e.g. safetySettings, toolConfig), which replace rill's
 * own member of the same name.
 *
 * Response fields read (each event, or the whole answer): error {message,
 * status} → on_error; promptFeedback.blockReason → on_error; modelVersion →
 * rill_done.model; candidates[] (index 0 only): content.parts[] {text,
 * thought, functionCall {id?, name, args}}, finishReason; usageMetadata
 * {promptTokenCount, candidatesTokenCount, thoughtsTokenCount} (cumulative:
 * the last values win). Not read: responseId, safetyRatings,
 * citationMetadata, thoughtSignature (no place in rill's common model; see
 * docs/gemini.md).
 *
 * on_done runs at the clean end of the body, after a chunk with a
 * finishReason (chunks after it still count for usage); an end without
 * any finishReason is a truncated stream.
 *
 * Knows nothing of curl or of the other providers.
 */
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

/* The code of a prompt the server blocked (promptFeedback.blockReason):
 * the request's content was refused, so retrying it cannot help. There is
 * no dedicated code; RILL_E_INVALID with http_status 200 says "the server
 * refused this input". */
#define GEMINI_E_BLOCKED RILL_E_INVALID

#define GEMINI_EMBED_MAX_BODY ((size_t)64 << 20)

typedef struct gemini_dec {
  rill__chatdec c;
  rill__toolcall call; /* the current function call; args as compact JSON */
  int saw_finish;
  int whole;      /* the answer arrived as one object (no_stream) */
} gemini_dec;

/* Unescape string token i into dst (NUL-terminated; "" when not a
 * string). */
static int put_str(const rill__json *js, int i, rill__buf *dst) {
  int rc = RILL_OK;
  rill__buf_clear(dst);
  if (rill__json_is_string(js, i))
    rc = rill__json_unescape(js, i, dst);
  if (rc == RILL_OK)
    rc = rill__buf_putc(dst, '\0');
  if (rc == RILL_OK)
    dst->len--;
  return rc;
}

/* Gemini's finishReason values (WIRE-FORMATS.md §3.3) in rill's terms;
 * unknown values (the list grows) are OTHER. */
static rill_finish finish_of(const char *s) {
  static const char *const filter[] = {
      "SAFETY",       "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT",
      "SPII",         "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"};
  size_t k;
  if (!strcmp(s, "STOP"))
    return RILL_FINISH_STOP;
  if (!strcmp(s, "MAX_TOKENS"))
    return RILL_FINISH_LENGTH;
  for (k = 0; k < sizeof filter / sizeof filter[0]; k++)
    if (!strcmp(s, filter[k]))
      return RILL_FINISH_CONTENT_FILTER;
  return RILL_FINISH_OTHER;
}

/* One functionCall part: a complete call, delivered at once. */
static int function_call(gemini_dec *d, int fc) {
  static const char *const keys[] = {"id", "name", "args"};
  const rill__json *js = &d->c.js;
  int v[3], rc;
  size_t index = d->c.n_calls;
  rill__json_get_many(js, fc, keys, 3, v);
  if (!rill__json_is_string(js, v[1]))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "a functionCall without a name");
  if (index >= d->c.max_tool_calls)
    return rill__pdec_fail(&d->c.p, RILL_E_LIMIT, 0,
                           "more than %zu tool calls in one answer",
                           d->c.max_tool_calls);
  rc = put_str(js, v[0], &d->call.id);
  if (rc == RILL_OK)
    rc = put_str(js, v[1], &d->call.name);
  if (rc == RILL_OK) {
    rill__buf_clear(&d->call.args);
    d->call.args.limit = d->c.max_tool_args + 1; /* + the NUL */
    if (rill__json_is_object(js, v[2])) {
      size_t n;
      const char *raw = rill__json_raw(js, v[2], &n);
      rc = rill__json_minify(&d->call.args, raw, n);
    }
    if (rc == RILL_OK && d->call.args.len == 0)
      rc = rill__buf_append(&d->call.args, "{}", 2);
    if (rc == RILL_OK)
      rc = rill__buf_putc(&d->call.args, '\0');
    if (rc == RILL_OK)
      d->call.args.len--;
  }
  if (rc == RILL_E_LIMIT)
    return rill__pdec_fail(&d->c.p, rc, 0,
                           "function call: id, name or arguments too long "
                           "(arguments: at most %zu bytes)",
                           d->c.max_tool_args);
  if (rc != RILL_OK)
    return rill__pdec_fail(&d->c.p, rc, 0, "function call: %s",
                           rill_strerror(rc));
  rc = rill__chatdec_tool_delta(&d->c, index, d->call.id.data, d->call.name.data,
                                d->call.args.data, d->call.args.len);
  if (rc == RILL_OK)
    rc = rill__chatdec_tool_call(&d->c, index, d->call.id.data, d->call.name.data,
                                 d->call.args.data, d->call.args.len);
  return rc;
}

static int parts(gemini_dec *d, int content) {
  static const char *const keys[] = {"text", "thought", "functionCall"};
  const rill__json *js = &d->c.js;
  int arr = rill__json_getz(js, content, "parts"), p, rc;
  if (!rill__json_is_array(js, arr))
    return RILL_OK;
  for (p = rill__json_first(js, arr); p >= 0; p = rill__json_next(js, arr, p)) {
    int v[3];
    if (!rill__json_is_object(js, p))
      continue;
    rill__json_get_many(js, p, keys, 3, v);
    rc = rill__chatdec_text_tok(&d->c, rill__json_bool(js, v[1]) == 1, v[0]);
    if (rc == RILL_OK && rill__json_is_object(js, v[2]))
      rc = function_call(d, v[2]);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

static void usage(gemini_dec *d, int u) {
  const rill__json *js = &d->c.js;
  static const char *const keys[] = {"promptTokenCount",
                                     "candidatesTokenCount",
                                     "thoughtsTokenCount"};
  int v[3];
  int64_t n;
  if (!rill__json_is_object(js, u))
    return;
  rill__json_get_many(js, u, keys, 3, v);
  if (v[0] >= 0 && rill__json_int64(js, v[0], &n) == RILL_OK && n >= 0)
    d->c.usage.input_tokens = n;
  if (v[1] >= 0 && rill__json_int64(js, v[1], &n) == RILL_OK && n >= 0)
    d->c.usage.output_tokens = n;
  if (v[2] >= 0 && rill__json_int64(js, v[2], &n) == RILL_OK && n >= 0)
    d->c.usage.thinking_tokens = n;
}

static int finalize(gemini_dec *d) {
  if (d->c.n_calls > 0 &&
      (d->c.finish == RILL_FINISH_STOP || d->c.finish == RILL_FINISH_NONE))
    d->c.finish = RILL_FINISH_TOOL_CALLS;
  return rill__chatdec_done(&d->c);
}

/* One GenerateContentResponse (an event's data, or the whole answer). */
/* A candidate object c: its parts, then its finishReason the first time
 * one comes. Candidates other than index 0 are skipped (candidateCount > 1
 * is not supported). */
static int candidate(gemini_dec *d, int c) {
  static const char *const cand_keys[] = {"index", "content", "finishReason"};
  const rill__json *js = &d->c.js;
  int v[3], rc;
  int64_t ix = 0;
  rill__json_get_many(js, c, cand_keys, 3, v);
  if (v[0] >= 0 && (rill__json_int64(js, v[0], &ix) != RILL_OK || ix != 0))
    return RILL_OK;
  rc = parts(d, v[1]);
  if (rc != RILL_OK || !rill__json_is_string(js, v[2]) || d->saw_finish)
    return rc;
  d->saw_finish = 1;
  rc = rill__chatdec_keep(&d->c, v[2], &d->c.raw_finish);
  if (rc != RILL_OK)
    return rc;
  d->c.finish = finish_of(d->c.raw_finish.len ? d->c.raw_finish.data : "");
  return RILL_OK;
}

/* promptFeedback.blockReason, when present, ends the answer. */
static int blocked(gemini_dec *d, int feedback) {
  const rill__json *js = &d->c.js;
  int br, rc;
  if (!rill__json_is_object(js, feedback))
    return RILL_OK;
  br = rill__json_getz(js, feedback, "blockReason");
  if (!rill__json_is_string(js, br))
    return RILL_OK;
  rc = rill__chatdec_str(&d->c, br);
  if (rc != RILL_OK)
    return rc;
  return rill__pdec_fail(&d->c.p, GEMINI_E_BLOCKED, 200,
                         "the prompt was blocked (blockReason %s)",
                         d->c.str.data);
}

static int chunk(gemini_dec *d, const char *data, size_t len) {
  static const char *const top_keys[] = {"error", "candidates",
                                         "promptFeedback", "usageMetadata",
                                         "modelVersion"};
  rill__json *js = &d->c.js;
  rill_json_error err = {0, NULL};
  int top[5], rc, ch;
  rc = rill__json_parse(js, data, len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&d->c.p, rc, &err,
                               d->whole ? "the answer" : "an event's data");
  if (!rill__json_is_object(js, 0))
    return rill__pdec_fail(&d->c.p, RILL_E_PROTOCOL, 0,
                           "the server sent JSON that is not an object");
  rill__json_get_many(js, 0, top_keys, 5, top);
  if (top[0] >= 0 && !rill__json_is_null(js, top[0])) {
    char msg[RILL__PROVIDER_MSG_MAX + 1];
    rill__error_member_message(js, top[0], msg, sizeof msg);
    return rill__pdec_fail(&d->c.p, RILL__E_STREAM_ERROR, 200, "%s",
                           msg[0] ? msg : "the server reported an error");
  }
  rc = rill__chatdec_keep(&d->c, top[4], &d->c.model);
  if (rc != RILL_OK)
    return rc;
  rc = blocked(d, top[2]);
  if (rc != RILL_OK)
    return rc;
  usage(d, top[3]);
  ch = top[1];
  if (rill__json_is_array(js, ch)) {
    int c;
    for (c = rill__json_first(js, ch); c >= 0; c = rill__json_next(js, ch, c)) {
      if (!rill__json_is_object(js, c))
        continue;
      rc = candidate(d, c);
      if (rc != RILL_OK)
        return rc;
    }
  }
  return RILL_OK;
}

static int on_event(rill__decoder *base, const rill_sse_event *ev) {
  gemini_dec *d = (gemini_dec *)base;
  rill__chatdec_ready(&d->c);
  if (d->c.done_sent)
    return RILL_OK;
  return chunk(d, ev->data, ev->data_len);
}

static int on_record(rill__decoder *base, const char *rec, size_t len) {
  gemini_dec *d = (gemini_dec *)base;
  int rc;
  rill__chatdec_ready(&d->c);
  if (d->c.done_sent)
    return RILL_OK;
  d->whole = 1;
  rc = chunk(d, rec, len);
  if (rc != RILL_OK)
    return rc;
  return finalize(d);
}

static int on_end(rill__decoder *base) {
  gemini_dec *d = (gemini_dec *)base;
  if (d->c.done_sent)
    return RILL_OK;
  if (!d->saw_finish)
    return rill__pdec_fail(&d->c.p, RILL__E_TRUNCATED_STREAM, 0,
                           "truncated stream: the answer ended without a "
                           "finishReason");
  return finalize(d);
}

/* {"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}:
 * "message (STATUS)". */
static void http_error_message(rill__decoder *base, long status,
                               const char *body, size_t len, rill__buf *msg) {
  gemini_dec *d = (gemini_dec *)base;
  rill__json *js = &d->c.js;
  size_t before = msg->len;
  int e, st;
  (void)status;
  rill__chatdec_ready(&d->c);
  rill__error_body_message(js, body, len, msg);
  if (msg->len == before || !rill__json_is_object(js, 0))
    return;
  e = rill__json_getz(js, 0, "error");
  st = rill__json_getz(js, e, "status");
  if (rill__json_is_string(js, st)) {
    char s[64];
    rill__error_member_message(js, st, s, sizeof s);
    if (s[0]) {
      (void)rill__buf_append(msg, " (", 2);
      (void)rill__buf_append(msg, s, strlen(s));
      (void)rill__buf_putc(msg, ')');
    }
  }
}

static void destroy(rill__decoder *base) {
  gemini_dec *d = (gemini_dec *)base;
  if (!d)
    return;
  rill__toolcall_release(&d->call);
  rill__chatdec_release(&d->c);
  rill__free(d);
}

static const rill__decoder_ops gemini_chat_ops = {
    on_record, on_event, on_end, http_error_message, rill__chatdec_failure,
    destroy};

int rill__gemini_chat_decoder_new(const rill_chat_callbacks *cb,
                                  rill__decoder **out) {
  gemini_dec *d = rill__malloc(sizeof *d);
  if (!d)
    return RILL_E_NOMEM;
  memset(d, 0, sizeof *d);
  rill__chatdec_init(&d->c, &gemini_chat_ops, cb);
  rill__toolcall_init(&d->call, NULL, RILL__MAX_TOOL_ARGS);
  *out = &d->c.p.base;
  return RILL_OK;
}

/* ---- requests ------------------------------------------------------------ */

/* A model name as a path segment: "gemini-2.5-flash" becomes
 * "models/gemini-2.5-flash"; a name that already has a collection
 * ("models/…", "tunedModels/…") is kept. Characters that would change the
 * URL's meaning are refused. */
static int model_path(const char *model, const char *method, char *out,
                      size_t cap) {
  const char *p;
  size_t n;
  int has_collection = strchr(model, '/') != NULL;
  for (p = model; *p; p++) {
    unsigned char ch = (unsigned char)*p;
    if (ch <= 0x20 || ch >= 0x7f || ch == '?' || ch == '#' || ch == '%' ||
        ch == ':' || ch == '\\')
      return RILL_E_INVALID;
  }
  if (model[0] == '/' || strstr(model, "..") || strstr(model, "//"))
    return RILL_E_INVALID;
  n = strlen(model) + strlen(method) + 16;
  if (n >= cap)
    return RILL_E_INVALID;
  memcpy(out, "/", 2);
  if (!has_collection)
    memcpy(out + 1, "models/", 8);
  n = strlen(out);
  memcpy(out + n, model, strlen(model) + 1);
  n = strlen(out);
  memcpy(out + n, method, strlen(method) + 1);
  return RILL_OK;
}

/* The members of extra_json (a JSON object), parsed once. */
typedef struct extra {
  rill__json js;
  int ok; /* parsed and an object */
} extra;

static int extra_has(const extra *x, const char *key) {
  return x->ok && rill__json_getz(&x->js, 0, key) >= 0;
}

/* Write every member of the extra object. */
static void extra_write(rill_jw *w, const extra *x) {
  int i, end;
  if (!x->ok)
    return;
  end = rill__json_skip(&x->js, 0);
  for (i = 1; i < end; i = rill__json_skip(&x->js, i + 1)) {
    const jsmntok_t *k = rill__json_tok(&x->js, i);
    const jsmntok_t *v = rill__json_tok(&x->js, i + 1);
    size_t kn;
    const char *kr = rill__json_raw(&x->js, i, &kn);
    char small[256];
    if (!k || !v)
      break;
    /* Keys are short (extra_parse refuses 256 bytes or more). */
    if (kn < sizeof small) {
      size_t un = rill__json_unescape_span(kr, kn, small);
      rill_jw_key(w, small, un);
    }
    {
      int start = v->type == JSMN_STRING ? v->start - 1 : v->start;
      int stop = v->type == JSMN_STRING ? v->end + 1 : v->end;
      rill_jw_raw(w, x->js.text + start, (size_t)(stop - start));
    }
  }
}

static int extra_parse(extra *x, const char *text) {
  int i, end;
  memset(x, 0, sizeof *x);
  rill__json_init(&x->js, NULL, 0);
  if (!text || !*text)
    return RILL_OK;
  if (!rill__is_json_object(text))
    return RILL_E_INVALID;
  i = rill__json_parse(&x->js, text, strlen(text), NULL);
  if (i != RILL_OK)
    return i; /* it validated: only memory or the token cap can fail */
  end = rill__json_skip(&x->js, 0);
  for (i = 1; i < end; i = rill__json_skip(&x->js, i + 1)) {
    size_t kn;
    (void)rill__json_raw(&x->js, i, &kn);
    if (kn >= 256)
      return RILL_E_INVALID;
  }
  x->ok = 1;
  return RILL_OK;
}

static void text_part(rill_jw *w, const char *text) {
  rill_jw_object_begin(w);
  rill__jw_kstr(w, "text", text);
  rill_jw_object_end(w);
}

/* The name of the call a tool result answers: tool_name, else the name of
 * the earlier call with the same id. */
static const char *tool_result_name(const rill_chat_request *req, size_t at) {
  const rill_message *m = &req->messages[at];
  size_t i, j;
  if (m->tool_name && *m->tool_name)
    return m->tool_name;
  if (!m->tool_call_id || !*m->tool_call_id)
    return NULL;
  for (i = at; i-- > 0;) {
    const rill_message *a = &req->messages[i];
    for (j = 0; j < a->n_tool_calls; j++)
      if (a->tool_calls[j].id && !strcmp(a->tool_calls[j].id, m->tool_call_id))
        return a->tool_calls[j].name;
  }
  return NULL;
}

static void function_response(rill_jw *w, const rill_message *m,
                              const char *name) {
  rill_jw_object_begin(w);
  rill_jw_key(w, "functionResponse", 16);
  rill_jw_object_begin(w);
  if (m->tool_call_id && *m->tool_call_id)
    rill__jw_kstr(w, "id", m->tool_call_id);
  rill__jw_kstr(w, "name", name);
  if (rill__is_json_object(m->content)) {
    rill__jw_kraw(w, "response", m->content);
  } else {
    rill_jw_key(w, "response", 8);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "result", m->content);
    rill_jw_object_end(w);
  }
  rill_jw_object_end(w);
  rill_jw_object_end(w);
}

static void model_turn(rill_jw *w, const rill_message *m) {
  size_t i, n = 0;
  rill__jw_kstr(w, "role", "model");
  rill_jw_key(w, "parts", 5);
  rill_jw_array_begin(w);
  if (m->content && *m->content) {
    text_part(w, m->content);
    n++;
  }
  for (i = 0; i < m->n_tool_calls; i++) {
    const rill_tool_call *tc = &m->tool_calls[i];
    rill_jw_object_begin(w);
    rill_jw_key(w, "functionCall", 12);
    rill_jw_object_begin(w);
    if (tc->id && *tc->id)
      rill__jw_kstr(w, "id", tc->id);
    rill__jw_kstr(w, "name", tc->name);
    rill__jw_kraw(w, "args",
                  tc->arguments && *tc->arguments ? tc->arguments : "{}");
    rill_jw_object_end(w);
    rill_jw_object_end(w);
    n++;
  }
  if (n == 0)
    text_part(w, "");
  rill_jw_array_end(w);
}

static void user_turn(rill_jw *w, const rill_message *m) {
  size_t i;
  rill__jw_kstr(w, "role", "user");
  rill_jw_key(w, "parts", 5);
  rill_jw_array_begin(w);
  if ((m->content && *m->content) || m->n_images == 0)
    text_part(w, m->content);
  for (i = 0; i < m->n_images; i++) {
    const rill_image *img = &m->images[i];
    rill_jw_object_begin(w);
    rill_jw_key(w, "inlineData", 10);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "mimeType", img->mime_type && *img->mime_type
                                     ? img->mime_type
                                     : "image/png");
    rill_jw_key(w, "data", 4);
    rill__jw_image(w, img, 0);
    rill_jw_object_end(w);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
}

/* contents[]: consecutive tool results go into one user turn (the answers
 * to parallel calls belong together). */
static int write_contents(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  rill_jw_key(w, "contents", 8);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_messages; i++) {
    const rill_message *m = &req->messages[i];
    if (m->role == RILL_ROLE_SYSTEM)
      continue;
    rill_jw_object_begin(w);
    if (m->role == RILL_ROLE_TOOL) {
      rill__jw_kstr(w, "role", "user");
      rill_jw_key(w, "parts", 5);
      rill_jw_array_begin(w);
      for (; i < req->n_messages && req->messages[i].role == RILL_ROLE_TOOL;
           i++) {
        const char *name = tool_result_name(req, i);
        if (!name)
          return RILL_E_INVALID;
        function_response(w, &req->messages[i], name);
      }
      i--;
      rill_jw_array_end(w);
    } else if (m->role == RILL_ROLE_ASSISTANT) {
      model_turn(w, m);
    } else {
      user_turn(w, m);
    }
    rill_jw_object_end(w);
  }
  if (req->prompt && *req->prompt) {
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "role", "user");
    rill_jw_key(w, "parts", 5);
    rill_jw_array_begin(w);
    text_part(w, req->prompt);
    rill_jw_array_end(w);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  return RILL_OK;
}

static void write_system(rill_jw *w, const rill_chat_request *req) {
  size_t i, n = 0;
  for (i = 0; i < req->n_messages; i++)
    if (req->messages[i].role == RILL_ROLE_SYSTEM)
      n++;
  if (n == 0)
    return;
  rill_jw_key(w, "systemInstruction", 17);
  rill_jw_object_begin(w);
  rill_jw_key(w, "parts", 5);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_messages; i++)
    if (req->messages[i].role == RILL_ROLE_SYSTEM)
      text_part(w, req->messages[i].content);
  rill_jw_array_end(w);
  rill_jw_object_end(w);
}

static void write_tools(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  rill_jw_key(w, "tools", 5);
  rill_jw_array_begin(w);
  rill_jw_object_begin(w);
  rill_jw_key(w, "functionDeclarations", 20);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_tools; i++) {
    const rill_tool *t = &req->tools[i];
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "name", t->name);
    if (t->description)
      rill__jw_kstr(w, "description", t->description);
    if (t->parameters_json)
      rill__jw_kraw(w, "parameters", t->parameters_json);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  rill_jw_object_end(w);
  rill_jw_array_end(w);
}

static void write_config(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  unsigned set = req->set & (RILL_SET_TEMPERATURE | RILL_SET_TOP_P |
                             RILL_SET_TOP_K | RILL_SET_SEED |
                             RILL_SET_MAX_TOKENS);
  if (!set && req->n_stop == 0 && req->think == RILL_THINK_DEFAULT &&
      req->format == RILL_FORMAT_TEXT)
    return;
  rill_jw_key(w, "generationConfig", 16);
  rill_jw_object_begin(w);
  if (set & RILL_SET_TEMPERATURE) {
    rill_jw_key(w, "temperature", 11);
    rill_jw_double(w, req->temperature);
  }
  if (set & RILL_SET_TOP_P) {
    rill_jw_key(w, "topP", 4);
    rill_jw_double(w, req->top_p);
  }
  if (set & RILL_SET_TOP_K) {
    rill_jw_key(w, "topK", 4);
    rill_jw_int(w, req->top_k);
  }
  if (set & RILL_SET_SEED) {
    rill_jw_key(w, "seed", 4);
    rill_jw_int(w, req->seed);
  }
  if (set & RILL_SET_MAX_TOKENS) {
    rill_jw_key(w, "maxOutputTokens", 15);
    rill_jw_int(w, req->max_tokens);
  }
  if (req->n_stop > 0) {
    rill_jw_key(w, "stopSequences", 13);
    rill_jw_array_begin(w);
    for (i = 0; i < req->n_stop; i++)
      rill_jw_string(w, req->stop[i], strlen(req->stop[i]));
    rill_jw_array_end(w);
  }
  if (req->format != RILL_FORMAT_TEXT)
    rill__jw_kstr(w, "responseMimeType", "application/json");
  if (req->format == RILL_FORMAT_JSON_SCHEMA)
    rill__jw_kraw(w, "responseSchema", req->json_schema);
  if (req->think == RILL_THINK_ON)
    rill__jw_kraw(w, "thinkingConfig",
                  "{\"includeThoughts\":true,\"thinkingBudget\":-1}");
  else if (req->think == RILL_THINK_OFF)
    rill__jw_kraw(w, "thinkingConfig",
                  "{\"includeThoughts\":false,\"thinkingBudget\":0}");
  rill_jw_object_end(w);
}

static int write_body(rill_jw *w, const rill_chat_request *req,
                      const extra *x) {
  int rc = RILL_OK;
  rill_jw_object_begin(w);
  if (!extra_has(x, "contents"))
    rc = write_contents(w, req);
  if (!extra_has(x, "systemInstruction"))
    write_system(w, req);
  if (req->n_tools > 0 && !extra_has(x, "tools"))
    write_tools(w, req);
  if (!extra_has(x, "generationConfig"))
    write_config(w, req);
  extra_write(w, x);
  rill_jw_object_end(w);
  return rc;
}

int rill__gemini_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r) {
  char path[1200];
  rill_jw *w = NULL;
  extra x;
  int rc = rill__chat_request_check(req);
  (void)pool;
  if (rc != RILL_OK)
    return rc;
  rc = model_path(req->model,
                  req->no_stream ? ":generateContent"
                                 : ":streamGenerateContent?alt=sse",
                  path, sizeof path);
  if (rc != RILL_OK)
    return rc;
  rc = rill__request_setup(r, &req->endpoint, "POST", path,
                           req->no_stream ? RILL__FRAME_WHOLE
                                          : RILL__FRAME_SSE);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  rc = extra_parse(&x, req->extra_json);
  if (rc == RILL_OK)
    rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc == RILL_OK)
    rc = write_body(w, req, &x);
  if (rc == RILL_OK)
    rc = rill__request_body(r, w);
  rill_jw_free(w);
  rill__json_release(&x.js);
  return rc;
}

int rill__gemini_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out) {
  rill__request r;
  rill__decoder *d = NULL;
  int rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__gemini_chat_build(req, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__gemini_chat_decoder_new(cb, &d);
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

/* ---- embeddings ---------------------------------------------------------- */

static void embed_one(rill_jw *w, const rill_embed_request *req, size_t i,
                      const char *model_name) {
  if (model_name)
    rill__jw_kstr(w, "model", model_name);
  rill_jw_key(w, "content", 7);
  rill_jw_object_begin(w);
  rill_jw_key(w, "parts", 5);
  rill_jw_array_begin(w);
  text_part(w, req->inputs[i]);
  rill_jw_array_end(w);
  rill_jw_object_end(w);
  if (req->task_type && *req->task_type)
    rill__jw_kstr(w, "taskType", req->task_type);
  if (req->title && *req->title)
    rill__jw_kstr(w, "title", req->title);
  if (req->dimensions > 0) {
    rill_jw_key(w, "outputDimensionality", 20);
    rill_jw_int(w, req->dimensions);
  }
}

int rill__gemini_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r) {
  char path[1200];
  rill_jw *w = NULL;
  size_t i;
  int batch, rc;
  (void)pool;
  if (!req->model || !*req->model || req->n_inputs == 0 || !req->inputs ||
      req->dimensions < 0)
    return RILL_E_INVALID;
  for (i = 0; i < req->n_inputs; i++)
    if (!req->inputs[i])
      return RILL_E_INVALID;
  batch = req->n_inputs > 1;
  rc = model_path(req->model, batch ? ":batchEmbedContents" : ":embedContent",
                  path, sizeof path);
  if (rc == RILL_OK)
    rc = rill__request_setup(r, &req->endpoint, "POST", path,
                             RILL__FRAME_WHOLE);
  if (rc == RILL_OK)
    rc = rill_jw_new(&w, RILL__MAX_BODY);
  if (rc != RILL_OK)
    return rc;
  r->timeouts = req->timeouts;
  r->retry = req->retry;
  r->max_body = GEMINI_EMBED_MAX_BODY;
  rc = rill__request_limits(&req->limits, r);
  if (rc != RILL_OK) {
    rill_jw_free(w);
    return rc;
  }
  rill_jw_object_begin(w);
  if (!batch) {
    embed_one(w, req, 0, NULL);
  } else {
    /* Each request names the URL's model, "models/…" (path + 1 drops the
     * leading '/', and the method suffix is cut). */
    char *colon = strrchr(path, ':');
    *colon = '\0';
    rill_jw_key(w, "requests", 8);
    rill_jw_array_begin(w);
    for (i = 0; i < req->n_inputs; i++) {
      rill_jw_object_begin(w);
      embed_one(w, req, i, path + 1);
      rill_jw_object_end(w);
    }
    rill_jw_array_end(w);
  }
  rill_jw_object_end(w);
  rc = rill__request_body(r, w);
  rill_jw_free(w);
  return rc;
}
