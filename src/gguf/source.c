/*
 * source.c — bytes from a GGUF source.
 *
 * Job: give the parser the bytes at its cursor through one fixed window
 * (RILL_GGUF_WINDOW), whether they come from pread on a descriptor or from
 * a forward-only callback; after open, serve tensor reads (pread, or the
 * callback under the forward-only rules).
 *
 * Must not know: the GGUF layout.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "gguf/gguf_internal.h"
#include "rill/error.h"

int rill__pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *got) {
  unsigned char *p = buf;
  size_t done = 0;
  while (done < n) {
    ssize_t r;
    if (off + done > (uint64_t)INT64_MAX)
      return RILL_E_IO;
    r = pread(fd, p + done, n - done, (off_t)(off + done));
    if (r < 0) {
      if (errno == EINTR)
        continue;
      *got = done;
      return RILL_E_IO;
    }
    if (r == 0)
      break;
    done += (size_t)r;
  }
  *got = done;
  return RILL_OK;
}

/* One callback call into buf; a callback that claims more than it was
 * given room for is broken, and trusting it would overrun buf. */
static int stream_call(rill__gsrc *s, void *buf, size_t cap, size_t *got) {
  *got = 0;
  if (s->eof)
    return RILL_OK;
  if (s->read(s->user, buf, cap, got) != 0 || *got > cap) {
    *got = 0;
    return RILL_E_IO;
  }
  if (*got == 0)
    s->eof = 1;
  return RILL_OK;
}

static int fill_fd(rill__gsrc *s, size_t n, const char *what,
                   rill_gguf_error *err) {
  uint64_t avail = s->size > s->pos ? s->size - s->pos : 0;
  size_t want = avail < s->win_cap ? (size_t)avail : s->win_cap, got;
  if (avail < n)
    return rill__gguf_fail(err, RILL_E_FORMAT, s->pos,
                           "the file ends at byte %llu, inside %s at "
                           "offset %llu (%zu bytes needed)",
                           (unsigned long long)s->size, what,
                           (unsigned long long)s->pos, n);
  if (rill__pread_full(s->fd, s->win, want, s->pos, &got) != RILL_OK)
    return rill__gguf_fail(err, RILL_E_IO, s->pos,
                           "read error at offset %llu: %s",
                           (unsigned long long)s->pos, strerror(errno));
  s->win_off = s->pos;
  s->win_len = got;
  if (got < n) /* the file shrank since fstat */
    return rill__gguf_fail(err, RILL_E_IO, s->pos,
                           "the file shrank while being read (offset %llu)",
                           (unsigned long long)s->pos);
  return RILL_OK;
}

static int fill_stream(rill__gsrc *s, size_t n, const char *what,
                       rill_gguf_error *err) {
  /* The parser only moves forward, so bytes before the cursor are dead. */
  size_t keep = (size_t)(s->win_off + s->win_len - s->pos);
  if (s->pos > s->win_off + s->win_len)
    keep = 0; /* cannot happen: the cursor never skips unread bytes */
  if (keep)
    memmove(s->win, s->win + (s->pos - s->win_off), keep);
  s->win_off = s->pos;
  s->win_len = keep;
  while (s->win_len < n) {
    size_t got;
    if (stream_call(s, s->win + s->win_len, s->win_cap - s->win_len, &got) !=
        RILL_OK)
      return rill__gguf_fail(err, RILL_E_IO, s->pos,
                             "the read callback failed at offset %llu",
                             (unsigned long long)s->win_off + s->win_len);
    if (got == 0)
      return rill__gguf_fail(err, RILL_E_FORMAT, s->pos,
                             "the input ends at byte %llu, inside %s at "
                             "offset %llu (%zu bytes needed)",
                             (unsigned long long)s->win_off + s->win_len,
                             what, (unsigned long long)s->pos, n);
    s->win_len += got;
  }
  return RILL_OK;
}

int rill__gsrc_need(rill__gsrc *s, size_t n, const unsigned char **p,
                    const char *what, rill_gguf_error *err) {
  int rc;
  if (n > RILL_GGUF_WINDOW)
    return rill__gguf_fail(err, RILL_E_INTERNAL, s->pos,
                           "internal: %zu bytes asked of the window", n);
  if (s->pos < s->win_off || s->pos + n > s->win_off + s->win_len) {
    rc = s->fd >= 0 ? fill_fd(s, n, what, err) : fill_stream(s, n, what, err);
    if (rc != RILL_OK)
      return rc;
  }
  *p = s->win + (s->pos - s->win_off);
  return RILL_OK;
}

int rill__gsrc_finish_parse(rill__gsrc *s) {
  size_t keep = 0;
  if (s->fd < 0 && s->pos >= s->win_off && s->pos < s->win_off + s->win_len)
    keep = (size_t)(s->win_off + s->win_len - s->pos);
  s->spos = s->pos;
  if (keep == 0) {
    rill__free(s->win);
  } else {
    unsigned char *q;
    memmove(s->win, s->win + (s->pos - s->win_off), keep);
    /* Shrinking: the stream's leftover is at most one window. */
    q = rill__realloc(s->win, keep);
    s->pend = q ? q : s->win;
    s->pend_len = keep;
  }
  s->win = NULL;
  s->win_len = s->win_cap = 0;
  return RILL_OK;
}

/* Move the stream to offset off by dropping bytes. */
static int stream_skip_to(rill__gsrc *s, uint64_t off) {
  unsigned char scratch[4096];
  while (s->spos < off) {
    uint64_t gap = off - s->spos;
    size_t got;
    if (s->pend_len) {
      size_t k = gap < s->pend_len ? (size_t)gap : s->pend_len;
      s->pend_at += k;
      s->pend_len -= k;
      s->spos += k;
      continue;
    }
    if (stream_call(s, scratch,
                    gap < sizeof scratch ? (size_t)gap : sizeof scratch,
                    &got) != RILL_OK)
      return RILL_E_IO;
    if (got == 0)
      return RILL_E_FORMAT;
    s->spos += got;
  }
  return RILL_OK;
}

static int stream_read(rill__gsrc *s, uint64_t off, unsigned char *buf,
                       size_t len) {
  size_t done = 0;
  int rc;
  if (off < s->spos)
    return RILL_E_STATE;
  rc = stream_skip_to(s, off);
  if (rc != RILL_OK)
    return rc;
  if (s->pend_len) {
    size_t k = len < s->pend_len ? len : s->pend_len;
    memcpy(buf, s->pend + s->pend_at, k);
    s->pend_at += k;
    s->pend_len -= k;
    done = k;
  }
  while (done < len) {
    size_t got;
    if (stream_call(s, buf + done, len - done, &got) != RILL_OK) {
      s->spos += done;
      return RILL_E_IO;
    }
    if (got == 0) {
      s->spos += done;
      return RILL_E_FORMAT;
    }
    done += got;
  }
  s->spos += done;
  if (s->pend_len == 0 && s->pend) {
    rill__free(s->pend);
    s->pend = NULL;
    s->pend_at = 0;
  }
  return RILL_OK;
}

int rill__gsrc_read_at(rill__gsrc *s, uint64_t off, void *buf, size_t len) {
  size_t got;
  if (len == 0)
    return RILL_OK;
  if (s->fd < 0)
    return stream_read(s, off, buf, len);
  if (rill__pread_full(s->fd, buf, len, off, &got) != RILL_OK || got < len)
    return RILL_E_IO;
  return RILL_OK;
}

void rill__gsrc_close(rill__gsrc *s) {
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  rill__free(s->win);
  rill__free(s->pend);
  s->win = s->pend = NULL;
}
