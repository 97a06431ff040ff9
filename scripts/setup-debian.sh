#!/usr/bin/env bash
# Install the Debian 12 packages rill needs, only those that are missing.
#   scripts/setup-debian.sh          build dependencies (for the demo)
#   scripts/setup-debian.sh --test   also what the test suite uses
# Runs as root (or through sudo when available). Safe to run again.
set -euo pipefail

pkgs=(build-essential cmake pkg-config libcurl4-openssl-dev libmbedtls-dev libjsmn-dev)
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=(libcmocka-dev clang libclang-rt-14-dev valgrind python3 locales binutils curl time
        gcovr cppcheck clang-tidy)  # scripts/coverage.sh, scripts/lint.sh
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The tests prove that numbers are read and written the same under a locale
# whose decimal separator is a comma, as editors set with setlocale(LC_ALL, "").
if [[ "${1:-}" == "--test" ]] && ! locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  $sudo localedef -i de_DE -f UTF-8 de_DE.UTF-8
fi
