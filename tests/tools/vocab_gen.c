/*
 * vocab_gen — the WordPiece test vocabulary, built deterministically, and a
 * vocabulary-only nomic-bert GGUF file holding it.
 *
 *   vocab_gen OUT.gguf [--cased | --no-strip]
 *
 * --cased writes tokenizer.ggml.normalizer.lowercase = false (accents are
 * then kept too, by llama.cpp's default); --no-strip writes
 * normalizer.strip_accents = false with lower-casing on. Without either the
 * file has no normalizer keys (both on), like nomic-embed-text.
 *
 * The same builder is compiled into tests/unit/test_tokenizer.c (which
 * defines VOCAB_GEN_NO_MAIN and includes this file), so the committed
 * reference ids in tests/unit/data/tokenizer/ (made by llama.cpp from the
 * file this tool writes: tests/reference/tokenizer_ref.mjs) and the test
 * always see the same vocabulary.
 *
 * Contents, in the converter's convention (a word-initial piece "foo" is
 * "\u2581foo", a continuation "##foo" is bare "foo"): [PAD], [unused0..98],
 * [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, more [unusedN]; every
 * printable ASCII character, Latin-1 and Latin Extended-A letters, Greek,
 * Cyrillic, Hebrew, Arabic, Devanagari, Thai, kana, Hangul leading jamo
 * and some syllables, 3,000 CJK ideographs, a few symbols, in both forms;
 * common English words and suffixes; every two-letter piece; pseudo-random
 * three- and four-letter pieces; a few words of other scripts and a
 * 37-byte word so that the greedy lookahead is long. 15,008 tokens.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"

typedef struct tv {
  char **text;
  int32_t *type;
  size_t n, cap;
  /* open-addressing set of texts, for uniqueness */
  size_t *set;
  size_t set_cap;
} tv;

static uint32_t tv_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static void tv_grow_set(tv *v) {
  size_t nc = v->set_cap ? v->set_cap * 2 : 1024;
  size_t *ns = calloc(nc, sizeof *ns);
  if (!ns)
    exit(1);
  for (size_t i = 0; i < v->n; i++) {
    size_t j = tv_hash(v->text[i]) & (nc - 1);
    while (ns[j])
      j = (j + 1) & (nc - 1);
    ns[j] = i + 1;
  }
  free(v->set);
  v->set = ns;
  v->set_cap = nc;
}

/* Append s unless already present. */
static void tv_add(tv *v, const char *s, int32_t type) {
  if ((v->n + 1) * 2 > v->set_cap)
    tv_grow_set(v);
  size_t j = tv_hash(s) & (v->set_cap - 1);
  for (; v->set[j]; j = (j + 1) & (v->set_cap - 1))
    if (strcmp(v->text[v->set[j] - 1], s) == 0)
      return;
  if (v->n == v->cap) {
    v->cap = v->cap ? v->cap * 2 : 1024;
    v->text = realloc(v->text, v->cap * sizeof *v->text);
    v->type = realloc(v->type, v->cap * sizeof *v->type);
    if (!v->text || !v->type)
      exit(1);
  }
  size_t len = strlen(s);
  v->text[v->n] = malloc(len + 1);
  if (!v->text[v->n])
    exit(1);
  memcpy(v->text[v->n], s, len + 1);
  v->type[v->n] = type;
  v->set[j] = ++v->n;
}

static size_t tv_utf8(uint32_t cp, char *o) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* "\u2581" + s and s. */
static void tv_both(tv *v, const char *s) {
  char b[256];
  snprintf(b, sizeof b, "\xe2\x96\x81%s", s);
  tv_add(v, b, 1);
  tv_add(v, s, 1);
}

/* Each code point of the UTF-8 string s, in both forms. */
static void tv_chars(tv *v, const char *s) {
  while (*s) {
    size_t n = 1;
    while ((s[n] & 0xC0) == 0x80)
      n++;
    char c[8];
    memcpy(c, s, n);
    c[n] = 0;
    tv_both(v, c);
    s += n;
  }
}

static void tv_cp_range(tv *v, uint32_t a, uint32_t b) {
  for (uint32_t c = a; c <= b; c++) {
    char s[8];
    s[tv_utf8(c, s)] = 0;
    tv_both(v, s);
  }
}

static const char *const tv_words[] = {
    "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with",
    "as", "by", "at", "from", "his", "her", "it", "an", "are", "were",
    "which", "be", "this", "has", "had", "have", "not", "but", "first",
    "one", "two", "three", "new", "their", "they", "after", "who", "its",
    "he", "she", "also", "been", "other", "more", "time", "into", "year",
    "years", "all", "when", "there", "can", "would", "about", "some", "up",
    "out", "only", "world", "city", "people", "state", "school", "house",
    "water", "light", "text", "embed", "model", "token", "search", "query",
    "document", "cluster", "class", "hello", "good", "day", "night", "cafe",
    "naive", "resume", "strasse", "pizza", "price", "dollar", "euro",
    "computer", "science", "language", "learning", "machine", "deep",
    "network", "neural", "vector", "data", "base", "file", "open", "close",
    "read", "write", "fast", "slow", "small", "large", "long", "short",
    "word", "piece", "test", "zero", "width", "joiner", "space", "tab",
    "line", "quick", "brown", "fox", "jumps", "over", "lazy", "dog",
    "unicode", "ascii", "emoji", "symbol", "number", "point", "pi", "rate",
    "supercalifragilisticexpialidocious", "un", "re", "pre", "dis", "in",
    "im", "non", "over", "under", "micro", "multi", "inter", "trans",
    "photo", "graph", "tele", "phone", "auto", "bio", "geo", "logy",
    "mother", "father", "brother", "sister", "friend", "love", "life",
    "work", "play", "run", "walk", "talk", "think", "know", "see", "look",
    "make", "take", "give", "find", "tell", "ask", "seem", "feel", "try",
    "leave", "call", "keep", "let", "begin", "show", "hear", "turn", "move",
    "live", "believe", "bring", "happen", "sit", "stand", "lose", "pay",
    "meet", "include", "continue", "set", "change", "lead", "understand",
    "watch", "follow", "stop", "create", "speak", "allow", "add", "spend",
    "grow", "offer", "remember", "consider", "appear", "buy", "wait",
    "serve", "die", "send", "expect", "build", "stay", "fall", "cut",
    "reach", "kill", "remain", "don", "isn", "can't", "o'clock",
    "café", "naïve", "résumé", "straße", "über", "élan", "façade",
    "привет", "мир", "москва", "καλη", "μερα", "αθηνα", "שלום", "مرحبا",
    "नमस्ते", "สวัสดี", "日本", "中国", "東京", "ありがとう", "テキスト",
    "こんにちは", "안녕", "한국", "😀", "🍕", "€", "©", "°c",
};
static const char *const tv_suffixes[] = {
    "s", "es", "ed", "ing", "ly", "er", "ers", "est", "ness", "ment",
    "able", "ible", "tion", "tions", "sion", "al", "ial", "ful", "less",
    "ous", "ive", "ize", "ise", "ity", "ty", "ism", "ist", "ance", "ence",
    "dom", "ship", "hood", "ward", "wise", "like", "ish", "ic", "ical",
    "##", "#", "'s", "n't", "00", "000", "19", "20", "2024", "123", "ive",
    "me", "ich", "ße", "ße", "ré", "ïve", "ого", "ами", "ους", "ει",
};

static uint32_t tv_rng(uint32_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void tv_build(tv *v) {
  char b[64];
  tv_add(v, "[PAD]", 3);
  for (int i = 0; i < 99; i++) {
    snprintf(b, sizeof b, "[unused%d]", i);
    tv_add(v, b, 1);
  }
  tv_add(v, "[UNK]", 3);
  tv_add(v, "[CLS]", 3);
  tv_add(v, "[SEP]", 3);
  tv_add(v, "[MASK]", 3);
  for (int i = 99; i < 200; i++) {
    snprintf(b, sizeof b, "[unused%d]", i);
    tv_add(v, b, 1);
  }
  tv_cp_range(v, 0x21, 0x7E);     /* ASCII (the uppercase ones never match) */
  tv_cp_range(v, 0xA1, 0xFF);     /* Latin-1 */
  tv_cp_range(v, 0x100, 0x17F);   /* Latin Extended-A */
  tv_cp_range(v, 0x2B0, 0x2FF);   /* modifier letters */
  tv_cp_range(v, 0x391, 0x3C9);   /* Greek */
  tv_cp_range(v, 0x400, 0x45F);   /* Cyrillic */
  tv_cp_range(v, 0x5D0, 0x5EA);   /* Hebrew */
  tv_cp_range(v, 0x621, 0x64A);   /* Arabic */
  tv_cp_range(v, 0x905, 0x939);   /* Devanagari */
  tv_cp_range(v, 0xE01, 0xE2E);   /* Thai */
  tv_cp_range(v, 0x1100, 0x1112); /* Hangul leading jamo */
  tv_cp_range(v, 0x2010, 0x2027); /* general punctuation */
  tv_cp_range(v, 0x20A0, 0x20AC); /* currency */
  tv_cp_range(v, 0x2190, 0x21A0); /* arrows */
  tv_cp_range(v, 0x3001, 0x3003); /* CJK punctuation */
  tv_cp_range(v, 0x3041, 0x3096); /* hiragana */
  tv_cp_range(v, 0x30A1, 0x30FA); /* katakana */
  tv_cp_range(v, 0x3400, 0x3410); /* CJK Ext. A */
  tv_cp_range(v, 0x4E00, 0x4E00 + 2999);
  tv_chars(v, "日本語東京学生大人文字漢字言葉世界電車駅話語猫犬車私");
  tv_cp_range(v, 0xAC00, 0xAC40); /* Hangul syllables */
  tv_cp_range(v, 0xF900, 0xF910); /* compatibility ideographs */
  tv_cp_range(v, 0xFF01, 0xFF20); /* fullwidth forms */
  tv_cp_range(v, 0x20000, 0x20010); /* CJK Ext. B */
  tv_cp_range(v, 0x1F600, 0x1F610); /* emoji */
  for (size_t i = 0; i < sizeof tv_words / sizeof tv_words[0]; i++)
    tv_both(v, tv_words[i]);
  for (size_t i = 0; i < sizeof tv_suffixes / sizeof tv_suffixes[0]; i++)
    tv_add(v, tv_suffixes[i], 1);
  for (char a = 'a'; a <= 'z'; a++)
    for (char c = 'a'; c <= 'z'; c++) {
      b[0] = a;
      b[1] = c;
      b[2] = 0;
      tv_both(v, b);
    }
  uint32_t s = 0x9E3779B9u;
  /* Letters weighted towards English frequencies, so pieces combine. */
  static const char freq[] = "eeeeeeeeeeeettttttttaaaaaaaaooooooooiiiiiii"
                             "nnnnnnnsssssshhhhhhrrrrrrddddllllcccuuummwwff"
                             "ggyyppbbvkjxqz";
  for (int i = 0; i < 5000; i++) {
    int len = 3 + (int)(tv_rng(&s) % 2);
    for (int k = 0; k < len; k++)
      b[k] = freq[tv_rng(&s) % (sizeof freq - 1)];
    b[len] = 0;
    if (tv_rng(&s) % 3 == 0) {
      char w[64];
      snprintf(w, sizeof w, "\xe2\x96\x81%s", b);
      tv_add(v, w, 1);
    } else {
      tv_add(v, b, 1);
    }
  }
}

static void tv_free(tv *v) {
  for (size_t i = 0; i < v->n; i++)
    free(v->text[i]);
  free(v->text);
  free(v->type);
  free(v->set);
  memset(v, 0, sizeof *v);
}

/* The nomic-bert keys llama.cpp needs to load a vocabulary-only model. */
static void tv_hparams(gw *w) {
  gw_str(w, "general.architecture", "nomic-bert");
  gw_str(w, "general.name", "rill tokenizer test vocabulary");
  gw_u32(w, "nomic-bert.context_length", 2048);
  gw_u32(w, "nomic-bert.embedding_length", 64);
  gw_u32(w, "nomic-bert.block_count", 1);
  gw_u32(w, "nomic-bert.feed_forward_length", 128);
  gw_u32(w, "nomic-bert.attention.head_count", 4);
  gw_f32(w, "nomic-bert.attention.layer_norm_epsilon", 1e-12f);
  gw_bool(w, "nomic-bert.attention.causal", 0);
  gw_u32(w, "nomic-bert.pooling_type", 1);
  gw_f32(w, "nomic-bert.rope.freq_base", 1000.0f);
  gw_u32(w, "tokenizer.ggml.token_type_count", 2);
}

/* The tokenizer keys, as the converter writes them. */
static void tv_tokenizer(gw *w, const tv *v) {
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)v->text, v->n);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, v->type, v->n);
  gw_u32(w, "tokenizer.ggml.unknown_token_id", 100);
  gw_u32(w, "tokenizer.ggml.seperator_token_id", 102);
  gw_u32(w, "tokenizer.ggml.padding_token_id", 0);
  gw_u32(w, "tokenizer.ggml.cls_token_id", 101);
  gw_u32(w, "tokenizer.ggml.mask_token_id", 103);
  gw_u32(w, "tokenizer.ggml.bos_token_id", 101);
  gw_u32(w, "tokenizer.ggml.eos_token_id", 102);
}

/* mode: 0 defaults, 1 cased, 2 lower-case without stripping accents. */
static gw *tv_file(const tv *v, int mode) {
  gw *w = gw_new(3);
  tv_hparams(w);
  tv_tokenizer(w, v);
  if (mode == 1)
    gw_bool(w, "tokenizer.ggml.normalizer.lowercase", 0);
  if (mode == 2)
    gw_bool(w, "tokenizer.ggml.normalizer.strip_accents", 0);
  return w;
}

#ifndef VOCAB_GEN_NO_MAIN
int main(int argc, char **argv) {
  int mode = 0;
  if (argc == 3 && strcmp(argv[2], "--cased") == 0)
    mode = 1;
  else if (argc == 3 && strcmp(argv[2], "--no-strip") == 0)
    mode = 2;
  else if (argc != 2) {
    fprintf(stderr, "usage: vocab_gen OUT.gguf [--cased | --no-strip]\n");
    return 2;
  }
  tv v;
  memset(&v, 0, sizeof v);
  tv_build(&v);
  gw *w = tv_file(&v, mode);
  int rc = gw_write_file(w, argv[1]);
  gw_free(w);
  fprintf(stderr, "vocab_gen: %zu tokens -> %s\n", v.n, argv[1]);
  tv_free(&v);
  return rc == 0 ? 0 : 1;
}
#endif
