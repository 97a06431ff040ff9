/*
 * rill/gguf.h — read, validate, map and dequantize GGUF model files.
 *
 * GGUF versions 2 and 3, little-endian. One parser serves three sources: a
 * path, a file descriptor, and a forward-only read callback (a download, a
 * pipe). It reads the header, the metadata and the tensor table through a
 * fixed window (RILL_GGUF_WINDOW bytes) and checks every count, length,
 * dimension and offset before using it; a malformed file fails with
 * RILL_E_FORMAT and a message naming the field and its byte offset.
 *
 * What a handle holds on the heap: one index entry per metadata key and per
 * tensor, a NUL-terminated copy of each key and tensor name, and an offset
 * index for each string array (4 bytes per string, so that element i is
 * found at once). Metadata values (strings, arrays) are not copied when the
 * file is mapped: they are read from the mapping. Otherwise they are copied
 * into one arena as the parser meets them, never more than the file holds
 * and never more than max_metadata_bytes. Tensor data is never copied onto
 * the heap: it is mapped read-only and shared (MAP_SHARED, PROT_READ), so
 * processes that open the same model share one copy in the page cache, or
 * read in chunks into a buffer the caller owns.
 *
 * Mapping and truncation: a file that another process truncates while it is
 * mapped makes the kernel raise SIGBUS on the next access to the lost pages.
 * No user-space reader can prevent that; rill checks the file's size at
 * open, and a caller that cannot trust the file to stay put should open
 * with no_mmap (reads then fail with RILL_E_IO instead).
 *
 * Threads: after open returns, a handle is read-only. Every getter and
 * every tensor read or dequantization may be called from any number of
 * threads at once, except on a handle opened from a read callback, whose
 * tensor reads move one shared position forward and must be serialised by
 * the caller. rill_gguf_close must not race with any other call.
 */
#ifndef RILL_GGUF_H
#define RILL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The parser's read window, in bytes. */
#define RILL_GGUF_WINDOW (64 * 1024)
/* Longest tensor name, in bytes, without the terminator (ggml's limit). */
#define RILL_GGUF_MAX_NAME 63
/* Longest metadata key, in bytes. */
#define RILL_GGUF_MAX_KEY 65535
/* Most dimensions a tensor may have. */
#define RILL_GGUF_MAX_DIMS 4

/* Metadata value types, as numbered in the file. */
typedef enum rill_gguf_vtype {
  RILL_GGUF_U8 = 0,
  RILL_GGUF_I8 = 1,
  RILL_GGUF_U16 = 2,
  RILL_GGUF_I16 = 3,
  RILL_GGUF_U32 = 4,
  RILL_GGUF_I32 = 5,
  RILL_GGUF_F32 = 6,
  RILL_GGUF_BOOL = 7,
  RILL_GGUF_STRING = 8,
  RILL_GGUF_ARRAY = 9,
  RILL_GGUF_U64 = 10,
  RILL_GGUF_I64 = 11,
  RILL_GGUF_F64 = 12
} rill_gguf_vtype;

/* Tensor element types: the ggml type ids rill reads. A tensor of a type
 * ggml defines but rill does not read (IQ*, TQ*, MXFP4: ids below
 * RILL_GGUF_GGML_TYPE_END) fails the open with RILL_E_UNSUPPORTED; an id
 * ggml never defined is RILL_E_FORMAT. Both name the tensor and the id. */
#define RILL_GGUF_GGML_TYPE_END 40
typedef enum rill_gguf_type {
  RILL_GGUF_TYPE_F32 = 0,
  RILL_GGUF_TYPE_F16 = 1,
  RILL_GGUF_TYPE_Q4_0 = 2,
  RILL_GGUF_TYPE_Q4_1 = 3,
  RILL_GGUF_TYPE_Q5_0 = 6,
  RILL_GGUF_TYPE_Q5_1 = 7,
  RILL_GGUF_TYPE_Q8_0 = 8,
  RILL_GGUF_TYPE_Q8_1 = 9,
  RILL_GGUF_TYPE_Q2_K = 10,
  RILL_GGUF_TYPE_Q3_K = 11,
  RILL_GGUF_TYPE_Q4_K = 12,
  RILL_GGUF_TYPE_Q5_K = 13,
  RILL_GGUF_TYPE_Q6_K = 14,
  RILL_GGUF_TYPE_Q8_K = 15,
  RILL_GGUF_TYPE_BF16 = 30
} rill_gguf_type;

/* Why a file was refused. message is NUL-terminated English that names the
 * field and what was wrong with it, e.g. "tensor 'blk.0.ffn_up.weight':
 * offset 4096 is not a multiple of the alignment 32". offset is the byte
 * offset in the file of the field at fault. */
typedef struct rill_gguf_error {
  uint64_t offset;
  char message[200];
} rill_gguf_error;

/* Options. All zero is the default. */
typedef struct rill_gguf_options {
  /* 1: never map the file; tensor data is read with pread (or from the
   * callback) into caller buffers, and metadata values go to the arena. */
  int no_mmap;
  /* 1: ask the kernel to read the mapped tensor data ahead now
   * (MADV_WILLNEED), so the first use does not wait on the disk. */
  int prefetch;
  uint64_t max_kv;             /* metadata keys; 0: 65,536 */
  uint64_t max_tensors;        /* tensors; 0: 65,536 */
  uint64_t max_metadata_bytes; /* bytes from the header to the end of the
                                  tensor table; 0: 256 MiB */
} rill_gguf_options;

typedef struct rill_gguf rill_gguf;

/*
 * Forward-only source: copy up to cap bytes into buf and set *got to how
 * many were copied; *got = 0 means end of input. Return 0, or non-zero for
 * a read error (the open or read then fails with RILL_E_IO). Called on the
 * thread that calls rill_gguf_open_stream or rill_gguf_tensor_read.
 */
typedef int (*rill_gguf_read_fn)(void *user, void *buf, size_t cap,
                                 size_t *got);

/*
 * Open a GGUF file, parse and validate its header, metadata and tensor
 * table, and map its data section (unless opt->no_mmap).
 * opt and err may be NULL. On failure *out is NULL and err, if given,
 * holds the reason. Ownership: *out belongs to the caller until
 * rill_gguf_close.
 * Returns: RILL_OK; RILL_E_INVALID (out or path NULL); RILL_E_IO (cannot
 * open, read or map); RILL_E_FORMAT (malformed file); RILL_E_UNSUPPORTED
 * (an unknown tensor type, a big-endian file); RILL_E_LIMIT (past one of
 * the limits in opt); RILL_E_NOMEM. Thread: any.
 */
RILL_API int rill_gguf_open(rill_gguf **out, const char *path,
                            const rill_gguf_options *opt,
                            rill_gguf_error *err);

/* As rill_gguf_open on an open descriptor. rill duplicates fd, so the
 * caller may close its own at once. The descriptor must be positioned
 * nowhere in particular: rill reads with pread. */
RILL_API int rill_gguf_open_fd(rill_gguf **out, int fd,
                               const rill_gguf_options *opt,
                               rill_gguf_error *err);

/*
 * As rill_gguf_open on a forward-only source. The parser stops at the start
 * of the data section; tensor data is then read with rill_gguf_tensor_read
 * in increasing offset order (skipping forward is allowed: the skipped
 * bytes are read and dropped). Since the source length is unknown, "the
 * tensor lies past the end of the file" is found only when reading it
 * (RILL_E_FORMAT then). read must stay valid until rill_gguf_close.
 */
RILL_API int rill_gguf_open_stream(rill_gguf **out, rill_gguf_read_fn read,
                                   void *user, const rill_gguf_options *opt,
                                   rill_gguf_error *err);

/*
 * Open a model by path or by Ollama name: if path_or_name names an existing
 * file it is opened as rill_gguf_open does; otherwise it is resolved with
 * rill_ollama_resolve (models_dir NULL: the default store) and the blob is
 * opened. Returns as rill_gguf_open, plus RILL_E_NOT_FOUND when it is neither
 * a file nor a model in the store.
 */
RILL_API int rill_gguf_open_model(rill_gguf **out, const char *path_or_name,
                                  const char *models_dir,
                                  const rill_gguf_options *opt,
                                  rill_gguf_error *err);

/* Unmap, close and free. NULL is a harmless no-op. */
RILL_API void rill_gguf_close(rill_gguf *g);

/* The file as a whole. */
typedef struct rill_gguf_info {
  uint32_t version;        /* 2 or 3 */
  uint32_t alignment;      /* general.alignment, or 32 */
  uint64_t n_kv;           /* metadata keys */
  uint64_t n_tensors;
  uint64_t data_offset;    /* file offset of the data section */
  uint64_t data_bytes;     /* bytes the tensors span, padding included */
  uint64_t file_bytes;     /* size of the file; 0 for a stream source */
  uint64_t n_elements;     /* sum over the tensors */
  uint64_t heap_bytes;     /* heap this handle holds */
  int mapped;              /* 1 if tensor data is mapped */
} rill_gguf_info;

/* Fill *out. Returns RILL_OK or RILL_E_INVALID (a NULL argument). */
RILL_API int rill_gguf_get_info(const rill_gguf *g, rill_gguf_info *out);

/* ---- metadata ------------------------------------------------------------ */

/* One metadata entry. key is NUL-terminated and lives as long as the
 * handle. For arrays, elem_type and count describe the elements (an array
 * of arrays is refused at open: nothing in GGUF uses one and it could not
 * be indexed without a walk); for scalars elem_type is the type and count
 * is 1. */
typedef struct rill_gguf_kv {
  const char *key;
  size_t key_len;
  rill_gguf_vtype type;
  rill_gguf_vtype elem_type;
  uint64_t count;
  uint64_t offset; /* file offset of the value */
} rill_gguf_kv;

/* Metadata entries are numbered 0 .. n_kv-1 in file order. */
RILL_API int rill_gguf_kv_at(const rill_gguf *g, uint64_t index,
                             rill_gguf_kv *out);

/* The index of key, or -1 when absent (or g/key NULL). O(1). */
RILL_API int64_t rill_gguf_find_key(const rill_gguf *g, const char *key);

/*
 * Typed getters by key. Each returns RILL_OK; RILL_E_NOT_FOUND (no such
 * key); RILL_E_FORMAT (the value has another type, or does not fit);
 * RILL_E_INVALID (a NULL argument). Integer getters accept any integer type
 * whose value fits the result; float getters accept F32 and F64; bool
 * accepts BOOL only. Strings are returned as pointer and length, not
 * NUL-terminated, valid while the handle is open; they are byte strings
 * that were checked to be UTF-8.
 */
RILL_API int rill_gguf_get_u32(const rill_gguf *g, const char *key,
                               uint32_t *out);
RILL_API int rill_gguf_get_u64(const rill_gguf *g, const char *key,
                               uint64_t *out);
RILL_API int rill_gguf_get_i64(const rill_gguf *g, const char *key,
                               int64_t *out);
RILL_API int rill_gguf_get_f32(const rill_gguf *g, const char *key,
                               float *out);
RILL_API int rill_gguf_get_f64(const rill_gguf *g, const char *key,
                               double *out);
RILL_API int rill_gguf_get_bool(const rill_gguf *g, const char *key,
                                int *out);
RILL_API int rill_gguf_get_str(const rill_gguf *g, const char *key,
                               const char **str, size_t *len);

/* An array's element type and count: RILL_E_FORMAT if key is not an
 * array. */
RILL_API int rill_gguf_get_arr(const rill_gguf *g, const char *key,
                               rill_gguf_vtype *elem_type, uint64_t *count);

/*
 * Array elements by metadata index (from rill_gguf_find_key) and element
 * index, O(1). Returns RILL_OK; RILL_E_INVALID (not an array, index out of
 * range, NULL argument); RILL_E_FORMAT (element type differs; the integer
 * and float rules are those of the scalar getters).
 */
RILL_API int rill_gguf_arr_str(const rill_gguf *g, uint64_t kv, uint64_t i,
                               const char **str, size_t *len);
RILL_API int rill_gguf_arr_i64(const rill_gguf *g, uint64_t kv, uint64_t i,
                               int64_t *out);
RILL_API int rill_gguf_arr_f32(const rill_gguf *g, uint64_t kv, uint64_t i,
                               float *out);
RILL_API int rill_gguf_arr_u64(const rill_gguf *g, uint64_t kv, uint64_t i,
                               uint64_t *out);
RILL_API int rill_gguf_arr_f64(const rill_gguf *g, uint64_t kv, uint64_t i,
                               double *out);
RILL_API int rill_gguf_arr_bool(const rill_gguf *g, uint64_t kv, uint64_t i,
                                int *out);

/* ---- tensors ------------------------------------------------------------- */

/* One tensor. name is NUL-terminated and lives as long as the handle.
 * ne[0] is the contiguous dimension; unused dimensions are 1. A row is
 * ne[0] elements (row_bytes bytes); the tensor has n_elements / ne[0] rows
 * (0 when it has no elements). */
typedef struct rill_gguf_tensor {
  const char *name;
  size_t name_len;
  rill_gguf_type type;
  uint32_t n_dims;
  uint64_t ne[RILL_GGUF_MAX_DIMS];
  uint64_t n_elements;
  uint64_t n_bytes;
  uint64_t row_bytes;
  uint64_t offset; /* from the start of the data section */
} rill_gguf_tensor;

/* Tensors are numbered 0 .. n_tensors-1 in file order. */
RILL_API int rill_gguf_tensor_at(const rill_gguf *g, uint64_t index,
                                 rill_gguf_tensor *out);

/* The index of the tensor called name, or -1. O(1). */
RILL_API int64_t rill_gguf_find_tensor(const rill_gguf *g, const char *name);

/*
 * The tensor's bytes in the mapping: *data points at n_bytes read-only
 * bytes, valid until rill_gguf_close. Returns RILL_OK; RILL_E_STATE (the
 * handle is not mapped); RILL_E_INVALID.
 */
RILL_API int rill_gguf_tensor_data(const rill_gguf *g, uint64_t index,
                                   const void **data);

/*
 * Copy len bytes of the tensor, starting offset bytes into it, into buf
 * (owned by the caller). Works for every source. On a stream source reads
 * must not go backwards (RILL_E_STATE). Returns RILL_OK; RILL_E_INVALID
 * (range outside the tensor); RILL_E_IO; RILL_E_FORMAT (a stream ended
 * before the tensor did).
 */
RILL_API int rill_gguf_tensor_read(rill_gguf *g, uint64_t index,
                                   uint64_t offset, void *buf, size_t len);

/*
 * Dequantize n_rows rows of the tensor from row first_row into dst, which
 * holds dst_count floats (at least n_rows * ne[0]). Reads through a fixed
 * stack window when the handle is not mapped, so working memory does not
 * depend on the tensor's size. Returns RILL_OK; RILL_E_INVALID (rows out of
 * range, dst too small); RILL_E_UNSUPPORTED (Q8_1, which stores activations,
 * not weights); the errors of rill_gguf_tensor_read.
 */
RILL_API int rill_gguf_tensor_dequantize(rill_gguf *g, uint64_t index,
                                         uint64_t first_row, uint64_t n_rows,
                                         float *dst, size_t dst_count);

/* ---- element types ------------------------------------------------------- */

/* "F32", "Q4_K", ...; NULL for an id rill does not know. */
RILL_API const char *rill_gguf_type_name(int type);

/* Elements and bytes per block of type. Returns RILL_OK or
 * RILL_E_UNSUPPORTED (unknown id). */
RILL_API int rill_gguf_type_block(int type, uint32_t *block_elems,
                                  uint32_t *block_bytes);

/* Bytes of a row of n elements of type, checked: RILL_E_INVALID when n is
 * not a whole number of blocks, RILL_E_LIMIT when it would overflow. */
RILL_API int rill_gguf_row_bytes(int type, uint64_t n, uint64_t *bytes);

/*
 * Dequantize n elements (a whole number of blocks) from src (src_bytes
 * long, at least the n elements' bytes) into dst. Pure: any thread, no
 * allocation. Returns RILL_OK; RILL_E_INVALID (n not whole blocks, src too
 * short, src and dst overlapping, NULL); RILL_E_UNSUPPORTED (unknown type,
 * or Q8_1).
 */
RILL_API int rill_gguf_dequantize(int type, const void *src, size_t src_bytes,
                                  float *dst, size_t n);

/* IEEE half and bfloat16 to float (exact; NaN payloads kept). */
RILL_API float rill_f16_to_f32(uint16_t h);
RILL_API float rill_bf16_to_f32(uint16_t h);

/* ---- Ollama's model store and blob integrity ------------------------------ */

/*
 * Resolve an Ollama model name to its GGUF blob in the local store without
 * Ollama running. Names: "name" (tag "latest", namespace "library"),
 * "name:tag", "namespace/name:tag", "host/namespace/name:tag"; each part
 * follows Ollama's own name grammar, so no name can leave the store. The
 * store is models_dir, else $OLLAMA_MODELS, else $HOME/.ollama/models and
 * then /usr/share/ollama/.ollama/models (where Linux service installs keep
 * models). A name with capitals that is not found is tried once in lower
 * case, as Ollama does. The manifest at manifests/HOST/NAMESPACE/NAME/TAG
 * (a regular file of at most 1 MiB) is read and its layer of media type
 * application/vnd.ollama.image.model chosen. Whether the blob exists is
 * not checked here: opening it tells.
 * path receives "STORE/blobs/sha256-<hex>" (path_cap bytes, NUL-terminated)
 * and digest, if not NULL, "sha256:<64 hex>" (RILL_DIGEST_CAP bytes).
 * Returns RILL_OK; RILL_E_INVALID (a malformed name, NULL argument);
 * RILL_E_NOT_FOUND (no manifest, or no model layer: err says which);
 * RILL_E_FORMAT (a manifest that is not the JSON Ollama writes, a digest
 * that is not sha256:<64 hex>); RILL_E_LIMIT (path_cap too small);
 * RILL_E_IO; RILL_E_NOMEM. Thread: any.
 */
#define RILL_DIGEST_CAP 72
RILL_API int rill_ollama_resolve(const char *name, const char *models_dir,
                                 char *path, size_t path_cap, char *digest,
                                 rill_gguf_error *err);

/*
 * Check that the file at path hashes to digest ("sha256:<64 hex>" or the
 * 64 hex digits alone, either case), streaming through it with a fixed
 * buffer (constant memory for any size). Returns RILL_OK; RILL_E_FORMAT
 * (mismatch: err holds both digests); RILL_E_INVALID (digest malformed);
 * RILL_E_IO; RILL_E_NOMEM. Thread: any.
 */
RILL_API int rill_sha256_verify_file(const char *path, const char *digest,
                                     rill_gguf_error *err);

/* The SHA-256 of the file at path into out[32], streaming. Returns RILL_OK,
 * RILL_E_IO, RILL_E_NOMEM, RILL_E_INVALID. Thread: any. */
RILL_API int rill_sha256_file(const char *path, uint8_t out[32]);

#ifdef __cplusplus
}
#endif

#endif /* RILL_GGUF_H */
