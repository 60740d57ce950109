#!/usr/bin/env bash
# Independent check of MiniSEEDWriter: writes one file per encoding (and record length 512 and
# 4096) with the Swift writer, then reads each with ObsPy (obspy.read, its own libmseed build)
# and compares stream id, start time, rate, sample values, record length, byte order,
# encoding and per-record sequence numbers/start times.
#
# Usage: scripts/dev/verify_mseed_writer_with_obspy.sh [python]   (default /work/devvenv/bin/python)
# Builds a throw-away SwiftPM package in a temp dir that depends on this repository.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-/work/devvenv/bin/python}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pkg/Sources/writefiles" "$work/out"
cat > "$work/pkg/Package.swift" <<SWIFT
// swift-tools-version: 6.1
import PackageDescription
let package = Package(name: "writefiles", dependencies: [.package(path: "$repo")],
  targets: [.executableTarget(name: "writefiles", dependencies: [
    .product(name: "MiniSEED", package: "$(basename "$repo")"),
    .product(name: "SeismicCore", package: "$(basename "$repo")")])])
SWIFT
cat > "$work/pkg/Sources/writefiles/main.swift" <<'SWIFT'
import MiniSEED
import SeismicCore
let out = CommandLine.arguments[1]
let id = StreamID(network: "XX", station: "CHK", location: "00", channel: "HHZ")
// 2024-02-29T23:59:59.123456Z: leap day, crosses midnight, needs Blockette 1001.
let start = Timestamp(nanosecondsSinceEpoch: 1_709_251_199_123_456_000)
for (encoding, name) in [(MiniSEEDEncoding.int16, "INT16"), (.int32, "INT32"), (.float32, "FLOAT32"),
                         (.float64, "FLOAT64"), (.steim1, "STEIM1"), (.steim2, "STEIM2")] {
    for length in [512, 4096] {
        var samples: [Double] = []
        for i in 0..<5000 {
            let v = Double((i * 7919) % 20001 - 10000)
            samples.append(encoding == .float64 ? v / 3 : encoding == .float32 ? Double(Float(v / 3)) : v)
        }
        let block = SampleBlock(streamID: id, startTime: start, samplingRateHz: 200, samples: samples)
        try MiniSEEDWriter.write([block], encoding: encoding, recordLength: length, to: "\(out)/\(name)_\(length).mseed")
    }
}
print("written")
SWIFT
(cd "$work/pkg" && swift build -q 2>&1 | grep -v "^$" || true)
"$work/pkg/.build/debug/writefiles" "$work/out"
"$python" - "$work/out" <<'PY'
import glob, os, sys
import numpy as np
import obspy
from obspy.io.mseed.util import get_record_information
out = sys.argv[1]
i = np.arange(5000)
ints = ((i * 7919) % 20001 - 10000).astype(np.float64)
failures = 0
for path in sorted(glob.glob(os.path.join(out, "*.mseed"))):
    name, length = os.path.basename(path)[:-6].rsplit("_", 1)
    st = obspy.read(path)
    tr = st[0]
    expected = ints / 3 if name == "FLOAT64" else (ints / 3).astype(np.float32).astype(np.float64) if name == "FLOAT32" else ints
    checks = {
        "one trace": len(st) == 1,
        "id": tr.id == "XX.CHK.00.HHZ",
        "start": tr.stats.starttime.ns == 1_709_251_199_123_456_000,
        "rate": tr.stats.sampling_rate == 200.0,
        "values": np.array_equal(tr.data.astype(np.float64), expected),
        "encoding": tr.stats.mseed.encoding == name,
        "record length": tr.stats.mseed.record_length == int(length),
        "big-endian": tr.stats.mseed.byteorder == ">",
    }
    # Per record: sequence numbers 1, 2, ... and start = start + samples before / rate (µs).
    with open(path, "rb") as f:
        data = f.read()
    before = 0
    for k in range(len(data) // int(length)):
        rec = data[k * int(length):(k + 1) * int(length)]
        info = get_record_information(__import__("io").BytesIO(rec))
        want = 1_709_251_199_123_456_000 + round(before / 200 * 1e6) * 1000
        checks["sequence %d" % k] = int(rec[0:6]) == k + 1
        checks["record start %d" % k] = info["starttime"].ns == want
        before += info["npts"]
    bad = [k for k, ok in checks.items() if not ok]
    failures += bool(bad)
    print(("FAIL " if bad else "ok   ") + os.path.basename(path), bad if bad else "")
sys.exit(1 if failures else 0)
PY
