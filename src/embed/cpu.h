/*
 * What the x86 CPU (and the OS, for the wide register state) lets the
 * embedder's SIMD kernels use. Asked once, cached; any thread.
 */
#ifndef RILL_EMBED_CPU_H
#define RILL_EMBED_CPU_H

enum {
  RILL__CPU_AVX2 = 1 << 0,
  RILL__CPU_FMA = 1 << 1,
  RILL__CPU_F16C = 1 << 2,
  RILL__CPU_AVX512F = 1 << 3,
  RILL__CPU_AVX512BW = 1 << 4,
  RILL__CPU_AVX512VL = 1 << 5,
  RILL__CPU_AVX512VNNI = 1 << 6
};

/* The RILL__CPU_* bits this machine has; 0 on anything but x86-64. */
unsigned rill__cpu_features(void);

#endif
