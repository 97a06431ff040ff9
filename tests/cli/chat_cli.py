#!/usr/bin/env python3
"""End-to-end checks of `rill chat`, `rill models` and `rill pull` against
rill-mock: exact text in text mode and --json mode, thinking, tool calls,
provider errors, truncated streams, keys kept out of output and sent only
as headers.

    chat_cli.py RILL_BINARY RILL_MOCK_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile
import time

RILL, MOCK = sys.argv[1], sys.argv[2]
KEY = "sk-test-MARKER-4f1d9c0b7e2a"
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def ndjson(*objs):
    return "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objs)


def sse(*objs):
    out = ""
    for o in objs:
        out += "data: " + (o if isinstance(o, str) else json.dumps(o, separators=(",", ":"))) + "\n\n"
    return out


def ol(content="", **kw):
    msg = {"role": "assistant", "content": content}
    msg.update(kw.pop("msg", {}))
    d = {"model": "llama3.2", "created_at": "2025-09-14T10:21:07Z", "message": msg, "done": False}
    d.update(kw)
    return d


OL_DONE = ol(done=True, done_reason="stop", total_duration=1843562917, prompt_eval_count=31,
             eval_count=4, eval_duration=1712334000)

OLLAMA_THINK = ndjson(ol(msg={"thinking": "17 \u00d7 20"}), ol(msg={"thinking": " = 340"}),
                      ol("The answer"), ol(" is 340."), OL_DONE)
OLLAMA_TOOL = ndjson(
    ol(msg={"tool_calls": [{"id": "call_k3x9p2ab", "function": {"index": 0, "name": "get_weather",
                                                                  "arguments": {"city": "Tokyo", "unit": "c"}}}]}),
    ol(done=True, done_reason="stop", prompt_eval_count=20, eval_count=9))
OLLAMA_ERROR_IN_STREAM = ndjson(ol("Hel")) + '{"error":"model runner crashed"}\n'
OLLAMA_TRUNCATED = ndjson(ol("Hello"), ol(" wor"))


def oa(delta=None, finish=None, **kw):
    d = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    d.update(kw)
    return d


OA_USAGE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini",
            "choices": [], "usage": {"prompt_tokens": 19, "completion_tokens": 24, "total_tokens": 43,
                                     "completion_tokens_details": {"reasoning_tokens": 5}}}
OPENAI_TOOLS = sse(
    oa({"role": "assistant", "content": None}),
    oa({"tool_calls": [{"index": 0, "id": "call_A", "type": "function",
                        "function": {"name": "get_weather", "arguments": ""}}]}),
    oa({"tool_calls": [{"index": 0, "function": {"arguments": "{\"loc"}}]}),
    oa({"tool_calls": [{"index": 0, "function": {"arguments": "ation\": \"Paris\"}"}}]}),
    oa({"tool_calls": [{"index": 1, "id": "call_B", "type": "function",
                        "function": {"name": "get_time", "arguments": "{}"}}]}),
    oa({}, "tool_calls"), OA_USAGE, "[DONE]")
OPENAI_REASONING = sse(oa({"role": "assistant", "content": ""}), oa({"reasoning_content": "Let me think."}),
                       oa({"content": "Paris"}), oa({"content": "."}), oa({}, "stop"), OA_USAGE, "[DONE]")
OPENAI_NO_DONE = sse(oa({"content": "Hi"}))
OPENAI_ERROR_IN_STREAM = sse(oa({"content": "Hi"}), {"error": {"message": "upstream overloaded",
                                                               "type": "server_error", "code": None}})

routes = [
    ("POST", "/think/api/chat", {"content_type": "application/x-ndjson", "body": OLLAMA_THINK,
                                 "split": {"mode": "bytes"}}),
    ("POST", "/tool/api/chat", {"content_type": "application/x-ndjson", "body": OLLAMA_TOOL}),
    ("POST", "/errstream/api/chat", {"content_type": "application/x-ndjson", "body": OLLAMA_ERROR_IN_STREAM}),
    ("POST", "/trunc/api/chat", {"content_type": "application/x-ndjson", "body": OLLAMA_TRUNCATED}),
    ("POST", "/http500/api/chat", {"status": 500, "content_type": "application/json",
                                   "body": "{\"error\":\"model 'm' not found, try pulling it first\"}"}),
    ("POST", "/gen/api/chat", {"generate": {"kind": "ollama_chat", "bytes": 20000},
                               "split": {"mode": "random", "n": 50, "seed": 9}}),
    ("POST", "/gen/v1/chat/completions", {"generate": {"kind": "openai_chat", "bytes": 20000},
                                          "split": {"mode": "random", "n": 50, "seed": 9}}),
    ("POST", "/tools/v1/chat/completions", {"content_type": "text/event-stream", "body": OPENAI_TOOLS,
                                            "split": {"mode": "bytes"}}),
    ("POST", "/reason/v1/chat/completions", {"content_type": "text/event-stream", "body": OPENAI_REASONING}),
    ("POST", "/nodone/v1/chat/completions", {"content_type": "text/event-stream", "body": OPENAI_NO_DONE}),
    ("POST", "/errstream/v1/chat/completions", {"content_type": "text/event-stream",
                                                "body": OPENAI_ERROR_IN_STREAM}),
    ("POST", "/auth/v1/chat/completions", {"status": 401, "content_type": "application/json",
                                           "body": json.dumps({"error": {"message": "Incorrect API key provided: " + KEY,
                                                                         "type": "invalid_request_error",
                                                                         "code": "invalid_api_key"}})}),
    ("GET", "/api/tags", {"content_type": "application/json", "body": json.dumps({"models": [
        {"name": "llama3.2:latest", "model": "llama3.2:latest", "modified_at": "2025-01-01T00:00:00Z",
         "size": 2019393189, "digest": "a80c4f17acd5",
         "details": {"family": "llama", "parameter_size": "3.2B", "quantization_level": "Q4_K_M"}},
        {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest", "size": 274302450,
         "digest": "0a109f422b47", "details": {"family": "nomic-bert"}}]})}),
    ("GET", "/v1/models", {"content_type": "application/json", "body": json.dumps({"object": "list", "data": [
        {"id": "qwen2.5-7b-instruct", "object": "model", "owned_by": "organization_owner"}]})}),
    ("POST", "/api/pull", {"content_type": "application/x-ndjson", "body": ndjson(
        {"status": "pulling manifest"},
        {"status": "pulling a80c4f17acd5", "digest": "sha256:a80c4f17acd5", "total": 1000, "completed": 0},
        {"status": "pulling a80c4f17acd5", "digest": "sha256:a80c4f17acd5", "total": 1000, "completed": 1000},
        {"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"})}),
]
# Gemini and Anthropic: the recorded fixtures of the unit tests, over HTTP.
FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "data", "providers")


def fixture(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return f.read()


def sse_datas(text):
    return [json.loads(l[5:]) for l in text.splitlines() if l.startswith("data:") and l[5:].strip() != "[DONE]"]


GEMINI_TEXT = fixture("gemini_text.sse")
ANTHROPIC_TEXT = fixture("anthropic_text.sse")
GEMINI_EXPECT = "".join(p["text"] for d in sse_datas(GEMINI_TEXT) for c in d.get("candidates", [])
                        for p in c.get("content", {}).get("parts", []) if "text" in p and not p.get("thought"))
ANTHROPIC_EXPECT = "".join(d["delta"]["text"] for d in sse_datas(ANTHROPIC_TEXT)
                           if d.get("type") == "content_block_delta" and d["delta"].get("type") == "text_delta")
routes += [
    ("POST", "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
     {"content_type": "text/event-stream", "body": GEMINI_TEXT, "split": {"mode": "random", "n": 9, "seed": 2}}),
    ("POST", "/v1/messages", {"content_type": "text/event-stream", "body": ANTHROPIC_TEXT,
                              "split": {"mode": "bytes"}}),
]
scenario = {"routes": [{"method": m, "path": p, "responses": [r]} for m, p, r in routes]}

tmp = tempfile.mkdtemp(prefix="rill-chat-cli-")
with open(os.path.join(tmp, "scenario.json"), "w") as f:
    json.dump(scenario, f)
out_path = os.path.join(tmp, "mock.out")
mock = subprocess.Popen([MOCK, "--port", "0", os.path.join(tmp, "scenario.json")],
                        stdout=open(out_path, "w"), stderr=subprocess.DEVNULL)
try:
    port = None
    for _ in range(1000):
        with open(out_path) as f:
            line = f.readline()
        if line.endswith("\n"):
            port = json.loads(line)["port"]
            break
        time.sleep(0.01)
    if port is None:
        print("FAIL: rill-mock did not start", file=sys.stderr)
        sys.exit(1)
    base = "http://127.0.0.1:%d" % port
    # The comma locale must exist, or every check below would run in "C"
    # and prove nothing about locale-free numbers (RELIABILITY G15).
    locales = subprocess.run(["locale", "-a"], capture_output=True).stdout.decode().lower()
    check("de_de.utf8" in locales or "de_de.utf-8" in locales, "locale de_DE.UTF-8 exists")

    def rill(*args, env_extra=None):
        env = dict(os.environ)
        env.pop("OPENAI_API_KEY", None)
        env.pop("OLLAMA_HOST", None)
        env["LC_ALL"] = "de_DE.UTF-8"
        if env_extra:
            env.update(env_extra)
        p = subprocess.run([RILL] + list(args), capture_output=True, env=env, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def events(out):
        return [json.loads(l) for l in out.splitlines() if l.strip()]

    def expected_words(n):
        words = ["The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog. "]
        return "".join(words[i % 9] for i in range(n))

    # Generated streams, random splits: text mode prints exactly the text.
    for prov, prefix in (("ollama", "/gen"), ("openai", "/gen/v1")):
        rc, out, err = rill("chat", "--provider", prov, "--url", base + prefix, "--model", "m", "hi")
        check(rc == 0, "%s text mode exit %d (%s)" % (prov, rc, err.strip()))
        rcj, outj, errj = rill("chat", "--json", "--provider", prov, "--url", base + prefix, "--model", "m",
                               "--temperature", "0.7", "hi")
        evs = events(outj)
        done = [e for e in evs if e["type"] == "done"]
        check(rcj == 0 and len(done) == 1, "%s --json: one done event" % prov)
        if done:
            n = done[0]["usage"]["output_tokens"]
            text = "".join(e["text"] for e in evs if e["type"] == "text")
            check(text == expected_words(n), "%s --json text is exact (%d words)" % (prov, n))
            check(out.rstrip("\n") == expected_words(n), "%s text mode stdout is exact" % prov)
            check(done[0]["finish_reason"] == "stop", "%s finish stop" % prov)
            check(done[0]["timing"]["ttft_ms"] is not None and done[0]["timing"]["total_ms"] > 0,
                  "%s timing present" % prov)
        check(err.startswith("[stop"), "%s stats line on stderr: %r" % (prov, err[:60]))

    # The request the mock received, with a key from the environment.
    reqs = json.loads(subprocess.run(["curl", "-s", base + "/__mock/requests"],
                                     capture_output=True).stdout or "[]")
    oa_req = [r for r in reqs if r["path"] == "/gen/v1/chat/completions"]
    if oa_req:
        body = json.loads(oa_req[-1]["body"])
        check(body.get("stream") is True and body.get("model") == "m", "openai request stream/model")
        check(body.get("temperature") == 0.7, "temperature 0.7 under a comma locale: %r" % body.get("temperature"))
        check(body["messages"][-1] == {"role": "user", "content": "hi"}, "openai user message")
    ol_req = [r for r in reqs if r["path"] == "/gen/api/chat"]
    if ol_req:
        body = json.loads(ol_req[-1]["body"])
        check(body.get("model") == "m" and body["messages"][-1]["content"] == "hi", "ollama request body")

    rc, out, err = rill("chat", "--json", "--provider", "openai", "--url", base + "/gen/v1", "--model", "m", "hi",
                        env_extra={"OPENAI_API_KEY": KEY})
    reqs = json.loads(subprocess.run(["curl", "-s", base + "/__mock/requests"], capture_output=True).stdout)
    last = reqs[-1]
    check(last["headers"].get("authorization") == "Bearer " + KEY, "key sent as a bearer header")
    check(KEY not in last["path"] + last.get("query", "") + last["body"], "key not in URL or body")
    check(KEY not in out + err, "key not in CLI output")

    # A 401 whose body echoes the key: the error is reported, the key masked.
    rc, out, err = rill("chat", "--json", "--provider", "openai", "--url", base + "/auth/v1", "--model", "m", "hi",
                        env_extra={"OPENAI_API_KEY": KEY})
    evs = events(out)
    check(rc == 1 and evs and evs[-1]["type"] == "error" and evs[-1]["http_status"] == 401,
          "401 reported as an error event")
    check(evs and evs[-1].get("code") == "E_AUTH", "401 is E_AUTH: %r" % (evs[-1] if evs else None))
    check(KEY not in out + err, "key masked in the 401 message")
    check(evs and "Incorrect API key" in evs[-1]["message"], "provider's own message kept")

    # A key over plain http:// to a host that is not loopback (TEST-NET-1,
    # never reached): refused before connecting, unless the flag says so;
    # then the connection is tried (and fails: nothing listens there).
    far = ["chat", "--json", "--provider", "openai", "--url", "http://192.0.2.1:9/v1", "--model", "m",
           "--connect-timeout", "300", "--retries", "0", "hi"]
    rc, out, err = rill(*far, env_extra={"OPENAI_API_KEY": KEY})
    evs = events(out)
    check(rc == 1 and evs and evs[-1].get("code") == "E_INVALID" and "plain http://" in evs[-1]["message"],
          "key over plain http to 192.0.2.1 refused: %r" % (evs[-1] if evs else err))
    rc, out, err = rill(*(far[:1] + ["--allow-insecure-credentials"] + far[1:]), env_extra={"OPENAI_API_KEY": KEY})
    evs = events(out)
    check(rc == 1 and evs and evs[-1].get("code") in ("E_CONNECT", "E_TIMEOUT"),
          "--allow-insecure-credentials tries to connect: %r" % (evs[-1] if evs else err))
    check(KEY not in out + err, "key not in the refusal or the connect error")

    # Thinking (Ollama, 1-byte writes) and reasoning (OpenAI).
    rc, out, err = rill("chat", "--json", "--think", "--provider", "ollama", "--url", base + "/think", "--model",
                        "m", "q")
    evs = events(out)
    check("".join(e["text"] for e in evs if e["type"] == "thinking") == "17 \u00d7 20 = 340", "ollama thinking")
    check("".join(e["text"] for e in evs if e["type"] == "text") == "The answer is 340.", "ollama text")
    rc, out, err = rill("chat", "--provider", "ollama", "--url", base + "/think", "--model", "m", "q")
    check(out == "The answer is 340.\n", "text mode leaves thinking out when not a terminal: %r" % out)
    rc, out, err = rill("chat", "--json", "--provider", "openai", "--url", base + "/reason/v1", "--model", "m", "q")
    evs = events(out)
    check("".join(e["text"] for e in evs if e["type"] == "thinking") == "Let me think.", "openai reasoning")
    done = [e for e in evs if e["type"] == "done"]
    check(done and done[0]["usage"] == {"input_tokens": 19, "output_tokens": 24, "thinking_tokens": 5},
          "openai usage: %r" % (done[0]["usage"] if done else None))

    # Tool calls: OpenAI fragments (1-byte writes) assembled; Ollama whole calls.
    tools_path = os.path.join(tmp, "tools.json")
    with open(tools_path, "w") as f:
        json.dump([{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                                     "parameters": {"type": "object", "properties": {
                                                         "location": {"type": "string"}}}}}], f)
    rc, out, err = rill("chat", "--json", "--tools", tools_path, "--provider", "openai", "--url",
                        base + "/tools/v1", "--model", "m", "weather?")
    evs = events(out)
    calls = [e for e in evs if e["type"] == "tool_call"]
    check(len(calls) == 2, "two openai tool calls: %r" % calls)
    if len(calls) == 2:
        check(calls[0]["name"] == "get_weather" and calls[0]["id"] == "call_A" and
              json.loads(calls[0]["arguments"]) == {"location": "Paris"}, "first call assembled")
        check(calls[1]["name"] == "get_time" and calls[1]["arguments"] == "{}", "second call")
    done = [e for e in evs if e["type"] == "done"]
    check(done and done[0]["finish_reason"] == "tool_calls", "finish tool_calls")
    reqs = json.loads(subprocess.run(["curl", "-s", base + "/__mock/requests"], capture_output=True).stdout)
    body = json.loads(reqs[-1]["body"])
    check(body.get("tools", [{}])[0].get("function", {}).get("name") == "get_weather", "tools sent")
    rc, out, err = rill("chat", "--json", "--provider", "ollama", "--url", base + "/tool", "--model", "m", "w")
    calls = [e for e in events(out) if e["type"] == "tool_call"]
    check(len(calls) == 1 and calls[0]["name"] == "get_weather" and
          json.loads(calls[0]["arguments"]) == {"city": "Tokyo", "unit": "c"}, "ollama tool call: %r" % calls)

    # Errors never vanish.
    for prov, url, what in (("ollama", "/errstream", "error line in a 200 stream"),
                            ("ollama", "/trunc", "stream without done"),
                            ("openai", "/nodone/v1", "stream without [DONE]"),
                            ("openai", "/errstream/v1", "error event in a 200 stream"),
                            ("ollama", "/http500", "HTTP 500")):
        rc, out, err = rill("chat", "--json", "--retries", "0", "--provider", prov, "--url", base + url, "--model",
                            "m", "x")
        evs = events(out)
        check(rc == 1 and evs and evs[-1]["type"] == "error", "%s: exit 1 and an error event" % what)
    rc, out, err = rill("chat", "--retries", "0", "--provider", "ollama", "--url", base + "/http500", "--model",
                        "m", "x")
    check("not found, try pulling" in err, "provider message on stderr: %r" % err)

    # Models and pull.
    rc, out, err = rill("models", "--provider", "ollama", "--url", base)
    check(rc == 0 and out.split() == ["llama3.2:latest", "nomic-embed-text:latest"], "ollama models: %r" % out)
    rc, out, err = rill("models", "--json", "--provider", "ollama", "--url", base)
    ms = events(out)
    check(ms and ms[0].get("quantization") == "Q4_K_M" and ms[0].get("size") == 2019393189, "models --json")
    rc, out, err = rill("models", "--provider", "lmstudio", "--url", base + "/v1")
    check(rc == 0 and out.split() == ["qwen2.5-7b-instruct"], "openai models: %r" % out)
    rc, out, err = rill("pull", "--json", "--url", base, "llama3.2")
    ps = events(out)
    check(rc == 0 and ps and ps[-1]["status"] == "success" and any(p.get("completed") == 1000 for p in ps),
          "pull progress: %r" % ps[-2:])

    # Gemini and Anthropic through the command, keys from the environment.
    GKEY, AKEY = "AIzaSy-test-MARKER-0123456789", "sk-ant-test-MARKER-0123456789"
    rc, out, err = rill("chat", "--json", "--provider", "gemini", "--url", base + "/v1beta", "--model",
                        "gemini-2.0-flash", "hi", env_extra={"GEMINI_API_KEY": GKEY})
    evs = events(out)
    check(rc == 0 and "".join(e["text"] for e in evs if e["type"] == "text") == GEMINI_EXPECT,
          "gemini text exact: %r" % out[:200])
    reqs = json.loads(subprocess.run(["curl", "-s", base + "/__mock/requests"], capture_output=True).stdout)
    check(reqs[-1]["headers"].get("x-goog-api-key") == GKEY and GKEY not in reqs[-1]["path"] + reqs[-1]["query"],
          "gemini key in x-goog-api-key only")
    check(GKEY not in out + err, "gemini key not in output")
    rc, out, err = rill("chat", "--provider", "anthropic", "--url", base + "/v1", "--model", "claude", "hi",
                        env_extra={"ANTHROPIC_API_KEY": AKEY})
    check(rc == 0 and out == ANTHROPIC_EXPECT + "\n", "anthropic text exact: %r" % out)
    reqs = json.loads(subprocess.run(["curl", "-s", base + "/__mock/requests"], capture_output=True).stdout)
    check(reqs[-1]["headers"].get("x-api-key") == AKEY and "anthropic-version" in reqs[-1]["headers"],
          "anthropic key and version headers")
    check(AKEY not in out + err, "anthropic key not in output")

    # Usage errors.
    for args in (["chat"], ["chat", "--provider", "nope", "--model", "m", "x"], ["chat", "--provider", "ollama", "x"],
                 ["chat", "--provider", "ollama", "--model", "m", "--temperature", "warm", "x"]):
        rc, out, err = rill(*args)
        check(rc == 2, "usage error exit 2 for %r (got %d)" % (args, rc))
finally:
    mock.terminate()
    mock.wait(timeout=10)

print("chat_cli: %d checks, %d failures" % (checks, len(failures)))
sys.exit(1 if failures else 0)
