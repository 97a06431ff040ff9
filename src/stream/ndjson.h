/*
 * Internal: the NDJSON framer's constructor for the transport, which gives
 * it the stream's buffer pool. The public API is in include/rill/stream.h.
 */
#ifndef RILL_STREAM_NDJSON_H
#define RILL_STREAM_NDJSON_H

#include "core/pool.h"
#include "rill/stream.h"

/* As rill_ndjson_new, but the tail buffer's blocks come from pool (NULL:
 * none). The pool must outlive the framer. */
int rill__ndjson_new_pooled(rill_ndjson **out, const rill_framer_opts *opts,
                            rill_ndjson_record_fn on_record, void *user,
                            rill__pool *pool);

#endif
