#!/usr/bin/env bash
# Local embedding throughput, open time and peak RSS: llama.cpp (through
# node-llama-cpp's prebuilt CPU binary) and rill on the same full-size
# synthetic nomic-embed-text-v1.5 files, same threads, same run.
#
#   tests/bench/bench_embed.sh GGUF_GEN PEERS_DIR [RILL]
#
# GGUF_GEN  the gguf_gen binary (BUILD/tests/gguf_gen; a Release build
#           writes the 0.5 GB F16 file faster).
# PEERS_DIR a directory whose node_modules holds node-llama-cpp
#           (npm install node-llama-cpp@3.22.1, outside the repository).
# RILL      the rill binary (optional; also $RILL). Without it, or while
#           `rill embed` does not exist, only llama.cpp's figures print.
#
# Environment: TYPES (default "Q4_K_M Q8_0 F16"), THREADS ("1 2"),
# REPEAT (3), DIR (/tmp/rill-bench-embed: models and texts, kept between
# runs; not in the repository), N128 / N512 (texts per batch, 32 / 8:
# 4096 tokens either way).
#
# Method: each model file is generated once (gguf_gen nomic --type T
# --seed 1) and read once before timing (warm page cache). Texts are
# English-like, exactly 128 or 512 tokens each as llama.cpp tokenizes them
# ([CLS] and [SEP] included). llama.cpp: context and batch 1024, flash
# attention off (as in the correctness references), one text per
# evaluation (node-llama-cpp's getEmbeddingFor), one warm-up text, then
# REPEAT passes over the batch; tokens/s = tokens / wall time of a pass
# (median and spread printed). Open time = loadModel + createEmbeddingContext;
# in brackets the part after node-llama-cpp's own JS work (its GGUF header
# read and memory estimate), from llama.cpp's log timestamps.
# Peak RSS: /usr/bin/time -v's maximum resident set of the whole process
# (node's own ~50 MB included for llama.cpp; see rss_mib.before_load in
# the raw JSON lines for node's baseline). Figures go to stdout as
# Markdown; the raw JSON lines to $DIR/results-*.jsonl.
set -euo pipefail
gen=$(realpath "$1")
peers=$(realpath "$2")
rill=${3:-${RILL:-}}
here=$(cd "$(dirname "$0")" && pwd)
TYPES=${TYPES:-"Q4_K_M Q8_0 F16"}
THREADS=${THREADS:-"1 2"}
REPEAT=${REPEAT:-3}
N128=${N128:-32}
N512=${N512:-8}
DIR=${DIR:-/tmp/rill-bench-embed}
mkdir -p "$DIR"
stamp=$(date +%Y%m%d-%H%M%S)
raw="$DIR/results-$stamp.jsonl"
: >"$raw"

node_run() { (cd "$peers" && node "$here/embed_llama.mjs" "$@"); }

echo "# Local embeddings: llama.cpp vs rill ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores;" \
     "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---- models and texts -------------------------------------------------------
for t in $TYPES; do
  f="$DIR/nomic-$t.gguf"
  if [ ! -s "$f" ]; then
    "$gen" nomic "$f" --type "$t" --seed 1 >/dev/null
  fi
  cat "$f" >/dev/null # warm the page cache
done
first=$(set -- $TYPES; echo "$1")
for n in 128 512; do
  k=$N128; [ "$n" = 512 ] && k=$N512
  [ -s "$DIR/texts-$n.jsonl" ] ||
    node_run texts --model "$DIR/nomic-$first.gguf" --tokens "$n" --count "$k" --out "$DIR/texts-$n.jsonl"
done

# ---- rill: is `rill embed` there? -------------------------------------------
rill_ok=0
if [ -n "$rill" ] && [ -x "$rill" ] && "$rill" embed --help >/dev/null 2>&1; then
  rill_ok=1
fi

# One measured run under /usr/bin/time -v: prints the command's stdout,
# appends "peak_rss_kib N" to $DIR/time.out's last line.
timed() {
  /usr/bin/time -v -o "$DIR/time.out" "$@"
}
peak_kib() { awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}' "$DIR/time.out"; }

echo "| engine | file | threads | text tokens | tokens/s (median) | spread | open ms (llama.cpp part) | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|"
for t in $TYPES; do
  f="$DIR/nomic-$t.gguf"
  for th in $THREADS; do
    for n in 128 512; do
      texts="$DIR/texts-$n.jsonl"
      # -- llama.cpp --
      line=$(cd "$peers" && timed node "$here/embed_llama.mjs" run --model "$f" --texts "$texts" \
               --threads "$th" --repeat "$REPEAT")
      peak=$(peak_kib)
      echo "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["peak_rss_kib_time"]=int(sys.argv[1]); d["engine"]="llama.cpp"; d["text_tokens"]=int(sys.argv[2]); print(json.dumps(d))' "$peak" "$n" >>"$raw"
      echo "$line" | python3 -c '
import json,sys
d=json.loads(sys.stdin.read()); r=d["tokens_per_s"]; o=d["open_ms"]
print("| llama.cpp | %s | %d | %s | %.0f | %.0f-%.0f | %.0f (%s) | %.0f |" % (
  d["model"], d["threads"], sys.argv[2], d["median_tokens_per_s"], min(r), max(r),
  o["load_model"] + o["create_context"],
  "?" if o.get("llama_load_approx") is None else "%.0f" % (o["llama_load_approx"] + o["create_context"]),
  int(sys.argv[1]) / 1024))' "$peak" "$n"
      # -- rill --------------------------------------------------------------
      # HOOK: rill's side. `rill embed --model FILE --threads T` reads JSONL
      # ({"text": ...}) on stdin and writes one JSON line per input (issue
      # 6, "The command"). Adjust the flags here if the command's final
      # interface differs; the figures are computed the same way: tokens of
      # the batch / wall time of one pass, peak RSS from /usr/bin/time.
      if [ "$rill_ok" = 1 ]; then
        best=""
        for _ in $(seq 1 "$REPEAT"); do
          s=$(date +%s.%N)
          timed "$rill" embed --model "$f" --threads "$th" <"$texts" >/dev/null 2>"$DIR/rill.err"
          e=$(date +%s.%N)
          tok=$(( n * $(wc -l <"$texts") ))
          best="$best $(python3 -c "print($tok / ($e - $s))")"
        done
        peak=$(peak_kib)
        python3 -c '
import sys
r=sorted(float(x) for x in sys.argv[5].split())
print("| rill | %s | %s | %s | %.0f | %.0f-%.0f | (in the wall time) | %.0f |" % (
  sys.argv[1], sys.argv[2], sys.argv[3], r[len(r)//2], r[0], r[-1], int(sys.argv[4]) / 1024))' \
          "$(basename "$f")" "$th" "$n" "$peak" "$best"
        echo "{\"engine\":\"rill\",\"model\":\"$(basename "$f")\",\"threads\":$th,\"text_tokens\":$n,\"tokens_per_s\":[${best// /,}],\"peak_rss_kib_time\":$peak}" \
          | sed 's/\[,/[/' >>"$raw"
      fi
    done
  done
done
echo
if [ "$rill_ok" != 1 ]; then
  echo "rill: not measured (RILL unset, not executable, or \`rill embed\` not available yet)."
fi
echo "Load after: $(cut -d' ' -f1-3 /proc/loadavg). Raw results: $raw"
