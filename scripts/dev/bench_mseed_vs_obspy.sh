#!/usr/bin/env bash
# Compares MiniSEEDReader.read(path:) (release build) with obspy.read on a 1-hour, 100 Hz
# Steim-2 file (360 000 samples) written by ObsPy with 4096- and 512-byte records.
# Prints min/median milliseconds over 30 reads for both. Dev aid, not a test.
#
# Usage: scripts/dev/bench_mseed_vs_obspy.sh [python]   (default /work/devvenv/bin/python)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-/work/devvenv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$python" - "$work" <<'PY'
import sys, time
import numpy as np
from obspy import Stream, Trace, UTCDateTime, read
out = sys.argv[1]
rng = np.random.default_rng(1)
data = np.cumsum(rng.integers(-500, 500, 360000)).astype(np.int32)
tr = Trace(data=data, header={"network": "XX", "station": "BENCH", "channel": "HHZ",
                              "starttime": UTCDateTime(2024, 1, 1), "sampling_rate": 100.0})
for reclen in (4096, 512):
    path = "%s/hour_%d.mseed" % (out, reclen)
    Stream([tr]).write(path, format="MSEED", encoding="STEIM2", reclen=reclen)
    times = []
    for _ in range(30):
        t = time.perf_counter(); read(path); times.append(time.perf_counter() - t)
    times.sort()
    print("obspy.read        %-16s min %.2f ms  median %.2f ms" % ("hour_%d" % reclen, times[0] * 1e3, times[15] * 1e3))
PY
mkdir -p "$work/pkg/Sources/benchread"
cat > "$work/pkg/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription
let package = Package(name: "benchread", dependencies: [.package(path: "$repo")],
  targets: [.executableTarget(name: "benchread", dependencies: [.product(name: "MiniSEED", package: "$(basename "$repo")")])])
SWIFT
cat > "$work/pkg/Sources/benchread/main.swift" <<'SWIFT'
import MiniSEED
#if canImport(Glibc)
import Glibc
#endif
func now() -> Double { var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts); return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9 }
for path in CommandLine.arguments.dropFirst() {
    var times: [Double] = []
    for _ in 0..<30 {
        let t = now()
        let volume = try MiniSEEDReader.read(path: path)
        times.append(now() - t)
        precondition(volume.sampleCount == 360_000)
    }
    times.sort()
    let name = String((path.split(separator: "/").last ?? "").dropLast(6))
    print("MiniSEEDReader    " + name + String(repeating: " ", count: max(0, 17 - name.count))
          + "min \((times[0] * 1e5).rounded() / 100) ms  median \((times[15] * 1e5).rounded() / 100) ms")
}
SWIFT
(cd "$work/pkg" && swift build -c release -q 2>&1 | grep -v "^$" | grep -v "working copy\|Working copy" || true)
"$work/pkg/.build/release/benchread" "$work/hour_4096.mseed" "$work/hour_512.mseed"
