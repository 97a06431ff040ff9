/*
 * ndjson.c — the NDJSON framer (Ollama's streaming format), sans-I/O.
 *
 * Job: cut a byte stream, split anywhere, into records at LF, drop one CR
 * before the LF, skip blank lines (counting them), skip one leading UTF-8
 * BOM, and hand each record to the callback with its 1-based line number.
 * See include/rill/stream.h for the contract.
 *
 * How: memchr for LF (glibc's is SIMD). A record that lies whole in the
 * caller's buffer is handed over in place (a pointer into that buffer);
 * only the unfinished last line of a feed is copied into `tail`.
 *
 * Invariants (between calls):
 *   tail.len <= max + 1, and tail.len == max + 1 only when the tail ends
 *     in a CR (which may be the first half of a CRLF, so not counted yet)
 *   line == number of line ends seen (plus 1 after finish delivered a last
 *     record)
 *   err != 0  =>  no callback is ever made again (until reset)
 *
 * Must not know: JSON (the record is bytes; rill_json_validate and the
 * providers judge it), where the bytes come from, or the transport's ring.
 */
#include "stream/ndjson.h"

#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "stream/opts.h"
#include "rill/error.h"

static const char k_bom[3] = {'\xEF', '\xBB', '\xBF'};

struct rill_ndjson {
  rill_ndjson_record_fn on_record;
  void *user;
  size_t max;     /* max_record_bytes, 1..RILL_HARD_MAX_RECORD_BYTES */
  rill__buf tail; /* unfinished line, without LF; see the invariants */
  uint64_t off;   /* stream offset of the first byte of the current feed */
  uint64_t line;  /* line number of the last line ended */
  uint64_t err_off;
  int err; /* sticky status */
  unsigned char bom_n;    /* leading BOM bytes matched and held back */
  unsigned char bom_done; /* the BOM question is settled */
  unsigned char finished;
};

static int fail(rill_ndjson *p, int rc, uint64_t at) {
  p->err = rc;
  p->err_off = at;
  return rc;
}

int rill__ndjson_new_pooled(rill_ndjson **out, const rill_framer_opts *opts,
                            rill_ndjson_record_fn on_record, void *user,
                            rill__pool *pool) {
  size_t max = 0;
  rill_ndjson *p;
  int rc;
  if (!out)
    return RILL_E_INVALID;
  *out = NULL;
  if (!on_record)
    return RILL_E_INVALID;
  rc = rill__framer_read_opts(opts, &max);
  if (rc != RILL_OK)
    return rc;
  p = rill__malloc(sizeof *p);
  if (!p)
    return RILL_E_NOMEM;
  memset(p, 0, sizeof *p);
  p->on_record = on_record;
  p->user = user;
  p->max = max;
  /* +1: a CR may wait at the end for the LF that makes it a CRLF. */
  rill__buf_init(&p->tail, pool, max + 1);
  rill__buf_first_block(&p->tail, RILL__FRAMER_FIRST_BLOCK);
  *out = p;
  return RILL_OK;
}

int rill_ndjson_new(rill_ndjson **out, const rill_framer_opts *opts,
                    rill_ndjson_record_fn on_record, void *user) {
  return rill__ndjson_new_pooled(out, opts, on_record, user, NULL);
}

void rill_ndjson_free(rill_ndjson *p) {
  if (!p)
    return;
  rill__buf_release(&p->tail);
  rill__free(p);
}

void rill_ndjson_reset(rill_ndjson *p) {
  if (!p)
    return;
  p->tail.len = 0;
  p->off = 0;
  p->line = 0;
  p->err_off = 0;
  p->err = RILL_OK;
  p->bom_n = 0;
  p->bom_done = 0;
  p->finished = 0;
}

static int is_blank(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
      return 0;
  return 1;
}

/* A complete line s[0..n) (without its LF; a CR before it still there),
 * starting at stream offset line_off; end_off is the offset just past its
 * line end (or the stream's end). */
static int record(rill_ndjson *p, const char *s, size_t n, uint64_t line_off,
                  uint64_t end_off) {
  if (n && s[n - 1] == '\r')
    n--;
  if (n > p->max)
    return fail(p, RILL_E_LIMIT, line_off + p->max);
  p->line++;
  if (n == 0 || is_blank(s, n))
    return RILL_OK;
  if (p->on_record(p->user, s, n, p->line))
    return fail(p, RILL_E_CANCELLED, end_off);
  return RILL_OK;
}

/* Bytes of a line whose LF is not in this feed. line_off: offset of the
 * line's first byte. */
static int tail_add(rill_ndjson *p, const char *s, size_t n,
                    uint64_t line_off) {
  size_t total;
  int rc;
  if (n == 0)
    return RILL_OK;
  if (n > p->max + 1 - p->tail.len)
    return fail(p, RILL_E_LIMIT, line_off + p->max);
  total = p->tail.len + n;
  if (total == p->max + 1 && s[n - 1] != '\r')
    return fail(p, RILL_E_LIMIT, line_off + p->max);
  rc = rill__buf_append(&p->tail, s, n);
  if (rc != RILL_OK)
    return fail(p, rc, line_off + p->tail.len);
  return RILL_OK;
}

/* Match EF BB BF at the stream start, possibly across feeds; a partial
 * match is replayed as record bytes on a mismatch. *held: every byte up to
 * end may still be part of the BOM (nothing else to do). */
static int skip_bom(rill_ndjson *p, const char **qp, const char *end,
                    int *held) {
  const char *q = *qp;
  while (p->bom_n < 3 && q < end && *q == k_bom[p->bom_n]) {
    p->bom_n++;
    q++;
  }
  *qp = q;
  if (p->bom_n == 3) {
    p->bom_done = 1;
  } else if (q < end) {
    p->bom_done = 1;
    return tail_add(p, k_bom, p->bom_n, 0); /* replay a partial match */
  } else {
    *held = 1;
  }
  return RILL_OK;
}

/* The line q[0..n) at offset q_off, its '\n' at q[n]: joined to the tail
 * held from earlier feeds, if any, and handed to record(). */
static int complete_line(rill_ndjson *p, const char *q, size_t n,
                         uint64_t q_off) {
  int rc;
  if (p->tail.len) {
    uint64_t line_off = q_off - p->tail.len;
    size_t total = p->tail.len + n;
    char last = n ? q[n - 1] : p->tail.data[p->tail.len - 1];
    if (total - (size_t)(last == '\r') > p->max)
      return fail(p, RILL_E_LIMIT, line_off + p->max);
    rc = rill__buf_append(&p->tail, q, n);
    if (rc != RILL_OK)
      return fail(p, rc, q_off);
    rc = record(p, p->tail.data, p->tail.len, line_off, q_off + n + 1);
    p->tail.len = 0;
    return rc;
  }
  return record(p, q, n, q_off, q_off + n + 1);
}

int rill_ndjson_feed(rill_ndjson *p, const void *buf, size_t len) {
  const char *s = buf, *q, *end;
  int rc;

  if (!p || (!buf && len))
    return RILL_E_INVALID;
  if (p->err)
    return p->err;
  if (p->finished)
    return RILL_E_STATE;
  if (len == 0)
    return RILL_OK;
  q = s;
  end = s + len;

  if (!p->bom_done) {
    int held = 0;
    rc = skip_bom(p, &q, end, &held);
    if (rc != RILL_OK)
      return rc;
    if (held) {
      p->off += len;
      return RILL_OK;
    }
  }

  while (q < end) {
    const char *nl = memchr(q, '\n', (size_t)(end - q));
    uint64_t q_off = p->off + (uint64_t)(q - s);
    size_t n;
    if (!nl) {
      rc = tail_add(p, q, (size_t)(end - q), q_off - p->tail.len);
      if (rc != RILL_OK)
        return rc;
      break;
    }
    n = (size_t)(nl - q);
    rc = complete_line(p, q, n, q_off);
    if (rc != RILL_OK)
      return rc;
    q = nl + 1;
  }
  p->off += len;
  return RILL_OK;
}

int rill_ndjson_finish(rill_ndjson *p) {
  int rc;
  if (!p)
    return RILL_E_INVALID;
  if (p->err)
    return p->err;
  if (p->finished)
    return RILL_E_STATE;
  p->finished = 1;
  if (!p->bom_done) {
    /* The stream ended inside what looked like a BOM: those bytes are the
     * (whole) last record. */
    p->bom_done = 1;
    rc = tail_add(p, k_bom, p->bom_n, 0);
    if (rc != RILL_OK)
      return rc;
  }
  if (p->tail.len) {
    /* A last record without LF. A CR at its end is dropped as the first
     * half of a CRLF cut by the end of the stream. */
    rc = record(p, p->tail.data, p->tail.len, p->off - p->tail.len, p->off);
    p->tail.len = 0;
    if (rc != RILL_OK)
      return rc;
  }
  return RILL_OK;
}

uint64_t rill_ndjson_error_offset(const rill_ndjson *p) {
  return p && p->err ? p->err_off : 0;
}
