/*
 * The WordPiece tokenizer (src/embed/tokenizer.c, src/embed/unicode.c):
 * the generated character tables, every pre-tokenizer rule, the greedy
 * match and its [UNK] fall back, words longer than the stack window,
 * invalid UTF-8, output capacity, metadata errors, allocation failures,
 * and agreement with llama.cpp's ids for the same vocabulary
 * (tests/unit/data/tokenizer, made by tests/reference/tokenizer_ref.mjs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "embed/tokenizer.h"
#include "embed/unicode.h"
#include "json/json.h"
#include "gguf_writer.h"
#include "rill/alloc.h"
#include "rill/error.h"
#include "rill/gguf.h"
#include "rill/json.h"

#define VOCAB_GEN_NO_MAIN
#include "vocab_gen.c"

static char g_dir[] = "/tmp/rill_test_tok_XXXXXX";
static int g_seq;

/* ---- helpers ------------------------------------------------------------- */

/* Open the GGUF that w describes (written to a temporary file). */
static rill_gguf *open_gw(gw *w) {
  char path[256];
  snprintf(path, sizeof path, "%s/v%d.gguf", g_dir, g_seq++);
  assert_int_equal(gw_write_file(w, path), 0);
  rill_gguf *g = NULL;
  rill_gguf_error e;
  int rc = rill_gguf_open(&g, path, NULL, &e);
  if (rc != RILL_OK)
    fail_msg("open: %s", e.message);
  unlink(path);
  return g;
}

/* A vocabulary: [PAD], [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102,
 * [MASK] 103, then the given texts (space-separated, "_" standing for
 * U+2581 at the start of a text). */
typedef struct small {
  char **tok;
  size_t n;
} small;

static void small_add(small *s, const char *t) {
  s->tok = realloc(s->tok, (s->n + 1) * sizeof *s->tok);
  size_t len = strlen(t);
  char *c = malloc(len + 3);
  assert_non_null(s->tok);
  assert_non_null(c);
  if (t[0] == '_') {
    memcpy(c, "\xe2\x96\x81", 3);
    memcpy(c + 3, t + 1, len);
  } else {
    memcpy(c, t, len + 1);
  }
  s->tok[s->n++] = c;
}

static small small_vocab(const char *list) {
  small s = {0};
  char b[64];
  small_add(&s, "[PAD]");
  for (int i = 0; i < 99; i++) {
    snprintf(b, sizeof b, "[unused%d]", i);
    small_add(&s, b);
  }
  small_add(&s, "[UNK]");
  small_add(&s, "[CLS]");
  small_add(&s, "[SEP]");
  small_add(&s, "[MASK]");
  const char *p = list;
  while (*p) {
    while (*p == ' ')
      p++;
    size_t n = strcspn(p, " ");
    if (n == 0)
      break;
    assert_true(n < sizeof b);
    memcpy(b, p, n);
    b[n] = 0;
    small_add(&s, b);
    p += n;
  }
  return s;
}

static void small_free(small *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->tok[i]);
  free(s->tok);
}

/* extra: called on the writer after the tokenizer keys (may be NULL). */
typedef void (*gw_extra)(gw *w);

static rill__wpm *wpm_of(const char *list, gw_extra extra,
                         rill_gguf **g_out) {
  small s = small_vocab(list);
  gw *w = gw_new(3);
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)s.tok, s.n);
  if (extra)
    extra(w);
  rill_gguf *g = open_gw(w);
  gw_free(w);
  small_free(&s);
  rill__wpm *t = NULL;
  rill_gguf_error e;
  int rc = rill__wpm_new(&t, g, &e);
  if (rc != RILL_OK)
    fail_msg("wpm_new: %s", e.message);
  *g_out = g;
  return t;
}

/* Tokenize and render as token texts, "_" for U+2581, space-separated. */
static char *pieces(const rill__wpm *t, const rill_gguf *g, const char *text,
                    size_t len, int add_special) {
  static char out[8192];
  int32_t ids[1024];
  size_t n;
  int rc = rill__wpm_tokenize(t, text, len, add_special, ids, 1024, &n);
  assert_int_equal(rc, RILL_OK);
  int64_t kv = rill_gguf_find_key(g, "tokenizer.ggml.tokens");
  size_t o = 0;
  out[0] = 0;
  for (size_t i = 0; i < n; i++) {
    const char *s;
    size_t sl;
    assert_int_equal(rill_gguf_arr_str(g, (uint64_t)kv, (uint64_t)ids[i], &s, &sl),
                     RILL_OK);
    if (i)
      out[o++] = ' ';
    if (sl >= 3 && memcmp(s, "\xe2\x96\x81", 3) == 0) {
      out[o++] = '_';
      s += 3;
      sl -= 3;
    }
    assert_true(o + sl + 2 < sizeof out);
    memcpy(out + o, s, sl);
    o += sl;
    out[o] = 0;
  }
  return out;
}

#define EXPECT(t, g, text, want)                                               \
  do {                                                                         \
    const char *got_ = pieces((t), (g), (text), strlen(text), 0);              \
    if (strcmp(got_, (want)) != 0)                                             \
      fail_msg("%s: got '%s', want '%s'", (text), got_, (want));               \
  } while (0)

#define EXPECT_N(t, g, text, len, want)                                        \
  do {                                                                         \
    const char *got_ = pieces((t), (g), (text), (len), 0);                     \
    if (strcmp(got_, (want)) != 0)                                             \
      fail_msg("got '%s', want '%s'", got_, (want));                           \
  } while (0)

/* ---- the character tables ------------------------------------------------ */

static int table_class(uint32_t cp) {
  size_t lo = 0;
  for (size_t i = 0; i < rill__uc_class_ranges_n; i++)
    if ((rill__uc_class_ranges[i] >> 3) <= cp)
      lo = i;
  return (int)(rill__uc_class_ranges[lo] & 7);
}

static void test_unicode_tables(void **state) {
  (void)state;
  /* The ASCII shortcut agrees with the generated table. */
  for (uint32_t c = 0; c < 0x80; c++)
    assert_int_equal(rill__uc_class(c), table_class(c));
  assert_int_equal(rill__uc_class_ranges[0] >> 3, 0);
  for (size_t i = 1; i < rill__uc_class_ranges_n; i++)
    assert_true(rill__uc_class_ranges[i] >> 3 > rill__uc_class_ranges[i - 1] >> 3);
  static const uint32_t spaces[] = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20,
                                    0x85, 0xA0, 0x1680, 0x2000, 0x2005,
                                    0x200A, 0x2028, 0x2029, 0x202F, 0x205F,
                                    0x3000};
  for (size_t i = 0; i < sizeof spaces / sizeof spaces[0]; i++)
    assert_int_equal(rill__uc_class(spaces[i]), RILL__UC_SPACE);
  /* U+001C..1F are White_Space in Python but not in llama.cpp's list. */
  assert_int_equal(rill__uc_class(0x1C), RILL__UC_DROP);
  assert_int_equal(rill__uc_class(0x180E), RILL__UC_DROP); /* Cf */
  assert_int_equal(rill__uc_class(0x200B), RILL__UC_DROP);
  assert_int_equal(rill__uc_class(0x00AD), RILL__UC_DROP);
  assert_int_equal(rill__uc_class(0xE000), RILL__UC_DROP);  /* Co */
  assert_int_equal(rill__uc_class(0xD800), RILL__UC_DROP);  /* Cs */
  assert_int_equal(rill__uc_class(0xFFFD), RILL__UC_DROP);
  assert_int_equal(rill__uc_class(0xFFFF), RILL__UC_JOIN);  /* Cn */
  assert_int_equal(rill__uc_class(0x0301), RILL__UC_MARK);
  assert_int_equal(rill__uc_class(0x0903), RILL__UC_MARK);  /* Mc */
  assert_int_equal(rill__uc_class(0x2014), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x00BF), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x3001), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x20AC), RILL__UC_JOIN);  /* Sc >= 0x7F */
  assert_int_equal(rill__uc_class(0x00B4), RILL__UC_JOIN);  /* Sk */
  assert_int_equal(rill__uc_class('^'), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x4E00), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x9FFF), RILL__UC_SPLIT); /* unassigned too */
  assert_int_equal(rill__uc_class(0x2B81F), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x2B820), RILL__UC_JOIN); /* HF's gap */
  assert_int_equal(rill__uc_class(0x2B920), RILL__UC_SPLIT);
  assert_int_equal(rill__uc_class(0x2EBF0), RILL__UC_JOIN); /* Ext I: Lo */
  assert_int_equal(rill__uc_class(0x3042), RILL__UC_JOIN);  /* hiragana */
  assert_int_equal(rill__uc_class(0xAC00), RILL__UC_JOIN);
  assert_int_equal(rill__uc_class(0x1F600), RILL__UC_JOIN);
  assert_int_equal(rill__uc_class(0x10FFFF), RILL__UC_JOIN);
  assert_int_equal(rill__uc_class(0x1FFFFF), RILL__UC_JOIN);

  assert_int_equal(rill__uc_lower('A'), 'a');
  assert_int_equal(rill__uc_lower('a'), 'a');
  assert_int_equal(rill__uc_lower(0xC0), 0xE0);
  assert_int_equal(rill__uc_lower(0xD7), 0xD7); /* x sign */
  assert_int_equal(rill__uc_lower(0x130), 'i');
  assert_int_equal(rill__uc_lower(0x100), 0x101);
  assert_int_equal(rill__uc_lower(0x101), 0x101);
  assert_int_equal(rill__uc_lower(0x1C5), 0x1C6); /* Dz titlecase */
  assert_int_equal(rill__uc_lower(0x410), 0x430);
  assert_int_equal(rill__uc_lower(0x401), 0x451);
  assert_int_equal(rill__uc_lower(0x391), 0x3B1);
  assert_int_equal(rill__uc_lower(0x212A), 'k');
  assert_int_equal(rill__uc_lower(0x1E9E), 0xDF);
  assert_int_equal(rill__uc_lower(0xFF21), 0xFF41);
  assert_int_equal(rill__uc_lower(0x10400), 0x10428);
  assert_int_equal(rill__uc_lower(0x1E921), 0x1E943);
  assert_int_equal(rill__uc_lower(0x1E922), 0x1E922);

  assert_int_equal(rill__uc_nfd_base(0xE9), 'e');
  assert_int_equal(rill__uc_nfd_base(0xC5), 'A');
  assert_int_equal(rill__uc_nfd_base(0x419), 0x418);
  assert_int_equal(rill__uc_nfd_base(0x451), 0x435);
  assert_int_equal(rill__uc_nfd_base(0x1E69), 's'); /* two levels */
  assert_int_equal(rill__uc_nfd_base(0xAC00), 0x1100);
  assert_int_equal(rill__uc_nfd_base(0xD55C), 0x1112);
  assert_int_equal(rill__uc_nfd_base(0xD7A3), 0x1112);
  assert_int_equal(rill__uc_nfd_base(0x1FEF), '`');
  assert_int_equal(rill__uc_nfd_base(0x212B), 'A');
  assert_int_equal(rill__uc_nfd_base(0x2126), 0x3A9);
  assert_int_equal(rill__uc_nfd_base(0xF900), 0x8C48);
  assert_int_equal(rill__uc_nfd_base(0x2FA1D), 0x2A600);
  assert_int_equal(rill__uc_nfd_base(0xDF), 0xDF);
  assert_int_equal(rill__uc_nfd_base(0xFB01), 0xFB01); /* compatibility only */
  assert_int_equal(rill__uc_nfd_base('e'), 'e');

  uint32_t cp;
  const unsigned char *u;
  u = (const unsigned char *)"\xc3\xa9";
  assert_int_equal(rill__uc_decode(u, 2, &cp), 2);
  assert_int_equal(cp, 0xE9);
  assert_int_equal(rill__uc_decode(u, 1, &cp), 1); /* truncated */
  assert_int_equal(cp, 0xFFFD);
  u = (const unsigned char *)"\x80";
  assert_int_equal(rill__uc_decode(u, 1, &cp), 1);
  assert_int_equal(cp, 0xFFFD);
  u = (const unsigned char *)"\xc0\x80"; /* overlong NUL decodes */
  assert_int_equal(rill__uc_decode(u, 2, &cp), 2);
  assert_int_equal(cp, 0);
  u = (const unsigned char *)"\xed\xa0\x80"; /* surrogate decodes */
  assert_int_equal(rill__uc_decode(u, 3, &cp), 3);
  assert_int_equal(cp, 0xD800);
  u = (const unsigned char *)"\xf7\xbf\xbf\xbf";
  assert_int_equal(rill__uc_decode(u, 4, &cp), 4);
  assert_int_equal(cp, 0x1FFFFF);
  u = (const unsigned char *)"\xf8\x80\x80\x80\x80";
  assert_int_equal(rill__uc_decode(u, 5, &cp), 1);
  assert_int_equal(cp, 0xFFFD);
  u = (const unsigned char *)"\xe2\x28\xa1";
  assert_int_equal(rill__uc_decode(u, 3, &cp), 1);
  assert_int_equal(cp, 0xFFFD);
  unsigned char b[4];
  uint32_t samples[] = {0, 0x7F, 0x80, 0x7FF, 0x800, 0xFFFF, 0x10000, 0x10FFFF};
  for (size_t i = 0; i < 8; i++) {
    size_t n = rill__utf8_put(samples[i], (char *)b);
    assert_int_equal(rill__uc_decode(b, n, &cp), n);
    assert_int_equal(cp, samples[i]);
  }
}

/* ---- rules --------------------------------------------------------------- */

static const char *k_small =
    "_3 _. _1 4 1 5 9 _n a ive _s t r ß e _日 _本 _語 _の テ キ ス ト と "
    "_pizza _[ _c l s _] _a _b _ab b c _abc _zero width _x y _— _$ _€ € "
    "_cafe _café _resume _é é _e _и _й й _ё _е _k _κ _\xe1\x84\x92 _한 _` "
    "_; _hello _world _ü ü _\xc7\x86 _ａ _ⅻ _ⅰ _①";

static size_t count_words(const char *s) {
  size_t n = 0;
  for (const char *p = s; *p; p++)
    if (*p != ' ' && (p == s || p[-1] == ' '))
      n++;
  return n;
}

static void test_nomic_examples(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  EXPECT(t, g, "3.14159", "_3 _. _1 4 1 5 9");
  EXPECT(t, g, "naïve", "_n a ive");
  EXPECT(t, g, "Straße", "_s t r a ß e");
  EXPECT(t, g, "日本語のテキストと", "_日 _本 _語 _の テ キ ス ト と");
  EXPECT(t, g, "pizza 🍕🍕", "_pizza [UNK]");
  EXPECT(t, g, "[CLS]", "_[ _c l s _]");
  assert_string_equal(pieces(t, g, "pizza", 5, 1), "[CLS] _pizza [SEP]");
  assert_string_equal(pieces(t, g, "", 0, 1), "[CLS] [SEP]");
  assert_string_equal(pieces(t, g, "", 0, 0), "");
  assert_int_equal(rill__wpm_vocab_size(t), 104 + count_words(k_small));
  assert_int_equal(rill__wpm_cls_id(t), 101);
  assert_int_equal(rill__wpm_sep_id(t), 102);
  assert_int_equal(rill__wpm_unk_id(t), 100);
  assert_true(rill__wpm_heap_bytes(t) >= 4 * 2 * rill__wpm_vocab_size(t));
  assert_true(rill__wpm_heap_bytes(t) < 4096);
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void test_whitespace_and_controls(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  static const char *const ws[] = {
      "\t", "\n", "\v", "\f", "\r", " ", "\xc2\x85", "\xc2\xa0",
      "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x85", "\xe2\x80\x8a",
      "\xe2\x80\xa8", "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f",
      "\xe3\x80\x80"};
  char b[32];
  for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
    snprintf(b, sizeof b, "a%sb", ws[i]);
    EXPECT(t, g, b, "_a _b");
    snprintf(b, sizeof b, "%s%sa%s", ws[i], ws[i], ws[i]);
    EXPECT(t, g, b, "_a");
  }
  /* Dropped without ending the word: C0 controls outside the list, DEL,
   * C1, format characters, private use, U+FFFD. */
  static const char *const drop[] = {
      "\x01", "\x1c", "\x1f", "\x7f", "\xc2\x80", "\xc2\x9f", "\xc2\xad",
      "\xe2\x80\x8b", "\xe2\x80\x8d", "\xe2\x80\xae", "\xef\xbb\xbf",
      "\xee\x80\x80", "\xef\xbf\xbd", "\xf3\xa0\x80\x81"};
  for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
    snprintf(b, sizeof b, "a%sb", drop[i]);
    EXPECT(t, g, b, "_ab");
  }
  EXPECT(t, g, "zero\xe2\x80\x8bwidth", "_zero width");
  EXPECT_N(t, g, "a\0b", 3, "_ab");
  EXPECT_N(t, g, "\0\0\0", 3, "");
  EXPECT_N(t, g, "a\0 \0b\0", 6, "_a _b");
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void test_splitting(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  /* Punctuation of any script, ASCII symbols: words of their own. */
  EXPECT(t, g, "a\xe2\x80\x94" "b", "_a _— _b");
  EXPECT(t, g, "a$b", "_a _$ _b");
  EXPECT(t, g, "a.b", "_a _. _b");
  EXPECT(t, g, "..", "_. _.");
  /* Non-ASCII symbols join the word. */
  EXPECT(t, g, "a€b", "_a € b");
  EXPECT(t, g, "€", "_€");
  /* CJK ideographs split; kana and hangul join. */
  EXPECT(t, g, "a日b", "_a _日 _b");
  EXPECT(t, g, "のテ", "_の テ");
  /* A character with no piece makes the whole word [UNK]. */
  EXPECT(t, g, "abq", "[UNK]");
  EXPECT(t, g, "ab abq ab", "_ab [UNK] _ab");
  EXPECT(t, g, "q.ab", "[UNK] _. _ab");
  /* Greedy longest match first, not the best split. */
  EXPECT(t, g, "abc", "_abc");
  EXPECT(t, g, "abb", "_ab b");
  EXPECT(t, g, "abcb", "_abc b");
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void set_cased(gw *w) {
  gw_bool(w, "tokenizer.ggml.normalizer.lowercase", 0);
}
static void set_nostrip(gw *w) {
  gw_bool(w, "tokenizer.ggml.normalizer.strip_accents", 0);
}
static void set_strip_only(gw *w) {
  gw_bool(w, "tokenizer.ggml.normalizer.lowercase", 0);
  gw_bool(w, "tokenizer.ggml.normalizer.strip_accents", 1);
}

static void test_normalisation(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  EXPECT(t, g, "Café", "_cafe");
  EXPECT(t, g, "CAFE\xcc\x81", "_cafe"); /* combining mark dropped */
  EXPECT(t, g, "É", "_e");
  EXPECT(t, g, "Й й Ё", "_и _и _е");
  EXPECT(t, g, "\xe2\x84\xaa", "_k");             /* Kelvin -> K -> k */
  EXPECT(t, g, "\xed\x95\x9c", "_\xe1\x84\x92"); /* hangul -> leading jamo */
  EXPECT(t, g, "\xe1\xbf\xaf" "a", "_` _a");      /* NFD to an ASCII symbol */
  EXPECT(t, g, "a\xcd\xbe" "b", "_a _; _b");       /* Greek question mark */
  EXPECT(t, g, "Ü", "[UNK]");                      /* no piece "_u" */
  EXPECT(t, g, "\xc7\x85", "_\xc7\x86");          /* titlecase lowercased */
  EXPECT(t, g, "ＡⅫ", "[UNK]");
  rill__wpm_free(t);
  rill_gguf_close(g);

  t = wpm_of(k_small, set_cased, &g);
  EXPECT(t, g, "café", "_café");                   /* accents kept too */
  EXPECT(t, g, "Café", "[UNK]");
  EXPECT(t, g, "cafe\xcc\x81", "[UNK]");           /* the mark joins */
  EXPECT(t, g, "\xed\x95\x9c", "_한");
  rill__wpm_free(t);
  rill_gguf_close(g);

  t = wpm_of(k_small, set_nostrip, &g);
  EXPECT(t, g, "CAFÉ", "_café");
  EXPECT(t, g, "Й", "_й");
  EXPECT(t, g, "Ü", "_ü");
  rill__wpm_free(t);
  rill_gguf_close(g);

  t = wpm_of(k_small, set_strip_only, &g);
  EXPECT(t, g, "café", "_cafe");
  EXPECT(t, g, "Cafe", "[UNK]");
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void test_invalid_utf8(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  /* Each invalid byte becomes U+FFFD, which is dropped inside the word. */
  EXPECT(t, g, "a\x80" "b", "_ab");
  EXPECT(t, g, "a\xff" "b", "_ab");
  EXPECT(t, g, "a\xc3" "b", "_ab");          /* truncated sequence */
  EXPECT(t, g, "a\xe2\x82" "b", "_ab");
  EXPECT(t, g, "a\xc0\x80" "b", "_ab");      /* overlong NUL */
  EXPECT(t, g, "a\xc1\xa2", "_ab");          /* overlong 'b' decodes as b */
  EXPECT(t, g, "a\xed\xa0\x80" "b", "_ab");  /* surrogate: Cs, dropped */
  EXPECT(t, g, "a\xf4\x90\x80\x80" "b", "_ab"); /* past U+10FFFF */
  EXPECT(t, g, "a\xf8\x88\x80\x80\x80" "b", "_ab");
  EXPECT(t, g, "\xe0\xa0", "");
  EXPECT(t, g, "a\xc3 b", "_a _b");
  EXPECT(t, g, "a\xe3\x80", "_a");
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void test_long_words(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of("_a a _abc abc b", NULL, &g);
  enum { N = 20000 };
  char *s = malloc(N + 8);
  int32_t *ids = malloc((N + 8) * sizeof *ids);
  assert_non_null(s);
  assert_non_null(ids);
  size_t n;
  /* 20,000 'a': one word far longer than any window, one token per byte. */
  memset(s, 'a', N);
  assert_int_equal(rill__wpm_tokenize(t, s, N, 0, ids, N + 8, &n), RILL_OK);
  assert_int_equal(n, N);
  for (size_t i = 0; i < n; i++)
    assert_int_equal(ids[i], i == 0 ? 104 : 105);
  /* A bad character at the very end makes all of it one [UNK]. */
  s[N] = 'q';
  assert_int_equal(rill__wpm_tokenize(t, s, N + 1, 1, ids, N + 8, &n), RILL_OK);
  assert_int_equal(n, 3);
  assert_int_equal(ids[0], 101);
  assert_int_equal(ids[1], 100);
  assert_int_equal(ids[2], 102);
  /* ... and then the next word is tokenized normally. */
  s[N] = ' ';
  s[N + 1] = 'a';
  assert_int_equal(rill__wpm_tokenize(t, s, N + 2, 0, ids, N + 8, &n), RILL_OK);
  assert_int_equal(n, N + 1);
  assert_int_equal(ids[N], 104);
  /* "abcabc...": the lookahead decides at every position. */
  for (size_t i = 0; i < N; i++)
    s[i] = "abc"[i % 3];
  assert_int_equal(rill__wpm_tokenize(t, s, N - 2, 0, ids, N + 8, &n), RILL_OK);
  assert_int_equal(n, (N - 2) / 3 + 0);
  assert_int_equal(ids[0], 106);
  assert_int_equal(ids[1], 107);
  rill__wpm_free(t);
  rill_gguf_close(g);

  /* Multi-byte characters across window compactions, with drops and
   * controls mixed in. */
  t = wpm_of("_ж ж _の の", NULL, &g);
  size_t o = 0;
  for (size_t i = 0; i < 3000; i++) {
    const char *c = i % 7 == 3 ? "\xe2\x80\x8b" : i % 2 ? "ж" : "の";
    memcpy(s + o, c, strlen(c));
    o += strlen(c);
  }
  assert_int_equal(rill__wpm_tokenize(t, s, o, 0, ids, N, &n), RILL_OK);
  assert_int_equal(n, 3000 - 3000 / 7 - (3000 % 7 > 3));
  rill__wpm_free(t);
  rill_gguf_close(g);
  free(s);
  free(ids);
}

static void test_capacity(void **state) {
  (void)state;
  rill_gguf *g;
  rill__wpm *t = wpm_of(k_small, NULL, &g);
  const char *text = "a b ab abq 3.1";
  int32_t all[32], part[32];
  size_t n_all, n;
  assert_int_equal(rill__wpm_tokenize(t, text, strlen(text), 1, all, 32, &n_all),
                   RILL_OK);
  assert_int_equal(n_all, 9);
  for (size_t cap = 0; cap < n_all; cap++) {
    memset(part, 0x55, sizeof part);
    assert_int_equal(rill__wpm_tokenize(t, text, strlen(text), 1,
                                        cap ? part : NULL, cap, &n),
                     RILL_E_LIMIT);
    assert_int_equal(n, n_all);
    if (cap)
      assert_memory_equal(part, all, cap * sizeof *all);
    assert_int_equal(part[cap], 0x55555555);
  }
  assert_int_equal(rill__wpm_tokenize(NULL, "a", 1, 0, all, 1, &n), RILL_E_INVALID);
  assert_int_equal(rill__wpm_tokenize(t, NULL, 1, 0, all, 1, &n), RILL_E_INVALID);
  assert_int_equal(rill__wpm_tokenize(t, "a", 1, 0, NULL, 1, &n), RILL_E_INVALID);
  assert_int_equal(rill__wpm_tokenize(t, "a", 1, 0, all, 1, NULL), RILL_E_INVALID);
  assert_int_equal(rill__wpm_tokenize(t, NULL, 0, 1, all, 2, &n), RILL_OK);
  assert_int_equal(n, 2);
  rill__wpm_free(t);
  rill_gguf_close(g);
  rill__wpm_free(NULL);
}

/* ---- metadata ------------------------------------------------------------ */

typedef void (*gw_fill)(gw *w);

static int try_new(gw_fill fill, char *msg, size_t cap) {
  gw *w = gw_new(3);
  fill(w);
  rill_gguf *g = open_gw(w);
  gw_free(w);
  rill__wpm *t = NULL;
  rill_gguf_error e;
  memset(&e, 0, sizeof e);
  int rc = rill__wpm_new(&t, g, &e);
  if (rc == RILL_OK) {
    assert_non_null(t);
    rill__wpm_free(t);
  } else {
    assert_null(t);
  }
  snprintf(msg, cap, "%s", e.message);
  rill_gguf_close(g);
  return rc;
}

static const char *const k_tokens4[] = {"[PAD]", "_a", "b", "[UNK]"};
static const char *k_big[200];

static void fill_tokens(gw *w) {
  static char store[200][16];
  for (int i = 0; i < 200; i++) {
    snprintf(store[i], sizeof store[i], "t%d", i);
    k_big[i] = store[i];
  }
  gw_arr_str(w, "tokenizer.ggml.tokens", k_big, 200);
}
static void m_llama(gw *w) {
  gw_str(w, "tokenizer.ggml.model", "llama");
  fill_tokens(w);
}
static void m_no_model(gw *w) { fill_tokens(w); }
static void m_model_u32(gw *w) {
  gw_u32(w, "tokenizer.ggml.model", 1);
  fill_tokens(w);
}
static void m_no_tokens(gw *w) { gw_str(w, "tokenizer.ggml.model", "bert"); }
static void m_tokens_str(gw *w) {
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_str(w, "tokenizer.ggml.tokens", "a");
}
static void m_tokens_u32(gw *w) {
  static const uint32_t v[3] = {1, 2, 3};
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr(w, "tokenizer.ggml.tokens", RILL_GGUF_U32, v, 3);
}
static void m_tokens_empty(gw *w) {
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", k_tokens4, 0);
}
static void m_dup_real(gw *w) {
  static char store[200][16];
  static const char *p[200];
  for (int i = 0; i < 200; i++) {
    snprintf(store[i], sizeof store[i], "t%d", i == 170 ? 150 : i);
    p[i] = store[i];
  }
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", p, 200);
}
static void m_ok(gw *w) {
  gw_str(w, "tokenizer.ggml.model", "bert");
  fill_tokens(w);
}
static void m_small_vocab(gw *w) {
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", k_tokens4, 4);
}
static void m_small_vocab_ids(gw *w) {
  m_small_vocab(w);
  gw_u32(w, "tokenizer.ggml.bos_token_id", 0);
  gw_u32(w, "tokenizer.ggml.seperator_token_id", 0);
  gw_u32(w, "tokenizer.ggml.unknown_token_id", 3);
}
static void m_small_vocab_no_unk(gw *w) {
  m_small_vocab(w);
  gw_u32(w, "tokenizer.ggml.bos_token_id", 0);
  gw_u32(w, "tokenizer.ggml.seperator_token_id", 0);
  gw_u32(w, "tokenizer.ggml.unknown_token_id", 4); /* out: default 100 too */
}
static void m_ids_out_of_range(gw *w) {
  m_ok(w);
  gw_u32(w, "tokenizer.ggml.bos_token_id", 5000);
  gw_u32(w, "tokenizer.ggml.seperator_token_id", 7);
  gw_u32(w, "tokenizer.ggml.unknown_token_id", 200);
  gw_u32(w, "tokenizer.ggml.mask_token_id", 999999);
}
static void m_id_negative(gw *w) {
  m_ok(w);
  gw_i32(w, "tokenizer.ggml.unknown_token_id", -1);
}
static void m_lower_str(gw *w) {
  m_ok(w);
  gw_str(w, "tokenizer.ggml.normalizer.lowercase", "yes");
}
static void m_types_f32(gw *w) {
  static const float v[200];
  m_ok(w);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_F32, v, 200);
}
static void m_types_short(gw *w) {
  static const int32_t v[199];
  m_ok(w);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, v, 199);
}
static void m_types_user(gw *w) {
  static int32_t v[200];
  for (int i = 0; i < 200; i++)
    v[i] = i == 120 ? 4 : 1;
  m_ok(w);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, v, 200);
}
static void m_types_ok(gw *w) {
  static int32_t v[200];
  for (int i = 0; i < 200; i++)
    v[i] = i == 100 ? 2 : i == 101 || i == 102 ? 3 : 1;
  m_ok(w);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, v, 200);
}
static void m_gptoss_name(gw *w) {
  static char store[200][16];
  static const char *p[200];
  for (int i = 0; i < 200; i++) {
    snprintf(store[i], sizeof store[i], i == 150 ? "<|start|>" : "t%d", i);
    p[i] = store[i];
  }
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", p, 200);
}
static void m_long_token(gw *w) {
  static char store[200][600];
  static const char *p[200];
  for (int i = 0; i < 200; i++) {
    snprintf(store[i], sizeof store[i], "t%d", i);
    p[i] = store[i];
  }
  memset(store[150], 'x', 513);
  store[150][513] = 0;
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", p, 200);
}
static void m_token_512(gw *w) {
  static char store[200][600];
  static const char *p[200];
  for (int i = 0; i < 200; i++) {
    snprintf(store[i], sizeof store[i], "t%d", i);
    p[i] = store[i];
  }
  memset(store[150], 'x', 512);
  store[150][512] = 0;
  store[151][0] = 0; /* empty texts are allowed (and never match) */
  store[152][0] = 0;
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", p, 200);
}

static void test_metadata(void **state) {
  (void)state;
  char m[256];
  assert_int_equal(try_new(m_llama, m, sizeof m), RILL_E_UNSUPPORTED);
  assert_non_null(strstr(m, "tokenizer.ggml.model"));
  assert_non_null(strstr(m, "llama"));
  assert_int_equal(try_new(m_no_model, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.model: missing"));
  assert_int_equal(try_new(m_model_u32, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.model"));
  assert_int_equal(try_new(m_no_tokens, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.tokens: missing"));
  assert_int_equal(try_new(m_tokens_str, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.tokens: not an array of strings"));
  assert_int_equal(try_new(m_tokens_u32, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.tokens"));
  assert_int_equal(try_new(m_tokens_empty, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "empty"));
  assert_int_equal(try_new(m_dup_real, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "token 170 repeats the text of token 150 ('t150')"));
  assert_int_equal(try_new(m_ok, m, sizeof m), RILL_OK);
  /* Defaults 101/102/100 are outside a 4-token vocabulary. */
  assert_int_equal(try_new(m_small_vocab, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.bos_token_id: no [CLS] token"));
  assert_int_equal(try_new(m_small_vocab_ids, m, sizeof m), RILL_OK);
  assert_int_equal(try_new(m_small_vocab_no_unk, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.unknown_token_id: no [UNK]"));
  assert_int_equal(try_new(m_id_negative, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.unknown_token_id"));
  assert_int_equal(try_new(m_lower_str, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.normalizer.lowercase: not a bool"));
  assert_int_equal(try_new(m_types_f32, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "tokenizer.ggml.token_type: not an array of i32"));
  assert_int_equal(try_new(m_types_short, m, sizeof m), RILL_E_FORMAT);
  assert_non_null(strstr(m, "199 types for 200 tokens"));
  assert_int_equal(try_new(m_types_user, m, sizeof m), RILL_E_UNSUPPORTED);
  assert_non_null(strstr(m, "token 120 is user-defined"));
  assert_int_equal(try_new(m_types_ok, m, sizeof m), RILL_OK);
  assert_int_equal(try_new(m_gptoss_name, m, sizeof m), RILL_E_UNSUPPORTED);
  assert_non_null(strstr(m, "<|start|>"));
  assert_int_equal(try_new(m_long_token, m, sizeof m), RILL_E_UNSUPPORTED);
  assert_non_null(strstr(m, "token 150 is 513 bytes long"));
  assert_int_equal(try_new(m_token_512, m, sizeof m), RILL_OK);

  /* Out-of-range ids in the file are ignored: the defaults stay. */
  gw *w = gw_new(3);
  m_ids_out_of_range(w);
  rill_gguf *g = open_gw(w);
  gw_free(w);
  rill__wpm *t;
  assert_int_equal(rill__wpm_new(&t, g, NULL), RILL_OK);
  assert_int_equal(rill__wpm_cls_id(t), 101);
  assert_int_equal(rill__wpm_sep_id(t), 7);
  assert_int_equal(rill__wpm_unk_id(t), 100);
  rill__wpm_free(t);
  assert_int_equal(rill__wpm_new(NULL, g, NULL), RILL_E_INVALID);
  assert_int_equal(rill__wpm_new(&t, NULL, NULL), RILL_E_INVALID);
  rill_gguf_close(g);

  /* A 512-byte token: the longest lookahead the window allows. */
  w = gw_new(3);
  m_token_512(w);
  g = open_gw(w);
  gw_free(w);
  assert_int_equal(rill__wpm_new(&t, g, NULL), RILL_OK);
  assert_int_equal(rill__wpm_max_token_len(t), 512);
  char text[2000];
  memset(text, 'x', sizeof text);
  int32_t ids[8];
  size_t n;
  /* No "_x" piece: the word is [UNK] however long. */
  assert_int_equal(rill__wpm_tokenize(t, text, sizeof text, 0, ids, 8, &n), RILL_OK);
  assert_int_equal(n, 1);
  rill__wpm_free(t);
  rill_gguf_close(g);
}

static void test_alloc_failures(void **state) {
  (void)state;
  small s = small_vocab(k_small);
  gw *w = gw_new(3);
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)s.tok, s.n);
  rill_gguf *g = open_gw(w);
  gw_free(w);
  small_free(&s);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  rill__wpm *t = NULL;
  assert_int_equal(rill__wpm_new(&t, g, NULL), RILL_OK);
  uint64_t attempts = rill_alloc_attempts();
  rill__wpm_free(t);
  assert_true(attempts >= 2);
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  for (uint64_t k = 1; k <= attempts; k++) {
    for (int mode = RILL_FAIL_ONCE; mode <= RILL_FAIL_FROM; mode++) {
      rill_alloc_get_stats(&before);
      rill_alloc_fail_at(k, (rill_fail_mode)mode);
      rill_gguf_error e;
      t = (rill__wpm *)1;
      int rc = rill__wpm_new(&t, g, &e);
      rill_alloc_fail_at(0, RILL_FAIL_ONCE);
      assert_int_equal(rc, RILL_E_NOMEM);
      assert_null(t);
      rill_alloc_get_stats(&after);
      assert_int_equal(after.bytes_in_use, before.bytes_in_use);
    }
  }
  /* Tokenizing allocates nothing. */
  assert_int_equal(rill__wpm_new(&t, g, NULL), RILL_OK);
  rill_alloc_fail_at(1, RILL_FAIL_FROM);
  int32_t ids[64];
  size_t n;
  assert_int_equal(rill__wpm_tokenize(t, "hello world 3.14", 16, 1, ids, 64, &n),
                   RILL_OK);
  assert_int_equal(rill_alloc_attempts(), 0);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  rill__wpm_free(t);
  rill_gguf_close(g);
}

/* ---- agreement with llama.cpp -------------------------------------------- */

static char *slurp(const char *name, size_t *len) {
  char path[512];
  snprintf(path, sizeof path, "%s/tokenizer/%s", RILL_TESTDATA_DIR, name);
  FILE *f = fopen(path, "rb");
  if (!f)
    fail_msg("cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *b = malloc((size_t)sz + 1);
  assert_non_null(b);
  assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  *len = (size_t)sz;
  return b;
}

static const char *const k_variants[3] = {"default", "cased", "nostrip"};

static rill__wpm *reference_vocab(int mode, rill_gguf **g) {
  tv v;
  memset(&v, 0, sizeof v);
  tv_build(&v);
  gw *w = tv_file(&v, mode);
  *g = open_gw(w);
  gw_free(w);
  tv_free(&v);
  rill__wpm *t = NULL;
  rill_gguf_error e;
  if (rill__wpm_new(&t, *g, &e) != RILL_OK)
    fail_msg("wpm_new: %s", e.message);
  return t;
}

static void test_llama_cases(void **state) {
  (void)state;
  size_t len;
  char *json = slurp("cases.json", &len);
  rill_json_doc *doc = NULL;
  assert_int_equal(rill_json_parse(&doc, json, len, NULL), RILL_OK);
  free(json);
  int vars = rill_json_get(doc, 0, "variants");
  size_t total = 0, same = 0;
  int32_t *ids = malloc(65536 * sizeof *ids);
  assert_non_null(ids);
  for (int m = 0; m < 3; m++) {
    rill_gguf *g;
    rill__wpm *t = reference_vocab(m, &g);
    int arr = rill_json_get(doc, vars, k_variants[m]);
    assert_true(rill_json_count(doc, arr) >= 80);
    for (size_t i = 0; i < rill_json_count(doc, arr); i++) {
      int c = rill_json_at(doc, arr, i);
      int want = rill_json_get(doc, c, "ids");
      size_t tl;
      const char *text = rill_json_string(doc, rill_json_get(doc, c, "text"), &tl);
      assert_non_null(text);
      size_t n;
      assert_int_equal(rill__wpm_tokenize(t, text, tl, 0, ids, 65536, &n), RILL_OK);
      int ok = n == rill_json_count(doc, want);
      for (size_t k = 0; ok && k < n; k++) {
        double d;
        assert_int_equal(rill_json_number(doc, rill_json_at(doc, want, k), &d), RILL_OK);
        ok = (double)ids[k] == d;
      }
      total++;
      if (ok)
        same++;
      else
        print_message("differs (%s): case %zu '%.60s'\n", k_variants[m], i, text);
    }
    rill__wpm_free(t);
    rill_gguf_close(g);
  }
  free(ids);
  rill_json_doc_free(doc);
  print_message("llama.cpp cases: %zu of %zu identical\n", same, total);
  assert_int_equal(same, total);
}

static uint32_t fnv_ids(const int32_t *ids, size_t n) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 4; k++)
      h = (h ^ (((uint32_t)ids[i] >> (8 * k)) & 0xFF)) * 16777619u;
  return h;
}

/* The text tokenizer_ref.mjs makes for a chunk: "x<cp>y " per code point. */
static size_t sweep_text(uint32_t first, char *out) {
  size_t o = 0;
  for (uint32_t cp = first; cp < first + 256; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF)
      continue;
    out[o++] = 'x';
    o += rill__utf8_put(cp, out + o);
    out[o++] = 'y';
    out[o++] = ' ';
  }
  return o;
}

static void test_llama_sweep(void **state) {
  (void)state;
  size_t len;
  char *json = slurp("sweep.json", &len);
  rill_json_doc *doc = NULL;
  assert_int_equal(rill_json_parse(&doc, json, len, NULL), RILL_OK);
  free(json);
  int vars = rill_json_get(doc, 0, "variants");
  size_t chunks = 0, same = 0;
  char text[256 * 8];
  int32_t ids[2048];
  for (int m = 0; m < 3; m++) {
    rill_gguf *g;
    rill__wpm *t = reference_vocab(m, &g);
    int arr = rill_json_get(doc, vars, k_variants[m]);
    assert_int_equal(rill_json_count(doc, arr), 0x30000 / 256);
    for (size_t i = 0; i < rill_json_count(doc, arr); i++) {
      int c = rill_json_at(doc, arr, i);
      double first, count, digest;
      assert_int_equal(rill_json_number(doc, rill_json_at(doc, c, 0), &first), RILL_OK);
      assert_int_equal(rill_json_number(doc, rill_json_at(doc, c, 1), &count), RILL_OK);
      assert_int_equal(rill_json_number(doc, rill_json_at(doc, c, 2), &digest), RILL_OK);
      size_t tl = sweep_text((uint32_t)first, text);
      size_t n;
      assert_int_equal(rill__wpm_tokenize(t, text, tl, 0, ids, 2048, &n), RILL_OK);
      chunks++;
      if ((double)n == count && (double)fnv_ids(ids, n) == digest)
        same++;
      else
        print_message("sweep differs (%s): U+%04X..+255\n", k_variants[m],
                      (unsigned)first);
    }
    rill__wpm_free(t);
    rill_gguf_close(g);
  }
  rill_json_doc_free(doc);
  print_message("llama.cpp sweep: %zu of %zu chunks identical "
                "(%zu code points per variant)\n",
                same, chunks, (size_t)(0x30000 - 0x800));
  assert_int_equal(same, chunks);
}

/* ---- main ---------------------------------------------------------------- */

static int setup(void **state) {
  (void)state;
  if (!mkdtemp(g_dir))
    return -1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rmdir(g_dir);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_unicode_tables),
      cmocka_unit_test(test_nomic_examples),
      cmocka_unit_test(test_whitespace_and_controls),
      cmocka_unit_test(test_splitting),
      cmocka_unit_test(test_normalisation),
      cmocka_unit_test(test_invalid_utf8),
      cmocka_unit_test(test_long_words),
      cmocka_unit_test(test_capacity),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_llama_cases),
      cmocka_unit_test(test_llama_sweep),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
