/*
 * ollama_store.c — find a model's GGUF blob in Ollama's local store, with
 * Ollama not running.
 *
 * The store (Ollama's own layout, an OCI registry on disk):
 *   STORE/manifests/HOST/NAMESPACE/MODEL/TAG   JSON manifest
 *   STORE/blobs/sha256-<64 hex>                content, named by its hash
 * The manifest's layer of media type application/vnd.ollama.image.model is
 * the GGUF file.
 *
 * Names come from users and from configuration files, and they become path
 * components: the parts are checked against Ollama's own grammar (every
 * part starts with a letter or digit; then letters, digits, '-', '_', and
 * '.' except in the namespace, and ':' in the host only; host 1..350 bytes,
 * namespace and model 2..80, tag 1..80). A part can therefore never be "",
 * "." or "..", nor hold a '/', and the composed path never leaves STORE.
 *
 * The store: models_dir, else $OLLAMA_MODELS (empty counts as unset, as in
 * Ollama), else $HOME/.ollama/models. Only in that last, default case, and
 * only when the manifest is not there, /usr/share/ollama/.ollama/models is
 * tried too: Linux installs run Ollama as a service whose home is there, so
 * a user's `ollama pull` lands in that store and not in their own.
 *
 * Ollama compares names without regard to case but some of its versions
 * wrote manifest paths lowercased: a name with capitals that is not found
 * as written is tried once in lowercase.
 *
 * Must not know: GGUF, hashing (the digest is only checked for its form).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "json/json.h"
#include "rill/error.h"
#include "gguf/gguf_internal.h"
#include "rill/gguf.h"

/* Real manifests are well under 2 KiB; the cap bounds the heap a hostile
 * or corrupt store can make us take. */
#define MANIFEST_MAX (1024 * 1024)
/* Ollama's part limits, with the three separators. */
#define NAME_MAX_LEN (350 + 80 + 80 + 80 + 3)
#define MODEL_MEDIA "application/vnd.ollama.image.model"
#define SERVICE_STORE "/usr/share/ollama/.ollama/models"
#define DIGEST_LEN 71 /* "sha256:" + 64 */

enum part_kind { PART_HOST, PART_NS, PART_MODEL, PART_TAG };

typedef struct part {
  const char *p;
  size_t n;
} part;

typedef struct model_name {
  part host, ns, model, tag;
} model_name;

static int is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static int part_ok(enum part_kind kind, part s) {
  size_t i, lo = (kind == PART_NS || kind == PART_MODEL) ? 2 : 1;
  size_t hi = kind == PART_HOST ? 350 : 80;
  if (s.n < lo || s.n > hi || !is_alnum(s.p[0]))
    return 0;
  for (i = 1; i < s.n; i++) {
    char c = s.p[i];
    if (is_alnum(c) || c == '-' || c == '_')
      continue;
    if (c == '.' && kind != PART_NS)
      continue;
    if (c == ':' && kind == PART_HOST)
      continue;
    return 0;
  }
  return 1;
}

/* "model", "model:tag", "ns/model[:tag]", "host/ns/model[:tag]". The tag is
 * what follows the last ':' after the last '/', so a host with a port
 * ("localhost:5000/ns/m") still parses. */
static int parse_name(const char *name, model_name *out) {
  static const char def_host[] = "registry.ollama.ai";
  static const char def_ns[] = "library";
  static const char def_tag[] = "latest";
  size_t len = strnlen(name, NAME_MAX_LEN + 1), end, i, n_parts = 0;
  const char *slash = NULL, *colon = NULL;
  part parts[3];
  if (len == 0 || len > NAME_MAX_LEN)
    return 0;
  for (i = 0; i < len; i++) {
    if (name[i] == '/')
      slash = name + i;
    else if (name[i] == ':')
      colon = name + i;
  }
  out->tag.p = def_tag;
  out->tag.n = sizeof def_tag - 1;
  end = len;
  if (colon && (!slash || colon > slash)) {
    out->tag.p = colon + 1;
    out->tag.n = len - (size_t)(colon + 1 - name);
    end = (size_t)(colon - name);
  }
  /* Split name[0..end) at '/' into at most three parts. */
  {
    size_t start = 0;
    for (i = 0; i <= end; i++) {
      if (i < end && name[i] != '/')
        continue;
      if (n_parts == 3)
        return 0;
      parts[n_parts].p = name + start;
      parts[n_parts].n = i - start;
      n_parts++;
      start = i + 1;
    }
  }
  out->host.p = def_host;
  out->host.n = sizeof def_host - 1;
  out->ns.p = def_ns;
  out->ns.n = sizeof def_ns - 1;
  out->model = parts[n_parts - 1];
  if (n_parts >= 2)
    out->ns = parts[n_parts - 2];
  if (n_parts == 3)
    out->host = parts[0];
  return part_ok(PART_HOST, out->host) && part_ok(PART_NS, out->ns) &&
         part_ok(PART_MODEL, out->model) && part_ok(PART_TAG, out->tag);
}

static char *manifest_path(const char *store, const model_name *m, int lower) {
  size_t n = strlen(store) + sizeof "/manifests////" + m->host.n + m->ns.n +
             m->model.n + m->tag.n;
  char *p = rill__malloc(n), *q;
  if (!p)
    return NULL;
  snprintf(p, n, "%s/manifests/%.*s/%.*s/%.*s/%.*s", store, (int)m->host.n,
           m->host.p, (int)m->ns.n, m->ns.p, (int)m->model.n, m->model.p,
           (int)m->tag.n, m->tag.p);
  if (lower)
    for (q = p + strlen(store); *q; q++)
      if (*q >= 'A' && *q <= 'Z')
        *q = (char)(*q - 'A' + 'a');
  return p;
}

static int has_upper(const model_name *m) {
  const part *ps[4];
  size_t i, k;
  ps[0] = &m->host, ps[1] = &m->ns, ps[2] = &m->model, ps[3] = &m->tag;
  for (k = 0; k < 4; k++)
    for (i = 0; i < ps[k]->n; i++)
      if (ps[k]->p[i] >= 'A' && ps[k]->p[i] <= 'Z')
        return 1;
  return 0;
}

/* Read the whole manifest (at most MANIFEST_MAX bytes) into *out. A FIFO
 * planted in the store must not hang us: open without blocking, then insist
 * on a regular file. */
static int read_manifest(const char *path, char **out, size_t *out_len,
                         rill_gguf_error *err) {
  char eb[128];
  struct stat st;
  char *buf;
  size_t got = 0, size;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    /* ENAMETOOLONG: a 350-byte host is a valid name but no file system
     * holds such a component, so no manifest can be there. */
    if (e == ENOENT || e == ENOTDIR || e == ENAMETOOLONG) {
      rill__gguf_fail(err, 0, 0, "no manifest at %s", path);
      return RILL_E_NOT_FOUND;
    }
    rill__gguf_fail(err, 0, 0, "cannot open %s: %s", path,
                    rill__gguf_strerror(e, eb, sizeof eb));
    return RILL_E_IO;
  }
  if (fstat(fd, &st) != 0) {
    rill__gguf_fail(err, 0, 0, "cannot stat %s: %s", path,
                    rill__gguf_strerror(errno, eb, sizeof eb));
    close(fd);
    return RILL_E_IO;
  }
  if (!S_ISREG(st.st_mode)) {
    rill__gguf_fail(err, 0, 0, "manifest %s is not a regular file", path);
    close(fd);
    return RILL_E_FORMAT;
  }
  if (st.st_size > MANIFEST_MAX) {
    rill__gguf_fail(err, 0, 0, "manifest %s is larger than 1 MiB", path);
    close(fd);
    return RILL_E_FORMAT;
  }
  size = (size_t)st.st_size;
  buf = rill__malloc(size ? size : 1);
  if (!buf) {
    close(fd);
    return RILL_E_NOMEM;
  }
  /* The file may shrink under us: stop at EOF; it cannot make us read past
   * size even if it grows. */
  while (got < size) {
    ssize_t r = read(fd, buf + got, size - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      rill__gguf_fail(err, 0, got, "cannot read %s: %s", path,
                      rill__gguf_strerror(errno, eb, sizeof eb));
      rill__free(buf);
      close(fd);
      return RILL_E_IO;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  *out = buf;
  *out_len = got;
  return RILL_OK;
}

static int is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int digest_ok(const char *s, size_t n) {
  size_t i;
  if (n != DIGEST_LEN || memcmp(s, "sha256:", 7) != 0)
    return 0;
  for (i = 7; i < n; i++)
    if (!is_lower_hex(s[i]))
      return 0;
  return 1;
}

/* The layer of type MODEL_MEDIA in the array token layers: its token, -1
 * when there is none, -2 (err filled in) when a layer is malformed. */
static int find_model_layer(const rill__json *d, int layers, const char *path,
                            rill_gguf_error *err) {
  size_t i;
  for (i = 0;; i++) {
    int layer = rill__json_at(d, layers, i), media;
    if (layer < 0)
      return -1;
    media = rill__json_getz(d, layer, "mediaType");
    if (!rill__json_is_object(d, layer) || !rill__json_is_string(d, media)) {
      rill__gguf_fail(
          err, 0, (uint64_t)rill__json_tok(d, layer)->start,
          "manifest %s: layer %zu is not an object with a mediaType", path, i);
      return -2;
    }
    if (rill__json_str_eq(d, media, MODEL_MEDIA, sizeof MODEL_MEDIA - 1))
      return layer;
  }
}

/* Find the model layer's digest in the manifest text; on success
 * digest_out holds DIGEST_LEN bytes plus a NUL. */
static int model_digest(const char *path, const char *text, size_t len,
                        char *digest_out, rill_gguf_error *err) {
  rill__json d;
  rill_json_error je = {0, NULL};
  int64_t version;
  int rc, layers, found = -1;
  rill__json_init(&d, NULL, 0);
  rc = rill__json_parse(&d, text, len, &je);
  if (rc == RILL_E_NOMEM)
    goto out;
  if (rc != RILL_OK) {
    rill__gguf_fail(err, 0, je.offset, "manifest %s is not valid JSON: %s",
                    path, je.reason ? je.reason : rill_strerror(rc));
    rc = RILL_E_FORMAT;
    goto out;
  }
  rc = RILL_E_FORMAT;
  if (!rill__json_is_object(&d, 0) ||
      rill__json_int64(&d, rill__json_getz(&d, 0, "schemaVersion"), &version) !=
          RILL_OK ||
      version != 2) {
    rill__gguf_fail(err, 0, 0,
                    "manifest %s: not an Ollama manifest (schemaVersion 2)",
                    path);
    goto out;
  }
  layers = rill__json_getz(&d, 0, "layers");
  if (!rill__json_is_array(&d, layers)) {
    rill__gguf_fail(err, 0, 0, "manifest %s: no \"layers\" array", path);
    goto out;
  }
  found = find_model_layer(&d, layers, path, err);
  if (found == -2)
    goto out;
  if (found < 0) {
    rill__gguf_fail(err, 0, 0, "manifest %s has no layer of type " MODEL_MEDIA,
                    path);
    rc = RILL_E_NOT_FOUND;
    goto out;
  }
  {
    int dt = rill__json_getz(&d, found, "digest");
    size_t dn = 0;
    /* Raw bytes, not unescaped: Ollama writes the digest plainly, and an
     * escaped spelling is not "the JSON Ollama writes". */
    const char *raw =
        rill__json_is_string(&d, dt) ? rill__json_raw(&d, dt, &dn) : NULL;
    if (!raw || !digest_ok(raw, dn)) {
      rill__gguf_fail(
          err, 0, dt >= 0 ? (uint64_t)rill__json_tok(&d, dt)->start : 0,
          "manifest %s: model layer digest is not sha256:<64 lowercase "
          "hex>",
          path);
      goto out;
    }
    memcpy(digest_out, raw, DIGEST_LEN);
    digest_out[DIGEST_LEN] = '\0';
  }
  rc = RILL_OK;
out:
  rill__json_release(&d);
  return rc;
}

/* Resolve in one store. */
static int resolve_in(const char *store, const model_name *m, char *path,
                      size_t path_cap, char *digest, rill_gguf_error *err) {
  char got[DIGEST_LEN + 1];
  char *mpath, *text = NULL;
  size_t len = 0, need;
  int rc, lower;
  for (lower = 0; lower < 2; lower++) {
    mpath = manifest_path(store, m, lower);
    if (!mpath)
      return RILL_E_NOMEM;
    rc = read_manifest(mpath, &text, &len, err);
    if (rc == RILL_OK)
      rc = model_digest(mpath, text, len, got, err);
    rill__free(text);
    text = NULL;
    rill__free(mpath);
    if (rc != RILL_E_NOT_FOUND || lower || !has_upper(m))
      break;
  }
  if (rc != RILL_OK)
    return rc;
  need = strlen(store) + sizeof "/blobs/sha256-" - 1 + 64 + 1;
  if (need > path_cap) {
    rill__gguf_fail(err, 0, 0,
                    "blob path needs %zu bytes, the buffer holds %zu", need,
                    path_cap);
    return RILL_E_LIMIT;
  }
  snprintf(path, path_cap, "%s/blobs/sha256-%s", store, got + 7);
  if (digest)
    memcpy(digest, got, DIGEST_LEN + 1);
  return RILL_OK;
}

int rill_ollama_resolve(const char *name, const char *models_dir, char *path,
                        size_t path_cap, char *digest, rill_gguf_error *err) {
  model_name m;
  const char *env, *home;
  char *store;
  size_t n;
  int rc;
  if (err) {
    err->offset = 0;
    err->message[0] = '\0';
  }
  if (!name || !path || path_cap == 0) {
    rill__gguf_fail(err, 0, 0, "NULL argument");
    return RILL_E_INVALID;
  }
  if (!parse_name(name, &m)) {
    rill__gguf_fail(err, 0, 0, "'%.120s' is not a valid Ollama model name",
                    name);
    return RILL_E_INVALID;
  }
  if (models_dir && *models_dir)
    return resolve_in(models_dir, &m, path, path_cap, digest, err);
  env = getenv("OLLAMA_MODELS");
  if (env && *env)
    return resolve_in(env, &m, path, path_cap, digest, err);
  home = getenv("HOME");
  if (!home || !*home)
    return resolve_in(SERVICE_STORE, &m, path, path_cap, digest, err);
  n = strlen(home) + sizeof "/.ollama/models";
  store = rill__malloc(n);
  if (!store)
    return RILL_E_NOMEM;
  snprintf(store, n, "%s/.ollama/models", home);
  rc = resolve_in(store, &m, path, path_cap, digest, err);
  rill__free(store);
  if (rc == RILL_E_NOT_FOUND) {
    rill_gguf_error first = {0, ""};
    if (err)
      first = *err;
    rc = resolve_in(SERVICE_STORE, &m, path, path_cap, digest, err);
    /* The user's own store is where they will look: report that one. */
    if (rc == RILL_E_NOT_FOUND && err)
      *err = first;
  }
  return rc;
}
