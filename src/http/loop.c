/*
 * loop.c — the event-loop mode: curl's socket and timer callbacks become
 * the host's watch_fd and set_timer, and the host's readiness and timer
 * events come back through rill_client_socket_action / _timeout_action.
 *
 * The host timer is one-shot and always armed for the nearest of: curl's
 * own timer, the nearest rill deadline (a clock, a retry wake-up, a stream
 * started from a callback) and, while streams run, CANCEL_POLL_MS — so a
 * rill_cancel() from another thread (which cannot call into the host loop)
 * is noticed within that interval.
 *
 * Invariants: curl_due is curl's timer (absolute ms, -1 none); armed is the
 * absolute time last given to set_timer (-1 disarmed, -2 never set), so the
 * host is called only when it changes.
 *
 * Must not know: streams' internals (only rill__client_next_deadline).
 */
#include "http/internal.h"
#include "rill/error.h"

#define CANCEL_POLL_MS 200

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp,
                     void *socketp) {
  rill_client *c = userp;
  int ev = 0;
  (void)e;
  (void)socketp;
  if (what == CURL_POLL_REMOVE)
    ev = RILL_POLL_REMOVE;
  else {
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
      ev |= RILL_POLL_IN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
      ev |= RILL_POLL_OUT;
  }
  return c->loop.watch_fd(c->loop.user, (int)fd, ev) == 0 ? 0 : -1;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
  rill_client *c = userp;
  (void)m;
  c->curl_due = timeout_ms < 0 ? -1 : rill__now_ms() + timeout_ms;
  rill__loop_update_timer(c);
  return 0;
}

int rill__loop_install(rill_client *c) {
  if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) ||
      curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, (void *)c) ||
      curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
      curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, (void *)c))
    return RILL_E_INTERNAL;
  return RILL_OK;
}

void rill__loop_update_timer(rill_client *c) {
  int64_t now, due = c->curl_due, d;
  long ms;
  if (!c->has_loop || c->freeing)
    return;
  now = rill__now_ms();
  d = rill__client_next_deadline(c);
  if (d >= 0 && (due < 0 || d < due))
    due = d;
  if (c->n_active > 0 && (due < 0 || due > now + CANCEL_POLL_MS))
    due = now + CANCEL_POLL_MS;
  if (due < 0) {
    if (c->armed != -1) {
      c->armed = -1;
      c->loop.set_timer(c->loop.user, -1);
    }
    return;
  }
  if (due == c->armed)
    return;
  c->armed = due;
  ms = due <= now ? 0 : (long)(due - now);
  c->loop.set_timer(c->loop.user, ms);
}

static int action(rill_client *c, curl_socket_t fd, int mask) {
  int running = 0, rc;
  CURLMcode mc;
  rc = rill__client_enter(c);
  if (rc != RILL_OK)
    return rc;
  if (fd == CURL_SOCKET_TIMEOUT) {
    int64_t now = rill__now_ms();
    c->armed = -2; /* the one-shot host timer has fired */
    if (c->curl_due >= 0 && c->curl_due <= now)
      c->curl_due = -1;
  }
  mc = curl_multi_socket_action(c->multi, fd, mask, &running);
  rill__client_after_curl(c);
  if (mc != CURLM_OK)
    rc = rill__client_multi_failed(c, (int)mc);
  rill__client_leave(c);
  return mc == CURLM_OK ? c->n_active : rc;
}

int rill_client_socket_action(rill_client *c, int fd, int events) {
  int mask = 0;
  if (!c)
    return RILL_E_INVALID;
  if (events & RILL_POLL_IN)
    mask |= CURL_CSELECT_IN;
  if (events & RILL_POLL_OUT)
    mask |= CURL_CSELECT_OUT;
  return action(c, (curl_socket_t)fd, mask);
}

int rill_client_timeout_action(rill_client *c) {
  if (!c)
    return RILL_E_INVALID;
  return action(c, CURL_SOCKET_TIMEOUT, 0);
}
