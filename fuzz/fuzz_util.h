/*
 * fuzz_util.h — small helpers shared by the fuzz targets (static inline).
 */
#ifndef RILL_FUZZ_UTIL_H
#define RILL_FUZZ_UTIL_H

#include <stdint.h>
#include <string.h>

#include "rill/alloc.h"
#include "rill/error.h"

/* The library's bytes in use: a target compares it before and after each
 * decoder's life (every byte the library allocated for it came back). */
static inline uint64_t fz_in_use(void) {
  rill_alloc_stats st;
  memset(&st, 0, sizeof st);
  st.size = sizeof st;
  if (rill_alloc_get_stats(&st) != RILL_OK)
    __builtin_trap();
  return st.bytes_in_use;
}

#endif
