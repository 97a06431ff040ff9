#!/usr/bin/env bash
# Build rill and run the demo: `rill parse` on sample provider streams.
# Does all set-up on a fresh Debian 12 machine (installs missing packages).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-debian.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRILL_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "== rill parse sse --chunk 7 < examples/data/openai-chat.sse"
build/bin/rill parse sse --chunk 7 < examples/data/openai-chat.sse
echo
echo "== rill parse ndjson < examples/data/ollama-chat.ndjson  (the last record is cut off: exit 3)"
rc=0
build/bin/rill parse ndjson < examples/data/ollama-chat.ndjson || rc=$?
echo "exit status: $rc"
[[ $rc -eq 3 ]]
