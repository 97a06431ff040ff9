/*
 * providers/common.c — what Ollama and OpenAI-compatible requests share:
 * base URLs (defaults, OLLAMA_HOST), URL joining, the credential header,
 * extra headers, body helpers (images in base64, tools, stop), checks of a
 * chat request, error-body messages, and the chat decoder's delivery of
 * callbacks and of the done record.
 *
 * Invariants: the credential is only ever written to rill__request's
 * auth_header (never into the URL, the body or another header); every
 * string handed to an application callback is NUL-terminated; on_error
 * runs at most once and never after on_done.
 *
 * Knows nothing of curl and of any one provider's JSON fields.
 */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "core/alloc.h"
#include "provider.h"
#include "rill/error.h"

/* ---- endpoint ---------------------------------------------------------- */

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int prefix_ci(const char *s, const char *p) {
  for (; *p; s++, p++)
    if (lower((unsigned char)*s) != *p)
      return 0;
  return 1;
}

static int eq_ci_n(const char *a, size_t n, const char *b) {
  size_t i;
  if (strlen(b) != n)
    return 0;
  for (i = 0; i < n; i++)
    if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}

/* A URL may not hold spaces or control characters (header injection,
 * and curl would reject it later with a less clear message). */
static int url_chars_ok(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7f)
      return 0;
  }
  return 1;
}

static int put_base(rill__buf *out, const char *s, size_t n) {
  int rc;
  size_t skip;
  while (n > 0 && s[n - 1] == '/')
    n--;
  if (prefix_ci(s, "http://"))
    skip = 7;
  else if (prefix_ci(s, "https://"))
    skip = 8;
  else
    return RILL_E_INVALID;
  if (n <= skip || s[skip] == '/' || !url_chars_ok(s, n))
    return RILL_E_INVALID;
  rill__buf_clear(out);
  rc = rill__buf_append(out, s, n);
  if (rc == RILL_OK)
    rc = rill__buf_putc(out, '\0');
  if (rc == RILL_OK)
    out->len--;
  return rc;
}

/* The host[:port] part of OLLAMA_HOST (h, hn bytes, before any path). */
typedef struct host_port {
  const char *h, *port; /* port NULL when none is given */
  size_t hn, pn;
  int bracket;          /* a bare IPv6 address: write it in brackets */
} host_port;

/* Split h[0..hn) into host and port; RILL_E_INVALID for an unclosed '[',
 * junk after ']', or a port that is not 1..5 digits. */
static int split_host_port(const char *h, size_t hn, host_port *hp) {
  hp->h = h;
  hp->hn = hn;
  hp->port = NULL;
  hp->pn = 0;
  hp->bracket = 0;
  if (hn > 0 && h[0] == '[') {
    const char *close = memchr(h, ']', hn);
    if (!close)
      return RILL_E_INVALID;
    if ((size_t)(close - h) + 1 < hn) {
      if (close[1] != ':')
        return RILL_E_INVALID;
      hp->port = close + 2;
      hp->pn = hn - (size_t)(close - h) - 2;
    }
    hp->hn = (size_t)(close - h) + 1;
  } else {
    const char *colon = memchr(h, ':', hn);
    if (colon && !memchr(colon + 1, ':', hn - (size_t)(colon - h) - 1)) {
      hp->port = colon + 1;
      hp->pn = hn - (size_t)(colon - h) - 1;
      hp->hn = (size_t)(colon - h);
    } else if (colon) {
      hp->bracket = 1;
    }
  }
  if (hp->port) {
    size_t i;
    if (hp->pn == 0 || hp->pn > 5)
      return RILL_E_INVALID;
    for (i = 0; i < hp->pn; i++)
      if (hp->port[i] < '0' || hp->port[i] > '9')
        return RILL_E_INVALID;
  }
  return RILL_OK;
}

/* Ollama's own defaults: a listen-everywhere address means this host, and
 * without a scheme or port, port 11434 (https for ollama.com). */
static void host_defaults(host_port *hp, int explicit_scheme,
                          const char **scheme) {
  if (hp->hn == 0 || eq_ci_n(hp->h, hp->hn, "0.0.0.0")) {
    hp->h = "127.0.0.1";
    hp->hn = 9;
  } else if (eq_ci_n(hp->h, hp->hn, "[::]")) {
    hp->h = "[::1]";
    hp->hn = 5;
  }
  if (!hp->port && !explicit_scheme) {
    if (eq_ci_n(hp->h, hp->hn, "ollama.com")) {
      *scheme = "https";
    } else {
      hp->port = "11434";
      hp->pn = 5;
    }
  }
}

int rill__ollama_host_url(const char *host, rill__buf *out) {
  const char *scheme = "http", *rest, *slash;
  size_t n, rn;
  int explicit_scheme = 1, rc, w;
  host_port hp;
  char url[1024];
  if (!host)
    host = "";
  while (*host == ' ' || *host == '\t')
    host++;
  n = strlen(host);
  while (n > 0 && (host[n - 1] == ' ' || host[n - 1] == '\t'))
    n--;
  if (n == 0)
    return put_base(out, "http://127.0.0.1:11434", 22);
  if (prefix_ci(host, "http://"))
    rest = host + 7;
  else if (prefix_ci(host, "https://")) {
    rest = host + 8;
    scheme = "https";
  } else {
    rest = host;
    explicit_scheme = 0;
    if (memchr(host, ':', n) && strstr(host, "://"))
      return RILL_E_INVALID; /* another scheme */
  }
  rn = n - (size_t)(rest - host);
  slash = memchr(rest, '/', rn);
  rc = split_host_port(rest, slash ? (size_t)(slash - rest) : rn, &hp);
  if (rc != RILL_OK)
    return rc;
  host_defaults(&hp, explicit_scheme, &scheme);
  rn = slash ? n - (size_t)(slash - host) : 0;
  w = snprintf(url, sizeof url, "%s://%s%.*s%s%s%.*s%.*s", scheme,
               hp.bracket ? "[" : "", (int)hp.hn, hp.h, hp.bracket ? "]" : "",
               hp.port ? ":" : "", (int)hp.pn, hp.port ? hp.port : "",
               (int)rn, slash ? slash : "");
  if (w < 0 || (size_t)w >= sizeof url)
    return RILL_E_INVALID;
  return put_base(out, url, (size_t)w);
}

int rill__endpoint_base(const rill_endpoint *ep, rill__buf *out) {
  const char *b = ep->base_url;
  if (b && *b)
    return put_base(out, b, strlen(b));
  switch (ep->provider) {
  case RILL_PROVIDER_OLLAMA:
    return rill__ollama_host_url(getenv("OLLAMA_HOST"), out);
  case RILL_PROVIDER_OPENAI:
    return put_base(out, "https://api.openai.com/v1", 25);
  case RILL_PROVIDER_LMSTUDIO:
    return put_base(out, "http://localhost:1234/v1", 24);
  case RILL_PROVIDER_GEMINI:
    return put_base(out, "https://generativelanguage.googleapis.com/v1beta",
                    48);
  case RILL_PROVIDER_ANTHROPIC:
    return put_base(out, "https://api.anthropic.com/v1", 28);
  default:
    return RILL_E_INVALID;
  }
}

static int has_crlf(const char *s) {
  for (; *s; s++)
    if (*s == '\r' || *s == '\n')
      return 1;
  return 0;
}

static int is_credential_name(const char *name, size_t n) {
  return eq_ci_n(name, n, "authorization") || eq_ci_n(name, n, "x-api-key") ||
         eq_ci_n(name, n, "api-key") || eq_ci_n(name, n, "x-goog-api-key");
}

static int set_auth(rill__request *r, const char *a, size_t an, const char *b,
                    size_t bn) {
  char *h = rill__malloc(an + bn + 1);
  if (!h)
    return RILL_E_NOMEM;
  memcpy(h, a, an);
  memcpy(h + an, b, bn);
  h[an + bn] = '\0';
  if (r->auth_header) {
    rill__wipe(r->auth_header, strlen(r->auth_header));
    rill__free(r->auth_header);
  }
  r->auth_header = h;
  return RILL_OK;
}

/* The length of line's header name (before the colon): printable ASCII
 * without spaces, 1..cap-1 bytes; 0 when the line is not "Name: value". */
static size_t header_name_len(const char *line, size_t cap) {
  const char *colon;
  size_t nn, k;
  if (!line || has_crlf(line))
    return 0;
  colon = strchr(line, ':');
  if (!colon || colon == line)
    return 0;
  nn = (size_t)(colon - line);
  if (nn >= cap)
    return 0;
  for (k = 0; k < nn; k++) {
    unsigned char c = (unsigned char)line[k];
    if (c <= 0x20 || c >= 0x7f)
      return 0;
  }
  return nn;
}

/* A credential given as an extra header ("Name: value", name nn bytes,
 * value v) is kept apart like a key: r->auth_header, wiped on free. */
static int set_credential_header(rill__request *r, const char *line,
                                 size_t nn, const char *v) {
  int rc = set_auth(r, line, nn + 1, " ", 1);
  if (rc == RILL_OK) {
    char *h = r->auth_header;
    r->auth_header = NULL;
    rc = set_auth(r, h, nn + 2, v, strlen(v));
    rill__wipe(h, strlen(h));
    rill__free(h);
  }
  return rc;
}

static int extra_headers(rill__request *r, const rill_endpoint *ep) {
  size_t i;
  int own_credential = 0;
  if (ep->n_headers > 0 && !ep->headers)
    return RILL_E_INVALID;
  for (i = 0; i < ep->n_headers; i++) {
    const char *line = ep->headers[i], *v;
    char name[128];
    size_t nn = header_name_len(line, sizeof name);
    int rc;
    if (nn == 0)
      return RILL_E_INVALID;
    v = line + nn + 1;
    while (*v == ' ' || *v == '\t')
      v++;
    if (is_credential_name(line, nn)) {
      if (own_credential)
        return RILL_E_INVALID;
      own_credential = 1;
      rc = set_credential_header(r, line, nn, v);
      if (rc != RILL_OK)
        return rc;
      continue;
    }
    memcpy(name, line, nn);
    name[nn] = '\0';
    rc = rill__request_add_header(r, name, v);
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

/* Whether the caller's extra headers hold one named name. */
static int has_extra_header(const rill_endpoint *ep, const char *name) {
  size_t i, n = strlen(name);
  for (i = 0; ep->headers && i < ep->n_headers; i++) {
    const char *line = ep->headers[i];
    if (line && strlen(line) > n &&
        line[n] == ':' && eq_ci_n(line, n, name))
      return 1;
  }
  return 0;
}

/* The provider's key from the environment when the endpoint has none. */
static const char *env_key(rill_provider provider) {
  const char *key;
  switch (provider) {
  case RILL_PROVIDER_OPENAI:
  case RILL_PROVIDER_LMSTUDIO:
    return getenv("OPENAI_API_KEY");
  case RILL_PROVIDER_ANTHROPIC:
    return getenv("ANTHROPIC_API_KEY");
  case RILL_PROVIDER_GEMINI:
    key = getenv("GEMINI_API_KEY");
    return key && *key ? key : getenv("GOOGLE_API_KEY");
  default:
    return NULL;
  }
}

static int add_accept(rill__request *r, rill__framing framing) {
  if (framing == RILL__FRAME_NDJSON)
    return rill__request_add_header(r, "Accept", "application/x-ndjson");
  if (framing == RILL__FRAME_SSE)
    return rill__request_add_header(r, "Accept", "text/event-stream");
  return rill__request_add_header(r, "Accept", "application/json");
}

int rill__request_setup(rill__request *r, const rill_endpoint *ep,
                        const char *method, const char *path,
                        rill__framing framing) {
  const char *key = ep->api_key;
  int rc;
  r->method = method;
  r->framing = framing;
  r->follow_redirects = ep->follow_redirects;
  rc = rill__endpoint_base(ep, &r->url);
  if (rc == RILL_OK)
    rc = rill__buf_append(&r->url, path, strlen(path) + 1);
  if (rc != RILL_OK)
    return rc;
  r->url.len--; /* the NUL stays, not counted */
  if (!key)
    key = env_key(ep->provider);
  if (key && *key) {
    if (has_crlf(key))
      return RILL_E_INVALID;
    if (ep->provider == RILL_PROVIDER_ANTHROPIC)
      rc = set_auth(r, "x-api-key: ", 11, key, strlen(key));
    else if (ep->provider == RILL_PROVIDER_GEMINI)
      rc = set_auth(r, "x-goog-api-key: ", 16, key, strlen(key));
    else
      rc = set_auth(r, "Authorization: Bearer ", 22, key, strlen(key));
    if (rc != RILL_OK)
      return rc;
  }
  rc = add_accept(r, framing);
  if (rc == RILL_OK && ep->provider == RILL_PROVIDER_ANTHROPIC &&
      !has_extra_header(ep, "anthropic-version"))
    rc = rill__request_add_header(r, "anthropic-version", "2023-06-01");
  if (rc != RILL_OK)
    return rc;
  return extra_headers(r, ep);
}

/* ---- request bodies ---------------------------------------------------- */

int rill__is_json_object(const char *text) {
  size_t n;
  if (!text)
    return 0;
  n = strlen(text);
  if (rill_json_validate(text, n, NULL) != RILL_OK)
    return 0;
  while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
    text++;
  return *text == '{';
}

int rill__jw_kstr(rill_jw *w, const char *key, const char *val) {
  rill_jw_key(w, key, strlen(key));
  return rill_jw_string(w, val ? val : "", val ? strlen(val) : 0);
}

int rill__jw_kraw(rill_jw *w, const char *key, const char *json) {
  rill_jw_key(w, key, strlen(key));
  return rill_jw_raw(w, json, strlen(json));
}

int rill__jw_keep_alive(rill_jw *w, const char *v) {
  int64_t secs;
  size_t n = strlen(v);
  if (n > 0 && n < 20 && rill__parse_int64(v, n, &secs) == RILL_OK)
    return rill_jw_int(w, secs);
  return rill_jw_string(w, v, n);
}

int rill__jw_image(rill_jw *w, const rill_image *img, int data_url) {
  static const char b64[] = ";base64,";
  const char *mime = img->mime_type && *img->mime_type ? img->mime_type
                                                        : "image/png";
  size_t pre = data_url ? 5 + strlen(mime) + sizeof b64 - 1 : 0;
  size_t enc, olen = 0, total;
  unsigned char *buf;
  int rc;
  /* Failures before rill_jw_string go into the writer too: its callers
   * check only the writer's sticky error at the end. */
  if (img->len > (RILL__MAX_BODY / 4) * 3)
    return rill__jw_fail(w, RILL_E_LIMIT);
  enc = 4 * ((img->len + 2) / 3) + 1;
  total = pre + enc;
  buf = rill__malloc(total);
  if (!buf)
    return rill__jw_fail(w, RILL_E_NOMEM);
  if (data_url) {
    memcpy(buf, "data:", 5);
    memcpy(buf + 5, mime, strlen(mime));
    memcpy(buf + 5 + strlen(mime), b64, sizeof b64 - 1);
  }
  if (mbedtls_base64_encode(buf + pre, enc, &olen, img->data, img->len) != 0) {
    rill__free(buf);
    return rill__jw_fail(w, RILL_E_INTERNAL);
  }
  rc = rill_jw_string(w, (const char *)buf, pre + olen);
  rill__free(buf);
  return rc;
}

int rill__jw_tools(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  rill_jw_key(w, "tools", 5);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_tools; i++) {
    const rill_tool *t = &req->tools[i];
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "type", "function");
    rill_jw_key(w, "function", 8);
    rill_jw_object_begin(w);
    rill__jw_kstr(w, "name", t->name);
    if (t->description)
      rill__jw_kstr(w, "description", t->description);
    rill__jw_kraw(w, "parameters",
                  t->parameters_json ? t->parameters_json
                                     : "{\"type\":\"object\",\"properties\":{}}");
    rill_jw_object_end(w);
    rill_jw_object_end(w);
  }
  return rill_jw_array_end(w);
}

int rill__jw_stop(rill_jw *w, const rill_chat_request *req) {
  size_t i;
  rill_jw_key(w, "stop", 4);
  rill_jw_array_begin(w);
  for (i = 0; i < req->n_stop; i++)
    rill_jw_string(w, req->stop[i], strlen(req->stop[i]));
  return rill_jw_array_end(w);
}

int rill__request_body(rill__request *r, rill_jw *w) {
  size_t n;
  const char *s;
  int rc = rill_jw_error(w);
  if (rc != RILL_OK)
    return rc;
  if (!rill_jw_complete(w))
    return RILL_E_INTERNAL;
  s = rill_jw_data(w, &n);
  rill__buf_clear(&r->body);
  rc = rill__buf_append(&r->body, s, n + 1);
  if (rc == RILL_OK)
    r->body.len = n;
  return rc;
}

/* A message: known role, image data where a length is given, named tool
 * calls whose arguments (if any) are a JSON object. */
static int message_ok(const rill_message *m) {
  size_t j;
  if ((unsigned)m->role > RILL_ROLE_TOOL)
    return 0;
  if (m->n_images > 0 && !m->images)
    return 0;
  for (j = 0; j < m->n_images; j++)
    if (m->images[j].len > 0 && !m->images[j].data)
      return 0;
  if (m->n_tool_calls > 0 && !m->tool_calls)
    return 0;
  for (j = 0; j < m->n_tool_calls; j++) {
    const rill_tool_call *tc = &m->tool_calls[j];
    if (!tc->name || !*tc->name)
      return 0;
    if (tc->arguments && *tc->arguments &&
        !rill__is_json_object(tc->arguments))
      return 0;
  }
  return 1;
}

/* Tools: named, parameters (if any) a JSON object; stop strings not NULL. */
static int tools_and_stops_ok(const rill_chat_request *req) {
  size_t i;
  if (req->n_tools > 0 && !req->tools)
    return 0;
  for (i = 0; i < req->n_tools; i++) {
    const rill_tool *t = &req->tools[i];
    if (!t->name || !*t->name)
      return 0;
    if (t->parameters_json && !rill__is_json_object(t->parameters_json))
      return 0;
  }
  if (req->n_stop > 0 && !req->stop)
    return 0;
  for (i = 0; i < req->n_stop; i++)
    if (!req->stop[i])
      return 0;
  return 1;
}

int rill__chat_request_check(const rill_chat_request *req) {
  size_t i;
  if (!req->model || !*req->model)
    return RILL_E_INVALID;
  if (req->n_messages > 0 && !req->messages)
    return RILL_E_INVALID;
  if (req->n_messages == 0 && !(req->prompt && *req->prompt))
    return RILL_E_INVALID;
  for (i = 0; i < req->n_messages; i++)
    if (!message_ok(&req->messages[i]))
      return RILL_E_INVALID;
  if (!tools_and_stops_ok(req))
    return RILL_E_INVALID;
  if ((unsigned)req->think > RILL_THINK_OFF ||
      (unsigned)req->format > RILL_FORMAT_JSON_SCHEMA)
    return RILL_E_INVALID;
  if (req->format == RILL_FORMAT_JSON_SCHEMA &&
      !rill__is_json_object(req->json_schema))
    return RILL_E_INVALID;
  return RILL_OK;
}

/* ---- failures ---------------------------------------------------------- */

int rill__pdec_fail(rill__pdec *d, int code, long http_status,
                    const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->errmsg, sizeof d->errmsg, fmt, ap);
  va_end(ap);
  rill__stream_fail(d->base.stream, code, http_status, "%s", d->errmsg);
  return code;
}

int rill__pdec_bad_json(rill__pdec *d, int rc, const rill_json_error *err,
                        const char *what) {
  if (rc == RILL_E_JSON)
    return rill__pdec_fail(d, RILL_E_JSON, 0,
                           "malformed JSON in %s: %s at byte %zu", what,
                           err->reason ? err->reason : "invalid",
                           err->offset);
  if (rc == RILL_E_LIMIT)
    return rill__pdec_fail(d, RILL_E_LIMIT, 0,
                           "%s has too many JSON tokens", what);
  return rill__pdec_fail(d, rc, 0, "cannot read %s: %s", what,
                         rill_strerror(rc));
}

/* Copy s[0..n) into out (cap bytes), cut at a UTF-8 boundary, with control
 * characters turned into spaces. */
static void put_cut(char *out, size_t cap, const char *s, size_t n) {
  size_t i;
  if (cap == 0)
    return;
  if (n > cap - 1) {
    n = cap - 1;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
  }
  out[n] = '\0';
}

void rill__error_member_message(const rill__json *js, int i, char *out,
                                size_t cap) {
  rill__buf tmp;
  int m = i;
  if (cap == 0)
    return;
  out[0] = '\0';
  if (rill__json_is_object(js, i)) {
    m = rill__json_getz(js, i, "message");
    if (m < 0 || !rill__json_is_string(js, m)) {
      int t = rill__json_getz(js, i, "type");
      m = (t >= 0 && rill__json_is_string(js, t)) ? t : -1;
    }
  }
  if (m < 0 || !rill__json_is_string(js, m))
    return;
  rill__buf_init(&tmp, NULL, (size_t)64 << 10);
  if (rill__json_unescape(js, m, &tmp) == RILL_OK)
    put_cut(out, cap, tmp.data ? tmp.data : "", tmp.len);
  else {
    size_t n;
    const char *raw = rill__json_raw(js, m, &n);
    put_cut(out, cap, raw ? raw : "", raw ? n : 0);
  }
  rill__buf_release(&tmp);
}

void rill__error_body_message(rill__json *js, const char *body, size_t len,
                              rill__buf *msg) {
  char out[RILL__PROVIDER_MSG_MAX + 1];
  size_t n;
  out[0] = '\0';
  if (len > 0 && rill__json_parse(js, body, len, NULL) == RILL_OK &&
      rill__json_is_object(js, 0)) {
    static const char *const keys[] = {"error", "message", "detail"};
    size_t k;
    for (k = 0; k < 3 && !out[0]; k++) {
      int i = rill__json_getz(js, 0, keys[k]);
      if (i >= 0)
        rill__error_member_message(js, i, out, sizeof out);
    }
  }
  if (!out[0]) {
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' ||
                       body[len - 1] == ' '))
      len--;
    put_cut(out, sizeof out, body ? body : "", body ? len : 0);
  }
  n = strlen(out);
  if (n > 0)
    (void)rill__buf_append(msg, out, n);
}

/* ---- callbacks and the chat decoder ------------------------------------ */

void rill__copy_callbacks(rill_chat_callbacks *dst,
                          const rill_chat_callbacks *src) {
  size_t n;
  memset(dst, 0, sizeof *dst);
  if (!src)
    return;
  n = src->size < sizeof *dst ? src->size : sizeof *dst;
  memcpy(dst, src, n);
  dst->size = sizeof *dst;
}

void rill__chatdec_init(rill__chatdec *d, const rill__decoder_ops *ops,
                        const rill_chat_callbacks *cb) {
  memset(d, 0, sizeof *d);
  d->p.base.ops = ops;
  rill__copy_callbacks(&d->cb, cb);
  d->finish = RILL_FINISH_NONE;
  d->usage.input_tokens = -1;
  d->usage.output_tokens = -1;
  d->usage.thinking_tokens = -1;
  rill__json_init(&d->js, NULL, 0);
  d->max_tool_calls = RILL__MAX_TOOL_CALLS;
  d->max_tool_args = RILL__MAX_TOOL_ARGS;
  rill__buf_init(&d->str, NULL, RILL__MAX_STRING);
  rill__buf_init(&d->model, NULL, 1024);
  rill__buf_init(&d->raw_finish, NULL, 256);
}

int rill__request_limits(const rill_limits *l, rill__request *r) {
  if (l->max_record_bytes > RILL_HARD_MAX_RECORD_BYTES ||
      l->max_response_bytes > ((uint64_t)1 << 62) ||
      l->max_error_body_bytes > RILL__ERRBODY_MAX_KEPT ||
      l->max_tool_calls > RILL__HARD_MAX_TOOL_CALLS ||
      l->max_tool_args_bytes > RILL__HARD_MAX_TOOL_ARGS ||
      l->max_json_tokens > RILL__HARD_MAX_JSON_TOKENS ||
      l->low_speed_bytes < 0 || l->low_speed_ms < 0 ||
      (l->low_speed_bytes > 0) != (l->low_speed_ms > 0))
    return RILL_E_INVALID;
  r->max_record = l->max_record_bytes;
  r->max_response = l->max_response_bytes;
  r->max_errbody = l->max_error_body_bytes;
  r->low_speed_bytes = l->low_speed_bytes;
  r->low_speed_ms = l->low_speed_ms;
  return RILL_OK;
}

int rill__chat_limits(const rill_limits *l, rill__request *r,
                      rill__decoder *d) {
  rill__chatdec *cd = (rill__chatdec *)d;
  int rc = rill__request_limits(l, r);
  if (rc != RILL_OK)
    return rc;
  if (l->max_tool_calls)
    cd->max_tool_calls = l->max_tool_calls;
  if (l->max_tool_args_bytes)
    cd->max_tool_args = l->max_tool_args_bytes;
  if (l->max_json_tokens)
    cd->js.max_tokens = (unsigned)l->max_json_tokens;
  return RILL_OK;
}

void rill__chatdec_ready(rill__chatdec *d) {
  rill__pool *pool;
  if (d->p.inited)
    return;
  d->p.inited = 1;
  pool = rill__stream_pool(d->p.base.stream);
  /* Nothing was allocated yet: the buffers only change pools. */
  d->js.pool = pool;
  d->str.pool = pool;
  d->model.pool = pool;
  d->raw_finish.pool = pool;
}

void rill__chatdec_release(rill__chatdec *d) {
  rill__json_release(&d->js);
  rill__buf_release(&d->str);
  rill__buf_release(&d->model);
  rill__buf_release(&d->raw_finish);
}

static int cancelled(rill__chatdec *d) {
  return rill__pdec_fail(&d->p, RILL_E_CANCELLED, 0,
                         "cancelled by the application");
}

int rill__chatdec_str(rill__chatdec *d, int i) {
  int rc;
  rill__buf_clear(&d->str);
  rc = rill__json_unescape(&d->js, i, &d->str);
  if (rc == RILL_OK)
    rc = rill__buf_putc(&d->str, '\0');
  if (rc == RILL_OK) {
    d->str.len--;
    return RILL_OK;
  }
  if (rc == RILL_E_JSON)
    return rill__pdec_fail(&d->p, RILL_E_PROTOCOL, 0,
                           "a string was expected in the server's answer");
  return rill__pdec_fail(&d->p, rc, 0, "cannot unescape a string: %s",
                         rill_strerror(rc));
}

int rill__chatdec_keep(rill__chatdec *d, int i, rill__buf *dst) {
  int rc;
  if (dst->len > 0 || !rill__json_is_string(&d->js, i))
    return RILL_OK;
  rc = rill__json_unescape(&d->js, i, dst);
  if (rc == RILL_OK)
    rc = rill__buf_putc(dst, '\0');
  if (rc == RILL_OK) {
    dst->len--;
    return RILL_OK;
  }
  rill__buf_clear(dst);
  if (rc == RILL_E_LIMIT)
    return RILL_OK; /* an absurdly long model name is just not kept */
  return rill__pdec_fail(&d->p, rc, 0, "%s", rill_strerror(rc));
}

int rill__chatdec_text(rill__chatdec *d, int thinking, const char *s,
                       size_t n) {
  int (*fn)(void *, const char *, size_t);
  if (n == 0)
    return RILL_OK;
  rill__stream_content(d->p.base.stream);
  fn = thinking ? d->cb.on_thinking : d->cb.on_text;
  if (fn && fn(d->cb.user, s, n) != 0)
    return cancelled(d);
  return RILL_OK;
}

int rill__chatdec_text_tok(rill__chatdec *d, int thinking, int i) {
  int rc;
  if (!rill__json_is_string(&d->js, i))
    return RILL_OK;
  rc = rill__chatdec_str(d, i);
  if (rc != RILL_OK)
    return rc;
  return rill__chatdec_text(d, thinking, d->str.data, d->str.len);
}

int rill__chatdec_tool_delta(rill__chatdec *d, size_t index, const char *id,
                             const char *name, const char *args, size_t n) {
  rill__stream_content(d->p.base.stream);
  if (d->cb.on_tool_call_delta &&
      d->cb.on_tool_call_delta(d->cb.user, index, id, name, args ? args : "",
                               n) != 0)
    return cancelled(d);
  return RILL_OK;
}

int rill__chatdec_tool_call(rill__chatdec *d, size_t index, const char *id,
                            const char *name, const char *args, size_t n) {
  rill_tool_call tc;
  if (!args || n == 0) {
    args = "{}";
    n = 2;
  }
  tc.index = index;
  tc.id = id ? id : "";
  tc.name = name ? name : "";
  tc.arguments = args;
  tc.arguments_len = n;
  d->n_calls++;
  rill__stream_content(d->p.base.stream);
  if (d->cb.on_tool_call && d->cb.on_tool_call(d->cb.user, &tc) != 0)
    return cancelled(d);
  return RILL_OK;
}

int rill__chatdec_done(rill__chatdec *d) {
  rill_done done;
  memset(&done, 0, sizeof done);
  done.finish = d->finish;
  done.raw_finish = d->raw_finish.len ? d->raw_finish.data : "";
  done.usage = d->usage;
  done.ttft_ms = rill__stream_ttft_ms(d->p.base.stream);
  done.total_ms = rill__stream_elapsed_ms(d->p.base.stream);
  done.tokens_per_s = d->tokens_per_s;
  if (done.tokens_per_s <= 0 && d->usage.output_tokens > 0 &&
      done.ttft_ms >= 0 && done.total_ms > done.ttft_ms)
    done.tokens_per_s = (double)d->usage.output_tokens /
                        ((done.total_ms - done.ttft_ms) / 1000.0);
  if (done.tokens_per_s < 0)
    done.tokens_per_s = 0;
  done.model = d->model.len ? d->model.data : "";
  d->done_sent = 1;
  rill__stream_complete(d->p.base.stream);
  /* The answer is complete: a non-zero return cannot cancel anything. */
  if (d->cb.on_done)
    (void)d->cb.on_done(d->cb.user, &done);
  return RILL_OK;
}

void rill__chatdec_http_error(rill__decoder *base, long status,
                              const char *body, size_t len, rill__buf *msg) {
  rill__chatdec *d = (rill__chatdec *)base;
  (void)status;
  rill__chatdec_ready(d);
  rill__error_body_message(&d->js, body, len, msg);
}

void rill__chatdec_failure(rill__decoder *base, int code, long http_status,
                           const char *msg) {
  rill__chatdec *d = (rill__chatdec *)base;
  rill_error_info info;
  if (d->done_sent || d->error_sent)
    return;
  d->error_sent = 1;
  if (!d->cb.on_error)
    return;
  info.code = code;
  info.http_status = http_status;
  info.message = (msg && *msg) ? msg
                 : d->p.errmsg[0] ? d->p.errmsg
                                  : rill_strerror(code);
  d->cb.on_error(d->cb.user, &info);
}

rill_finish rill__finish_from(const char *raw, size_t n) {
  if (n == 0)
    return RILL_FINISH_NONE;
  if (n == 4 && !memcmp(raw, "stop", 4))
    return RILL_FINISH_STOP;
  if (n == 6 && !memcmp(raw, "length", 6))
    return RILL_FINISH_LENGTH;
  if ((n == 10 && !memcmp(raw, "tool_calls", 10)) ||
      (n == 13 && !memcmp(raw, "function_call", 13)))
    return RILL_FINISH_TOOL_CALLS;
  if (n == 14 && !memcmp(raw, "content_filter", 14))
    return RILL_FINISH_CONTENT_FILTER;
  return RILL_FINISH_OTHER;
}

int64_t rill__json_member_i64(const rill__json *js, int obj, const char *key) {
  int64_t v;
  int i = rill__json_getz(js, obj, key);
  if (i < 0 || rill__json_int64(js, i, &v) != RILL_OK || v < 0)
    return -1;
  return v;
}

const char *rill__decoder_errmsg(const rill__decoder *d) {
  return d ? ((const rill__pdec *)d)->errmsg : "";
}

/* ---- decoders of whole answers ------------------------------------------ */

int rill__json_first(const rill__json *js, int arr) {
  const jsmntok_t *t = rill__json_tok(js, arr);
  if (!t || t->type != JSMN_ARRAY || t->size <= 0)
    return -1;
  return arr + 1;
}

int rill__json_next(const rill__json *js, int arr, int i) {
  int j = rill__json_skip(js, i);
  const jsmntok_t *t = rill__json_tok(js, j);
  return (t && t->parent == arr) ? j : -1;
}

void rill__mdec_init(rill__mdec *m, const rill__decoder_ops *ops,
                     char *errmsg, size_t errmsg_cap, unsigned max_tokens) {
  memset(m, 0, sizeof *m);
  m->p.base.ops = ops;
  m->errmsg = errmsg;
  m->errmsg_cap = errmsg ? errmsg_cap : 0;
  if (m->errmsg_cap)
    errmsg[0] = '\0';
  rill__json_init(&m->js, NULL, max_tokens);
}

void rill__mdec_ready(rill__mdec *m) {
  if (m->p.inited)
    return;
  m->p.inited = 1;
  m->js.pool = rill__stream_pool(m->p.base.stream);
}

void rill__mdec_release(rill__mdec *m) { rill__json_release(&m->js); }

int rill__mdec_parse(rill__mdec *m, const char *rec, size_t len,
                     const char *what) {
  rill_json_error err = {0, NULL};
  int rc, e;
  rill__mdec_ready(m);
  rc = rill__json_parse(&m->js, rec, len, &err);
  if (rc != RILL_OK)
    return rill__pdec_bad_json(&m->p, rc, &err, what);
  if (!rill__json_is_object(&m->js, 0))
    return rill__pdec_fail(&m->p, RILL_E_PROTOCOL, 0, "%s is not a JSON object",
                           what);
  e = rill__json_getz(&m->js, 0, "error");
  if (e >= 0 && !rill__json_is_null(&m->js, e)) {
    char msg[RILL__PROVIDER_MSG_MAX + 1];
    rill__error_member_message(&m->js, e, msg, sizeof msg);
    return rill__pdec_fail(&m->p, RILL__E_STREAM_ERROR, 200, "%s",
                           msg[0] ? msg : "the server reported an error");
  }
  return RILL_OK;
}

int rill__mdec_end(rill__decoder *d) {
  rill__mdec *m = (rill__mdec *)d;
  if (m->done)
    return RILL_OK;
  return rill__pdec_fail(&m->p, RILL__E_TRUNCATED_STREAM, 0,
                         "truncated stream: the answer ended before it was "
                         "complete");
}

void rill__mdec_http_error(rill__decoder *d, long status, const char *body,
                           size_t len, rill__buf *msg) {
  rill__mdec *m = (rill__mdec *)d;
  (void)status;
  rill__mdec_ready(m);
  rill__error_body_message(&m->js, body, len, msg);
}

void rill__mdec_failure(rill__decoder *d, int code, long http_status,
                        const char *msg) {
  rill__mdec *m = (rill__mdec *)d;
  (void)http_status;
  if (!m->errmsg_cap)
    return;
  if (!msg || !*msg)
    msg = m->p.errmsg[0] ? m->p.errmsg : rill_strerror(code);
  put_cut(m->errmsg, m->errmsg_cap, msg, strlen(msg));
}

void rill__toolcall_init(rill__toolcall *t, rill__pool *pool,
                         size_t args_limit) {
  rill__buf_init(&t->id, pool, 1024);
  rill__buf_init(&t->name, pool, 1024);
  rill__buf_init(&t->args, pool, args_limit);
}

void rill__toolcall_release(rill__toolcall *t) {
  rill__buf_release(&t->id);
  rill__buf_release(&t->name);
  rill__buf_release(&t->args);
}
