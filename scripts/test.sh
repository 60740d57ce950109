#!/usr/bin/env bash
# Runs QuakeWarn's whole test suite on a fresh machine: installs missing Debian packages,
# builds, and runs every test (Swift Testing). Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

echo "== building (debug) ==" >&2
swift build --build-tests
echo "== running tests ==" >&2
swift test --skip-build
