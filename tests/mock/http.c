/*
 * http.c — incremental HTTP/1.1 request parser for rill-mock.
 *
 * Fed whatever bytes arrived; consumes what it can and keeps state across
 * calls. Bounded: the head is at most MOCK_MAX_HEAD bytes and
 * MOCK_MAX_HEADERS headers (else 431), the decoded body at most
 * MOCK_MAX_BODY bytes (else 413, decided from Content-Length before any
 * body byte is read, or as chunks arrive). Anything malformed is 400;
 * a Transfer-Encoding other than chunked is 501. Line ends may be CRLF or
 * a bare LF (lenient, as most servers).
 */
#include "mock.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mock_req_reset(mock_req *q) {
  free(q->head);
  free(q->body);
  memset(q, 0, sizeof *q);
}

const char *mock_req_header(const mock_req *q, const char *name,
                            size_t *len) {
  size_t i, n = strlen(name);
  for (i = 0; i < q->n_hdr; i++)
    if (q->hdr[i].name_len == n &&
        !memcmp(q->head + q->hdr[i].name, name, n)) {
      if (len)
        *len = q->hdr[i].value_len;
      return q->head + q->hdr[i].value;
    }
  return NULL;
}

static int is_tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Whether the comma-separated list v[0..n) contains token tok. */
static int list_has(const char *v, size_t n, const char *tok) {
  size_t tl = strlen(tok), i = 0;
  while (i < n) {
    size_t s, e;
    while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
      i++;
    s = i;
    while (i < n && v[i] != ',')
      i++;
    e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
      e--;
    if (e - s == tl && !strncasecmp(v + s, tok, tl))
      return 1;
  }
  return 0;
}

/* Parse the head q->head[0..head_len) (ends with the blank line). */
static int parse_head(mock_req *q) {
  char *h = q->head, *end = q->head + q->head_len, *p, *sp1, *sp2, *eol;
  const char *v;
  size_t vl;
  int chunked = 0, has_len = 0;
  uint64_t clen = 0;
  /* request line: METHOD SP target SP HTTP/1.x */
  eol = memchr(h, '\n', q->head_len);
  if (!eol)
    return 400;
  sp1 = memchr(h, ' ', (size_t)(eol - h));
  if (!sp1 || sp1 == h)
    return 400;
  for (p = h; p < sp1; p++)
    if (!is_tchar((unsigned char)*p))
      return 400;
  sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
  if (!sp2 || sp2 == sp1 + 1)
    return 400;
  for (p = sp1 + 1; p < sp2; p++)
    if ((unsigned char)*p <= 0x20 || *p == 0x7f)
      return 400;
  p = eol > sp2 + 1 && eol[-1] == '\r' ? eol - 1 : eol;
  if (p - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
      sp2[8] < '0' || sp2[8] > '9')
    return sp2[1] == 'H' && !memcmp(sp2 + 1, "HTTP/", 5) ? 505 : 400;
  q->method_len = (size_t)(sp1 - h);
  q->target_off = (size_t)(sp1 + 1 - h);
  q->target_len = (size_t)(sp2 - sp1 - 1);
  q->minor = sp2[8] - '0';
  *sp1 = '\0'; /* method as a C string */
  /* headers */
  p = eol + 1;
  while (p < end) {
    char *colon, *ve, *vs, *c;
    eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      return 400;
    if (eol == p || (eol == p + 1 && *p == '\r'))
      break; /* the blank line */
    if (*p == ' ' || *p == '\t')
      return 400; /* obsolete line folding */
    colon = memchr(p, ':', (size_t)(eol - p));
    if (!colon || colon == p)
      return 400;
    for (c = p; c < colon; c++) {
      if (!is_tchar((unsigned char)*c))
        return 400;
      if (*c >= 'A' && *c <= 'Z')
        *c = (char)(*c - 'A' + 'a');
    }
    vs = colon + 1;
    ve = eol;
    while (vs < ve && (*vs == ' ' || *vs == '\t'))
      vs++;
    while (ve > vs && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    for (c = vs; c < ve; c++)
      if (*c == '\0' || *c == '\r')
        return 400;
    if (q->n_hdr == MOCK_MAX_HEADERS)
      return 431;
    q->hdr[q->n_hdr].name = (uint32_t)(p - h);
    q->hdr[q->n_hdr].name_len = (uint32_t)(colon - p);
    q->hdr[q->n_hdr].value = (uint32_t)(vs - h);
    q->hdr[q->n_hdr].value_len = (uint32_t)(ve - vs);
    q->n_hdr++;
    *colon = '\0';
    *ve = '\0';
    p = eol + 1;
  }
  /* framing */
  q->keep_alive = q->minor >= 1;
  if ((v = mock_req_header(q, "connection", &vl)) != NULL) {
    if (list_has(v, vl, "close"))
      q->keep_alive = 0;
    else if (list_has(v, vl, "keep-alive"))
      q->keep_alive = 1;
  }
  if ((v = mock_req_header(q, "expect", &vl)) != NULL &&
      list_has(v, vl, "100-continue"))
    q->expect_continue = 1;
  {
    size_t i;
    for (i = 0; i < q->n_hdr; i++) {
      const char *name = h + q->hdr[i].name;
      const char *val = h + q->hdr[i].value;
      size_t n = q->hdr[i].value_len, k;
      if (!strcmp(name, "transfer-encoding")) {
        if (n != 7 || strncasecmp(val, "chunked", 7))
          return 501;
        if (chunked)
          return 400;
        chunked = 1;
      } else if (!strcmp(name, "content-length")) {
        uint64_t x = 0;
        if (n == 0 || n > 19)
          return n > 19 ? 413 : 400;
        for (k = 0; k < n; k++) {
          if (val[k] < '0' || val[k] > '9')
            return 400;
          x = x * 10 + (uint64_t)(val[k] - '0');
        }
        if (has_len && x != clen)
          return 400;
        has_len = 1;
        clen = x;
      }
    }
  }
  if (chunked && has_len)
    return 400; /* request smuggling shape: refuse */
  if (chunked) {
    q->state = REQ_CHUNK_SIZE;
  } else if (has_len && clen > 0) {
    if (clen > MOCK_MAX_BODY)
      return 413;
    q->remaining = clen;
    q->state = REQ_BODY_LEN;
  } else {
    q->state = REQ_DONE;
  }
  return 0;
}

static size_t consume(char *in, size_t *len, size_t n) {
  memmove(in, in + n, *len - n);
  *len -= n;
  return n;
}

/* Append n bytes to the body, growing by doubling up to MOCK_MAX_BODY. */
static int body_append(mock_req *q, const char *p, size_t n) {
  if (q->body_len + n > MOCK_MAX_BODY)
    return 413;
  if (q->body_len + n > q->body_cap) {
    size_t cap = q->body_cap ? q->body_cap : 4096;
    char *nb;
    while (cap < q->body_len + n)
      cap *= 2;
    if (cap > MOCK_MAX_BODY)
      cap = MOCK_MAX_BODY;
    nb = realloc(q->body, cap + 1);
    if (!nb)
      return 413;
    q->body = nb;
    q->body_cap = cap;
  }
  memcpy(q->body + q->body_len, p, n);
  q->body_len += n;
  return 0;
}

int mock_req_feed(mock_req *q, char *in, size_t *len) {
  for (;;) {
    switch (q->state) {
    case REQ_HEAD: {
      /* skip empty lines before a request (RFC 9112 2.2), then find the
       * blank line: "\n\r\n" or "\n\n" */
      size_t i, endpos = 0;
      int rc;
      while (*len > 0 && (in[0] == '\r' || in[0] == '\n'))
        consume(in, len, 1);
      for (i = 0; i < *len && i < MOCK_MAX_HEAD; i++) {
        if (in[i] != '\n')
          continue;
        if (i + 1 < *len && in[i + 1] == '\n') {
          endpos = i + 2;
          break;
        }
        if (i + 2 < *len && in[i + 1] == '\r' && in[i + 2] == '\n') {
          endpos = i + 3;
          break;
        }
      }
      if (!endpos)
        return *len >= MOCK_MAX_HEAD ? 431 : 0;
      if (endpos > MOCK_MAX_HEAD)
        return 431;
      q->head = malloc(endpos + 1);
      if (!q->head)
        return 431;
      memcpy(q->head, in, endpos);
      q->head[endpos] = '\0';
      q->head_len = endpos;
      consume(in, len, endpos);
      if ((rc = parse_head(q)) != 0)
        return rc;
      break;
    }
    case REQ_BODY_LEN: {
      size_t n = *len < q->remaining ? *len : (size_t)q->remaining;
      int rc;
      if (n == 0)
        return 0;
      if ((rc = body_append(q, in, n)) != 0)
        return rc;
      q->remaining -= n;
      consume(in, len, n);
      if (q->remaining == 0)
        q->state = REQ_DONE;
      break;
    }
    case REQ_CHUNK_SIZE:
    case REQ_TRAILER: {
      char *eol = memchr(in, '\n', *len);
      size_t i, n;
      uint64_t size = 0;
      if (!eol)
        return *len > 4096 ? 400 : 0;
      n = (size_t)(eol - in) + 1;
      if (q->state == REQ_TRAILER) {
        int blank = n == 1 || (n == 2 && in[0] == '\r');
        consume(in, len, n);
        if (blank)
          q->state = REQ_DONE;
        break;
      }
      for (i = 0; i < n - 1; i++) {
        char c = in[i];
        int d;
        if (c >= '0' && c <= '9')
          d = c - '0';
        else if (c >= 'a' && c <= 'f')
          d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
          d = c - 'A' + 10;
        else
          break;
        if (i >= 15)
          return 413;
        size = size * 16 + (uint64_t)d;
      }
      if (i == 0 || (in[i] != ';' && in[i] != '\r' && in[i] != '\n' &&
                     in[i] != ' ' && in[i] != '\t'))
        return 400;
      if (q->body_len + size > MOCK_MAX_BODY)
        return 413;
      consume(in, len, n);
      q->remaining = size;
      q->state = size ? REQ_CHUNK_DATA : REQ_TRAILER;
      break;
    }
    case REQ_CHUNK_DATA: {
      size_t n = *len < q->remaining ? *len : (size_t)q->remaining;
      int rc;
      if (n == 0)
        return 0;
      if ((rc = body_append(q, in, n)) != 0)
        return rc;
      q->remaining -= n;
      consume(in, len, n);
      if (q->remaining == 0)
        q->state = REQ_CHUNK_CRLF;
      break;
    }
    case REQ_CHUNK_CRLF:
      if (*len == 0)
        return 0;
      if (in[0] == '\n') {
        consume(in, len, 1);
        q->state = REQ_CHUNK_SIZE;
      } else if (in[0] == '\r') {
        if (*len < 2)
          return 0;
        if (in[1] != '\n')
          return 400;
        consume(in, len, 2);
        q->state = REQ_CHUNK_SIZE;
      } else {
        return 400;
      }
      break;
    case REQ_DONE:
      if (q->body)
        q->body[q->body_len] = '\0';
      return 1;
    }
  }
}
