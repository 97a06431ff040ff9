/*
 * Internal: fast byte scanning for the framers.
 *
 * rill__scan_eol finds the first CR or LF, the line end of SSE (NDJSON
 * needs only LF and uses memchr). On x86_64 it uses SSE2 (baseline there);
 * elsewhere a portable word-at-a-time loop. Both are always correct at any
 * alignment and length; the portable one is exported too so the unit test
 * can check it against a naive loop on every platform.
 */
#ifndef RILL_STREAM_SCAN_H
#define RILL_STREAM_SCAN_H

#include <stddef.h>

/* The first byte in [p, end) that is '\r' or '\n', or end when there is
 * none. p <= end; both may be equal (empty range). Reads only [p, end). */
const char *rill__scan_eol(const char *p, const char *end);

/* The same, without SIMD (the fallback of rill__scan_eol). */
const char *rill__scan_eol_portable(const char *p, const char *end);

#endif
