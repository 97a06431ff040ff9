/*
 * test_anthropic.c — the Anthropic Messages provider, sans I/O: event
 * streams shaped like the SDK's recorded fixtures (tests/unit/data/
 * providers/anthropic_*: padding before '}', pings, a thinking block with
 * its signature_delta, tool_use blocks assembled from input_json_delta
 * fragments, a mid-stream error event, a stream without message_stop)
 * through the real SSE framer whole, in 1- and 7-byte pieces and split at
 * every position; stop reasons, usage, the whole Message (no_stream);
 * request bodies (golden strings), headers, the key only in x-api-key;
 * allocation failures.
 */
#include "prov_harness.h"

static int make_chat(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__anthropic_chat_decoder_new(cb, out);
}

#define MODEL "claude-sonnet-4-20250514"

static void test_text(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "anthropic_text.sse",
            "text:Hello\n"
            "text: w\xc3\xb6rld <\xf0\x9f\x8c\x8a\\x0A\n"
            "text:!\n"
            "done:stop|end_turn|in=21|out=6|think=-1|model=" MODEL "\n",
            RILL_OK);
}

static void test_thinking(void **state) {
  (void)state;
  /* input = input_tokens + cache creation + cache reads, repeated in
   * message_delta by newer servers; thinking tokens when reported. */
  check_all(make_chat, FEED_SSE, "anthropic_thinking.sse",
            "think:Let me think\n"
            "think: about 2+2.\n"
            "text:4\n"
            "done:stop|end_turn|in=57|out=30|think=25|model=" MODEL "\n",
            RILL_OK);
}

static void test_tool_use(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "anthropic_tool_use.sse",
            "text:Checking.\n"
            "delta:0|toolu_01T1x1fJ34qAmk2tNTrN7Up6|get_weather|\n"
            "delta:0|~|~|{\"location\": \"San Fra\n"
            "delta:0|~|~|ncisco, CA\", \"unit\": \"fah\n"
            "delta:0|~|~|renheit\"}\n"
            "tool:0|toolu_01T1x1fJ34qAmk2tNTrN7Up6|get_weather|{\"location\": "
            "\"San Francisco, CA\", \"unit\": \"fahrenheit\"}\n"
            "done:tool_calls|tool_use|in=472|out=89|think=-1|model=" MODEL "\n",
            RILL_OK);
}

static void test_tools_parallel(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "anthropic_tools_parallel.sse",
            "delta:0|toolu_01A|get_weather|\n"
            "delta:0|~|~|{\"city\":\n"
            "delta:0|~|~| \"Paris\"}\n"
            "tool:0|toolu_01A|get_weather|{\"city\": \"Paris\"}\n"
            "delta:1|toolu_01B|get_time|\n"
            "delta:1|~|~|{\"tz\": \"Europe/Paris\"}\n"
            "tool:1|toolu_01B|get_time|{\"tz\": \"Europe/Paris\"}\n"
            "delta:2|toolu_01C|now|\n"
            "tool:2|toolu_01C|now|{}\n"
            "done:tool_calls|tool_use|in=512|out=120|think=-1|model=" MODEL "\n",
            RILL_OK);
}

static void test_error_event(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "anthropic_error.sse",
            "text:Par\n"
            "error:E_UNAVAILABLE|Overloaded (overloaded_error)\n",
            RILL_E_UNAVAILABLE);
}

static void test_truncated(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "anthropic_truncated.sse",
            "text:Hi\n"
            "error:E_TRUNCATED|truncated stream: no message_stop after the "
            "stop_reason\n",
            RILL_E_TRUNCATED);
}

static void test_whole(void **state) {
  (void)state;
  check_all(make_chat, FEED_WHOLE, "anthropic_whole.json",
            "think:Weather needs a tool.\n"
            "text:Let me check.\n"
            "delta:0|toolu_01X|get_weather|\n"
            "delta:0|~|~|{\"city\": \"Paris\", \"days\": [1, 2]}\n"
            "tool:0|toolu_01X|get_weather|{\"city\": \"Paris\", \"days\": [1, "
            "2]}\n"
            "done:tool_calls|tool_use|in=121|out=34|think=-1|model=" MODEL
            "\n",
            RILL_OK);
}

static void run_inline(const char *data, const char *expect, int expect_rc) {
  size_t k, len = strlen(data);
  run_once(make_chat, FEED_SSE, data, len, 0, 0, expect, expect_rc);
  run_once(make_chat, FEED_SSE, data, len, 1, 0, expect, expect_rc);
  for (k = 1; k < len; k++)
    run_once(make_chat, FEED_SSE, data, len, 0, k, expect, expect_rc);
}

#define EV(name, json) "event: " name "\ndata: " json "\n\n"
#define STOP_WITH(reason)                                                      \
  EV("message_delta", "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":" \
                      "\"" reason "\"},\"usage\":{\"output_tokens\":3}}")      \
  EV("message_stop", "{\"type\":\"message_stop\"}")

static void test_stop_reasons(void **state) {
  static const struct {
    const char *stream, *expect;
  } cases[] = {
      {STOP_WITH("max_tokens"),
       "done:length|max_tokens|in=-1|out=3|think=-1|model=\n"},
      {STOP_WITH("stop_sequence"),
       "done:stop|stop_sequence|in=-1|out=3|think=-1|model=\n"},
      {STOP_WITH("refusal"),
       "done:content_filter|refusal|in=-1|out=3|think=-1|model=\n"},
      {STOP_WITH("pause_turn"),
       "done:other|pause_turn|in=-1|out=3|think=-1|model=\n"},
      {STOP_WITH("model_context_window_exceeded"),
       "done:length|model_context_window_exceeded|in=-1|out=3|think=-1|"
       "model=\n"},
      {STOP_WITH("something_new"),
       "done:other|something_new|in=-1|out=3|think=-1|model=\n"},
      /* No message_delta at all: finish none. */
      {EV("message_stop", "{\"type\":\"message_stop\"}"),
       "done:none||in=-1|out=-1|think=-1|model=\n"},
  };
  size_t k;
  (void)state;
  for (k = 0; k < sizeof cases / sizeof cases[0]; k++)
    run_inline(cases[k].stream, cases[k].expect, RILL_OK);
}

static void test_odd_streams(void **state) {
  (void)state;
  /* No event: lines (the JSON type decides), unknown events and deltas,
   * a redacted_thinking block, a server tool block whose input deltas
   * are not a client tool call, bytes after message_stop. */
  run_inline("data: {\"type\":\"content_block_start\",\"index\":0,"
             "\"content_block\":{\"type\":\"redacted_thinking\",\"data\":"
             "\"EmwKAhgB\"}}\n\n"
             "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
             "event: brand_new\ndata: {\"type\":\"brand_new\"}\n\n"
             "data: {\"type\":\"content_block_start\",\"index\":1,"
             "\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"srvtoolu_1\","
             "\"name\":\"web_search\",\"input\":{}}}\n\n"
             "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{"
             "\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"q\\\":1}\"}}\n\n"
             "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
             "data: {\"type\":\"content_block_start\",\"index\":2,"
             "\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
             "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{"
             "\"type\":\"citations_delta\",\"citation\":{}}}\n\n"
             "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{"
             "\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n"
             "data: {\"type\":\"message_stop\"}\n\n"
             "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{"
             "\"type\":\"text_delta\",\"text\":\"late\"}}\n\n",
             "text:ok\ndone:none||in=-1|out=-1|think=-1|model=\n", RILL_OK);
  /* Tool arguments that are not a JSON object. */
  run_inline(EV("content_block_start",
                "{\"type\":\"content_block_start\",\"index\":0,"
                "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\","
                "\"name\":\"f\",\"input\":{}}}")
                 EV("content_block_delta",
                    "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
                    "\"type\":\"input_json_delta\",\"partial_json\":"
                    "\"{\\\"a\\\":\"}}")
                     EV("content_block_stop",
                        "{\"type\":\"content_block_stop\",\"index\":0}"),
             "delta:0|t|f|\ndelta:0|~|~|{\"a\":\n"
             "error:E_PROTOCOL|tool call f: the arguments are not a JSON "
             "object\n",
             RILL_E_PROTOCOL);
  /* A tool_use block without a name. */
  run_inline(EV("content_block_start",
                "{\"type\":\"content_block_start\",\"index\":0,"
                "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\"}}"),
             "error:E_PROTOCOL|a tool_use block without a name\n",
             RILL_E_PROTOCOL);
  /* Errors of other types keep their own code. */
  run_inline(EV("error", "{\"type\":\"error\",\"error\":{\"type\":"
                         "\"rate_limit_error\",\"message\":\"Slow down\"}}"),
             "error:E_RATE_LIMITED|Slow down (rate_limit_error)\n",
             RILL_E_RATE_LIMITED);
  run_inline(EV("error", "{\"type\":\"error\",\"error\":{\"type\":"
                         "\"api_error\",\"message\":\"Internal server error\"}}"),
             "error:E_UNAVAILABLE|Internal server error (api_error)\n",
             RILL_E_UNAVAILABLE);
  run_inline(EV("error", "{\"type\":\"error\",\"error\":{\"type\":"
                         "\"mystery_error\"}}"),
             "error:E_UNAVAILABLE|mystery_error\n", RILL_E_UNAVAILABLE);
  /* Malformed data, and JSON that is not an object. */
  run_inline(EV("ping", "{\"type\": \"ping\""),
             "error:E_JSON|malformed JSON in an event's data: unexpected end "
             "of input at byte 15\n",
             RILL_E_JSON);
  run_inline("data: [1]\n\n",
             "error:E_PROTOCOL|the server sent JSON that is not an object\n",
             RILL_E_PROTOCOL);
  /* Nothing at all (only pings): truncated. */
  run_inline(EV("ping", "{\"type\": \"ping\"}"),
             "error:E_TRUNCATED|truncated stream: the answer ended without "
             "message_stop\n",
             RILL_E_TRUNCATED);
}

static void test_too_many_calls(void **state) {
  char *buf = malloc(64 * 1024), *p = buf;
  unsigned i;
  plog l;
  rill_chat_callbacks cb;
  rill__decoder *d;
  (void)state;
  for (i = 0; i <= 128; i++)
    p += snprintf(p, 512,
                  "data: {\"type\":\"content_block_start\",\"index\":%u,"
                  "\"content_block\":{\"type\":\"tool_use\",\"id\":\"t%u\","
                  "\"name\":\"f\",\"input\":{}}}\n\n"
                  "data: {\"type\":\"content_block_stop\",\"index\":%u}\n\n",
                  i, i, i);
  memset(&l, 0, sizeof l);
  cb = plog_callbacks(&l);
  assert_int_equal(make_chat(&cb, &d), RILL_OK);
  assert_int_equal(feed(d, FEED_SSE, buf, (size_t)(p - buf), 0, 0),
                   RILL_E_LIMIT);
  d->ops->destroy(d);
  assert_non_null(
      strstr(l.s, "error:E_LIMIT|more than 128 tool calls in one answer\n"));
  free(l.s);
  free(buf);
}

static void test_cancel_each_callback(void **state) {
  size_t len;
  char *data = read_fixture("anthropic_tool_use.sse", &len);
  int k;
  (void)state;
  /* 6 callbacks before on_done; cancelling at each ends the stream. */
  for (k = 1; k <= 6; k++) {
    plog l;
    rill_chat_callbacks cb;
    rill__decoder *d;
    memset(&l, 0, sizeof l);
    l.cancel_at = k;
    cb = plog_callbacks(&l);
    assert_int_equal(make_chat(&cb, &d), RILL_OK);
    assert_int_equal(feed(d, FEED_SSE, data, len, 0, 0), RILL_E_CANCELLED);
    d->ops->destroy(d);
    assert_int_equal(l.n_cb, k);
    assert_non_null(strstr(l.s, "error:E_CANCELLED|"));
    free(l.s);
  }
  free(data);
}

static void test_alloc_failures(void **state) {
  (void)state;
  check_alloc_failures(make_chat, FEED_SSE, "anthropic_text.sse");
  check_alloc_failures(make_chat, FEED_SSE, "anthropic_thinking.sse");
  check_alloc_failures(make_chat, FEED_SSE, "anthropic_tools_parallel.sse");
  check_alloc_failures(make_chat, FEED_WHOLE, "anthropic_whole.json");
}

static void test_http_error_message(void **state) {
  static const char body[] =
      "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
      "\"message\":\"invalid x-api-key\"},\"request_id\":\"req_011CSHoEeqs5C35K2UUqR7Fy\"}";
  rill__decoder *d;
  rill__buf msg;
  (void)state;
  assert_int_equal(make_chat(NULL, &d), RILL_OK);
  rill__buf_init(&msg, NULL, 4096);
  d->ops->http_error_message(d, 401, body, sizeof body - 1, &msg);
  assert_int_equal(msg.len, strlen("invalid x-api-key"));
  assert_memory_equal(msg.data, "invalid x-api-key", msg.len);
  rill__buf_release(&msg);
  d->ops->destroy(d);
}

/* ---- requests ------------------------------------------------------------ */

static void test_body(void **state) {
  static const unsigned char jpg[] = {0xff, 0xd8, 0xff};
  rill_image img = {"image/jpeg", jpg, sizeof jpg};
  rill_tool_call past[2] = {
      {0, "toolu_1", "get_weather", "{ \"city\" : \"Oslo\" }", 19},
      {1, "toolu_2", "now", NULL, 0}};
  rill_message msgs[8];
  rill_tool tools[2] = {{"get_weather", "Weather of a city",
                         "{\"type\":\"object\",\"properties\":{\"city\":{"
                         "\"type\":\"string\"}},\"required\":[\"city\"]}"},
                        {"now", NULL, NULL}};
  const char *stop[] = {"\n\nHuman:"};
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(msgs, 0, sizeof msgs);
  msgs[0].role = RILL_ROLE_SYSTEM;
  msgs[0].content = "Be brief.";
  msgs[1].role = RILL_ROLE_USER;
  msgs[1].content = "Describe";
  msgs[1].images = &img;
  msgs[1].n_images = 1;
  msgs[2].role = RILL_ROLE_SYSTEM;
  msgs[2].content = "Use metric units.";
  msgs[3].role = RILL_ROLE_ASSISTANT;
  msgs[3].content = "Let me look.";
  msgs[3].thinking = "not sent: no signature";
  msgs[3].tool_calls = past;
  msgs[3].n_tool_calls = 2;
  msgs[4].role = RILL_ROLE_TOOL;
  msgs[4].tool_call_id = "toolu_1";
  msgs[4].content = "11 degrees";
  msgs[5].role = RILL_ROLE_TOOL;
  msgs[5].tool_call_id = "toolu_2";
  msgs[5].content = "12:00";
  msgs[6].role = RILL_ROLE_ASSISTANT;
  msgs[6].content = "Oslo: 11 degrees at noon.";
  msgs[7].role = RILL_ROLE_USER;
  msgs[7].content = "Thanks";
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.endpoint.api_key = "sk-ant-test-1234567890abcdef";
  req.model = "claude-sonnet-4-20250514";
  req.messages = msgs;
  req.n_messages = 8;
  req.tools = tools;
  req.n_tools = 2;
  req.set = RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_TOP_K |
            RILL_SET_SEED | RILL_SET_MAX_TOKENS | RILL_SET_NUM_CTX;
  req.temperature = 0.7;
  req.top_p = 0.9;
  req.top_k = 40;
  req.seed = 5;        /* not sent: the API has no seed */
  req.num_ctx = 8192;  /* not sent */
  req.max_tokens = 2048;
  req.stop = stop;
  req.n_stop = 1;
  req.think = RILL_THINK_ON;
  req.keep_alive = "5m"; /* not sent */
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "https://api.anthropic.com/v1/messages");
  assert_int_equal(r.framing, RILL__FRAME_SSE);
  assert_string_equal(r.auth_header, "x-api-key: sk-ant-test-1234567890abcdef");
  /* Accept, then anthropic-version, back to back; no key among them. */
  assert_int_equal(r.n_headers, 2);
  assert_string_equal(r.headers.data, "Accept: text/event-stream");
  assert_string_equal(r.headers.data + strlen(r.headers.data) + 1,
                      "anthropic-version: 2023-06-01");
  assert_null(strstr(r.body.data, "sk-ant"));
  assert_null(strstr(r.url.data, "sk-ant"));
  assert_string_equal(
      r.body.data,
      "{\"model\":\"claude-sonnet-4-20250514\",\"max_tokens\":2048,"
      "\"stream\":true,\"system\":\"Be brief.\\n\\nUse metric units.\","
      "\"messages\":["
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Describe\"},{\"type\":\"image\",\"source\":{\"type\":\"base64\","
      "\"media_type\":\"image/jpeg\",\"data\":\"/9j/\"}}]},"
      "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Let me look.\"},{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":"
      "\"get_weather\",\"input\":{\"city\":\"Oslo\"}},{\"type\":\"tool_use\","
      "\"id\":\"toolu_2\",\"name\":\"now\",\"input\":{}}]},"
      "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\","
      "\"tool_use_id\":\"toolu_1\",\"content\":\"11 degrees\"},{\"type\":"
      "\"tool_result\",\"tool_use_id\":\"toolu_2\",\"content\":\"12:00\"}]},"
      "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Oslo: 11 degrees at noon.\"}]},"
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Thanks\"}]}],"
      "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather of a "
      "city\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":"
      "{\"type\":\"string\"}},\"required\":[\"city\"]}},{\"name\":\"now\","
      "\"input_schema\":{\"type\":\"object\",\"properties\":{}}}],"
      "\"temperature\":0.7,\"top_p\":0.9,\"top_k\":40,"
      "\"stop_sequences\":[\"\\n\\nHuman:\"],"
      "\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":1024}}");
  rill__request_release(&r);
}

static void test_body_defaults(void **state) {
  rill_message m[2];
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  const char *hdrs[] = {"anthropic-version: 2099-01-01",
                        "anthropic-beta: tools-2024"};
  (void)state;
  memset(m, 0, sizeof m);
  m[0].role = RILL_ROLE_TOOL;
  m[0].tool_call_id = "toolu_9";
  m[1].content = "hi";
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.endpoint.base_url = "http://127.0.0.1:8080/v1/";
  req.model = "claude-haiku";
  req.messages = m;
  req.n_messages = 2;
  req.prompt = "and you?";
  req.think = RILL_THINK_OFF;
  req.no_stream = 1;
  unsetenv("ANTHROPIC_API_KEY");
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://127.0.0.1:8080/v1/messages");
  assert_int_equal(r.framing, RILL__FRAME_WHOLE);
  assert_null(r.auth_header);
  assert_string_equal(r.headers.data, "Accept: application/json");
  /* max_tokens defaults to 4096; a tool result and the user text that
   * follows share one user message; no system member. */
  assert_string_equal(
      r.body.data,
      "{\"model\":\"claude-haiku\",\"max_tokens\":4096,\"stream\":false,"
      "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":"
      "\"tool_result\",\"tool_use_id\":\"toolu_9\"},{\"type\":\"text\","
      "\"text\":\"hi\"},{\"type\":\"text\",\"text\":\"and you?\"}]}],"
      "\"thinking\":{\"type\":\"disabled\"}}");
  rill__request_release(&r);
  /* The key from the environment, only in x-api-key; an empty one is "not
   * set"; the caller's anthropic-version replaces the default. */
  setenv("ANTHROPIC_API_KEY", "sk-ant-env-abcdef", 1);
  req.endpoint.headers = hdrs;
  req.endpoint.n_headers = 2;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "x-api-key: sk-ant-env-abcdef");
  assert_null(strstr(r.url.data, "sk-ant"));
  assert_null(strstr(r.body.data, "sk-ant"));
  assert_int_equal(r.n_headers, 3);
  {
    const char *h = r.headers.data;
    size_t i;
    for (i = 0; i < r.n_headers; i++, h += strlen(h) + 1) {
      assert_null(strstr(h, "sk-ant"));
      assert_null(strstr(h, "2023-06-01"));
    }
  }
  rill__request_release(&r);
  setenv("ANTHROPIC_API_KEY", "", 1);
  req.endpoint.headers = NULL;
  req.endpoint.n_headers = 0;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
  assert_null(r.auth_header);
  rill__request_release(&r);
  unsetenv("ANTHROPIC_API_KEY");
  /* OPENAI_API_KEY is never sent to Anthropic. */
  setenv("OPENAI_API_KEY", "sk-openai-xyz", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
  assert_null(r.auth_header);
  rill__request_release(&r);
  unsetenv("OPENAI_API_KEY");
  /* JSON output is not offered by this API. */
  req.format = RILL_FORMAT_JSON;
  rill__request_init(&r, NULL);
  assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r),
                   RILL_E_UNSUPPORTED);
  rill__request_release(&r);
}

static void test_body_alloc_failures(void **state) {
  rill_message m[2];
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_alloc_stats before = RILL_ALLOC_STATS_INIT, after = RILL_ALLOC_STATS_INIT;
  uint64_t n, k;
  (void)state;
  memset(m, 0, sizeof m);
  m[0].role = RILL_ROLE_SYSTEM;
  m[0].content = "sys";
  m[1].content = "hi";
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.endpoint.api_key = "k-123456";
  req.model = "claude";
  req.messages = m;
  req.n_messages = 2;
  rill_alloc_get_stats(&before);
  rill_alloc_fail_at(0, RILL_FAIL_ONCE);
  {
    rill__request r;
    rill__request_init(&r, NULL);
    assert_int_equal(rill__anthropic_chat_build(&req, NULL, &r), RILL_OK);
    rill__request_release(&r);
  }
  n = rill_alloc_attempts();
  for (k = 1; k <= n; k++) {
    rill__request r;
    int rc;
    rill__request_init(&r, NULL);
    rill_alloc_fail_at(k, RILL_FAIL_ONCE);
    rc = rill__anthropic_chat_build(&req, NULL, &r);
    rill_alloc_fail_at(0, RILL_FAIL_ONCE);
    assert_true(rc == RILL_OK || rc == RILL_E_NOMEM);
    rill__request_release(&r);
    rill_alloc_get_stats(&after);
    assert_int_equal(after.bytes_in_use, before.bytes_in_use);
  }
}

static void test_embed_unsupported(void **state) {
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill_embeddings *e = NULL;
  const char *in[] = {"a"};
  char err[64];
  (void)state;
  req.endpoint.provider = RILL_PROVIDER_ANTHROPIC;
  req.model = "m";
  req.inputs = in;
  req.n_inputs = 1;
  /* Refused before the client is used. */
  assert_int_equal(rill_embed_remote((rill_client *)&req, &req, &e, err,
                                     sizeof err),
                   RILL_E_UNSUPPORTED);
  assert_null(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_thinking),
      cmocka_unit_test(test_tool_use),
      cmocka_unit_test(test_tools_parallel),
      cmocka_unit_test(test_error_event),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_whole),
      cmocka_unit_test(test_stop_reasons),
      cmocka_unit_test(test_odd_streams),
      cmocka_unit_test(test_too_many_calls),
      cmocka_unit_test(test_cancel_each_callback),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_http_error_message),
      cmocka_unit_test(test_body),
      cmocka_unit_test(test_body_defaults),
      cmocka_unit_test(test_body_alloc_failures),
      cmocka_unit_test(test_embed_unsupported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
