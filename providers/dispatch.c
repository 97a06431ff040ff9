/*
 * providers/dispatch.c — the public chat, model and embedding functions:
 * check the arguments, copy the caller's (possibly older, shorter) structs
 * size-aware, pick the provider, build the request and its decoder, and
 * start the stream (or run it to the end for the blocking calls).
 *
 * Gemini: chat and embeddings (providers/gemini.c), model listing (GET
 * /models?pageSize=1000, read like Ollama's models[].name).
 * Anthropic: chat (providers/anthropic.c) and model listing (GET /models,
 * read like OpenAI's data[].id); no embeddings (RILL_E_UNSUPPORTED).
 */
#include <stddef.h>
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "provider.h"
#include "rill/chat.h"
#include "rill/embeddings.h"
#include "rill/error.h"
#include "rill/models.h"

static const char *const provider_names[] = {"none",     "ollama", "openai",
                                             "lmstudio", "gemini", "anthropic"};

rill_provider rill_provider_from_name(const char *name) {
  size_t i;
  if (!name)
    return RILL_PROVIDER_NONE;
  for (i = 1; i < sizeof provider_names / sizeof provider_names[0]; i++)
    if (!strcmp(name, provider_names[i]))
      return (rill_provider)i;
  return RILL_PROVIDER_NONE;
}

const char *rill_provider_name(rill_provider p) {
  if ((unsigned)p < sizeof provider_names / sizeof provider_names[0])
    return provider_names[p];
  return "none";
}

const char *rill_finish_name(rill_finish f) {
  switch (f) {
  case RILL_FINISH_STOP:
    return "stop";
  case RILL_FINISH_LENGTH:
    return "length";
  case RILL_FINISH_TOOL_CALLS:
    return "tool_calls";
  case RILL_FINISH_CONTENT_FILTER:
    return "content_filter";
  case RILL_FINISH_OTHER:
    return "other";
  default:
    return "none";
  }
}

void rill_free(void *p) { rill__free(p); }

static int provider_ok(rill_provider p) {
  switch (p) {
  case RILL_PROVIDER_OLLAMA:
  case RILL_PROVIDER_OPENAI:
  case RILL_PROVIDER_LMSTUDIO:
  case RILL_PROVIDER_ANTHROPIC:
  case RILL_PROVIDER_GEMINI:
    return RILL_OK;
  default:
    return RILL_E_INVALID;
  }
}

/* ---- chat ---------------------------------------------------------------- */

int rill_chat_start(rill_client *c, const rill_chat_request *req,
                    const rill_chat_callbacks *cb, rill_stream **out) {
  rill_chat_request r;
  int rc;
  if (out)
    *out = NULL;
  if (!c || !req || req->size < offsetof(rill_chat_request, model) + sizeof(char *) ||
      (cb && cb->size == 0))
    return RILL_E_INVALID;
  memset(&r, 0, sizeof r);
  memcpy(&r, req, req->size < sizeof r ? req->size : sizeof r);
  r.size = sizeof r;
  rc = provider_ok(r.endpoint.provider);
  if (rc != RILL_OK)
    return rc;
  if (r.endpoint.provider == RILL_PROVIDER_OLLAMA)
    return rill__ollama_chat_start(c, &r, cb, out);
  if (r.endpoint.provider == RILL_PROVIDER_GEMINI)
    return rill__gemini_chat_start(c, &r, cb, out);
  if (r.endpoint.provider == RILL_PROVIDER_ANTHROPIC)
    return rill__anthropic_chat_start(c, &r, cb, out);
  return rill__openai_chat_start(c, &r, cb, out);
}

int rill_chat(rill_client *c, const rill_chat_request *req,
              const rill_chat_callbacks *cb) {
  rill_stream *s = NULL;
  int rc = rill_chat_start(c, req, cb, &s);
  if (rc != RILL_OK)
    return rc;
  rc = rill__client_run(c, s);
  rill_stream_free(s);
  return rc;
}

/* ---- blocking helpers ---------------------------------------------------- */

static void put_msg(char *errmsg, size_t cap, const char *msg) {
  size_t n;
  if (!errmsg || cap == 0)
    return;
  n = strlen(msg);
  if (n >= cap)
    n = cap - 1;
  memcpy(errmsg, msg, n);
  errmsg[n] = '\0';
}

/* Start r with d and drive the client until the stream ends. Takes r and
 * d in every case. */
static int run(rill_client *c, rill__request *r, rill__decoder *d,
               char *errmsg, size_t cap) {
  rill_stream *s = NULL;
  int rc = rill__stream_start(c, r, d, &s);
  if (rc != RILL_OK) {
    rill__request_release(r);
    d->ops->destroy(d);
    put_msg(errmsg, cap, rill_strerror(rc));
    return rc;
  }
  rc = rill__client_run(c, s);
  if (rc != RILL_OK && errmsg && cap && !errmsg[0])
    put_msg(errmsg, cap, rill_stream_errmsg(s));
  rill_stream_free(s);
  return rc;
}

/* Set up a request to ep (GET, or POST when build is given). */
static int simple(rill_client *c, const rill_endpoint *ep,
                  const rill_timeouts *t, const char *method, const char *path,
                  const char *model, rill__decoder *d, char *errmsg,
                  size_t cap) {
  rill__request r;
  int rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__request_setup(&r, ep, method, path, RILL__FRAME_WHOLE);
  if (rc == RILL_OK && t)
    r.timeouts = *t;
  if (rc == RILL_OK && model) {
    rill_jw *w = NULL;
    rc = rill_jw_new(&w, 1 << 20);
    if (rc == RILL_OK) {
      rill_jw_object_begin(w);
      rill__jw_kstr(w, "model", model);
      rill_jw_object_end(w);
      rc = rill__request_body(&r, w);
    }
    rill_jw_free(w);
  }
  if (rc != RILL_OK) {
    rill__request_release(&r);
    d->ops->destroy(d);
    put_msg(errmsg, cap, rill_strerror(rc));
    return rc;
  }
  return run(c, &r, d, errmsg, cap);
}

static int check_ep(rill_client *c, const rill_endpoint *ep, char *errmsg,
                    size_t cap, int ollama_only) {
  int rc;
  if (errmsg && cap)
    errmsg[0] = '\0';
  if (!c || !ep)
    rc = RILL_E_INVALID;
  else if (ollama_only && ep->provider != RILL_PROVIDER_OLLAMA)
    rc = provider_ok(ep->provider) == RILL_E_INVALID ? RILL_E_INVALID
                                                      : RILL_E_UNSUPPORTED;
  else
    rc = provider_ok(ep->provider);
  if (rc != RILL_OK)
    put_msg(errmsg, cap, rill_strerror(rc));
  return rc;
}

/* ---- models -------------------------------------------------------------- */

int rill_models(rill_client *c, const rill_endpoint *ep,
                const rill_timeouts *t, rill_model_fn on_model, void *user,
                char *errmsg, size_t errmsg_cap) {
  rill__decoder *d = NULL;
  int ollama, rc = check_ep(c, ep, errmsg, errmsg_cap, 0);
  if (rc != RILL_OK)
    return rc;
  ollama = ep->provider == RILL_PROVIDER_OLLAMA;
  if (ep->provider == RILL_PROVIDER_GEMINI) {
    /* {"models":[{"name":"models/gemini-2.5-flash",…}],"nextPageToken"}:
     * Ollama's list shape; one page of up to 1000 (the API's maximum). */
    rc = rill__ollama_models_decoder_new(0, on_model, user, errmsg,
                                         errmsg_cap, &d);
    if (rc != RILL_OK)
      return rc;
    return simple(c, ep, t, "GET", "/models?pageSize=1000", NULL, d, errmsg,
                  errmsg_cap);
  }
  rc = ollama ? rill__ollama_models_decoder_new(0, on_model, user, errmsg,
                                                errmsg_cap, &d)
              : rill__openai_models_decoder_new(on_model, user, errmsg,
                                                errmsg_cap, &d);
  if (rc != RILL_OK)
    return rc;
  return simple(c, ep, t, "GET", ollama ? "/api/tags" : "/models", NULL, d,
                errmsg, errmsg_cap);
}

int rill_ollama_ps(rill_client *c, const rill_endpoint *ep,
                   const rill_timeouts *t, rill_model_fn on_model, void *user,
                   char *errmsg, size_t errmsg_cap) {
  rill__decoder *d = NULL;
  int rc = check_ep(c, ep, errmsg, errmsg_cap, 1);
  if (rc == RILL_OK)
    rc = rill__ollama_models_decoder_new(1, on_model, user, errmsg,
                                         errmsg_cap, &d);
  if (rc != RILL_OK)
    return rc;
  return simple(c, ep, t, "GET", "/api/ps", NULL, d, errmsg, errmsg_cap);
}

int rill_ollama_show(rill_client *c, const rill_endpoint *ep,
                     const char *model, char **json, size_t *len,
                     char *errmsg, size_t errmsg_cap) {
  rill__decoder *d = NULL;
  int rc = check_ep(c, ep, errmsg, errmsg_cap, 1);
  if (rc == RILL_OK && (!model || !*model || !json))
    rc = RILL_E_INVALID;
  if (rc != RILL_OK)
    return rc;
  *json = NULL;
  if (len)
    *len = 0;
  rc = rill__text_decoder_new(NULL, json, len, errmsg, errmsg_cap, &d);
  if (rc != RILL_OK)
    return rc;
  return simple(c, ep, NULL, "POST", "/api/show", model, d, errmsg,
                errmsg_cap);
}

int rill_ollama_version(rill_client *c, const rill_endpoint *ep,
                        char **version, char *errmsg, size_t errmsg_cap) {
  rill__decoder *d = NULL;
  int rc = check_ep(c, ep, errmsg, errmsg_cap, 1);
  if (rc == RILL_OK && !version)
    rc = RILL_E_INVALID;
  if (rc != RILL_OK)
    return rc;
  *version = NULL;
  rc = rill__text_decoder_new("version", version, NULL, errmsg, errmsg_cap,
                              &d);
  if (rc != RILL_OK)
    return rc;
  return simple(c, ep, NULL, "GET", "/api/version", NULL, d, errmsg,
                errmsg_cap);
}

int rill_ollama_pull(rill_client *c, const rill_endpoint *ep,
                     const char *model, rill_pull_fn on_progress, void *user,
                     char *errmsg, size_t errmsg_cap) {
  rill__request r;
  rill__decoder *d = NULL;
  int rc = check_ep(c, ep, errmsg, errmsg_cap, 1);
  if (rc == RILL_OK && (!model || !*model))
    rc = RILL_E_INVALID;
  if (rc != RILL_OK)
    return rc;
  rill__request_init(&r, rill__client_pool(c));
  rc = rill__ollama_pull_build(ep, model, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__ollama_pull_decoder_new(on_progress, user, errmsg, errmsg_cap,
                                       &d);
  if (rc != RILL_OK) {
    rill__request_release(&r);
    put_msg(errmsg, errmsg_cap, rill_strerror(rc));
    return rc;
  }
  return run(c, &r, d, errmsg, errmsg_cap);
}

/* ---- embeddings ---------------------------------------------------------- */

int rill_embed_remote(rill_client *c, const rill_embed_request *req,
                      rill_embeddings **out, char *errmsg,
                      size_t errmsg_cap) {
  rill_embed_request q;
  rill__request r;
  rill__decoder *d = NULL;
  int openai, rc;
  if (out)
    *out = NULL;
  if (errmsg && errmsg_cap)
    errmsg[0] = '\0';
  if (!c || !req || !out ||
      req->size < offsetof(rill_embed_request, model) + sizeof(char *)) {
    put_msg(errmsg, errmsg_cap, rill_strerror(RILL_E_INVALID));
    return RILL_E_INVALID;
  }
  memset(&q, 0, sizeof q);
  memcpy(&q, req, req->size < sizeof q ? req->size : sizeof q);
  q.size = sizeof q;
  rc = check_ep(c, &q.endpoint, errmsg, errmsg_cap, 0);
  if (rc != RILL_OK)
    return rc;
  if (q.endpoint.provider == RILL_PROVIDER_ANTHROPIC) {
    /* Anthropic offers no embeddings endpoint. */
    put_msg(errmsg, errmsg_cap, rill_strerror(RILL_E_UNSUPPORTED));
    return RILL_E_UNSUPPORTED;
  }
  openai = q.endpoint.provider != RILL_PROVIDER_OLLAMA;
  rill__request_init(&r, rill__client_pool(c));
  if (q.endpoint.provider == RILL_PROVIDER_GEMINI)
    rc = rill__gemini_embed_build(&q, rill__client_pool(c), &r);
  else
    rc = openai ? rill__openai_embed_build(&q, rill__client_pool(c), &r)
                : rill__ollama_embed_build(&q, rill__client_pool(c), &r);
  if (rc == RILL_OK)
    rc = rill__embed_decoder_new(
        q.endpoint.provider == RILL_PROVIDER_GEMINI ? RILL__EMBED_GEMINI
        : openai                                    ? RILL__EMBED_OPENAI
                                                    : RILL__EMBED_OLLAMA,
        q.n_inputs, out, errmsg, errmsg_cap, &d);
  if (rc != RILL_OK) {
    rill__request_release(&r);
    put_msg(errmsg, errmsg_cap, rill_strerror(rc));
    return rc;
  }
  return run(c, &r, d, errmsg, errmsg_cap);
}
