#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan) and run each for N seconds
# on a scratch copy of its committed corpus (the repository's corpus is only
# changed by hand, with minimized inputs).
#   fuzz.sh [SECONDS]     (default 25: 12 targets x 25 s = the 5 min CI budget)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-25}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DRILL_FUZZ=ON -DRILL_SANITIZE=ON \
  -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
# RSS is capped at 256 MB (RELIABILITY.md G5). ASan's quarantine of freed
# blocks (256 MB by default) alone can pass that cap on a 30 s run of a
# target that frees a lot, without any leak: keep it small here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=32"
status=0
for target in sse ndjson json ollama openai gemini anthropic pipeline embed_decode models \
              gguf tokenizer; do
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$target/." "$work/"
  if ! build-fuzz/bin/fuzz_"$target" "$work" -max_total_time="$secs" \
       -rss_limit_mb=256 -timeout=5 -print_final_stats=1 -artifact_prefix="build-fuzz/crash-$target-" \
       >"build-fuzz/fuzz-$target.log" 2>&1; then
    echo "fuzz_$target: FAILED"; tail -60 "build-fuzz/fuzz-$target.log"; status=1
  else
    echo "fuzz_$target: $(grep -m1 'stat::number_of_executed_units' "build-fuzz/fuzz-$target.log" | awk '{print $2}') runs, no findings"
  fi
  rm -rf "$work"
done
exit $status
