/*
 * alloc.c — the one door every rill allocation goes through.
 *
 * Job: forward to the installed allocator (the C library's by default),
 * count bytes in use, the peak and the number of allocations, and fail the
 * N-th allocation on request so tests can walk every failure path (the
 * technique of SQLite's and curl's torture tests).
 *
 * Each block is preceded by a header of one max_align_t that records its
 * requested size; the pointer handed out stays max_align_t-aligned. The
 * counters are relaxed atomics: they are statistics, not synchronisation.
 *
 * Must not know: curl (src/http hands curl these functions), providers.
 */
#include "core/alloc.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc_hooks.h"
#include "rill/alloc.h"
#include "rill/error.h"

typedef union header {
  max_align_t align;
  size_t size;
} header;

#define HDR sizeof(header)

static void *libc_malloc(void *user, size_t n) {
  (void)user;
  return malloc(n);
}
static void *libc_realloc(void *user, void *p, size_t n) {
  (void)user;
  return realloc(p, n);
}
static void libc_free(void *user, void *p) {
  (void)user;
  free(p);
}

static rill_allocator g_alloc = {libc_malloc, libc_realloc, libc_free, NULL};

static _Atomic uint64_t g_in_use;
static _Atomic uint64_t g_peak;
static _Atomic uint64_t g_n_allocs;
static _Atomic uint64_t g_n_frees;
static _Atomic uint64_t g_n_failed;
static _Atomic uint64_t g_attempts;
static _Atomic uint64_t g_fail_at;
static _Atomic int g_fail_mode;

void rill__alloc_install(const rill_allocator *a) {
  if (a) {
    g_alloc = *a;
  } else {
    g_alloc.malloc = libc_malloc;
    g_alloc.realloc = libc_realloc;
    g_alloc.free = libc_free;
    g_alloc.user = NULL;
  }
}

/* Count one attempt; say whether injection wants it to fail. */
static int injected_failure(void) {
  uint64_t n = atomic_fetch_add_explicit(&g_attempts, 1, memory_order_relaxed) + 1;
  uint64_t at = atomic_load_explicit(&g_fail_at, memory_order_relaxed);
  if (at == 0)
    return 0;
  if (atomic_load_explicit(&g_fail_mode, memory_order_relaxed) == RILL_FAIL_FROM)
    return n >= at;
  return n == at;
}

static void count_failure(void) {
  atomic_fetch_add_explicit(&g_n_failed, 1, memory_order_relaxed);
}

static void grow_in_use(uint64_t n) {
  uint64_t now = atomic_fetch_add_explicit(&g_in_use, n, memory_order_relaxed) + n;
  uint64_t peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&g_peak, &peak, now,
                                                memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

static void shrink_in_use(uint64_t n) {
  atomic_fetch_sub_explicit(&g_in_use, n, memory_order_relaxed);
}

void *rill__malloc(size_t size) {
  header *h;
  if (size > SIZE_MAX - HDR) {
    count_failure();
    return NULL;
  }
  if (injected_failure()) {
    count_failure();
    return NULL;
  }
  h = g_alloc.malloc(g_alloc.user, HDR + size);
  if (!h) {
    count_failure();
    return NULL;
  }
  h->size = size;
  grow_in_use(size);
  atomic_fetch_add_explicit(&g_n_allocs, 1, memory_order_relaxed);
  return (char *)h + HDR;
}

void *rill__calloc(size_t nmemb, size_t size) {
  void *p;
  if (size != 0 && nmemb > SIZE_MAX / size) {
    count_failure();
    return NULL;
  }
  p = rill__malloc(nmemb * size);
  if (p)
    memset(p, 0, nmemb * size);
  return p;
}

void *rill__realloc(void *ptr, size_t size) {
  header *old, *h;
  size_t old_size;
  if (!ptr)
    return rill__malloc(size);
  old = (header *)(void *)((char *)ptr - HDR);
  old_size = old->size;
  if (size > SIZE_MAX - HDR) {
    count_failure();
    return NULL;
  }
  /* Shrinking cannot fail in a way worth testing; growing can. */
  if (size > old_size && injected_failure()) {
    count_failure();
    return NULL;
  }
  h = g_alloc.realloc(g_alloc.user, old, HDR + size);
  if (!h) {
    count_failure();
    return NULL;
  }
  h->size = size;
  if (size > old_size) {
    grow_in_use(size - old_size);
    atomic_fetch_add_explicit(&g_n_allocs, 1, memory_order_relaxed);
  } else {
    shrink_in_use(old_size - size);
  }
  return (char *)h + HDR;
}

void rill__free(void *ptr) {
  header *h;
  if (!ptr)
    return;
  h = (header *)(void *)((char *)ptr - HDR);
  shrink_in_use(h->size);
  atomic_fetch_add_explicit(&g_n_frees, 1, memory_order_relaxed);
  g_alloc.free(g_alloc.user, h);
}

char *rill__strndup(const char *s, size_t len) {
  char *p;
  if (len == SIZE_MAX)
    return NULL;
  p = rill__malloc(len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

void rill__wipe(void *p, size_t n) {
  /* A volatile pointer keeps the stores from being optimised away when the
   * buffer is freed right after. */
  volatile unsigned char *v = p;
  while (n--)
    *v++ = 0;
}

int rill_alloc_get_stats(rill_alloc_stats *out) {
  rill_alloc_stats s;
  size_t n;
  if (!out || out->size < offsetof(rill_alloc_stats, bytes_in_use) + sizeof(uint64_t))
    return RILL_E_INVALID;
  n = out->size < sizeof s ? out->size : sizeof s;
  s.size = n;
  s.bytes_in_use = atomic_load_explicit(&g_in_use, memory_order_relaxed);
  s.peak_bytes = atomic_load_explicit(&g_peak, memory_order_relaxed);
  s.n_allocs = atomic_load_explicit(&g_n_allocs, memory_order_relaxed);
  s.n_frees = atomic_load_explicit(&g_n_frees, memory_order_relaxed);
  s.n_failed = atomic_load_explicit(&g_n_failed, memory_order_relaxed);
  memcpy(out, &s, n);
  return RILL_OK;
}

void rill_alloc_reset_peak(void) {
  atomic_store_explicit(&g_peak, atomic_load_explicit(&g_in_use, memory_order_relaxed),
                        memory_order_relaxed);
}

void rill_alloc_fail_at(uint64_t n, rill_fail_mode mode) {
  atomic_store_explicit(&g_fail_mode, (int)mode, memory_order_relaxed);
  atomic_store_explicit(&g_attempts, 0, memory_order_relaxed);
  atomic_store_explicit(&g_fail_at, n, memory_order_relaxed);
}

uint64_t rill_alloc_attempts(void) {
  return atomic_load_explicit(&g_attempts, memory_order_relaxed);
}
