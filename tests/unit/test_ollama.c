/*
 * test_ollama.c — the Ollama provider, sans I/O: recorded NDJSON streams
 * (tests/unit/data/providers/ollama_*) through the real framer at every
 * split, the application callbacks' exact output; request bodies (golden
 * strings), OLLAMA_HOST forms, credentials kept out of URL and body; model
 * lists, pull progress, show/version, embeddings; allocation failures.
 */
#include "prov_harness.h"

#include "common.h"
#include "core/alloc.h"

static int make_chat(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__ollama_chat_decoder_new(cb, 0, out);
}

static int make_generate(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__ollama_chat_decoder_new(cb, 1, out);
}

static void test_text(void **state) {
  (void)state;
  check_all(make_chat, FEED_NDJSON, "ollama_chat_text.ndjson",
            "text:The\n"
            "text: sky <is>\n"
            "text: blü 🌊\n"
            "text:\\x0A\"ok\"\\\n"
            "done:stop|stop|in=31|out=49|think=-1|model=llama3.2\n",
            RILL_OK);
}

static void test_tokens_per_s(void **state) {
  plog l;
  rill_chat_callbacks cb;
  rill__decoder *d;
  size_t len;
  char *data = read_fixture("ollama_chat_text.ndjson", &len);
  (void)state;
  memset(&l, 0, sizeof l);
  cb = plog_callbacks(&l);
  assert_int_equal(make_chat(&cb, &d), RILL_OK);
  assert_int_equal(feed(d, FEED_NDJSON, data, len, 0, 0), RILL_OK);
  d->ops->destroy(d);
  /* eval_count 49 over eval_duration 1.712334 s */
  assert_true(l.tps > 28.615 && l.tps < 28.616);
  free(l.s);
  free(data);
}

static void test_thinking_and_length(void **state) {
  (void)state;
  check_all(make_chat, FEED_NDJSON, "ollama_chat_thinking.ndjson",
            "think:Let me\n"
            "think: compute 17 × 20.\n"
            "text:340\n"
            "text:.\n"
            "done:length|length|in=12|out=3|think=-1|model=qwen3:8b\n",
            RILL_OK);
}

static void test_tool_calls(void **state) {
  (void)state;
  check_all(make_chat, FEED_NDJSON, "ollama_chat_tools.ndjson",
            "delta:0|call_k3x9p2ab|get_weather|{\"city\":\"Tokyo\",\"units\":"
            "{\"c\":true,\"list\":[1,2.5e3,\"x y\"]}}\n"
            "tool:0|call_k3x9p2ab|get_weather|{\"city\":\"Tokyo\",\"units\":"
            "{\"c\":true,\"list\":[1,2.5e3,\"x y\"]}}\n"
            "delta:1||get_time|{}\n"
            "tool:1||get_time|{}\n"
            "done:tool_calls|stop|in=80|out=22|think=-1|model=llama3.1:8b\n",
            RILL_OK);
}

static void test_error_line(void **state) {
  (void)state;
  check_all(make_chat, FEED_NDJSON, "ollama_chat_error.ndjson",
            "text:Hel\n"
            "error:E_UNAVAILABLE|model runner has unexpectedly stopped, this "
            "may be due to resource limitations or an internal error, check "
            "ollama server logs for details\n",
            RILL_E_UNAVAILABLE);
}

static void test_truncated(void **state) {
  (void)state;
  check_all(make_chat, FEED_NDJSON, "ollama_chat_truncated.ndjson",
            "text:Hel\n"
            "text:lo\n"
            "error:E_TRUNCATED|truncated stream: the answer ended without a "
            "\"done\":true line\n",
            RILL_E_TRUNCATED);
}

static void test_generate(void **state) {
  (void)state;
  check_all(make_generate, FEED_NDJSON, "ollama_generate.ndjson",
            "think:hmm\n"
            "text:Hi\n"
            "text:!\n"
            "done:stop|stop|in=5|out=2|think=-1|model=qwen3\n",
            RILL_OK);
}

static void test_whole(void **state) {
  (void)state;
  check_all(make_chat, FEED_WHOLE, "ollama_chat_whole.json",
            "think:brief\n"
            "text:Whole answer.\n"
            "done:stop|stop|in=7|out=3|think=-1|model=llama3.2\n",
            RILL_OK);
}

static void run_inline(make_fn make, feed_kind kind, const char *data,
                       const char *expect, int expect_rc) {
  size_t k, len = strlen(data);
  run_once(make, kind, data, len, 0, 0, expect, expect_rc);
  run_once(make, kind, data, len, 1, 0, expect, expect_rc);
  for (k = 1; k < len; k++)
    run_once(make, kind, data, len, 0, k, expect, expect_rc);
}

static void test_odd_lines(void **state) {
  (void)state;
  /* Malformed JSON. */
  run_inline(make_chat, FEED_NDJSON,
             "{\"message\":{\"content\":\"a\"},\"done\":false}\n{\"done\":tru}\n",
             "text:a\nerror:E_JSON|malformed JSON in a line of the answer: "
             "invalid literal at byte 11\n",
             RILL_E_JSON);
  /* Not an object. */
  run_inline(make_chat, FEED_NDJSON, "[1]\n",
             "error:E_PROTOCOL|a line of the answer is not a JSON object\n",
             RILL_E_PROTOCOL);
  /* Bytes after the done line are ignored; CRLF line ends; no
   * done_reason; content on the done line; error as an object. */
  run_inline(make_chat, FEED_NDJSON,
             "{\"message\":{\"content\":\"x\"},\"done\":true}\r\n"
             "garbage\n",
             "text:x\ndone:none||in=-1|out=-1|think=-1|model=\n", RILL_OK);
  run_inline(make_chat, FEED_NDJSON,
             "{\"error\":{\"message\":\"boom\"}}\n",
             "error:E_UNAVAILABLE|boom\n", RILL_E_UNAVAILABLE);
  /* Wrong shapes: content as a number is skipped, message as a string is a
   * protocol error, negative counts are "not reported". */
  run_inline(make_chat, FEED_NDJSON,
             "{\"message\":{\"content\":7},\"done\":true,\"done_reason\":"
             "\"unload\",\"eval_count\":-4,\"prompt_eval_count\":1e2}\n",
             "done:other|unload|in=100|out=-1|think=-1|model=\n", RILL_OK);
  run_inline(make_chat, FEED_NDJSON, "{\"message\":\"hi\",\"done\":false}\n",
             "error:E_PROTOCOL|\"message\" is not an object\n",
             RILL_E_PROTOCOL);
  run_inline(make_chat, FEED_NDJSON,
             "{\"message\":{\"tool_calls\":[{\"function\":{\"arguments\":{}}}]"
             "},\"done\":false}\n",
             "error:E_PROTOCOL|a tool call without a name\n", RILL_E_PROTOCOL);
  /* An empty body. */
  run_once(make_chat, FEED_NDJSON, "", 0, 0, 0,
           "error:E_TRUNCATED|truncated stream: the answer ended without a "
           "\"done\":true line\n",
           RILL_E_TRUNCATED);
}

static void test_cancel(void **state) {
  int i;
  (void)state;
  for (i = 1; i <= 5; i++) {
    plog l;
    rill_chat_callbacks cb;
    rill__decoder *d;
    size_t len;
    char *data = read_fixture("ollama_chat_text.ndjson", &len);
    memset(&l, 0, sizeof l);
    l.cancel_at = i;
    cb = plog_callbacks(&l);
    assert_int_equal(make_chat(&cb, &d), RILL_OK);
    /* on_done's return cannot cancel: the answer is complete. */
    assert_int_equal(feed(d, FEED_NDJSON, data, len, 0, 0),
                     i == 5 ? RILL_OK : RILL_E_CANCELLED);
    d->ops->destroy(d);
    if (i < 5)
      assert_non_null(
          strstr(l.s, "error:E_CANCELLED|cancelled by the application\n"));
    assert_int_equal(l.n_cb, i);
    free(l.s);
    free(data);
  }
}

static void test_http_error_message(void **state) {
  rill__decoder *d;
  rill__buf msg;
  static const char body[] = "{\"error\":\"model 'llama9' not found\"}";
  (void)state;
  assert_int_equal(make_chat(NULL, &d), RILL_OK);
  rill__buf_init(&msg, NULL, 4096);
  d->ops->http_error_message(d, 404, body, sizeof body - 1, &msg);
  assert_int_equal(msg.len, strlen("model 'llama9' not found"));
  assert_memory_equal(msg.data, "model 'llama9' not found", msg.len);
  rill__buf_clear(&msg);
  d->ops->http_error_message(d, 502, "<html>bad\ngateway</html>\n", 25, &msg);
  assert_memory_equal(msg.data, "<html>bad gateway</html>", msg.len);
  rill__buf_release(&msg);
  /* on_failure with no callbacks at all must not crash. */
  d->ops->on_failure(d, RILL_E_HTTP, 404, "x");
  d->ops->destroy(d);
}

static void test_alloc_failures(void **state) {
  (void)state;
  check_alloc_failures(make_chat, FEED_NDJSON, "ollama_chat_text.ndjson");
  check_alloc_failures(make_chat, FEED_NDJSON, "ollama_chat_tools.ndjson");
  check_alloc_failures(make_generate, FEED_NDJSON, "ollama_generate.ndjson");
}

/* ---- requests ------------------------------------------------------------ */

static const char *header_at(const rill__request *r, size_t i) {
  const char *p = r->headers.data;
  while (i-- > 0)
    p += strlen(p) + 1;
  return p;
}

static void test_body_chat(void **state) {
  static const unsigned char png[] = {0x89, 'P', 'N', 'G', 0, 1};
  rill_image img = {"image/png", png, sizeof png};
  rill_tool_call past = {0, "call_1", "get_weather", "{ \"city\" : \"Oslo\" }",
                         19};
  rill_message msgs[4];
  rill_tool tool = {"get_weather", "Weather for a city",
                    "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":"
                    "\"string\"}},\"required\":[\"city\"]}"};
  const char *stop[] = {"\n\n"};
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(msgs, 0, sizeof msgs);
  msgs[0].role = RILL_ROLE_SYSTEM;
  msgs[0].content = "Be brief.";
  msgs[1].role = RILL_ROLE_USER;
  msgs[1].content = "What is in this picture?";
  msgs[1].images = &img;
  msgs[1].n_images = 1;
  msgs[2].role = RILL_ROLE_ASSISTANT;
  msgs[2].tool_calls = &past;
  msgs[2].n_tool_calls = 1;
  msgs[3].role = RILL_ROLE_TOOL;
  msgs[3].content = "11 degrees";
  msgs[3].tool_name = "get_weather";
  msgs[3].tool_call_id = "call_1";
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = "http://127.0.0.1:9/";
  req.model = "qwen3:8b";
  req.messages = msgs;
  req.n_messages = 4;
  req.tools = &tool;
  req.n_tools = 1;
  req.set = RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_TOP_K |
            RILL_SET_SEED | RILL_SET_MAX_TOKENS | RILL_SET_NUM_CTX;
  req.temperature = 0.2;
  req.top_p = 0.9;
  req.top_k = 40;
  req.seed = 7;
  req.max_tokens = 256;
  req.num_ctx = 8192;
  req.stop = stop;
  req.n_stop = 1;
  req.think = RILL_THINK_ON;
  req.format = RILL_FORMAT_JSON_SCHEMA;
  req.json_schema = "{\"type\":\"object\",\"properties\":{\"age\":{\"type\":"
                    "\"integer\"}},\"required\":[\"age\"]}";
  req.keep_alive = "10m";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.method, "POST");
  assert_string_equal(r.url.data, "http://127.0.0.1:9/api/chat");
  assert_int_equal(r.framing, RILL__FRAME_NDJSON);
  assert_null(r.auth_header);
  assert_int_equal(r.n_headers, 1);
  assert_string_equal(header_at(&r, 0), "Accept: application/x-ndjson");
  assert_string_equal(
      r.body.data,
      "{\"model\":\"qwen3:8b\",\"messages\":["
      "{\"role\":\"system\",\"content\":\"Be brief.\"},"
      "{\"role\":\"user\",\"content\":\"What is in this picture?\","
      "\"images\":[\"iVBORwAB\"]},"
      "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":"
      "\"call_1\",\"function\":{\"name\":\"get_weather\",\"arguments\":"
      "{\"city\":\"Oslo\"}}}]},"
      "{\"role\":\"tool\",\"content\":\"11 degrees\",\"tool_name\":"
      "\"get_weather\",\"tool_call_id\":\"call_1\"}],"
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
      "\"get_weather\",\"description\":\"Weather for a city\",\"parameters\":"
      "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},"
      "\"required\":[\"city\"]}}}],"
      "\"format\":{\"type\":\"object\",\"properties\":{\"age\":{\"type\":"
      "\"integer\"}},\"required\":[\"age\"]},"
      "\"options\":{\"temperature\":0.2,\"top_p\":0.9,\"top_k\":40,\"seed\":7,"
      "\"num_predict\":256,\"num_ctx\":8192,\"stop\":[\"\\n\\n\"]},"
      "\"keep_alive\":\"10m\",\"think\":true,\"stream\":true}");
  assert_int_equal(r.body.len, strlen(r.body.data));
  rill__request_release(&r);

  /* Minimal, not streamed, think off, JSON mode, keep_alive in seconds. */
  req.n_messages = 1;
  req.messages = &msgs[1];
  msgs[1].n_images = 0;
  req.n_tools = 0;
  req.set = 0;
  req.n_stop = 0;
  req.think = RILL_THINK_OFF;
  req.format = RILL_FORMAT_JSON;
  req.keep_alive = "-1";
  req.no_stream = 1;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_int_equal(r.framing, RILL__FRAME_WHOLE);
  assert_string_equal(
      r.body.data,
      "{\"model\":\"qwen3:8b\",\"messages\":[{\"role\":\"user\",\"content\":"
      "\"What is in this picture?\"}],\"format\":\"json\",\"keep_alive\":-1,"
      "\"think\":false,\"stream\":false}");
  rill__request_release(&r);
}

static void test_body_generate(void **state) {
  rill_message sys;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(&sys, 0, sizeof sys);
  sys.role = RILL_ROLE_SYSTEM;
  sys.content = "Be brief.";
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = "http://h:1";
  req.model = "m";
  req.messages = &sys;
  req.n_messages = 1;
  req.prompt = "Why?";
  req.set = RILL_SET_MAX_TOKENS;
  req.max_tokens = 5;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://h:1/api/generate");
  assert_string_equal(r.body.data,
                      "{\"model\":\"m\",\"prompt\":\"Why?\",\"system\":"
                      "\"Be brief.\",\"options\":{\"num_predict\":5},"
                      "\"stream\":true}");
  rill__request_release(&r);
}

static void test_invalid_requests(void **state) {
  rill_message m;
  rill_tool bad_tool = {"t", NULL, "[1]"};
  rill_tool_call bad_call = {0, "", "f", "{nope", 5};
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(&m, 0, sizeof m);
  m.content = "hi";
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.messages = &m;
  req.n_messages = 1;
#define EXPECT_INVALID()                                                       \
  do {                                                                         \
    rill__request_init(&r, NULL);                                              \
    assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_E_INVALID); \
    rill__request_release(&r);                                                 \
  } while (0)
  EXPECT_INVALID(); /* no model */
  req.model = "m";
  req.endpoint.base_url = "ftp://x";
  EXPECT_INVALID();
  req.endpoint.base_url = "http://a b";
  EXPECT_INVALID();
  req.endpoint.base_url = "http://ok";
  req.tools = &bad_tool;
  req.n_tools = 1;
  EXPECT_INVALID();
  req.n_tools = 0;
  m.role = RILL_ROLE_ASSISTANT;
  m.tool_calls = &bad_call;
  m.n_tool_calls = 1;
  EXPECT_INVALID();
  m.n_tool_calls = 0;
  req.format = RILL_FORMAT_JSON_SCHEMA;
  req.json_schema = "\"x\"";
  EXPECT_INVALID();
  req.format = RILL_FORMAT_TEXT;
  req.n_messages = 0;
  EXPECT_INVALID();
  {
    const char *h[] = {"X-Bad\r\nInjected: 1"};
    req.n_messages = 1;
    req.endpoint.headers = h;
    req.endpoint.n_headers = 1;
    EXPECT_INVALID();
    h[0] = "NoColon";
    EXPECT_INVALID();
  }
#undef EXPECT_INVALID
}

static void expect_host(const char *env, const char *url) {
  rill__buf b;
  rill__buf_init(&b, NULL, 4096);
  assert_int_equal(rill__ollama_host_url(env, &b), RILL_OK);
  if (strcmp(b.data, url) != 0) {
    print_error("OLLAMA_HOST '%s': got '%s', expected '%s'\n", env ? env : "(unset)", b.data,
                url);
    fail();
  }
  rill__buf_release(&b);
}

static void test_ollama_host(void **state) {
  rill__buf b;
  rill_endpoint ep;
  (void)state;
  expect_host(NULL, "http://127.0.0.1:11434");
  expect_host("", "http://127.0.0.1:11434");
  expect_host("example.org", "http://example.org:11434");
  expect_host("example.org:8080", "http://example.org:8080");
  expect_host("http://example.org:8080", "http://example.org:8080");
  expect_host("http://example.org", "http://example.org");
  expect_host("https://example.org/", "https://example.org");
  expect_host("https://example.org:8443/ollama/",
              "https://example.org:8443/ollama");
  expect_host("0.0.0.0", "http://127.0.0.1:11434");
  expect_host("0.0.0.0:5000", "http://127.0.0.1:5000");
  expect_host(":5000", "http://127.0.0.1:5000");
  expect_host("  localhost  ", "http://localhost:11434");
  expect_host("[::1]:9999", "http://[::1]:9999");
  expect_host("[::]", "http://[::1]:11434");
  expect_host("::1", "http://[::1]:11434");
  expect_host("ollama.com", "https://ollama.com");
  expect_host("host/prefix", "http://host:11434/prefix");
  rill__buf_init(&b, NULL, 4096);
  assert_int_equal(rill__ollama_host_url("ftp://x", &b), RILL_E_INVALID);
  assert_int_equal(rill__ollama_host_url("h:port", &b), RILL_E_INVALID);
  assert_int_equal(rill__ollama_host_url("h:123456", &b), RILL_E_INVALID);
  /* The environment variable, and a given base URL winning over it. */
  memset(&ep, 0, sizeof ep);
  ep.provider = RILL_PROVIDER_OLLAMA;
  setenv("OLLAMA_HOST", "0.0.0.0:7777", 1);
  assert_int_equal(rill__endpoint_base(&ep, &b), RILL_OK);
  assert_string_equal(b.data, "http://127.0.0.1:7777");
  ep.base_url = "http://given:1//";
  assert_int_equal(rill__endpoint_base(&ep, &b), RILL_OK);
  assert_string_equal(b.data, "http://given:1");
  unsetenv("OLLAMA_HOST");
  ep.base_url = NULL;
  assert_int_equal(rill__endpoint_base(&ep, &b), RILL_OK);
  assert_string_equal(b.data, "http://127.0.0.1:11434");
  rill__buf_release(&b);
}

static void test_credentials(void **state) {
  rill_message m;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  const char *h[] = {"X-Trace: 1", "x-api-key: secret-extra-123"};
  (void)state;
  memset(&m, 0, sizeof m);
  m.content = "hi";
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = "http://h";
  req.model = "m";
  req.messages = &m;
  req.n_messages = 1;
  /* Ollama reads no key from the environment. */
  setenv("OPENAI_API_KEY", "sk-env-should-not-go-to-ollama", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_null(r.auth_header);
  rill__request_release(&r);
  unsetenv("OPENAI_API_KEY");
  req.endpoint.api_key = "ollama-cloud-key";
  req.endpoint.headers = h;
  req.endpoint.n_headers = 1;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "Authorization: Bearer ollama-cloud-key");
  assert_null(strstr(r.url.data, "ollama-cloud-key"));
  assert_null(strstr(r.body.data, "ollama-cloud-key"));
  assert_int_equal(r.n_headers, 2);
  assert_string_equal(header_at(&r, 1), "X-Trace: 1");
  rill__request_release(&r);
  /* A credential given as an extra header is kept apart too. */
  req.endpoint.n_headers = 2;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "x-api-key: secret-extra-123");
  assert_int_equal(r.n_headers, 2);
  assert_null(memmem(r.headers.data, r.headers.len, "secret", 6));
  rill__request_release(&r);
}

/* ---- models, pull, show, version, embed ---------------------------------- */

static int on_model(void *u, const rill_model_info *m) {
  plog *l = u;
  char buf[512];
  snprintf(buf, sizeof buf, "%s|%s|%lld|%s|%s|%s|%s|%s|%lld|%s\n", m->name,
           m->modified_at, (long long)m->size, m->digest, m->family,
           m->parameter_size, m->quantization, m->owned_by,
           (long long)m->size_vram, m->expires_at);
  plog_str(l, buf);
  return 0;
}

static void test_models(void **state) {
  static const char tags[] =
      "{\"models\":[{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest"
      "\",\"modified_at\":\"2025-09-14T10:21:07.1142+02:00\",\"size\":"
      "2019393189,\"digest\":\"a80c4f17acd5\",\"details\":{\"parent_model\":"
      "\"\",\"format\":\"gguf\",\"family\":\"llama\",\"families\":[\"llama\"]"
      ",\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}},"
      "{\"model\":\"x\"}]}";
  static const char ps[] =
      "{\"models\":[{\"name\":\"q\",\"size\":5,\"size_vram\":4,\"expires_at\":"
      "\"2025-09-14T10:26:07Z\",\"context_length\":4096}]}";
  plog l;
  rill__decoder *d;
  char err[128];
  (void)state;
  memset(&l, 0, sizeof l);
  assert_int_equal(
      rill__ollama_models_decoder_new(0, on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, tags, sizeof tags - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_string_equal(l.s, "llama3.2:latest|2025-09-14T10:21:07.1142+02:00|"
                           "2019393189|a80c4f17acd5|llama|3.2B|Q4_K_M||-1|\n"
                           "x||-1||||||-1|\n");
  l.len = 0;
  assert_int_equal(
      rill__ollama_models_decoder_new(1, on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, ps, sizeof ps - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_string_equal(l.s, "q||5||||||4|2025-09-14T10:26:07Z\n");
  /* An error body inside a 200, and a wrong shape. */
  assert_int_equal(
      rill__ollama_models_decoder_new(0, on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, "{\"error\":\"nope\"}", 16, 0, 0),
                   RILL_E_UNAVAILABLE);
  d->ops->destroy(d);
  assert_string_equal(err, "nope");
  assert_int_equal(
      rill__ollama_models_decoder_new(0, on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, "{\"models\":3}", 12, 0, 0),
                   RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_string_equal(err, "the model list is not an array");
  free(l.s);
}

static int on_pull(void *u, const rill_pull_progress *p) {
  plog *l = u;
  char buf[256];
  snprintf(buf, sizeof buf, "%s|%s|%lld|%lld\n", p->status, p->digest,
           (long long)p->completed, (long long)p->total);
  plog_str(l, buf);
  return 0;
}

static void pull_case(const char *fixture, const char *expect, int expect_rc,
                      const char *expect_err) {
  size_t len, k;
  char *data = read_fixture(fixture, &len);
  for (k = 0; k < len; k++) {
    plog l;
    rill__decoder *d;
    char err[256];
    memset(&l, 0, sizeof l);
    assert_int_equal(
        rill__ollama_pull_decoder_new(on_pull, &l, err, sizeof err, &d),
        RILL_OK);
    assert_int_equal(feed(d, FEED_NDJSON, data, len, 0, k), expect_rc);
    d->ops->destroy(d);
    assert_string_equal(l.s, expect);
    assert_string_equal(err, expect_err);
    free(l.s);
  }
  free(data);
}

static void test_pull(void **state) {
  (void)state;
  pull_case("ollama_pull.ndjson",
            "pulling manifest||-1|-1\n"
            "pulling 3f1d8a7c29e0|sha256:3f1d8a7c29e0aa|-1|274302450\n"
            "pulling 3f1d8a7c29e0|sha256:3f1d8a7c29e0aa|52428800|274302450\n"
            "verifying sha256 digest||-1|-1\n"
            "writing manifest||-1|-1\n"
            "success||-1|-1\n",
            RILL_OK, "");
  pull_case("ollama_pull_error.ndjson", "pulling manifest||-1|-1\n",
            RILL_E_UNAVAILABLE, "pull model manifest: file does not exist");
  {
    plog l;
    rill__decoder *d;
    char err[256];
    static const char trunc[] = "{\"status\":\"pulling manifest\"}\n";
    memset(&l, 0, sizeof l);
    assert_int_equal(
        rill__ollama_pull_decoder_new(on_pull, &l, err, sizeof err, &d),
        RILL_OK);
    assert_int_equal(feed(d, FEED_NDJSON, trunc, sizeof trunc - 1, 0, 0),
                     RILL_E_TRUNCATED);
    d->ops->destroy(d);
    assert_string_equal(err,
                        "truncated stream: the pull ended without \"success\"");
    free(l.s);
  }
}

static void test_pull_build(void **state) {
  rill_endpoint ep;
  rill__request r;
  (void)state;
  memset(&ep, 0, sizeof ep);
  ep.provider = RILL_PROVIDER_OLLAMA;
  ep.base_url = "http://h:1";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_pull_build(&ep, "nomic-embed-text", NULL, &r),
                   RILL_OK);
  assert_string_equal(r.url.data, "http://h:1/api/pull");
  assert_string_equal(r.body.data,
                      "{\"model\":\"nomic-embed-text\",\"stream\":true}");
  assert_int_equal(r.framing, RILL__FRAME_NDJSON);
  rill__request_release(&r);
}

static void test_show_version(void **state) {
  static const char show[] = "{\"license\":\"MIT\",\"capabilities\":"
                             "[\"completion\",\"tools\"]}\n";
  rill__decoder *d;
  char *out = NULL, err[64];
  size_t len = 0;
  (void)state;
  assert_int_equal(rill__text_decoder_new(NULL, &out, &len, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, show, sizeof show - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_int_equal(len, sizeof show - 2);
  assert_string_equal(out, "{\"license\":\"MIT\",\"capabilities\":"
                           "[\"completion\",\"tools\"]}");
  rill_free(out);
  out = NULL;
  assert_int_equal(
      rill__text_decoder_new("version", &out, NULL, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, "{\"version\":\"0.11.10\"}", 21, 0, 0),
                   RILL_OK);
  d->ops->destroy(d);
  assert_string_equal(out, "0.11.10");
  rill_free(out);
  out = NULL;
  assert_int_equal(
      rill__text_decoder_new("version", &out, NULL, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, "Ollama is running", 17, 0, 0),
                   RILL_E_JSON);
  d->ops->destroy(d);
  assert_null(out);
  assert_non_null(strstr(err, "malformed JSON in the answer"));
}

static void test_embed(void **state) {
  static const char body[] =
      "{\"model\":\"nomic-embed-text\",\"embeddings\":[[0.5,-0.25,8.940697e-8],"
      "[1,0,-1]],\"total_duration\":14143917,\"prompt_eval_count\":8}";
  rill_embeddings *e = NULL;
  rill__decoder *d;
  char err[128];
  (void)state;
  assert_int_equal(rill__embed_decoder_new(0, 2, &e, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, body, sizeof body - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_non_null(e);
  assert_int_equal(e->n, 2);
  assert_int_equal(e->dims, 3);
  assert_true(e->data[0] == 0.5f && e->data[1] == -0.25f);
  assert_true(e->data[2] == (float)8.940697e-8);
  assert_true(e->data[3] == 1.0f && e->data[5] == -1.0f);
  assert_int_equal(e->input_tokens, 8);
  rill_embeddings_free(e);
  e = NULL;
  /* Wrong count, ragged rows. */
  assert_int_equal(rill__embed_decoder_new(0, 3, &e, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, body, sizeof body - 1, 0, 0),
                   RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_null(e);
  assert_string_equal(err, "embeddings: 2 vectors for 3 inputs");
  assert_int_equal(rill__embed_decoder_new(0, 2, &e, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(
      feed(d, FEED_WHOLE, "{\"embeddings\":[[1,2],[3]]}", 26, 0, 0),
      RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_null(e);
  assert_string_equal(err, "embeddings: ragged dimensions");
}

static void test_embed_build(void **state) {
  const char *in[] = {"a", "b\"c"};
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill__request r;
  (void)state;
  req.endpoint.provider = RILL_PROVIDER_OLLAMA;
  req.endpoint.base_url = "http://h";
  req.model = "nomic-embed-text";
  req.inputs = in;
  req.n_inputs = 2;
  req.dimensions = 256;
  req.truncate = 2;
  req.keep_alive = "0";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_embed_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://h/api/embed");
  assert_int_equal(r.framing, RILL__FRAME_WHOLE);
  assert_string_equal(r.body.data,
                      "{\"model\":\"nomic-embed-text\",\"input\":[\"a\","
                      "\"b\\\"c\"],\"truncate\":false,\"dimensions\":256,"
                      "\"keep_alive\":0}");
  rill__request_release(&r);
  req.n_inputs = 0;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__ollama_embed_build(&req, NULL, &r), RILL_E_INVALID);
  rill__request_release(&r);
}

static void test_names(void **state) {
  (void)state;
  assert_int_equal(rill_provider_from_name("ollama"), RILL_PROVIDER_OLLAMA);
  assert_int_equal(rill_provider_from_name("lmstudio"), RILL_PROVIDER_LMSTUDIO);
  assert_int_equal(rill_provider_from_name("anthropic"),
                   RILL_PROVIDER_ANTHROPIC);
  assert_int_equal(rill_provider_from_name("x"), RILL_PROVIDER_NONE);
  assert_int_equal(rill_provider_from_name(NULL), RILL_PROVIDER_NONE);
  assert_string_equal(rill_provider_name(RILL_PROVIDER_GEMINI), "gemini");
  assert_string_equal(rill_provider_name((rill_provider)99), "none");
  assert_string_equal(rill_finish_name(RILL_FINISH_CONTENT_FILTER),
                      "content_filter");
  assert_string_equal(rill_finish_name((rill_finish)42), "none");
  rill_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_tokens_per_s),
      cmocka_unit_test(test_thinking_and_length),
      cmocka_unit_test(test_tool_calls),
      cmocka_unit_test(test_error_line),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_generate),
      cmocka_unit_test(test_whole),
      cmocka_unit_test(test_odd_lines),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_http_error_message),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_body_chat),
      cmocka_unit_test(test_body_generate),
      cmocka_unit_test(test_invalid_requests),
      cmocka_unit_test(test_ollama_host),
      cmocka_unit_test(test_credentials),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_pull),
      cmocka_unit_test(test_pull_build),
      cmocka_unit_test(test_show_version),
      cmocka_unit_test(test_embed),
      cmocka_unit_test(test_embed_build),
      cmocka_unit_test(test_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
