/*
 * cmd_parse.c — `rill parse sse|ndjson [--chunk N] [--max-record N]`.
 *
 * Reads stdin in exactly N-byte pieces (the last may be shorter), feeds
 * each to the framer and flushes stdout after each feed, so a pipe sees
 * every event as soon as its bytes have arrived. The split is exact on
 * purpose: tests replay the same input at many chunk sizes and expect the
 * same output. Output lines come from parse_out.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "parse_out.h"
#include "rill/rill.h"

#define DEFAULT_CHUNK (64u << 10)
#define MAX_CHUNK (64u << 20)

typedef struct parse_ctx {
  rill_jw *w;
  int write_failed;
  int malformed; /* NDJSON: some record was not valid JSON */
  int status;    /* first writer error */
} parse_ctx;

static int emit(parse_ctx *c, int rc) {
  size_t len;
  const char *line;
  if (rc < 0) {
    c->status = rc;
    return 1;
  }
  line = rill_jw_data(c->w, &len);
  if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF) {
    c->write_failed = 1;
    return 1;
  }
  return 0;
}

static int on_event(void *user, const rill_sse_event *ev) {
  parse_ctx *c = user;
  return emit(c, parse_out_sse_event(c->w, ev));
}

static int on_record(void *user, const char *rec, size_t len, uint64_t line) {
  parse_ctx *c = user;
  int rc = parse_out_ndjson_record(c->w, rec, len, line);
  if (rc == 1) {
    c->malformed = 1;
    rc = 0;
  }
  return emit(c, rc);
}

/* Fill buf with up to cap bytes; short only at end of input.
 * Returns the count, or -1 on a read error. */
static ssize_t read_full(int fd, char *buf, size_t cap) {
  size_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n == 0)
      break;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    got += (size_t)n;
  }
  return (ssize_t)got;
}

static void parse_usage(void) {
  fputs("usage: rill parse sse|ndjson [--chunk N] [--max-record N]\n"
        "  N takes a K, M or G suffix; --chunk defaults to 64K,\n"
        "  --max-record to 8M (at most 64M)\n",
        stderr);
}

/* "sse|ndjson [--chunk N] [--max-record N]": 0, or -1 after the usage
 * or a message on stderr. */
static int parse_args(int argc, char **argv, int *is_sse,
                      unsigned long long *chunk,
                      unsigned long long *max_record) {
  int i;
  if (argc < 2 ||
      (strcmp(argv[1], "sse") != 0 && strcmp(argv[1], "ndjson") != 0)) {
    parse_usage();
    return -1;
  }
  *is_sse = strcmp(argv[1], "sse") == 0;
  for (i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
      if (cli_parse_size(argv[++i], 1, MAX_CHUNK, chunk) != 0) {
        fprintf(stderr, "rill parse: --chunk must be 1..64M\n");
        return -1;
      }
    } else if (strcmp(argv[i], "--max-record") == 0 && i + 1 < argc) {
      if (cli_parse_size(argv[++i], 1, RILL_HARD_MAX_RECORD_BYTES,
                         max_record) != 0) {
        fprintf(stderr, "rill parse: --max-record must be 1..64M\n");
        return -1;
      }
    } else {
      parse_usage();
      return -1;
    }
  }
  return 0;
}

/* The exit code after a complete read: the first failure (output, a
 * callback, the framer at err_off) is reported; an SSE stream ends with
 * its end line (sse non-NULL), an NDJSON one with malformed records
 * reported as such. */
static int parse_result(parse_ctx *ctx, int rc, uint64_t err_off,
                        const rill_sse *sse) {
  if (ctx->write_failed) {
    fprintf(stderr, "rill parse: writing stdout failed\n");
    return CLI_RUNTIME;
  }
  if (ctx->status != RILL_OK) {
    fprintf(stderr, "rill parse: %s\n", rill_strerror(ctx->status));
    return CLI_RUNTIME;
  }
  if (rc != RILL_OK) {
    fprintf(stderr, "rill parse: %s (%s) at byte %" PRIu64 "\n",
            rill_strerror(rc), rill_error_name(rc), err_off);
    return rc == RILL_E_LIMIT ? CLI_MALFORMED : CLI_RUNTIME;
  }
  if (sse) {
    uint64_t retry = 0;
    int has_retry = rill_sse_retry(sse, &retry);
    return emit(ctx, parse_out_sse_end(ctx->w, has_retry, retry)) != 0
               ? CLI_RUNTIME
               : CLI_OK;
  }
  return ctx->malformed ? CLI_MALFORMED : CLI_OK;
}

int cmd_parse(int argc, char **argv) {
  unsigned long long chunk = DEFAULT_CHUNK, max_record = 0;
  int is_sse = 0, rc = RILL_OK, exit_code = CLI_OK;
  rill_framer_opts opts = RILL_FRAMER_OPTS_INIT;
  rill_sse *sse = NULL;
  rill_ndjson *nd = NULL;
  parse_ctx ctx = {NULL, 0, 0, 0};
  char *buf = NULL;
  uint64_t err_off = 0;

  if (parse_args(argc, argv, &is_sse, &chunk, &max_record) != 0)
    return CLI_USAGE;
  opts.max_record_bytes = (size_t)max_record;

  buf = malloc((size_t)chunk);
  if (!buf || rill_jw_new(&ctx.w, 0) != RILL_OK) {
    fprintf(stderr, "rill parse: out of memory\n");
    free(buf);
    return CLI_RUNTIME;
  }
  rc = is_sse ? rill_sse_new(&sse, &opts, on_event, &ctx)
              : rill_ndjson_new(&nd, &opts, on_record, &ctx);

  while (rc == RILL_OK) {
    ssize_t n = read_full(STDIN_FILENO, buf, (size_t)chunk);
    if (n < 0) {
      fprintf(stderr, "rill parse: reading stdin: %s\n", strerror(errno));
      exit_code = CLI_RUNTIME;
      break;
    }
    if (n == 0) {
      rc = is_sse ? rill_sse_finish(sse) : rill_ndjson_finish(nd);
      break;
    }
    rc = is_sse ? rill_sse_feed(sse, buf, (size_t)n)
                : rill_ndjson_feed(nd, buf, (size_t)n);
    if (fflush(stdout) != 0)
      ctx.write_failed = 1;
  }
  if (rc != RILL_OK)
    err_off = is_sse ? rill_sse_error_offset(sse) : rill_ndjson_error_offset(nd);
  if (exit_code == CLI_OK)
    exit_code = parse_result(&ctx, rc, err_off, sse);
  if (fflush(stdout) != 0 && exit_code == CLI_OK)
    exit_code = CLI_RUNTIME;

  rill_sse_free(sse);
  rill_ndjson_free(nd);
  rill_jw_free(ctx.w);
  free(buf);
  return exit_code;
}
