/*
 * rill/log.h — a logging hook.
 *
 * rill writes nothing to stdout or stderr by itself. An application that
 * wants rill's diagnostics installs one function; rill calls it with one
 * formatted line at a time. No API key ever reaches a log line: messages are
 * redacted before the hook sees them.
 */
#ifndef RILL_LOG_H
#define RILL_LOG_H

#include "rill/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rill_log_level {
  RILL_LOG_ERROR = 0,
  RILL_LOG_WARN = 1,
  RILL_LOG_INFO = 2,
  RILL_LOG_DEBUG = 3,
  RILL_LOG_TRACE = 4
} rill_log_level;

/*
 * Receives one log line (UTF-8, NUL-terminated, no trailing newline).
 * Ownership: msg is valid only until the function returns.
 * Thread: called on whichever thread produced the message; must be
 * thread-safe if rill is used from several threads.
 */
typedef void (*rill_log_fn)(void *user, rill_log_level level, const char *msg);

/*
 * Install (fn non-NULL) or remove (fn NULL) the hook; messages above
 * max_level are not even formatted.
 * Thread: call it before other threads use rill; the swap is not atomic
 * with respect to messages being logged.
 */
RILL_API void rill_log_set(rill_log_fn fn, void *user, rill_log_level max_level);

/* The level name: "error", "warn", "info", "debug", "trace" (never NULL). */
RILL_API const char *rill_log_level_name(rill_log_level level);

#ifdef __cplusplus
}
#endif
#endif /* RILL_LOG_H */
