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
# The test output is kept for the time-limit report below; the EXIT trap removes it and stops
# the broker, however the script ends.
log="$(mktemp "${TMPDIR:-/tmp}/qw-test-output.XXXXXX")"
eval "$(scripts/test-env/mosquitto.sh start)"
trap 'rm -f "$log"; scripts/test-env/mosquitto.sh stop' EXIT
# The decoder fuzz test (SeedLink frames + miniSEED records, mutated real records and random
# bytes) runs 1,000,000 inputs here (~90 s in a debug build); a plain `swift test` runs 10,000.
# scripts/fuzz.sh runs more, or another seed.
export QW_FUZZ_INPUTS="${QW_FUZZ_INPUTS:-1000000}"
# A hung test must not eat CI's 90 minutes in silence: after QW_TEST_TIMEOUT_MINUTES (default
# 25; the tests take 2–4 minutes on 2 cores) the run is stopped, the tests that started but never
# ended are named and the test process is killed. stdbuf line-buffers the output, so what the
# hung test printed is not lost in a pipe buffer. --foreground keeps `timeout` in this script's
# process group, so Ctrl-C at a terminal still stops the run.
QW_TEST_TIMEOUT_MINUTES="${QW_TEST_TIMEOUT_MINUTES:-25}"
echo "== running tests (time limit ${QW_TEST_TIMEOUT_MINUTES} min) ==" >&2
# One test at a time: several suites block a thread while a child process runs (CLI, crash and
# interop tests), and with only two cooperative threads on a 2-core machine that starved the
# timing-bounded network tests when everything ran in parallel (a run failed that way); serial
# is deterministic and takes 2–4 minutes.
set +e
timeout --foreground --kill-after=30s "$((QW_TEST_TIMEOUT_MINUTES * 60))s" \
    stdbuf -oL -eL swift test --skip-build --no-parallel 2>&1 | tee "$log"
status="${PIPESTATUS[0]}"
set -e
if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    echo "== the tests did not finish within ${QW_TEST_TIMEOUT_MINUTES} minutes and were stopped ==" >&2
    echo "started but not ended (the last one hung):" >&2
    awk -f scripts/test-env/unfinished-tests.awk "$log" >&2
    # `swift test` runs the test binary in a process group of its own, which `timeout` does not reach.
    pkill -KILL -f "$PWD/.build/.*/QuakeWarnPackageTests.xctest" || true
fi
exit "$status"
