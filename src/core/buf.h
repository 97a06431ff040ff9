/*
 * A growable byte buffer whose blocks come from a pool and whose size is
 * capped: growing past the limit fails with RILL_E_LIMIT instead of eating
 * the heap. Used for the framers' unfinished tail, for JSON output and for
 * unescaped strings.
 */
#ifndef RILL_CORE_BUF_H
#define RILL_CORE_BUF_H

#include <stddef.h>

#include "core/pool.h"

typedef struct rill__buf {
  char *data;       /* NULL until the first reserve */
  size_t len;       /* bytes used */
  size_t cap;       /* bytes in the block */
  size_t limit;     /* len may never exceed this */
  size_t first;     /* size of the first block (0: the pool's smallest) */
  rill__pool *pool; /* may be NULL */
} rill__buf;

/* An empty buffer; nothing is allocated until the first reserve. */
void rill__buf_init(rill__buf *b, rill__pool *pool, size_t limit);

/* Make the first block at least n bytes (capped by the limit), for a
 * buffer whose typical content is known: a stream's records then never
 * grow it, and its size does not depend on where reads split them. */
static inline void rill__buf_first_block(rill__buf *b, size_t n) {
  b->first = n;
}

/* Make room for extra more bytes after len.
 * Returns RILL_OK, RILL_E_LIMIT (len + extra > limit: nothing changes) or
 * RILL_E_NOMEM (nothing changes). */
int rill__buf_reserve(rill__buf *b, size_t extra);

/* Append n bytes (reserve + copy). Same returns as reserve. */
int rill__buf_append(rill__buf *b, const void *src, size_t n);

/* Append one byte. */
int rill__buf_putc(rill__buf *b, char c);

/* Forget the contents, keep the block. */
static inline void rill__buf_clear(rill__buf *b) { b->len = 0; }

/* Give the block back to the pool; the buffer is empty and reusable. */
void rill__buf_release(rill__buf *b);

#endif
