/*
 * libFuzzer target for the WordPiece tokenizer (src/embed/tokenizer.c): the
 * input is text, tokenized against a fixed vocabulary (built once) in each
 * normaliser mode, with a large and a small output capacity.
 *
 * Invariants: the count is the same whatever the capacity (RILL_E_LIMIT
 * exactly when it exceeds the capacity, and the ids kept are the first
 * ones); every id is inside the vocabulary; add_special adds exactly [CLS]
 * first and [SEP] last around the same ids.
 */
#define _GNU_SOURCE /* mkstemp */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embed/tokenizer.h"
#include "rill/error.h"
#include "rill/gguf.h"

/* Test-only: a tiny GGUF writer, enough for one string array and a few
 * scalars (the library is the thing under test, not this). */
typedef struct wbuf {
  unsigned char *p;
  size_t n, cap;
} wbuf;

static void put(wbuf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 256;
    b->p = realloc(b->p, b->cap);
    if (!b->p)
      abort();
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
}
static void put_u32(wbuf *b, uint32_t v) {
  unsigned char x[4] = {(unsigned char)v, (unsigned char)(v >> 8),
                        (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  put(b, x, 4);
}
static void put_u64(wbuf *b, uint64_t v) {
  put_u32(b, (uint32_t)v);
  put_u32(b, (uint32_t)(v >> 32));
}
static void put_str(wbuf *b, const char *s) {
  put_u64(b, strlen(s));
  put(b, s, strlen(s));
}

static const char *const k_words[] = {
    "the", "of", "and", "hello", "world", "ing", "ed", "s", "er", "un",
    "caf", "e", "é", "ß", "ж", "の", "テ", "日", "本", "한", "ᄒ", "€",
    "a", "b", "c", "d", "x", "y", "z", "1", "2", "3", ".", ",", "!", "?",
    "-", "'", "$", "[", "]", "(", ")", "—", "…", "“", "”", "🍕", "ab",
    "abc", "abcd", "aa", "aaa", "aaaa", "supercalifragilisticexpialidocious",
};

static unsigned char *vocab_file(size_t *len, int mode) {
  wbuf b = {0};
  char t[128];
  size_t n_words = sizeof k_words / sizeof k_words[0];
  uint64_t n_tok = 104 + 2 * n_words;
  put(&b, "GGUF", 4);
  put_u32(&b, 3);
  put_u64(&b, 0);
  put_u64(&b, mode ? 3 : 2);
  put_str(&b, "tokenizer.ggml.model");
  put_u32(&b, 8);
  put_str(&b, "bert");
  put_str(&b, "tokenizer.ggml.tokens");
  put_u32(&b, 9);
  put_u32(&b, 8);
  put_u64(&b, n_tok);
  for (int i = 0; i < 104; i++) {
    if (i == 0)
      snprintf(t, sizeof t, "[PAD]");
    else if (i < 100)
      snprintf(t, sizeof t, "[unused%d]", i - 1);
    else
      snprintf(t, sizeof t, "%s",
               (const char *[]){"[UNK]", "[CLS]", "[SEP]", "[MASK]"}[i - 100]);
    put_str(&b, t);
  }
  for (size_t i = 0; i < n_words; i++) {
    snprintf(t, sizeof t, "\xe2\x96\x81%s", k_words[i]);
    put_str(&b, t);
    put_str(&b, k_words[i]);
  }
  if (mode) {
    put_str(&b, mode == 1 ? "tokenizer.ggml.normalizer.lowercase"
                          : "tokenizer.ggml.normalizer.strip_accents");
    put_u32(&b, 7);
    unsigned char f = 0;
    put(&b, &f, 1);
  }
  *len = b.n;
  return b.p;
}

static rill_gguf *g_g[3];
static rill__wpm *g_t[3];

static void init(void) {
  for (int m = 0; m < 3; m++) {
    char path[] = "/tmp/rill_fuzz_tok_XXXXXX";
    int fd = mkstemp(path);
    size_t len;
    unsigned char *p = vocab_file(&len, m);
    if (fd < 0 || write(fd, p, len) != (ssize_t)len)
      abort();
    close(fd);
    free(p);
    rill_gguf_error e;
    if (rill_gguf_open(&g_g[m], path, NULL, &e) != RILL_OK) {
      fprintf(stderr, "open: %s\n", e.message);
      abort();
    }
    unlink(path);
    if (rill__wpm_new(&g_t[m], g_g[m], &e) != RILL_OK) {
      fprintf(stderr, "wpm: %s\n", e.message);
      abort();
    }
  }
}

#define BIG (1u << 16)
static int32_t g_big[BIG + 2], g_with[BIG + 2], g_small[8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!g_t[0])
    init();
  if (size > 8192)
    return 0;
  const char *text = (const char *)data;
  for (int m = 0; m < 3; m++) {
    const rill__wpm *t = g_t[m];
    size_t n, n2, n3;
    int rc = rill__wpm_tokenize(t, text, size, 0, g_big, BIG, &n);
    if (rc != RILL_OK || n > BIG)
      abort();
    for (size_t i = 0; i < n; i++)
      if (g_big[i] < 0 || (uint32_t)g_big[i] >= rill__wpm_vocab_size(t))
        abort();
    size_t cap = size % 8;
    rc = rill__wpm_tokenize(t, text, size, 0, cap ? g_small : NULL, cap, &n2);
    if (n2 != n || rc != (n > cap ? RILL_E_LIMIT : RILL_OK))
      abort();
    if (memcmp(g_small, g_big, (n < cap ? n : cap) * sizeof *g_small) != 0)
      abort();
    rc = rill__wpm_tokenize(t, text, size, 1, g_with, BIG + 2, &n3);
    if (rc != RILL_OK || n3 != n + 2 || g_with[0] != rill__wpm_cls_id(t) ||
        g_with[n + 1] != rill__wpm_sep_id(t) ||
        memcmp(g_with + 1, g_big, n * sizeof *g_big) != 0)
      abort();
  }
  return 0;
}
