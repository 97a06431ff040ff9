/*
 * ring.c — fixed-capacity byte ring for the unfinished tail of a stream.
 *
 * Invariants: head < cap (or 0 when cap is 0); len <= cap. The block never
 * grows: a full ring tells the producer to wait, which is how the transport
 * keeps a stream's memory constant however fast the server sends.
 */
#include "core/ring.h"

#include <string.h>

#include "rill/error.h"

int rill__ring_init(rill__ring *r, rill__pool *pool, size_t cap) {
  size_t got;
  r->data = NULL;
  r->cap = 0;
  r->head = 0;
  r->len = 0;
  r->pool = pool;
  if (cap == 0)
    return RILL_E_INVALID;
  r->data = rill__pool_get(pool, cap, &got);
  if (!r->data)
    return RILL_E_NOMEM;
  r->cap = got;
  return RILL_OK;
}

void rill__ring_release(rill__ring *r) {
  rill__pool_put(r->pool, r->data, r->cap);
  r->data = NULL;
  r->cap = 0;
  r->head = 0;
  r->len = 0;
}

size_t rill__ring_write(rill__ring *r, const void *src, size_t n) {
  const char *s = src;
  size_t room = r->cap - r->len, tail, first;
  if (n > room)
    n = room;
  if (n == 0)
    return 0;
  tail = r->head + r->len;
  if (tail >= r->cap)
    tail -= r->cap;
  first = r->cap - tail;
  if (first > n)
    first = n;
  memcpy(r->data + tail, s, first);
  if (n > first)
    memcpy(r->data, s + first, n - first);
  r->len += n;
  return n;
}

size_t rill__ring_peek(const rill__ring *r, const char **p) {
  size_t span;
  if (r->len == 0) {
    *p = NULL;
    return 0;
  }
  span = r->cap - r->head;
  *p = r->data + r->head;
  return span < r->len ? span : r->len;
}

size_t rill__ring_copy_out(const rill__ring *r, void *dst, size_t n) {
  char *d = dst;
  size_t first;
  if (n > r->len)
    n = r->len;
  first = r->cap - r->head;
  if (first > n)
    first = n;
  if (first)
    memcpy(d, r->data + r->head, first);
  if (n > first)
    memcpy(d + first, r->data, n - first);
  return n;
}

void rill__ring_consume(rill__ring *r, size_t n) {
  if (n > r->len)
    n = r->len;
  r->len -= n;
  r->head += n;
  if (r->head >= r->cap)
    r->head -= r->cap;
  if (r->len == 0)
    r->head = 0; /* keeps the next write contiguous */
}
