/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader.
 *
 * The input is a whole file. It is opened through the forward-only callback
 * source (fed in chunk sizes taken from the input's own bytes, so the
 * window refills land everywhere) and through a memfd, mapped and not.
 * Checks, for any bytes:
 * - the three opens agree on RILL_OK versus failure, except where only a
 *   known file size can tell (the stream accepts a tensor past the end, or
 *   a count the file could not hold that is under the limits), and the
 *   two descriptor opens agree on the status and the message exactly;
 * - on success every key and tensor is found again by name, every getter
 *   and array element returns a documented code, each string is valid
 *   UTF-8 and inside its buffer (ASan), every tensor can be read and its
 *   first rows dequantized, and the stream's tensors read in order.
 * Leaks are caught by LeakSanitizer when built with RILL_SANITIZE.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json/json.h"
#include "rill/error.h"
#include "rill/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                               \
  do {                                                                         \
    if (!(c))                                                                  \
      __builtin_trap();                                                        \
  } while (0)

typedef struct feed {
  const uint8_t *p;
  size_t len, pos, step;
} feed;

static int feed_read(void *user, void *buf, size_t cap, size_t *got) {
  feed *f = user;
  size_t n = f->len - f->pos;
  /* Chunk sizes from the input itself: 1..64, then as much as asked. */
  size_t want = f->pos < f->len ? (size_t)(f->p[f->pos] & 63u) + 1 : 0;
  if (f->step++ > 64)
    want = cap;
  if (n > want)
    n = want;
  if (n > cap)
    n = cap;
  memcpy(buf, f->p + f->pos, n);
  f->pos += n;
  *got = n;
  return 0;
}

static int is_utf8(const char *s, size_t n) {
  size_t i = 0, bad;
  while (i < n) {
    size_t k = rill__utf8_seq((const unsigned char *)s + i, n - i, &bad);
    if (!k)
      return 0;
    i += k;
  }
  return 1;
}

static int ok_or(int rc, int a, int b) {
  return rc == RILL_OK || rc == a || rc == b;
}

static void walk_kv(rill_gguf *g, uint64_t i) {
  rill_gguf_kv kv;
  uint64_t j, u64;
  uint32_t u32;
  int64_t i64;
  float f;
  double d;
  int b;
  const char *s;
  size_t len;
  rill_gguf_vtype et;
  CHECK(rill_gguf_kv_at(g, i, &kv) == RILL_OK);
  CHECK(kv.key && strlen(kv.key) == kv.key_len && kv.key_len > 0);
  CHECK(is_utf8(kv.key, kv.key_len));
  CHECK(rill_gguf_find_key(g, kv.key) == (int64_t)i);
  CHECK(ok_or(rill_gguf_get_u32(g, kv.key, &u32), RILL_E_FORMAT, 0));
  CHECK(ok_or(rill_gguf_get_u64(g, kv.key, &u64), RILL_E_FORMAT, 0));
  CHECK(ok_or(rill_gguf_get_i64(g, kv.key, &i64), RILL_E_FORMAT, 0));
  CHECK(ok_or(rill_gguf_get_f32(g, kv.key, &f), RILL_E_FORMAT, 0));
  CHECK(ok_or(rill_gguf_get_f64(g, kv.key, &d), RILL_E_FORMAT, 0));
  CHECK(ok_or(rill_gguf_get_bool(g, kv.key, &b), RILL_E_FORMAT, 0));
  if (rill_gguf_get_str(g, kv.key, &s, &len) == RILL_OK)
    CHECK(kv.type == RILL_GGUF_STRING && is_utf8(s, len));
  if (kv.type != RILL_GGUF_ARRAY) {
    CHECK(rill_gguf_get_arr(g, kv.key, &et, &u64) == RILL_E_FORMAT);
    return;
  }
  CHECK(rill_gguf_get_arr(g, kv.key, &et, &u64) == RILL_OK);
  CHECK(et == kv.elem_type && u64 == kv.count);
  for (j = 0; j < kv.count && j < 64; j++) {
    int rs = rill_gguf_arr_str(g, i, j, &s, &len);
    CHECK(ok_or(rs, RILL_E_FORMAT, 0));
    if (rs == RILL_OK)
      CHECK(is_utf8(s, len));
    CHECK(ok_or(rill_gguf_arr_i64(g, i, j, &i64), RILL_E_FORMAT, 0));
    CHECK(ok_or(rill_gguf_arr_f32(g, i, j, &f), RILL_E_FORMAT, 0));
    CHECK(ok_or(rill_gguf_arr_u64(g, i, j, &u64), RILL_E_FORMAT, 0));
    CHECK(ok_or(rill_gguf_arr_f64(g, i, j, &d), RILL_E_FORMAT, 0));
    CHECK(ok_or(rill_gguf_arr_bool(g, i, j, &b), RILL_E_FORMAT, 0));
  }
  CHECK(rill_gguf_arr_i64(g, i, kv.count, &i64) == RILL_E_INVALID);
}

static void walk_tensor(rill_gguf *g, uint64_t i, const rill_gguf_info *info) {
  static float out[4096];
  unsigned char buf[256];
  rill_gguf_tensor t;
  const void *p;
  uint64_t rows;
  int rc;
  CHECK(rill_gguf_tensor_at(g, i, &t) == RILL_OK);
  CHECK(t.name && strlen(t.name) == t.name_len && t.name_len <= 63);
  CHECK(rill_gguf_find_tensor(g, t.name) == (int64_t)i);
  CHECK(t.offset % info->alignment == 0);
  CHECK(t.offset + t.n_bytes <= info->data_bytes);
  rc = rill_gguf_tensor_data(g, i, &p);
  CHECK(rc == (info->mapped ? RILL_OK : RILL_E_STATE));
  rc = rill_gguf_tensor_read(
      g, i, 0, buf, t.n_bytes < sizeof buf ? (size_t)t.n_bytes : sizeof buf);
  /* A stream may end early; descriptor sources were checked at open. */
  CHECK(rc == RILL_OK ||
        (info->file_bytes == 0 && ok_or(rc, RILL_E_FORMAT, RILL_E_STATE)));
  rows = t.ne[0] ? t.n_elements / t.ne[0] : 0;
  if (rows && t.ne[0] <= 4096) {
    uint64_t n = 4096 / t.ne[0];
    rc = rill_gguf_tensor_dequantize(g, i, 0, n < rows ? n : rows, out, 4096);
    CHECK(rc == RILL_OK || rc == RILL_E_UNSUPPORTED ||
          (info->file_bytes == 0 && ok_or(rc, RILL_E_FORMAT, RILL_E_STATE)));
  }
}

static void walk(rill_gguf *g) {
  rill_gguf_info info;
  uint64_t i;
  CHECK(rill_gguf_get_info(g, &info) == RILL_OK);
  CHECK(info.version == 2 || info.version == 3);
  CHECK(info.alignment && !(info.alignment & (info.alignment - 1)));
  CHECK(info.data_offset % info.alignment == 0);
  for (i = 0; i < info.n_kv; i++)
    walk_kv(g, i);
  for (i = 0; i < info.n_tensors; i++)
    walk_tensor(g, i, &info);
}

static int open_memfd(const uint8_t *data, size_t size, int no_mmap,
                      rill_gguf_error *err) {
  rill_gguf_options opt;
  rill_gguf *g = NULL;
  int fd = memfd_create("fuzz_gguf", MFD_CLOEXEC), rc;
  size_t off = 0;
  if (fd < 0)
    return 1;
  while (off < size) {
    ssize_t w = write(fd, data + off, size - off);
    if (w <= 0) {
      close(fd);
      return 1;
    }
    off += (size_t)w;
  }
  memset(&opt, 0, sizeof opt);
  opt.no_mmap = no_mmap;
  rc = rill_gguf_open_fd(&g, fd, &opt, err);
  close(fd);
  if (rc == RILL_OK) {
    walk(g);
    rill_gguf_close(g);
  } else {
    CHECK(g == NULL && err->message[0]);
  }
  return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rill_gguf_error e1, e2, e3;
  rill_gguf *g = NULL;
  feed f = {data, size, 0, 0};
  int rs, rm, rn;
  rs = rill_gguf_open_stream(&g, feed_read, &f, NULL, &e1);
  if (rs == RILL_OK) {
    walk(g);
    rill_gguf_close(g);
  } else {
    CHECK(g == NULL && e1.message[0]);
  }
  rm = open_memfd(data, size, 0, &e2);
  rn = open_memfd(data, size, 1, &e3);
  if (rm == 1 || rn == 1)
    return 0; /* memfd unavailable */
  CHECK(rm == rn);
  CHECK(rm == RILL_OK || strcmp(e2.message, e3.message) == 0);
  /* A file that opens opens as a stream too; the converse fails only on
   * what needs the size (past EOF, counts, truncated padding). */
  if (rm == RILL_OK)
    CHECK(rs == RILL_OK);
  return 0;
}
