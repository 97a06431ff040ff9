/*
 * rill/chat.h — streamed chat with Ollama and OpenAI-compatible servers
 * (Gemini and Anthropic use the same API).
 *
 * Build a rill_chat_request, give callbacks, and start it on a client:
 * rill_chat_start returns at once and the callbacks run while the client is
 * driven (rill/client.h); rill_chat does both and returns when the answer
 * is complete. Deltas reach the callbacks the moment their line or event
 * has arrived.
 *
 * Callback rules (every callback):
 *  - pointers passed in are valid only until the callback returns; strings
 *    are UTF-8, NUL-terminated, and their length is given too;
 *  - return 0 to go on, non-zero to cancel the stream (RILL_E_CANCELLED:
 *    the connection is closed, everything freed, on_error runs);
 *  - NULL members are skipped;
 *  - they run on the thread that drives the client.
 * A stream ends with exactly one of on_done (success) or on_error.
 */
#ifndef RILL_CHAT_H
#define RILL_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "rill/client.h"
#include "rill/export.h"
#include "rill/request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rill_role {
  RILL_ROLE_USER = 0,
  RILL_ROLE_SYSTEM = 1,
  RILL_ROLE_ASSISTANT = 2,
  RILL_ROLE_TOOL = 3 /* a tool's result, answering tool_call_id */
} rill_role;

/* An image attached to a user message; rill base64-encodes it. */
typedef struct rill_image {
  const char *mime_type; /* "image/png", "image/jpeg" … */
  const void *data;
  size_t len;
} rill_image;

/* A complete tool call (in a request: one the assistant made earlier). */
typedef struct rill_tool_call {
  size_t index;          /* position among the calls of this answer */
  const char *id;        /* "" when the provider gives none (Ollama) */
  const char *name;
  const char *arguments; /* JSON text of the arguments object */
  size_t arguments_len;
} rill_tool_call;

typedef struct rill_message {
  rill_role role;
  const char *content;    /* may be NULL (an assistant turn with only tool
                             calls) */
  const char *thinking;   /* assistant turns: earlier reasoning (optional) */
  const rill_image *images;
  size_t n_images;
  const rill_tool_call *tool_calls; /* assistant turns */
  size_t n_tool_calls;
  const char *tool_call_id; /* RILL_ROLE_TOOL: the call answered */
  const char *tool_name;    /* RILL_ROLE_TOOL: its name (Ollama wants it) */
} rill_message;

/* A tool the model may call. */
typedef struct rill_tool {
  const char *name;
  const char *description;
  const char *parameters_json; /* JSON Schema object, as text; validated */
} rill_tool;

typedef enum rill_think {
  RILL_THINK_DEFAULT = 0, /* the server's choice; nothing sent */
  RILL_THINK_ON = 1,
  RILL_THINK_OFF = 2
} rill_think;

typedef enum rill_output_format {
  RILL_FORMAT_TEXT = 0,
  RILL_FORMAT_JSON = 1,       /* any JSON object */
  RILL_FORMAT_JSON_SCHEMA = 2 /* JSON matching json_schema */
} rill_output_format;

/* Which optional numbers are set (bit flags for rill_chat_request.set):
 * the zero value of a number is meaningful (temperature 0), so a number is
 * sent only when its bit is set. */
#define RILL_SET_TEMPERATURE (1u << 0)
#define RILL_SET_TOP_P (1u << 1)
#define RILL_SET_TOP_K (1u << 2)
#define RILL_SET_SEED (1u << 3)
#define RILL_SET_MAX_TOKENS (1u << 4)
#define RILL_SET_NUM_CTX (1u << 5)

typedef struct rill_chat_request {
  size_t size; /* sizeof(rill_chat_request): RILL_CHAT_REQUEST_INIT */
  rill_endpoint endpoint;
  const char *model;
  const rill_message *messages;
  size_t n_messages;
  /* Ollama only: a prompt for /api/generate instead of messages (the
   * system message, if any, is sent as "system"). */
  const char *prompt;
  const rill_tool *tools;
  size_t n_tools;
  unsigned set; /* RILL_SET_* bits */
  double temperature;
  double top_p;
  int top_k;
  int64_t seed;
  int64_t max_tokens;
  int64_t num_ctx; /* Ollama options.num_ctx */
  const char *const *stop;
  size_t n_stop;
  rill_think think;
  rill_output_format format;
  const char *json_schema;  /* RILL_FORMAT_JSON_SCHEMA: schema text */
  const char *keep_alive;   /* Ollama, e.g. "5m", "0" */
  int no_stream;            /* 1: ask for one whole answer (callbacks still
                               run, once per kind, at the end) */
  rill_timeouts timeouts;
  rill_retry retry;
  const char *extra_json; /* provider-specific members merged into the
                             request body (a JSON object's text), e.g.
                             Gemini safetySettings; a member rill also
                             writes is replaced by this one. Gemini only
                             for now (others ignore it); NULL: none */
  rill_limits limits;     /* caps (rill/request.h); zero: the defaults. A
                             caller built against an older header (smaller
                             size) gets the defaults. */
} rill_chat_request;

/* Designated, so -Wextra is quiet in C; C++ callers memset and set size. */
#define RILL_CHAT_REQUEST_INIT {.size = sizeof(rill_chat_request)}

typedef enum rill_finish {
  RILL_FINISH_NONE = 0, /* not reported */
  RILL_FINISH_STOP = 1,
  RILL_FINISH_LENGTH = 2,
  RILL_FINISH_TOOL_CALLS = 3,
  RILL_FINISH_CONTENT_FILTER = 4,
  RILL_FINISH_OTHER = 5
} rill_finish;

/* "stop", "length", "tool_calls", "content_filter", "other", "none". */
RILL_API const char *rill_finish_name(rill_finish f);

typedef struct rill_usage {
  int64_t input_tokens;    /* -1 when not reported */
  int64_t output_tokens;   /* -1 when not reported */
  int64_t thinking_tokens; /* -1 when not reported */
} rill_usage;

typedef struct rill_done {
  rill_finish finish;
  const char *raw_finish; /* the provider's own value ("" when none) */
  rill_usage usage;
  double ttft_ms;      /* start to first content delta (-1: none came) */
  double total_ms;     /* start to the end of the stream */
  double tokens_per_s; /* output tokens per second of generation, when the
                          server reports counts and durations (Ollama) or
                          from usage and the client's clock; 0 if unknown */
  const char *model;   /* the model the server says answered ("" if not) */
} rill_done;

typedef struct rill_error_info {
  int code;           /* RILL_E_* */
  long http_status;   /* 0 when no HTTP status applies */
  const char *message;/* detailed, credentials masked */
} rill_error_info;

typedef struct rill_chat_callbacks {
  size_t size; /* sizeof(rill_chat_callbacks) */
  int (*on_text)(void *user, const char *text, size_t len);
  int (*on_thinking)(void *user, const char *text, size_t len);
  /* A tool call, complete (arguments are the whole JSON text). */
  int (*on_tool_call)(void *user, const rill_tool_call *call);
  /* Optional: pieces of a tool call as they arrive (OpenAI streams
   * arguments in fragments). id and name are non-NULL on the first piece of
   * a call only; args is the next fragment of the arguments text. */
  int (*on_tool_call_delta)(void *user, size_t index, const char *id,
                            const char *name, const char *args,
                            size_t args_len);
  int (*on_done)(void *user, const rill_done *done);
  void (*on_error)(void *user, const rill_error_info *err);
  void *user;
} rill_chat_callbacks;

/*
 * Start a chat on client c. Returns at once; the callbacks run while the
 * client is driven.
 * Ownership: req and cb are copied (with every string and array they point
 * to) before it returns. When out is non-NULL, *out is a stream the caller
 * must rill_stream_free; when NULL, the stream frees itself when it ends.
 * Returns: RILL_OK; RILL_E_INVALID (missing model, messages, an invalid
 * tool schema, an unknown provider, a bad base URL, a cap in req->limits
 * above its maximum); RILL_E_NOMEM;
 * RILL_E_UNSUPPORTED (an option the provider cannot honour). Failures of
 * the request itself come through on_error, never from this call.
 * Thread: the driving thread (may be called from a callback).
 */
RILL_API int rill_chat_start(rill_client *c, const rill_chat_request *req,
                             const rill_chat_callbacks *cb, rill_stream **out);

/*
 * Blocking chat: start it and drive the client until it ends.
 * Returns: RILL_OK, or the stream's error code (after on_error ran).
 * Thread: the driving thread; the client must be in private-loop mode
 * (RILL_E_STATE otherwise); not from inside a callback.
 */
RILL_API int rill_chat(rill_client *c, const rill_chat_request *req,
                       const rill_chat_callbacks *cb);

/* ------------------------------------------------------------------------
 * Accumulator: builds the final message from the deltas, for callers that
 * want live output and the whole answer.
 * ------------------------------------------------------------------------ */

typedef struct rill_chat_result rill_chat_result;

/* A new, empty result. Returns RILL_OK, RILL_E_INVALID, RILL_E_NOMEM. */
RILL_API int rill_chat_result_new(rill_chat_result **out);
/* NULL is a harmless no-op. */
RILL_API void rill_chat_result_free(rill_chat_result *r);

/*
 * Fill *out with callbacks that record into r and then call the matching
 * member of forward (which may be NULL). Pass *out to rill_chat_start.
 * r must outlive the stream. Returns RILL_OK or RILL_E_INVALID.
 */
RILL_API int rill_chat_result_callbacks(rill_chat_result *r,
                                        const rill_chat_callbacks *forward,
                                        rill_chat_callbacks *out);

/* The accumulated text and thinking (NUL-terminated; owned by r). */
RILL_API const char *rill_chat_result_text(const rill_chat_result *r,
                                           size_t *len);
RILL_API const char *rill_chat_result_thinking(const rill_chat_result *r,
                                               size_t *len);
RILL_API size_t rill_chat_result_n_tool_calls(const rill_chat_result *r);
/* The i-th complete tool call, or NULL. Owned by r. */
RILL_API const rill_tool_call *rill_chat_result_tool_call(
    const rill_chat_result *r, size_t i);
/* The done record (NULL until on_done ran) and the error (code RILL_OK
 * while none). Owned by r. When r could not keep part of the answer it has
 * an error of its own (RILL_E_NOMEM, RILL_E_LIMIT) — and no done record if
 * that happened in on_done — even though the stream succeeded: check both
 * the call's status and this error. */
RILL_API const rill_done *rill_chat_result_done(const rill_chat_result *r);
RILL_API const rill_error_info *rill_chat_result_error(
    const rill_chat_result *r);

#ifdef __cplusplus
}
#endif
#endif /* RILL_CHAT_H */
