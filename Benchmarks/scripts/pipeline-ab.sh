#!/usr/bin/env bash
# A/B of `quakewarn bench pipeline` between binaries on a shared machine: runs them alternately
# ROUNDS times (default 5) and prints, per binary and row, the median over the rounds of each
# percentile (thread CPU time per record / per warning, µs), and the output digests (which must
# be equal when the binaries give the same outputs).
# Usage: Benchmarks/scripts/pipeline-ab.sh [-r ROUNDS] BINARY… [-- BENCH_OPTIONS…]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=5
if [ "${1:-}" = -r ]; then ROUNDS=$2; shift 2; fi
BINS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do BINS+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
OUT=$(mktemp -d /tmp/quakewarn-pipeline-ab.XXXXXX)
for ((r = 0; r < ROUNDS; r++)); do
    for i in "${!BINS[@]}"; do
        "${BINS[$i]}" bench pipeline --format json "$@" >> "$OUT/$i.jsonl"
    done
done
python3 - "$OUT" "${BINS[@]}" <<'PY'
import json, sys, statistics, collections
out, bins = sys.argv[1], sys.argv[2:]
for i, b in enumerate(bins):
    rows = collections.OrderedDict()
    digests = set()
    for line in open(f"{out}/{i}.jsonl"):
        o = json.loads(line)
        rows.setdefault(o["row"], []).append(o)
        digests.add(o["outputDigest"])
    print(f"== {b}  (digest {', '.join(sorted(digests))})")
    print(f"   {'row':50s} {'n':>5s} {'p50':>8s} {'p90':>8s} {'p99':>8s} {'max':>8s} {'mean':>8s}  (median of {len(next(iter(rows.values())))} runs, µs)")
    for name, os in rows.items():
        med = lambda k: statistics.median(o[k] for o in os)
        print(f"   {name:50s} {os[0]['count']:5d} {med('p50Microseconds'):8.1f} {med('p90Microseconds'):8.1f} "
              f"{med('p99Microseconds'):8.1f} {med('maxMicroseconds'):8.1f} {med('meanMicroseconds'):8.1f}")
PY
rm -rf "$OUT"
