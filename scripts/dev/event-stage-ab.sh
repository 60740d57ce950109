#!/usr/bin/env bash
# A/B of the event-stage rows of `quakewarn bench` (first onsite alert, two-station update) for
# two binaries, alternating OLD/NEW runs (a shared machine is noisy), thread-CPU clock.
# Usage: scripts/dev/event-stage-ab.sh OLD_BINARY NEW_BINARY [RUNS=3] [PACKETS=5000]
set -euo pipefail
OLD=$1
NEW=$2
RUNS=${3:-3}
PACKETS=${4:-5000}
for r in $(seq 1 "$RUNS"); do
    for side in old new; do
        bin=$OLD; [ "$side" = new ] && bin=$NEW
        { "$bin" bench --json --event-clock thread-cpu --packets "$PACKETS" 2>/dev/null || true; } \
            | grep '"event build' \
            | sed -E 's/.*\((first alert, onsite|two-station update)\)".*"p50Microseconds":([0-9.]+).*"p99Microseconds":([0-9.]+).*/\1 p50 \2 p99 \3/' \
            | sed "s/^/run $r $side: /"
    done
done
