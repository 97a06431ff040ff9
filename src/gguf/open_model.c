/*
 * open_model.c — open a model by path or by Ollama name.
 *
 * A path wins: a file in the working directory called like a model name is
 * opened as that file. Anything that exists and is not a directory counts
 * as a path (rill_gguf_open then says what is wrong with it). Otherwise the
 * argument is an Ollama name; an argument that is neither an existing file
 * nor a valid name is reported as not found, naming both readings, since
 * "not a valid model name" alone would puzzle someone who mistyped a path.
 *
 * Must not know: the manifest format, the GGUF format.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "rill/error.h"
#include "rill/gguf.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

int rill_gguf_open_model(rill_gguf **out, const char *path_or_name,
                         const char *models_dir, const rill_gguf_options *opt,
                         rill_gguf_error *err) {
  char blob[PATH_MAX];
  struct stat st;
  int rc;
  if (out)
    *out = NULL;
  if (!out || !path_or_name)
    return rill_gguf_open(out, path_or_name, opt, err);
  if (stat(path_or_name, &st) == 0 && !S_ISDIR(st.st_mode))
    return rill_gguf_open(out, path_or_name, opt, err);
  rc = rill_ollama_resolve(path_or_name, models_dir, blob, sizeof blob, NULL,
                           err);
  if (rc == RILL_E_INVALID) {
    if (err) {
      err->offset = 0;
      snprintf(err->message, sizeof err->message,
               "'%.120s': no such file, and not an Ollama model name",
               path_or_name);
    }
    return RILL_E_NOT_FOUND;
  }
  if (rc != RILL_OK)
    return rc;
  return rill_gguf_open(out, blob, opt, err);
}
