/*
 * retry.h — the transport's retry policy, as pure functions (no client,
 * no curl handle, no clock of its own): which failures are worth another
 * attempt, how long to wait, and what Retry-After / retry-after-ms say.
 * Unit-tested with a fixed random source (tests/unit/test_retry.c).
 */
#ifndef RILL_HTTP_RETRY_H
#define RILL_HTTP_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "rill/request.h"

#define RILL__RETRY_DEFAULT_MAX 2
#define RILL__RETRY_DEFAULT_BASE_MS 500L
#define RILL__RETRY_DEFAULT_MAX_DELAY_MS 8000L
#define RILL__RETRY_DEFAULT_MAX_AFTER_MS 60000L

/* A random 64-bit value (the jitter source). */
typedef uint64_t (*rill__random_fn)(void *user);

/* The policy with defaults filled in: max_retries 0 → 2, -1 (or any
 * negative) → 0; delays <= 0 → their defaults. */
void rill__retry_normalise(const rill_retry *in, rill_retry *out);

/* HTTP statuses worth retrying: 408, 429, 500, 502, 503, 504. */
int rill__retry_status_is_retryable(long status);

/* curl results worth retrying before any response arrived: could not
 * resolve or connect, and a connection that died before the first
 * response byte (nothing sent back). Takes a CURLcode as int. */
int rill__retry_curl_is_retryable(int curlcode, int got_response);

/* Full jitter: a random value in [0, min(max_delay_ms, base_delay_ms *
 * 2^attempt)] (attempt 0 is the wait after the first failure). p must be
 * normalised. */
long rill__retry_backoff_ms(const rill_retry *p, int attempt,
                            rill__random_fn rnd, void *user);

/* Retry-After: delta-seconds (digits, optional surrounding blanks) or an
 * HTTP date (relative to now_epoch_s, a past date is 0). Sets *ms
 * (saturated at LONG_MAX) and returns 1; returns 0 for anything else
 * (negative, garbage, empty). value need not be NUL-terminated. */
int rill__retry_parse_after(const char *value, size_t len,
                            int64_t now_epoch_s, long *ms);

/* retry-after-ms: milliseconds (digits, an optional fraction is rounded
 * up). Returns 1 and sets *ms, or 0. */
int rill__retry_parse_after_ms(const char *value, size_t len, long *ms);

/* The decision after a retryable failure at attempt (0-based) with
 * server_after_ms (-1 when the server said nothing): returns 1 and sets
 * *delay_ms to wait before the next attempt; returns 0 when no retry is
 * allowed (attempts used up) and -1 when the server asked for a longer wait
 * than max_retry_after_ms (fail at once). p must be normalised. */
int rill__retry_decide(const rill_retry *p, int attempt, long server_after_ms,
                       rill__random_fn rnd, void *user, long *delay_ms);

#endif
