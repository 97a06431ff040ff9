/*
 * stream.c — one request's life on the client: start, attempts (easy
 * handle set-up), curl's header and write callbacks, framing of a 2xx body
 * straight into the decoder, the clocks, retries, redirects, and the end:
 * exactly one of success (ops->on_end returned RILL_OK) or ops->on_failure.
 *
 * Invariants:
 *   - curl callbacks never add or remove handles and never end a stream;
 *     they record (status, headers, fail_code) and return 0 to abort. The
 *     drive cycle (client.c) then calls rill__stream_done / _check;
 *   - the first failure recorded wins (fail_code, errmsg); every message is
 *     masked (rill__redact, and the request's own key) before anyone sees it;
 *   - the credential lives only in the curl header list and in
 *     req.auth_header, which is wiped when the stream ends;
 *   - a stream's framer, buffers and error body come from the client's pool
 *     and go back at the end; errmsg does not (it outlives the pool for an
 *     owned stream of a freed client).
 *
 * Must not know: JSON, provider fields (decoders do), how the client is
 * driven (client.c, loop.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/redact.h"
#include "http/internal.h"
#include "http/retry.h"
#include "rill/error.h"
#include "rill/version.h"
#include "stream/ndjson.h"
#include "stream/sse.h"

#define LOCATION_LIMIT ((size_t)8 << 10)
#define BODY_TEXT_MAX ((size_t)1024)

/* ------------------------------------------------------------------------
 * curl callbacks: record only
 * ------------------------------------------------------------------------ */

static int frame_rc(rill_stream *s, int rc) {
  if (rc == RILL_OK)
    return RILL_OK;
  if (s->dec_rc < 0)
    rc = s->dec_rc;
  if (atomic_load(&s->cancel))
    rc = RILL_E_CANCELLED;
  return rc;
}

static void fail_framing(rill_stream *s, int rc) {
  switch (rc) {
  case RILL_E_CANCELLED:
    rill__stream_fail(s, rc, s->http_status, "cancelled");
    break;
  case RILL_E_LIMIT:
    rill__stream_fail(s, rc, s->http_status,
                      "record longer than max_record_bytes (%zu)",
                      s->req.max_record ? s->req.max_record
                                        : RILL_DEFAULT_MAX_RECORD_BYTES);
    break;
  case RILL_E_NOMEM:
    rill__stream_fail(s, rc, s->http_status, "out of memory");
    break;
  default:
    rill__stream_fail(s, rc, s->http_status, "decoder failed: %s",
                      rill_strerror(rc));
    break;
  }
}

static int on_ndjson(void *user, const char *rec, size_t len, uint64_t line) {
  rill_stream *s = user;
  int rc;
  (void)line;
  if (atomic_load(&s->cancel)) {
    s->dec_rc = RILL_E_CANCELLED;
    return 1;
  }
  rc = s->dec->ops->on_record(s->dec, rec, len);
  if (rc < 0) {
    s->dec_rc = rc;
    return 1;
  }
  return 0;
}

static int on_sse(void *user, const rill_sse_event *ev) {
  rill_stream *s = user;
  int rc;
  if (atomic_load(&s->cancel)) {
    s->dec_rc = RILL_E_CANCELLED;
    return 1;
  }
  s->sse_events++;
  rc = s->dec->ops->on_event(s->dec, ev);
  if (rc < 0) {
    s->dec_rc = rc;
    return 1;
  }
  return 0;
}

/* A Content-Type value of text/html (any case, parameters allowed). */
static int is_html(const char *v, size_t n) {
  static const char want[] = "text/html";
  size_t i, k = sizeof want - 1;
  if (n < k || (n > k && v[k] != ';' && v[k] != ' ' && v[k] != '\t'))
    return 0;
  for (i = 0; i < k; i++) {
    char a = v[i];
    if (a >= 'A' && a <= 'Z')
      a = (char)(a + 32);
    if (a != want[i])
      return 0;
  }
  return 1;
}

static int ieq_prefix(const char *line, size_t n, const char *name) {
  size_t i, k = strlen(name);
  if (n <= k || line[k] != ':')
    return 0;
  for (i = 0; i < k; i++) {
    char a = line[i];
    if (a >= 'A' && a <= 'Z')
      a = (char)(a + 32);
    if (a != name[i])
      return 0;
  }
  return 1;
}

static void header_value(const char *line, size_t n, size_t name_len,
                         const char **v, size_t *vlen) {
  const char *p = line + name_len + 1, *end = line + n;
  while (p < end && (*p == ' ' || *p == '\t'))
    p++;
  while (end > p && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                     end[-1] == '\t'))
    end--;
  *v = p;
  *vlen = (size_t)(end - p);
}

/* A status line ("HTTP/1.1 200 OK"): a new response, after a redirect or
 * an interim 1xx, starts with none of the last one's headers. */
static void begin_response(rill_stream *s, const char *buf, size_t n) {
  const char *p = memchr(buf, ' ', n);
  long st = 0;
  int i;
  for (i = 0; p && i < 3 && (size_t)(p + 1 + i - buf) < n; i++) {
    char ch = p[1 + i];
    if (ch < '0' || ch > '9')
      break;
    st = st * 10 + (ch - '0');
  }
  s->http_status = st;
  s->headers_done = 0;
  s->html_body = 0;
  s->ra_s_ms = s->ra_ms = -1;
  rill__buf_clear(&s->location);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *user) {
  rill_stream *s = user;
  size_t n = size * nitems;
  const char *v;
  size_t vlen;
  if (atomic_load(&s->cancel))
    return 0;
  if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
    begin_response(s, buf, n);
    return n;
  }
  if (n <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
    if (s->http_status >= 200) {
      s->headers_done = 1;
      s->t_headers = rill__now_ms();
    }
    return n;
  }
  if (ieq_prefix(buf, n, "retry-after-ms")) {
    header_value(buf, n, 14, &v, &vlen);
    if (!rill__retry_parse_after_ms(v, vlen, &s->ra_ms))
      s->ra_ms = -1;
  } else if (ieq_prefix(buf, n, "retry-after")) {
    header_value(buf, n, 11, &v, &vlen);
    if (!rill__retry_parse_after(v, vlen, (int64_t)time(NULL), &s->ra_s_ms))
      s->ra_s_ms = -1;
  } else if (ieq_prefix(buf, n, "content-type")) {
    header_value(buf, n, 12, &v, &vlen);
    s->html_body = is_html(v, vlen);
  } else if (ieq_prefix(buf, n, "location")) {
    header_value(buf, n, 8, &v, &vlen);
    rill__buf_clear(&s->location);
    if (rill__buf_append(&s->location, v, vlen) != RILL_OK ||
        rill__buf_putc(&s->location, '\0') != RILL_OK)
      rill__buf_clear(&s->location);
  }
  return n;
}

/* The first bytes of a 2xx body: earlier attempts or redirects may have
 * fed the framers, so each starts again. */
static void begin_2xx_body(rill_stream *s) {
  s->body_2xx = 1;
  if (s->ndjson)
    rill_ndjson_reset(s->ndjson);
  if (s->sse)
    rill_sse_reset(s->sse);
  rill__buf_clear(&s->whole);
  s->body_bytes = 0;
  s->sse_events = 0;
}

/* Returns 1 after failing the stream when a 2xx chunk must not be read. */
static int refuse_2xx_chunk(rill_stream *s, size_t n) {
  if (s->html_body) {
    /* No provider answers in HTML; a proxy, captive portal or wrong URL
     * does. Say so instead of failing on its first "<" or, for SSE, on
     * a stream without events. */
    rill__stream_fail(s, RILL_E_PROTOCOL, s->http_status,
                      "the server answered with an HTML page "
                      "(Content-Type: text/html), not the provider's API");
    return 1;
  }
  if (s->req.max_response && n > s->req.max_response - s->body_bytes) {
    rill__stream_fail(s, RILL_E_LIMIT, s->http_status,
                      "response longer than max_response_bytes (%llu)",
                      (unsigned long long)s->req.max_response);
    return 1;
  }
  return 0;
}

/* A 2xx chunk into its framer, or into the whole body. *stop is set after
 * the stream was failed for a body over its limit. */
static int frame_chunk(rill_stream *s, char *ptr, size_t n, int *stop) {
  int rc;
  *stop = 0;
  if (s->ndjson)
    return frame_rc(s, rill_ndjson_feed(s->ndjson, ptr, n));
  if (s->sse)
    return frame_rc(s, rill_sse_feed(s->sse, ptr, n));
  rc = rill__buf_append(&s->whole, ptr, n);
  if (rc == RILL_E_LIMIT) {
    rill__stream_fail(s, rc, s->http_status,
                      "response body larger than %zu bytes", s->whole.limit);
    *stop = 1;
  }
  return rc;
}

static size_t write_2xx(rill_stream *s, char *ptr, size_t n) {
  int rc, stop;
  if (s->complete)
    return n; /* after the final frame: read to the end, drop */
  if (!s->body_2xx)
    begin_2xx_body(s);
  if (refuse_2xx_chunk(s, n)) {
    s->aborted = 1;
    return 0;
  }
  s->body_bytes += n;
  rc = frame_chunk(s, ptr, n, &stop);
  if (stop) {
    s->aborted = 1;
    return 0;
  }
  if (s->content_in_chunk) {
    /* The idle clock needs the time of the last content, not of each
     * delta: one clock read per chunk instead of one per word. */
    s->t_last = rill__now_ms();
    s->content_in_chunk = 0;
  }
  if (rc != RILL_OK && s->complete)
    return n; /* trailing garbage after the final frame: ignored */
  if (rc != RILL_OK) {
    fail_framing(s, rc);
    s->aborted = 1;
    return 0;
  }
  return n;
}

/* An error status's body: kept up to errbody's limit for the message. */
static size_t write_error_body(rill_stream *s, char *ptr, size_t n) {
  size_t room = s->errbody.limit - s->errbody.len;
  size_t take = n < room ? n : room;
  if (take && rill__buf_append(&s->errbody, ptr, take) != RILL_OK)
    take = 0;
  if (take < n) {
    /* Enough of the error body: stop reading (the connection closes). */
    s->errbody_full = 1;
    return 0;
  }
  return n;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *user) {
  rill_stream *s = user;
  size_t n = size * nmemb;
  if (atomic_load(&s->cancel)) {
    rill__stream_fail(s, RILL_E_CANCELLED, s->http_status, "cancelled");
    s->aborted = 1;
    return 0;
  }
  if (s->http_status >= 200 && s->http_status <= 299)
    return write_2xx(s, ptr, n);
  if (s->http_status >= 300 && s->http_status <= 399 && s->req.follow_redirects)
    return n; /* a redirect's body is dropped */
  return write_error_body(s, ptr, n);
}

/* ------------------------------------------------------------------------
 * Attempts
 * ------------------------------------------------------------------------ */

static int has_header(const rill__request *r, const char *name) {
  const char *p = r->headers.data;
  size_t i, k = strlen(name);
  for (i = 0; p && i < r->n_headers; i++) {
    size_t l = strlen(p);
    if (l > k && p[k] == ':' && strncasecmp(p, name, k) == 0)
      return 1;
    p += l + 1;
  }
  return 0;
}

static int build_headers(rill_stream *s) {
  const rill__request *r = &s->req;
  const char *p = r->headers.data;
  struct curl_slist *l = NULL, *t;
  size_t i;
  for (i = 0; p && i < r->n_headers; i++) {
    if (!(t = curl_slist_append(l, p)))
      goto nomem;
    l = t;
    p += strlen(p) + 1;
  }
  if (strcmp(r->method, "GET") != 0 && !has_header(r, "Content-Type")) {
    if (!(t = curl_slist_append(l, "Content-Type: application/json")))
      goto nomem;
    l = t;
  }
  if (!(t = curl_slist_append(l, "Expect:")))
    goto nomem;
  l = t;
  if (r->auth_header) {
    if (!(t = curl_slist_append(l, r->auth_header)))
      goto nomem;
    l = t;
  }
  s->hdrs = l;
  return RILL_OK;
nomem:
  curl_slist_free_all(l);
  return RILL_E_NOMEM;
}

static int setup_easy(rill_stream *s) {
  rill_client *c = s->client;
  CURL *e = s->easy;
  CURLcode r = CURLE_OK;
  const rill__request *q = &s->req;
#define SET(opt, val)                                                          \
  do {                                                                         \
    if (r == CURLE_OK)                                                         \
      r = curl_easy_setopt(e, opt, val);                                       \
  } while (0)
  SET(CURLOPT_URL, q->url.data);
  SET(CURLOPT_PRIVATE, (void *)s);
  SET(CURLOPT_SHARE, c->share);
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  SET(CURLOPT_WRITEFUNCTION, on_write);
  SET(CURLOPT_WRITEDATA, (void *)s);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, (void *)s);
  SET(CURLOPT_ERRORBUFFER, s->errbuf);
  SET(CURLOPT_HTTPHEADER, s->hdrs);
  SET(CURLOPT_USERAGENT, "rill/" RILL_VERSION_STRING);
  if (q->low_speed_bytes > 0 && q->low_speed_ms > 0) {
    SET(CURLOPT_LOW_SPEED_LIMIT, q->low_speed_bytes);
    SET(CURLOPT_LOW_SPEED_TIME, (q->low_speed_ms + 999) / 1000);
  }
  if (strcmp(q->method, "GET") == 0) {
    SET(CURLOPT_HTTPGET, 1L);
  } else {
    if (strcmp(q->method, "POST") != 0)
      SET(CURLOPT_CUSTOMREQUEST, q->method);
    SET(CURLOPT_POSTFIELDS, q->body.data ? q->body.data : "");
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body.len);
  }
  if (c->insecure) {
    SET(CURLOPT_SSL_VERIFYPEER, 0L);
    SET(CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
  }
  if (c->ca_file)
    SET(CURLOPT_CAINFO, c->ca_file);
#undef SET
  if (r == CURLE_OUT_OF_MEMORY)
    return RILL_E_NOMEM;
  return r == CURLE_OK ? RILL_OK : RILL_E_INTERNAL;
}

/* ------------------------------------------------------------------------
 * Credentials over plain http://
 * ------------------------------------------------------------------------ */

/* Whether host (as curl's URL API returns it: IPv6 in brackets) is this
 * machine: "localhost", 127.0.0.0/8 or ::1. Anything else, including
 * names that may resolve to loopback, counts as the network. */
static int host_is_loopback(const char *host) {
  struct in_addr a4;
  struct in6_addr a6;
  char buf[64];
  size_t n = strlen(host);
  if (strcasecmp(host, "localhost") == 0)
    return 1;
  if (inet_pton(AF_INET, host, &a4) == 1)
    return (ntohl(a4.s_addr) >> 24) == 127;
  if (n >= 2 && n - 2 < sizeof buf && host[0] == '[' && host[n - 1] == ']') {
    memcpy(buf, host + 1, n - 2);
    buf[n - 2] = '\0';
    return inet_pton(AF_INET6, buf, &a6) == 1 &&
           memcmp(&a6, &in6addr_loopback, sizeof a6) == 0;
  }
  return 0;
}

/* A request carrying a credential to a plain http:// URL whose host is not
 * loopback: refused (RILL_E_INVALID, message recorded) unless the client
 * opted in. Checked before every attempt, so nothing is ever sent. */
static int refuse_plain_credential(rill_stream *s) {
  CURLU *u;
  char *scheme = NULL, *host = NULL;
  int refuse = 0, rc = RILL_OK;
  if (!s->req.auth_header || s->client->allow_insecure_credentials ||
      strncasecmp(s->req.url.data, "https://", 8) == 0)
    return RILL_OK;
  u = curl_url();
  if (!u)
    return RILL_E_NOMEM;
  /* GUESS_SCHEME as curl's easy handle does: "host:port/path" is http. */
  if (curl_url_set(u, CURLUPART_URL, s->req.url.data, CURLU_GUESS_SCHEME) !=
          CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
    /* curl itself will reject the URL; nothing to decide here. */
  } else if (strcasecmp(scheme, "http") == 0 && !host_is_loopback(host)) {
    refuse = 1;
  }
  if (refuse) {
    rill__stream_fail(s, RILL_E_INVALID, 0,
                      "refused to send a credential over plain http:// to "
                      "%s (not loopback): use https://, or set "
                      "rill_client_opts.allow_insecure_credentials", host);
    rc = RILL_E_INVALID;
  }
  curl_free(scheme);
  curl_free(host);
  curl_url_cleanup(u);
  return rc;
}

int rill__stream_attempt(rill_stream *s) {
  rill_client *c = s->client;
  CURLMcode mc;
  int rc;
  if ((rc = refuse_plain_credential(s)) != RILL_OK)
    return rc;
  s->http_status = 0;
  s->headers_done = 0;
  s->body_2xx = 0;
  s->aborted = 0;
  s->errbody_full = 0;
  s->ra_s_ms = s->ra_ms = -1;
  s->errbuf[0] = '\0';
  rill__buf_clear(&s->errbody);
  rill__buf_clear(&s->location);
  if (s->easy)
    curl_easy_reset(s->easy);
  else if (!(s->easy = rill__client_take_easy(c)))
    return RILL_E_NOMEM;
  if (!s->hdrs && (rc = build_headers(s)) != RILL_OK)
    return rc;
  if ((rc = setup_easy(s)) != RILL_OK)
    return rc;
  s->t_attempt = rill__now_ms();
  s->attempts++;
  s->state = ST_RUNNING;
  mc = curl_multi_add_handle(c->multi, s->easy);
  if (mc != CURLM_OK) {
    s->state = ST_WAITING;
    return mc == CURLM_OUT_OF_MEMORY ? RILL_E_NOMEM : RILL_E_INTERNAL;
  }
  rill__log(RILL_LOG_DEBUG, "stream %p: %s %s (attempt %d)", (void *)s,
            s->req.method, s->req.url.data, s->attempts);
  return RILL_OK;
}

/* ------------------------------------------------------------------------
 * Start
 * ------------------------------------------------------------------------ */

static int start_args_check(const rill_client *c, const rill__request *req,
                            const rill__decoder *dec) {
  if (!c || !req || !dec || !dec->ops || !dec->ops->on_failure ||
      !dec->ops->destroy || !dec->ops->on_end || !req->method ||
      !req->url.data || req->url.len == 0)
    return RILL_E_INVALID;
  if ((req->framing == RILL__FRAME_SSE && !dec->ops->on_event) ||
      (req->framing != RILL__FRAME_SSE && !dec->ops->on_record) ||
      req->framing < RILL__FRAME_NDJSON || req->framing > RILL__FRAME_WHOLE ||
      req->max_record > RILL_HARD_MAX_RECORD_BYTES)
    return RILL_E_INVALID;
  if (c->freeing || !c->multi)
    return RILL_E_STATE;
  return RILL_OK;
}

/* The buffers and the framer of a new stream s for req. On failure only
 * s itself is left to free (the buffers hold nothing yet). */
static int stream_init(rill_stream *s, rill_client *c, const rill__request *req,
                       rill__decoder *dec) {
  rill_framer_opts fo = RILL_FRAMER_OPTS_INIT;
  atomic_init(&s->cancel, 0);
  s->client = c;
  s->pool = c->pool;
  s->dec = dec;
  rill__buf_init(&s->errmsg, NULL, RILL__ERRMSG_LIMIT);
  rill__buf_init(&s->whole, c->pool,
                 req->max_body ? req->max_body : RILL__WHOLE_DEFAULT);
  rill__buf_init(&s->errbody, c->pool,
                 req->max_errbody && req->max_errbody < RILL__ERRBODY_MAX
                     ? req->max_errbody
                     : RILL__ERRBODY_MAX);
  rill__buf_init(&s->location, c->pool, LOCATION_LIMIT);
  fo.max_record_bytes = req->max_record;
  if (req->framing == RILL__FRAME_NDJSON)
    return rill__ndjson_new_pooled(&s->ndjson, &fo, on_ndjson, s, c->pool);
  if (req->framing == RILL__FRAME_SSE)
    return rill__sse_new_pooled(&s->sse, &fo, on_sse, s, c->pool);
  return RILL_OK;
}

/* Link s into c's list and count it, before anything can end it. */
static void link_stream(rill_client *c, rill_stream *s) {
  s->next = c->streams;
  s->prev = NULL;
  if (c->streams)
    c->streams->prev = s;
  c->streams = s;
  s->in_list = 1;
  c->n_active++;
}

/* The first attempt failed in rill__stream_start: undo all it did, giving
 * the request back to the caller's req. */
static void undo_start(rill_stream *s, rill__request *req, int counted_ref) {
  rill_client *c = s->client;
  if (s->easy) {
    rill__client_give_easy(c, s->easy);
    s->easy = NULL;
  }
  curl_slist_free_all(s->hdrs);
  rill__client_unlink(c, s);
  c->n_active--;
  if (counted_ref)
    c->refs--;
  *req = s->req;
  s->dec->stream = NULL;
  rill_ndjson_free(s->ndjson);
  rill_sse_free(s->sse);
  rill__free(s);
}

int rill__stream_start(rill_client *c, rill__request *req, rill__decoder *dec,
                       rill_stream **out) {
  rill_stream *s;
  int rc;
  if (out)
    *out = NULL;
  rc = start_args_check(c, req, dec);
  if (rc != RILL_OK)
    return rc;
  s = rill__calloc(1, sizeof *s);
  if (!s)
    return RILL_E_NOMEM;
  rc = stream_init(s, c, req, dec);
  if (rc != RILL_OK) {
    rill__free(s);
    return rc;
  }
  /* The request moves into the stream; the caller's copy is left empty so
   * that releasing it is harmless. */
  s->req = *req;
  rill__request_init(req, NULL);
  rill__retry_normalise(&s->req.retry, &s->req.retry);
  s->status = 1;
  s->t_start = rill__now_ms();
  s->t_start_f = rill__now_ms_f();
  s->t_first = -1;
  s->t_first_f = -1;
  s->state = ST_PENDING;
  dec->stream = s;
  s->self_free = out ? 0 : 1;
  if (out)
    c->refs++;
  link_stream(c, s);
  if (c->depth > 0 || refuse_plain_credential(s) == RILL_E_INVALID) {
    /* From inside a drive (a callback): added when the drive ends. A
     * refused credential also waits for the drive, which ends the stream
     * with its message and on_error on the driving thread (instead of a
     * start failing without a word); nothing is sent. */
    c->n_pending++;
    if (c->depth == 0 && c->has_loop)
      rill__loop_update_timer(c);
  } else {
    rc = rill__stream_attempt(s);
    if (rc != RILL_OK) {
      undo_start(s, req, out != NULL);
      return rc;
    }
    if (c->has_loop)
      rill__loop_update_timer(c);
  }
  if (out)
    *out = s;
  return RILL_OK;
}

/* ------------------------------------------------------------------------
 * The end
 * ------------------------------------------------------------------------ */

/* curl_slist_append copied the credential line into the header list;
 * wipe that copy before curl frees it (req.auth_header is wiped by
 * rill__request_release). */
static void wipe_credential_copy(rill_stream *s) {
  struct curl_slist *l;
  if (!s->req.auth_header)
    return;
  for (l = s->hdrs; l; l = l->next)
    if (l->data && strcmp(l->data, s->req.auth_header) == 0)
      rill__wipe(l->data, strlen(l->data));
}

static void release_resources(rill_stream *s) {
  rill_client *c = s->client_gone ? NULL : s->client;
  if (s->easy) {
    if (s->state == ST_RUNNING && c)
      curl_multi_remove_handle(c->multi, s->easy);
    if (c)
      rill__client_give_easy(c, s->easy);
    else
      curl_easy_cleanup(s->easy);
    s->easy = NULL;
  }
  wipe_credential_copy(s);
  curl_slist_free_all(s->hdrs);
  s->hdrs = NULL;
  rill_ndjson_free(s->ndjson);
  rill_sse_free(s->sse);
  s->ndjson = NULL;
  s->sse = NULL;
  rill__buf_release(&s->whole);
  rill__buf_release(&s->errbody);
  rill__buf_release(&s->location);
  rill__request_release(&s->req);
}

void rill__stream_end(rill_stream *s, int code) {
  rill_client *c = s->client;
  long http;
  if (s->state == ST_DONE)
    return;
  if (s->state == ST_PENDING && c)
    c->n_pending--;
  if (s->complete) { /* on_done was delivered: a clock or a cut after it */
    code = RILL_OK; /* does not turn the answer into an error */
    s->fail_code = 0;
    rill__buf_clear(&s->errmsg);
  }
  if (code != RILL_OK && s->fail_code == 0)
    rill__stream_fail(s, code, s->http_status, "%s", rill_strerror(code));
  if (code != RILL_OK)
    code = s->fail_code;
  http = s->fail_http ? s->fail_http : s->http_status;
  release_resources(s);
  s->state = ST_DONE;
  s->status = code;
  if (c)
    c->n_active--;
  rill__log(RILL_LOG_DEBUG, "stream %p: ended: %s%s%s", (void *)s,
            rill_error_name(code), s->errmsg.len ? ": " : "",
            s->errmsg.len ? s->errmsg.data : "");
  if (code != RILL_OK && !s->no_callbacks)
    s->dec->ops->on_failure(s->dec, code, http,
                            s->errmsg.len ? s->errmsg.data : "");
}

void rill__stream_destroy(rill_stream *s) {
  rill_client *c = s->client;
  int owned = !s->self_free;
  if (s->state != ST_DONE) {
    s->no_callbacks = 1;
    rill__stream_end(s, RILL_E_CANCELLED);
  }
  if (s->dec && s->dec->ops->destroy)
    s->dec->ops->destroy(s->dec);
  rill__buf_release(&s->errmsg);
  rill__free(s);
  if (owned)
    rill__client_release(c);
}

/* ------------------------------------------------------------------------
 * Finished transfers: success, retry, redirect or failure
 * ------------------------------------------------------------------------ */

static void sanitize_append(rill__buf *b, const char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    char ch = p[i];
    if ((unsigned char)ch < 0x20 || ch == 0x7f)
      ch = ' ';
    if (rill__buf_putc(b, ch) != RILL_OK)
      return;
  }
}

/* errmsg = "HTTP <status>: <the provider's message>" (+ extra). */
static void http_error(rill_stream *s, long status, const char *extra) {
  char head[64];
  int n = snprintf(head, sizeof head, "HTTP %ld", status);
  rill__buf_clear(&s->errmsg);
  s->fail_code = rill__status_from_http(status);
  s->fail_http = status;
  rill__buf_append(&s->errmsg, head, (size_t)n);
  /* Only when ": " went in may it be taken back below (out of memory
   * leaves errmsg shorter, even empty). */
  if (s->errbody.len > 0 && rill__buf_append(&s->errmsg, ": ", 2) == RILL_OK) {
    size_t before = s->errmsg.len;
    if (s->dec->ops->http_error_message)
      s->dec->ops->http_error_message(s->dec, status, s->errbody.data,
                                      s->errbody.len, &s->errmsg);
    if (s->errmsg.len == before)
      sanitize_append(&s->errmsg, s->errbody.data,
                      s->errbody.len < BODY_TEXT_MAX ? s->errbody.len
                                                     : BODY_TEXT_MAX);
    if (s->errmsg.len == before)
      s->errmsg.len -= 2;
  }
  if (extra)
    rill__buf_append(&s->errmsg, extra, strlen(extra));
  rill__stream_errmsg_terminate(s);
}

static int64_t total_deadline(const rill_stream *s) {
  return s->req.timeouts.total_ms > 0 ? s->t_start + s->req.timeouts.total_ms
                                      : -1;
}

/* Wait delay_ms, then try again. */
static void schedule(rill_stream *s, long delay_ms) {
  s->state = ST_WAITING;
  s->wake_at = rill__now_ms() + delay_ms;
  rill__log(RILL_LOG_INFO, "stream %p: attempt %d failed (HTTP %ld); "
            "retrying in %ld ms", (void *)s, s->attempts, s->http_status,
            delay_ms);
}

/* A retryable failure (HTTP status or connection): retry or give up. The
 * failure (fail_code, errmsg) is already recorded but not yet final. */
static void retry_or_end(rill_stream *s, long server_after_ms) {
  long delay = 0;
  int64_t tot = total_deadline(s);
  int d = rill__retry_decide(&s->req.retry, s->attempts - 1, server_after_ms,
                             rill__client_random, s->client, &delay);
  char extra[160];
  if (d == 1 && (tot < 0 || rill__now_ms() + delay < tot)) {
    /* Forget this attempt's failure: the next one decides. */
    int code = s->fail_code;
    s->fail_code = 0;
    s->fail_http = 0;
    rill__buf_clear(&s->errmsg);
    (void)code;
    schedule(s, delay);
    return;
  }
  if (d == -1) {
    snprintf(extra, sizeof extra,
             " (the server asked to wait %ld ms, more than max_retry_after_ms"
             " %ld)", server_after_ms, s->req.retry.max_retry_after_ms);
  } else {
    snprintf(extra, sizeof extra, " (%d attempt%s)", s->attempts,
             s->attempts == 1 ? "" : "s");
  }
  rill__buf_append(&s->errmsg, extra, strlen(extra));
  rill__stream_errmsg_terminate(s);
  rill__stream_end(s, s->fail_code);
}

static int same_origin(CURLU *a, CURLU *b) {
  static const CURLUPart parts[3] = {CURLUPART_SCHEME, CURLUPART_HOST,
                                     CURLUPART_PORT};
  int i, same = 1;
  for (i = 0; i < 3 && same; i++) {
    char *x = NULL, *y = NULL;
    unsigned flags = parts[i] == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0;
    if (curl_url_get(a, parts[i], &x, flags) != CURLUE_OK ||
        curl_url_get(b, parts[i], &y, flags) != CURLUE_OK ||
        strcasecmp(x, y) != 0)
      same = 0;
    curl_free(x);
    curl_free(y);
  }
  return same;
}

static void redirect(rill_stream *s) {
  long st = s->http_status;
  CURLU *cur = NULL, *next = NULL;
  char *scheme = NULL, *url = NULL;
  if (s->location.len == 0) {
    http_error(s, st, " (redirect without a Location header)");
    rill__stream_end(s, s->fail_code);
    return;
  }
  if (s->redirects >= RILL__MAX_REDIRECTS) {
    rill__stream_fail(s, RILL_E_HTTP, st, "too many redirects (%d)",
                      s->redirects);
    rill__stream_end(s, RILL_E_HTTP);
    return;
  }
  cur = curl_url();
  next = curl_url();
  if (!cur || !next ||
      curl_url_set(cur, CURLUPART_URL, s->req.url.data, 0) != CURLUE_OK ||
      curl_url_set(next, CURLUPART_URL, s->req.url.data, 0) != CURLUE_OK ||
      curl_url_set(next, CURLUPART_URL, s->location.data, 0) != CURLUE_OK ||
      curl_url_get(next, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    rill__stream_fail(s, RILL_E_HTTP, st, "HTTP %ld: invalid redirect "
                      "location", st);
    goto fail;
  }
  if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
    rill__stream_fail(s, RILL_E_HTTP, st, "HTTP %ld: redirect to a %s URL "
                      "refused", st, scheme);
    goto fail;
  }
  if (s->req.auth_header && !same_origin(cur, next)) {
    rill__stream_fail(s, RILL_E_HTTP, st, "HTTP %ld: redirect to another "
                      "host refused: credentials", st);
    goto fail;
  }
  if (curl_url_get(next, CURLUPART_URL, &url, 0) != CURLUE_OK) {
    rill__stream_fail(s, RILL_E_NOMEM, st, "out of memory");
    goto fail;
  }
  rill__buf_clear(&s->req.url);
  if (rill__buf_append(&s->req.url, url, strlen(url) + 1) != RILL_OK) {
    rill__stream_fail(s, RILL_E_LIMIT, st, "redirect URL too long");
    goto fail;
  }
  s->req.url.len--;
  if (st == 303 && strcmp(s->req.method, "GET") != 0) {
    s->req.method = "GET";
    rill__buf_clear(&s->req.body);
  }
  s->redirects++;
  rill__log(RILL_LOG_INFO, "stream %p: HTTP %ld redirect to %s", (void *)s, st,
            url);
  curl_free(url);
  curl_free(scheme);
  curl_url_cleanup(cur);
  curl_url_cleanup(next);
  s->state = ST_WAITING;
  s->wake_at = rill__now_ms();
  return;
fail:
  curl_free(url);
  curl_free(scheme);
  curl_url_cleanup(cur);
  curl_url_cleanup(next);
  rill__stream_end(s, s->fail_code);
}

static void finish_2xx(rill_stream *s) {
  int rc = RILL_OK;
  if (!s->body_2xx) { /* an empty body: the framer saw nothing */
    if (s->ndjson)
      rill_ndjson_reset(s->ndjson);
    if (s->sse)
      rill_sse_reset(s->sse);
  }
  if (s->ndjson)
    rc = frame_rc(s, rill_ndjson_finish(s->ndjson));
  else if (s->sse)
    rc = frame_rc(s, rill_sse_finish(s->sse));
  else {
    rc = s->dec->ops->on_record(s->dec, s->whole.data ? s->whole.data : "",
                                s->whole.len);
    if (rc > 0)
      rc = RILL_E_INTERNAL;
  }
  if (rc != RILL_OK) {
    fail_framing(s, rc);
    rill__stream_end(s, s->fail_code);
    return;
  }
  if (atomic_load(&s->cancel)) {
    rill__stream_fail(s, RILL_E_CANCELLED, s->http_status, "cancelled");
    rill__stream_end(s, RILL_E_CANCELLED);
    return;
  }
  if (s->sse && s->sse_events == 0 && s->body_bytes > 0) {
    /* Bytes, but not one event: not an event stream at all (a JSON
     * object, plain text), which is not the same as a stream cut short. */
    rill__stream_fail(s, RILL_E_PROTOCOL, s->http_status,
                      "the body is not an event stream: %llu bytes without "
                      "one SSE event",
                      (unsigned long long)s->body_bytes);
    rill__stream_end(s, s->fail_code);
    return;
  }
  rc = s->dec->ops->on_end(s->dec);
  if (rc < 0) {
    rill__stream_fail(s, rc, s->http_status, "truncated stream: %s",
                      rill_strerror(rc));
    rill__stream_end(s, s->fail_code);
    return;
  }
  rill__stream_end(s, RILL_OK);
}

static const char *curl_failure_what(int code) {
  if (code == RILL_E_TRUNCATED)
    return "stream cut";
  if (code == RILL_E_TLS)
    return "TLS failure";
  if (code == RILL_E_CONNECT)
    return "could not connect";
  return "transfer failed";
}

/* The transfer itself failed (result is curl's code): say how, and retry
 * a connection that was never made. */
static void end_transfer_failed(rill_stream *s, CURLcode result) {
  int code = rill__status_from_curl(result, s);
  rill__stream_fail(s, code, s->http_status, "%s: %s", curl_failure_what(code),
                    s->errbuf[0] ? s->errbuf : curl_easy_strerror(result));
  if (!s->has_content && code == RILL_E_CONNECT &&
      rill__retry_curl_is_retryable((int)result, s->http_status != 0))
    retry_or_end(s, -1);
  else
    rill__stream_end(s, code);
}

/* The transfer ended cleanly: what its HTTP status means. */
static void end_by_status(rill_stream *s) {
  long st = s->http_status;
  if (st >= 200 && st <= 299) {
    finish_2xx(s);
    return;
  }
  if (s->req.follow_redirects &&
      (st == 301 || st == 302 || st == 303 || st == 307 || st == 308)) {
    redirect(s);
    return;
  }
  http_error(s, st,
             st >= 300 && st <= 399 ? " (redirect not followed)" : NULL);
  if (!s->has_content && rill__retry_status_is_retryable(st)) {
    /* http_error terminated errmsg; retry_or_end appends. */
    retry_or_end(s, s->ra_ms >= 0 ? s->ra_ms : s->ra_s_ms);
    return;
  }
  rill__stream_end(s, s->fail_code);
}

void rill__stream_done(rill_stream *s, CURLcode result) {
  rill_client *c = s->client;
  curl_multi_remove_handle(c->multi, s->easy);
  s->state = ST_WAITING;
  s->wake_at = -1;
  if (s->complete) { /* on_done was delivered: whatever came after */
    rill__stream_end(s, RILL_OK);
    return;
  }
  if (atomic_load(&s->cancel)) {
    rill__stream_fail(s, RILL_E_CANCELLED, s->http_status, "cancelled");
    rill__stream_end(s, RILL_E_CANCELLED);
    return;
  }
  if (s->fail_code != 0) {
    rill__stream_end(s, s->fail_code);
    return;
  }
  if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && s->errbody_full)) {
    end_transfer_failed(s, result);
    return;
  }
  end_by_status(s);
}

/* ------------------------------------------------------------------------
 * Clocks
 * ------------------------------------------------------------------------ */

static void timeout(rill_stream *s, const char *what, const char *text,
                    long ms) {
  rill__stream_fail(s, RILL_E_TIMEOUT, s->http_status, "%s timeout: %s %ld ms",
                    what, text, ms);
  rill__stream_end(s, RILL_E_TIMEOUT);
}

int64_t rill__stream_deadline(const rill_stream *s) {
  const rill_timeouts *t = &s->req.timeouts;
  int64_t best = total_deadline(s), d;
#define CONSIDER(x)                                                            \
  do {                                                                         \
    d = (x);                                                                   \
    if (d >= 0 && (best < 0 || d < best))                                      \
      best = d;                                                                \
  } while (0)
  if (s->state == ST_PENDING)
    CONSIDER(s->t_start);
  if (s->state == ST_WAITING)
    CONSIDER(s->wake_at);
  if (s->state == ST_RUNNING) {
    if (t->connect_ms > 0 && !s->headers_done)
      CONSIDER(s->t_attempt + t->connect_ms);
    if (t->first_content_ms > 0 && !s->has_content)
      CONSIDER(s->t_attempt + t->first_content_ms);
    if (t->idle_ms > 0 && s->headers_done)
      CONSIDER((s->has_content ? s->t_last : s->t_headers) + t->idle_ms);
  }
#undef CONSIDER
  return best;
}

void rill__stream_check(rill_stream *s, int64_t now) {
  const rill_timeouts *t = &s->req.timeouts;
  int64_t tot = total_deadline(s);
  int rc;
  if (s->state == ST_DONE)
    return;
  if (atomic_load(&s->cancel)) {
    rill__stream_fail(s, RILL_E_CANCELLED, s->http_status, "cancelled");
    rill__stream_end(s, RILL_E_CANCELLED);
    return;
  }
  if (tot >= 0 && now >= tot) {
    timeout(s, "total", "request not finished after", t->total_ms);
    return;
  }
  if (s->state == ST_PENDING) {
    s->client->n_pending--;
    s->state = ST_WAITING;
    s->wake_at = now;
  }
  if (s->state == ST_WAITING) {
    if (s->wake_at >= 0 && now >= s->wake_at) {
      rc = rill__stream_attempt(s);
      if (rc != RILL_OK) {
        rill__stream_fail(s, rc, 0, "could not start the request: %s",
                          rill_strerror(rc));
        rill__stream_end(s, rc);
      }
    }
    return;
  }
  if (s->state != ST_RUNNING)
    return;
  if (t->connect_ms > 0 && !s->headers_done &&
      now >= s->t_attempt + t->connect_ms)
    timeout(s, "connect", "no response headers after", t->connect_ms);
  else if (t->first_content_ms > 0 && !s->has_content &&
           now >= s->t_attempt + t->first_content_ms)
    timeout(s, "first-content", "no content after", t->first_content_ms);
  else if (t->idle_ms > 0 && s->headers_done &&
           now >= (s->has_content ? s->t_last : s->t_headers) + t->idle_ms)
    timeout(s, "idle", "no content for", t->idle_ms);
}

/* ------------------------------------------------------------------------
 * Provider-facing helpers and public accessors
 * ------------------------------------------------------------------------ */

void rill__stream_complete(rill_stream *s) {
  if (s)
    s->complete = 1;
}

void rill__stream_content(rill_stream *s) {
  if (!s)
    return;
  if (s->t_first < 0) {
    s->t_first = rill__now_ms();
    s->t_first_f = rill__now_ms_f();
    s->t_last = s->t_first;
  }
  s->content_in_chunk = 1; /* on_write stamps t_last after the chunk */
  s->has_content = 1;
}

rill__pool *rill__stream_pool(rill_stream *s) { return s ? s->pool : NULL; }

double rill__stream_elapsed_ms(const rill_stream *s) {
  return s ? rill__now_ms_f() - s->t_start_f : 0;
}

double rill__stream_ttft_ms(const rill_stream *s) {
  if (!s || s->t_first_f < 0)
    return -1;
  return s->t_first_f - s->t_start_f;
}

int rill__stream_attempts(const rill_stream *s) { return s ? s->attempts : 0; }

int rill_cancel(rill_stream *s) {
  rill_client *c;
  if (!s)
    return RILL_E_INVALID;
  atomic_store(&s->cancel, 1);
  c = s->client;
  if (c && !s->client_gone) {
    atomic_store(&c->cancel_pending, 1);
    if (!c->has_loop && c->multi)
      curl_multi_wakeup(c->multi);
  }
  return RILL_OK;
}

int rill_stream_status(const rill_stream *s) {
  return s ? s->status : RILL_E_INVALID;
}

long rill_stream_http_status(const rill_stream *s) {
  return s ? s->http_status : 0;
}

const char *rill_stream_errmsg(const rill_stream *s) {
  return s && s->errmsg.len ? s->errmsg.data : "";
}

void rill_stream_free(rill_stream *s) {
  rill_client *c;
  if (!s)
    return;
  c = s->client_gone ? NULL : s->client;
  if (s->state != ST_DONE) {
    s->no_callbacks = 1;
    rill__stream_end(s, RILL_E_CANCELLED);
  }
  if (c && (c->depth > 0 || s->pinned)) {
    s->free_requested = 1; /* the drive in progress frees it */
    return;
  }
  if (c)
    rill__client_unlink(c, s);
  rill__stream_destroy(s);
}
