/*
 * errors.c — a stream's failure: the detailed message (credentials masked
 * before anyone can see it) and the mapping of HTTP statuses and curl
 * results to rill status codes (the table is in docs/transport.md).
 *
 * Must not know: providers, JSON, how the client is driven.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/redact.h"
#include "http/internal.h"
#include "rill/error.h"

/* ------------------------------------------------------------------------
 * Messages
 * ------------------------------------------------------------------------ */

/* Mask the request's own key (whole, the token after "Bearer ", and every
 * 6-character run of it) and anything that looks like a credential. */
static void redact_with_key(char *msg, const char *auth) {
  const char *v;
  size_t len, i;
  char win[7];
  rill__redact(msg);
  if (!auth || !(v = strchr(auth, ':')))
    return;
  v++;
  while (*v == ' ' || *v == '\t')
    v++;
  if (strncmp(v, "Bearer ", 7) == 0 || strncmp(v, "bearer ", 7) == 0)
    v += 7;
  len = strlen(v);
  if (len < 4)
    return;
  rill__redact_secret(msg, v, len);
  for (i = 0; i + 6 <= len; i++) {
    memcpy(win, v + i, 6);
    win[6] = '\0';
    rill__redact_secret(msg, win, 6);
  }
  rill__wipe(win, sizeof win);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void errmsg_set_v(rill_stream *s, const char *fmt, va_list ap) {
  va_list ap2;
  int n;
  char small[1];
  rill__buf_clear(&s->errmsg);
  va_copy(ap2, ap);
  n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return;
  if ((size_t)n + 1 > RILL__ERRMSG_LIMIT)
    n = (int)(RILL__ERRMSG_LIMIT - 1);
  if (rill__buf_reserve(&s->errmsg, (size_t)n + 1) != RILL_OK)
    return;
  vsnprintf(s->errmsg.data, (size_t)n + 1, fmt, ap);
  s->errmsg.len = (size_t)n;
  redact_with_key(s->errmsg.data, s->req.auth_header);
}

void rill__stream_errmsg_terminate(rill_stream *s) {
  if (rill__buf_putc(&s->errmsg, '\0') == RILL_OK) {
    s->errmsg.len--;
    redact_with_key(s->errmsg.data, s->req.auth_header);
  } else if (s->errmsg.len > 0) {
    s->errmsg.data[s->errmsg.len - 1] = '\0';
    s->errmsg.len--;
    redact_with_key(s->errmsg.data, s->req.auth_header);
  }
}

void rill__stream_fail(rill_stream *s, int code, long http_status,
                       const char *fmt, ...) {
  va_list ap;
  if (!s || s->fail_code != 0 || s->state == ST_DONE)
    return;
  s->fail_code = code;
  s->fail_http = http_status;
  va_start(ap, fmt);
  errmsg_set_v(s, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------------
 * Error mapping
 * ------------------------------------------------------------------------ */

int rill__status_from_http(long status) {
  if (status == 401 || status == 403)
    return RILL_E_AUTH;
  if (status == 429)
    return RILL_E_RATE_LIMITED;
  if (status == 404)
    return RILL_E_NOT_FOUND;
  if (status >= 500 && status <= 599)
    return RILL_E_UNAVAILABLE;
  return RILL_E_HTTP;
}

int rill__status_from_curl(CURLcode r, const rill_stream *s) {
  switch (r) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return RILL_E_CONNECT;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CLIENTCERT:
  case CURLE_USE_SSL_FAILED:
    return RILL_E_TLS;
  case CURLE_OPERATION_TIMEDOUT:
    return RILL_E_TIMEOUT;
  case CURLE_OUT_OF_MEMORY:
    return RILL_E_NOMEM;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    return RILL_E_INVALID;
  case CURLE_ABORTED_BY_CALLBACK:
    return RILL_E_CANCELLED;
  case CURLE_PARTIAL_FILE:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_BAD_CONTENT_ENCODING:
    /* Mid-body (a 2xx stream had begun): the stream was cut. Before any
     * response: the connection failed. Between: the peer misbehaved. */
    if (s->body_2xx)
      return RILL_E_TRUNCATED;
    if (!s->headers_done && s->http_status == 0)
      return RILL_E_CONNECT;
    return RILL_E_PROTOCOL;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
    return RILL_E_PROTOCOL;
  default:
    return RILL_E_IO;
  }
}

