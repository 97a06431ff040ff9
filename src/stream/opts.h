/*
 * The options both framers take: read only opts->size bytes of the
 * caller's struct (an older, shorter struct gets defaults for the rest) and
 * resolve max_record_bytes.
 */
#ifndef RILL_STREAM_OPTS_H
#define RILL_STREAM_OPTS_H

#include <string.h>

#include "rill/error.h"
#include "rill/stream.h"

/* The first block of a framer's tail (and SSE data) buffer. Chat records
 * run from 100 to ~600 bytes, and the last record of a stream (usage,
 * durations) is the longest; with room for them from the start, a buffer
 * never grows during a typical stream, so its memory is the same however
 * the reads happen to split the records. */
#define RILL__FRAMER_FIRST_BLOCK ((size_t)1024)

/* *max receives the effective max_record_bytes. Returns RILL_OK, or
 * RILL_E_INVALID for size 0 or a maximum above the hard limit. */
static inline int rill__framer_read_opts(const rill_framer_opts *opts,
                                         size_t *max) {
  rill_framer_opts o;
  memset(&o, 0, sizeof o);
  if (opts) {
    size_t n = opts->size < sizeof o ? opts->size : sizeof o;
    if (opts->size == 0)
      return RILL_E_INVALID;
    memcpy(&o, opts, n);
  }
  if (o.max_record_bytes > RILL_HARD_MAX_RECORD_BYTES)
    return RILL_E_INVALID;
  *max = o.max_record_bytes ? o.max_record_bytes
                            : RILL_DEFAULT_MAX_RECORD_BYTES;
  return RILL_OK;
}

#endif
