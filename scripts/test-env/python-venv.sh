#!/usr/bin/env bash
# Creates or refreshes the Python venv used by interop tests (.venv-test at the repo root) with
# the pinned ObsPy that the SeedLink interop test runs as a real third-party SeedLink client.
#
# stdout: only the venv's python path, on the last line (scripts/test.sh exports it as
# QW_TEST_PYTHON). Everything else goes to stderr. Idempotent: when the venv already has the
# pinned version it only checks and prints (well under a second).
set -euo pipefail
cd "$(dirname "$0")/../.."

OBSPY_VERSION=1.5.1
VENV="$PWD/.venv-test"
PY="$VENV/bin/python"

have_pinned() {
    [ -x "$PY" ] && "$PY" -c "import obspy, sys; sys.exit(0 if obspy.__version__ == '$OBSPY_VERSION' else 1)" >/dev/null 2>&1
}

if ! have_pinned; then
    {
        echo "== python-venv: creating $VENV with obspy==$OBSPY_VERSION =="
        if ! python3 -m venv --help >/dev/null 2>&1; then
            apt-get update -qq && apt-get install -y -qq python3-venv
        fi
        [ -x "$PY" ] || python3 -m venv "$VENV"
        "$PY" -m pip install --quiet --upgrade pip
        "$PY" -m pip install --quiet "obspy==$OBSPY_VERSION"
    } >&2
    have_pinned || { echo "python-venv: obspy==$OBSPY_VERSION is not importable from $PY" >&2; exit 1; }
fi
"$PY" -c "import websockets" >/dev/null 2>&1 || "$PY" -m pip install --quiet "websockets==17.4" >&2  # WebSocketHub interop client
echo "$PY"
