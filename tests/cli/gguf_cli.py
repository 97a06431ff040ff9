#!/usr/bin/env python3
"""End-to-end checks of `rill gguf` on files written by gguf_gen: the human
and --json listings (fields, counts, totals recomputed here from the tensor
shapes, long arrays summarised), --verify against an Ollama manifest, a
sha256-<hex> file name and nothing, malformed files and manifests, missing
files and names, usage errors, and --json output that is byte-identical
under a comma-decimal locale.

    gguf_cli.py RILL_BINARY GGUF_GEN_BINARY
"""
import hashlib
import json
import locale
import os
import re
import shutil
import subprocess
import sys
import tempfile

RILL, GEN = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
failures = []
checks = 0

# ggml block geometry: elements and bytes per block.
BLOCK = {"F32": (1, 4), "F16": (1, 2), "BF16": (1, 2), "Q4_0": (32, 18),
         "Q8_0": (32, 34), "Q4_K": (256, 144), "Q6_K": (256, 210)}


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args, env_extra=None, lc="C.UTF-8"):
    env = dict(os.environ)
    env.pop("OLLAMA_MODELS", None)
    env["LC_ALL"] = lc
    if env_extra:
        env.update(env_extra)
    p = subprocess.run([RILL, "gguf"] + list(args), capture_output=True, env=env, timeout=300)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.stdout


def gen(*args):
    p = subprocess.run([GEN] + list(args), capture_output=True, timeout=300)
    if p.returncode != 0:
        print(p.stderr.decode(), file=sys.stderr)
        sys.exit("gguf_gen failed: %s" % (args,))
    return p.stdout.decode()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def one_json(out, what):
    lines = out.splitlines()
    check(len(lines) == 1, "%s: one line of JSON (got %d)" % (what, len(lines)))
    try:
        return json.loads(lines[0])
    except (ValueError, IndexError) as e:
        check(False, "%s: JSON parses (%s)" % (what, e))
        return {}


def check_tensors(doc, what):
    """Recompute bytes, alignment and totals from the shapes."""
    align = doc.get("alignment", 32)
    params = nbytes = 0
    by_type = {}
    prev_end = 0
    for t in doc.get("tensors", []):
        be, bb = BLOCK[t["type"]]
        n = 1
        for d in t["ne"]:
            n *= d
        want = n // be * bb
        check(t["bytes"] == want, "%s: %s bytes %d, expected %d" % (what, t["name"], t["bytes"], want))
        check(t["offset"] % align == 0, "%s: %s offset aligned" % (what, t["name"]))
        check(t["offset"] >= prev_end, "%s: %s does not overlap the previous tensor" % (what, t["name"]))
        prev_end = t["offset"] + t["bytes"]
        params += n
        nbytes += t["bytes"]
        e = by_type.setdefault(t["type"], {"tensors": 0, "bytes": 0})
        e["tensors"] += 1
        e["bytes"] += t["bytes"]
    tot = doc.get("totals", {})
    check(tot.get("tensors") == len(doc.get("tensors", [])), what + ": totals.tensors")
    check(tot.get("parameters") == params, what + ": totals.parameters %s != %d" % (tot.get("parameters"), params))
    check(tot.get("bytes") == nbytes, what + ": totals.bytes")
    check(tot.get("by_type") == by_type, what + ": totals.by_type %s != %s" % (tot.get("by_type"), by_type))
    check(doc.get("data_offset", 0) + prev_end <= doc.get("file_bytes", 0), what + ": tensors inside the file")


def main():
    # The command calls setlocale(LC_ALL, ""): the locale must exist for
    # the byte-identity check to mean anything.
    try:
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
        have_de = locale.localeconv()["decimal_point"] == ","
        locale.setlocale(locale.LC_ALL, "C")
    except locale.Error:
        have_de = False
    check(have_de, "de_DE.UTF-8 locale present (scripts/setup-debian.sh --test generates it)")

    tmp = tempfile.mkdtemp(prefix="rill-gguf-cli-")
    try:
        small = os.path.join(tmp, "small.gguf")
        nomic = os.path.join(tmp, "nomic.gguf")
        out = gen("small", small)
        check(str(os.path.getsize(small)) in out, "gguf_gen prints the file size")
        gen("nomic", nomic, "--type", "Q4_K_M", "--seed", "3")

        # ---- small, --json ------------------------------------------------
        rc, out, err, raw = run(small, "--json")
        check(rc == 0, "small --json exits 0 (%d: %s)" % (rc, err))
        d = one_json(out, "small --json")
        check(d.get("file") == small, "file field")
        check(d.get("version") == 3, "version 3")
        check(d.get("alignment") == 64, "alignment from general.alignment")
        check(d.get("architecture") == "test-small", "architecture")
        check(d.get("file_bytes") == os.path.getsize(small), "file_bytes")
        m = d.get("metadata", {})
        check(len(m) == 25, "small has 25 keys (%d)" % len(m))
        want = {"test.u8": 200, "test.i8": -100, "test.u16": 65535, "test.i16": -32768,
                "test.u32": 4000000000, "test.i32": -2000000000, "test.f32": 0.1,
                "test.bool": True, "test.u64": 18446744073709551615,
                "test.i64": -9223372036854775808, "test.f64": 2.5e-300, "test.epsilon": 1e-12,
                "test.unicode": "na\u00efve \u20ac 100", "test.control": "tab\there\x1b[31mred",
                "test.empty": "", "test.arr_u8": [1, 2, 255], "test.arr_i32": [-1, 0, 1, 2147483647],
                "test.arr_f32": [0.5, -1.25, 1e-12],
                "test.arr_str_short": ["tok%d" % i for i in range(16)],
                "test.arr_str_long": {"array": "string", "count": 20,
                                      "first": ["tok%d" % i for i in range(8)]}}
        for k, v in want.items():
            check(m.get(k) == v, "metadata %s = %r (got %r)" % (k, v, m.get(k)))
        # Shortest float text: the f32 0.1 is written as 0.1, not 0.100000001.
        check('"test.f32":0.1,' in out, "f32 printed shortest")
        check('"test.epsilon":1e-12,' in out, "f32 1e-12 printed shortest")
        check(len(m.get("test.arr_u64", [])) == 2 and len(m.get("test.arr_bool", [])) == 3,
              "u64 and bool arrays listed")
        ts = d.get("tensors", [])
        check([t["name"] for t in ts] == ["embd.weight", "norm.bias", "half.weight", "brain.weight",
                                         "q8.weight", "q4.weight", "q4k.weight", "q6k.weight"],
              "small tensor names in file order")
        check(ts and ts[0]["ne"] == [8, 4] and ts[3]["ne"] == [8, 2, 2], "ne lists n_dims dims")
        check_tensors(d, "small")

        # ---- small, human -------------------------------------------------
        rc, out, err, _ = run(small)
        check(rc == 0, "small human exits 0")
        for s in ["architecture  test-small", "version       3", "alignment     64",
                  "metadata: 25 keys", "tensors: 8", "totals", "test.epsilon", "1e-12",
                  "string[20]", "Q4_K", "256 x 2", "q6k.weight"]:
            check(s in out, "human output has %r" % s)
        check("\x1b" not in out, "no raw escape byte reaches the terminal")
        check("\\u001b[31m" in out, "control bytes shown escaped")
        check('"tok7"] ...' in out, "long array cut after its first elements")

        # ---- nomic-shaped file ----------------------------------------------
        rc, out, err, _ = run(nomic, "--json")
        check(rc == 0, "nomic --json exits 0 (%s)" % err)
        d = one_json(out, "nomic --json")
        m = d.get("metadata", {})
        check(len(m) == 24, "nomic has the 24 keys (%d)" % len(m))
        check(d.get("architecture") == "nomic-bert", "nomic architecture")
        check(m.get("nomic-bert.embedding_length") == 768 and m.get("nomic-bert.block_count") == 12,
              "nomic shape keys")
        check(m.get("nomic-bert.attention.layer_norm_epsilon") == 1e-12, "epsilon")
        check(m.get("nomic-bert.attention.causal") is False, "causal false")
        check(m.get("general.file_type") == 15, "Q4_K_M file type")
        tok = m.get("tokenizer.ggml.tokens", {})
        check(tok.get("array") == "string" and tok.get("count") == 30522, "tokens summarised with count")
        check(tok.get("first", [None])[0] == "[PAD]" and len(tok.get("first", [])) == 8, "tokens first 8")
        tt = m.get("tokenizer.ggml.token_type", {})
        check(tt.get("array") == "i32" and tt.get("count") == 30522 and tt.get("first", [0])[0] == 3,
              "token_type summarised")
        check(m.get("tokenizer.ggml.scores", {}).get("array") == "f32", "scores summarised")
        check(len(d.get("tensors", [])) == 112, "112 tensors")
        bt = d.get("totals", {}).get("by_type", {})
        check({k: v["tensors"] for k, v in bt.items()} == {"F32": 51, "Q4_K": 48, "Q6_K": 13},
              "Q4_K_M mix 51 F32 / 48 Q4_K / 13 Q6_K (%s)" % bt)
        check(d.get("totals", {}).get("parameters") == 136727040, "nomic parameter count")
        check_tensors(d, "nomic")
        rc, out, err, _ = run(nomic)
        check(rc == 0 and "tokenizer.ggml.tokens" in out and "string[30522]" in out, "nomic human")
        check(len(out.splitlines()) < 200, "nomic human output stays short")

        # ---- locale: byte-identical --json, no comma decimals ---------------
        if have_de:
            for f in (small, nomic):
                rc1, _, _, b1 = run(f, "--json", lc="C")
                rc2, _, _, b2 = run(f, "--json", lc="de_DE.UTF-8")
                check(rc1 == 0 and rc2 == 0 and b1 == b2, "--json identical under de_DE for " + f)
            rc, out, _, _ = run(small, lc="de_DE.UTF-8")
            check(re.search(r"test\.f32 +f32 +0\.1\n", out) and re.search(r"test\.f64 +f64 +2\.5e-300\n", out)
                  and "[0.5,-1.25,1e-12]" in out, "human floats locale-free")

        # ---- --verify -------------------------------------------------------
        digest = sha256(small)
        # Plain file: nothing to compare.
        rc, out, err, _ = run(small, "--verify", "--json")
        d = one_json(out, "plain --verify")
        check(rc == 0 and d.get("sha256") == digest and d.get("verified") is None,
              "plain file: hash printed, verified null")
        rc, out, err, _ = run(small, "--verify")
        check(rc == 0 and digest in out and "nothing to compare" in out, "plain human verify")
        rc, out, err, _ = run(small, "--json")
        check("sha256" not in json.loads(out), "no sha256 without --verify")

        # A file named by its hash, intact and corrupted.
        named = os.path.join(tmp, "sha256-" + digest)
        shutil.copy(small, named)
        rc, out, err, _ = run(named, "--verify", "--json")
        d = one_json(out, "named --verify")
        check(rc == 0 and d.get("verified") == "filename" and d.get("sha256") == digest,
              "sha256-named file verified against its name (%d %s)" % (rc, err))
        rc, out, err, _ = run(named, "--verify")
        check(rc == 0 and "matches the file name" in out, "named human verify")
        bad_dir = os.path.join(tmp, "corrupt")
        os.mkdir(bad_dir)
        corrupt = os.path.join(bad_dir, "sha256-" + digest)
        data = bytearray(open(small, "rb").read())
        data[-1] ^= 0xFF  # tensor data: the file still parses
        open(corrupt, "wb").write(data)
        rc, out, err, _ = run(corrupt, "--verify")
        check(rc == 3, "corrupted named file: exit 3 (%d)" % rc)
        check("mismatch" in err and digest in err and hashlib.sha256(data).hexdigest() in err,
              "mismatch message names both digests: " + err)
        check(out == "", "nothing on stdout after a mismatch")
        rc, out, err, _ = run(corrupt)
        check(rc == 0, "without --verify the corrupted data is not noticed")
        # An upper-case hex file name works too.
        upper = os.path.join(tmp, "sha256-" + digest.upper())
        shutil.copy(small, upper)
        rc, out, err, _ = run(upper, "--verify", "--json")
        check(rc == 0 and json.loads(out or "{}").get("sha256") == digest, "upper-case hex name")

        # An Ollama store.
        store = os.path.join(tmp, "models")
        mdir = os.path.join(store, "manifests", "registry.ollama.ai", "library", "tiny")
        os.makedirs(mdir)
        os.makedirs(os.path.join(store, "blobs"))
        blob = os.path.join(store, "blobs", "sha256-" + digest)
        shutil.copy(small, blob)

        def manifest(tag, dig):
            with open(os.path.join(mdir, tag), "w") as f:
                json.dump({"schemaVersion": 2,
                           "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                                      "digest": "sha256:" + "0" * 64, "size": 1},
                           "layers": [{"mediaType": "application/vnd.ollama.image.model",
                                       "digest": dig, "size": os.path.getsize(small)}]}, f)
        manifest("latest", "sha256:" + digest)
        rc, out, err, _ = run("tiny", "--models-dir", store, "--verify", "--json")
        d = one_json(out, "store --verify")
        check(rc == 0, "store model verifies (%d %s)" % (rc, err))
        check(d.get("verified") == "manifest" and d.get("sha256") == digest, "verified against the manifest")
        check(d.get("model") == "tiny" and d.get("digest") == "sha256:" + digest and d.get("file") == blob,
              "store fields model, digest, file")
        rc, out, err, _ = run("library/tiny:latest", "--verify", env_extra={"OLLAMA_MODELS": store})
        check(rc == 0 and "matches the manifest" in out, "OLLAMA_MODELS honoured, human verify")
        # The manifest promises another digest than the blob has.
        other = hashlib.sha256(b"other").hexdigest()
        shutil.copy(small, os.path.join(store, "blobs", "sha256-" + other))
        manifest("wrong", "sha256:" + other)
        rc, out, err, _ = run("tiny:wrong", "--models-dir", store, "--verify")
        check(rc == 3 and "mismatch" in err and other in err and digest in err,
              "store blob mismatch: exit 3 (%d %s)" % (rc, err))
        rc, out, err, _ = run("tiny:wrong", "--models-dir", store)
        check(rc == 0, "without --verify the store blob opens")
        # Malformed manifests: exit 3.
        with open(os.path.join(mdir, "broken"), "w") as f:
            f.write("{not json")
        rc, out, err, _ = run("tiny:broken", "--models-dir", store)
        check(rc == 3 and "not valid JSON" in err, "malformed manifest: exit 3 (%d %s)" % (rc, err))
        manifest("baddigest", "sha256:" + digest.upper())
        rc, out, err, _ = run("tiny:baddigest", "--models-dir", store)
        check(rc == 3 and "digest" in err, "bad manifest digest: exit 3")
        # A manifest whose blob is missing: I/O error, exit 1.
        manifest("noblob", "sha256:" + "1" * 64)
        rc, out, err, _ = run("tiny:noblob", "--models-dir", store)
        check(rc == 1 and err, "missing blob: exit 1 (%d)" % rc)

        # ---- malformed files: exit 3 with the reason and its offset ---------
        good = open(small, "rb").read()
        cases = {"truncated": good[:100], "badmagic": b"GGUX" + good[4:],
                 "version9": good[:4] + b"\x09\x00\x00\x00" + good[8:], "text": b"hello, world\n" * 10,
                 "empty": b""}
        for name, blob_bytes in cases.items():
            p = os.path.join(tmp, name + ".gguf")
            open(p, "wb").write(blob_bytes)
            rc, out, err, _ = run(p, "--json")
            check(rc == 3, "%s: exit 3 (%d: %s)" % (name, rc, err))
            check(err.startswith("rill gguf: ") and p in err and out == "",
                  "%s: message on stderr only: %r" % (name, err))
        rc, out, err, _ = run(os.path.join(tmp, "truncated.gguf"))
        check("at byte" in err, "malformed: the offset is printed: " + err)

        # ---- not found: exit 1 ------------------------------------------------
        empty_store = os.path.join(tmp, "empty-store")
        os.mkdir(empty_store)
        for arg in [os.path.join(tmp, "missing.gguf"), "../escape", "/etc/../nonexistent"]:
            rc, out, err, _ = run(arg, "--models-dir", empty_store)
            check(rc == 1 and "no such file" in err, "%s: exit 1, no such file (%d %s)" % (arg, rc, err))
        rc, out, err, _ = run("no-such-model", "--models-dir", empty_store)
        check(rc == 1 and "no manifest" in err, "unknown model: exit 1 (%d %s)" % (rc, err))
        rc, out, err, _ = run("tiny:nolayer", "--models-dir", store)
        check(rc == 1, "missing tag: exit 1")

        # ---- usage: exit 2 ----------------------------------------------------
        for args in [[], ["--json"], ["--bogus", small], [small, small], [small, "--models-dir"],
                     ["-x"]]:
            rc, out, err, _ = run(*args)
            check(rc == 2 and "usage" in err, "usage %s: exit 2 (%d)" % (args, rc))
        rc, out, err, _ = run("--help")
        check(rc == 0 and "usage" in out, "--help exits 0")
        # "--" ends the options: a file called like an option.
        dash = os.path.join(tmp, "-dash.gguf")
        shutil.copy(small, dash)
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            rc, out, err, _ = run("--json", "--", "-dash.gguf")
        finally:
            os.chdir(cwd)
        check(rc == 0 and json.loads(out or "{}").get("file") == "-dash.gguf", "-- ends the options")
        rc = subprocess.run([RILL, "help"], capture_output=True).stdout.decode()
        check("gguf FILE|OLLAMA-NAME" in rc, "rill help lists gguf")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d passed, %d failed" % (checks - len(failures), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
