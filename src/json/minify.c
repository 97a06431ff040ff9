/*
 * minify.c — copy valid JSON text without the whitespace outside strings.
 * Used by the writer (rill_jw_raw) and by decoders that turn a tool call's
 * arguments object into compact text.
 *
 * Valid input only: inside a string, the '"' that ends it is the first one
 * not escaped, so a string is copied as one span without decoding.
 */
#include "json/json.h"

#include "rill/error.h"

static int is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int rill__json_minify(rill__buf *out, const char *json, size_t len) {
  size_t i = 0;
  int rc = RILL_OK;
  while (rc == RILL_OK && i < len) {
    size_t j = i;
    if (is_ws(json[i])) {
      i++;
      continue;
    }
    if (json[i] == '"') {
      j = i + 1;
      while (j < len && json[j] != '"')
        j += json[j] == '\\' ? 2 : 1;
      j = j < len ? j + 1 : len;
    } else {
      while (j < len && !is_ws(json[j]) && json[j] != '"')
        j++;
    }
    rc = rill__buf_append(out, json + i, j - i);
    i = j;
  }
  return rc;
}
