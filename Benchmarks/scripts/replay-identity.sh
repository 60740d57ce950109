#!/usr/bin/env bash
# Byte-identity check of two quakewarn binaries (e.g. before/after a performance change): replays
# every scenario set in SampleWaveforms/scenarios, the whole SampleWaveforms directory, and the
# real recordings with Benchmarks/scripts/replay-identity-real.yaml, with both binaries and the
# same signing key, and compares every output file (picks, events, decisions, warnings, CAP XML,
# signed envelopes, summary, report.html). Also compares `quakewarn pick` on the real recordings.
#
# Usage: Benchmarks/scripts/replay-identity.sh OLD_BINARY NEW_BINARY [WORK_DIR]
# Exit 0 when every file is identical, 1 otherwise (the differing files are listed).
set -euo pipefail
cd "$(dirname "$0")/../.."
OLD=$1
NEW=$2
WORK=${3:-$(mktemp -d /tmp/quakewarn-identity.XXXXXX)}
mkdir -p "$WORK/old" "$WORK/new"
"$OLD" keys generate --out "$WORK/keys" >/dev/null 2>&1 || true
KEY="$WORK/keys/quakewarn-signing.key"
status=0
run() { # NAME ARGS…
    local name=$1; shift
    for side in old new; do
        local bin=$OLD; [ "$side" = new ] && bin=$NEW
        rm -rf "$WORK/$side/$name"
        "$bin" replay "$@" --private-key "$KEY" --out "$WORK/$side/$name" > "$WORK/$side/$name.stdout" 2> "$WORK/$side/$name.stderr"
    done
    if diff -r "$WORK/old/$name" "$WORK/new/$name" > "$WORK/$name.diff" \
        && diff "$WORK/old/$name.stdout" "$WORK/new/$name.stdout" >> "$WORK/$name.diff"; then
        echo "identical: $name ($(find "$WORK/new/$name" -type f | wc -l) files, $(cat "$WORK/new/$name"/warnings.jsonl | wc -l) warnings)"
    else
        echo "DIFFERENT: $name (see $WORK/$name.diff)"
        status=1
    fi
}
for set in SampleWaveforms/scenarios/*/; do
    run "$(basename "$set")" "$set"
done
run all-samplewaveforms SampleWaveforms
run real-records SampleWaveforms/obspy_*.mseed --config Benchmarks/scripts/replay-identity-real.yaml
for side in old new; do
    bin=$OLD; [ "$side" = new ] && bin=$NEW
    "$bin" pick --filter bandpass:1:20 SampleWaveforms/obspy_*.mseed > "$WORK/$side/pick-real.jsonl" 2>/dev/null
done
if cmp -s "$WORK/old/pick-real.jsonl" "$WORK/new/pick-real.jsonl"; then
    echo "identical: quakewarn pick on the real recordings ($(wc -l < "$WORK/new/pick-real.jsonl") lines)"
else
    echo "DIFFERENT: quakewarn pick on the real recordings"; status=1
fi
echo "work directory: $WORK"
exit $status
