#!/usr/bin/env python3
"""Independent reference values for the MiniSEED reader tests, computed with ObsPy.

Reads every Tests/Fixtures/mseed/obspy_*.mseed with obspy.read (ObsPy's own libmseed build)
and writes Tests/Fixtures/mseed/reference_values.json: per file the stream id, start time in
integer nanoseconds, sampling rate (repr), sample count, the first and last 10 samples, the
exact float64 sum (math.fsum), min, max and ObsPy's per-record information of the first record.

Run from the repository root:  /work/devvenv/bin/python scripts/dev/mseed_reference_values.py
"""
import glob
import json
import math
import os

import obspy
from obspy.io.mseed.util import get_record_information

root = os.path.join(os.path.dirname(__file__), "..", "..")
fixtures = os.path.join(root, "Tests", "Fixtures", "mseed")
out = {"generated_with": "obspy " + obspy.__version__, "files": {}}
for path in sorted(glob.glob(os.path.join(fixtures, "obspy_*.mseed"))):
    st = obspy.read(path)
    assert len(st) == 1, path
    tr = st[0]
    data = [float(x) for x in tr.data]
    info = get_record_information(path)
    out["files"][os.path.basename(path)] = {
        "id": tr.id,
        "starttime_ns": tr.stats.starttime.ns,
        "sampling_rate": repr(float(tr.stats.sampling_rate)),
        "npts": int(tr.stats.npts),
        "encoding": tr.stats.mseed.encoding,
        "record_length": int(tr.stats.mseed.record_length),
        "byteorder": tr.stats.mseed.byteorder,
        "number_of_records": int(tr.stats.mseed.number_of_records),
        "first": data[:10],
        "last": data[-10:],
        "sum": math.fsum(data),
        "min": min(data),
        "max": max(data),
        "first_record_samples": int(info["npts"]),
    }
with open(os.path.join(fixtures, "reference_values.json"), "w") as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", len(out["files"]), "files")
