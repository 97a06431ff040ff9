#!/usr/bin/env python3
"""Writes hostile-g8.json (RELIABILITY.md section 3.3, read by
tests/integration/test_hostile.c): python3 hostile-g8.py > hostile-g8.json.
Routes are /sNN-name/*, NN the scenario number; @PORT2@ is replaced by the
test with the port of a second mock that must never be reached."""
import json, base64, gzip
R=[]
def route(name, *resps):
    R.append({"path":"/%s/*"%name,"responses":list(resps)})
def oll(content, done=False, **extra):
    d={"model":"m","message":{"role":"assistant","content":content},"done":done}
    d.update(extra); return json.dumps(d,separators=(',',':'))
def oll_final(**kw):
    d={"model":"m","message":{"role":"assistant","content":""},"done":True,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}
    d.update(kw); return json.dumps(d,separators=(',',':'))
def oai(delta, finish=None, **extra):
    d={"id":"c","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":delta,"finish_reason":finish}]}
    d.update(extra); return "data: "+json.dumps(d,separators=(',',':'))+"\n\n"
OAI_END=oai({},"stop")+'data: {"id":"c","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\n'+"data: [DONE]\n\n"
NDJ="application/x-ndjson"; SSE="text/event-stream"
OK_OLL=oll("Hello")+"\n"+oll(" world")+"\n"+oll_final()+"\n"
OK_OAI=oai({"role":"assistant","content":""})+oai({"content":"Hello"})+oai({"content":" world"})+OAI_END
# 1 splits
route("s01-bytes",{"generate":{"kind":"ollama_chat","bytes":4096},"split":{"mode":"bytes"}})
route("s01-random",{"generate":{"kind":"openai_chat","bytes":8192},"split":{"mode":"random","n":7,"seed":9}})
route("s01-crlf",{"content_type":SSE,"body":OK_OAI.replace("\n","\r\n"),"split":{"mode":"bytes"},"delay_ms":1})
# 2 endless line / field
route("s02-line",{"content_type":NDJ,"body":"x"*64,"repeat":64000000})
route("s02-field",{"content_type":SSE,"prefix":"data: ","body":"x"*64,"repeat":64000000})
# 3 data lines without blank line
route("s03-data",{"content_type":SSE,"body":"data: {\"x\":1}\n","repeat":1000000000})
# 4 keep-alive forever
route("s04-comments",{"content_type":SSE,"body":": keep-alive\n\n","repeat":1000000000,"split":{"mode":"records"},"delay_ms":5})
route("s04-ollama-empty",{"content_type":NDJ,"body":oll("")+"\n","repeat":1000000000,"split":{"mode":"records"},"delay_ms":5})
# 5 drip / never answer
route("s05-drip",{"generate":{"kind":"ollama_chat","words":50},"split":{"mode":"bytes"},"delay_ms":20})
route("s05-silent",{"generate":{"kind":"ollama_chat","words":5},"first_byte_delay_ms":60000})
# 6 truncation
route("s06-close",{"generate":{"kind":"ollama_chat","bytes":65536},"fault":"close_mid_record"})
route("s06-reset",{"generate":{"kind":"openai_chat","bytes":65536},"fault":"reset_mid_record"})
route("s06-nodone-oll",{"generate":{"kind":"ollama_chat","bytes":8192},"fault":"no_done"})
route("s06-nodone-oai",{"generate":{"kind":"openai_chat","bytes":8192},"fault":"no_done"})
# 7 not a stream
route("s07-html",{"content_type":"text/html","body":"<html><body>502 Bad Gateway</body></html>"})
route("s07-text",{"content_type":NDJ,"body":"hello, this is not JSON\n"})
route("s07-oai-json",{"content_type":"application/json","body":"{\"ok\":true}"})
# 8 error bodies
route("s08-normal",{"status":400,"body":"{\"error\":{\"message\":\"model 'm' not found\",\"type\":\"invalid_request_error\"}}"})
route("s08-huge",{"status":500,"content_type":"text/plain","body":"E"*64,"repeat":163840})
route("s08-echo",{"status":401,"body":"{\"error\":{\"message\":\"Incorrect API key provided: sk-hostile-SECRET-0123456789abcdef\"}}"})
# 9 retry-after
for nm,v in [("big","1000000000"),("neg","-5"),("garbage","soon, maybe"),("date","Fri, 31 Dec 9999 23:59:59 GMT")]:
    route("s09-"+nm,{"status":429,"headers":{"Retry-After":v},"body":"{\"error\":\"slow down\"}"},
          {"content_type":NDJ,"body":OK_OLL})
route("s09-503",{"status":503,"headers":{"Retry-After":"1000000000"},"body":"{\"error\":\"busy\"}"},{"content_type":NDJ,"body":OK_OLL})
# 10 redirects (PORT2 filled in by the test)
for st in (301,302,307,308):
    route("s10-%d"%st,{"fault":"redirect","status":st,"redirect_to":"http://127.0.0.1:@PORT2@/target/api/chat"})
route("s10-host",{"fault":"redirect","status":307,"redirect_to":"http://localhost:@PORT2@/target/api/chat"})
route("s10-scheme",{"fault":"redirect","status":307,"redirect_to":"https://127.0.0.1:@PORT2@/target/api/chat"})
route("s10-file",{"fault":"redirect","status":302,"redirect_to":"file:///etc/passwd"})
route("s10-ftp",{"fault":"redirect","status":302,"redirect_to":"ftp://127.0.0.1:@PORT2@/x"})
route("s10-loop",{"fault":"redirect","status":302,"redirect_to":"/s10-loop/api/chat"})
# 11 gzip
gz=gzip.compress((OK_OLL+(oll("z"*100)+"\n")*1000).encode(),9,mtime=0)
route("s11-gzip",{"content_type":NDJ,"headers":{"Content-Encoding":"gzip"},"body_base64":base64.b64encode(gz).decode()})
# 12 bytes
route("s12-badutf8",{"content_type":NDJ,"body_base64":base64.b64encode(b'{"model":"m","message":{"role":"assistant","content":"A\xff\xfeB\xc0\xafC\xed\xa0\x80"},"done":false}\n'+(oll_final()+"\n").encode()).decode()})
route("s12-nul",{"content_type":NDJ,"body_base64":base64.b64encode(b'{"model":"m","message":{"role":"assistant","content":"a\x00b"},"done":false}\n'+(oll_final()+"\n").encode()).decode()})
route("s12-bom-oll",{"content_type":NDJ,"body_base64":base64.b64encode(b"\xef\xbb\xbf"+OK_OLL.encode()).decode()})
route("s12-bom-sse",{"content_type":SSE,"body_base64":base64.b64encode(b"\xef\xbb\xbf"+OK_OAI.encode()).decode()})
route("s12-cr-sse",{"content_type":SSE,"body":OK_OAI.replace("\n","\r"),"split":{"mode":"random","n":5}})
route("s12-mixed",{"content_type":NDJ,"body":oll("Hello")+"\r\n"+oll(" world")+"\n"+oll_final()+"\r\n","split":{"mode":"bytes"}})
route("s12-cr-oll",{"content_type":NDJ,"body":OK_OLL.replace("\n","\r")})
# 13 JSON hostility
route("s13-deep",{"content_type":NDJ,"body":"[","repeat":100000,"suffix":"\n"+OK_OLL})
route("s13-tokens",{"content_type":NDJ,"prefix":'{"model":"m","pad":[',"body":"1,","repeat":200000,"suffix":'1],"message":{"role":"assistant","content":"x"},"done":false}\n'+oll_final()+"\n"})
route("s13-u0000",{"content_type":NDJ,"body":oll("a\u0000b")+"\n"+oll_final()+"\n"})
route("s13-surrogate",{"content_type":NDJ,"body":'{"model":"m","message":{"role":"assistant","content":"a\\ud800b\\udc00c"},"done":false}\n'+oll_final()+"\n"})
route("s13-numbers",{"content_type":NDJ,"body":OK_OLL.replace('"prompt_eval_count":3,"eval_count":2','"prompt_eval_count":1e999999,"eval_count":-0,"total_duration":'+"9"*400)})
route("s13-usage-neg",{"content_type":NDJ,"body":OK_OLL.replace('"prompt_eval_count":3,"eval_count":2','"prompt_eval_count":-7,"eval_count":18446744073709551617')})
route("s13-usage-oai",{"content_type":SSE,"body":OK_OAI.replace('"prompt_tokens":3,"completion_tokens":2','"prompt_tokens":-1,"completion_tokens":9223372036854775808')})
# 14 shapes
route("s14-number",{"content_type":NDJ,"body":'{"model":"m","message":{"role":"assistant","content":42},"done":false}\n'+oll_final()+"\n"})
route("s14-dup",{"content_type":NDJ,"body":'{"model":"m","message":{"role":"assistant","content":"first","content":"second"},"done":false}\n'+oll_final()+"\n"})
route("s14-nochoices",{"content_type":SSE,"body":'data: {"id":"c","object":"chat.completion.chunk"}\n\n'+OK_OAI})
route("s14-oai-number",{"content_type":SSE,"body":oai({"content":42})+OAI_END})
route("s14-candidates",{"content_type":SSE,"body":'data: {"candidates":[]}\n\n'+'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}\n\n'})
# 15 tool calls
def tc(idx, id=None, name=None, args=""):
    f={"arguments":args}
    if name: f["name"]=name
    c={"index":idx,"function":f}
    if id: c["id"]=id; c["type"]="function"
    return oai({"tool_calls":[c]})
TC_END=oai({},"tool_calls")+"data: [DONE]\n\n"
route("s15-bigindex",{"content_type":SSE,"body":tc(1000000000,"call_a","f","{}")+TC_END})
route("s15-interleaved",{"content_type":SSE,"body":tc(0,"call_a","f","{\\\"a\\\":")[:0]+tc(0,"call_a","f",'{"a":')+tc(1,"call_b","g",'{"b":')+tc(0,None,None,'1}')+tc(1,None,None,'2}')+TC_END})
route("s15-unclosed",{"content_type":SSE,"body":tc(0,"call_a","f",'{"a":[1,2')+TC_END})
route("s15-many",{"content_type":SSE,"body":"".join(tc(i,"call_%d"%i,"f","{}") for i in range(129))+TC_END})
route("s15-atcap",{"content_type":SSE,"body":"".join(tc(i,"call_%d"%i,"f","{}") for i in range(128))+TC_END})
# 16 SSE fields
route("s16-retry",{"content_type":SSE,"body":"retry: "+"9"*30+"\n\n"+OK_OAI})
route("s16-idnul",{"content_type":SSE,"body_base64":base64.b64encode(b"id: a\x00b\n"+OK_OAI.encode()).decode()})
route("s16-unknown",{"content_type":SSE,"body":"event: surprise\ndata: {\"x\":1}\n\n"+OK_OAI})
route("s16-error",{"content_type":SSE,"body":oai({"content":"Hello"})+"event: error\ndata: {\"error\":{\"message\":\"overloaded mid-stream\",\"type\":\"server_error\"}}\n\n"+OAI_END})
route("s16-ant-error",{"content_type":SSE,"body":'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\nevent: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}\n\nevent: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'})
# 17 after the end
route("s17-oai",{"content_type":SSE,"body":OK_OAI+"data: {\"choices\":[{\"delta\":{\"content\":\"LATE\"}}]}\n\ngarbage \xff\n\n"})
route("s17-oll",{"content_type":NDJ,"body":OK_OLL+oll("LATE")+"\n{not json\n"})
# 18 framing
route("s18-chunked",{"generate":{"kind":"ollama_chat","bytes":8192},"fault":"bad_chunked"})
route("s18-short",{"content_type":NDJ,"headers":{"Content-Length":str(len(OK_OLL)-20)},"body":OK_OLL})
route("s18-long",{"content_type":NDJ,"headers":{"Content-Length":str(len(OK_OLL)+100)},"body":oll("Hello")+"\n"})
route("s18-long-after-done",{"content_type":NDJ,"headers":{"Content-Length":str(len(OK_OLL)+100)},"body":OK_OLL})
route("s18-http10",{"generate":{"kind":"ollama_chat","words":20},"http10":True})
# ---- G7 limits (tests/integration/test_limits.c): exact sizes ----
def padded_line(n, content="x"):
    """An Ollama content line of exactly n bytes (newline excluded)."""
    base = '{"model":"m","message":{"role":"assistant","content":"%s"},"done":false,"pad":""}' % content
    pad = n - len(base)
    assert pad >= 0
    return base[:-2] + "y" * pad + '"}'
rec = padded_line(4096) + "\n" + oll_final() + "\n"
route("lim-record-oll", {"content_type": NDJ, "body": rec})
ev = json.dumps({"id":"c","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":None}],"pad":""},separators=(',',':'))
ev = ev[:-2] + "y" * (4090 - len(ev)) + '"}'
assert len("data: " + ev) == 4096  # the framer counts the whole line
route("lim-record-sse", {"content_type": SSE, "body": "data: " + ev + "\n\n" + OAI_END})
# 1000 tokens: 13 + k with k array elements
tok = '{"model":"m","message":{"role":"assistant","content":"x"},"done":false,"pad":[' + ",".join(["1"] * 987) + ']}'
route("lim-tokens", {"content_type": NDJ, "body": tok + "\n" + oll_final() + "\n"})
# depth: the root object is level 1, so 127 nested arrays make 128
d128 = '{"model":"m","message":{"role":"assistant","content":"x"},"done":false,"pad":' + "[" * 127 + "]" * 127 + '}'
d129 = '{"model":"m","message":{"role":"assistant","content":"x"},"done":false,"pad":' + "[" * 128 + "]" * 128 + '}'
route("lim-depth128", {"content_type": NDJ, "body": d128 + "\n" + oll_final() + "\n"})
route("lim-depth129", {"content_type": NDJ, "body": d129 + "\n" + oll_final() + "\n"})
# a 2xx body of exactly 1000 bytes
first = padded_line(1000 - 2 - len(oll_final()))
body1000 = first + "\n" + oll_final() + "\n"
assert len(body1000) == 1000
route("lim-response", {"content_type": NDJ, "body": body1000, "split": {"mode": "fixed", "n": 100}})
route("lim-errbody", {"status": 500, "content_type": "text/plain", "body": "E" * 299 + "Z"})
route("lim-retry-after", {"status": 429, "headers": {"Retry-After": "1"}, "body": "{\"error\":\"wait\"}"}, {"content_type": NDJ, "body": OK_OLL})
route("lim-retries", {"status": 503, "body": "{\"error\":\"busy\"}"}, {"status": 503, "body": "{\"error\":\"busy\"}"}, {"content_type": NDJ, "body": OK_OLL})
route("lim-slow-headers", {"content_type": NDJ, "body": OK_OLL, "first_byte_delay_ms": 3000})
# two tool calls with 7-byte arguments, per provider (caps 2 / 1 and 7 / 6)
route("lim-tools-oll", {"content_type": NDJ, "body": '{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}},{"function":{"name":"g","arguments":{"b":2}}}]},"done":false}\n' + oll_final() + "\n"})
route("lim-tools-gem", {"content_type": SSE, "body": 'data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"a":1}}},{"functionCall":{"name":"g","args":{"b":2}}}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":2}}\n\n'})
def ant_ev(t, d): return "event: %s\ndata: %s\n\n" % (t, json.dumps(d, separators=(',', ':')))
ant = ant_ev("message_start", {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":None,"usage":{"input_tokens":3,"output_tokens":1}}})
for i, (nm, a) in enumerate([("f", '{"a":'), ("g", '{"b":')]):
    ant += ant_ev("content_block_start", {"type":"content_block_start","index":i,"content_block":{"type":"tool_use","id":"toolu_%d" % i,"name":nm,"input":{}}})
    ant += ant_ev("content_block_delta", {"type":"content_block_delta","index":i,"delta":{"type":"input_json_delta","partial_json":a}})
    ant += ant_ev("content_block_delta", {"type":"content_block_delta","index":i,"delta":{"type":"input_json_delta","partial_json":str(i + 1) + "}"}})
    ant += ant_ev("content_block_stop", {"type":"content_block_stop","index":i})
ant += ant_ev("message_delta", {"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":9}})
ant += ant_ev("message_stop", {"type":"message_stop"})
route("lim-tools-ant", {"content_type": SSE, "body": ant})
# an embeddings answer of 39 bytes (test_limits.c has the same text)
route("lim-embed", {"body": '{"model":"m","embeddings":[[0.5,0.25]]}'})
route("target",{"content_type":NDJ,"body":OK_OLL})
print(json.dumps({"routes":R},indent=1))
