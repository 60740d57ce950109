#!/usr/bin/env bash
# Installs the Debian packages QuakeWarn needs, if any is missing. Safe to run repeatedly.
# Usage: scripts/ensure-deps.sh [extra-package ...]
set -euo pipefail

packages=(libfftw3-dev libmseed-dev pkg-config "$@")
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ! command -v swift >/dev/null 2>&1; then
    echo "error: 'swift' is not on PATH; install the Swift 6 toolchain first (swift.org)." >&2
    exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "Installing missing Debian packages: ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo_cmd=(sudo)
    else
        echo "error: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
