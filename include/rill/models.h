/*
 * rill/models.h — model listing and management: GET /api/tags, /api/ps,
 * POST /api/show, GET /api/version and POST /api/pull on Ollama;
 * GET /models on OpenAI-compatible servers, Gemini and Anthropic.
 *
 * These calls are blocking: they drive the client (private-loop mode,
 * RILL_E_STATE otherwise) until the answer is complete. Callback rules are
 * those of rill/chat.h: pointers valid during the call only, non-zero
 * return cancels, the driving thread.
 */
#ifndef RILL_MODELS_H
#define RILL_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "rill/client.h"
#include "rill/export.h"
#include "rill/request.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One model. Fields a server does not report are "" or -1. */
typedef struct rill_model_info {
  const char *name;          /* Ollama "name"; OpenAI "id" */
  const char *modified_at;   /* Ollama; "" otherwise */
  int64_t size;              /* bytes on disk (Ollama), -1 otherwise */
  const char *digest;
  const char *family;        /* details.family */
  const char *parameter_size;/* details.parameter_size, e.g. "8.0B" */
  const char *quantization;  /* details.quantization_level, e.g. "Q4_K_M" */
  const char *owned_by;      /* OpenAI "owned_by" */
  int64_t size_vram;         /* /api/ps only, -1 otherwise */
  const char *expires_at;    /* /api/ps only */
} rill_model_info;

typedef int (*rill_model_fn)(void *user, const rill_model_info *m);

/*
 * List the models a server offers (Ollama /api/tags, OpenAI /models),
 * calling on_model once per model.
 * Returns: RILL_OK or an error code (message via errmsg when non-NULL: a
 * buffer of errmsg_cap bytes receiving the detailed message).
 */
RILL_API int rill_models(rill_client *c, const rill_endpoint *ep,
                         const rill_timeouts *t, rill_model_fn on_model,
                         void *user, char *errmsg, size_t errmsg_cap);

/* Ollama: the models loaded in memory now (/api/ps). As rill_models. */
RILL_API int rill_ollama_ps(rill_client *c, const rill_endpoint *ep,
                            const rill_timeouts *t, rill_model_fn on_model,
                            void *user, char *errmsg, size_t errmsg_cap);

/*
 * Ollama: /api/show for model; *json receives the response as JSON text
 * (NUL-terminated; free it with rill_free), *len its length.
 */
RILL_API int rill_ollama_show(rill_client *c, const rill_endpoint *ep,
                              const char *model, char **json, size_t *len,
                              char *errmsg, size_t errmsg_cap);

/* Ollama: the server's version (/api/version); free *version with
 * rill_free. */
RILL_API int rill_ollama_version(rill_client *c, const rill_endpoint *ep,
                                 char **version, char *errmsg,
                                 size_t errmsg_cap);

/* Progress of a pull: one per line of Ollama's progress stream. */
typedef struct rill_pull_progress {
  const char *status;  /* "pulling manifest", "pulling <digest>", "success" */
  const char *digest;  /* "" when absent */
  int64_t completed;   /* bytes, -1 when absent */
  int64_t total;       /* bytes, -1 when absent */
} rill_pull_progress;

typedef int (*rill_pull_fn)(void *user, const rill_pull_progress *p);

/*
 * Ollama: pull (download) a model, reporting progress. Ends with RILL_OK
 * after the "success" line; an {"error":…} line is an error; a stream that
 * ends without "success" is RILL_E_PROTOCOL.
 */
RILL_API int rill_ollama_pull(rill_client *c, const rill_endpoint *ep,
                              const char *model, rill_pull_fn on_progress,
                              void *user, char *errmsg, size_t errmsg_cap);

/* Free memory rill returned to the caller (NULL: no-op). */
RILL_API void rill_free(void *p);

#ifdef __cplusplus
}
#endif
#endif /* RILL_MODELS_H */
