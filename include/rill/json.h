/*
 * rill/json.h — strict JSON validation and a JSON writer.
 *
 * Validation follows RFC 8259 to the letter (as JSONTestSuite reads it):
 * any value at the top level, no trailing commas, no leading zeros, only the
 * nine escapes, no raw control characters in strings, well-formed UTF-8
 * (no overlongs, no surrogates encoded in UTF-8, nothing past U+10FFFF), no
 * NUL byte anywhere, nothing after the value but whitespace, and nesting at
 * most RILL_JSON_MAX_DEPTH deep. Escaped lone surrogates (\ud800) are valid
 * JSON; the unescaper turns them into U+FFFD.
 *
 * The writer builds one document in a buffer that grows up to a limit.
 * Commas and colons are placed for you; a misuse (a key outside an object,
 * a value where a key is due, an end that does not match) is an error.
 * Errors are sticky: after the first failure every call returns the same
 * code, so a caller may check only at the end.
 *
 * Threads: a writer is used from one thread at a time.
 */
#ifndef RILL_JSON_H
#define RILL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RILL_JSON_MAX_DEPTH 128

/* Where and why a document was rejected. */
typedef struct rill_json_error {
  size_t offset;      /* byte offset of the first offending byte */
  const char *reason; /* static English text, e.g. "leading zero" */
} rill_json_error;

/*
 * Check that text[0..len) is one valid JSON document.
 * err may be NULL; on failure it receives the offset and reason. The
 * offset is that of the first byte that cannot belong to a valid document:
 * for "[1,]" the ']', for "01" the '0' with the leading zero, for
 * ill-formed UTF-8 the first byte that cannot continue the sequence (the
 * lead byte itself when it can start none), and len when the input ends
 * too early. Nesting deeper than RILL_JSON_MAX_DEPTH fails at the opening
 * bracket that goes one level too deep, with reason "nesting too deep".
 * Returns: RILL_OK; RILL_E_JSON (malformed); RILL_E_INVALID (text NULL with
 * len > 0). Allocates nothing. Thread: any.
 */
RILL_API int rill_json_validate(const char *text, size_t len,
                                rill_json_error *err);

typedef struct rill_jw rill_jw;

/*
 * A new writer whose output may grow to max_bytes (0: 64 MiB).
 * Ownership: *out belongs to the caller until rill_jw_free.
 * Returns: RILL_OK, RILL_E_INVALID (out NULL), RILL_E_NOMEM.
 */
RILL_API int rill_jw_new(rill_jw **out, size_t max_bytes);

/* NULL is a harmless no-op. */
RILL_API void rill_jw_free(rill_jw *w);

/* Empty the output and clear any error; the buffer is kept for reuse. */
RILL_API void rill_jw_reset(rill_jw *w);

/*
 * The value writers. Each returns RILL_OK or the writer's sticky error:
 * RILL_E_LIMIT (output would pass max_bytes), RILL_E_NOMEM, RILL_E_STATE
 * (not allowed here: a value where a key is due, a second top-level value,
 * an unmatched end, nesting past RILL_JSON_MAX_DEPTH), RILL_E_INVALID (NULL
 * string with len > 0, a non-finite double, raw text that is not JSON).
 */
RILL_API int rill_jw_object_begin(rill_jw *w);
RILL_API int rill_jw_object_end(rill_jw *w);
RILL_API int rill_jw_array_begin(rill_jw *w);
RILL_API int rill_jw_array_end(rill_jw *w);

/* An object member's name; the next call must write its value. The bytes
 * are escaped as rill_jw_string does. */
RILL_API int rill_jw_key(rill_jw *w, const char *key, size_t len);

/* A string. Escapes '"', '\\' and control characters (\n \r \t \b \f as
 * such, others as \u00xx with lowercase hex); passes valid UTF-8 and DEL
 * (0x7f) through unchanged and leaves '/' alone; replaces each maximal
 * invalid UTF-8 subpart with one U+FFFD (Unicode's "substitution of
 * maximal subparts"), so the output is always valid JSON. NUL bytes
 * become \u0000. s may be NULL when len is 0. */
RILL_API int rill_jw_string(rill_jw *w, const char *s, size_t len);

RILL_API int rill_jw_int(rill_jw *w, int64_t v);
RILL_API int rill_jw_uint(rill_jw *w, uint64_t v);

/* A text that reads back as exactly the same double, independent of the
 * locale: the first of printf's "%.15g", "%.16g", "%.17g" that round-trips,
 * so values with up to 15 significant digits come out short ("0.1",
 * "1e+300", "-0", 1.0 as "1") and others take 16 or 17 digits.
 * NaN and infinities: RILL_E_INVALID (sticky). */
RILL_API int rill_jw_double(rill_jw *w, double v);

RILL_API int rill_jw_bool(rill_jw *w, int v);
RILL_API int rill_jw_null(rill_jw *w);

/* A value that is already JSON text: validated (RILL_E_INVALID when it is
 * not one valid document, without touching the output) and written with
 * the whitespace outside strings removed. */
RILL_API int rill_jw_raw(rill_jw *w, const char *json, size_t len);

/*
 * The output so far (NUL-terminated; *len, if len is non-NULL, excludes the
 * NUL). Complete when every begin has had its end.
 * Ownership: owned by the writer, valid until the next call on it.
 * Returns: never NULL ("" when empty).
 */
RILL_API const char *rill_jw_data(const rill_jw *w, size_t *len);

/* The sticky error (RILL_OK when none). */
RILL_API int rill_jw_error(const rill_jw *w);

/* Whether one complete top-level value has been written. */
RILL_API int rill_jw_complete(const rill_jw *w);


/* ------------------------------------------------------------------------
 * Reading: a parsed document, walked by token index (0 is the root, -1
 * means "absent"). For applications that must read JSON rill hands them
 * (tool-call arguments) or files they give rill (tool definitions); the
 * same strict reader and limits as rill's own decoding.
 * ------------------------------------------------------------------------ */

typedef struct rill_json_doc rill_json_doc;

typedef enum rill_json_type {
  RILL_JSON_NONE = 0, /* no such token */
  RILL_JSON_OBJECT,
  RILL_JSON_ARRAY,
  RILL_JSON_STRING,
  RILL_JSON_NUMBER,
  RILL_JSON_TRUE,
  RILL_JSON_FALSE,
  RILL_JSON_NULL
} rill_json_type;

/*
 * Parse text[0..len) (copied: text need not outlive the call).
 * Ownership: *out belongs to the caller until rill_json_doc_free.
 * Returns: RILL_OK; RILL_E_JSON (err filled when non-NULL); RILL_E_LIMIT
 * (more than 1,048,576 tokens or len >= 2 GiB); RILL_E_INVALID; RILL_E_NOMEM.
 * Thread: any; a document is used by one thread at a time.
 */
RILL_API int rill_json_parse(rill_json_doc **out, const char *text, size_t len,
                             rill_json_error *err);

/* NULL is a harmless no-op. */
RILL_API void rill_json_doc_free(rill_json_doc *doc);

/* The type of token tok (RILL_JSON_NONE when out of range). */
RILL_API rill_json_type rill_json_type_of(const rill_json_doc *doc, int tok);

/* Members of an object / elements of an array (0 for other types). */
RILL_API size_t rill_json_count(const rill_json_doc *doc, int tok);

/* The value of member key of object obj, or -1. */
RILL_API int rill_json_get(const rill_json_doc *doc, int obj, const char *key);

/* Element i of array arr, or -1. */
RILL_API int rill_json_at(const rill_json_doc *doc, int arr, size_t i);

/* The token's JSON text as it appears in the document (a string with its
 * quotes). Owned by doc. NULL when absent. */
RILL_API const char *rill_json_text(const rill_json_doc *doc, int tok,
                                    size_t *len);

/* A string token's unescaped UTF-8 value, NUL-terminated. Owned by doc and
 * valid until the next rill_json_string call on doc. NULL when tok is not a
 * string (or out of memory). */
RILL_API const char *rill_json_string(rill_json_doc *doc, int tok,
                                      size_t *len);

/* A number token as a double (locale-free). RILL_OK, RILL_E_JSON (not a
 * number), RILL_E_LIMIT (out of range). */
RILL_API int rill_json_number(const rill_json_doc *doc, int tok, double *out);

#ifdef __cplusplus
}
#endif
#endif /* RILL_JSON_H */
