/*
 * client.c — the client: one curl multi handle and one share handle
 * (connections, DNS, TLS sessions), a buffer pool, the list of streams, and
 * the drive cycle that both driving modes share.
 *
 * The drive cycle (cycle()): read curl's finished transfers, then look at
 * every stream once: cancel flag, clocks, retry wake-up, pending start. It
 * runs after every curl_multi_perform (private loop) or socket/timeout
 * action (event-loop mode, loop.c). Streams that end are only marked; they
 * are unlinked and freed when the outermost drive call leaves (leave()), so
 * iterating the list is always safe, whatever a callback does.
 *
 * Invariants: depth > 0 while rill is inside curl or application code;
 * the public drive calls refuse to run then. Deadlines are absolute
 * monotonic milliseconds.
 *
 * Must not know: HTTP statuses, framing, decoders (stream.c), the host
 * loop's API beyond rill__loop_* (loop.c).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/internal.h"
#include "rill/error.h"

int64_t rill__now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double rill__now_ms_f(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

uint64_t rill__client_random(void *client) {
  rill_client *c = client;
  uint64_t x = c->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  c->rng = x;
  return x * 0x2545F4914F6CDD1DULL;
}

CURL *rill__client_take_easy(rill_client *c) {
  if (c->n_idle_easy > 0)
    return c->idle_easy[--c->n_idle_easy];
  return curl_easy_init();
}

void rill__client_give_easy(rill_client *c, CURL *e) {
  if (!e)
    return;
  if (c && !c->freeing && c->n_idle_easy < RILL__EASY_CACHE) {
    curl_easy_reset(e);
    c->idle_easy[c->n_idle_easy++] = e;
    return;
  }
  curl_easy_cleanup(e);
}

void rill__client_unlink(rill_client *c, rill_stream *s) {
  if (!s->in_list)
    return;
  if (s->prev)
    s->prev->next = s->next;
  else
    c->streams = s->next;
  if (s->next)
    s->next->prev = s->prev;
  s->next = s->prev = NULL;
  s->in_list = 0;
}

static void free_client_memory(rill_client *c) {
  rill__pool_free(c->pool);
  rill__free(c);
}

/* The caller's options, of whatever size their header had, into o. */
static int read_client_opts(rill_client_opts *o, const rill_client_opts *opts) {
  memset(o, 0, sizeof *o);
  if (opts) {
    if (opts->size == 0)
      return RILL_E_INVALID;
    memcpy(o, opts, opts->size < sizeof *o ? opts->size : sizeof *o);
  }
  if (o->loop && (o->loop->size == 0 || !o->loop->watch_fd || !o->loop->set_timer))
    return RILL_E_INVALID;
  if (o->max_host_connections < 0 || o->max_total_connections < 0)
    return RILL_E_INVALID;
  return RILL_OK;
}

/* Sharing connections makes curl allocate its connection cache here:
 * out of memory is RILL_E_NOMEM, not a refused option. */
static int share_setup(rill_client *c) {
  CURLSHcode sc;
  sc = curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  if (sc == CURLSHE_OK)
    sc = curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  if (sc == CURLSHE_NOMEM)
    return RILL_E_NOMEM;
  return sc == CURLSHE_OK ? RILL_OK : RILL_E_INTERNAL;
}

/* The connection limits and the caller's event loop, if any. */
static int multi_setup(rill_client *c, const rill_client_opts *o) {
  if (o->max_host_connections > 0 &&
      curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                        o->max_host_connections))
    return RILL_E_INTERNAL;
  if (o->max_total_connections > 0 &&
      curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                        o->max_total_connections))
    return RILL_E_INTERNAL;
  if (o->loop) {
    memset(&c->loop, 0, sizeof c->loop);
    memcpy(&c->loop, o->loop,
           o->loop->size < sizeof c->loop ? o->loop->size : sizeof c->loop);
    c->has_loop = 1;
    if (rill__loop_install(c) != RILL_OK)
      return RILL_E_INTERNAL;
  }
  return RILL_OK;
}

/* Everything c owns; on failure the caller frees c, half made. */
static int client_setup(rill_client *c, const rill_client_opts *o) {
  int rc;
  c->pool = rill__pool_new(o->pool_bytes ? o->pool_bytes : RILL_POOL_DEFAULT_CACHE);
  if (!c->pool)
    return RILL_E_NOMEM;
  if (o->ca_file && !(c->ca_file = rill__strndup(o->ca_file, strlen(o->ca_file))))
    return RILL_E_NOMEM;
  c->insecure = o->tls_insecure_skip_verify != 0;
  c->allow_insecure_credentials = o->allow_insecure_credentials != 0;
  c->multi = curl_multi_init();
  c->share = curl_share_init();
  if (!c->multi || !c->share)
    return RILL_E_NOMEM;
  rc = share_setup(c);
  if (rc == RILL_OK)
    rc = multi_setup(c, o);
  return rc;
}

int rill_client_new(rill_client **out, const rill_client_opts *opts) {
  rill_client_opts o;
  rill_client *c;
  int rc;
  if (!out)
    return RILL_E_INVALID;
  *out = NULL;
  rc = read_client_opts(&o, opts);
  if (rc != RILL_OK)
    return rc;
  if (!rill__global_initialised())
    return RILL_E_STATE;
  c = rill__calloc(1, sizeof *c);
  if (!c)
    return RILL_E_NOMEM;
  c->refs = 1;
  c->curl_due = -1;
  c->armed = -2;
  atomic_init(&c->cancel_pending, 0);
  c->rng = (uint64_t)rill__now_ms() ^ ((uint64_t)(uintptr_t)c << 17) ^
           0x9E3779B97F4A7C15ULL;
  if (c->rng == 0)
    c->rng = 1;
  rc = client_setup(c, &o);
  if (rc != RILL_OK) {
    c->refs = 0;
    rill_client_free(c);
    return rc;
  }
  if (c->insecure)
    rill__log(RILL_LOG_WARN, "client %p: TLS verification is off "
              "(tls_insecure_skip_verify): servers are not authenticated",
              (void *)c);
  *out = c;
  return RILL_OK;
}

/* Streams whose end was marked during a drive: unlink and free. */
static void sweep(rill_client *c) {
  rill_stream *s = c->streams, *next;
  while (s) {
    next = s->next;
    if (s->state == ST_DONE && (s->self_free || s->free_requested) &&
        s->pinned == 0) {
      rill__client_unlink(c, s);
      rill__stream_destroy(s);
    }
    s = next;
  }
}

static void check_all(rill_client *c) {
  rill_stream *s;
  int64_t now = rill__now_ms();
  atomic_store(&c->cancel_pending, 0);
  for (s = c->streams; s; s = s->next)
    if (s->state != ST_DONE)
      rill__stream_check(s, now);
}

static void read_messages(rill_client *c) {
  CURLMsg *m;
  int left = 0;
  while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
    rill_stream *s = NULL;
    if (m->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
    if (s && s->state == ST_RUNNING && s->easy == m->easy_handle)
      rill__stream_done(s, m->data.result);
  }
}

void rill__client_after_curl(rill_client *c) {
  read_messages(c);
  check_all(c);
}

int rill__client_multi_failed(rill_client *c, int mc) {
  rill_stream *s;
  if (mc != CURLM_OUT_OF_MEMORY)
    return RILL_E_INTERNAL;
  for (s = c->streams; s; s = s->next)
    if (s->state == ST_RUNNING) {
      rill__stream_fail(s, RILL_E_NOMEM, 0, "out of memory in curl's multi handle");
      rill__stream_end(s, RILL_E_NOMEM);
    }
  return RILL_E_NOMEM;
}

static void enter(rill_client *c) { c->depth++; }

static void leave(rill_client *c) {
  int guard;
  if (c->depth == 1) {
    /* Streams started from callbacks wait in ST_PENDING; each round may
     * start more (a callback that chains requests), bounded anyway. */
    for (guard = 0; c->n_pending > 0 && guard < 1000; guard++)
      check_all(c);
    sweep(c);
    if (c->has_loop)
      rill__loop_update_timer(c);
  }
  c->depth--;
}

int64_t rill__client_next_deadline(rill_client *c) {
  int64_t best = -1, d;
  rill_stream *s;
  for (s = c->streams; s; s = s->next) {
    if (s->state == ST_DONE)
      continue;
    d = rill__stream_deadline(s);
    if (d >= 0 && (best < 0 || d < best))
      best = d;
  }
  return best;
}

int rill_client_poll(rill_client *c, int timeout_ms) {
  int64_t dl, now;
  int wait, running = 0, rc = RILL_OK;
  CURLMcode mc = CURLM_OK;
  if (!c)
    return RILL_E_INVALID;
  if (c->has_loop || c->depth > 0 || c->freeing)
    return RILL_E_STATE;
  enter(c);
  rill__client_after_curl(c);
  if (c->n_active == 0) {
    leave(c);
    return 0;
  }
  wait = timeout_ms < 0 ? 60000 : timeout_ms;
  dl = rill__client_next_deadline(c);
  if (dl >= 0) {
    now = rill__now_ms();
    if (dl <= now)
      wait = 0;
    else if (dl - now + 1 < wait)
      wait = (int)(dl - now + 1);
  }
  if (wait > 0)
    mc = curl_multi_poll(c->multi, NULL, 0, wait, NULL);
  if (mc == CURLM_OK)
    mc = curl_multi_perform(c->multi, &running);
  rill__client_after_curl(c);
  if (mc != CURLM_OK) {
    rill__log(RILL_LOG_ERROR, "curl multi: %s", curl_multi_strerror(mc));
    rc = rill__client_multi_failed(c, (int)mc);
  }
  leave(c);
  return mc == CURLM_OK ? c->n_active : rc;
}

int rill_client_wakeup(rill_client *c) {
  if (!c)
    return RILL_E_INVALID;
  if (c->multi)
    curl_multi_wakeup(c->multi);
  return RILL_OK;
}

int rill_client_active(const rill_client *c) { return c ? c->n_active : 0; }

rill__pool *rill__client_pool(rill_client *c) { return c ? c->pool : NULL; }

int rill__client_enter(rill_client *c) {
  if (!c)
    return RILL_E_INVALID;
  if (!c->has_loop || c->depth > 0 || c->freeing)
    return RILL_E_STATE;
  enter(c);
  return RILL_OK;
}
void rill__client_leave(rill_client *c) { leave(c); }

int rill__client_run(rill_client *c, rill_stream *s) {
  int rc = RILL_OK, guard;
  if (!c || !s)
    return RILL_E_INVALID;
  if (c->has_loop || c->depth > 0)
    return RILL_E_STATE;
  s->pinned++;
  /* Each poll waits at most until the next event or deadline; the loop is
   * bounded by the stream's own clocks (and by a huge count, never hit). */
  for (guard = 0; s->status == 1 && guard < INT_MAX - 1; guard++) {
    rc = rill_client_poll(c, 1000);
    if (rc < 0)
      break;
  }
  s->pinned--;
  if (s->status != 1)
    rc = s->status;
  if (s->self_free && s->state == ST_DONE) {
    rill__client_unlink(c, s);
    rill__stream_destroy(s);
  }
  return rc;
}

void rill__client_release(rill_client *c) {
  if (c && --c->refs == 0)
    free_client_memory(c);
}

void rill_client_free(rill_client *c) {
  rill_stream *s, *next;
  int i;
  if (!c)
    return;
  if (c->multi && c->refs > 0) {
    c->depth++;
    for (s = c->streams; s; s = s->next)
      if (s->status == 1) {
        rill__stream_fail(s, RILL_E_CANCELLED, 0,
                          "cancelled: the client was freed");
        rill__stream_end(s, RILL_E_CANCELLED);
      }
    c->depth--;
  }
  c->freeing = 1;
  if (c->has_loop && c->armed != -1 && c->armed != -2)
    c->loop.set_timer(c->loop.user, -1);
  /* Self-freeing streams go now; owned streams stay valid (detached) until
   * rill_stream_free, and keep the pool (their decoders' blocks) alive. */
  for (s = c->streams; s; s = next) {
    next = s->next;
    rill__client_unlink(c, s);
    if ((s->self_free || s->free_requested) && s->pinned == 0)
      rill__stream_destroy(s);
    else
      s->client_gone = 1;
  }
  for (i = 0; i < c->n_idle_easy; i++)
    curl_easy_cleanup(c->idle_easy[i]);
  c->n_idle_easy = 0;
  if (c->multi)
    curl_multi_cleanup(c->multi);
  if (c->share)
    curl_share_cleanup(c->share);
  c->multi = NULL;
  c->share = NULL;
  if (c->ca_file)
    rill__free(c->ca_file);
  c->ca_file = NULL;
  if (c->refs == 0) /* failed construction */
    free_client_memory(c);
  else
    rill__client_release(c);
}
