/*
 * rill/stream.h — incremental framers for Server-Sent Events and NDJSON.
 *
 * These are the sans-I/O cores that every streamed response passes through,
 * usable on their own (the `rill parse` command is a thin shell around them).
 * Feed bytes as they arrive, split anywhere; each complete event or record
 * reaches your callback during the feed call that completes it. The result
 * is the same whatever the split: one feed of the whole input, one feed per
 * byte, or anything between.
 *
 * Memory: a framer keeps only the unfinished tail of the input (the part of
 * a line or event it has not seen the end of) in one buffer that grows up to
 * max_record_bytes and is reused; it never holds the stream. A record that
 * lies whole inside one feed is handed over in place, without a copy.
 *
 * Errors are sticky, as in llhttp: after a feed or finish fails, every later
 * feed and finish returns the same code until reset.
 *
 * Threads: a framer is used from one thread at a time; different framers are
 * independent.
 */
#ifndef RILL_STREAM_H
#define RILL_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default and largest accepted max_record_bytes. The hard maximum keeps
 * every record well below jsmn's int offsets (2 GiB). */
#define RILL_DEFAULT_MAX_RECORD_BYTES ((size_t)8 << 20)
#define RILL_HARD_MAX_RECORD_BYTES ((size_t)64 << 20)

/* Options shared by both framers. Zero members mean "default". */
typedef struct rill_framer_opts {
  size_t size; /* sizeof(rill_framer_opts): set by RILL_FRAMER_OPTS_INIT */
  /* Longest line, event or record kept, in bytes (default 8 MiB, at most
   * RILL_HARD_MAX_RECORD_BYTES). What is counted:
   *   SSE: each line without its line end (CR, LF or CRLF), comments and
   *   field names included; and each event's data as the callback receives
   *   it (the data lines joined with '\n'). Type and id are parts of a line.
   *   NDJSON: each record, i.e. the line without its LF or CRLF (a CR left
   *   at the very end of the stream is not counted either); whitespace-only
   *   lines too, although they are skipped.
   * Exactly max_record_bytes passes; one byte more fails with RILL_E_LIMIT,
   * as soon as that byte arrives. */
  size_t max_record_bytes;
} rill_framer_opts;

#define RILL_FRAMER_OPTS_INIT {sizeof(rill_framer_opts), 0}

/* ------------------------------------------------------------------------
 * Server-Sent Events (WHATWG HTML, "event stream interpretation")
 *
 * Lines end in CRLF, LF or a lone CR (a CRLF split between two feeds is one
 * line end). One UTF-8 BOM at the very start is dropped. A line starting
 * with ':' is a comment. "field:value" loses one space after the colon; a
 * line without a colon is a field with an empty value. "data" lines are
 * joined with "\n"; "event" sets the type (default "message"); "id" sets the
 * last event id unless its value contains a NUL byte, and the id persists
 * across events; "retry" is kept only when its value is all ASCII digits
 * (and not empty). Other fields are ignored. A blank line dispatches the
 * event, unless no data line was seen since the last dispatch. An event left
 * unfinished at the end of the stream is discarded.
 *
 * An event whose data is a single data line lying whole in one feed is
 * handed over in place (ev->data points into the caller's buffer); the data
 * is copied only when an event has several data lines or spans feeds.
 *
 * Bytes are passed through as they are: invalid UTF-8 is not replaced here
 * (the JSON layer rejects it; rill's JSON writer replaces it on output).
 * ------------------------------------------------------------------------ */

typedef struct rill_sse rill_sse;

/* One dispatched event. Spans are not NUL-terminated. */
typedef struct rill_sse_event {
  const char *type; /* the event field, or "message" */
  size_t type_len;
  const char *data; /* data lines joined with '\n' (may be empty) */
  size_t data_len;
  const char *id;   /* the last event id, "" until an id field is seen */
  size_t id_len;
} rill_sse_event;

/*
 * Called once per dispatched event, from inside rill_sse_feed.
 * Ownership: ev and every span in it are valid only until the callback
 * returns; copy what you keep.
 * Returns: 0 to go on; anything else stops the framer: the feed returns
 * RILL_E_CANCELLED (sticky) and no further callback is made.
 * Thread: the thread that called rill_sse_feed. The callback must not call
 * rill_sse_feed, _finish, _reset or _free on the same framer.
 */
typedef int (*rill_sse_event_fn)(void *user, const rill_sse_event *ev);

/*
 * Create a framer.
 * opts may be NULL (all defaults); only opts->size bytes of it are read.
 * Ownership: *out belongs to the caller until rill_sse_free; it is set to
 * NULL when creation fails.
 * Returns: RILL_OK; RILL_E_INVALID (out or on_event NULL, opts->size 0, or
 * max_record_bytes above RILL_HARD_MAX_RECORD_BYTES); RILL_E_NOMEM.
 * Thread: any thread.
 */
RILL_API int rill_sse_new(rill_sse **out, const rill_framer_opts *opts,
                          rill_sse_event_fn on_event, void *user);

/*
 * Consume len bytes (len may be 0; buf may be NULL only when len is 0).
 * Events completed by these bytes are dispatched before it returns.
 * Ownership: buf is only read during the call.
 * Returns: RILL_OK; RILL_E_LIMIT (a line or event grew past
 * max_record_bytes); RILL_E_CANCELLED (a callback returned non-zero);
 * RILL_E_NOMEM; RILL_E_STATE (after rill_sse_finish); RILL_E_INVALID (p
 * NULL, or buf NULL with len > 0). Failures other than RILL_E_INVALID are
 * sticky. On failure, rill_sse_error_offset tells where.
 */
RILL_API int rill_sse_feed(rill_sse *p, const void *buf, size_t len);

/*
 * The stream has ended: an unfinished line or event is discarded (WHATWG),
 * except that a CR as the very last byte has already ended its line.
 * Returns: RILL_OK, or the sticky error of an earlier failure;
 * RILL_E_STATE when called twice.
 */
RILL_API int rill_sse_finish(rill_sse *p);

/* Forget everything (stream position, last event id, retry, errors) and
 * start a new stream; the buffer is kept for reuse. */
RILL_API void rill_sse_reset(rill_sse *p);

/* Free the framer and its buffer. NULL is a harmless no-op. */
RILL_API void rill_sse_free(rill_sse *p);

/* Stream offset (bytes fed since creation or reset, a BOM included) of the
 * byte at which the sticky error was detected; 0 when there is none. The
 * offsets of RILL_E_LIMIT and RILL_E_CANCELLED do not depend on how the
 * input was split:
 *   RILL_E_LIMIT, a line: the line's first byte + max_record_bytes.
 *   RILL_E_LIMIT, an event's data: the first byte of the data line's value
 *     that does not fit (its first byte if even the joining '\n' does not).
 *   RILL_E_CANCELLED: just past the CR or LF that ended the event's blank
 *     line (for a CRLF, the LF's own offset: the event was dispatched at
 *     the CR, before the LF may have arrived).
 *   RILL_E_NOMEM: where the framer was when the allocation failed. */
RILL_API uint64_t rill_sse_error_offset(const rill_sse *p);

/* The reconnection time from the last valid "retry" field, in milliseconds.
 * Returns 1 and sets *ms when one was seen (values past UINT64_MAX saturate),
 * 0 otherwise. */
RILL_API int rill_sse_retry(const rill_sse *p, uint64_t *ms);

/* The last event id ("" until an id field is seen). The span is owned by the
 * framer and valid until the next feed, finish, reset or free. */
RILL_API const char *rill_sse_last_event_id(const rill_sse *p, size_t *len);

/* ------------------------------------------------------------------------
 * NDJSON (newline-delimited JSON; Ollama's streaming format)
 *
 * Records end in LF or CRLF (the CR is not part of the record). A lone CR is
 * not a line end. A record lying whole in one feed is handed over as a
 * pointer into the caller's buffer; only a record cut by a feed boundary is
 * copied (into the framer's tail buffer). Lines that are empty or hold only spaces, tabs and CRs are
 * skipped, but counted in line numbers. One UTF-8 BOM at the very start is
 * skipped. A last record without a newline is delivered by finish. The framer
 * does not parse JSON: each record goes to the callback as bytes.
 * ------------------------------------------------------------------------ */

typedef struct rill_ndjson rill_ndjson;

/*
 * Called once per record, from inside rill_ndjson_feed or _finish.
 * line is the 1-based line number of the record in the stream.
 * Ownership: rec is valid only until the callback returns; it is not
 * NUL-terminated.
 * Returns: 0 to go on; anything else stops the framer with
 * RILL_E_CANCELLED (sticky).
 * Thread: the caller's thread. Must not call back into the same framer.
 */
typedef int (*rill_ndjson_record_fn)(void *user, const char *rec, size_t len,
                                     uint64_t line);

/* As rill_sse_new. */
RILL_API int rill_ndjson_new(rill_ndjson **out, const rill_framer_opts *opts,
                             rill_ndjson_record_fn on_record, void *user);

/* As rill_sse_feed: RILL_E_LIMIT when a record grows past max_record_bytes. */
RILL_API int rill_ndjson_feed(rill_ndjson *p, const void *buf, size_t len);

/* The stream has ended: a last record without a line end is delivered now
 * (a CR at its end is dropped, as the first half of a cut-off CRLF; bytes
 * that began a BOM but ended with the stream are such a record).
 * Returns as rill_sse_finish, plus RILL_E_LIMIT/RILL_E_CANCELLED/
 * RILL_E_NOMEM from that last record. */
RILL_API int rill_ndjson_finish(rill_ndjson *p);

/* Start a new stream; the buffer is kept. */
RILL_API void rill_ndjson_reset(rill_ndjson *p);

/* NULL is a harmless no-op. */
RILL_API void rill_ndjson_free(rill_ndjson *p);

/* As rill_sse_error_offset: for RILL_E_LIMIT the record's first byte +
 * max_record_bytes; for RILL_E_CANCELLED the byte after the record's LF
 * (or the stream's end, for a last record). */
RILL_API uint64_t rill_ndjson_error_offset(const rill_ndjson *p);

#ifdef __cplusplus
}
#endif
#endif /* RILL_STREAM_H */
