/*
 * providers/provider.h — internal entry points of the providers, used by
 * providers/dispatch.c (the public functions) and by the unit tests.
 *
 * Each provider offers two kinds of functions:
 *  - builders: turn a public request into a rill__request (method, URL,
 *    headers, credential, body, framing) without any I/O;
 *  - decoder constructors: a rill__decoder whose ops turn the response's
 *    records or events into application callbacks. The decoders are
 *    sans-I/O: with base.stream NULL (every rill__stream_* call accepts
 *    NULL) a test can push recorded bytes through the real framer and check
 *    the callbacks' output.
 *
 * Ownership: a decoder is freed by its ops->destroy (the transport calls it
 * when the stream is freed; tests call it themselves). Builders fill a
 * rill__request the caller initialised with rill__request_init; on failure
 * the caller releases it.
 *
 * Threads: the client's driving thread (builders: any thread).
 */
#ifndef RILL_PROVIDERS_PROVIDER_H
#define RILL_PROVIDERS_PROVIDER_H

#include <stddef.h>

#include "http/transport.h"
#include "rill/chat.h"
#include "rill/embeddings.h"
#include "rill/models.h"
#include "rill/request.h"

/* ---- Ollama (providers/ollama.c; lists, pull, embed: providers/manage.c) */

/* /api/chat, or /api/generate when req->prompt is set. req is a full-size
 * copy (dispatch.c copies the caller's struct size-aware). */
int rill__ollama_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r);
/* generate: 1 for /api/generate lines ("response"), 0 for /api/chat. */
int rill__ollama_chat_decoder_new(const rill_chat_callbacks *cb, int generate,
                                  rill__decoder **out);
int rill__ollama_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out);

/* /api/tags (ps = 0) or /api/ps (ps = 1). errmsg receives the failure's
 * message (may be NULL). */
int rill__ollama_models_decoder_new(int ps, rill_model_fn fn, void *user,
                                    char *errmsg, size_t errmsg_cap,
                                    rill__decoder **out);
/* /api/pull progress lines. */
int rill__ollama_pull_decoder_new(rill_pull_fn fn, void *user, char *errmsg,
                                  size_t errmsg_cap, rill__decoder **out);
int rill__ollama_pull_build(const rill_endpoint *ep, const char *model,
                            rill__pool *pool, rill__request *r);
int rill__ollama_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r);

/* ---- OpenAI-compatible (providers/openai.c; providers/manage.c) -------- */

int rill__openai_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r);
int rill__openai_chat_decoder_new(const rill_chat_callbacks *cb,
                                  rill__decoder **out);
int rill__openai_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out);
int rill__openai_models_decoder_new(rill_model_fn fn, void *user, char *errmsg,
                                    size_t errmsg_cap, rill__decoder **out);
int rill__openai_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r);

/* ---- Anthropic Messages API (providers/anthropic.c) ------------------- */

/* POST {base}/messages; RILL_E_UNSUPPORTED for an output format other than
 * text. Model listing reuses rill__openai_models_decoder_new (data[].id). */
int rill__anthropic_chat_build(const rill_chat_request *req, rill__pool *pool,
                               rill__request *r);
/* The SSE events, or (RILL__FRAME_WHOLE) one Message object. */
int rill__anthropic_chat_decoder_new(const rill_chat_callbacks *cb,
                                     rill__decoder **out);
int rill__anthropic_chat_start(rill_client *c, const rill_chat_request *req,
                               const rill_chat_callbacks *cb,
                               rill_stream **out);

/* ---- Gemini (providers/gemini.c; model list and embeddings decoded by
 * providers/manage.c) ------------------------------------------------------ */

int rill__gemini_chat_build(const rill_chat_request *req, rill__pool *pool,
                            rill__request *r);
int rill__gemini_chat_decoder_new(const rill_chat_callbacks *cb,
                                  rill__decoder **out);
int rill__gemini_chat_start(rill_client *c, const rill_chat_request *req,
                            const rill_chat_callbacks *cb, rill_stream **out);
/* :embedContent (one input) or :batchEmbedContents (several). */
int rill__gemini_embed_build(const rill_embed_request *req, rill__pool *pool,
                             rill__request *r);

/* ---- Shared decoders of whole answers (providers/manage.c) ------------- */

/* Embeddings: Ollama {"embeddings":[[…]…],"prompt_eval_count"} (format 0),
 * OpenAI {"data":[{"index","embedding"}…],"usage"} (1) or Gemini
 * {"embedding":{"values"}} / {"embeddings":[{"values"}…]} (2), checked
 * against n_expected vectors of equal length. On success *slot receives
 * the result (caller frees it with rill_embeddings_free). */
#define RILL__EMBED_OLLAMA 0
#define RILL__EMBED_OPENAI 1
#define RILL__EMBED_GEMINI 2
int rill__embed_decoder_new(int format, size_t n_expected,
                            rill_embeddings **slot, char *errmsg,
                            size_t errmsg_cap, rill__decoder **out);
/* A whole JSON answer as text (member NULL: the whole body, validated) or
 * one string member of it (e.g. "version"). On success *slot receives a
 * rill__malloc'd NUL-terminated copy and *len (may be NULL) its length. */
int rill__text_decoder_new(const char *member, char **slot, size_t *len,
                           char *errmsg, size_t errmsg_cap,
                           rill__decoder **out);

/* The message a decoder recorded with its last failure ("" when none);
 * for tests, where no stream keeps it. */
const char *rill__decoder_errmsg(const rill__decoder *d);

#endif
