/*
 * hostile_run.h — the harness shared by test_hostile.c and test_limits.c:
 * one chat through the public API against a route of the hostile
 * scenario (tests/mock/scenarios/hostile-g8.json), with the checks every
 * run makes: exactly one of on_done / on_error and no callback after it,
 * the heap back where it was before the client was made, and the peak
 * heap of the run under a cap.
 */
#ifndef RILL_TEST_HOSTILE_RUN_H
#define RILL_TEST_HOSTILE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "mock_proc.h"
#include "rill/rill.h"

#define MIB ((uint64_t)1 << 20)
#define PEAK_SMALL (2 * MIB)
#define PEAK_RECORD (20 * MIB)

extern mock_proc g_mock;  /* the hostile scenario */
extern mock_proc g_mock2; /* redirect targets: must never be reached */

/* What the callbacks saw. */
typedef struct obs {
  char text[8192];
  size_t text_len;  /* may exceed sizeof text: only the start is kept */
  int n_text;
  int n_tools;
  int n_tool_deltas;
  size_t tool_index[4];
  char tool_args[4][64];
  int n_done, n_error, n_after;
  rill_finish finish;
  rill_usage usage;
  int code;
  long http;
  char msg[2048];
} obs;

typedef struct run_opts {
  rill_provider provider; /* 0: Ollama */
  rill_timeouts timeouts; /* total_ms 0 becomes 20 s (a hang fails) */
  rill_retry retry;       /* max_retries 0 becomes -1 (none) here */
  rill_limits limits;
  int follow_redirects;
  const char *api_key;
  uint64_t peak_cap;      /* 0: PEAK_SMALL */
  const mock_proc *mock;  /* NULL: g_mock */
} run_opts;

/* Chat with route "/name/..." of the scenario. Returns rill_chat's code
 * after the per-run checks (cmocka assertions). */
int run(const char *name, const run_opts *ro, obs *o);

/* The text is "Hello world" (the hand-made streams). */
void assert_hello(const obs *o);
/* The kept text is a prefix of the generators' word cycle (with exactly n
 * words when n >= 0). */
int is_word_prefix(const obs *o, int64_t n);
/* The requests the mock recorded, as its JSON text (free it). */
char *requests(const mock_proc *m);
/* Occurrences of needle in hay. */
int count(const char *hay, const char *needle);

/* cmocka group set-up / teardown: start the two mocks (the scenario's
 * @PORT2@ replaced by the second's port) and make one warm-up request. */
int hostile_setup(void **st);
int hostile_teardown(void **st);

#endif
