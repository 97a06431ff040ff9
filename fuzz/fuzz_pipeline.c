/*
 * fuzz_pipeline.c — libFuzzer target for the whole response path of a chat
 * (framer → provider decoder → application callbacks), the provider and the
 * way the body is cut chosen by the input (RELIABILITY.md G5).
 *
 * Input layout:
 *   byte 0   bits 0-1  provider: Ollama, OpenAI, Gemini, Anthropic
 *            bits 2-4  split pattern (fz_cut in fuzz_common.h): 1-byte
 *                      pieces, two halves, random 1..97, random 1..7, line
 *                      by line, cut after every CR, or fixed-size pieces
 *   byte 1   fixed piece size - 1 (pattern 7)
 *   byte 2   the options byte of fuzz_common.h (the whole-answer bit is
 *            ignored: every run is a stream)
 *   rest     the server's 2xx body
 * Oracle: the event log and final status of the split feed equal those of
 * the unsplit feed (and of a 1-byte feed); exactly one terminal callback
 * (on_done or on_error) and nothing after it; the invariants of
 * fuzz_common.h.
 *
 *   build-fuzz/bin/fuzz_pipeline fuzz/corpus/pipeline -max_total_time=60
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned pattern;
  if (size < 3)
    return 0;
  fz_prov = 1 + (data[0] & 3);
  /* Pattern 0 (unsplit) is the reference: map it to the fixed size. */
  pattern = (data[0] >> 2) & 7u;
  if (pattern == 0)
    pattern = 7;
  pattern |= (unsigned)data[1] << 8;
  fz_chat_input(data[2] & ~OPT_WHOLE, (const char *)data + 3, size - 3,
                pattern);
  return 0;
}
