/*
 * The `rill` command: shared declarations of its subcommands.
 * Exit codes (DESIGN.md): 0 success, 1 runtime or provider error, 2 usage
 * error, 3 malformed input.
 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

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

#endif
