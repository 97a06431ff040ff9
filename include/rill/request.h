/*
 * rill/request.h — what every request to a provider has in common: where it
 * goes (provider, base URL, key, extra headers), its clocks, and its retry
 * policy. Used by rill/chat.h, rill/models.h and rill/embeddings.h.
 *
 * All structs here are options: their zero value means the default, so a
 * caller sets only what it needs. Strings are UTF-8 and NUL-terminated, and
 * are only read during the call that receives them (rill copies what it
 * keeps).
 */
#ifndef RILL_REQUEST_H
#define RILL_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rill_provider {
  RILL_PROVIDER_NONE = 0,
  RILL_PROVIDER_OLLAMA = 1,   /* native API, NDJSON streams */
  RILL_PROVIDER_OPENAI = 2,   /* OpenAI Chat Completions, SSE */
  RILL_PROVIDER_LMSTUDIO = 3, /* OpenAI-compatible, default localhost:1234 */
  RILL_PROVIDER_GEMINI = 4,
  RILL_PROVIDER_ANTHROPIC = 5
} rill_provider;

/* Provider from its command-line name ("ollama", "openai", "lmstudio",
 * "gemini", "anthropic"); RILL_PROVIDER_NONE when unknown. */
RILL_API rill_provider rill_provider_from_name(const char *name);
/* The name of a provider ("none" for an unknown value). */
RILL_API const char *rill_provider_name(rill_provider p);

/*
 * Where a request goes.
 *  base_url: NULL for the provider's default: Ollama $OLLAMA_HOST or
 *    http://127.0.0.1:11434; OpenAI https://api.openai.com/v1; LM Studio
 *    http://localhost:1234/v1; Gemini
 *    https://generativelanguage.googleapis.com/v1beta; Anthropic
 *    https://api.anthropic.com/v1. For OpenAI-compatible servers the base
 *    ends in /v1 (rill appends /chat/completions, /embeddings, /models).
 *  api_key: NULL to take it from the environment: OPENAI_API_KEY for
 *    OpenAI and LM Studio (sent only when set; Authorization: Bearer),
 *    GEMINI_API_KEY else GOOGLE_API_KEY (x-goog-api-key), ANTHROPIC_API_KEY
 *    (x-api-key); none for Ollama. It goes in a header only (never in a
 *    URL), is sent only to the base URL's host, never over plain http:// to
 *    a host that is not loopback (RILL_E_INVALID; see
 *    rill_client_opts.allow_insecure_credentials), never logged, masked in
 *    every message, and wiped from rill's memory when the request ends.
 *  headers: extra "Name: value" lines (n_headers of them).
 *  follow_redirects: 0 (default) fails a 3xx with RILL_E_HTTP; 1 follows
 *    up to 5, but a redirect to another host (or scheme or port) is
 *    refused when the request carries a key.
 */
typedef struct rill_endpoint {
  rill_provider provider;
  const char *base_url;
  const char *api_key;
  const char *const *headers;
  size_t n_headers;
  int follow_redirects;
} rill_endpoint;

/*
 * The clocks of a request, in milliseconds; 0 means "no limit" for each.
 * Each failure is RILL_E_TIMEOUT with a message naming the clock:
 *  connect_ms: from the start to the response headers (per attempt);
 *  first_content_ms: from the start to the first delivered content delta
 *    (text, thinking or tool call; not keep-alives or empty chunks);
 *  idle_ms: the longest gap between two content deltas (SSE comments,
 *    keep-alive lines and empty deltas do not reset it);
 *  total_ms: the whole request, retries included.
 */
typedef struct rill_timeouts {
  long connect_ms;
  long first_content_ms;
  long idle_ms;
  long total_ms;
} rill_timeouts;

/*
 * Retries happen only before the first content delta reached the
 * application: on connection failures and on HTTP 408, 429, 500, 502, 503,
 * 504 and 529 (Anthropic: overloaded). Delay: full jitter, random in
 * [0, min(max_delay_ms, base_delay_ms * 2^attempt)], unless the server
 * sent Retry-After (seconds or an HTTP date) or retry-after-ms, which is
 * honoured up to max_retry_after_ms (a longer
 * wait fails at once with the server's status).
 *  max_retries: -1 none, 0 the default (2), n > 0: n.
 *  base_delay_ms default 500, max_delay_ms default 8000,
 *  max_retry_after_ms default 60000.
 */
typedef struct rill_retry {
  int max_retries;
  long base_delay_ms;
  long max_delay_ms;
  long max_retry_after_ms;
} rill_retry;

/*
 * Size, count and speed caps of one request: the last member of
 * rill_chat_request and rill_embed_request (added after 0.1.0; a caller
 * whose struct size predates it gets the defaults). Zero means the
 * default for each; a value above its maximum makes the call that starts
 * the request fail with RILL_E_INVALID. Passing a cap ends the stream
 * with RILL_E_LIMIT (the low-speed limit: RILL_E_TIMEOUT), a message
 * naming the cap, and everything the stream held freed; deltas already
 * delivered stay delivered. docs/limits.md lists every cap with its test.
 * Thread and ownership: a plain value, copied when the request starts.
 *  max_record_bytes: one NDJSON line, one SSE line (field name included)
 *    or one SSE event's data, counted as rill_framer_opts does
 *    (rill/stream.h) (default RILL_DEFAULT_MAX_RECORD_BYTES 8 MiB, at most
 *    RILL_HARD_MAX_RECORD_BYTES 64 MiB). Exactly this many bytes pass; one
 *    more fails.
 *  max_response_bytes: body bytes of a successful (2xx) response, framing
 *    excluded (default 0: no cap; at most 2^62).
 *  max_error_body_bytes: bytes of an error (non-2xx) body read for its
 *    message; the rest is not read (default and maximum 64 KiB). Never an
 *    error itself: the message is cut.
 *  max_tool_calls: tool calls in one answer (default 128, at most 65536);
 *    max_tool_calls + 1 fails.
 *  max_tool_args_bytes: the arguments text of one tool call (default 8 MiB,
 *    at most 64 MiB).
 *  max_json_tokens: JSON tokens (values and member names) in one record
 *    (default 65536, at most 2^24).
 *  low_speed_bytes, low_speed_ms: fail with RILL_E_TIMEOUT when fewer
 *    than low_speed_bytes bytes arrive during any low_speed_ms window
 *    (both must be set; default off). Counted on the wire (keep-alives
 *    count), unlike the content clocks of rill_timeouts; curl checks it
 *    once a second, so windows shorter than 1000 ms act as 1000 ms.
 * JSON nesting depth is fixed at RILL_JSON_MAX_DEPTH (128).
 */
typedef struct rill_limits {
  size_t max_record_bytes;
  uint64_t max_response_bytes;
  size_t max_error_body_bytes;
  size_t max_tool_calls;
  size_t max_tool_args_bytes;
  size_t max_json_tokens;
  long low_speed_bytes;
  long low_speed_ms;
} rill_limits;

#ifdef __cplusplus
}
#endif
#endif /* RILL_REQUEST_H */
