/*
 * scenario.c — read a scenario file (CONTRACT.md) into routes and response
 * templates, with the project's strict JSON reader.
 *
 * Unknown members are errors, so a typo in a test's scenario fails loudly
 * instead of silently serving the default. Files are capped at
 * MOCK_MAX_FILE bytes (the scenario and each body_file).
 */
#include "mock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "json/json.h"
#include "rill/error.h"

typedef struct ctx {
  rill__json d;
  char *err;
  size_t errlen;
  char dir[4096]; /* the scenario's directory, with a trailing '/' */
} ctx;

static int fail(ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(ctx *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, c->errlen, fmt, ap);
  va_end(ap);
  return -1;
}

static char *read_file(const char *path, size_t *len, char *err,
                       size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (!f) {
    snprintf(err, errlen, "cannot open %s", path);
    return NULL;
  }
  for (;;) {
    size_t got;
    if (n == cap) {
      char *nb;
      if (cap >= MOCK_MAX_FILE) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path,
                 MOCK_MAX_FILE);
        free(buf);
        fclose(f);
        return NULL;
      }
      cap = cap ? cap * 2 : 65536;
      if (cap > MOCK_MAX_FILE)
        cap = MOCK_MAX_FILE;
      nb = realloc(buf, cap + 1);
      if (!nb) {
        snprintf(err, errlen, "out of memory");
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  if (!buf)
    buf = malloc(1);
  if (!buf)
    return NULL;
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Unescaped string value of token i, malloc'd and NUL-terminated. */
static char *dup_string(ctx *c, int i, size_t *len) {
  rill__buf b;
  char *out;
  rill__buf_init(&b, NULL, MOCK_MAX_FILE);
  if (!rill__json_is_string(&c->d, i) ||
      rill__json_unescape(&c->d, i, &b) != RILL_OK) {
    rill__buf_release(&b);
    return NULL;
  }
  out = malloc(b.len + 1);
  if (out) {
    if (b.len)
      memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    if (len)
      *len = b.len;
  }
  rill__buf_release(&b);
  return out;
}

static int get_string(ctx *c, int obj, const char *key, char **out,
                      size_t *len) {
  int i = rill__json_getz(&c->d, obj, key);
  if (i < 0)
    return 0;
  *out = dup_string(c, i, len);
  if (!*out)
    return fail(c, "\"%s\" must be a string", key);
  return 1;
}

static int get_u64(ctx *c, int obj, const char *key, uint64_t *out) {
  int i = rill__json_getz(&c->d, obj, key);
  if (i < 0)
    return 0;
  if (rill__json_uint64(&c->d, i, out) != RILL_OK)
    return fail(c, "\"%s\" must be a non-negative integer", key);
  return 1;
}

static int get_bool(ctx *c, int obj, const char *key, int *out) {
  int i = rill__json_getz(&c->d, obj, key), v;
  if (i < 0)
    return 0;
  v = rill__json_bool(&c->d, i);
  if (v < 0)
    return fail(c, "\"%s\" must be true or false", key);
  *out = v;
  return 1;
}

/* Reject members other than the allowed ones (typos). */
static int check_keys(ctx *c, int obj, const char *const *allowed,
                      const char *what) {
  const jsmntok_t *t = rill__json_tok(&c->d, obj);
  int j = obj + 1, k;
  for (k = 0; k < t->size; k++) {
    const jsmntok_t *name = rill__json_tok(&c->d, j);
    const char *const *a;
    int ok = 0;
    for (a = allowed; *a && name; a++)
      if (rill__json_str_eq(&c->d, j, *a, strlen(*a)))
        ok = 1;
    if (!ok)
      return fail(c, "%s: unknown member \"%.*s\"", what,
                  name ? name->end - name->start : 0,
                  name ? c->d.text + name->start : "");
    j = rill__json_skip(&c->d, j);
  }
  return 0;
}

static int b64val(int ch) {
  if (ch >= 'A' && ch <= 'Z')
    return ch - 'A';
  if (ch >= 'a' && ch <= 'z')
    return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9')
    return ch - '0' + 52;
  if (ch == '+' || ch == '-')
    return 62;
  if (ch == '/' || ch == '_')
    return 63;
  return -1;
}

/* Decode base64 in place (padding and whitespace ignored). */
static int b64_decode(char *s, size_t *len) {
  size_t i, o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (i = 0; i < *len; i++) {
    int v = b64val((unsigned char)s[i]);
    if (s[i] == '=' || s[i] == '\n' || s[i] == '\r' || s[i] == ' ')
      continue;
    if (v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      s[o++] = (char)((acc >> bits) & 0xff);
    }
  }
  *len = o;
  return 0;
}

static int parse_split(ctx *c, int obj, mock_resp *r) {
  static const char *const keys[] = {"mode", "n", "seed", NULL};
  char *mode = NULL;
  if (!rill__json_is_object(&c->d, obj))
    return fail(c, "\"split\" must be an object");
  if (check_keys(c, obj, keys, "split") < 0)
    return -1;
  if (get_string(c, obj, "mode", &mode, NULL) <= 0)
    return mode ? -1 : fail(c, "split: \"mode\" is required");
  if (!strcmp(mode, "records"))
    r->split = SPLIT_RECORDS;
  else if (!strcmp(mode, "fixed"))
    r->split = SPLIT_FIXED;
  else if (!strcmp(mode, "random"))
    r->split = SPLIT_RANDOM;
  else if (!strcmp(mode, "bytes"))
    r->split = SPLIT_BYTES;
  else if (!strcmp(mode, "none"))
    r->split = SPLIT_NONE;
  else {
    free(mode);
    return fail(c, "split: unknown mode");
  }
  free(mode);
  r->split_n = 7;
  if (get_u64(c, obj, "n", &r->split_n) < 0 ||
      get_u64(c, obj, "seed", &r->seed) < 0)
    return -1;
  if (r->split_n == 0)
    r->split_n = 1;
  if (r->split_n > MOCK_PIECE_MAX)
    r->split_n = MOCK_PIECE_MAX;
  return 0;
}

static int parse_generate(ctx *c, int obj, mock_resp *r) {
  static const char *const keys[] = {"kind",  "bytes", "words", "total",
                                     "model", "done_reason", NULL};
  char *s = NULL;
  gen_params *g = &r->gen;
  if (!rill__json_is_object(&c->d, obj))
    return fail(c, "\"generate\" must be an object");
  if (check_keys(c, obj, keys, "generate") < 0)
    return -1;
  if (get_string(c, obj, "kind", &s, NULL) <= 0)
    return s ? -1 : fail(c, "generate: \"kind\" is required");
  if (!strcmp(s, "ollama_chat"))
    g->kind = GEN_OLLAMA_CHAT;
  else if (!strcmp(s, "openai_chat"))
    g->kind = GEN_OPENAI_CHAT;
  else if (!strcmp(s, "ollama_generate"))
    g->kind = GEN_OLLAMA_GENERATE;
  else if (!strcmp(s, "ollama_pull"))
    g->kind = GEN_OLLAMA_PULL;
  else {
    free(s);
    return fail(c, "generate: unknown kind");
  }
  free(s);
  g->bytes = 1024;
  g->total = 274302450;
  if (get_u64(c, obj, "bytes", &g->bytes) < 0 ||
      get_u64(c, obj, "words", &g->words) < 0 ||
      get_u64(c, obj, "total", &g->total) < 0)
    return -1;
  snprintf(g->model, sizeof g->model, "%s", "mock");
  snprintf(g->done_reason, sizeof g->done_reason, "%s", "stop");
  s = NULL;
  if (get_string(c, obj, "model", &s, NULL) < 0)
    return -1;
  if (s) {
    size_t i, n = strlen(s);
    for (i = 0; i < n; i++)
      if (s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
        break;
    if (i < n || n >= sizeof g->model) {
      free(s);
      return fail(c, "generate: \"model\" must be short and plain");
    }
    memcpy(g->model, s, n + 1);
    free(s);
  }
  s = NULL;
  if (get_string(c, obj, "done_reason", &s, NULL) < 0)
    return -1;
  if (s) {
    size_t i, n = strlen(s);
    for (i = 0; i < n; i++)
      if (!(s[i] >= 'a' && s[i] <= 'z') && s[i] != '_')
        break;
    if (i < n || n >= sizeof g->done_reason || n == 0) {
      free(s);
      return fail(c, "generate: \"done_reason\" must be [a-z_]+");
    }
    memcpy(g->done_reason, s, n + 1);
    free(s);
  }
  return 0;
}

static int append(char **buf, size_t *len, const char *s, size_t n) {
  char *nb = realloc(*buf, *len + n + 1);
  if (!nb)
    return -1;
  memcpy(nb + *len, s, n);
  *len += n;
  nb[*len] = '\0';
  *buf = nb;
  return 0;
}

static int parse_headers(ctx *c, int obj, mock_resp *r) {
  const jsmntok_t *t = rill__json_tok(&c->d, obj);
  int j = obj + 1, k;
  if (!rill__json_is_object(&c->d, obj))
    return fail(c, "\"headers\" must be an object");
  for (k = 0; k < t->size; k++) {
    size_t nl, vl;
    char *name = dup_string(c, j, &nl);
    char *value = dup_string(c, j + 1, &vl);
    int bad = !name || !value;
    if (!bad && (!strcasecmp(name, "content-length") ||
                 !strcasecmp(name, "transfer-encoding")))
      r->raw_framing = 1;
    if (!bad && (append(&r->headers, &r->headers_len, name, nl) ||
                 append(&r->headers, &r->headers_len, ": ", 2) ||
                 append(&r->headers, &r->headers_len, value, vl) ||
                 append(&r->headers, &r->headers_len, "\r\n", 2)))
      bad = 1;
    free(name);
    free(value);
    if (bad)
      return fail(c, "headers: values must be strings");
    j = rill__json_skip(&c->d, j);
  }
  return 0;
}

static int parse_fault(ctx *c, const char *s, mock_resp *r) {
  static const struct {
    const char *name;
    fault_kind kind;
  } tab[] = {{"close_mid_record", FAULT_CLOSE_MID_RECORD},
             {"reset_mid_record", FAULT_RESET_MID_RECORD},
             {"stall", FAULT_STALL},
             {"garbage", FAULT_GARBAGE},
             {"oversize_record", FAULT_OVERSIZE_RECORD},
             {"bad_chunked", FAULT_BAD_CHUNKED},
             {"redirect", FAULT_REDIRECT},
             {"no_done", FAULT_NO_DONE},
             {"none", FAULT_NONE}};
  size_t i;
  for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
    if (!strcmp(s, tab[i].name)) {
      r->fault = tab[i].kind;
      return 0;
    }
  return fail(c, "unknown fault \"%s\"", s);
}

static int parse_resp(ctx *c, int obj, mock_resp *r) {
  static const char *const keys[] = {
      "status",   "headers",  "content_type", "body",
      "body_file", "body_base64", "generate", "chunked",
      "split",    "delay_ms", "first_byte_delay_ms", "fault",
      "fault_bytes", "redirect_to", "close", "close_delimited",
      "http10",   "sse",      "repeat",   "prefix",   "suffix",   NULL};
  uint64_t status = 0;
  char *s = NULL, *file = NULL;
  int i, n_bodies = 0, b;
  memset(r, 0, sizeof *r);
  r->chunked = -1;
  r->sse = -1;
  r->seed = 1;
  r->fault_bytes = MOCK_OVERSIZE_DEFAULT;
  if (!rill__json_is_object(&c->d, obj))
    return fail(c, "each response must be an object");
  if (check_keys(c, obj, keys, "response") < 0)
    return -1;
  if (get_u64(c, obj, "status", &status) < 0)
    return -1;
  if (status != 0 && (status < 100 || status > 999))
    return fail(c, "\"status\" must be 100..999");
  r->status = (int)status;
  if ((i = rill__json_getz(&c->d, obj, "headers")) >= 0 &&
      parse_headers(c, i, r) < 0)
    return -1;
  if (get_string(c, obj, "content_type", &r->content_type, NULL) < 0)
    return -1;
  if ((b = get_string(c, obj, "body", &r->body, &r->body_len)) < 0)
    return -1;
  n_bodies += b;
  if ((b = get_string(c, obj, "body_base64", &s, NULL)) < 0)
    return -1;
  if (b) {
    size_t n = strlen(s);
    if (b64_decode(s, &n) < 0) {
      free(s);
      return fail(c, "\"body_base64\" is not base64");
    }
    free(r->body);
    r->body = s;
    r->body_len = n;
    n_bodies++;
  }
  if ((b = get_string(c, obj, "body_file", &file, NULL)) < 0)
    return -1;
  if (b) {
    char path[8192];
    if (file[0] == '/')
      snprintf(path, sizeof path, "%s", file);
    else
      snprintf(path, sizeof path, "%s%s", c->dir, file);
    free(file);
    free(r->body);
    r->body = read_file(path, &r->body_len, c->err, c->errlen);
    if (!r->body)
      return -1;
    n_bodies++;
  }
  if ((i = rill__json_getz(&c->d, obj, "generate")) >= 0) {
    if (parse_generate(c, i, r) < 0)
      return -1;
    n_bodies++;
  }
  if (n_bodies > 1)
    return fail(c, "use one of body, body_base64, body_file, generate");
  if (get_bool(c, obj, "chunked", &r->chunked) < 0 ||
      get_bool(c, obj, "close", &r->close_after) < 0 ||
      get_bool(c, obj, "close_delimited", &r->close_delimited) < 0 ||
      get_bool(c, obj, "http10", &r->http10) < 0 ||
      get_bool(c, obj, "sse", &r->sse) < 0)
    return -1;
  if ((i = rill__json_getz(&c->d, obj, "split")) >= 0 &&
      parse_split(c, i, r) < 0)
    return -1;
  if (get_u64(c, obj, "repeat", &r->repeat) < 0 ||
      get_string(c, obj, "prefix", &r->prefix, &r->prefix_len) < 0 ||
      get_string(c, obj, "suffix", &r->suffix, &r->suffix_len) < 0)
    return -1;
  if ((r->prefix || r->suffix) && (r->gen.kind != GEN_NONE || !r->body_len))
    return fail(c, "\"prefix\" and \"suffix\" need a non-empty literal body");
  if (r->repeat > 1 && (r->gen.kind != GEN_NONE || !r->body_len))
    return fail(c, "\"repeat\" needs a non-empty literal body");
  if (r->repeat > MOCK_MAX_REPEAT)
    return fail(c, "\"repeat\" must be at most 10^12");
  if (get_u64(c, obj, "delay_ms", &r->delay_ms) < 0 ||
      get_u64(c, obj, "first_byte_delay_ms", &r->first_byte_delay_ms) < 0 ||
      get_u64(c, obj, "fault_bytes", &r->fault_bytes) < 0)
    return -1;
  s = NULL;
  if ((b = get_string(c, obj, "fault", &s, NULL)) < 0)
    return -1;
  if (b) {
    int rc = parse_fault(c, s, r);
    free(s);
    if (rc < 0)
      return -1;
  }
  if (get_string(c, obj, "redirect_to", &r->redirect_to, NULL) < 0)
    return -1;
  if ((r->repeat > 1 || r->prefix || r->suffix) && r->fault != FAULT_NONE)
    return fail(c, "\"repeat\", \"prefix\" and \"suffix\" cannot be "
                   "combined with a fault");
  if (r->fault == FAULT_REDIRECT && !r->redirect_to)
    return fail(c, "fault \"redirect\" needs \"redirect_to\"");
  if (r->redirect_to && strpbrk(r->redirect_to, "\r\n"))
    return fail(c, "\"redirect_to\" must be one line");
  if (r->sse < 0) {
    r->sse = r->gen.kind == GEN_OPENAI_CHAT ||
             (r->content_type && strstr(r->content_type, "event-stream"));
  }
  if (r->http10)
    r->close_after = 1;
  return 0;
}

static void resp_free(mock_resp *r) {
  free(r->prefix);
  free(r->suffix);
  free(r->content_type);
  free(r->headers);
  free(r->body);
  free(r->redirect_to);
}

static int parse_route(ctx *c, int obj, mock_route *rt) {
  static const char *const keys[] = {"method", "path", "responses", NULL};
  int arr, i;
  size_t k;
  if (!rill__json_is_object(&c->d, obj))
    return fail(c, "each route must be an object");
  if (check_keys(c, obj, keys, "route") < 0)
    return -1;
  if (get_string(c, obj, "method", &rt->method, NULL) < 0 ||
      get_string(c, obj, "path", &rt->path, NULL) < 0)
    return -1;
  if (!rt->method && !(rt->method = strdup("*")))
    return fail(c, "out of memory");
  if (!rt->path)
    return fail(c, "route: \"path\" is required");
  arr = rill__json_getz(&c->d, obj, "responses");
  if (!rill__json_is_array(&c->d, arr) ||
      rill__json_tok(&c->d, arr)->size == 0)
    return fail(c, "route %s: \"responses\" must be a non-empty array",
                rt->path);
  rt->n_resp = (size_t)rill__json_tok(&c->d, arr)->size;
  rt->resp = calloc(rt->n_resp, sizeof *rt->resp);
  if (!rt->resp) {
    rt->n_resp = 0;
    return fail(c, "out of memory");
  }
  for (k = 0, i = arr + 1; k < rt->n_resp; k++) {
    if (parse_resp(c, i, &rt->resp[k]) < 0) {
      size_t len = strlen(c->err);
      snprintf(c->err + len, c->errlen - len, " (route %s, response %zu)",
               rt->path, k);
      return -1;
    }
    i = rill__json_skip(&c->d, i);
  }
  return 0;
}

int mock_scenario_load(mock_scenario *sc, const char *path, char *err,
                       size_t errlen) {
  ctx c;
  size_t len = 0, k;
  char *text;
  const char *slash;
  int routes, i, rc;
  rill_json_error je;
  memset(sc, 0, sizeof *sc);
  memset(&c, 0, sizeof c);
  c.err = err;
  c.errlen = errlen;
  slash = strrchr(path, '/');
  if (slash)
    snprintf(c.dir, sizeof c.dir, "%.*s/", (int)(slash - path), path);
  text = read_file(path, &len, err, errlen);
  if (!text)
    return -1;
  rill__json_init(&c.d, NULL, 1u << 20);
  rc = rill__json_parse(&c.d, text, len, &je);
  if (rc != RILL_OK) {
    if (rc == RILL_E_JSON)
      fail(&c, "%s: invalid JSON at byte %zu: %s", path, je.offset,
           je.reason);
    else
      fail(&c, "%s: cannot parse (%d)", path, rc);
    goto bad;
  }
  routes = rill__json_getz(&c.d, 0, "routes");
  {
    static const char *const keys[] = {"routes", NULL};
    if (!rill__json_is_object(&c.d, 0) ||
        check_keys(&c, 0, keys, "scenario") < 0 ||
        !rill__json_is_array(&c.d, routes)) {
      if (!err[0])
        fail(&c, "%s: expected {\"routes\": [...]}", path);
      goto bad;
    }
  }
  sc->n_routes = (size_t)rill__json_tok(&c.d, routes)->size;
  sc->routes = calloc(sc->n_routes ? sc->n_routes : 1, sizeof *sc->routes);
  if (!sc->routes) {
    sc->n_routes = 0;
    fail(&c, "out of memory");
    goto bad;
  }
  for (k = 0, i = routes + 1; k < sc->n_routes; k++) {
    if (parse_route(&c, i, &sc->routes[k]) < 0)
      goto bad;
    i = rill__json_skip(&c.d, i);
  }
  rill__json_release(&c.d);
  free(text);
  return 0;
bad:
  rill__json_release(&c.d);
  free(text);
  mock_scenario_free(sc);
  return -1;
}

void mock_scenario_free(mock_scenario *sc) {
  size_t i, k;
  for (i = 0; i < sc->n_routes; i++) {
    for (k = 0; k < sc->routes[i].n_resp; k++)
      resp_free(&sc->routes[i].resp[k]);
    free(sc->routes[i].resp);
    free(sc->routes[i].method);
    free(sc->routes[i].path);
  }
  free(sc->routes);
  memset(sc, 0, sizeof *sc);
}

mock_route *mock_scenario_match(mock_scenario *sc, const char *method,
                                const char *path, size_t path_len) {
  size_t i;
  for (i = 0; i < sc->n_routes; i++) {
    mock_route *rt = &sc->routes[i];
    size_t pl = strlen(rt->path);
    if (strcmp(rt->method, "*") && strcmp(rt->method, method))
      continue;
    if (!strcmp(rt->path, "*"))
      return rt;
    if (pl > 0 && rt->path[pl - 1] == '*') {
      if (path_len >= pl - 1 && !memcmp(rt->path, path, pl - 1))
        return rt;
    } else if (pl == path_len && !memcmp(rt->path, path, pl)) {
      return rt;
    }
  }
  return NULL;
}
