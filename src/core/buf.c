/*
 * buf.c — a capped, pooled, growable byte buffer.
 *
 * Invariants: len <= cap; len <= limit; data is NULL exactly when cap is 0.
 * Growth doubles (amortised O(1) appends) but never asks for more than the
 * limit needs, so a buffer capped at 8 MiB never holds a 16 MiB block.
 */
#include "core/buf.h"

#include <string.h>

#include "rill/error.h"

void rill__buf_init(rill__buf *b, rill__pool *pool, size_t limit) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->limit = limit;
  b->first = 0;
  b->pool = pool;
}

int rill__buf_reserve(rill__buf *b, size_t extra) {
  size_t need, want, got;
  char *block;
  if (extra > b->limit - b->len)
    return RILL_E_LIMIT;
  need = b->len + extra;
  if (need <= b->cap)
    return RILL_OK;
  want = b->cap ? b->cap
               : (b->first > RILL_POOL_MIN_BLOCK ? b->first : RILL_POOL_MIN_BLOCK);
  while (want < need)
    want = want > SIZE_MAX / 2 ? need : want * 2;
  /* Do not take a class above what the limit can ever use. */
  if (want > b->limit && rill__pool_class_size(b->limit) >= need)
    want = b->limit;
  block = rill__pool_get(b->pool, want, &got);
  if (!block)
    return RILL_E_NOMEM;
  if (b->len)
    memcpy(block, b->data, b->len);
  rill__pool_put(b->pool, b->data, b->cap);
  b->data = block;
  b->cap = got;
  return RILL_OK;
}

int rill__buf_append(rill__buf *b, const void *src, size_t n) {
  int rc;
  if (n == 0)
    return RILL_OK;
  rc = rill__buf_reserve(b, n);
  if (rc != RILL_OK)
    return rc;
  memcpy(b->data + b->len, src, n);
  b->len += n;
  return RILL_OK;
}

int rill__buf_putc(rill__buf *b, char c) {
  if (b->len < b->cap && b->len < b->limit) {
    b->data[b->len++] = c;
    return RILL_OK;
  }
  return rill__buf_append(b, &c, 1);
}

void rill__buf_release(rill__buf *b) {
  rill__pool_put(b->pool, b->data, b->cap);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}
