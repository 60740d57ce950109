#!/usr/bin/env python3
"""Independent GB/T 17742-2020 instrumental intensity for IntensityCrossCheckTests.swift.

Usage: intensity_crosscheck.py CALIB FILE [FILE ...]
  CALIB: m/s^2 per count; FILEs: miniSEED, the components of one record (1-3 channels in total;
  missing components count as zero). Prints one JSON object:
  {"pga", "pgv", "intensity_from_pga", "intensity_from_pgv", "intensity_unrounded"}.

Independent of QuakeWarn's code path: ObsPy reads the files; the band-pass gain is SciPy's
*analog* 4th-order Butterworth high-pass (0.1 Hz) times low-pass (10 Hz), |H(j 2 pi f)| from
scipy.signal.freqs (QuakeWarn evaluates the closed form); NumPy's pocketfft (QuakeWarn: FFTW);
a SciPy Tukey window (5 % in total) after demeaning; padding to the next power of two >= 2n
(QuakeWarn: the 7-smooth length >= 2n); velocity by dividing the band-passed spectrum by
i 2 pi f. Then vector PGA/PGV, I_A = 3.17 lg PGA + 6.59, I_V = 3.00 lg PGV + 9.77, I = I_V if both
>= 6 else the mean, clipped to [1, 12] (algorithms.md section 5).
"""
import json
import math
import sys

import numpy as np
from obspy import read
from scipy.signal import butter, freqs
from scipy.signal.windows import tukey


def main():
    calib = float(sys.argv[1])
    traces = []
    for path in sys.argv[2:]:
        st = read(path)
        st.merge()
        traces.extend(st)
    n = min(len(t.data) for t in traces)
    fs = traces[0].stats.sampling_rate
    m = 1
    while m < 2 * n:
        m *= 2
    f = np.fft.rfftfreq(m, 1 / fs)
    w = 2 * np.pi * f
    bh, ah = butter(4, 2 * np.pi * 0.1, btype="highpass", analog=True)
    bl, al = butter(4, 2 * np.pi * 10.0, btype="lowpass", analog=True)
    gain = np.abs(freqs(bh, ah, worN=w)[1]) * np.abs(freqs(bl, al, worN=w)[1])
    gain[0] = 0.0
    acc2 = np.zeros(n)
    vel2 = np.zeros(n)
    for t in traces:
        x = t.data[:n].astype(float) * calib
        x = (x - x.mean()) * tukey(n, 0.05)
        spec = np.fft.rfft(x, m) * gain
        a = np.fft.irfft(spec, m)[:n]
        vspec = np.zeros_like(spec)
        vspec[1:] = spec[1:] / (1j * w[1:])
        v = np.fft.irfft(vspec, m)[:n]
        acc2 += a * a
        vel2 += v * v
    pga = float(np.sqrt(acc2.max()))
    pgv = float(np.sqrt(vel2.max()))
    ia = 3.17 * math.log10(pga) + 6.59
    iv = 3.00 * math.log10(pgv) + 9.77
    i = iv if (ia >= 6.0 and iv >= 6.0) else (ia + iv) / 2
    i = min(max(i, 1.0), 12.0)
    print(json.dumps({"pga": pga, "pgv": pgv, "intensity_from_pga": ia, "intensity_from_pgv": iv,
                      "intensity_unrounded": i}))


if __name__ == "__main__":
    main()
