#!/usr/bin/env python3
"""Generate SciPy reference values for the Swift Butterworth / SOS filter tests.

Run with the dev venv (SciPy 1.17.1, NumPy 2.4.6 were used for the committed files):

    /work/devvenv/bin/python scripts/dev/make_butter_fixtures.py

Writes
  Tests/Fixtures/filters/butter_coefficients.json
      `scipy.signal.butter(N, Wn, btype, fs=fs, output='sos')` for every design family below and
      every order 1...10, plus the per-design group delay (sum of the per-section
      `scipy.signal.group_delay((b, a), w, fs=fs)`) at a few frequencies.
  Tests/Fixtures/filters/butter_outputs.json
      One shared input (seeded Gaussian noise rounded to integer "counts", so it is exactly
      representable and short), and for a set of designs the `scipy.signal.sosfilt` output
      (zero initial state) on that input, stored every `stride`-th sample (plus the last), and the
      first `impulse_len` samples of the impulse response.

Every double is written as a Python `repr` string (shortest round-trip form, parsed exactly by
Swift's `Double(String)`), so nothing is lost.
"""
import json
import os

import numpy as np
import scipy
from scipy import signal

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "Fixtures", "filters"))

# (name, btype, corners Hz, fs Hz)
FAMILIES = [
    ("hp_0.075_100", "highpass", [0.075], 100.0),
    ("lp_3_100", "lowpass", [3.0], 100.0),
    ("lp_10_100", "lowpass", [10.0], 100.0),
    ("bp_0.1_10_100", "bandpass", [0.1, 10.0], 100.0),
    ("bp_1_20_200", "bandpass", [1.0, 20.0], 200.0),
    ("bp_0.5_3_100", "bandpass", [0.5, 3.0], 100.0),
    ("hp_1_200", "highpass", [1.0], 200.0),
]

# designs whose sosfilt output is stored: (family, order)
OUTPUT_CASES = [
    ("hp_0.075_100", 1), ("hp_0.075_100", 2), ("hp_0.075_100", 4), ("hp_0.075_100", 5),
    ("lp_3_100", 3), ("lp_10_100", 4),
    ("bp_0.1_10_100", 4), ("bp_1_20_200", 1), ("bp_1_20_200", 3), ("bp_1_20_200", 4),
    ("bp_0.5_3_100", 6), ("hp_1_200", 4), ("hp_1_200", 6), ("bp_0.1_10_100", 10),
]

N_INPUT = 3000
STRIDE = 10
IMPULSE_LEN = 200


def r(x):
    return repr(float(x))


def design(btype, corners, fs, order):
    wn = corners[0] if len(corners) == 1 else corners
    return signal.butter(order, wn, btype, fs=fs, output="sos")


def group_delay_s(sos, freqs, fs):
    """Group delay in seconds of the cascade = sum of the section group delays (SciPy, per biquad)."""
    total = np.zeros(len(freqs))
    for sec in sos:
        _, gd = signal.group_delay((sec[:3], sec[3:]), w=np.asarray(freqs), fs=fs)
        total += gd
    return total / fs  # group_delay returns samples


def main():
    os.makedirs(OUT, exist_ok=True)
    coeffs = []
    for name, btype, corners, fs in FAMILIES:
        for order in range(1, 11):
            sos = design(btype, corners, fs, order)
            lo = corners[0]
            hi = corners[-1]
            freqs = sorted({lo, hi, (lo * hi) ** 0.5 if btype == "bandpass" else 2.0 * lo if btype == "highpass" else 0.5 * lo})
            gd = group_delay_s(sos, freqs, fs)
            coeffs.append({
                "family": name, "btype": btype, "corners_hz": [r(c) for c in corners], "fs_hz": r(fs),
                "order": order,
                "sos": [[r(v) for v in row] for row in sos],
                "group_delay": {"freqs_hz": [r(f) for f in freqs], "seconds": [r(g) for g in gd]},
            })
    meta = {
        "generator": "scripts/dev/make_butter_fixtures.py",
        "scipy": scipy.__version__, "numpy": np.__version__,
        "call": "scipy.signal.butter(order, Wn, btype, fs=fs_hz, output='sos')",
        "group_delay": "sum over sections of scipy.signal.group_delay((b, a), w=freqs_hz, fs=fs_hz), "
                       "divided by fs (seconds)",
    }
    with open(os.path.join(OUT, "butter_coefficients.json"), "w") as f:
        json.dump({"meta": meta, "designs": coeffs}, f, separators=(",", ":"))
        f.write("\n")

    rng = np.random.default_rng(20260129)
    x = np.round(rng.standard_normal(N_INPUT) * 1000.0)
    x[1500] += 50000.0  # a spike in the middle: exercises the state after a large transient
    impulse = np.zeros(IMPULSE_LEN)
    impulse[0] = 1.0
    fam = {f[0]: f for f in FAMILIES}
    cases = []
    idx = list(range(0, N_INPUT, STRIDE))
    if idx[-1] != N_INPUT - 1:
        idx.append(N_INPUT - 1)
    for name, order in OUTPUT_CASES:
        _, btype, corners, fs = fam[name]
        sos = design(btype, corners, fs, order)
        y = signal.sosfilt(sos, x)
        h = signal.sosfilt(sos, impulse)
        cases.append({
            "family": name, "btype": btype, "corners_hz": [r(c) for c in corners], "fs_hz": r(fs),
            "order": order,
            "output_stride_samples": [r(y[i]) for i in idx],
            "impulse_response": [r(v) for v in h],
        })
    meta_out = {
        "generator": "scripts/dev/make_butter_fixtures.py",
        "scipy": scipy.__version__, "numpy": np.__version__,
        "input": "numpy.random.default_rng(20260129).standard_normal(3000)*1000 rounded to integers, "
                 "plus 50000 added at index 1500",
        "output": "scipy.signal.sosfilt(butter(..., output='sos'), input) with zero initial state; "
                  "stored at indices output_indices",
        "impulse": f"sosfilt of a unit impulse at index 0, length {IMPULSE_LEN}",
    }
    with open(os.path.join(OUT, "butter_outputs.json"), "w") as f:
        json.dump({"meta": meta_out, "input": [str(int(v)) for v in x], "output_indices": idx,
                   "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
