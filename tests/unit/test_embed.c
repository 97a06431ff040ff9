/*
 * test_embed.c — the local nomic-bert embedder (src/embed: model.c,
 * forward.c, attention.c, ops.c, threadpool.c, embedder.c, remote.c)
 * through rill/embed.h.
 *
 * Tiny nomic-bert models are written by the test (tests/common/gguf_writer)
 * from seeded weights in F32, F16 and Q8_0 (quantized here), and an
 * independent float64 implementation of NOMIC-BERT.md section 4 computes
 * what the embedder must return from the same (dequantized) weights. For
 * F16 and Q8_0 the reference also rounds each matrix product's input the
 * way llama.cpp's CPU backend does (F16, or Q8_0 blocks), so the
 * comparison measures the embedder's arithmetic, not quantization noise.
 *
 * Also: every metadata and tensor refusal of RELIABILITY.md 3.4's nomic
 * list; prefixes and Matryoshka dims; truncation and refusal; the pool
 * under concurrent calls (run this binary under TSan); thread counts;
 * reference counting; the heap at open and its linear growth with the
 * input; allocation failure at every allocation of an open and of a call.
 *
 * Reference vectors produced by llama.cpp itself can be committed as
 * tests/unit/data/embed/<name>.ref (format: see ref_files below); every
 * such file found is checked.
 */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "embed/threadpool.h"
#include "gguf_writer.h"
#include "rill/embed.h"
#include "rill/rill.h"

/* ---- temporary files ----------------------------------------------------- */

static char g_dir[] = "/tmp/rill_test_embed_XXXXXX";

static int setup_dir(void **state) {
  (void)state;
  memcpy(g_dir + sizeof g_dir - 7, "XXXXXX", 6);
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  DIR *d = opendir(g_dir);
  struct dirent *de;
  char p[512];
  (void)state;
  while (d && (de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    snprintf(p, sizeof p, "%s/%s", g_dir, de->d_name);
    unlink(p);
  }
  if (d)
    closedir(d);
  return rmdir(g_dir);
}

static void tmp_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

/* ---- numbers --------------------------------------------------------------- */

static uint32_t rng_state;
static double urand(void) { /* xorshift32, uniform in [-1, 1) */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return (double)rng_state / 2147483648.0 - 1.0;
}

/* float -> IEEE half, round to nearest even (independent of the library). */
static uint16_t f32_to_f16(float f) {
  uint32_t x, sign, mant;
  int32_t exp;
  memcpy(&x, &f, 4);
  sign = (x >> 16) & 0x8000u;
  exp = (int32_t)((x >> 23) & 0xff) - 127 + 15;
  mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)
    return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31)
    return (uint16_t)(sign | 0x7c00u);
  if (exp <= 0) {
    uint32_t m, shift, half, r;
    if (exp < -10)
      return (uint16_t)sign;
    m = mant | 0x800000u;
    shift = (uint32_t)(14 - exp);
    half = 1u << (shift - 1);
    r = m >> shift;
    if ((m & ((1u << shift) - 1)) > half ||
        ((m & ((1u << shift) - 1)) == half && (r & 1)))
      r++;
    return (uint16_t)(sign | r);
  }
  {
    uint32_t r = ((uint32_t)exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1)))
      r++; /* may carry into the exponent: still right */
    return (uint16_t)(sign | r);
  }
}

static double f16_round(double v) {
  return (double)rill_f16_to_f32(f32_to_f16((float)v));
}

/* Q8_0 as ggml's reference quantizer: per 32, d = amax/127 (stored as
 * F16), q = roundf(x / d). */
static void q8_0_block(const float *x, unsigned char *out) {
  float amax = 0.0f, d, id;
  uint16_t h;
  int i;
  for (i = 0; i < 32; i++)
    if (fabsf(x[i]) > amax)
      amax = fabsf(x[i]);
  d = amax / 127.0f;
  id = d != 0.0f ? 1.0f / d : 0.0f;
  h = f32_to_f16(d);
  out[0] = (unsigned char)(h & 0xff);
  out[1] = (unsigned char)(h >> 8);
  for (i = 0; i < 32; i++)
    out[2 + i] = (unsigned char)(int8_t)roundf(x[i] * id);
}

/* What a matrix product of that weight type sees of activation x: the
 * activation rounded as llama.cpp converts it. */
static void act_round(int type, double *x, size_t n) {
  size_t i, b;
  if (type == RILL_GGUF_TYPE_F16) {
    for (i = 0; i < n; i++)
      x[i] = f16_round(x[i]);
  } else if (type == RILL_GGUF_TYPE_Q8_0) {
    for (b = 0; b < n; b += 32) {
      float xf[32], amax = 0.0f, d, id;
      double dd;
      for (i = 0; i < 32; i++) {
        xf[i] = (float)x[b + i];
        if (fabsf(xf[i]) > amax)
          amax = fabsf(xf[i]);
      }
      d = amax / 127.0f;
      id = d != 0.0f ? 1.0f / d : 0.0f;
      dd = f16_round(d);
      for (i = 0; i < 32; i++)
        x[b + i] = (double)roundf(xf[i] * id) * dd;
    }
  }
}

/* ---- the test model ------------------------------------------------------- */

#define MAXL 4
#define VOCAB 200

enum { OV_NONE, OV_SKIP, OV_U32, OV_F32, OV_STR, OV_U32ARR, OV_I32ARR,
       OV_BOOL };

typedef struct spec {
  uint32_t E, H, F, L, ctx;
  int wtype;       /* matrices */
  int etype;       /* token_embd */
  int sep_qkv;     /* attn_q/k/v instead of attn_qkv */
  int biases;      /* every optional bias */
  int no_causal;   /* leave attention.causal out (llama.cpp: causal) */
  int no_types;    /* leave token_types.weight out */
  uint32_t seed;
  /* corruptions */
  const char *arch;
  const char *ov_key;
  int ov_kind;
  uint32_t ov_u32;
  float ov_f32;
  const char *ov_str;
  const char *skip_tensor, *reshape_tensor, *extra_tensor, *retype_tensor;
  int retype;
} spec;

static spec base_spec(void) {
  spec s;
  memset(&s, 0, sizeof s);
  s.E = 64;
  s.H = 4;
  s.F = 128;
  s.L = 2;
  s.ctx = 512;
  s.wtype = RILL_GGUF_TYPE_F32;
  s.etype = RILL_GGUF_TYPE_F32;
  s.seed = 12345;
  return s;
}

typedef struct rlayer {
  double *qkv, *bqkv, *out, *bout, *ln1w, *ln1b, *up, *bup, *gate, *down,
      *bdown, *ln2w, *ln2b;
} rlayer;

/* The weights as the reference sees them (dequantized from the bytes
 * written), row-major: W[o * in + i]. */
typedef struct tmodel {
  size_t E, H, F, L, V;
  int wtype, causal;
  double eps, base;
  double *emb, *tt0, *ln0w, *ln0b;
  rlayer l[MAXL];
} tmodel;

static void tm_free(tmodel *m) {
  size_t i;
  free(m->emb);
  free(m->tt0);
  free(m->ln0w);
  free(m->ln0b);
  for (i = 0; i < MAXL; i++) {
    rlayer *l = &m->l[i];
    free(l->qkv), free(l->bqkv), free(l->out), free(l->bout), free(l->ln1w);
    free(l->ln1b), free(l->up), free(l->bup), free(l->gate), free(l->down);
    free(l->bdown), free(l->ln2w), free(l->ln2b);
  }
  memset(m, 0, sizeof *m);
}

static int ov_is(const spec *s, const char *key) {
  return s->ov_key && strcmp(s->ov_key, key) == 0;
}

static void put_override(gw *w, const spec *s) {
  switch (s->ov_kind) {
  case OV_U32:
    gw_u32(w, s->ov_key, s->ov_u32);
    break;
  case OV_F32:
    gw_f32(w, s->ov_key, s->ov_f32);
    break;
  case OV_STR:
    gw_str(w, s->ov_key, s->ov_str);
    break;
  case OV_BOOL:
    gw_bool(w, s->ov_key, (int)s->ov_u32);
    break;
  case OV_U32ARR: {
    uint32_t v[MAXL + 1];
    size_t i;
    for (i = 0; i < s->L; i++)
      v[i] = s->ov_u32 + (s->ov_f32 != 0.0f && i == 1 ? 1u : 0u);
    gw_arr(w, s->ov_key, RILL_GGUF_U32, v, s->L);
    break;
  }
  case OV_I32ARR: {
    int32_t v[VOCAB];
    size_t i;
    for (i = 0; i < VOCAB; i++)
      v[i] = (int32_t)i;
    gw_arr(w, s->ov_key, RILL_GGUF_I32, v, VOCAB);
    break;
  }
  default:
    break;
  }
}

static void m_u32(gw *w, const spec *s, const char *key, uint32_t v) {
  if (ov_is(s, key))
    put_override(w, s);
  else
    gw_u32(w, key, v);
}

static void m_f32(gw *w, const spec *s, const char *key, float v) {
  if (ov_is(s, key))
    put_override(w, s);
  else
    gw_f32(w, key, v);
}

/* The vocabulary: llama.cpp's default special ids, letters and digits as
 * word starts and continuations, some words and punctuation. */
static char g_vocab_buf[VOCAB][24];
static const char *g_vocab[VOCAB];

static void make_vocab(void) {
  static const char *const words[] = {
      "\xe2\x96\x81" "the",   "\xe2\x96\x81" "quick", "\xe2\x96\x81" "brown",
      "\xe2\x96\x81" "fox",   "\xe2\x96\x81" "search", "\xe2\x96\x81" "query",
      "\xe2\x96\x81" "document", "\xe2\x96\x81" "hello", "\xe2\x96\x81" "world",
      "\xe2\x96\x81" ":",     "\xe2\x96\x81" ".",     "\xe2\x96\x81" ",",
      "\xe2\x96\x81" "_",     "\xe2\x96\x81" "!",     "ing", "ed", "er"};
  size_t i, k = 0;
  for (i = 0; i < VOCAB; i++)
    snprintf(g_vocab_buf[i], sizeof g_vocab_buf[i], "[unused%zu]", i);
  snprintf(g_vocab_buf[0], 24, "[PAD]");
  snprintf(g_vocab_buf[100], 24, "[UNK]");
  snprintf(g_vocab_buf[101], 24, "[CLS]");
  snprintf(g_vocab_buf[102], 24, "[SEP]");
  snprintf(g_vocab_buf[103], 24, "[MASK]");
  k = 104;
  for (i = 0; i < 26; i++)
    snprintf(g_vocab_buf[k++], 24, "\xe2\x96\x81%c", (char)('a' + i));
  for (i = 0; i < 26; i++)
    snprintf(g_vocab_buf[k++], 24, "%c", (char)('a' + i));
  for (i = 0; i < 10; i++)
    snprintf(g_vocab_buf[k++], 24, "\xe2\x96\x81%c", (char)('0' + i));
  for (i = 0; i < 10; i++)
    snprintf(g_vocab_buf[k++], 24, "%c", (char)('0' + i));
  for (i = 0; i < sizeof words / sizeof words[0]; i++)
    snprintf(g_vocab_buf[k++], 24, "%s", words[i]);
  for (i = 0; i < VOCAB; i++)
    g_vocab[i] = g_vocab_buf[i];
}

/* n floats of magnitude scale as file bytes of type (rows of `in`), and
 * what they dequantize to (into deq, doubles). */
static unsigned char *encode(int type, const float *x, size_t n, size_t in,
                             double *deq) {
  uint64_t rb;
  size_t rows = n / in, r, i, bytes;
  unsigned char *out;
  float *tmp;
  assert_int_equal(rill_gguf_row_bytes(type, in, &rb), RILL_OK);
  bytes = (size_t)rb * rows;
  out = malloc(bytes);
  tmp = malloc(n * sizeof *tmp);
  assert_non_null(out);
  assert_non_null(tmp);
  for (r = 0; r < rows; r++) {
    unsigned char *row = out + r * rb;
    const float *xr = x + r * in;
    if (type == RILL_GGUF_TYPE_F32) {
      memcpy(row, xr, in * 4);
    } else if (type == RILL_GGUF_TYPE_F16) {
      for (i = 0; i < in; i++) {
        uint16_t h = f32_to_f16(xr[i]);
        row[2 * i] = (unsigned char)(h & 0xff);
        row[2 * i + 1] = (unsigned char)(h >> 8);
      }
    } else if (type == RILL_GGUF_TYPE_Q8_0) {
      for (i = 0; i < in; i += 32)
        q8_0_block(xr + i, row + i / 32 * 34);
    } else {
      fail_msg("encode: type %d", type);
    }
  }
  assert_int_equal(rill_gguf_dequantize(type, out, bytes, tmp, n), RILL_OK);
  if (deq)
    for (i = 0; i < n; i++)
      deq[i] = tmp[i];
  free(tmp);
  return out;
}

/* A tensor of n seeded values (offset + scale * U(-1,1)), written as type
 * with ne {ne0, ne1} (ne1 0: 1-D); returns the dequantized doubles. */
static double *tensor(gw *w, const spec *s, const char *name, int type,
                      size_t ne0, size_t ne1, double offset, double scale) {
  size_t n = ne0 * (ne1 ? ne1 : 1), i;
  float *x = malloc(n * sizeof *x);
  double *deq = malloc(n * sizeof *deq);
  unsigned char *bytes;
  uint64_t ne[2];
  assert_non_null(x);
  assert_non_null(deq);
  for (i = 0; i < n; i++)
    x[i] = (float)(offset + scale * urand());
  if (s->retype_tensor && strcmp(name, s->retype_tensor) == 0)
    type = s->retype;
  bytes = encode(type == RILL_GGUF_TYPE_F32 || type == RILL_GGUF_TYPE_F16 ||
                         type == RILL_GGUF_TYPE_Q8_0
                     ? type
                     : RILL_GGUF_TYPE_F32,
                 x, n, ne0, deq);
  ne[0] = ne0;
  ne[1] = ne1;
  if (s->skip_tensor && strcmp(name, s->skip_tensor) == 0) {
    /* missing */
  } else if (s->reshape_tensor && strcmp(name, s->reshape_tensor) == 0) {
    uint64_t bad[2];
    bad[0] = ne0;
    bad[1] = ne1 ? ne1 + 1 : 0;
    if (!ne1)
      bad[0] = ne0 + 32;
    gw_tensor(w, name, RILL_GGUF_TYPE_F32, ne1 ? 2 : 1, bad, NULL);
  } else if (type != RILL_GGUF_TYPE_F32 && type != RILL_GGUF_TYPE_F16 &&
             type != RILL_GGUF_TYPE_Q8_0) {
    gw_tensor(w, name, type, ne1 ? 2 : 1, ne, NULL); /* zeros */
  } else {
    gw_tensor(w, name, type, ne1 ? 2 : 1, ne, bytes);
  }
  free(bytes);
  free(x);
  return deq;
}

/* Write the model of spec s to path; fill m with its weights as the
 * reference sees them (m may be NULL). */
static void make_model(const spec *s, const char *path, tmodel *m) {
  tmodel tm;
  gw *w = gw_new(3);
  size_t E = s->E, F = s->F, il;
  double ws = 1.0 / sqrt((double)E), wf = 1.0 / sqrt((double)F);
  char nm[64];
  int32_t ttype[VOCAB];
  size_t i;

  make_vocab();
  memset(&tm, 0, sizeof tm);
  rng_state = s->seed ? s->seed : 1;
  if (ov_is(s, "general.architecture"))
    put_override(w, s);
  else
    gw_str(w, "general.architecture", s->arch ? s->arch : "nomic-bert");
  gw_str(w, "general.name", "tiny-test");
  m_u32(w, s, "nomic-bert.context_length", s->ctx);
  m_u32(w, s, "nomic-bert.embedding_length", s->E);
  m_u32(w, s, "nomic-bert.block_count", s->L);
  m_u32(w, s, "nomic-bert.feed_forward_length", s->F);
  m_u32(w, s, "nomic-bert.attention.head_count", s->H);
  m_f32(w, s, "nomic-bert.attention.layer_norm_epsilon", 1e-12f);
  if (ov_is(s, "nomic-bert.attention.causal"))
    put_override(w, s);
  else if (!s->no_causal)
    gw_bool(w, "nomic-bert.attention.causal", 0);
  m_u32(w, s, "nomic-bert.pooling_type", 1);
  m_f32(w, s, "nomic-bert.rope.freq_base", 1000.0f);
  gw_str(w, "tokenizer.ggml.model", "bert");
  if (ov_is(s, "tokenizer.ggml.tokens"))
    put_override(w, s);
  else
    gw_arr_str(w, "tokenizer.ggml.tokens", g_vocab, VOCAB);
  for (i = 0; i < VOCAB; i++)
    ttype[i] = i == 0 || (i >= 100 && i <= 103) ? 3 : 1;
  gw_arr(w, "tokenizer.ggml.token_type", RILL_GGUF_I32, ttype, VOCAB);
  m_u32(w, s, "tokenizer.ggml.token_type_count", 2);
  m_u32(w, s, "tokenizer.ggml.bos_token_id", 101);
  m_u32(w, s, "tokenizer.ggml.seperator_token_id", 102);
  m_u32(w, s, "tokenizer.ggml.unknown_token_id", 100);
  m_u32(w, s, "tokenizer.ggml.padding_token_id", 0);
  /* keys written only as corruptions */
  if (s->ov_key && (strstr(s->ov_key, "head_count_kv") ||
                    strstr(s->ov_key, "rope.dimension_count") ||
                    strstr(s->ov_key, "rope.scaling.type") ||
                    strstr(s->ov_key, "key_length")))
    put_override(w, s);

  tm.E = E;
  tm.H = s->H;
  tm.F = F;
  tm.L = s->L;
  tm.V = VOCAB;
  tm.wtype = s->wtype;
  tm.causal = s->no_causal ? 1 : 0;
  tm.eps = (double)1e-12f;
  tm.base = 1000.0;
  tm.emb = tensor(w, s, "token_embd.weight", s->etype, E, VOCAB, 0.0, 1.0);
  if (!s->no_types) {
    double *tt = tensor(w, s, "token_types.weight", RILL_GGUF_TYPE_F32, E, 2,
                        0.0, 0.3);
    tm.tt0 = malloc(E * sizeof(double));
    memcpy(tm.tt0, tt, E * sizeof(double));
    free(tt);
  }
  tm.ln0w = tensor(w, s, "token_embd_norm.weight", 0, E, 0, 1.0, 0.1);
  tm.ln0b = tensor(w, s, "token_embd_norm.bias", 0, E, 0, 0.0, 0.1);
  for (il = 0; il < s->L; il++) {
    rlayer *l = &tm.l[il];
#define N(sfx) (snprintf(nm, sizeof nm, "blk.%zu." sfx, il), nm)
    if (s->sep_qkv) {
      double *q = tensor(w, s, N("attn_q.weight"), s->wtype, E, E, 0, ws);
      double *k = tensor(w, s, N("attn_k.weight"), s->wtype, E, E, 0, ws);
      double *v = tensor(w, s, N("attn_v.weight"), s->wtype, E, E, 0, ws);
      l->qkv = malloc(3 * E * E * sizeof(double));
      memcpy(l->qkv, q, E * E * sizeof(double));
      memcpy(l->qkv + E * E, k, E * E * sizeof(double));
      memcpy(l->qkv + 2 * E * E, v, E * E * sizeof(double));
      free(q), free(k), free(v);
      if (s->biases) {
        double *bq = tensor(w, s, N("attn_q.bias"), 0, E, 0, 0, 0.1);
        double *bk = tensor(w, s, N("attn_k.bias"), 0, E, 0, 0, 0.1);
        double *bv = tensor(w, s, N("attn_v.bias"), 0, E, 0, 0, 0.1);
        l->bqkv = malloc(3 * E * sizeof(double));
        memcpy(l->bqkv, bq, E * sizeof(double));
        memcpy(l->bqkv + E, bk, E * sizeof(double));
        memcpy(l->bqkv + 2 * E, bv, E * sizeof(double));
        free(bq), free(bk), free(bv);
      }
    } else {
      l->qkv = tensor(w, s, N("attn_qkv.weight"), s->wtype, E, 3 * E, 0, ws);
      if (s->biases)
        l->bqkv = tensor(w, s, N("attn_qkv.bias"), 0, 3 * E, 0, 0, 0.1);
    }
    l->out = tensor(w, s, N("attn_output.weight"), s->wtype, E, E, 0, ws);
    if (s->biases)
      l->bout = tensor(w, s, N("attn_output.bias"), 0, E, 0, 0, 0.1);
    l->ln1w = tensor(w, s, N("attn_output_norm.weight"), 0, E, 0, 1.0, 0.1);
    l->ln1b = tensor(w, s, N("attn_output_norm.bias"), 0, E, 0, 0.0, 0.1);
    l->up = tensor(w, s, N("ffn_up.weight"), s->wtype, E, F, 0, ws);
    if (s->biases)
      l->bup = tensor(w, s, N("ffn_up.bias"), 0, F, 0, 0, 0.1);
    l->gate = tensor(w, s, N("ffn_gate.weight"), s->wtype, E, F, 0, ws);
    l->down = tensor(w, s, N("ffn_down.weight"), s->wtype, F, E, 0, wf);
    if (s->biases)
      l->bdown = tensor(w, s, N("ffn_down.bias"), 0, E, 0, 0, 0.1);
    l->ln2w = tensor(w, s, N("layer_output_norm.weight"), 0, E, 0, 1.0, 0.1);
    l->ln2b = tensor(w, s, N("layer_output_norm.bias"), 0, E, 0, 0.0, 0.1);
#undef N
  }
  if (s->extra_tensor) {
    uint64_t ne[1];
    ne[0] = E;
    gw_tensor(w, s->extra_tensor, RILL_GGUF_TYPE_F32, 1, ne, NULL);
  }
  assert_int_equal(gw_write_file(w, path), 0);
  gw_free(w);
  if (m)
    *m = tm;
  else
    tm_free(&tm);
}

/* ---- the float64 reference (NOMIC-BERT.md section 4) --------------------- */

static void ref_ln(double *x, size_t n, const double *w, const double *b,
                   double eps) {
  double mean = 0, var = 0;
  size_t i;
  for (i = 0; i < n; i++)
    mean += x[i];
  mean /= (double)n;
  for (i = 0; i < n; i++)
    var += (x[i] - mean) * (x[i] - mean);
  var /= (double)n;
  for (i = 0; i < n; i++) {
    x[i] = (x[i] - mean) / sqrt(var + eps);
    if (w)
      x[i] = x[i] * w[i] + b[i];
  }
}

/* y[o] = W[o] . round(x) (+ b[o]) for o < out. */
static void ref_mm(const tmodel *m, const double *W, const double *b,
                   const double *x, size_t in, size_t out, double *y) {
  double *xr = malloc(in * sizeof *xr);
  size_t o, i;
  memcpy(xr, x, in * sizeof *xr);
  act_round(m->wtype, xr, in);
  for (o = 0; o < out; o++) {
    double s = 0;
    for (i = 0; i < in; i++)
      s += W[o * in + i] * xr[i];
    y[o] = s + (b ? b[o] : 0.0);
  }
  free(xr);
}

static void ref_rope(double *v, size_t d, size_t p, double base) {
  size_t i, h = d / 2;
  for (i = 0; i < h; i++) {
    double th = (double)p * pow(base, -2.0 * (double)i / (double)d);
    double a = v[i], b = v[i + h];
    v[i] = a * cos(th) - b * sin(th);
    v[i + h] = a * sin(th) + b * cos(th);
  }
}

/* The mean-pooled vector (E doubles) of ids[0..n). */
static void ref_forward(const tmodel *m, const int32_t *ids, size_t n,
                        double *pooled) {
  size_t E = m->E, F = m->F, H = m->H, d = E / H, p, q, il, i, h;
  double *x = calloc(n * E, sizeof *x), *qkv = calloc(n * 3 * E, sizeof *x);
  double *att = calloc(n * E, sizeof *x), *t = calloc(E, sizeof *x);
  double *g = calloc(F, sizeof *x), *u = calloc(F, sizeof *x);
  double *s = calloc(n, sizeof *x);
  for (p = 0; p < n; p++) {
    for (i = 0; i < E; i++)
      x[p * E + i] =
          m->emb[(size_t)ids[p] * E + i] + (m->tt0 ? m->tt0[i] : 0.0);
    ref_ln(x + p * E, E, m->ln0w, m->ln0b, m->eps);
  }
  for (il = 0; il < m->L; il++) {
    const rlayer *l = &m->l[il];
    for (p = 0; p < n; p++) {
      ref_mm(m, l->qkv, l->bqkv, x + p * E, E, 3 * E, qkv + p * 3 * E);
      for (h = 0; h < H; h++) {
        ref_rope(qkv + p * 3 * E + h * d, d, p, m->base);
        ref_rope(qkv + p * 3 * E + E + h * d, d, p, m->base);
      }
    }
    for (h = 0; h < H; h++) {
      for (p = 0; p < n; p++) {
        size_t nk = m->causal ? p + 1 : n;
        double mx = -INFINITY, sum = 0;
        for (q = 0; q < nk; q++) {
          double dot = 0;
          for (i = 0; i < d; i++)
            dot += qkv[p * 3 * E + h * d + i] * qkv[q * 3 * E + E + h * d + i];
          s[q] = dot / sqrt((double)d);
          if (s[q] > mx)
            mx = s[q];
        }
        for (q = 0; q < nk; q++) {
          s[q] = exp(s[q] - mx);
          sum += s[q];
        }
        for (i = 0; i < d; i++) {
          double a = 0;
          for (q = 0; q < nk; q++)
            a += s[q] * qkv[q * 3 * E + 2 * E + h * d + i];
          att[p * E + h * d + i] = a / sum;
        }
      }
    }
    for (p = 0; p < n; p++) {
      double *xp = x + p * E;
      ref_mm(m, l->out, l->bout, att + p * E, E, E, t);
      for (i = 0; i < E; i++)
        xp[i] += t[i];
      ref_ln(xp, E, l->ln1w, l->ln1b, m->eps);
      ref_mm(m, l->gate, NULL, xp, E, F, g);
      ref_mm(m, l->up, l->bup, xp, E, F, u);
      for (i = 0; i < F; i++)
        g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
      ref_mm(m, l->down, l->bdown, g, F, E, t);
      for (i = 0; i < E; i++)
        xp[i] += t[i];
      ref_ln(xp, E, l->ln2w, l->ln2b, m->eps);
    }
  }
  for (i = 0; i < E; i++) {
    double a = 0;
    for (p = 0; p < n; p++)
      a += x[p * E + i];
    pooled[i] = a / (double)n;
  }
  free(x), free(qkv), free(att), free(t), free(g), free(u), free(s);
}

/* The vector the API returns for options (dims, no_normalize). */
static void ref_finish(const double *pooled, size_t E, uint32_t dims,
                       int no_normalize, double *out) {
  double *v = malloc(E * sizeof *v), nrm = 0;
  size_t n = dims ? dims : E, i;
  memcpy(v, pooled, E * sizeof *v);
  if (!no_normalize) {
    if (dims)
      ref_ln(v, E, NULL, NULL, 1e-5);
    for (i = 0; i < n; i++)
      nrm += v[i] * v[i];
    nrm = sqrt(nrm);
    for (i = 0; i < n; i++)
      v[i] /= nrm;
  }
  memcpy(out, v, n * sizeof *v);
  free(v);
}

/* ---- helpers over the API --------------------------------------------------- */

static rill_embedder *open_ok(const char *path, int threads, int scalar) {
  rill_embedder_options o;
  rill_embedder *e = NULL;
  rill_gguf_error err;
  int rc;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.n_threads = threads;
  o.force_scalar = scalar;
  rc = rill_embedder_open(&e, path, &o, &err);
  if (rc != RILL_OK)
    fail_msg("open %s: %s: %s", path, rill_error_name(rc), err.message);
  return e;
}

static rill_embeddings *embed1(rill_embedder *e, const char *text,
                               const rill_embed_options *o) {
  rill_embeddings *r = NULL;
  char msg[256];
  int rc = rill_embedder_embed(e, &text, NULL, 1, o, &r, msg, sizeof msg);
  if (rc != RILL_OK)
    fail_msg("embed: %s: %s", rill_error_name(rc), msg);
  return r;
}

typedef struct cmp {
  double max_abs, min_cos;
} cmp;

static void cmp_vec(cmp *c, const float *got, const double *want, size_t n) {
  double dot = 0, ng = 0, nw = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (d > c->max_abs)
      c->max_abs = d;
    dot += got[i] * want[i];
    ng += (double)got[i] * got[i];
    nw += want[i] * want[i];
  }
  dot /= sqrt(ng) * sqrt(nw);
  if (dot < c->min_cos)
    c->min_cos = dot;
}

static const char *const g_texts[] = {
    "the quick brown fox",
    "",
    "hello, world!",
    "search_query: the brown fox",
    ("abc def ghi 0123 456 789 the quick brown fox jumped over the lazy dog "
     "and then some more words to make it a little longer: xyz, uvw. end"),
    "hello worlds walking talked",
};
#define N_TEXTS (sizeof g_texts / sizeof g_texts[0])

/* Embed every text and compare with the reference: returns the worst
 * figures. */
static cmp check_model(const tmodel *tm, rill_embedder *e, uint32_t dims,
                       int no_normalize) {
  cmp c = {0.0, 1.0};
  rill_embed_options o;
  size_t t, E = tm->E, n = dims ? dims : E;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.dims = dims;
  o.no_normalize = no_normalize;
  for (t = 0; t < N_TEXTS; t++) {
    int32_t ids[512];
    size_t nid = 0;
    double pooled[256], want[256];
    rill_embeddings *r;
    assert_int_equal(rill_embedder_tokenize(e, g_texts[t], strlen(g_texts[t]),
                                            1, ids, 512, &nid),
                     RILL_OK);
    ref_forward(tm, ids, nid, pooled);
    ref_finish(pooled, E, dims, no_normalize, want);
    r = embed1(e, g_texts[t], &o);
    assert_int_equal(r->n, 1);
    assert_int_equal(r->dims, n);
    assert_int_equal(r->input_tokens, (int64_t)nid);
    if (no_normalize) {
      /* raw vectors: compare relative to their size */
      size_t i;
      double nw = 0;
      for (i = 0; i < n; i++)
        nw += want[i] * want[i];
      nw = sqrt(nw);
      for (i = 0; i < n; i++)
        want[i] /= nw;
      for (i = 0; i < n; i++)
        r->data[i] = (float)(r->data[i] / nw);
    }
    cmp_vec(&c, r->data, want, n);
    rill_embeddings_free(r);
  }
  return c;
}

static void run_variant(const spec *s, const char *file, double tol_abs,
                        double tol_cos) {
  char path[256];
  tmodel tm;
  int scalar;
  tmp_path(path, sizeof path, file);
  make_model(s, path, &tm);
  for (scalar = 0; scalar <= 1; scalar++) {
    rill_embedder *e = open_ok(path, 2, scalar);
    rill_embedder_info info;
    cmp c;
    assert_int_equal(rill_embedder_get_info(e, &info), RILL_OK);
    c = check_model(&tm, e, 0, 0);
    print_message("%-14s %-7s max|diff| %.3g  min cos %.9f\n", file,
                  info.kernels, c.max_abs, c.min_cos);
    assert_true(c.max_abs <= tol_abs);
    assert_true(c.min_cos >= tol_cos);
    c = check_model(&tm, e, 16, 0);
    assert_true(c.max_abs <= tol_abs * 4);
    assert_true(c.min_cos >= tol_cos);
    c = check_model(&tm, e, 0, 1);
    assert_true(c.max_abs <= tol_abs);
    rill_embedder_close(e);
  }
  tm_free(&tm);
  unlink(path);
}

/* ---- numerics against the reference --------------------------------------- */

static void test_f32(void **state) {
  spec s = base_spec();
  (void)state;
  run_variant(&s, "f32.gguf", 1e-4, 0.99999);
}

static void test_f16(void **state) {
  spec s = base_spec();
  (void)state;
  s.wtype = RILL_GGUF_TYPE_F16;
  s.etype = RILL_GGUF_TYPE_F16;
  run_variant(&s, "f16.gguf", 1e-3, 0.9999);
}

static void test_q8_0(void **state) {
  spec s = base_spec();
  (void)state;
  s.wtype = RILL_GGUF_TYPE_Q8_0;
  s.etype = RILL_GGUF_TYPE_Q8_0;
  run_variant(&s, "q8_0.gguf", 5e-3, 0.9999);
}

/* Separate Q/K/V, every optional bias, no token types, F16 embeddings
 * with F32 matrices. */
static void test_variant_separate_biases(void **state) {
  spec s = base_spec();
  (void)state;
  s.sep_qkv = 1;
  s.biases = 1;
  s.no_types = 1;
  s.etype = RILL_GGUF_TYPE_F16;
  s.L = 3;
  run_variant(&s, "sep.gguf", 1e-4, 0.99999);
}

/* No attention.causal key: llama.cpp runs causal attention; so does rill. */
static void test_variant_causal(void **state) {
  spec s = base_spec();
  (void)state;
  s.no_causal = 1;
  run_variant(&s, "causal.gguf", 1e-4, 0.99999);
}

/* Wider heads and an odd number of 16-query blocks (n > 64 keys), with
 * bidirectional and causal attention, SIMD and scalar; wide: one head of
 * 256, past the blocked attention body's limit (RILL__ATT_MAXD). */
static void long_input(int causal, int scalar, int wide) {
  spec s = base_spec();
  char path[256], text[4096];
  tmodel tm;
  rill_embedder *e;
  int32_t ids[512];
  size_t nid, i, k = 0;
  double pooled[256], want[256];
  cmp c = {0, 1};
  rill_embeddings *r;
  s.H = 2;
  if (wide) {
    s.E = 256;
    s.H = 1;
    s.F = 256;
  }
  s.no_causal = causal;
  tmp_path(path, sizeof path, "long.gguf");
  make_model(&s, path, &tm);
  for (i = 0; i < 150; i++)
    k += (size_t)snprintf(text + k, sizeof text - k, "%c%s ",
                          (char)('a' + i % 26), i % 3 ? "ing" : "");
  e = open_ok(path, 3, scalar);
  assert_int_equal(
      rill_embedder_tokenize(e, text, strlen(text), 1, ids, 512, &nid),
      RILL_OK);
  assert_true(nid > 200);
  ref_forward(&tm, ids, nid, pooled);
  ref_finish(pooled, s.E, 0, 0, want);
  r = embed1(e, text, NULL);
  cmp_vec(&c, r->data, want, s.E);
  print_message("long (%zu tokens%s%s%s): max|diff| %.3g\n", nid,
                causal ? ", causal" : "", scalar ? ", scalar" : "",
                wide ? ", head 256" : "", c.max_abs);
  assert_true(c.max_abs <= 1e-4);
  rill_embeddings_free(r);
  rill_embedder_close(e);
  tm_free(&tm);
  unlink(path);
}

static void test_long_input(void **state) {
  (void)state;
  long_input(0, 0, 0);
  long_input(1, 0, 0);
  long_input(0, 1, 0);
  long_input(1, 1, 0);
  long_input(0, 0, 1);
  long_input(1, 0, 1);
}

/* ---- reference files from llama.cpp ------------------------------------------ */

/*
 * tests/unit/data/embed/NAME.ref, lines:
 *   model FILE          a GGUF beside the .ref (tests/tools/gguf_gen output)
 *   tol ABS COS         max abs difference and min cosine (normalized)
 *   text HEX            the text, hex-encoded UTF-8
 *   ids N N N ...       llama.cpp's token ids (must match exactly)
 *   vec F F F ...       llama.cpp's pooled vector (raw; normalized here)
 * text/ids/vec repeat per case.
 */
static int unhex(const char *h, char *out, size_t cap) {
  size_t n = 0;
  while (h[0] && h[1] && h[0] != '\n' && n + 1 < cap) {
    unsigned v;
    if (sscanf(h, "%2x", &v) != 1)
      return -1;
    out[n++] = (char)v;
    h += 2;
  }
  out[n] = '\0';
  return (int)n;
}

static void check_ref_file(const char *dir, const char *name) {
  char path[512], line[65536], text[8192];
  FILE *f;
  rill_embedder *e = NULL;
  double tol_abs = 1e-4, tol_cos = 0.9999;
  int32_t ids[8192];
  size_t nid = 0, cases = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "model ", 6) == 0) {
      char mp[1024];
      line[strcspn(line, "\n")] = '\0';
      snprintf(mp, sizeof mp, "%.500s/%.500s", dir, line + 6);
      if (e)
        rill_embedder_close(e);
      e = open_ok(mp, 2, 0);
    } else if (strncmp(line, "tol ", 4) == 0) {
      assert_int_equal(sscanf(line + 4, "%lf %lf", &tol_abs, &tol_cos), 2);
    } else if (strncmp(line, "text ", 5) == 0) {
      int n = unhex(line + 5, text, sizeof text);
      assert_true(n >= 0 && e);
      assert_int_equal(rill_embedder_tokenize(e, text, (size_t)n, 1, ids,
                                              8192, &nid),
                       RILL_OK);
    } else if (strncmp(line, "ids", 3) == 0) {
      char *p = line + 3, *end;
      size_t k = 0;
      for (;;) {
        long v = strtol(p, &end, 10);
        if (end == p)
          break;
        assert_true(k < nid);
        assert_int_equal(ids[k], v);
        k++;
        p = end;
      }
      assert_int_equal(k, nid);
    } else if (strncmp(line, "vec ", 4) == 0) {
      static double want[8192];
      char *p = line + 4, *end;
      size_t k = 0, i;
      double nrm = 0;
      cmp c = {0, 1};
      rill_embeddings *r = embed1(e, text, NULL);
      for (;;) {
        double v = strtod(p, &end);
        if (end == p)
          break;
        want[k++] = v;
        p = end;
      }
      assert_int_equal(k, r->dims);
      for (i = 0; i < k; i++)
        nrm += want[i] * want[i];
      for (i = 0; i < k; i++)
        want[i] /= sqrt(nrm);
      cmp_vec(&c, r->data, want, k);
      assert_true(c.max_abs <= tol_abs);
      assert_true(c.min_cos >= tol_cos);
      rill_embeddings_free(r);
      cases++;
    }
  }
  fclose(f);
  if (e)
    rill_embedder_close(e);
  print_message("%s: %zu cases\n", name, cases);
}

static void test_reference_files(void **state) {
  char dir[512];
  DIR *d;
  struct dirent *de;
  size_t n = 0;
  (void)state;
  snprintf(dir, sizeof dir, "%s/embed", RILL_TESTDATA_DIR);
  d = opendir(dir);
  if (!d) {
    print_message("no %s: skipped\n", dir);
    return;
  }
  while ((de = readdir(d)) != NULL) {
    size_t l = strlen(de->d_name);
    if (l > 4 && strcmp(de->d_name + l - 4, ".ref") == 0) {
      check_ref_file(dir, de->d_name);
      n++;
    }
  }
  closedir(d);
  print_message("%zu reference files\n", n);
}

/* ---- refusals (RELIABILITY.md 3.4, model metadata for nomic-bert) ------------ */

typedef struct refusal {
  const char *what;
  void (*edit)(spec *s);
  int rc;          /* expected; RILL_OK for legal edge cases */
  const char *msg; /* a substring of err.message */
} refusal;

#define EDIT(name, body)                                                       \
  static void name(spec *s) { body; }

EDIT(e_arch, s->arch = "bert")
EDIT(e_arch_num, (s->ov_key = "general.architecture", s->ov_kind = OV_U32))
EDIT(e_blk0, (s->ov_key = "nomic-bert.block_count", s->ov_kind = OV_U32,
              s->ov_u32 = 0))
EDIT(e_blk_huge, (s->ov_key = "nomic-bert.block_count", s->ov_kind = OV_U32,
                  s->ov_u32 = 100000))
EDIT(e_blk_missing, (s->ov_key = "nomic-bert.block_count",
                     s->ov_kind = OV_SKIP))
EDIT(e_blk_more, (s->ov_key = "nomic-bert.block_count", s->ov_kind = OV_U32,
                  s->ov_u32 = 3))
EDIT(e_blk_fewer, (s->ov_key = "nomic-bert.block_count", s->ov_kind = OV_U32,
                   s->ov_u32 = 1))
EDIT(e_emb0, (s->ov_key = "nomic-bert.embedding_length", s->ov_kind = OV_U32,
              s->ov_u32 = 0))
EDIT(e_emb_huge, (s->ov_key = "nomic-bert.embedding_length",
                  s->ov_kind = OV_U32, s->ov_u32 = 1u << 31))
EDIT(e_emb_other, (s->ov_key = "nomic-bert.embedding_length",
                   s->ov_kind = OV_U32, s->ov_u32 = 48))
EDIT(e_emb_str, (s->ov_key = "nomic-bert.embedding_length",
                 s->ov_kind = OV_STR, s->ov_str = "64"))
EDIT(e_head0, (s->ov_key = "nomic-bert.attention.head_count",
               s->ov_kind = OV_U32, s->ov_u32 = 0))
EDIT(e_head5, (s->ov_key = "nomic-bert.attention.head_count",
               s->ov_kind = OV_U32, s->ov_u32 = 5))
EDIT(e_head_odd, (s->ov_key = "nomic-bert.attention.head_count",
                  s->ov_kind = OV_U32, s->ov_u32 = 64))
EDIT(e_head_huge, (s->ov_key = "nomic-bert.attention.head_count",
                   s->ov_kind = OV_U32, s->ov_u32 = 0x80000000u))
EDIT(e_head_arr, (s->ov_key = "nomic-bert.attention.head_count",
                  s->ov_kind = OV_U32ARR, s->ov_u32 = 4))
EDIT(e_head_arr_diff, (s->ov_key = "nomic-bert.attention.head_count",
                       s->ov_kind = OV_U32ARR, s->ov_u32 = 4,
                       s->ov_f32 = 1.0f))
EDIT(e_head_kv, (s->ov_key = "nomic-bert.attention.head_count_kv",
                 s->ov_kind = OV_U32, s->ov_u32 = 2))
EDIT(e_ctx0, (s->ov_key = "nomic-bert.context_length", s->ov_kind = OV_U32,
              s->ov_u32 = 0))
EDIT(e_ctx_huge, (s->ov_key = "nomic-bert.context_length",
                  s->ov_kind = OV_U32, s->ov_u32 = 1u << 24))
EDIT(e_ff0, (s->ov_key = "nomic-bert.feed_forward_length", s->ov_kind = OV_U32,
             s->ov_u32 = 0))
EDIT(e_ff_other, (s->ov_key = "nomic-bert.feed_forward_length",
                  s->ov_kind = OV_U32, s->ov_u32 = 96))
EDIT(e_eps_missing, (s->ov_key = "nomic-bert.attention.layer_norm_epsilon",
                     s->ov_kind = OV_SKIP))
EDIT(e_eps_neg, (s->ov_key = "nomic-bert.attention.layer_norm_epsilon",
                 s->ov_kind = OV_F32, s->ov_f32 = -1.0f))
EDIT(e_eps_nan, (s->ov_key = "nomic-bert.attention.layer_norm_epsilon",
                 s->ov_kind = OV_F32, s->ov_f32 = NAN))
EDIT(e_eps_u32, (s->ov_key = "nomic-bert.attention.layer_norm_epsilon",
                 s->ov_kind = OV_U32, s->ov_u32 = 1))
EDIT(e_base0, (s->ov_key = "nomic-bert.rope.freq_base", s->ov_kind = OV_F32,
               s->ov_f32 = 0.0f))
EDIT(e_base_inf, (s->ov_key = "nomic-bert.rope.freq_base", s->ov_kind = OV_F32,
                  s->ov_f32 = INFINITY))
EDIT(e_rope_dim, (s->ov_key = "nomic-bert.rope.dimension_count",
                  s->ov_kind = OV_U32, s->ov_u32 = 8))
EDIT(e_rope_yarn, (s->ov_key = "nomic-bert.rope.scaling.type",
                   s->ov_kind = OV_STR, s->ov_str = "yarn"))
EDIT(e_pool4, (s->ov_key = "nomic-bert.pooling_type", s->ov_kind = OV_U32,
               s->ov_u32 = 4))
EDIT(e_causal_u32, (s->ov_key = "nomic-bert.attention.causal",
                    s->ov_kind = OV_U32, s->ov_u32 = 0))
EDIT(e_miss_gate, s->skip_tensor = "blk.1.ffn_gate.weight")
EDIT(e_miss_norm, s->skip_tensor = "token_embd_norm.bias")
EDIT(e_miss_emb, s->skip_tensor = "token_embd.weight")
EDIT(e_shape_qkv, s->reshape_tensor = "blk.0.attn_qkv.weight")
EDIT(e_shape_norm, s->reshape_tensor = "blk.1.layer_output_norm.weight")
EDIT(e_shape_emb, s->reshape_tensor = "token_embd.weight")
EDIT(e_shape_types, s->reshape_tensor = "token_types.weight")
EDIT(e_extra, s->extra_tensor = "blk.0.extra.weight")
EDIT(e_extra_layer, s->extra_tensor = "blk.7.ffn_up.weight")
EDIT(e_extra_output, s->extra_tensor = "output_norm.weight")
EDIT(e_type_bf16, (s->retype_tensor = "blk.0.ffn_up.weight",
                   s->retype = RILL_GGUF_TYPE_BF16))
EDIT(e_tokens_int, (s->ov_key = "tokenizer.ggml.tokens",
                    s->ov_kind = OV_I32ARR))
EDIT(e_tokens_missing, (s->ov_key = "tokenizer.ggml.tokens",
                        s->ov_kind = OV_SKIP))
EDIT(e_ttc0, (s->ov_key = "tokenizer.ggml.token_type_count",
              s->ov_kind = OV_U32, s->ov_u32 = 0))
EDIT(e_bos_range, (s->ov_key = "tokenizer.ggml.bos_token_id",
                   s->ov_kind = OV_U32, s->ov_u32 = 5000))
EDIT(e_sep_range, (s->ov_key = "tokenizer.ggml.seperator_token_id",
                   s->ov_kind = OV_U32, s->ov_u32 = 0xffffffffu))

#define ANY_OK_OR_FORMAT 1000 /* llama.cpp ignores it: load or refuse */

static const refusal g_refusals[] = {
    {"other architecture", e_arch, RILL_E_UNSUPPORTED, "'bert'"},
    {"architecture not a string", e_arch_num, RILL_E_FORMAT, "architecture"},
    {"block_count 0", e_blk0, RILL_E_FORMAT, "block_count"},
    {"block_count huge", e_blk_huge, RILL_E_FORMAT, "block_count"},
    {"block_count missing", e_blk_missing, RILL_E_FORMAT, "block_count"},
    {"block_count > layers", e_blk_more, RILL_E_FORMAT, "blk.2.attn_qkv"},
    {"block_count < layers", e_blk_fewer, RILL_E_FORMAT, "unexpected"},
    {"embedding_length 0", e_emb0, RILL_E_FORMAT, "embedding_length"},
    {"embedding_length huge", e_emb_huge, RILL_E_FORMAT, "embedding_length"},
    {"embedding_length vs shapes", e_emb_other, RILL_E_FORMAT, "shape"},
    {"embedding_length string", e_emb_str, RILL_E_FORMAT, "embedding_length"},
    {"head_count 0", e_head0, RILL_E_FORMAT, "head_count"},
    {"head_count not dividing", e_head5, RILL_E_FORMAT, "does not divide"},
    {"head size odd", e_head_odd, RILL_E_FORMAT, "odd"},
    {"head_count huge", e_head_huge, RILL_E_FORMAT, "head_count"},
    {"head_count per-layer equal", e_head_arr, RILL_OK, ""},
    {"head_count per-layer differing", e_head_arr_diff, RILL_E_UNSUPPORTED,
     "head_count"},
    {"head_count_kv (GQA)", e_head_kv, RILL_E_UNSUPPORTED, "head_count_kv"},
    {"context_length 0", e_ctx0, RILL_E_FORMAT, "context_length"},
    {"context_length huge", e_ctx_huge, RILL_E_FORMAT, "context_length"},
    {"feed_forward_length 0", e_ff0, RILL_E_FORMAT, "feed_forward_length"},
    {"feed_forward_length vs shapes", e_ff_other, RILL_E_FORMAT, "ffn_up"},
    {"layer_norm_epsilon missing", e_eps_missing, RILL_E_FORMAT,
     "layer_norm_epsilon"},
    {"layer_norm_epsilon negative", e_eps_neg, RILL_E_FORMAT,
     "layer_norm_epsilon"},
    {"layer_norm_epsilon NaN", e_eps_nan, RILL_E_FORMAT, "layer_norm_epsilon"},
    {"layer_norm_epsilon integer", e_eps_u32, RILL_E_FORMAT,
     "layer_norm_epsilon"},
    {"rope.freq_base 0", e_base0, RILL_E_FORMAT, "freq_base"},
    {"rope.freq_base inf", e_base_inf, RILL_E_FORMAT, "freq_base"},
    {"partial rotary", e_rope_dim, RILL_E_UNSUPPORTED, "dimension_count"},
    {"rope scaling", e_rope_yarn, RILL_E_UNSUPPORTED, "scaling"},
    {"pooling_type 4", e_pool4, RILL_E_UNSUPPORTED, "pooling_type"},
    {"causal not a bool", e_causal_u32, RILL_E_FORMAT, "causal"},
    {"missing ffn_gate", e_miss_gate, RILL_E_FORMAT, "blk.1.ffn_gate.weight"},
    {"missing norm bias", e_miss_norm, RILL_E_FORMAT, "token_embd_norm.bias"},
    {"missing token_embd", e_miss_emb, RILL_E_FORMAT, "token_embd.weight"},
    {"attn_qkv shape", e_shape_qkv, RILL_E_FORMAT, "blk.0.attn_qkv.weight"},
    {"norm shape", e_shape_norm, RILL_E_FORMAT, "layer_output_norm"},
    {"token_embd shape", e_shape_emb, RILL_E_FORMAT, "token_embd.weight"},
    {"token_types rows", e_shape_types, RILL_E_FORMAT, "token_types"},
    {"extra tensor", e_extra, RILL_E_FORMAT, "blk.0.extra.weight"},
    {"tensor past block_count", e_extra_layer, RILL_E_FORMAT, "blk.7."},
    {"output_norm", e_extra_output, RILL_E_FORMAT, "unexpected"},
    {"BF16 matrix", e_type_bf16, RILL_E_UNSUPPORTED, "blk.0.ffn_up.weight"},
    {"tokens not strings", e_tokens_int, RILL_E_FORMAT, "tokens"},
    {"tokens missing", e_tokens_missing, RILL_E_FORMAT, "tokens"},
    {"token_type_count 0", e_ttc0, RILL_E_FORMAT, "token_type_count"},
    {"bos id out of range", e_bos_range, ANY_OK_OR_FORMAT, ""},
    {"sep id out of range", e_sep_range, ANY_OK_OR_FORMAT, ""},
};

static void test_refusals(void **state) {
  size_t i;
  char path[256];
  (void)state;
  tmp_path(path, sizeof path, "bad.gguf");
  for (i = 0; i < sizeof g_refusals / sizeof g_refusals[0]; i++) {
    const refusal *r = &g_refusals[i];
    spec s = base_spec();
    rill_embedder *e = NULL;
    rill_gguf_error err;
    rill_alloc_stats st0 = RILL_ALLOC_STATS_INIT, st1 = RILL_ALLOC_STATS_INIT;
    int rc;
    r->edit(&s);
    make_model(&s, path, NULL);
    rill_alloc_get_stats(&st0);
    memset(&err, 0, sizeof err);
    rc = rill_embedder_open(&e, path, NULL, &err);
    print_message("%-32s %-18s %s\n", r->what, rill_error_name(rc),
                  err.message);
    if (r->rc == ANY_OK_OR_FORMAT) {
      assert_true(rc == RILL_OK || rc == RILL_E_FORMAT);
    } else {
      if (rc != r->rc)
        fail_msg("%s: got %s (%s)", r->what, rill_error_name(rc),
                 err.message);
      if (!strstr(err.message, r->msg))
        fail_msg("%s: message '%s' lacks '%s'", r->what, err.message, r->msg);
    }
    if (rc == RILL_OK) {
      rill_embeddings *v = embed1(e, "the fox", NULL);
      rill_embeddings_free(v);
      rill_embedder_close(e);
    } else {
      assert_null(e);
    }
    rill_alloc_get_stats(&st1);
    assert_int_equal(st1.bytes_in_use, st0.bytes_in_use);
  }
  unlink(path);
}

static void test_open_args(void **state) {
  rill_embedder *e = (rill_embedder *)1;
  rill_embedder_options o;
  rill_gguf_error err;
  char path[256];
  (void)state;
  assert_int_equal(rill_embedder_open(NULL, "x", NULL, NULL), RILL_E_INVALID);
  assert_int_equal(rill_embedder_open(&e, NULL, NULL, &err), RILL_E_INVALID);
  assert_null(e);
  tmp_path(path, sizeof path, "absent.gguf");
  assert_int_not_equal(rill_embedder_open(&e, path, NULL, &err), RILL_OK);
  memset(&o, 0, sizeof o);
  o.max_tokens = 1;
  assert_int_equal(rill_embedder_open(&e, path, &o, &err), RILL_E_INVALID);
  o.max_tokens = 0;
  o.n_threads = -1;
  assert_int_equal(rill_embedder_open(&e, path, &o, &err), RILL_E_INVALID);
  rill_embedder_close(NULL);
  assert_null(rill_embedder_ref(NULL));
}

/* ---- options ---------------------------------------------------------------- */

static char g_f32[256]; /* the base F32 model, shared by the tests below */
static tmodel g_tm;

static int setup_model(void **state) {
  spec s = base_spec();
  if (setup_dir(state) != 0)
    return -1;
  tmp_path(g_f32, sizeof g_f32, "base.gguf");
  make_model(&s, g_f32, &g_tm);
  return 0;
}

static int teardown_model(void **state) {
  tm_free(&g_tm);
  return remove_dir(state);
}

static void assert_same(const rill_embeddings *a, const rill_embeddings *b) {
  assert_int_equal(a->n, b->n);
  assert_int_equal(a->dims, b->dims);
  assert_int_equal(a->input_tokens, b->input_tokens);
  assert_memory_equal(a->data, b->data, a->n * a->dims * sizeof(float));
}

static void test_prefix(void **state) {
  rill_embedder *e = open_ok(g_f32, 2, 0);
  rill_embed_options o;
  rill_embeddings *a, *b;
  const char *texts[2] = {"the quick brown fox!xx", "hello"};
  size_t lens[2] = {19, 5};
  char msg[128];
  (void)state;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  /* ends in a space: tokenized in two parts, same tokens as joined */
  o.prefix = RILL_EMBED_PREFIX_QUERY;
  a = embed1(e, "the quick brown fox", &o);
  b = embed1(e, "search_query: the quick brown fox", NULL);
  assert_same(a, b);
  rill_embeddings_free(a);
  rill_embeddings_free(b);
  /* no trailing space: joined copy ("query:the" splits at ':') */
  o.prefix = "query:";
  a = embed1(e, "the fox", &o);
  b = embed1(e, "query:the fox", NULL);
  assert_same(a, b);
  rill_embeddings_free(a);
  rill_embeddings_free(b);
  o.prefix = "hel";
  a = embed1(e, "lo world", &o);
  b = embed1(e, "hello world", NULL);
  assert_same(a, b);
  rill_embeddings_free(a);
  rill_embeddings_free(b);
  /* lengths instead of terminators, and a batch */
  o.prefix = RILL_EMBED_PREFIX_DOCUMENT;
  assert_int_equal(rill_embedder_embed(e, texts, lens, 2, &o, &a, msg,
                                       sizeof msg),
                   RILL_OK);
  assert_int_equal(a->n, 2);
  b = embed1(e, "search_document: the quick brown fox", NULL);
  assert_memory_equal(a->data, b->data, 64 * sizeof(float));
  rill_embeddings_free(b);
  b = embed1(e, "search_document: hello", NULL);
  assert_memory_equal(a->data + 64, b->data, 64 * sizeof(float));
  rill_embeddings_free(b);
  rill_embeddings_free(a);
  rill_embedder_close(e);
}

static void test_dims_and_invalid(void **state) {
  rill_embedder *e = open_ok(g_f32, 1, 0);
  rill_embed_options o;
  rill_embeddings *r = NULL;
  const char *t = "the fox";
  const char *bad[2] = {"x", NULL};
  char msg[128];
  cmp c;
  (void)state;
  c = check_model(&g_tm, e, 64, 0);
  assert_true(c.max_abs <= 1e-4);
  c = check_model(&g_tm, e, 1, 0);
  assert_true(c.max_abs <= 1e-4);
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.dims = 65;
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 1, &o, &r, msg, sizeof msg),
                   RILL_E_INVALID);
  assert_null(r);
  assert_non_null(strstr(msg, "dims"));
  o.dims = 8;
  o.no_normalize = 1;
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 1, &o, &r, msg, sizeof msg),
                   RILL_E_INVALID);
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 0, NULL, &r, msg,
                                       sizeof msg),
                   RILL_E_INVALID);
  assert_int_equal(rill_embedder_embed(e, bad, NULL, 2, NULL, &r, msg,
                                       sizeof msg),
                   RILL_E_INVALID);
  assert_int_equal(rill_embedder_embed(NULL, &t, NULL, 1, NULL, &r, NULL, 0),
                   RILL_E_INVALID);
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 1, NULL, NULL, NULL, 0),
                   RILL_E_INVALID);
  /* options given with size 0 are read whole; a shorter size only up to it */
  memset(&o, 0, sizeof o);
  o.dims = 8;
  r = embed1(e, t, &o);
  assert_int_equal(r->dims, 8);
  rill_embeddings_free(r);
  o.size = offsetof(rill_embed_options, dims);
  r = embed1(e, t, &o);
  assert_int_equal(r->dims, 64);
  rill_embeddings_free(r);
  rill_embedder_close(e);
}

static void test_truncate_refuse(void **state) {
  rill_embedder_options o;
  rill_embedder *e = NULL;
  rill_gguf_error err;
  rill_embeddings *r = NULL;
  rill_embedder_info info;
  const char *long_text = "a b c d e f g h i j k l m n o p q r s t";
  const char *texts[2] = {"a b", "a b c d e f g h i j k l m n o p q r s t"};
  int32_t ids[64];
  size_t nid = 0;
  double pooled[64], want[64];
  cmp c = {0, 1};
  char msg[128];
  (void)state;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.max_tokens = 10;
  o.n_threads = 2;
  assert_int_equal(rill_embedder_open(&e, g_f32, &o, &err), RILL_OK);
  assert_int_equal(rill_embedder_get_info(e, &info), RILL_OK);
  assert_int_equal(info.context, 10);
  r = embed1(e, long_text, NULL);
  assert_int_equal(r->input_tokens, 10);
  assert_int_equal(rill_embedder_tokenize(e, long_text, strlen(long_text), 1,
                                          ids, 64, &nid),
                   RILL_OK);
  assert_int_equal(nid, 22);
  ids[9] = 102; /* [SEP] stays last */
  ref_forward(&g_tm, ids, 10, pooled);
  ref_finish(pooled, 64, 0, 0, want);
  cmp_vec(&c, r->data, want, 64);
  assert_true(c.max_abs <= 1e-4);
  rill_embeddings_free(r);
  /* the same with a prefix that takes part of the room */
  {
    rill_embed_options eo;
    memset(&eo, 0, sizeof eo);
    eo.prefix = "the fox ";
    r = embed1(e, long_text, &eo);
    assert_int_equal(r->input_tokens, 10);
    rill_embeddings_free(r);
  }
  rill_embedder_close(e);

  o.overflow = RILL_EMBED_REFUSE;
  assert_int_equal(rill_embedder_open(&e, g_f32, &o, &err), RILL_OK);
  r = embed1(e, "a b c d e f g h", NULL); /* exactly 10 */
  assert_int_equal(r->input_tokens, 10);
  rill_embeddings_free(r);
  r = NULL;
  assert_int_equal(rill_embedder_embed(e, texts, NULL, 2, NULL, &r, msg,
                                       sizeof msg),
                   RILL_E_LIMIT);
  assert_null(r);
  assert_non_null(strstr(msg, "text 1"));
  rill_embedder_close(e);

  /* max_tokens above the context is capped at the context */
  o.max_tokens = 100000;
  assert_int_equal(rill_embedder_open(&e, g_f32, &o, &err), RILL_OK);
  assert_int_equal(rill_embedder_get_info(e, &info), RILL_OK);
  assert_int_equal(info.context, 512);
  rill_embedder_close(e);
}

static void test_tokenize_info(void **state) {
  rill_embedder *e = open_ok(g_f32, 3, 0);
  rill_embedder_info info;
  int32_t ids[8];
  size_t n = 99;
  (void)state;
  assert_int_equal(rill_embedder_tokenize(e, "the fox", 7, 1, ids, 8, &n),
                   RILL_OK);
  assert_int_equal(n, 4);
  assert_int_equal(ids[0], 101);
  assert_int_equal(ids[3], 102);
  assert_int_equal(rill_embedder_tokenize(e, "the fox", 7, 0, ids, 8, &n),
                   RILL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(rill_embedder_tokenize(e, "a b c d e f g h i", 17, 1, ids,
                                          4, &n),
                   RILL_E_LIMIT);
  assert_int_equal(n, 11);
  assert_int_equal(rill_embedder_tokenize(e, NULL, 0, 1, ids, 8, &n), RILL_OK);
  assert_int_equal(n, 2);
  assert_int_equal(rill_embedder_tokenize(e, "x", 1, 1, NULL, 8, &n),
                   RILL_E_INVALID);
  assert_int_equal(rill_embedder_get_info(e, &info), RILL_OK);
  assert_int_equal(info.local, 1);
  assert_string_equal(info.architecture, "nomic-bert");
  assert_string_equal(info.model, g_f32);
  assert_int_equal(info.dims, 64);
  assert_int_equal(info.context, 512);
  assert_int_equal(info.n_layers, 2);
  assert_int_equal(info.n_heads, 4);
  assert_int_equal(info.vocab_size, VOCAB);
  assert_int_equal(info.n_threads, 3);
  assert_non_null(info.kernels);
  /* 2 + 2 norms, token_embd, token_types, and 9 per layer */
  assert_int_equal(info.types[RILL_GGUF_TYPE_F32], 4 + 2 * 9);
  assert_true(info.bytes_mapped > 64 * VOCAB * 4);
  assert_true(info.heap_bytes > 0 && info.heap_bytes < 1024 * 1024);
  print_message("kernels %s, mapped %llu, heap %llu\n", info.kernels,
                (unsigned long long)info.bytes_mapped,
                (unsigned long long)info.heap_bytes);
  assert_int_equal(rill_embedder_get_info(NULL, &info), RILL_E_INVALID);
  rill_embedder_close(e);
}

/* ---- threads ------------------------------------------------------------------ */

#define CONC_THREADS 4
#define CONC_CALLS 12

typedef struct conc {
  rill_embedder *e;
  rill_embeddings *want[N_TEXTS];
  int bad;
  int id;
} conc;

static void *conc_main(void *arg) {
  conc *c = arg;
  int k;
  for (k = 0; k < CONC_CALLS; k++) {
    size_t t = (size_t)(k + c->id) % N_TEXTS;
    rill_embeddings *r = NULL;
    if (rill_embedder_embed(c->e, &g_texts[t], NULL, 1, NULL, &r, NULL, 0) !=
            RILL_OK ||
        memcmp(r->data, c->want[t]->data, r->dims * sizeof(float)) != 0)
      c->bad++;
    rill_embeddings_free(r);
  }
  return NULL;
}

static void test_concurrent_calls(void **state) {
  rill_embedder *e = open_ok(g_f32, 2, 0);
  rill_embeddings *want[N_TEXTS];
  conc cs[CONC_THREADS];
  pthread_t th[CONC_THREADS];
  size_t t;
  int i;
  (void)state;
  for (t = 0; t < N_TEXTS; t++)
    want[t] = embed1(e, g_texts[t], NULL);
  for (i = 0; i < CONC_THREADS; i++) {
    cs[i].e = rill_embedder_ref(e);
    memcpy(cs[i].want, want, sizeof want);
    cs[i].bad = 0;
    cs[i].id = i;
    assert_int_equal(pthread_create(&th[i], NULL, conc_main, &cs[i]), 0);
  }
  rill_embedder_close(e); /* the threads' references keep it alive */
  for (i = 0; i < CONC_THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(cs[i].bad, 0);
    rill_embedder_close(cs[i].e);
  }
  for (t = 0; t < N_TEXTS; t++)
    rill_embeddings_free(want[t]);
}

static void test_thread_counts(void **state) {
  rill_embedder *e1 = open_ok(g_f32, 1, 0), *e4 = open_ok(g_f32, 4, 0);
  rill_embedder *s1 = open_ok(g_f32, 1, 1), *s3 = open_ok(g_f32, 3, 1);
  size_t t;
  (void)state;
  for (t = 0; t < N_TEXTS; t++) {
    rill_embeddings *a = embed1(e1, g_texts[t], NULL);
    rill_embeddings *b = embed1(e4, g_texts[t], NULL);
    rill_embeddings *c = embed1(s1, g_texts[t], NULL);
    rill_embeddings *d = embed1(s3, g_texts[t], NULL);
    size_t i;
    for (i = 0; i < 64; i++) {
      assert_true(fabsf(a->data[i] - b->data[i]) <= 1e-6f);
      assert_true(fabsf(c->data[i] - d->data[i]) <= 1e-6f);
      assert_true(fabsf(a->data[i] - c->data[i]) <= 1e-5f);
    }
    rill_embeddings_free(a);
    rill_embeddings_free(b);
    rill_embeddings_free(c);
    rill_embeddings_free(d);
  }
  rill_embedder_close(e1);
  rill_embedder_close(e4);
  rill_embedder_close(s1);
  rill_embedder_close(s3);
}

static void test_refcount(void **state) {
  rill_embedder *e = open_ok(g_f32, 2, 0);
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  uint64_t held;
  rill_embeddings *r;
  (void)state;
  rill_alloc_get_stats(&st);
  held = st.bytes_in_use;
  assert_ptr_equal(rill_embedder_ref(e), e);
  assert_ptr_equal(rill_embedder_ref(e), e);
  rill_embedder_close(e);
  rill_embedder_close(e);
  rill_alloc_get_stats(&st);
  assert_int_equal(st.bytes_in_use, held); /* still open */
  r = embed1(e, "the fox", NULL);
  rill_embeddings_free(r);
  rill_embedder_close(e); /* the last: frees */
  rill_alloc_get_stats(&st);
  assert_true(st.bytes_in_use < held);
}

/* The pool alone: concurrent jobs from several threads, each checking that
 * every one of its tasks ran exactly once. */
typedef struct pjob {
  int hits[257];
} pjob;

static void ptask(void *ctx, size_t i) {
  pjob *j = ctx;
  j->hits[i]++;
}

typedef struct pthr {
  rill__tpool *p;
  int bad;
} pthr;

static void *pool_caller(void *arg) {
  pthr *t = arg;
  int k;
  for (k = 0; k < 300; k++) {
    pjob j;
    size_t n = (size_t)(k % 257) + 1, i;
    memset(&j, 0, sizeof j);
    rill__tpool_run(t->p, n, ptask, &j);
    for (i = 0; i < 257; i++)
      if (j.hits[i] != (i < n ? 1 : 0))
        t->bad++;
  }
  return NULL;
}

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_pool(void **state) {
  rill__tpool *p = NULL;
  pthread_t th[4];
  pthr ts[4];
  double c0, c1;
  int i;
  (void)state;
  assert_int_equal(rill__tpool_new(&p, 3), RILL_OK);
  assert_int_equal(rill__tpool_threads(p), 3);
  for (i = 0; i < 4; i++) {
    ts[i].p = p;
    ts[i].bad = 0;
    assert_int_equal(pthread_create(&th[i], NULL, pool_caller, &ts[i]), 0);
  }
  for (i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(ts[i].bad, 0);
  }
  /* idle workers sleep: a quarter second of idling costs (almost) no CPU */
  usleep(20000);
  c0 = cpu_seconds();
  usleep(250000);
  c1 = cpu_seconds();
  print_message("pool idle: %.4f s CPU in 0.25 s\n", c1 - c0);
  assert_true(c1 - c0 < 0.05);
  rill__tpool_free(p);
  assert_int_equal(rill__tpool_new(&p, 1), RILL_OK);
  ts[0].p = p;
  pool_caller(&ts[0]);
  assert_int_equal(ts[0].bad, 0);
  rill__tpool_free(p);
  rill__tpool_free(NULL);
}

/* ---- memory ------------------------------------------------------------------ */

static uint64_t peak_of_call(rill_embedder *e, size_t words) {
  char text[4096];
  size_t i, k = 0;
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  uint64_t base;
  rill_embeddings *r;
  for (i = 0; i < words; i++)
    k += (size_t)snprintf(text + k, sizeof text - k, "a ");
  rill_alloc_get_stats(&st);
  base = st.bytes_in_use;
  rill_alloc_reset_peak();
  r = embed1(e, text, NULL);
  assert_int_equal(r->input_tokens, (int64_t)words + 2);
  rill_embeddings_free(r);
  rill_alloc_get_stats(&st);
  return st.peak_bytes - base;
}

static void test_heap(void **state) {
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  rill_embedder *e;
  uint64_t base, at_open, held, p64, p128, p256;
  double ratio;
  (void)state;
  rill_alloc_get_stats(&st);
  base = st.bytes_in_use;
  rill_alloc_reset_peak();
  e = open_ok(g_f32, 2, 0);
  rill_alloc_get_stats(&st);
  at_open = st.peak_bytes - base;
  held = st.bytes_in_use - base;
  p64 = peak_of_call(e, 62);
  p128 = peak_of_call(e, 126);
  p256 = peak_of_call(e, 254);
  ratio = (double)(p256 - p128) / (double)(p128 - p64);
  print_message("heap: open peak %llu, held %llu; call peak 64 tok %llu, "
                "128 %llu, 256 %llu (%.0f bytes/token; growth ratio %.2f)\n",
                (unsigned long long)at_open, (unsigned long long)held,
                (unsigned long long)p64, (unsigned long long)p128,
                (unsigned long long)p256, (double)(p256 - p128) / 128.0,
                ratio);
  assert_true(ratio > 1.8 && ratio < 2.2); /* linear, not quadratic (4) */
  assert_true(at_open < 1024 * 1024);
  rill_embedder_close(e);
  rill_alloc_get_stats(&st);
  assert_int_equal(st.bytes_in_use, base);
}

static void test_alloc_failures(void **state) {
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  rill_embedder_options o;
  rill_embedder *e = NULL;
  rill_gguf_error err;
  uint64_t base, n, k;
  const char *texts[3] = {"the quick brown fox", "", "hello world"};
  rill_embed_options eo;
  (void)state;
  memset(&o, 0, sizeof o);
  o.n_threads = 2;
  o.preload = 1;
  rill_alloc_get_stats(&st);
  base = st.bytes_in_use;
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(rill_embedder_open(&e, g_f32, &o, &err), RILL_OK);
  n = rill_alloc_attempts();
  rill_embedder_close(e);
  for (k = 1; k <= n; k++) {
    int rc;
    e = NULL;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_embedder_open(&e, g_f32, &o, &err);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    if (rc == RILL_OK) {
      rill_embedder_close(e);
    } else {
      assert_int_equal(rc, RILL_E_NOMEM);
      assert_null(e);
      assert_non_null(strstr(err.message, "out of memory"));
    }
    rill_alloc_get_stats(&st);
    assert_int_equal(st.bytes_in_use, base);
  }
  print_message("open: %llu allocations, each failed\n",
                (unsigned long long)n);

  e = open_ok(g_f32, 2, 0);
  rill_alloc_get_stats(&st);
  base = st.bytes_in_use;
  memset(&eo, 0, sizeof eo);
  eo.prefix = "q:"; /* the joined-copy path allocates too */
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  {
    rill_embeddings *r = NULL;
    assert_int_equal(rill_embedder_embed(e, texts, NULL, 3, &eo, &r, NULL, 0),
                     RILL_OK);
    n = rill_alloc_attempts();
    rill_embeddings_free(r);
  }
  for (k = 1; k <= n; k++) {
    rill_embeddings *r = NULL;
    char msg[64];
    int rc;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_embedder_embed(e, texts, NULL, 3, &eo, &r, msg, sizeof msg);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    if (rc == RILL_OK) {
      rill_embeddings_free(r);
    } else {
      assert_int_equal(rc, RILL_E_NOMEM);
      assert_null(r);
      assert_string_equal(msg, "out of memory");
    }
    rill_alloc_get_stats(&st);
    assert_int_equal(st.bytes_in_use, base);
  }
  print_message("embed: %llu allocations, each failed\n",
                (unsigned long long)n);
  rill_embedder_close(e);
}

static void test_preload(void **state) {
  rill_embedder_options o;
  rill_embedder *e = NULL;
  rill_gguf_error err;
  rill_embeddings *a, *b;
  rill_embedder *plain = open_ok(g_f32, 2, 0);
  (void)state;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.preload = 1;
  o.n_threads = 2;
  assert_int_equal(rill_embedder_open(&e, g_f32, &o, &err), RILL_OK);
  a = embed1(e, "hello world", NULL);
  b = embed1(plain, "hello world", NULL);
  assert_same(a, b);
  rill_embeddings_free(a);
  rill_embeddings_free(b);
  rill_embedder_close(e);
  rill_embedder_close(plain);
}

/* ---- remote ------------------------------------------------------------------ */

static void test_remote(void **state) {
  rill_client_opts co = RILL_CLIENT_OPTS_INIT;
  rill_client *c = NULL;
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill_embedder *e = NULL;
  rill_embedder_info info;
  rill_embeddings *r = NULL;
  rill_embed_options eo;
  const char *hdr[1] = {"X-Test: 1"};
  const char *t = "hello";
  char model[16] = {0}, url[32], msg[256];
  int32_t ids[4];
  size_t n, k;
  uint64_t nalloc;
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  uint64_t base;
  (void)state;
  assert_int_equal(rill_client_new(&c, &co), RILL_OK);
  snprintf(model, sizeof model, "nomic-embed");
  snprintf(url, sizeof url, "http://127.0.0.1:1");
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = url;
  req.endpoint.headers = hdr;
  req.endpoint.n_headers = 1;
  req.model = model;
  req.retry.max_retries = -1;
  req.timeouts.connect_ms = 3000;
  assert_int_equal(rill_embedder_open_remote(NULL, c, &req), RILL_E_INVALID);
  assert_int_equal(rill_embedder_open_remote(&e, c, &req), RILL_OK);
  memset(model, 'x', sizeof model - 1); /* copied at open */
  memset(url, 0, sizeof url);
  assert_int_equal(rill_embedder_get_info(e, &info), RILL_OK);
  assert_int_equal(info.local, 0);
  assert_string_equal(info.model, "nomic-embed");
  assert_int_equal(rill_embedder_tokenize(e, "x", 1, 1, ids, 4, &n),
                   RILL_E_UNSUPPORTED);
  memset(&eo, 0, sizeof eo);
  eo.no_normalize = 1;
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 1, &eo, &r, msg,
                                       sizeof msg),
                   RILL_E_UNSUPPORTED);
  eo.no_normalize = 0;
  eo.prefix = RILL_EMBED_PREFIX_QUERY;
  eo.dims = 32;
  /* nothing listens on port 1: the call reaches the transport and fails */
  assert_int_equal(rill_embedder_embed(e, &t, NULL, 1, &eo, &r, msg,
                                       sizeof msg),
                   RILL_E_CONNECT);
  assert_null(r);
  rill_embedder_close(e);

  snprintf(url, sizeof url, "http://127.0.0.1:1");
  rill_alloc_get_stats(&st);
  base = st.bytes_in_use;
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(rill_embedder_open_remote(&e, c, &req), RILL_OK);
  nalloc = rill_alloc_attempts();
  rill_embedder_close(e);
  for (k = 1; k <= nalloc; k++) {
    int rc;
    e = NULL;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_embedder_open_remote(&e, c, &req);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    if (rc == RILL_OK)
      rill_embedder_close(e);
    else
      assert_int_equal(rc, RILL_E_NOMEM);
    rill_alloc_get_stats(&st);
    assert_int_equal(st.bytes_in_use, base);
  }
  rill_client_free(c);
}

int main(void) {
  const struct CMUnitTest numerics[] = {
      cmocka_unit_test(test_f32),
      cmocka_unit_test(test_f16),
      cmocka_unit_test(test_q8_0),
      cmocka_unit_test(test_variant_separate_biases),
      cmocka_unit_test(test_variant_causal),
      cmocka_unit_test(test_long_input),
      cmocka_unit_test(test_reference_files),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_open_args),
  };
  const struct CMUnitTest api[] = {
      cmocka_unit_test(test_prefix),
      cmocka_unit_test(test_dims_and_invalid),
      cmocka_unit_test(test_truncate_refuse),
      cmocka_unit_test(test_tokenize_info),
      cmocka_unit_test(test_concurrent_calls),
      cmocka_unit_test(test_thread_counts),
      cmocka_unit_test(test_refcount),
      cmocka_unit_test(test_pool),
      cmocka_unit_test(test_heap),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_preload),
      cmocka_unit_test(test_remote),
  };
  int rc;
  if (rill_global_init(NULL) != RILL_OK)
    return 1;
  rc = cmocka_run_group_tests_name("embed numerics", numerics, setup_dir,
                                   remove_dir);
  rc |= cmocka_run_group_tests_name("embed api", api, setup_model,
                                    teardown_model);
  rill_global_cleanup();
  return rc;
}
