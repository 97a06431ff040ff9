/*
 * cmd_gguf.c — `rill gguf`: what a GGUF file holds, and whether it is intact.
 *
 *   rill gguf FILE|OLLAMA-NAME [--json] [--verify] [--models-dir DIR]
 *
 * Prints the header (version, alignment, architecture), every metadata key
 * with its type and value, the tensor table and totals; with --json, one
 * JSON object on one line. Arrays of more than 16 elements are summarised
 * by element type, count and their first 8 elements. --verify hashes the
 * file (before parsing it: "the download is corrupt" explains a broken
 * file better than the parser's complaint) and compares the result with
 * the manifest's digest when the model came from Ollama's store, or with
 * the file's own name when it is called sha256-<64 hex> (a blob copied out
 * of a store); otherwise it prints the hash and says there was nothing to
 * compare it with.
 *
 * Numbers never go through the locale: floats are formatted by rill's JSON
 * writer in both modes, so a German locale does not turn 0.5 into "0,5".
 * Strings from the file are printed JSON-escaped in the human mode too: a
 * metadata value must not be able to send escape sequences to a terminal.
 *
 * Exit codes: 0 ok; 1 not found, I/O; 2 usage; 3 a malformed or refused
 * file, a malformed manifest, a digest mismatch. Public headers only.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "rill/rill.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define ARRAY_FULL 16    /* arrays up to this many elements print whole */
#define ARRAY_FIRST 8    /* longer ones: this many, then the count */
#define HUMAN_STR_MAX 72 /* bytes of a string shown in the human mode */

static const char k_usage[] = "usage: rill gguf FILE|OLLAMA-NAME [--json] "
                              "[--verify] [--models-dir DIR]\n";

typedef struct source {
  const char *arg;
  const char *path;             /* the file opened */
  char blob[PATH_MAX];          /* path when resolved from the store */
  char digest[RILL_DIGEST_CAP]; /* expected digest, "" when none */
  const char *against;          /* "manifest", "filename" or NULL */
  int from_store;
} source;

typedef struct report {
  rill_jw *w;   /* the --json document, or NULL */
  rill_jw *tmp; /* scratch: one value at a time */
  int json;
} report;

/* ---- locating and verifying ---------------------------------------------- */

static int is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* The digest a file's name promises ("sha256-<64 hex>", as in a store). */
static void digest_from_name(source *s) {
  const char *base = strrchr(s->path, '/');
  size_t i;
  base = base ? base + 1 : s->path;
  if (strncmp(base, "sha256-", 7) != 0 || strlen(base) != 7 + 64)
    return;
  for (i = 7; i < 7 + 64; i++)
    if (!is_hex(base[i]))
      return;
  snprintf(s->digest, sizeof s->digest, "sha256:%s", base + 7);
  s->against = "filename";
}

static void print_gguf_error(const char *what, int rc, const rill_gguf_error *e,
                             int with_offset) {
  const char *msg = e->message[0] ? e->message : rill_strerror(rc);
  if (with_offset)
    fprintf(stderr, "rill gguf: %s: %s (at byte %" PRIu64 ")\n", what, msg,
            e->offset);
  else
    fprintf(stderr, "rill gguf: %s: %s\n", what, msg);
}

/* Path first, as rill_gguf_open_model decides; then the store. */
static int locate(source *s, const char *models_dir) {
  struct stat st;
  rill_gguf_error e;
  int rc;
  memset(&e, 0, sizeof e);
  if (stat(s->arg, &st) == 0 && !S_ISDIR(st.st_mode)) {
    s->path = s->arg;
    digest_from_name(s);
    return CLI_OK;
  }
  rc = rill_ollama_resolve(s->arg, models_dir, s->blob, sizeof s->blob,
                           s->digest, &e);
  if (rc == RILL_OK) {
    s->path = s->blob;
    s->from_store = 1;
    s->against = "manifest";
    return CLI_OK;
  }
  if (rc == RILL_E_INVALID) {
    fprintf(stderr,
            "rill gguf: %s: no such file, and not an Ollama model name\n",
            s->arg);
    return CLI_RUNTIME;
  }
  print_gguf_error(s->arg, rc, &e, rc == RILL_E_FORMAT);
  return rc == RILL_E_FORMAT ? CLI_MALFORMED : CLI_RUNTIME;
}

static void hex32(const uint8_t h[32], char out[65]) {
  static const char digits[] = "0123456789abcdef";
  int i;
  for (i = 0; i < 32; i++) {
    out[2 * i] = digits[h[i] >> 4];
    out[2 * i + 1] = digits[h[i] & 15];
  }
  out[64] = '\0';
}

static int verify(source *s, char sha[65]) {
  rill_gguf_error e;
  int rc;
  size_t i;
  memset(&e, 0, sizeof e);
  if (s->digest[0]) {
    rc = rill_sha256_verify_file(s->path, s->digest, &e);
    if (rc == RILL_OK) {
      for (i = 0; i < 64; i++) {
        char c = s->digest[7 + i];
        sha[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
      }
      sha[64] = '\0';
      return CLI_OK;
    }
  } else {
    uint8_t h[32];
    rc = rill_sha256_file(s->path, h);
    if (rc == RILL_OK) {
      hex32(h, sha);
      return CLI_OK;
    }
  }
  print_gguf_error(s->path, rc, &e, 0);
  return rc == RILL_E_FORMAT ? CLI_MALFORMED : CLI_RUNTIME;
}

/* ---- values ----------------------------------------------------------------
 */

static const char *vtype_name(rill_gguf_vtype t) {
  static const char *const names[] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                      "i32", "f32", "bool", "string", "array",
                                      "u64", "i64", "f64"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static int is_signed(rill_gguf_vtype t) {
  return t == RILL_GGUF_I8 || t == RILL_GGUF_I16 || t == RILL_GGUF_I32 ||
         t == RILL_GGUF_I64;
}

static int is_unsigned(rill_gguf_vtype t) {
  return t == RILL_GGUF_U8 || t == RILL_GGUF_U16 || t == RILL_GGUF_U32 ||
         t == RILL_GGUF_U64;
}

/* JSON has no NaN or infinity: those are written as strings. */
static int put_nonfinite(rill_jw *w, double d) {
  const char *s = isnan(d) ? "nan" : d > 0 ? "inf" : "-inf";
  return rill_jw_string(w, s, strlen(s));
}

/* The shortest decimal that reads back as the same float, so 1e-12 stored
 * as f32 prints as 1e-12 and not as the double 9.9999999600419720e-13.
 * snprintf and strtod both follow LC_NUMERIC, so the round trip holds in any
 * locale; the text that reaches the output is the JSON writer's. */
static int put_f32(rill_jw *w, float f) {
  char buf[64];
  double d = f;
  int p;
  if (!isfinite(f))
    return put_nonfinite(w, d);
  for (p = 1; p <= 9; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, (double)f);
    d = strtod(buf, NULL);
    if ((float)d == f)
      break;
  }
  return rill_jw_double(w, d);
}

static int put_f64(rill_jw *w, double d) {
  return isfinite(d) ? rill_jw_double(w, d) : put_nonfinite(w, d);
}

/* A string, cut at a character boundary in the human mode. */
static int put_str(rill_jw *w, const char *s, size_t n, int human) {
  if (human && n > HUMAN_STR_MAX) {
    size_t cut = HUMAN_STR_MAX;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
      cut--;
    n = cut;
  }
  return rill_jw_string(w, s, n);
}

static int put_scalar(rill_jw *w, rill_gguf *g, const rill_gguf_kv *kv,
                      int human) {
  const char *s;
  size_t n;
  uint64_t u;
  int64_t i;
  float f;
  double d;
  int b, rc;
  if (is_unsigned(kv->type)) {
    rc = rill_gguf_get_u64(g, kv->key, &u);
    return rc == RILL_OK ? rill_jw_uint(w, u) : rc;
  }
  if (is_signed(kv->type)) {
    rc = rill_gguf_get_i64(g, kv->key, &i);
    return rc == RILL_OK ? rill_jw_int(w, i) : rc;
  }
  switch (kv->type) {
  case RILL_GGUF_F32:
    rc = rill_gguf_get_f32(g, kv->key, &f);
    return rc == RILL_OK ? put_f32(w, f) : rc;
  case RILL_GGUF_F64:
    rc = rill_gguf_get_f64(g, kv->key, &d);
    return rc == RILL_OK ? put_f64(w, d) : rc;
  case RILL_GGUF_BOOL:
    rc = rill_gguf_get_bool(g, kv->key, &b);
    return rc == RILL_OK ? rill_jw_bool(w, b) : rc;
  case RILL_GGUF_STRING:
    rc = rill_gguf_get_str(g, kv->key, &s, &n);
    return rc == RILL_OK ? put_str(w, s, n, human) : rc;
  default:
    return RILL_E_FORMAT;
  }
}

/* One array element. The getters cover strings, integers that fit int64
 * and floats; an element they refuse is written as null rather than
 * failing the whole listing. */
static int put_elem(rill_jw *w, rill_gguf *g, uint64_t kv, rill_gguf_vtype t,
                    uint64_t idx, int human) {
  const char *s;
  size_t n;
  int64_t i;
  float f;
  int rc;
  if (t == RILL_GGUF_STRING) {
    rc = rill_gguf_arr_str(g, kv, idx, &s, &n);
    return rc == RILL_OK ? put_str(w, s, n, human) : rill_jw_null(w);
  }
  if (t == RILL_GGUF_F32 || t == RILL_GGUF_F64) {
    rc = rill_gguf_arr_f32(g, kv, idx, &f);
    return rc == RILL_OK ? put_f32(w, f) : rill_jw_null(w);
  }
  rc = rill_gguf_arr_i64(g, kv, idx, &i);
  if (rc != RILL_OK)
    return rill_jw_null(w);
  return t == RILL_GGUF_BOOL ? rill_jw_bool(w, i != 0) : rill_jw_int(w, i);
}

static int put_elems(rill_jw *w, rill_gguf *g, uint64_t kv,
                     const rill_gguf_kv *v, uint64_t upto, int human) {
  uint64_t k;
  rill_jw_array_begin(w);
  for (k = 0; k < upto; k++)
    put_elem(w, g, kv, v->elem_type, k, human);
  return rill_jw_array_end(w);
}

/* JSON: an array of up to ARRAY_FULL elements as it is; a longer one as
 * {"array":TYPE,"count":N,"first":[...]}. */
static int put_value_json(rill_jw *w, rill_gguf *g, uint64_t kv,
                          const rill_gguf_kv *v) {
  if (v->type != RILL_GGUF_ARRAY)
    return put_scalar(w, g, v, 0);
  if (v->count <= ARRAY_FULL)
    return put_elems(w, g, kv, v, v->count, 0);
  rill_jw_object_begin(w);
  rill_jw_key(w, "array", 5);
  rill_jw_string(w, vtype_name(v->elem_type), strlen(vtype_name(v->elem_type)));
  rill_jw_key(w, "count", 5);
  rill_jw_uint(w, v->count);
  rill_jw_key(w, "first", 5);
  put_elems(w, g, kv, v, ARRAY_FIRST, 0);
  return rill_jw_object_end(w);
}

/* ---- output ----------------------------------------------------------------
 */

static void emit(report *o) {
  size_t len;
  const char *s = rill_jw_data(o->w, &len);
  fwrite(s, 1, len, stdout);
  putchar('\n');
}

static void key_str(rill_jw *w, const char *k, const char *v) {
  rill_jw_key(w, k, strlen(k));
  if (v)
    rill_jw_string(w, v, strlen(v));
  else
    rill_jw_null(w);
}

static void key_uint(rill_jw *w, const char *k, uint64_t v) {
  rill_jw_key(w, k, strlen(k));
  rill_jw_uint(w, v);
}

typedef struct totals {
  uint64_t tensors, params, bytes;
  uint64_t n[RILL_GGUF_GGML_TYPE_END];
  uint64_t b[RILL_GGUF_GGML_TYPE_END];
} totals;

static void add_totals(totals *t, const rill_gguf_tensor *x) {
  t->tensors++;
  t->params += x->n_elements;
  t->bytes += x->n_bytes;
  if ((unsigned)x->type < RILL_GGUF_GGML_TYPE_END) {
    t->n[x->type]++;
    t->b[x->type] += x->n_bytes;
  }
}

static const char *type_name(int t) {
  const char *s = rill_gguf_type_name(t);
  return s ? s : "?";
}

static int json_report(report *o, rill_gguf *g, const source *s,
                       const rill_gguf_info *info, const char *arch,
                       size_t arch_len, const char *sha) {
  rill_jw *w = o->w;
  totals t;
  uint64_t i;
  unsigned k;
  memset(&t, 0, sizeof t);
  rill_jw_object_begin(w);
  key_str(w, "file", s->path);
  if (s->from_store) {
    key_str(w, "model", s->arg);
    key_str(w, "digest", s->digest);
  }
  key_uint(w, "version", info->version);
  key_uint(w, "alignment", info->alignment);
  rill_jw_key(w, "architecture", 12);
  if (arch)
    rill_jw_string(w, arch, arch_len);
  else
    rill_jw_null(w);
  key_uint(w, "file_bytes", info->file_bytes);
  key_uint(w, "data_offset", info->data_offset);
  if (sha) {
    key_str(w, "sha256", sha);
    key_str(w, "verified", s->against);
  }
  rill_jw_key(w, "metadata", 8);
  rill_jw_object_begin(w);
  for (i = 0; i < info->n_kv; i++) {
    rill_gguf_kv kv;
    if (rill_gguf_kv_at(g, i, &kv) != RILL_OK)
      return RILL_E_INTERNAL;
    rill_jw_key(w, kv.key, kv.key_len);
    if (put_value_json(w, g, i, &kv) != RILL_OK && !rill_jw_error(w))
      rill_jw_null(w);
  }
  rill_jw_object_end(w);
  rill_jw_key(w, "tensors", 7);
  rill_jw_array_begin(w);
  for (i = 0; i < info->n_tensors; i++) {
    rill_gguf_tensor x;
    uint32_t d;
    if (rill_gguf_tensor_at(g, i, &x) != RILL_OK)
      return RILL_E_INTERNAL;
    add_totals(&t, &x);
    rill_jw_object_begin(w);
    rill_jw_key(w, "name", 4);
    rill_jw_string(w, x.name, x.name_len);
    key_str(w, "type", type_name(x.type));
    rill_jw_key(w, "ne", 2);
    rill_jw_array_begin(w);
    for (d = 0; d < x.n_dims; d++)
      rill_jw_uint(w, x.ne[d]);
    rill_jw_array_end(w);
    key_uint(w, "bytes", x.n_bytes);
    key_uint(w, "offset", x.offset);
    rill_jw_object_end(w);
  }
  rill_jw_array_end(w);
  rill_jw_key(w, "totals", 6);
  rill_jw_object_begin(w);
  key_uint(w, "tensors", t.tensors);
  key_uint(w, "parameters", t.params);
  key_uint(w, "bytes", t.bytes);
  rill_jw_key(w, "by_type", 7);
  rill_jw_object_begin(w);
  for (k = 0; k < RILL_GGUF_GGML_TYPE_END; k++) {
    if (!t.n[k])
      continue;
    rill_jw_key(w, type_name((int)k), strlen(type_name((int)k)));
    rill_jw_object_begin(w);
    key_uint(w, "tensors", t.n[k]);
    key_uint(w, "bytes", t.b[k]);
    rill_jw_object_end(w);
  }
  rill_jw_object_end(w);
  rill_jw_object_end(w);
  rill_jw_object_end(w);
  if (rill_jw_error(w) != RILL_OK)
    return rill_jw_error(w);
  emit(o);
  return RILL_OK;
}

/* The human form of a value: JSON text, long strings cut, long arrays as
 * their first elements and a count. */
static const char *human_value(report *o, rill_gguf *g, uint64_t i,
                               const rill_gguf_kv *kv, int *cut) {
  rill_jw *w = o->tmp;
  *cut = 0;
  rill_jw_reset(w);
  if (kv->type != RILL_GGUF_ARRAY) {
    if (put_scalar(w, g, kv, 1) != RILL_OK && !rill_jw_error(w))
      rill_jw_null(w);
    if (kv->type == RILL_GGUF_STRING) {
      const char *s;
      size_t n;
      if (rill_gguf_get_str(g, kv->key, &s, &n) == RILL_OK && n > HUMAN_STR_MAX)
        *cut = 1;
    }
  } else {
    put_elems(w, g, i, kv, kv->count <= ARRAY_FULL ? kv->count : ARRAY_FIRST,
              1);
    *cut = kv->count > ARRAY_FULL;
  }
  return rill_jw_error(w) == RILL_OK ? rill_jw_data(w, NULL) : "?";
}

static void dims_text(const rill_gguf_tensor *x, char *buf, size_t cap) {
  size_t used = 0;
  uint32_t d;
  buf[0] = '\0';
  for (d = 0; d < x->n_dims && used < cap; d++) {
    int n = snprintf(buf + used, cap - used, "%s%" PRIu64, d ? " x " : "",
                     x->ne[d]);
    if (n < 0)
      break;
    used += (size_t)n;
  }
}

static void human_header(report *o, const source *s,
                         const rill_gguf_info *info, const char *arch,
                         size_t arch_len, const char *sha) {
  printf("file          %s\n", s->path);
  if (s->from_store)
    printf("model         %s (%s)\n", s->arg, s->digest);
  if (arch) {
    size_t n;
    const char *q;
    rill_jw_reset(o->tmp);
    put_str(o->tmp, arch, arch_len, 1);
    q = rill_jw_data(o->tmp, &n);
    printf("architecture  %.*s\n", (int)(n - 2), q + 1);
  } else {
    printf("architecture  (none)\n");
  }
  printf("version       %" PRIu32 "\n", info->version);
  printf("alignment     %" PRIu32 "\n", info->alignment);
  printf("file size     %" PRIu64 " bytes\n", info->file_bytes);
  printf("data offset   %" PRIu64 "\n", info->data_offset);
  if (sha) {
    printf("sha256        %s\n", sha);
    if (s->against)
      printf("verified      matches the %s\n",
             strcmp(s->against, "manifest") == 0 ? "manifest's digest"
                                                 : "file name");
    else
      printf("verified      no: nothing to compare it with\n");
  }
}

static int human_metadata(report *o, rill_gguf *g,
                          const rill_gguf_info *info) {
  uint64_t i;
  size_t kw = 3;
  for (i = 0; i < info->n_kv; i++) {
    rill_gguf_kv kv;
    if (rill_gguf_kv_at(g, i, &kv) == RILL_OK && kv.key_len > kw)
      kw = kv.key_len;
  }
  if (kw > 48)
    kw = 48;
  printf("\nmetadata: %" PRIu64 " keys\n", info->n_kv);
  for (i = 0; i < info->n_kv; i++) {
    rill_gguf_kv kv;
    char type[48];
    const char *v;
    int cut;
    if (rill_gguf_kv_at(g, i, &kv) != RILL_OK)
      return RILL_E_INTERNAL;
    if (kv.type == RILL_GGUF_ARRAY)
      snprintf(type, sizeof type, "%s[%" PRIu64 "]", vtype_name(kv.elem_type),
               kv.count);
    else
      snprintf(type, sizeof type, "%s", vtype_name(kv.type));
    v = human_value(o, g, i, &kv, &cut);
    /* Keys are UTF-8 checked by the parser but may hold control bytes. */
    rill_jw_reset(o->w);
    rill_jw_string(o->w, kv.key, kv.key_len);
    {
      size_t n;
      const char *q = rill_jw_data(o->w, &n);
      /* Without the quotes JSON puts around it. */
      printf("  %-*.*s  %-14s %s%s\n", (int)kw, (int)(n - 2), q + 1, type, v,
             cut ? " ..." : "");
    }
  }
  return RILL_OK;
}

static int human_tensors(report *o, rill_gguf *g, const rill_gguf_info *info,
                         totals *t) {
  uint64_t i;
  size_t nw = 4;
  for (i = 0; i < info->n_tensors; i++) {
    rill_gguf_tensor x;
    if (rill_gguf_tensor_at(g, i, &x) == RILL_OK && x.name_len > nw)
      nw = x.name_len;
  }
  printf("\ntensors: %" PRIu64 "\n", info->n_tensors);
  if (info->n_tensors)
    printf("  %-*s  %-5s %-22s %14s %14s\n", (int)nw, "name", "type", "dims",
           "bytes", "offset");
  for (i = 0; i < info->n_tensors; i++) {
    rill_gguf_tensor x;
    char dims[96];
    size_t n;
    const char *q;
    if (rill_gguf_tensor_at(g, i, &x) != RILL_OK)
      return RILL_E_INTERNAL;
    add_totals(t, &x);
    dims_text(&x, dims, sizeof dims);
    rill_jw_reset(o->w);
    rill_jw_string(o->w, x.name, x.name_len);
    q = rill_jw_data(o->w, &n);
    printf("  %-*.*s  %-5s %-22s %14" PRIu64 " %14" PRIu64 "\n", (int)nw,
           (int)(n - 2), q + 1, type_name(x.type), dims, x.n_bytes, x.offset);
  }
  return RILL_OK;
}

static int human_report(report *o, rill_gguf *g, const source *s,
                        const rill_gguf_info *info, const char *arch,
                        size_t arch_len, const char *sha) {
  totals t;
  unsigned k;
  int rc;
  memset(&t, 0, sizeof t);
  human_header(o, s, info, arch, arch_len, sha);
  if ((rc = human_metadata(o, g, info)) != RILL_OK ||
      (rc = human_tensors(o, g, info, &t)) != RILL_OK)
    return rc;
  printf("\ntotals\n");
  printf("  tensors     %" PRIu64 "\n", t.tensors);
  printf("  parameters  %" PRIu64 "\n", t.params);
  printf("  bytes       %" PRIu64 "\n", t.bytes);
  for (k = 0; k < RILL_GGUF_GGML_TYPE_END; k++)
    if (t.n[k])
      printf("  %-10s  %6" PRIu64 " tensors %14" PRIu64 " bytes\n",
             type_name((int)k), t.n[k], t.b[k]);
  return RILL_OK;
}

/* ---- the command ------------------------------------------------------------
 */

static int open_error_exit(int rc) {
  return rc == RILL_E_FORMAT || rc == RILL_E_UNSUPPORTED || rc == RILL_E_LIMIT
             ? CLI_MALFORMED
             : CLI_RUNTIME;
}

/* The command line into s, o, models_dir and do_verify: -1 to go on, or
 * the exit code (help, usage error). */
static int gguf_args(int argc, char **argv, source *s, report *o,
                     const char **models_dir, int *do_verify) {
  int i, opts_done = 0;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!opts_done && strcmp(a, "--") == 0) {
      opts_done = 1;
    } else if (!opts_done && strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (!opts_done && strcmp(a, "--verify") == 0) {
      *do_verify = 1;
    } else if (!opts_done && strcmp(a, "--models-dir") == 0 && i + 1 < argc) {
      *models_dir = argv[++i];
    } else if (!opts_done &&
               (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
      fputs(k_usage, stdout);
      return CLI_OK;
    } else if ((opts_done || a[0] != '-') && !s->arg && a[0]) {
      s->arg = a;
    } else {
      fputs(k_usage, stderr);
      return CLI_USAGE;
    }
  }
  if (!s->arg) {
    fputs(k_usage, stderr);
    return CLI_USAGE;
  }
  return -1;
}

int cmd_gguf(int argc, char **argv) {
  source s;
  report o;
  rill_gguf *g = NULL;
  rill_gguf_error e;
  rill_gguf_info info;
  const char *models_dir = NULL, *arch = NULL;
  char sha[65];
  size_t arch_len = 0;
  int do_verify = 0, rc, code;
  memset(&s, 0, sizeof s);
  memset(&o, 0, sizeof o);
  memset(&e, 0, sizeof e);
  code = gguf_args(argc, argv, &s, &o, &models_dir, &do_verify);
  if (code >= 0)
    return code;

  code = locate(&s, models_dir);
  if (code != CLI_OK)
    return code;
  if (do_verify && (code = verify(&s, sha)) != CLI_OK)
    return code;
  rc = rill_gguf_open(&g, s.path, NULL, &e);
  if (rc != RILL_OK) {
    print_gguf_error(s.path, rc, &e, rc == RILL_E_FORMAT);
    return open_error_exit(rc);
  }
  rill_gguf_get_info(g, &info);
  if (rill_gguf_get_str(g, "general.architecture", &arch, &arch_len) != RILL_OK)
    arch = NULL;
  /* The JSON line may be large (every tensor); cap it far above any real
   * model's, below anything that would exhaust memory. */
  if (rill_jw_new(&o.w, (size_t)1 << 30) != RILL_OK ||
      rill_jw_new(&o.tmp, (size_t)1 << 20) != RILL_OK) {
    fputs("rill gguf: out of memory\n", stderr);
    code = CLI_RUNTIME;
    goto done;
  }
  rc = o.json ? json_report(&o, g, &s, &info, arch, arch_len,
                            do_verify ? sha : NULL)
              : human_report(&o, g, &s, &info, arch, arch_len,
                             do_verify ? sha : NULL);
  if (rc != RILL_OK) {
    fprintf(stderr, "rill gguf: %s: cannot list the file: %s\n", s.path,
            rill_strerror(rc));
    code = CLI_RUNTIME;
  }
  if (fflush(stdout) != 0 && code == CLI_OK) {
    fputs("rill gguf: cannot write the output\n", stderr);
    code = CLI_RUNTIME;
  }
done:
  rill_jw_free(o.w);
  rill_jw_free(o.tmp);
  rill_gguf_close(g);
  return code;
}
