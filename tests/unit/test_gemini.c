/*
 * test_gemini.c — the Gemini provider, sans I/O: recorded SSE streams
 * (tests/unit/data/providers/gemini_*, CRLF frames as the API sends them)
 * through the real framer whole, in 1- and 7-byte pieces and split at every
 * position: text, thinking, one and several function calls, a blocked
 * prompt, an error object mid-stream, finish-reason mapping, usage,
 * truncation; the whole (:generateContent) answer; request bodies (golden
 * strings: contents and roles, systemInstruction, generationConfig, tools,
 * extra_json), URLs, the key in x-goog-api-key and never in the URL or the
 * body; embeddings and the model list; cancellation from every callback;
 * allocation failure at every allocation.
 */
#include "prov_harness.h"

static int make_chat(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__gemini_chat_decoder_new(cb, out);
}

static void test_text(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_text.sse",
            "text:Rust\n"
            "text: gives you <speed> & safety: é🦀\\x0A\n"
            "text:Done.\n"
            "done:stop|STOP|in=11|out=11|think=-1|model=gemini-2.0-flash\n",
            RILL_OK);
}

static void test_thinking(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_thinking.sse",
            "think:**Weighing the question**\\x0A\\x0AThe user asks\n"
            "think: for a number.\n"
            "text:42\n"
            "done:stop|STOP|in=9|out=2|think=171|model=gemini-2.5-flash\n",
            RILL_OK);
}

static void test_function_call(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_function_call.sse",
            "delta:0||getWeather|{\"location\":\"Tokyo\",\"unit\":\"celsius\"}\n"
            "tool:0||getWeather|{\"location\":\"Tokyo\",\"unit\":\"celsius\"}\n"
            "done:tool_calls|STOP|in=57|out=17|think=48|model=gemini-2.5-flash\n",
            RILL_OK);
}

static void test_parallel_calls(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_parallel_calls.sse",
            "text:Checking both.\n"
            "delta:0||get_weather|{\"city\":\"Paris\"}\n"
            "tool:0||get_weather|{\"city\":\"Paris\"}\n"
            "delta:1|call-2|get_time|{\"tz\":\"Europe/Paris\",\"nested\":{\"a\":"
            "[1,2.5e3,null,true]}}\n"
            "tool:1|call-2|get_time|{\"tz\":\"Europe/Paris\",\"nested\":{\"a\":"
            "[1,2.5e3,null,true]}}\n"
            "delta:2||no_args|{}\n"
            "tool:2||no_args|{}\n"
            "done:tool_calls|STOP|in=80|out=36|think=-1|model=gemini-2.5-flash\n",
            RILL_OK);
}

static void test_blocked(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_blocked.sse",
            "error:E_INVALID|the prompt was blocked (blockReason SAFETY)\n",
            RILL_E_INVALID);
}

static void test_stream_error(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_stream_error.sse",
            "text:Rust\n"
            "error:E_UNAVAILABLE|The model is overloaded. Please try again "
            "later.\n",
            RILL_E_UNAVAILABLE);
}

static void test_truncated(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_truncated.sse",
            "text:Rust\n"
            "text: gives you <speed> & safety: é🦀\\x0A\n"
            "error:E_TRUNCATED|truncated stream: the answer ended without a "
            "finishReason\n",
            RILL_E_TRUNCATED);
}

static void test_safety_finish(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "gemini_safety.sse",
            "text:Rust\n"
            "done:content_filter|SAFETY|in=11|out=1|think=-1|model=gemini-2.0-"
            "flash\n",
            RILL_OK);
}

static void test_whole(void **state) {
  (void)state;
  check_all(make_chat, FEED_WHOLE, "gemini_whole.json",
            "think:Let me think.\n"
            "text:Sure > here.\n"
            "delta:0||f|{\"a\":1}\n"
            "tool:0||f|{\"a\":1}\n"
            "done:tool_calls|STOP|in=14|out=40|think=6|model=gemini-2.5-flash\n",
            RILL_OK);
}

static void run_inline(const char *data, const char *expect, int expect_rc) {
  size_t k, len = strlen(data);
  run_once(make_chat, FEED_SSE, data, len, 0, 0, expect, expect_rc);
  run_once(make_chat, FEED_SSE, data, len, 1, 0, expect, expect_rc);
  for (k = 1; k < len; k++)
    run_once(make_chat, FEED_SSE, data, len, 0, k, expect, expect_rc);
}

static void test_finish_mapping(void **state) {
  static const struct {
    const char *raw, *mapped;
  } cases[] = {{"STOP", "stop"},
               {"MAX_TOKENS", "length"},
               {"SAFETY", "content_filter"},
               {"RECITATION", "content_filter"},
               {"BLOCKLIST", "content_filter"},
               {"PROHIBITED_CONTENT", "content_filter"},
               {"SPII", "content_filter"},
               {"IMAGE_SAFETY", "content_filter"},
               {"MALFORMED_FUNCTION_CALL", "other"},
               {"OTHER", "other"},
               {"LANGUAGE", "other"},
               {"FINISH_REASON_UNSPECIFIED", "other"},
               {"SOMETHING_NEW", "other"}};
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char data[512], expect[256];
    snprintf(data, sizeof data,
             "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": "
             "\"x\"}],\"role\": \"model\"},\"finishReason\": \"%s\",\"index\": "
             "0}]}\r\n\r\n",
             cases[i].raw);
    snprintf(expect, sizeof expect,
             "text:x\ndone:%s|%s|in=-1|out=-1|think=-1|model=\n",
             cases[i].mapped, cases[i].raw);
    run_inline(data, expect, RILL_OK);
  }
}

static void test_odd_streams(void **state) {
  (void)state;
  /* Other candidates are ignored; a chunk after the finish still counts
   * for usage; the first finishReason wins; LF-only frames work too. */
  run_inline("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"B\"}]},"
             "\"index\":1},{\"content\":{\"parts\":[{\"text\":\"A\"}]},"
             "\"finishReason\":\"MAX_TOKENS\",\"index\":0}]}\n\n"
             "data: {\"candidates\":[{\"finishReason\":\"STOP\"}],"
             "\"usageMetadata\":{\"promptTokenCount\":3,"
             "\"candidatesTokenCount\":4}}\n\n",
             "text:A\ndone:length|MAX_TOKENS|in=3|out=4|think=-1|model=\n",
             RILL_OK);
  /* An empty stream is truncated; a function call without a name is a
   * protocol error; JSON that is not an object too. */
  run_inline("\r\n", "error:E_TRUNCATED|truncated stream: the answer ended "
             "without a finishReason\n", RILL_E_TRUNCATED);
  run_inline("data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":"
             "{\"args\":{}}}]}}]}\r\n\r\n",
             "error:E_PROTOCOL|a functionCall without a name\n",
             RILL_E_PROTOCOL);
  run_inline("data: [1]\r\n\r\n",
             "error:E_PROTOCOL|the server sent JSON that is not an object\n",
             RILL_E_PROTOCOL);
  run_inline("data: {\"candidates\": [\r\n\r\n",
             "error:E_JSON|malformed JSON in an event's data: unexpected end "
             "of input at byte 16\n",
             RILL_E_JSON);
}

static void test_cancel_each_callback(void **state) {
  size_t len;
  char *data = read_fixture("gemini_parallel_calls.sse", &len);
  int k;
  (void)state;
  for (k = 1; k <= 8; k++) {
    plog l;
    rill_chat_callbacks cb;
    rill__decoder *d;
    int rc;
    memset(&l, 0, sizeof l);
    l.cancel_at = k;
    cb = plog_callbacks(&l);
    assert_int_equal(make_chat(&cb, &d), RILL_OK);
    rc = feed(d, FEED_SSE, data, len, 5, 0);
    d->ops->destroy(d);
    if (k < 8) {
      assert_int_equal(rc, RILL_E_CANCELLED);
      assert_int_equal(l.n_cb, k);
      assert_non_null(strstr(l.s, "error:E_CANCELLED|"));
    } else {
      assert_int_equal(rc, RILL_OK); /* on_done's return cancels nothing */
    }
    free(l.s);
  }
  free(data);
}

static void test_alloc_failures(void **state) {
  (void)state;
  check_alloc_failures(make_chat, FEED_SSE, "gemini_text.sse");
  check_alloc_failures(make_chat, FEED_SSE, "gemini_parallel_calls.sse");
  check_alloc_failures(make_chat, FEED_SSE, "gemini_thinking.sse");
  check_alloc_failures(make_chat, FEED_WHOLE, "gemini_whole.json");
}

static void test_http_error_message(void **state) {
  static const char body[] =
      "{\n  \"error\": {\n    \"code\": 400,\n    \"message\": \"API key not "
      "valid. Please pass a valid API key.\",\n    \"status\": "
      "\"INVALID_ARGUMENT\",\n    \"details\": [\n      {\n        \"@type\": "
      "\"type.googleapis.com/google.rpc.ErrorInfo\",\n        \"reason\": "
      "\"API_KEY_INVALID\"\n      }\n    ]\n  }\n}\n";
  static const char expect[] =
      "API key not valid. Please pass a valid API key. (INVALID_ARGUMENT)";
  rill__decoder *d;
  rill__buf msg;
  (void)state;
  assert_int_equal(make_chat(NULL, &d), RILL_OK);
  rill__buf_init(&msg, NULL, 4096);
  d->ops->http_error_message(d, 400, body, sizeof body - 1, &msg);
  assert_int_equal(msg.len, strlen(expect));
  assert_memory_equal(msg.data, expect, msg.len);
  rill__buf_clear(&msg);
  d->ops->http_error_message(d, 502, "<html>bad gateway</html>", 24, &msg);
  assert_int_equal(msg.len, 24);
  rill__buf_release(&msg);
  d->ops->destroy(d);
}

/* ---- requests ------------------------------------------------------------ */

#define KEY "AIzaSyTEST-0123456789abcdefghijklmnop"

static void test_body(void **state) {
  static const unsigned char png[] = {0x89, 'P', 'N', 'G'};
  rill_image img = {"image/png", png, sizeof png};
  rill_tool_call past[2] = {
      {0, "", "get_weather", "{\"city\": \"Paris\"}", 17},
      {1, "call-2", "get_time", NULL, 0}};
  rill_message msgs[7];
  rill_tool tools[2] = {{"get_weather", "Weather now",
                         "{\"type\":\"object\",\"properties\":{\"city\":{"
                         "\"type\":\"string\"}},\"required\":[\"city\"]}"},
                        {"get_time", NULL, NULL}};
  const char *stop[] = {"\n\n"};
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(msgs, 0, sizeof msgs);
  msgs[0].role = RILL_ROLE_SYSTEM;
  msgs[0].content = "Be brief.";
  msgs[1].role = RILL_ROLE_USER;
  msgs[1].content = "What's in this image?";
  msgs[1].images = &img;
  msgs[1].n_images = 1;
  msgs[2].role = RILL_ROLE_ASSISTANT;
  msgs[2].content = "Let me check.";
  msgs[2].tool_calls = past;
  msgs[2].n_tool_calls = 2;
  msgs[3].role = RILL_ROLE_TOOL;
  msgs[3].tool_name = "get_weather";
  msgs[3].content = "{\"temp_c\": 11}";
  msgs[4].role = RILL_ROLE_TOOL;
  msgs[4].tool_call_id = "call-2"; /* name found from the call */
  msgs[4].content = "10:42";
  msgs[5].role = RILL_ROLE_SYSTEM;
  msgs[5].content = "Answer in French.";
  msgs[6].role = RILL_ROLE_ASSISTANT; /* nothing: one empty text part */
  req.endpoint.provider = RILL_PROVIDER_GEMINI;
  req.endpoint.api_key = KEY;
  req.model = "gemini-2.5-flash";
  req.messages = msgs;
  req.n_messages = 7;
  req.prompt = "And now?";
  req.tools = tools;
  req.n_tools = 2;
  req.set = RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_TOP_K |
            RILL_SET_SEED | RILL_SET_MAX_TOKENS | RILL_SET_NUM_CTX;
  req.temperature = 0.2;
  req.top_p = 0.9;
  req.top_k = 40;
  req.seed = 7;
  req.max_tokens = 1024;
  req.num_ctx = 4096; /* Ollama only */
  req.stop = stop;
  req.n_stop = 1;
  req.think = RILL_THINK_ON;
  req.format = RILL_FORMAT_JSON_SCHEMA;
  req.json_schema = "{\"type\": \"OBJECT\", \"properties\": {\"age\": "
                    "{\"type\": \"INTEGER\"}}}";
  req.keep_alive = "5m"; /* Ollama only */
  req.extra_json =
      "{\"safetySettings\": [{\"category\": \"HARM_CATEGORY_DANGEROUS_CONTENT\","
      " \"threshold\": \"BLOCK_ONLY_HIGH\"}], \"toolConfig\": "
      "{\"functionCallingConfig\": {\"mode\": \"AUTO\"}}, \"cachedContent\": "
      "\"cachedContents/x\\u0041\"}";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data,
                      "https://generativelanguage.googleapis.com/v1beta/models/"
                      "gemini-2.5-flash:streamGenerateContent?alt=sse");
  assert_int_equal(r.framing, RILL__FRAME_SSE);
  assert_string_equal(r.auth_header, "x-goog-api-key: " KEY);
  assert_string_equal(r.headers.data, "Accept: text/event-stream");
  assert_null(strstr(r.url.data, "key"));
  assert_null(strstr(r.url.data, "AIza"));
  assert_null(strstr(r.body.data, "AIza"));
  assert_string_equal(
      r.body.data,
      "{\"contents\":["
      "{\"role\":\"user\",\"parts\":[{\"text\":\"What's in this image?\"},"
      "{\"inlineData\":{\"mimeType\":\"image/png\",\"data\":\"iVBORw==\"}}]},"
      "{\"role\":\"model\",\"parts\":[{\"text\":\"Let me check.\"},"
      "{\"functionCall\":{\"name\":\"get_weather\",\"args\":{\"city\":"
      "\"Paris\"}}},{\"functionCall\":{\"id\":\"call-2\",\"name\":"
      "\"get_time\",\"args\":{}}}]},"
      "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":"
      "\"get_weather\",\"response\":{\"temp_c\":11}}},{\"functionResponse\":{"
      "\"id\":\"call-2\",\"name\":\"get_time\",\"response\":{\"result\":"
      "\"10:42\"}}}]},"
      "{\"role\":\"model\",\"parts\":[{\"text\":\"\"}]},"
      "{\"role\":\"user\",\"parts\":[{\"text\":\"And now?\"}]}],"
      "\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"},{\"text\":"
      "\"Answer in French.\"}]},"
      "\"tools\":[{\"functionDeclarations\":[{\"name\":\"get_weather\","
      "\"description\":\"Weather now\",\"parameters\":{\"type\":\"object\","
      "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":["
      "\"city\"]}},{\"name\":\"get_time\"}]}],"
      "\"generationConfig\":{\"temperature\":0.2,\"topP\":0.9,\"topK\":40,"
      "\"seed\":7,\"maxOutputTokens\":1024,\"stopSequences\":[\"\\n\\n\"],"
      "\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":"
      "\"OBJECT\",\"properties\":{\"age\":{\"type\":\"INTEGER\"}}},"
      "\"thinkingConfig\":{\"includeThoughts\":true,\"thinkingBudget\":-1}},"
      "\"safetySettings\":[{\"category\":\"HARM_CATEGORY_DANGEROUS_CONTENT\","
      "\"threshold\":\"BLOCK_ONLY_HIGH\"}],\"toolConfig\":{"
      "\"functionCallingConfig\":{\"mode\":\"AUTO\"}},\"cachedContent\":"
      "\"cachedContents/x\\u0041\"}"); /* values are copied as given */
  rill__request_release(&r);
}

static void test_body_minimal(void **state) {
  rill_message m;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(&m, 0, sizeof m);
  m.content = "hi";
  req.endpoint.provider = RILL_PROVIDER_GEMINI;
  req.endpoint.base_url = "http://127.0.0.1:9/v1beta/";
  req.model = "models/gemini-2.0-flash";
  req.messages = &m;
  req.n_messages = 1;
  req.think = RILL_THINK_OFF;
  req.format = RILL_FORMAT_JSON;
  req.no_stream = 1;
  /* extra_json replaces a member rill writes itself. */
  req.extra_json = "{\"generationConfig\":{\"candidateCount\":1}}";
  unsetenv("GEMINI_API_KEY");
  unsetenv("GOOGLE_API_KEY");
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(
      r.url.data,
      "http://127.0.0.1:9/v1beta/models/gemini-2.0-flash:generateContent");
  assert_int_equal(r.framing, RILL__FRAME_WHOLE);
  assert_null(r.auth_header);
  assert_string_equal(r.body.data,
                      "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
                      "\"hi\"}]}],\"generationConfig\":{\"candidateCount\":1}}");
  rill__request_release(&r);
  req.extra_json = NULL;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.body.data,
                      "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":"
                      "\"hi\"}]}],\"generationConfig\":{\"responseMimeType\":"
                      "\"application/json\",\"thinkingConfig\":{"
                      "\"includeThoughts\":false,\"thinkingBudget\":0}}}");
  rill__request_release(&r);
  /* Keys from the environment: GEMINI_API_KEY first, else GOOGLE_API_KEY;
   * always in the header, never in the URL or the body. */
  setenv("GOOGLE_API_KEY", "google-env-key-123456", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "x-goog-api-key: google-env-key-123456");
  rill__request_release(&r);
  setenv("GEMINI_API_KEY", "gemini-env-key-123456", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "x-goog-api-key: gemini-env-key-123456");
  assert_null(strstr(r.url.data, "env-key"));
  assert_null(strstr(r.body.data, "env-key"));
  rill__request_release(&r);
  unsetenv("GEMINI_API_KEY");
  unsetenv("GOOGLE_API_KEY");
}

static void test_body_invalid(void **state) {
  static const char *const bad_models[] = {"gem ini", "a?key=x", "a#b",
                                           "/models/x", "models/../x",
                                           "m:generateContent", "a%2Fb"};
  static const char *const bad_extra[] = {"[1]", "{", "\"s\"", "{} {}"};
  rill_message m[2];
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  size_t i;
  (void)state;
  memset(m, 0, sizeof m);
  m[0].content = "hi";
  req.endpoint.provider = RILL_PROVIDER_GEMINI;
  req.messages = m;
  req.n_messages = 1;
  for (i = 0; i < sizeof bad_models / sizeof bad_models[0]; i++) {
    req.model = bad_models[i];
    rill__request_init(&r, NULL);
    assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_E_INVALID);
    rill__request_release(&r);
  }
  req.model = "gemini-2.0-flash";
  for (i = 0; i < sizeof bad_extra / sizeof bad_extra[0]; i++) {
    req.extra_json = bad_extra[i];
    rill__request_init(&r, NULL);
    assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_E_INVALID);
    rill__request_release(&r);
  }
  /* A tool result whose call cannot be named. */
  req.extra_json = NULL;
  m[1].role = RILL_ROLE_TOOL;
  m[1].tool_call_id = "unknown";
  m[1].content = "x";
  req.n_messages = 2;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_chat_build(&req, NULL, &r), RILL_E_INVALID);
  rill__request_release(&r);
}

static int on_model(void *u, const rill_model_info *m) {
  plog *l = u;
  char buf[256];
  snprintf(buf, sizeof buf, "%s|%lld\n", m->name, (long long)m->size);
  plog_str(l, buf);
  return 0;
}

static void test_models(void **state) {
  static const char body[] =
      "{\n  \"models\": [\n    {\n      \"name\": \"models/gemini-2.5-flash\",\n"
      "      \"version\": \"001\",\n      \"displayName\": \"Gemini 2.5 "
      "Flash\",\n      \"inputTokenLimit\": 1048576,\n      "
      "\"outputTokenLimit\": 65536,\n      \"supportedGenerationMethods\": [\n"
      "        \"generateContent\",\n        \"countTokens\"\n      ],\n"
      "      \"thinking\": true\n    },\n    {\n      \"name\": "
      "\"models/gemini-embedding-001\"\n    }\n  ],\n  \"nextPageToken\": "
      "\"Chxn\"\n}\n";
  plog l;
  rill__decoder *d;
  char err[64];
  (void)state;
  memset(&l, 0, sizeof l);
  assert_int_equal(
      rill__ollama_models_decoder_new(0, on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, body, sizeof body - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_string_equal(l.s, "models/gemini-2.5-flash|-1\n"
                           "models/gemini-embedding-001|-1\n");
  free(l.s);
}

static void test_embed(void **state) {
  static const char one[] =
      "{\n  \"embedding\": {\n    \"values\": [\n      0.013168523,\n      "
      "-0.008711934,\n      -0.046782676\n    ]\n  }\n}\n";
  static const char batch[] =
      "{\"embeddings\":[{\"values\":[1,2]},{\"values\":[3,4]}]}";
  static const char ragged[] =
      "{\"embeddings\":[{\"values\":[1,2]},{\"values\":[3]}]}";
  const char *in[] = {"a", "b\"c"};
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill_embeddings *e = NULL;
  rill__decoder *d;
  rill__request r;
  char err[128];
  (void)state;
  assert_int_equal(
      rill__embed_decoder_new(RILL__EMBED_GEMINI, 1, &e, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, one, sizeof one - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_non_null(e);
  assert_int_equal(e->n, 1);
  assert_int_equal(e->dims, 3);
  assert_true(e->data[0] == (float)0.013168523 &&
              e->data[2] == (float)-0.046782676);
  assert_int_equal(e->input_tokens, -1);
  rill_embeddings_free(e);
  e = NULL;
  assert_int_equal(
      rill__embed_decoder_new(RILL__EMBED_GEMINI, 2, &e, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, batch, sizeof batch - 1, 0, 0),
                   RILL_OK);
  d->ops->destroy(d);
  assert_true(e->n == 2 && e->dims == 2 && e->data[0] == 1 &&
              e->data[3] == 4);
  rill_embeddings_free(e);
  e = NULL;
  assert_int_equal(
      rill__embed_decoder_new(RILL__EMBED_GEMINI, 2, &e, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, ragged, sizeof ragged - 1, 0, 0),
                   RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_null(e);
  assert_string_equal(err, "embeddings: ragged dimensions");
  /* A single vector where two were asked for. */
  assert_int_equal(
      rill__embed_decoder_new(RILL__EMBED_GEMINI, 2, &e, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, one, sizeof one - 1, 0, 0),
                   RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_string_equal(err, "embeddings: 1 vectors for 2 inputs");

  req.endpoint.provider = RILL_PROVIDER_GEMINI;
  req.endpoint.api_key = KEY;
  req.model = "gemini-embedding-001";
  req.inputs = in;
  req.n_inputs = 1;
  req.dimensions = 768;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_embed_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data,
                      "https://generativelanguage.googleapis.com/v1beta/models/"
                      "gemini-embedding-001:embedContent");
  assert_string_equal(r.auth_header, "x-goog-api-key: " KEY);
  assert_string_equal(r.body.data,
                      "{\"content\":{\"parts\":[{\"text\":\"a\"}]},"
                      "\"outputDimensionality\":768}");
  rill__request_release(&r);
  req.n_inputs = 2;
  req.dimensions = 0;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_embed_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data,
                      "https://generativelanguage.googleapis.com/v1beta/models/"
                      "gemini-embedding-001:batchEmbedContents");
  assert_string_equal(
      r.body.data,
      "{\"requests\":[{\"model\":\"models/gemini-embedding-001\",\"content\":"
      "{\"parts\":[{\"text\":\"a\"}]}},{\"model\":\"models/gemini-embedding-"
      "001\",\"content\":{\"parts\":[{\"text\":\"b\\\"c\"}]}}]}");
  assert_null(strstr(r.body.data, "AIza"));
  rill__request_release(&r);
  /* taskType and title go into every request */
  req.task_type = "RETRIEVAL_DOCUMENT";
  req.title = "Doc";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_embed_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(
      r.body.data,
      "{\"requests\":[{\"model\":\"models/gemini-embedding-001\",\"content\":"
      "{\"parts\":[{\"text\":\"a\"}]},\"taskType\":\"RETRIEVAL_DOCUMENT\","
      "\"title\":\"Doc\"},{\"model\":\"models/gemini-embedding-001\","
      "\"content\":{\"parts\":[{\"text\":\"b\\\"c\"}]},\"taskType\":"
      "\"RETRIEVAL_DOCUMENT\",\"title\":\"Doc\"}]}");
  rill__request_release(&r);
  req.task_type = NULL;
  req.title = NULL;
  req.dimensions = -1;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__gemini_embed_build(&req, NULL, &r), RILL_E_INVALID);
  rill__request_release(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_thinking),
      cmocka_unit_test(test_function_call),
      cmocka_unit_test(test_parallel_calls),
      cmocka_unit_test(test_blocked),
      cmocka_unit_test(test_stream_error),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_safety_finish),
      cmocka_unit_test(test_whole),
      cmocka_unit_test(test_finish_mapping),
      cmocka_unit_test(test_odd_streams),
      cmocka_unit_test(test_cancel_each_callback),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_http_error_message),
      cmocka_unit_test(test_body),
      cmocka_unit_test(test_body_minimal),
      cmocka_unit_test(test_body_invalid),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_embed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
