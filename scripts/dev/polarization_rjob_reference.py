#!/usr/bin/env python3
"""Independent reference for EventBuilder's P-wave polarisation back-azimuth (dev aid only).

Reads the RJOB 2005-08-01 3-component record (Tests/Fixtures/mseed/obspy_RJOB_20050801_{Z,N,E}.mseed,
ObsPy 1.5.1 test data, LGPL-3.0-or-later), and for a P pick at PICK_REL_S seconds after the start
(ObsPy ar_pick's P for this record, 30.635 s, the value the Picking tests use) computes:
  1. x - x[0] per component, causal Butterworth band-pass 1-10 Hz order 4 (scipy.signal.butter
     output='sos' + sosfilt, zero initial state),
  2. covariance of (N, E, Z) over [pick, pick + 1 s) about the window mean (numpy.cov, bias=True),
  3. numpy.linalg.eigh; largest eigenvector oriented up (z > 0); baz = atan2(E, N) + 180 deg,
  4. rectilinearity 1 - (l2 + l3) / (2 l1).
Writes Tests/Fixtures/events/rjob_polarization_reference.json.

Run: /work/devvenv/bin/python scripts/dev/polarization_rjob_reference.py
"""
import json
import math
import os

import numpy as np
from obspy import read
from scipy.signal import butter, sosfilt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSEED = os.path.join(ROOT, "Tests", "Fixtures", "mseed")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "events", "rjob_polarization_reference.json")
PICK_REL_S = 30.635


def main():
    comps = {}
    for c in "NEZ":
        tr = read(os.path.join(MSEED, f"obspy_RJOB_20050801_{c}.mseed"))[0]
        comps[c] = tr
    fs = comps["Z"].stats.sampling_rate
    pick = int(round(PICK_REL_S * fs))
    n = int(round(1.0 * fs))
    sos = butter(4, [1.0, 10.0], btype="bandpass", fs=fs, output="sos")
    win = []
    for c in "NEZ":
        x = comps[c].data.astype(np.float64)
        x = x[: pick + n] - x[0]
        y = sosfilt(sos, x)
        win.append(y[pick: pick + n])
    w = np.vstack(win)  # rows N, E, Z
    cov = np.cov(w, bias=True)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals = vals[order]
    vecs = vecs[:, order]
    v1 = vecs[:, 0]
    if v1[2] < 0:
        v1 = -v1
    baz = (math.degrees(math.atan2(v1[1], v1[0])) + 180.0) % 360.0
    rect = 1.0 - (vals[1] + vals[2]) / (2.0 * vals[0])
    inc = math.degrees(math.acos(min(1.0, abs(v1[2]))))
    result = {
        "source": "scripts/dev/polarization_rjob_reference.py (numpy/scipy, independent of the Swift code)",
        "pick_rel_s": PICK_REL_S,
        "starttime": str(comps["Z"].stats.starttime),
        "sampling_rate": fs,
        "window_s": 1.0,
        "filter": "butter(4, [1, 10], bandpass, sos) + sosfilt after x - x[0]",
        "back_azimuth_deg": baz,
        "rectilinearity": rect,
        "apparent_incidence_deg": inc,
        "eigenvalues": [float(v) for v in vals],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
