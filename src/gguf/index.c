/*
 * index.c — the GGUF handle's heap structures and small shared helpers.
 *
 * Job: vectors that grow geometrically as entries are actually parsed
 * (never from a count the file claims), the name hash tables behind
 * find_key and find_tensor, a UTF-8 check that can be fed in pieces (a
 * string may span many windows), and error formatting.
 *
 * Must not know: the GGUF layout, the sources.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "gguf/gguf_internal.h"
#include "rill/error.h"

int rill__gvec_reserve(rill__gvec *v, size_t elem, size_t extra,
                       size_t max_elems) {
  size_t need, cap;
  void *q;
  if (extra > max_elems || v->len > max_elems - extra)
    return RILL_E_LIMIT;
  need = v->len + extra;
  if (need <= v->cap)
    return RILL_OK;
  cap = v->cap ? v->cap : 16;
  while (cap < need)
    cap = cap > SIZE_MAX / 2 ? need : cap * 2;
  if (cap > max_elems)
    cap = max_elems;
  if (cap > SIZE_MAX / elem)
    return RILL_E_NOMEM;
  q = rill__realloc(v->p, cap * elem);
  if (!q)
    return RILL_E_NOMEM;
  v->p = q;
  v->cap = cap;
  return RILL_OK;
}

void rill__gvec_shrink(rill__gvec *v, size_t elem) {
  void *q;
  if (!v->p || v->len == v->cap)
    return;
  if (v->len == 0) {
    rill__free(v->p);
    v->p = NULL;
    v->cap = 0;
    return;
  }
  q = rill__realloc(v->p, v->len * elem);
  if (q) {
    v->p = q;
    v->cap = v->len;
  }
}

void rill__gvec_free(rill__gvec *v) {
  rill__free(v->p);
  v->p = NULL;
  v->len = v->cap = 0;
}

/* FNV-1a: keys are short and few; it only has to spread them. */
uint64_t rill__ghash_bytes(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  size_t i;
  for (i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void entry_name(const char *names, const rill__gvec *entries,
                       int is_tensor, size_t i, const char **s, size_t *n) {
  if (is_tensor) {
    const rill__gtensor *t = (const rill__gtensor *)entries->p + i;
    *s = names + t->name_off;
    *n = t->name_len;
  } else {
    const rill__gkv *k = (const rill__gkv *)entries->p + i;
    *s = names + k->key_off;
    *n = k->key_len;
  }
}

int64_t rill__ghash_find(const rill__ghash *h, const char *names,
                         const rill__gvec *entries, int is_tensor,
                         const char *s, size_t n) {
  size_t mask, i;
  if (!h->cap)
    return -1;
  mask = h->cap - 1;
  for (i = (size_t)rill__ghash_bytes(s, n) & mask; h->slot[i];
       i = (i + 1) & mask) {
    const char *es;
    size_t en;
    entry_name(names, entries, is_tensor, h->slot[i] - 1, &es, &en);
    if (en == n && memcmp(es, s, n) == 0)
      return (int64_t)(h->slot[i] - 1);
  }
  return -1;
}

static void put_slot(uint32_t *slot, size_t cap, uint64_t hash,
                     uint32_t value) {
  size_t i, mask = cap - 1;
  for (i = (size_t)hash & mask; slot[i]; i = (i + 1) & mask) {
  }
  slot[i] = value;
}

/* Keep the load at or under one half so probes stay short. */
static int grow(rill__ghash *h, const char *names, const rill__gvec *entries,
                int is_tensor, size_t n_entries) {
  size_t cap = h->cap ? h->cap * 2 : 16, i;
  uint32_t *slot;
  if (cap > SIZE_MAX / sizeof *slot)
    return RILL_E_NOMEM;
  slot = rill__calloc(cap, sizeof *slot);
  if (!slot)
    return RILL_E_NOMEM;
  for (i = 0; i < n_entries; i++) {
    const char *s;
    size_t n;
    entry_name(names, entries, is_tensor, i, &s, &n);
    put_slot(slot, cap, rill__ghash_bytes(s, n), (uint32_t)(i + 1));
  }
  rill__free(h->slot);
  h->slot = slot;
  h->cap = cap;
  return RILL_OK;
}

int rill__ghash_insert(rill__ghash *h, const char *names,
                       const rill__gvec *entries, int is_tensor, size_t idx) {
  const char *s;
  size_t n;
  if (idx >= UINT32_MAX - 1)
    return RILL_E_LIMIT;
  if ((idx + 1) * 2 > h->cap) {
    int rc = grow(h, names, entries, is_tensor, idx);
    if (rc != RILL_OK)
      return rc;
  }
  entry_name(names, entries, is_tensor, idx, &s, &n);
  put_slot(h->slot, h->cap, rill__ghash_bytes(s, n), (uint32_t)(idx + 1));
  return RILL_OK;
}

void rill__ghash_free(rill__ghash *h) {
  rill__free(h->slot);
  h->slot = NULL;
  h->cap = 0;
}

size_t rill__gutf8_feed(rill__gutf8 *u, const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = p[i];
    if (u->need) {
      if (c < u->lo || c > u->hi)
        return i;
      u->lo = 0x80;
      u->hi = 0xBF;
      u->need--;
      continue;
    }
    if (c < 0x80)
      continue;
    if (c < 0xC2 || c > 0xF4)
      return i; /* stray continuation, overlong lead, or past U+10FFFF */
    u->lo = 0x80;
    u->hi = 0xBF;
    if (c < 0xE0) {
      u->need = 1;
    } else if (c < 0xF0) {
      u->need = 2;
      if (c == 0xE0)
        u->lo = 0xA0; /* overlong */
      else if (c == 0xED)
        u->hi = 0x9F; /* surrogates */
    } else {
      u->need = 3;
      if (c == 0xF0)
        u->lo = 0x90; /* overlong */
      else if (c == 0xF4)
        u->hi = 0x8F; /* past U+10FFFF */
    }
  }
  return n;
}

int rill__gutf8_done(const rill__gutf8 *u) {
  return u->need == 0;
}

int rill__gguf_fail(rill_gguf_error *err, int code, uint64_t off,
                    const char *fmt, ...) {
  va_list ap;
  if (!err)
    return code;
  err->offset = off;
  va_start(ap, fmt);
  (void)vsnprintf(err->message, sizeof err->message, fmt, ap);
  va_end(ap);
  return code;
}

const char *rill__gguf_strerror(int e, char *buf, size_t cap) {
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
  return strerror_r(e, buf, cap); /* the GNU form returns the text */
#else
  return strerror_r(e, buf, cap) == 0 ? buf : "unknown error";
#endif
}

int rill__gguf_shown(const char *s, size_t n, size_t max) {
  if (n > max) {
    n = max;
    /* Back off continuation bytes so the message stays UTF-8. */
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  return (int)n;
}
