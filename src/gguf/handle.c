/*
 * handle.c — opening and closing a GGUF handle.
 *
 * Job: turn a path, a descriptor or a callback into a source, run the
 * parser, trim the heap to what was parsed, and map the file read-only and
 * shared once every tensor is known to lie inside it.
 *
 * Must not know: the GGUF layout (parse*.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "gguf/gguf_internal.h"
#include "rill/error.h"

static void defaults(rill_gguf_options *o, const rill_gguf_options *in) {
  if (in)
    *o = *in;
  else
    memset(o, 0, sizeof *o);
  if (!o->max_kv)
    o->max_kv = RILL__GGUF_DEF_MAX_KV;
  if (!o->max_tensors)
    o->max_tensors = RILL__GGUF_DEF_MAX_TENSORS;
  if (!o->max_metadata_bytes)
    o->max_metadata_bytes = RILL__GGUF_DEF_MAX_META;
}

static rill_gguf *new_handle(const rill_gguf_options *opt) {
  rill_gguf *g = rill__calloc(1, sizeof *g);
  if (!g)
    return NULL;
  defaults(&g->opt, opt);
  g->src.fd = -1;
  g->alignment = RILL__GGUF_DEF_ALIGN;
  return g;
}

void rill_gguf_close(rill_gguf *g) {
  if (!g)
    return;
  if (g->map)
    munmap((void *)(uintptr_t)g->map, g->map_len);
  rill__gsrc_close(&g->src);
  rill__gvec_free(&g->kv);
  rill__gvec_free(&g->tensor);
  rill__gvec_free(&g->names);
  rill__gvec_free(&g->arena);
  rill__gvec_free(&g->sidx);
  rill__ghash_free(&g->kv_hash);
  rill__ghash_free(&g->tensor_hash);
  rill__free(g);
}

static void trim(rill_gguf *g) {
  rill__gvec_shrink(&g->kv, sizeof(rill__gkv));
  rill__gvec_shrink(&g->tensor, sizeof(rill__gtensor));
  rill__gvec_shrink(&g->names, 1);
  rill__gvec_shrink(&g->arena, 1);
  rill__gvec_shrink(&g->sidx, sizeof(uint32_t));
}

/* The mapping covers the whole file: metadata strings and arrays are read
 * from it too, so they need no heap. */
static int map_file(rill_gguf *g, rill_gguf_error *err) {
  void *m;
  uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
  if (g->file_bytes > SIZE_MAX)
    return rill__gguf_fail(err, RILL_E_LIMIT, 0,
                           "the file (%llu bytes) is too large to map",
                           (unsigned long long)g->file_bytes);
  m = mmap(NULL, (size_t)g->file_bytes, PROT_READ, MAP_SHARED, g->src.fd, 0);
  if (m == MAP_FAILED)
    return rill__gguf_fail(err, RILL_E_IO, 0,
                           "cannot map the file: %s (open it with no_mmap "
                           "to read it instead)",
                           strerror(errno));
  g->map = m;
  g->map_len = (size_t)g->file_bytes;
  g->mapped = 1;
  if (g->opt.prefetch && g->data_bytes && page) {
    uint64_t start = g->data_offset / page * page;
    if (start < g->file_bytes)
      (void)madvise((unsigned char *)m + start, (size_t)(g->file_bytes - start),
                    MADV_WILLNEED);
  }
  /* The mapping outlives the descriptor; keep no descriptor open. */
  close(g->src.fd);
  g->src.fd = -1;
  return RILL_OK;
}

static int run(rill_gguf *g, size_t win, rill_gguf_error *err) {
  int rc;
  g->src.win = rill__malloc(win);
  if (!g->src.win)
    return rill__gguf_fail(err, RILL_E_NOMEM, 0, "out of memory");
  g->src.win_cap = win;
  rc = rill__gguf_parse(g, err);
  if (rc != RILL_OK)
    return rc;
  trim(g);
  if (!g->copy_values)
    rc = map_file(g, err);
  return rc;
}

static int finish(rill_gguf **out, rill_gguf *g, int rc) {
  if (rc != RILL_OK) {
    rill_gguf_close(g);
    g = NULL;
  }
  *out = g;
  return rc;
}

static void clear_err(rill_gguf_error *err) {
  if (err) {
    err->offset = 0;
    err->message[0] = 0;
  }
}

/* Takes ownership of fd. */
static int open_owned_fd(rill_gguf **out, int fd, const rill_gguf_options *opt,
                         rill_gguf_error *err) {
  struct stat st;
  rill_gguf *g = new_handle(opt);
  size_t win;
  if (!g) {
    close(fd);
    *out = NULL;
    return rill__gguf_fail(err, RILL_E_NOMEM, 0, "out of memory");
  }
  g->src.fd = fd;
  if (fstat(fd, &st) != 0)
    return finish(out, g,
                  rill__gguf_fail(err, RILL_E_IO, 0, "cannot stat the file: %s",
                                  strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return finish(out, g,
                  rill__gguf_fail(err, RILL_E_IO, 0,
                                  "not a regular file (use "
                                  "rill_gguf_open_stream for pipes)"));
  g->src.size = g->file_bytes = (uint64_t)st.st_size;
  g->copy_values = g->opt.no_mmap != 0;
  /* A small file needs no more window than itself. */
  win = g->file_bytes < RILL_GGUF_WINDOW ? (size_t)g->file_bytes
                                         : RILL_GGUF_WINDOW;
  return finish(out, g, run(g, win ? win : 1, err));
}

int rill_gguf_open(rill_gguf **out, const char *path,
                   const rill_gguf_options *opt, rill_gguf_error *err) {
  int fd;
  clear_err(err);
  if (out)
    *out = NULL;
  if (!out || !path)
    return rill__gguf_fail(err, RILL_E_INVALID, 0, "out or path is NULL");
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return rill__gguf_fail(err, RILL_E_IO, 0, "cannot open the file: %s",
                           strerror(errno));
  return open_owned_fd(out, fd, opt, err);
}

int rill_gguf_open_fd(rill_gguf **out, int fd, const rill_gguf_options *opt,
                      rill_gguf_error *err) {
  int mine;
  clear_err(err);
  if (out)
    *out = NULL;
  if (!out || fd < 0)
    return rill__gguf_fail(err, RILL_E_INVALID, 0,
                           "out is NULL or fd is negative");
  mine = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (mine < 0)
    return rill__gguf_fail(err, RILL_E_IO, 0, "cannot duplicate fd %d: %s", fd,
                           strerror(errno));
  return open_owned_fd(out, mine, opt, err);
}

int rill_gguf_open_stream(rill_gguf **out, rill_gguf_read_fn read, void *user,
                          const rill_gguf_options *opt, rill_gguf_error *err) {
  rill_gguf *g;
  clear_err(err);
  if (out)
    *out = NULL;
  if (!out || !read)
    return rill__gguf_fail(err, RILL_E_INVALID, 0, "out or read is NULL");
  g = new_handle(opt);
  if (!g)
    return rill__gguf_fail(err, RILL_E_NOMEM, 0, "out of memory");
  g->src.read = read;
  g->src.user = user;
  g->src.size = UINT64_MAX;
  g->copy_values = 1;
  return finish(out, g, run(g, RILL_GGUF_WINDOW, err));
}

int rill_gguf_get_info(const rill_gguf *g, rill_gguf_info *out) {
  uint64_t heap;
  if (!g || !out)
    return RILL_E_INVALID;
  heap = sizeof *g + g->kv.cap * sizeof(rill__gkv) +
         g->tensor.cap * sizeof(rill__gtensor) + g->names.cap + g->arena.cap +
         g->sidx.cap * sizeof(uint32_t) +
         (g->kv_hash.cap + g->tensor_hash.cap) * sizeof(uint32_t) +
         (g->src.pend ? g->src.pend_at + g->src.pend_len : 0) + g->src.win_cap;
  memset(out, 0, sizeof *out);
  out->version = g->version;
  out->alignment = g->alignment;
  out->n_kv = g->kv.len;
  out->n_tensors = g->tensor.len;
  out->data_offset = g->data_offset;
  out->data_bytes = g->data_bytes;
  out->file_bytes = g->src.size == UINT64_MAX ? 0 : g->file_bytes;
  out->n_elements = g->n_elements;
  out->heap_bytes = heap;
  out->mapped = g->mapped;
  return RILL_OK;
}
