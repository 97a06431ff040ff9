/*
 * stream_gen.c — see stream_gen.h.
 */
#include "stream_gen.h"

#include <stdio.h>
#include <string.h>

/* Pieces of text a model streams, one or a few tokens each, including JSON
 * escapes (\n, \", \u00e9) and raw UTF-8, as real chat deltas have. */
static const char *const words[] = {
    "The", " quick", " brown", " fox", " jumps", " over", " the", " lazy",
    " dog", ".", "\\n\\n", " Caf\\u00e9", " na\xc3\xafve", " \\\"quoted\\\"",
    " r\xc3\xa9sum\xc3\xa9", " \xe2\x80\x94", " streaming", " tokens",
    " arrive", " one", " at", " a", " time", ",", " and", " each", " is",
    " a", " small", " JSON", " record", ".", " \xf0\x9f\x99\x82",
    " int main(void) {", "\\n  return 0;\\n}", " 42", " 3.14",
};
#define N_WORDS (sizeof words / sizeof words[0])

size_t stream_gen_pattern(stream_kind kind, char *buf, size_t cap, size_t want,
                          size_t *n_records) {
  size_t len = 0, n = 0;
  unsigned seed = 7;
  while (len < want) {
    char rec[1024];
    int k;
    const char *w;
    seed = seed * 1103515245u + 12345u;
    w = words[(seed >> 16) % N_WORDS];
    if (kind == STREAM_OLLAMA_NDJSON)
      k = snprintf(rec, sizeof rec,
                   "{\"model\":\"llama3.2\",\"created_at\":\"2024-08-27T17:01:"
                   "%02u.%06uZ\",\"message\":{\"role\":\"assistant\","
                   "\"content\":\"%s\"},\"done\":false}\n",
                   (seed >> 8) % 60, seed % 1000000, w);
    else
      k = snprintf(rec, sizeof rec,
                   "data: {\"id\":\"chatcmpl-9zX8abcdefGhIjKlMnOpQrSt\","
                   "\"object\":\"chat.completion.chunk\",\"created\":%u,"
                   "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":"
                   "\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":"
                   "{\"content\":\"%s\"},\"logprobs\":null,\"finish_reason\":"
                   "null}]}\n\n",
                   1694268190u + (seed % 1000), w);
    if (k <= 0 || (size_t)k > cap - len)
      break;
    memcpy(buf + len, rec, (size_t)k);
    len += (size_t)k;
    n++;
  }
  *n_records = n;
  return len;
}
