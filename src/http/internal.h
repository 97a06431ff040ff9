/*
 * internal.h — what the transport's own files in src/http share: the
 * client and stream structs, the clock, and the functions one file calls in
 * another. Nothing outside src/http includes it, except the transport's
 * tests (which read a stream's attempt count).
 *
 * Split of the transport:
 *   client.c   the client: curl multi + share handles, the private loop
 *              (rill_client_poll), the drive cycle (messages, cancels,
 *              clocks, retry wake-ups), rill__client_run.
 *   loop.c     the event-loop mode: curl's socket/timer callbacks to the
 *              host's watch_fd/set_timer, socket_action/timeout_action.
 *   stream.c   a stream's life: start, attempts (easy handle set-up),
 *              curl's header/write callbacks, framing, the end (success or
 *              exactly one on_failure), redirects, errors, public accessors.
 *   retry.c    the pure retry policy (no client, no curl handles).
 *   request.c  rill__request buffers and headers.
 *
 * Invariants:
 *   - a stream is in the client's list from rill__stream_start until it is
 *     freed (self-freeing: right after its final callback; owned: at
 *     rill_stream_free); c->n_active counts streams whose status is 1;
 *   - a stream's easy handle is in the multi handle only while an attempt
 *     is in flight (state ST_RUNNING);
 *   - nothing calls curl_multi_add/remove_handle from inside a curl
 *     callback: curl callbacks only record what happened, and the drive
 *     cycle (client.c) acts on it afterwards;
 *   - c->depth > 0 while rill runs application code (decoder ops) or curl;
 *     rill_client_poll & co. refuse to run then (RILL_E_STATE).
 */
#ifndef RILL_HTTP_INTERNAL_H
#define RILL_HTTP_INTERNAL_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/pool.h"
#include "http/transport.h"
#include "rill/stream.h"

/* rill_global_init has run (global.c). */
int rill__global_initialised(void);

/* Monotonic clock, milliseconds. */
int64_t rill__now_ms(void);

enum {
  ST_PENDING = 0, /* started while the client was busy; added at the end */
  ST_RUNNING = 1, /* an attempt is in flight (easy handle in the multi) */
  ST_WAITING = 2, /* between attempts: retry back-off, wake_at */
  ST_DONE = 3     /* ended; status is final */
};

#define RILL__ERRBODY_MAX ((size_t)64 << 10)
#define RILL__WHOLE_DEFAULT ((size_t)16 << 20)
#define RILL__MAX_REDIRECTS 5
#define RILL__EASY_CACHE 16

struct rill_stream {
  rill_client *client; /* NULL once the client was freed (owned streams) */
  rill_stream *next, *prev;
  rill__request req;   /* owned: url, body, headers, auth_header */
  rill__decoder *dec;  /* owned: ops->destroy at free */
  CURL *easy;
  struct curl_slist *hdrs;
  int state;
  int status;          /* 1 running, RILL_OK or a negative code */
  int self_free;
  int no_callbacks;    /* freed while running: no on_failure */
  int in_list;
  int pinned;          /* rill__client_run is waiting on it: not freed */
  int free_requested;  /* rill_stream_free during a drive: sweep frees */
  int client_gone;     /* rill_client_free ran; client is a zombie */
  rill__pool *pool;    /* the client's (kept alive by refs while owned) */
  double t_start_f;    /* for elapsed/ttft reporting, fractional ms */
  double t_first_f;
  char errbuf[CURL_ERROR_SIZE];
  int errbody_full;    /* the error body filled its cap: stop reading */
  long ra_s_ms, ra_ms; /* Retry-After / retry-after-ms, -1 none */
  atomic_int cancel;   /* rill_cancel from any thread */

  /* framing of a 2xx body */
  rill_sse *sse;
  rill_ndjson *ndjson;
  rill__buf whole;
  int dec_rc;          /* negative status a decoder op returned */

  /* the current attempt */
  long http_status;    /* last final status line */
  int headers_done;    /* a final (non-1xx) header block ended */
  int html_body;       /* Content-Type text/html: a proxy's or portal's
                          page, never a provider's stream or answer */
  int body_2xx;        /* the body is being framed */
  uint64_t body_bytes; /* of the 2xx body this attempt (max_response) */
  uint64_t sse_events; /* SSE events of the 2xx body this attempt */
  int aborted;         /* the write callback stopped the transfer */
  rill__buf errbody;   /* non-2xx body, up to RILL__ERRBODY_MAX */
  rill__buf location;  /* Location header of a 3xx */
  int64_t t_attempt;
  int64_t t_headers;

  /* the whole request */
  int64_t t_start;
  int64_t t_first;     /* first content, -1 none */
  int64_t t_last;      /* last content (stamped once per received chunk) */
  int content_in_chunk; /* content was delivered during the current chunk */
  int complete;         /* the decoder delivered its final frame */
  int64_t wake_at;     /* ST_WAITING: next attempt */
  int attempts;        /* attempts started */
  int redirects;
  int has_content;     /* rill__stream_content was called: no retry */

  /* the failure, first one wins */
  int fail_code;
  long fail_http;
  rill__buf errmsg;    /* NUL-terminated when len > 0; no pool */
};

struct rill_client {
  CURLM *multi;
  CURLSH *share;
  rill__pool *pool;
  char *ca_file;
  int insecure;
  int allow_insecure_credentials; /* credentials over http:// anywhere */
  int has_loop;
  rill_loop_callbacks loop;
  int depth;            /* re-entrance guard, see above */
  int freeing;
  rill_stream *streams; /* every stream not yet freed */
  int n_active;
  int n_pending;        /* streams in ST_PENDING */
  int refs;             /* 1 + owned streams still attached */
  atomic_int cancel_pending;
  uint64_t rng;         /* xorshift state for the back-off jitter */
  CURL *idle_easy[RILL__EASY_CACHE];
  int n_idle_easy;
  /* event-loop mode */
  int64_t curl_due;     /* curl's timer, absolute ms, -1 none */
  int64_t armed;        /* what the host timer was last set to, -2 never */
};

/* client.c */
double rill__now_ms_f(void);
/* enter/leave a drive in event-loop mode (loop.c): RILL_E_STATE when not
 * in that mode or re-entered. */
int rill__client_enter(rill_client *c);
void rill__client_leave(rill_client *c);
/* Drop one reference (an owned stream was freed, or the client). */
void rill__client_release(rill_client *c);
CURL *rill__client_take_easy(rill_client *c);
void rill__client_give_easy(rill_client *c, CURL *e);
/* Run the drive cycle after curl made progress: finished transfers,
 * cancels, clocks, retry wake-ups, pending starts. */
void rill__client_after_curl(rill_client *c);
/* curl_multi_perform / _socket_action returned mc. Out of memory leaves
 * the transfers curl was driving in an unknown state (a socket it could
 * not record is never watched): every running stream ends with
 * RILL_E_NOMEM and its on_error, so none is left without an end. Returns
 * the status for the caller: RILL_E_NOMEM or RILL_E_INTERNAL. Call between
 * enter and leave. */
int rill__client_multi_failed(rill_client *c, int mc);
uint64_t rill__client_random(void *client);
/* Nearest rill deadline of any stream (absolute ms), -1 none. */
int64_t rill__client_next_deadline(rill_client *c);
void rill__client_unlink(rill_client *c, rill_stream *s);

/* stream.c */
/* Start the next attempt (add the easy handle). Returns RILL_OK or a
 * status; on failure the caller ends the stream. */
int rill__stream_attempt(rill_stream *s);
/* A transfer finished (CURLMSG_DONE). */
void rill__stream_done(rill_stream *s, CURLcode result);
/* End the stream with code (RILL_OK: success already delivered). */
void rill__stream_end(rill_stream *s, int code);
/* Check the stream's clocks and cancel flag at now; may end it. */
void rill__stream_check(rill_stream *s, int64_t now);
/* The stream's nearest deadline (absolute ms), -1 none. */
int64_t rill__stream_deadline(const rill_stream *s);
/* Destroy a stream that has ended (decoder, struct). */
void rill__stream_destroy(rill_stream *s);
/* Attempts made so far (for tests). */
int rill__stream_attempts(const rill_stream *s);

/* loop.c */
int rill__loop_install(rill_client *c);
/* Re-arm the host timer (event-loop mode) after anything changed. */
void rill__loop_update_timer(rill_client *c);

/* errors.c: the message and code of a failure. */
#define RILL__ERRMSG_LIMIT ((size_t)80 << 10)
void rill__stream_errmsg_terminate(rill_stream *s);
int rill__status_from_http(long status);
int rill__status_from_curl(CURLcode r, const rill_stream *s);

#endif
