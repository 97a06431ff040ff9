/*
 * torture.h — the out-of-memory torture runner's scenario interface
 * (RELIABILITY.md G3; the technique of curl's `runtests -t`, nghttp2's
 * TEST_FAILMALLOC_RUN and SQLite's two fault modes).
 *
 * A scenario is one call sequence of the library that starts from nothing
 * and frees everything it made. main.c runs it once to learn N, the
 * allocations it attempts (rill's and curl's: one counter, src/core/alloc.c),
 * then for k = 1..N with the k-th allocation failing (once, and from k on)
 * and checks each run: an accepted return code, the callback contract, the
 * heap back where it started, and (OK runs) the same output as without
 * failures.
 */
#ifndef RILL_TORTURE_H
#define RILL_TORTURE_H

#include <stddef.h>

#include "rill/chat.h"

/* A growable text log (libc malloc: never counted, never failed). */
typedef struct tt_log {
  char *s;
  size_t len, cap;
} tt_log;

void tt_log_str(tt_log *l, const char *s);
void tt_log_bytes(tt_log *l, const char *s, size_t n);
void tt_log_fmt(tt_log *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tt_log_free(tt_log *l);

/* What one run observed. */
typedef struct tt_run {
  tt_log log;       /* the output to compare across OK runs */
  int uses_chat_cb; /* the run handed tt_chat_callbacks to the library */
  int start_failed; /* the call failed before any callback could run */
  int n_done, n_error;
  int err_code; /* code passed to on_error */
  int late;     /* callbacks that arrived after on_done / on_error */
} tt_run;

/* Chat callbacks that log into r and check the one-terminal rule. */
rill_chat_callbacks tt_chat_callbacks(tt_run *r);

typedef struct tt_scenario {
  const char *name;
  const char *level; /* "unit" or "mock" */
  /* Once per scenario, outside the measured runs (files, a mock). 0 ok. */
  int (*setup)(void **ctx);
  /* Before every run, outside the measured window (e.g. rewind the mock's
   * response sequence). May be NULL. */
  void (*prepare)(void *ctx);
  /* The measured call sequence: returns the API's status; frees all. */
  int (*run)(void *ctx, tt_run *r);
  void (*teardown)(void *ctx);
  /* Codes the header documents for this call under allocation failure,
   * besides RILL_OK, RILL_E_NOMEM and the code of the unfailed run;
   * 0-terminated, may be NULL. */
  const int *also_ok;
} tt_scenario;

extern const tt_scenario tt_unit_scenarios[];
extern const size_t tt_n_unit_scenarios;
extern const tt_scenario tt_file_scenarios[];
extern const size_t tt_n_file_scenarios;
extern const tt_scenario tt_mock_scenarios[];
extern const size_t tt_n_mock_scenarios;

/* A test data file (tests/unit/data/<rel>) read whole into libc memory;
 * NULL (with a message) when missing. */
char *tt_read_file(const char *path, size_t *len);

#endif
