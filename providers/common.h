/*
 * providers/common.h — helpers shared by the providers: endpoint
 * resolution, URL joining, credentials, extra headers, request bodies, and
 * the part of a chat decoder that does not depend on the wire format
 * (callback delivery, failure messages, the done record).
 *
 * Knows nothing of curl; knows the public request structs and the
 * transport contract (src/http/transport.h).
 */
#ifndef RILL_PROVIDERS_COMMON_H
#define RILL_PROVIDERS_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "http/transport.h"
#include "json/json.h"
#include "rill/chat.h"
#include "rill/json.h"
#include "rill/request.h"

/* The code of a stream that ended without its final frame, whether the
 * connection was cut or closed cleanly: either way the answer is incomplete
 * (RELIABILITY §3.3 scenario 6), and the message says which frame is
 * missing ("truncated stream: ..."). */
#define RILL__E_TRUNCATED_STREAM RILL_E_TRUNCATED
/* The code of an error object inside a 200 stream (the server failed
 * after it had started answering). */
#define RILL__E_STREAM_ERROR RILL_E_UNAVAILABLE

#define RILL__ERRMSG_CAP 512
/* Longest provider message kept from an error body or error record. */
#define RILL__PROVIDER_MSG_MAX 400
/* Request bodies (images included) are capped at 64 MiB. */
#define RILL__MAX_BODY ((size_t)64 << 20)
/* Tool calls in one answer, and bytes of one call's arguments (a call's
 * arguments never exceed a record in Ollama; OpenAI streams them in
 * pieces, so the sum is capped here). */
#define RILL__MAX_TOOL_CALLS 128u
#define RILL__MAX_TOOL_ARGS ((size_t)8 << 20)
/* The largest values rill_limits accepts for them, and for tokens. */
#define RILL__HARD_MAX_TOOL_CALLS 65536u
#define RILL__HARD_MAX_TOOL_ARGS ((size_t)64 << 20)
#define RILL__HARD_MAX_JSON_TOKENS (1u << 24)
/* Error body bytes read for a message (src/http/internal.h's
 * RILL__ERRBODY_MAX; providers do not include the transport's internals). */
#define RILL__ERRBODY_MAX_KEPT ((size_t)64 << 10)
/* Scratch strings (one unescaped member of one record). */
#define RILL__MAX_STRING ((size_t)64 << 20)

/* ---- endpoint ---------------------------------------------------------- */

/* The base URL for ep (given, or the provider's default; OLLAMA_HOST for
 * Ollama), without trailing '/', NUL-terminated in out.
 * Returns RILL_OK, RILL_E_INVALID (not http:// or https://, or control
 * characters/spaces in it), RILL_E_NOMEM. */
int rill__endpoint_base(const rill_endpoint *ep, rill__buf *out);

/* The Ollama base URL for an OLLAMA_HOST value (NULL or "": the default
 * http://127.0.0.1:11434). */
int rill__ollama_host_url(const char *host, rill__buf *out);

/* Fill r's method, url (base + path), framing, credential and extra
 * headers from ep. path starts with '/'. */
int rill__request_setup(rill__request *r, const rill_endpoint *ep,
                        const char *method, const char *path,
                        rill__framing framing);

/* ---- request bodies ---------------------------------------------------- */

/* Whether text is one valid JSON document whose top level is an object. */
int rill__is_json_object(const char *text);

/* Helpers that write key + value (sticky writer errors). */
int rill__jw_kstr(rill_jw *w, const char *key, const char *val);
int rill__jw_kraw(rill_jw *w, const char *key, const char *json);

/* The base64 text of an image (optionally as a data: URL) as a JSON
 * string value. */
int rill__jw_image(rill_jw *w, const rill_image *img, int data_url);

/* The "tools" member value: [{"type":"function","function":{…}}]. */
int rill__jw_tools(rill_jw *w, const rill_chat_request *req);

/* The stop sequences array. */
int rill__jw_stop(rill_jw *w, const rill_chat_request *req);

/* Move the finished writer's output into r->body. */
int rill__request_body(rill__request *r, rill_jw *w);

/* A keep_alive value: an integer (seconds) as a number, else a string. */
int rill__jw_keep_alive(rill_jw *w, const char *v);

/* Checks every chat request needs: model, messages or prompt, tools'
 * schemas, the output schema. */
int rill__chat_request_check(const rill_chat_request *req);

/* ---- decoders ---------------------------------------------------------- */

/* The first member of every provider decoder: the failure message lives
 * here so it survives without a stream (tests). */
typedef struct rill__pdec {
  rill__decoder base;
  char errmsg[RILL__ERRMSG_CAP];
  int inited; /* pooled buffers set up (on the first op) */
} rill__pdec;

/* Record a failure: format it into d->errmsg, pass it to the stream, and
 * return code. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int rill__pdec_fail(rill__pdec *d, int code, long http_status,
                    const char *fmt, ...);

/* The failure for a record that is not valid JSON. */
int rill__pdec_bad_json(rill__pdec *d, int rc, const rill_json_error *err,
                        const char *what);

/* Append a provider's error message found in an error body: {"error":"…"},
 * {"error":{"message":"…"}}, {"message":"…"}, {"detail":"…"}; else the
 * body text itself, cut, control characters replaced by spaces. js is a
 * reader to use (its tokens are replaced). */
void rill__error_body_message(rill__json *js, const char *body, size_t len,
                              rill__buf *msg);
/* The message of an "error" member at token i (a string or an object with
 * "message"), unescaped and cut, into out (NUL-terminated). */
void rill__error_member_message(const rill__json *js, int i, char *out,
                                size_t cap);

/* A copy of src into dst that reads only src->size bytes (older, shorter
 * structs) and zeroes the rest. src NULL: all zero. */
void rill__copy_callbacks(rill_chat_callbacks *dst,
                          const rill_chat_callbacks *src);

/* A tool call being assembled from the wire: its id, name and argument
 * text, each a capped buffer (ids and names 1 KiB; args_limit for the
 * arguments). */
typedef struct rill__toolcall {
  rill__buf id, name, args;
} rill__toolcall;

void rill__toolcall_init(rill__toolcall *t, rill__pool *pool,
                         size_t args_limit);
void rill__toolcall_release(rill__toolcall *t);

/* The format-independent state of a chat decoder. */
typedef struct rill__chatdec {
  rill__pdec p;
  rill_chat_callbacks cb;
  rill__json js;
  rill__buf str;        /* scratch: one unescaped string */
  rill__buf model;      /* NUL-terminated once set */
  rill__buf raw_finish; /* NUL-terminated once set */
  rill_finish finish;
  rill_usage usage;
  double tokens_per_s;  /* from the server (0: compute from usage) */
  size_t n_calls;       /* complete tool calls delivered */
  size_t max_tool_calls;/* rill_limits, resolved (RILL__MAX_TOOL_CALLS) */
  size_t max_tool_args; /* rill_limits, resolved (RILL__MAX_TOOL_ARGS) */
  int done_sent;
  int error_sent;
} rill__chatdec;

void rill__chatdec_init(rill__chatdec *d, const rill__decoder_ops *ops,
                        const rill_chat_callbacks *cb);
/* Check l (RILL_E_INVALID: a cap above its maximum) and apply its
 * transport caps (record, response and error-body bytes, low speed) to r.
 * Returns RILL_OK or RILL_E_INVALID. */
int rill__request_limits(const rill_limits *l, rill__request *r);
/* Apply a chat request's rill_limits to its transport request r and to
 * chat decoder d (whose first member is a rill__chatdec). Returns RILL_OK
 * or RILL_E_INVALID (a cap above its maximum). */
int rill__chat_limits(const rill_limits *l, rill__request *r,
                      rill__decoder *d);
/* Set up the pooled buffers on first use (the stream's pool). */
void rill__chatdec_ready(rill__chatdec *d);
void rill__chatdec_release(rill__chatdec *d);

/* Unescape string token i into d->str (NUL-terminated). */
int rill__chatdec_str(rill__chatdec *d, int i);
/* Keep string token i in dst (NUL-terminated) when dst is still empty. */
int rill__chatdec_keep(rill__chatdec *d, int i, rill__buf *dst);

/* Deliver text (thinking 0) or thinking (1); empty text is skipped. */
int rill__chatdec_text(rill__chatdec *d, int thinking, const char *s,
                       size_t n);
/* Deliver string token i as text or thinking (not a string: skipped). */
int rill__chatdec_text_tok(rill__chatdec *d, int thinking, int i);
/* Deliver a tool-call piece (id/name NULL except on the first piece). */
int rill__chatdec_tool_delta(rill__chatdec *d, size_t index, const char *id,
                             const char *name, const char *args, size_t n);
/* Deliver a complete tool call (empty arguments become "{}"). */
int rill__chatdec_tool_call(rill__chatdec *d, size_t index, const char *id,
                            const char *name, const char *args, size_t n);
/* Deliver on_done with the recorded finish, usage, model and clocks. */
int rill__chatdec_done(rill__chatdec *d);
/* ops->http_error_message for decoders whose first member is a
 * rill__chatdec and that need no other set-up: the provider's own message
 * from an error body. */
void rill__chatdec_http_error(rill__decoder *d, long status, const char *body,
                              size_t len, rill__buf *msg);
/* ops->on_failure: deliver on_error once, never after on_done. */
void rill__chatdec_failure(rill__decoder *d, int code, long http_status,
                           const char *msg);
/* A normalised finish reason from a provider's value. */
rill_finish rill__finish_from(const char *raw, size_t n);

/* Read an int64 member (absent or not an integer: -1). */
int64_t rill__json_member_i64(const rill__json *js, int obj, const char *key);


/* ---- decoders of whole answers (models, pull, embed, show, version) ---- */

typedef struct rill__mdec {
  rill__pdec p;
  rill__json js;
  char *errmsg; /* the caller's buffer for the failure message (or NULL) */
  size_t errmsg_cap;
  int done;     /* the answer (or the final line) was complete */
} rill__mdec;

void rill__mdec_init(rill__mdec *m, const rill__decoder_ops *ops,
                     char *errmsg, size_t errmsg_cap, unsigned max_tokens);
void rill__mdec_ready(rill__mdec *m);
void rill__mdec_release(rill__mdec *m);
/* Parse a record that must be a JSON object without an "error" member. */
int rill__mdec_parse(rill__mdec *m, const char *rec, size_t len,
                     const char *what);
/* ops: on_end (done, else "truncated"/"empty"), http_error_message,
 * on_failure (copies the message into the caller's buffer). */
int rill__mdec_end(rill__decoder *d);
void rill__mdec_http_error(rill__decoder *d, long status, const char *body,
                           size_t len, rill__buf *msg);
void rill__mdec_failure(rill__decoder *d, int code, long http_status,
                        const char *msg);

/* Iterate the elements of array token arr: first element (or -1), next. */
int rill__json_first(const rill__json *js, int arr);
int rill__json_next(const rill__json *js, int arr, int i);

#endif
