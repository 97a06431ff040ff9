/*
 * redact.c — masks credentials in text before it leaves rill.
 *
 * Markers are matched case-insensitively; a masked value runs to the end of
 * the token (whitespace, quote, comma, '&' or ';' ends it), so "Bearer sk-…"
 * and "key=AIza…&alt=sse" lose the key but keep the rest readable.
 */
#include "core/redact.h"

#include <string.h>

static int lower(int c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int is_key_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
         c == '~' || c == '+' || c == '/' || c == '=';
}

static int starts_with_ci(const char *s, const char *marker) {
  for (; *marker; s++, marker++)
    if (lower((unsigned char)*s) != *marker)
      return 0;
  return 1;
}

/* Mask the token that starts after optional blanks at s; returns the
 * number of bytes masked and sets *end past it. */
static size_t mask_value(char *s, char **end) {
  size_t n = 0;
  while (*s == ' ' || *s == '\t')
    s++;
  /* "Authorization: Bearer xyz": keep the scheme word, mask the next. */
  if (starts_with_ci(s, "bearer ")) {
    s += 7;
    while (*s == ' ')
      s++;
  }
  while (*s && is_key_char((unsigned char)*s)) {
    *s++ = '*';
    n++;
  }
  *end = s;
  return n;
}

static const char *const markers[] = {"authorization:", "x-api-key:",
                                      "x-goog-api-key:", "api-key:",
                                      "bearer ", "key="};

size_t rill__redact(char *s) {
  size_t masked = 0;
  char *p = s;
  while (*p) {
    size_t i, run;
    int hit = 0;
    for (i = 0; i < sizeof markers / sizeof markers[0]; i++) {
      size_t mlen = strlen(markers[i]);
      if (starts_with_ci(p, markers[i])) {
        /* "key=" only as a whole parameter name, not "monkey=". */
        if (i == 5 && p != s && is_key_char((unsigned char)p[-1]) &&
            p[-1] != '?' && p[-1] != '&')
          continue;
        masked += mask_value(p + mlen, &p);
        hit = 1;
        break;
      }
    }
    if (hit)
      continue;
    if ((p == s || !is_key_char((unsigned char)p[-1])) &&
        (strncmp(p, "sk-", 3) == 0 || strncmp(p, "AIza", 4) == 0)) {
      for (run = 0; is_key_char((unsigned char)p[run]); run++) {
      }
      if (run >= 16) {
        memset(p, '*', run);
        masked += run;
        p += run;
        continue;
      }
    }
    p++;
  }
  return masked;
}

size_t rill__redact_secret(char *s, const char *secret, size_t len) {
  size_t masked = 0;
  char *p = s;
  if (!secret || len < 4)
    return 0;
  while ((p = strstr(p, secret)) != NULL) {
    /* strstr needs a NUL-terminated needle; secret may not be one. */
    if (strncmp(p, secret, len) != 0) {
      p++;
      continue;
    }
    memset(p, '*', len);
    masked += len;
    p += len;
  }
  return masked;
}
