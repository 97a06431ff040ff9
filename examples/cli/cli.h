/*
 * The `rill` command: shared declarations of its subcommands.
 * Exit codes (DESIGN.md): 0 success, 1 runtime or provider error, 2 usage
 * error, 3 malformed input.
 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

#include <stdio.h>

enum {
  CLI_OK = 0,
  CLI_RUNTIME = 1,
  CLI_USAGE = 2,
  CLI_MALFORMED = 3
};

/* argv[0] is the subcommand name. */
int cmd_parse(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_gguf(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);

/* Parse a byte count with an optional K/M/G suffix (powers of 1024) into
 * *out, accepting lo..hi. Returns 0 or -1. */
int cli_parse_size(const char *s, unsigned long long lo, unsigned long long hi,
                   unsigned long long *out);

/* All of f (up to max bytes) in a malloc'd NUL-terminated buffer; *len
 * gets its length. NULL on a read error, when f holds more than max, or
 * when memory runs out. */
char *cli_read_all(FILE *f, size_t max, size_t *len);

#endif
