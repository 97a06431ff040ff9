/*
 * providers/result.c — the chat accumulator: callbacks that record every
 * delta into a rill_chat_result (text, thinking, complete tool calls, the
 * done record or the error) and then forward it to the application's own
 * callbacks.
 *
 * Limits: text and thinking each up to RESULT_MAX_TEXT bytes, at most
 * RILL__HARD_MAX_TOOL_CALLS tool calls (the most rill_limits allows; the
 * stream itself enforces the request's cap); past a limit the callback returns
 * non-zero (the stream is cancelled) and the result's error says
 * RILL_E_LIMIT. The result belongs to the application, not to a client, so
 * its buffers come from no pool.
 */
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "rill/chat.h"
#include "rill/error.h"

#define RESULT_MAX_TEXT ((size_t)1 << 30)

typedef struct res_call {
  rill_tool_call pub; /* points into the strings below */
  char *id, *name, *args;
} res_call;

struct rill_chat_result {
  rill_chat_callbacks fwd;
  rill__buf text, thinking;
  res_call *calls;
  size_t n_calls, cap_calls;
  rill_done done;
  int has_done;
  char *raw_finish, *model;
  rill_error_info err;
  char *err_msg;
};

int rill_chat_result_new(rill_chat_result **out) {
  rill_chat_result *r;
  if (!out)
    return RILL_E_INVALID;
  *out = NULL;
  r = rill__calloc(1, sizeof *r);
  if (!r)
    return RILL_E_NOMEM;
  rill__buf_init(&r->text, NULL, RESULT_MAX_TEXT + 1);
  rill__buf_init(&r->thinking, NULL, RESULT_MAX_TEXT + 1);
  r->err.code = RILL_OK;
  r->err.message = "";
  *out = r;
  return RILL_OK;
}

void rill_chat_result_free(rill_chat_result *r) {
  size_t i;
  if (!r)
    return;
  rill__buf_release(&r->text);
  rill__buf_release(&r->thinking);
  for (i = 0; i < r->n_calls; i++) {
    rill__free(r->calls[i].id);
    rill__free(r->calls[i].name);
    rill__free(r->calls[i].args);
  }
  rill__free(r->calls);
  rill__free(r->raw_finish);
  rill__free(r->model);
  rill__free(r->err_msg);
  rill__free(r);
}

static int set_error(rill_chat_result *r, int code, const char *msg) {
  if (r->err.code == RILL_OK) {
    r->err.code = code;
    r->err.http_status = 0;
    r->err_msg = rill__strndup(msg, strlen(msg));
    r->err.message = r->err_msg ? r->err_msg : "";
  }
  return 1; /* cancels the stream */
}

static int append(rill_chat_result *r, rill__buf *b, const char *s,
                  size_t n) {
  int rc = rill__buf_append(b, s, n);
  if (rc == RILL_OK)
    rc = rill__buf_putc(b, '\0');
  if (rc != RILL_OK)
    return set_error(r, rc,
                     rc == RILL_E_LIMIT ? "the answer is too long to keep"
                                        : "out of memory");
  b->len--;
  return 0;
}

static int acc_text(void *user, const char *s, size_t n) {
  rill_chat_result *r = user;
  if (append(r, &r->text, s, n))
    return 1;
  return r->fwd.on_text ? r->fwd.on_text(r->fwd.user, s, n) : 0;
}

static int acc_thinking(void *user, const char *s, size_t n) {
  rill_chat_result *r = user;
  if (append(r, &r->thinking, s, n))
    return 1;
  return r->fwd.on_thinking ? r->fwd.on_thinking(r->fwd.user, s, n) : 0;
}

static int acc_tool_call(void *user, const rill_tool_call *tc) {
  rill_chat_result *r = user;
  res_call *c;
  if (r->n_calls >= RILL__HARD_MAX_TOOL_CALLS)
    return set_error(r, RILL_E_LIMIT, "too many tool calls to keep");
  if (r->n_calls == r->cap_calls) {
    size_t cap = r->cap_calls ? r->cap_calls * 2 : 4;
    res_call *nc = rill__realloc(r->calls, cap * sizeof *nc);
    if (!nc)
      return set_error(r, RILL_E_NOMEM, "out of memory");
    r->calls = nc;
    r->cap_calls = cap;
  }
  c = &r->calls[r->n_calls];
  c->id = rill__strndup(tc->id ? tc->id : "", tc->id ? strlen(tc->id) : 0);
  c->name =
      rill__strndup(tc->name ? tc->name : "", tc->name ? strlen(tc->name) : 0);
  c->args = rill__strndup(tc->arguments ? tc->arguments : "",
                          tc->arguments ? tc->arguments_len : 0);
  if (!c->id || !c->name || !c->args) {
    rill__free(c->id);
    rill__free(c->name);
    rill__free(c->args);
    return set_error(r, RILL_E_NOMEM, "out of memory");
  }
  c->pub.index = tc->index;
  c->pub.id = c->id;
  c->pub.name = c->name;
  c->pub.arguments = c->args;
  c->pub.arguments_len = tc->arguments ? tc->arguments_len : 0;
  r->n_calls++;
  return r->fwd.on_tool_call ? r->fwd.on_tool_call(r->fwd.user, tc) : 0;
}

static int acc_tool_delta(void *user, size_t index, const char *id,
                          const char *name, const char *args, size_t n) {
  rill_chat_result *r = user;
  return r->fwd.on_tool_call_delta
             ? r->fwd.on_tool_call_delta(r->fwd.user, index, id, name, args, n)
             : 0;
}

static int acc_done(void *user, const rill_done *d) {
  rill_chat_result *r = user;
  const char *raw = d->raw_finish ? d->raw_finish : "";
  const char *model = d->model ? d->model : "";
  r->raw_finish = rill__strndup(raw, strlen(raw));
  r->model = rill__strndup(model, strlen(model));
  if (r->raw_finish && r->model) {
    r->done = *d;
    r->done.raw_finish = r->raw_finish;
    r->done.model = r->model;
    r->has_done = 1;
  } else {
    /* The answer is complete, so the stream cannot fail any more: the
     * result itself says it could not keep the done record (an empty
     * model would pass for the server's). */
    (void)set_error(r, RILL_E_NOMEM, "out of memory");
  }
  return r->fwd.on_done ? r->fwd.on_done(r->fwd.user, d) : 0;
}

static void acc_error(void *user, const rill_error_info *e) {
  rill_chat_result *r = user;
  const char *m = e->message ? e->message : "";
  /* Keep our own limit error over the cancellation it caused. */
  if (!(r->err.code != RILL_OK && e->code == RILL_E_CANCELLED)) {
    rill__free(r->err_msg);
    r->err_msg = rill__strndup(m, strlen(m));
    r->err.code = e->code;
    r->err.http_status = e->http_status;
    r->err.message = r->err_msg ? r->err_msg : "";
  }
  if (r->fwd.on_error)
    r->fwd.on_error(r->fwd.user, e);
}

int rill_chat_result_callbacks(rill_chat_result *r,
                               const rill_chat_callbacks *forward,
                               rill_chat_callbacks *out) {
  if (!r || !out || (forward && forward->size == 0))
    return RILL_E_INVALID;
  rill__copy_callbacks(&r->fwd, forward);
  memset(out, 0, sizeof *out);
  out->size = sizeof *out;
  out->on_text = acc_text;
  out->on_thinking = acc_thinking;
  out->on_tool_call = acc_tool_call;
  out->on_tool_call_delta = acc_tool_delta;
  out->on_done = acc_done;
  out->on_error = acc_error;
  out->user = r;
  return RILL_OK;
}

const char *rill_chat_result_text(const rill_chat_result *r, size_t *len) {
  if (len)
    *len = r ? r->text.len : 0;
  return r && r->text.len ? r->text.data : "";
}

const char *rill_chat_result_thinking(const rill_chat_result *r,
                                      size_t *len) {
  if (len)
    *len = r ? r->thinking.len : 0;
  return r && r->thinking.len ? r->thinking.data : "";
}

size_t rill_chat_result_n_tool_calls(const rill_chat_result *r) {
  return r ? r->n_calls : 0;
}

const rill_tool_call *rill_chat_result_tool_call(const rill_chat_result *r,
                                                 size_t i) {
  return (r && i < r->n_calls) ? &r->calls[i].pub : NULL;
}

const rill_done *rill_chat_result_done(const rill_chat_result *r) {
  return (r && r->has_done) ? &r->done : NULL;
}

const rill_error_info *rill_chat_result_error(const rill_chat_result *r) {
  static const rill_error_info none = {RILL_OK, 0, ""};
  return r ? &r->err : &none;
}
