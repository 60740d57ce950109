#!/usr/bin/env python3
"""Generates small miniSEED 2 files with ObsPy as independent test fixtures for the MiniSEED module.

Writes Tests/Fixtures/mseed/generated/*.mseed and Tests/Fixtures/mseed/generated/expected.json.
Every expected value comes from how the data were constructed here (sample values, start
times, gaps) and from reading the files back with obspy.read; none comes from QuakeWarn code.

Files:
  int16_be_512.mseed    INT16,   big-endian,    512-byte records
  float32_be_512.mseed  FLOAT32, big-endian,    512-byte records
  steim1_be_512.mseed   STEIM1,  big-endian,    512-byte records (8-, 16- and 32-bit differences)
  steim2_be_512.mseed   STEIM2,  big-endian,    512-byte records (all Steim-2 difference widths)
  int32_le_256.mseed    INT32,   little-endian, 256-byte records (extreme int32 values)
  float64_le_1024.mseed FLOAT64, little-endian, 1024-byte records
  usec_b1001.mseed      STEIM2 starting at a time with microseconds (ObsPy adds Blockette 1001)
  lowrate.mseed         INT32 at 0.1 Hz (rate written as a period: negative factor)
  text_512.mseed        TEXT (ASCII) log records
  multi_gaps.mseed      three streams, records shuffled out of time order: HHZ with a 1.5 s gap
                        and a 2 s overlap; HHE with a 0.4-sample offset (merged, within the
                        half-sample tolerance) then a 0.6-sample offset (a gap); HHN continuous.

Run from the repository root:  /work/devvenv/bin/python scripts/dev/make_mseed_fixtures.py
"""
import io
import json
import os
import random

import numpy as np
import obspy
from obspy import Stream, Trace, UTCDateTime

root = os.path.join(os.path.dirname(__file__), "..", "..")
outdir = os.path.join(root, "Tests", "Fixtures", "mseed", "generated")
os.makedirs(outdir, exist_ok=True)
expected = {"generated_with": "obspy " + obspy.__version__, "files": {}}

T0 = UTCDateTime("2024-02-29T23:59:50.000000Z")  # leap day, crosses midnight and a day-of-year boundary


def trace(data, channel="HHZ", start=T0, rate=100.0, station="GEN"):
    return Trace(data=data, header={"network": "XX", "station": station, "location": "00",
                                    "channel": channel, "starttime": start, "sampling_rate": rate})


def record_bytes(st, **kw):
    buf = io.BytesIO()
    st.write(buf, format="MSEED", **kw)
    return buf.getvalue()


def describe(path):
    """Segments as obspy.read sees them (one Trace per contiguous run)."""
    st = obspy.read(path)
    st.sort(keys=["network", "station", "location", "channel", "starttime"])
    return [{"id": tr.id, "starttime_ns": tr.stats.starttime.ns, "sampling_rate": float(tr.stats.sampling_rate),
             "npts": int(tr.stats.npts), "samples": [float(x) for x in tr.data]} for tr in st]


def write_simple(name, data, encoding, reclen, byteorder, **trace_kw):
    tr = trace(data, **trace_kw)
    path = os.path.join(outdir, name)
    Stream([tr]).write(path, format="MSEED", encoding=encoding, reclen=reclen, byteorder=byteorder)
    segs = describe(path)
    assert len(segs) == 1 and segs[0]["samples"] == [float(x) for x in data], name
    expected["files"][name] = {"encoding": encoding, "record_length": reclen, "byteorder": byteorder,
                               "segments": segs, "discontinuities": []}


rng = np.random.default_rng(20241129)

# INT16: full range including both extremes.
i16 = np.round(32767 * np.sin(np.arange(700) * 0.05)).astype(np.int16)
i16[10], i16[11], i16[12] = -32768, 32767, 0
write_simple("int16_be_512.mseed", i16, "INT16", 512, ">")

# FLOAT32: fractional values, exact in binary32.
f32 = (np.sin(np.arange(500) * 0.1) * 1000.0 + 0.125).astype(np.float32)
f32[0], f32[1] = np.float32(-3.4e38), np.float32(1.5e-38)
write_simple("float32_be_512.mseed", f32, "FLOAT32", 512, ">")

# STEIM1: runs of small, medium and large first differences.
d = np.concatenate([rng.integers(-100, 100, 500), rng.integers(-30000, 30000, 500),
                    rng.integers(-2**28, 2**28, 500)])
s1 = np.cumsum(d).astype(np.int64)
s1 = np.clip(s1, -2**31 + 1, 2**31 - 1).astype(np.int32)
write_simple("steim1_be_512.mseed", s1, "STEIM1", 512, ">", channel="BHZ", rate=20.0)

# STEIM2: differences of every Steim-2 width (4, 5, 6, 8, 10, 15, 30 bits).
# Alternating signs keep the running sum bounded by the largest difference.
signs = np.where(np.arange(300) % 2 == 0, 1, -1)
parts = [rng.integers(2**(b - 2), 2**(b - 1) - 1, 300) * signs for b in (4, 5, 6, 8, 10, 15, 29)]
s2 = np.cumsum(np.concatenate(parts)).astype(np.int64)
assert s2.max() < 2**31 and s2.min() > -2**31
write_simple("steim2_be_512.mseed", s2.astype(np.int32), "STEIM2", 512, ">", channel="HNZ", rate=200.0)

# INT32 little-endian, extreme values.
i32 = rng.integers(-2**31, 2**31 - 1, 300, dtype=np.int64).astype(np.int32)
i32[0], i32[1] = -2**31, 2**31 - 1
write_simple("int32_le_256.mseed", i32, "INT32", 256, "<", channel="LHZ", rate=1.0)

# FLOAT64 little-endian.
f64 = rng.standard_normal(400) * 1e-3
f64[0], f64[1], f64[2] = 1e300, -1e-300, 0.1
write_simple("float64_le_1024.mseed", f64, "FLOAT64", 1024, "<", channel="HNE", rate=250.0)

# Start time with microseconds (Blockette 1001).
write_simple("usec_b1001.mseed", np.arange(1000, dtype=np.int32) % 50 - 25, "STEIM2", 512, ">",
             channel="HHN", start=UTCDateTime("2011-03-11T05:46:23.123456Z"))

# 0.1 Hz (period 10 s).
write_simple("lowrate.mseed", np.arange(200, dtype=np.int32) * 3 - 100, "INT32", 512, ">", channel="VHZ", rate=0.1)

# TEXT records.
text = ("2024-02-29 23:59:50 station GEN: mass position ok, GPS lock, temperature 21.5 C\n" * 12).encode()
tr = Trace(data=np.frombuffer(text, dtype="|S1"),
           header={"network": "XX", "station": "GEN", "location": "", "channel": "LOG", "starttime": T0,
                   "sampling_rate": 0.0})
path = os.path.join(outdir, "text_512.mseed")
Stream([tr]).write(path, format="MSEED", encoding="ASCII", reclen=512)
expected["files"]["text_512.mseed"] = {"encoding": "ASCII", "record_length": 512, "byteorder": ">",
                                       "text": text.decode(), "segments": [], "discontinuities": []}

# Multi-stream file with gaps and overlaps, records shuffled.
rate = 100.0
z1 = (np.arange(1000) % 97 - 48).astype(np.int32)
z2 = (np.arange(1000) % 89 - 44).astype(np.int32) * 2
z3 = (np.arange(700) % 83 - 41).astype(np.int32) * 3
z1_start = T0
z2_start = T0 + 10.0 + 1.5             # gap of 1.5 s after z1 (which ends at T0 + 10 s)
z3_start = z2_start + 10.0 - 2.0       # overlap of 2 s with the end of z2
e1 = (np.arange(1000) % 71 - 35).astype(np.int32)
e2 = (np.arange(1000) % 61 - 30).astype(np.int32)
e3 = (np.arange(500) % 53 - 26).astype(np.int32)
e1_start = T0
e2_start = T0 + 10.0 + 0.004           # 0.4 samples late: continues the segment
e3_start = T0 + 20.0 + 0.006           # 0.6 samples after where e1+e2 continue: a gap
n1 = (np.arange(3000) % 101 - 50).astype(np.int32)
blobs = []
for tr in [trace(z1, "HHZ", z1_start), trace(z2, "HHZ", z2_start), trace(z3, "HHZ", z3_start),
           trace(e1, "HHE", e1_start), trace(e2, "HHE", e2_start), trace(e3, "HHE", e3_start),
           trace(n1, "HHN", T0)]:
    raw = record_bytes(Stream([tr]), encoding="STEIM2", reclen=512, byteorder=">")
    blobs += [raw[i:i + 512] for i in range(0, len(raw), 512)]
random.Random(7).shuffle(blobs)
path = os.path.join(outdir, "multi_gaps.mseed")
with open(path, "wb") as f:
    f.write(b"".join(blobs))


def ns(t):
    return t.ns


expected["files"]["multi_gaps.mseed"] = {
    "encoding": "STEIM2", "record_length": 512, "byteorder": ">",
    "record_count": len(blobs),
    # By construction (not read back): HHE e1+e2 merge into one segment starting at e1_start.
    "segments": [
        {"id": "XX.GEN.00.HHE", "starttime_ns": ns(e1_start), "sampling_rate": rate, "npts": 2000,
         "samples": [float(x) for x in np.concatenate([e1, e2])]},
        {"id": "XX.GEN.00.HHE", "starttime_ns": ns(e3_start), "sampling_rate": rate, "npts": 500,
         "samples": [float(x) for x in e3]},
        {"id": "XX.GEN.00.HHN", "starttime_ns": ns(T0), "sampling_rate": rate, "npts": 3000,
         "samples": [float(x) for x in n1]},
        {"id": "XX.GEN.00.HHZ", "starttime_ns": ns(z1_start), "sampling_rate": rate, "npts": 1000,
         "samples": [float(x) for x in z1]},
        {"id": "XX.GEN.00.HHZ", "starttime_ns": ns(z2_start), "sampling_rate": rate, "npts": 1000,
         "samples": [float(x) for x in z2]},
        {"id": "XX.GEN.00.HHZ", "starttime_ns": ns(z3_start), "sampling_rate": rate, "npts": 700,
         "samples": [float(x) for x in z3]},
    ],
    "discontinuities": [
        {"id": "XX.GEN.00.HHE", "kind": "gap", "expected_ns": ns(T0 + 20.0), "actual_ns": ns(e3_start)},
        {"id": "XX.GEN.00.HHZ", "kind": "gap", "expected_ns": ns(T0 + 10.0), "actual_ns": ns(z2_start)},
        {"id": "XX.GEN.00.HHZ", "kind": "overlap", "expected_ns": ns(z2_start + 10.0), "actual_ns": ns(z3_start)},
    ],
    # ObsPy's own view, for comparison: obspy.read merges nothing, so one Trace per run of records.
    "obspy_gaps": [[g[0] + "." + g[1] + "." + g[2] + "." + g[3], g[4].ns, g[5].ns, g[6]]
                   for g in obspy.read(path).get_gaps()],
}

with open(os.path.join(outdir, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", sorted(os.listdir(outdir)))
