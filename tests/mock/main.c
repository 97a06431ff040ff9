/*
 * main.c — rill-mock: command line, poll loop, connections, TLS, timers.
 *
 * One thread, one poll() (ppoll, so SIGTERM cannot slip between the check
 * and the wait). Every socket is non-blocking. A connection is a small
 * state machine:
 *
 *   HANDSHAKE (TLS only) -> READING -> SENDING -> READING ... -> DRAINING
 *                                       |-> STALLED (fault "stall")
 *
 * Output is produced one piece at a time: a piece is framed into the
 * connection's out buffer and the next piece is made only when the buffer
 * has drained, so a 1 GiB body to a slow reader costs one piece of memory
 * (write-side backpressure through POLLOUT). Delays are deadlines checked
 * by the loop (hold_until), never sleeps.
 *
 * Graceful closes shut the write side down and read until EOF for at most
 * two seconds before close(), so a client that is still sending (a refused
 * 413 body) reads the answer instead of a reset.
 */
#include "mock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define IN_MAX (MOCK_MAX_HEAD + 4096)
#define DRAIN_MS 2000
#define WOULD_BLOCK (-2)

typedef enum { C_HANDSHAKE, C_READING, C_SENDING, C_STALLED, C_DRAINING } cstate;

typedef enum { M_LENGTH, M_CHUNKED, M_CLOSE } body_mode;

typedef struct conn {
  int fd;
  int dead;
  uint64_t id;
  cstate state;
  mbedtls_ssl_context *ssl;
  int tls_events;         /* what the last TLS call waits for */
  char *in;               /* unparsed input; in_len <= in_cap <= IN_MAX */
  size_t in_len, in_cap;
  int peer_eof;
  mock_req req;
  int sent_continue;
  char *out;              /* framed output; out_pos <= out_len <= out_cap */
  size_t out_len, out_pos, out_cap;
  const mock_resp *resp;
  bstream bs;
  char *owned_body;       /* body of a control or error answer */
  body_mode mode;
  int close_after;
  int finishing;          /* out holds the last bytes of the response */
  uint64_t pieces;
  int64_t hold_until;     /* ms: send nothing before (0: no hold) */
  int64_t deadline;       /* ms: DRAINING gives up */
  int shutdown_after;
  int pending_input;      /* in may hold a request: parse without waiting */
} conn;

static mock_scenario g_sc;
static conn **g_conns;
static size_t g_n_conns, g_cap_conns, g_max_conns;
static uint64_t g_accepted, g_requests, g_next_id;
static volatile sig_atomic_t g_stop;
static int g_verbose;
static int64_t g_now;
static char g_piece[MOCK_PIECE_MAX];

static struct {
  int on;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
} g_tls;

static const mock_resp g_plain = {.chunked = 0, .sse = 0};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  va_list ap;
  if (!g_verbose)
    return;
  va_start(ap, fmt);
  fputs("rill-mock: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- raw and TLS I/O ------------------------------------------------------- */

static int bio_send(void *ctx, const unsigned char *buf, size_t len) {
  conn *c = ctx;
  ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
  if (n >= 0)
    return (int)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len) {
  conn *c = ctx;
  ssize_t n = recv(c->fd, buf, len, 0);
  if (n >= 0)
    return (int)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
    return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

static int tls_wait(conn *c, int rc) {
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
    c->tls_events = POLLIN;
    return WOULD_BLOCK;
  }
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
    c->tls_events = POLLOUT;
    return WOULD_BLOCK;
  }
  return -1;
}

/* > 0 bytes, 0 end of stream, WOULD_BLOCK, -1 error. */
static ssize_t conn_recv(conn *c, char *buf, size_t len) {
  if (c->ssl) {
    int rc = mbedtls_ssl_read(c->ssl, (unsigned char *)buf, len);
    if (rc > 0)
      return rc;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
      return 0;
    return tls_wait(c, rc);
  } else {
    ssize_t n = recv(c->fd, buf, len, 0);
    if (n >= 0)
      return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return WOULD_BLOCK;
    return -1;
  }
}

static ssize_t conn_send(conn *c, const char *buf, size_t len) {
  if (c->ssl) {
    int rc = mbedtls_ssl_write(c->ssl, (const unsigned char *)buf, len);
    if (rc >= 0)
      return rc;
    return tls_wait(c, rc);
  } else {
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0)
      return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
      return WOULD_BLOCK;
    return -1;
  }
}

/* ---- connection lifetime ----------------------------------------------------- */

static void conn_end_response(conn *c) {
  free(c->owned_body);
  c->owned_body = NULL;
  c->resp = NULL;
  c->finishing = 0;
  c->pieces = 0;
  c->hold_until = 0;
  c->out_len = c->out_pos = 0;
}

static void conn_kill(conn *c) {
  if (c->dead)
    return;
  c->dead = 1;
  if (c->ssl) {
    mbedtls_ssl_free(c->ssl);
    free(c->ssl);
    c->ssl = NULL;
  }
  close(c->fd);
  conn_end_response(c);
  mock_req_reset(&c->req);
  free(c->in);
  free(c->out);
  c->in = c->out = NULL;
}

/* Abortive close: RST instead of FIN. */
static void conn_reset(conn *c) {
  struct linger lg = {1, 0};
  setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  conn_kill(c);
}

/* Graceful close: FIN now, then read until the peer closes (or 2 s). */
static void conn_close(conn *c) {
  if (c->ssl)
    mbedtls_ssl_close_notify(c->ssl); /* best effort */
  shutdown(c->fd, SHUT_WR);
  c->state = C_DRAINING;
  c->in_len = 0;
  c->deadline = g_now + DRAIN_MS;
}

static int ensure_out(conn *c, size_t need) {
  char *nb;
  size_t cap;
  if (need <= c->out_cap)
    return 0;
  cap = c->out_cap ? c->out_cap : 1024;
  while (cap < need)
    cap *= 2;
  nb = realloc(c->out, cap);
  if (!nb)
    return -1;
  c->out = nb;
  c->out_cap = cap;
  return 0;
}

static int out_append(conn *c, const char *s, size_t n) {
  if (ensure_out(c, c->out_len + n) < 0)
    return -1;
  memcpy(c->out + c->out_len, s, n);
  c->out_len += n;
  return 0;
}

static void process_input(conn *c);
static void pump(conn *c);

/* ---- responses ---------------------------------------------------------------- */

static const char *reason(int status) {
  switch (status) {
  case 100: return "Continue";
  case 200: return "OK";
  case 201: return "Created";
  case 204: return "No Content";
  case 301: return "Moved Permanently";
  case 302: return "Found";
  case 303: return "See Other";
  case 304: return "Not Modified";
  case 307: return "Temporary Redirect";
  case 308: return "Permanent Redirect";
  case 400: return "Bad Request";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 405: return "Method Not Allowed";
  case 408: return "Request Timeout";
  case 409: return "Conflict";
  case 413: return "Content Too Large";
  case 422: return "Unprocessable Content";
  case 429: return "Too Many Requests";
  case 431: return "Request Header Fields Too Large";
  case 500: return "Internal Server Error";
  case 501: return "Not Implemented";
  case 502: return "Bad Gateway";
  case 503: return "Service Unavailable";
  case 504: return "Gateway Timeout";
  case 505: return "HTTP Version Not Supported";
  default: return "Status";
  }
}

static const char *default_type(const mock_resp *r, int override) {
  if (override || r->gen.kind == GEN_NONE)
    return "application/json";
  if (r->gen.kind == GEN_OPENAI_CHAT)
    return "text/event-stream";
  return "application/x-ndjson";
}

/* Start answering: r is the template; lit (non-NULL) replaces its body. */
static void start_response(conn *c, const mock_resp *r, char *owned,
                           size_t len, int status) {
  char line[512];
  size_t need;
  int n, version = r->http10 ? 0 : 1;
  conn_end_response(c);
  c->resp = r;
  c->owned_body = owned;
  mock_bs_init(&c->bs, r, owned, owned ? len : 0);
  if (!status)
    status = r->status ? r->status : r->fault == FAULT_REDIRECT ? 302 : 200;
  if (owned)
    c->mode = M_LENGTH;
  else if (r->raw_framing || r->close_delimited || r->http10)
    c->mode = M_CLOSE;
  else if (r->fault == FAULT_BAD_CHUNKED)
    c->mode = M_CHUNKED;
  else if (r->chunked >= 0)
    c->mode = r->chunked ? M_CHUNKED : M_LENGTH;
  else
    c->mode = r->gen.kind != GEN_NONE || r->repeat > 1 || r->prefix ||
                      r->suffix
                  ? M_CHUNKED
                  : M_LENGTH;
  c->close_after = c->close_after || r->close_after || !c->req.keep_alive ||
                   c->mode == M_CLOSE;
  need = 1024 + r->headers_len +
         (r->redirect_to ? strlen(r->redirect_to) : 0) +
         (r->content_type ? strlen(r->content_type) : 0);
  if (ensure_out(c, need) < 0) {
    conn_kill(c);
    return;
  }
  n = snprintf(line, sizeof line, "HTTP/1.%d %d %s\r\nContent-Type: ", version,
               status, reason(status));
  out_append(c, line, (size_t)n);
  if (r->content_type && !owned)
    out_append(c, r->content_type, strlen(r->content_type));
  else
    out_append(c, default_type(r, owned != NULL),
               strlen(default_type(r, owned != NULL)));
  out_append(c, "\r\n", 2);
  if (!owned && r->gen.kind != GEN_NONE) {
    /* Fixed width, so the headers of a 1 KiB and a 1 GiB response have the
     * same length: a client's heap (curl keeps the headers) can then be
     * compared exactly across response sizes. */
    n = snprintf(line, sizeof line,
                 "X-Mock-Words: %020" PRIu64 "\r\nX-Mock-Text-Bytes: %020" PRIu64
                 "\r\n",
                 c->bs.src.plan.n_words, c->bs.src.plan.text_bytes);
    out_append(c, line, (size_t)n);
  }
  if (!owned && r->redirect_to) {
    out_append(c, "Location: ", 10);
    out_append(c, r->redirect_to, strlen(r->redirect_to));
    out_append(c, "\r\n", 2);
  }
  if (!owned && r->headers)
    out_append(c, r->headers, r->headers_len);
  if (!r->raw_framing || owned) {
    if (c->mode == M_LENGTH) {
      n = snprintf(line, sizeof line, "Content-Length: %" PRIu64 "\r\n",
                   c->bs.out_len);
      out_append(c, line, (size_t)n);
    } else if (c->mode == M_CHUNKED) {
      out_append(c, "Transfer-Encoding: chunked\r\n", 28);
    }
  }
  if (c->close_after)
    out_append(c, "Connection: close\r\n", 19);
  else if (c->req.minor == 0)
    out_append(c, "Connection: keep-alive\r\n", 24);
  out_append(c, "\r\n", 2);
  if (!owned && r->first_byte_delay_ms)
    c->hold_until = g_now + (int64_t)r->first_byte_delay_ms;
  c->state = C_SENDING;
  logf_("conn %" PRIu64 ": %d, %" PRIu64 " body bytes", c->id, status,
        c->bs.out_len);
  pump(c);
}

static void answer_json(conn *c, int status, const char *json) {
  size_t n = strlen(json);
  char *body = malloc(n + 1);
  if (!body) {
    conn_kill(c);
    return;
  }
  memcpy(body, json, n + 1);
  start_response(c, &g_plain, body, n, status);
}

static void response_done(conn *c) {
  int close_after = c->close_after;
  if (c->shutdown_after)
    g_stop = 1;
  conn_end_response(c);
  mock_req_reset(&c->req);
  c->sent_continue = 0;
  if (close_after) {
    conn_close(c);
    return;
  }
  c->state = C_READING;
  /* A pipelined request may be waiting: the loop parses it next round
   * (not here, which would recurse once per pipelined request). */
  c->pending_input = 1;
}

/* Produce the next piece of the body into out. */
static void produce(conn *c) {
  size_t n = 0;
  bs_status st = mock_bs_next(&c->bs, g_piece, &n);
  char hdr[32];
  if (st == BS_DATA) {
    if (ensure_out(c, n + 32) < 0) {
      conn_kill(c);
      return;
    }
    if (c->mode == M_CHUNKED) {
      int h = snprintf(hdr, sizeof hdr, "%zx\r\n", n);
      out_append(c, hdr, (size_t)h);
    }
    out_append(c, g_piece, n);
    if (c->mode == M_CHUNKED)
      out_append(c, "\r\n", 2);
    if (c->pieces++ > 0 && c->resp->delay_ms)
      c->hold_until = g_now + (int64_t)c->resp->delay_ms;
    return;
  }
  if (st == BS_END) {
    if (c->mode == M_CHUNKED)
      out_append(c, "0\r\n\r\n", 5);
    c->finishing = 1;
    return;
  }
  /* BS_FAULT: everything before the fault has been flushed */
  switch (c->bs.fault) {
  case FAULT_RESET_MID_RECORD:
    logf_("conn %" PRIu64 ": fault: reset", c->id);
    conn_reset(c);
    break;
  case FAULT_STALL:
    logf_("conn %" PRIu64 ": fault: stall", c->id);
    c->state = C_STALLED;
    break;
  case FAULT_BAD_CHUNKED:
    /* a chunk-size line that is not hex, then a little data, then close */
    out_append(c, "zz\r\n{\"bad\":\"chunk\"}\r\n", 21);
    c->close_after = 1;
    c->finishing = 1;
    break;
  default: /* close_mid_record: FIN without finishing the body */
    logf_("conn %" PRIu64 ": fault: close", c->id);
    conn_kill(c);
    break;
  }
}

static void pump(conn *c) {
  while (!c->dead && c->state == C_SENDING) {
    if (c->hold_until) {
      if (g_now < c->hold_until)
        return;
      c->hold_until = 0;
    }
    if (c->out_pos < c->out_len) {
      ssize_t n = conn_send(c, c->out + c->out_pos, c->out_len - c->out_pos);
      if (n > 0) {
        c->out_pos += (size_t)n;
        continue;
      }
      if (n == WOULD_BLOCK)
        return;
      conn_kill(c);
      return;
    }
    c->out_len = c->out_pos = 0;
    if (c->finishing) {
      response_done(c);
      return;
    }
    produce(c);
  }
}

/* ---- requests --------------------------------------------------------------- */

static void reset_all(void) {
  size_t i;
  mock_rec_clear();
  g_accepted = 0;
  g_requests = 0;
  for (i = 0; i < g_sc.n_routes; i++)
    g_sc.routes[i].next = 0;
}

static void control(conn *c, const char *path, size_t len) {
  char buf[512];
  if (len == 17 && !memcmp(path, "/__mock/requests", 16)) {
    len = 16; /* tolerate a trailing slash */
  }
  if (len == 16 && !memcmp(path, "/__mock/requests", 16)) {
    size_t n = 0;
    char *json = mock_rec_json(&n);
    if (!json) {
      answer_json(c, 500, "{\"error\":\"request log too large\"}");
      return;
    }
    start_response(c, &g_plain, json, n, 200);
  } else if (len == 13 && !memcmp(path, "/__mock/stats", 13)) {
    snprintf(buf, sizeof buf,
             "{\"connections\":%" PRIu64 ",\"requests\":%" PRIu64
             ",\"open\":%zu,\"recorded\":%zu,\"dropped\":%" PRIu64 "}",
             g_accepted, g_requests, g_n_conns, mock_rec_count(),
             mock_rec_dropped);
    answer_json(c, 200, buf);
  } else if (len == 13 && !memcmp(path, "/__mock/reset", 13)) {
    reset_all();
    answer_json(c, 200, "{\"ok\":true}");
  } else if (len == 16 && !memcmp(path, "/__mock/shutdown", 16)) {
    c->shutdown_after = 1;
    c->close_after = 1;
    answer_json(c, 200, "{\"ok\":true}");
  } else {
    answer_json(c, 404, "{\"error\":\"no such control endpoint\"}");
  }
}

static void handle_request(conn *c) {
  const char *target = c->req.head + c->req.target_off;
  const char *q = memchr(target, '?', c->req.target_len);
  size_t path_len = q ? (size_t)(q - target) : c->req.target_len;
  mock_route *rt;
  logf_("conn %" PRIu64 ": %s %.*s", c->id, c->req.head,
        (int)c->req.target_len, target);
  if (path_len >= 8 && !memcmp(target, "/__mock/", 8)) {
    control(c, target, path_len);
    return;
  }
  g_requests++;
  mock_rec_add(&c->req, c->id);
  rt = mock_scenario_match(&g_sc, c->req.head, target, path_len);
  if (!rt) {
    answer_json(c, 404, "{\"error\":\"no route\"}");
    return;
  }
  {
    size_t i = rt->next < rt->n_resp ? rt->next : rt->n_resp - 1;
    rt->next++;
    start_response(c, &rt->resp[i], NULL, 0, 0);
  }
}

static void process_input(conn *c) {
  while (!c->dead && c->state == C_READING) {
    int rc = mock_req_feed(&c->req, c->in, &c->in_len);
    if (rc == 1) {
      handle_request(c);
      return; /* the response's end comes back here */
    }
    if (rc >= 400) {
      static const char *const msg[] = {"{\"error\":\"bad request\"}",
                                        "{\"error\":\"too large\"}",
                                        "{\"error\":\"not implemented\"}"};
      logf_("conn %" PRIu64 ": refused with %d", c->id, rc);
      c->close_after = 1;
      c->req.keep_alive = 0;
      answer_json(c, rc, rc == 413 || rc == 431 ? msg[1]
                         : rc >= 500          ? msg[2]
                                              : msg[0]);
      return;
    }
    /* more bytes needed */
    if (c->req.state > REQ_HEAD && c->req.expect_continue &&
        !c->sent_continue) {
      static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
      c->sent_continue = 1;
      if (out_append(c, cont, sizeof cont - 1) < 0) {
        conn_kill(c);
        return;
      }
      while (c->out_pos < c->out_len) { /* tiny: flush now if possible */
        ssize_t n = conn_send(c, c->out + c->out_pos, c->out_len - c->out_pos);
        if (n <= 0) {
          if (n != WOULD_BLOCK)
            conn_kill(c);
          break;
        }
        c->out_pos += (size_t)n;
      }
      if (!c->dead && c->out_pos == c->out_len)
        c->out_pos = c->out_len = 0;
      continue;
    }
    if (c->peer_eof)
      conn_kill(c); /* the peer went away mid-request */
    return;
  }
}

/* Read what is available (all of it: TLS may hold decrypted bytes that
 * poll cannot see). */
static void on_readable(conn *c) {
  for (;;) {
    ssize_t n;
    if (c->in_len == c->in_cap) {
      size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
      char *nb;
      if (c->in_cap >= IN_MAX)
        break;
      if (cap > IN_MAX)
        cap = IN_MAX;
      nb = realloc(c->in, cap);
      if (!nb) {
        conn_kill(c);
        return;
      }
      c->in = nb;
      c->in_cap = cap;
    }
    n = conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (n > 0) {
      c->in_len += (size_t)n;
      if (c->state == C_DRAINING || c->state == C_STALLED)
        c->in_len = 0;
      continue;
    }
    if (n == 0) {
      c->peer_eof = 1;
      break;
    }
    if (n == WOULD_BLOCK)
      break;
    conn_kill(c);
    return;
  }
  switch (c->state) {
  case C_READING:
    process_input(c);
    if (!c->dead && c->state == C_READING && c->peer_eof && c->in_len == 0)
      conn_kill(c);
    break;
  case C_STALLED:
  case C_DRAINING:
    if (c->peer_eof)
      conn_kill(c);
    break;
  default:
    break;
  }
}

static void on_handshake(conn *c) {
  int rc = mbedtls_ssl_handshake(c->ssl);
  if (rc == 0) {
    c->state = C_READING;
    c->tls_events = 0;
    logf_("conn %" PRIu64 ": TLS established", c->id);
    on_readable(c);
    return;
  }
  if (tls_wait(c, rc) == WOULD_BLOCK)
    return;
  if (g_verbose) {
    char msg[160];
    mbedtls_strerror(rc, msg, sizeof msg);
    logf_("conn %" PRIu64 ": TLS handshake failed: %s", c->id, msg);
  }
  conn_kill(c); /* never a request: nothing recorded */
}

/* ---- accepting ------------------------------------------------------------------ */

static void on_accept(int lfd) {
  while (g_n_conns < g_max_conns) {
    int one = 1;
    conn *c;
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      return;
    }
    c->fd = fd;
    c->id = ++g_next_id;
    c->state = C_READING;
    if (g_tls.on) {
      c->ssl = malloc(sizeof *c->ssl);
      if (!c->ssl) {
        close(fd);
        free(c);
        return;
      }
      mbedtls_ssl_init(c->ssl);
      if (mbedtls_ssl_setup(c->ssl, &g_tls.conf) != 0) {
        mbedtls_ssl_free(c->ssl);
        free(c->ssl);
        close(fd);
        free(c);
        return;
      }
      mbedtls_ssl_set_bio(c->ssl, c, bio_send, bio_recv, NULL);
      c->state = C_HANDSHAKE;
      c->tls_events = POLLIN;
    }
    if (g_n_conns == g_cap_conns) {
      size_t cap = g_cap_conns ? g_cap_conns * 2 : 64;
      conn **nc = realloc(g_conns, cap * sizeof *nc);
      if (!nc) {
        c->dead = 0;
        conn_kill(c);
        free(c);
        return;
      }
      g_conns = nc;
      g_cap_conns = cap;
    }
    g_conns[g_n_conns++] = c;
    g_accepted++;
  }
}

/* ---- setup -------------------------------------------------------------------------- */

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int tls_setup(const char *cert, const char *key) {
  static const char *alpn[] = {"http/1.1", NULL};
  char msg[160];
  int rc;
  mbedtls_entropy_init(&g_tls.entropy);
  mbedtls_ctr_drbg_init(&g_tls.drbg);
  mbedtls_ssl_config_init(&g_tls.conf);
  mbedtls_x509_crt_init(&g_tls.cert);
  mbedtls_pk_init(&g_tls.key);
  g_tls.on = 1;
  if ((rc = mbedtls_ctr_drbg_seed(&g_tls.drbg, mbedtls_entropy_func,
                                  &g_tls.entropy,
                                  (const unsigned char *)"rill-mock", 9)) ||
      (rc = mbedtls_x509_crt_parse_file(&g_tls.cert, cert)) ||
      (rc = mbedtls_pk_parse_keyfile(&g_tls.key, key, NULL)) ||
      (rc = mbedtls_ssl_config_defaults(&g_tls.conf, MBEDTLS_SSL_IS_SERVER,
                                        MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT)) ||
      (rc = mbedtls_ssl_conf_own_cert(&g_tls.conf, &g_tls.cert,
                                      &g_tls.key)) ||
      (rc = mbedtls_ssl_conf_alpn_protocols(&g_tls.conf, alpn))) {
    mbedtls_strerror(rc, msg, sizeof msg);
    fprintf(stderr, "rill-mock: TLS setup: %s\n", msg);
    return -1;
  }
  mbedtls_ssl_conf_rng(&g_tls.conf, mbedtls_ctr_drbg_random, &g_tls.drbg);
  return 0;
}

static void tls_cleanup(void) {
  if (!g_tls.on)
    return;
  mbedtls_pk_free(&g_tls.key);
  mbedtls_x509_crt_free(&g_tls.cert);
  mbedtls_ssl_config_free(&g_tls.conf);
  mbedtls_ctr_drbg_free(&g_tls.drbg);
  mbedtls_entropy_free(&g_tls.entropy);
}

static void usage(FILE *f) {
  fputs("usage: rill-mock [--port N] [--tls-cert FILE --tls-key FILE] "
        "[--verbose] SCENARIO.json\n"
        "Serves scenario-driven LLM provider traffic on 127.0.0.1.\n"
        "Prints {\"port\":N,\"tls\":BOOL} on the first line of stdout.\n"
        "See docs/mock.md.\n",
        f);
}

static int64_t next_timeout(void) {
  int64_t t = -1;
  size_t i;
  for (i = 0; i < g_n_conns; i++) {
    const conn *c = g_conns[i];
    int64_t d = 0;
    if (c->state == C_SENDING && c->hold_until)
      d = c->hold_until;
    else if (c->state == C_DRAINING)
      d = c->deadline;
    if (c->pending_input)
      return 0;
    if (d) {
      int64_t w = d > g_now ? d - g_now : 0;
      if (t < 0 || w < t)
        t = w;
    }
  }
  return t;
}

static short conn_events(const conn *c) {
  short ev = 0;
  int can_read = c->in_len < IN_MAX || c->state == C_DRAINING;
  switch (c->state) {
  case C_HANDSHAKE:
    return (short)c->tls_events;
  case C_READING:
    if (c->out_pos < c->out_len)
      ev |= POLLOUT;
    if (can_read)
      ev |= POLLIN;
    break;
  case C_SENDING:
    if (c->out_pos < c->out_len && !c->hold_until)
      ev |= POLLOUT;
    if (c->ssl && c->tls_events == POLLIN && c->out_pos < c->out_len)
      ev |= POLLIN; /* a TLS write waiting for a read */
    if (can_read && !c->peer_eof)
      ev |= POLLIN;
    break;
  case C_STALLED:
  case C_DRAINING:
    ev |= POLLIN;
    break;
  }
  return ev;
}

static void on_events(conn *c, short rev) {
  if (c->state == C_HANDSHAKE) {
    if (rev & (POLLIN | POLLOUT | POLLERR | POLLHUP))
      on_handshake(c);
    return;
  }
  if (rev & (POLLIN | POLLHUP | POLLERR))
    on_readable(c);
  if (c->dead)
    return;
  if (c->state == C_READING && (rev & POLLOUT) && c->out_pos < c->out_len) {
    ssize_t n = conn_send(c, c->out + c->out_pos, c->out_len - c->out_pos);
    if (n > 0)
      c->out_pos += (size_t)n;
    else if (n != WOULD_BLOCK)
      conn_kill(c);
    if (!c->dead && c->out_pos == c->out_len)
      c->out_pos = c->out_len = 0;
  }
  if (c->state == C_SENDING && (rev & (POLLOUT | POLLIN | POLLERR)))
    pump(c);
}

static void sweep(void) {
  size_t i = 0;
  while (i < g_n_conns) {
    if (g_conns[i]->dead) {
      free(g_conns[i]);
      g_conns[i] = g_conns[--g_n_conns];
    } else {
      i++;
    }
  }
}

static int serve(int lfd) {
  struct pollfd *pfd = NULL;
  size_t pcap = 0;
  sigset_t block, orig;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &orig);
  while (!g_stop) {
    size_t i, n = g_n_conns;
    int64_t t;
    struct timespec ts, *tsp = NULL;
    int rc;
    if (n + 1 > pcap) {
      struct pollfd *np;
      pcap = (n + 1) * 2;
      np = realloc(pfd, pcap * sizeof *np);
      if (!np) {
        free(pfd);
        return -1;
      }
      pfd = np;
    }
    pfd[0].fd = lfd;
    pfd[0].events = g_n_conns < g_max_conns ? POLLIN : 0;
    pfd[0].revents = 0;
    for (i = 0; i < n; i++) {
      pfd[i + 1].fd = g_conns[i]->fd;
      pfd[i + 1].events = conn_events(g_conns[i]);
      pfd[i + 1].revents = 0;
    }
    g_now = now_ms();
    t = next_timeout();
    if (t >= 0) {
      ts.tv_sec = (time_t)(t / 1000);
      ts.tv_nsec = (long)(t % 1000) * 1000000;
      tsp = &ts;
    }
    rc = ppoll(pfd, n + 1, tsp, &orig);
    if (rc < 0 && errno != EINTR) {
      perror("rill-mock: poll");
      break;
    }
    g_now = now_ms();
    if (rc > 0) {
      for (i = 0; i < n; i++)
        if (pfd[i + 1].revents && !g_conns[i]->dead)
          on_events(g_conns[i], pfd[i + 1].revents);
    }
    /* timers */
    for (i = 0; i < n; i++) {
      conn *c = g_conns[i];
      if (c->dead)
        continue;
      if (c->pending_input) {
        c->pending_input = 0;
        if (c->state == C_READING) {
          if (c->ssl && mbedtls_ssl_get_bytes_avail(c->ssl) > 0)
            on_readable(c);
          else
            process_input(c);
        }
        continue;
      }
      if (c->state == C_SENDING && c->hold_until && g_now >= c->hold_until)
        pump(c);
      else if (c->state == C_DRAINING && g_now >= c->deadline)
        conn_kill(c);
    }
    sweep();
    if (rc > 0 && (pfd[0].revents & POLLIN))
      on_accept(lfd);
  }
  free(pfd);
  return 0;
}

int main(int argc, char **argv) {
  const char *cert = NULL, *key = NULL, *scenario = NULL;
  long port = 0;
  int i, lfd, one = 1;
  struct sockaddr_in sa;
  socklen_t slen = sizeof sa;
  struct rlimit rl;
  struct sigaction sact;
  char err[512] = "";
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      char *end;
      port = strtol(argv[++i], &end, 10);
      if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "rill-mock: bad port\n");
        return 2;
      }
    } else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc) {
      cert = argv[++i];
    } else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc) {
      key = argv[++i];
    } else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
      g_verbose = 1;
    } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      usage(stdout);
      return 0;
    } else if (argv[i][0] == '-' || scenario) {
      usage(stderr);
      return 2;
    } else {
      scenario = argv[i];
    }
  }
  if (!scenario || (!cert) != (!key)) {
    usage(stderr);
    return 2;
  }
  if (mock_scenario_load(&g_sc, scenario, err, sizeof err) < 0) {
    fprintf(stderr, "rill-mock: %s\n", err);
    return 2;
  }
  /* The tests open a thousand streams at once: take every fd we may. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  g_max_conns = rl.rlim_cur > 64 ? (size_t)rl.rlim_cur - 32 : 32;
  memset(&sact, 0, sizeof sact);
  sact.sa_handler = on_signal;
  sigaction(SIGTERM, &sact, NULL);
  sigaction(SIGINT, &sact, NULL);
  sigaction(SIGHUP, &sact, NULL);
  signal(SIGPIPE, SIG_IGN);
  if (cert && tls_setup(cert, key) < 0) {
    tls_cleanup();
    mock_scenario_free(&g_sc);
    return 2;
  }
  lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) {
    perror("rill-mock: socket");
    return 1;
  }
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1 only */
  if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
      listen(lfd, 4096) < 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &slen) < 0) {
    perror("rill-mock: bind");
    close(lfd);
    tls_cleanup();
    mock_scenario_free(&g_sc);
    return 1;
  }
  printf("{\"port\":%d,\"tls\":%s}\n", ntohs(sa.sin_port),
         g_tls.on ? "true" : "false");
  fflush(stdout);
  serve(lfd);
  for (i = 0; (size_t)i < g_n_conns; i++) {
    conn_kill(g_conns[i]);
    free(g_conns[i]);
  }
  free(g_conns);
  close(lfd);
  mock_rec_free();
  mock_scenario_free(&g_sc);
  tls_cleanup();
  return 0;
}
