#!/usr/bin/env python3
"""Generate the GroundMotion test references in Tests/Fixtures/groundmotion/ (dev aid only).

Run from the repository root with the dev venv (ObsPy 1.5.1, NumPy, SciPy):
    /work/devvenv/bin/python scripts/dev/groundmotion_reference.py

Inputs are the committed miniSEED fixtures Tests/Fixtures/mseed/obspy_*.mseed (ObsPy 1.5.1 test
data, LGPL-3.0-or-later; original owners in Tests/Fixtures/catalog.json). Outputs:

* wa_akt013.json  -- ObsPy `simulate_seismometer` (Wood-Anderson simulation and an accelerometer
  correction to velocity with a 60 dB water level) on K-NET AKT013 EW, plus the Hutton & Boore
  ML computed here from the WA amplitudes.
* cosine_taper.json -- ObsPy `cosine_taper(npts, p)` on small and edge sizes.
* intensity_mema.json -- GB/T 17742-2020 intensity of the 3-component MEMA record computed by an
  independent NumPy implementation of the same frequency-domain method (pocketfft, not FFTW),
  ObsPy's raw per-channel PGA from /work/shared/data/reference (copied here), and, for
  information only, a different method (SciPy sosfiltfilt Butterworth + trapezoid integration).

Outputs are decimated (every `step`-th sample) to keep the files small.
"""
import json
import math
import os

import numpy as np
import scipy.integrate
import scipy.signal
from obspy import read
from obspy.signal.invsim import WOODANDERSON, cosine_taper, simulate_seismometer
from obspy.signal.util import _npts2nfft

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSEED = os.path.join(ROOT, "Tests", "Fixtures", "mseed")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "groundmotion")
SHARED_REF = "/work/shared/data/reference"  # only read here, never by tests


def cplx(z):
    return [float(np.real(z)), float(np.imag(z))]


def paz_json(paz):
    return {"poles": [cplx(p) for p in paz["poles"]], "zeros": [cplx(z) for z in paz["zeros"]],
            "gain": float(paz["gain"]), "sensitivity": float(paz["sensitivity"])}


def wa_paz(h, magnification, zeros_at_origin):
    w0 = 2 * math.pi / 0.8
    p = complex(-h * w0, w0 * math.sqrt(1 - h * h))
    return {"poles": [p, p.conjugate()], "zeros": [0j] * zeros_at_origin, "gain": 1.0,
            "sensitivity": magnification}


def summary(x, step):
    i = int(np.argmax(np.abs(x)))
    return {"peak_abs": float(abs(x[i])), "peak_sample": i, "step": step,
            "decimated": [float(v) for v in x[::step]]}


def hutton_boore(a_mm, r_km):
    return math.log10(a_mm) + 1.110 * math.log10(r_km / 100) + 0.00189 * (r_km - 100) + 3.0


def good_size(n):
    """Smallest 2^a 3^b 5^c 7^d >= n (same definition as RealFFT.goodSize)."""
    best = None
    p7 = 1
    while p7 < 2 * n:
        p5 = p7
        while p5 < 2 * n:
            p3 = p5
            while p3 < 2 * n:
                c = p3
                while c < n:
                    c *= 2
                if best is None or c < best:
                    best = c
                p3 *= 3
            p5 *= 5
        p7 *= 7
    return best


def wood_anderson_cases():
    tr = read(os.path.join(MSEED, "obspy_KNET_AKT013_EW.mseed"))[0]
    calib = 2.384185791015625e-06  # m/s^2 per count: 2000 gal / 2^23 (K-NET header)
    counts = tr.data.astype(np.float64)
    acc = counts * calib
    fs = tr.stats.sampling_rate
    n = len(counts)
    step = 50
    r_km = 81.082  # hypocentral distance from catalog.json
    cases = {}
    obspy_wa_acc = {"poles": WOODANDERSON["poles"], "zeros": [], "gain": 1.0,
                    "sensitivity": WOODANDERSON["sensitivity"]}
    out = simulate_seismometer(acc.copy(), fs, paz_remove=None, paz_simulate=obspy_wa_acc)
    cases["obspy_wa_acceleration_input"] = {
        "call": "simulate_seismometer(counts*calib, 100, paz_remove=None, paz_simulate=<WOODANDERSON "
                "poles, no zeros, gain 1, sensitivity 2080>) with defaults (taper 0.05, pitsasim "
                "end-point detrend, water_level 600)",
        "input": "acceleration_m_s2", "paz_simulate": paz_json(obspy_wa_acc), "paz_remove": None,
        "water_level_db": None, "units": "m", **summary(out, step)}
    accel_as_velocity = {"poles": [], "zeros": [0j], "gain": 1.0, "sensitivity": 1.0 / calib}
    out = simulate_seismometer(counts.copy(), fs, paz_remove=accel_as_velocity, paz_simulate=WOODANDERSON)
    cases["obspy_wa_remove_accelerometer"] = {
        "call": "simulate_seismometer(counts, 100, paz_remove=<accelerometer for velocity input: "
                "zero at 0, sensitivity 1/calib>, paz_simulate=WOODANDERSON) with defaults (600 dB)",
        "input": "counts", "paz_simulate": paz_json(WOODANDERSON), "paz_remove": paz_json(accel_as_velocity),
        "water_level_db": 600.0, "units": "m", **summary(out, step)}
    out = simulate_seismometer(counts.copy(), fs, paz_remove=accel_as_velocity, paz_simulate=None,
                               water_level=60.0)
    cases["obspy_velocity_water_level_60"] = {
        "call": "simulate_seismometer(counts, 100, paz_remove=<accelerometer for velocity input>, "
                "paz_simulate=None, water_level=60.0): instrument correction to velocity where the "
                "water level is active below ~1/1000 of the Nyquist gain",
        "input": "counts", "paz_simulate": None, "paz_remove": paz_json(accel_as_velocity),
        "water_level_db": 60.0, "units": "m/s", **summary(out, step)}
    for name, h, g in (("gutenberg1935", 0.8, 2800.0), ("uhrhammerCollins1990", 0.7, 2080.0)):
        paz = wa_paz(h, g, 0)
        out = simulate_seismometer(acc.copy(), fs, paz_remove=None, paz_simulate=paz)
        a_mm = float(np.max(np.abs(out))) * 1000
        cases["wa_" + name] = {
            "call": f"simulate_seismometer(counts*calib, 100, paz_simulate=<WA h={h}, G={g}, "
                    "acceleration input>) with defaults",
            "input": "acceleration_m_s2", "paz_simulate": paz_json(paz), "paz_remove": None,
            "water_level_db": None, "units": "m", **summary(out, step),
            "amplitude_mm": a_mm, "hypocentral_distance_km": r_km,
            "ml_hutton_boore_1987": hutton_boore(a_mm, r_km)}
    return {
        "source": "Tests/Fixtures/mseed/obspy_KNET_AKT013_EW.mseed (NIED K-NET AKT013 EW, 1996-08-10 M5.9, "
                  "via ObsPy 1.5.1 test data)",
        "generator": "scripts/dev/groundmotion_reference.py", "obspy": __import__("obspy").__version__,
        "calib_m_s2_per_count": calib, "sampling_rate_hz": fs, "npts": n,
        "obspy_nfft": int(_npts2nfft(n)), "obspy_taper_fraction": 0.05, "obspy_detrend": "end points (pitsasim)",
        "cases": cases}


def butterworth_gain(f, lo=0.1, hi=10.0, order=4):
    with np.errstate(divide="ignore"):
        g = 1 / np.sqrt(1 + (lo / f) ** (2 * order)) / np.sqrt(1 + (f / hi) ** (2 * order))
    g[f == 0] = 0.0
    return g


def intensity_case():
    calibs = {"0": 1.1694431304931641e-06, "1": 1.1699110609998543e-06, "2": 1.1695367089556515e-06}
    comps = []
    for c in ("0", "1", "2"):
        tr = read(os.path.join(MSEED, f"obspy_MEMA_ch{c}.mseed"))[0]
        comps.append((tr, calibs[c]))
    fs = comps[0][0].stats.sampling_rate
    n = len(comps[0][0].data)
    nfft = good_size(2 * n)
    f = np.arange(nfft // 2 + 1) * fs / nfft
    b = butterworth_gain(f)
    w = 2 * np.pi * f
    vel_gain = np.zeros(len(f), dtype=complex)
    vel_gain[1:] = b[1:] / (1j * w[1:])
    accs, vels, per = [], [], []
    for tr, calib in comps:
        x = tr.data.astype(np.float64) * calib
        x = x - x.mean()
        raw_peak = float(np.max(np.abs(x)))
        x = x * cosine_taper(n, 0.05)
        spec = np.fft.rfft(x, n=nfft)
        a = np.fft.irfft(spec * b, n=nfft)[:n]
        v = np.fft.irfft(spec * vel_gain, n=nfft)[:n]
        accs.append(a)
        vels.append(v)
        ref = json.load(open(os.path.join(SHARED_REF, f"obspy_MEMA_ch{tr.stats.channel[-1]}.json")))
        pga_case = ref["cases"][f"obspy_MEMA_ch{tr.stats.channel[-1]}__pga"]
        per.append({"stream": tr.id, "calib_m_s2_per_count": calib,
                    "pga_filtered": float(np.max(np.abs(a))), "pgv_filtered": float(np.max(np.abs(v))),
                    "raw_peak_demeaned": raw_peak,
                    "obspy_reference_pga": pga_case["pga"], "obspy_reference_pga_sample": pga_case["pga_sample"],
                    "obspy_reference_definition": pga_case["definition"]})
    va = np.sqrt(sum(a ** 2 for a in accs))
    vv = np.sqrt(sum(v ** 2 for v in vels))
    pga, pgv = float(va.max()), float(vv.max())
    i_a = 3.17 * math.log10(pga) + 6.59
    i_v = 3.00 * math.log10(pgv) + 9.77
    combined = i_v if (i_a >= 6.0 and i_v >= 6.0) else (i_a + i_v) / 2
    combined = min(max(combined, 1.0), 12.0)
    # Different method, for information: causal-free SciPy Butterworth (order 4 band-pass applied
    # forward and backward = order-8 magnitude squared) and trapezoid integration.
    sos = scipy.signal.butter(4, [0.1, 10.0], btype="bandpass", fs=fs, output="sos")
    alt_a, alt_v = [], []
    for tr, calib in comps:
        x = tr.data.astype(np.float64) * calib
        x = (x - x.mean()) * cosine_taper(n, 0.05)
        a = scipy.signal.sosfiltfilt(sos, x)
        alt_a.append(a)
        alt_v.append(scipy.integrate.cumulative_trapezoid(a, dx=1 / fs, initial=0))
    alt_pga = float(np.sqrt(sum(a ** 2 for a in alt_a)).max())
    alt_pgv = float(np.sqrt(sum(v ** 2 for v in alt_v)).max())
    return {
        "source": "Tests/Fixtures/mseed/obspy_MEMA_ch{0,1,2}.mseed (BE.MEMA..HN0/1/2, Kinemetrics, "
                  "ObsPy 1.5.1 test data); per-channel calib from catalog.json",
        "generator": "scripts/dev/groundmotion_reference.py",
        "method": "demean, ObsPy cosine_taper(n, 0.05), zero-pad to the 7-smooth nfft >= 2n, numpy rfft, "
                  "x B(f) (4th-order Butterworth magnitude HP 0.1 Hz x LP 10 Hz, zero phase) for acceleration, "
                  "x B(f)/(i 2 pi f) for velocity, irfft, first n samples, vector peaks",
        "sampling_rate_hz": fs, "npts": n, "nfft": nfft,
        "pga_m_s2": pga, "pga_sample": int(va.argmax()), "pgv_m_s": pgv, "pgv_sample": int(vv.argmax()),
        "intensity_from_pga": i_a, "intensity_from_pgv": i_v, "intensity_unrounded": combined,
        "intensity": round(combined, 1), "components": per,
        "other_method_for_information": {
            "method": "scipy butter(4, [0.1, 10], bandpass) sosfiltfilt + cumulative_trapezoid, same taper",
            "pga_m_s2": alt_pga, "pgv_m_s": alt_pgv}}


def taper_cases():
    """ObsPy cosine_taper(npts, p) (defaults halfcosine=True, sactaper=False) on edge sizes."""
    cases = []
    for npts in (1, 2, 3, 4, 7, 30, 101):
        for p in (0.0, 0.05, 0.1, 0.5, 1.0):
            cases.append({"npts": npts, "p": p, "window": [float(v) for v in cosine_taper(npts, p)]})
    return {"generator": "scripts/dev/groundmotion_reference.py", "call": "obspy.signal.invsim.cosine_taper(npts, p)",
            "cases": cases}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, payload in (("wa_akt013.json", wood_anderson_cases()), ("intensity_mema.json", intensity_case()),
                          ("cosine_taper.json", taper_cases())):
        with open(os.path.join(OUT, name), "w") as fh:
            json.dump(payload, fh, indent=1)
            fh.write("\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
