/*
 * rill/error.h — status codes.
 *
 * Every rill function that can fail returns an int: RILL_OK (0) or one of the
 * negative RILL_E_* codes below. The numbers are part of the ABI: codes are
 * only ever appended, never renumbered. rill_strerror() gives a static,
 * one-line description; handles that talk to servers keep a detailed
 * message too (see rill_errmsg in later headers).
 */
#ifndef RILL_ERROR_H
#define RILL_ERROR_H

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, retryable, description) */
#define RILL_ERROR_MAP(X)                                                      \
  X(OK, 0, 0, "success")                                                       \
  X(E_INVALID, -1, 0, "invalid argument")                                      \
  X(E_NOMEM, -2, 0, "out of memory")                                           \
  X(E_LIMIT, -3, 0, "a size or count limit was exceeded")                      \
  X(E_CANCELLED, -4, 0, "cancelled by the application")                        \
  X(E_JSON, -5, 0, "malformed JSON")                                           \
  X(E_PROTOCOL, -6, 0, "the peer broke the protocol")                          \
  X(E_TRUNCATED, -7, 0, "the stream ended before its final record")            \
  X(E_TIMEOUT, -8, 1, "timed out")                                             \
  X(E_CONNECT, -9, 1, "could not connect")                                     \
  X(E_TLS, -10, 0, "TLS failure (certificate or handshake)")                   \
  X(E_HTTP, -11, 0, "the server answered with an HTTP error status")           \
  X(E_AUTH, -12, 0, "the server refused the credentials")                      \
  X(E_RATE_LIMITED, -13, 1, "rate limited by the server")                      \
  X(E_UNAVAILABLE, -14, 1, "the server is unavailable or failed")              \
  X(E_FORMAT, -15, 0, "malformed file")                                        \
  X(E_UNSUPPORTED, -16, 0, "not supported")                                    \
  X(E_IO, -17, 0, "input/output error")                                        \
  X(E_NOT_FOUND, -18, 0, "not found")                                          \
  X(E_STATE, -19, 0, "call not allowed in the handle's current state")         \
  X(E_INTERNAL, -20, 0, "internal error (a bug in rill; please report it)")

#define RILL_ERROR_ENUM_(name, value, retryable, text) RILL_##name = (value),
typedef enum rill_status { RILL_ERROR_MAP(RILL_ERROR_ENUM_) } rill_status;
#undef RILL_ERROR_ENUM_

/*
 * A static description of a status code.
 * Returns: never NULL; "unknown error" for a code rill does not define.
 * Thread: any thread.
 */
RILL_API const char *rill_strerror(int code);

/*
 * The code's name without prefix, e.g. "E_LIMIT" for RILL_E_LIMIT, "OK" for 0.
 * Returns: never NULL; "E_UNKNOWN" for a code rill does not define.
 * Thread: any thread.
 */
RILL_API const char *rill_error_name(int code);

/*
 * Whether the same request may succeed if tried again later: timeouts,
 * connection failures, rate limits and server-side failures.
 * Returns: 1 or 0. Thread: any thread.
 */
RILL_API int rill_error_is_retryable(int code);

#ifdef __cplusplus
}
#endif
#endif /* RILL_ERROR_H */
