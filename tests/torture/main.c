/*
 * rill-torture — fail every allocation of every scenario, once and from
 * then on (RELIABILITY.md G3; docs/testing.md "Allocation failure (G3)").
 *
 *   rill-torture [--list] [--k K --mode once|from] [NAME...]
 *
 * For each scenario (all, or those named): a warm-up run (so process-wide
 * lazy allocations of libc or curl are out of the way), a counting run that
 * gives N (allocation attempts, rill's and curl's) and the reference
 * output, then for k = 1..N a run with the k-th allocation failing (mode
 * once) and one with every allocation from the k-th on failing (mode from).
 * A run passes when
 *  - it returns RILL_OK, RILL_E_NOMEM, the unfailed run's own code, or a
 *    code the scenario lists as documented for this call;
 *  - chat callbacks: exactly one of on_done / on_error, nothing after it,
 *    on_error's code is the returned one, no callback when the start
 *    itself failed;
 *  - the heap (rill_alloc_get_stats) is back where the run started;
 *  - a run that returns RILL_OK gave the same output as the counting run
 *    (an allocation failure may fail a call, never change its answer).
 * Exit status: 0 all passed, 1 a failure (each named with scenario, k and
 * mode), 2 usage or set-up error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rill/alloc.h"
#include "rill/error.h"
#include "torture.h"

#define MAX_REPORTED 8 /* failures printed per scenario */

typedef struct tally {
  uint64_t runs;
  uint64_t by_code[32]; /* index -rc (0 = RILL_OK) */
  uint64_t failures;
} tally;

typedef struct reference {
  int rc;
  const char *log;
} reference;

static const char *mode_name(rill_fail_mode m) {
  return m == RILL_FAIL_ONCE ? "once" : "from";
}

static uint64_t in_use(void) {
  rill_alloc_stats st = RILL_ALLOC_STATS_INIT;
  rill_alloc_get_stats(&st);
  return st.bytes_in_use;
}

static int code_listed(const int *list, int rc) {
  for (; list && *list; list++)
    if (*list == rc)
      return 1;
  return 0;
}

/* Why run r (returned rc) broke the contract, or NULL. */
static const char *judge(const tt_scenario *s, const reference *ref,
                         const tt_run *r, int rc, int64_t leaked) {
  static char why[256];
  /* Without a reference (the unfailed runs) any code is the scenario's
   * expected outcome; the other checks still apply. */
  if (ref && rc != RILL_OK && rc != RILL_E_NOMEM && rc != ref->rc &&
      !code_listed(s->also_ok, rc)) {
    snprintf(why, sizeof why, "returned %s (%d), not a documented code",
             rill_error_name(rc), rc);
    return why;
  }
  if (r->uses_chat_cb) {
    if (r->late)
      return "a callback ran after on_done/on_error";
    if (r->start_failed && r->n_done + r->n_error != 0)
      return "callbacks ran although the start failed";
    if (!r->start_failed && r->n_done + r->n_error != 1) {
      snprintf(why, sizeof why,
               "%d on_done and %d on_error (want one), returned %s (%d)",
               r->n_done, r->n_error, rill_error_name(rc), rc);
      return why;
    }
    if (rc == RILL_OK && !r->start_failed && r->n_done != 1)
      return "returned RILL_OK without on_done";
    if (r->n_error && r->err_code != rc) {
      snprintf(why, sizeof why, "on_error had %s but the call returned %s",
               rill_error_name(r->err_code), rill_error_name(rc));
      return why;
    }
  }
  if (leaked != 0) {
    snprintf(why, sizeof why, "%lld bytes %s after freeing everything",
             (long long)(leaked > 0 ? leaked : -leaked),
             leaked > 0 ? "still allocated" : "freed twice or too much");
    return why;
  }
  if (ref && rc == RILL_OK && ref->rc == RILL_OK &&
      strcmp(r->log.s ? r->log.s : "", ref->log) != 0)
    return "returned RILL_OK with an output other than the unfailed run's";
  return NULL;
}

/* One run with the k-th allocation failing in mode m (k 0: none). */
/* Returns 0 when the run passed; *rc_out receives its status. */
static int one_run(const tt_scenario *s, void *ctx, uint64_t k,
                   rill_fail_mode m, const reference *ref, tally *t,
                   tt_run *keep, uint64_t *attempts, int *rc_out) {
  tt_run r;
  uint64_t before;
  int rc;
  const char *why;
  memset(&r, 0, sizeof r);
  if (s->prepare)
    s->prepare(ctx);
  before = in_use();
  rill_alloc_fail_at(k, m);
  rc = s->run(ctx, &r);
  if (attempts)
    *attempts = rill_alloc_attempts();
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  why = judge(s, ref, &r, rc, (int64_t)(in_use() - before));
  if (t) {
    t->runs++;
    t->by_code[rc <= 0 && rc > -32 ? -rc : 31]++;
  }
  if (why) {
    if (t && t->failures++ < MAX_REPORTED)
      fprintf(stderr, "FAIL %s k=%llu mode=%s: %s\n", s->name,
              (unsigned long long)k, mode_name(m), why);
    else if (!t)
      fprintf(stderr, "FAIL %s (no failure injected): %s\n", s->name, why);
  }
  if (keep)
    *keep = r;
  else
    tt_log_free(&r.log);
  if (rc_out)
    *rc_out = rc;
  return why ? -1 : 0;
}

static void print_tally(const char *name, uint64_t n, const tally *t,
                        double secs) {
  int i;
  printf("%-33s N=%-6llu runs=%-7llu", name, (unsigned long long)n,
         (unsigned long long)t->runs);
  for (i = 0; i < 32; i++)
    if (t->by_code[i])
      printf(" %s=%llu", i == 0 ? "ok" : i == 2 ? "nomem"
                         : i == 31 ? "unknown" : rill_error_name(-i),
             (unsigned long long)t->by_code[i]);
  printf("  %.1fs%s\n", secs, t->failures ? "  FAILED" : "");
  fflush(stdout);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Run one scenario; k_only > 0 runs that single k (mode m_only). */
static int torture(const tt_scenario *s, uint64_t k_only, int m_only,
                   tally *total, uint64_t *total_n) {
  void *ctx = NULL;
  tt_run ref_run;
  reference ref;
  tally t;
  uint64_t n = 0, k;
  int m;
  double t0 = now_s();
  memset(&t, 0, sizeof t);
  if (s->setup && s->setup(&ctx) != 0) {
    fprintf(stderr, "FAIL %s: set-up failed\n", s->name);
    if (ctx && s->teardown)
      s->teardown(ctx);
    return -1;
  }
  /* Warm-up: lazily made process-wide state must not count as a leak. */
  if (one_run(s, ctx, 0, RILL_FAIL_ONCE, NULL, NULL, NULL, NULL, NULL) != 0 ||
      one_run(s, ctx, 0, RILL_FAIL_ONCE, NULL, NULL, &ref_run, &n,
              &ref.rc) != 0) {
    if (s->teardown)
      s->teardown(ctx);
    return -1;
  }
  /* The unfailed run's code and output are the scenario's expectation. */
  ref.log = ref_run.log.s ? ref_run.log.s : "";
  if (n == 0) {
    fprintf(stderr, "FAIL %s: it allocates nothing, so it tests nothing\n",
            s->name);
    t.failures++;
  }
  for (m = RILL_FAIL_ONCE; m <= RILL_FAIL_FROM; m++) {
    if (m_only && m != m_only)
      continue;
    for (k = k_only ? k_only : 1; k <= (k_only ? k_only : n); k++)
      one_run(s, ctx, k, (rill_fail_mode)m, &ref, &t, NULL, NULL, NULL);
  }
  tt_log_free(&ref_run.log);
  if (s->teardown)
    s->teardown(ctx);
  print_tally(s->name, n, &t, now_s() - t0);
  if (total) {
    for (m = 0; m < 32; m++)
      total->by_code[m] += t.by_code[m];
    total->runs += t.runs;
    total->failures += t.failures;
    *total_n += n;
  }
  return t.failures ? -1 : 0;
}

typedef struct table {
  const tt_scenario *s;
  size_t n;
} table;

int main(int argc, char **argv) {
  table tables[3];
  uint64_t k_only = 0, total_n = 0;
  int m_only = 0, list = 0, i, failed = 0, n_named = 0, ran = 0;
  size_t ti, si;
  tally total;
  double t0 = now_s();
  tables[0].s = tt_unit_scenarios;
  tables[0].n = tt_n_unit_scenarios;
  tables[1].s = tt_file_scenarios;
  tables[1].n = tt_n_file_scenarios;
  tables[2].s = tt_mock_scenarios;
  tables[2].n = tt_n_mock_scenarios;
  memset(&total, 0, sizeof total);
  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--list") == 0) {
      list = 1;
    } else if (strcmp(argv[i], "--k") == 0 && i + 1 < argc) {
      k_only = strtoull(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
      i++;
      m_only = strcmp(argv[i], "once") == 0   ? RILL_FAIL_ONCE
               : strcmp(argv[i], "from") == 0 ? RILL_FAIL_FROM
                                              : -1;
      if (m_only < 0) {
        fprintf(stderr, "rill-torture: --mode once|from\n");
        return 2;
      }
    } else if (argv[i][0] == '-') {
      fprintf(stderr,
              "usage: rill-torture [--list] [--k K [--mode once|from]] "
              "[SCENARIO...]\n");
      return 2;
    } else {
      n_named++;
    }
  }
  if (list) {
    for (ti = 0; ti < 3; ti++)
      for (si = 0; si < tables[ti].n; si++)
        printf("%s %s\n", tables[ti].s[si].level, tables[ti].s[si].name);
    return 0;
  }
  if (rill_global_init(NULL) != RILL_OK) {
    fprintf(stderr, "rill-torture: rill_global_init failed\n");
    return 2;
  }
  for (ti = 0; ti < 3; ti++) {
    for (si = 0; si < tables[ti].n; si++) {
      const tt_scenario *s = &tables[ti].s[si];
      int wanted = n_named == 0;
      for (i = 1; i < argc && !wanted; i++)
        wanted = strcmp(argv[i], s->name) == 0;
      if (!wanted)
        continue;
      ran++;
      if (torture(s, k_only, m_only, &total, &total_n) != 0)
        failed = 1;
    }
  }
  rill_global_cleanup();
  if (ran < n_named || ran == 0) {
    fprintf(stderr, "rill-torture: no such scenario (see --list)\n");
    return 2;
  }
  print_tally("TOTAL", total_n, &total, now_s() - t0);
  return failed ? 1 : 0;
}
