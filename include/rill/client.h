/*
 * rill/client.h — the client: connections, the event loop, streams.
 *
 * A client owns a libcurl multi handle and a share handle (connections,
 * DNS and TLS sessions are reused across its requests), a buffer pool
 * (each stream's ring, token array and tail buffer come from it and go back
 * when the stream ends), and the streams in flight. Requests are started
 * with the provider calls (rill/chat.h, rill/models.h, rill/embeddings.h)
 * and make progress only while the client is driven, in one of two ways:
 *
 *  - Private loop: call rill_client_poll(c, ms) repeatedly (or use the
 *    blocking calls, which do it for you).
 *  - Host event loop (editors, GUIs): set rill_client_opts.loop. rill tells
 *    the host which sockets to watch (watch_fd) and when to fire a timer
 *    (set_timer), as curl's socket API does; the host calls
 *    rill_client_socket_action / rill_client_timeout_action back. Nothing
 *    blocks, ever.
 *
 * Callbacks of every stream run on the thread that drives the client.
 *
 * Threads: a client and its streams are used from one thread at a time
 * (the driving thread). The only calls allowed from any other thread are
 * rill_cancel() and rill_client_wakeup().
 *
 * rill_global_init() must have been called before the first client.
 */
#ifndef RILL_CLIENT_H
#define RILL_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_client rill_client;
typedef struct rill_stream rill_stream;

/* Socket events for the event-loop mode (bit flags). */
#define RILL_POLL_IN 1
#define RILL_POLL_OUT 2
#define RILL_POLL_REMOVE 4 /* watch_fd: stop watching this fd */

/* The host event loop's side of the event-loop mode. */
typedef struct rill_loop_callbacks {
  size_t size; /* sizeof(rill_loop_callbacks) */
  /* Start, change (events = RILL_POLL_IN|RILL_POLL_OUT) or stop
   * (RILL_POLL_REMOVE) watching fd. When fd becomes ready, call
   * rill_client_socket_action(c, fd, ready_events). Return 0, or -1 to
   * fail the transfers on that socket. */
  int (*watch_fd)(void *user, int fd, int events);
  /* Arm the single timer to fire after ms milliseconds (0: as soon as
   * possible, from the loop, not from inside this call), or disarm it
   * (ms < 0). When it fires, call rill_client_timeout_action(c). */
  int (*set_timer)(void *user, long ms);
  void *user;
} rill_loop_callbacks;

/* Client options; zero members mean the default. */
typedef struct rill_client_opts {
  size_t size;            /* sizeof(rill_client_opts): RILL_CLIENT_OPTS_INIT */
  const char *ca_file;    /* PEM bundle to verify servers with (default: the
                             system's); copied */
  /* Turn TLS verification off (peer and host name). Never the default; the
   * name says what it does; rill logs a warning for every client that sets
   * it. */
  int tls_insecure_skip_verify;
  size_t pool_bytes;      /* idle buffer bytes kept for reuse (4 MiB) */
  long max_host_connections; /* per host (default: unlimited) */
  long max_total_connections;/* default: unlimited */
  const rill_loop_callbacks *loop; /* NULL: drive with rill_client_poll */
  /* Send credentials (api_key, a credential header) over plain http:// to a
   * host that is not loopback (127.0.0.0/8, ::1, "localhost"). By default
   * such a request fails with RILL_E_INVALID before any connection is
   * made, and its message says why: anyone on the path would read the
   * key. Set it only for a trusted network (e.g. a server on the LAN). */
  int allow_insecure_credentials;
} rill_client_opts;

#define RILL_CLIENT_OPTS_INIT                                                  \
  {sizeof(rill_client_opts), NULL, 0, 0, 0, 0, NULL, 0}

/*
 * Create a client.
 * Ownership: *out belongs to the caller until rill_client_free; opts and
 * what it points to are copied.
 * Returns: RILL_OK; RILL_E_INVALID (out NULL, opts->size 0, a loop without
 * both callbacks); RILL_E_STATE (rill_global_init not called);
 * RILL_E_NOMEM; RILL_E_INTERNAL (curl refused an option).
 * Thread: any thread.
 */
RILL_API int rill_client_new(rill_client **out, const rill_client_opts *opts);

/*
 * Cancel every stream still running (their on_error callbacks run with
 * RILL_E_CANCELLED), free them and the client. NULL is a harmless no-op.
 * Thread: the driving thread; not from inside a callback.
 */
RILL_API void rill_client_free(rill_client *c);

/*
 * Private-loop mode: wait up to timeout_ms (0: do not wait; <0: until
 * something happens) for network activity, make progress on every stream,
 * run their callbacks, and return.
 * Returns: the number of streams still running (>= 0); RILL_E_STATE when
 * the client is in event-loop mode or called from a callback;
 * RILL_E_NOMEM when curl ran out of memory (every stream in flight then
 * ended with RILL_E_NOMEM and its on_error); RILL_E_INTERNAL on another
 * curl failure.
 * Thread: the driving thread.
 */
RILL_API int rill_client_poll(rill_client *c, int timeout_ms);

/*
 * Event-loop mode: fd is ready for events (RILL_POLL_IN|RILL_POLL_OUT, or 0
 * if unknown); make progress and run callbacks. Returns the number of
 * streams still running, or a negative status as rill_client_poll.
 * Thread: the driving thread.
 */
RILL_API int rill_client_socket_action(rill_client *c, int fd, int events);

/* Event-loop mode: the timer set through set_timer fired. As above. */
RILL_API int rill_client_timeout_action(rill_client *c);

/*
 * Make a rill_client_poll that is waiting return early (e.g. after
 * rill_cancel from another thread). Returns RILL_OK.
 * Thread: any thread.
 */
RILL_API int rill_client_wakeup(rill_client *c);

/* Streams still running. Thread: the driving thread. */
RILL_API int rill_client_active(const rill_client *c);

/* ------------------------------------------------------------------------
 * Streams: one request in flight. The provider calls return one when asked
 * (rill_stream **out non-NULL); the caller then owns it and must free it
 * after it has finished. When out is NULL the stream frees itself when it
 * ends.
 * ------------------------------------------------------------------------ */

/*
 * Ask a stream to stop. The stream ends within one poll interval with
 * RILL_E_CANCELLED (its on_error callback runs, on the driving thread),
 * its connection is closed and its buffers go back to the pool; other
 * streams go on. Calling it on a finished stream does nothing.
 * Returns: RILL_OK; RILL_E_INVALID (s NULL).
 * Thread: any thread, as long as the stream has not been freed.
 */
RILL_API int rill_cancel(rill_stream *s);

/*
 * How the stream stands: 1 while running, RILL_OK when it finished
 * successfully, or its negative error code.
 * Thread: the driving thread.
 */
RILL_API int rill_stream_status(const rill_stream *s);

/* The HTTP status of the last response (0 before one arrived). */
RILL_API long rill_stream_http_status(const rill_stream *s);

/*
 * The detailed message of a failed stream: which clock fired, the HTTP
 * status and the provider's own error text, curl's reason for a transport
 * failure. Credentials are masked.
 * Ownership: owned by the stream, valid until it is freed.
 * Returns: never NULL ("" when there is no error).
 */
RILL_API const char *rill_stream_errmsg(const rill_stream *s);

/*
 * Free a stream the caller owns; a running stream is cancelled first
 * (without further callbacks). NULL is a harmless no-op.
 * Thread: the driving thread; not from inside its own callbacks.
 */
RILL_API void rill_stream_free(rill_stream *s);

#ifdef __cplusplus
}
#endif
#endif /* RILL_CLIENT_H */
