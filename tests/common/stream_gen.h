/*
 * Synthetic provider streams for tests and benchmarks: realistic Ollama
 * NDJSON chat lines and OpenAI-style SSE chat chunks, with escapes and
 * non-ASCII text as real answers have. Deterministic (fixed seed).
 */
#ifndef RILL_TEST_STREAM_GEN_H
#define RILL_TEST_STREAM_GEN_H

#include <stddef.h>

typedef enum stream_kind { STREAM_OLLAMA_NDJSON, STREAM_OPENAI_SSE } stream_kind;

/* Fill buf (capacity cap) with whole records until at least want bytes are
 * written (or the next record would not fit). Returns the bytes written and
 * the number of records in *n_records. The pattern can be repeated end to
 * end to make a longer valid stream. */
size_t stream_gen_pattern(stream_kind kind, char *buf, size_t cap, size_t want,
                          size_t *n_records);

#endif
