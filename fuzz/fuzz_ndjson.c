/*
 * fuzz_ndjson.c — libFuzzer target for the NDJSON framer.
 *
 * Input layout: byte 0 chooses max_record_bytes (mostly tiny, to hit the
 * limit paths), byte 1 the split pattern and an optional cancel point, the
 * rest is the stream. Differential oracle: the stream is fed whole, in
 * 1-byte pieces, and in the chosen pattern (on a framer reused through
 * rill_ndjson_reset); the three record logs and final states must be
 * identical byte for byte, else __builtin_trap(). Each record is checked
 * too: non-empty, within the limit, no LF, not whitespace-only, line
 * numbers increasing.
 *
 *   build-fuzz/bin/fuzz_ndjson fuzz/corpus/ndjson -max_total_time=60
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
  uint64_t last_line;
  unsigned n_records, cancel_at;
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

static int on_record(void *user, const char *rec, size_t len, uint64_t line) {
  flog *l = user;
  size_t i;
  int blank = 1;
  if (!rec || len == 0 || len > l->max || line <= l->last_line ||
      memchr(rec, '\n', len))
    __builtin_trap();
  for (i = 0; i < len; i++)
    if (rec[i] != ' ' && rec[i] != '\t' && rec[i] != '\r')
      blank = 0;
  if (blank)
    __builtin_trap();
  l->last_line = line;
  put(l, "R", 1);
  put_u64(l, line);
  put_u64(l, len);
  put(l, rec, len);
  l->n_records++;
  return l->cancel_at && l->n_records == l->cancel_at;
}

static size_t pick_max(uint8_t b) {
  if (b < 128)
    return 1 + (size_t)(b % 64);
  if (b < 192)
    return 64 + (size_t)(b - 128) * 16;
  return 0; /* default */
}

static void run(rill_ndjson *p, const char *in, size_t n, int pattern,
                uint8_t split, flog *l) {
  size_t at = 0;
  uint32_t x = 0x9E3779B9u ^ split;
  int rc = RILL_OK;
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
    rc = rill_ndjson_feed(p, in + at, k);
    at += k;
  }
  put(l, "F", 1);
  put_u64(l, (uint64_t)(int64_t)rc);
  if (rc == RILL_OK)
    rc = rill_ndjson_finish(p);
  put_u64(l, (uint64_t)(int64_t)rc);
  put_u64(l, rill_ndjson_error_offset(p));
  if (rill_ndjson_feed(p, "x", 1) == RILL_OK ||
      rill_ndjson_finish(p) == RILL_OK)
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rill_framer_opts o = RILL_FRAMER_OPTS_INIT;
  rill_ndjson *a = NULL, *b = NULL;
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
  la.max = o.max_record_bytes ? o.max_record_bytes
                              : RILL_DEFAULT_MAX_RECORD_BYTES;
  la.cancel_at = (split >> 4) & 3u;
  lb = la;
  lc = la;
  if (rill_ndjson_new(&a, &o, on_record, &la) != RILL_OK ||
      rill_ndjson_new(&b, &o, on_record, &lb) != RILL_OK)
    __builtin_trap();
  run(a, in, n, 0, split, &la);
  run(b, in, n, 1, split, &lb);
  /* Reuse a through reset: its user pointer is &la, so move the first
   * log to lc and give la a fresh one. */
  rill_ndjson_reset(a);
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
  rill_ndjson_free(a);
  rill_ndjson_free(b);
  free(la.s);
  free(lb.s);
  free(lc.s);
  return 0;
}
