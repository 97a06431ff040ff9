/*
 * test_split_pairs — split invariance with two cuts (RELIABILITY G4).
 *
 * The provider tests (test_openai.c, ...) check each recorded stream whole,
 * in 1-byte pieces and cut once at every position against an expected log.
 * This program adds every pair of cuts: the stream goes through the real
 * framer as [0, i) + [i, j) + [j, len) and must give the log and status of
 * the uncut stream. Pairs are what catch a state kept across two
 * boundaries, e.g. a CR at the end of one piece and its LF two pieces later.
 *
 * Every fixture in tests/unit/data/providers whose name says which decoder
 * reads it is used. All pairs for streams up to ALL_PAIRS_MAX bytes; in
 * longer ones the second cut stays within WINDOW bytes of the first (the
 * pairs that land inside one record or one line ending, where the framers
 * keep state), so the test stays a few seconds long. Labelled heavy: it
 * runs millions of decodes, kept out of valgrind, run under ASan.
 */
#include <dirent.h>

#include "prov_harness.h"

enum { ALL_PAIRS_MAX = 800, WINDOW = 64 };

typedef struct fixture_kind {
  const char *prefix;
  const char *suffix;
  feed_kind kind;
  make_fn make;
} fixture_kind;

static int make_openai(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__openai_chat_decoder_new(cb, out);
}
static int make_anthropic(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__anthropic_chat_decoder_new(cb, out);
}
static int make_gemini(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__gemini_chat_decoder_new(cb, out);
}
static int make_ollama_chat(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__ollama_chat_decoder_new(cb, 0, out);
}
static int make_ollama_generate(const rill_chat_callbacks *cb,
                                rill__decoder **out) {
  return rill__ollama_chat_decoder_new(cb, 1, out);
}

/* ollama_pull_* streams have a decoder of their own (progress, not chat):
 * test_ollama.c splits them. */
static const fixture_kind k_kinds[] = {
    {"openai_", ".sse", FEED_SSE, make_openai},
    {"anthropic_", ".sse", FEED_SSE, make_anthropic},
    {"gemini_", ".sse", FEED_SSE, make_gemini},
    {"ollama_chat_", ".ndjson", FEED_NDJSON, make_ollama_chat},
    {"ollama_generate", ".ndjson", FEED_NDJSON, make_ollama_generate},
};

static const fixture_kind *kind_of(const char *name) {
  size_t i, n = strlen(name);
  for (i = 0; i < sizeof k_kinds / sizeof k_kinds[0]; i++) {
    size_t s = strlen(k_kinds[i].suffix);
    if (strncmp(name, k_kinds[i].prefix, strlen(k_kinds[i].prefix)) == 0 &&
        n > s && strcmp(name + n - s, k_kinds[i].suffix) == 0)
      return &k_kinds[i];
  }
  return NULL;
}

/* Feed [0,i) [i,j) [j,len) through the framer (i < j; j == len: one cut);
 * the log goes to *l. Returns the final status, as the transport sees it. */
static int run_cuts(const fixture_kind *k, const char *data, size_t len,
                    size_t i, size_t j, plog *l) {
  rill_chat_callbacks cb;
  rill__decoder *d = NULL;
  feed_ctx f;
  rill_ndjson *nd = NULL;
  rill_sse *sse = NULL;
  size_t cut[3], off = 0, c;
  int rc;
  memset(l, 0, sizeof *l);
  cb = plog_callbacks(l);
  assert_int_equal(k->make(&cb, &d), RILL_OK);
  f.d = d;
  f.rc = RILL_OK;
  rc = k->kind == FEED_NDJSON ? rill_ndjson_new(&nd, NULL, fwd_record, &f)
                              : rill_sse_new(&sse, NULL, fwd_event, &f);
  assert_int_equal(rc, RILL_OK);
  cut[0] = i;
  cut[1] = j;
  cut[2] = len;
  for (c = 0; c < 3 && rc == RILL_OK; c++) {
    rc = nd ? rill_ndjson_feed(nd, data + off, cut[c] - off)
            : rill_sse_feed(sse, data + off, cut[c] - off);
    off = cut[c];
  }
  if (rc == RILL_OK)
    rc = nd ? rill_ndjson_finish(nd) : rill_sse_finish(sse);
  if (rc == RILL_E_CANCELLED && f.rc != RILL_OK)
    rc = f.rc;
  rill_ndjson_free(nd);
  rill_sse_free(sse);
  if (rc == RILL_OK)
    rc = d->ops->on_end(d);
  if (rc != RILL_OK)
    d->ops->on_failure(d, rc, 0, rill__decoder_errmsg(d));
  d->ops->destroy(d);
  return rc;
}

static void check_fixture(const char *name, const fixture_kind *k,
                          unsigned long long *runs) {
  size_t len, i, j, last;
  char *data = read_fixture(name, &len);
  plog ref, l;
  int ref_rc = run_cuts(k, data, len, len, len, &ref);
  assert_non_null(ref.s);
  for (i = 1; i + 1 < len; i++) {
    last = len <= ALL_PAIRS_MAX ? len - 1 : i + WINDOW;
    if (last > len - 1)
      last = len - 1;
    for (j = i + 1; j <= last; j++) {
      int rc = run_cuts(k, data, len, i, j, &l);
      if (rc != ref_rc || strcmp(l.s ? l.s : "", ref.s) != 0) {
        print_error("%s: cuts at %zu and %zu\n--- uncut (%s)\n%s--- cut (%s)\n%s",
                    name, i, j, rill_error_name(ref_rc), ref.s,
                    rill_error_name(rc), l.s ? l.s : "");
        fail();
      }
      free(l.s);
      (*runs)++;
    }
  }
  free(ref.s);
  free(data);
}

static void test_every_pair_of_cuts(void **state) {
  char dir[1024];
  DIR *dp;
  struct dirent *e;
  unsigned long long runs = 0;
  int files = 0;
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  (void)state;
  snprintf(dir, sizeof dir, "%s/providers", RILL_TESTDATA_DIR);
  dp = opendir(dir);
  assert_non_null(dp);
  rill_alloc_get_stats(&before);
  while ((e = readdir(dp)) != NULL) {
    const fixture_kind *k = kind_of(e->d_name);
    if (!k)
      continue;
    check_fixture(e->d_name, k, &runs);
    files++;
  }
  closedir(dp);
  rill_alloc_get_stats(&after);
  assert_int_equal(after.bytes_in_use, before.bytes_in_use);
  /* Each provider has several recorded streams: a missing data directory
   * or a renamed fixture set must fail, not pass with nothing checked. */
  assert_true(files >= 25);
  print_message("%d streams, %llu two-cut runs, all identical to the uncut "
                "feed\n", files, runs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_pair_of_cuts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
