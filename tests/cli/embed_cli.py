#!/usr/bin/env python3
"""End-to-end checks of `rill embed` and `rill tokenize` on a tiny nomic-bert
model written by gguf_gen (the one whose llama.cpp token ids and vectors are
committed in tests/unit/data/embed), and of `rill embed --provider` against
rill-mock:

- token ids identical to llama.cpp's, and vectors within 1e-4 of its;
- JSONL, plain lines, --format, --field, a BOM and CRLF line ends;
- one output line per input line, index = line number - 1, width, L2 norm
  (and not with --no-normalize), --dims (Matryoshka), --prefix and --task;
- the same vectors whatever --batch and --threads;
- malformed lines with --on-error fail (exit 3, the line named, the lines
  before it written) and skip (named, the others written), --max-line,
  --refuse-long;
- memory independent of the number of lines (peak RSS, 100 vs 20,000);
- exit codes 0/1/2/3, output byte-identical under a comma-decimal locale;
- remote vectors exactly as served, requests batched, the task prefix sent.

    embed_cli.py RILL_BINARY GGUF_GEN_BINARY RILL_MOCK_BINARY
"""
import hashlib
import json
import locale
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

RILL, GEN, MOCK = (os.path.abspath(a) for a in sys.argv[1:4])
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "unit", "data", "embed")
failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def env_for(lc, extra=None):
    env = dict(os.environ)
    for k in ("OLLAMA_MODELS", "OLLAMA_HOST", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        env.pop(k, None)
    env["LC_ALL"] = lc
    if extra:
        env.update(extra)
    return env


def run(args, stdin=b"", lc="C.UTF-8", env_extra=None):
    if isinstance(stdin, str):
        stdin = stdin.encode("utf-8")
    p = subprocess.run([RILL] + list(args), input=stdin, capture_output=True,
                       env=env_for(lc, env_extra), timeout=600)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.stdout


def rows(out, what):
    res = []
    for line in out.splitlines():
        try:
            res.append(json.loads(line))
        except ValueError as e:
            check(False, "%s: output line is JSON (%s): %r" % (what, e, line[:80]))
    return res


def norm(v):
    return math.sqrt(sum(x * x for x in v))


def maxdiff(a, b):
    if len(a) != len(b):
        return float("inf")
    return max((abs(x - y) for x, y in zip(a, b)), default=0.0)


def jl(*texts, field="text"):
    return "".join(json.dumps({field: t}) + "\n" for t in texts)


def peak_rss_kib(args, stdin_path):
    """Peak RSS of one child, from wait4 (getrusage(RUSAGE_CHILDREN) would
    give the largest child so far, not this one)."""
    env = env_for("C.UTF-8")
    # Under ASan, freed blocks wait in a quarantine of up to 256 MiB before
    # reuse, so RSS would grow with the work done, not with what is held.
    asan = env.get("ASAN_OPTIONS", "")
    env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
    with open(stdin_path, "rb") as f:
        p = subprocess.Popen([RILL] + args, stdin=f, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, ru.ru_maxrss


def main():
    try:
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
        have_de = locale.localeconv()["decimal_point"] == ","
        locale.setlocale(locale.LC_ALL, "C")
    except locale.Error:
        have_de = False
    check(have_de, "de_DE.UTF-8 locale present (scripts/setup-debian.sh --test generates it)")

    ref = json.load(open(os.path.join(DATA, "tiny-e64-f32.json"), encoding="utf-8"))
    cases = json.load(open(os.path.join(DATA, ref["texts"]), encoding="utf-8"))["cases"]
    tmp = tempfile.mkdtemp(prefix="rill-embed-cli-")
    try:
        model = os.path.join(tmp, "tiny.gguf")
        args = [model if a == "OUT" else a for a in ref["gguf_gen"]]
        p = subprocess.run([GEN] + args, capture_output=True, timeout=300)
        if p.returncode != 0:
            sys.exit("gguf_gen failed: %s" % p.stderr.decode())
        with open(model, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        check(digest == ref["gguf_sha256"], "gguf_gen writes the model the references were made from")
        M = ["--model", model]

        # ---- rill tokenize: llama.cpp's ids ----------------------------------
        for c in cases:
            rc, out, err, _ = run(["tokenize"] + M + [c["text"]])
            ids = json.loads(out) if rc == 0 else None
            check(rc == 0 and ids == c["tokens"], "tokenize %s: %s != llama.cpp %s (%s)"
                  % (c["name"], ids, c["tokens"], err.strip()))
            check(ids is not None and ids[0] == 101 and ids[-1] == 102, "tokenize %s: [CLS] ... [SEP]" % c["name"])
        long_case = next(c for c in cases if c["name"] == "long")
        rc, out, err, _ = run(["tokenize"] + M + ["-"], stdin=long_case["text"])
        check(rc == 0 and json.loads(out) == long_case["tokens"], "tokenize - reads stdin")
        rc, out, err, _ = run(["tokenize", "--no-special"] + M + ["Hello", "world"])
        check(rc == 0 and json.loads(out) == cases[0]["tokens"][1:-1], "tokenize --no-special, words joined")
        prefixed = next(c for c in cases if c["name"] == "prefix")
        q = prefixed["text"][len("search_query: "):]
        rc, out, err, _ = run(["tokenize", "--task", "query"] + M + [q])
        check(rc == 0 and json.loads(out) == prefixed["tokens"], "tokenize --task query adds the prefix")
        for bad in (["tokenize"] + M, ["tokenize", "x"], ["tokenize", "--bogus"] + M + ["x"]):
            rc, _, _, _ = run(bad)
            check(rc == 2, "usage error exit 2 for %r (got %d)" % (bad, rc))
        rc, _, err, _ = run(["tokenize", "--model", os.path.join(tmp, "nope.gguf"), "x"])
        check(rc == 1, "tokenize: missing model exit 1 (got %d)" % rc)

        # ---- rill embed: llama.cpp's vectors -------------------------------
        texts = [c["text"] for c in cases]
        rc, out, err, _ = run(["embed", "--no-normalize"] + M, jl(*texts))
        got = rows(out, "no-normalize")
        check(rc == 0 and len(got) == len(cases), "embed all cases: exit %d, %d lines (%s)" % (rc, len(got), err))
        for i, (r, c, v) in enumerate(zip(got, cases, ref["vectors"])):
            check(r.get("index") == i, "index %d in order" % i)
            d = maxdiff(r["embedding"], v)
            check(d <= 1e-4, "%s: max |rill - llama.cpp| %.3g <= 1e-4" % (c["name"], d))
        check(any(abs(norm(r["embedding"]) - 1) > 0.01 for r in got), "--no-normalize: not unit vectors")
        check(err.startswith("rill embed: %d texts" % len(cases)), "stats line on stderr: %r" % err[:80])

        rc, out, err, plain = run(["embed"] + M, jl(*texts))
        unit = rows(out, "default")
        check(rc == 0 and len(unit) == len(cases), "normalised run: all lines")
        for r, v, c in zip(unit, ref["vectors"], cases):
            check(len(r["embedding"]) == 64, "%s: 64 dims" % c["name"])
            check(abs(norm(r["embedding"]) - 1) < 1e-5, "%s: L2 norm 1 (%.8f)" % (c["name"], norm(r["embedding"])))
            n = norm(v)
            check(maxdiff(r["embedding"], [x / n for x in v]) <= 1e-4, "%s: normalised llama.cpp vector" % c["name"])
        by_text = {t: r["embedding"] for t, r in zip(texts, unit)}

        # Under a comma-decimal locale: the same bytes.
        rc, _, _, de = run(["embed"] + M, jl(*texts), lc="de_DE.UTF-8")
        check(rc == 0 and de == plain, "output byte-identical under LC_ALL=de_DE.UTF-8")
        check(b"," in plain and b"0." in plain and not any(c == ord(";") for c in plain), "decimal points, not commas")

        # Batches and threads do not change a vector.
        many = [texts[i % len(texts)] + (" %d" % i) for i in range(23)]
        base = None
        for extra in (["--batch", "1"], ["--batch", "7"], ["--threads", "1"], ["--threads", "2", "--batch", "5"]):
            rc, out, err, _ = run(["embed", "--quiet"] + M + extra, jl(*many))
            vs = [r["embedding"] for r in rows(out, str(extra))]
            check(rc == 0 and len(vs) == len(many), "%s: %d vectors" % (extra, len(vs)))
            check(err == "", "--quiet: nothing on stderr (%r)" % err[:80])
            if base is None:
                base = vs
            else:
                d = max((maxdiff(a, b) for a, b in zip(base, vs)), default=0.0)
                check(d <= 1e-6, "%s: same vectors as --batch 1 (max diff %.3g)" % (extra, d))

        # Plain lines, auto detection, --format, --field, BOM, CRLF.
        short, sentence = texts[0], texts[1]
        mixed = "\ufeff" + short + "\r\n" + json.dumps({"text": sentence}) + "\n  \t" + json.dumps({"text": short}) + "\n"
        rc, out, err, _ = run(["embed"] + M, mixed)
        r = rows(out, "mixed")
        check(rc == 0 and [x["index"] for x in r] == [0, 1, 2], "auto: plain and JSON lines (%s)" % err.strip())
        if len(r) == 3:
            check(maxdiff(r[0]["embedding"], by_text[short]) <= 1e-6, "BOM and CR dropped from a plain line")
            check(maxdiff(r[1]["embedding"], by_text[sentence]) <= 1e-6, "a JSON line's text")
            check(maxdiff(r[2]["embedding"], by_text[short]) <= 1e-6, "blanks before '{' still JSON")
        line = json.dumps({"text": short})
        rc, out, _, _ = run(["embed", "--format", "lines"] + M, line + "\n")
        r = rows(out, "lines")
        check(rc == 0 and len(r) == 1 and maxdiff(r[0]["embedding"], by_text[short]) > 1e-3,
              "--format lines embeds the JSON text itself")
        rc, out, err, _ = run(["embed", "--format", "jsonl"] + M, line + "\n" + short + "\n")
        check(rc == 3 and "line 2" in err and len(rows(out, "jsonl")) == 1, "--format jsonl: a plain line is malformed")
        rc, out, err, _ = run(["embed", "--format", "jsonl"] + M, '["text"]\n')
        check(rc == 3 and "line 1: not a JSON object" in err, "--format jsonl: an array is malformed: %r" % err[:80])
        rc, out, err, _ = run(["embed", "--format", "jsonl"] + M, line + "\n\n")
        check(rc == 3 and "line 2" in err, "--format jsonl: an empty line is malformed")
        rc, out, err, _ = run(["embed"] + M, '["text"]\n')
        check(rc == 0 and len(rows(out, "array")) == 1, "auto: a line not starting with '{' is text")
        rc, out, err, _ = run(["embed", "--field", "body"] + M,
                              json.dumps({"text": "other", "body": short, "n": 1}) + "\n")
        r = rows(out, "field")
        check(rc == 0 and len(r) == 1 and maxdiff(r[0]["embedding"], by_text[short]) <= 1e-6, "--field body")
        rc, out, err, _ = run(["embed"] + M, "\n")
        r = rows(out, "empty line")
        check(rc == 0 and len(r) == 1 and maxdiff(r[0]["embedding"], by_text[""]) <= 1e-6,
              "an empty line is the empty text")
        rc, out, err, _ = run(["embed"] + M, short)
        check(rc == 0 and len(rows(out, "no LF")) == 1, "a last line without LF")

        # Matryoshka.
        rc, out, err, _ = run(["embed", "--dims", "16"] + M, jl(short, sentence))
        r = rows(out, "dims")
        check(rc == 0 and len(r) == 2 and all(len(x["embedding"]) == 16 for x in r), "--dims 16: 16 values")
        check(all(abs(norm(x["embedding"]) - 1) < 1e-5 for x in r), "--dims 16: norm 1")

        # Prefixes: --prefix P is P in the text; --task query is its prefix.
        rc, out, _, _ = run(["embed", "--prefix", "search_query: "] + M, jl(q))
        a = rows(out, "prefix")
        rc2, out, _, _ = run(["embed", "--task", "query"] + M, jl(q))
        b = rows(out, "task")
        check(rc == 0 and rc2 == 0 and len(a) == 1 and len(b) == 1, "--prefix and --task runs")
        if a and b:
            check(maxdiff(a[0]["embedding"], by_text[prefixed["text"]]) <= 1e-6, "--prefix P == P in the text")
            check(maxdiff(a[0]["embedding"], b[0]["embedding"]) == 0, "--task query == --prefix 'search_query: '")
            rc, out, _, _ = run(["embed"] + M, jl(q))
            check(maxdiff(a[0]["embedding"], rows(out, "noprefix")[0]["embedding"]) > 1e-3, "the prefix changes it")

        # Malformed lines.
        bad_lines = [
            ('{"text": "unterminated}', "not JSON"),
            ('{"txt": "x"}', '"text"'),
            ('{"text": 5}', "not a string"),
            ("a\0b", "NUL"),
            ('{"text": "a\\u0000b"}', "NUL"),
            ("x" * 300, "longer than 200 bytes"),
        ]
        for bad, why in bad_lines:
            inp = jl(short, sentence) + bad + "\n" + jl(texts[2], texts[3])
            rc, out, err, _ = run(["embed", "--max-line", "200", "--batch", "7"] + M, inp)
            r = rows(out, "fail")
            check(rc == 3, "fail: %r exits 3 (got %d)" % (bad[:20], rc))
            check("line 3" in err and why in err, "fail: message names line 3 and why: %r" % err.strip()[:120])
            check([x["index"] for x in r] == [0, 1], "fail: the lines before it written (%s)" % [x["index"] for x in r])
            rc, out, err, _ = run(["embed", "--on-error", "skip", "--max-line", "200"] + M, inp)
            r = rows(out, "skip")
            check(rc == 0 and [x["index"] for x in r] == [0, 1, 3, 4], "skip: indexes 0,1,3,4 (%s)" % [x["index"] for x in r])
            check("line 3" in err and "skipped" in err, "skip: stderr names line 3: %r" % err.strip()[:120])
            if len(r) == 4:
                check(maxdiff(r[3]["embedding"], by_text[texts[3]]) <= 1e-6, "skip: later lines unchanged")

        # Texts over the context: truncated by default, refused by option.
        long_text = long_case["text"]
        rc, out, err, _ = run(["embed", "--max-tokens", "16"] + M, jl(short, long_text, sentence))
        check(rc == 0 and len(rows(out, "trunc")) == 3, "--max-tokens 16: a long text is truncated")
        rc, out, err, _ = run(["embed", "--max-tokens", "16", "--refuse-long"] + M, jl(short, long_text, sentence))
        check(rc == 3 and "line 2" in err and [x["index"] for x in rows(out, "refuse")] == [0],
              "--refuse-long: exit 3 naming line 2 (%d, %r)" % (rc, err.strip()[:100]))
        rc, out, err, _ = run(["embed", "--max-tokens", "16", "--refuse-long", "--on-error", "skip"] + M,
                              jl(short, long_text, sentence))
        r = rows(out, "refuse skip")
        check(rc == 0 and [x["index"] for x in r] == [0, 2] and "line 2" in err, "--refuse-long skip")
        if len(r) == 2:
            check(maxdiff(r[1]["embedding"], by_text[sentence]) <= 1e-6, "--refuse-long skip: others unchanged")

        # Empty input, exit codes.
        rc, out, err, _ = run(["embed"] + M, "")
        check(rc == 0 and out == "", "empty input: no output, exit 0")
        rc, out, err, _ = run(["embed", "--model", os.path.join(tmp, "nope.gguf")], jl(short))
        check(rc == 1 and out == "", "missing model: exit 1 (got %d)" % rc)
        junk = os.path.join(tmp, "junk.gguf")
        with open(junk, "wb") as f:
            f.write(b"GGUF" + b"\xff" * 60)
        rc, out, err, _ = run(["embed", "--model", junk], jl(short))
        check(rc == 3, "malformed model file: exit 3 (got %d: %s)" % (rc, err.strip()))
        small = os.path.join(tmp, "small.gguf")
        subprocess.run([GEN, "small", small], capture_output=True, check=True)
        rc, out, err, _ = run(["embed", "--model", small], jl(short))
        check(rc == 3, "another architecture: exit 3 (got %d: %s)" % (rc, err.strip()))
        for bad in (["embed"], ["embed", "--dims"] + M, ["embed", "--dims", "0"] + M, ["embed", "--dims", "65"] + M,
                    ["embed", "--bogus"] + M, ["embed", "text"] + M, ["embed", "--prefix", "a", "--task", "query"] + M,
                    ["embed", "--task", "nope"] + M, ["embed", "--no-normalize", "--dims", "8"] + M,
                    ["embed", "--on-error", "maybe"] + M, ["embed", "--format", "csv"] + M,
                    ["embed", "--batch", "0"] + M, ["embed", "--url", "http://x"] + M,
                    ["embed", "--provider", "anthropic", "--model", "m"],
                    ["embed", "--provider", "ollama", "--model", "m", "--threads", "2"]):
            rc, out, err, _ = run(bad, jl(short))
            check(rc == 2 and out == "", "usage error exit 2 for %r (got %d)" % (bad[1:], rc))

        # Constant memory: peak RSS does not grow with the number of lines.
        words = "the quick brown fox jumps over the lazy dog and embeds it".split()
        paths = {}
        for n in (100, 20000):
            paths[n] = os.path.join(tmp, "in%d.jsonl" % n)
            with open(paths[n], "w") as f:
                for i in range(n):
                    f.write(json.dumps({"text": " ".join(words[(i + k) % len(words)] for k in range(1 + i % 4))}) + "\n")
        rss = {}
        for n in (100, 20000):
            rc, rss[n] = peak_rss_kib(["embed", "--quiet", "--batch", "32", "--threads", "1"] + M, paths[n])
            check(rc == 0, "%d lines: exit 0" % n)
        check(rss[20000] - rss[100] < 2048, "peak RSS %d KiB (20,000 lines) vs %d KiB (100): < 2 MiB apart"
              % (rss[20000], rss[100]))

        remote(tmp, short, sentence)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("embed_cli: %d checks, %d failures" % (checks, len(failures)))
    sys.exit(1 if failures else 0)


def remote(tmp, short, sentence):
    vecs = [[0.25, -0.5, 1e-3], [1, 2, 3], [0.125, 0.0, -7.5], [3.5e-8, 1, -1], [9, 8, 7]]
    def ol(*vs):
        return {"content_type": "application/json", "body": json.dumps({"model": "m", "embeddings": list(vs),
                                                                        "prompt_eval_count": 4 * len(vs)})}
    routes = [
        ("POST", "/api/embed", [ol(vecs[0], vecs[1]), ol(vecs[2], vecs[3]), ol(vecs[4])]),
        ("POST", "/v1/embeddings", [{"content_type": "application/json", "body": json.dumps({
            "object": "list", "model": "m", "usage": {"prompt_tokens": 3, "total_tokens": 3},
            "data": [{"object": "embedding", "index": 1, "embedding": vecs[1]},
                     {"object": "embedding", "index": 0, "embedding": vecs[0]}]})}]),
        ("POST", "/down/api/embed", [{"status": 500, "content_type": "application/json",
                                      "body": json.dumps({"error": "model 'm' not found"})}]),
        ("POST", "/short/api/embed", [ol(vecs[0])]),
        ("POST", "/v1beta/models/m:batchEmbedContents", [{"content_type": "application/json", "body": json.dumps({
            "embeddings": [{"values": vecs[3]}, {"values": vecs[4]}]})}]),
    ]
    scenario = {"routes": [{"method": m, "path": p, "responses": r} for m, p, r in routes]}
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
        check(port is not None, "rill-mock started")
        if port is None:
            return
        base = "http://127.0.0.1:%d" % port

        def requests():
            p = subprocess.run(["curl", "-s", base + "/__mock/requests"], capture_output=True)
            return json.loads(p.stdout or b"[]")

        inp = jl("a", "b", "c") + '{"nope": 1}\n' + jl("d", "e")
        rc, out, err, raw = run(["embed", "--provider", "ollama", "--url", base, "--model", "m", "--batch", "2",
                                 "--on-error", "skip", "--task", "query"], inp, lc="de_DE.UTF-8")
        r = rows(out, "remote")
        check(rc == 0, "remote: exit 0 (%s)" % err.strip())
        check([x["index"] for x in r] == [0, 1, 2, 4, 5], "remote: one line per input line: %s" % [x["index"] for x in r])
        check([x["embedding"] for x in r] == vecs, "remote: vectors exactly as served")
        check("line 4" in err, "remote: the malformed line named")
        check("rill embed: 5 texts, 20 tokens" in err, "remote: stats with the server's token counts: %r" % err)
        bodies = [json.loads(q["body"]) for q in requests() if q["path"] == "/api/embed"]
        check([b.get("input") for b in bodies] == [["search_query: a", "search_query: b"],
                                                    ["search_query: c", "search_query: d"], ["search_query: e"]],
              "remote: batches of 2 with the task prefix: %s" % [b.get("input") for b in bodies])
        check(all(b.get("model") == "m" for b in bodies), "remote: the model sent")

        rc, out, err, _ = run(["embed", "--provider", "openai", "--url", base + "/v1", "--model", "m", "--quiet"],
                              jl("x", "y"), env_extra={"OPENAI_API_KEY": "sk-test-embed-cli-0123456789"})
        r = rows(out, "openai")
        check(rc == 0 and [x["embedding"] for x in r] == vecs[:2], "openai: vectors in index order (%s)" % err.strip())
        q = [q for q in requests() if q["path"] == "/v1/embeddings"]
        check(q and q[-1]["headers"].get("authorization") == "Bearer sk-test-embed-cli-0123456789",
              "openai: key from OPENAI_API_KEY")

        rc, out, err, _ = run(["embed", "--provider", "gemini", "--url", base + "/v1beta", "--model", "m",
                               "--task", "document", "--dims", "3"], jl("x", "y"),
                              env_extra={"GEMINI_API_KEY": "gm-test-embed-cli-0123456789"})
        r = rows(out, "gemini")
        check(rc == 0 and [x["embedding"] for x in r] == vecs[3:5], "gemini: vectors as served (%s)" % err.strip())
        q = [q for q in requests() if q["path"].endswith(":batchEmbedContents")]
        check(len(q) == 1, "gemini: one batch request")
        if q:
            body = json.loads(q[-1]["body"])
            reqs = body.get("requests", [])
            check([x.get("content", {}).get("parts") for x in reqs] == [[{"text": "x"}], [{"text": "y"}]],
                  "gemini: texts without a prefix: %s" % body)
            check(all(x.get("taskType") == "RETRIEVAL_DOCUMENT" and x.get("outputDimensionality") == 3
                      for x in reqs), "gemini: --task document as taskType, --dims as outputDimensionality")
            check(q[-1]["headers"].get("x-goog-api-key") == "gm-test-embed-cli-0123456789",
                  "gemini: key from GEMINI_API_KEY")

        rc, out, err, _ = run(["embed", "--provider", "ollama", "--url", base + "/down", "--model", "m"], jl("x"))
        check(rc == 1 and out == "" and "not found" in err, "remote server error: exit 1 (%d, %r)" % (rc, err.strip()))
        rc, out, err, _ = run(["embed", "--provider", "ollama", "--url", base + "/short", "--model", "m"], jl("x", "y"))
        check(rc == 1 and out == "", "remote: wrong vector count is an error (%d)" % rc)
        rc, out, err, _ = run(["embed", "--provider", "ollama", "--url", "http://127.0.0.1:1", "--model", "m"],
                              jl("x"))
        check(rc == 1, "remote: no server, exit 1 (got %d)" % rc)
        rc, out, err, _ = run(["embed", "--provider", "ollama", "--url", base, "--model", "m"], "")
        check(rc == 0 and out == "", "remote: empty input")
    finally:
        mock.terminate()
        mock.wait(timeout=10)


if __name__ == "__main__":
    main()
