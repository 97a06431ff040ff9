/*
 * rill/embed.h — text embeddings computed in this process from a GGUF model
 * (nomic-bert: nomic-embed-text v1 and v1.5), or fetched from a server
 * through the same interface.
 *
 * A local embedder maps the model's weights read-only and shared (see
 * rill/gguf.h) and keeps them quantized: the heap holds the model's index,
 * the tokenizer's vocabulary index and, during a call, the activations of
 * that call, which grow linearly with the input's length (attention never
 * materialises the n x n score matrix).
 *
 * What it computes is what llama.cpp computes for the same file (token for
 * token, and within cosine 0.9999 per vector), followed by what users of
 * nomic-embed-text expect: an optional task prefix before tokenizing,
 * optional Matryoshka truncation, and L2 normalisation.
 *
 * Threads and lifetime: one handle serves any number of threads at once;
 * each call has its own scratch, and calls share the handle's worker pool.
 * A handle is reference counted: rill_embedder_ref adds a reference,
 * rill_embedder_close drops one, and the last drop frees everything (it
 * must not race with a call on the same reference).
 */
#ifndef RILL_EMBED_H
#define RILL_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "rill/client.h"
#include "rill/embeddings.h"
#include "rill/export.h"
#include "rill/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rill_embedder rill_embedder;

/* What to do with a text longer than the model's context. */
typedef enum rill_embed_overflow {
  RILL_EMBED_TRUNCATE = 0, /* keep the first tokens ([SEP] stays last) */
  RILL_EMBED_REFUSE = 1    /* fail the call with RILL_E_LIMIT */
} rill_embed_overflow;

/* Options of a local embedder. All zero is the default. */
typedef struct rill_embedder_options {
  size_t size;            /* sizeof(rill_embedder_options), or 0 */
  int n_threads;          /* workers per call; 0: the online CPUs */
  int preload;            /* 1: read every weight page and run one warm-up
                             embedding before open returns */
  int force_scalar;       /* 1: use the portable kernels only (the
                             reference path; for tests and comparisons) */
  uint32_t max_tokens;    /* 0: the model's context length (capped there) */
  rill_embed_overflow overflow;
  const char *models_dir; /* Ollama store for names; NULL: the default */
} rill_embedder_options;

/* Options of one call. All zero is the default. */
typedef struct rill_embed_options {
  size_t size;        /* sizeof(rill_embed_options), or 0 */
  const char *prefix; /* prepended to every text before tokenizing, e.g.
                         "search_query: " or "search_document: "; NULL:
                         none */
  uint32_t dims;      /* 0: the model's width; else Matryoshka: layer norm
                         over the pooled vector, keep the first dims,
                         renormalise (nomic v1.5); must be <= the width */
  int no_normalize;   /* 1: return the mean-pooled vector as llama.cpp
                         does, without L2 normalisation (dims must be 0) */
} rill_embed_options;

/* The RILL_EMBED_PREFIX_* strings are nomic-embed-text's task prefixes. */
#define RILL_EMBED_PREFIX_QUERY "search_query: "
#define RILL_EMBED_PREFIX_DOCUMENT "search_document: "
#define RILL_EMBED_PREFIX_CLUSTERING "clustering: "
#define RILL_EMBED_PREFIX_CLASSIFICATION "classification: "

/*
 * Open a local embedder from a GGUF file or an Ollama model name (resolved
 * as rill_gguf_open_model does). opt and err may be NULL.
 * Ownership: *out holds one reference; drop it with rill_embedder_close.
 * Returns: RILL_OK; RILL_E_INVALID; RILL_E_NOT_FOUND; RILL_E_IO;
 * RILL_E_FORMAT (a malformed file, or metadata or tensors that disagree
 * with the architecture: err names the key or tensor); RILL_E_UNSUPPORTED
 * (another architecture, a tensor type the kernels do not read);
 * RILL_E_LIMIT; RILL_E_NOMEM. Thread: any.
 */
RILL_API int rill_embedder_open(rill_embedder **out, const char *model,
                                const rill_embedder_options *opt,
                                rill_gguf_error *err);

/*
 * An embedder that asks a server (Ollama, OpenAI-compatible, Gemini) through
 * client, with req as the template of every request (endpoint, model,
 * timeouts, retry, task type; its inputs are ignored). The strings req
 * points at are copied. client must outlive the embedder; calls through one
 * remote embedder are serialised (a client is used by one thread at a
 * time). Returns RILL_OK, RILL_E_INVALID, RILL_E_NOMEM.
 */
RILL_API int rill_embedder_open_remote(rill_embedder **out, rill_client *client,
                                       const rill_embed_request *req);

/* Add a reference; returns e. Thread: any. */
RILL_API rill_embedder *rill_embedder_ref(rill_embedder *e);

/* Drop a reference; the last one frees the embedder. NULL is a no-op. */
RILL_API void rill_embedder_close(rill_embedder *e);

/*
 * Embed n texts (UTF-8; lens[i] bytes each, or NUL-terminated when lens is
 * NULL). opt may be NULL.
 * Ownership: *out belongs to the caller; free with rill_embeddings_free.
 * Vector i is (*out)->data[i*dims ..]; input_tokens counts the tokens
 * embedded, specials included.
 * Returns: RILL_OK; RILL_E_INVALID (bad dims, NULL); RILL_E_LIMIT (a text
 * longer than the context with RILL_EMBED_REFUSE; errmsg names its index);
 * RILL_E_NOMEM; for a remote embedder the errors of rill_embed_remote.
 * errmsg (may be NULL) receives the detailed message. Thread: any.
 */
RILL_API int rill_embedder_embed(rill_embedder *e, const char *const *texts,
                                 const size_t *lens, size_t n,
                                 const rill_embed_options *opt,
                                 rill_embeddings **out, char *errmsg,
                                 size_t errmsg_cap);

/*
 * Tokenize text (len bytes) as the local model does, [CLS] and [SEP]
 * included when add_special, into ids[0..cap). *n_out receives the number
 * of tokens the text has, even when it exceeds cap (then RILL_E_LIMIT and
 * ids holds the first cap). Allocates nothing. Returns RILL_OK;
 * RILL_E_LIMIT; RILL_E_INVALID; RILL_E_UNSUPPORTED (a remote embedder).
 * Thread: any.
 */
RILL_API int rill_embedder_tokenize(const rill_embedder *e, const char *text,
                                    size_t len, int add_special, int32_t *ids,
                                    size_t cap, size_t *n_out);

/* What an embedder is. Strings live as long as the embedder. */
typedef struct rill_embedder_info {
  int local;                /* 1: computed here; 0: a server */
  const char *architecture; /* "nomic-bert"; NULL when remote */
  const char *model;        /* the path, name or remote model */
  uint32_t dims;            /* embedding width (0 if remote, unknown yet) */
  uint32_t context;         /* tokens per text at most */
  uint32_t n_layers, n_heads, vocab_size;
  int n_threads;
  const char *kernels;      /* "avx2", "avx512", "scalar" */
  uint64_t bytes_mapped;    /* weights mapped from the file */
  uint64_t heap_bytes;      /* heap the handle holds between calls */
  uint32_t types[RILL_GGUF_GGML_TYPE_END]; /* weight tensors per type id */
} rill_embedder_info;

RILL_API int rill_embedder_get_info(const rill_embedder *e,
                                    rill_embedder_info *out);

#ifdef __cplusplus
}
#endif

#endif /* RILL_EMBED_H */
