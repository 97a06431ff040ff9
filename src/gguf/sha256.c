/*
 * sha256.c — the SHA-256 of a file, and checking a file against a digest.
 *
 * Model blobs run to gigabytes: the file is streamed through one fixed
 * 64 KiB heap buffer, so memory does not depend on its size. It is read
 * with read(), not mapped, so a pipe or a file being truncated fails with
 * RILL_E_IO instead of SIGBUS, and read() rather than pread() so any
 * readable path works (/dev/stdin included).
 *
 * mbedtls does the hashing (already a dependency, for base64). 2.x names
 * its calls *_ret; 3.x dropped the suffix.
 *
 * Must not know: GGUF, Ollama.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "core/alloc.h"
#include "rill/error.h"
#include "gguf/gguf_internal.h"
#include "rill/gguf.h"

#define CHUNK (64 * 1024)

#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define SHA_START(c) mbedtls_sha256_starts((c), 0)
#define SHA_UPDATE(c, p, n) mbedtls_sha256_update((c), (p), (n))
#define SHA_FINISH(c, o) mbedtls_sha256_finish((c), (o))
#else
#define SHA_START(c) mbedtls_sha256_starts_ret((c), 0)
#define SHA_UPDATE(c, p, n) mbedtls_sha256_update_ret((c), (p), (n))
#define SHA_FINISH(c, o) mbedtls_sha256_finish_ret((c), (o))
#endif

/* Hash the file; on RILL_E_IO *sys_err holds errno and *what the step. */
static int hash_file(const char *path, uint8_t out[32], int *sys_err,
                     const char **what) {
  mbedtls_sha256_context ctx;
  unsigned char *buf;
  int fd, rc = RILL_OK;
  if (!path || !out)
    return RILL_E_INVALID;
  buf = rill__malloc(CHUNK);
  if (!buf)
    return RILL_E_NOMEM;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *sys_err = errno;
    *what = "open";
    rill__free(buf);
    return RILL_E_IO;
  }
  mbedtls_sha256_init(&ctx);
  if (SHA_START(&ctx) != 0)
    rc = RILL_E_INTERNAL;
  while (rc == RILL_OK) {
    ssize_t r = read(fd, buf, CHUNK);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      *sys_err = errno;
      *what = "read";
      rc = RILL_E_IO;
    } else if (r == 0) {
      break;
    } else if (SHA_UPDATE(&ctx, buf, (size_t)r) != 0) {
      rc = RILL_E_INTERNAL;
    }
  }
  if (rc == RILL_OK && SHA_FINISH(&ctx, out) != 0)
    rc = RILL_E_INTERNAL;
  mbedtls_sha256_free(&ctx);
  close(fd);
  rill__free(buf);
  return rc;
}

int rill_sha256_file(const char *path, uint8_t out[32]) {
  int sys_err = 0;
  const char *what = "";
  return hash_file(path, out, &sys_err, &what);
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void to_hex(const uint8_t h[32], char out[65]) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < 32; i++) {
    out[2 * i] = digits[h[i] >> 4];
    out[2 * i + 1] = digits[h[i] & 15];
  }
  out[64] = '\0';
}

int rill_sha256_verify_file(const char *path, const char *digest,
                            rill_gguf_error *err) {
  uint8_t want[32], got[32];
  char eb[128], want_hex[65], got_hex[65];
  const char *hex, *what = "";
  int rc, sys_err = 0;
  size_t i;
  if (err) {
    err->offset = 0;
    err->message[0] = '\0';
  }
  if (!path || !digest) {
    rill__gguf_fail(err, 0, 0, "NULL argument");
    return RILL_E_INVALID;
  }
  hex = strncmp(digest, "sha256:", 7) == 0 ? digest + 7 : digest;
  if (strnlen(hex, 65) != 64) {
    rill__gguf_fail(err, 0, 0, "digest is not sha256:<64 hex digits>");
    return RILL_E_INVALID;
  }
  for (i = 0; i < 32; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      rill__gguf_fail(err, 0, 0, "digest is not sha256:<64 hex digits>");
      return RILL_E_INVALID;
    }
    want[i] = (uint8_t)(hi << 4 | lo);
  }
  rc = hash_file(path, got, &sys_err, &what);
  if (rc == RILL_E_IO) {
    rill__gguf_fail(err, 0, 0, "cannot %s %s: %s", what, path,
                    rill__gguf_strerror(sys_err, eb, sizeof eb));
    return rc;
  }
  if (rc != RILL_OK)
    return rc;
  if (memcmp(want, got, sizeof want) != 0) {
    to_hex(want, want_hex);
    to_hex(got, got_hex);
    rill__gguf_fail(err, 0, 0,
                    "SHA-256 mismatch: expected sha256:%s, file has sha256:%s",
                    want_hex, got_hex);
    return RILL_E_FORMAT;
  }
  return RILL_OK;
}
