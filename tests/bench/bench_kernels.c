/*
 * bench_kernels — single-thread GFLOP/s (2 * in * out * n_tok per matmul)
 * of the embedder's kernels for each weight type, on the matrix shapes of
 * nomic-embed-text (QKV 768->2304, output 768->768, up/gate 768->3072,
 * down 3072->768), 128 and 512 tokens, scalar and every SIMD path this
 * CPU runs. Activation conversion is timed separately (it runs once per
 * matmul input, not per weight row). Timing: best of several runs per
 * slice of rows, summed (see time_matmul).
 *
 *   build-rel/bin/bench_kernels [TYPE...]      (e.g. Q4_K Q6_K)
 *   RILL_BENCH_SCALAR=0 skips the (slow) scalar path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "embed/kernels.h"
#include "embed/kernels_impl.h"
#include "rill/gguf.h"

static uint64_t rng = 42;
static uint64_t next64(void) {
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static float unif(void) {
  return (float)((double)(next64() >> 11) * 0x1p-52 - 1.0);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct wtype {
  int type;
  const char *name;
  size_t elems, bytes;
  int scale_off[2];
} wtype;

static const wtype types[] = {
    {RILL_GGUF_TYPE_F32, "F32", 1, 4, {-1, -1}},
    {RILL_GGUF_TYPE_F16, "F16", 1, 2, {-1, -1}},
    {RILL_GGUF_TYPE_Q8_0, "Q8_0", 32, 34, {0, -1}},
    {RILL_GGUF_TYPE_Q4_0, "Q4_0", 32, 18, {0, -1}},
    {RILL_GGUF_TYPE_Q4_1, "Q4_1", 32, 20, {0, 2}},
    {RILL_GGUF_TYPE_Q5_0, "Q5_0", 32, 22, {0, -1}},
    {RILL_GGUF_TYPE_Q5_1, "Q5_1", 32, 24, {0, 2}},
    {RILL_GGUF_TYPE_Q4_K, "Q4_K", 256, 144, {0, 2}},
    {RILL_GGUF_TYPE_Q5_K, "Q5_K", 256, 176, {0, 2}},
    {RILL_GGUF_TYPE_Q6_K, "Q6_K", 256, 210, {208, -1}},
};

static const size_t shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072},
                                   {3072, 768}};

static void put_h16(unsigned char *p, float v) {
  uint16_t h = rill__f32_to_f16(v);
  p[0] = (unsigned char)(h & 0xff);
  p[1] = (unsigned char)(h >> 8);
}

static unsigned char *make_weights(const wtype *wt, size_t in, size_t out,
                                   size_t *rb) {
  size_t nb = in / wt->elems, b, i;
  unsigned char *w;
  *rb = nb * wt->bytes;
  w = malloc(*rb * out);
  if (!w)
    return NULL;
  for (i = 0; i < *rb * out; i++)
    w[i] = (unsigned char)next64();
  for (b = 0; b < nb * out; b++) {
    unsigned char *blk = w + b * wt->bytes;
    if (wt->type == RILL_GGUF_TYPE_F32) {
      float v = unif();
      memcpy(blk, &v, 4);
    } else if (wt->type == RILL_GGUF_TYPE_F16) {
      put_h16(blk, unif());
    }
    for (i = 0; i < 2; i++)
      if (wt->scale_off[i] >= 0)
        put_h16(blk + wt->scale_off[i], unif() * 0.05f);
  }
  return w;
}

/* The matmul in 16 slices of rows (as the thread pool splits it), each
 * timed as the best of several runs, the bests summed: on a shared
 * machine a 50 ms matmul is almost never left alone for its whole run,
 * a 3 ms slice often is. */
#define SLICES 16
static double time_matmul(const rill__kernels *k, const rill__wmat *m,
                          const void *act, size_t ab, size_t n_tok, float *y,
                          int reps) {
  double total = 0;
  size_t s;
  for (s = 0; s < SLICES; s++) {
    size_t o0 = m->out * s / SLICES, o1 = m->out * (s + 1) / SLICES;
    double best = 1e30;
    int r;
    for (r = 0; r < reps; r++) {
      double t0 = now(), dt;
      k->matmul(m, act, ab, n_tok, o0, o1, y, m->out);
      dt = now() - t0;
      if (dt < best)
        best = dt;
    }
    total += best;
  }
  return total;
}

int main(int argc, char **argv) {
  const rill__kernels *paths[4];
  size_t np = 0, ti, si, ni, pi;
  static const size_t ntoks[] = {128, 512};
  const char *sc = getenv("RILL_BENCH_SCALAR");
  int want_scalar = !(sc && strcmp(sc, "0") == 0);
  if (want_scalar)
    paths[np++] = rill__kernels_get(1);
  if (rill__kernels_avx2())
    paths[np++] = rill__kernels_avx2();
  if (rill__kernels_avx512())
    paths[np++] = rill__kernels_avx512();
  printf("# single thread, GFLOP/s = 2*in*out*n_tok / time (best run)\n");
  printf("%-5s %-10s %5s", "type", "shape", "n_tok");
  for (pi = 0; pi < np; pi++)
    printf(" %9s", paths[pi]->name);
  printf(" %12s\n", "convert(ms)");
  for (ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
    const wtype *wt = &types[ti];
    if (argc > 1) {
      int a, hit = 0;
      for (a = 1; a < argc; a++)
        hit |= strcmp(argv[a], wt->name) == 0;
      if (!hit)
        continue;
    }
    for (si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
      size_t in = shapes[si][0], out = shapes[si][1], rb, ab, t;
      unsigned char *w = make_weights(wt, in, out, &rb);
      float *x = malloc(in * 512 * sizeof *x);
      float *y = malloc(out * 512 * sizeof *y);
      unsigned char *act;
      rill__wmat m;
      ab = rill__act_row_bytes(wt->type, in);
      act = malloc(ab * 512);
      if (!w || !x || !y || !act)
        return 1;
      for (t = 0; t < in * 512; t++)
        x[t] = unif() * 3.0f;
      m.data = w;
      m.type = wt->type;
      m.in = in;
      m.out = out;
      m.row_bytes = rb;
      for (ni = 0; ni < 2; ni++) {
        size_t n_tok = ntoks[ni];
        double flop = 2.0 * (double)in * (double)out * (double)n_tok;
        double tc = 1e30;
        int r;
        for (r = 0; r < 5; r++) {
          double t0 = now();
          for (t = 0; t < n_tok; t++)
            rill__act_convert(wt->type, x + t * in, in, act + t * ab);
          t0 = now() - t0;
          tc = t0 < tc ? t0 : tc;
        }
        printf("%-5s %4zux%-5zu %5zu", wt->name, in, out, n_tok);
        for (pi = 0; pi < np; pi++) {
          int reps = paths[pi] == rill__kernels_get(1) ? 1 : 7;
          double dt = time_matmul(paths[pi], &m, act, ab, n_tok, y, reps);
          printf(" %9.1f", flop / dt * 1e-9);
          fflush(stdout);
        }
        printf(" %12.3f\n", tc * 1e3);
      }
      free(w);
      free(x);
      free(y);
      free(act);
    }
  }
  return 0;
}
