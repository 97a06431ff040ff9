/*
 * bench_client.c — the library's end-to-end throughput over loopback: one
 * streamed chat through rill_chat (curl transport, framer, strict JSON
 * decode, provider callbacks) whose on_text only counts bytes, so the
 * figure is rill's cost without any application work. bench_e2e.sh runs it
 * beside raw curl on the same rill-mock.
 *
 *   bench_client ollama|openai BASE_URL RUNS
 *
 * Prints: best seconds, response text bytes, deltas, ttft_ms of that run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rill/rill.h"

typedef struct counts {
  uint64_t bytes, deltas;
} counts;

static int on_text(void *user, const char *s, size_t n) {
  counts *c = user;
  (void)s;
  c->bytes += n;
  c->deltas++;
  return 0;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double g_ttft;
static int on_done(void *user, const rill_done *d) {
  (void)user;
  g_ttft = d->ttft_ms;
  return 0;
}

int main(int argc, char **argv) {
  rill_client *c;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg;
  rill_chat_callbacks cb;
  counts cnt = {0, 0};
  double best = 1e30, best_ttft = 0;
  int runs, i;
  if (argc != 4)
    return 2;
  runs = (int)strtol(argv[3], NULL, 10);
  if (rill_global_init(NULL) != RILL_OK || rill_client_new(&c, NULL) != RILL_OK)
    return 1;
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  req.endpoint.provider = strcmp(argv[1], "ollama") == 0 ? RILL_PROVIDER_OLLAMA
                                                         : RILL_PROVIDER_OPENAI;
  req.endpoint.base_url = argv[2];
  req.model = "m";
  req.messages = &msg;
  req.n_messages = 1;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_text = on_text;
  cb.on_done = on_done;
  cb.user = &cnt;
  for (i = 0; i < runs; i++) {
    double t0 = now_s(), t;
    cnt.bytes = cnt.deltas = 0;
    if (rill_chat(c, &req, &cb) != RILL_OK)
      return 1;
    t = now_s() - t0;
    if (t < best) {
      best = t;
      best_ttft = g_ttft;
    }
  }
  printf("%.6f %llu %llu %.3f\n", best, (unsigned long long)cnt.bytes,
         (unsigned long long)cnt.deltas, best_ttft);
  rill_client_free(c);
  rill_global_cleanup();
  return 0;
}
