/*
 * The WordPiece tokenizer, token for token as llama.cpp's WPM tokenizer
 * (NOMIC-BERT.md section 5, src/llama-vocab.cpp of the llama.cpp release
 * node-llama-cpp 3.22.1 bundles).
 *
 * llama.cpp decodes the whole text to code points, builds every word as a
 * string, then matches each word greedily. Here one pass streams over the
 * text: a word is normalised into a fixed window on the stack and matched
 * while it grows. That is exact because the greedy match at a position
 * only looks max_token_len bytes ahead; the one thing that depends on the
 * whole word, the fall back to a single [UNK] when some position has no
 * match, is done by rewinding the output count to where the word began.
 */
#include "embed/tokenizer.h"

#include <string.h>

#include "core/alloc.h"
#include "embed/unicode.h"
#include "gguf/gguf_internal.h"
#include "json/json.h"
#include "rill/error.h"

/* Longest vocabulary text, in bytes, the stack window supports. Real BERT
 * vocabularies stay under 60 bytes; a longer text is refused at load
 * rather than silently never matched. */
#define WPM_MAX_TOKEN 512
/* Twice the lookahead, so a compaction always leaves room for the next
 * code point. */
#define WPM_WINDOW (2 * WPM_MAX_TOKEN + 16)
/* Slots hold (8-bit hash tag << 24) | (id + 1). */
#define WPM_MAX_VOCAB 0xFFFFFEu

/* llama.cpp's defaults for "bert" vocabularies. */
#define DEF_BOS 101
#define DEF_SEP 102
#define DEF_UNK 100
#define DEF_PAD 0
#define DEF_MASK 103

struct rill__wpm {
  const rill_gguf *g;
  uint64_t tokens_kv;
  uint32_t n_vocab;
  uint32_t max_token_len;
  int32_t cls_id, sep_id, unk_id, pad_id, mask_id;
  int lowercase, strip_accents;
  uint32_t *slots;
  uint32_t mask;
};

static const unsigned char word_prefix[3] = {0xE2, 0x96, 0x81}; /* U+2581 */

/* ---- the index ----------------------------------------------------------- */

/* FNV-1a runs byte by byte so that the hashes of every prefix from one
 * position come out of one pass; the finaliser spreads them over the
 * slots. */
static uint32_t fnv_step(uint32_t h, unsigned char b) {
  return (h ^ b) * 16777619u;
}
#define FNV_INIT 2166136261u

static uint32_t fmix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* The id of text p[0..n) with FNV state h, or -1. */
static int32_t lookup(const rill__wpm *t, const unsigned char *p, size_t n,
                      uint32_t h) {
  uint32_t m = fmix(h);
  uint32_t tag = m >> 24;
  for (uint32_t i = m & t->mask;; i = (i + 1) & t->mask) {
    uint32_t v = t->slots[i];
    if (v == 0)
      return -1;
    if ((v >> 24) == tag) {
      uint32_t id = (v & 0xFFFFFFu) - 1;
      const char *s;
      size_t len;
      if (rill_gguf_arr_str(t->g, t->tokens_kv, id, &s, &len) == RILL_OK &&
          len == n && memcmp(s, p, n) == 0)
        return (int32_t)id;
    }
  }
}

static uint32_t hash_bytes(const unsigned char *p, size_t n) {
  uint32_t h = FNV_INIT;
  for (size_t i = 0; i < n; i++)
    h = fnv_step(h, p[i]);
  return h;
}

/* ---- loading ------------------------------------------------------------- */

static uint64_t kv_offset(const rill_gguf *g, const char *key) {
  rill_gguf_kv kv;
  int64_t i = rill_gguf_find_key(g, key);
  if (i < 0 || rill_gguf_kv_at(g, (uint64_t)i, &kv) != RILL_OK)
    return 0;
  return kv.offset;
}

static int read_model(const rill_gguf *g, rill_gguf_error *err) {
  static const char key[] = "tokenizer.ggml.model";
  const char *s;
  size_t n;
  int rc = rill_gguf_get_str(g, key, &s, &n);
  if (rc == RILL_E_NOT_FOUND)
    return rill__gguf_fail(err, RILL_E_FORMAT, 0, "%s: missing", key);
  if (rc != RILL_OK)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(g, key),
                           "%s: not a string", key);
  if (n != 4 || memcmp(s, "bert", 4) != 0)
    return rill__gguf_fail(err, RILL_E_UNSUPPORTED, kv_offset(g, key),
                           "%s is '%.*s': only 'bert' (WordPiece) is supported",
                           key, rill__gguf_shown(s, n, 40), s);
  return RILL_OK;
}

/* A special id: llama.cpp's default, disabled (-1) when outside the
 * vocabulary; a value in the file replaces it only when inside. */
static int read_special(const rill__wpm *t, const char *key, int32_t def,
                        int32_t *out, rill_gguf_error *err) {
  uint32_t v;
  int rc = rill_gguf_get_u32(t->g, key, &v);
  *out = (uint32_t)def < t->n_vocab ? def : -1;
  if (rc == RILL_E_NOT_FOUND)
    return RILL_OK;
  if (rc != RILL_OK)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                           "%s: not an unsigned 32-bit integer", key);
  if (v < t->n_vocab)
    *out = (int32_t)v;
  return RILL_OK;
}

static int read_flag(const rill_gguf *g, const char *key, int def, int *out,
                     rill_gguf_error *err) {
  int rc = rill_gguf_get_bool(g, key, out);
  if (rc == RILL_E_NOT_FOUND) {
    *out = def;
    return RILL_OK;
  }
  if (rc != RILL_OK)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(g, key),
                           "%s: not a bool", key);
  return RILL_OK;
}

/* llama.cpp splits user-defined tokens (type 4) out of the raw text before
 * WordPiece runs, even with parse_special off, in an order that depends on
 * their lengths; and it makes four gpt-oss token texts user-defined
 * whatever their type. BERT vocabularies have neither; refusing them keeps
 * "identical to llama.cpp" true for every file that loads. */
static int check_types(const rill__wpm *t, rill_gguf_error *err) {
  static const char key[] = "tokenizer.ggml.token_type";
  static const char *const forced[] = {"<|channel|>", "<|message|>",
                                       "<|start|>", "<|constrain|>"};
  for (size_t k = 0; k < sizeof forced / sizeof forced[0]; k++) {
    size_t n = strlen(forced[k]);
    int32_t id = lookup(t, (const unsigned char *)forced[k], n,
                        hash_bytes((const unsigned char *)forced[k], n));
    if (id >= 0)
      return rill__gguf_fail(err, RILL_E_UNSUPPORTED,
                             kv_offset(t->g, "tokenizer.ggml.tokens"),
                             "tokenizer.ggml.tokens: token %d '%s' is a "
                             "user-defined token for llama.cpp; not supported",
                             (int)id, forced[k]);
  }
  int64_t kv = rill_gguf_find_key(t->g, key);
  if (kv < 0)
    return RILL_OK;
  rill_gguf_vtype et;
  uint64_t count;
  if (rill_gguf_get_arr(t->g, key, &et, &count) != RILL_OK ||
      et != RILL_GGUF_I32)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                           "%s: not an array of i32", key);
  if (count < t->n_vocab)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                           "%s: %llu types for %lu tokens", key,
                           (unsigned long long)count,
                           (unsigned long)t->n_vocab);
  for (uint32_t i = 0; i < t->n_vocab; i++) {
    int64_t ty;
    if (rill_gguf_arr_i64(t->g, (uint64_t)kv, i, &ty) != RILL_OK)
      return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                             "%s: element %lu unreadable", key,
                             (unsigned long)i);
    if (ty == 4)
      return rill__gguf_fail(err, RILL_E_UNSUPPORTED, kv_offset(t->g, key),
                             "%s: token %lu is user-defined (type 4); "
                             "not supported",
                             key, (unsigned long)i);
  }
  return RILL_OK;
}

static int build_index(rill__wpm *t, rill_gguf_error *err) {
  static const char key[] = "tokenizer.ggml.tokens";
  uint32_t size = 16;
  while (size < t->n_vocab * 2u)
    size *= 2;
  t->slots = rill__calloc(size, sizeof *t->slots);
  if (!t->slots)
    return rill__gguf_fail(err, RILL_E_NOMEM, 0, "out of memory");
  t->mask = size - 1;
  for (uint32_t id = 0; id < t->n_vocab; id++) {
    const char *s;
    size_t n;
    if (rill_gguf_arr_str(t->g, t->tokens_kv, id, &s, &n) != RILL_OK)
      return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                             "%s: element %lu unreadable", key,
                             (unsigned long)id);
    /* llama.cpp renames an empty text "[EMPTY_<id>]", which no word can
     * contain (brackets split): such a token never matches. */
    if (n == 0)
      continue;
    if (n > WPM_MAX_TOKEN)
      return rill__gguf_fail(err, RILL_E_UNSUPPORTED, kv_offset(t->g, key),
                             "%s: token %lu is %zu bytes long; at most %d "
                             "are supported",
                             key, (unsigned long)id, n, WPM_MAX_TOKEN);
    if (n > t->max_token_len)
      t->max_token_len = (uint32_t)n;
    const unsigned char *p = (const unsigned char *)s;
    uint32_t m = fmix(hash_bytes(p, n));
    uint32_t tag = m >> 24;
    uint32_t i = m & t->mask;
    for (; t->slots[i] != 0; i = (i + 1) & t->mask) {
      uint32_t v = t->slots[i];
      uint32_t other = (v & 0xFFFFFFu) - 1;
      const char *os;
      size_t on;
      if ((v >> 24) == tag &&
          rill_gguf_arr_str(t->g, t->tokens_kv, other, &os, &on) == RILL_OK &&
          on == n && memcmp(os, s, n) == 0)
        return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, key),
                               "%s: token %lu repeats the text of token %lu "
                               "('%.*s')",
                               key, (unsigned long)id, (unsigned long)other,
                               rill__gguf_shown(s, n, 40), s);
    }
    t->slots[i] = (tag << 24) | (id + 1);
  }
  return RILL_OK;
}

static int load(rill__wpm *t, rill_gguf_error *err) {
  static const char tkey[] = "tokenizer.ggml.tokens";
  int rc = read_model(t->g, err);
  if (rc != RILL_OK)
    return rc;
  int64_t kv = rill_gguf_find_key(t->g, tkey);
  if (kv < 0)
    return rill__gguf_fail(err, RILL_E_FORMAT, 0, "%s: missing", tkey);
  rill_gguf_vtype et;
  uint64_t count;
  if (rill_gguf_get_arr(t->g, tkey, &et, &count) != RILL_OK ||
      et != RILL_GGUF_STRING)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, tkey),
                           "%s: not an array of strings", tkey);
  if (count == 0)
    return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, tkey),
                           "%s: empty", tkey);
  if (count > WPM_MAX_VOCAB)
    return rill__gguf_fail(err, RILL_E_LIMIT, kv_offset(t->g, tkey),
                           "%s: %llu tokens; at most %u are supported", tkey,
                           (unsigned long long)count, WPM_MAX_VOCAB);
  t->tokens_kv = (uint64_t)kv;
  t->n_vocab = (uint32_t)count;
  if ((rc = build_index(t, err)) != RILL_OK ||
      (rc = check_types(t, err)) != RILL_OK)
    return rc;
  if ((rc = read_special(t, "tokenizer.ggml.bos_token_id", DEF_BOS,
                         &t->cls_id, err)) != RILL_OK ||
      (rc = read_special(t, "tokenizer.ggml.seperator_token_id", DEF_SEP,
                         &t->sep_id, err)) != RILL_OK ||
      (rc = read_special(t, "tokenizer.ggml.unknown_token_id", DEF_UNK,
                         &t->unk_id, err)) != RILL_OK ||
      (rc = read_special(t, "tokenizer.ggml.padding_token_id", DEF_PAD,
                         &t->pad_id, err)) != RILL_OK ||
      (rc = read_special(t, "tokenizer.ggml.mask_token_id", DEF_MASK,
                         &t->mask_id, err)) != RILL_OK)
    return rc;
  /* Without these llama.cpp stops on an assertion or emits id -1; an embedder
   * always needs them, so a file without them is refused here. */
  static const struct {
    const char *key, *what;
    int def;
  } need[] = {{"tokenizer.ggml.bos_token_id", "[CLS]", DEF_BOS},
              {"tokenizer.ggml.seperator_token_id", "[SEP]", DEF_SEP},
              {"tokenizer.ggml.unknown_token_id", "[UNK]", DEF_UNK}};
  const int32_t have[] = {t->cls_id, t->sep_id, t->unk_id};
  for (size_t i = 0; i < 3; i++)
    if (have[i] < 0)
      return rill__gguf_fail(err, RILL_E_FORMAT, kv_offset(t->g, need[i].key),
                             "%s: no %s token: absent or outside the %lu "
                             "tokens, and the default %d is outside too",
                             need[i].key, need[i].what,
                             (unsigned long)t->n_vocab, need[i].def);
  if ((rc = read_flag(t->g, "tokenizer.ggml.normalizer.lowercase", 1,
                      &t->lowercase, err)) != RILL_OK ||
      (rc = read_flag(t->g, "tokenizer.ggml.normalizer.strip_accents",
                      t->lowercase, &t->strip_accents, err)) != RILL_OK)
    return rc;
  return RILL_OK;
}

int rill__wpm_new(rill__wpm **out, const rill_gguf *g, rill_gguf_error *err) {
  if (!out || !g)
    return rill__gguf_fail(err, RILL_E_INVALID, 0, "NULL argument");
  *out = NULL;
  rill__wpm *t = rill__calloc(1, sizeof *t);
  if (!t)
    return rill__gguf_fail(err, RILL_E_NOMEM, 0, "out of memory");
  t->g = g;
  int rc = load(t, err);
  if (rc != RILL_OK) {
    rill__wpm_free(t);
    return rc;
  }
  *out = t;
  return RILL_OK;
}

void rill__wpm_free(rill__wpm *t) {
  if (!t)
    return;
  rill__free(t->slots);
  rill__free(t);
}

uint32_t rill__wpm_vocab_size(const rill__wpm *t) { return t->n_vocab; }
int32_t rill__wpm_cls_id(const rill__wpm *t) { return t->cls_id; }
int32_t rill__wpm_sep_id(const rill__wpm *t) { return t->sep_id; }
int32_t rill__wpm_unk_id(const rill__wpm *t) { return t->unk_id; }
uint32_t rill__wpm_max_token_len(const rill__wpm *t) {
  return t->max_token_len;
}

size_t rill__wpm_heap_bytes(const rill__wpm *t) {
  return sizeof *t + ((size_t)t->mask + 1) * sizeof *t->slots;
}

/* ---- tokenizing ---------------------------------------------------------- */

typedef struct wstate {
  const rill__wpm *t;
  int32_t *ids;
  size_t cap, n;
  size_t word_first; /* n when the current word began */
  size_t pos, end;   /* greedy position and fill of buf */
  int in_word, failed;
  unsigned char buf[WPM_WINDOW];
} wstate;

static void emit(wstate *s, int32_t id) {
  if (s->n < s->cap)
    s->ids[s->n] = id;
  s->n++;
}

/* Greedy longest match while there is a full lookahead (or the word is
 * complete): the same candidates, longest first, as llama.cpp tries. */
static void match(wstate *s, int final) {
  const rill__wpm *t = s->t;
  uint32_t h[WPM_MAX_TOKEN + 1];
  while (!s->failed && s->pos < s->end &&
         (final || s->end - s->pos >= t->max_token_len)) {
    size_t avail = s->end - s->pos;
    if (avail > t->max_token_len)
      avail = t->max_token_len;
    const unsigned char *p = s->buf + s->pos;
    h[0] = FNV_INIT;
    for (size_t j = 0; j < avail; j++)
      h[j + 1] = fnv_step(h[j], p[j]);
    size_t j = avail;
    for (; j > 0; j--) {
      int32_t id = lookup(t, p, j, h[j]);
      if (id >= 0) {
        emit(s, id);
        s->pos += j;
        break;
      }
    }
    if (j == 0)
      s->failed = 1;
  }
}

static void push(wstate *s, const unsigned char *b, size_t n) {
  if (s->failed)
    return; /* the word is [UNK] whatever follows */
  if (s->end + n > sizeof s->buf) {
    /* match() keeps end - pos under max_token_len + 4 <= half the
     * window, so this always makes room. */
    memmove(s->buf, s->buf + s->pos, s->end - s->pos);
    s->end -= s->pos;
    s->pos = 0;
  }
  memcpy(s->buf + s->end, b, n);
  s->end += n;
  match(s, 0);
}

static void word_begin(wstate *s) {
  s->in_word = 1;
  s->failed = 0;
  s->word_first = s->n;
  s->pos = s->end = 0;
  memcpy(s->buf, word_prefix, sizeof word_prefix);
  s->end = sizeof word_prefix;
}

static void word_end(wstate *s) {
  if (!s->in_word)
    return;
  match(s, 1);
  if (s->failed) {
    s->n = s->word_first;
    emit(s, s->t->unk_id);
  }
  s->in_word = 0;
}

/* One decoded code point through the normaliser and the word splitter. */
static void feed_cp(wstate *s, uint32_t cp) {
  const rill__wpm *t = s->t;
  /* llama.cpp decodes F4 90.. F7 BF.. to values past U+10FFFF and then
   * throws when re-encoding them; they are dropped here like any other
   * invalid input. */
  if (cp > RILL__UC_MAX)
    return;
  if (t->strip_accents)
    cp = rill__uc_nfd_base(cp);
  int c = rill__uc_class(cp);
  if (c == RILL__UC_SPACE) {
    word_end(s);
    return;
  }
  if (c == RILL__UC_DROP || cp == 0)
    return;
  if (c == RILL__UC_MARK) {
    if (t->strip_accents)
      return;
    c = RILL__UC_JOIN;
  }
  unsigned char b[4];
  size_t nb = rill__utf8_put(t->lowercase ? rill__uc_lower(cp) : cp, (char *)b);
  if (c == RILL__UC_SPLIT) {
    word_end(s);
    word_begin(s);
    push(s, b, nb);
    word_end(s);
  } else {
    if (!s->in_word)
      word_begin(s);
    push(s, b, nb);
  }
}

int rill__wpm_tokenize(const rill__wpm *t, const char *text, size_t len,
                       int add_special, int32_t *ids, size_t cap,
                       size_t *n_out) {
  if (n_out)
    *n_out = 0;
  if (!t || !n_out || (!text && len) || (!ids && cap))
    return RILL_E_INVALID;
  wstate s;
  s.t = t;
  s.ids = ids;
  s.cap = cap;
  s.n = 0;
  s.word_first = 0;
  s.pos = s.end = 0;
  s.in_word = s.failed = 0;
  if (add_special)
    emit(&s, t->cls_id);
  const unsigned char *p = (const unsigned char *)text;
  size_t i = 0;
  while (i < len) {
    uint32_t cp;
    i += rill__uc_decode(p + i, len - i, &cp);
    feed_cp(&s, cp);
  }
  word_end(&s);
  if (add_special)
    emit(&s, t->sep_id);
  *n_out = s.n;
  return s.n > cap ? RILL_E_LIMIT : RILL_OK;
}
