/*
 * test_framer_cases.c — replays tests/unit/data/{sse,ndjson}/NAME.case through
 * the framers and the `rill parse` line formatter (examples/cli/parse_out.c),
 * with every feed pattern: whole, 1-byte pieces, split at every position,
 * and (inputs up to 300 bytes) split at every pair of positions. Each run
 * must print exactly the expected lines and end with the expected exit code.
 * tests/cli/parse_cases.sh runs the same files through the real command.
 *
 * Case file format (one rule per file; the kind is the directory name):
 *
 *   # comment lines start with '#', in any section
 *   max-record: 16        optional, before input: (--max-record 16)
 *   input:
 *   data: hello\n         lines concatenated WITHOUT adding newlines;
 *   \n                    escapes \n \r \t \\ \0 \xHH (two hex digits) are
 *                         decoded, as bash's printf '%b' does; any other
 *                         backslash sequence, and \0 before an octal digit,
 *                         is rejected so the two readers cannot disagree
 *   expect:
 *   {"event":"message","data":"hello","id":""}     exact stdout lines
 *   {"end":true,"retry":null}
 *   exit: 0               optional, last (default 0)
 *
 * Exit codes mirror examples/cli/cmd_parse.c: a framer failure stops the
 * output, exit 3 for RILL_E_LIMIT and 1 otherwise; SSE prints the end line
 * only after a clean finish; NDJSON exits 3 if any record was malformed.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "parse_out.h"
#include "rill/error.h"
#include "rill/json.h"
#include "rill/stream.h"

#ifndef RILL_TESTDATA_DIR
#error "RILL_TESTDATA_DIR must be defined"
#endif

typedef struct text {
  char *s;
  size_t len, cap;
} text;

static void text_add(text *t, const char *s, size_t n) {
  if (t->len + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap : 256;
    while (cap < t->len + n + 1)
      cap *= 2;
    t->s = realloc(t->s, cap);
    assert_non_null(t->s);
    t->cap = cap;
  }
  if (n)
    memcpy(t->s + t->len, s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

static void text_free(text *t) {
  free(t->s);
  memset(t, 0, sizeof *t);
}

typedef struct fcase {
  char name[300];
  int is_sse;
  size_t max_record; /* 0: default */
  text input;
  text expect; /* expected stdout, each line ending in '\n' */
  int exit_code;
} fcase;

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static void decode_line(const char *file, int lineno, const char *s, text *out) {
  while (*s) {
    char c = *s++;
    if (c != '\\') {
      text_add(out, &c, 1);
      continue;
    }
    c = *s++;
    switch (c) {
    case 'n':
      text_add(out, "\n", 1);
      break;
    case 'r':
      text_add(out, "\r", 1);
      break;
    case 't':
      text_add(out, "\t", 1);
      break;
    case '\\':
      text_add(out, "\\", 1);
      break;
    case '0':
      if (*s >= '0' && *s <= '7')
        fail_msg("%s:%d: \\0 before an octal digit (printf %%b would read "
                 "octal); use \\x00",
                 file, lineno);
      text_add(out, "", 1);
      break;
    case 'x': {
      int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);
      char b;
      if (hi < 0 || lo < 0)
        fail_msg("%s:%d: \\x needs exactly two hex digits", file, lineno);
      b = (char)(hi * 16 + lo);
      text_add(out, &b, 1);
      s += 2;
      break;
    }
    default:
      fail_msg("%s:%d: unsupported escape \\%c", file, lineno, c ? c : '0');
    }
  }
}

static void load_case(const char *dir, const char *fname, int is_sse,
                      fcase *c) {
  char path[1024], line[65536];
  FILE *f;
  int lineno = 0, section = 0; /* 0 header, 1 input, 2 expect, 3 done */
  int saw_input = 0, saw_expect = 0;

  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s/%s", is_sse ? "sse" : "ndjson", fname);
  c->is_sse = is_sse;
  snprintf(path, sizeof path, "%s/%s", dir, fname);
  f = fopen(path, "rb");
  if (!f)
    fail_msg("cannot open %s", path);
  while (fgets(line, sizeof line, f)) {
    size_t n = strlen(line);
    lineno++;
    if (n == 0 || line[n - 1] != '\n')
      fail_msg("%s:%d: line too long or no final newline", c->name, lineno);
    line[--n] = '\0';
    if (n && line[n - 1] == '\r')
      fail_msg("%s:%d: CRLF in a case file; write \\r instead", c->name,
               lineno);
    if (line[0] == '#')
      continue;
    if (section == 0) {
      if (n == 0)
        continue;
      if (strncmp(line, "max-record:", 11) == 0) {
        char *end;
        c->max_record = (size_t)strtoull(line + 11, &end, 10);
        if (*end != '\0' || c->max_record == 0)
          fail_msg("%s:%d: bad max-record", c->name, lineno);
      } else if (strcmp(line, "input:") == 0) {
        section = 1;
        saw_input = 1;
      } else {
        fail_msg("%s:%d: expected max-record: or input:", c->name, lineno);
      }
    } else if (section == 1) {
      if (strcmp(line, "expect:") == 0) {
        section = 2;
        saw_expect = 1;
      } else {
        decode_line(c->name, lineno, line, &c->input);
      }
    } else if (section == 2) {
      if (strncmp(line, "exit:", 5) == 0) {
        char *end;
        c->exit_code = (int)strtol(line + 5, &end, 10);
        if (*end != '\0')
          fail_msg("%s:%d: bad exit", c->name, lineno);
        section = 3;
      } else if (n) {
        text_add(&c->expect, line, n);
        text_add(&c->expect, "\n", 1);
      }
    } else if (n) {
      fail_msg("%s:%d: text after exit:", c->name, lineno);
    }
  }
  fclose(f);
  if (!saw_input || !saw_expect)
    fail_msg("%s: needs input: and expect: sections", c->name);
  if (!c->input.s)
    text_add(&c->input, "", 0);
  if (!c->expect.s)
    text_add(&c->expect, "", 0);
}

/* ---- one run, mirroring cmd_parse.c ------------------------------------ */

typedef struct run_ctx {
  rill_jw *w;
  text out;
  int malformed;
  int status; /* first writer error */
} run_ctx;

static int emit(run_ctx *r, int rc) {
  size_t len;
  const char *line;
  if (rc < 0) {
    r->status = rc;
    return 1;
  }
  line = rill_jw_data(r->w, &len);
  text_add(&r->out, line, len);
  text_add(&r->out, "\n", 1);
  return 0;
}

static int on_event(void *user, const rill_sse_event *ev) {
  run_ctx *r = user;
  return emit(r, parse_out_sse_event(r->w, ev));
}

static int on_record(void *user, const char *rec, size_t len, uint64_t line) {
  run_ctx *r = user;
  int rc = parse_out_ndjson_record(r->w, rec, len, line);
  if (rc == 1) {
    r->malformed = 1;
    rc = 0;
  }
  return emit(r, rc);
}

/* Feed c->input cut at cuts[0..n_cuts) (sorted) and return the exit code;
 * stdout goes to r->out. */
static int run_once(const fcase *c, run_ctx *r, const size_t *cuts,
                    size_t n_cuts) {
  rill_framer_opts opts = RILL_FRAMER_OPTS_INIT;
  rill_sse *sse = NULL;
  rill_ndjson *nd = NULL;
  size_t i, at = 0;
  int rc;

  r->out.len = 0;
  if (r->out.s)
    r->out.s[0] = '\0';
  r->malformed = 0;
  r->status = RILL_OK;
  opts.max_record_bytes = c->max_record;
  rc = c->is_sse ? rill_sse_new(&sse, &opts, on_event, r)
                 : rill_ndjson_new(&nd, &opts, on_record, r);
  assert_int_equal(rc, RILL_OK);
  for (i = 0; i <= n_cuts && rc == RILL_OK; i++) {
    size_t to = i < n_cuts ? cuts[i] : c->input.len;
    rc = c->is_sse ? rill_sse_feed(sse, c->input.s + at, to - at)
                   : rill_ndjson_feed(nd, c->input.s + at, to - at);
    at = to;
  }
  if (rc == RILL_OK)
    rc = c->is_sse ? rill_sse_finish(sse) : rill_ndjson_finish(nd);

  if (r->status != RILL_OK)
    rc = 1;
  else if (rc != RILL_OK)
    rc = rc == RILL_E_LIMIT ? 3 : 1;
  else if (c->is_sse) {
    uint64_t retry = 0;
    int has_retry = rill_sse_retry(sse, &retry);
    rc = emit(r, parse_out_sse_end(r->w, has_retry, retry)) ? 1 : 0;
  } else
    rc = r->malformed ? 3 : 0;
  rill_sse_free(sse);
  rill_ndjson_free(nd);
  return rc;
}

static size_t g_runs;

static void check_run(const fcase *c, run_ctx *r, const size_t *cuts,
                      size_t n_cuts, const char *pattern) {
  int code = run_once(c, r, cuts, n_cuts);
  const char *got = r->out.s ? r->out.s : "";
  g_runs++;
  if (code != c->exit_code || strcmp(got, c->expect.s) != 0) {
    char where[64] = "";
    if (n_cuts == 1)
      snprintf(where, sizeof where, " at %zu", cuts[0]);
    else if (n_cuts == 2)
      snprintf(where, sizeof where, " at %zu,%zu", cuts[0], cuts[1]);
    fail_msg("%s, fed %s%s: exit %d (want %d)\n--- got:\n%s--- want:\n%s",
             c->name, pattern, where, code, c->exit_code, got, c->expect.s);
  }
}

static void run_case(const fcase *c, run_ctx *r) {
  size_t n = c->input.len, i, j;
  size_t *cuts;
  size_t cut2[2];

  check_run(c, r, NULL, 0, "whole");
  /* 1-byte pieces */
  cuts = malloc((n + 1) * sizeof *cuts);
  assert_non_null(cuts);
  for (i = 0; i + 1 < n; i++)
    cuts[i] = i + 1;
  check_run(c, r, cuts, n ? n - 1 : 0, "in 1-byte pieces");
  free(cuts);
  for (i = 0; i <= n; i++)
    check_run(c, r, &i, 1, "split once");
  if (n <= 300)
    for (i = 0; i <= n; i++)
      for (j = i; j <= n; j++) {
        cut2[0] = i;
        cut2[1] = j;
        check_run(c, r, cut2, 2, "split twice");
      }
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t run_dir(const char *kind, int is_sse, run_ctx *r) {
  char dir[1024];
  DIR *d;
  struct dirent *e;
  char **names = NULL;
  size_t n = 0, cap = 0, i;

  snprintf(dir, sizeof dir, "%s/%s", RILL_TESTDATA_DIR, kind);
  d = opendir(dir);
  if (!d)
    fail_msg("case directory %s is missing", dir);
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 6 || strcmp(e->d_name + len - 5, ".case") != 0)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      names = realloc(names, cap * sizeof *names);
      assert_non_null(names);
    }
    names[n] = strdup(e->d_name);
    assert_non_null(names[n]);
    n++;
  }
  closedir(d);
  if (n == 0)
    fail_msg("no *.case files in %s", dir);
  qsort(names, n, sizeof *names, cmp_names);
  for (i = 0; i < n; i++) {
    fcase c;
    load_case(dir, names[i], is_sse, &c);
    run_case(&c, r);
    text_free(&c.input);
    text_free(&c.expect);
    free(names[i]);
  }
  free(names);
  return n;
}

static void test_cases(void **state, const char *kind, int is_sse) {
  run_ctx r;
  size_t n;
  (void)state;
  memset(&r, 0, sizeof r);
  assert_int_equal(rill_jw_new(&r.w, 0), RILL_OK);
  g_runs = 0;
  n = run_dir(kind, is_sse, &r);
  print_message("%s: %zu cases, %zu feed patterns run\n", kind, n, g_runs);
  rill_jw_free(r.w);
  text_free(&r.out);
}

static void test_sse_cases(void **state) { test_cases(state, "sse", 1); }

static void test_ndjson_cases(void **state) {
  test_cases(state, "ndjson", 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sse_cases),
      cmocka_unit_test(test_ndjson_cases),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
