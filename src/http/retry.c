/*
 * retry.c — the retry policy: retryable failures, full-jitter exponential
 * back-off, Retry-After (seconds or HTTP date) and retry-after-ms.
 *
 * Invariants: every result is within [0, LONG_MAX]; no overflow for any
 * input (attempt counts, header values of any length).
 *
 * Must not know: the client, streams, the clock (callers pass "now"), where
 * the randomness comes from.
 */
#include "http/retry.h"

#include <curl/curl.h>
#include <limits.h>
#include <string.h>
#include <time.h>

void rill__retry_normalise(const rill_retry *in, rill_retry *out) {
  rill_retry r;
  memset(&r, 0, sizeof r);
  if (in)
    r = *in;
  if (r.max_retries == 0)
    r.max_retries = RILL__RETRY_DEFAULT_MAX;
  else if (r.max_retries < 0)
    r.max_retries = 0;
  if (r.base_delay_ms <= 0)
    r.base_delay_ms = RILL__RETRY_DEFAULT_BASE_MS;
  if (r.max_delay_ms <= 0)
    r.max_delay_ms = RILL__RETRY_DEFAULT_MAX_DELAY_MS;
  if (r.max_retry_after_ms <= 0)
    r.max_retry_after_ms = RILL__RETRY_DEFAULT_MAX_AFTER_MS;
  *out = r;
}

int rill__retry_status_is_retryable(long status) {
  switch (status) {
  case 408:
  case 429:
  case 500:
  case 502:
  case 503:
  case 504:
  case 529: /* Anthropic: overloaded */
    return 1;
  default:
    return 0;
  }
}

int rill__retry_curl_is_retryable(int curlcode, int got_response) {
  switch ((CURLcode)curlcode) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
  case CURLE_COULDNT_CONNECT:
    return 1;
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
    return !got_response;
  default:
    return 0;
  }
}

long rill__retry_backoff_ms(const rill_retry *p, int attempt,
                            rill__random_fn rnd, void *user) {
  uint64_t cap = (uint64_t)p->base_delay_ms;
  uint64_t max = (uint64_t)p->max_delay_ms;
  int i;
  if (attempt < 0)
    attempt = 0;
  for (i = 0; i < attempt && cap < max; i++)
    cap *= 2;
  if (cap > max)
    cap = max;
  if (!rnd)
    return (long)cap;
  return (long)(rnd(user) % (cap + 1));
}

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* Digits in [p, end) to *out, saturating; 0 when there are none. */
static int parse_digits(const char *p, const char *end, uint64_t *out,
                        const char **stop) {
  uint64_t v = 0;
  const char *q = p;
  while (q < end && *q >= '0' && *q <= '9') {
    unsigned d = (unsigned)(*q - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    q++;
  }
  *out = v;
  *stop = q;
  return q > p;
}

static long clamp_ms(uint64_t ms) {
  return ms > (uint64_t)LONG_MAX ? LONG_MAX : (long)ms;
}

static void trim(const char **p, const char **end) {
  while (*p < *end && is_blank(**p))
    (*p)++;
  while (*end > *p && is_blank((*end)[-1]))
    (*end)--;
}

int rill__retry_parse_after(const char *value, size_t len,
                            int64_t now_epoch_s, long *ms) {
  const char *p, *end, *stop;
  uint64_t secs;
  char date[64];
  time_t t;
  if (!value || !ms)
    return 0;
  p = value;
  end = value + len;
  trim(&p, &end);
  if (p == end)
    return 0;
  if (*p >= '0' && *p <= '9') {
    if (!parse_digits(p, end, &secs, &stop) || stop != end)
      return 0;
    *ms = clamp_ms(secs > UINT64_MAX / 1000 ? UINT64_MAX : secs * 1000);
    return 1;
  }
  if ((size_t)(end - p) >= sizeof date)
    return 0;
  memcpy(date, p, (size_t)(end - p));
  date[end - p] = '\0';
  /* An HTTP date always names a weekday and a month: letters first. */
  if (!((date[0] >= 'A' && date[0] <= 'Z') || (date[0] >= 'a' && date[0] <= 'z')))
    return 0;
  t = curl_getdate(date, NULL);
  if (t == (time_t)-1)
    return 0;
  if ((int64_t)t <= now_epoch_s) {
    *ms = 0;
    return 1;
  }
  secs = (uint64_t)((int64_t)t - now_epoch_s);
  *ms = clamp_ms(secs > UINT64_MAX / 1000 ? UINT64_MAX : secs * 1000);
  return 1;
}

int rill__retry_parse_after_ms(const char *value, size_t len, long *ms) {
  const char *p, *end, *stop;
  uint64_t v, frac;
  if (!value || !ms)
    return 0;
  p = value;
  end = value + len;
  trim(&p, &end);
  if (!parse_digits(p, end, &v, &stop))
    return 0;
  if (stop < end && *stop == '.') {
    const char *f = stop + 1;
    if (!parse_digits(f, end, &frac, &stop))
      return 0;
    if (frac > 0 && v < UINT64_MAX)
      v++;
  }
  if (stop != end)
    return 0;
  *ms = clamp_ms(v);
  return 1;
}

int rill__retry_decide(const rill_retry *p, int attempt, long server_after_ms,
                       rill__random_fn rnd, void *user, long *delay_ms) {
  if (attempt >= p->max_retries)
    return 0;
  if (server_after_ms >= 0) {
    if (server_after_ms > p->max_retry_after_ms)
      return -1;
    *delay_ms = server_after_ms;
    return 1;
  }
  *delay_ms = rill__retry_backoff_ms(p, attempt, rnd, user);
  return 1;
}
