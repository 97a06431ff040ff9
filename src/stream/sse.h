/*
 * Internal: the SSE framer's constructor for the transport, which gives it
 * the stream's buffer pool. The public API is in include/rill/stream.h.
 */
#ifndef RILL_STREAM_SSE_H
#define RILL_STREAM_SSE_H

#include "core/pool.h"
#include "rill/stream.h"

/* As rill_sse_new, but every buffer block comes from pool (NULL: none).
 * The pool must outlive the framer. */
int rill__sse_new_pooled(rill_sse **out, const rill_framer_opts *opts,
                         rill_sse_event_fn on_event, void *user,
                         rill__pool *pool);

#endif
