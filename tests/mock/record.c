/*
 * record.c — the request log behind GET /__mock/requests.
 *
 * Bounded: the newest MOCK_REC_MAX requests, each body cut to MOCK_REC_BODY
 * bytes (the entry then says "body_truncated":true and the full
 * "body_bytes"), and at most MOCK_REC_TOTAL bytes for all entries (heads
 * plus bodies); the oldest entries go first. "dropped" in /__mock/stats
 * counts the entries evicted.
 */
#include "mock.h"

#include <stdlib.h>
#include <string.h>

#include "rill/error.h"
#include "rill/json.h"

typedef struct rec {
  char *head;            /* copy of the parsed head (NULs inside) */
  size_t head_len;
  size_t method_len, target_off, target_len;
  mock_hdr *hdr;
  size_t n_hdr;
  char *body;
  size_t body_len;       /* kept bytes */
  size_t body_bytes;     /* received bytes */
  uint64_t conn;
  uint64_t seq;
} rec;

static rec g_ring[MOCK_REC_MAX];
static size_t g_first, g_count, g_bytes;
static uint64_t g_seq;
uint64_t mock_rec_dropped;

static size_t rec_size(const rec *r) {
  return r->head_len + r->body_len + r->n_hdr * sizeof(mock_hdr);
}

static void drop_oldest(void) {
  rec *r = &g_ring[g_first];
  g_bytes -= rec_size(r);
  free(r->head);
  free(r->hdr);
  free(r->body);
  memset(r, 0, sizeof *r);
  g_first = (g_first + 1) % MOCK_REC_MAX;
  g_count--;
  mock_rec_dropped++;
}

void mock_rec_add(const mock_req *q, uint64_t conn_id) {
  rec r;
  size_t keep = q->body_len < MOCK_REC_BODY ? q->body_len : MOCK_REC_BODY;
  memset(&r, 0, sizeof r);
  r.head = malloc(q->head_len + 1);
  r.hdr = malloc((q->n_hdr ? q->n_hdr : 1) * sizeof(mock_hdr));
  r.body = malloc(keep + 1);
  if (!r.head || !r.hdr || !r.body) {
    free(r.head);
    free(r.hdr);
    free(r.body);
    mock_rec_dropped++;
    return;
  }
  memcpy(r.head, q->head, q->head_len + 1);
  r.head_len = q->head_len;
  r.method_len = q->method_len;
  r.target_off = q->target_off;
  r.target_len = q->target_len;
  memcpy(r.hdr, q->hdr, q->n_hdr * sizeof(mock_hdr));
  r.n_hdr = q->n_hdr;
  if (keep)
    memcpy(r.body, q->body, keep);
  r.body_len = keep;
  r.body_bytes = q->body_len;
  r.conn = conn_id;
  r.seq = ++g_seq;
  while (g_count > 0 &&
         (g_count == MOCK_REC_MAX || g_bytes + rec_size(&r) > MOCK_REC_TOTAL))
    drop_oldest();
  g_ring[(g_first + g_count) % MOCK_REC_MAX] = r;
  g_count++;
  g_bytes += rec_size(&r);
}

void mock_rec_clear(void) {
  while (g_count > 0)
    drop_oldest();
  mock_rec_dropped = 0;
  g_seq = 0;
  g_first = 0;
}

void mock_rec_free(void) { mock_rec_clear(); }

size_t mock_rec_count(void) { return g_count; }

char *mock_rec_json(size_t *len) {
  rill_jw *w = NULL;
  size_t i, n;
  const char *data;
  char *out;
  /* Escaping can grow a body six-fold; the log is capped at 64 MiB. */
  if (rill_jw_new(&w, (size_t)1 << 30) != RILL_OK)
    return NULL;
  rill_jw_array_begin(w);
  for (i = 0; i < g_count; i++) {
    const rec *r = &g_ring[(g_first + i) % MOCK_REC_MAX];
    const char *target = r->head + r->target_off, *q;
    size_t path_len = r->target_len, k;
    q = memchr(target, '?', r->target_len);
    if (q)
      path_len = (size_t)(q - target);
    rill_jw_object_begin(w);
    rill_jw_key(w, "seq", 3);
    rill_jw_uint(w, r->seq);
    rill_jw_key(w, "conn", 4);
    rill_jw_uint(w, r->conn);
    rill_jw_key(w, "method", 6);
    rill_jw_string(w, r->head, r->method_len);
    rill_jw_key(w, "path", 4);
    rill_jw_string(w, target, path_len);
    rill_jw_key(w, "query", 5);
    if (q)
      rill_jw_string(w, q + 1, r->target_len - path_len - 1);
    else
      rill_jw_string(w, "", 0);
    rill_jw_key(w, "headers", 7);
    rill_jw_object_begin(w);
    for (k = 0; k < r->n_hdr; k++) {
      rill_jw_key(w, r->head + r->hdr[k].name, r->hdr[k].name_len);
      rill_jw_string(w, r->head + r->hdr[k].value, r->hdr[k].value_len);
    }
    rill_jw_object_end(w);
    rill_jw_key(w, "body", 4);
    rill_jw_string(w, r->body, r->body_len);
    rill_jw_key(w, "body_bytes", 10);
    rill_jw_uint(w, r->body_bytes);
    if (r->body_len < r->body_bytes) {
      rill_jw_key(w, "body_truncated", 14);
      rill_jw_bool(w, 1);
    }
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  if (rill_jw_error(w) != RILL_OK) {
    rill_jw_free(w);
    return NULL;
  }
  data = rill_jw_data(w, &n);
  out = malloc(n + 1);
  if (out) {
    memcpy(out, data, n + 1);
    *len = n;
  }
  rill_jw_free(w);
  return out;
}
