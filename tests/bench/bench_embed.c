/*
 * bench_embed.c — the local embedder's throughput, open time, heap and
 * peak RSS on one GGUF file (issue 6, "Performance").
 *
 *   bench_embed MODEL [--threads 1,2] [--tokens 128,512] [--runs R]
 *                     [--count128 N] [--count512 N] [--opens K] [--scalar]
 *
 * Open: K opens without preload (warm page cache; median and best ms, peak
 * heap during the open, heap held after it), then one open with preload.
 * Throughput: per thread count one embedder (no preload) and one warm-up
 * text; per text length T, N texts of exactly T tokens ([CLS] and [SEP]
 * included) embedded R times as one call (the texts run one after the
 * other, as llama.cpp's getEmbeddingFor does), tokens/s of each pass; best
 * and median printed. Texts are whole-word tokens of the model's own
 * vocabulary joined by spaces, so their token count is exact; each is
 * checked with rill_embedder_tokenize.
 * Heap during a 512-token embed: rill's counting allocator, peak above the
 * level before the call (the call's result included). Peak RSS: the
 * process's maximum resident set (getrusage) at the end, which includes
 * the mapped weights that were read.
 *
 * Output: Markdown table rows, ready for docs/PERFORMANCE.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "rill/rill.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int parse_list(const char *s, int *out, int cap) {
  int n = 0;
  while (*s && n < cap) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v <= 0 || v > 100000)
      return -1;
    out[n++] = (int)v;
    s = *end == ',' ? end + 1 : end;
  }
  return n;
}

static rill_embedder *open_emb(const char *path, int threads, int preload,
                               int scalar) {
  rill_embedder_options o;
  rill_gguf_error err;
  rill_embedder *e = NULL;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.n_threads = threads;
  o.preload = preload;
  o.force_scalar = scalar;
  if (rill_embedder_open(&e, path, &o, &err) != RILL_OK) {
    fprintf(stderr, "bench_embed: %s: %s\n", path, err.message);
    return NULL;
  }
  return e;
}

/* Words of the vocabulary that are one token each: lowercase ASCII, 2..12
 * letters (a leading U+2581 word mark dropped), checked with the
 * embedder's tokenizer. */
typedef struct words {
  char **w;
  size_t n;
} words;

static int load_words(const char *path, rill_embedder *e, words *out) {
  rill_gguf *g = NULL;
  rill_gguf_error err;
  rill_gguf_vtype et;
  uint64_t count, i;
  int64_t kv;
  out->w = NULL;
  out->n = 0;
  if (rill_gguf_open(&g, path, NULL, &err) != RILL_OK ||
      rill_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &count) != RILL_OK ||
      (kv = rill_gguf_find_key(g, "tokenizer.ggml.tokens")) < 0) {
    fprintf(stderr, "bench_embed: cannot read the vocabulary\n");
    rill_gguf_close(g);
    return -1;
  }
  out->w = calloc((size_t)count, sizeof *out->w);
  if (!out->w) {
    rill_gguf_close(g);
    return -1;
  }
  for (i = 0; i < count && out->n < 4000; i++) {
    const char *s;
    size_t len, j;
    int32_t ids[4];
    size_t nt = 0;
    int ok = 1;
    if (rill_gguf_arr_str(g, (uint64_t)kv, i, &s, &len) != RILL_OK)
      continue;
    /* llama.cpp's converted BERT vocabularies mark word starts with
     * U+2581; plain WordPiece ones do not. */
    if (len > 3 && memcmp(s, "\xe2\x96\x81", 3) == 0) {
      s += 3;
      len -= 3;
    }
    if (len < 2 || len > 12)
      continue;
    for (j = 0; j < len; j++)
      if (s[j] < 'a' || s[j] > 'z')
        ok = 0;
    if (!ok || rill_embedder_tokenize(e, s, len, 0, ids, 4, &nt) != RILL_OK ||
        nt != 1)
      continue;
    out->w[out->n] = malloc(len + 1);
    if (!out->w[out->n])
      break;
    memcpy(out->w[out->n], s, len);
    out->w[out->n][len] = '\0';
    out->n++;
  }
  rill_gguf_close(g);
  if (out->n < 100) {
    fprintf(stderr, "bench_embed: only %zu one-token words\n", out->n);
    return -1;
  }
  return 0;
}

/* Text k of exactly T tokens: T - 2 words ([CLS] and [SEP] are the rest). */
static char *make_text(const words *w, rill_embedder *e, int T, int k) {
  size_t cap = (size_t)T * 14 + 1, len = 0, nt = 0;
  char *s = malloc(cap);
  int32_t *ids = malloc(((size_t)T + 8) * sizeof *ids);
  uint32_t seed = 12345u + 7919u * (uint32_t)k;
  int i;
  if (!s || !ids) {
    free(s);
    free(ids);
    return NULL;
  }
  for (i = 0; i < T - 2; i++) {
    const char *word;
    size_t wl;
    seed = seed * 1103515245u + 12345u;
    word = w->w[(seed >> 8) % w->n];
    wl = strlen(word);
    if (i)
      s[len++] = ' ';
    memcpy(s + len, word, wl);
    len += wl;
  }
  s[len] = '\0';
  if (rill_embedder_tokenize(e, s, len, 1, ids, (size_t)T + 8, &nt) !=
          RILL_OK ||
      nt != (size_t)T) {
    fprintf(stderr, "bench_embed: text %d has %zu tokens, not %d\n", k, nt,
            T);
    free(s);
    s = NULL;
  }
  free(ids);
  return s;
}

static uint64_t heap_in_use(void) {
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&st);
  return st.bytes_in_use;
}

static uint64_t heap_peak(void) {
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&st);
  return st.peak_bytes;
}

static const char *base_name(const char *p) {
  const char *s = strrchr(p, '/');
  return s ? s + 1 : p;
}

int main(int argc, char **argv) {
  const char *path = NULL;
  int threads[8] = {1, 2}, nthreads = 2, tokens[8] = {128, 512}, ntokens = 2;
  int runs = 5, count128 = 32, count512 = 8, opens = 9, scalar = 0;
  int ai, ti, ni, k;
  rill_embedder *e;
  rill_embedder_info info;
  words w;
  double *t_open, best_open, med_open, t_pre;
  uint64_t open_peak = 0, held = 0, embed_peak = 0;
  struct rusage ru;

  for (ai = 1; ai < argc; ai++) {
    const char *a = argv[ai];
    const char *v = ai + 1 < argc ? argv[ai + 1] : NULL;
    if (strcmp(a, "--scalar") == 0) {
      scalar = 1;
      continue;
    }
    if (a[0] != '-') {
      path = a;
      continue;
    }
    if (!v)
      goto usage;
    ai++;
    if (strcmp(a, "--threads") == 0)
      nthreads = parse_list(v, threads, 8);
    else if (strcmp(a, "--tokens") == 0)
      ntokens = parse_list(v, tokens, 8);
    else if (strcmp(a, "--runs") == 0)
      runs = atoi(v);
    else if (strcmp(a, "--count128") == 0)
      count128 = atoi(v);
    else if (strcmp(a, "--count512") == 0)
      count512 = atoi(v);
    else if (strcmp(a, "--opens") == 0)
      opens = atoi(v);
    else
      goto usage;
    if (nthreads <= 0 || ntokens <= 0 || runs <= 0 || count128 <= 0 ||
        count512 <= 0 || opens <= 0)
      goto usage;
  }
  if (!path)
    goto usage;

  /* ---- open ---- */
  t_open = malloc((size_t)opens * sizeof *t_open);
  if (!t_open)
    return 1;
  for (k = 0; k < opens; k++) {
    uint64_t before = heap_in_use();
    double t0;
    rill_alloc_reset_peak();
    t0 = now_s();
    e = open_emb(path, 1, 0, scalar);
    t_open[k] = (now_s() - t0) * 1e3;
    if (!e)
      return 1;
    if (heap_peak() - before > open_peak)
      open_peak = heap_peak() - before;
    held = heap_in_use() - before;
    rill_embedder_close(e);
  }
  best_open = t_open[0];
  for (k = 1; k < opens; k++)
    if (t_open[k] < best_open)
      best_open = t_open[k];
  med_open = median(t_open, (size_t)opens);
  free(t_open);
  {
    double t0 = now_s();
    e = open_emb(path, 1, 1, scalar);
    t_pre = (now_s() - t0) * 1e3;
    if (!e)
      return 1;
    rill_embedder_close(e);
  }

  e = open_emb(path, 1, 0, scalar);
  if (!e || load_words(path, e, &w) != 0)
    return 1;
  rill_embedder_get_info(e, &info);
  rill_embedder_close(e);

  printf("# bench_embed %s: kernels %s, %u layers, width %u; %d runs\n",
         base_name(path), info.kernels, info.n_layers, info.dims, runs);
  printf("\n| engine | file | open ms median (best), no preload | open ms, "
         "preload | peak heap at open | heap held |\n|---|---|---|---|---|---"
         "|\n");
  printf("| rill | %s | %.2f (%.2f) | %.0f | %.1f KiB | %.1f KiB |\n",
         base_name(path), med_open, best_open, t_pre,
         (double)open_peak / 1024, (double)held / 1024);

  printf("\n| engine | file | threads | text tokens | texts | tokens/s best | "
         "tokens/s median |\n|---|---|---|---|---|---|---|\n");
  for (ti = 0; ti < nthreads; ti++) {
    e = open_emb(path, threads[ti], 0, scalar);
    if (!e)
      return 1;
    for (ni = 0; ni < ntokens; ni++) {
      int T = tokens[ni], N = T <= 128 ? count128 : count512, r;
      char **texts = calloc((size_t)N, sizeof *texts);
      double *tps = malloc((size_t)runs * sizeof *tps), best = 0;
      rill_embeddings *res = NULL;
      char msg[256];
      if (!texts || !tps)
        return 1;
      for (k = 0; k < N; k++)
        if (!(texts[k] = make_text(&w, e, T, k)))
          return 1;
      /* warm-up: one text */
      if (rill_embedder_embed(e, (const char *const *)texts, NULL, 1, NULL,
                              &res, msg, sizeof msg) != RILL_OK) {
        fprintf(stderr, "bench_embed: %s\n", msg);
        return 1;
      }
      rill_embeddings_free(res);
      if (T == 512 && threads[ti] == threads[0]) {
        uint64_t before = heap_in_use();
        rill_alloc_reset_peak();
        if (rill_embedder_embed(e, (const char *const *)texts, NULL, 1, NULL,
                                &res, msg, sizeof msg) != RILL_OK)
          return 1;
        embed_peak = heap_peak() - before;
        rill_embeddings_free(res);
      }
      for (r = 0; r < runs; r++) {
        double t0 = now_s(), dt;
        if (rill_embedder_embed(e, (const char *const *)texts, NULL,
                                (size_t)N, NULL, &res, msg,
                                sizeof msg) != RILL_OK) {
          fprintf(stderr, "bench_embed: %s\n", msg);
          return 1;
        }
        dt = now_s() - t0;
        if (res->input_tokens != (int64_t)N * T) {
          fprintf(stderr, "bench_embed: %lld tokens embedded, not %lld\n",
                  (long long)res->input_tokens, (long long)N * T);
          return 1;
        }
        rill_embeddings_free(res);
        tps[r] = (double)N * T / dt;
        if (tps[r] > best)
          best = tps[r];
      }
      printf("| rill | %s | %d | %d | %d | %.1f | %.1f |\n", base_name(path),
             threads[ti], T, N, best, median(tps, (size_t)runs));
      fflush(stdout);
      for (k = 0; k < N; k++)
        free(texts[k]);
      free(texts);
      free(tps);
    }
    rill_embedder_close(e);
  }
  getrusage(RUSAGE_SELF, &ru);
  printf("\n| engine | file | peak heap, one 512-token embed | peak RSS |\n"
         "|---|---|---|---|\n| rill | %s | %.2f MiB | %.1f MiB |\n",
         base_name(path), (double)embed_peak / 1048576,
         (double)ru.ru_maxrss / 1024);
  for (k = 0; (size_t)k < w.n; k++)
    free(w.w[k]);
  free(w.w);
  return 0;
usage:
  fprintf(stderr,
          "usage: bench_embed MODEL [--threads 1,2] [--tokens 128,512] "
          "[--runs R] [--count128 N] [--count512 N] [--opens K] [--scalar]\n");
  return 2;
}
