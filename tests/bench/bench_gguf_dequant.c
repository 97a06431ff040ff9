/*
 * bench_gguf_dequant.c — rill_gguf_dequantize throughput per type, one
 * thread.
 *
 *   bench_gguf_dequant [out_MiB] [max_passes]     (defaults: 64, 50)
 *
 * For each type a buffer of random valid blocks (random quants, finite
 * realistic scales) that decodes to out_MiB of floats is dequantized in one
 * call per pass; passes repeat until 0.25 s have gone or max_passes were
 * run, and the best pass is reported. Figures:
 *  - in GB/s: bytes of quantized input read per second;
 *  - out GB/s: bytes of float output written per second (4 per element);
 *  - x memcpy: out GB/s over the bandwidth of memcpy copying a buffer of
 *    the output's size, measured just before each type (the host is
 *    shared and its bandwidth drifts): what a decoder that writes that much
 *    memory pays at least, since F32 "dequantization" is exactly that copy.
 * F16 is reported three ways: the dispatched path (F16C where the CPU has
 * it), the portable vectorised path, and rill_f16_to_f32 called per
 * element (the scalar reference the fast paths replace).
 * The library's heap use during the runs is read from rill's allocator
 * statistics and printed (it must be 0: dequantization allocates nothing).
 * The "paste:" lines are table rows for docs/PERFORMANCE.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf/dequant.h"
#include "rill/rill.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A finite half of the size real block scales have (2^-12 .. 2^-3),
 * either sign. */
static uint16_t scale_half(void) {
  uint64_t r = rng();
  unsigned e = 3 + (unsigned)(r % 10), m = (unsigned)(r >> 8) & 1023;
  return (uint16_t)(((r >> 20) & 1) << 15 | e << 10 | m);
}
static void put16(unsigned char *p, uint16_t v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
}

typedef struct btype {
  int type;
  const char *name;
  int half_at[2]; /* byte offsets of f16 fields (-1: none) */
} btype;

static const btype types[] = {
    {RILL_GGUF_TYPE_F32, "F32", {-1, -1}},
    {RILL_GGUF_TYPE_F16, "F16", {-1, -1}},
    {RILL_GGUF_TYPE_BF16, "BF16", {-1, -1}},
    {RILL_GGUF_TYPE_Q4_0, "Q4_0", {0, -1}},
    {RILL_GGUF_TYPE_Q4_1, "Q4_1", {0, 2}},
    {RILL_GGUF_TYPE_Q5_0, "Q5_0", {0, -1}},
    {RILL_GGUF_TYPE_Q5_1, "Q5_1", {0, 2}},
    {RILL_GGUF_TYPE_Q8_0, "Q8_0", {0, -1}},
    {RILL_GGUF_TYPE_Q2_K, "Q2_K", {80, 82}},
    {RILL_GGUF_TYPE_Q3_K, "Q3_K", {108, -1}},
    {RILL_GGUF_TYPE_Q4_K, "Q4_K", {0, 2}},
    {RILL_GGUF_TYPE_Q5_K, "Q5_K", {0, 2}},
    {RILL_GGUF_TYPE_Q6_K, "Q6_K", {208, -1}},
    {RILL_GGUF_TYPE_Q8_K, "Q8_K", {-1, -1}},
};

static void fill_blocks(const btype *t, unsigned char *src, size_t nb,
                        uint32_t bbytes) {
  size_t i, k;
  for (i = 0; i < nb * bbytes; i += 8) {
    uint64_t r = rng();
    for (k = 0; k < 8 && i + k < nb * bbytes; k++)
      src[i + k] = (unsigned char)(r >> (8 * k));
  }
  for (i = 0; i < nb; i++) {
    unsigned char *b = src + i * bbytes;
    if (t->type == RILL_GGUF_TYPE_F32) { /* a finite float of modest size */
      uint32_t u =
          (uint32_t)(120 + rng() % 10) << 23 | ((uint32_t)rng() & 0x807fffffu);
      memcpy(b, &u, 4);
    } else if (t->type == RILL_GGUF_TYPE_F16) {
      put16(b, scale_half());
    } else if (t->type == RILL_GGUF_TYPE_BF16) {
      put16(b, (uint16_t)((120 + rng() % 10) << 7 | (rng() & 0x807f)));
    } else if (t->type == RILL_GGUF_TYPE_Q8_K) {
      float d = (float)(rng() % 1000 + 1) * 1e-5f;
      memcpy(b, &d, 4);
    }
    for (k = 0; k < 2; k++)
      if (t->half_at[k] >= 0)
        put16(b + t->half_at[k], scale_half());
  }
}

typedef void (*runner)(int type, const unsigned char *src, size_t sbytes,
                       float *dst, size_t n);

static void run_api(int type, const unsigned char *src, size_t sbytes,
                    float *dst, size_t n) {
  if (rill_gguf_dequantize(type, src, sbytes, dst, n) != RILL_OK) {
    fprintf(stderr, "dequantize failed for type %d\n", type);
    exit(1);
  }
}
static void run_f16_portable(int type, const unsigned char *src, size_t sbytes,
                             float *dst, size_t n) {
  (void)type, (void)sbytes;
  rill__dq_f16_portable(src, dst, n);
}
static void run_f16_scalar(int type, const unsigned char *src, size_t sbytes,
                           float *dst, size_t n) {
  size_t i;
  (void)type, (void)sbytes;
  for (i = 0; i < n; i++)
    dst[i] = rill_f16_to_f32((uint16_t)(src[2 * i] | src[2 * i + 1] << 8));
}
static void run_memcpy(int type, const unsigned char *src, size_t sbytes,
                       float *dst, size_t n) {
  (void)type, (void)n;
  memcpy(dst, src, sbytes);
}

static int g_max_passes = 50;

/* Best seconds per pass. */
static double best_pass(runner r, int type, const unsigned char *src,
                        size_t sbytes, float *dst, size_t n) {
  double best = 1e30, start = now_s();
  int p;
  for (p = 0; p < g_max_passes; p++) {
    double t0 = now_s(), dt;
    r(type, src, sbytes, dst, n);
    dt = now_s() - t0;
    if (dt < best)
      best = dt;
    if (now_s() - start > 0.25 && p >= 2)
      break;
  }
  return best;
}

static volatile float g_sink;
static float *g_scratch;

/* memcpy bandwidth of n floats' bytes, now. */
static double memcpy_gbs(const float *from, size_t n) {
  double s = best_pass(run_memcpy, 0, (const unsigned char *)from, n * 4,
                       g_scratch, n);
  return (double)n * 4.0 / s / 1e9;
}

static void report(const char *name, size_t in_bytes, size_t n, double s,
                   double mc) {
  double in = (double)in_bytes / s / 1e9, out = (double)n * 4.0 / s / 1e9;
  printf("%-13s in %6.2f GB/s  out %6.2f GB/s  %6.0f Melem/s  %5.2fx memcpy "
         "(%.1f GB/s)\n",
         name, in, out, (double)n / s / 1e6, out / mc, mc);
  printf("paste: | %s | %.2f | %.2f | %.0f | %.2f |\n", name, in, out,
         (double)n / s / 1e6, out / mc);
}

int main(int argc, char **argv) {
  size_t out_mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 64;
  size_t n = out_mib * 1024 * 1024 / 4, ti, max_in = 0;
  unsigned char *src;
  float *dst;
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = before;
  if (argc > 2)
    g_max_passes = atoi(argv[2]);
  if (n == 0 || g_max_passes < 1) {
    fprintf(stderr, "usage: bench_gguf_dequant [out_MiB] [max_passes]\n");
    return 2;
  }
  n -= n % 256;
  for (ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    uint64_t bytes;
    rill_gguf_row_bytes(types[ti].type, n, &bytes);
    if (bytes > max_in)
      max_in = (size_t)bytes;
  }
  src = malloc(max_in);
  dst = malloc(n * sizeof(float));
  g_scratch = malloc(n * sizeof(float));
  if (!src || !dst || !g_scratch)
    return 1;
  /* fault the pages in before timing */
  memset(dst, 0, n * sizeof(float));
  memset(g_scratch, 0, n * sizeof(float));
  memset(src, 0, max_in);

  printf("bench_gguf_dequant: %zu MiB of output floats (%zu elements) per "
         "pass, best of up to %d passes, 1 thread; F16C %s\n",
         out_mib, n, g_max_passes,
         rill__dq_f16_f16c() ? "used" : "not available");
  printf("paste: | type | in GB/s | out GB/s | Melem/s | x memcpy |\n");
  printf("paste: |---|---|---|---|---|\n");
  rill_alloc_reset_peak();
  rill_alloc_get_stats(&before);
  for (ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const btype *t = &types[ti];
    uint32_t be, bb;
    size_t nb, sbytes;
    double mc;
    rill_gguf_type_block(t->type, &be, &bb);
    nb = n / be;
    sbytes = nb * bb;
    fill_blocks(t, src, nb, bb);
    mc = memcpy_gbs(dst, n);
    report(t->name, sbytes, n, best_pass(run_api, t->type, src, sbytes, dst, n),
           mc);
    if (t->type == RILL_GGUF_TYPE_F16) {
      report("F16 portable", sbytes, n,
             best_pass(run_f16_portable, t->type, src, sbytes, dst, n), mc);
      report("F16 scalar", sbytes, n,
             best_pass(run_f16_scalar, t->type, src, sbytes, dst, n), mc);
    }
    g_sink = dst[n / 2];
  }
  rill_alloc_get_stats(&after);
  printf("library heap during the runs: %llu allocations, peak %llu bytes "
         "above the start (heap = 0: dequantization allocates nothing)\n",
         (unsigned long long)(after.n_allocs - before.n_allocs),
         (unsigned long long)(after.peak_bytes - before.bytes_in_use));
  free(src);
  free(dst);
  free(g_scratch);
  return 0;
}
