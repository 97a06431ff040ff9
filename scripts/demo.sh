#!/usr/bin/env bash
# Build rill and run the demo: a streamed chat against the mock server in
# both wire formats (Ollama NDJSON and OpenAI-compatible SSE), then
# `rill parse` on sample streams. Does all set-up on a fresh Debian 12
# machine (installs missing packages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build-demo -DCMAKE_BUILD_TYPE=Release -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_BENCH=OFF >/dev/null
cmake --build build-demo -j"$(nproc)" >/dev/null

out=$(mktemp)
build-demo/bin/rill-mock --port 0 examples/data/demo-scenario.json >"$out" &
mock=$!
trap 'kill $mock 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 500); do grep -q port "$out" 2>/dev/null && break; sleep 0.02; done
port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$out")
base="http://127.0.0.1:$port"

echo "== rill chat --provider ollama (NDJSON, one word every 40 ms from rill-mock)"
build-demo/bin/rill chat --provider ollama --url "$base" --model qwen3 --think "Why is the sky blue?"
echo
echo "== rill chat --provider lmstudio --json (OpenAI-compatible SSE)"
build-demo/bin/rill chat --provider lmstudio --url "$base/v1" --model qwen2.5-7b-instruct --json "Why is the sky blue?" | sed -n "1,4p;\$p"

echo
echo "== rill parse sse --chunk 7 < examples/data/openai-chat.sse"
build-demo/bin/rill parse sse --chunk 7 < examples/data/openai-chat.sse
echo
echo "== rill parse ndjson < examples/data/ollama-chat.ndjson  (the last record is cut off: exit 3)"
rc=0
build-demo/bin/rill parse ndjson < examples/data/ollama-chat.ndjson || rc=$?
echo "exit status: $rc"
[[ $rc -eq 3 ]]
