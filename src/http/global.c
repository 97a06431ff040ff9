/*
 * global.c — rill_global_init / rill_global_cleanup: install the allocator
 * and hand the same hooks to libcurl (curl_global_init_mem), so that every
 * allocation of a request, rill's and curl's, is counted and can be failed
 * in tests. curl's hooks take no user pointer, hence the trampolines.
 *
 * Only src/http includes curl.
 */
#include <curl/curl.h>
#include <string.h>

#include "core/alloc.h"
#include "core/alloc_hooks.h"
#include "http/internal.h"
#include "rill/alloc.h"
#include "rill/error.h"

static int g_initialised;

/* For rill_client_new (src/http/internal.h). */
int rill__global_initialised(void) { return g_initialised; }

static void *tramp_malloc(size_t n) { return rill__malloc(n); }
static void tramp_free(void *p) { rill__free(p); }
static void *tramp_realloc(void *p, size_t n) { return rill__realloc(p, n); }
static void *tramp_calloc(size_t n, size_t size) { return rill__calloc(n, size); }
static char *tramp_strdup(const char *s) { return rill__strndup(s, strlen(s)); }

int rill_global_init(const rill_allocator *a) {
  if (g_initialised)
    return RILL_E_STATE;
  if (a && (!a->malloc || !a->realloc || !a->free))
    return RILL_E_INVALID;
  rill__alloc_install(a);
  if (curl_global_init_mem(CURL_GLOBAL_DEFAULT, tramp_malloc, tramp_free,
                           tramp_realloc, tramp_strdup,
                           tramp_calloc) != CURLE_OK) {
    rill__alloc_install(NULL);
    return RILL_E_INTERNAL;
  }
  g_initialised = 1;
  return RILL_OK;
}

void rill_global_cleanup(void) {
  if (!g_initialised)
    return;
  curl_global_cleanup();
  rill__alloc_install(NULL);
  g_initialised = 0;
}
