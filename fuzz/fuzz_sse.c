/*
 * fuzz_sse.c — libFuzzer target for the SSE framer.
 *
 * Input layout: byte 0 chooses max_record_bytes (mostly tiny, to hit the
 * limit paths), byte 1 the split pattern and an optional cancel point, the
 * rest is the stream. Differential oracle: the stream is fed whole, in
 * 1-byte pieces, and in the chosen pattern (on a framer reused through
 * rill_sse_reset); the three event logs and final states must be identical
 * byte for byte, else __builtin_trap(). Invariants on each event are
 * checked too (spans within the limit, never NULL).
 *
 *   build-fuzz/bin/fuzz_sse fuzz/corpus/sse -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rill/error.h"
#include "rill/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct flog {
  unsigned char *s;
  size_t len, cap;
  size_t max;
  unsigned n_events, cancel_at;
} flog;

static void put(flog *l, const void *p, size_t n) {
  if (l->len + n > l->cap) {
    size_t cap = l->cap ? l->cap : 1024;
    while (cap < l->len + n)
      cap *= 2;
    l->s = realloc(l->s, cap);
    if (!l->s)
      __builtin_trap();
    l->cap = cap;
  }
  if (n)
    memcpy(l->s + l->len, p, n);
  l->len += n;
}

static void put_u64(flog *l, uint64_t v) { put(l, &v, sizeof v); }

static void put_span(flog *l, const char *p, size_t n) {
  put_u64(l, n);
  put(l, p, n);
}

static int on_event(void *user, const rill_sse_event *ev) {
  flog *l = user;
  int is_default;
  if (!ev->type || !ev->data || !ev->id)
    __builtin_trap();
  /* The default type "message" is not part of the input, so not limited. */
  is_default = ev->type_len == 7 && memcmp(ev->type, "message", 7) == 0;
  if (ev->data_len > l->max || (ev->type_len > l->max && !is_default) ||
      ev->id_len > l->max || ev->type_len == 0)
    __builtin_trap();
  put(l, "E", 1);
  put_span(l, ev->type, ev->type_len);
  put_span(l, ev->data, ev->data_len);
  put_span(l, ev->id, ev->id_len);
  l->n_events++;
  return l->cancel_at && l->n_events == l->cancel_at;
}

static size_t pick_max(uint8_t b) {
  if (b < 128)
    return 1 + (size_t)(b % 64);
  if (b < 192)
    return 64 + (size_t)(b - 128) * 16;
  return 0; /* default */
}

/* Feed in[0..n): pattern 0 whole, 1 single bytes, 2 the split byte's. */
static void run(rill_sse *p, const char *in, size_t n, int pattern,
                uint8_t split, flog *l) {
  size_t at = 0;
  uint32_t x = 0x9E3779B9u ^ split;
  int rc = RILL_OK;
  uint64_t ms = 0;
  size_t id_len = 0;
  const char *id;
  while (at < n && rc == RILL_OK) {
    size_t k;
    if (pattern == 0)
      k = n - at;
    else if (pattern == 1)
      k = 1;
    else if (split & 0x80) {
      /* cut just after each CR and each 0xEF: split CRLFs and BOMs */
      const char *q = in + at;
      k = 1;
      while (at + k < n && q[k - 1] != '\r' && q[k - 1] != '\xEF')
        k++;
    } else {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      k = 1 + x % (1u + (split & 0x3fu) * 4u);
    }
    if (k > n - at)
      k = n - at;
    rc = rill_sse_feed(p, in + at, k);
    at += k;
  }
  put(l, "F", 1);
  put_u64(l, (uint64_t)(int64_t)rc);
  if (rc == RILL_OK)
    rc = rill_sse_finish(p);
  put_u64(l, (uint64_t)(int64_t)rc);
  put_u64(l, rill_sse_error_offset(p));
  put_u64(l, (uint64_t)rill_sse_retry(p, &ms));
  put_u64(l, ms);
  id = rill_sse_last_event_id(p, &id_len);
  put_span(l, id, id_len);
  /* After finish or an error, everything is refused the same way. */
  if (rill_sse_feed(p, "x", 1) == RILL_OK || rill_sse_finish(p) == RILL_OK)
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_sse *a = NULL, *b = NULL;
  flog la, lb, lc;
  const char *in;
  size_t n;
  uint8_t split;
  if (size < 2)
    return 0;
  o.max_record_bytes = pick_max(data[0]);
  split = data[1];
  in = (const char *)data + 2;
  n = size - 2;
  memset(&la, 0, sizeof la);
  la.max = o.max_record_bytes ? o.max_record_bytes : RILL_DEFAULT_MAX_RECORD_BYTES;
  la.cancel_at = (split >> 4) & 3u;
  lb = la;
  lc = la;
  if (rill_sse_new(&a, &o, on_event, &la) != RILL_OK ||
      rill_sse_new(&b, &o, on_event, &lb) != RILL_OK)
    __builtin_trap();
  run(a, in, n, 0, split, &la);
  run(b, in, n, 1, split, &lb);
  /* Reuse a through reset: its user pointer is &la, so move the first
   * log to lc and give la a fresh one. */
  rill_sse_reset(a);
  {
    flog tmp = la;
    la = lc;
    lc = tmp;
  }
  run(a, in, n, 2, split, &la);
  if (la.len != lb.len || lc.len != lb.len ||
      (lb.len && (memcmp(la.s, lb.s, lb.len) != 0 ||
                  memcmp(lc.s, lb.s, lb.len) != 0)))
    __builtin_trap();
  rill_sse_free(a);
  rill_sse_free(b);
  free(la.s);
  free(lb.s);
  free(lc.s);
  return 0;
}
