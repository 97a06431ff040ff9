/*
 * bench_framing.c — framing and framing + decode throughput, single thread.
 *
 *   bench_framing [total_MiB] [chunk_bytes]     (defaults: 512, 16384)
 *   bench_framing --pattern sse|ndjson          (write the 1 MiB stream
 *                                                pattern to stdout, for
 *                                                sdk_reference.mjs)
 *
 * Streams: synthetic Ollama NDJSON chat lines and OpenAI SSE chat chunks
 * (tests/common/stream_gen.c), fed in chunk_bytes pieces (16 KiB is what
 * libcurl hands a write callback). Each figure is the best of 5 runs.
 *
 * References, run in the same process on the same bytes:
 *  - "memchr lines": splitting on '\n' with glibc memchr and nothing else,
 *    the floor any line framer pays (no tail handling, no events);
 *  - "bare jsmn": the same records tokenized by jsmn alone (no strict
 *    validation, no lookups), the floor of decoding with this tokenizer.
 * rill's figures are reported as ratios to these.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The reference tokenizer: jsmn compiled here, with the options rill uses
 * (it must come before json/json.h, which includes jsmn for types only). */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "core/buf.h"
#include "core/pool.h"
#include "json/json.h"
#include "rill/rill.h"
#include "stream_gen.h"

#define RUNS 5

static char *g_pattern;
static size_t g_plen, g_nper;
static uint64_t g_total;
static size_t g_chunk;

typedef struct counter {
  uint64_t records;
  uint64_t checksum;
  rill__json doc;
  rill__buf text;
  const char *path;
  jsmntok_t toks[256];
} counter;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int frame_only_rec(void *u, const char *r, size_t n, uint64_t line) {
  counter *c = u;
  (void)line;
  c->records++;
  c->checksum += n + (unsigned char)r[0];
  return 0;
}
static int frame_only_ev(void *u, const rill_sse_event *ev) {
  counter *c = u;
  c->records++;
  c->checksum += ev->data_len + (unsigned char)ev->data[0];
  return 0;
}

static int decode(counter *c, const char *r, size_t n) {
  int tok;
  if (rill__json_parse(&c->doc, r, n, NULL) != RILL_OK)
    return 1;
  tok = rill__json_path(&c->doc, 0, c->path);
  rill__buf_clear(&c->text);
  if (tok < 0 || rill__json_unescape(&c->doc, tok, &c->text) != RILL_OK)
    return 1;
  c->records++;
  c->checksum += c->text.len;
  return 0;
}
static int decode_rec(void *u, const char *r, size_t n, uint64_t line) {
  (void)line;
  return decode(u, r, n);
}
static int decode_ev(void *u, const rill_sse_event *ev) {
  return decode(u, ev->data, ev->data_len);
}

/* Feed the whole stream once through a framer built by the caller. */
static double feed_all(int is_sse, void *framer) {
  uint64_t fed = 0;
  size_t off = 0;
  double t0 = now_s();
  while (fed < g_total) {
    uint64_t left = g_total - fed;
    size_t n = left < g_chunk ? (size_t)left : g_chunk;
    int rc = is_sse ? rill_sse_feed(framer, g_pattern + off, n)
                    : rill_ndjson_feed(framer, g_pattern + off, n);
    if (rc != RILL_OK) {
      fprintf(stderr, "feed failed: %s\n", rill_strerror(rc));
      exit(1);
    }
    fed += n;
    off = (off + n) % g_plen;
  }
  if ((is_sse ? rill_sse_finish(framer) : rill_ndjson_finish(framer)) != RILL_OK)
    exit(1);
  return now_s() - t0;
}

static double run_rill(int is_sse, int with_decode, counter *c) {
  double best = 1e9;
  int i;
  for (i = 0; i < RUNS; i++) {
    double t;
    c->records = 0;
    if (is_sse) {
      rill_sse *p;
      rill_sse_new(&p, NULL, with_decode ? decode_ev : frame_only_ev, c);
      t = feed_all(1, p);
      rill_sse_free(p);
    } else {
      rill_ndjson *p;
      rill_ndjson_new(&p, NULL, with_decode ? decode_rec : frame_only_rec, c);
      t = feed_all(0, p);
      rill_ndjson_free(p);
    }
    if (t < best)
      best = t;
  }
  return best;
}

/* Reference: split lines with memchr, optionally tokenize with bare jsmn.
 * Works on whole pattern repetitions (no tail handling), which only
 * flatters the reference. */
static double run_reference(int is_sse, int with_jsmn, counter *c) {
  double best = 1e9;
  int i;
  for (i = 0; i < RUNS; i++) {
    uint64_t done = 0;
    double t0 = now_s(), t;
    c->records = 0;
    while (done < g_total) {
      const char *p = g_pattern, *end = g_pattern + g_plen;
      while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p);
        if (n > 0) {
          const char *rec = p;
          if (is_sse) { /* "data: " prefix */
            rec += 6;
            n -= 6;
          }
          if (with_jsmn) {
            jsmn_parser jp;
            jsmn_init(&jp);
            if (jsmn_parse(&jp, rec, n, c->toks, 256) < 0)
              exit(1);
          }
          c->records++;
          c->checksum += n;
        }
        p = nl + 1;
      }
      done += g_plen;
    }
    t = now_s() - t0;
    if (t < best)
      best = t;
  }
  return best;
}

static void report(const char *what, double secs, uint64_t records,
                   double ref_secs) {
  double mb = (double)g_total / 1e6;
  printf("| %-34s | %9.0f | %12.0f | %6.2f |\n", what, mb / secs,
         (double)records / secs, ref_secs / secs);
}

int main(int argc, char **argv) {
  uint64_t mib;
  int is_sse;
  if (argc == 3 && strcmp(argv[1], "--pattern") == 0) {
    size_t n, nrec;
    g_pattern = malloc(1u << 20);
    n = stream_gen_pattern(strcmp(argv[2], "sse") == 0 ? STREAM_OPENAI_SSE
                                                         : STREAM_OLLAMA_NDJSON,
                           g_pattern, 1u << 20, 1u << 20, &nrec);
    fwrite(g_pattern, 1, n, stdout);
    free(g_pattern);
    return 0;
  }
  mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 512;
  g_chunk = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 16384;
  if (mib == 0 || g_chunk == 0)
    return 2;
  g_pattern = malloc(2u << 20);
  printf("stream %llu MiB per run, fed in %zu-byte pieces, best of %d runs; "
         "MB = 10^6 bytes; ratio = reference time / rill time\n\n",
         (unsigned long long)mib, g_chunk, RUNS);
  printf("| %-34s | %9s | %12s | %6s |\n", "measurement", "MB/s", "records/s",
         "ratio");
  printf("|%s|%s|%s|%s|\n", "------------------------------------",
         "-----------", "--------------", "--------");
  for (is_sse = 0; is_sse <= 1; is_sse++) {
    counter c;
    double t_ref_lines, t_ref_jsmn, t_frame, t_decode;
    char label[80];
    const char *name = is_sse ? "OpenAI SSE" : "Ollama NDJSON";
    g_plen = stream_gen_pattern(is_sse ? STREAM_OPENAI_SSE : STREAM_OLLAMA_NDJSON,
                                g_pattern, 1u << 20, 1u << 20, &g_nper);
    memcpy(g_pattern + g_plen, g_pattern, g_plen);
    g_total = (mib << 20) / g_plen * g_plen;
    memset(&c, 0, sizeof c);
    rill__json_init(&c.doc, NULL, 0);
    rill__buf_init(&c.text, NULL, 1 << 20);
    c.path = is_sse ? "choices[0].delta.content" : "message.content";

    t_ref_lines = run_reference(is_sse, 0, &c);
    snprintf(label, sizeof label, "%s: memchr lines (ref)", name);
    report(label, t_ref_lines, c.records, t_ref_lines);
    t_frame = run_rill(is_sse, 0, &c);
    snprintf(label, sizeof label, "%s: rill framing", name);
    report(label, t_frame, c.records, t_ref_lines);
    t_ref_jsmn = run_reference(is_sse, 1, &c);
    snprintf(label, sizeof label, "%s: memchr + bare jsmn (ref)", name);
    report(label, t_ref_jsmn, c.records, t_ref_jsmn);
    t_decode = run_rill(is_sse, 1, &c);
    snprintf(label, sizeof label, "%s: rill framing + decode", name);
    report(label, t_decode, c.records, t_ref_jsmn);
    rill__buf_release(&c.text);
    rill__json_release(&c.doc);
  }
  free(g_pattern);
  return 0;
}
