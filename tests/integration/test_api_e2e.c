/*
 * test_api_e2e.c — the rest of the public API against rill-mock, over real
 * HTTP: remote embeddings (Ollama and OpenAI formats), /api/ps, /api/show,
 * /api/version, /api/generate, stream:false answers, images sent in base64,
 * the event-loop-free blocking helpers' errors; each checked exactly,
 * including the request the mock received.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mock_proc.h"
#include "rill/rill.h"

static mock_proc g_mock;
static rill_client *g_client;

#define ND "application/x-ndjson"
static const char k_scenario[] =
    "{\"routes\":["
    "{\"method\":\"POST\",\"path\":\"/api/embed\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"model\\\":\\\"nomic-embed-text\\\","
    "\\\"embeddings\\\":[[0.25,-0.5,1e-3],[1,2,3]],\\\"prompt_eval_count\\\":12}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/v1/embeddings\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"object\\\":\\\"list\\\",\\\"data\\\":["
    "{\\\"object\\\":\\\"embedding\\\",\\\"index\\\":1,\\\"embedding\\\":[4,5]},"
    "{\\\"object\\\":\\\"embedding\\\",\\\"index\\\":0,\\\"embedding\\\":[0.5,-1.5]}],"
    "\\\"model\\\":\\\"e\\\",\\\"usage\\\":{\\\"prompt_tokens\\\":7,\\\"total_tokens\\\":7}}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/ragged/api/embed\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"embeddings\\\":[[1,2],[3]]}\"}]},"
    "{\"method\":\"GET\",\"path\":\"/api/ps\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"models\\\":[{\\\"name\\\":\\\"llama3.2:latest\\\","
    "\\\"model\\\":\\\"llama3.2:latest\\\",\\\"size\\\":5137025024,\\\"digest\\\":\\\"a80c\\\","
    "\\\"details\\\":{\\\"family\\\":\\\"llama\\\",\\\"parameter_size\\\":\\\"3.2B\\\","
    "\\\"quantization_level\\\":\\\"Q4_K_M\\\"},\\\"expires_at\\\":\\\"2025-01-01T00:05:00Z\\\","
    "\\\"size_vram\\\":5137025024}]}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/api/show\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"modelfile\\\":\\\"FROM x\\\",\\\"details\\\":"
    "{\\\"family\\\":\\\"llama\\\"},\\\"capabilities\\\":[\\\"completion\\\",\\\"tools\\\"]}\"}]},"
    "{\"method\":\"GET\",\"path\":\"/api/version\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"version\\\":\\\"0.12.10\\\"}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/api/generate\",\"responses\":[{\"generate\":"
    "{\"kind\":\"ollama_generate\",\"words\":50},\"split\":{\"mode\":\"bytes\"}}]},"
    "{\"method\":\"POST\",\"path\":\"/api/chat\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"model\\\":\\\"llama3.2\\\",\\\"created_at\\\":"
    "\\\"2025-01-01T00:00:00Z\\\",\\\"message\\\":{\\\"role\\\":\\\"assistant\\\","
    "\\\"content\\\":\\\"Whole answer.\\\",\\\"thinking\\\":\\\"Hmm.\\\"},\\\"done\\\":true,"
    "\\\"done_reason\\\":\\\"length\\\",\\\"prompt_eval_count\\\":3,\\\"eval_count\\\":4,"
    "\\\"eval_duration\\\":2000000000}\"}]},"
    "{\"method\":\"POST\",\"path\":\"/cut/api/chat\",\"responses\":[{\"headers\":"
    "{\"Content-Type\":\"application/x-ndjson\",\"Content-Length\":\"100000\"},"
    "\"body\":\"{\\\"model\\\":\\\"m\\\",\\\"message\\\":{\\\"role\\\":"
    "\\\"assistant\\\",\\\"content\\\":\\\"Hi\\\"},\\\"done\\\":false}\\n"
    "{\\\"model\\\":\\\"m\\\",\\\"message\\\":{\\\"role\\\":\\\"assistant\\\","
    "\\\"content\\\":\\\"\\\"},\\\"done\\\":true,\\\"done_reason\\\":\\\"stop\\\"}\\n\"}]},"
    "{\"method\":\"POST\",\"path\":\"/v1/chat/completions\",\"responses\":[{\"content_type\":"
    "\"application/json\",\"body\":\"{\\\"id\\\":\\\"c\\\",\\\"object\\\":\\\"chat.completion\\\","
    "\\\"model\\\":\\\"gpt\\\",\\\"choices\\\":[{\\\"index\\\":0,\\\"message\\\":{\\\"role\\\":"
    "\\\"assistant\\\",\\\"content\\\":\\\"Hi there.\\\"},\\\"finish_reason\\\":"
    "\\\"stop\\\"}],\\\"usage\\\":{\\\"prompt_tokens\\\":5,\\\"completion_tokens\\\":3,"
    "\\\"total_tokens\\\":8}}\"}]}"
    "]}";

static int setup(void **state) {
  (void)state;
  if (rill_global_init(NULL) != RILL_OK ||
      mock_start(&g_mock, RILL_MOCK_BIN, k_scenario, NULL) != 0)
    return -1;
  return rill_client_new(&g_client, NULL) == RILL_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  rill_client_free(g_client);
  mock_stop(&g_mock);
  rill_global_cleanup();
  return 0;
}

/* The body of the last request the mock recorded for path. */
static rill_json_doc *last_request(const char *path) {
  char *log = mock_get(&g_mock, "/__mock/requests");
  rill_json_doc *d = NULL;
  size_t i, n;
  int found = -1;
  assert_non_null(log);
  assert_int_equal(rill_json_parse(&d, log, strlen(log), NULL), RILL_OK);
  free(log);
  n = rill_json_count(d, 0);
  for (i = 0; i < n; i++) {
    int r = rill_json_at(d, 0, i);
    const char *p = rill_json_string(d, rill_json_get(d, r, "path"), NULL);
    if (p && strcmp(p, path) == 0)
      found = r;
  }
  assert_true(found >= 0);
  {
    const char *body = rill_json_string(d, rill_json_get(d, found, "body"), NULL);
    rill_json_doc *b = NULL;
    assert_non_null(body);
    assert_int_equal(rill_json_parse(&b, body, strlen(body), NULL), RILL_OK);
    rill_json_doc_free(d);
    return b;
  }
}

static void test_embeddings(void **state) {
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  const char *inputs[2] = {"hello", "w\xc3\xb6rld"};
  rill_embeddings *e = NULL;
  rill_json_doc *b;
  char msg[256];
  (void)state;
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = g_mock.base;
  req.model = "nomic-embed-text";
  req.inputs = inputs;
  req.n_inputs = 2;
  req.dimensions = 3;
  assert_int_equal(rill_embed_remote(g_client, &req, &e, msg, sizeof msg), RILL_OK);
  assert_int_equal(e->n, 2);
  assert_int_equal(e->dims, 3);
  assert_true(e->data[0] == 0.25f && e->data[1] == -0.5f && e->data[2] == 1e-3f);
  assert_true(e->data[3] == 1.0f && e->data[5] == 3.0f);
  assert_int_equal(e->input_tokens, 12);
  rill_embeddings_free(e);
  b = last_request("/api/embed");
  assert_string_equal(rill_json_string(b, rill_json_get(b, 0, "model"), NULL), "nomic-embed-text");
  assert_int_equal(rill_json_count(b, rill_json_get(b, 0, "input")), 2);
  assert_string_equal(rill_json_string(b, rill_json_at(b, rill_json_get(b, 0, "input"), 1), NULL),
                      "w\xc3\xb6rld");
  rill_json_doc_free(b);

  /* OpenAI format: rows placed by their index, not by arrival order. */
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  {
    char url[200];
    snprintf(url, sizeof url, "%s/v1", g_mock.base);
    req.endpoint.base_url = url;
    req.dimensions = 0;
    assert_int_equal(rill_embed_remote(g_client, &req, &e, msg, sizeof msg), RILL_OK);
  }
  assert_int_equal(e->n, 2);
  assert_int_equal(e->dims, 2);
  assert_true(e->data[0] == 0.5f && e->data[1] == -1.5f && e->data[2] == 4.0f);
  assert_int_equal(e->input_tokens, 7);
  rill_embeddings_free(e);

  /* Ragged vectors are refused, not truncated. */
  {
    char url[200];
    snprintf(url, sizeof url, "%s/ragged", g_mock.base);
    req.endpoint.provider = RILL_PROVIDER_OLLAMA;
    req.endpoint.base_url = url;
    e = NULL;
    assert_int_equal(rill_embed_remote(g_client, &req, &e, msg, sizeof msg), RILL_E_PROTOCOL);
    assert_null(e);
    assert_non_null(strstr(msg, "ragged"));
  }
}

static int on_model(void *user, const rill_model_info *m) {
  rill_model_info *out = user;
  out->size_vram = m->size_vram;
  out->size = m->size;
  out->name = strcmp(m->name, "llama3.2:latest") == 0 ? "ok" : "bad";
  out->expires_at = strcmp(m->expires_at, "2025-01-01T00:05:00Z") == 0 ? "ok" : "bad";
  out->quantization = strcmp(m->quantization, "Q4_K_M") == 0 ? "ok" : "bad";
  return 0;
}

static void test_ps_show_version(void **state) {
  rill_endpoint ep;
  rill_model_info got;
  char *text = NULL, msg[256];
  size_t len = 0;
  rill_json_doc *d;
  (void)state;
  memset(&ep, 0, sizeof ep);
  memset(&got, 0, sizeof got);
  ep.provider = RILL_PROVIDER_OLLAMA;
  ep.base_url = g_mock.base;
  assert_int_equal(rill_ollama_ps(g_client, &ep, NULL, on_model, &got, msg, sizeof msg), RILL_OK);
  assert_string_equal(got.name, "ok");
  assert_string_equal(got.expires_at, "ok");
  assert_string_equal(got.quantization, "ok");
  assert_int_equal(got.size_vram, 5137025024LL);
  assert_int_equal(rill_ollama_show(g_client, &ep, "llama3.2", &text, &len, msg, sizeof msg),
                   RILL_OK);
  assert_int_equal(strlen(text), len);
  assert_int_equal(rill_json_parse(&d, text, len, NULL), RILL_OK);
  assert_int_equal(rill_json_count(d, rill_json_get(d, 0, "capabilities")), 2);
  rill_json_doc_free(d);
  rill_free(text);
  d = last_request("/api/show");
  assert_string_equal(rill_json_string(d, rill_json_get(d, 0, "model"), NULL), "llama3.2");
  rill_json_doc_free(d);
  assert_int_equal(rill_ollama_version(g_client, &ep, &text, msg, sizeof msg), RILL_OK);
  assert_string_equal(text, "0.12.10");
  rill_free(text);
}

static void test_generate_and_whole(void **state) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msgs[2];
  rill_chat_result *r;
  rill_chat_callbacks cb;
  const rill_done *done;
  const char *text;
  size_t len, i;
  static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff};
  rill_image img = {"image/png", png, sizeof png};
  rill_json_doc *b;
  char url[200];
  static const char *const words[] = {"The ", "quick ", "brown ", "fox ", "jumps ",
                                      "over ", "the ", "lazy ", "dog. "};
  char want[1024] = "";
  (void)state;

  /* /api/generate, delivered one byte per write. */
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = g_mock.base;
  req.model = "llama3.2";
  req.prompt = "Once upon a time";
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &cb), RILL_OK);
  assert_int_equal(rill_chat(g_client, &req, &cb), RILL_OK);
  for (i = 0; i < 50; i++)
    strcat(want, words[i % 9]);
  text = rill_chat_result_text(r, &len);
  assert_string_equal(text, want);
  rill_chat_result_free(r);
  b = last_request("/api/generate");
  assert_string_equal(rill_json_string(b, rill_json_get(b, 0, "prompt"), NULL), "Once upon a time");
  rill_json_doc_free(b);

  /* stream:false, with an image: one whole answer. */
  memset(msgs, 0, sizeof msgs);
  msgs[0].role = RILL_ROLE_USER;
  msgs[0].content = "What is in this picture?";
  msgs[0].images = &img;
  msgs[0].n_images = 1;
  req.prompt = NULL;
  req.messages = msgs;
  req.n_messages = 1;
  req.no_stream = 1;
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &cb), RILL_OK);
  assert_int_equal(rill_chat(g_client, &req, &cb), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, NULL), "Whole answer.");
  assert_string_equal(rill_chat_result_thinking(r, NULL), "Hmm.");
  done = rill_chat_result_done(r);
  assert_int_equal(done->finish, RILL_FINISH_LENGTH);
  assert_int_equal(done->usage.output_tokens, 4);
  assert_true(done->tokens_per_s == 2.0); /* 4 tokens in 2 s of eval */
  rill_chat_result_free(r);
  b = last_request("/api/chat");
  assert_int_equal(rill_json_type_of(b, rill_json_get(b, 0, "stream")), RILL_JSON_FALSE);
  {
    int m0 = rill_json_at(b, rill_json_get(b, 0, "messages"), 0);
    int imgs = rill_json_get(b, m0, "images");
    assert_string_equal(rill_json_string(b, rill_json_at(b, imgs, 0), NULL), "iVBORw0KGgoA/w==");
  }
  rill_json_doc_free(b);

  /* OpenAI stream:false; the image goes as a data: URL content part. */
  snprintf(url, sizeof url, "%s/v1", g_mock.base);
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  req.endpoint.base_url = url;
  assert_int_equal(rill_chat_result_new(&r), RILL_OK);
  assert_int_equal(rill_chat_result_callbacks(r, NULL, &cb), RILL_OK);
  assert_int_equal(rill_chat(g_client, &req, &cb), RILL_OK);
  assert_string_equal(rill_chat_result_text(r, NULL), "Hi there.");
  assert_int_equal(rill_chat_result_done(r)->usage.input_tokens, 5);
  rill_chat_result_free(r);
  b = last_request("/v1/chat/completions");
  {
    int parts = rill_json_get(b, rill_json_at(b, rill_json_get(b, 0, "messages"), 0), "content");
    int p1 = rill_json_at(b, parts, 1);
    const char *u = rill_json_string(b, rill_json_get(b, rill_json_get(b, p1, "image_url"), "url"), NULL);
    assert_non_null(u);
    assert_string_equal(u, "data:image/png;base64,iVBORw0KGgoA/w==");
  }
  rill_json_doc_free(b);
}

/* The server cuts the connection after the final frame (its Content-Length
 * promised more): the answer is complete, so the stream succeeds and the
 * application sees on_done and no error. */
static void on_err(void *user, const rill_error_info *e) {
  (void)e;
  ++*(int *)user;
}

static int on_done_count(void *user, const rill_done *d) {
  (void)d;
  *((int *)user + 1) += 1;
  return 0;
}

static void test_cut_after_done(void **state) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_message msg;
  rill_chat_callbacks cb;
  char url[200];
  int counts[2] = {0, 0}; /* errors, dones */
  (void)state;
  memset(&msg, 0, sizeof msg);
  msg.role = RILL_ROLE_USER;
  msg.content = "hi";
  snprintf(url, sizeof url, "%s/cut", g_mock.base);
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = url;
  req.model = "m";
  req.messages = &msg;
  req.n_messages = 1;
  memset(&cb, 0, sizeof cb);
  cb.size = sizeof cb;
  cb.on_error = on_err;
  cb.on_done = on_done_count;
  cb.user = counts;
  assert_int_equal(rill_chat(g_client, &req, &cb), RILL_OK);
  assert_int_equal(counts[0], 0);
  assert_int_equal(counts[1], 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cut_after_done),
      cmocka_unit_test(test_embeddings),
      cmocka_unit_test(test_ps_show_version),
      cmocka_unit_test(test_generate_and_whole),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
