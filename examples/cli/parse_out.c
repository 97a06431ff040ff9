/*
 * parse_out.c — formats the lines `rill parse` prints. See parse_out.h.
 */
#include "parse_out.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rill/error.h"

int parse_out_sse_event(rill_jw *w, const rill_sse_event *ev) {
  rill_jw_reset(w);
  rill_jw_object_begin(w);
  rill_jw_key(w, "event", 5);
  rill_jw_string(w, ev->type, ev->type_len);
  rill_jw_key(w, "data", 4);
  rill_jw_string(w, ev->data, ev->data_len);
  rill_jw_key(w, "id", 2);
  rill_jw_string(w, ev->id, ev->id_len);
  return rill_jw_object_end(w);
}

int parse_out_sse_end(rill_jw *w, int has_retry, uint64_t retry_ms) {
  rill_jw_reset(w);
  rill_jw_object_begin(w);
  rill_jw_key(w, "end", 3);
  rill_jw_bool(w, 1);
  rill_jw_key(w, "retry", 5);
  if (has_retry)
    rill_jw_uint(w, retry_ms);
  else
    rill_jw_null(w);
  return rill_jw_object_end(w);
}

int parse_out_ndjson_record(rill_jw *w, const char *rec, size_t len,
                            uint64_t line) {
  rill_json_error err = {0, NULL};
  int malformed = rill_json_validate(rec, len, &err) != RILL_OK;
  int rc;

  rill_jw_reset(w);
  rill_jw_object_begin(w);
  rill_jw_key(w, "line", 4);
  rill_jw_uint(w, line);
  if (!malformed) {
    rill_jw_key(w, "value", 5);
    rill_jw_raw(w, rec, len);
  } else {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "%s at byte %zu",
                     err.reason ? err.reason : "malformed JSON", err.offset);
    if (n < 0)
      n = 0;
    if ((size_t)n >= sizeof msg)
      n = (int)sizeof msg - 1;
    rill_jw_key(w, "error", 5);
    rill_jw_string(w, msg, (size_t)n);
  }
  rc = rill_jw_object_end(w);
  return rc != RILL_OK ? rc : malformed;
}
