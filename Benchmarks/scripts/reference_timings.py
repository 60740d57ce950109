#!/usr/bin/env python3
"""Times the reference tools (ObsPy, NumPy) on the same work as QuakeWarn's benchmarks and prints
the ratio against the Swift results of the same run (an ordo-one/benchmark JMH export).

Usage: reference_timings.py SWIFT_JMH_JSON DATA_DIR

Each reference operation is timed with time.perf_counter over repeated runs; the median is
compared with the Swift benchmark's p50 wall-clock time. ratio = reference / QuakeWarn, so a
ratio above 1 means QuakeWarn is faster.
"""
import json
import os
import statistics
import sys
import time


def median_seconds(fn, repeat, min_total=1.0, clock=time.perf_counter):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < repeat or (time.perf_counter() - start < min_total and len(times) < 100 * repeat):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return statistics.median(times)


def median_cpu_seconds(fn, repeat):
    """Median CPU time of this thread (user + system, time.thread_time) per call."""
    return median_seconds(fn, repeat, clock=time.thread_time)


def swift_p50_seconds(jmh, name, metric="Time (wall clock)"):
    """p50 of `metric` ("Time (wall clock)", or "Time (total CPU)") of the benchmark called `name`, in seconds,
    or None if it did not run or did not record that metric."""
    wanted = name.replace(" ", "_")  # the JMH export replaces spaces by underscores
    for b in jmh:
        if b["benchmark"].endswith("." + wanted):
            wall = b.get("secondaryMetrics", {}).get(metric)
            if wall is None:
                return None
            unit = wall["scoreUnit"]
            scale = {"ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
            return wall["scorePercentiles"]["50.0"] * scale
    return None


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        jmh = json.load(f)
    data_dir = sys.argv[2]

    import numpy as np
    import obspy
    from obspy.signal.trigger import classic_sta_lta, recursive_sta_lta

    rows = []  # (what, swift benchmark name, reference name, reference seconds, work units, unit name)

    steim2 = os.path.join(data_dir, "steim2-1h-100sps.mseed")
    if os.path.exists(steim2):
        t = median_seconds(lambda: obspy.read(steim2, format="MSEED"), repeat=20)
        rows.append(("miniSEED read, 1 h 100 sps Steim2", "Read 1 h 100 sps Steim2 file", "obspy.read", t, 360_000,
                     "samples"))
    else:
        print(f"note: {steim2} missing (MiniSEEDBenchmarks did not run?)", file=sys.stderr)

    rng = np.random.default_rng(815)
    for n in (512, 4096, 65536):
        x = rng.standard_normal(n)
        t = median_seconds(lambda: np.fft.rfft(x), repeat=200)
        rows.append((f"real FFT n={n}", f"RealFFT forward n={n}", "numpy.fft.rfft", t, n, "samples"))

    x = rng.standard_normal(10_000_000)
    cpu_rows = []  # (what, swift benchmark name, reference name, reference CPU seconds)
    for what, swift_name, ref_name, fn in (
            ("recursive STA/LTA, 10 M samples", "Recursive STA/LTA 10M samples", "obspy recursive_sta_lta",
             lambda: recursive_sta_lta(x, 50, 1000)),
            ("classic STA/LTA, 10 M samples", "Classic STA/LTA 10M samples", "obspy classic_sta_lta",
             lambda: classic_sta_lta(x, 50, 1000))):
        t = median_seconds(fn, repeat=5)
        rows.append((what, swift_name, ref_name, t, 10_000_000, "samples"))
        cpu_rows.append((what, swift_name, ref_name, median_cpu_seconds(fn, repeat=5)))

    print(f"reference tools: obspy {obspy.__version__}, numpy {np.__version__}")
    header = f"{'what':36} {'reference':26} {'ref p50':>11} {'QuakeWarn p50':>14} {'ratio':>7} {'QW M samples/s':>15}"
    print(header)
    print("-" * len(header))
    for what, swift_name, ref_name, ref_s, units, _ in rows:
        sw = swift_p50_seconds(jmh, swift_name)
        if sw is None:
            print(f"{what:36} {ref_name:26} {ref_s * 1e6:9.1f}µs {'(not run)':>14} {'-':>7} {'-':>15}")
            continue
        print(f"{what:36} {ref_name:26} {ref_s * 1e6:9.1f}µs {sw * 1e6:12.1f}µs {ref_s / sw:6.2f}x "
              f"{units / sw / 1e6:15.1f}")
    print("ratio = reference time / QuakeWarn time (> 1: QuakeWarn is faster)")
    print()
    print("CPU time (Python: thread CPU; Swift: ordo-one cpuTotal, process CPU at a coarse ~10 ms")
    print("resolution, so only indicative here; scripts/compare-stalta.sh measures both precisely):")
    header = f"{'what':36} {'reference':26} {'ref CPU p50':>11} {'QW CPU p50':>14} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for what, swift_name, ref_name, ref_s in cpu_rows:
        sw = swift_p50_seconds(jmh, swift_name, metric="Time (total CPU)")
        if sw is None:
            print(f"{what:36} {ref_name:26} {ref_s * 1e6:9.1f}µs {'(not run)':>14} {'-':>7}")
            continue
        print(f"{what:36} {ref_name:26} {ref_s * 1e6:9.1f}µs {sw * 1e6:12.1f}µs {ref_s / sw:6.2f}x")
    print("ObsPy's time includes allocating its 80 MB output array (np.empty, page faults on first")
    print("touch); QuakeWarn's benchmark reuses its output buffer, as the streaming picker does.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
