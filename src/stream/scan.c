/*
 * scan.c — "find the first CR or LF", the inner loop of the SSE framer.
 *
 * Job: given a byte range, return the first line-end byte. Nothing else:
 * no knowledge of SSE fields, buffers or offsets.
 *
 * Invariants: reads only bytes inside [p, end) — no over-read past end,
 * not even within the same page — so it is safe on any buffer a caller
 * hands to rill_sse_feed, and clean under ASan and valgrind. Correct at
 * every alignment and tail length (the unit test compares it with a naive
 * loop on random data at all offsets and lengths).
 *
 * Why SIMD: SSE lines are 150-400 bytes of JSON; a byte loop costs about
 * one cycle per byte, the SSE2 loop about 1/8. SSE2 is baseline on x86_64,
 * so no run-time dispatch is needed. Unaligned 16-byte loads are used; on
 * every x86_64 since Nehalem they cost the same as aligned ones when they
 * do not cross a cache line, and staying inside [p, end) matters more.
 */
#include "stream/scan.h"

#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Word-at-a-time: a byte of x is zero iff the classic "haszero" test sets
 * its high bit, except that a borrow may also mark bytes above a true zero;
 * the first marked byte is therefore always a true match, and a word with
 * no mark has no match. The byte loop below the word test locates it. */
#define ONES ((uint64_t)0x0101010101010101u)
#define HIGHS ((uint64_t)0x8080808080808080u)

static int word_has_eol(uint64_t w) {
  uint64_t cr = w ^ (ONES * (uint64_t)'\r');
  uint64_t lf = w ^ (ONES * (uint64_t)'\n');
  uint64_t z = ((cr - ONES) & ~cr) | ((lf - ONES) & ~lf);
  return (z & HIGHS) != 0;
}

const char *rill__scan_eol_portable(const char *p, const char *end) {
  while ((size_t)(end - p) >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    if (word_has_eol(w))
      break;
    p += 8;
  }
  for (; p < end; p++)
    if (*p == '\r' || *p == '\n')
      return p;
  return end;
}

#if defined(__SSE2__)

static unsigned first_bit(unsigned m) {
#if defined(__GNUC__) || defined(__clang__)
  return (unsigned)__builtin_ctz(m);
#else
  unsigned i = 0;
  while (!(m & 1u)) {
    m >>= 1;
    i++;
  }
  return i;
#endif
}

static unsigned eol_mask(const char *p, __m128i vcr, __m128i vlf) {
  __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
  __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, vcr), _mm_cmpeq_epi8(v, vlf));
  return (unsigned)_mm_movemask_epi8(m);
}

const char *rill__scan_eol(const char *p, const char *end) {
  const __m128i vcr = _mm_set1_epi8('\r');
  const __m128i vlf = _mm_set1_epi8('\n');
  unsigned m;

  if ((size_t)(end - p) < 16)
    return rill__scan_eol_portable(p, end);

  /* 64 bytes per round while there is room: one branch for four loads. */
  while ((size_t)(end - p) >= 64) {
    __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    __m128i ma = _mm_or_si128(_mm_cmpeq_epi8(a, vcr), _mm_cmpeq_epi8(a, vlf));
    __m128i mb = _mm_or_si128(_mm_cmpeq_epi8(b, vcr), _mm_cmpeq_epi8(b, vlf));
    __m128i mc = _mm_or_si128(_mm_cmpeq_epi8(c, vcr), _mm_cmpeq_epi8(c, vlf));
    __m128i md = _mm_or_si128(_mm_cmpeq_epi8(d, vcr), _mm_cmpeq_epi8(d, vlf));
    __m128i any = _mm_or_si128(_mm_or_si128(ma, mb), _mm_or_si128(mc, md));
    if (_mm_movemask_epi8(any)) {
      if ((m = (unsigned)_mm_movemask_epi8(ma)) != 0)
        return p + first_bit(m);
      if ((m = (unsigned)_mm_movemask_epi8(mb)) != 0)
        return p + 16 + first_bit(m);
      if ((m = (unsigned)_mm_movemask_epi8(mc)) != 0)
        return p + 32 + first_bit(m);
      m = (unsigned)_mm_movemask_epi8(md);
      return p + 48 + first_bit(m);
    }
    p += 64;
  }
  while ((size_t)(end - p) >= 16) {
    if ((m = eol_mask(p, vcr, vlf)) != 0)
      return p + first_bit(m);
    p += 16;
  }
  if (p == end)
    return end;
  /* Fewer than 16 bytes left, but the range holds at least 16: load the
   * last 16 bytes (all inside the range) and ignore those already seen. */
  {
    const char *last = end - 16;
    unsigned seen = (unsigned)(p - last); /* 1..15 */
    m = eol_mask(last, vcr, vlf) >> seen;
    return m ? p + first_bit(m) : end;
  }
}

#else /* !__SSE2__ */

const char *rill__scan_eol(const char *p, const char *end) {
  return rill__scan_eol_portable(p, end);
}

#endif
