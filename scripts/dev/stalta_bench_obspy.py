#!/usr/bin/env python3
"""Dev aid: throughput of ObsPy's C STA/LTA on 10,000,000 seeded float64 samples, to pair with
the Swift benchmark of ClassicSTALTA / RecursiveSTALTA (same sizes and windows).

Prints the best of `--repeat` runs in M samples/s. ObsPy allocates its output array on every
call (np.empty), which is part of what is measured.

Usage: /work/devvenv/bin/python scripts/dev/stalta_bench_obspy.py [--samples N] [--repeat R]
"""
import argparse
import time

import numpy as np
import obspy
from obspy.signal.trigger import classic_sta_lta, recursive_sta_lta


def best_rate(fn, x, nsta, nlta, repeat):
    fn(x[:10000], nsta, nlta)  # warm-up (library load, page faults)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(x, nsta, nlta)
        best = min(best, time.perf_counter() - t0)
    return len(x) / best / 1e6, best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(20261129)
    x = rng.standard_normal(args.samples)
    print("ObsPy %s, NumPy %s, %d samples (seeded randn), best of %d"
          % (obspy.__version__, np.__version__, args.samples, args.repeat))
    for name, fn in (("classic_sta_lta", classic_sta_lta), ("recursive_sta_lta", recursive_sta_lta)):
        for nsta, nlta in ((50, 1000), (500, 1000)):
            rate, seconds = best_rate(fn, x, nsta, nlta, args.repeat)
            print("%-18s nsta=%4d nlta=%5d: %7.1f M samples/s (%.4f s)" % (name, nsta, nlta, rate, seconds))


if __name__ == "__main__":
    main()
