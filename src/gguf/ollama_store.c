/* Placeholder until the Ollama store resolver lands (issue 5, in progress). */
#include "rill/error.h"
#include "rill/gguf.h"

int rill_ollama_resolve(const char *name, const char *models_dir, char *path,
                        size_t path_cap, char *digest, rill_gguf_error *err) {
  (void)name, (void)models_dir, (void)path, (void)path_cap, (void)digest;
  (void)err;
  return RILL_E_UNSUPPORTED;
}
