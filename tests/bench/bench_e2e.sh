#!/usr/bin/env bash
# End-to-end throughput, time to first delta and peak RSS over loopback:
# rill chat --json against raw curl and the official npm clients, all reading
# the same generated stream from the same rill-mock in the same run.
#
#   tests/bench/bench_e2e.sh BUILD_DIR [PEERS_DIR]
#
# PEERS_DIR (optional) holds node_modules with openai and ollama
# (npm install openai ollama, outside the repository). Figures go to stdout
# as Markdown; docs/PERFORMANCE.md keeps the last run.
set -euo pipefail
build=$1
peers=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'kill $mock_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
MIB=100
cat >"$tmp/scenario.json" <<JSON
{"routes":[
 {"method":"POST","path":"/api/chat","responses":[{"generate":{"kind":"ollama_chat","bytes":$((MIB<<20))},"split":{"mode":"fixed","n":16384}}]},
 {"method":"POST","path":"/v1/chat/completions","responses":[{"generate":{"kind":"openai_chat","bytes":$((MIB<<20))},"split":{"mode":"fixed","n":16384}}]},
 {"method":"POST","path":"/small/api/chat","responses":[{"generate":{"kind":"ollama_chat","bytes":1048576},"split":{"mode":"fixed","n":16384}}]},
 {"method":"POST","path":"/small/v1/chat/completions","responses":[{"generate":{"kind":"openai_chat","bytes":1048576},"split":{"mode":"fixed","n":16384}}]},
 {"method":"POST","path":"/big/api/chat","responses":[{"generate":{"kind":"ollama_chat","bytes":1073741824},"split":{"mode":"fixed","n":65536}}]},
 {"method":"POST","path":"/big/v1/chat/completions","responses":[{"generate":{"kind":"openai_chat","bytes":1073741824},"split":{"mode":"fixed","n":65536}}]},
 {"method":"POST","path":"/ttft/api/chat","responses":[{"generate":{"kind":"ollama_chat","bytes":4096},"split":{"mode":"records"}}]},
 {"method":"POST","path":"/ttft/v1/chat/completions","responses":[{"generate":{"kind":"openai_chat","bytes":4096},"split":{"mode":"records"}}]}
]}
JSON
"$build/bin/rill-mock" --port 0 "$tmp/scenario.json" >"$tmp/mock.out" &
mock_pid=$!
for _ in $(seq 1 500); do grep -q port "$tmp/mock.out" 2>/dev/null && break; sleep 0.02; done
port=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["port"])' "$tmp/mock.out")
base="http://127.0.0.1:$port"
RUNS=3

best_of() { sort -g | head -1; }

curl_run() { # path → "time_total time_starttransfer size"
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"model":"m"}' \
    -w '%{time_total} %{time_starttransfer} %{size_download}\n' "$base$1"
}

rill_run() { # provider prefix → "wall_s max_rss_kib ttft_ms"
  local prov=$1 url=$2
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$build/bin/rill" chat --json --provider "$prov" \
    --url "$url" --model m hi | tail -n 1 >"$tmp/last"
  python3 - "$tmp/time" "$tmp/last" <<'PY'
import json, sys
wall, rss = open(sys.argv[1]).read().split()[-2:]
d = json.loads(open(sys.argv[2]).read())
assert d["type"] == "done", d
print(wall, rss, d["timing"]["ttft_ms"], d["timing"]["total_ms"])
PY
}

echo "rill-mock on loopback, ${MIB} MiB generated chat stream written in 16 KiB pieces; best of $RUNS runs"
echo "(MB = 10^6 bytes). curl: \`curl -s -o /dev/null\` (no parsing); librill: rill_chat with a byte-counting"
echo "on_text (tests/bench/bench_client.c); rill chat --json: the command writing one JSON event per delta to /dev/null."
echo
echo "| format | client | MB/s | ratio to curl | first byte / first delta (ms) | peak RSS (KiB) |"
echo "|---|---|---:|---:|---:|---:|"
for fmt in ollama openai; do
  if [[ $fmt == ollama ]]; then path=/api/chat; prefix=""; else path=/v1/chat/completions; prefix=/v1; fi
  size=$(curl_run "$path" | awk '{print $3}')
  c_best=$(for i in $(seq $RUNS); do curl_run "$path" | awk '{print $1}'; done | best_of)
  c_ttfb=$(for i in $(seq $RUNS); do curl_run "/ttft$path" | awk '{print $2*1000}'; done | best_of)
  /usr/bin/time -f '%M' -o "$tmp/crss" curl -s -o /dev/null -X POST -d '{}' "$base$path"
  c_rss=$(tail -1 "$tmp/crss")
  r_best=$(for i in $(seq $RUNS); do rill_run "$fmt" "$base$prefix" | awk '{print $4/1000}'; done | best_of)
  r_rss=$(rill_run "$fmt" "$base$prefix" | awk '{print $2}')
  r_ttft=$(for i in $(seq $RUNS); do rill_run "$fmt" "$base/ttft$prefix" | awk '{print $3}'; done | best_of)
  lib=$("$build/bin/bench_client" "$fmt" "$base$prefix" $RUNS)
  lib_ttft=$("$build/bin/bench_client" "$fmt" "$base/ttft$prefix" $RUNS | awk '{print $4}')
  python3 - "$fmt" "$size" "$c_best" "$r_best" "$c_ttfb" "$r_ttft" "$c_rss" "$r_rss" "$lib" "$lib_ttft" <<'PY'
import sys
fmt, size, ct, rt, cttfb, rttft, crss, rrss, lib, lttft = sys.argv[1:]
size = float(size); ct = float(ct); rt = float(rt); lt = float(lib.split()[0])
print("| %s | curl | %.0f | 1.00 | %.2f (first byte) | %s |" % (fmt, size / ct / 1e6, float(cttfb), crss))
print("| %s | librill (bench_client) | %.0f | %.2f | %.2f (first delta) | |" % (fmt, size / lt / 1e6, ct / lt, float(lttft)))
print("| %s | rill chat --json | %.0f | %.2f | %.2f (first delta) | %s |" % (fmt, size / rt / 1e6, ct / rt, float(rttft), rrss))
PY
done

echo
echo "Peak RSS of \`rill chat --json\` by response size (same process, whole run):"
echo
echo "| format | 1 MiB response | 1 GiB response |"
echo "|---|---:|---:|"
for fmt in ollama openai; do
  if [[ $fmt == ollama ]]; then prefix=""; else prefix=/v1; fi
  small=$(rill_run "$fmt" "$base/small$prefix" | awk '{print $2}')
  big=$(rill_run "$fmt" "$base/big$prefix" | awk '{print $2}')
  echo "| $fmt | $small KiB | $big KiB |"
done

if [[ -n "$peers" ]]; then
  echo
  echo "Official npm clients (node $(node --version)) on the same ${MIB} MiB streams:"
  echo
  echo "| format | client | MB/s | ratio to rill | peak RSS (KiB) |"
  echo "|---|---|---:|---:|---:|"
  for fmt in ollama openai; do
    if [[ $fmt == ollama ]]; then prefix=""; else prefix=/v1; fi
    r_best=$(for i in $(seq $RUNS); do rill_run "$fmt" "$base$prefix" | awk '{print $4/1000}'; done | best_of)
    /usr/bin/time -f '%e %M' -o "$tmp/ntime" node "$here/sdk_e2e.mjs" "$peers" "$fmt" "$base$prefix" >"$tmp/nout"
    python3 - "$fmt" "$tmp/nout" "$tmp/ntime" "$r_best" <<'PY'
import json, sys
fmt, nout, ntime, rbest = sys.argv[1:]
d = json.loads(open(nout).read())
rss = open(ntime).read().split()[-1]
print("| %s | %s | %.0f | %.2f | %s |" % (fmt, d["client"], d["bytes"] / d["seconds"] / 1e6,
                                          float(rbest) / d["seconds"], rss))
PY
  done
fi
