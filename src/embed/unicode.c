/*
 * Lookups in the generated tables. ASCII, which is most of the text in
 * practice, never reaches a binary search.
 */
#include "embed/unicode.h"

/* Classes of U+0000..U+007F: controls drop, \t..\r and space end a word,
 * punctuation and ASCII symbols split, letters and digits join. Checked
 * against the generated table by the unit test. */
static const unsigned char ascii_class[128] = {
    2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 2, 2, /* 00 */
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, /* 10 */
    1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, /* 20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, /* 30 */
    4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, /* 50 */
    4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 2, /* 70 */
};

int rill__uc_class(uint32_t cp) {
  if (cp < 0x80)
    return ascii_class[cp];
  if (cp > RILL__UC_MAX)
    return RILL__UC_JOIN; /* llama.cpp: "undefined", no flag set */
  /* Last range whose start is <= cp; entry 0 starts at 0. */
  size_t lo = 0, hi = rill__uc_class_ranges_n;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if ((rill__uc_class_ranges[mid] >> 3) <= cp)
      lo = mid;
    else
      hi = mid;
  }
  return (int)(rill__uc_class_ranges[lo] & 7u);
}

uint32_t rill__uc_lower(uint32_t cp) {
  if (cp < 0x80)
    return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  size_t lo = 0, hi = rill__uc_lower_runs_n;
  while (lo < hi) { /* first run with first > cp */
    size_t mid = lo + (hi - lo) / 2;
    if (rill__uc_lower_runs[mid].first <= cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return cp;
  const rill__uc_lower_run *r = &rill__uc_lower_runs[lo - 1];
  uint32_t k = cp - r->first;
  if (k % r->stride != 0 || k / r->stride >= r->count)
    return cp;
  return (uint32_t)((int64_t)cp + r->delta);
}

uint32_t rill__uc_nfd_base(uint32_t cp) {
  if (cp < 0xC0) /* nothing below U+00C0 decomposes */
    return cp;
  size_t lo = 0, hi = rill__uc_nfd_runs_n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((rill__uc_nfd_runs[mid].key & 0x1FFFFFu) <= cp)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == 0)
    return cp;
  const rill__uc_nfd_run *r = &rill__uc_nfd_runs[lo - 1];
  uint32_t first = r->key & 0x1FFFFFu;
  return cp - first <= (r->key >> 21) ? r->base : cp;
}

size_t rill__uc_decode(const unsigned char *s, size_t len, uint32_t *cp) {
  unsigned b = s[0];
  size_t n;
  uint32_t v;
  if (b < 0x80) {
    *cp = b;
    return 1;
  }
  if ((b & 0x40) == 0)
    goto invalid;
  if ((b & 0x20) == 0) {
    n = 2;
    v = b & 0x1Fu;
  } else if ((b & 0x10) == 0) {
    n = 3;
    v = b & 0x0Fu;
  } else if ((b & 0x08) == 0) {
    n = 4;
    v = b & 0x07u;
  } else {
    goto invalid;
  }
  if (len < n)
    goto invalid;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      goto invalid;
    v = (v << 6) | (s[i] & 0x3Fu);
  }
  *cp = v;
  return n;
invalid:
  *cp = 0xFFFD;
  return 1;
}
