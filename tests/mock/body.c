/*
 * body.c — response bodies as streams: literal bytes or a generator, a
 * fault spliced in, and the cutting into pieces (split modes).
 *
 * Invariant: a generated body is never materialised. A generator holds
 * one record (<= sizeof msrc.rec) and an index; its totals (word count,
 * text bytes, body length) are computed arithmetically before the head is
 * sent, so a 1 GiB body costs the same memory as a 1 KiB one.
 *
 * Record boundaries: NDJSON records end at each '\n'; SSE records (events)
 * end at a blank line ('\n' after an empty line, '\r' ignored).
 */
#include "mock.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The cycle of words: "The quick brown fox jumps over the lazy dog. "
 * split after each space. */
static const char *const WORDS[9] = {"The ",  "quick ", "brown ",
                                     "fox ",  "jumps ", "over ",
                                     "the ",  "lazy ",  "dog. "};
#define CYCLE_TEXT 45u /* bytes of one cycle */
#define PULL_DIGEST \
  "sha256:3f1d8a7c29e0b1f4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"

static uint64_t splitmix(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* ---- generators ----------------------------------------------------------- */

static size_t fmt(char *buf, size_t cap, const char *f, ...)
    __attribute__((format(printf, 3, 4)));
static size_t fmt(char *buf, size_t cap, const char *f, ...) {
  va_list ap;
  int n;
  va_start(ap, f);
  n = vsnprintf(buf, cap, f, ap);
  va_end(ap);
  return n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);
}

#define OAI_PREFIX                                                        \
  "data: {\"id\":\"chatcmpl-mock\",\"object\":\"chat.completion.chunk\"," \
  "\"created\":1700000000,\"model\":\"%s\",\"system_fingerprint\":"      \
  "\"fp_mock\",\"choices\":"

/* A record that carries word w (w may be "" to measure the fixed part). */
static size_t word_record(const gen_params *p, const char *w, uint64_t done,
                          char *buf, size_t cap) {
  switch (p->kind) {
  case GEN_OLLAMA_CHAT:
    return fmt(buf, cap,
               "{\"model\":\"%s\",\"created_at\":\"2025-01-01T00:00:00Z\","
               "\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},"
               "\"done\":false}\n",
               p->model, w);
  case GEN_OPENAI_CHAT:
    return fmt(buf, cap,
               OAI_PREFIX "[{\"index\":0,\"delta\":{\"content\":\"%s\"},"
                          "\"logprobs\":null,\"finish_reason\":null}]}\n\n",
               p->model, w);
  case GEN_OLLAMA_GENERATE:
    return fmt(buf, cap,
               "{\"model\":\"%s\",\"created_at\":\"2025-01-01T00:00:00Z\","
               "\"response\":\"%s\",\"done\":false}\n",
               p->model, w);
  case GEN_OLLAMA_PULL:
    return fmt(buf, cap,
               "{\"status\":\"pulling 3f1d8a7c29e0\",\"digest\":\"" PULL_DIGEST
               "\",\"total\":%" PRIu64 ",\"completed\":%" PRIu64 "}\n",
               p->total, done);
  case GEN_NONE:
    break;
  }
  return 0;
}

static size_t head_record(const gen_params *p, uint64_t i, char *buf,
                          size_t cap) {
  if (p->kind == GEN_OPENAI_CHAT)
    return fmt(buf, cap,
               OAI_PREFIX "[{\"index\":0,\"delta\":{\"role\":\"assistant\","
                          "\"content\":\"\",\"refusal\":null},\"logprobs\":"
                          "null,\"finish_reason\":null}]}\n\n",
               p->model);
  if (p->kind == GEN_OLLAMA_PULL) {
    if (i == 0)
      return fmt(buf, cap, "{\"status\":\"pulling manifest\"}\n");
    return fmt(buf, cap,
               "{\"status\":\"pulling 3f1d8a7c29e0\",\"digest\":\"" PULL_DIGEST
               "\",\"total\":%" PRIu64 "}\n",
               p->total);
  }
  return 0;
}

static size_t tail_record(const gen_params *p, const gen_plan *pl, uint64_t i,
                          char *buf, size_t cap) {
  uint64_t n = pl->n_words;
  switch (p->kind) {
  case GEN_OLLAMA_CHAT:
    return fmt(buf, cap,
               "{\"model\":\"%s\",\"created_at\":\"2025-01-01T00:00:01Z\","
               "\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
               "\"done\":true,\"done_reason\":\"%s\",\"total_duration\":"
               "1000000000,\"load_duration\":1000000,\"prompt_eval_count\":7,"
               "\"prompt_eval_duration\":1000000,\"eval_count\":%" PRIu64
               ",\"eval_duration\":900000000}\n",
               p->model, p->done_reason, n);
  case GEN_OLLAMA_GENERATE:
    return fmt(buf, cap,
               "{\"model\":\"%s\",\"created_at\":\"2025-01-01T00:00:01Z\","
               "\"response\":\"\",\"done\":true,\"done_reason\":\"%s\","
               "\"context\":[1,2,3],\"total_duration\":1000000000,"
               "\"load_duration\":1000000,\"prompt_eval_count\":7,"
               "\"prompt_eval_duration\":1000000,\"eval_count\":%" PRIu64
               ",\"eval_duration\":900000000}\n",
               p->model, p->done_reason, n);
  case GEN_OPENAI_CHAT:
    if (i == 0)
      return fmt(buf, cap,
                 OAI_PREFIX "[{\"index\":0,\"delta\":{},\"logprobs\":null,"
                            "\"finish_reason\":\"%s\"}]}\n\n",
                 p->model, p->done_reason);
    if (i == 1)
      return fmt(buf, cap,
                 OAI_PREFIX "[],\"usage\":{\"prompt_tokens\":7,"
                            "\"completion_tokens\":%" PRIu64
                            ",\"total_tokens\":%" PRIu64 "}}\n\n",
                 p->model, n, n + 7);
    return fmt(buf, cap, "data: [DONE]\n\n");
  case GEN_OLLAMA_PULL:
    if (i == 0)
      return fmt(buf, cap, "{\"status\":\"verifying sha256 digest\"}\n");
    if (i == 1)
      return fmt(buf, cap, "{\"status\":\"writing manifest\"}\n");
    return fmt(buf, cap, "{\"status\":\"success\"}\n");
  case GEN_NONE:
    break;
  }
  return 0;
}

/* Progress value of pull line w (0-based) of n: rises to total. */
static uint64_t pull_done(const gen_params *p, uint64_t w, uint64_t n) {
  /* total * (w+1) / n without overflow (n < 2^32 in practice) */
  return p->total / n * (w + 1) + p->total % n * (w + 1) / n;
}

static size_t gen_record(const gen_params *p, const gen_plan *pl, uint64_t k,
                         char *buf, size_t cap) {
  if (k < pl->n_head)
    return head_record(p, k, buf, cap);
  k -= pl->n_head;
  if (k < pl->n_words)
    return word_record(p, WORDS[k % 9],
                       p->kind == GEN_OLLAMA_PULL
                           ? pull_done(p, k, pl->n_words)
                           : 0,
                       buf, cap);
  return tail_record(p, pl, k - pl->n_words, buf, cap);
}

void mock_gen_plan(const gen_params *p, gen_plan *out) {
  char buf[640];
  uint64_t head = 0, i, n;
  memset(out, 0, sizeof *out);
  out->n_head = p->kind == GEN_OPENAI_CHAT ? 1 : p->kind == GEN_OLLAMA_PULL ? 2 : 0;
  out->n_tail = p->kind == GEN_OPENAI_CHAT || p->kind == GEN_OLLAMA_PULL ? 3 : 1;
  for (i = 0; i < out->n_head; i++)
    head += head_record(p, i, buf, sizeof buf);
  if (p->kind == GEN_OLLAMA_PULL) {
    uint64_t line = word_record(p, "", p->total, buf, sizeof buf);
    n = p->words ? p->words
                 : (p->bytes > head + 96 ? (p->bytes - head - 96) / line : 0);
    out->n_words = n ? n : 1;
    out->text_bytes = p->total;
    return;
  }
  if (p->words) {
    n = p->words;
  } else {
    uint64_t fixed = word_record(p, "", 0, buf, sizeof buf);
    uint64_t cycle = 9 * fixed + CYCLE_TEXT, len = head;
    n = 0;
    if (p->bytes > len + cycle) {
      uint64_t c = (p->bytes - len) / cycle - 1;
      n = c * 9;
      len += c * cycle;
    }
    while (len < p->bytes) {
      len += fixed + strlen(WORDS[n % 9]);
      n++;
    }
  }
  out->n_words = n;
  out->text_bytes = n / 9 * CYCLE_TEXT;
  for (i = 0; i < n % 9; i++)
    out->text_bytes += strlen(WORDS[i]);
}

/* Body length of a generator: arithmetic for the chat kinds (each word
 * record is its fixed part plus the word), a walk for pull. */
static uint64_t gen_total(const gen_params *p, const gen_plan *pl) {
  char buf[640];
  uint64_t len = 0, i;
  for (i = 0; i < pl->n_head; i++)
    len += head_record(p, i, buf, sizeof buf);
  for (i = 0; i < pl->n_tail; i++)
    len += tail_record(p, pl, i, buf, sizeof buf);
  if (p->kind == GEN_OLLAMA_PULL) {
    for (i = 0; i < pl->n_words; i++)
      len += word_record(p, "", pull_done(p, i, pl->n_words), buf, sizeof buf);
    return len;
  }
  return len + pl->n_words * word_record(p, "", 0, buf, sizeof buf) +
         pl->text_bytes;
}

/* ---- sources -------------------------------------------------------------- */

static void src_init(msrc *s, const mock_resp *r, const char *lit,
                     size_t len) {
  memset(s, 0, sizeof *s);
  if (lit || r->gen.kind == GEN_NONE) {
    s->lit = lit ? lit : r->body;
    s->lit_len = lit ? len : r->body_len;
    if (!s->lit)
      s->lit_len = 0;
    s->lit_total = s->lit_len;
    if (!lit && r->repeat > 1 && s->lit_len <= UINT64_MAX / r->repeat)
      s->lit_total = (uint64_t)s->lit_len * r->repeat;
    if (!lit) {
      s->pre = r->prefix;
      s->pre_len = r->prefix ? r->prefix_len : 0;
      s->suf = r->suffix;
      s->suf_len = r->suffix ? r->suffix_len : 0;
      s->lit_total += s->pre_len + s->suf_len;
    }
    return;
  }
  s->gp = &r->gen;
  mock_gen_plan(&r->gen, &s->plan);
}

/* Contiguous bytes available at the read position (0 at the end). */
static size_t src_peek(msrc *s, const char **p) {
  if (!s->gp) {
    uint64_t mid_end = s->lit_total - s->suf_len;
    size_t at;
    if (s->off >= s->lit_total)
      return 0;
    if (s->off < s->pre_len) {
      *p = s->pre + s->off;
      return s->pre_len - (size_t)s->off;
    }
    if (s->off >= mid_end) {
      *p = s->suf + (s->off - mid_end);
      return (size_t)(s->lit_total - s->off);
    }
    at = (size_t)((s->off - s->pre_len) % s->lit_len);
    *p = s->lit + at;
    return s->lit_len - at;
  }
  if (s->rec_pos == s->rec_len) {
    const gen_plan *pl = &s->plan;
    if (s->k >= pl->n_head + pl->n_words + pl->n_tail)
      return 0;
    s->rec_len = gen_record(s->gp, pl, s->k++, s->rec, sizeof s->rec);
    s->rec_pos = 0;
  }
  *p = s->rec + s->rec_pos;
  return s->rec_len - s->rec_pos;
}

static void src_skip(msrc *s, size_t n) {
  s->off += n;
  if (s->gp)
    s->rec_pos += n;
}

/* ---- record tracking -------------------------------------------------------- */

/* Feed one byte; returns 1 when a record ends with it. */
static int track(int sse, int *line_len, unsigned char ch) {
  if (ch == '\n') {
    int blank = *line_len == 0;
    *line_len = 0;
    return sse ? blank : 1;
  }
  if (ch != '\r')
    (*line_len)++;
  return 0;
}

static int fault_inserts(fault_kind f) {
  return f == FAULT_GARBAGE || f == FAULT_OVERSIZE_RECORD;
}

/* Find the fault position with a scan of a second copy of the source. */
static uint64_t find_fault_at(const bstream *bs, const mock_resp *r,
                              const char *lit, size_t len) {
  msrc s;
  uint64_t target = bs->total / 2, pos = 0, last_boundary = 0;
  int line_len = 0;
  src_init(&s, r, lit, len);
  for (;;) {
    const char *p;
    size_t n = src_peek(&s, &p), i;
    if (n == 0)
      break;
    for (i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)p[i];
      int boundary = track(bs->sse, &line_len, ch);
      pos++;
      switch (bs->fault) {
      case FAULT_CLOSE_MID_RECORD:
      case FAULT_RESET_MID_RECORD:
      case FAULT_STALL:
        if (pos >= target && ch != '\n' && pos < bs->total)
          return pos;
        break;
      case FAULT_GARBAGE:
      case FAULT_OVERSIZE_RECORD:
      case FAULT_BAD_CHUNKED:
        if (pos >= target && boundary)
          return pos;
        break;
      default:
        if (boundary && pos < bs->total)
          last_boundary = pos;
        break;
      }
    }
    src_skip(&s, n);
  }
  if (bs->fault == FAULT_NO_DONE)
    return last_boundary;
  if (fault_inserts(bs->fault) || bs->fault == FAULT_BAD_CHUNKED)
    return bs->total;
  return target;
}

void mock_bs_init(bstream *bs, const mock_resp *r, const char *lit,
                  size_t len) {
  memset(bs, 0, sizeof *bs);
  src_init(&bs->src, r, lit, len);
  bs->total = bs->src.gp ? gen_total(bs->src.gp, &bs->src.plan)
                         : bs->src.lit_total;
  bs->sse = r->sse > 0;
  bs->fault = lit ? FAULT_NONE : r->fault;
  if (bs->fault == FAULT_REDIRECT)
    bs->fault = FAULT_NONE;
  bs->split = lit ? SPLIT_NONE : r->split;
  bs->split_n = r->split_n ? r->split_n : 1;
  bs->rng = r->seed;
  bs->out_len = bs->total;
  if (bs->fault != FAULT_NONE)
    bs->fault_at = find_fault_at(bs, r, lit, len);
  if (bs->fault == FAULT_GARBAGE)
    bs->ins_len = 64 + (bs->sse ? 2 : 1);
  else if (bs->fault == FAULT_OVERSIZE_RECORD)
    bs->ins_len = r->fault_bytes < 64 ? 64 : r->fault_bytes;
  if (fault_inserts(bs->fault))
    bs->out_len = bs->total + bs->ins_len;
  else if (bs->fault == FAULT_NO_DONE)
    bs->out_len = bs->fault_at;
}

/* Byte i of the inserted record. */
static char ins_byte(bstream *bs, uint64_t i) {
  static const char pre_nd[] = "{\"pad\":\"", pre_sse[] = "data: {\"pad\":\"";
  const char *pre = bs->sse ? pre_sse : pre_nd;
  uint64_t pre_len = bs->sse ? sizeof pre_sse - 1 : sizeof pre_nd - 1;
  uint64_t nl = bs->sse ? 2 : 1;
  if (i >= bs->ins_len - nl)
    return '\n';
  if (bs->fault == FAULT_GARBAGE) {
    /* binary noise, never a line end: starts with bytes no text has */
    static const char lead[4] = {'\xff', '\xfe', '\0', '\xc0'};
    uint64_t v;
    if (i < 4)
      return lead[i];
    v = splitmix(&bs->rng) & 0xff;
    return (char)(v == '\n' || v == '\r' ? 0x80 : v);
  }
  if (i < pre_len)
    return pre[i];
  if (i == bs->ins_len - nl - 2)
    return '"';
  if (i == bs->ins_len - nl - 1)
    return '}';
  return 'x';
}

bs_status mock_bs_next(bstream *bs, char *dst, size_t *n) {
  size_t want, got = 0;
  int records = bs->split == SPLIT_RECORDS;
  switch (bs->split) {
  case SPLIT_NONE:
    want = MOCK_PIECE_DEFAULT;
    break;
  case SPLIT_FIXED:
    want = (size_t)bs->split_n;
    break;
  case SPLIT_RANDOM:
    want = 1 + (size_t)(splitmix(&bs->rng) % bs->split_n);
    break;
  case SPLIT_BYTES:
    want = 1;
    break;
  default:
    want = MOCK_PIECE_MAX;
    break;
  }
  if (want > MOCK_PIECE_MAX)
    want = MOCK_PIECE_MAX;
  *n = 0;
  while (got < want) {
    if (bs->phase == 0 || bs->phase == 2) {
      uint64_t end = (bs->phase == 0 && bs->fault != FAULT_NONE)
                         ? bs->fault_at
                         : bs->total;
      const char *p;
      size_t avail, i, take;
      int stop = 0;
      if (bs->src.off >= end) {
        if (bs->phase == 2 || bs->fault == FAULT_NONE) {
          bs->phase = 3;
        } else if (fault_inserts(bs->fault)) {
          bs->phase = 1;
        } else if (bs->fault == FAULT_NO_DONE) {
          bs->phase = 3;
        } else {
          if (got)
            break;
          return BS_FAULT;
        }
        continue;
      }
      avail = src_peek(&bs->src, &p);
      if (avail == 0) { /* source shorter than announced: end */
        bs->phase = 3;
        continue;
      }
      if (avail > end - bs->src.off)
        avail = (size_t)(end - bs->src.off);
      take = want - got < avail ? want - got : avail;
      for (i = 0; i < take && !stop; i++) {
        dst[got + i] = p[i];
        if (track(bs->sse, &bs->line_len, (unsigned char)p[i]) && records)
          stop = 1;
      }
      src_skip(&bs->src, i);
      got += i;
      if (stop)
        break;
    } else if (bs->phase == 1) {
      int stop = 0;
      while (got < want && bs->ins_pos < bs->ins_len && !stop) {
        char ch = ins_byte(bs, bs->ins_pos++);
        dst[got++] = ch;
        if (track(bs->sse, &bs->line_len, (unsigned char)ch) && records)
          stop = 1;
      }
      if (bs->ins_pos == bs->ins_len)
        bs->phase = 2;
      if (stop)
        break;
    } else {
      break;
    }
  }
  *n = got;
  if (got)
    return BS_DATA;
  return BS_END;
}
