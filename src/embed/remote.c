/*
 * The remote embedder: rill/embed.h's interface over rill_embed_remote.
 * The request template's strings are copied at open, so the caller's may
 * go away; calls are serialised by a mutex because a rill_client serves
 * one thread at a time. A task prefix is prepended here (the servers know
 * nothing of nomic's prefixes); dims becomes the request's dimensions.
 */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "embed/embedder.h"
#include "rill/error.h"

/* A copy of s (NULL stays NULL) kept until the embedder is freed. */
static int keep(rill_embedder *e, const char *s, const char **dst) {
  char *c;
  if (!s) {
    *dst = NULL;
    return RILL_OK;
  }
  c = rill__strndup(s, strlen(s));
  if (!c)
    return RILL_E_NOMEM;
  e->copies[e->n_copies++] = c;
  *dst = c;
  return RILL_OK;
}

void rill__remote_free(rill_embedder *e) {
  size_t i;
  /* The copies include the api_key and any credential header: wiped. */
  for (i = 0; i < e->n_copies; i++) {
    rill__wipe(e->copies[i], strlen(e->copies[i]));
    rill__free(e->copies[i]);
  }
  rill__free(e->copies);
  rill__free((void *)(uintptr_t)e->tmpl.endpoint.headers);
  pthread_mutex_destroy(&e->mu);
}

int rill_embedder_open_remote(rill_embedder **out, rill_client *client,
                              const rill_embed_request *req) {
  rill_embedder *e;
  rill_embed_request q;
  size_t i, nh;
  const char **hdrs = NULL;
  int rc = RILL_OK;

  if (out)
    *out = NULL;
  if (!out || !client || !req ||
      req->size < offsetof(rill_embed_request, model) + sizeof(char *))
    return RILL_E_INVALID;
  memset(&q, 0, sizeof q);
  memcpy(&q, req, req->size < sizeof q ? req->size : sizeof q);
  q.size = sizeof q;
  if (!q.model || !*q.model || (q.endpoint.n_headers && !q.endpoint.headers))
    return RILL_E_INVALID;
  nh = q.endpoint.n_headers;
  if (nh > 4096)
    return RILL_E_INVALID;

  e = rill__calloc(1, sizeof *e);
  if (!e)
    return RILL_E_NOMEM;
  atomic_init(&e->refs, 1);
  e->local = 0;
  e->client = client;
  pthread_mutex_init(&e->mu, NULL);
  e->copies = rill__calloc(6 + nh, sizeof *e->copies);
  if (nh)
    hdrs = rill__calloc(nh, sizeof *hdrs);
  e->tmpl = q;
  e->tmpl.inputs = NULL;
  e->tmpl.n_inputs = 0;
  e->tmpl.endpoint.headers = hdrs;
  if (!e->copies || (nh && !hdrs))
    rc = RILL_E_NOMEM;
  if (rc == RILL_OK)
    rc = keep(e, q.model, &e->tmpl.model);
  if (rc == RILL_OK)
    rc = keep(e, q.keep_alive, &e->tmpl.keep_alive);
  if (rc == RILL_OK)
    rc = keep(e, q.task_type, &e->tmpl.task_type);
  if (rc == RILL_OK)
    rc = keep(e, q.title, &e->tmpl.title);
  if (rc == RILL_OK)
    rc = keep(e, q.endpoint.base_url, &e->tmpl.endpoint.base_url);
  if (rc == RILL_OK)
    rc = keep(e, q.endpoint.api_key, &e->tmpl.endpoint.api_key);
  for (i = 0; rc == RILL_OK && i < nh; i++)
    rc = keep(e, q.endpoint.headers[i], &hdrs[i]);
  if (rc == RILL_OK) {
    e->model_name = rill__strndup(q.model, strlen(q.model));
    if (!e->model_name)
      rc = RILL_E_NOMEM;
  }
  if (rc != RILL_OK) {
    rill__remote_free(e); /* frees hdrs too */
    rill__free(e->model_name);
    rill__free(e);
    return rc;
  }
  *out = e;
  return RILL_OK;
}

static void free_joined(char **joined, size_t n) {
  size_t i;
  if (!joined)
    return;
  for (i = 0; i < n; i++)
    rill__free(joined[i]);
  rill__free(joined);
}

/* Servers take NUL-terminated texts: each text (lens[i] bytes, or up to
 * its NUL) behind the prefix (plen bytes) in a terminated copy. NULL when
 * out of memory. */
static char **join_texts(const char *const *texts, const size_t *lens,
                         size_t n, const char *prefix, size_t plen) {
  char **joined = rill__calloc(n, sizeof *joined);
  size_t i;
  if (!joined)
    return NULL;
  for (i = 0; i < n; i++) {
    size_t len = lens ? lens[i] : strlen(texts[i]);
    if (len > SIZE_MAX - plen - 1 ||
        !(joined[i] = rill__malloc(plen + len + 1))) {
      free_joined(joined, n);
      return NULL;
    }
    if (plen)
      memcpy(joined[i], prefix, plen);
    if (len)
      memcpy(joined[i] + plen, texts[i], len);
    joined[i][plen + len] = '\0';
  }
  return joined;
}

int rill__remote_embed(rill_embedder *e, const char *const *texts,
                       const size_t *lens, size_t n,
                       const rill_embed_options *opt, rill_embeddings **out,
                       char *errmsg, size_t errmsg_cap) {
  rill_embed_request q = e->tmpl;
  size_t plen = opt->prefix ? strlen(opt->prefix) : 0;
  char **joined = NULL;
  int rc;

  if (opt->no_normalize) {
    rill__embed_msg(errmsg, errmsg_cap,
                    "no_normalize: a server returns its own vectors");
    return RILL_E_UNSUPPORTED;
  }
  q.inputs = texts;
  if (lens || plen) {
    joined = join_texts(texts, lens, n, opt->prefix, plen);
    if (!joined) {
      rill__embed_msg(errmsg, errmsg_cap, "out of memory");
      return RILL_E_NOMEM;
    }
    q.inputs = (const char *const *)joined;
  }
  q.n_inputs = n;
  if (opt->dims)
    q.dimensions = (int64_t)opt->dims;
  pthread_mutex_lock(&e->mu);
  rc = rill_embed_remote(e->client, &q, out, errmsg, errmsg_cap);
  pthread_mutex_unlock(&e->mu);
  free_joined(joined, n);
  return rc;
}
