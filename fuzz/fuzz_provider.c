/*
 * fuzz_provider.c — libFuzzer target for the chat decoders of the four
 * providers, compiled once per provider (FUZZ_PROVIDER: 1 Ollama, 2 OpenAI,
 * 3 Gemini, 4 Anthropic) into fuzz_ollama, fuzz_openai, fuzz_gemini and
 * fuzz_anthropic.
 *
 * Input layout: byte 0 is the options byte of fuzz_common.h (bit 7: the
 * third feed cuts in random pieces instead of two halves), the rest is the
 * server's 2xx body. Oracle and invariants: fuzz_common.h.
 *
 *   build-fuzz/bin/fuzz_openai fuzz/corpus/openai -max_total_time=60
 */
#include "fuzz_common.h"

#ifndef FUZZ_PROVIDER
#error "define FUZZ_PROVIDER (1 ollama, 2 openai, 3 gemini, 4 anthropic)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned opt;
  if (size < 1)
    return 0;
  fz_prov = FUZZ_PROVIDER;
  opt = data[0];
  fz_chat_input(opt, (const char *)data + 1, size - 1,
                (opt & OPT_PIECES) ? 3u : 2u);
  return 0;
}
