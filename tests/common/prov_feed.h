/*
 * prov_feed.h — push recorded provider bytes through the real framer into a
 * sans-I/O decoder, the way the transport does (records or events, then
 * on_end, then on_failure when anything failed). Shared by the provider
 * unit tests (tests/unit/prov_harness.h) and the torture runner
 * (tests/torture), so both exercise the same path.
 *
 * Header-only (static functions): the unit tests include it without
 * linking anything extra.
 */
#ifndef RILL_TEST_PROV_FEED_H
#define RILL_TEST_PROV_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"
#include "rill/error.h"
#include "rill/stream.h"

typedef enum feed_kind { FEED_NDJSON, FEED_SSE, FEED_WHOLE } feed_kind;

typedef struct feed_ctx {
  rill__decoder *d;
  int rc; /* the decoder's first failure */
} feed_ctx;

static int fwd_record(void *u, const char *rec, size_t len, uint64_t line) {
  feed_ctx *f = u;
  (void)line;
  f->rc = f->d->ops->on_record(f->d, rec, len);
  return f->rc != RILL_OK;
}

static int fwd_event(void *u, const rill_sse_event *ev) {
  feed_ctx *f = u;
  f->rc = f->d->ops->on_event(f->d, ev);
  return f->rc != RILL_OK;
}

/* Feed data to d through the framer: whole (piece 0), in pieces of piece
 * bytes, or (split > 0) as [0, split) + [split, len). Runs on_end and, on
 * failure, on_failure, as the transport does; returns the final status.
 * Does not destroy d. */
__attribute__((unused)) static int feed(rill__decoder *d, feed_kind kind,
                                        const char *data, size_t len,
                                        size_t piece, size_t split) {
  feed_ctx f = {d, RILL_OK};
  rill_ndjson *nd = NULL;
  rill_sse *sse = NULL;
  int rc = RILL_OK;
  size_t off = 0;
  if (kind == FEED_WHOLE) {
    rc = d->ops->on_record(d, data, len);
  } else {
    rc = kind == FEED_NDJSON ? rill_ndjson_new(&nd, NULL, fwd_record, &f)
                             : rill_sse_new(&sse, NULL, fwd_event, &f);
    while (rc == RILL_OK && off < len) {
      size_t n = len - off;
      if (split)
        n = off == 0 ? split : len - split;
      else if (piece && n > piece)
        n = piece;
      rc = nd ? rill_ndjson_feed(nd, data + off, n)
              : rill_sse_feed(sse, data + off, n);
      off += n;
    }
    if (rc == RILL_OK)
      rc = nd ? rill_ndjson_finish(nd) : rill_sse_finish(sse);
    if (rc == RILL_E_CANCELLED && f.rc != RILL_OK)
      rc = f.rc;
    rill_ndjson_free(nd);
    rill_sse_free(sse);
  }
  if (rc == RILL_OK)
    rc = d->ops->on_end(d);
  if (rc != RILL_OK)
    d->ops->on_failure(d, rc, 0, rill__decoder_errmsg(d));
  return rc;
}

#endif
