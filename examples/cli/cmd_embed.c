/*
 * cmd_embed.c — `rill embed` and `rill tokenize`.
 *
 *   rill embed --model FILE.gguf|OLLAMA-NAME [options] < texts > vectors
 *   rill embed --provider ollama|openai|lmstudio|gemini [--url BASE]
 *              --model M [options] < texts > vectors
 *   rill tokenize --model FILE.gguf|OLLAMA-NAME [--no-special]
 *                 [--prefix P|--task T] [--models-dir DIR] TEXT...|-
 *
 * Input, one text per line. --format auto (the default) takes a line whose
 * first byte other than space or tab is '{' as a JSON object and any other
 * line as plain text; jsonl requires every line to be an object; lines
 * takes every line as plain text. The text of an object is its "text"
 * member, or the one --field names, which must be a string. A CR before the
 * LF is dropped, and so is a UTF-8 BOM at the very start. An empty line is
 * the empty text (in jsonl mode, a malformed line).
 *
 * Output, one line per input line, in input order:
 *   {"index":i,"embedding":[…]}
 * where i is the line number minus one, so a skipped line leaves a gap and
 * the output joins back onto the input by line. Floats are the shortest of
 * 6 to 9 significant digits that read back as the same float, printed in
 * the C locale whatever the user's locale is.
 *
 * Memory is constant in the number of lines: a line is read into a buffer
 * capped by --max-line; --batch lines are kept, embedded, written and the
 * buffers reused. A line that is not a JSON object, lacks the field, is
 * longer than --max-line, holds a NUL byte, or (with --refuse-long) has
 * more tokens than the context is malformed: --on-error fail (default)
 * writes the lines before it, names it on stderr and exits 3; skip names
 * it on stderr and goes on.
 *
 * Exit codes: 0 ok; 1 runtime (model not found, I/O, server error); 2
 * usage; 3 malformed input or model file. Public headers only.
 */
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "rill/embed.h"
#include "rill/rill.h"

#define DEFAULT_BATCH 16
#define MAX_BATCH 4096
#define DEFAULT_MAX_LINE (1u << 20)
#define MAX_STDIN_TEXT (64u << 20) /* rill tokenize - */
#define PROGRESS_NS 100000000LL    /* at most ~10 progress updates/s */

enum { FMT_AUTO, FMT_JSONL, FMT_LINES };

/* What selects and shapes the model: shared by embed and tokenize. */
typedef struct model_args {
  const char *model;
  const char *models_dir;
  const char *prefix;
  const char *task; /* query, document, clustering, classification */
  const char *cmd;  /* "embed" or "tokenize", for messages */
} model_args;

typedef struct embed_args {
  model_args m;
  rill_provider provider;
  const char *url;
  const char *ca_file;
  int allow_insecure_credentials;
  const char *field;
  int format;
  int threads;
  int no_normalize;
  int skip_errors;
  int refuse_long;
  int quiet;
  unsigned long dims;
  unsigned long max_tokens;
  size_t batch;
  size_t max_line;
} embed_args;

/* The batch being gathered: texts packed into one arena, by offset
 * because the arena may move while it grows. */
typedef struct batch {
  char *arena;
  size_t arena_len, arena_cap;
  size_t *off, *len;
  uint64_t *index;
  const char **texts;
  size_t n;
} batch;

typedef struct run_state {
  const embed_args *a;
  rill_embedder *e;
  rill_embed_options eo;
  locale_t c_locale;
  char *out;
  size_t out_cap;
  uint64_t texts, skipped;
  int64_t tokens;
  int tokens_known;
  int progress;
  struct timespec t0;
  long long last_progress_ns;
} run_state;

/* ---- small helpers -------------------------------------------------------- */

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi,
                       unsigned long *out) {
  char *end;
  unsigned long v;
  if (!s || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoul(s, &end, 10);
  if (errno || *end || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

static const char *task_prefix(const char *task) {
  if (strcmp(task, "query") == 0)
    return RILL_EMBED_PREFIX_QUERY;
  if (strcmp(task, "document") == 0)
    return RILL_EMBED_PREFIX_DOCUMENT;
  if (strcmp(task, "clustering") == 0)
    return RILL_EMBED_PREFIX_CLUSTERING;
  if (strcmp(task, "classification") == 0)
    return RILL_EMBED_PREFIX_CLASSIFICATION;
  return NULL;
}

/* Gemini has no prefixes; its taskType carries the same intent. */
static const char *gemini_task(const char *task) {
  if (strcmp(task, "query") == 0)
    return "RETRIEVAL_QUERY";
  if (strcmp(task, "document") == 0)
    return "RETRIEVAL_DOCUMENT";
  if (strcmp(task, "clustering") == 0)
    return "CLUSTERING";
  return "CLASSIFICATION";
}

/* Options both commands take. Returns 1 consumed (maybe with its value),
 * 0 not ours, -1 usage error (reported). */
static int model_opt(model_args *m, int argc, char **argv, int *i) {
  const char *a = argv[*i];
  const char *next = *i + 1 < argc ? argv[*i + 1] : NULL;
  const char **dst = strcmp(a, "--model") == 0        ? &m->model
                     : strcmp(a, "--models-dir") == 0 ? &m->models_dir
                     : strcmp(a, "--prefix") == 0     ? &m->prefix
                     : strcmp(a, "--task") == 0       ? &m->task
                                                      : NULL;
  if (!dst)
    return 0;
  if (!next) {
    fprintf(stderr, "rill %s: %s needs a value\n", m->cmd, a);
    return -1;
  }
  if (dst == &m->task && !task_prefix(next)) {
    fprintf(stderr,
            "rill %s: --task is query, document, clustering or "
            "classification\n",
            m->cmd);
    return -1;
  }
  *dst = next;
  (*i)++;
  return 1;
}

static int model_args_check(model_args *m) {
  if (!m->model) {
    fprintf(stderr, "rill %s: --model is required\n", m->cmd);
    return -1;
  }
  if (m->prefix && m->task) {
    fprintf(stderr, "rill %s: --prefix and --task exclude each other\n",
            m->cmd);
    return -1;
  }
  return 0;
}

/* Open a local model, saying why not and choosing the exit code. */
static int open_local(const model_args *m, const rill_embedder_options *o,
                      rill_embedder **e) {
  rill_gguf_error err;
  int rc;
  memset(&err, 0, sizeof err);
  rc = rill_embedder_open(e, m->model, o, &err);
  if (rc == RILL_OK)
    return CLI_OK;
  if (rc == RILL_E_INVALID && !err.message[0])
    fprintf(stderr,
            "rill %s: %s: no such file, and not an Ollama model name\n",
            m->cmd, m->model);
  else
    fprintf(stderr, "rill %s: %s: %s\n", m->cmd, m->model,
            err.message[0] ? err.message : rill_strerror(rc));
  return rc == RILL_E_FORMAT || rc == RILL_E_UNSUPPORTED ? CLI_MALFORMED
                                                         : CLI_RUNTIME;
}

/* ---- output --------------------------------------------------------------- */

/* The shortest of 6..9 significant digits that reads back as v: 9 always
 * does for a float, fewer often do and keep the output short. Runs under
 * the C locale (uselocale), so the decimal point is '.'. */
static int fmt_float(char *dst, size_t cap, float v) {
  int p, n = 0;
  if (!isfinite(v))
    return snprintf(dst, cap, "null"); /* JSON has no NaN; never expected */
  for (p = 6; p <= 9; p++) {
    n = snprintf(dst, cap, "%.*g", p, (double)v);
    if (strtof(dst, NULL) == v)
      break;
  }
  return n;
}

static int out_reserve(run_state *s, size_t need) {
  char *nb;
  size_t cap;
  if (need <= s->out_cap)
    return 0;
  cap = s->out_cap ? s->out_cap : 4096;
  while (cap < need)
    cap *= 2;
  nb = realloc(s->out, cap);
  if (!nb)
    return -1;
  s->out = nb;
  s->out_cap = cap;
  return 0;
}

/* Write vector i of r as one line. Returns 0 or -1 (no memory, I/O). */
static int write_vector(run_state *s, uint64_t index, const float *v,
                        size_t dims) {
  size_t len, k;
  locale_t prev;
  /* 17 bytes per float at most ("-1.23456789e-38,"), plus the frame. */
  if (dims > (SIZE_MAX - 64) / 17 || out_reserve(s, 64 + dims * 17) != 0)
    return -1;
  len = (size_t)snprintf(s->out, s->out_cap, "{\"index\":%llu,\"embedding\":[",
                         (unsigned long long)index);
  prev = uselocale(s->c_locale);
  for (k = 0; k < dims; k++) {
    if (k)
      s->out[len++] = ',';
    len += (size_t)fmt_float(s->out + len, s->out_cap - len, v[k]);
  }
  uselocale(prev);
  memcpy(s->out + len, "]}\n", 3);
  len += 3;
  return fwrite(s->out, 1, len, stdout) == len ? 0 : -1;
}

static void progress(run_state *s, int final) {
  long long t = now_ns();
  double secs;
  if (!s->progress || (!final && t - s->last_progress_ns < PROGRESS_NS))
    return;
  s->last_progress_ns = t;
  secs = (double)(t - ((long long)s->t0.tv_sec * 1000000000LL + s->t0.tv_nsec)) / 1e9;
  if (secs <= 0)
    secs = 1e-9;
  fprintf(stderr, "\r\x1b[Krill embed: %llu texts · %.0f texts/s",
          (unsigned long long)s->texts, (double)s->texts / secs);
  if (s->tokens_known)
    fprintf(stderr, " · %.0f tokens/s", (double)s->tokens / secs);
  if (final)
    fputs("\r\x1b[K", stderr);
}

/* ---- input ---------------------------------------------------------------- */

/* Read one line (without its LF, and without a CR before the LF) into
 * *buf, growing it up to max bytes. Returns 1 with a line, 0 at the end,
 * -1 on a read error. A longer line is consumed to its end and reported
 * with *too_long. */
static int read_line(FILE *f, char **buf, size_t *cap, size_t max,
                     size_t *len, int *too_long) {
  int c, any = 0;
  size_t n = 0;
  *too_long = 0;
  while ((c = getc_unlocked(f)) != EOF) {
    any = 1;
    if (c == '\n')
      break;
    if (n >= max) {
      *too_long = 1;
      continue;
    }
    if (n + 1 >= *cap) {
      size_t nc = *cap ? *cap * 2 : 256;
      char *nb;
      if (nc > max + 1)
        nc = max + 1;
      nb = realloc(*buf, nc);
      if (!nb)
        return -1;
      *buf = nb;
      *cap = nc;
    }
    (*buf)[n++] = (char)c;
  }
  if (ferror(f))
    return -1;
  if (!any)
    return 0;
  if (!*too_long && n > 0 && (*buf)[n - 1] == '\r')
    n--;
  if (*buf)
    (*buf)[n] = '\0';
  *len = n;
  return 1;
}

static int batch_add(batch *b, const char *s, size_t len, uint64_t index) {
  if (b->arena_len + len + 1 > b->arena_cap) {
    size_t nc = b->arena_cap ? b->arena_cap : 4096;
    char *na;
    while (nc < b->arena_len + len + 1)
      nc *= 2;
    na = realloc(b->arena, nc);
    if (!na)
      return -1;
    b->arena = na;
    b->arena_cap = nc;
  }
  memcpy(b->arena + b->arena_len, s, len);
  b->arena[b->arena_len + len] = '\0';
  b->off[b->n] = b->arena_len;
  b->len[b->n] = len;
  b->index[b->n] = index;
  b->n++;
  b->arena_len += len + 1;
  return 0;
}

/* The text of one line, into the batch; or why the line is malformed. */
static int take_line(const embed_args *a, batch *b, const char *line,
                     size_t len, uint64_t index, char *why, size_t why_cap) {
  size_t k = 0;
  rill_json_doc *doc = NULL;
  rill_json_error jerr = {0, NULL};
  const char *s;
  size_t slen;
  int rc, tok;
  while (k < len && (line[k] == ' ' || line[k] == '\t'))
    k++;
  if (a->format == FMT_LINES || (a->format == FMT_AUTO && (k == len ||
                                                           line[k] != '{'))) {
    if (memchr(line, '\0', len)) {
      snprintf(why, why_cap, "holds a NUL byte");
      return 1;
    }
    return batch_add(b, line, len, index) == 0 ? 0 : -1;
  }
  rc = rill_json_parse(&doc, line, len, &jerr);
  if (rc == RILL_E_NOMEM)
    return -1;
  if (rc != RILL_OK) {
    snprintf(why, why_cap, "not JSON: %s at byte %zu",
             jerr.reason ? jerr.reason : rill_strerror(rc), jerr.offset + 1);
    return 1;
  }
  if (rill_json_type_of(doc, 0) != RILL_JSON_OBJECT) {
    rill_json_doc_free(doc);
    snprintf(why, why_cap, "not a JSON object");
    return 1;
  }
  tok = rill_json_get(doc, 0, a->field);
  if (tok < 0 || rill_json_type_of(doc, tok) != RILL_JSON_STRING) {
    rill_json_doc_free(doc);
    snprintf(why, why_cap, tok < 0 ? "no \"%s\" member" : "\"%s\" is not a string",
             a->field);
    return 1;
  }
  s = rill_json_string(doc, tok, &slen);
  if (!s) {
    rill_json_doc_free(doc);
    return -1;
  }
  /* "\u0000" unescapes to a NUL a server would cut the text at. */
  if (memchr(s, '\0', slen)) {
    rill_json_doc_free(doc);
    snprintf(why, why_cap, "\"%s\" holds a NUL character", a->field);
    return 1;
  }
  rc = batch_add(b, s, slen, index);
  rill_json_doc_free(doc);
  return rc == 0 ? 0 : -1;
}

/* ---- embedding ------------------------------------------------------------ */

/* Report a malformed line. Returns CLI_OK to go on (skip), CLI_MALFORMED
 * to stop. */
static int malformed(run_state *s, uint64_t index, const char *why) {
  fprintf(stderr, "%srill embed: line %llu: %s%s\n", s->progress ? "\r\x1b[K" : "",
          (unsigned long long)index + 1, why,
          s->a->skip_errors ? " (skipped)" : "");
  if (s->a->skip_errors) {
    s->skipped++;
    return CLI_OK;
  }
  return CLI_MALFORMED;
}

static int emit(run_state *s, const batch *b, size_t from,
                const rill_embeddings *r) {
  size_t i;
  for (i = 0; i < r->n; i++)
    if (write_vector(s, b->index[from + i], r->data + i * r->dims, r->dims) !=
        0) {
      fprintf(stderr, "rill embed: cannot write the output: %s\n",
              strerror(errno));
      return CLI_RUNTIME;
    }
  s->texts += r->n;
  if (r->input_tokens >= 0)
    s->tokens += r->input_tokens;
  else
    s->tokens_known = 0;
  return CLI_OK;
}

/* Embed texts [from, from+n) of b and write them. *limit receives 1 when the
 * call failed only because a text is too long (--refuse-long). */
static int embed_some(run_state *s, const batch *b, size_t from, size_t n,
                      int *limit) {
  rill_embeddings *r = NULL;
  char msg[512] = "";
  int rc = rill_embedder_embed(s->e, b->texts + from, b->len + from, n,
                               &s->eo, &r, msg, sizeof msg);
  *limit = 0;
  if (rc == RILL_E_LIMIT && s->a->refuse_long) {
    *limit = 1;
    return CLI_RUNTIME;
  }
  if (rc == RILL_OK && r->n != n) {
    snprintf(msg, sizeof msg, "%zu vectors for %zu texts", r->n, n);
    rill_embeddings_free(r);
    rc = RILL_E_PROTOCOL;
  }
  if (rc != RILL_OK) {
    fprintf(stderr, "%srill embed: %s\n", s->progress ? "\r\x1b[K" : "",
            *msg ? msg : rill_strerror(rc));
    return CLI_RUNTIME;
  }
  rc = emit(s, b, from, r);
  rill_embeddings_free(r);
  return rc;
}

/* Embed and write the batch, then empty it. */
static int flush_batch(run_state *s, batch *b) {
  size_t i;
  int rc, limit;
  if (b->n == 0)
    return CLI_OK;
  for (i = 0; i < b->n; i++)
    b->texts[i] = b->arena + b->off[i];
  rc = embed_some(s, b, 0, b->n, &limit);
  /* A text over the context (--refuse-long) fails its whole batch: redo
   * the batch one text at a time to find it and treat it as malformed.
   * Vectors do not depend on the batch, so the others come out the same. */
  for (i = 0; limit && i < b->n; i++) {
    int one;
    rc = embed_some(s, b, i, 1, &one);
    if (one) {
      char why[128];
      snprintf(why, sizeof why, "more tokens than the limit of %lu",
               s->a->max_tokens);
      rc = malformed(s, b->index[i], why);
    }
    if (rc != CLI_OK)
      break;
  }
  b->n = 0;
  b->arena_len = 0;
  if (rc == CLI_OK && fflush(stdout) != 0) {
    fprintf(stderr, "rill embed: cannot write the output: %s\n",
            strerror(errno));
    rc = CLI_RUNTIME;
  }
  progress(s, 0);
  return rc;
}

/* One input line into the batch: take_line's result (0 taken, > 0
 * malformed with why filled in, < 0 out of memory). */
static int embed_line(const embed_args *a, batch *b, const char *line,
                      size_t len, uint64_t index, int too_long, char *why,
                      size_t why_cap) {
  const char *p = line ? line : "";
  /* A BOM would become part of the first text, or break its JSON. */
  if (index == 0 && len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
    p += 3, len -= 3;
  if (too_long) {
    snprintf(why, why_cap, "longer than %zu bytes (--max-line)", a->max_line);
    return 1;
  }
  return take_line(a, b, p, len, index, why, why_cap);
}

static int embed_stream(run_state *s, batch *b) {
  const embed_args *a = s->a;
  char *line = NULL, why[160];
  size_t cap = 0, len = 0;
  uint64_t lineno = 0;
  int rc = CLI_OK, r, too_long;
  while ((r = read_line(stdin, &line, &cap, a->max_line, &len, &too_long)) >
         0) {
    uint64_t index = lineno++;
    r = embed_line(a, b, line, len, index, too_long, why, sizeof why);
    if (r < 0) {
      fprintf(stderr, "rill embed: out of memory\n");
      rc = CLI_RUNTIME;
      break;
    }
    if (r > 0) {
      /* The lines before a fatal one are written, whatever the batch size. */
      if (!a->skip_errors && (rc = flush_batch(s, b)) != CLI_OK)
        break;
      if ((rc = malformed(s, index, why)) != CLI_OK)
        break;
      continue;
    }
    if (b->n == a->batch && (rc = flush_batch(s, b)) != CLI_OK)
      break;
  }
  if (r < 0 && rc == CLI_OK) {
    fprintf(stderr, "rill embed: cannot read the input: %s\n",
            strerror(errno));
    rc = CLI_RUNTIME;
  }
  if (rc == CLI_OK)
    rc = flush_batch(s, b);
  free(line);
  return rc;
}

static void embed_usage(FILE *to) {
  fputs(
      "usage: rill embed --model FILE.gguf|OLLAMA-NAME [options] < texts > "
      "vectors\n"
      "       rill embed --provider ollama|openai|lmstudio|gemini [--url BASE]"
      " --model M\n"
      "                  [options] < texts > vectors\n"
      "  --dims D  --prefix P | --task query|document|clustering|"
      "classification\n"
      "  --field F (default text)  --format auto|jsonl|lines  --batch N "
      "(default 16)\n"
      "  --on-error fail|skip  --max-line BYTES (default 1M)  --quiet\n"
      "  local only: --threads T  --no-normalize  --max-tokens N\n"
      "              --truncate | --refuse-long  --models-dir DIR\n"
      "  remote only: --ca-file F  --allow-insecure-credentials\n"
      "output: one line {\"index\":LINE-1,\"embedding\":[...]} per input "
      "line\n",
      to);
}

/* The options without a value; returns 1 when o is one of them. */
static int embed_flag(embed_args *a, const char *o) {
  if (strcmp(o, "--no-normalize") == 0)
    a->no_normalize = 1;
  else if (strcmp(o, "--truncate") == 0 || strcmp(o, "--refuse-long") == 0)
    a->refuse_long = o[2] == 'r';
  else if (strcmp(o, "--quiet") == 0 || strcmp(o, "-q") == 0)
    a->quiet = 1;
  else if (strcmp(o, "--allow-insecure-credentials") == 0)
    a->allow_insecure_credentials = 1;
  else
    return 0;
  return 1;
}

static int set_format(embed_args *a, const char *next) {
  if (strcmp(next, "auto") == 0)
    a->format = FMT_AUTO;
  else if (strcmp(next, "jsonl") == 0)
    a->format = FMT_JSONL;
  else if (strcmp(next, "lines") == 0)
    a->format = FMT_LINES;
  else {
    fprintf(stderr, "rill embed: --format is auto, jsonl or lines\n");
    return -1;
  }
  return 0;
}

/* --dims, --threads, --batch and --max-tokens: a count from 1 up. */
static int set_count(embed_args *a, const char *o, const char *next) {
  unsigned long v;
  unsigned long hi = o[2] == 't' ? 256 : o[2] == 'b' ? MAX_BATCH : 1u << 20;
  if (parse_ulong(next, 1, hi, &v) != 0) {
    fprintf(stderr, "rill embed: %s takes a number from 1 to %lu\n", o, hi);
    return -1;
  }
  if (o[2] == 'd')
    a->dims = v;
  else if (o[2] == 't')
    a->threads = (int)v;
  else if (o[2] == 'b')
    a->batch = v;
  else
    a->max_tokens = v;
  return 0;
}

static int is_count_opt(const char *o) {
  return strcmp(o, "--dims") == 0 || strcmp(o, "--threads") == 0 ||
         strcmp(o, "--batch") == 0 || strcmp(o, "--max-tokens") == 0;
}

/* --provider, --on-error and --max-line: values with a fixed set or range. */
static int set_checked_value(embed_args *a, const char *o, const char *next) {
  unsigned long long sz;
  if (strcmp(o, "--provider") == 0) {
    a->provider = rill_provider_from_name(next);
    if (a->provider == RILL_PROVIDER_NONE ||
        a->provider == RILL_PROVIDER_ANTHROPIC) {
      fprintf(stderr, "rill embed: --provider is ollama, openai, lmstudio "
                      "or gemini\n");
      return -1;
    }
  } else if (strcmp(o, "--on-error") == 0) {
    if (strcmp(next, "skip") != 0 && strcmp(next, "fail") != 0) {
      fprintf(stderr, "rill embed: --on-error is skip or fail\n");
      return -1;
    }
    a->skip_errors = next[0] == 's';
  } else {
    if (cli_parse_size(next, 1, 1ull << 30, &sz) != 0) {
      fprintf(stderr, "rill embed: --max-line takes a size from 1 to 1G\n");
      return -1;
    }
    a->max_line = (size_t)sz;
  }
  return 0;
}

/* An option o with its value next; -1 (said on stderr) when either is bad. */
static int embed_value_opt(embed_args *a, const char *o, const char *next) {
  if (strcmp(o, "--url") == 0)
    a->url = next;
  else if (strcmp(o, "--ca-file") == 0)
    a->ca_file = next;
  else if (strcmp(o, "--field") == 0)
    a->field = next;
  else if (strcmp(o, "--format") == 0)
    return set_format(a, next);
  else if (is_count_opt(o))
    return set_count(a, o, next);
  else if (strcmp(o, "--provider") == 0 || strcmp(o, "--on-error") == 0 ||
           strcmp(o, "--max-line") == 0)
    return set_checked_value(a, o, next);
  else {
    fprintf(stderr, "rill embed: unknown option %s\n", o);
    return -1;
  }
  return 0;
}

/* The combinations the options exclude; -1 (said on stderr) on one. */
static int check_embed_args(embed_args *a) {
  if (model_args_check(&a->m) != 0)
    return -1;
  if (a->no_normalize && a->dims) {
    fputs("rill embed: --dims renormalises: it excludes --no-normalize\n",
          stderr);
    return -1;
  }
  if (a->provider != RILL_PROVIDER_NONE &&
      (a->no_normalize || a->threads || a->max_tokens || a->refuse_long ||
       a->m.models_dir)) {
    fputs("rill embed: --no-normalize, --threads, --max-tokens, "
          "--refuse-long and --models-dir are for local models\n",
          stderr);
    return -1;
  }
  if (a->provider == RILL_PROVIDER_NONE && (a->url || a->ca_file)) {
    fputs("rill embed: --url and --ca-file need --provider\n", stderr);
    return -1;
  }
  return 0;
}

static int parse_embed_args(int argc, char **argv, embed_args *a) {
  int i;
  memset(a, 0, sizeof *a);
  a->m.cmd = "embed";
  a->field = "text";
  a->batch = DEFAULT_BATCH;
  a->max_line = DEFAULT_MAX_LINE;
  a->provider = RILL_PROVIDER_NONE;
  for (i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    int r = model_opt(&a->m, argc, argv, &i);
    if (r < 0)
      return -1;
    if (r > 0 || embed_flag(a, o))
      continue;
    if (o[0] != '-' || o[1] != '-') {
      fprintf(stderr, "rill embed: unexpected argument '%s' (texts come on "
                      "stdin)\n", o);
      return -1;
    }
    if (!next) {
      fprintf(stderr, "rill embed: %s needs a value, or is unknown\n", o);
      return -1;
    }
    i++;
    if (embed_value_opt(a, o, next) != 0)
      return -1;
  }
  return check_embed_args(a);
}

static int batch_alloc(batch *b, size_t n) {
  memset(b, 0, sizeof *b);
  b->off = calloc(n, sizeof *b->off);
  b->len = calloc(n, sizeof *b->len);
  b->index = calloc(n, sizeof *b->index);
  b->texts = calloc(n, sizeof *b->texts);
  return b->off && b->len && b->index && b->texts ? 0 : -1;
}

static void batch_free(batch *b) {
  free(b->arena);
  free(b->off);
  free(b->len);
  free(b->index);
  free(b->texts);
}

/* With --provider: the remote embedder, under rill_global_init. */
static int open_remote(const embed_args *a, rill_client **client,
                       rill_embedder **e) {
  rill_client_opts copts = RILL_CLIENT_OPTS_INIT;
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  int rc;
  copts.ca_file = a->ca_file;
  copts.allow_insecure_credentials = a->allow_insecure_credentials;
  req.endpoint.provider = a->provider;
  req.endpoint.base_url = a->url; /* NULL: OLLAMA_HOST or the default */
  req.model = a->m.model;
  if (a->m.task && a->provider == RILL_PROVIDER_GEMINI)
    req.task_type = gemini_task(a->m.task);
  rc = rill_client_new(client, &copts);
  if (rc == RILL_OK)
    rc = rill_embedder_open_remote(e, *client, &req);
  if (rc != RILL_OK) {
    fprintf(stderr, "rill embed: %s\n", rill_strerror(rc));
    return CLI_RUNTIME;
  }
  return CLI_OK;
}

/* The local embedder for a's model; --dims checked against its width, and
 * a->max_tokens set to the limit it applies (what messages quote). */
static int open_local_embedder(embed_args *a, rill_embedder **e) {
  rill_embedder_options o;
  rill_embedder_info info;
  int rc;
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.n_threads = a->threads;
  o.max_tokens = (uint32_t)a->max_tokens;
  o.overflow = a->refuse_long ? RILL_EMBED_REFUSE : RILL_EMBED_TRUNCATE;
  o.models_dir = a->m.models_dir;
  rc = open_local(&a->m, &o, e);
  if (rc == CLI_OK && rill_embedder_get_info(*e, &info) == RILL_OK) {
    if (a->dims > info.dims) {
      fprintf(stderr, "rill embed: --dims %lu is more than the model's "
                      "width %u\n", a->dims, (unsigned)info.dims);
      rc = CLI_USAGE;
    }
    a->max_tokens = info.context;
  }
  return rc;
}

/* The closing line on stderr: texts, tokens, skipped lines, time. */
static void print_summary(const run_state *s) {
  struct timespec t1;
  double secs;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  secs = (double)(t1.tv_sec - s->t0.tv_sec) +
         (double)(t1.tv_nsec - s->t0.tv_nsec) / 1e9;
  fprintf(stderr, "rill embed: %llu texts", (unsigned long long)s->texts);
  if (s->tokens_known)
    fprintf(stderr, ", %lld tokens", (long long)s->tokens);
  if (s->skipped)
    fprintf(stderr, ", %llu skipped", (unsigned long long)s->skipped);
  fprintf(stderr, ", %.2f s", secs);
  if (s->tokens_known && secs > 0)
    fprintf(stderr, " (%.0f tokens/s)", (double)s->tokens / secs);
  fputc('\n', stderr);
}

int cmd_embed(int argc, char **argv) {
  embed_args a;
  run_state s;
  batch b;
  rill_client *client = NULL;
  int rc, global = 0;

  if (argc == 2 && (strcmp(argv[1], "--help") == 0 ||
                    strcmp(argv[1], "-h") == 0)) {
    embed_usage(stdout);
    return CLI_OK;
  }
  if (parse_embed_args(argc, argv, &a) != 0) {
    embed_usage(stderr);
    return CLI_USAGE;
  }
  memset(&s, 0, sizeof s);
  memset(&b, 0, sizeof b);
  s.a = &a;
  s.eo.size = sizeof s.eo;
  s.eo.dims = (uint32_t)a.dims;
  s.eo.no_normalize = a.no_normalize;
  /* Gemini takes the task as its taskType instead of a text prefix. */
  s.eo.prefix = a.m.prefix ? a.m.prefix
                : a.m.task && a.provider != RILL_PROVIDER_GEMINI
                    ? task_prefix(a.m.task)
                    : NULL;
  s.tokens_known = 1;
  s.c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!s.c_locale || batch_alloc(&b, a.batch) != 0) {
    fprintf(stderr, "rill embed: out of memory\n");
    rc = CLI_RUNTIME;
    goto done;
  }

  if (a.provider != RILL_PROVIDER_NONE) {
    rc = rill_global_init(NULL);
    if (rc != RILL_OK) {
      fprintf(stderr, "rill embed: cannot initialise: %s\n",
              rill_strerror(rc));
      rc = CLI_RUNTIME;
      goto done;
    }
    global = 1;
    rc = open_remote(&a, &client, &s.e);
  } else {
    rc = open_local_embedder(&a, &s.e);
  }
  if (rc != CLI_OK)
    goto done;

  s.progress = !a.quiet && isatty(STDERR_FILENO);
  clock_gettime(CLOCK_MONOTONIC, &s.t0);
  s.last_progress_ns = now_ns();
  rc = embed_stream(&s, &b);
  if (s.progress)
    progress(&s, 1);
  if (!a.quiet && rc == CLI_OK)
    print_summary(&s);

done:
  rill_embedder_close(s.e);
  rill_client_free(client);
  if (global)
    rill_global_cleanup();
  batch_free(&b);
  free(s.out);
  if (s.c_locale)
    freelocale(s.c_locale);
  return rc;
}

/* ---- rill tokenize -------------------------------------------------------- */

static void tokenize_usage(FILE *to) {
  fputs("usage: rill tokenize --model FILE.gguf|OLLAMA-NAME [--no-special]\n"
        "                     [--prefix P | --task T] [--models-dir DIR] "
        "TEXT...|-\n"
        "  prints the token ids as one JSON array; the words of TEXT are\n"
        "  joined with spaces; '-' reads the text from stdin\n",
        to);
}

/* All of stdin, up to MAX_STDIN_TEXT bytes. */
static char *read_stdin(size_t *len) {
  return cli_read_all(stdin, MAX_STDIN_TEXT, len);
}

/* The text: the prefix, then the words joined by spaces, or stdin. */
static char *tokenize_text(const char *prefix, int argc, char **argv, int i,
                           size_t *len) {
  size_t plen = prefix ? strlen(prefix) : 0, n = plen;
  char *t;
  int j;
  if (i == argc - 1 && strcmp(argv[i], "-") == 0) {
    size_t sl;
    char *in = read_stdin(&sl);
    if (!in || !plen) {
      *len = in ? sl : 0;
      return in;
    }
    t = malloc(plen + sl + 1);
    if (t) {
      memcpy(t, prefix, plen);
      memcpy(t + plen, in, sl + 1);
      *len = plen + sl;
    }
    free(in);
    return t;
  }
  for (j = i; j < argc; j++)
    n += strlen(argv[j]) + 1;
  t = malloc(n + 1);
  if (!t)
    return NULL;
  memcpy(t, prefix ? prefix : "", plen);
  n = plen;
  for (j = i; j < argc; j++) {
    size_t l = strlen(argv[j]);
    if (j > i)
      t[n++] = ' ';
    memcpy(t + n, argv[j], l);
    n += l;
  }
  t[n] = '\0';
  *len = n;
  return t;
}

/* Options up to the first text word (*i); -1 to go on, or the exit
 * code (help, usage error). */
static int tokenize_args(model_args *m, int argc, char **argv, int *i,
                         int *special) {
  for (*i = 1; *i < argc; (*i)++) {
    int r;
    if (strcmp(argv[*i], "--no-special") == 0) {
      *special = 0;
      continue;
    }
    if (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0) {
      tokenize_usage(stdout);
      return CLI_OK;
    }
    r = model_opt(m, argc, argv, i);
    if (r < 0)
      return tokenize_usage(stderr), CLI_USAGE;
    if (r > 0)
      continue;
    if (argv[*i][0] == '-' && argv[*i][1] == '-') {
      fprintf(stderr, "rill tokenize: unknown option %s\n", argv[*i]);
      return tokenize_usage(stderr), CLI_USAGE;
    }
    break;
  }
  if (model_args_check(m) != 0 || *i >= argc)
    return tokenize_usage(stderr), CLI_USAGE;
  return -1;
}

/* All of text's ids into *ids (realloc'd; the caller frees it), *n of
 * them. Asks with a guess; the first answer gives the exact count. */
static int tokenize_all(rill_embedder *e, const char *text, size_t len,
                        int special, int32_t **ids, size_t *n) {
  size_t cap = 256;
  int rc;
  for (;;) {
    int32_t *ni = realloc(*ids, cap * sizeof *ni);
    if (!ni)
      return RILL_E_NOMEM;
    *ids = ni;
    rc = rill_embedder_tokenize(e, text, len, special, ni, cap, n);
    if (rc != RILL_E_LIMIT || *n <= cap)
      return rc;
    cap = *n;
  }
}

int cmd_tokenize(int argc, char **argv) {
  model_args m;
  rill_embedder_options o;
  rill_embedder *e = NULL;
  int32_t *ids = NULL;
  char *text = NULL;
  size_t len = 0, n = 0, k;
  int i, rc, special = 1;

  memset(&m, 0, sizeof m);
  m.cmd = "tokenize";
  rc = tokenize_args(&m, argc, argv, &i, &special);
  if (rc >= 0)
    return rc;
  if (m.task)
    m.prefix = task_prefix(m.task);
  text = tokenize_text(m.prefix, argc, argv, i, &len);
  if (!text) {
    fprintf(stderr, "rill tokenize: cannot read the text (at most %u MiB)\n",
            MAX_STDIN_TEXT >> 20);
    return CLI_RUNTIME;
  }
  memset(&o, 0, sizeof o);
  o.size = sizeof o;
  o.n_threads = 1; /* tokenizing runs no layers: no workers needed */
  o.models_dir = m.models_dir;
  rc = open_local(&m, &o, &e);
  if (rc != CLI_OK) {
    free(text);
    return rc;
  }
  rc = tokenize_all(e, text, len, special, &ids, &n);
  if (rc != RILL_OK) {
    fprintf(stderr, "rill tokenize: %s\n", rill_strerror(rc));
    rc = rc == RILL_E_NOMEM ? CLI_RUNTIME : CLI_MALFORMED;
  } else {
    putchar('[');
    for (k = 0; k < n; k++)
      printf(k ? ",%ld" : "%ld", (long)ids[k]);
    fputs("]\n", stdout);
    rc = fflush(stdout) == 0 ? CLI_OK : CLI_RUNTIME;
  }
  free(ids);
  free(text);
  rill_embedder_close(e);
  return rc;
}
