/*
 * A pool of reusable buffer blocks, so that a stream that ends gives its
 * ring, token array and spill buffer back and the next stream allocates
 * nothing. Blocks come in power-of-two size classes from 256 bytes up; the
 * pool keeps at most max_cached_bytes of idle blocks and frees the rest, so
 * a burst of large records cannot pin memory for ever.
 *
 * A NULL pool is valid everywhere and means "no caching": get allocates,
 * put frees. Thread: a pool is used by one thread at a time (the thread that
 * drives its client).
 */
#ifndef RILL_CORE_POOL_H
#define RILL_CORE_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct rill__pool rill__pool;

typedef struct rill__pool_stats {
  uint64_t gets;          /* rill__pool_get calls that succeeded */
  uint64_t hits;          /* ... served from an idle block */
  uint64_t puts;          /* blocks given back */
  uint64_t dropped;       /* blocks freed at put because the cache was full */
  size_t cached_bytes;    /* idle bytes held now */
  size_t cached_blocks;   /* idle blocks held now */
  size_t outstanding;     /* blocks handed out and not yet put back */
} rill__pool_stats;

#define RILL_POOL_MIN_BLOCK ((size_t)256)
#define RILL_POOL_DEFAULT_CACHE ((size_t)4 << 20)

/* A new pool that caches up to max_cached_bytes idle bytes (0: none).
 * Returns NULL when out of memory. */
rill__pool *rill__pool_new(size_t max_cached_bytes);

/* Free the pool and its idle blocks. Blocks still out must have been put
 * back first (a debug build would leak them otherwise). NULL is a no-op. */
void rill__pool_free(rill__pool *pool);

/* A block of at least want bytes; *got receives its real size (the size
 * class), which the caller must pass back to rill__pool_put. Returns NULL
 * when out of memory or want is larger than SIZE_MAX/2. */
void *rill__pool_get(rill__pool *pool, size_t want, size_t *got);

/* Give a block back. size is the *got of the get. NULL block is a no-op. */
void rill__pool_put(rill__pool *pool, void *block, size_t size);

/* Snapshot of the counters (zeros for a NULL pool). */
void rill__pool_get_stats(const rill__pool *pool, rill__pool_stats *out);

/* The size class that a request for want bytes receives. */
size_t rill__pool_class_size(size_t want);

#endif
