#!/usr/bin/env bash
# Runs QuakeWarn's whole test suite on a fresh machine: installs missing Debian packages,
# builds, and runs every test (Swift Testing). Exit status is non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Test-only packages: Python venv for the ObsPy interop client, Mosquitto broker and clients for
# the MQTT tests, xmllint for CAP schema validation.
scripts/ensure-deps.sh python3 python3-venv mosquitto mosquitto-clients libxml2-utils

# Real third-party SeedLink client for the interop test: ObsPy 1.5.1 in .venv-test (PyPI).
QW_TEST_PYTHON="$(scripts/test-env/python-venv.sh | tail -n 1)"
export QW_TEST_PYTHON

echo "== building (debug) ==" >&2
swift build --build-tests
echo "== starting the test MQTT broker (127.0.0.1, password auth, free port) ==" >&2
eval "$(scripts/test-env/mosquitto.sh start)"
trap 'scripts/test-env/mosquitto.sh stop' EXIT
# The decoder fuzz test (SeedLink frames + miniSEED records, mutated real records and random
# bytes) runs 1,000,000 inputs here (~90 s in a debug build); a plain `swift test` runs 10,000.
# scripts/fuzz.sh runs more, or another seed.
export QW_FUZZ_INPUTS="${QW_FUZZ_INPUTS:-1000000}"
echo "== running tests ==" >&2
# One test at a time: several suites block a thread while a child process runs (CLI, crash and
# interop tests), and with only two cooperative threads on a 2-core machine that starved the
# timing-bounded network tests when everything ran in parallel (a run failed that way); serial
# is deterministic and takes about 1.5 minutes.
swift test --skip-build --no-parallel
