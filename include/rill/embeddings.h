/*
 * rill/embeddings.h — embeddings from a server: Ollama POST /api/embed and
 * OpenAI-compatible POST /embeddings, Gemini :embedContent and
 * :batchEmbedContents (Anthropic offers none: RILL_E_UNSUPPORTED). The
 * local embedder (rill/embed.h) will return the same rill_embeddings.
 */
#ifndef RILL_EMBEDDINGS_H
#define RILL_EMBEDDINGS_H

#include <stddef.h>
#include <stdint.h>

#include "rill/client.h"
#include "rill/export.h"
#include "rill/request.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_embed_request {
  size_t size; /* sizeof(rill_embed_request): RILL_EMBED_REQUEST_INIT */
  rill_endpoint endpoint;
  const char *model;
  const char *const *inputs; /* UTF-8 texts */
  size_t n_inputs;
  int64_t dimensions;        /* 0: the model's own */
  int truncate;              /* Ollama: 0 server default, 1 on, 2 off */
  const char *keep_alive;    /* Ollama */
  rill_timeouts timeouts;
  rill_retry retry;
  /* Gemini only (others ignore them): the taskType ("RETRIEVAL_QUERY",
   * "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
   * "CLUSTERING", …) and, for RETRIEVAL_DOCUMENT, the document's title.
   * NULL: not sent. */
  const char *task_type;
  const char *title;
  /* Caps (rill/request.h), zero: the defaults. Of them only the transport's
   * apply here: max_response_bytes (the whole answer is also capped at 64
   * MiB), max_error_body_bytes and the low-speed limit; record, tool-call
   * and token caps are for chat streams. */
  rill_limits limits;
} rill_embed_request;

#define RILL_EMBED_REQUEST_INIT {.size = sizeof(rill_embed_request)}

/* The vectors, row-major: vector i is data[i*dims .. i*dims+dims). */
typedef struct rill_embeddings {
  size_t n;
  size_t dims;
  float *data;
  int64_t input_tokens; /* -1 when not reported */
} rill_embeddings;

/*
 * Embed req->inputs (blocking; drives the client).
 * Ownership: *out belongs to the caller; free with rill_embeddings_free.
 * Returns: RILL_OK; RILL_E_INVALID; RILL_E_PROTOCOL (the server's answer
 * has the wrong number of vectors or ragged dimensions); any stream error.
 * errmsg (may be NULL) receives the detailed message.
 */
RILL_API int rill_embed_remote(rill_client *c, const rill_embed_request *req,
                               rill_embeddings **out, char *errmsg,
                               size_t errmsg_cap);

/* NULL is a harmless no-op. */
RILL_API void rill_embeddings_free(rill_embeddings *e);

#ifdef __cplusplus
}
#endif
#endif /* RILL_EMBEDDINGS_H */
