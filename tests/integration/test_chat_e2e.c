/*
 * test_chat_e2e.c — the chat API end to end against rill-mock: Ollama and
 * OpenAI-format streams in several splits, assembled text checked exactly;
 * 1,000 simultaneous streams on one client; 10,000 sequential requests
 * returning the heap to its baseline; one stream's peak heap the same for a
 * 1 MiB and a 1 GiB response.
 *
 * The mock's generated bodies are the words of "The quick brown fox jumps
 * over the lazy dog. " (split after each space) in a cycle, one word per
 * delta, and report N words in the usage (tests/mock/CONTRACT.md); so the
 * exact text is known from the output token count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "mock_proc.h"
#include "rill/rill.h"

static const char *const k_words[] = {"The ", "quick ", "brown ", "fox ",
                                      "jumps ", "over ", "the ", "lazy ",
                                      "dog. "};

/* Whether text is exactly the first n words of the cycle. */
static int is_expected_text(const char *text, size_t len, int64_t n) {
  size_t off = 0;
  int64_t i;
  for (i = 0; i < n; i++) {
    const char *w = k_words[i % 9];
    size_t wl = strlen(w);
    if (off + wl > len || memcmp(text + off, w, wl) != 0)
      return 0;
    off += wl;
  }
  return off == len;
}

static mock_proc g_mock;

static const char k_scenario[] =
    "{\"routes\":["
    "{\"method\":\"POST\",\"path\":\"/small/api/chat\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_chat\",\"bytes\":4096},\"split\":{\"mode\":\"records\"}}]},"
    "{\"method\":\"POST\",\"path\":\"/small/v1/chat/completions\",\"responses\":[{"
    "\"generate\":{\"kind\":\"openai_chat\",\"bytes\":4096},\"split\":{\"mode\":"
    "\"records\"}}]},"
    "{\"method\":\"POST\",\"path\":\"/random/api/chat\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_chat\",\"bytes\":262144},\"split\":{\"mode\":\"random\","
    "\"n\":97,\"seed\":3}}]},"
    "{\"method\":\"POST\",\"path\":\"/random/v1/chat/completions\",\"responses\":[{"
    "\"generate\":{\"kind\":\"openai_chat\",\"bytes\":262144},\"split\":{\"mode\":"
    "\"random\",\"n\":97,\"seed\":5}}]},"
    "{\"method\":\"POST\",\"path\":\"/bytes/api/chat\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_chat\",\"bytes\":8192},\"split\":{\"mode\":\"bytes\"}}]},"
    "{\"method\":\"POST\",\"path\":\"/bytes/v1/chat/completions\",\"responses\":[{"
    "\"generate\":{\"kind\":\"openai_chat\",\"bytes\":8192},\"split\":{\"mode\":"
    "\"bytes\"}}]},"
    "{\"method\":\"POST\",\"path\":\"/mib/api/chat\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_chat\",\"bytes\":1048576},\"split\":{\"mode\":\"fixed\","
    "\"n\":65536}}]},"
    "{\"method\":\"POST\",\"path\":\"/mib/v1/chat/completions\",\"responses\":[{"
    "\"generate\":{\"kind\":\"openai_chat\",\"bytes\":1048576},\"split\":{\"mode\":"
    "\"fixed\",\"n\":65536}}]},"
    "{\"method\":\"POST\",\"path\":\"/gib/api/chat\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_chat\",\"bytes\":1073741824},\"split\":{\"mode\":\"fixed\","
    "\"n\":65536}}]},"
    "{\"method\":\"POST\",\"path\":\"/gib/v1/chat/completions\",\"responses\":[{"
    "\"generate\":{\"kind\":\"openai_chat\",\"bytes\":1073741824},\"split\":{"
    "\"mode\":\"fixed\",\"n\":65536}}]}"
    "]}";

static int setup(void **state) {
  (void)state;
  if (rill_global_init(NULL) != RILL_OK)
    return -1;
  return mock_start(&g_mock, RILL_MOCK_BIN, k_scenario, NULL);
}

static int teardown(void **state) {
  (void)state;
  mock_stop(&g_mock);
  rill_global_cleanup();
  return 0;
}

static void make_request(rill_chat_request *req, rill_message *msg,
                         rill_provider p, const char *prefix, char *url,
                         size_t url_cap) {
  memset(req, 0, sizeof *req);
  req->size = sizeof *req;
  req->endpoint.provider = p;
  snprintf(url, url_cap, "%s/%s%s", g_mock.base, prefix,
           p == RILL_PROVIDER_OLLAMA ? "" : "/v1");
  req->endpoint.base_url = url;
  req->model = "m";
  memset(msg, 0, sizeof *msg);
  msg->role = RILL_ROLE_USER;
  msg->content = "hello";
  req->messages = msg;
  req->n_messages = 1;
}

/* One chat, accumulated; returns the output token count after checking the
 * text is exact. */
static int64_t chat_exact(rill_client *c, rill_provider p, const char *prefix) {
  rill_chat_request req;
  rill_message msg;
  rill_chat_result *r;
  rill_chat_callbacks cb;
  char url[256];
  const rill_done *done;
  const char *text;
  size_t len;
  int64_t n;
  make_request(&req, &msg, p, prefix, url, sizeof url);
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &cb), RILL_OK);
  assert_int_equal(rill_chat(c, &req, &cb), RILL_OK);
  done = rill_chat_result_done(r);
  assert_non_null(done);
  assert_int_equal(done->finish, RILL_FINISH_STOP);
  n = done->usage.output_tokens;
  assert_true(n > 0);
  text = rill_chat_result_text(r, &len);
  assert_true(is_expected_text(text, len, n));
  rill_chat_result_free(r);
  return n;
}

static void test_splits_exact(void **state) {
  static const char *const prefixes[] = {"small", "random", "bytes"};
  rill_client *c;
  size_t i;
  (void)state;
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  for (i = 0; i < 3; i++) {
    int64_t a = chat_exact(c, RILL_PROVIDER_OLLAMA, prefixes[i]);
    int64_t b = chat_exact(c, RILL_PROVIDER_OPENAI, prefixes[i]);
    printf("%s: ollama %lld words, openai %lld words, exact\n", prefixes[i],
           (long long)a, (long long)b);
  }
  rill_client_free(c);
}

/* ---- 1,000 streams at once ------------------------------------------- */

#define N_CONCURRENT 1000

typedef struct one {
  rill_chat_result *r;
} one;

static void test_thousand_streams(void **state) {
  static one streams[N_CONCURRENT];
  rill_client *c;
  rill_client_opts o = RILL_CLIENT_OPTS_INIT;
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  struct rusage ru;
  char url_o[256], url_a[256];
  int i, running, rounds = 0, exact = 0;
  (void)state;
  assert_int_equal(rill_client_new(&c, &o), RILL_OK);
  rill_alloc_get_stats(&before);
  rill_alloc_reset_peak();
  for (i = 0; i < N_CONCURRENT; i++) {
    rill_chat_request req;
    rill_message msg;
    rill_chat_callbacks cb;
    rill_provider p = (i % 2) ? RILL_PROVIDER_OPENAI : RILL_PROVIDER_OLLAMA;
    make_request(&req, &msg, p, "small", p == RILL_PROVIDER_OLLAMA ? url_o : url_a,
                 sizeof url_o);
    assert_int_equal(rill_chat_result_new(&streams[i].r), RILL_OK);
    assert_int_equal(rill_chat_result_callbacks(streams[i].r, NULL, &cb), RILL_OK);
    assert_int_equal(rill_chat_start(c, &req, &cb, NULL), RILL_OK);
  }
  assert_int_equal(rill_client_active(c), N_CONCURRENT);
  do {
    running = rill_client_poll(c, 100);
    assert_true(running >= 0);
  } while (running > 0 && ++rounds < 100000);
  assert_int_equal(running, 0);
  rill_alloc_get_stats(&after);
  for (i = 0; i < N_CONCURRENT; i++) {
    const rill_done *d = rill_chat_result_done(streams[i].r);
    size_t len;
    const char *text = rill_chat_result_text(streams[i].r, &len);
    if (d && d->finish == RILL_FINISH_STOP &&
        is_expected_text(text, len, d->usage.output_tokens))
      exact++;
    else if (!d)
      fprintf(stderr, "stream %d: %s\n", i,
              rill_chat_result_error(streams[i].r)->message);
    rill_chat_result_free(streams[i].r);
  }
  getrusage(RUSAGE_SELF, &ru);
  printf("%d concurrent streams: %d exact; peak heap %llu B (%.1f KiB per "
         "stream, incl. curl); max RSS %ld KiB\n",
         N_CONCURRENT, exact,
         (unsigned long long)(after.peak_bytes - before.bytes_in_use),
         (double)(after.peak_bytes - before.bytes_in_use) / N_CONCURRENT / 1024.0,
         ru.ru_maxrss);
  assert_int_equal(exact, N_CONCURRENT);
  rill_client_free(c);
}

/* ---- 10,000 sequential requests ----------------------------------------- */

static void test_sequential_heap(void **state) {
  rill_client *c;
  rill_alloc_stats base = RILL_ALLOC_STATS_INIT, mid = RILL_ALLOC_STATS_INIT,
                   end = RILL_ALLOC_STATS_INIT;
  char url[256];
  int i;
  (void)state;
  rill_alloc_get_stats(&base);
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  for (i = 0; i < 10000; i++) {
    rill_chat_request req;
    rill_message msg;
    rill_chat_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.size = sizeof cb;
    make_request(&req, &msg, (i % 2) ? RILL_PROVIDER_OPENAI : RILL_PROVIDER_OLLAMA,
                 "small", url, sizeof url);
    assert_int_equal(rill_chat(c, &req, &cb), RILL_OK);
    if (i == 99)
      rill_alloc_get_stats(&mid);
  }
  rill_alloc_get_stats(&end);
  printf("10000 sequential requests: heap in use after 100: %llu B, after "
         "10000: %llu B\n",
         (unsigned long long)(mid.bytes_in_use - base.bytes_in_use),
         (unsigned long long)(end.bytes_in_use - base.bytes_in_use));
  /* Warm caches (pool, curl's connection cache) may hold memory, but it
   * must not grow with the number of requests. */
  assert_true(end.bytes_in_use <= mid.bytes_in_use);
  rill_client_free(c);
  rill_alloc_get_stats(&end);
  assert_int_equal(end.bytes_in_use, base.bytes_in_use);
}

/* ---- peak heap: 1 MiB vs 1 GiB ------------------------------------------ */

static int count_text(void *user, const char *s, size_t n) {
  (void)s;
  *(uint64_t *)user += n;
  return 0;
}

static uint64_t one_stream_peak(rill_provider p, const char *prefix,
                                uint64_t *text_bytes) {
  rill_client *c;
  rill_chat_request req;
  rill_message msg;
  rill_chat_callbacks cb;
  char url[256];
  rill_alloc_stats a = RILL_ALLOC_STATS_INIT, b = RILL_ALLOC_STATS_INIT;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = count_text;
  cb.user = text_bytes;
  *text_bytes = 0;
  assert_int_equal(rill_client_new(&c, NULL), RILL_OK);
  make_request(&req, &msg, p, prefix, url, sizeof url);
  rill_alloc_get_stats(&a);
  rill_alloc_reset_peak();
  assert_int_equal(rill_chat(c, &req, &cb), RILL_OK);
  rill_alloc_get_stats(&b);
  rill_client_free(c);
  return b.peak_bytes - a.bytes_in_use;
}

static void test_peak_constant(void **state) {
  rill_provider ps[2] = {RILL_PROVIDER_OLLAMA, RILL_PROVIDER_OPENAI};
  int i;
  (void)state;
  for (i = 0; i < 2; i++) {
    uint64_t t_small, t_big;
    uint64_t small = one_stream_peak(ps[i], "mib", &t_small);
    uint64_t big = one_stream_peak(ps[i], "gib", &t_big);
    printf("%s: 1 MiB response (%llu text bytes): peak heap %llu B; 1 GiB "
           "response (%llu text bytes): peak heap %llu B\n",
           rill_provider_name(ps[i]), (unsigned long long)t_small,
           (unsigned long long)small, (unsigned long long)t_big,
           (unsigned long long)big);
    assert_true(t_big > 500 * t_small);
    assert_int_equal(big, small);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_splits_exact),
      cmocka_unit_test(test_thousand_streams),
      cmocka_unit_test(test_sequential_heap),
      cmocka_unit_test(test_peak_constant),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
