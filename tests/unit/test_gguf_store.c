/*
 * test_gguf_store.c — Ollama's model store (rill_ollama_resolve), SHA-256
 * of files (rill_sha256_file, rill_sha256_verify_file) and opening a model
 * by path or name (rill_gguf_open_model).
 *
 * Every test works in a fake store made under a mkdtemp directory, with
 * manifests written here: the layout is Ollama's, the contents are ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "rill/rill.h"

#include "gguf_writer.h"

#define HEX_A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX_B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char g_root[256]; /* mkdtemp directory */
static char g_store[300];

/* ---- helpers ---------------------------------------------------------------
 */

static void mkdirs(const char *path) {
  char tmp[1024];
  size_t i, n = strlen(path);
  assert_true(n < sizeof tmp);
  memcpy(tmp, path, n + 1);
  for (i = 1; i < n; i++) {
    if (tmp[i] != '/')
      continue;
    tmp[i] = '\0';
    mkdir(tmp, 0755);
    tmp[i] = '/';
  }
  mkdir(tmp, 0755);
}

static void write_file(const char *path, const void *data, size_t n) {
  char dir[1024];
  const char *slash = strrchr(path, '/');
  FILE *f;
  assert_non_null(slash);
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  mkdirs(dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static void manifest_at(const char *store, const char *rel, const char *json) {
  char path[1024];
  snprintf(path, sizeof path, "%s/manifests/%s", store, rel);
  write_file(path, json, strlen(json));
}

/* A manifest as Ollama writes it, with the model layer's digest. */
static void good_manifest(const char *store, const char *rel,
                          const char *digest) {
  char json[1024];
  snprintf(json, sizeof json,
           "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker."
           "distribution.manifest.v2+json\",\"config\":{\"mediaType\":"
           "\"application/vnd.docker.container.image.v1+json\",\"digest\":"
           "\"sha256:" HEX_B "\",\"size\":485},\"layers\":[{\"mediaType\":"
           "\"application/vnd.ollama.image.license\",\"digest\":\"sha256:" HEX_B
           "\",\"size\":11357},{\"mediaType\":\"application/vnd.ollama.image."
           "model\",\"digest\":\"%s\",\"size\":274290656},{\"mediaType\":"
           "\"application/vnd.ollama.image.params\",\"digest\":\"sha256:" HEX_B
           "\",\"size\":17}]}",
           digest);
  manifest_at(store, rel, json);
}

static void rm_rf(const char *path) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
  assert_int_equal(system(cmd), 0);
}

static uint64_t heap_in_use(void) {
  rill_alloc_stats s = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&s);
  return s.bytes_in_use;
}

static void sha256_mem(const void *p, size_t n, uint8_t out[32]) {
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
  assert_int_equal(mbedtls_sha256(p, n, out, 0), 0);
#else
  assert_int_equal(mbedtls_sha256_ret(p, n, out, 0), 0);
#endif
}

static void hex(const uint8_t h[32], char out[65]) {
  int i;
  for (i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int setup(void **state) {
  (void)state;
  snprintf(g_root, sizeof g_root, "/tmp/rill-store-XXXXXX");
  if (!mkdtemp(g_root))
    return -1;
  snprintf(g_store, sizeof g_store, "%s/models", g_root);
  unsetenv("OLLAMA_MODELS");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  rm_rf(g_root);
  unsetenv("OLLAMA_MODELS");
  return 0;
}

static void expect_blob(const char *store, const char *name,
                        const char *hexdigest) {
  char path[1024], want[1024], digest[RILL_DIGEST_CAP];
  rill_gguf_error e;
  int rc = rill_ollama_resolve(name, store, path, sizeof path, digest, &e);
  if (rc != RILL_OK)
    print_error("resolve '%s': %s: %s\n", name, rill_error_name(rc), e.message);
  assert_int_equal(rc, RILL_OK);
  snprintf(want, sizeof want, "%s/blobs/sha256-%s", store, hexdigest);
  assert_string_equal(path, want);
  snprintf(want, sizeof want, "sha256:%s", hexdigest);
  assert_string_equal(digest, want);
}

static int resolve_rc(const char *store, const char *name, rill_gguf_error *e) {
  char path[1024];
  memset(e, 0, sizeof *e);
  return rill_ollama_resolve(name, store, path, sizeof path, NULL, e);
}

/* ---- names -----------------------------------------------------------------
 */

static void test_name_forms(void **state) {
  (void)state;
  good_manifest(g_store, "registry.ollama.ai/library/nomic-embed-text/latest",
                "sha256:" HEX_A);
  good_manifest(g_store, "registry.ollama.ai/library/nomic-embed-text/v1.5",
                "sha256:" HEX_B);
  good_manifest(g_store, "registry.ollama.ai/jmorgan/my_model/q4_K_M",
                "sha256:" HEX_A);
  good_manifest(g_store, "example.com:5000/team-2/model.x/tag_1.0",
                "sha256:" HEX_B);
  good_manifest(g_store, "example.com:5000/team-2/model.x/latest",
                "sha256:" HEX_A);
  expect_blob(g_store, "nomic-embed-text", HEX_A);
  expect_blob(g_store, "nomic-embed-text:latest", HEX_A);
  expect_blob(g_store, "nomic-embed-text:v1.5", HEX_B);
  expect_blob(g_store, "library/nomic-embed-text:v1.5", HEX_B);
  expect_blob(g_store, "library/nomic-embed-text", HEX_A);
  expect_blob(g_store, "registry.ollama.ai/library/nomic-embed-text", HEX_A);
  expect_blob(g_store, "registry.ollama.ai/library/nomic-embed-text:v1.5",
              HEX_B);
  expect_blob(g_store, "jmorgan/my_model:q4_K_M", HEX_A);
  /* A host with a port: the tag is the last ':' after the last '/'. */
  expect_blob(g_store, "example.com:5000/team-2/model.x:tag_1.0", HEX_B);
  expect_blob(g_store, "example.com:5000/team-2/model.x", HEX_A);
}

static void test_digest_optional_and_lowercase_fallback(void **state) {
  char path[1024];
  rill_gguf_error e;
  (void)state;
  good_manifest(g_store, "registry.ollama.ai/library/mymodel/latest",
                "sha256:" HEX_A);
  /* digest NULL is allowed; err NULL too. */
  assert_int_equal(
      rill_ollama_resolve("mymodel", g_store, path, sizeof path, NULL, NULL),
      RILL_OK);
  /* Ollama compares names without case; some versions stored them
   * lowercased. */
  expect_blob(g_store, "MyModel", HEX_A);
  expect_blob(g_store, "library/MYMODEL:LATEST", HEX_A);
  assert_int_equal(resolve_rc(g_store, "MyOther", &e), RILL_E_NOT_FOUND);
}

static void test_store_selection(void **state) {
  char home[600], home_store[700], path[1024], want[1024];
  rill_gguf_error e;
  const char *old_home = getenv("HOME");
  char saved_home[600] = "";
  (void)state;
  if (old_home)
    snprintf(saved_home, sizeof saved_home, "%s", old_home);
  good_manifest(g_store, "registry.ollama.ai/library/envmodel/latest",
                "sha256:" HEX_A);
  /* $OLLAMA_MODELS when models_dir is NULL (or empty). */
  setenv("OLLAMA_MODELS", g_store, 1);
  assert_int_equal(
      rill_ollama_resolve("envmodel", NULL, path, sizeof path, NULL, &e),
      RILL_OK);
  snprintf(want, sizeof want, "%s/blobs/sha256-" HEX_A, g_store);
  assert_string_equal(path, want);
  assert_int_equal(
      rill_ollama_resolve("envmodel", "", path, sizeof path, NULL, &e),
      RILL_OK);
  /* models_dir wins over the environment. */
  snprintf(home, sizeof home, "%s/other", g_root);
  mkdirs(home);
  assert_int_equal(
      rill_ollama_resolve("envmodel", home, path, sizeof path, NULL, &e),
      RILL_E_NOT_FOUND);
  assert_non_null(strstr(e.message, home));
  /* Empty OLLAMA_MODELS counts as unset: $HOME/.ollama/models. */
  snprintf(home, sizeof home, "%s/home", g_root);
  snprintf(home_store, sizeof home_store, "%s/.ollama/models", home);
  good_manifest(home_store, "registry.ollama.ai/library/homemodel/latest",
                "sha256:" HEX_B);
  setenv("OLLAMA_MODELS", "", 1);
  setenv("HOME", home, 1);
  assert_int_equal(
      rill_ollama_resolve("homemodel", NULL, path, sizeof path, NULL, &e),
      RILL_OK);
  snprintf(want, sizeof want, "%s/blobs/sha256-" HEX_B, home_store);
  assert_string_equal(path, want);
  /* Not found anywhere: the message names the user's store, not the
   * service store tried after it. */
  assert_int_equal(
      rill_ollama_resolve("nowhere", NULL, path, sizeof path, NULL, &e),
      RILL_E_NOT_FOUND);
  assert_non_null(strstr(e.message, home_store));
  if (saved_home[0])
    setenv("HOME", saved_home, 1);
  else
    unsetenv("HOME");
  unsetenv("OLLAMA_MODELS");
}

static void test_traversal_and_bad_names(void **state) {
  static const char *const bad[] = {"",
                                    "../x",
                                    "a/../../b",
                                    "..",
                                    ".",
                                    "/etc/passwd",
                                    "/abs/model:tag",
                                    "a//bb",
                                    "library/",
                                    "/model",
                                    ":tag",
                                    "model:",
                                    "model::tag",
                                    "ns/model/",
                                    "h/ns/model/extra",
                                    "a/b/c/d",
                                    "x:../y",
                                    "ns/../model",
                                    "model/..",
                                    "mo del",
                                    "mo\ndel",
                                    "model\\..",
                                    "../../../../etc/passwd",
                                    "model:../../x",
                                    "model:a/b",
                                    "-model",
                                    ".model",
                                    "_model",
                                    "m",
                                    "ns.dot/model",
                                    ("model@sha256:" HEX_A),
                                    "mod\x01el",
                                    "mod\xc3\xa9l",
                                    "registry.ollama.ai/library/..",
                                    "host/../model"};
  char big[1200];
  rill_gguf_error e;
  size_t i;
  (void)state;
  good_manifest(g_store, "registry.ollama.ai/library/real/latest",
                "sha256:" HEX_A);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = resolve_rc(g_store, bad[i], &e);
    if (rc != RILL_E_INVALID)
      print_error("name '%s' gave %s\n", bad[i], rill_error_name(rc));
    assert_int_equal(rc, RILL_E_INVALID);
    assert_non_null(strstr(e.message, "not a valid Ollama model name"));
  }
  /* Part lengths: model and tag at most 80, host 350, namespace 80. */
  memset(big, 'a', sizeof big);
  big[80] = '\0';
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_NOT_FOUND);
  big[80] = 'a', big[81] = '\0';
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_INVALID);
  snprintf(big, sizeof big, "model:%0*d", 81, 0);
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_INVALID);
  memset(big, 'h', 351);
  snprintf(big + 351, sizeof big - 351, "/ns/model");
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_INVALID);
  memset(big, 'h', 350);
  snprintf(big + 350, sizeof big - 350, "/ns/model");
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_NOT_FOUND);
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(resolve_rc(g_store, big, &e), RILL_E_INVALID);
  /* NULL arguments. */
  {
    char path[64];
    assert_int_equal(
        rill_ollama_resolve(NULL, g_store, path, sizeof path, NULL, NULL),
        RILL_E_INVALID);
    assert_int_equal(rill_ollama_resolve("real", g_store, NULL, 64, NULL, NULL),
                     RILL_E_INVALID);
    assert_int_equal(rill_ollama_resolve("real", g_store, path, 0, NULL, NULL),
                     RILL_E_INVALID);
  }
}

/* ---- manifests -------------------------------------------------------------
 */

static void test_not_found(void **state) {
  rill_gguf_error e;
  (void)state;
  assert_int_equal(resolve_rc(g_store, "absent", &e), RILL_E_NOT_FOUND);
  assert_non_null(strstr(e.message, "no manifest"));
  assert_non_null(
      strstr(e.message, "manifests/registry.ollama.ai/library/absent/latest"));
  manifest_at(
      g_store, "registry.ollama.ai/library/nolayer/latest",
      "{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
      "\"application/vnd.ollama.image.license\",\"digest\":\"sha256:" HEX_A
      "\"}]}");
  assert_int_equal(resolve_rc(g_store, "nolayer", &e), RILL_E_NOT_FOUND);
  assert_non_null(strstr(e.message, "no layer of type"));
  manifest_at(g_store, "registry.ollama.ai/library/nolayers/latest",
              "{\"schemaVersion\":2,\"layers\":[]}");
  assert_int_equal(resolve_rc(g_store, "nolayers", &e), RILL_E_NOT_FOUND);
}

static void test_malformed_manifests(void **state) {
  static const struct {
    const char *json;
    const char *msg;
  } cases[] = {
      {"", "not valid JSON"},
      {"not json", "not valid JSON"},
      {"{\"schemaVersion\":2,\"layers\":[}", "not valid JSON"},
      {"[]", "schemaVersion"},
      {"{}", "schemaVersion"},
      {"{\"schemaVersion\":1,\"layers\":[]}", "schemaVersion"},
      {"{\"schemaVersion\":\"2\",\"layers\":[]}", "schemaVersion"},
      {"{\"schemaVersion\":2}", "layers"},
      {"{\"schemaVersion\":2,\"layers\":{}}", "layers"},
      {"{\"schemaVersion\":2,\"layers\":[1]}", "layer 0"},
      {"{\"schemaVersion\":2,\"layers\":[{\"digest\":\"x\"}]}", "layer 0"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\"}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":42}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha256:abc\"}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha256:"
       "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}"
       "]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha512:" HEX_A
       "\"}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha256:" HEX_A
       "0\"}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha256:../../"
       "etc/passwd0123456789abcdef0123456789abcdef0123456789abcdef0\"}]}",
       "digest"},
      {"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"
       "\"application/vnd.ollama.image.model\",\"digest\":\"sha256\\u003a" HEX_A
       "\"}]}",
       "digest"},
  };
  char name[64], rel[128];
  rill_gguf_error e;
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc;
    snprintf(name, sizeof name, "bad%zu", i);
    snprintf(rel, sizeof rel, "registry.ollama.ai/library/%s/latest", name);
    manifest_at(g_store, rel, cases[i].json);
    rc = resolve_rc(g_store, name, &e);
    if (rc != RILL_E_FORMAT || !strstr(e.message, cases[i].msg))
      print_error("case %zu: %s '%s'\n", i, rill_error_name(rc), e.message);
    assert_int_equal(rc, RILL_E_FORMAT);
    assert_non_null(strstr(e.message, cases[i].msg));
  }
}

static void test_manifest_size_and_kind(void **state) {
  char path[1024], dir[1024];
  rill_gguf_error e;
  char *big;
  size_t n = 1024 * 1024 + 1;
  (void)state;
  /* Just over 1 MiB: refused before it is read. */
  big = malloc(n);
  assert_non_null(big);
  memset(big, ' ', n);
  memcpy(big, "{\"schemaVersion\":2,\"layers\":[]}", 31);
  snprintf(path, sizeof path,
           "%s/manifests/registry.ollama.ai/library/huge/latest", g_store);
  write_file(path, big, n);
  free(big);
  assert_int_equal(resolve_rc(g_store, "huge", &e), RILL_E_FORMAT);
  assert_non_null(strstr(e.message, "1 MiB"));
  /* A directory where the manifest should be. */
  snprintf(dir, sizeof dir,
           "%s/manifests/registry.ollama.ai/library/dir/latest", g_store);
  mkdirs(dir);
  assert_int_equal(resolve_rc(g_store, "dir", &e), RILL_E_FORMAT);
  /* A FIFO must not hang the resolver. */
  snprintf(dir, sizeof dir,
           "%s/manifests/registry.ollama.ai/library/fifo/latest", g_store);
  mkdirs(dir);
  rmdir(dir);
  assert_int_equal(mkfifo(dir, 0600), 0);
  assert_int_equal(resolve_rc(g_store, "fifo", &e), RILL_E_FORMAT);
  /* Unreadable: RILL_E_IO (skipped as root, who reads anything). */
  if (geteuid() != 0) {
    good_manifest(g_store, "registry.ollama.ai/library/locked/latest",
                  "sha256:" HEX_A);
    snprintf(path, sizeof path,
             "%s/manifests/registry.ollama.ai/library/locked/latest", g_store);
    chmod(path, 0);
    assert_int_equal(resolve_rc(g_store, "locked", &e), RILL_E_IO);
  }
}

static void test_path_cap(void **state) {
  char path[1024], digest[RILL_DIGEST_CAP];
  rill_gguf_error e;
  size_t need;
  (void)state;
  good_manifest(g_store, "registry.ollama.ai/library/capmodel/latest",
                "sha256:" HEX_A);
  need = strlen(g_store) + strlen("/blobs/sha256-") + 64 + 1;
  assert_int_equal(
      rill_ollama_resolve("capmodel", g_store, path, need - 1, digest, &e),
      RILL_E_LIMIT);
  assert_non_null(strstr(e.message, "bytes"));
  assert_int_equal(
      rill_ollama_resolve("capmodel", g_store, path, need, digest, &e),
      RILL_OK);
  assert_int_equal(strlen(path), need - 1);
  assert_int_equal(strlen(digest), RILL_DIGEST_CAP - 1);
}

static void test_resolve_alloc_failures(void **state) {
  char path[1024];
  rill_gguf_error e;
  uint64_t n, k, before;
  (void)state;
  good_manifest(g_store, "registry.ollama.ai/library/oom/latest",
                "sha256:" HEX_A);
  setenv("OLLAMA_MODELS", g_store, 1);
  before = heap_in_use();
  rill_alloc_fail_at(1000000, RILL_FAIL_ONCE);
  assert_int_equal(
      rill_ollama_resolve("oom", NULL, path, sizeof path, NULL, &e), RILL_OK);
  n = rill_alloc_attempts();
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_true(n >= 2);
  for (k = 1; k <= n; k++) {
    int rc;
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill_ollama_resolve("oom", NULL, path, sizeof path, NULL, &e);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    assert_int_equal(rc, RILL_E_NOMEM);
    assert_int_equal(heap_in_use(), before);
  }
  unsetenv("OLLAMA_MODELS");
}

/* ---- SHA-256 ---------------------------------------------------------------
 */

static void test_sha256_vectors(void **state) {
  static const struct {
    const char *data;
    const char *hex;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc",
       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  char path[600], got[65], digest[80];
  uint8_t h[32];
  rill_gguf_error e;
  size_t i;
  (void)state;
  snprintf(path, sizeof path, "%s/vec", g_root);
  for (i = 0; i < sizeof v / sizeof v[0]; i++) {
    write_file(path, v[i].data, strlen(v[i].data));
    assert_int_equal(rill_sha256_file(path, h), RILL_OK);
    hex(h, got);
    assert_string_equal(got, v[i].hex);
    /* Both spellings, either case. */
    snprintf(digest, sizeof digest, "sha256:%s", v[i].hex);
    assert_int_equal(rill_sha256_verify_file(path, digest, &e), RILL_OK);
    assert_int_equal(rill_sha256_verify_file(path, v[i].hex, NULL), RILL_OK);
    {
      size_t k;
      for (k = 7; digest[k]; k++)
        if (digest[k] >= 'a' && digest[k] <= 'f')
          digest[k] = (char)(digest[k] - 'a' + 'A');
    }
    assert_int_equal(rill_sha256_verify_file(path, digest, &e), RILL_OK);
  }
}

static void test_sha256_errors(void **state) {
  char path[600], missing[600];
  uint8_t h[32];
  rill_gguf_error e;
  (void)state;
  snprintf(path, sizeof path, "%s/abc", g_root);
  snprintf(missing, sizeof missing, "%s/missing", g_root);
  write_file(path, "abc", 3);
  assert_int_equal(rill_sha256_file(NULL, h), RILL_E_INVALID);
  assert_int_equal(rill_sha256_file(path, NULL), RILL_E_INVALID);
  assert_int_equal(rill_sha256_file(missing, h), RILL_E_IO);
  assert_int_equal(rill_sha256_file(g_root, h), RILL_E_IO); /* a directory */
  assert_int_equal(rill_sha256_verify_file(missing, "sha256:" HEX_A, &e),
                   RILL_E_IO);
  assert_non_null(strstr(e.message, missing));
  /* Malformed digests. */
  assert_int_equal(rill_sha256_verify_file(path, NULL, &e), RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(NULL, HEX_A, &e), RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(path, "", &e), RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(path, "sha256:", &e),
                   RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(path, "sha256:" HEX_A "0", &e),
                   RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(path, "sha512:" HEX_A, &e),
                   RILL_E_INVALID);
  assert_int_equal(
      rill_sha256_verify_file(
          path,
          "sha256:"
          "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          &e),
      RILL_E_INVALID);
  assert_int_equal(rill_sha256_verify_file(path, "sha256-" HEX_A, &e),
                   RILL_E_INVALID);
}

static void test_sha256_mismatch(void **state) {
  char path[600];
  rill_gguf_error e;
  (void)state;
  snprintf(path, sizeof path, "%s/abc", g_root);
  write_file(path, "abc", 3);
  assert_int_equal(rill_sha256_verify_file(path, "sha256:" HEX_A, &e),
                   RILL_E_FORMAT);
  assert_non_null(strstr(e.message, "sha256:" HEX_A));
  assert_non_null(strstr(
      e.message,
      "sha256:"
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  /* Uppercase expected digest: reported in lowercase. */
  assert_int_equal(
      rill_sha256_verify_file(
          path,
          "FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210",
          &e),
      RILL_E_FORMAT);
  assert_non_null(strstr(e.message, "sha256:" HEX_B));
}

/* 24 MiB (not a multiple of the 64 KiB buffer) hashed with one 64 KiB
 * block of heap: peak heap does not depend on the file's size. */
static void test_sha256_constant_heap(void **state) {
  const size_t n = 24 * 1024 * 1024 + 12345;
  char path[600], want[65], got[65];
  uint8_t h[32];
  unsigned char *data = malloc(n);
  rill_alloc_stats s0 = RILL_ALLOC_STATS_INIT, s1 = RILL_ALLOC_STATS_INIT;
  size_t i;
  uint32_t x = 12345;
  (void)state;
  assert_non_null(data);
  for (i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    data[i] = (unsigned char)(x >> 24);
  }
  snprintf(path, sizeof path, "%s/big", g_root);
  write_file(path, data, n);
  sha256_mem(data, n, h);
  hex(h, want);
  free(data);

  rill_alloc_reset_peak();
  rill_alloc_get_stats(&s0);
  assert_int_equal(rill_sha256_file(path, h), RILL_OK);
  rill_alloc_get_stats(&s1);
  hex(h, got);
  assert_string_equal(got, want);
  assert_int_equal(s1.bytes_in_use, s0.bytes_in_use);
  assert_true(s1.peak_bytes - s0.bytes_in_use <= 64 * 1024);
  assert_int_equal(s1.n_allocs - s0.n_allocs, 1);

  rill_alloc_reset_peak();
  rill_alloc_get_stats(&s0);
  {
    char digest[80];
    snprintf(digest, sizeof digest, "sha256:%s", want);
    assert_int_equal(rill_sha256_verify_file(path, digest, NULL), RILL_OK);
  }
  rill_alloc_get_stats(&s1);
  assert_true(s1.peak_bytes - s0.bytes_in_use <= 64 * 1024);
  assert_int_equal(s1.bytes_in_use, s0.bytes_in_use);
}

static void test_sha256_alloc_failure(void **state) {
  char path[600];
  uint8_t h[32];
  rill_gguf_error e;
  uint64_t before;
  (void)state;
  snprintf(path, sizeof path, "%s/abc", g_root);
  write_file(path, "abc", 3);
  before = heap_in_use();
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  assert_int_equal(rill_sha256_file(path, h), RILL_E_NOMEM);
  rill_alloc_fail_at(1, RILL_FAIL_ONCE);
  assert_int_equal(rill_sha256_verify_file(
                       path,
                       "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9"
                       "cb410ff61f20015ad",
                       &e),
                   RILL_E_NOMEM);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  assert_int_equal(heap_in_use(), before);
}

/* ---- open_model ------------------------------------------------------------
 */

static void write_small_gguf(const char *path) {
  gw *w = gw_new(3);
  static const float data[4] = {1, 2, 3, 4};
  const uint64_t ne[2] = {4, 1};
  gw_str(w, "general.architecture", "test");
  gw_tensor(w, "t", RILL_GGUF_TYPE_F32, 2, ne, data);
  assert_int_equal(gw_write_file(w, path), 0);
  gw_free(w);
}

static void test_open_model(void **state) {
  char file[600], blob[700], cwd_name[64];
  uint8_t h[32];
  char hexd[65], digest[80];
  rill_gguf *g = NULL;
  rill_gguf_error e;
  rill_gguf_info info;
  (void)state;
  snprintf(file, sizeof file, "%s/model.gguf", g_root);
  write_small_gguf(file);
  /* By path. */
  assert_int_equal(rill_gguf_open_model(&g, file, NULL, NULL, &e), RILL_OK);
  assert_int_equal(rill_gguf_get_info(g, &info), RILL_OK);
  assert_int_equal(info.n_tensors, 1);
  rill_gguf_close(g);
  /* By name, through the store. */
  assert_int_equal(rill_sha256_file(file, h), RILL_OK);
  hex(h, hexd);
  snprintf(blob, sizeof blob, "%s/blobs/sha256-%s", g_store, hexd);
  {
    FILE *f = fopen(file, "rb");
    static unsigned char buf[1 << 16];
    size_t n;
    assert_non_null(f);
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_file(blob, buf, n);
  }
  snprintf(digest, sizeof digest, "sha256:%s", hexd);
  good_manifest(g_store, "registry.ollama.ai/library/small/latest", digest);
  g = NULL;
  assert_int_equal(rill_gguf_open_model(&g, "small", g_store, NULL, &e),
                   RILL_OK);
  assert_non_null(g);
  rill_gguf_close(g);
  assert_int_equal(rill_sha256_verify_file(blob, digest, &e), RILL_OK);
  /* Neither: not found, with a message that names both readings. */
  g = (rill_gguf *)1;
  assert_int_equal(
      rill_gguf_open_model(&g, "/no/such/file.gguf", g_store, NULL, &e),
      RILL_E_NOT_FOUND);
  assert_null(g);
  assert_non_null(strstr(e.message, "no such file"));
  assert_int_equal(rill_gguf_open_model(&g, "absent", g_store, NULL, &e),
                   RILL_E_NOT_FOUND);
  assert_non_null(strstr(e.message, "no manifest"));
  /* A manifest whose blob is missing: the open's I/O error. */
  good_manifest(g_store, "registry.ollama.ai/library/noblob/latest",
                "sha256:" HEX_A);
  assert_int_equal(rill_gguf_open_model(&g, "noblob", g_store, NULL, &e),
                   RILL_E_IO);
  /* A malformed manifest. */
  manifest_at(g_store, "registry.ollama.ai/library/badjson/latest", "{");
  assert_int_equal(rill_gguf_open_model(&g, "badjson", g_store, NULL, &e),
                   RILL_E_FORMAT);
  /* A path wins over a name: a file in the working directory called like
   * a model. */
  {
    char old[1024];
    assert_non_null(getcwd(old, sizeof old));
    assert_int_equal(chdir(g_root), 0);
    snprintf(cwd_name, sizeof cwd_name, "small");
    write_small_gguf(cwd_name);
    assert_int_equal(
        rill_gguf_open_model(&g, cwd_name, "/nonexistent-store", NULL, &e),
        RILL_OK);
    rill_gguf_close(g);
    assert_int_equal(chdir(old), 0);
  }
  assert_int_equal(rill_gguf_open_model(NULL, "small", g_store, NULL, &e),
                   RILL_E_INVALID);
  g = NULL;
  assert_int_equal(rill_gguf_open_model(&g, NULL, g_store, NULL, &e),
                   RILL_E_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_name_forms, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_digest_optional_and_lowercase_fallback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_selection, setup, teardown),
      cmocka_unit_test_setup_teardown(test_traversal_and_bad_names, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_manifests, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_manifest_size_and_kind, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_path_cap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_resolve_alloc_failures, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sha256_vectors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sha256_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sha256_mismatch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sha256_constant_heap, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sha256_alloc_failure, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_open_model, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
