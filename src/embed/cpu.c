/*
 * CPU feature detection for the kernel dispatch (x86-64 with gcc or clang;
 * elsewhere no feature is reported and the scalar kernels run).
 *
 * A feature counts only when the OS also saves the registers it uses
 * (XCR0): a hypervisor or kernel may hide AVX-512 state while CPUID still
 * advertises the instructions, and using them then faults.
 */
#include "embed/cpu.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <stdatomic.h>
#include <stddef.h>

/* XCR0 bits: SSE and AVX state (1, 2); AVX-512 opmask, upper halves of
 * zmm0-15 and zmm16-31 (5, 6, 7). */
#define XCR0_AVX 0x06u
#define XCR0_AVX512 0xe6u

static unsigned detect(void) {
  unsigned a, b, c, d, lo, hi, f = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d))
    return 0;
  if (!(c & bit_OSXSAVE) || !(c & bit_AVX))
    return 0;
  __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  (void)hi;
  if ((lo & XCR0_AVX) != XCR0_AVX)
    return 0;
  if (c & bit_FMA)
    f |= RILL__CPU_FMA;
  if (c & bit_F16C)
    f |= RILL__CPU_F16C;
  if (__get_cpuid_max(0, NULL) < 7)
    return f;
  __cpuid_count(7, 0, a, b, c, d);
  if (b & bit_AVX2)
    f |= RILL__CPU_AVX2;
  if ((lo & XCR0_AVX512) == XCR0_AVX512) {
    if (b & bit_AVX512F)
      f |= RILL__CPU_AVX512F;
    if (b & bit_AVX512BW)
      f |= RILL__CPU_AVX512BW;
    if (b & bit_AVX512VL)
      f |= RILL__CPU_AVX512VL;
    if (c & bit_AVX512VNNI)
      f |= RILL__CPU_AVX512VNNI;
  }
  return f;
}

/* 0: not asked yet; otherwise the features with bit 31 set. Racing first
 * callers compute the same value, so relaxed order is enough; caching
 * matters because CPUID traps to the hypervisor on virtual machines. */
static _Atomic unsigned state;

unsigned rill__cpu_features(void) {
  unsigned s = atomic_load_explicit(&state, memory_order_relaxed);
  if (s == 0) {
    s = detect() | 0x80000000u;
    atomic_store_explicit(&state, s, memory_order_relaxed);
  }
  return s & 0x7fffffffu;
}
#else
unsigned rill__cpu_features(void) {
  return 0;
}
#endif
