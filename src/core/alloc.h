/*
 * Internal allocation entry points. Every allocation in rill goes through
 * these so that rill_alloc_get_stats() sees it and rill_alloc_fail_at() can
 * fail it. Never call malloc/free directly in src/ or providers/.
 *
 * Each block carries a small header holding its size, so frees can be
 * counted without asking the application's allocator.
 */
#ifndef RILL_CORE_ALLOC_H
#define RILL_CORE_ALLOC_H

#include <stddef.h>

/* As malloc/calloc/realloc/free. rill__malloc(0) returns a valid unique
 * block (as a 1-byte request would). rill__realloc(NULL, n) is
 * rill__malloc(n); on failure the old block is left untouched.
 * rill__calloc checks nmemb*size for overflow. Thread: any. */
void *rill__malloc(size_t size);
void *rill__calloc(size_t nmemb, size_t size);
void *rill__realloc(void *ptr, size_t size);
void rill__free(void *ptr);

/* A NUL-terminated copy of s[0..len). */
char *rill__strndup(const char *s, size_t len);

/* Zero n bytes in a way the compiler may not remove (for secrets). */
void rill__wipe(void *p, size_t n);

#endif
