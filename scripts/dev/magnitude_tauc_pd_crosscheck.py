#!/usr/bin/env python3
"""Independent NumPy/SciPy implementation of QuakeWarn's real-time station-parameter chain
(Sources/Magnitude/RealTimeStationProcessor.swift), run on the K-NET AKT013 EW fixture, writing
Tests/Fixtures/magnitude/akt013_station_parameters_reference.json for MagnitudeTests.

Independent of the Swift code in form, not just transcribed:
- Butterworth coefficients from scipy.signal.butter(2, fc, 'highpass'/'lowpass', fs=fs)
  (Swift designs them itself by the bilinear transform);
- filtering with scipy.signal.lfilter (transposed direct form II; Swift: direct form I);
- running mean and trapezoid integration as lfilter recursions, tau_p as an explicit loop,
  restarted at the pick (X = D = 0, previous sample = the low-passed velocity at pick - 1), and
  tau_p^max taken over the samples at which the restarted sums hold >= TAUP_DELAY * fs samples
  (default: the recursion's time constant 1/((1 - alpha) fs) = 1 s).
Because the filter structures differ, results agree to rounding (~1e-12 relative), not bit for
bit; MagnitudeTests requires <= 1e-9 relative.

The pick is obspy recursive_sta_lta(0.5 s, 10 s) + trigger_onset(3.5, 0.5) on the chain's
high-passed acceleration, first ON sample (the same defaults `quakewarn magnitude` uses).

Run: /work/devvenv/bin/python scripts/dev/magnitude_tauc_pd_crosscheck.py
(ObsPy 1.5.1, SciPy, NumPy; dev aid only.)
"""
import json
import os
import sys

import numpy as np
from obspy import read
from obspy.signal.trigger import recursive_sta_lta, trigger_onset
from scipy import signal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MSEED = os.path.join(ROOT, "Tests/Fixtures/mseed/obspy_KNET_AKT013_EW.mseed")
OUT = os.path.join(ROOT, "Tests/Fixtures/magnitude/akt013_station_parameters_reference.json")

GAIN = 419430.4          # counts per m/s^2 = 1 / 2.384185791015625e-06 (K-NET header: 2000 gal / 2^23)
FC = 0.075               # Hz, CWB high-pass
MEAN_TAU = 10.0          # s, running-mean time constant (0.999 at 100 sps)
LP_TAUP = 3.0            # Hz, low-pass before tau_p
TAUP_DELAY = 1.0         # s: 1/((1 - alpha) fs) with alpha = 1 - 1/fs
UPDATE = 0.5             # s
MAX_WINDOW = 3.0         # s
R_HYPO = float(np.hypot(80.78, 7.0))  # km, catalog epicentral distance and depth


def chain(counts, fs):
    x = counts / GAIN
    c = 1.0 - 1.0 / (MEAN_TAU * fs)
    # m_i = c m_{i-1} + (1-c) x_i with m_{-1} := x_0  -> lfilter with initial condition c*x0
    m, _ = signal.lfilter([1.0 - c], [1.0, -c], x, zi=[c * x[0]])
    a0 = x - m
    b, a = signal.butter(2, FC, "highpass", fs=fs)
    acc = signal.lfilter(b, a, a0)
    half = 0.5 / fs
    vel = signal.lfilter(b, a, signal.lfilter([half, half], [1.0, -1.0], acc))
    disp = signal.lfilter(b, a, signal.lfilter([half, half], [1.0, -1.0], vel))
    bl, al = signal.butter(2, LP_TAUP, "lowpass", fs=fs)
    vlp = signal.lfilter(bl, al, vel)
    return a0, acc, vel, disp, vlp


def taup_from_pick(vlp, pick, fs):
    """tau_p for samples pick.. with the recursion restarted at the pick (nan where D = 0)."""
    alpha = 1.0 - 1.0 / fs
    seg = vlp[pick:]
    prev = vlp[pick - 1] if pick >= 1 else 0.0
    dv = np.diff(seg, prepend=prev) * fs
    taup = np.full(len(seg), np.nan)
    X = D = 0.0
    for i in range(len(seg)):
        X = alpha * X + seg[i] ** 2
        D = alpha * D + dv[i] ** 2
        if D > 0:
            taup[i] = 2 * np.pi * np.sqrt(X / D)
    return taup


def main():
    tr = read(MSEED)[0]
    fs = float(tr.stats.sampling_rate)
    counts = tr.data.astype(np.float64)
    a0, acc, vel, disp, vlp = chain(counts, fs)
    cf = recursive_sta_lta(acc, int(round(0.5 * fs)), int(round(10 * fs)))
    on = trigger_onset(cf, 3.5, 0.5)
    if len(on) == 0:
        sys.exit("no trigger")
    pick = int(on[0][0])
    taup = taup_from_pick(vlp, pick, fs)
    delay = int(round(TAUP_DELAY * fs))
    windows = []
    for k in range(1, int(round(MAX_WINDOW / UPDATE)) + 1):
        n = int(round(k * UPDATE * fs))
        s = slice(pick, pick + n)
        u, v = disp[s], vel[s]
        pd = float(np.max(np.abs(u)))
        tauc = float(2 * np.pi / np.sqrt(np.sum(v ** 2) / np.sum(u ** 2)))
        taupmax = float(np.nanmax(taup[delay - 1:n])) if n >= delay else None
        pd_cm = pd * 100
        m_ka = 1.23 * np.log10(pd_cm) + 1.38 * np.log10(R_HYPO) + 5.39
        m_wz = (np.log10(pd_cm) + 3.463 + 1.374 * np.log10(R_HYPO)) / 0.729
        m_tc = 4.218 * np.log10(tauc) + 6.166
        m_tp = 7.14 * np.log10(taupmax) + 5.93 if taupmax is not None else None
        windows.append({
            "windowSampleCount": n,
            "secondsAfterPick": n / fs,
            "pdMeters": pd,
            "pvMetersPerSecond": float(np.max(np.abs(v))),
            "paMetersPerSecondSquared": float(np.max(np.abs(acc[s]))),
            "pgaMetersPerSecondSquared": float(np.max(np.abs(a0[s]))),
            "tauCSeconds": tauc,
            "tauPMaxSeconds": taupmax,
            "magnitudeKuyukAllen2013": float(m_ka),
            "magnitudeWuZhao2006": float(m_wz),
            "magnitudeTauC": float(m_tc),
            "magnitudeTauP": float(m_tp) if m_tp is not None else None,
        })
    ref = {
        "generator": "scripts/dev/magnitude_tauc_pd_crosscheck.py (NumPy %s, ObsPy read + recursive_sta_lta)" % np.__version__,
        "mseed": "mseed/obspy_KNET_AKT013_EW.mseed",
        "samplingRateHz": fs,
        "countsPerMeterPerSecondSquared": GAIN,
        "highPassCornerHz": FC,
        "meanRemovalTimeConstantSeconds": MEAN_TAU,
        "tauPLowPassHz": LP_TAUP,
        "tauPStartDelaySeconds": TAUP_DELAY,
        "hypocentralDistanceKilometers": R_HYPO,
        "pickSample": pick,
        "pickTime": str(tr.stats.starttime + pick / fs),
        "windows": windows,
    }
    with open(OUT, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(json.dumps({k: ref[k] for k in ("pickSample", "pickTime")}))
    for w in windows:
        print("%.1f s  Pd %.4e m  tauc %.3f s  taup %.3f s  M_KA %.2f  M_WZ %.2f  M_tc %.2f  M_tp %.2f" % (
            w["secondsAfterPick"], w["pdMeters"], w["tauCSeconds"], w["tauPMaxSeconds"] or float("nan"),
            w["magnitudeKuyukAllen2013"], w["magnitudeWuZhao2006"], w["magnitudeTauC"], w["magnitudeTauP"] or float("nan")))


if __name__ == "__main__":
    main()
