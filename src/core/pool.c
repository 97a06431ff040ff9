/*
 * pool.c — reusable buffer blocks in power-of-two size classes.
 *
 * Why: a streamed request needs a ring, a token array and a spill buffer;
 * a chat front end makes thousands of requests. Taking those blocks from a
 * pool makes every request after the first allocation-free, and bounding
 * the idle bytes keeps one huge record from pinning memory for ever.
 *
 * Invariants: each idle block of class c is exactly class_size(c) bytes and
 * is linked through its first bytes; cached_bytes is the sum of idle block
 * sizes and never exceeds max_cached.
 *
 * Must not know: what the blocks are for.
 */
#include "core/pool.h"

#include <stdint.h>

#include "core/alloc.h"

#define MIN_SHIFT 8 /* 256 bytes */
#define N_CLASSES 48

typedef struct idle_block {
  struct idle_block *next;
} idle_block;

struct rill__pool {
  idle_block *idle[N_CLASSES];
  size_t max_cached;
  rill__pool_stats st;
};

static unsigned class_of(size_t want) {
  unsigned c = 0;
  size_t size = RILL_POOL_MIN_BLOCK;
  while (size < want) {
    size <<= 1;
    c++;
  }
  return c;
}

size_t rill__pool_class_size(size_t want) {
  if (want > SIZE_MAX / 2)
    return 0;
  return RILL_POOL_MIN_BLOCK << class_of(want);
}

rill__pool *rill__pool_new(size_t max_cached_bytes) {
  rill__pool *p = rill__calloc(1, sizeof *p);
  if (p)
    p->max_cached = max_cached_bytes;
  return p;
}

void rill__pool_free(rill__pool *pool) {
  unsigned c;
  if (!pool)
    return;
  for (c = 0; c < N_CLASSES; c++) {
    idle_block *b = pool->idle[c];
    while (b) {
      idle_block *next = b->next;
      rill__free(b);
      b = next;
    }
  }
  rill__free(pool);
}

void *rill__pool_get(rill__pool *pool, size_t want, size_t *got) {
  unsigned c;
  size_t size;
  void *block;
  if (want > SIZE_MAX / 2)
    return NULL;
  c = class_of(want);
  size = RILL_POOL_MIN_BLOCK << c;
  if (pool && c < N_CLASSES && pool->idle[c]) {
    idle_block *b = pool->idle[c];
    pool->idle[c] = b->next;
    pool->st.cached_bytes -= size;
    pool->st.cached_blocks--;
    pool->st.hits++;
    pool->st.gets++;
    pool->st.outstanding++;
    *got = size;
    return b;
  }
  block = rill__malloc(size);
  if (!block)
    return NULL;
  if (pool) {
    pool->st.gets++;
    pool->st.outstanding++;
  }
  *got = size;
  return block;
}

void rill__pool_put(rill__pool *pool, void *block, size_t size) {
  unsigned c;
  if (!block)
    return;
  if (!pool) {
    rill__free(block);
    return;
  }
  pool->st.puts++;
  if (pool->st.outstanding)
    pool->st.outstanding--;
  c = class_of(size);
  /* A size that is not a class size did not come from get: free it. */
  if (c >= N_CLASSES || (RILL_POOL_MIN_BLOCK << c) != size ||
      size > pool->max_cached - pool->st.cached_bytes ||
      pool->st.cached_bytes > pool->max_cached) {
    pool->st.dropped++;
    rill__free(block);
    return;
  }
  ((idle_block *)block)->next = pool->idle[c];
  pool->idle[c] = block;
  pool->st.cached_bytes += size;
  pool->st.cached_blocks++;
}

void rill__pool_get_stats(const rill__pool *pool, rill__pool_stats *out) {
  static const rill__pool_stats zero;
  *out = pool ? pool->st : zero;
}
