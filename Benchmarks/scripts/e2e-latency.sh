#!/usr/bin/env bash
# End-to-end latency harness (issue 8): packet in → warning out, across real processes.
#
#   quakewarn feed (SeedLink, loopback) ─► quakewarn ingest (+ in-process relay) ─► Mosquitto ─►
#   quakewarn subscribe (MQTT, timestamps receipt with CLOCK_REALTIME)
#
# By default the relay runs inside the ingest daemon (design.md: "the in-process path is the
# embedded default"), fed directly (DirectRelaySink: verify, outbox commit, MQTT PUBLISH on the
# relay's input loop, no socket); the log then has the PUBLISH written to the broker socket
# (design.md's "warning bytes out"). QW_E2E_RELAY=process runs `quakewarn relay` as its own
# process fed over QWRI/1 (then "warning bytes out" is the write to the relay socket);
# QW_E2E_RELAY=inprocess-socket runs it in-process but fed over loopback QWRI/1 (A/B).
#
# For every warning, from the arrival of the packet whose processing released it (the wall clock
# when the read that completed the packet, its last byte, reached the SeedLink client's channel),
# the relay sink logs in OUT/relay-latency.jsonl: release by the pipeline, signed and queued,
# bytes written to the relay socket (design.md's "warning bytes out"), relay ack; the subscriber
# logs its receipt. All clocks are CLOCK_REALTIME on the same machine.
# `quakewarn bench e2e-report` joins the two logs and prints HdrHistogram percentiles.
#
# Usage: Benchmarks/scripts/e2e-latency.sh [SCENARIO_DIR…]   (default: the three event scenarios)
# Environment: QW_E2E_SPEED (feed speed-up, default 1: the real-time pace of live stations, where
# the packets of a second arrive together and the caches cool in between, ≈ 2 min per repeat;
# 10 replays ten times faster, a warmer and usually quicker daemon), QW_E2E_BUILD
# (release|debug, default release), QW_E2E_KEEP=1 keeps the work directory,
# QW_E2E_RECORD_SECONDS=S re-cuts the files' 512-byte records into records of at most S s
# (`quakewarn feed --max-record-seconds S`), default 1 (EEW stations send ~1 s packets, and design.md's budget is per packet); `file` serves the
# files' own 512-byte records (2–4 s of data each, so more slices per packet: slower).
# QW_E2E_SKIP_BUILD=1 uses the existing binary; QW_E2E_BINARY=PATH another one (A/B runs).
# QW_E2E_REPEAT=N (default 1) runs every scenario N times, each with a fresh ingest daemon (and,
# in-process, a fresh outbox), for N × 25 warnings in the histograms: with 25, p99 is the
# maximum. Ids are prefixed with the run (`r2/…`) when the logs are joined.
# QW_E2E_RELAY=inprocess (default: ingest.yaml `relay: {configuration: relay.yaml}`, direct
# hand-off) | inprocess-socket | process (see above).
# QW_E2E_RT=P gives the daemon's processing thread SCHED_FIFO priority P (ingest.yaml
# `realtimePriority`; with QW_E2E_RELAY=process also the relay's loop, relay.yaml
# `realtimePriority`; needs root or CAP_SYS_NICE, else the daemon logs a warning and runs at
# normal priority). Default 0: normal priority. Without QW_E2E_PIN, Mosquitto and the subscriber
# share the 2 cores with the daemon, and a real-time processing thread makes them wait: arrival →
# PUBLISH written gets faster, arrival → subscriber slower (Benchmarks/README.md, session 5). With
# QW_E2E_PIN=1 nothing else runs on the daemon's core but kernel work, which it then preempts
# (ext4 writeback completions held packets for 1-3 ms at normal priority; session 10).
# The operator's check of the recommended deployment (pinned, PM QoS, real-time):
#   QW_E2E_SKIP_BUILD=1 QW_E2E_REPEAT=2 QW_E2E_PIN=1 QW_E2E_CPU_LATENCY=0 QW_E2E_RT=10 Benchmarks/scripts/e2e-latency.sh
# QW_E2E_PIN=1 pins the daemon (ingest, and `quakewarn relay` with QW_E2E_RELAY=process) to CPU 0
# and Mosquitto, the feed and the subscriber to CPU 1 (taskset; needs 2 CPUs), so the broker's
# wake-ups do not preempt the daemon's processing thread on its core (as with a broker on another
# machine). Default 0: everything shares both cores (Benchmarks/README.md, session 6).
# QW_E2E_CPU_LATENCY=US holds a PM QoS CPU wake-up latency limit of US microseconds while the
# daemon runs (ingest.yaml `cpuWakeupLatencyMicroseconds`, and relay.yaml with
# QW_E2E_RELAY=process; 0: idle CPUs poll instead of halting; needs root, else the daemon logs a
# warning). Default: unset, no request (Benchmarks/README.md, session 7).
# QW_E2E_KEEP_WARM=MS sets ingest.yaml `keepWarmMilliseconds` (the warning path re-run without
# effect every MS ms between records; 0: off). Default: unset, the daemon's default, 10 ms
# (docs/ingest.md, "Keep-warm"; Benchmarks/README.md, session 9).
# "Packet in" is the feed's clock just before it writes the packet (`quakewarn feed --send-log`,
# joined by SeedLink sequence number): the daemon's own arrival stamp, taken when its thread
# reads the socket, misses the time the bytes waited while the thread was busy.
# Needs mosquitto (Debian package; scripts/ensure-deps.sh installs it). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${QW_E2E_BUILD:-release}
SPEED=${QW_E2E_SPEED:-1}
scripts/ensure-deps.sh mosquitto mosquitto-clients >&2
if [ "${QW_E2E_SKIP_BUILD:-0}" != 1 ]; then
    echo "== building quakewarn ($BUILD) ==" >&2
    swift build -c "$BUILD" --product quakewarn >&2
fi
FEED_ARGS=()
RECORD_SECONDS=${QW_E2E_RECORD_SECONDS:-1}
if [ "$RECORD_SECONDS" != file ]; then FEED_ARGS=(--max-record-seconds "$RECORD_SECONDS"); fi
QW="${QW_E2E_BINARY:-$ROOT/.build/$BUILD/quakewarn}"

WORK=$(mktemp -d /tmp/quakewarn-e2e.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && wait "$pid" 2>/dev/null || true; done
    scripts/test-env/mosquitto.sh stop >/dev/null 2>&1 || true
    if [ "${QW_E2E_KEEP:-0}" = 1 ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

wait_for_line() { # FILE PATTERN SECONDS → prints the first matching line
    local file=$1 pattern=$2 seconds=$3 i
    for ((i = 0; i < seconds * 20; i++)); do
        if grep -m1 -E "$pattern" "$file" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "e2e: timed out waiting for '$pattern' in $file:" >&2
    tail -n 20 "$file" >&2 || true
    return 1
}

echo "== private Mosquitto on 127.0.0.1 ==" >&2
PIN=${QW_E2E_PIN:-0}
DAEMON_CPU=()
OTHERS_CPU=()
if [ "$PIN" = 1 ]; then
    if ! command -v taskset >/dev/null 2>&1 || [ "$(nproc)" -lt 2 ]; then
        echo "e2e: QW_E2E_PIN=1 needs taskset and at least 2 CPUs" >&2
        exit 2
    fi
    DAEMON_CPU=(taskset -c 0)
    OTHERS_CPU=(taskset -c 1)
elif [ "$PIN" != 0 ]; then
    echo "e2e: QW_E2E_PIN must be 0 or 1 (got '$PIN')" >&2
    exit 2
fi
eval "$(scripts/test-env/mosquitto.sh start)"
if [ "$PIN" = 1 ]; then
    for pid in $(pgrep -f "mosquitto -d -c $MQTT_TEST_DIR"); do taskset -a -p -c 1 "$pid" > /dev/null; done
fi
printf '%s\n' "$MQTT_TEST_PASSWORD" > "$WORK/mqtt.password"

"$QW" keys generate --out "$WORK/keys" >&2
echo "e2e-input-token-$RANDOM$RANDOM" > "$WORK/input.token"
RT=${QW_E2E_RT:-0}
if ! [[ "$RT" =~ ^[0-9]+$ ]] || [ "$RT" -gt 99 ]; then echo "e2e: QW_E2E_RT must be 0 (off) or 1…99 (got '$RT')" >&2; exit 2; fi
if [ "$RT" = 0 ]; then RT_LINE=""; else RT_LINE="realtimePriority: $RT"; fi
CPU_LATENCY=${QW_E2E_CPU_LATENCY:-}
if [ -n "$CPU_LATENCY" ] && ! [[ "$CPU_LATENCY" =~ ^[0-9]+$ ]]; then
    echo "e2e: QW_E2E_CPU_LATENCY must be a number of microseconds (got '$CPU_LATENCY')" >&2; exit 2
fi
CPU_LATENCY_LINE=${CPU_LATENCY:+cpuWakeupLatencyMicroseconds: $CPU_LATENCY}
KEEP_WARM=${QW_E2E_KEEP_WARM:-}
if [ -n "$KEEP_WARM" ] && ! [[ "$KEEP_WARM" =~ ^[0-9]+$ ]]; then
    echo "e2e: QW_E2E_KEEP_WARM must be a number of milliseconds, 0 for off (got '$KEEP_WARM')" >&2; exit 2
fi
KEEP_WARM_LINE=${KEEP_WARM:+keepWarmMilliseconds: $KEEP_WARM}
cat > "$WORK/relay.yaml" <<YAML
input: {host: 127.0.0.1, port: 0, tokenFile: input.token}
verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
outbox: {path: outbox.sqlite}
mqtt: {host: 127.0.0.1, port: $MQTT_TEST_PORT, username: $MQTT_TEST_USER, passwordFile: mqtt.password}
YAML
RELAY_MODE=${QW_E2E_RELAY:-inprocess}
if [ "$RELAY_MODE" = inprocess ] || [ "$RELAY_MODE" = inprocess-socket ]; then
    RELAY_SECTION="relay: {configuration: relay.yaml}"
    if [ "$RELAY_MODE" = inprocess-socket ]; then export QW_INGEST_RELAY_TRANSPORT=socket; else export QW_INGEST_RELAY_TRANSPORT=direct; fi
elif [ "$RELAY_MODE" = process ]; then
    if [ -n "$RT_LINE" ]; then echo "$RT_LINE" >> "$WORK/relay.yaml"; fi
    if [ -n "$CPU_LATENCY_LINE" ]; then echo "$CPU_LATENCY_LINE" >> "$WORK/relay.yaml"; fi
    "${DAEMON_CPU[@]}" "$QW" relay --config "$WORK/relay.yaml" --log-level warning 2> "$WORK/relay.err" &
    PIDS+=($!)
    RELAY_PORT=$(wait_for_line "$WORK/relay.err" "relay: input listening on" 60 | sed -E 's/.*127\.0\.0\.1:([0-9]+).*/\1/')
    RELAY_SECTION="relay: {host: 127.0.0.1, port: $RELAY_PORT, tokenFile: input.token}"
else
    echo "e2e: QW_E2E_RELAY must be inprocess, inprocess-socket or process (got '$RELAY_MODE')" >&2
    exit 2
fi

if [ $# -eq 0 ]; then
    set -- SampleWaveforms/scenarios/nearby-m4.5 SampleWaveforms/scenarios/longquan-m5.8 SampleWaveforms/scenarios/longmenshan-m7.5
fi
REPEAT=${QW_E2E_REPEAT:-1}
if ! [[ "$REPEAT" =~ ^[1-9][0-9]*$ ]]; then echo "e2e: QW_E2E_REPEAT must be a positive integer (got '$REPEAT')" >&2; exit 2; fi
if [ "$REPEAT" -gt 1 ] && [ "$RELAY_MODE" = process ]; then
    # One relay process for all runs: its outbox would take the repeated warnings as duplicates.
    echo "e2e: QW_E2E_REPEAT > 1 needs an in-process relay (QW_E2E_RELAY=inprocess or inprocess-socket)" >&2; exit 2
fi
RUNS=()
for scenario in "$@"; do
    for ((rep = 1; rep <= REPEAT; rep++)); do RUNS+=("$rep:$scenario"); done
done

: > "$WORK/latency.jsonl"
: > "$WORK/received.jsonl"
for run in "${RUNS[@]}"; do
    rep=${run%%:*}
    scenario=${run#*:}
    base=$(basename "$scenario")
    name=$base
    [ "$REPEAT" -gt 1 ] && name="$base-r$rep"
    if [ ! -f "$WORK/replay-$base/warnings.jsonl" ]; then
        echo "== $base: replay for the expected warning count ==" >&2
        "$QW" replay "$scenario" --config SampleWaveforms/scenarios/config.yaml --out "$WORK/replay-$base" >/dev/null 2>&1
    fi
    expected=$(wc -l < "$WORK/replay-$base/warnings.jsonl")
    echo "   $expected warning(s) expected" >&2
    [ "$expected" -gt 0 ] || continue
    if [ "$REPEAT" -gt 1 ]; then
        # A fresh outbox per run: the same warnings again would be duplicates, not published.
        sed "s|outbox: {path: outbox.sqlite}|outbox: {path: outbox-$name.sqlite}|" "$WORK/relay.yaml" > "$WORK/relay-$name.yaml"
        RUN_RELAY_SECTION="relay: {configuration: relay-$name.yaml}"
    else
        RUN_RELAY_SECTION=$RELAY_SECTION
    fi

    "${OTHERS_CPU[@]}" "$QW" subscribe --mqtt "127.0.0.1:$MQTT_TEST_PORT" --username "$MQTT_TEST_USER" --password-file "$WORK/mqtt.password" \
        --topic 'quakewarn/warnings/#' --public-key "$WORK/keys/quakewarn-signing.pub" --count "$expected" --timeout 600 \
        > "$WORK/received-$name.jsonl" 2> "$WORK/subscribe-$name.err" &
    SUB=$!
    PIDS+=($SUB)
    wait_for_line "$WORK/subscribe-$name.err" "subscribed to" 30 >/dev/null

    "${OTHERS_CPU[@]}" "$QW" feed "$scenario" --port 0 --speed "$SPEED" "${FEED_ARGS[@]}" --send-log "$WORK/sent-$name.txt" 2> "$WORK/feed-$name.err" &
    FEED=$!
    PIDS+=($FEED)
    FEED_PORT=$(wait_for_line "$WORK/feed-$name.err" "listening on" 60 | sed -E 's/.*:([0-9]+)$/\1/')

    mkdir -p "$WORK/ingest-$name"
    cat > "$WORK/ingest-$name.yaml" <<YAML
configuration: $ROOT/SampleWaveforms/scenarios/config.yaml
status: Exercise
seedlink: {host: 127.0.0.1, port: $FEED_PORT, stateFile: ingest-$name/seedlink.state}
output: {directory: ingest-$name}
$RUN_RELAY_SECTION
signing: {privateKeyFile: keys/quakewarn-signing.key}
$RT_LINE
$CPU_LATENCY_LINE
$KEEP_WARM_LINE
YAML
    echo "== $name: feed (speed $SPEED, records: $RECORD_SECONDS s, relay: $RELAY_MODE, processing thread: ${RT_LINE:-normal priority}$([ "$PIN" = 1 ] && echo ", daemon on CPU 0, the rest on CPU 1")${CPU_LATENCY_LINE:+, $CPU_LATENCY_LINE}${KEEP_WARM_LINE:+, $KEEP_WARM_LINE}) → ingest → relay → Mosquitto → subscriber ==" >&2
    "${DAEMON_CPU[@]}" "$QW" ingest --config "$WORK/ingest-$name.yaml" --log-level warning 2> "$WORK/ingest-$name.err" &
    INGEST=$!
    PIDS+=($INGEST)
    if ! wait "$SUB"; then
        echo "e2e: the subscriber did not receive $expected warning(s) for $name (see $WORK)" >&2
        QW_E2E_KEEP=1
    fi
    kill "$INGEST" "$FEED" 2>/dev/null || true
    wait "$INGEST" 2>/dev/null || true
    wait "$FEED" 2>/dev/null || true
    # Repeated runs have the same ids: prefix them with the run so the report joins run by run.
    prefix=""
    [ "$REPEAT" -gt 1 ] && prefix="r$rep/"
    # Each warning's record, by its SeedLink sequence number: the feed's clock just before it
    # wrote the packet to the socket, "recordSentNanos", the report's "packet in" (conservative:
    # the daemon's own arrival stamp is taken when its thread gets to read the socket).
    if [ -f "$WORK/ingest-$name/relay-latency.jsonl" ]; then
        awk 'FILENAME == ARGV[1] { sent[$1] = $2; next }
             match($0, /"recordSequence":[0-9]+,/) {
                 seq = substr($0, RSTART + 17, RLENGTH - 18)
                 if (seq in sent) sub(/"recordSequence":[0-9]+,/, "&\"recordSentNanos\":" sent[seq] ",")
             }
             { print }' "$WORK/sent-$name.txt" "$WORK/ingest-$name/relay-latency.jsonl" \
            | sed "s|\"id\":\"|\"id\":\"$prefix|" >> "$WORK/latency.jsonl"
    fi
    sed "s|\"id\":\"|\"id\":\"$prefix|" "$WORK/received-$name.jsonl" >> "$WORK/received.jsonl"
done

echo "== report ==" >&2
if [ -n "$RT_LINE" ] && grep -qh "keeps its normal priority" "$WORK"/ingest-*.err 2>/dev/null; then
    echo "note: $RT_LINE was refused, the processing thread ran at normal priority: $(grep -h "keeps its normal priority" "$WORK"/ingest-*.err | head -1)" >&2
fi
if [ -n "$CPU_LATENCY_LINE" ] && grep -qh "no CPU wake-up latency limit" "$WORK"/ingest-*.err 2>/dev/null; then
    echo "note: $CPU_LATENCY_LINE was refused: $(grep -h "no CPU wake-up latency limit" "$WORK"/ingest-*.err | head -1)" >&2
fi
if [ "$SPEED" != 1 ]; then
    # The verdict below depends on the pace: with records closer together the daemon's caches
    # stay warmer (session 8: p99 ≈ 0.97 ms at 10×, 1.30–1.43 ms at 1×, same machine and settings).
    echo "note: the feed ran at ${SPEED}× the recorded pace; QW_E2E_SPEED=1 measures the real-time pace of live stations (slower, colder caches)" >&2
fi
"$QW" bench e2e-report --latency "$WORK/latency.jsonl" --received "$WORK/received.jsonl"
