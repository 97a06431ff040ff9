/*
 * sse.c — the Server-Sent Events framer (WHATWG HTML, "event stream
 * interpretation"), sans-I/O.
 *
 * Job: turn bytes, split anywhere, into dispatched events, exactly as the
 * WHATWG algorithm does on the whole stream. See include/rill/stream.h for
 * the contract; docs/streaming.md for the memory model.
 *
 * How: each feed scans for the next CR or LF (rill__scan_eol, SIMD) and
 * handles the line between. A line that lies whole in the caller's buffer
 * is handled in place; only the unfinished last line of a feed is copied,
 * into `tail`. The data of an event is kept as a span into the caller's
 * buffer (`pend`) while it is a single data line of the current feed, and
 * copied into `data` only when a second data line arrives or the feed ends
 * before the event does. So the common event ("data: {json}\n\n" whole in
 * one feed) costs one scan, one memcmp and no copy.
 *
 * Invariants (between calls):
 *   tail.len <= max                  the unfinished line, without line end
 *   pend == NULL                     spans into input never outlive a feed
 *   has_data == 0  =>  data.len == 0
 *   data.len <= max                  joined data as the callback sees it
 *   type.len, id.len <= max          (a field value is part of a line)
 *   cr_pending => bom_done           a CR ended the feed's last line
 *   err != 0  =>  no callback is ever made again (until reset)
 *
 * Must not know: where the bytes come from (curl, a file, a test), what
 * the data means (JSON, providers), or how the transport buffers (ring).
 */
#include "stream/sse.h"

#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "stream/opts.h"
#include "rill/error.h"
#include "stream/scan.h"

static const char k_bom[3] = {'\xEF', '\xBB', '\xBF'};
static const char k_message[] = "message";

struct rill_sse {
  rill_sse_event_fn on_event;
  void *user;
  size_t max;     /* max_record_bytes, 1..RILL_HARD_MAX_RECORD_BYTES */
  rill__buf tail; /* unfinished line (no line end); len <= max */
  rill__buf data; /* joined data when not in place; len <= max */
  rill__buf type; /* event type buffer ("" = "message") */
  rill__buf id;   /* last event id buffer; persists across events */
  const char *pend; /* single data line's value, in the current input */
  size_t pend_len;
  uint64_t off;   /* stream offset of the first byte of the current feed */
  uint64_t retry; /* valid when has_retry */
  uint64_t err_off;
  int err;        /* sticky status; RILL_OK while healthy */
  unsigned char has_data;   /* a data line was seen since the last dispatch */
  unsigned char has_retry;
  unsigned char bom_n;      /* leading BOM bytes matched and held back */
  unsigned char bom_done;   /* the BOM question is settled */
  unsigned char cr_pending; /* the last byte fed was a CR that ended a line */
  unsigned char finished;
};

static int fail(rill_sse *p, int rc, uint64_t at) {
  p->err = rc;
  p->err_off = at;
  return rc;
}

int rill__sse_new_pooled(rill_sse **out, const rill_framer_opts *opts,
                         rill_sse_event_fn on_event, void *user,
                         rill__pool *pool) {
  size_t max = 0;
  rill_sse *p;
  int rc;
  if (!out)
    return RILL_E_INVALID;
  *out = NULL;
  if (!on_event)
    return RILL_E_INVALID;
  rc = rill__framer_read_opts(opts, &max);
  if (rc != RILL_OK)
    return rc;
  p = rill__malloc(sizeof *p);
  if (!p)
    return RILL_E_NOMEM;
  memset(p, 0, sizeof *p);
  p->on_event = on_event;
  p->user = user;
  p->max = max;
  rill__buf_init(&p->tail, pool, max);
  rill__buf_init(&p->data, pool, max);
  rill__buf_first_block(&p->tail, RILL__FRAMER_FIRST_BLOCK);
  rill__buf_first_block(&p->data, RILL__FRAMER_FIRST_BLOCK);
  rill__buf_init(&p->type, pool, max);
  rill__buf_init(&p->id, pool, max);
  *out = p;
  return RILL_OK;
}

int rill_sse_new(rill_sse **out, const rill_framer_opts *opts,
                 rill_sse_event_fn on_event, void *user) {
  return rill__sse_new_pooled(out, opts, on_event, user, NULL);
}

void rill_sse_free(rill_sse *p) {
  if (!p)
    return;
  rill__buf_release(&p->tail);
  rill__buf_release(&p->data);
  rill__buf_release(&p->type);
  rill__buf_release(&p->id);
  rill__free(p);
}

static void clear_event(rill_sse *p) {
  p->has_data = 0;
  p->pend = NULL;
  p->pend_len = 0;
  p->data.len = 0;
  p->type.len = 0;
}

void rill_sse_reset(rill_sse *p) {
  if (!p)
    return;
  clear_event(p);
  p->tail.len = 0;
  p->id.len = 0;
  p->off = 0;
  p->retry = 0;
  p->err_off = 0;
  p->err = RILL_OK;
  p->has_retry = 0;
  p->bom_n = 0;
  p->bom_done = 0;
  p->cr_pending = 0;
  p->finished = 0;
}

/* Copy an in-place data span into the data buffer, which is then the only
 * home of the event's data. at: offset for a NOMEM report. */
static int materialize(rill_sse *p, uint64_t at) {
  int rc;
  if (!p->pend)
    return RILL_OK;
  p->data.len = 0;
  rc = rill__buf_append(&p->data, p->pend, p->pend_len);
  if (rc != RILL_OK)
    return fail(p, rc, at);
  p->pend = NULL;
  p->pend_len = 0;
  return RILL_OK;
}

/* The blank line: dispatch the event unless no data line was seen.
 * eol_off is the offset of the CR or LF that ended the blank line. */
static int dispatch(rill_sse *p, uint64_t eol_off) {
  rill_sse_event ev;
  int stop;
  if (!p->has_data) {
    p->type.len = 0;
    return RILL_OK;
  }
  if (p->type.len) {
    ev.type = p->type.data;
    ev.type_len = p->type.len;
  } else {
    ev.type = k_message;
    ev.type_len = sizeof k_message - 1;
  }
  if (p->pend) {
    ev.data = p->pend;
    ev.data_len = p->pend_len;
  } else {
    ev.data = p->data.len ? p->data.data : "";
    ev.data_len = p->data.len;
  }
  ev.id = p->id.len ? p->id.data : "";
  ev.id_len = p->id.len;
  stop = p->on_event(p->user, &ev);
  clear_event(p);
  if (stop)
    return fail(p, RILL_E_CANCELLED, eol_off + 1);
  return RILL_OK;
}

/* A data line's value v[0..n) at stream offset v_off. in_input: v lies in
 * the caller's buffer (may be kept as a span until the feed ends). */
static int add_data(rill_sse *p, const char *v, size_t n, int in_input,
                    uint64_t v_off) {
  size_t have;
  int rc;
  if (!p->has_data) {
    p->has_data = 1;
    if (in_input) {
      p->pend = v;
      p->pend_len = n;
      return RILL_OK;
    }
    rc = rill__buf_append(&p->data, v, n); /* n <= line <= max */
    return rc == RILL_OK ? RILL_OK : fail(p, rc, v_off);
  }
  /* A second data line: the joined data is "have" + '\n' + v. */
  have = p->pend ? p->pend_len : p->data.len;
  if (have >= p->max || n > p->max - have - 1)
    return fail(p, RILL_E_LIMIT,
                have >= p->max ? v_off : v_off + (p->max - have - 1));
  rc = materialize(p, v_off);
  if (rc != RILL_OK)
    return rc;
  rc = rill__buf_reserve(&p->data, n + 1);
  if (rc != RILL_OK)
    return fail(p, rc, v_off);
  p->data.data[p->data.len++] = '\n';
  if (n)
    memcpy(p->data.data + p->data.len, v, n);
  p->data.len += n;
  return RILL_OK;
}

static int is_digits(const char *v, size_t n) {
  size_t i;
  if (n == 0)
    return 0;
  for (i = 0; i < n; i++)
    if (v[i] < '0' || v[i] > '9')
      return 0;
  return 1;
}

static void set_retry(rill_sse *p, const char *v, size_t n) {
  uint64_t ms = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    uint64_t d = (uint64_t)(v[i] - '0');
    if (ms > (UINT64_MAX - d) / 10) {
      ms = UINT64_MAX; /* saturate: a 30-digit retry is "very long" */
      break;
    }
    ms = ms * 10 + d;
  }
  p->retry = ms;
  p->has_retry = 1;
}

/* The field named s[0..name_len) with value v[0..vn), which ends at
 * eol_off; unknown fields are ignored. */
static int field(rill_sse *p, const char *s, size_t name_len, const char *v,
                 size_t vn, int in_input, uint64_t eol_off) {
  int rc;
  switch (name_len) {
  case 4:
    if (memcmp(s, "data", 4) == 0) /* "data" without a colon */
      return add_data(p, v, vn, in_input, eol_off - vn);
    break;
  case 5:
    if (memcmp(s, "event", 5) == 0) {
      p->type.len = 0;
      rc = rill__buf_append(&p->type, v, vn);
      return rc == RILL_OK ? RILL_OK : fail(p, rc, eol_off - vn);
    }
    if (memcmp(s, "retry", 5) == 0) {
      if (is_digits(v, vn))
        set_retry(p, v, vn);
      return RILL_OK;
    }
    break;
  case 2:
    if (memcmp(s, "id", 2) == 0) {
      if (vn && memchr(v, '\0', vn))
        return RILL_OK; /* WHATWG: an id with NUL is ignored */
      p->id.len = 0;
      rc = rill__buf_append(&p->id, v, vn);
      return rc == RILL_OK ? RILL_OK : fail(p, rc, eol_off - vn);
    }
    break;
  default:
    break;
  }
  return RILL_OK; /* unknown field */
}

/* One complete line s[0..n) (without its line end), n <= max.
 * eol_off: offset of the CR or LF that ended it; the line starts at
 * eol_off - n. in_input: s lies in the caller's buffer. */
static int line(rill_sse *p, const char *s, size_t n, int in_input,
                uint64_t eol_off) {
  const char *v, *colon;
  size_t name_len, vn;

  if (n == 0)
    return dispatch(p, eol_off);
  /* The hot path: "data:" at the start of the line. */
  if (n >= 5 && memcmp(s, "data:", 5) == 0) {
    v = s + 5;
    if (v < s + n && *v == ' ')
      v++;
    vn = n - (size_t)(v - s);
    return add_data(p, v, vn, in_input, eol_off - vn);
  }
  if (s[0] == ':')
    return RILL_OK; /* comment */
  colon = memchr(s, ':', n);
  if (colon) {
    name_len = (size_t)(colon - s);
    v = colon + 1;
    if (v < s + n && *v == ' ')
      v++;
  } else {
    name_len = n;
    v = s + n;
  }
  vn = n - (size_t)(v - s);
  return field(p, s, name_len, v, vn, in_input, eol_off);
}

/* Bytes of a line whose end is not in this feed. line_off: offset of the
 * line's first byte (the tail's first byte, if any). */
static int tail_add(rill_sse *p, const char *s, size_t n, uint64_t line_off) {
  int rc;
  if (n > p->max - p->tail.len)
    return fail(p, RILL_E_LIMIT, line_off + p->max);
  rc = rill__buf_append(&p->tail, s, n);
  if (rc != RILL_OK)
    return fail(p, rc, line_off + p->tail.len);
  return RILL_OK;
}

/* Match EF BB BF at the stream start, possibly across feeds; bytes
 * matched so far are held back and replayed on a mismatch. *held: every
 * byte up to end may still be part of the BOM (nothing else to do). */
static int skip_bom(rill_sse *p, const char **qp, const char *end,
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
    if (p->bom_n)
      return tail_add(p, k_bom, p->bom_n, 0);
  } else {
    *held = 1;
  }
  return RILL_OK;
}

/* The line q[0..n) at offset q_off, whose end is in this feed: joined to
 * the tail held from earlier feeds, if any. */
static int complete_line(rill_sse *p, const char *q, size_t n,
                         uint64_t q_off) {
  int rc;
  if (p->tail.len) {
    if (n > p->max - p->tail.len)
      return fail(p, RILL_E_LIMIT, q_off - p->tail.len + p->max);
    rc = rill__buf_append(&p->tail, q, n);
    if (rc != RILL_OK)
      return fail(p, rc, q_off);
    rc = line(p, p->tail.data, p->tail.len, 0, q_off + n);
    p->tail.len = 0;
    return rc;
  }
  if (n > p->max)
    return fail(p, RILL_E_LIMIT, q_off + p->max);
  return line(p, q, n, 1, q_off + n);
}

/* The first byte after the line end at e (CR, LF or CRLF). A CR that is
 * the feed's last byte may be half of a CRLF: the next feed checks. */
static const char *after_eol(rill_sse *p, const char *e, const char *end) {
  if (*e == '\r') {
    if (e + 1 == end)
      p->cr_pending = 1;
    else if (e[1] == '\n')
      e++;
  }
  return e + 1;
}

int rill_sse_feed(rill_sse *p, const void *buf, size_t len) {
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
  if (p->cr_pending) {
    /* The previous feed ended in a CR that ended a line: a LF first here
     * is the second half of that CRLF. */
    p->cr_pending = 0;
    if (q < end && *q == '\n')
      q++;
  }

  while (q < end) {
    const char *e = rill__scan_eol(q, end);
    uint64_t q_off = p->off + (uint64_t)(q - s);
    size_t n = (size_t)(e - q);
    if (e == end) {
      rc = tail_add(p, q, n, q_off - p->tail.len);
      if (rc != RILL_OK)
        return rc;
      break;
    }
    rc = complete_line(p, q, n, q_off);
    if (rc != RILL_OK)
      return rc;
    q = after_eol(p, e, end);
  }
  /* The caller's buffer is gone after this call: keep a copy of an
   * in-place data span whose event is not finished. */
  rc = materialize(p, p->off + len);
  if (rc != RILL_OK)
    return rc;
  p->off += len;
  return RILL_OK;
}

int rill_sse_finish(rill_sse *p) {
  if (!p)
    return RILL_E_INVALID;
  if (p->err)
    return p->err;
  if (p->finished)
    return RILL_E_STATE;
  p->finished = 1;
  /* WHATWG: pending data at the end of the stream is discarded, and so is
   * an unterminated last line (a CR already ended its line). */
  p->tail.len = 0;
  clear_event(p);
  return RILL_OK;
}

uint64_t rill_sse_error_offset(const rill_sse *p) {
  return p && p->err ? p->err_off : 0;
}

int rill_sse_retry(const rill_sse *p, uint64_t *ms) {
  if (!p || !p->has_retry)
    return 0;
  if (ms)
    *ms = p->retry;
  return 1;
}

const char *rill_sse_last_event_id(const rill_sse *p, size_t *len) {
  if (!p || !p->id.len) {
    if (len)
      *len = 0;
    return "";
  }
  if (len)
    *len = p->id.len;
  return p->id.data;
}
