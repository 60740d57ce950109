#!/usr/bin/env python3
"""S-wave local magnitude of the simulated scenarios (dev aid; nothing here is used at run time).

For each of the 20 seeds from the committed one (as scripts/dev/scenario_seed_spread.py), it
simulates the scenario, simulates a Wood-Anderson seismograph (h 0.8, G 2800, T0 0.8 s) on both
horizontals of both stations (acceleration in, FFT, H_acc = G / ((s - p1)(s - p2))), and computes
Hutton & Boore (1987) ML = log10 A[mm] + 1.110 log10(r/100) + 0.00189 (r - 100) + 3.0 with the
true hypocentral distance; the event ML is the mean of the four. Prints ML - Mw over the seeds.
It measures whether an S-wave ML would help the final magnitude (docs/onsite-distance.md 6.1).

Usage (repository root, after `swift build`; NumPy and ObsPy, e.g. .venv-test):
    python scripts/dev/s_wave_ml_check.py SCENARIO SOURCE
    (SCENARIO: nearby-m4.5 | longquan-m5.8 | longmenshan-m7.5; SOURCE: brune | atkinson-silva-2000)
"""
import json, math, os, subprocess, sys, tempfile
import numpy as np
from obspy import read
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scenario_seed_spread import SETS, STATION_ARGS, distance_km
q = os.path.abspath(".build/debug/quakewarn")
GAIN = 427700.0
ST = {"SC.NANTA": (30.270, 105.035), "SC.GAOSI": (30.380, 105.120)}
def wa_peak_mm(acc, fs, h=0.8, G=2800.0):
    n = len(acc); nfft = 1 << (int(np.ceil(np.log2(n))) + 1)
    A = np.fft.rfft(acc - acc.mean(), nfft)
    f = np.fft.rfftfreq(nfft, 1 / fs); s = 2j * np.pi * f
    w0 = 2 * np.pi / 0.8
    p1 = -h * w0 + 1j * w0 * math.sqrt(1 - h * h); p2 = np.conj(p1)
    H = G / ((s - p1) * (s - p2))
    tr = np.fft.irfft(A * H, nfft)[:n]
    return np.max(np.abs(tr)) * 1000
def ml(a_mm, r): return math.log10(a_mm) + 1.110 * math.log10(r / 100) + 0.00189 * (r - 100) + 3.0
name, source = sys.argv[1], sys.argv[2]
la, lo, mw, h, origin, seed0, dur = SETS[name]
vals = []
with tempfile.TemporaryDirectory() as f:
    for seed in range(seed0, seed0 + 20):
        d = os.path.join(f, str(seed))
        out = subprocess.run([q, "simulate", "--magnitude", str(mw), "--latitude", str(la), "--longitude", str(lo), "--depth-km", str(h), "--origin-time", origin, "--seed", str(seed), *STATION_ARGS, "--out", d, "--duration", str(dur), "--pre-event", "30", "--source", source], check=True, capture_output=True, text=True).stdout
        ms = []
        for sta, (sla, slo) in ST.items():
            r = math.hypot(distance_km(sla, slo, la, lo), h)
            st = read(os.path.join(d, f"{sta}.00.mseed"))
            for cha in ("HNN", "HNE"):
                tr = st.select(channel=cha)[0]
                ms.append(ml(wa_peak_mm(tr.data.astype(float) / GAIN, tr.stats.sampling_rate), r))
        vals.append(np.mean(ms))
print(name, source, "ML-Mw: median %.2f min %.2f max %.2f; |dM|<=0.5 %d/20" % (np.median(vals) - mw, min(vals) - mw, max(vals) - mw, sum(abs(v - mw) <= 0.5 for v in vals)))
