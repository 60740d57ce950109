#!/usr/bin/env python3
"""Regenerates docs/validation.md: magnitude error of QuakeWarn's real-time Pd/tau_c chain on
simulated records (M 3.0-7.5 x 10-200 km) and on the real K-NET record AKT013 (M 5.9, 81.1 km).

Usage (from the repository root, after `swift build -c release --product quakewarn`, or pass
--quakewarn .build/debug/quakewarn):
    /work/devvenv/bin/python scripts/dev/make_validation.py [--quakewarn PATH] [--seeds N] [--out docs/validation.md]

Needs the quakewarn binary, and ObsPy/NumPy for the K-NET PGA lines (run it with the dev venv,
e.g. /work/devvenv/bin/python). Every record is made with
`quakewarn simulate` (one station, epicentre due south of it, depth 10 km, seeds 1..N) and
measured with `quakewarn magnitude --gain G --pick P --distance-km R`, where P is the theoretical
P arrival printed by simulate and R the true hypocentral distance. The error is
dM = estimated - scenario Mw for the windows 1, 2 and 3 s after P. Nothing here is fitted: the
table is what the simulator and the estimator give. The same command line always gives the same
file (the simulator is seeded, the estimator deterministic).
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

# The interpretation printed after the tables (written for the numbers of seeds 1-3; re-read it
# when the model changes).
WHY = """## Where it is worse, and why (read with the tables above)

- **Diagnosis (issue 4): the simulator, not the estimator.** With the Brune point source the
  simulated 3-s Pd is 1.7–3.2× the Wu & Zhao (2006) Pd at M 5.0–6.5 (log ratio +0.22…+0.50 up to
  100 km), and the excess grows with M: in log Pd per magnitude unit the point source scales
  ≈ 1.0 (Pd ∝ M0·f0 ∝ M0^(2/3) once the corner falls into the 0.1–1 Hz band that dominates the
  0.075-Hz-high-passed displacement) against the empirical 0.729. On the one real record (K-NET
  AKT013, M 5.9 at 81 km) the same Pd chain lands on the relation (log ratio +0.02; Pd
  magnitudes 5.93 / 5.85). Physical reason: a point source releases its whole moment in one
  pulse of duration 1/f0; a finite rupture (6–25 km long at M 5.5–6.5, Wells & Coppersmith 1994) radiates less at
  intermediate frequencies and over a longer time, so the first seconds of P carry less
  displacement — the Pd "saturation" of real data. Nothing here was fitted to our own records.
- **Fix: the published two-corner source of Atkinson & Silva (2000)** (`--source
  atkinson-silva-2000`; coefficients as published, derived from finite-fault simulations and
  checked against California strong motion — the region of Wu & Zhao's relation). Its
  intermediate-band spectrum is ≈ half the single-corner one at M 6 while the high-frequency
  level stays within 15 % (PGA unchanged), and its source duration is 1/fa (Boore & Thompson
  2014). With it the simulated Pd at 3 s is within −0.23…+0.28 (log) of Wu & Zhao for M 5–6.5
  at every distance, and the per-Mw 3-s median |ΔM| is 0.19–0.27 for M 4.5–6.5.
- **Still worse than the goal, and why.** (1) **M ≤ 4 beyond ≈ 25–50 km and M 4.5 beyond ≈ 100 km** (+0.3…+2.3 at
  3 s, both sources): the P wave is at or below the station noise (1e-4 m/s² RMS), Pd is the noise's
  displacement and the magnitude an upper bound ("no usable P", not a bias of the relations);
  these cells keep the goal statistic above 0.3. (2) **1-s window with the two-corner source,
  M 5.5–6.5: −0.35…−0.95**, and **M 7.0–7.5 at 3 s: −0.1…−0.6** — the first seconds of a growing
  rupture, the saturation the estimator flags (`StationMagnitudeEstimator`; real cases: the
  Ridgecrest M 7.1 was underestimated by 0.8, Chung et al. 2020). (3) The Brune default stays
  +0.46…+0.64 at M 6.0–6.5 (3 s).
- **Default and scenario sets unchanged.** The simulator default stays Brune and the committed
  SampleWaveforms scenarios stay the Brune ones: regenerated with the two-corner source, the
  Longquan M5.8 set meets issue 5 (onsite epicentre 11 km, final M 5.96) but the nearby M4.5
  onsite Alert moves to 32 km (limit 30) and the Longmenshan M7.5 Alert to 114 km with a 13 s
  countdown error, so by the issue's rule the committed sets are kept.
- **τp^max starts at the pick** (`RealTimeStationProcessor`, earlier change): before, the
  recursion's 1 s memory carried long-period pre-event noise into τp^max (goal statistic then
  0.66 → 0.52 for the Brune source).

"""

MAGNITUDES = [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5]
DISTANCES_KM = [10, 25, 50, 75, 100, 150, 200]
DEPTH_KM = 10.0
STATION = ("SC.VAL.00", 30.0, 105.0)
GAIN = 8388608 / (2 * 9.80665)  # simulate's default sensitivity, counts per m/s^2
WINDOWS = [1.0, 2.0, 3.0]
KNET_GAIN = 1 / 2.384185791015625e-06  # 2000 gal / 2^23 per count -> counts per m/s^2
KNET_FILE = "SampleWaveforms/obspy_KNET_AKT013_EW.mseed"


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return r.stdout


def wu_zhao_pd_m(m, r_km):
    """Pd (m) of Wu & Zhao (2006): log10 Pd[cm] = -3.463 + 0.729 M - 1.374 log10 R."""
    return 10 ** (-3.463 + 0.729 * m - 1.374 * math.log10(r_km)) / 100


def one_case(qw, m, d_km, seed, workdir, source):
    lat = STATION[1] - d_km / 111.19492664455873  # due south, great-circle km per degree (R = 6371.0088 km)
    out = os.path.join(workdir, f"{source}_m{m}_d{d_km}_s{seed}")
    line = run([qw, "simulate", "--magnitude", str(m), "--latitude", f"{lat:.6f}", "--longitude", str(STATION[2]),
                "--depth-km", str(DEPTH_KM), "--origin-time", "2026-01-01T00:00:00Z", "--seed", str(seed),
                "--station", f"{STATION[0]}:{STATION[1]}:{STATION[2]}", "--out", out, "--pre-event", "40",
                "--duration", str(int(d_km / 6.06 + 20)), "--source", source]).strip()
    sim = json.loads(line)
    r = sim["hypocentralDistanceKilometers"]
    mag = json.loads(run([qw, "magnitude", "--gain", repr(GAIN), "--pick", sim["pArrival"], "--distance-km", f"{r:.3f}",
                          sim["file"]]).strip().splitlines()[0])
    result = {}
    pd_ratio = None
    for w in mag["windows"]:
        for target in WINDOWS:
            if abs(w["secondsAfterPick"] - target) < 1e-6 and w.get("magnitude") is not None:
                result[target] = w["magnitude"] - m
        if abs(w["secondsAfterPick"] - 3.0) < 1e-6 and w.get("pdMeters"):
            pd_ratio = math.log10(w["pdMeters"] / wu_zhao_pd_m(m, r))
    return result, pd_ratio


def fmt(x):
    return "–" if x is None else f"{x:+.2f}"


SOURCES = {
    "brune": "Brune single-corner point source (simulator default; 100 bar)",
    "atkinson-silva-2000": "Atkinson & Silva (2000) two-corner California source (finite-fault equivalent)",
}


def run_grid(qw, seeds, source, tmp):
    rows, pd = {}, {}
    for m in MAGNITUDES:
        for d in DISTANCES_KM:
            errs = {w: [] for w in WINDOWS}
            ratios = []
            for seed in range(1, seeds + 1):
                res, ratio = one_case(qw, m, d, seed, tmp, source)
                for w, e in res.items():
                    errs[w].append(e)
                if ratio is not None:
                    ratios.append(ratio)
            rows[(m, d)] = errs
            pd[(m, d)] = ratios
            print(f"{source} M{m} {d} km: " + " ".join(f"{w:g}s {fmt(statistics.median(v)) if v else '–'}"
                                                   for w, v in errs.items()), file=sys.stderr)
    return rows, pd


def grid_table(lines, title, cell):
    lines.append(title)
    lines.append("")
    lines.append("| Mw \\ R (epicentral km) | " + " | ".join(str(d) for d in DISTANCES_KM) + " |")
    lines.append("|---" * (len(DISTANCES_KM) + 1) + "|")
    for m in MAGNITUDES:
        lines.append(f"| {m:.1f} | " + " | ".join(cell(m, d) for d in DISTANCES_KM) + " |")
    lines.append("")


def goal_statistic(rows):
    allv = [abs(e) for m in MAGNITUDES if m <= 6.5 for d in DISTANCES_KM for e in rows[(m, d)][3.0]]
    return statistics.median(allv) if allv else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quakewarn", default=".build/release/quakewarn")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--out", default="docs/validation.md")
    args = ap.parse_args()
    qw = args.quakewarn
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for source in SOURCES:
            results[source] = run_grid(qw, args.seeds, source, tmp)
    knet = json.loads(run([qw, "magnitude", "--gain", repr(KNET_GAIN), "--distance-km", "81.1", KNET_FILE]).strip().splitlines()[0])
    with tempfile.TemporaryDirectory() as tmp:
        raw_pga_gal, comps = knet_components(tmp)
        inten = json.loads(run([qw, "intensity", "--gain", repr(KNET_GAIN)] + comps).strip())

    lines = []
    lines.append("# Validation: EEW magnitude from the first seconds of P")
    lines.append("")
    lines.append("Generated by `python3 scripts/dev/make_validation.py` (do not edit by hand). "
                 "Simulated records: `quakewarn simulate` (κ0 0.04 s, generic rock, Q = 180 f^0.5, P spreading 1/R), "
                 f"one station, epicentre due south, depth {DEPTH_KM:g} km, seeds 1–{args.seeds}, with two source spectra: "
                 + "; ".join(f"`--source {k}`: {v}" for k, v in SOURCES.items()) + ". "
                 "Estimator: `quakewarn magnitude --gain G --pick <theoretical P> --distance-km <true hypocentral R>` "
                 "(real-time chain: 0.075 Hz high-pass, Pd relations of Kuyuk & Allen 2013 and Wu & Zhao 2006, "
                 "τc and τp^max, inverse-variance combination). ΔM = estimate − scenario Mw; each cell is the median "
                 f"over the {args.seeds} seeds (– : no window, e.g. S arrives first or the record is noise).")
    lines.append("")
    lines.append("Nothing is calibrated on these numbers: both source spectra are published models used as published "
                 "(`Sources/Simulation/StochasticModelParameters.swift`), the magnitude relations are the published ones.")
    lines.append("")
    lines.append("## Goal (issue 4): median |ΔM| ≤ 0.3 at 3 s for M ≤ 6.5 (every M ≤ 6.5 cell and seed)")
    lines.append("")
    lines.append("| source spectrum | goal statistic | |")
    lines.append("|---|---|---|")
    for source, (rows, _) in results.items():
        g = goal_statistic(rows)
        lines.append(f"| `{source}` | **{g:.2f}** | {'met' if g <= 0.3 else 'NOT met'} |")
    lines.append("")
    lines.append("For information (not the goal's definition): the same statistic over M 4.5–6.5 only (M ≤ 4 beyond "
                 "25 km is at or below the station noise, see below): " + ", ".join(
                     f"`{source}` {statistics.median([abs(e) for m in MAGNITUDES if 4.5 <= m <= 6.5 for d in DISTANCES_KM for e in rows[(m, d)][3.0]]):.2f}"
                     for source, (rows, _) in results.items()) + ".")
    lines.append("")
    lines.append("Median |ΔM| over all distances and seeds, per Mw, window 1 / 2 / 3 s after P:")
    lines.append("")
    lines.append("| Mw | " + " | ".join(f"`{s}` 1 s | 2 s | 3 s" for s in SOURCES) + " |")
    lines.append("|---" * (1 + 3 * len(SOURCES)) + "|")
    for m in MAGNITUDES:
        cells = []
        for source, (rows, _) in results.items():
            for w in WINDOWS:
                v = [abs(e) for d in DISTANCES_KM for e in rows[(m, d)][w]]
                cells.append(f"{statistics.median(v):.2f}" if v else "–")
        lines.append(f"| {m:.1f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("## Diagnosis: simulated Pd at 3 s against Wu & Zhao (2006)")
    lines.append("")
    lines.append("log10(Pd_sim / Pd_WZ), Pd_WZ = 10^(−3.463 + 0.729 Mw − 1.374 log10 R) cm at the scenario Mw and the true "
                 "hypocentral R (median over seeds; +0.3 = twice the empirical Pd, ≈ +0.4 in magnitude through Wu & Zhao). "
                 "Noise-dominated cells (small M far away) read high for that reason alone.")
    lines.append("")
    for source, (_, pd) in results.items():
        grid_table(lines, f"### `{source}`", lambda m, d, pd=pd: fmt(statistics.median(pd[(m, d)])) if pd[(m, d)] else "–")
    knet_w3 = next((w for w in knet["windows"] if abs(w["secondsAfterPick"] - 3.0) < 1e-6), None)
    if knet_w3 is not None:
        pd_cm = knet_w3["pdMeters"] * 100
        m_wz = (math.log10(pd_cm) + 3.463 + 1.374 * math.log10(81.1)) / 0.729
        m_ka = 1.23 * math.log10(pd_cm) + 1.38 * math.log10(81.1) + 5.39
        ratio = math.log10(knet_w3["pdMeters"] / wu_zhao_pd_m(5.9, 81.1))
        lines.append(f"**Real record** (K-NET AKT013 EW, M 5.9 JMA, 81.1 km; below): Pd at 3 s = {knet_w3['pdMeters']:.3e} m, "
                     f"log10(Pd / Pd_WZ) = **{ratio:+.2f}**; the Pd relations alone give M {m_wz:.2f} (Wu & Zhao) and "
                     f"{m_ka:.2f} (Kuyuk & Allen). The combined 3-s magnitude ({knet_w3['magnitude']:.2f}) is pulled up by "
                     f"τc = {knet_w3['tauCSeconds']:.2f} s of a horizontal component (outside the τc relation's scope).")
        lines.append("")
    for source, (rows, _) in results.items():
        lines.append(f"## `{source}`: ΔM per cell")
        lines.append("")
        for w in WINDOWS:
            grid_table(lines, f"### ΔM at {w:g} s after P",
                       lambda m, d, w=w, rows=rows: fmt(statistics.median(rows[(m, d)][w])) if rows[(m, d)][w] else "–")
    lines.extend(WHY.rstrip("\n").split("\n"))
    lines.append("")
    lines.append("## Real record: K-NET AKT013 (EW), M 5.9 (JMA), 81.1 km")
    lines.append("")
    lines.append(f"`quakewarn magnitude --gain {KNET_GAIN:g} --distance-km 81.1 {KNET_FILE}` (automatic pick "
                 f"{knet['pickTime']}; a horizontal component, so the vertical-P relations are used outside their scope):")
    lines.append("")
    lines.append("| window | Pd (m) | τc (s) | M | σ |")
    lines.append("|---|---|---|---|---|")
    for wdw in knet["windows"]:
        if any(abs(wdw["secondsAfterPick"] - t) < 1e-6 for t in WINDOWS):
            tc = wdw.get("tauCSeconds")
            lines.append(f"| {wdw['secondsAfterPick']:g} s | {wdw['pdMeters']:.3e} | {'–' if tc is None else f'{tc:.2f}'} | "
                         f"{wdw['magnitude']:.2f} | {wdw['magnitudeSigma']:.2f} |")
    lines.append("")
    pga_gal = inten["pgaMetersPerSecondSquared"] * 100
    lines.append(f"PGA: the K-NET header gives **4.383 gal** (maximum |acceleration| of the EW record, offset removed). "
                 f"From the counts × 2.384185791015625e-06 m/s² per count, max |x − mean| = **{raw_pga_gal:.3f} gal**. "
                 f"`quakewarn intensity` (GB/T 17742 0.1–10 Hz band-pass; EW given with two all-zero components, so the "
                 f"vector PGA is the EW peak) gives **{pga_gal:.3f} gal**: the band-pass removes the energy above 10 Hz. "
                 f"Intensity from that record alone: {inten['intensity']} (one horizontal component only: a lower bound).")
    lines.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {args.out}; goal statistic " + ", ".join(f"{s} {goal_statistic(r):.2f}" for s, (r, _) in results.items()),
          file=sys.stderr)


def knet_components(tmp):
    """The raw EW peak (gal) and three files EW/N/Z for `quakewarn intensity` (N, Z all zero), written
    with ObsPy (run this script with the dev venv, e.g. /work/devvenv/bin/python)."""
    import numpy as np
    from obspy import read
    st = read(KNET_FILE)
    st.merge()
    tr = st[0]
    x = tr.data.astype(float)
    raw = float(np.max(np.abs(x - x.mean()))) / KNET_GAIN * 100
    files = []
    for ch, data in (("HNE", tr.data), ("HNN", np.zeros_like(tr.data)), ("HNZ", np.zeros_like(tr.data))):
        t = tr.copy()
        t.data = np.ascontiguousarray(data, dtype=np.int32)
        t.stats.channel = ch
        path = os.path.join(tmp, ch + ".mseed")
        t.write(path, format="MSEED", encoding="STEIM2", reclen=512)
        files.append(path)
    return raw, files


if __name__ == "__main__":
    main()
