/*
 * cmd_chat.c — `rill chat`: stream one answer to stdout.
 *
 *   rill chat --provider P --model M [--url BASE] [--system S] [--think|--no-think]
 *             [--tools FILE] [--temperature T] [--top-p P] [--seed N]
 *             [--max-tokens N] [--no-stream] [--json] [--ca-file F]
 *             [--allow-insecure-credentials]
 *             [--connect-timeout MS] [--first-timeout MS] [--idle-timeout MS]
 *             [--total-timeout MS] [--retries N] PROMPT...
 *
 * Text mode: answer text on stdout as it arrives (flushed per delta),
 * thinking dimmed when stdout is a terminal (left out otherwise), a stats
 * line on stderr. --json: one event object per line (DESIGN.md), nothing on
 * stderr unless the command line is wrong. Exit 1 when the request fails.
 * Public headers only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rill/rill.h"

#define DIM "\x1b[2m"
#define RESET "\x1b[0m"
#define MAX_TOOLS 64

typedef struct chat_out {
  int json;
  int tty;
  int in_thinking; /* text mode: the dim attribute is on */
  int printed;     /* text mode: something went to stdout */
  rill_jw *w;
  int failed;
  rill_done done;
  int has_done;
  char raw_finish[64];
} chat_out;

static void emit_json(chat_out *o) {
  size_t len;
  const char *s = rill_jw_data(o->w, &len);
  fwrite(s, 1, len, stdout);
  putchar('\n');
}

static void end_thinking(chat_out *o) {
  if (o->in_thinking) {
    fputs(RESET "\n", stdout);
    o->in_thinking = 0;
  }
}

static int on_text(void *user, const char *s, size_t n) {
  chat_out *o = user;
  if (o->json) {
    rill_jw_reset(o->w);
    rill_jw_object_begin(o->w);
    rill_jw_key(o->w, "type", 4);
    rill_jw_string(o->w, "text", 4);
    rill_jw_key(o->w, "text", 4);
    rill_jw_string(o->w, s, n);
    rill_jw_object_end(o->w);
    emit_json(o);
    return 0;
  }
  end_thinking(o);
  fwrite(s, 1, n, stdout);
  o->printed = n > 0 || o->printed;
  return 0;
}

static int on_thinking(void *user, const char *s, size_t n) {
  chat_out *o = user;
  if (o->json) {
    rill_jw_reset(o->w);
    rill_jw_object_begin(o->w);
    rill_jw_key(o->w, "type", 4);
    rill_jw_string(o->w, "thinking", 8);
    rill_jw_key(o->w, "text", 4);
    rill_jw_string(o->w, s, n);
    rill_jw_object_end(o->w);
    emit_json(o);
    return 0;
  }
  if (!o->tty)
    return 0;
  if (!o->in_thinking) {
    fputs(DIM, stdout);
    o->in_thinking = 1;
  }
  fwrite(s, 1, n, stdout);
  return 0;
}

static int on_tool_call(void *user, const rill_tool_call *c) {
  chat_out *o = user;
  if (!o->json) {
    end_thinking(o);
    printf("%s[tool call %zu] %s(%.*s)\n", o->printed ? "\n" : "", c->index,
           c->name, (int)c->arguments_len, c->arguments);
    o->printed = 0;
    return 0;
  }
  rill_jw_reset(o->w);
  rill_jw_object_begin(o->w);
  rill_jw_key(o->w, "type", 4);
  rill_jw_string(o->w, "tool_call", 9);
  rill_jw_key(o->w, "index", 5);
  rill_jw_uint(o->w, c->index);
  rill_jw_key(o->w, "id", 2);
  rill_jw_string(o->w, c->id, strlen(c->id));
  rill_jw_key(o->w, "name", 4);
  rill_jw_string(o->w, c->name, strlen(c->name));
  rill_jw_key(o->w, "arguments", 9);
  rill_jw_string(o->w, c->arguments, c->arguments_len);
  rill_jw_object_end(o->w);
  emit_json(o);
  return 0;
}

static void usage_field(rill_jw *w, const char *key, int64_t v) {
  rill_jw_key(w, key, strlen(key));
  if (v < 0)
    rill_jw_null(w);
  else
    rill_jw_int(w, v);
}

static int on_done(void *user, const rill_done *d) {
  chat_out *o = user;
  const char *fin = rill_finish_name(d->finish);
  o->done = *d;
  o->has_done = 1;
  snprintf(o->raw_finish, sizeof o->raw_finish, "%s", d->raw_finish);
  if (!o->json)
    return 0;
  rill_jw_reset(o->w);
  rill_jw_object_begin(o->w);
  rill_jw_key(o->w, "type", 4);
  rill_jw_string(o->w, "done", 4);
  rill_jw_key(o->w, "finish_reason", 13);
  rill_jw_string(o->w, fin, strlen(fin));
  rill_jw_key(o->w, "raw_finish_reason", 17);
  rill_jw_string(o->w, d->raw_finish, strlen(d->raw_finish));
  rill_jw_key(o->w, "usage", 5);
  rill_jw_object_begin(o->w);
  usage_field(o->w, "input_tokens", d->usage.input_tokens);
  usage_field(o->w, "output_tokens", d->usage.output_tokens);
  usage_field(o->w, "thinking_tokens", d->usage.thinking_tokens);
  rill_jw_object_end(o->w);
  rill_jw_key(o->w, "timing", 6);
  rill_jw_object_begin(o->w);
  rill_jw_key(o->w, "ttft_ms", 7);
  if (d->ttft_ms < 0)
    rill_jw_null(o->w);
  else
    rill_jw_double(o->w, d->ttft_ms);
  rill_jw_key(o->w, "total_ms", 8);
  rill_jw_double(o->w, d->total_ms);
  rill_jw_object_end(o->w);
  rill_jw_object_end(o->w);
  emit_json(o);
  return 0;
}

static void on_error(void *user, const rill_error_info *e) {
  chat_out *o = user;
  const char *name = rill_error_name(e->code);
  o->failed = 1;
  if (!o->json) {
    end_thinking(o);
    fprintf(stderr, "%srill chat: %s\n", o->printed ? "\n" : "",
            e->message && *e->message ? e->message : rill_strerror(e->code));
    return;
  }
  rill_jw_reset(o->w);
  rill_jw_object_begin(o->w);
  rill_jw_key(o->w, "type", 4);
  rill_jw_string(o->w, "error", 5);
  rill_jw_key(o->w, "code", 4);
  rill_jw_string(o->w, name, strlen(name));
  rill_jw_key(o->w, "http_status", 11);
  rill_jw_int(o->w, e->http_status);
  rill_jw_key(o->w, "message", 7);
  rill_jw_string(o->w, e->message ? e->message : "",
                 e->message ? strlen(e->message) : 0);
  rill_jw_object_end(o->w);
  emit_json(o);
}

static void print_stats(const chat_out *o) {
  const rill_done *d = &o->done;
  if (o->printed)
    fputc('\n', stdout);
  fflush(stdout);
  fprintf(stderr, "[%s", rill_finish_name(d->finish));
  if (d->usage.input_tokens >= 0)
    fprintf(stderr, " · in %" PRId64, d->usage.input_tokens);
  if (d->usage.output_tokens >= 0)
    fprintf(stderr, " · out %" PRId64, d->usage.output_tokens);
  if (d->usage.thinking_tokens > 0)
    fprintf(stderr, " · thinking %" PRId64, d->usage.thinking_tokens);
  if (d->ttft_ms >= 0)
    fprintf(stderr, " · first token %.0f ms", d->ttft_ms);
  if (d->tokens_per_s > 0)
    fprintf(stderr, " · %.1f tok/s", d->tokens_per_s);
  fprintf(stderr, " · %.2f s]\n", d->total_ms / 1000.0);
}

/* Read a whole (small) file into a malloc'd NUL-terminated buffer. */
static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf;
  if (!f)
    return NULL;
  buf = cli_read_all(f, 16u << 20, len);
  fclose(f);
  return buf;
}

/* Tools file: a JSON array of {"name","description","parameters"} or of
 * OpenAI's {"type":"function","function":{…}}. Fills tools (pointers into
 * the doc, which must outlive the request). Returns the count or -1. */
static int load_tools(rill_json_doc *doc, rill_tool *tools, char **owned) {
  size_t i, n = rill_json_count(doc, 0);
  if (rill_json_type_of(doc, 0) != RILL_JSON_ARRAY || n > MAX_TOOLS)
    return -1;
  for (i = 0; i < n; i++) {
    int t = rill_json_at(doc, 0, i), fn, name, desc, params;
    size_t len;
    const char *s;
    fn = rill_json_get(doc, t, "function");
    if (fn >= 0)
      t = fn;
    name = rill_json_get(doc, t, "name");
    desc = rill_json_get(doc, t, "description");
    params = rill_json_get(doc, t, "parameters");
    s = rill_json_string(doc, name, &len);
    if (!s || !(owned[3 * i] = strdup(s)))
      return -1;
    tools[i].name = owned[3 * i];
    s = desc >= 0 ? rill_json_string(doc, desc, &len) : "";
    if (!s || !(owned[3 * i + 1] = strdup(s)))
      return -1;
    tools[i].description = owned[3 * i + 1];
    if (params >= 0) {
      s = rill_json_text(doc, params, &len);
      if (!(owned[3 * i + 2] = strndup(s, len)))
        return -1;
      tools[i].parameters_json = owned[3 * i + 2];
    } else {
      tools[i].parameters_json = "{\"type\":\"object\",\"properties\":{}}";
    }
  }
  return (int)n;
}

/* Start the chat and drive the client, flushing stdout once per poll round
 * rather than once per delta: every delta that arrived in one network read
 * reaches the terminal or pipe together, as soon as that read is handled,
 * and a fast stream does not cost a write() per word. */
static int run_chat(rill_client *c, const rill_chat_request *req,
                    const rill_chat_callbacks *cb) {
  rill_stream *s = NULL;
  int rc = rill_chat_start(c, req, cb, &s), running = 1;
  if (rc != RILL_OK)
    return rc;
  while (running > 0) {
    running = rill_client_poll(c, 1000);
    fflush(stdout);
  }
  rc = running < 0 ? running : rill_stream_status(s);
  rill_stream_free(s);
  return rc;
}

static void chat_usage(void) {
  fputs("usage: rill chat --provider ollama|openai|lmstudio|gemini|anthropic "
        "--model M [options] PROMPT...\n"
        "  --url BASE  --system S  --think | --no-think  --tools FILE\n"
        "  --temperature T  --top-p P  --seed N  --max-tokens N  --no-stream\n"
        "  --json  --ca-file F  --connect-timeout MS  --first-timeout MS\n"
        "  --idle-timeout MS  --total-timeout MS  --retries N\n"
        "  --allow-insecure-credentials  (send the API key over plain http://\n"
        "                                 to a host that is not loopback)\n"
        "  PROMPT '-' reads the prompt from stdin\n",
        stderr);
}

/* A decimal number, read as JSON reads it: strtod would follow the user's
 * locale (main calls setlocale) and stop at the '.' of "0.7" under de_DE. */
static int parse_number(const char *s, double *out) {
  rill_json_doc *d = NULL;
  int rc = rill_json_parse(&d, s, strlen(s), NULL);
  if (rc == RILL_OK && rill_json_type_of(d, 0) == RILL_JSON_NUMBER)
    rc = rill_json_number(d, 0, out);
  else if (rc == RILL_OK)
    rc = RILL_E_INVALID;
  rill_json_doc_free(d);
  return rc == RILL_OK ? 0 : -1;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* What the command line asks for, besides the request itself. */
typedef struct chat_args {
  rill_chat_request *req;
  rill_client_opts *copts;
  const char *system;
  const char *tools_file;
  int json;
} chat_args;

typedef enum chat_opt {
  OPT_PROVIDER,
  OPT_URL,
  OPT_MODEL,
  OPT_SYSTEM,
  OPT_TOOLS,
  OPT_TEMPERATURE,
  OPT_TOP_P,
  OPT_SEED,
  OPT_MAX_TOKENS,
  OPT_CA_FILE,
  OPT_CONNECT_TIMEOUT,
  OPT_FIRST_TIMEOUT,
  OPT_IDLE_TIMEOUT,
  OPT_TOTAL_TIMEOUT,
  OPT_RETRIES,
  /* the options without a value come last */
  OPT_THINK,
  OPT_NO_THINK,
  OPT_NO_STREAM,
  OPT_JSON,
  OPT_INSECURE,
  OPT_UNKNOWN
} chat_opt;

static const struct {
  const char *name;
  chat_opt opt;
} chat_opts[] = {
    {"--provider", OPT_PROVIDER},
    {"--url", OPT_URL},
    {"--model", OPT_MODEL},
    {"--system", OPT_SYSTEM},
    {"--think", OPT_THINK},
    {"--no-think", OPT_NO_THINK},
    {"--tools", OPT_TOOLS},
    {"--temperature", OPT_TEMPERATURE},
    {"--top-p", OPT_TOP_P},
    {"--seed", OPT_SEED},
    {"--max-tokens", OPT_MAX_TOKENS},
    {"--no-stream", OPT_NO_STREAM},
    {"--json", OPT_JSON},
    {"--ca-file", OPT_CA_FILE},
    {"--allow-insecure-credentials", OPT_INSECURE},
    {"--connect-timeout", OPT_CONNECT_TIMEOUT},
    {"--first-timeout", OPT_FIRST_TIMEOUT},
    {"--idle-timeout", OPT_IDLE_TIMEOUT},
    {"--total-timeout", OPT_TOTAL_TIMEOUT},
    {"--retries", OPT_RETRIES},
};

static chat_opt chat_opt_of(const char *a) {
  size_t k;
  for (k = 0; k < sizeof chat_opts / sizeof chat_opts[0]; k++)
    if (strcmp(a, chat_opts[k].name) == 0)
      return chat_opts[k].opt;
  return OPT_UNKNOWN;
}

static void apply_chat_flag(chat_args *ca, chat_opt opt) {
  switch (opt) {
  case OPT_THINK:
    ca->req->think = RILL_THINK_ON;
    break;
  case OPT_NO_THINK:
    ca->req->think = RILL_THINK_OFF;
    break;
  case OPT_NO_STREAM:
    ca->req->no_stream = 1;
    break;
  case OPT_JSON:
    ca->json = 1;
    break;
  default: /* OPT_INSECURE */
    ca->copts->allow_insecure_credentials = 1;
    break;
  }
}

/* --temperature and --top-p. */
static int apply_chat_number(chat_args *ca, chat_opt opt, const char *a,
                             const char *next) {
  double d;
  if (parse_number(next, &d) != 0) {
    fprintf(stderr, "rill chat: bad number '%s' for %s\n", next, a);
    return CLI_USAGE;
  }
  if (opt == OPT_TEMPERATURE) {
    ca->req->temperature = d;
    ca->req->set |= RILL_SET_TEMPERATURE;
  } else {
    ca->req->top_p = d;
    ca->req->set |= RILL_SET_TOP_P;
  }
  return CLI_OK;
}

/* The options with an integer value: each one's range and where it goes. */
static int apply_chat_integer(chat_args *ca, chat_opt opt, const char *next) {
  rill_chat_request *req = ca->req;
  long v, lo = 1, hi = 86400000L;
  if (opt == OPT_SEED || opt == OPT_RETRIES)
    lo = 0;
  if (opt == OPT_SEED || opt == OPT_MAX_TOKENS)
    hi = 0x7fffffffL;
  else if (opt == OPT_RETRIES)
    hi = 20;
  if (parse_long(next, lo, hi, &v) != 0)
    return chat_usage(), CLI_USAGE;
  switch (opt) {
  case OPT_SEED:
    req->seed = v;
    req->set |= RILL_SET_SEED;
    break;
  case OPT_MAX_TOKENS:
    req->max_tokens = v;
    req->set |= RILL_SET_MAX_TOKENS;
    break;
  case OPT_CONNECT_TIMEOUT:
    req->timeouts.connect_ms = v;
    break;
  case OPT_FIRST_TIMEOUT:
    req->timeouts.first_content_ms = v;
    break;
  case OPT_IDLE_TIMEOUT:
    req->timeouts.idle_ms = v;
    break;
  case OPT_TOTAL_TIMEOUT:
    req->timeouts.total_ms = v;
    break;
  default: /* OPT_RETRIES */
    req->retry.max_retries = v == 0 ? -1 : (int)v;
    break;
  }
  return CLI_OK;
}

/* An option that takes a value; next is that value. */
static int apply_chat_value(chat_args *ca, chat_opt opt, const char *a,
                            const char *next) {
  switch (opt) {
  case OPT_PROVIDER:
    ca->req->endpoint.provider = rill_provider_from_name(next);
    if (ca->req->endpoint.provider == RILL_PROVIDER_NONE) {
      fprintf(stderr, "rill chat: unknown provider '%s'\n", next);
      return CLI_USAGE;
    }
    return CLI_OK;
  case OPT_URL:
    ca->req->endpoint.base_url = next;
    return CLI_OK;
  case OPT_MODEL:
    ca->req->model = next;
    return CLI_OK;
  case OPT_SYSTEM:
    ca->system = next;
    return CLI_OK;
  case OPT_TOOLS:
    ca->tools_file = next;
    return CLI_OK;
  case OPT_CA_FILE:
    ca->copts->ca_file = next;
    return CLI_OK;
  case OPT_TEMPERATURE:
  case OPT_TOP_P:
    return apply_chat_number(ca, opt, a, next);
  default:
    return apply_chat_integer(ca, opt, next);
  }
}

/* The options before the prompt. On CLI_OK *first is the index of the
 * prompt's first word. */
static int parse_chat_args(chat_args *ca, int argc, char **argv, int *first) {
  int i, rc;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : NULL;
    chat_opt opt = chat_opt_of(a);
    if (opt == OPT_UNKNOWN && a[0] == '-' && a[1] == '-') {
      fprintf(stderr, "rill chat: unknown option %s\n", a);
      chat_usage();
      return CLI_USAGE;
    }
    if (opt == OPT_UNKNOWN)
      break; /* the prompt */
    if (opt >= OPT_THINK) {
      apply_chat_flag(ca, opt);
      continue;
    }
    if (!next) {
      fprintf(stderr, "rill chat: %s needs a value\n", a);
      return CLI_USAGE;
    }
    i++;
    rc = apply_chat_value(ca, opt, a, next);
    if (rc != CLI_OK)
      return rc;
  }
  if (ca->req->endpoint.provider == RILL_PROVIDER_NONE || !ca->req->model ||
      i >= argc) {
    chat_usage();
    return CLI_USAGE;
  }
  *first = i;
  return CLI_OK;
}

/* The prompt: the words argv[first..], joined by spaces, or stdin for a
 * lone "-". Sets *prompt (malloc'd) on CLI_OK. */
static int read_prompt(int argc, char **argv, int first, char **prompt) {
  size_t len = 0;
  int j;
  char *p;
  if (first == argc - 1 && strcmp(argv[first], "-") == 0) {
    *prompt = cli_read_all(stdin, 64u << 20, &len);
    if (!*prompt) {
      fprintf(stderr, "rill chat: cannot read the prompt from stdin (or "
                      "it is over 64 MiB)\n");
      return CLI_USAGE;
    }
    return CLI_OK;
  }
  for (j = first; j < argc; j++)
    len += strlen(argv[j]) + 1;
  p = malloc(len + 1);
  if (!p)
    return CLI_RUNTIME;
  p[0] = '\0';
  len = 0;
  for (j = first; j < argc; j++) {
    size_t l = strlen(argv[j]);
    if (j > first)
      p[len++] = ' ';
    memcpy(p + len, argv[j], l);
    len += l;
  }
  p[len] = '\0';
  *prompt = p;
  return CLI_OK;
}

/* --tools FILE: parse it into *doc and fill tools (see load_tools). */
static int read_tools_file(const char *path, rill_json_doc **doc,
                           rill_tool *tools, char **owned,
                           rill_chat_request *req) {
  size_t len;
  char *text = read_file(path, &len);
  rill_json_error jerr = {0, NULL};
  int n, rc;
  if (!text) {
    fprintf(stderr, "rill chat: cannot read %s: %s\n", path, strerror(errno));
    return CLI_USAGE;
  }
  rc = rill_json_parse(doc, text, len, &jerr);
  free(text);
  if (rc != RILL_OK) {
    fprintf(stderr, "rill chat: %s: %s at byte %zu\n", path,
            jerr.reason ? jerr.reason : rill_strerror(rc), jerr.offset);
    return CLI_MALFORMED;
  }
  n = load_tools(*doc, tools, owned);
  if (n < 0) {
    fprintf(stderr, "rill chat: %s: expected an array of at most %d tools "
                    "with a string \"name\"\n", path, MAX_TOOLS);
    return CLI_MALFORMED;
  }
  req->tools = tools;
  req->n_tools = (size_t)n;
  return CLI_OK;
}

/* Make the client, run the request and map the outcome to an exit code. */
static int chat_and_report(chat_out *out, const rill_client_opts *copts,
                           const rill_chat_request *req,
                           rill_chat_callbacks *cb) {
  rill_client *client = NULL;
  int rc, exit_code = CLI_OK;
  out->tty = isatty(STDOUT_FILENO);
  if (out->json && rill_jw_new(&out->w, 0) != RILL_OK)
    return CLI_RUNTIME;
  cb->user = out;
  rc = rill_client_new(&client, copts);
  if (rc != RILL_OK) {
    fprintf(stderr, "rill chat: %s\n", rill_strerror(rc));
    return CLI_RUNTIME;
  }
  rc = run_chat(client, req, cb);
  if (rc == RILL_E_INVALID || rc == RILL_E_UNSUPPORTED) {
    if (!out->failed)
      fprintf(stderr, "rill chat: %s\n", rill_strerror(rc));
    exit_code = out->failed ? CLI_RUNTIME : CLI_USAGE;
  } else if (rc != RILL_OK || out->failed) {
    exit_code = CLI_RUNTIME;
  } else if (!out->json && out->has_done) {
    print_stats(out);
  }
  /* The dim attribute is closed before the client goes, as before. */
  end_thinking(out);
  rill_client_free(client);
  return exit_code;
}

int cmd_chat(int argc, char **argv) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb = {sizeof cb, on_text, on_thinking, on_tool_call,
                            NULL, on_done, on_error, NULL};
  rill_client_opts copts = RILL_CLIENT_OPTS_INIT;
  rill_message msgs[2];
  size_t n_msgs = 0;
  rill_tool tools[MAX_TOOLS];
  char *tool_strings[3 * MAX_TOOLS] = {0};
  rill_json_doc *tools_doc = NULL;
  char *prompt = NULL;
  chat_out out;
  chat_args ca;
  int i, first, exit_code;

  memset(&out, 0, sizeof out);
  memset(msgs, 0, sizeof msgs);
  memset(&ca, 0, sizeof ca);
  ca.req = &req;
  ca.copts = &copts;
  req.endpoint.provider = RILL_PROVIDER_NONE;
  exit_code = parse_chat_args(&ca, argc, argv, &first);
  if (exit_code != CLI_OK)
    return exit_code;
  out.json = ca.json;
  exit_code = read_prompt(argc, argv, first, &prompt);
  if (exit_code != CLI_OK)
    return exit_code;

  if (ca.system) {
    msgs[n_msgs].role = RILL_ROLE_SYSTEM;
    msgs[n_msgs++].content = ca.system;
  }
  msgs[n_msgs].role = RILL_ROLE_USER;
  msgs[n_msgs++].content = prompt;
  req.messages = msgs;
  req.n_messages = n_msgs;

  if (ca.tools_file)
    exit_code =
        read_tools_file(ca.tools_file, &tools_doc, tools, tool_strings, &req);
  if (exit_code == CLI_OK)
    exit_code = chat_and_report(&out, &copts, &req, &cb);

  end_thinking(&out);
  rill_jw_free(out.w);
  rill_json_doc_free(tools_doc);
  for (i = 0; i < 3 * MAX_TOOLS; i++)
    free(tool_strings[i]);
  free(prompt);
  return exit_code;
}
