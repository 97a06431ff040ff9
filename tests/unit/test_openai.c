/*
 * test_openai.c — the OpenAI-compatible provider, sans I/O: recorded SSE
 * streams (tests/unit/data/providers/openai_*) through the real framer at
 * every split; tool-call assembly across fragments (parallel calls, LM
 * Studio's repeated fragments, servers without index, an index reused by
 * another id); errors, truncation; request bodies (golden strings), default
 * URLs, the key from the environment; /models and /embeddings; allocation
 * failures.
 */
#include "prov_harness.h"

static int make_chat(const rill_chat_callbacks *cb, rill__decoder **out) {
  return rill__openai_chat_decoder_new(cb, out);
}

static void test_text(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_text.sse",
            "text:Ray\n"
            "text:leigh <é🌊\\x0A\n"
            "done:stop|stop|in=19|out=24|think=5|model=gpt-4o-mini-2024-07-18\n",
            RILL_OK);
}

static void test_tools_parallel(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_tools_parallel.sse",
            "delta:0|call_Lf3|get_weather|\n"
            "delta:0|~|~|{\"\n"
            "delta:0|~|~|location\n"
            "delta:0|~|~|\": \"Paris\"}\n"
            "delta:1|call_OE9|get_stock_price|\n"
            "delta:1|~|~|{\"ti\n"
            "delta:1|~|~|cker\":\"AAPL\"}\n"
            "tool:0|call_Lf3|get_weather|{\"location\": \"Paris\"}\n"
            "tool:1|call_OE9|get_stock_price|{\"ticker\":\"AAPL\"}\n"
            "done:tool_calls|tool_calls|in=80|out=40|think=-1|model=gpt-4o-"
            "mini-2024-07-18\n",
            RILL_OK);
}

static void test_tools_lmstudio(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_tools_lmstudio.sse",
            "delta:0|123456789|add|\n"
            "delta:0|~|~|{\"a\":\n"
            "delta:0|~|~|1}\n"
            "delta:1|987654321|mul|{\"b\":2}\n"
            "tool:0|123456789|add|{\"a\":1}\n"
            "tool:1|987654321|mul|{\"b\":2}\n"
            "done:tool_calls|stop|in=-1|out=-1|think=-1|model=qwen2.5-7b\n",
            RILL_OK);
}

static void test_tools_noindex(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_tools_noindex.sse",
            "delta:0|c1|f|{\"x\":\n"
            "delta:1|c2|g|{}\n"
            "delta:0|~|~|1}\n"
            "delta:2||h|{\"y\"\n"
            "delta:2|~|~|:2}\n"
            "tool:0|c1|f|{\"x\":1}\n"
            "tool:1|c2|g|{}\n"
            "tool:2||h|{\"y\":2}\n"
            "done:tool_calls|function_call|in=-1|out=-1|think=-1|model=qwen2.5-"
            "7b\n",
            RILL_OK);
}

static void test_reasoning_crlf(void **state) {
  plog l;
  rill_chat_callbacks cb;
  rill__decoder *d;
  size_t len;
  char *data;
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_reasoning_crlf.sse",
            "think:Think\n"
            "think:ing\n"
            "text:Answer\n"
            "text:!\n"
            "done:length|length|in=9|out=3|think=-1|model=qwen3\n",
            RILL_OK);
  data = read_fixture("openai_reasoning_crlf.sse", &len);
  memset(&l, 0, sizeof l);
  cb = plog_callbacks(&l);
  assert_int_equal(make_chat(&cb, &d), RILL_OK);
  assert_int_equal(feed(d, FEED_SSE, data, len, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_true(l.tps == 50.0); /* llama.cpp timings.predicted_per_second */
  free(l.s);
  free(data);
}

static void test_errors(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_error.sse",
            "text:Par\n"
            "error:E_UNAVAILABLE|The server had an error while processing "
            "your request. Sorry about that!\n",
            RILL_E_UNAVAILABLE);
  check_all(make_chat, FEED_SSE, "openai_event_error.sse",
            "text:Par\nerror:E_UNAVAILABLE|Overloaded\n", RILL_E_UNAVAILABLE);
}

static void test_truncated(void **state) {
  (void)state;
  check_all(make_chat, FEED_SSE, "openai_truncated_nodone.sse",
            "text:Hi\nerror:E_TRUNCATED|truncated stream: no \"data: [DONE]\" "
            "after the finish_reason\n",
            RILL_E_TRUNCATED);
  check_all(make_chat, FEED_SSE, "openai_truncated_nofinish.sse",
            "text:Hi\nerror:E_TRUNCATED|truncated stream: the answer ended "
            "without a finish_reason\n",
            RILL_E_TRUNCATED);
  check_all(make_chat, FEED_SSE, "openai_done_nofinish.sse",
            "text:Hi\nerror:E_TRUNCATED|truncated stream: [DONE] without a "
            "finish_reason\n",
            RILL_E_TRUNCATED);
}

static void test_whole(void **state) {
  (void)state;
  check_all(make_chat, FEED_WHOLE, "openai_whole.json",
            "text:Sure.\n"
            "delta:0|call_1|f|{\"a\":1}\n"
            "tool:0|call_1|f|{\"a\":1}\n"
            "done:tool_calls|tool_calls|in=14|out=40|think=0|model=gpt-4o-mini-"
            "2024-07-18\n",
            RILL_OK);
}

static void run_inline(const char *data, const char *expect, int expect_rc) {
  size_t k, len = strlen(data);
  run_once(make_chat, FEED_SSE, data, len, 0, 0, expect, expect_rc);
  run_once(make_chat, FEED_SSE, data, len, 1, 0, expect, expect_rc);
  for (k = 1; k < len; k++)
    run_once(make_chat, FEED_SSE, data, len, 0, k, expect, expect_rc);
}

static void test_odd_streams(void **state) {
  (void)state;
  /* Other choices are ignored; bytes after [DONE] too; content and the
   * finish in one chunk (vLLM); a content_filter finish; empty arguments
   * become {}. */
  run_inline("data: {\"choices\":[{\"index\":1,\"delta\":{\"content\":\"B\"}},"
             "{\"index\":0,\"delta\":{\"content\":\"A\"},\"finish_reason\":"
             "\"content_filter\"}]}\n\n"
             "data: [DONE]\n\ndata: {\"choices\":[{\"index\":0,\"delta\":"
             "{\"content\":\"late\"}}]}\n\n",
             "text:A\ndone:content_filter|content_filter|in=-1|out=-1|think=-1"
             "|model=\n",
             RILL_OK);
  run_inline("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
             "\"index\":1000000000,\"id\":\"x\",\"function\":{\"name\":\"f\"}}]"
             "},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
             "delta:0|x|f|\ntool:0|x|f|{}\ndone:tool_calls|tool_calls|in=-1|"
             "out=-1|think=-1|model=\n",
             RILL_OK);
  /* A fragment for a call already delivered complete (at finish_reason)
   * starts a new call: never a delta after the call's on_tool_call
   * (found by fuzz_openai). */
  run_inline("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
             "\"index\":0,\"id\":\"a\",\"function\":{\"name\":\"f\","
             "\"arguments\":\"{}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n"
             "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{"
             "\"index\":0,\"id\":\"a\",\"function\":{\"arguments\":"
             "\"{\\\"late\\\":1}\"}}]}}]}\n\ndata: [DONE]\n\n",
             "delta:0|a|f|{}\ntool:0|a|f|{}\ndelta:1|a||{\"late\":1}\n"
             "tool:1|a||{\"late\":1}\ndone:tool_calls|tool_calls|in=-1|out=-1|"
             "think=-1|model=\n",
             RILL_OK);
  /* An unknown finish reason, and a reason given twice (first wins). */
  run_inline("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
             "\"eos\"}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},"
             "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
             "done:other|eos|in=-1|out=-1|think=-1|model=\n", RILL_OK);
  run_inline("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]"
             "}\n\ndata: {\"choices\":[nul\n\n",
             "text:a\nerror:E_JSON|malformed JSON in an event's data: "
             "unexpected end of input at byte 15\n",
             RILL_E_JSON);
  run_inline("data: \"str\"\n\n",
             "error:E_PROTOCOL|the server sent JSON that is not an object\n",
             RILL_E_PROTOCOL);
}

static void test_too_many_calls(void **state) {
  char *buf = malloc(64 * 1024), *p = buf;
  unsigned i;
  plog l;
  rill_chat_callbacks cb;
  rill__decoder *d;
  (void)state;
  for (i = 0; i <= 128; i++)
    p += sprintf(p,
                 "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":"
                 "[{\"index\":%u,\"id\":\"c%u\",\"function\":{\"name\":\"f\","
                 "\"arguments\":\"{}\"}}]}}]}\n\n",
                 i, i);
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

static void test_alloc_failures(void **state) {
  (void)state;
  check_alloc_failures(make_chat, FEED_SSE, "openai_text.sse");
  check_alloc_failures(make_chat, FEED_SSE, "openai_tools_parallel.sse");
  check_alloc_failures(make_chat, FEED_SSE, "openai_tools_noindex.sse");
}

static void test_http_error_message(void **state) {
  static const char body[] =
      "{\n    \"error\": {\n        \"message\": \"Incorrect API key provided: "
      "sk-***MxYA\",\n        \"type\": \"invalid_request_error\",\n        "
      "\"param\": null,\n        \"code\": \"invalid_api_key\"\n    }\n}\n";
  rill__decoder *d;
  rill__buf msg;
  (void)state;
  assert_int_equal(make_chat(NULL, &d), RILL_OK);
  rill__buf_init(&msg, NULL, 4096);
  d->ops->http_error_message(d, 401, body, sizeof body - 1, &msg);
  assert_int_equal(msg.len, strlen("Incorrect API key provided: sk-***MxYA"));
  assert_memory_equal(msg.data, "Incorrect API key provided: sk-***MxYA",
                      msg.len);
  rill__buf_release(&msg);
  d->ops->destroy(d);
}

/* ---- requests ------------------------------------------------------------ */

static void test_body(void **state) {
  static const unsigned char jpg[] = {0xff, 0xd8, 0xff};
  rill_image img = {"image/jpeg", jpg, sizeof jpg};
  rill_tool_call past = {0, "call_1", "get_weather", "{\"city\":\"Oslo\"}",
                         15};
  rill_message msgs[4];
  rill_tool tool = {"get_weather", NULL, NULL};
  const char *stop[] = {"END", "\n\n"};
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
  msgs[2].role = RILL_ROLE_ASSISTANT;
  msgs[2].tool_calls = &past;
  msgs[2].n_tool_calls = 1;
  msgs[3].role = RILL_ROLE_TOOL;
  msgs[3].tool_call_id = "call_1";
  msgs[3].content = "11 degrees";
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  req.endpoint.api_key = "sk-test-1234567890abcdef";
  req.model = "gpt-4o-mini";
  req.messages = msgs;
  req.n_messages = 4;
  req.tools = &tool;
  req.n_tools = 1;
  req.set = RILL_SET_TEMPERATURE | RILL_SET_TOP_P | RILL_SET_TOP_K |
            RILL_SET_SEED | RILL_SET_MAX_TOKENS | RILL_SET_NUM_CTX;
  req.temperature = 0;
  req.top_p = 0.5;
  req.top_k = 3;
  req.seed = -1;
  req.max_tokens = 100;
  req.num_ctx = 4096;
  req.stop = stop;
  req.n_stop = 2;
  req.think = RILL_THINK_ON;
  req.format = RILL_FORMAT_JSON_SCHEMA;
  req.json_schema = "{ \"type\" : \"object\" }";
  req.keep_alive = "5m";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "https://api.openai.com/v1/chat/completions");
  assert_int_equal(r.framing, RILL__FRAME_SSE);
  assert_string_equal(r.auth_header,
                      "Authorization: Bearer sk-test-1234567890abcdef");
  assert_string_equal(r.headers.data, "Accept: text/event-stream");
  assert_null(strstr(r.body.data, "sk-test"));
  assert_string_equal(
      r.body.data,
      "{\"model\":\"gpt-4o-mini\",\"messages\":["
      "{\"role\":\"system\",\"content\":\"Be brief.\"},"
      "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"Describe\"},{\"type\":\"image_url\",\"image_url\":{\"url\":"
      "\"data:image/jpeg;base64,/9j/\"}}]},"
      "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":"
      "\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
      "\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Oslo\\\"}\"}}]},"
      "{\"role\":\"tool\",\"tool_call_id\":\"call_1\",\"content\":"
      "\"11 degrees\"}],"
      "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
      "\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{}}"
      "}}],"
      "\"stream\":true,\"stream_options\":{\"include_usage\":true},"
      "\"temperature\":0,\"top_p\":0.5,\"seed\":-1,"
      "\"max_completion_tokens\":100,\"stop\":[\"END\",\"\\n\\n\"],"
      "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{"
      "\"name\":\"response\",\"schema\":{\"type\":\"object\"}}},"
      "\"reasoning_effort\":\"medium\"}");
  rill__request_release(&r);
}

static void test_body_lmstudio(void **state) {
  rill_message m;
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill__request r;
  (void)state;
  memset(&m, 0, sizeof m);
  m.content = "hi";
  req.endpoint.provider = RILL_PROVIDER_LMSTUDIO;
  req.model = "qwen";
  req.messages = &m;
  req.n_messages = 1;
  req.prompt = "and you?";
  req.set = RILL_SET_TOP_K | RILL_SET_MAX_TOKENS;
  req.top_k = 20;
  req.max_tokens = -1;
  req.format = RILL_FORMAT_JSON;
  req.think = RILL_THINK_OFF;
  req.no_stream = 1;
  unsetenv("OPENAI_API_KEY");
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://localhost:1234/v1/chat/completions");
  assert_int_equal(r.framing, RILL__FRAME_WHOLE);
  assert_null(r.auth_header);
  assert_string_equal(
      r.body.data,
      "{\"model\":\"qwen\",\"messages\":[{\"role\":\"user\",\"content\":"
      "\"hi\"},{\"role\":\"user\",\"content\":\"and you?\"}],\"stream\":false,"
      "\"top_k\":20,\"max_tokens\":-1,\"response_format\":{\"type\":"
      "\"json_object\"}}");
  rill__request_release(&r);
  /* The key from the environment, for LM Studio too; an empty one is
   * "not set". */
  setenv("OPENAI_API_KEY", "env-key-abcdef", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.auth_header, "Authorization: Bearer env-key-abcdef");
  assert_null(strstr(r.url.data, "env-key"));
  assert_null(strstr(r.body.data, "env-key"));
  rill__request_release(&r);
  setenv("OPENAI_API_KEY", "", 1);
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_chat_build(&req, NULL, &r), RILL_OK);
  assert_null(r.auth_header);
  rill__request_release(&r);
  unsetenv("OPENAI_API_KEY");
  /* A base URL with a trailing slash joins cleanly. */
  req.endpoint.base_url = "http://127.0.0.1:8080/v1/";
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_chat_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://127.0.0.1:8080/v1/chat/completions");
  rill__request_release(&r);
}

static int on_model(void *u, const rill_model_info *m) {
  plog *l = u;
  char buf[256];
  snprintf(buf, sizeof buf, "%s|%s|%lld|%s\n", m->name, m->owned_by,
           (long long)m->size, m->modified_at);
  plog_str(l, buf);
  return 0;
}

static void test_models(void **state) {
  static const char body[] =
      "{\"object\":\"list\",\"data\":[{\"id\":\"gpt-4o-mini\",\"object\":"
      "\"model\",\"created\":1721172741,\"owned_by\":\"system\"},{\"id\":"
      "\"text-embedding-nomic-embed-text-v1.5@q4_k_m\",\"object\":\"model\"}]}";
  plog l;
  rill__decoder *d;
  char err[64];
  (void)state;
  memset(&l, 0, sizeof l);
  assert_int_equal(
      rill__openai_models_decoder_new(on_model, &l, err, sizeof err, &d),
      RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, body, sizeof body - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_string_equal(l.s, "gpt-4o-mini|system|-1|\n"
                           "text-embedding-nomic-embed-text-v1.5@q4_k_m||-1|\n");
  free(l.s);
}

static void test_embed(void **state) {
  static const char body[] =
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":1,"
      "\"embedding\":[3,4]},{\"object\":\"embedding\",\"index\":0,"
      "\"embedding\":[1,2]}],\"model\":\"m\",\"usage\":{\"prompt_tokens\":8,"
      "\"total_tokens\":8}}";
  static const char dup[] =
      "{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":"
      "[2]}]}";
  const char *in[] = {"a", "b"};
  rill_embed_request req = RILL_EMBED_REQUEST_INIT;
  rill_embeddings *e = NULL;
  rill__decoder *d;
  rill__request r;
  char err[128];
  (void)state;
  assert_int_equal(rill__embed_decoder_new(1, 2, &e, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, body, sizeof body - 1, 0, 0), RILL_OK);
  d->ops->destroy(d);
  assert_non_null(e);
  assert_int_equal(e->dims, 2);
  assert_true(e->data[0] == 1 && e->data[1] == 2 && e->data[2] == 3 &&
              e->data[3] == 4);
  assert_int_equal(e->input_tokens, 8);
  rill_embeddings_free(e);
  e = NULL;
  assert_int_equal(rill__embed_decoder_new(1, 2, &e, err, sizeof err, &d),
                   RILL_OK);
  assert_int_equal(feed(d, FEED_WHOLE, dup, sizeof dup - 1, 0, 0),
                   RILL_E_PROTOCOL);
  d->ops->destroy(d);
  assert_null(e);
  assert_string_equal(err, "embeddings: two vectors with the same index");
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  req.endpoint.base_url = "http://h/v1";
  req.model = "text-embedding-3-small";
  req.inputs = in;
  req.n_inputs = 2;
  req.dimensions = 64;
  req.truncate = 1; /* Ollama only: not sent */
  rill__request_init(&r, NULL);
  assert_int_equal(rill__openai_embed_build(&req, NULL, &r), RILL_OK);
  assert_string_equal(r.url.data, "http://h/v1/embeddings");
  assert_string_equal(r.body.data,
                      "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\","
                      "\"b\"],\"dimensions\":64,\"encoding_format\":\"float\"}");
  rill__request_release(&r);
}

static void test_public_checks(void **state) {
  rill_chat_request req = RILL_CHAT_REQUEST_INIT;
  rill_chat_callbacks cb;
  rill_stream *s = (rill_stream *)&req;
  (void)state;
  memset(&cb, 0, sizeof cb);
  /* Argument checks happen before the client is touched. */
  assert_int_equal(rill_chat_start(NULL, &req, NULL, &s), RILL_E_INVALID);
  assert_null(s);
  req.endpoint.provider = (rill_provider)77;
  assert_int_equal(rill_chat_start((rill_client *)&cb, &req, NULL, NULL),
                   RILL_E_INVALID);
  req.endpoint.provider = RILL_PROVIDER_OPENAI;
  assert_int_equal(rill_chat_start((rill_client *)&cb, &req, &cb, NULL),
                   RILL_E_INVALID); /* cb->size 0 */
  req.size = 8;
  assert_int_equal(rill_chat_start((rill_client *)&cb, &req, NULL, NULL),
                   RILL_E_INVALID);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_text),
      cmocka_unit_test(test_tools_parallel),
      cmocka_unit_test(test_tools_lmstudio),
      cmocka_unit_test(test_tools_noindex),
      cmocka_unit_test(test_reasoning_crlf),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_whole),
      cmocka_unit_test(test_odd_streams),
      cmocka_unit_test(test_too_many_calls),
      cmocka_unit_test(test_alloc_failures),
      cmocka_unit_test(test_http_error_message),
      cmocka_unit_test(test_body),
      cmocka_unit_test(test_body_lmstudio),
      cmocka_unit_test(test_models),
      cmocka_unit_test(test_embed),
      cmocka_unit_test(test_public_checks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
