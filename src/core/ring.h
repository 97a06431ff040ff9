/*
 * A byte ring of fixed capacity that holds only the unfinished tail of a
 * stream: the producer (curl's write callback) writes what fits, the
 * consumer (a framer) reads contiguous spans and consumes what it has
 * finished with. It never grows; when it is full the producer must stop
 * (curl: pause the transfer) until the consumer catches up.
 *
 * Thread: one thread at a time.
 */
#ifndef RILL_CORE_RING_H
#define RILL_CORE_RING_H

#include <stddef.h>

#include "core/pool.h"

typedef struct rill__ring {
  char *data;
  size_t cap;   /* block size from the pool (>= the requested capacity) */
  size_t head;  /* index of the first unread byte */
  size_t len;   /* unread bytes */
  rill__pool *pool;
} rill__ring;

/* Take a block of at least cap bytes (cap > 0) from pool.
 * Returns RILL_OK, RILL_E_INVALID (cap 0) or RILL_E_NOMEM. */
int rill__ring_init(rill__ring *r, rill__pool *pool, size_t cap);

/* Give the block back. The ring must be re-initialised before reuse. */
void rill__ring_release(rill__ring *r);

static inline size_t rill__ring_free_space(const rill__ring *r) {
  return r->cap - r->len;
}

/* Copy up to n bytes in (wrapping as needed). Returns bytes written, which is
 * less than n when the ring fills. */
size_t rill__ring_write(rill__ring *r, const void *src, size_t n);

/* The longest contiguous span of unread bytes starting at the head; *p is
 * set to it (NULL when empty). Returns its length. */
size_t rill__ring_peek(const rill__ring *r, const char **p);

/* Copy up to n unread bytes out without consuming them. Returns the count. */
size_t rill__ring_copy_out(const rill__ring *r, void *dst, size_t n);

/* Drop n bytes from the head (n <= len). */
void rill__ring_consume(rill__ring *r, size_t n);

/* Drop everything; keep the block. */
static inline void rill__ring_clear(rill__ring *r) { r->head = 0; r->len = 0; }

#endif
