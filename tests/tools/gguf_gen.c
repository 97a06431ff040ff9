/*
 * gguf_gen — writes GGUF files for tests and benchmarks.
 *
 *   gguf_gen small OUT
 *   gguf_gen nomic OUT [--type T] [--seed S] [--layers L] [--embd E]
 *                      [--heads H] [--ff F] [--vocab V] [--ctx C]
 *
 * small: a few kilobytes, the same bytes every run: one metadata key of
 * every scalar type, arrays short and long (longer than the 16 elements
 * `rill gguf` prints whole), strings with non-ASCII and control bytes,
 * general.alignment 64, and small tensors of several element types (their
 * quant bytes random, their scales small and finite).
 *
 * nomic: a real nomic-bert model with synthetic weights that llama.cpp
 * loads and runs: the 24 keys and 4 + 9L tensors of NOMIC-BERT.md
 * sections 2-3, shaped like nomic-embed-text-v1.5 by default (E 768,
 * F 3072, V 30522, L 12, H 12, context 2048) or as given. The vocabulary
 * (make_vocab) tokenizes English and some unicode the way BERT-uncased
 * does: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, every ASCII
 * character, kana, Greek and Cyrillic letters as word-initial
 * ("\u2581c") and continuation pieces, some CJK and symbols, common
 * English words and suffixes, then generated words. Weights are seeded
 * gaussian-ish values (weight()) quantized by tests/common/quantize.c:
 * T is F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K or Q6_K
 * (every matrix in that type, token_embd included) or the llama-quantize
 * mixes Q4_K_M / Q5_K_M (token_embd Q6_K; attn_qkv and ffn_down Q6_K on
 * the use_more_bits layers); norms and token_types are F32, and rows not
 * divisible by 256 fall back as llama-quantize does (Q4_K->Q5_0,
 * Q5_K->Q5_1, Q6_K->Q8_0). The same seed gives the same float weights in
 * every type and the same bytes on every host (integer PRNG, exact float
 * operations, no FMA contraction): tests regenerate reference models
 * instead of storing them. Data is streamed in chunks; the file is never
 * held in memory.
 *
 * Prints the file's size. Exit: 0 ok, 1 I/O error, 2 usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_writer.h"
#include "quantize.h"
#include "rill/rill.h"

/* nomic-embed-text-v1.5's shape, the nomic default. */
#define DEF_E 768
#define DEF_F 3072
#define DEF_V 30522
#define DEF_L 12
#define CHUNK (1u << 20)

/* ---- PRNG (splitmix64: tiny, seedable, good enough for test data) ---- */

static uint64_t g_rng;

static uint64_t rnd(void) {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [-a, a]. */
static float rndf(float a) {
  return a * ((float)(rnd() >> 40) / (float)(1u << 23) * 2.0f - 1.0f);
}

/* A small finite half with exponent field lo..hi (bias 15). Weights use
 * 5..13 (2^-10 .. 2^-2); block scales 1..5 (2^-14 .. 2^-10), so that
 * scale x sub-scale x quant stays near the magnitude of real weights. */
static uint16_t rnd_f16_in(int positive, unsigned lo, unsigned hi) {
  uint64_t r = rnd();
  uint16_t sign = positive ? 0 : (uint16_t)((r & 1) << 15);
  uint16_t exp = (uint16_t)(lo + (r >> 1) % (hi - lo + 1));
  return (uint16_t)(sign | exp << 10 | ((r >> 8) & 0x3FF));
}

static uint16_t rnd_f16(int positive) {
  return rnd_f16_in(positive, 5, 13);
}

static uint16_t rnd_scale(int positive) {
  return rnd_f16_in(positive, 1, 5);
}

/* The same for bfloat16: exponent 117..125. */
static uint16_t rnd_bf16(void) {
  uint64_t r = rnd();
  uint16_t exp = (uint16_t)(117 + (r >> 1) % 9);
  return (uint16_t)((r & 1) << 15 | exp << 7 | ((r >> 8) & 0x7F));
}

static void put16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

static void put32f(unsigned char *p, float f) {
  uint32_t u;
  int i;
  memcpy(&u, &f, 4);
  for (i = 0; i < 4; i++)
    p[i] = (unsigned char)(u >> (8 * i));
}

static void rnd_bytes(unsigned char *p, size_t n) {
  while (n >= 8) {
    uint64_t r = rnd();
    memcpy(p, &r, 8);
    p += 8, n -= 8;
  }
  if (n) {
    uint64_t r = rnd();
    memcpy(p, &r, n);
  }
}

/* Kind of F32 data: weights near zero, norm weights near one. */
enum fill { FILL_WEIGHT, FILL_ONES, FILL_BIAS };

/* Fill n bytes (a whole number of blocks) of type with valid data. */
static void fill_blocks(int type, unsigned char *p, size_t n, enum fill how) {
  uint32_t be = 1, bb = 1;
  size_t i, nb;
  rill_gguf_type_block(type, &be, &bb);
  nb = n / bb;
  if (type == RILL_GGUF_TYPE_F32) {
    for (i = 0; i < nb; i++)
      put32f(p + 4 * i, how == FILL_ONES   ? 1.0f + rndf(0.1f)
                        : how == FILL_BIAS ? rndf(0.02f)
                                           : rndf(0.05f));
    return;
  }
  if (type == RILL_GGUF_TYPE_F16) {
    for (i = 0; i < nb; i++)
      put16(p + 2 * i, rnd_f16(0));
    return;
  }
  if (type == RILL_GGUF_TYPE_BF16) {
    for (i = 0; i < nb; i++)
      put16(p + 2 * i, rnd_bf16());
    return;
  }
  rnd_bytes(p, n);
  /* Overwrite each block's scales with small finite values. Offsets are
   * ggml's block layouts (ggml-common.h). */
  for (i = 0; i < nb; i++) {
    unsigned char *b = p + i * bb;
    switch (type) {
    case RILL_GGUF_TYPE_Q4_0:
    case RILL_GGUF_TYPE_Q5_0:
    case RILL_GGUF_TYPE_Q8_0:
      put16(b, rnd_scale(0));
      break;
    case RILL_GGUF_TYPE_Q4_1:
    case RILL_GGUF_TYPE_Q5_1:
    case RILL_GGUF_TYPE_Q8_1:
    case RILL_GGUF_TYPE_Q4_K:
    case RILL_GGUF_TYPE_Q5_K:
      put16(b, rnd_scale(1));
      put16(b + 2, rnd_scale(1));
      break;
    case RILL_GGUF_TYPE_Q2_K:
      put16(b + 80, rnd_scale(1));
      put16(b + 82, rnd_scale(1));
      break;
    case RILL_GGUF_TYPE_Q3_K:
      put16(b + 108, rnd_scale(1));
      break;
    case RILL_GGUF_TYPE_Q6_K:
      put16(b + 208, rnd_scale(1));
      break;
    case RILL_GGUF_TYPE_Q8_K:
      put32f(b, 1e-4f + (float)(rnd() % 1000) * 1e-6f);
      break;
    default:
      break;
    }
  }
}

static size_t tensor_bytes(int type, uint32_t n_dims, const uint64_t *ne) {
  uint64_t row = 0, n = 1;
  uint32_t i;
  for (i = 1; i < n_dims; i++)
    n *= ne[i];
  if (rill_gguf_row_bytes(type, ne[0], &row) != RILL_OK) {
    fprintf(stderr, "gguf_gen: type %d cannot hold rows of %" PRIu64 "\n", type,
            ne[0]);
    exit(1);
  }
  return (size_t)(row * n);
}

/* ---- small ------------------------------------------------------------------
 */

static int gen_small(const char *out) {
  static const struct {
    const char *name;
    int type;
    uint32_t n_dims;
    uint64_t ne[4];
  } t[] = {
      {"embd.weight", RILL_GGUF_TYPE_F32, 2, {8, 4, 1, 1}},
      {"norm.bias", RILL_GGUF_TYPE_F32, 1, {8, 1, 1, 1}},
      {"half.weight", RILL_GGUF_TYPE_F16, 2, {16, 2, 1, 1}},
      {"brain.weight", RILL_GGUF_TYPE_BF16, 3, {8, 2, 2, 1}},
      {"q8.weight", RILL_GGUF_TYPE_Q8_0, 2, {64, 2, 1, 1}},
      {"q4.weight", RILL_GGUF_TYPE_Q4_0, 2, {32, 3, 1, 1}},
      {"q4k.weight", RILL_GGUF_TYPE_Q4_K, 2, {256, 2, 1, 1}},
      {"q6k.weight", RILL_GGUF_TYPE_Q6_K, 4, {256, 1, 1, 1}},
  };
  static const uint8_t u8s[3] = {1, 2, 255};
  static const int32_t i32s[4] = {-1, 0, 1, 2147483647};
  static const float f32s[3] = {0.5f, -1.25f, 1e-12f};
  static const uint64_t u64s[2] = {0, 18446744073709551615ull};
  static const uint8_t bools[3] = {1, 0, 1};
  const char *strs[20];
  char bufs[20][16];
  gw *w = gw_new(3);
  size_t i;
  g_rng = 42;
  gw_str(w, "general.architecture", "test-small");
  gw_str(w, "general.name", "gguf_gen small");
  gw_u32(w, "general.alignment", 64);
  gw_u8(w, "test.u8", 200);
  gw_i8(w, "test.i8", -100);
  gw_u16(w, "test.u16", 65535);
  gw_i16(w, "test.i16", -32768);
  gw_u32(w, "test.u32", 4000000000u);
  gw_i32(w, "test.i32", -2000000000);
  gw_f32(w, "test.f32", 0.1f);
  gw_bool(w, "test.bool", 1);
  gw_u64(w, "test.u64", 18446744073709551615ull);
  gw_i64(w, "test.i64", -9223372036854775807ll - 1);
  gw_f64(w, "test.f64", 2.5e-300);
  gw_f32(w, "test.epsilon", 1e-12f);
  gw_str(w, "test.unicode", "na\xc3\xafve \xe2\x82\xac 100");
  gw_str(w, "test.control", "tab\there\x1b[31mred");
  gw_str(w, "test.empty", "");
  gw_arr(w, "test.arr_u8", RILL_GGUF_U8, u8s, 3);
  gw_arr(w, "test.arr_i32", RILL_GGUF_I32, i32s, 4);
  gw_arr(w, "test.arr_f32", RILL_GGUF_F32, f32s, 3);
  gw_arr(w, "test.arr_u64", RILL_GGUF_U64, u64s, 2);
  gw_arr(w, "test.arr_bool", RILL_GGUF_BOOL, bools, 3);
  for (i = 0; i < 20; i++) {
    snprintf(bufs[i], sizeof bufs[i], "tok%zu", i);
    strs[i] = bufs[i];
  }
  gw_arr_str(w, "test.arr_str_long", strs, 20);
  gw_arr_str(w, "test.arr_str_short", strs, 16);
  for (i = 0; i < sizeof t / sizeof t[0]; i++) {
    size_t n = tensor_bytes(t[i].type, t[i].n_dims, t[i].ne);
    unsigned char *d = malloc(n);
    if (!d)
      return 1;
    fill_blocks(t[i].type, d, n, FILL_WEIGHT);
    gw_tensor(w, t[i].name, t[i].type, t[i].n_dims, t[i].ne, d);
    free(d);
  }
  if (gw_write_file(w, out) != 0) {
    fprintf(stderr, "gguf_gen: %s: %s\n", out, strerror(errno));
    gw_free(w);
    return 1;
  }
  gw_free(w);
  return 0;
}

/* ---- nomic ------------------------------------------------------------------
 */

/* The shape: nomic-embed-text-v1.5 by default. */
typedef struct shape {
  uint32_t n_embd, n_ff, n_vocab, n_layer, n_head, n_ctx;
} shape;

/* ---- the vocabulary ---- */

/* Common English words (word-initial pieces) and suffixes (continuation
 * pieces), so that English text tokenizes mostly into whole words. */
static const char *const english_words =
    "the of and to a in is it you that he was for on are with as i his they "
    "be at one have this from or had by not word but what some we can out "
    "other were all there when up use your how said an each she which do "
    "their time if will way about many then them write would like so these "
    "her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may "
    "down side been now find any new work part take get place made live where "
    "after back little only round man year came show every good me give our "
    "under name very through just form sentence great think say help low line "
    "differ turn cause much mean before move right boy old too same tell does "
    "set three want air well also play small end put home read hand port "
    "large spell add even land here must big high such follow act why ask men "
    "change went light kind off need house picture try us again animal point "
    "mother world near build self earth father head stand own page should "
    "country found answer school grow study still learn plant cover food sun "
    "four between state keep eye never last let thought city tree cross farm "
    "hard start might story saw far sea draw left late run don while press "
    "close night real life few north open seem together next white children "
    "begin got walk example ease paper group always music those both mark "
    "often letter until mile river car feet care second book carry took "
    "science eat room friend began idea fish mountain stop once base hear "
    "horse cut sure watch color face wood main enough plain girl usual young "
    "ready above ever red list though feel talk bird soon body dog family "
    "direct pose leave song measure door product black short numeral class "
    "wind question happen complete ship area half rock order fire south "
    "problem piece told knew pass since top whole king space heard best hour "
    "better true during hundred five remember step early hold west ground "
    "interest reach fast verb sing listen six table travel less morning ten "
    "simple several vowel toward war lay against pattern slow center love "
    "person money serve appear road map rain rule govern pull cold notice "
    "voice unit power town fine certain fly fall lead cry dark machine note "
    "wait plan figure star box noun field rest correct able pound done "
    "beauty drive stood contain front teach week final gave green oh quick "
    "develop ocean warm free minute strong special mind behind clear tail "
    "produce fact street inch multiply nothing course stay wheel full force "
    "blue object decide surface deep moon island foot system busy test record "
    "boat common gold possible plane stead dry wonder laugh thousand ago ran "
    "check game shape equate hot miss brought heat snow tire bring yes "
    "distant fill east paint language among embedding model text search "
    "query document token vector data file computer network language "
    "learning neural attention local fast quick brown fox jumps lazy cafe "
    "naive resume hello world rill llama nomic bert";
static const char *const english_suffixes =
    "s es ed d ing ly er ers est tion tions ment ments ness able ible ful "
    "less al ic ical ize ized ity ous ive ism ist ian en on an al ary ory "
    "ship hood dom ward wise ate ated ating re un in im dis pre";

/* A few unicode pieces: letters that survive accent stripping, Greek and
 * Cyrillic letters, kana, hangul syllables, CJK ideographs, symbols and
 * punctuation outside ASCII, two emoji. Emoji and scripts not listed
 * (Arabic, Devanagari, ...) tokenize to [UNK]. */
static const char *const unicode_pieces =
    "ß æ ø ð þ œ ł đ ı € £ ¥ ° © ™ ½ µ ° ¿ ¡ « » “ ” ‘ ’ — – … · • "
    "日 本 語 中 文 人 大 年 一 国 学 生 会 社 時 行 見 月 分 後 前 間 東 京 "
    "北 上 下 山 川 水 火 木 金 土 子 女 男 私 新 言 話 書 読 電 車 "
    "한 국 어 안 녕 하 세 요 서 울 😀 👍";

/* Unique strings: a small open-addressing set over the vocab array. */
typedef struct vset {
  char **v;
  uint32_t *slot; /* index + 1, 0 empty */
  uint32_t cap, n, max;
} vset;

static uint64_t fnv(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* Add s (copied) unless present or full. Returns 1 added, 0 not, -1 OOM. */
static int vset_add(vset *s, const char *str) {
  uint32_t i;
  if (s->n >= s->max)
    return 0;
  for (i = (uint32_t)fnv(str) & (s->cap - 1); s->slot[i];
       i = (i + 1) & (s->cap - 1))
    if (strcmp(s->v[s->slot[i] - 1], str) == 0)
      return 0;
  if (!(s->v[s->n] = strdup(str)))
    return -1;
  s->slot[i] = ++s->n;
  return 1;
}

/* word-initial "\u2581" + w */
static int add_initial(vset *s, const char *w) {
  char buf[96];
  snprintf(buf, sizeof buf, "\xe2\x96\x81%s", w);
  return vset_add(s, buf);
}

/* Each space-separated item of list, word-initial and/or continuation. */
static int add_list(vset *s, const char *list, int initial, int cont) {
  char w[64];
  while (*list) {
    size_t n = strcspn(list, " ");
    if (n && n < sizeof w) {
      memcpy(w, list, n);
      w[n] = '\0';
      if ((initial && add_initial(s, w) < 0) || (cont && vset_add(s, w) < 0))
        return -1;
    }
    list += n;
    list += *list == ' ';
  }
  return 0;
}

static void utf8(char *b, unsigned cp) {
  if (cp < 0x80)
    b[0] = (char)cp, b[1] = '\0';
  else if (cp < 0x800)
    b[0] = (char)(0xC0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3F)),
    b[2] = '\0';
  else
    b[0] = (char)(0xE0 | cp >> 12), b[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
    b[2] = (char)(0x80 | (cp & 0x3F)), b[3] = '\0';
}

/*
 * The vocabulary, laid out like BERT-uncased converted by llama.cpp:
 * [PAD] 0, [unused0..98], [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103,
 * (for a vocabulary of 8000 or more, [unused99..993] up to id 998), then
 * every ASCII character but capitals as a word-initial piece ("\u2581c")
 * and a continuation piece ("c"), kana and Greek/Cyrillic letters the same
 * way, the unicode pieces, English words and suffixes, numbers, and
 * generated consonant-vowel words (one in five a continuation piece) up to
 * the size. All texts distinct. Independent of the seed.
 */
static char **make_vocab(uint32_t nv) {
  static const char cons[] = "bcdfghjklmnprstvwz";
  static const char vows[] = "aeiou";
  const unsigned S = (unsigned)(sizeof cons - 1) * (unsigned)(sizeof vows - 1);
  vset s;
  char buf[64];
  unsigned i, cp;
  memset(&s, 0, sizeof s);
  for (s.cap = 64; s.cap < 2 * nv; s.cap *= 2)
    ;
  s.max = nv;
  s.v = calloc(nv, sizeof *s.v);
  s.slot = calloc(s.cap, sizeof *s.slot);
  if (!s.v || !s.slot)
    goto oom;
#define ADD(str)                                                               \
  do {                                                                         \
    if (vset_add(&s, str) < 0)                                                 \
      goto oom;                                                                \
  } while (0)
  ADD("[PAD]");
  for (i = 0; i < 99; i++) {
    snprintf(buf, sizeof buf, "[unused%u]", i);
    ADD(buf);
  }
  ADD("[UNK]");
  ADD("[CLS]");
  ADD("[SEP]");
  ADD("[MASK]");
  if (nv >= 8000)
    for (i = 99; s.n < 999; i++) {
      snprintf(buf, sizeof buf, "[unused%u]", i);
      ADD(buf);
    }
  for (cp = 33; cp < 127; cp++) {
    if (cp >= 'A' && cp <= 'Z')
      continue;
    utf8(buf, cp);
    if (add_initial(&s, buf) < 0)
      goto oom;
    ADD(buf);
  }
  for (cp = 0x3041; cp <= 0x3093; cp++) { /* hiragana */
    utf8(buf, cp);
    if (add_initial(&s, buf) < 0)
      goto oom;
    ADD(buf);
  }
  for (cp = 0x30A1; cp <= 0x30F3; cp++) { /* katakana */
    utf8(buf, cp);
    if (add_initial(&s, buf) < 0)
      goto oom;
    ADD(buf);
  }
  for (cp = 0x3B1; cp <= 0x44F; cp++) { /* Greek .. Cyrillic lower case */
    if ((cp > 0x3C9 && cp < 0x430))
      continue;
    utf8(buf, cp);
    if (add_initial(&s, buf) < 0)
      goto oom;
    ADD(buf);
  }
  if (add_list(&s, unicode_pieces, 1, 1) < 0 ||
      add_list(&s, english_words, 1, 0) < 0 ||
      add_list(&s, english_suffixes, 0, 1) < 0 ||
      add_list(&s, "10 12 20 100 2024 1000 00 000 50 99", 1, 1) < 0)
    goto oom;
  for (i = S; s.n < nv; i++) {
    unsigned x = i;
    size_t n = 0;
    while (x) {
      buf[n++] = cons[(x % S) / 5];
      buf[n++] = vows[(x % S) % 5];
      x /= S;
    }
    buf[n] = '\0';
    if (i % 5 == 0)
      ADD(buf);
    else if (add_initial(&s, buf) < 0)
      goto oom;
  }
#undef ADD
  free(s.slot);
  return s.v;
oom:
  if (s.v)
    for (i = 0; i < s.n; i++)
      free(s.v[i]);
  free(s.v);
  free(s.slot);
  return NULL;
}

/* ---- tensors and their types ---- */

enum wkind { W_MATRIX, W_EMBD, W_TYPES, W_NORM, W_BIAS };

typedef struct ten {
  char name[64];
  int type;
  uint32_t n_dims;
  uint64_t ne[2];
  enum wkind kind;
} ten;

/* The file types --type accepts: name, base tensor type, llama_ftype, and
 * whether it is a _M mix. */
static const struct ftype {
  const char *name;
  int type;
  uint32_t ftype;
  int mix;
} ftypes[] = {
    {"F32", RILL_GGUF_TYPE_F32, 0, 0},
    {"F16", RILL_GGUF_TYPE_F16, 1, 0},
    {"BF16", RILL_GGUF_TYPE_BF16, 32, 0},
    {"Q8_0", RILL_GGUF_TYPE_Q8_0, 7, 0},
    {"Q4_0", RILL_GGUF_TYPE_Q4_0, 2, 0},
    {"Q4_1", RILL_GGUF_TYPE_Q4_1, 3, 0},
    {"Q5_0", RILL_GGUF_TYPE_Q5_0, 8, 0},
    {"Q5_1", RILL_GGUF_TYPE_Q5_1, 9, 0},
    {"Q4_K", RILL_GGUF_TYPE_Q4_K, 14, 0},
    {"Q5_K", RILL_GGUF_TYPE_Q5_K, 16, 0},
    {"Q6_K", RILL_GGUF_TYPE_Q6_K, 18, 0},
    {"Q4_K_M", RILL_GGUF_TYPE_Q4_K, 15, 1},
    {"Q5_K_M", RILL_GGUF_TYPE_Q5_K, 17, 1},
};

static const struct ftype *find_ftype(const char *name) {
  size_t i;
  for (i = 0; i < sizeof ftypes / sizeof ftypes[0]; i++)
    if (strcmp(ftypes[i].name, name) == 0)
      return &ftypes[i];
  return NULL;
}

/* llama-quantize's fallback for rows that do not fill its blocks. */
static int fit_type(int type, uint64_t ne0) {
  uint32_t be = 1, bb = 1;
  if (type == RILL_GGUF_TYPE_Q4_K && ne0 % 256)
    type = RILL_GGUF_TYPE_Q5_0;
  else if (type == RILL_GGUF_TYPE_Q5_K && ne0 % 256)
    type = RILL_GGUF_TYPE_Q5_1;
  else if (type == RILL_GGUF_TYPE_Q6_K && ne0 % 256)
    type = RILL_GGUF_TYPE_Q8_0;
  rill_gguf_type_block(type, &be, &bb);
  return ne0 % be ? RILL_GGUF_TYPE_F16 : type;
}

static int use_more_bits(uint32_t i, uint32_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* The tensor list and the type each gets (NOMIC-BERT.md section 3). Plain
 * types put every matrix, token_embd included, in the type; the _M mixes
 * are llama-quantize's: token_embd Q6_K, attn_qkv and ffn_down Q6_K on
 * the use_more_bits layers. Norms and token_types are F32. */
static size_t nomic_tensors(ten *t, const struct ftype *ft, const shape *sh) {
  const uint64_t NE = sh->n_embd, FF = sh->n_ff;
  int q = ft->type, six = ft->mix ? RILL_GGUF_TYPE_Q6_K : q;
  size_t n = 0;
  uint32_t i;
#define T(nm, ty, nd, a, b, k)                                                 \
  do {                                                                         \
    snprintf(t[n].name, sizeof t[n].name, "%s", nm);                           \
    t[n].type = (ty) == RILL_GGUF_TYPE_F32 ? (ty) : fit_type((ty), (a));       \
    t[n].n_dims = (nd), t[n].ne[0] = (a), t[n].ne[1] = (b);                    \
    t[n].kind = (k);                                                           \
    n++;                                                                       \
  } while (0)
  T("token_embd.weight", six, 2, NE, sh->n_vocab, W_EMBD);
  T("token_types.weight", RILL_GGUF_TYPE_F32, 2, NE, 2, W_TYPES);
  T("token_embd_norm.weight", RILL_GGUF_TYPE_F32, 1, NE, 1, W_NORM);
  T("token_embd_norm.bias", RILL_GGUF_TYPE_F32, 1, NE, 1, W_BIAS);
  for (i = 0; i < sh->n_layer; i++) {
    char nm[64];
    int more =
        ft->mix && use_more_bits(i, sh->n_layer) ? RILL_GGUF_TYPE_Q6_K : q;
#define B(suffix, ty, nd, a, b, k)                                             \
  do {                                                                         \
    snprintf(nm, sizeof nm, "blk.%u.%s", (unsigned)i, suffix);                 \
    T(nm, ty, nd, a, b, k);                                                    \
  } while (0)
    B("attn_qkv.weight", more, 2, NE, 3 * NE, W_MATRIX);
    B("attn_output.weight", q, 2, NE, NE, W_MATRIX);
    B("attn_output_norm.weight", RILL_GGUF_TYPE_F32, 1, NE, 1, W_NORM);
    B("attn_output_norm.bias", RILL_GGUF_TYPE_F32, 1, NE, 1, W_BIAS);
    B("ffn_up.weight", q, 2, NE, FF, W_MATRIX);
    B("ffn_gate.weight", q, 2, NE, FF, W_MATRIX);
    B("ffn_down.weight", more, 2, FF, NE, W_MATRIX);
    B("layer_output_norm.weight", RILL_GGUF_TYPE_F32, 1, NE, 1, W_NORM);
    B("layer_output_norm.bias", RILL_GGUF_TYPE_F32, 1, NE, 1, W_BIAS);
#undef B
  }
#undef T
  return n;
}

/* ---- weights ---- */

/* Roughly N(0, 1): a sum of four uniform 16-bit integers (Irwin-Hall),
 * integer arithmetic and one exact conversion: the same on every host. */
static float gauss(void) {
  uint64_t r = rnd();
  int64_t s = (int64_t)(r & 0xFFFF) + (int64_t)(r >> 16 & 0xFFFF) +
              (int64_t)(r >> 32 & 0xFFFF) + (int64_t)(r >> 48) - 131070;
  return (float)s / 37837.0f;
}

/* One weight of a tensor of kind k whose rows have ne0 elements. Matrices:
 * std 1/sqrt(ne0) (0.036 for E 768, 0.018 for ffn_down), which keeps every
 * projection's output near unit scale behind the layer norms; token
 * embeddings std 0.05; token types 0.02; norm weights 1 +- 0.1; biases std
 * 0.02. */
static float weight(enum wkind k, float inv_sqrt) {
  switch (k) {
  case W_MATRIX:
    return gauss() * inv_sqrt;
  case W_EMBD:
    return gauss() * 0.05f;
  case W_TYPES:
  case W_BIAS:
    return gauss() * 0.02f;
  case W_NORM:
  default:
    return 1.0f + rndf(0.1f);
  }
}

/* 1/sqrt(n) without libm: Newton's iteration in double from a power-of-two
 * start; the float result is the same everywhere. */
static float inv_sqrt_of(uint64_t n) {
  double x = 1.0, v = (double)n;
  int i;
  while (x * x * v > 4.0)
    x *= 0.5;
  for (i = 0; i < 60; i++)
    x = x * (1.5 - 0.5 * v * x * x);
  return (float)x;
}

static int write_all(FILE *f, const void *p, size_t n) {
  return fwrite(p, 1, n, f) == n ? 0 : -1;
}

/* Stream one tensor: generate whole rows of floats, quantize, write; at
 * most CHUNK floats in memory. Each tensor has its own PRNG stream (seed,
 * index), so its values do not depend on the other tensors' types. */
static int stream_tensor(FILE *f, const ten *t, size_t index, uint64_t seed,
                         float *x, unsigned char *q) {
  uint64_t rows = t->n_dims > 1 ? t->ne[1] : 1, r = 0, row_bytes = 0;
  size_t per = CHUNK / t->ne[0], i;
  float is = inv_sqrt_of(t->ne[0]);
  if (per == 0 || rill_gguf_row_bytes(t->type, t->ne[0], &row_bytes) != RILL_OK)
    return -1;
  g_rng =
      seed * 0x9E3779B97F4A7C15ull + (uint64_t)index * 0xD1B54A32D192ED03ull;
  rnd();
  while (r < rows) {
    size_t nr = rows - r < per ? (size_t)(rows - r) : per;
    size_t n = nr * (size_t)t->ne[0];
    for (i = 0; i < n; i++)
      x[i] = weight(t->kind, is);
    if (q_quantize(t->type, x, n, q) != 0 ||
        write_all(f, q, nr * (size_t)row_bytes) != 0)
      return -1;
    r += nr;
  }
  return 0;
}

static int gen_nomic(const char *out, const struct ftype *ft, uint64_t seed,
                     const shape *sh) {
  size_t max_t = 4 + 9 * (size_t)sh->n_layer;
  ten *t = calloc(max_t, sizeof *t);
  char **vocab = make_vocab(sh->n_vocab);
  int32_t *types = malloc(sh->n_vocab * sizeof *types);
  float *scores = malloc(sh->n_vocab * sizeof *scores);
  float *x = malloc(CHUNK * sizeof *x);
  unsigned char *head = NULL, *q = malloc(CHUNK * sizeof(float));
  size_t nt, i, head_len;
  uint64_t pos;
  FILE *f = NULL;
  gw *w;
  int rc = 1;
  if (!t || !vocab || !types || !scores || !x || !q) {
    fputs("gguf_gen: out of memory\n", stderr);
    return 1;
  }
  nt = nomic_tensors(t, ft, sh);
  for (i = 0; i < sh->n_vocab; i++) {
    const char *s = vocab[i];
    types[i] = i == 100 ? 2 : (s[0] == '[' && strchr(s, ']')) ? 3 : 1;
    if (strncmp(s, "[unused", 7) == 0)
      types[i] = 1;
    scores[i] = i ? -(float)i : 0.0f;
  }
  w = gw_new(3);
  gw_str(w, "general.architecture", "nomic-bert");
  gw_str(w, "general.name", "nomic-embed-text-v1.5");
  gw_u32(w, "general.file_type", ft->ftype);
  gw_u32(w, "nomic-bert.context_length", sh->n_ctx);
  gw_u32(w, "nomic-bert.embedding_length", sh->n_embd);
  gw_u32(w, "nomic-bert.block_count", sh->n_layer);
  gw_u32(w, "nomic-bert.feed_forward_length", sh->n_ff);
  gw_u32(w, "nomic-bert.attention.head_count", sh->n_head);
  gw_f32(w, "nomic-bert.attention.layer_norm_epsilon", 1e-12f);
  gw_bool(w, "nomic-bert.attention.causal", 0);
  gw_u32(w, "nomic-bert.pooling_type", 1);
  gw_f32(w, "nomic-bert.rope.freq_base", 1000.0f);
  gw_str(w, "tokenizer.ggml.model", "bert");
  gw_arr_str(w, "tokenizer.ggml.tokens", (const char *const *)vocab,
             sh->n_vocab);
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, types, sh->n_vocab);
  gw_arr(w, "tokenizer.ggml.scores", RILL_GGUF_F32, scores, sh->n_vocab);
  gw_u32(w, "tokenizer.ggml.token_type_count", 2);
  gw_u32(w, "tokenizer.ggml.bos_token_id", 101);
  gw_u32(w, "tokenizer.ggml.seperator_token_id", 102);
  gw_u32(w, "tokenizer.ggml.eos_token_id", 102);
  gw_u32(w, "tokenizer.ggml.unknown_token_id", 100);
  gw_u32(w, "tokenizer.ggml.padding_token_id", 0);
  gw_u32(w, "tokenizer.ggml.mask_token_id", 103);
  gw_u32(w, "tokenizer.ggml.cls_token_id", 101);
  for (i = 0; i < nt; i++)
    gw_tensor(w, t[i].name, t[i].type, t[i].n_dims, t[i].ne, NULL);

  head = gw_build_head(w, &head_len);
  f = fopen(out, "wb");
  if (!f || write_all(f, head, head_len) != 0)
    goto io;
  pos = 0;
  for (i = 0; i < nt; i++) {
    static const unsigned char zero[64];
    uint64_t off = gw_tensor_offset(w, i);
    while (pos < off) {
      size_t n = off - pos < sizeof zero ? (size_t)(off - pos) : sizeof zero;
      if (write_all(f, zero, n) != 0)
        goto io;
      pos += n;
    }
    if (stream_tensor(f, &t[i], i, seed, x, q) != 0)
      goto io;
    pos += tensor_bytes(t[i].type, t[i].n_dims, t[i].ne);
  }
  while (pos < gw_data_bytes(w)) {
    if (fputc(0, f) == EOF)
      goto io;
    pos++;
  }
  if (fclose(f) != 0) {
    f = NULL;
    goto io;
  }
  f = NULL;
  rc = 0;
io:
  if (rc != 0)
    fprintf(stderr, "gguf_gen: %s: %s\n", out, strerror(errno));
  if (f)
    fclose(f);
  free(head);
  gw_free(w);
  for (i = 0; i < sh->n_vocab; i++)
    free(vocab[i]);
  free(vocab);
  free(types);
  free(scores);
  free(x);
  free(q);
  free(t);
  return rc;
}

static int usage(void) {
  fputs("usage: gguf_gen small OUT\n"
        "       gguf_gen nomic OUT [--type T] [--seed S] [--layers L] "
        "[--embd E]\n"
        "                [--heads H] [--ff F] [--vocab V] [--ctx C]\n"
        "  T: F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q4_K Q5_K Q6_K Q4_K_M "
        "Q5_K_M\n"
        "  defaults: F16, seed 1, nomic-embed-text-v1.5's shape (L 12, E 768,\n"
        "  H 12, F 3072, V 30522, C 2048); E and F multiples of 32 (of 256\n"
        "  for K types, else the fallback types), E a multiple of H with an\n"
        "  even head size, V at least 1000.\n",
        stderr);
  return 2;
}

static int parse_u(const char *s, uint64_t lo, uint64_t hi, uint64_t *v) {
  char *end;
  errno = 0;
  if (*s < '0' || *s > '9')
    return -1;
  *v = strtoull(s, &end, 10);
  return errno || *end || *v < lo || *v > hi ? -1 : 0;
}

int main(int argc, char **argv) {
  const struct ftype *ft = find_ftype("F16");
  shape sh = {DEF_E, DEF_F, DEF_V, DEF_L, 12, 2048};
  uint64_t seed = 1, v;
  int i, rc;
  FILE *f;
  if (argc < 3)
    return usage();
  if (strcmp(argv[1], "small") == 0) {
    if (argc != 3)
      return usage();
    rc = gen_small(argv[2]);
  } else if (strcmp(argv[1], "nomic") == 0) {
    for (i = 3; i < argc; i++) {
      const char *o = argv[i];
      if (i + 1 >= argc)
        return usage();
      if (strcmp(o, "--type") == 0) {
        if (!(ft = find_ftype(argv[++i])))
          return usage();
      } else if (strcmp(o, "--seed") == 0) {
        if (parse_u(argv[++i], 0, UINT64_MAX, &seed) != 0)
          return usage();
      } else {
        uint32_t *dst = strcmp(o, "--layers") == 0  ? &sh.n_layer
                        : strcmp(o, "--embd") == 0  ? &sh.n_embd
                        : strcmp(o, "--heads") == 0 ? &sh.n_head
                        : strcmp(o, "--ff") == 0    ? &sh.n_ff
                        : strcmp(o, "--vocab") == 0 ? &sh.n_vocab
                        : strcmp(o, "--ctx") == 0   ? &sh.n_ctx
                                                    : NULL;
        if (!dst || parse_u(argv[++i], 1, 1u << 20, &v) != 0)
          return usage();
        *dst = (uint32_t)v;
      }
    }
    if (sh.n_embd % 32 || sh.n_ff % 32 || sh.n_embd % sh.n_head ||
        (sh.n_embd / sh.n_head) % 2 || sh.n_vocab < 1000 || sh.n_layer > 512 ||
        sh.n_embd > CHUNK || sh.n_ff > CHUNK)
      return usage();
    rc = gen_nomic(argv[2], ft, seed, &sh);
  } else {
    return usage();
  }
  if (rc != 0)
    return rc;
  f = fopen(argv[2], "rb");
  if (f && fseek(f, 0, SEEK_END) == 0)
    printf("%s: %ld bytes\n", argv[2], ftell(f));
  if (f)
    fclose(f);
  return 0;
}
