/*
 * rill/alloc.h — allocator hooks, heap statistics and allocation-failure
 * injection.
 *
 * Every byte rill allocates (and, once rill_global_init() has run, every
 * byte libcurl allocates) goes through one allocator. By default it is the C
 * library's; an application may install its own, once, before any other rill
 * call. rill counts what passes through it, so a test can prove that a 1 GiB
 * response costs the same heap as a 1 KiB one, and can fail the N-th
 * allocation to prove that every failure path frees what it took.
 *
 * TLS libraries (OpenSSL behind libcurl, mbedtls) allocate on their own and
 * are outside these hooks.
 */
#ifndef RILL_ALLOC_H
#define RILL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * An application's allocator. All three functions are required.
 * malloc(user, n) and realloc(user, p, n) are never called with n == 0;
 * free(user, NULL) is never called. Memory must be aligned for any type
 * (max_align_t), as malloc's is. The functions may be called from any thread
 * that uses rill (and from libcurl's resolver thread), so they must be
 * thread-safe.
 */
typedef struct rill_allocator {
  void *(*malloc)(void *user, size_t size);
  void *(*realloc)(void *user, void *ptr, size_t size);
  void (*free)(void *user, void *ptr);
  void *user;
} rill_allocator;

/*
 * Initialise rill: install the allocator (NULL: the C library's) and
 * initialise libcurl with the same hooks (curl_global_init_mem).
 * Call it once, before any other rill function and before other threads
 * exist, as with curl_global_init. The framers and the JSON functions work
 * without it; the network functions need it.
 * Ownership: *a is copied; it need not outlive the call.
 * Returns: RILL_OK; RILL_E_STATE if rill is already initialised (call
 * rill_global_cleanup first); RILL_E_INVALID if a member of *a is NULL;
 * RILL_E_INTERNAL if libcurl fails to initialise.
 * Thread: the main thread, while no other thread uses rill or libcurl.
 */
RILL_API int rill_global_init(const rill_allocator *a);

/*
 * Undo rill_global_init: clean up libcurl and go back to the C library's
 * allocator. Every rill handle must have been freed.
 * Thread: the main thread, while no other thread uses rill or libcurl.
 */
RILL_API void rill_global_cleanup(void);

/* Heap statistics since the start of the process (or the last reset). */
typedef struct rill_alloc_stats {
  size_t size;            /* set to sizeof(rill_alloc_stats) by the caller */
  uint64_t bytes_in_use;  /* requested bytes not yet freed */
  uint64_t peak_bytes;    /* highest bytes_in_use since the last peak reset */
  uint64_t n_allocs;      /* successful malloc, calloc and growing reallocs */
  uint64_t n_frees;       /* frees of non-NULL pointers */
  uint64_t n_failed;      /* allocations that returned NULL (real or injected) */
} rill_alloc_stats;

#define RILL_ALLOC_STATS_INIT {sizeof(rill_alloc_stats), 0, 0, 0, 0, 0}

/*
 * Copy the current statistics into *out (only out->size bytes of it).
 * Returns: RILL_OK; RILL_E_INVALID if out is NULL or out->size is too small
 * to hold the first field after size.
 * Thread: any thread; the counters are atomic, the snapshot is not one
 * instant across fields.
 */
RILL_API int rill_alloc_get_stats(rill_alloc_stats *out);

/* Set peak_bytes to the current bytes_in_use. Thread: any thread. */
RILL_API void rill_alloc_reset_peak(void);

/* Modes of rill_alloc_fail_at. */
typedef enum rill_fail_mode {
  RILL_FAIL_ONCE = 1, /* fail only the n-th allocation */
  RILL_FAIL_FROM = 2  /* fail the n-th allocation and every one after it */
} rill_fail_mode;

/*
 * For tests: make the n-th allocation from now on (n >= 1) return NULL, as
 * SQLite's and curl's torture tests do; n == 0 turns injection off. Counting
 * restarts at each call. Allocations by libcurl count too.
 * Thread: any thread; meant for single-threaded tests.
 */
RILL_API void rill_alloc_fail_at(uint64_t n, rill_fail_mode mode);

/*
 * For tests: how many allocations were attempted since the last
 * rill_alloc_fail_at call (whether they failed or not). Run a scenario once
 * with injection off to learn N, then fail each k in 1..N.
 * Thread: any thread.
 */
RILL_API uint64_t rill_alloc_attempts(void);

#ifdef __cplusplus
}
#endif
#endif /* RILL_ALLOC_H */
