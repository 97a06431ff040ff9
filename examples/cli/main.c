/*
 * main.c — the `rill` command: dispatches to a subcommand.
 * Uses rill's public headers only, as any application would.
 */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli.h"
#include "rill/rill.h"

static void usage(FILE *to) {
  fputs("usage: rill <command> [options]\n"
        "\n"
        "commands:\n"
        "  parse sse|ndjson [--chunk N] [--max-record N]\n"
        "        read a byte stream on stdin, feed it in N-byte pieces\n"
        "        (default 64K) and print one JSON line per event or record\n"
        "  chat --provider P --model M [options] PROMPT...\n"
        "        stream an answer (rill chat --help for the options)\n"
        "  models [--provider P] [--url BASE] [--json] [--loaded]\n"
        "        list the models a server offers\n"
        "  pull [--url BASE] [--json] NAME\n"
        "        download an Ollama model, with progress\n"
        "  gguf FILE|OLLAMA-NAME [--json] [--verify] [--models-dir DIR]\n"
        "        print a GGUF file's metadata and tensor table; --verify\n"
        "        checks its SHA-256 against the Ollama manifest\n"
        "  embed --model FILE.gguf|OLLAMA-NAME [options] < texts > vectors\n"
        "        embed each input line (JSONL or plain text) locally, or with\n"
        "        --provider P through a server; one JSON vector per line\n"
        "        (rill embed --help for the options)\n"
        "  tokenize --model FILE.gguf|OLLAMA-NAME [--no-special] TEXT...|-\n"
        "        print the model's token ids for TEXT as a JSON array\n"
        "  version [--verbose]  print the library and libcurl versions\n"
        "        (--verbose: and whether core dumps are off)\n"
        "\n"
        "exit codes: 0 ok, 1 runtime error, 2 usage error, 3 malformed input\n",
        to);
}

int cli_parse_size(const char *s, unsigned long long lo, unsigned long long hi,
                   unsigned long long *out) {
  char *end;
  unsigned long long v, mul = 1;
  if (!s || *s < '0' || *s > '9')
    return -1;
  errno = 0;
  v = strtoull(s, &end, 10);
  if (errno)
    return -1;
  if (*end == 'K' || *end == 'k')
    mul = 1ull << 10, end++;
  else if (*end == 'M' || *end == 'm')
    mul = 1ull << 20, end++;
  else if (*end == 'G' || *end == 'g')
    mul = 1ull << 30, end++;
  if (*end || v > hi / mul)
    return -1;
  v *= mul;
  if (v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

char *cli_read_all(FILE *f, size_t max, size_t *len) {
  char *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    size_t got;
    if (n + 4096 + 1 > cap) {
      char *nb;
      cap = cap ? cap * 2 : 8192;
      if (cap > max + 4097 || !(nb = realloc(buf, cap))) {
        free(buf);
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + n, 1, 4096, f);
    n += got;
    if (got < 4096)
      break;
  }
  if (ferror(f) || n > max) {
    free(buf);
    return NULL;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  const char *cmd;
  /* Behave like the editors that embed rill: a user locale must not
   * change how numbers are read or printed. */
  setlocale(LC_ALL, "");
  /* Keys may sit in this process's memory: no core dumps of it. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  cmd = argv[1];
  if (strcmp(cmd, "parse") == 0)
    return cmd_parse(argc - 1, argv + 1);
  if (strcmp(cmd, "chat") == 0 || strcmp(cmd, "models") == 0 ||
      strcmp(cmd, "pull") == 0) {
    int rc = rill_global_init(NULL);
    if (rc != RILL_OK) {
      fprintf(stderr, "rill: cannot initialise: %s\n", rill_strerror(rc));
      return CLI_RUNTIME;
    }
    rc = cmd[0] == 'c'   ? cmd_chat(argc - 1, argv + 1)
         : cmd[0] == 'm' ? cmd_models(argc - 1, argv + 1)
                         : cmd_pull(argc - 1, argv + 1);
    rill_global_cleanup();
    return rc;
  }
  if (strcmp(cmd, "gguf") == 0)
    return cmd_gguf(argc - 1, argv + 1);
  /* embed initialises the library itself, and only with --provider: a
   * local model needs no curl. */
  if (strcmp(cmd, "embed") == 0)
    return cmd_embed(argc - 1, argv + 1);
  if (strcmp(cmd, "tokenize") == 0)
    return cmd_tokenize(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    const rill_version_info *v = rill_version();
    printf("rill %s (libcurl %s)\n", v->version, v->curl_version);
    /* --verbose: how this process protects the keys it may hold (what
     * tests/integration/test_secrets.c checks). */
    if (argc > 2 && strcmp(argv[2], "--verbose") == 0)
      printf("core dumps: %s\n",
             prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 ? "off" : "on");
    return CLI_OK;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
      strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  fprintf(stderr, "rill: unknown command '%s'\n", cmd);
  usage(stderr);
  return CLI_USAGE;
}
