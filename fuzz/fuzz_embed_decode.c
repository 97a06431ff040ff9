/*
 * fuzz_embed_decode.c — libFuzzer target for the remote embeddings decoder
 * (providers/manage.c: Ollama /api/embed, OpenAI /v1/embeddings, Gemini
 * :embedContent and :batchEmbedContents answers).
 *
 * Input layout:
 *   byte 0   bits 0-1  format: Ollama, OpenAI, Gemini (3: Gemini too)
 *            bits 2-4  inputs sent, less one (the vectors expected: 1..8)
 *            bits 5-6  the caller's errmsg capacity: 0, 1, 16, 256
 *   rest     the server's 2xx body
 * The body goes to on_record once, then on_end, or on_failure on failure,
 * as src/http/stream.c does for a WHOLE answer (the body is accumulated
 * before decoding: there are no pieces to compare).
 *
 * Invariants: on success the result has exactly the expected number of
 * vectors, dims > 0, n × dims floats readable (ASan), input_tokens -1 for
 * Gemini; on failure no result and a NUL-terminated message within the
 * caller's capacity (non-empty when it holds one byte of text); the body
 * as an error body gives a bounded message of printable bytes; the
 * library's bytes in use are the same after the decoder and result are
 * freed as before. Leaks: LeakSanitizer.
 *
 *   build-fuzz/bin/fuzz_embed_decode fuzz/corpus/embed_decode -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "fuzz_util.h"
#include "provider.h"
#include "rill/embeddings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest provider message http_error_message appends (cut at 400 bytes,
 * plus Gemini's status). */
#define ERRMSG_BOUND 1024u

static void check_msg(const char *errmsg, size_t cap, int failed) {
  size_t k;
  if (cap == 0)
    return;
  for (k = 0; k < cap && errmsg[k]; k++)
    ;
  if (k == cap || (failed && cap > 1 && k == 0))
    __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const size_t caps[4] = {0, 1, 16, 256};
  char errmsg[256];
  rill_embeddings *res = NULL;
  rill__decoder *d = NULL;
  rill__buf msg;
  const char *in;
  size_t n, n_exp, cap, i;
  int format, rc;
  uint64_t in_use = fz_in_use();
  if (size < 1)
    return 0;
  format = data[0] & 3;
  if (format == 3)
    format = RILL__EMBED_GEMINI;
  n_exp = 1 + ((data[0] >> 2) & 7u);
  cap = caps[(data[0] >> 5) & 3u];
  in = (const char *)data + 1;
  n = size - 1;
  memset(errmsg, 0x55, sizeof errmsg);
  if (rill__embed_decoder_new(format, n_exp, &res, cap ? errmsg : NULL, cap,
                              &d) != RILL_OK)
    __builtin_trap();
  rc = d->ops->on_record(d, in, n);
  if (rc > 0)
    rc = RILL_E_INTERNAL;
  if (rc == RILL_OK)
    rc = d->ops->on_end(d);
  if (rc == RILL_OK) {
    volatile float sum = 0;
    if (!res || res->n != n_exp || res->dims == 0 || !res->data ||
        (format == RILL__EMBED_GEMINI && res->input_tokens != -1))
      __builtin_trap();
    for (i = 0; i < res->n * res->dims; i++)
      sum += res->data[i];
    (void)sum;
  } else {
    if (res || rc >= 0)
      __builtin_trap();
    d->ops->on_failure(d, rc, 0, rill__decoder_errmsg(d));
    check_msg(errmsg, cap, 1);
  }
  d->ops->destroy(d);
  rill_embeddings_free(res);
  /* The same body as a non-2xx answer's. */
  if (rill__embed_decoder_new(format, n_exp, NULL, NULL, 0, &d) != RILL_OK)
    __builtin_trap();
  rill__buf_init(&msg, NULL, (size_t)1 << 20);
  d->ops->http_error_message(d, 400, in, n, &msg);
  if (msg.len > ERRMSG_BOUND)
    __builtin_trap();
  for (i = 0; i < msg.len; i++)
    if ((unsigned char)msg.data[i] < 0x20)
      __builtin_trap();
  rill__buf_release(&msg);
  d->ops->destroy(d);
  if (fz_in_use() != in_use)
    __builtin_trap();
  return 0;
}
