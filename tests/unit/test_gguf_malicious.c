/*
 * test_gguf_malicious.c — hostile GGUF files (RELIABILITY.md 3.4, goal G11).
 *
 * Every file is generated here, never committed. Each crafted case asserts
 * the exact status, a distinctive part of the message and, where it means
 * something, the byte offset, through the path source (mapped) and, where
 * the answer does not depend on knowing the file size, the stream source.
 * Then a valid file is cut at every byte offset, and every byte of its
 * header, metadata and tensor table is set to 0x00, 0xFF and +1, through
 * a path and a stream: each must open or fail cleanly (the counting
 * allocator back to where it was, ASan/valgrind silent).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gguf_writer.h"
#include "rill/rill.h"

#define ANY UINT64_MAX

static char g_dir[] = "/tmp/rill_test_gguf_mal_XXXXXX";
static char g_path[256];

static int setup_dir(void **state) {
  (void)state;
  if (!mkdtemp(g_dir))
    return -1;
  snprintf(g_path, sizeof g_path, "%s/m.gguf", g_dir);
  return 0;
}

static int remove_dir(void **state) {
  (void)state;
  unlink(g_path);
  return rmdir(g_dir);
}

static uint64_t in_use(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  assert_int_equal(rill_alloc_get_stats(&s), RILL_OK);
  return s.bytes_in_use;
}

/* Use whatever opened: every getter and every tensor read must behave. */
static void walk(rill_gguf *g) {
  rill_gguf_info info;
  uint64_t i, j;
  float out[64];
  unsigned char buf[64];
  assert_int_equal(rill_gguf_get_info(g, &info), RILL_OK);
  for (i = 0; i < info.n_kv; i++) {
    rill_gguf_kv kv;
    assert_int_equal(rill_gguf_kv_at(g, i, &kv), RILL_OK);
    assert_int_equal(rill_gguf_find_key(g, kv.key), (int64_t)i);
    for (j = 0; j < kv.count && j < 4; j++) {
      const char *s;
      size_t len;
      int64_t v;
      float f;
      (void)rill_gguf_arr_str(g, i, j, &s, &len);
      (void)rill_gguf_arr_i64(g, i, j, &v);
      (void)rill_gguf_arr_f32(g, i, j, &f);
    }
  }
  for (i = 0; i < info.n_tensors; i++) {
    rill_gguf_tensor t;
    assert_int_equal(rill_gguf_tensor_at(g, i, &t), RILL_OK);
    assert_int_equal(rill_gguf_find_tensor(g, t.name), (int64_t)i);
    (void)rill_gguf_tensor_read(
        g, i, 0, buf, t.n_bytes < sizeof buf ? (size_t)t.n_bytes : sizeof buf);
    if (t.ne[0] && t.ne[0] <= 64)
      (void)rill_gguf_tensor_dequantize(g, i, 0, 1, out, 64);
  }
}

typedef enum src_kind { S_PATH, S_STREAM } src_kind;

static int open_bytes(src_kind k, const unsigned char *p, size_t n,
                      rill_gguf **g, rill_gguf_error *err) {
  if (k == S_PATH) {
    assert_int_equal(gw_save(g_path, p, n), 0);
    return rill_gguf_open(g, g_path, NULL, err);
  } else {
    gw_reader *rd = calloc(1, sizeof *rd);
    int rc;
    rd->p = p;
    rd->len = n;
    rd->chunk = 3;
    rc = rill_gguf_open_stream(g, gw_read, rd, NULL, err);
    if (rc == RILL_OK) {
      walk(*g);
      rill_gguf_close(*g);
      *g = NULL;
    }
    free(rd);
    return rc;
  }
}

/* Open, expect failure or success, always clean. */
static int try_open(src_kind k, const unsigned char *p, size_t n,
                    rill_gguf_error *err) {
  rill_gguf *g = (rill_gguf *)&g;
  uint64_t before = in_use();
  int rc = open_bytes(k, p, n, &g, err);
  if (rc == RILL_OK) {
    if (g) { /* streams were walked and closed while their reader lived */
      walk(g);
      rill_gguf_close(g);
    }
  } else {
    assert_null(g);
    assert_true(rc < 0);
    assert_true(strlen(err->message) > 10);
  }
  assert_int_equal(in_use(), before);
  return rc;
}

/* ---- builders ----------------------------------------------------------- */

static void head(gwb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  gwb_bytes(b, "GGUF", 4);
  gwb_u32(b, version);
  gwb_u64(b, n_tensors);
  gwb_u64(b, n_kv);
}

static void zeros(gwb *b, size_t n) {
  while (n--)
    gwb_u8(b, 0);
}

/* A header with one metadata entry whose key is given raw. */
static void one_key(gwb *b, uint64_t len, const char *bytes, size_t n) {
  head(b, 3, 0, 1);
  gwb_u64(b, len);
  gwb_bytes(b, bytes, n);
}

/* A valid file from a gw, with the tensors given. */
static void from_gw(gwb *b, gw *w) {
  size_t len;
  unsigned char *p = gw_build(w, &len);
  gwb_bytes(b, p, len);
  free(p);
  gw_free(w);
}

static void raw_tensor(gwb *b, const char *name, uint32_t n_dims,
                       const uint64_t *ne, uint32_t type, uint64_t offset,
                       uint32_t align, size_t data) {
  gw *w = gw_new(3);
  uint64_t one[1] = {8};
  gw_str(w, "general.architecture", "x");
  if (align)
    gw_u32(w, "general.alignment", align);
  if (!name) {
    /* Two tensors: a valid one, then the raw one. */
    gw_tensor(w, "first", RILL_GGUF_TYPE_F32, 1, one, NULL);
    name = "second";
  }
  gw_tensor_raw(w, name, strlen(name), n_dims, ne, type, offset);
  {
    unsigned char *z = calloc(1, data + 1);
    gw_tail(w, z, data);
    free(z);
  }
  from_gw(b, w);
}

typedef struct mcase {
  const char *name;
  int code;
  const char *msg;
  uint64_t offset;
  int stream_same; /* 1: same code and message through a stream */
} mcase;

/* Build case id into b; returns its expectations. */
static mcase build(int id, gwb *b) {
  static const uint64_t ne2[2] = {4, 4};
  uint64_t ne[5] = {4, 4, 1, 1, 1};
  gw *w;
  switch (id) {
  /* -- header -- */
  case 0:
    gwb_bytes(b, "GGML", 4);
    gwb_u32(b, 3);
    zeros(b, 40);
    return (mcase){"bad magic", RILL_E_FORMAT, "bad magic 47 47 4d 4c", 0, 1};
  case 1:
    head(b, 0, 0, 0);
    return (mcase){"version 0", RILL_E_FORMAT, "unknown GGUF version 0", 4, 1};
  case 2:
    head(b, 1, 0, 0);
    return (mcase){"version 1", RILL_E_FORMAT, "version 1 is not supported", 4,
                   1};
  case 3:
    head(b, 4, 0, 0);
    return (mcase){"version 4", RILL_E_FORMAT, "unknown GGUF version 4", 4, 1};
  case 4:
    head(b, 0x03000000u, 0, 0);
    return (mcase){"byte-swapped version", RILL_E_UNSUPPORTED,
                   "big-endian GGUF is not supported", 4, 1};
  case 5:
    return (mcase){"empty file", RILL_E_FORMAT, "empty file", 0, 0};
  case 6:
    head(b, 3, 0, 0);
    b->len = 10;
    return (mcase){"truncated header", RILL_E_FORMAT,
                   "ends at byte 10, inside the tensor count", 8, 0};
  case 7:
    head(b, 3, UINT64_MAX, 0);
    zeros(b, 100);
    return (mcase){"n_tensors -1", RILL_E_FORMAT,
                   "the tensor count is 18446744073709551615: more than the "
                   "file could hold",
                   8, 0};
  case 8:
    head(b, 3, 1ull << 63, 0);
    zeros(b, 100);
    return (mcase){"n_tensors 2^63", RILL_E_FORMAT,
                   "more than the file could hold", 8, 0};
  case 9:
    head(b, 3, 0, UINT64_MAX);
    zeros(b, 100);
    return (mcase){"n_kv -1", RILL_E_FORMAT,
                   "the metadata count is 18446744073709551615", 16, 0};
  case 10:
    head(b, 3, 0, 1ull << 63);
    zeros(b, 100);
    return (mcase){"n_kv 2^63", RILL_E_FORMAT, "more than the file could hold",
                   16, 0};
  case 11:
    /* 100 bytes hold 7 minimal entries; 8 cannot fit. */
    head(b, 3, 0, 8);
    zeros(b, 100);
    return (mcase){"n_kv one more than the file could hold", RILL_E_FORMAT,
                   "the metadata count is 8: more than the file could hold", 16,
                   0};
  case 12:
    head(b, 3, 3, 2); /* 3*25 + 2*14 = 103 > 100 */
    zeros(b, 100);
    return (mcase){"both counts together too many", RILL_E_FORMAT,
                   "cannot fit in the 100 bytes left", 8, 0};
  case 13:
    /* One more entry than the file has: runs into the end. */
    w = gw_new(3);
    gw_u32(w, "a", 1);
    gw_u32(w, "b", 2);
    gw_set_counts(w, 0, 3);
    gw_tail(w, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
    from_gw(b, w);
    return (mcase){"n_kv one more than present", RILL_E_FORMAT,
                   "metadata entry 2: the key is empty", 58, 1};
  /* -- keys -- */
  case 14:
    one_key(b, UINT64_MAX, "", 0);
    zeros(b, 20);
    return (mcase){"key length 2^64-1", RILL_E_FORMAT,
                   "metadata entry 0: the key is 18446744073709551615 bytes "
                   "long, over the 65535 allowed",
                   24, 1};
  case 15:
    one_key(b, 1000, "abcdef", 6);
    zeros(b, 20);
    return (mcase){"key longer than the file", RILL_E_FORMAT,
                   "metadata entry 0: the key at offset 32 needs 1000 bytes "
                   "but the file has 26 left",
                   32, 0};
  case 16:
    one_key(b, 0, "", 0);
    gwb_u32(b, RILL_GGUF_U8);
    gwb_u8(b, 1);
    zeros(b, 8);
    return (mcase){"empty key", RILL_E_FORMAT,
                   "metadata entry 0: the key is empty", 24, 1};
  case 17:
    w = gw_new(3);
    gw_u32(w, "k", 1);
    gw_u8(w, "dup.key", 1);
    gw_str(w, "dup.key", "again");
    from_gw(b, w);
    return (mcase){"duplicate key", RILL_E_FORMAT,
                   "metadata key 'dup.key': duplicate key (entry 1",
                   24 + 17 + 20, 1};
  case 18:
    one_key(b, 3, "a\xC0\x80", 3);
    gwb_u32(b, RILL_GGUF_U8);
    gwb_u8(b, 1);
    zeros(b, 8);
    return (mcase){"key not UTF-8", RILL_E_FORMAT,
                   "metadata entry 0: the key is not valid UTF-8", 24, 1};
  case 19:
    one_key(b, 3, "a\0b", 3);
    gwb_u32(b, RILL_GGUF_U8);
    gwb_u8(b, 1);
    zeros(b, 8);
    return (mcase){"key with NUL", RILL_E_FORMAT, "contains a NUL byte", 24, 1};
  case 20:
    one_key(b, 65536, "", 0);
    zeros(b, 70000);
    return (mcase){"key over 65535 bytes", RILL_E_FORMAT,
                   "65536 bytes long, over the 65535 allowed", 24, 1};
  /* -- value types -- */
  case 21:
    one_key(b, 1, "k", 1);
    gwb_u32(b, UINT32_MAX);
    zeros(b, 16);
    return (mcase){"value type -1", RILL_E_FORMAT,
                   "metadata key 'k': unknown value type 4294967295", 33, 1};
  case 22:
    one_key(b, 1, "k", 1);
    gwb_u32(b, 13);
    zeros(b, 16);
    return (mcase){"value type 13", RILL_E_FORMAT, "unknown value type 13", 33,
                   1};
  case 23:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u64(b, 1);
    gwb_u32(b, RILL_GGUF_U8);
    gwb_u64(b, 1);
    gwb_u8(b, 0);
    return (mcase){"array of arrays", RILL_E_FORMAT,
                   "metadata key 'k': an array of arrays is not supported", 37,
                   1};
  case 24:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_U64);
    gwb_u64(b, (1ull << 61) + 1);
    zeros(b, 16);
    return (mcase){"array count x size overflows", RILL_E_FORMAT,
                   "array count 2305843009213693953 times 8-byte elements "
                   "overflows",
                   37, 1};
  case 25:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_U32);
    gwb_u64(b, 1000);
    zeros(b, 16);
    return (mcase){"array larger than the bytes left", RILL_E_FORMAT,
                   "the array at offset 49 needs 4000 bytes but the file has "
                   "16 left",
                   49, 0};
  case 26:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_STRING);
    gwb_u64(b, 50);
    zeros(b, 16);
    return (mcase){"string length beyond EOF", RILL_E_FORMAT,
                   "metadata key 'k': the string at offset 45 needs 50 bytes",
                   45, 0};
  case 27:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_STRING);
    gwb_strn(b, "ok\xED\xA0\x80", 5); /* a surrogate */
    return (mcase){"string not UTF-8", RILL_E_FORMAT,
                   "the string is not valid UTF-8 (bad byte 0xa0 at offset 48)",
                   45, 1};
  case 28:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_STRING);
    gwb_u64(b, 3);
    gwb_str(b, "a");
    gwb_u64(b, 1000);
    zeros(b, 16);
    return (mcase){"array string beyond EOF", RILL_E_FORMAT,
                   "metadata key 'k': element 1: an array string at offset",
                   ANY, 0};
  case 29:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, 13);
    gwb_u64(b, 1);
    zeros(b, 16);
    return (mcase){"array element type 13", RILL_E_FORMAT,
                   "unknown array element type 13", 37, 1};
  case 30:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_STRING);
    gwb_u64(b, UINT64_MAX / 4);
    zeros(b, 16);
    return (mcase){"string array count overflows", RILL_E_FORMAT,
                   "string array count 4611686018427387903 overflows", 37, 1};
  case 31:
    one_key(b, 1, "k", 1);
    gwb_u32(b, RILL_GGUF_ARRAY);
    gwb_u32(b, RILL_GGUF_STRING);
    gwb_u64(b, 2);
    gwb_str(b, "fine");
    gwb_strn(b, "\xFF", 1);
    return (mcase){"array string not UTF-8", RILL_E_FORMAT,
                   "element 1: an array string is not valid UTF-8", ANY, 1};
  /* -- alignment -- */
  case 32:
    w = gw_new(3);
    gw_i32(w, "general.alignment", 32);
    from_gw(b, w);
    return (mcase){"alignment INT32", RILL_E_FORMAT,
                   "general.alignment has value type 5: it must be UINT32",
                   24 + 8 + 17 + 4, 1};
  case 33:
    w = gw_new(3);
    gw_u32(w, "general.alignment", 0);
    from_gw(b, w);
    return (mcase){"alignment 0", RILL_E_FORMAT,
                   "general.alignment is 0: it must be a nonzero power of two",
                   53, 1};
  case 34:
    w = gw_new(3);
    gw_u32(w, "general.alignment", 13);
    from_gw(b, w);
    return (mcase){"alignment 13", RILL_E_FORMAT,
                   "general.alignment is 13: it must be a nonzero power", 53,
                   1};
  case 35:
    w = gw_new(3);
    {
      /* Raw, or the writer would pad its layout to 2 GiB. */
      unsigned char v[4] = {0, 0, 0, 0x80};
      gw_kv_raw(w, "general.alignment", 17, RILL_GGUF_U32, v, 4);
    }
    from_gw(b, w);
    return (mcase){"alignment 2^31", RILL_E_FORMAT,
                   "general.alignment is 2147483648: larger than rill's limit",
                   53, 1};
  /* -- tensors -- */
  case 36:
    raw_tensor(b, "", 2, ne2, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"tensor name empty", RILL_E_FORMAT,
                   "tensor 0: the name is empty", ANY, 1};
  case 37:
    raw_tensor(
        b, "0123456789012345678901234567890123456789012345678901234567890123",
        2, ne2, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"tensor name 64 bytes", RILL_E_FORMAT,
                   "tensor 0: the name is 64 bytes long, over the 63 allowed",
                   ANY, 1};
  case 38:
    w = gw_new(3);
    {
      uint64_t one[1] = {8};
      gw_tensor(w, "first", RILL_GGUF_TYPE_F32, 1, one, NULL);
      gw_tensor_raw(w, "first", 5, 1, one, RILL_GGUF_TYPE_F32, 32);
      gw_tail(w, "0123456789012345678901234567890123456789", 40);
    }
    from_gw(b, w);
    return (mcase){"duplicate tensor name", RILL_E_FORMAT,
                   "tensor 'first': duplicate tensor name", ANY, 1};
  case 39:
    raw_tensor(b, "t", 5, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"n_dims 5", RILL_E_FORMAT,
                   "tensor 't': 5 dimensions (at most 4)", ANY, 1};
  case 40:
    ne[1] = (uint64_t)-4;
    raw_tensor(b, "t", 2, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"ne negative", RILL_E_FORMAT,
                   "tensor 't': dimension 1 is negative (-4)", ANY, 1};
  case 41:
    ne[0] = 1ull << 32;
    ne[1] = 1ull << 32;
    raw_tensor(b, "t", 2, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"ne product overflows int64", RILL_E_FORMAT,
                   "the element count overflows int64 at dimension 1", ANY, 1};
  case 42:
    ne[0] = 1ull << 31;
    ne[1] = 1ull << 31;
    raw_tensor(b, "t", 2, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"byte size overflows", RILL_E_FORMAT,
                   "the byte size of 4611686018427387904 F32 elements "
                   "overflows",
                   ANY, 1};
  case 43:
    ne[0] = 33;
    raw_tensor(b, "t", 2, ne, RILL_GGUF_TYPE_Q4_0, 0, 0, 64);
    return (mcase){"ne[0] not a block multiple", RILL_E_FORMAT,
                   "ne[0] = 33 is not a multiple of the Q4_0 block size 32",
                   ANY, 1};
  case 44:
    raw_tensor(b, "t", 2, ne, 1000, 0, 0, 64);
    return (mcase){"unknown type id", RILL_E_FORMAT,
                   "tensor 't': unknown element type id 1000", ANY, 1};
  case 45:
    raw_tensor(b, "t", 2, ne, 0x80000000u, 0, 0, 64);
    return (mcase){"negative type id", RILL_E_FORMAT,
                   "unknown element type id 2147483648", ANY, 1};
  case 46:
    raw_tensor(b, "t", 2, ne, 16, 0, 0, 64);
    return (mcase){"ggml type rill does not read", RILL_E_UNSUPPORTED,
                   "tensor 't': element type 16 is a ggml type rill does not "
                   "read",
                   ANY, 1};
  case 47:
    /* 2^64 - 32 bytes: padding it to 32 would wrap to 0. */
    ne[0] = (1ull << 62) - 8;
    raw_tensor(b, "t", 1, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){
        "size near 2^64, padding wraps", RILL_E_FORMAT,
        "tensor 't' (18446744073709551584 bytes at data offset 0) runs past",
        ANY, 0};
  case 48:
    ne[0] = (1ull << 62) - 8;
    raw_tensor(b, NULL, 1, ne, RILL_GGUF_TYPE_F32, 64, 0, 64);
    return (mcase){"running total overflows", RILL_E_FORMAT,
                   "tensor 'second': offset 64 plus size 18446744073709551584 "
                   "overflows",
                   ANY, 1};
  case 49:
    raw_tensor(b, NULL, 2, ne, RILL_GGUF_TYPE_F32, 48, 0, 128);
    return (mcase){"offset not aligned", RILL_E_FORMAT,
                   "tensor 'second': offset 48 is not a multiple of the "
                   "alignment 32",
                   ANY, 1};
  case 50:
    raw_tensor(b, NULL, 2, ne, RILL_GGUF_TYPE_F32, 96, 64, 256);
    return (mcase){"offset not aligned to general.alignment", RILL_E_FORMAT,
                   "offset 96 is not a multiple of the alignment 64", ANY, 1};
  case 51:
    w = gw_new(3);
    {
      uint64_t one[1] = {8};
      gw_tensor_raw(w, "a", 1, 1, one, RILL_GGUF_TYPE_F32, 64);
      gw_tensor_raw(w, "b", 1, 1, one, RILL_GGUF_TYPE_F32, 0);
      gw_tail(w,
              "0123456789012345678901234567890123456789012345678901234567890123"
              "456789012345678901234567890123456789",
              100);
    }
    from_gw(b, w);
    return (mcase){"offsets out of order", RILL_E_FORMAT,
                   "tensor 'b': offset 0 is before the previous tensor's "
                   "(64): tensors out of order",
                   ANY, 1};
  case 52:
    raw_tensor(b, NULL, 2, ne, RILL_GGUF_TYPE_F32, 0, 0, 128);
    return (mcase){"overlapping tensors", RILL_E_FORMAT,
                   "tensor 'second': offset 0 overlaps the previous tensor "
                   "(bytes 0..32)",
                   ANY, 1};
  case 53:
    raw_tensor(b, NULL, 2, ne, RILL_GGUF_TYPE_F32, 32, 0, 40);
    return (mcase){"tensor past EOF", RILL_E_FORMAT,
                   "tensor 'second' (64 bytes at data offset 32) runs past the "
                   "end of the file (232 bytes)",
                   ANY, 0};
  case 54:
    ne[0] = 4;
    ne[1] = 1ull << 40; /* 16 TiB, aligned offset, far past EOF */
    raw_tensor(b, "t", 2, ne, RILL_GGUF_TYPE_F32, 1ull << 50, 0, 64);
    return (mcase){"huge tensor past EOF", RILL_E_FORMAT,
                   "runs past the end of the file", ANY, 0};
  case 55:
    raw_tensor(b, "t\xFF", 2, ne, RILL_GGUF_TYPE_F32, 0, 0, 64);
    return (mcase){"tensor name not UTF-8", RILL_E_FORMAT,
                   "tensor 0: the name is not valid UTF-8", ANY, 1};
  case 56:
    head(b, 3, 1, 0);
    gwb_str(b, "t");
    gwb_u32(b, UINT32_MAX);
    zeros(b, 64);
    return (mcase){"n_dims 2^32-1", RILL_E_FORMAT,
                   "tensor 't': 4294967295 dimensions", 33, 1};
  case 57:
    /* The offset lies past 2^64 once the data section is added. */
    ne[0] = 8;
    raw_tensor(b, "t", 1, ne, RILL_GGUF_TYPE_F32, UINT64_MAX - 63, 0, 64);
    return (mcase){"offset near 2^64", RILL_E_FORMAT,
                   "runs past the end of the file", ANY, 0};
  default:
    return (mcase){NULL, 0, NULL, 0, 0};
  }
}

static void test_crafted(void **state) {
  int id, n = 0;
  (void)state;
  for (id = 0;; id++) {
    gwb b = {0};
    rill_gguf_error err;
    mcase c = build(id, &b);
    int rc;
    if (!c.name) {
      gwb_free(&b);
      break;
    }
    n++;
    memset(&err, 0, sizeof err);
    rc = try_open(S_PATH, b.p ? b.p : (const unsigned char *)"", b.len, &err);
    print_message("%2d %-40s -> %s @%llu: %s\n", id, c.name,
                  rill_error_name(rc), (unsigned long long)err.offset,
                  err.message);
    assert_int_equal(rc, c.code);
    assert_non_null(strstr(err.message, c.msg));
    if (c.offset != ANY)
      assert_int_equal(err.offset, c.offset);
    memset(&err, 0, sizeof err);
    rc = try_open(S_STREAM, b.p ? b.p : (const unsigned char *)"", b.len, &err);
    if (c.stream_same) {
      assert_int_equal(rc, c.code);
      assert_non_null(strstr(err.message, c.msg));
      if (c.offset != ANY)
        assert_int_equal(err.offset, c.offset);
    }
    gwb_free(&b);
  }
  print_message("%d crafted files\n", n);
  assert_true(n >= 50);
}

/* A stream may hold a tensor past its end: found when the tensor is read. */
static void test_stream_past_eof(void **state) {
  gwb b = {0};
  gw_reader rd = {0};
  rill_gguf *g;
  unsigned char buf[16];
  uint64_t ne[2] = {4, 4};
  (void)state;
  raw_tensor(&b, NULL, 2, ne, RILL_GGUF_TYPE_F32, 32, 0, 40);
  rd.p = b.p;
  rd.len = b.len;
  assert_int_equal(rill_gguf_open_stream(&g, gw_read, &rd, NULL, NULL),
                   RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(g, 0, 0, buf, 16), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(g, 1, 0, buf, 16), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(g, 1, 48, buf, 16), RILL_E_FORMAT);
  rill_gguf_close(g);
  gwb_free(&b);
}

/* ---- truncation and byte mutation --------------------------------------- */

static unsigned char *valid_file(size_t *len, uint64_t *table_end) {
  gw *w = gw_new(3);
  uint64_t ne[2] = {32, 2}, ne1[1] = {8};
  const char *toks[] = {"[PAD]", "the", "##s", "é"};
  float sc[4] = {0, -1, -2.5f, 3};
  unsigned char *p;
  unsigned char q[2 * 34];
  size_t i;
  for (i = 0; i < sizeof q; i++)
    q[i] = (unsigned char)(i * 7);
  gw_str(w, "general.architecture", "nomic-bert");
  gw_u32(w, "general.alignment", 32);
  gw_u32(w, "nomic-bert.block_count", 12);
  gw_f32(w, "eps", 1e-12f);
  gw_bool(w, "causal", 0);
  gw_i64(w, "i", -5);
  gw_arr_str(w, "tokenizer.ggml.tokens", toks, 4);
  gw_arr(w, "tokenizer.ggml.scores", RILL_GGUF_F32, sc, 4);
  gw_tensor(w, "token_embd.weight", RILL_GGUF_TYPE_Q8_0, 2, ne, q);
  gw_tensor(w, "norm", RILL_GGUF_TYPE_F32, 1, ne1, NULL);
  gw_tensor(w, "h", RILL_GGUF_TYPE_F16, 1, ne1, NULL);
  p = gw_build(w, len);
  *table_end = gw_data_offset(w);
  gw_free(w);
  return p;
}

static void test_truncated_everywhere(void **state) {
  size_t len, cut;
  uint64_t end;
  unsigned char *p = valid_file(&len, &end);
  rill_gguf_error err;
  int fails = 0;
  (void)state;
  assert_int_equal(try_open(S_PATH, p, len, &err), RILL_OK);
  for (cut = 0; cut < len; cut++) {
    int rc = try_open(S_PATH, p, cut, &err);
    /* Only the zero tensors' trailing padding may go missing. */
    if (cut < end) {
      assert_int_equal(rc, RILL_E_FORMAT);
      fails++;
    } else {
      assert_true(rc == RILL_E_FORMAT || rc == RILL_OK);
    }
    rc = try_open(S_STREAM, p, cut, &err);
    /* A stream stops at the end of the tensor table: the padding after
     * it (less than the alignment, 32) is only read with the data. */
    if (cut < end - 32 && rc != RILL_E_FORMAT)
      fail_msg("stream cut at %zu: %s %s", cut, rill_error_name(rc),
               err.message);
  }
  print_message("%zu cuts of a %zu-byte file (%d inside the tables)\n", len,
                len, fails);
  free(p);
}

static void test_mutated_bytes(void **state) {
  size_t len, i;
  uint64_t end;
  unsigned char *p = valid_file(&len, &end);
  unsigned char *q = malloc(len);
  int counts[2] = {0, 0};
  (void)state;
  for (i = 0; i < end; i++) {
    int v;
    for (v = 0; v < 3; v++) {
      rill_gguf_error err;
      int rc;
      memcpy(q, p, len);
      q[i] = v == 0 ? 0x00 : v == 1 ? 0xFF : (unsigned char)(p[i] + 1);
      rc = try_open(S_PATH, q, len, &err);
      counts[rc == RILL_OK]++;
      (void)try_open(S_STREAM, q, len, &err);
    }
  }
  print_message("%llu header bytes x 3 mutations: %d opened, %d refused\n",
                (unsigned long long)end, counts[1], counts[0]);
  free(q);
  free(p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crafted),
      cmocka_unit_test(test_stream_past_eof),
      cmocka_unit_test(test_truncated_everywhere),
      cmocka_unit_test(test_mutated_bytes),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
