#!/usr/bin/env bash
# Where the CPU time of the records that issue a warning goes: runs `quakewarn bench pipeline`
# under `perf record -k CLOCK_MONOTONIC -g`, keeps only the samples that fall inside the records
# that issued a warning (the bench writes their intervals), and prints the functions by self and
# by inclusive share of those samples.
# Usage: Benchmarks/scripts/profile-warning-records.sh BINARY [BENCH_OPTIONS…]
# Environment: QW_PROFILE_FREQUENCY (default 20000), QW_PROFILE_TOP (rows, default 40).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=$1; shift
WORK=$(mktemp -d /tmp/quakewarn-profile.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
perf record -q -k CLOCK_MONOTONIC -F "${QW_PROFILE_FREQUENCY:-20000}" -g -o "$WORK/perf.data" \
    "$BIN" bench pipeline --intervals-out "$WORK/intervals.txt" "$@" > "$WORK/bench.txt" 2>&1
cat "$WORK/bench.txt"
perf script -i "$WORK/perf.data" -F time,ip,sym --ns 2>/dev/null > "$WORK/samples.txt"
python3 - "$WORK/intervals.txt" "$WORK/samples.txt" "${QW_PROFILE_TOP:-40}" <<'PY'
import sys, bisect, collections, re
intervals = sorted(tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip())
starts = [a for a, _ in intervals]
top = int(sys.argv[3])
def inside(t):
    i = bisect.bisect_right(starts, t) - 1
    return i >= 0 and t <= intervals[i][1]
selfc, incl = collections.Counter(), collections.Counter()
total = 0
def flush(stack, t):
    global total
    if t is None or not stack or not inside(t): return
    total += 1
    selfc[stack[0]] += 1
    for f in set(stack): incl[f] += 1
stack, t = [], None
for line in open(sys.argv[2]):
    if not line.strip():
        flush(stack, t); stack, t = [], None; continue
    m = re.match(r'\s*(\d+)\.(\d+):\s*$', line) or re.match(r'\s*(\d+)\.(\d+):', line)
    if t is None and m and not line.startswith('\t') and not line.startswith('            '):
        t = int(m.group(1)) * 10**9 + int(m.group(2).ljust(9, '0')[:9])
        continue
    parts = line.strip().split(None, 1)
    if len(parts) == 2: stack.append(parts[1].split('+0x')[0][:150])
flush(stack, t)
total_time = sum(b - a for a, b in intervals)
print(f"\n{total} samples inside {len(intervals)} warning records ({total_time/1e6:.1f} ms wall in them)")
print("\nself %   function"); [print(f"{100*c/total:6.2f}  {f}") for f, c in selfc.most_common(top)]
print("\ninclusive %   function"); [print(f"{100*c/total:6.2f}  {f}") for f, c in incl.most_common(top)]
PY
