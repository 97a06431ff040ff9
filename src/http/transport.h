/*
 * Internal contract between the transport (src/http) and the providers
 * (providers/). A provider turns an API call into a rill__request (method,
 * URL, headers, body, framing) and a decoder (callbacks that turn records
 * into application callbacks); the transport runs the request on the
 * client's curl multi handle, frames the body as it arrives and hands each
 * record to the decoder at once.
 *
 * Providers never include curl; the transport never knows JSON fields.
 *
 * Lifetime: rill__stream_start takes ownership of the request's buffers and
 * of the decoder (ops->destroy frees it when the stream is freed).
 *
 * Threads: everything here runs on the client's driving thread, except
 * rill_cancel (public) which only sets an atomic flag and wakes the client.
 */
#ifndef RILL_HTTP_TRANSPORT_H
#define RILL_HTTP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "rill/client.h"
#include "rill/request.h"
#include "rill/stream.h"

typedef enum rill__framing {
  RILL__FRAME_NDJSON = 1, /* records to ops->on_record */
  RILL__FRAME_SSE = 2,    /* events to ops->on_event */
  RILL__FRAME_WHOLE = 3   /* the whole body (up to max_body) to on_record */
} rill__framing;

typedef struct rill__decoder rill__decoder;

typedef struct rill__decoder_ops {
  /* A complete NDJSON record, or (WHOLE) the entire 2xx body. Return
   * RILL_OK to go on, or a negative status to end the stream (call
   * rill__stream_fail first to set the message; RILL_E_CANCELLED when an
   * application callback returned non-zero). */
  int (*on_record)(rill__decoder *d, const char *rec, size_t len);
  /* A complete SSE event. Same returns. */
  int (*on_event)(rill__decoder *d, const rill_sse_event *ev);
  /* The 2xx body ended cleanly. Return RILL_OK when the final frame was
   * seen (and on_done was delivered), else fail with RILL_E_TRUNCATED
   * ("truncated stream: …"). */
  int (*on_end)(rill__decoder *d);
  /* A non-2xx answer (after retries): append the provider's own error
   * message, found in body[0..len) (bounded, maybe cut, maybe not JSON), to
   * msg. May be NULL (then the body text itself is used, cut). */
  void (*http_error_message)(rill__decoder *d, long status, const char *body,
                             size_t len, rill__buf *msg);
  /* The stream failed for any reason (transport, HTTP, decode, timeout,
   * cancel): deliver the application's error callback. Called at most once,
   * and never after on_end returned RILL_OK. */
  void (*on_failure)(rill__decoder *d, int code, long http_status,
                     const char *msg);
  /* Free the decoder. Always called exactly once, when the stream is
   * freed. */
  void (*destroy)(rill__decoder *d);
} rill__decoder_ops;

/* Providers embed this as the first member of their decoder struct. */
struct rill__decoder {
  const rill__decoder_ops *ops;
  rill_stream *stream; /* set by rill__stream_start; NULL in decoder unit
                          tests (every rill__stream_* call accepts NULL) */
};

typedef struct rill__request {
  const char *method;   /* "GET" or "POST" (static string) */
  rill__buf url;        /* absolute URL, NUL-terminated */
  rill__buf body;       /* POST body (JSON), may be empty */
  /* Extra header lines, each "Name: value" NUL-terminated, back to back;
   * n_headers of them. Content-Type for a POST body is added by the
   * transport (application/json) unless given here. */
  rill__buf headers;
  size_t n_headers;
  /* The credential header (e.g. "Authorization: Bearer …", "x-api-key: …")
   * kept apart: wiped when the stream ends, masked in every message, and
   * never sent to a host other than url's. NULL when none. */
  char *auth_header;
  rill__framing framing;
  size_t max_body;      /* WHOLE bodies and error bodies: cap (0: 16 MiB;
                           error bodies are read up to 64 KiB regardless) */
  size_t max_record;    /* framer max_record_bytes (0: default) */
  uint64_t max_response;/* 2xx body bytes, framing excluded (0: no cap) */
  size_t max_errbody;   /* error body bytes read (0: RILL__ERRBODY_MAX) */
  long low_speed_bytes; /* RILL_E_TIMEOUT below this many bytes in */
  long low_speed_ms;    /* ... this window (both 0: off) */
  rill_timeouts timeouts;
  rill_retry retry;
  int follow_redirects;
} rill__request;

/* Initialise an empty request whose buffers come from pool (may be NULL). */
void rill__request_init(rill__request *r, rill__pool *pool);
/* Free its buffers and wipe the credential (when a start failed). */
void rill__request_release(rill__request *r);
/* Append one header line "name: value". */
int rill__request_add_header(rill__request *r, const char *name,
                             const char *value);

/* The client's pool (for a provider building a request). */
rill__pool *rill__client_pool(rill_client *c);

/*
 * Start a stream on client c. On RILL_OK the stream owns *req's buffers and
 * dec; on failure, nothing was taken (the caller releases both). When out
 * is NULL the stream frees itself after it ends; else *out is the caller's.
 * Returns: RILL_OK, RILL_E_INVALID, RILL_E_NOMEM, RILL_E_INTERNAL.
 */
int rill__stream_start(rill_client *c, rill__request *req, rill__decoder *dec,
                       rill_stream **out);

/* A content delta (text, thinking, tool call piece) is being delivered to
 * the application: starts the first-content clock's success, resets the
 * idle clock, and forbids any retry from now on. */
void rill__stream_content(rill_stream *s);

/* The decoder saw its final frame and delivered on_done: the answer is
 * complete and the stream will end successfully. Bytes after it are read
 * and dropped (so the connection stays reusable), and a framing error or a
 * cut connection after this point no longer fails the stream: an
 * application that got on_done never also gets an error. */
void rill__stream_complete(rill_stream *s);

/* Record a failure (code, HTTP status, printf-style message, credentials
 * masked) that the decoder is about to return. The first one wins. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void rill__stream_fail(rill_stream *s, int code, long http_status,
                       const char *fmt, ...);

/* The stream's pool (decoders take their token arrays and buffers from
 * it). NULL stream → NULL (no pooling). */
rill__pool *rill__stream_pool(rill_stream *s);

/* Milliseconds since the stream started; time to first content (-1 when
 * none yet). 0 / -1 for a NULL stream. */
double rill__stream_elapsed_ms(const rill_stream *s);
double rill__stream_ttft_ms(const rill_stream *s);

/* Blocking helper: drive c (private-loop mode) until s has ended; returns
 * its final status. RILL_E_STATE in event-loop mode or inside a callback. */
int rill__client_run(rill_client *c, rill_stream *s);

#endif
