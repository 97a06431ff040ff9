/*
 * bench_gguf_open.c — open + parse + validate time and peak heap of a GGUF
 * file, single thread.
 *
 *   bench_gguf_open FILE [runs]          (default 50 runs; figures: median
 *                                         and best, warm page cache)
 *
 * Each run opens the file, reads what a loader reads first (the
 * architecture, the vocabulary's last token, the token embedding tensor),
 * and closes it. Measured for a mapped handle and for no_mmap (metadata
 * copied into the arena). The reference, run in the same process on the
 * same file: open + read() of the bytes from 0 to the data section into one
 * buffer + close, the I/O floor of any parser that reads those bytes.
 * Peak heap comes from rill's counting allocator and includes the
 * vocabulary index.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rill/rill.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One open..close; returns 0 or prints the error. */
static int one_open(const char *path, int no_mmap, uint64_t *peak,
                    uint64_t *held) {
  rill_gguf *g = NULL;
  rill_gguf_options opt;
  rill_gguf_error err;
  rill_gguf_info info;
  rill_alloc_stats st;
  const char *s;
  size_t len;
  int64_t kv;
  rill_gguf_vtype et;
  uint64_t count;
  int rc;

  memset(&opt, 0, sizeof opt);
  opt.no_mmap = no_mmap;
  rill_alloc_reset_peak();
  rc = rill_gguf_open(&g, path, &opt, &err);
  if (rc != RILL_OK) {
    fprintf(stderr, "bench_gguf_open: %s: %s (offset %llu)\n", path,
            err.message, (unsigned long long)err.offset);
    return -1;
  }
  rill_gguf_get_info(g, &info);
  if (rill_gguf_get_str(g, "general.architecture", &s, &len) != RILL_OK ||
      rill_gguf_find_tensor(g, "token_embd.weight") < 0) {
    fprintf(stderr, "bench_gguf_open: not a nomic-bert-shaped file\n");
    rill_gguf_close(g);
    return -1;
  }
  kv = rill_gguf_find_key(g, "tokenizer.ggml.tokens");
  if (kv < 0 ||
      rill_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &count) != RILL_OK ||
      count == 0 || rill_gguf_arr_str(g, (uint64_t)kv, count - 1, &s, &len)) {
    fprintf(stderr, "bench_gguf_open: no vocabulary\n");
    rill_gguf_close(g);
    return -1;
  }
  st.size = sizeof st;
  rill_alloc_get_stats(&st);
  *peak = st.peak_bytes;
  *held = info.heap_bytes;
  rill_gguf_close(g);
  return 0;
}

/* The floor: read the bytes before the data section, nothing else. */
static int one_read(const char *path, uint64_t n, unsigned char *buf) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  uint64_t got = 0;
  if (fd < 0)
    return -1;
  while (got < n) {
    ssize_t r = read(fd, buf + got, (size_t)(n - got));
    if (r <= 0) {
      close(fd);
      return -1;
    }
    got += (uint64_t)r;
  }
  close(fd);
  return 0;
}

static void report(const char *what, double *t, int runs) {
  qsort(t, (size_t)runs, sizeof *t, cmp_double);
  printf("%-34s median %8.3f ms   best %8.3f ms\n", what, t[runs / 2], t[0]);
}

int main(int argc, char **argv) {
  const char *path;
  int runs = 50, i, mode;
  double *t;
  uint64_t peak = 0, held = 0, data_offset;
  unsigned char *buf;
  rill_gguf *g;
  rill_gguf_info info;
  rill_gguf_error err;

  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: bench_gguf_open FILE [runs]\n");
    return 2;
  }
  path = argv[1];
  if (argc == 3)
    runs = atoi(argv[2]);
  if (runs < 1 || runs > 10000)
    runs = 50;
  t = calloc((size_t)runs, sizeof *t);
  if (!t)
    return 1;

  if (rill_gguf_open(&g, path, NULL, &err) != RILL_OK) {
    fprintf(stderr, "bench_gguf_open: %s: %s\n", path, err.message);
    return 1;
  }
  rill_gguf_get_info(g, &info);
  rill_gguf_close(g);
  data_offset = info.data_offset;
  printf("file: %s\n  %llu bytes, %llu keys, %llu tensors, %llu elements, "
         "data section at %llu\n",
         path, (unsigned long long)info.file_bytes,
         (unsigned long long)info.n_kv, (unsigned long long)info.n_tensors,
         (unsigned long long)info.n_elements,
         (unsigned long long)data_offset);

  for (mode = 0; mode < 2; mode++) {
    for (i = 0; i < runs; i++) {
      double t0 = now_ms();
      if (one_open(path, mode, &peak, &held) != 0)
        return 1;
      t[i] = now_ms() - t0;
    }
    report(mode ? "rill_gguf_open, no_mmap" : "rill_gguf_open, mapped", t,
           runs);
    printf("  peak heap %llu B (%.1f KiB), held while open %llu B\n",
           (unsigned long long)peak, (double)peak / 1024.0,
           (unsigned long long)held);
  }

  buf = malloc((size_t)data_offset);
  if (!buf)
    return 1;
  for (i = 0; i < runs; i++) {
    double t0 = now_ms();
    if (one_read(path, data_offset, buf) != 0)
      return 1;
    t[i] = now_ms() - t0;
  }
  report("reference: read() of the header", t, runs);
  free(buf);
  free(t);
  return 0;
}
