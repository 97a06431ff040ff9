/*
 * Start and stop a rill-mock process for a test: write the scenario to a
 * temporary directory, run the mock on port 0, read the port it prints.
 * The process is killed by mock_stop, and by an atexit handler if a test
 * failed before it could stop it.
 */
#ifndef RILL_TEST_MOCK_PROC_H
#define RILL_TEST_MOCK_PROC_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mock_proc {
  pid_t pid;
  int port;
  char dir[256];       /* temp dir holding the scenario */
  char base[128];      /* "http://127.0.0.1:PORT" */
} mock_proc;

/* Start rill-mock (path in mock_bin) with the scenario text (JSON).
 * extra_args: NULL-terminated list of extra arguments (may be NULL).
 * Returns 0, or -1 with a message on stderr. */
int mock_start(mock_proc *m, const char *mock_bin, const char *scenario_json,
               const char *const *extra_args);

/* Kill it, wait for it, remove the temp dir. Safe to call twice. */
void mock_stop(mock_proc *m);

/* GET base+path with libcurl into a malloc'd NUL-terminated buffer (free
 * it). NULL on failure. */
char *mock_get(const mock_proc *m, const char *path);

#endif
