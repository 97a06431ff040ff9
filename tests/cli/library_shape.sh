#!/usr/bin/env bash
# The built artefacts have the promised shape:
#  - the shared library carries a versioned SONAME (librill.so.0) and
#    exports only rill_ symbols (everything else is hidden);
#  - `rill --version` reports the header version.
#   library_shape.sh BUILD_DIR RILL_BINARY VERSION
set -euo pipefail
build=$1 rill=$2 version=$3
lib=$(ls "$build"/lib/librill.so.*.*.* | head -1)
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[[ "$soname" == "librill.so.0" ]] || { echo "FAIL: SONAME is '$soname'"; exit 1; }
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^rill_' || true)
[[ -z "$bad" ]] || { echo "FAIL: symbols outside rill_*: $bad"; exit 1; }
n=$(nm -D --defined-only "$lib" | grep -c ' T rill_')
[[ $n -ge 40 ]] || { echo "FAIL: only $n exported functions"; exit 1; }
out=$("$rill" --version)
[[ "$out" == "rill $version (libcurl "* ]] || { echo "FAIL: --version said '$out'"; exit 1; }
echo "library_shape: SONAME $soname, $n exported rill_ functions, $out"
