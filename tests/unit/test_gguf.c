/*
 * test_gguf.c — the GGUF reader on valid files: every value type and
 * array kind on v2 and v3, the getters' type and range rules, lookups,
 * all sources (path and fd, mapped or not; a callback feeding whole
 * buffers, 1 byte, random sizes), tensor reads and dequantization, the
 * stream's forward-only rules, info, the heap (independent of tensor
 * size) and allocation failure at every allocation of an open.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
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

/* ---- helpers ------------------------------------------------------------ */

static char g_dir[] = "/tmp/rill_test_gguf_XXXXXX";

static int setup_dir(void **state) {
  (void)state;
  return mkdtemp(g_dir) ? 0 : -1;
}

static int remove_dir(void **state) {
  (void)state;
  return rmdir(g_dir);
}

static void tmp_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s", g_dir, name);
}

typedef enum mode {
  M_PATH,        /* rill_gguf_open, mapped */
  M_PATH_NOMMAP, /* rill_gguf_open, no_mmap */
  M_FD,          /* rill_gguf_open_fd, mapped */
  M_FD_NOMMAP,
  M_STREAM,      /* callback, whole buffers */
  M_STREAM_1,    /* callback, 1 byte per call */
  M_STREAM_RAND, /* callback, random sizes */
  M_COUNT
} mode;

static const char *mode_name[] = {"path",       "path-nommap", "fd",
                                  "fd-nommap",  "stream",      "stream-1",
                                  "stream-rand"};

/* One open of file bytes buf through mode; the file and reader live in
 * the fixture so that stream reads after open work. */
typedef struct opened {
  rill_gguf *g;
  gw_reader rd;
  char path[256];
  int rc;
  rill_gguf_error err;
} opened;

static int open_mode(opened *o, mode m, const unsigned char *buf, size_t len,
                     const rill_gguf_options *base) {
  rill_gguf_options opt;
  memset(o, 0, sizeof *o);
  if (base)
    opt = *base;
  else
    memset(&opt, 0, sizeof opt);
  opt.no_mmap = (m == M_PATH_NOMMAP || m == M_FD_NOMMAP) ? 1 : opt.no_mmap;
  if (m <= M_FD_NOMMAP) {
    tmp_path(o->path, sizeof o->path, "f.gguf");
    assert_int_equal(gw_save(o->path, buf, len), 0);
    if (m <= M_PATH_NOMMAP) {
      o->rc = rill_gguf_open(&o->g, o->path, &opt, &o->err);
    } else {
      int fd = open(o->path, O_RDONLY);
      assert_true(fd >= 0);
      o->rc = rill_gguf_open_fd(&o->g, fd, &opt, &o->err);
      close(fd); /* rill keeps its own duplicate */
    }
  } else {
    o->rd.p = buf;
    o->rd.len = len;
    o->rd.chunk = m == M_STREAM_1 ? 1 : m == M_STREAM_RAND ? GW_RANDOM : 0;
    o->rd.seed = 12345;
    o->rc = rill_gguf_open_stream(&o->g, gw_read, &o->rd, &opt, &o->err);
  }
  if (o->rc != RILL_OK)
    assert_null(o->g);
  return o->rc;
}

static void close_mode(opened *o) {
  rill_gguf_close(o->g);
  o->g = NULL;
  if (o->path[0])
    unlink(o->path);
}

static rill_alloc_stats stats(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  assert_int_equal(rill_alloc_get_stats(&s), RILL_OK);
  return s;
}

/* ---- a file with every value type ---------------------------------------- */

static const char *const strs[] = {"alpha", "", "βeta ✓", "\xF0\x9F\x98\x80",
                                   "last"};

static gw *all_types(uint32_t version) {
  gw *w = gw_new(version);
  uint8_t u8a[] = {0, 1, 255};
  int8_t i8a[] = {-128, 0, 127};
  uint16_t u16a[] = {0, 65535};
  int16_t i16a[] = {-32768, 32767};
  uint32_t u32a[] = {0, 4000000000u};
  int32_t i32a[] = {INT32_MIN, -1, INT32_MAX};
  float f32a[] = {1.5f, -2.25f, 0.0f};
  uint8_t boola[] = {1, 0, 1};
  uint64_t u64a[] = {0, UINT64_MAX};
  int64_t i64a[] = {INT64_MIN, INT64_MAX};
  double f64a[] = {1e300, 0.5};
  gw_u8(w, "t.u8", 200);
  gw_i8(w, "t.i8", -100);
  gw_u16(w, "t.u16", 60000);
  gw_i16(w, "t.i16", -30000);
  gw_u32(w, "t.u32", 4000000000u);
  gw_i32(w, "t.i32", -2000000000);
  gw_f32(w, "t.f32", 3.25f);
  gw_bool(w, "t.bool", 1);
  gw_bool(w, "t.false", 0);
  gw_str(w, "t.str", "héllo");
  gw_str(w, "t.empty", "");
  gw_u64(w, "t.u64", UINT64_MAX);
  gw_i64(w, "t.i64", INT64_MIN);
  gw_f64(w, "t.f64", 1e300);
  gw_arr(w, "a.u8", RILL_GGUF_U8, u8a, 3);
  gw_arr(w, "a.i8", RILL_GGUF_I8, i8a, 3);
  gw_arr(w, "a.u16", RILL_GGUF_U16, u16a, 2);
  gw_arr(w, "a.i16", RILL_GGUF_I16, i16a, 2);
  gw_arr(w, "a.u32", RILL_GGUF_U32, u32a, 2);
  gw_arr(w, "a.i32", RILL_GGUF_I32, i32a, 3);
  gw_arr(w, "a.f32", RILL_GGUF_F32, f32a, 3);
  gw_arr(w, "a.bool", RILL_GGUF_BOOL, boola, 3);
  gw_arr(w, "a.u64", RILL_GGUF_U64, u64a, 2);
  gw_arr(w, "a.i64", RILL_GGUF_I64, i64a, 2);
  gw_arr(w, "a.f64", RILL_GGUF_F64, f64a, 2);
  gw_arr(w, "a.empty", RILL_GGUF_U32, NULL, 0);
  gw_arr_str(w, "a.str", strs, 5);
  gw_arr_str(w, "a.str0", NULL, 0);
  return w;
}

static void check_all_types(const rill_gguf *g) {
  uint32_t u32;
  uint64_t u64, n;
  int64_t i64;
  float f;
  double d;
  int b;
  const char *s;
  size_t len;
  rill_gguf_vtype et;
  int64_t k;
  uint64_t i;

  assert_int_equal(rill_gguf_get_u32(g, "t.u8", &u32), RILL_OK);
  assert_int_equal(u32, 200);
  assert_int_equal(rill_gguf_get_i64(g, "t.i8", &i64), RILL_OK);
  assert_int_equal(i64, -100);
  assert_int_equal(rill_gguf_get_u32(g, "t.u16", &u32), RILL_OK);
  assert_int_equal(u32, 60000);
  assert_int_equal(rill_gguf_get_i64(g, "t.i16", &i64), RILL_OK);
  assert_int_equal(i64, -30000);
  assert_int_equal(rill_gguf_get_u32(g, "t.u32", &u32), RILL_OK);
  assert_int_equal(u32, 4000000000u);
  assert_int_equal(rill_gguf_get_i64(g, "t.i32", &i64), RILL_OK);
  assert_int_equal(i64, -2000000000);
  assert_int_equal(rill_gguf_get_f32(g, "t.f32", &f), RILL_OK);
  assert_true(f == 3.25f);
  assert_int_equal(rill_gguf_get_f64(g, "t.f32", &d), RILL_OK);
  assert_true(d == 3.25);
  assert_int_equal(rill_gguf_get_bool(g, "t.bool", &b), RILL_OK);
  assert_int_equal(b, 1);
  assert_int_equal(rill_gguf_get_bool(g, "t.false", &b), RILL_OK);
  assert_int_equal(b, 0);
  assert_int_equal(rill_gguf_get_str(g, "t.str", &s, &len), RILL_OK);
  assert_int_equal(len, strlen("héllo"));
  assert_memory_equal(s, "héllo", len);
  assert_int_equal(rill_gguf_get_str(g, "t.empty", &s, &len), RILL_OK);
  assert_int_equal(len, 0);
  assert_int_equal(rill_gguf_get_u64(g, "t.u64", &u64), RILL_OK);
  assert_true(u64 == UINT64_MAX);
  assert_int_equal(rill_gguf_get_i64(g, "t.i64", &i64), RILL_OK);
  assert_true(i64 == INT64_MIN);
  assert_int_equal(rill_gguf_get_f64(g, "t.f64", &d), RILL_OK);
  assert_true(d == 1e300);

  /* Arrays. */
  k = rill_gguf_find_key(g, "a.u8");
  assert_true(k >= 0);
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 2, &i64), RILL_OK);
  assert_int_equal(i64, 255);
  k = rill_gguf_find_key(g, "a.i8");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_OK);
  assert_int_equal(i64, -128);
  k = rill_gguf_find_key(g, "a.u16");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 1, &i64), RILL_OK);
  assert_int_equal(i64, 65535);
  k = rill_gguf_find_key(g, "a.i16");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_OK);
  assert_int_equal(i64, -32768);
  k = rill_gguf_find_key(g, "a.u32");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 1, &i64), RILL_OK);
  assert_int_equal(i64, 4000000000);
  k = rill_gguf_find_key(g, "a.i32");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_OK);
  assert_int_equal(i64, INT32_MIN);
  k = rill_gguf_find_key(g, "a.f32");
  assert_int_equal(rill_gguf_arr_f32(g, (uint64_t)k, 1, &f), RILL_OK);
  assert_true(f == -2.25f);
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 1, &i64), RILL_E_FORMAT);
  k = rill_gguf_find_key(g, "a.bool");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_arr(g, "a.bool", &et, &n), RILL_OK);
  assert_int_equal(et, RILL_GGUF_BOOL);
  assert_int_equal(n, 3);
  k = rill_gguf_find_key(g, "a.u64");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_OK);
  assert_int_equal(i64, 0);
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 1, &i64), RILL_E_FORMAT);
  k = rill_gguf_find_key(g, "a.i64");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_OK);
  assert_true(i64 == INT64_MIN);
  k = rill_gguf_find_key(g, "a.f64");
  assert_int_equal(rill_gguf_arr_f32(g, (uint64_t)k, 0, &f), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_f32(g, (uint64_t)k, 1, &f), RILL_OK);
  assert_true(f == 0.5f);
  assert_int_equal(rill_gguf_arr_f32(g, (uint64_t)k, 2, &f), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_arr(g, "a.empty", &et, &n), RILL_OK);
  assert_int_equal(n, 0);
  k = rill_gguf_find_key(g, "a.empty");
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_E_INVALID);

  /* arr_u64, arr_f64, arr_bool. */
  k = rill_gguf_find_key(g, "a.u64");
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 1, &u64), RILL_OK);
  assert_true(u64 == UINT64_MAX);
  assert_int_equal(rill_gguf_arr_f64(g, (uint64_t)k, 1, &d), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 1, &b), RILL_E_FORMAT);
  k = rill_gguf_find_key(g, "a.i8");
  u64 = 7;
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 0, &u64), RILL_E_FORMAT);
  assert_int_equal(u64, 7);
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 2, &u64), RILL_OK);
  assert_int_equal(u64, 127);
  k = rill_gguf_find_key(g, "a.f64");
  assert_int_equal(rill_gguf_arr_f64(g, (uint64_t)k, 0, &d), RILL_OK);
  assert_true(d == 1e300);
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 0, &u64), RILL_E_FORMAT);
  k = rill_gguf_find_key(g, "a.f32");
  assert_int_equal(rill_gguf_arr_f64(g, (uint64_t)k, 1, &d), RILL_OK);
  assert_true(d == -2.25);
  k = rill_gguf_find_key(g, "a.bool");
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 0, &b), RILL_OK);
  assert_int_equal(b, 1);
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 1, &b), RILL_OK);
  assert_int_equal(b, 0);
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 3, &b), RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 0, &u64), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 0, NULL), RILL_E_INVALID);

  k = rill_gguf_find_key(g, "a.str");
  assert_int_equal(rill_gguf_arr_u64(g, (uint64_t)k, 0, &u64), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_f64(g, (uint64_t)k, 0, &d), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_bool(g, (uint64_t)k, 0, &b), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_arr(g, "a.str", &et, &n), RILL_OK);
  assert_int_equal(et, RILL_GGUF_STRING);
  assert_int_equal(n, 5);
  for (i = 0; i < 5; i++) {
    assert_int_equal(rill_gguf_arr_str(g, (uint64_t)k, i, &s, &len), RILL_OK);
    assert_int_equal(len, strlen(strs[i]));
    assert_memory_equal(s, strs[i], len);
  }
  assert_int_equal(rill_gguf_arr_str(g, (uint64_t)k, 5, &s, &len),
                   RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_i64(g, (uint64_t)k, 0, &i64), RILL_E_FORMAT);
  k = rill_gguf_find_key(g, "a.u8");
  assert_int_equal(rill_gguf_arr_str(g, (uint64_t)k, 0, &s, &len),
                   RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_arr(g, "a.str0", &et, &n), RILL_OK);
  assert_int_equal(n, 0);
}

static void test_all_types(void **state) {
  uint32_t v;
  int m;
  (void)state;
  for (v = 2; v <= 3; v++) {
    gw *w = all_types(v);
    size_t len;
    unsigned char *buf = gw_build(w, &len);
    for (m = 0; m < M_COUNT; m++) {
      opened o;
      rill_gguf_info info;
      rill_gguf_kv kv;
      print_message("v%u %s\n", v, mode_name[m]);
      assert_int_equal(open_mode(&o, (mode)m, buf, len, NULL), RILL_OK);
      check_all_types(o.g);
      assert_int_equal(rill_gguf_get_info(o.g, &info), RILL_OK);
      assert_int_equal(info.version, v);
      assert_int_equal(info.n_kv, 28);
      assert_int_equal(info.n_tensors, 0);
      assert_int_equal(info.alignment, 32);
      assert_int_equal(info.mapped, m == M_PATH || m == M_FD);
      assert_int_equal(info.file_bytes, m >= M_STREAM ? 0 : len);
      assert_int_equal(info.data_bytes, 0);
      /* kv_at in file order, with the value's offset. */
      assert_int_equal(rill_gguf_kv_at(o.g, 0, &kv), RILL_OK);
      assert_string_equal(kv.key, "t.u8");
      assert_int_equal(kv.key_len, 4);
      assert_int_equal(kv.type, RILL_GGUF_U8);
      assert_int_equal(kv.count, 1);
      assert_int_equal(kv.offset, 24 + 8 + 4 + 4);
      assert_int_equal(buf[kv.offset], 200);
      assert_int_equal(rill_gguf_kv_at(o.g, 26, &kv), RILL_OK);
      assert_string_equal(kv.key, "a.str");
      assert_int_equal(kv.type, RILL_GGUF_ARRAY);
      assert_int_equal(kv.elem_type, RILL_GGUF_STRING);
      assert_int_equal(kv.count, 5);
      assert_int_equal(rill_gguf_kv_at(o.g, 28, &kv), RILL_E_INVALID);
      close_mode(&o);
    }
    free(buf);
    gw_free(w);
  }
}

static void test_getter_rules(void **state) {
  gw *w = all_types(3);
  size_t len;
  unsigned char *buf = gw_build(w, &len);
  opened o;
  uint32_t u32;
  uint64_t u64;
  int64_t i64;
  float f;
  double d;
  int b;
  const char *s;
  size_t sl;
  rill_gguf_vtype et;
  (void)state;
  gw_free(w);
  assert_int_equal(open_mode(&o, M_PATH, buf, len, NULL), RILL_OK);
  /* Integers: any integer type whose value fits. */
  assert_int_equal(rill_gguf_get_u32(o.g, "t.u64", &u32), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u64(o.g, "t.i8", &u64), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u32(o.g, "t.i16", &u32), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_i64(o.g, "t.u64", &i64), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u64(o.g, "t.u8", &u64), RILL_OK);
  assert_int_equal(u64, 200);
  assert_int_equal(rill_gguf_get_i64(o.g, "t.u32", &i64), RILL_OK);
  assert_int_equal(i64, 4000000000);
  assert_int_equal(rill_gguf_get_u32(o.g, "t.f32", &u32), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u32(o.g, "t.bool", &u32), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u32(o.g, "t.str", &u32), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_u32(o.g, "a.u32", &u32), RILL_E_FORMAT);
  /* Floats: F32 and F64; a finite F64 beyond float's range does not fit. */
  assert_int_equal(rill_gguf_get_f32(o.g, "t.f64", &f), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_f64(o.g, "t.u8", &d), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_f32(o.g, "t.i8", &f), RILL_E_FORMAT);
  /* Bool only from BOOL; strings only from STRING. */
  assert_int_equal(rill_gguf_get_bool(o.g, "t.u8", &b), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_str(o.g, "t.u8", &s, &sl), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_str(o.g, "a.str", &s, &sl), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_get_arr(o.g, "t.str", &et, &u64), RILL_E_FORMAT);
  /* Absent keys and NULL arguments. */
  assert_int_equal(rill_gguf_get_u32(o.g, "nope", &u32), RILL_E_NOT_FOUND);
  assert_int_equal(rill_gguf_get_str(o.g, "nope", &s, &sl), RILL_E_NOT_FOUND);
  assert_int_equal(rill_gguf_get_arr(o.g, "nope", &et, &u64), RILL_E_NOT_FOUND);
  assert_int_equal(rill_gguf_find_key(o.g, "nope"), -1);
  assert_int_equal(rill_gguf_find_key(o.g, "t.u"), -1);
  assert_int_equal(rill_gguf_find_key(o.g, ""), -1);
  assert_int_equal(rill_gguf_find_key(o.g, NULL), -1);
  assert_int_equal(rill_gguf_find_key(NULL, "t.u8"), -1);
  assert_int_equal(rill_gguf_get_u32(NULL, "t.u8", &u32), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_u32(o.g, NULL, &u32), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_u32(o.g, "t.u8", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_u64(o.g, "t.u8", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_i64(o.g, "t.u8", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_f32(o.g, "t.f32", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_f64(o.g, "t.f32", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_bool(o.g, "t.bool", NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_str(o.g, "t.str", NULL, &sl), RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_str(o.g, 999, 0, &s, &sl), RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_str(o.g, 0, 0, &s, &sl), RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_i64(o.g, 0, 0, &i64), RILL_E_INVALID);
  assert_int_equal(rill_gguf_arr_f32(o.g, 0, 0, &f), RILL_E_INVALID);
  assert_int_equal(rill_gguf_kv_at(o.g, 0, NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_get_info(o.g, NULL), RILL_E_INVALID);
  close_mode(&o);
  free(buf);
}

/* Special float values through the F64 -> float narrowing. */
static void test_float_edges(void **state) {
  gw *w = gw_new(3);
  size_t len;
  unsigned char *buf;
  opened o;
  float f;
  double nan_d = nan("");
  double a[] = {INFINITY, nan_d, -1e-300};
  (void)state;
  gw_f64(w, "inf", INFINITY);
  gw_f64(w, "nan", nan_d);
  gw_f64(w, "tiny", 1e-300);
  gw_f64(w, "neg", -1e39);
  gw_arr(w, "arr", RILL_GGUF_F64, a, 3);
  buf = gw_build(w, &len);
  assert_int_equal(open_mode(&o, M_STREAM, buf, len, NULL), RILL_OK);
  assert_int_equal(rill_gguf_get_f32(o.g, "inf", &f), RILL_OK);
  assert_true(isinf(f));
  assert_int_equal(rill_gguf_get_f32(o.g, "nan", &f), RILL_OK);
  assert_true(isnan(f));
  assert_int_equal(rill_gguf_get_f32(o.g, "tiny", &f), RILL_OK);
  assert_true(f == 0.0f);
  assert_int_equal(rill_gguf_get_f32(o.g, "neg", &f), RILL_E_FORMAT);
  assert_int_equal(rill_gguf_arr_f32(o.g, 4, 0, &f), RILL_OK);
  assert_true(isinf(f));
  assert_int_equal(rill_gguf_arr_f32(o.g, 4, 1, &f), RILL_OK);
  assert_true(isnan(f));
  close_mode(&o);
  free(buf);
  gw_free(w);
}

/* ---- tensors ------------------------------------------------------------ */

static uint16_t f32_to_f16(float x) {
  /* Exact for the small integers and halves used here. */
  uint32_t b;
  uint32_t sign, exp, man;
  memcpy(&b, &x, 4);
  sign = (b >> 16) & 0x8000u;
  if ((b & 0x7fffffffu) == 0)
    return (uint16_t)sign;
  exp = ((b >> 23) & 0xff) - 127 + 15;
  man = (b >> 13) & 0x3ff;
  return (uint16_t)(sign | exp << 10 | man);
}

/* F32 [5 x 3], F16 [8 x 2], scalar F32, empty F32 [0 x 4], F32 [4 x 0] */
static gw *tensor_file(uint32_t version, uint32_t align) {
  gw *w = gw_new(version);
  float a[15], s = 42.0f;
  uint16_t h[16];
  uint64_t ne_a[2] = {5, 3}, ne_h[2] = {8, 2}, ne_e[2] = {0, 4},
           ne_z[2] = {4, 0};
  int i;
  for (i = 0; i < 15; i++)
    a[i] = (float)i - 7.0f;
  for (i = 0; i < 16; i++)
    h[i] = f32_to_f16((float)i * 0.5f - 3.0f);
  gw_str(w, "general.architecture", "test");
  if (align)
    gw_u32(w, "general.alignment", align);
  gw_tensor(w, "a.f32", RILL_GGUF_TYPE_F32, 2, ne_a, a);
  gw_tensor(w, "h.f16", RILL_GGUF_TYPE_F16, 2, ne_h, h);
  gw_tensor(w, "scalar", RILL_GGUF_TYPE_F32, 0, NULL, &s);
  gw_tensor(w, "empty", RILL_GGUF_TYPE_F32, 2, ne_e, NULL);
  gw_tensor(w, "empty2", RILL_GGUF_TYPE_F32, 2, ne_z, NULL);
  return w;
}

static int dequant_available(void) {
  float in = 1.0f, out = 0;
  return rill_gguf_dequantize(RILL_GGUF_TYPE_F32, &in, 4, &out, 1) == RILL_OK;
}

static void check_tensors(opened *o, const gw *w, const unsigned char *buf,
                          uint32_t align) {
  rill_gguf *g = o->g;
  rill_gguf_tensor t;
  rill_gguf_info info;
  unsigned char rb[64];
  float out[32];
  const void *data;
  int mapped, i, deq = dequant_available();
  int64_t k;
  assert_int_equal(rill_gguf_get_info(g, &info), RILL_OK);
  mapped = info.mapped;
  assert_int_equal(info.n_tensors, 5);
  assert_int_equal(info.alignment, align ? align : 32);
  assert_int_equal(info.data_offset, gw_data_offset(w));
  assert_int_equal(info.data_offset % info.alignment, 0);
  assert_int_equal(info.data_bytes, gw_data_bytes(w));
  assert_int_equal(info.n_elements, 15 + 16 + 1);

  k = rill_gguf_find_tensor(g, "a.f32");
  assert_int_equal(k, 0);
  assert_int_equal(rill_gguf_find_tensor(g, "h.f16"), 1);
  assert_int_equal(rill_gguf_find_tensor(g, "nope"), -1);
  assert_int_equal(rill_gguf_find_tensor(g, NULL), -1);
  assert_int_equal(rill_gguf_tensor_at(g, 0, &t), RILL_OK);
  assert_string_equal(t.name, "a.f32");
  assert_int_equal(t.name_len, 5);
  assert_int_equal(t.type, RILL_GGUF_TYPE_F32);
  assert_int_equal(t.n_dims, 2);
  assert_int_equal(t.ne[0], 5);
  assert_int_equal(t.ne[1], 3);
  assert_int_equal(t.ne[2], 1);
  assert_int_equal(t.ne[3], 1);
  assert_int_equal(t.n_elements, 15);
  assert_int_equal(t.n_bytes, 60);
  assert_int_equal(t.row_bytes, 20);
  assert_int_equal(t.offset, gw_tensor_offset(w, 0));
  assert_int_equal(rill_gguf_tensor_at(g, 5, &t), RILL_E_INVALID);

  /* tensor_data only when mapped. */
  if (mapped) {
    assert_int_equal(rill_gguf_tensor_data(g, 0, &data), RILL_OK);
    assert_memory_equal(data, buf + info.data_offset, 60);
  } else {
    assert_int_equal(rill_gguf_tensor_data(g, 0, &data), RILL_E_STATE);
  }

  /* Reads (in file order, so that streams allow them). */
  assert_int_equal(rill_gguf_tensor_read(g, 0, 4, rb, 8), RILL_OK);
  assert_memory_equal(rb, buf + info.data_offset + 4, 8);
  assert_int_equal(rill_gguf_tensor_read(g, 0, 56, rb, 8), RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_read(g, 0, 61, rb, 0), RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_read(g, 0, 60, rb, 0), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(g, 0, 0, NULL, 4), RILL_E_INVALID);
  /* Dequantize rows 1..2 of a.f32. */
  assert_int_equal(rill_gguf_tensor_dequantize(g, 0, 1, 2, out, 9),
                   RILL_E_INVALID); /* dst too small */
  assert_int_equal(rill_gguf_tensor_dequantize(g, 0, 2, 2, out, 32),
                   RILL_E_INVALID); /* past the rows */
  assert_int_equal(rill_gguf_tensor_dequantize(g, 0, 1, 0, out, 32), RILL_OK);
  if (deq) {
    assert_int_equal(rill_gguf_tensor_dequantize(g, 0, 1, 2, out, 10), RILL_OK);
    for (i = 0; i < 10; i++)
      assert_true(out[i] == (float)(i + 5) - 7.0f);
    assert_int_equal(rill_gguf_tensor_dequantize(g, 1, 0, 2, out, 16), RILL_OK);
    for (i = 0; i < 16; i++)
      assert_true(out[i] == (float)i * 0.5f - 3.0f);
    assert_int_equal(rill_gguf_tensor_dequantize(g, 2, 0, 1, out, 1), RILL_OK);
    assert_true(out[0] == 42.0f);
  } else {
    print_message("rill_gguf_dequantize not available yet: skipped\n");
  }
  /* The scalar and the empty tensors. */
  assert_int_equal(rill_gguf_tensor_at(g, 2, &t), RILL_OK);
  assert_int_equal(t.n_dims, 0);
  assert_int_equal(t.n_elements, 1);
  assert_int_equal(t.n_bytes, 4);
  assert_int_equal(rill_gguf_tensor_at(g, 3, &t), RILL_OK);
  assert_int_equal(t.n_elements, 0);
  assert_int_equal(t.n_bytes, 0);
  assert_int_equal(t.row_bytes, 0);
  assert_int_equal(rill_gguf_tensor_dequantize(g, 3, 0, 0, out, 0), RILL_OK);
  assert_int_equal(rill_gguf_tensor_dequantize(g, 3, 0, 1, out, 32),
                   RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_at(g, 4, &t), RILL_OK);
  assert_int_equal(t.n_elements, 0);
  assert_int_equal(t.row_bytes, 16);
  assert_int_equal(rill_gguf_tensor_dequantize(g, 4, 0, 0, out, 0), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(g, 4, 0, rb, 0), RILL_OK);
  if (mapped)
    assert_int_equal(rill_gguf_tensor_data(g, 4, &data), RILL_OK);
}

static void test_tensors_all_sources(void **state) {
  static const uint32_t aligns[] = {0, 1, 64, 4096};
  uint32_t v;
  size_t a;
  int m;
  (void)state;
  for (v = 2; v <= 3; v++) {
    for (a = 0; a < 4; a++) {
      gw *w = tensor_file(v, aligns[a]);
      size_t len;
      unsigned char *buf = gw_build(w, &len);
      for (m = 0; m < M_COUNT; m++) {
        opened o;
        print_message("v%u align %u %s\n", v, aligns[a], mode_name[m]);
        assert_int_equal(open_mode(&o, (mode)m, buf, len, NULL), RILL_OK);
        check_tensors(&o, w, buf, aligns[a]);
        close_mode(&o);
      }
      free(buf);
      gw_free(w);
    }
  }
}

/* The legal edge cases: no tensors, no metadata, both. */
static void test_empty_files(void **state) {
  int m, kinds;
  (void)state;
  for (kinds = 0; kinds < 3; kinds++) {
    gw *w = gw_new(3);
    size_t len;
    unsigned char *buf;
    uint64_t ne[1] = {4};
    if (kinds == 1)
      gw_u32(w, "x", 1);
    if (kinds == 2)
      gw_tensor(w, "t", RILL_GGUF_TYPE_F32, 1, ne, NULL);
    buf = gw_build(w, &len);
    for (m = 0; m < M_COUNT; m++) {
      opened o;
      rill_gguf_info info;
      assert_int_equal(open_mode(&o, (mode)m, buf, len, NULL), RILL_OK);
      assert_int_equal(rill_gguf_get_info(o.g, &info), RILL_OK);
      assert_int_equal(info.n_kv, kinds == 1);
      assert_int_equal(info.n_tensors, kinds == 2);
      close_mode(&o);
    }
    /* Without the final padding (no tensor data) it still loads. */
    if (kinds < 2) {
      opened o;
      assert_int_equal(
          open_mode(&o, M_PATH, buf, kinds ? 24 + 8 + 1 + 4 + 4 : 24, NULL),
          RILL_OK);
      close_mode(&o);
    }
    free(buf);
    gw_free(w);
  }
}

/* ---- the stream's forward-only rules ------------------------------------ */

static void test_stream_rules(void **state) {
  gw *w = tensor_file(3, 0);
  size_t len;
  unsigned char *buf = gw_build(w, &len);
  unsigned char rb[64];
  opened o;
  rill_gguf_info info;
  (void)state;
  /* Skipping forward and going back. */
  assert_int_equal(open_mode(&o, M_STREAM_1, buf, len, NULL), RILL_OK);
  assert_int_equal(rill_gguf_get_info(o.g, &info), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(o.g, 1, 0, rb, 4), RILL_OK);
  assert_memory_equal(rb, buf + info.data_offset + gw_tensor_offset(w, 1), 4);
  assert_int_equal(rill_gguf_tensor_read(o.g, 0, 0, rb, 4), RILL_E_STATE);
  assert_int_equal(rill_gguf_tensor_read(o.g, 1, 0, rb, 4), RILL_E_STATE);
  assert_int_equal(rill_gguf_tensor_read(o.g, 1, 4, rb, 4), RILL_OK);
  assert_memory_equal(rb, buf + info.data_offset + gw_tensor_offset(w, 1) + 4,
                      4);
  assert_int_equal(rill_gguf_tensor_read(o.g, 2, 0, rb, 4), RILL_OK);
  close_mode(&o);

  /* A stream that ends inside a tensor: E_FORMAT when read. */
  assert_int_equal(open_mode(&o, M_STREAM, buf, len - 40, NULL), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(o.g, 0, 0, rb, 60), RILL_OK);
  assert_int_equal(rill_gguf_tensor_read(o.g, 1, 0, rb, 32), RILL_E_FORMAT);
  close_mode(&o);

  /* A callback that fails while reading data: E_IO. */
  assert_int_equal(open_mode(&o, M_STREAM_1, buf, len, NULL), RILL_OK);
  assert_true(o.rd.pos < len - 100);
  o.rd.fail_at = o.rd.pos + 1;
  assert_int_equal(rill_gguf_tensor_read(o.g, 2, 0, rb, 4), RILL_E_IO);
  close_mode(&o);

  /* A callback failing during the header: E_IO from the open. */
  memset(&o, 0, sizeof o);
  o.rd.p = buf;
  o.rd.len = len;
  o.rd.fail_at = 30;
  assert_int_equal(rill_gguf_open_stream(&o.g, gw_read, &o.rd, NULL, &o.err),
                   RILL_E_IO);
  assert_null(o.g);
  assert_non_null(strstr(o.err.message, "callback"));

  free(buf);
  gw_free(w);
}

/* A callback that claims more bytes than it had room for. */
static int liar(void *user, void *buf, size_t cap, size_t *got) {
  (void)user;
  (void)buf;
  *got = cap + 1;
  return 0;
}

static void test_open_args(void **state) {
  rill_gguf *g = (rill_gguf *)1;
  rill_gguf_error err;
  char path[256];
  (void)state;
  assert_int_equal(rill_gguf_open(NULL, "x", NULL, &err), RILL_E_INVALID);
  assert_int_equal(rill_gguf_open(&g, NULL, NULL, &err), RILL_E_INVALID);
  assert_null(g);
  assert_int_equal(rill_gguf_open_fd(&g, -1, NULL, NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_open_stream(&g, NULL, NULL, NULL, NULL),
                   RILL_E_INVALID);
  tmp_path(path, sizeof path, "absent.gguf");
  assert_int_equal(rill_gguf_open(&g, path, NULL, &err), RILL_E_IO);
  assert_non_null(strstr(err.message, "cannot open"));
  assert_int_equal(rill_gguf_open(&g, g_dir, NULL, &err), RILL_E_IO);
  assert_non_null(strstr(err.message, "not a regular file"));
  assert_int_equal(rill_gguf_open_fd(&g, 1000, NULL, &err), RILL_E_IO);
  assert_int_equal(rill_gguf_open_stream(&g, liar, NULL, NULL, &err),
                   RILL_E_IO);
  assert_null(g);
  rill_gguf_close(NULL);
  assert_int_equal(rill_gguf_get_info(NULL, NULL), RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_read(NULL, 0, 0, NULL, 0), RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_dequantize(NULL, 0, 0, 0, NULL, 0),
                   RILL_E_INVALID);
  assert_int_equal(rill_gguf_tensor_data(NULL, 0, NULL), RILL_E_INVALID);
}

/* ---- limits ------------------------------------------------------------- */

static void test_limits(void **state) {
  gw *w = tensor_file(3, 0);
  size_t len;
  unsigned char *buf;
  opened o;
  rill_gguf_options opt;
  int m;
  (void)state;
  gw_u32(w, "k2", 2);
  buf = gw_build(w, &len);
  for (m = 0; m < M_COUNT; m++) {
    memset(&opt, 0, sizeof opt);
    opt.max_kv = 1;
    assert_int_equal(open_mode(&o, (mode)m, buf, len, &opt), RILL_E_LIMIT);
    assert_non_null(strstr(o.err.message, "max_kv"));
    opt.max_kv = 2;
    assert_int_equal(open_mode(&o, (mode)m, buf, len, &opt), RILL_OK);
    close_mode(&o);
    memset(&opt, 0, sizeof opt);
    opt.max_tensors = 4;
    assert_int_equal(open_mode(&o, (mode)m, buf, len, &opt), RILL_E_LIMIT);
    assert_non_null(strstr(o.err.message, "max_tensors"));
    opt.max_tensors = 5;
    assert_int_equal(open_mode(&o, (mode)m, buf, len, &opt), RILL_OK);
    close_mode(&o);
    /* max_metadata_bytes: the tensor table must end within it. */
    memset(&opt, 0, sizeof opt);
    opt.max_metadata_bytes = gw_data_offset(w) - 40;
    assert_int_equal(open_mode(&o, (mode)m, buf, len, &opt), RILL_E_LIMIT);
    assert_non_null(strstr(o.err.message, "max_metadata_bytes"));
    close_mode(&o);
  }
  free(buf);
  gw_free(w);
}

/* ---- heap --------------------------------------------------------------- */

static void write_big(const char *path, uint64_t n_floats) {
  gw *w = gw_new(3);
  uint64_t ne[2] = {1024, n_floats / 1024};
  size_t hl;
  unsigned char *head;
  FILE *f;
  uint64_t left;
  static float chunk[16384];
  size_t i;
  for (i = 0; i < 16384; i++)
    chunk[i] = (float)(i % 97);
  if (n_floats < 1024)
    ne[0] = n_floats, ne[1] = 1;
  gw_str(w, "general.architecture", "test");
  gw_tensor(w, "big", RILL_GGUF_TYPE_F32, 2, ne, NULL);
  head = gw_build_head(w, &hl);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(head, 1, hl, f), hl);
  for (left = n_floats; left;) {
    size_t k = left < 16384 ? (size_t)left : 16384;
    assert_int_equal(fwrite(chunk, 4, k, f), k);
    left -= k;
  }
  assert_int_equal(fclose(f), 0);
  free(head);
  gw_free(w);
}

typedef struct heap_figures {
  uint64_t open_heap, info_heap, deq_allocs, deq_peak_growth;
} heap_figures;

static heap_figures measure(const char *path, int no_mmap, float *dst,
                            size_t dst_count) {
  heap_figures h;
  rill_alloc_stats a, b, c;
  rill_gguf_options opt;
  rill_gguf *g;
  rill_gguf_info info;
  rill_gguf_tensor t;
  uint64_t row;
  memset(&opt, 0, sizeof opt);
  opt.no_mmap = no_mmap;
  a = stats();
  assert_int_equal(rill_gguf_open(&g, path, &opt, NULL), RILL_OK);
  b = stats();
  h.open_heap = b.bytes_in_use - a.bytes_in_use;
  assert_int_equal(rill_gguf_get_info(g, &info), RILL_OK);
  h.info_heap = info.heap_bytes;
  assert_int_equal(rill_gguf_tensor_at(g, 0, &t), RILL_OK);
  rill_alloc_reset_peak();
  b = stats();
  h.deq_allocs = 0;
  if (dequant_available()) {
    for (row = 0; row < t.n_elements / t.ne[0];) {
      uint64_t n = dst_count / t.ne[0];
      if (n > t.n_elements / t.ne[0] - row)
        n = t.n_elements / t.ne[0] - row;
      assert_int_equal(
          rill_gguf_tensor_dequantize(g, 0, row, n, dst, dst_count), RILL_OK);
      assert_true(dst[0] == (float)((row * t.ne[0]) % 16384 % 97));
      row += n;
    }
  }
  c = stats();
  h.deq_allocs = c.n_allocs - b.n_allocs;
  h.deq_peak_growth = c.peak_bytes - b.bytes_in_use;
  rill_gguf_close(g);
  assert_int_equal(stats().bytes_in_use, a.bytes_in_use);
  return h;
}

static void test_heap_independent_of_tensor_size(void **state) {
  char small[256], big[256];
  static float dst[65536];
  int no_mmap;
  (void)state;
  tmp_path(small, sizeof small, "small.gguf");
  tmp_path(big, sizeof big, "big.gguf");
  write_big(small, 16);                    /* 64 bytes */
  write_big(big, 64ull * 1024 * 1024 / 4); /* 64 MiB */
  for (no_mmap = 0; no_mmap <= 1; no_mmap++) {
    heap_figures s = measure(small, no_mmap, dst, 65536);
    heap_figures b = measure(big, no_mmap, dst, 65536);
    print_message(
        "%s: open heap %llu (info %llu) vs %llu (info %llu); "
        "dequantize: %llu allocations, peak +%llu\n",
        no_mmap ? "no_mmap" : "mapped", (unsigned long long)s.open_heap,
        (unsigned long long)s.info_heap, (unsigned long long)b.open_heap,
        (unsigned long long)b.info_heap, (unsigned long long)b.deq_allocs,
        (unsigned long long)b.deq_peak_growth);
    assert_int_equal(s.open_heap, b.open_heap);
    assert_int_equal(s.info_heap, b.info_heap);
    assert_true(b.open_heap < 4096);
    assert_int_equal(b.deq_allocs, 0);
    assert_int_equal(b.deq_peak_growth, 0);
    assert_int_equal(s.deq_allocs, 0);
  }
  unlink(small);
  unlink(big);
}

/* ---- allocation failure at every allocation of an open ------------------ */

static void torture(mode m, const unsigned char *buf, size_t len) {
  uint64_t n, k;
  opened o;
  rill_alloc_stats before;
  rill_fail_mode fm;
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  before = stats();
  assert_int_equal(open_mode(&o, m, buf, len, NULL), RILL_OK);
  n = rill_alloc_attempts();
  close_mode(&o);
  assert_int_equal(stats().bytes_in_use, before.bytes_in_use);
  assert_true(n >= 3);
  for (fm = RILL_FAIL_ONCE; fm <= RILL_FAIL_FROM; fm++) {
    for (k = 1; k <= n; k++) {
      int rc;
      memset(&o, 0, sizeof o);
      o.rd.p = buf;
      o.rd.len = len;
      o.rd.chunk = 7;
      if (m == M_STREAM) {
        rill_alloc_fail_at(k, fm);
        rc = rill_gguf_open_stream(&o.g, gw_read, &o.rd, NULL, &o.err);
      } else {
        rill_gguf_options opt;
        memset(&opt, 0, sizeof opt);
        opt.no_mmap = m == M_PATH_NOMMAP;
        tmp_path(o.path, sizeof o.path, "t.gguf");
        assert_int_equal(gw_save(o.path, buf, len), 0);
        rill_alloc_fail_at(k, fm);
        rc = rill_gguf_open(&o.g, o.path, &opt, &o.err);
      }
      rill_alloc_fail_at(0, RILL_FAIL_ONCE);
      if (rc == RILL_OK) {
        check_all_types(o.g);
      } else {
        assert_int_equal(rc, RILL_E_NOMEM);
        assert_null(o.g);
        assert_non_null(strstr(o.err.message, "out of memory"));
      }
      close_mode(&o);
      assert_int_equal(stats().bytes_in_use, before.bytes_in_use);
    }
  }
  print_message("%s: %llu allocations, each failed once and from-on\n",
                mode_name[m], (unsigned long long)n);
}

static void test_alloc_failures(void **state) {
  gw *w = all_types(3);
  size_t len;
  unsigned char *buf;
  uint64_t ne[2] = {8, 2};
  (void)state;
  gw_tensor(w, "t0", RILL_GGUF_TYPE_F32, 2, ne, NULL);
  gw_tensor(w, "t1", RILL_GGUF_TYPE_F16, 2, ne, NULL);
  buf = gw_build(w, &len);
  torture(M_PATH, buf, len);
  torture(M_PATH_NOMMAP, buf, len);
  torture(M_STREAM, buf, len);
  free(buf);
  gw_free(w);
}

/* Many keys and tensors: the hash tables and vectors grow many times. */
static void test_many_entries(void **state) {
  gw *w = gw_new(3);
  size_t len, i;
  unsigned char *buf;
  char name[64];
  opened o;
  uint64_t ne[1] = {1};
  int m;
  (void)state;
  for (i = 0; i < 3000; i++) {
    snprintf(name, sizeof name, "key.%zu", i);
    gw_u32(w, name, (uint32_t)i);
  }
  for (i = 0; i < 2000; i++) {
    snprintf(name, sizeof name, "blk.%zu.weight", i);
    gw_tensor(w, name, RILL_GGUF_TYPE_F32, 1, ne, NULL);
  }
  buf = gw_build(w, &len);
  for (m = 0; m < M_COUNT; m += 3) {
    assert_int_equal(open_mode(&o, (mode)m, buf, len, NULL), RILL_OK);
    for (i = 0; i < 3000; i++) {
      uint32_t v;
      snprintf(name, sizeof name, "key.%zu", i);
      assert_int_equal(rill_gguf_find_key(o.g, name), (int64_t)i);
      assert_int_equal(rill_gguf_get_u32(o.g, name, &v), RILL_OK);
      assert_int_equal(v, i);
    }
    for (i = 0; i < 2000; i++) {
      snprintf(name, sizeof name, "blk.%zu.weight", i);
      assert_int_equal(rill_gguf_find_tensor(o.g, name), (int64_t)i);
    }
    close_mode(&o);
  }
  free(buf);
  gw_free(w);
}

/* A string longer than the parse window, through every source. */
static void test_long_values(void **state) {
  gw *w = gw_new(3);
  size_t len, n = 200000, i;
  char *big = malloc(n + 1);
  const char *arr[3];
  unsigned char *buf;
  int m;
  (void)state;
  for (i = 0; i < n; i++)
    big[i] = (char)('a' + i % 26);
  big[n] = 0;
  memcpy(big + 65535, "\xE2\x9C\x93", 3); /* a character across windows */
  gw_strn(w, "long", big, n);
  arr[0] = "x";
  arr[1] = big + n - 70000;
  arr[2] = "z";
  gw_arr_str(w, "arr", arr, 3);
  buf = gw_build(w, &len);
  for (m = 0; m < M_COUNT; m++) {
    opened o;
    const char *s;
    size_t sl;
    print_message("%s\n", mode_name[m]);
    assert_int_equal(open_mode(&o, (mode)m, buf, len, NULL), RILL_OK);
    assert_int_equal(rill_gguf_get_str(o.g, "long", &s, &sl), RILL_OK);
    assert_int_equal(sl, n);
    assert_memory_equal(s, big, n);
    assert_int_equal(rill_gguf_arr_str(o.g, 1, 1, &s, &sl), RILL_OK);
    assert_int_equal(sl, 70000);
    assert_memory_equal(s, big + n - 70000, sl);
    assert_int_equal(rill_gguf_arr_str(o.g, 1, 2, &s, &sl), RILL_OK);
    assert_int_equal(sl, 1);
    assert_int_equal(s[0], 'z');
    close_mode(&o);
  }
  free(buf);
  free(big);
  gw_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_all_types),
      cmocka_unit_test(test_getter_rules),
      cmocka_unit_test(test_float_edges),
      cmocka_unit_test(test_tensors_all_sources),
      cmocka_unit_test(test_empty_files),
      cmocka_unit_test(test_stream_rules),
      cmocka_unit_test(test_open_args),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_heap_independent_of_tensor_size),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_many_entries),
      cmocka_unit_test(test_long_values),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
