#!/usr/bin/env bash
# Runs QuakeWarn's benchmarks and the reference tools (ObsPy, NumPy) in the same run and prints
# the ratios. Creates a Python virtualenv in Benchmarks/.venv-bench on first use (ObsPy from PyPI;
# a development/benchmark aid only, never a runtime dependency).
# Usage: Benchmarks/scripts/compare-references.sh [extra `swift package benchmark` options]
set -euo pipefail
cd "$(dirname "$0")/.."

../scripts/ensure-deps.sh python3-venv

venv=.venv-bench
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import obspy, numpy" 2>/dev/null; then
    echo "== creating $venv with obspy and numpy ==" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip >&2
    "$venv/bin/pip" install -q "obspy==1.5.1" numpy >&2
fi

export QW_BENCH_DIR="${QW_BENCH_DIR:-/tmp/quakewarn-bench}"
mkdir -p "$QW_BENCH_DIR"
results="$QW_BENCH_DIR/results"
mkdir -p "$results"
rm -f "$results/Current_run.jmh.json"

echo "== QuakeWarn benchmarks (release) ==" >&2
swift package --allow-writing-to-directory "$QW_BENCH_DIR" benchmark --no-progress --format jmh --path "$results" "$@" >&2

echo "== reference tools, same machine, same run ==" >&2
"$venv/bin/python" scripts/reference_timings.py "$results/Current_run.jmh.json" "$QW_BENCH_DIR"
