/*
 * mock.h — shared types of rill-mock, the scenario-driven provider server
 * (see CONTRACT.md and docs/mock.md).
 *
 * Module map: scenario.c reads the scenario file into routes and response
 * templates; body.c turns a response template into a byte stream (literal
 * body or generator, fault splicing, split into pieces) without ever
 * materialising a generated body; http.c parses requests incrementally with
 * fixed caps; record.c keeps the bounded request log and answers the
 * control endpoints; main.c owns the poll loop, the sockets, TLS and timers.
 * Everything runs on one thread.
 */
#ifndef RILL_MOCK_H
#define RILL_MOCK_H

#include <stddef.h>
#include <stdint.h>

/* ---- limits (each one is a promise of bounded memory) ----------------- */

/* Request head (request line + headers): curl and every client we test
 * send a few KiB; 64 KiB is llhttp-like generosity. 431 beyond. */
#define MOCK_MAX_HEAD ((size_t)64 << 10)
/* Headers per request; 431 beyond. */
#define MOCK_MAX_HEADERS 256
/* Request body (decoded); 413 beyond. */
#define MOCK_MAX_BODY ((size_t)16 << 20)
/* Largest piece written at once; a record longer than this is cut even in
 * "records" split mode. */
#define MOCK_PIECE_MAX ((size_t)64 << 10)
/* Piece size when no split is given. */
#define MOCK_PIECE_DEFAULT ((size_t)16 << 10)
/* Request log: newest MOCK_REC_MAX requests, at most MOCK_REC_BODY bytes of
 * each body, at most MOCK_REC_TOTAL bytes in all (oldest dropped first). */
#define MOCK_REC_MAX 10000u
#define MOCK_REC_BODY ((size_t)1 << 20)
#define MOCK_REC_TOTAL ((size_t)64 << 20)
/* Scenario file and each body_file. */
#define MOCK_MAX_FILE ((size_t)64 << 20)
/* Largest "repeat" of a literal body: 10^12 copies, which no test client
 * reads to the end (the mock stops when the client goes away). */
#define MOCK_MAX_REPEAT ((uint64_t)1000000000000ULL)
/* Default size of the oversize_record fault's record. */
#define MOCK_OVERSIZE_DEFAULT ((uint64_t)80 << 20)

/* ---- scenario ----------------------------------------------------------- */

typedef enum {
  GEN_NONE,
  GEN_OLLAMA_CHAT,
  GEN_OPENAI_CHAT,
  GEN_OLLAMA_GENERATE,
  GEN_OLLAMA_PULL
} gen_kind;

typedef enum {
  SPLIT_NONE,
  SPLIT_RECORDS,
  SPLIT_FIXED,
  SPLIT_RANDOM,
  SPLIT_BYTES
} split_mode;

typedef enum {
  FAULT_NONE,
  FAULT_CLOSE_MID_RECORD,
  FAULT_RESET_MID_RECORD,
  FAULT_STALL,
  FAULT_GARBAGE,
  FAULT_OVERSIZE_RECORD,
  FAULT_BAD_CHUNKED,
  FAULT_REDIRECT,
  FAULT_NO_DONE
} fault_kind;

typedef struct gen_params {
  gen_kind kind;
  uint64_t bytes;     /* target body size (body reaches at least this) */
  uint64_t words;     /* exact word count instead of bytes (0: use bytes) */
  uint64_t total;     /* ollama_pull: layer size */
  char model[64];
  char done_reason[32];
} gen_params;

typedef struct mock_resp {
  int status;             /* 0: 200 (302 for redirect) */
  char *content_type;     /* NULL: by body kind */
  char *headers;          /* "Name: value\r\n"... verbatim, may be NULL */
  size_t headers_len;
  int raw_framing;        /* headers set Content-Length/Transfer-Encoding */
  char *body;             /* literal body (owned), may be NULL */
  size_t body_len;
  uint64_t repeat;        /* the literal body is sent this many times (>= 1) */
  char *prefix, *suffix;  /* sent before / after the repeated body (owned) */
  size_t prefix_len, suffix_len;
  gen_params gen;         /* kind GEN_NONE: literal body */
  int chunked;            /* -1: default (true for generated bodies) */
  int close_delimited;    /* no length, no chunks: body ends at close */
  int http10;             /* status line says HTTP/1.0, and close */
  int close_after;        /* Connection: close after this response */
  int sse;                /* records end at blank lines (else at \n) */
  split_mode split;
  uint64_t split_n;
  uint64_t seed;
  uint64_t delay_ms;
  uint64_t first_byte_delay_ms;
  fault_kind fault;
  uint64_t fault_bytes;   /* oversize_record size */
  char *redirect_to;
} mock_resp;

typedef struct mock_route {
  char *method;           /* "*" matches any */
  char *path;             /* "*" any; "prefix*" a prefix */
  mock_resp *resp;
  size_t n_resp;
  size_t next;            /* index of the next response to use */
} mock_route;

typedef struct mock_scenario {
  mock_route *routes;
  size_t n_routes;
} mock_scenario;

/* Load path into sc. On failure returns -1 and writes a message to err. */
int mock_scenario_load(mock_scenario *sc, const char *path, char *err,
                       size_t errlen);
void mock_scenario_free(mock_scenario *sc);
/* The route for a request, or NULL. */
mock_route *mock_scenario_match(mock_scenario *sc, const char *method,
                                const char *path, size_t path_len);

/* ---- body streams --------------------------------------------------------- */

/* What a generator will produce, computed before the head is sent. */
typedef struct gen_plan {
  uint64_t n_words;       /* content records (X-Mock-Words) */
  uint64_t text_bytes;    /* bytes of content (X-Mock-Text-Bytes) */
  uint64_t n_head;        /* records before the first word */
  uint64_t n_tail;        /* records after the last word */
} gen_plan;

void mock_gen_plan(const gen_params *p, gen_plan *out);

/* The source: a literal or a generator, read front to back. */
typedef struct msrc {
  const char *lit;        /* literal bytes (not owned) */
  size_t lit_len;
  uint64_t lit_total;     /* prefix + lit_len times repeat + suffix */
  const char *pre, *suf;  /* around a repeated literal (not owned) */
  size_t pre_len, suf_len;
  const gen_params *gp;   /* NULL for a literal */
  gen_plan plan;
  uint64_t k;             /* next generator record */
  char rec[640];          /* current generator record */
  size_t rec_len, rec_pos;
  uint64_t off;           /* bytes delivered */
} msrc;

typedef enum { BS_DATA, BS_END, BS_FAULT } bs_status;

/* The response body as it goes out: the source, a fault spliced in at
 * position fault_at, and the cutting into pieces. */
typedef struct bstream {
  msrc src;
  uint64_t total;         /* source length */
  int sse;
  fault_kind fault;
  uint64_t fault_at;      /* P: where the fault acts, in source bytes */
  int phase;              /* 0 before P, 1 insertion, 2 after, 3 done */
  uint64_t ins_len, ins_pos;
  uint64_t rng;
  int line_len;           /* bytes of the current line (record tracking) */
  split_mode split;
  uint64_t split_n;
  uint64_t out_len;       /* bytes the client will receive */
} bstream;

/* Prepare a stream for r (lit/len override the response's own body when
 * lit is non-NULL). Computes totals and the fault position (this reads the
 * source once when a fault needs a position; generators never keep more
 * than a record in memory). */
void mock_bs_init(bstream *bs, const mock_resp *r, const char *lit,
                  size_t len);
/* Next piece into dst (cap >= MOCK_PIECE_MAX). Returns BS_DATA with *n > 0,
 * BS_END when the body is complete, BS_FAULT when the fault acts now. */
bs_status mock_bs_next(bstream *bs, char *dst, size_t *n);

/* ---- request parsing ------------------------------------------------------ */

typedef struct mock_hdr {
  uint32_t name, name_len, value, value_len; /* offsets into head */
} mock_hdr;

typedef enum {
  REQ_HEAD,               /* waiting for the end of the head */
  REQ_BODY_LEN,           /* reading Content-Length bytes */
  REQ_CHUNK_SIZE,         /* chunked: reading a size line */
  REQ_CHUNK_DATA,
  REQ_CHUNK_CRLF,
  REQ_TRAILER,
  REQ_DONE
} req_state;

typedef struct mock_req {
  req_state state;
  char *head;             /* copy of the head, names lower-cased */
  size_t head_len;
  size_t method_len, target_off, target_len;
  int minor;              /* HTTP/1.minor */
  mock_hdr hdr[MOCK_MAX_HEADERS];
  size_t n_hdr;
  int keep_alive;
  int expect_continue;
  uint64_t remaining;     /* body or chunk bytes still due */
  char *body;
  size_t body_len, body_cap;
} mock_req;

/* Parse what can be parsed from in[0..*len); consumed bytes are removed.
 * Returns 1 when a request is complete, 0 when more bytes are needed, or
 * an HTTP status (400, 413, 431, 501) for a request to refuse. */
int mock_req_feed(mock_req *q, char *in, size_t *len);
void mock_req_reset(mock_req *q);
/* A header's value (name lower-case), or NULL. */
const char *mock_req_header(const mock_req *q, const char *name,
                            size_t *len);

/* ---- request log and control endpoints -------------------------------- */

void mock_rec_add(const mock_req *q, uint64_t conn_id);
void mock_rec_clear(void);
void mock_rec_free(void);
/* JSON array of the recorded requests; malloc'd, *len set; NULL on error. */
char *mock_rec_json(size_t *len);
size_t mock_rec_count(void);
/* Entries evicted (or refused for lack of memory) since the last clear. */
extern uint64_t mock_rec_dropped;

#endif
