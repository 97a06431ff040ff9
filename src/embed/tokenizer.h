/*
 * The WordPiece (WPM) tokenizer of BERT-family GGUF models, as llama.cpp
 * runs it (NOMIC-BERT.md section 5): normalisation (lower-casing, accent
 * stripping through a single-code-point NFD map, dropping controls),
 * splitting on whitespace, punctuation, ASCII symbols and CJK ideographs,
 * then greedy longest-match over the vocabulary with the U+2581 word prefix.
 *
 * The vocabulary's texts are not copied: the index points at the strings in
 * the open GGUF handle (which must outlive the tokenizer).
 */
#ifndef RILL_EMBED_TOKENIZER_H
#define RILL_EMBED_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "rill/gguf.h"

typedef struct rill__wpm rill__wpm;

/* Build from the model's metadata: tokenizer.ggml.model must be "bert";
 * tokens, special ids (with llama.cpp's defaults and range checks),
 * normalizer flags. [CLS], [SEP] and [UNK] must resolve to ids inside the
 * vocabulary. RILL_E_UNSUPPORTED also for what llama.cpp would split out
 * of the text before WordPiece (user-defined tokens, type 4) and for a
 * token text longer than 512 bytes. Returns RILL_OK, RILL_E_FORMAT /
 * RILL_E_UNSUPPORTED / RILL_E_LIMIT (err names the key), RILL_E_NOMEM. */
int rill__wpm_new(rill__wpm **out, const rill_gguf *g, rill_gguf_error *err);
void rill__wpm_free(rill__wpm *t);

/* Vocabulary size and the ids of [CLS] and [SEP] as used. */
uint32_t rill__wpm_vocab_size(const rill__wpm *t);
int32_t rill__wpm_cls_id(const rill__wpm *t);
int32_t rill__wpm_sep_id(const rill__wpm *t);
int32_t rill__wpm_unk_id(const rill__wpm *t);
/* Longest vocabulary text in bytes (the greedy match's lookahead). */
uint32_t rill__wpm_max_token_len(const rill__wpm *t);

/* Tokenize text[0..len) (parse_special off, as llama.cpp's embedding path
 * runs it). Writes at most cap ids; *n_out receives the full count.
 * Returns RILL_OK, or RILL_E_LIMIT when the count exceeds cap (ids then
 * holds the first cap). Allocates nothing; any thread. */
int rill__wpm_tokenize(const rill__wpm *t, const char *text, size_t len,
                       int add_special, int32_t *ids, size_t cap,
                       size_t *n_out);

/* Bytes of heap the tokenizer holds. */
size_t rill__wpm_heap_bytes(const rill__wpm *t);

#endif
