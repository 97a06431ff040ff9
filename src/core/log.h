/*
 * Internal logging. rill__log formats into a fixed stack buffer (long
 * messages are cut, never allocated), redacts credentials, then calls the
 * application's hook. Nothing is formatted when the level is filtered out.
 */
#ifndef RILL_CORE_LOG_H
#define RILL_CORE_LOG_H

#include "rill/log.h"

#define RILL_LOG_LINE_MAX 1024

/* Whether a message at level would reach a hook. */
int rill__log_enabled(rill_log_level level);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void rill__log(rill_log_level level, const char *fmt, ...);

#endif
