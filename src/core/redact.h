/*
 * Credential redaction for anything that may leave rill as text: log lines
 * and error messages. A message can contain a key only by accident (a
 * server that echoes a header, a URL with ?key=), so rill masks what looks
 * like one, in place, before it is shown to anyone.
 */
#ifndef RILL_CORE_REDACT_H
#define RILL_CORE_REDACT_H

#include <stddef.h>

/* Mask, in the NUL-terminated string s: the value after an
 * "authorization:", "x-api-key:", "x-goog-api-key:", "api-key:",
 * "bearer " (any case) or "key=" marker; and any run of 16 or more key
 * characters [A-Za-z0-9_-] starting with "sk-" or "AIza". Masked bytes
 * become '*'. Returns the number of bytes masked. */
size_t rill__redact(char *s);

/* Mask every occurrence of secret[0..len) in s (len >= 4; shorter secrets
 * are not searched, to avoid masking common words). */
size_t rill__redact_secret(char *s, const char *secret, size_t len);

#endif
