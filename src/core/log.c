/*
 * log.c — the logging hook. Formats into a fixed buffer on the stack (no
 * allocation: logging must work when memory is exhausted), redacts, calls
 * the hook. Thread-safety is the hook's business; the hook pointer itself
 * is set once before threads start (see rill/log.h).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/redact.h"

static rill_log_fn g_fn;
static void *g_user;
static rill_log_level g_max = RILL_LOG_WARN;

void rill_log_set(rill_log_fn fn, void *user, rill_log_level max_level) {
  g_fn = fn;
  g_user = user;
  g_max = max_level;
}

const char *rill_log_level_name(rill_log_level level) {
  switch (level) {
  case RILL_LOG_ERROR:
    return "error";
  case RILL_LOG_WARN:
    return "warn";
  case RILL_LOG_INFO:
    return "info";
  case RILL_LOG_DEBUG:
    return "debug";
  case RILL_LOG_TRACE:
    return "trace";
  }
  return "unknown";
}

int rill__log_enabled(rill_log_level level) { return g_fn && level <= g_max; }

void rill__log(rill_log_level level, const char *fmt, ...) {
  char line[RILL_LOG_LINE_MAX];
  va_list ap;
  if (!rill__log_enabled(level))
    return;
  va_start(ap, fmt);
  if (vsnprintf(line, sizeof line, fmt, ap) < 0)
    line[0] = '\0';
  va_end(ap);
  rill__redact(line);
  g_fn(g_user, level, line);
}
