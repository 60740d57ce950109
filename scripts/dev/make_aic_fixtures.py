#!/usr/bin/env python3
"""Export ObsPy `aic_simple` reference values for the Swift MaedaAIC tests.

    /work/devvenv/bin/python scripts/dev/make_aic_fixtures.py [path/to/obspy_RJOB_20050801_Z.mseed]

Writes Tests/Fixtures/filters/aic_simple_obspy.json with two cases, each with its input and
ObsPy 1.5.1's `obspy.signal.trigger.aic_simple(input)`:
  noise_step   seeded Gaussian noise rounded to integers, std 100 for 500 samples then 1000
               (an onset at index 500); 800 samples.
  rjob_z_p     701 samples of the RJOB 2005-08-01 Z trace (ObsPy test data, LGPL-3.0-or-later),
               demeaned by the full-trace mean, samples 5527...6227 (27.635 s ... 31.135 s after the
               trace start; ObsPy's ar_pick P is at 30.635 s).
ObsPy leaves aic[0] uninitialised (np.empty + "+="), so it is exported as null.
Doubles are Python repr strings (exact round trip).
"""
import json
import os
import sys

import numpy as np
import obspy
from obspy import read
from obspy.signal.trigger import aic_simple

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "Tests", "Fixtures", "filters", "aic_simple_obspy.json")


def case(name, x, note):
    aic = aic_simple(x)
    return {"name": name, "note": note, "input": [repr(float(v)) for v in x],
            "aic": [None] + [repr(float(v)) for v in aic[1:]]}


def main():
    mseed = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "Tests", "Fixtures", "mseed",
                                                                 "obspy_RJOB_20050801_Z.mseed")
    if not os.path.exists(mseed):
        mseed = "/work/shared/data/mseed/obspy_RJOB_20050801_Z.mseed"
    rng = np.random.default_rng(1985)
    x = np.concatenate([rng.standard_normal(500) * 100.0, rng.standard_normal(300) * 1000.0])
    x = np.round(x)
    tr = read(mseed)[0]
    z = tr.data.astype(np.float64)
    z = z - z.mean()
    w = z[5527:6228].copy()
    cases = [
        case("noise_step", x, "default_rng(1985): 500 x N(0,100^2) then 300 x N(0,1000^2), rounded"),
        case("rjob_z_p", w, "RJOB 2005-08-01 Z, full-trace demeaned, samples 5527...6227"),
    ]
    meta = {"generator": "scripts/dev/make_aic_fixtures.py", "obspy": obspy.__version__,
            "numpy": np.__version__, "call": "obspy.signal.trigger.aic_simple(input)",
            "aic0": "null: ObsPy leaves aic[0] uninitialised"}
    with open(OUT, "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
