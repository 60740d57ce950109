#!/usr/bin/env bash
# STA/LTA throughput against ObsPy's C code (recursive_sta_lta, classic_sta_lta), 10,000,000
# samples, windows 50/1000: QuakeWarn (Benchmarks/STALTAComparison, release build) and ObsPy
# (Benchmarks/.venv-bench, created as in compare-references.sh) are run alternately, ROUNDS times
# each (default 3), and the medians of both the wall clock and the thread CPU time are compared.
# On a shared machine the CPU-time ratio is the meaningful one: the wall clock includes the time
# other processes hold the core, which differs between the two sides' turns.
# Usage: Benchmarks/scripts/compare-stalta.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
venv=.venv-bench
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import obspy, numpy" 2>/dev/null; then
    echo "== creating $venv with obspy and numpy ==" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip >&2
    "$venv/bin/pip" install -q "obspy==1.5.1" numpy >&2
fi
swift build -c release --product STALTAComparison >&2
exe="$(swift build -c release --show-bin-path)/STALTAComparison"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for _ in $(seq "$rounds"); do
    "$exe" 5 | sed 's/^/quakewarn /' >> "$results"
    "$venv/bin/python" - >> "$results" <<'PY'
import json, statistics, time
import numpy as np
from obspy.signal.trigger import classic_sta_lta, recursive_sta_lta
x = np.random.default_rng(815).standard_normal(10_000_000)
from obspy.signal.headers import clibsignal, head_stalta_t
out = np.empty_like(x)  # preallocated: the C kernels alone, without np.empty's page faults
head = np.empty(1, dtype=head_stalta_t)
head[:] = (len(x), 50, 1000)
for name, fn in (("recursive", lambda: recursive_sta_lta(x, 50, 1000)),
                 ("classic", lambda: classic_sta_lta(x, 50, 1000)),
                 ("recursive-kernel", lambda: clibsignal.recstalta(x, out, len(x), 50, 1000)),
                 ("classic-kernel", lambda: clibsignal.stalta(head, x, out))):
    fn()
    walls, cpus = [], []
    for _ in range(5):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpus.append(time.thread_time() - c0)
        walls.append(time.perf_counter() - w0)
    print("obspy", json.dumps({"name": name, "wall": statistics.median(walls), "cpu": statistics.median(cpus)}))
PY
done
python3 - "$results" "$rounds" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    who, payload = line.split(" ", 1)
    d = json.loads(payload)
    rows.setdefault((d["name"], who), []).append(d)
print(f"STA/LTA, 10 M samples, 50/1000, {sys.argv[2]} alternating rounds (median of per-round medians)")
print(f"{'CF':26} {'ObsPy wall':>11} {'QW wall':>9} {'ratio':>6}   {'ObsPy CPU':>10} {'QW CPU':>8} {'ratio':>6}  {'QW M samples/s (CPU)':>21}")
for name, ref in (("recursive", "recursive"), ("classic", "classic"),
                  ("recursive", "recursive-kernel"), ("classic", "classic-kernel")):
    o, q = rows[(ref, "obspy")], rows[(name, "quakewarn")]
    label = name if ref == name else name + " (C kernel only)"
    ow, qw = statistics.median(r["wall"] for r in o), statistics.median(r["wall"] for r in q)
    oc, qc = statistics.median(r["cpu"] for r in o), statistics.median(r["cpu"] for r in q)
    print(f"{label:26} {ow*1e3:9.1f}ms {qw*1e3:7.1f}ms {ow/qw:5.2f}x   {oc*1e3:8.1f}ms {qc*1e3:6.1f}ms {oc/qc:5.2f}x  {10/qc:21.0f}")
print("ratio = ObsPy time / QuakeWarn time (> 1: QuakeWarn is faster). The first two rows time ObsPy's")
print("public functions, which allocate their 80 MB output (np.empty, page faults on first touch); the")
print("'C kernel only' rows call ObsPy's C functions (clibsignal) directly with a preallocated output,")
print("as QuakeWarn reuses its output buffer.")
PY
