/*
 * The GGUF reader's internals, shared by its files:
 *
 *   source.c  reading bytes: a window over a file descriptor (pread) or a
 *             forward-only callback, and tensor reads from either
 *   parse.c   header, alignment, data section, the open sequence
 *   parse_kv.c      the metadata entries
 *   parse_tensor.c  the tensor table
 *   index.c   growable vectors, the name hash tables, UTF-8 checks, errors
 *   handle.c  the public open/close/info entry points and the mapping
 *   meta.c    the metadata getters
 *   tensor.c  tensor lookup, reads and dequantization
 *
 * Must not know: model architectures (nomic-bert lives elsewhere).
 */
#ifndef RILL_GGUF_INTERNAL_H
#define RILL_GGUF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "rill/gguf.h"

/* Defaults of rill_gguf_options. */
#define RILL__GGUF_DEF_MAX_KV 65536u
#define RILL__GGUF_DEF_MAX_TENSORS 65536u
#define RILL__GGUF_DEF_MAX_META (256u * 1024u * 1024u)
/* general.alignment above this is refused: real files use 32 (a few use up
 * to a page), and a huge value would make a stream source drop up to that
 * many bytes of padding. */
#define RILL__GGUF_MAX_ALIGN (1024u * 1024u)
#define RILL__GGUF_DEF_ALIGN 32u
/* The smallest metadata entry (8-byte length, 1-byte key, 4-byte type,
 * 1-byte value) and tensor info (8 + 1 name, 4 n_dims, 4 type, 8 offset):
 * a claimed count that would need more bytes than the file has is refused
 * before anything is parsed. */
#define RILL__GGUF_MIN_KV 14u
#define RILL__GGUF_MIN_TENSOR 25u
#define RILL__GGUF_HEADER 24u

/* ---- byte sources ---- */

typedef struct rill__gsrc {
  int fd; /* -1 for a stream */
  rill_gguf_read_fn read;
  void *user;
  uint64_t size; /* file size; UINT64_MAX for a stream (unknown) */
  /* Parse window: file bytes [win_off, win_off + win_len). */
  unsigned char *win;
  size_t win_len, win_cap;
  uint64_t win_off;
  uint64_t pos; /* the parser's cursor */
  /* Stream after open: bytes read from the callback but not yet handed
   * out, pend[pend_at .. pend_at + pend_len) = stream bytes from spos. */
  unsigned char *pend;
  size_t pend_at, pend_len;
  uint64_t spos;
  int eof; /* the callback reported end of input */
} rill__gsrc;

/* Point *p at n (<= RILL_GGUF_WINDOW) bytes at the cursor, reading as
 * needed; the cursor does not move. what names the field for the
 * "file ends" message. RILL_OK, RILL_E_FORMAT (input ends first),
 * RILL_E_IO. */
int rill__gsrc_need(rill__gsrc *s, size_t n, const unsigned char **p,
                    const char *what, rill_gguf_error *err);
/* Keep the window's unread bytes as the stream's pending bytes (stream
 * sources, after the tensor table) or release it. */
int rill__gsrc_finish_parse(rill__gsrc *s);
/* Copy len bytes at file offset off into buf: pread for a descriptor, the
 * forward-only rules for a stream. what names the tensor for messages. */
int rill__gsrc_read_at(rill__gsrc *s, uint64_t off, void *buf, size_t len);
void rill__gsrc_close(rill__gsrc *s);
/* pread until n bytes, end of file or an error other than EINTR. */
int rill__pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got);

/* ---- the handle ---- */

typedef struct rill__gkv {
  uint64_t key_off; /* into names */
  size_t key_len;
  rill_gguf_vtype type, elem_type;
  uint64_t n;        /* array count; string byte length; 1 otherwise */
  uint64_t file_off; /* the value in the file */
  uint64_t val;      /* scalar bits (zero-extended little-endian), or the
                        offset of the bytes in the value base */
  uint64_t sidx;     /* string arrays: first of n + 1 offsets in sidx */
} rill__gkv;

typedef struct rill__gtensor {
  uint64_t name_off;
  size_t name_len;
  rill_gguf_type type;
  uint32_t n_dims;
  uint64_t ne[RILL_GGUF_MAX_DIMS];
  uint64_t n_elements, n_bytes, row_bytes, offset;
} rill__gtensor;

/* A growable array: len used, cap allocated, in elements. */
typedef struct rill__gvec {
  void *p;
  size_t len, cap;
} rill__gvec;

/* Open-addressed table of index + 1 (0: empty), power-of-two size. */
typedef struct rill__ghash {
  uint32_t *slot;
  size_t cap;
} rill__ghash;

struct rill_gguf {
  rill__gsrc src;
  uint32_t version, alignment;
  rill__gvec kv;     /* rill__gkv */
  rill__gvec tensor; /* rill__gtensor */
  rill__gvec names;  /* char: keys and names, each NUL-terminated */
  rill__gvec arena;  /* unsigned char: copied values (unmapped) */
  rill__gvec sidx;   /* uint32_t: string array element offsets */
  rill__ghash kv_hash, tensor_hash;
  uint64_t data_offset, data_bytes, file_bytes, n_elements;
  const unsigned char *map;
  size_t map_len;
  int mapped;
  int copy_values;       /* values go to the arena (no mapping) */
  rill_gguf_options opt; /* with the defaults filled in */
};

/* ---- index.c ---- */

/* Make room for one more element of size elem (doubling), never past
 * max_elems. RILL_OK, RILL_E_NOMEM, RILL_E_LIMIT. */
int rill__gvec_reserve(rill__gvec *v, size_t elem, size_t extra,
                       size_t max_elems);
void rill__gvec_shrink(rill__gvec *v, size_t elem);
void rill__gvec_free(rill__gvec *v);

uint64_t rill__ghash_bytes(const char *s, size_t n);
/* Find name among the entries: lookup(i) gives entry i's name. Returns the
 * index or -1. */
int64_t rill__ghash_find(const rill__ghash *h, const char *names,
                         const rill__gvec *entries, int is_tensor,
                         const char *s, size_t n);
/* Insert index idx (n_entries entries exist, idx among them); grows. */
int rill__ghash_insert(rill__ghash *h, const char *names,
                       const rill__gvec *entries, int is_tensor, size_t idx);
void rill__ghash_free(rill__ghash *h);

/* Streaming UTF-8 check (Unicode Table 3-7). */
typedef struct rill__gutf8 {
  unsigned need;
  unsigned char lo, hi;
} rill__gutf8;
/* Feed n bytes; returns n when all were fine, else the index of the first
 * bad byte. */
size_t rill__gutf8_feed(rill__gutf8 *u, const unsigned char *p, size_t n);
/* 1 when all the bytes were fed and no sequence is left open. */
int rill__gutf8_done(const rill__gutf8 *u);

/* Fill err (if not NULL) and return code. */
int rill__gguf_fail(rill_gguf_error *err, int code, uint64_t off,
                    const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* errno e as text, thread-safe (strerror_r), for I/O messages. */
const char *rill__gguf_strerror(int e, char *buf, size_t cap);
/* How many leading bytes of s to show in a message (at most max, cut on
 * a character boundary). */
int rill__gguf_shown(const char *s, size_t n, size_t max);

/* ---- parse ---- */

typedef struct rill__gparse {
  rill_gguf *g;
  rill__gsrc *s;
  rill_gguf_error *err;
} rill__gparse;

int rill__gguf_parse(rill_gguf *g, rill_gguf_error *err);
int rill__gguf_parse_kv(rill__gparse *p, uint64_t n_kv);
int rill__gguf_parse_tensors(rill__gparse *p, uint64_t n_tensors);

/* Check that n more bytes from the cursor exist (file sources) and fit
 * max_metadata_bytes. RILL_OK, RILL_E_FORMAT, RILL_E_LIMIT. */
int rill__gguf_span(rill__gparse *p, uint64_t n, const char *what);
/* A key or tensor name field (u64 length + bytes): 1..max bytes of UTF-8
 * without NUL, copied NUL-terminated into names. */
int rill__gguf_name_field(rill__gparse *p, uint64_t max, uint64_t *name_off,
                          size_t *name_len, const char *what);
/* Put "ctx: " in front of the message in p->err. */
void rill__gguf_prefix(rill__gparse *p, const char *ctx);
/* Little-endian fields at the cursor; the cursor moves past them. */
int rill__gguf_u32(rill__gparse *p, uint32_t *v, const char *what);
int rill__gguf_u64(rill__gparse *p, uint64_t *v, const char *what);

/* ---- accessors ---- */

/* The bytes of value offset off: the mapping or the arena. */
const unsigned char *rill__gguf_vbase(const rill_gguf *g);
const char *rill__gguf_name(const rill_gguf *g, uint64_t off);

#endif
