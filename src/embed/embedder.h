/*
 * The rill_embedder handle shared by the local embedder (embedder.c) and
 * the remote one (remote.c): one public type, two back ends.
 */
#ifndef RILL_EMBED_EMBEDDER_H
#define RILL_EMBED_EMBEDDER_H

#include <pthread.h>
#include <stdatomic.h>

#include "embed/kernels.h"
#include "embed/model.h"
#include "embed/threadpool.h"
#include "embed/tokenizer.h"
#include "rill/embed.h"

struct rill_embedder {
  atomic_int refs;
  int local;
  char *model_name; /* the path or name opened, or the remote model */
  /* local */
  rill_gguf *g;
  rill__wpm *tok;
  rill__nb_model m;
  const rill__kernels *k;
  rill__tpool *pool;
  uint32_t max_tokens; /* 2 .. m.n_ctx */
  int overflow;
  int has_specials;    /* 1: [CLS] and [SEP] ids below are known */
  int32_t cls, sep;
  /* remote */
  rill_client *client;
  pthread_mutex_t mu; /* serialises calls on client */
  rill_embed_request tmpl; /* strings point into copies below */
  char **copies;
  size_t n_copies;
};

/* remote.c: the embed call and the teardown of a remote embedder. */
int rill__remote_embed(rill_embedder *e, const char *const *texts,
                       const size_t *lens, size_t n,
                       const rill_embed_options *opt, rill_embeddings **out,
                       char *errmsg, size_t errmsg_cap);
void rill__remote_free(rill_embedder *e);

/* embedder.c: errmsg helper shared with remote.c. */
void rill__embed_msg(char *errmsg, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
