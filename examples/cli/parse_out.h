/*
 * The output lines of `rill parse` (DESIGN.md, "The rill command"), shared by
 * the command and by the unit test that replays the same case files, so the
 * two can never disagree. Public headers only.
 *
 * Each function resets w and writes one JSON object (no newline) into it;
 * read it with rill_jw_data.
 */
#ifndef RILL_CLI_PARSE_OUT_H
#define RILL_CLI_PARSE_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "rill/json.h"
#include "rill/stream.h"

/* {"event":…,"data":…,"id":…}. Returns RILL_OK or the writer's error. */
int parse_out_sse_event(rill_jw *w, const rill_sse_event *ev);

/* {"end":true,"retry":n} or {"end":true,"retry":null}. */
int parse_out_sse_end(rill_jw *w, int has_retry, uint64_t retry_ms);

/* {"line":n,"value":<the record, minified>} when rec is one valid JSON
 * document, else {"line":n,"error":"<reason> at byte <offset>"}.
 * Returns 0 (valid), 1 (malformed: the error line was written), or a
 * negative rill status from the writer. */
int parse_out_ndjson_record(rill_jw *w, const char *rec, size_t len,
                            uint64_t line);

#endif
