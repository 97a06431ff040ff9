/*
 * request.c — a provider's description of one HTTP request (rill__request):
 * its URL, body and extra header lines in pooled, capped buffers, and the
 * credential header kept apart so that it can be wiped.
 *
 * Invariants: url is NUL-terminated once set; headers holds n_headers
 * NUL-terminated lines back to back; auth_header, when set, was allocated
 * with rill__malloc and is wiped before it is freed.
 *
 * Must not know: curl, the client, JSON.
 */
#include <string.h>

#include "core/alloc.h"
#include "http/transport.h"
#include "rill/error.h"

#define URL_LIMIT ((size_t)64 << 10)
#define HEADERS_LIMIT ((size_t)256 << 10)
#define BODY_LIMIT ((size_t)1 << 30)

void rill__request_init(rill__request *r, rill__pool *pool) {
  if (!r)
    return;
  memset(r, 0, sizeof *r);
  r->method = "GET";
  rill__buf_init(&r->url, pool, URL_LIMIT);
  rill__buf_init(&r->body, pool, BODY_LIMIT);
  rill__buf_init(&r->headers, pool, HEADERS_LIMIT);
}

void rill__request_release(rill__request *r) {
  if (!r)
    return;
  rill__buf_release(&r->url);
  rill__buf_release(&r->body);
  if (r->headers.data)
    rill__wipe(r->headers.data, r->headers.len);
  rill__buf_release(&r->headers);
  r->n_headers = 0;
  if (r->auth_header) {
    rill__wipe(r->auth_header, strlen(r->auth_header));
    rill__free(r->auth_header);
    r->auth_header = NULL;
  }
}

int rill__request_add_header(rill__request *r, const char *name,
                             const char *value) {
  size_t nl, vl, old;
  int rc;
  if (!r || !name || !value)
    return RILL_E_INVALID;
  nl = strlen(name);
  vl = strlen(value);
  if (nl == 0 || memchr(name, ':', nl) || strpbrk(name, "\r\n") ||
      strpbrk(value, "\r\n"))
    return RILL_E_INVALID;
  old = r->headers.len;
  rc = rill__buf_reserve(&r->headers, nl + vl + 3);
  if (rc != RILL_OK)
    return rc;
  rill__buf_append(&r->headers, name, nl);
  rill__buf_append(&r->headers, ": ", 2);
  rill__buf_append(&r->headers, value, vl);
  rill__buf_putc(&r->headers, '\0');
  if (r->headers.len != old + nl + vl + 3)
    return RILL_E_INTERNAL;
  r->n_headers++;
  return RILL_OK;
}
