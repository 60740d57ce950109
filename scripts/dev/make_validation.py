#!/usr/bin/env python3
"""Regenerates docs/validation.md: magnitude error of QuakeWarn's real-time Pd/tau_c chain on
simulated records (M 3.0-7.5 x 10-200 km) and on the real K-NET record AKT013 (M 5.9, 81.1 km).

Usage (from the repository root, after `swift build -c release --product quakewarn`, or pass
--quakewarn .build/debug/quakewarn):
    /work/devvenv/bin/python scripts/dev/make_validation.py [--quakewarn PATH] [--seeds N] [--out docs/validation.md]

Needs the quakewarn binary, and ObsPy/NumPy for the K-NET PGA lines (run it with the dev venv,
e.g. /work/devvenv/bin/python). Every record is made with
`quakewarn simulate` (one station, epicentre due south of it, depth 10 km, seeds 1..N) and
measured twice, R being the true hypocentral distance:
- automatic pick, as the system does it: `quakewarn magnitude --gain G --distance-km R` (the
  command's own STA/LTA + AIC picker; with no trigger it prints "pickTime": null, no windows, warns
  "no P trigger found" on stderr and exits 0). The record is *detected* when the pick is within
  PICK_TOLERANCE_S (0.5 s) of the theoretical P; otherwise (no trigger, trigger on noise, P coda or
  S) it is not detected and gives no magnitude;
- forced theoretical pick: `quakewarn magnitude --gain G --pick P --distance-km R`, P the
  theoretical P arrival printed by simulate (includes the records whose P is below the noise).
The error is dM = estimated - scenario Mw for the windows 1, 2 and 3 s after the pick. Nothing
here is fitted: the tables are what the simulator, the picker and the estimator give. The same command line always gives the same
file (the simulator is seeded, the estimator deterministic).
"""
import argparse
import collections
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

# Why the goal statistics are where they are (printed under the goal table; written for the
# numbers of seeds 1-3, re-read it when the model changes).
GOAL_WHY = (
    "Why: the forced-pick statistic misses for both sources because it includes the M ≤ 6.5 records whose P the "
    "picker never finds (no trigger, or only a trigger on the growing P coda more than 0.5 s late): there the window "
    "is mostly noise and the magnitude reads up to +2.3 high, a magnitude the system never issues. On the records the system "
    "does pick, the two-corner (finite-fault-equivalent) source meets the goal. The Brune point source misses it for "
    "a reason that is not noise: its simulated Pd is too large at M 5.5–6.5 (every record detected, ΔM +0.27…+0.62 "
    "at 3 s at every distance; the diagnosis below). For both sources the largest remaining errors are small events "
    "that are picked but whose 3-s displacement is still mostly noise (M 3.0–3.5 at 25–75 km, M 4.0 at 50–100 km: "
    "+0.4…+1.3).")

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
  at every distance, and the per-Mw 3-s median |ΔM| is 0.19–0.27 for M 4.5–6.5 (forced pick; automatic pick 0.15–0.23).
- **Still worse than the goal, and why.** (1) **M ≤ 4 beyond ≈ 25–50 km and M 4.5 beyond ≈ 100 km** (+0.3…+2.3 at
  3 s with the forced pick, both sources): the P wave is at or below the station noise (1e-4 m/s² RMS), Pd is
  the noise's displacement and the magnitude an upper bound ("no usable P", not a bias of the relations).
  The system's picker does not trigger on most of them (detection grids), so no magnitude is issued; the
  ones it does pick (M 3.0–3.5 at 25–75 km, M 4.0 at 50–100 km) still read +0.4…+1.3, because the P is
  visible in the acceleration but the 0.075 Hz displacement of the first 3 s is still mostly noise.
  (2) **1-s window with the two-corner source, M 5.5–6.5: −0.35…−0.95** (automatic pick −0.47…−0.91), and
  **M 7.0–7.5 at 3 s: −0.1…−0.6** — the first seconds of a growing
  rupture, the saturation the estimator flags (`StationMagnitudeEstimator`; real cases: the
  Ridgecrest M 7.1 was underestimated by 0.8, Chung et al. 2020). (3) The Brune default stays
  +0.46…+0.64 at M 6.0–6.5 (3 s; automatic pick +0.35…+0.62): this alone keeps its automatic-pick
  statistic above 0.3.
- **Default and scenario sets unchanged.** The simulator default stays Brune and the committed
  SampleWaveforms scenarios stay the Brune ones: regenerated with the two-corner source, the
  Longquan M5.8 set meets issue 5 (onsite epicentre 11 km, final M 5.96) but the nearby M4.5
  onsite Alert moves to 32 km (limit 30) and the Longmenshan M7.5 Alert to 114 km with a 13 s
  countdown error, so by the issue's rule the committed sets are kept.
- **τp^max starts at the pick** (`RealTimeStationProcessor`, earlier change): before, the
  recursion's 1 s memory carried long-period pre-event noise into τp^max (forced-pick goal
  statistic then 0.66 → 0.52 for the Brune source).

"""

MAGNITUDES = [3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5]
DISTANCES_KM = [10, 25, 50, 75, 100, 150, 200]
DEPTH_KM = 10.0
STATION = ("SC.VAL.00", 30.0, 105.0)
GAIN = 8388608 / (2 * 9.80665)  # simulate's default sensitivity, counts per m/s^2
WINDOWS = [1.0, 2.0, 3.0]
KNET_GAIN = 1 / 2.384185791015625e-06  # 2000 gal / 2^23 per count -> counts per m/s^2
KNET_FILE = "SampleWaveforms/obspy_KNET_AKT013_EW.mseed"
# An automatic pick counts as a detection of P when it is within this many seconds of the
# theoretical P arrival (see PICK_TOLERANCE_WHY, printed in the document).
PICK_TOLERANCE_S = 0.5


def run(cmd, with_stderr=False):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr}")
    return (r.stdout, r.stderr) if with_stderr else r.stdout


def wu_zhao_pd_m(m, r_km):
    """Pd (m) of Wu & Zhao (2006): log10 Pd[cm] = -3.463 + 0.729 M - 1.374 log10 R."""
    return 10 ** (-3.463 + 0.729 * m - 1.374 * math.log10(r_km)) / 100


def windows_dm(mag, m):
    """dM per window (1/2/3 s after the pick) from one `quakewarn magnitude` JSON line."""
    result = {}
    for w in mag["windows"]:
        for target in WINDOWS:
            if abs(w["secondsAfterPick"] - target) < 1e-6 and w.get("magnitude") is not None:
                result[target] = w["magnitude"] - m
    return result


def seconds(iso):
    """Seconds after 2026-01-01T00:00:00Z of an ISO-8601 UTC time printed by quakewarn
    (YYYY-MM-DDThh:mm:ss[.fraction]Z; the fraction may have 9 digits, so it is parsed here)."""
    date, clock = iso.rstrip("Z").split("T")
    days = (datetime.date.fromisoformat(date) - datetime.date(2026, 1, 1)).days
    h, mnt, sec = clock.split(":")
    return days * 86400 + int(h) * 3600 + int(mnt) * 60 + float(sec)


def one_case(qw, m, d_km, seed, workdir, source):
    """One simulated record, measured twice: with the theoretical P forced (`--pick`) and with the
    command's own automatic picker (no `--pick`). Returns (forced dM per window, log Pd ratio at
    3 s of the forced pick, automatic-pick result)."""
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
    forced = windows_dm(mag, m)
    pd_ratio = None
    for w in mag["windows"]:
        if abs(w["secondsAfterPick"] - 3.0) < 1e-6 and w.get("pdMeters"):
            pd_ratio = math.log10(w["pdMeters"] / wu_zhao_pd_m(m, r))
    # Automatic pick: exit 0 and "pickTime": null (stderr "no P trigger found") when nothing triggers.
    auto_out, auto_err = run([qw, "magnitude", "--gain", repr(GAIN), "--distance-km", f"{r:.3f}", sim["file"]],
                             with_stderr=True)
    auto = json.loads(auto_out.strip().splitlines()[0])
    # The command warns when the last window's displacement SNR (Pd over the pre-pick peak) is below 3:
    # then Pd is (partly) the noise's displacement and tau_c / tau_p^max are not used.
    low_snr = "displacement SNR" in auto_err
    s_minus_p = seconds(sim["sArrival"]) - seconds(sim["pArrival"])
    if auto["pickTime"] is None:
        auto_result = {"status": "no trigger", "offset": None, "dm": {}, "dm_if_counted": {}, "s_minus_p": s_minus_p,
                       "low_snr": False}
    else:
        offset = seconds(auto["pickTime"]) - seconds(sim["pArrival"])
        if abs(offset) <= PICK_TOLERANCE_S:
            status = "P"
        elif offset < 0:
            status = "early"  # a trigger on noise before P
        else:
            status = "late"  # on the P coda, S or noise after P: not a P detection
        dm = windows_dm(auto, m)
        # dm_if_counted: what the estimate would be with this pick even when it is not a P detection
        # (used only for the sensitivity line of the document).
        auto_result = {"status": status, "offset": offset, "dm": dm if status == "P" else {}, "dm_if_counted": dm,
                       "s_minus_p": s_minus_p, "low_snr": low_snr}
    return forced, pd_ratio, auto_result


def fmt(x):
    return "–" if x is None else f"{x:+.2f}"


SOURCES = {
    "brune": "Brune single-corner point source (simulator default; 100 bar)",
    "atkinson-silva-2000": "Atkinson & Silva (2000) two-corner California source (finite-fault equivalent)",
}


def run_grid(qw, seeds, source, tmp):
    """Per (Mw, R) cell: forced-pick dM lists per window, log Pd ratios, and the automatic-pick
    results (one dict per seed, see one_case)."""
    rows, pd, auto = {}, {}, {}
    for m in MAGNITUDES:
        for d in DISTANCES_KM:
            errs = {w: [] for w in WINDOWS}
            ratios = []
            autos = []
            for seed in range(1, seeds + 1):
                res, ratio, a = one_case(qw, m, d, seed, tmp, source)
                for w, e in res.items():
                    errs[w].append(e)
                if ratio is not None:
                    ratios.append(ratio)
                autos.append(a)
            rows[(m, d)] = errs
            pd[(m, d)] = ratios
            auto[(m, d)] = autos
            print(f"{source} M{m} {d} km: forced " + " ".join(f"{w:g}s {fmt(statistics.median(v)) if v else '–'}"
                                                          for w, v in errs.items())
                  + "; auto " + " ".join(f"{a['status']}" + ("" if a["offset"] is None else f"({a['offset']:+.2f}s,"
                                                                 f" 3s {fmt(a['dm'].get(3.0))})") for a in autos),
                  file=sys.stderr)
    return {"rows": rows, "pd": pd, "auto": auto}


def grid_table(lines, title, cell):
    lines.append(title)
    lines.append("")
    lines.append("| Mw \\ R (epicentral km) | " + " | ".join(str(d) for d in DISTANCES_KM) + " |")
    lines.append("|---" * (len(DISTANCES_KM) + 1) + "|")
    for m in MAGNITUDES:
        lines.append(f"| {m:.1f} | " + " | ".join(cell(m, d) for d in DISTANCES_KM) + " |")
    lines.append("")


def goal_statistic(rows):
    """Forced theoretical pick: median |dM| at 3 s over every M <= 6.5 record with a 3-s window."""
    allv = [abs(e) for m in MAGNITUDES if m <= 6.5 for d in DISTANCES_KM for e in rows[(m, d)][3.0]]
    return statistics.median(allv) if allv else float("nan")


def auto_goal(auto, key="dm", statuses=("P",)):
    """Automatic pick: (median |dM| at 3 s, records used, records not detected, detected records
    without a 3-s window) over the M <= 6.5 records. key/statuses select the sensitivity variant."""
    used, not_detected, no_window = [], 0, 0
    for m in MAGNITUDES:
        if m > 6.5:
            continue
        for d in DISTANCES_KM:
            for a in auto[(m, d)]:
                if a["status"] not in statuses:
                    not_detected += 1
                elif 3.0 in a[key]:
                    used.append(abs(a[key][3.0]))
                else:
                    no_window += 1
    return (statistics.median(used) if used else float("nan")), len(used), not_detected, no_window


def auto_cell(autos, w):
    """ΔM cell of the automatic-pick grid: median over detected seeds, with the count when not all
    seeds were detected; n.d. when none was."""
    det = [a for a in autos if a["status"] == "P"]
    if not det:
        return f"n.d. (0/{len(autos)})"
    v = [a["dm"][w] for a in det if w in a["dm"]]
    text = fmt(statistics.median(v)) if v else "–"
    return text if len(det) == len(autos) else f"{text} ({len(det)}/{len(autos)})"


def detection_cell(autos):
    det = [a["offset"] for a in autos if a["status"] == "P"]
    count = f"{len(det)}/{len(autos)}"
    return f"{count}, {statistics.median(det):+.2f} s" if det else count


def pick_tolerance_why(results):
    """The tolerance paragraph, with the picker's measured delays on clear P (M 5.5-6.5)."""
    clear = [a["offset"] for r in results.values() for (m, d), autos in r["auto"].items() if 5.5 <= m <= 6.5
             for a in autos if a["offset"] is not None]
    big_out = [(m, d, a["offset"]) for r in results.values() for (m, d), autos in r["auto"].items() if m > 6.5
               for a in autos if a["status"] != "P"]
    smp = min(a["s_minus_p"] for r in results.values() for autos in r["auto"].values() for a in autos)
    text = (f"**Detection rule.** A record counts as *detected* when the automatic pick is within "
            f"±{PICK_TOLERANCE_S:g} s of the theoretical P arrival. Why ±{PICK_TOLERANCE_S:g} s: on clear P "
            f"(M 5.5–6.5, every distance, both sources) the picker's own delay (emergent onset after Q and κ, "
            f"STA/LTA trigger, AIC re-pick) is {fmt(max(min(clear), 0.0))}…{fmt(max(clear))} s, growing with distance, "
            f"so the tolerance keeps every pick of a clear P in the goal range; it is one STA length and one estimator "
            f"window step, and it is far below the shortest S − P of the grid ({smp:.2f} s at 10 km epicentral), so "
            f"a pick inside it cannot be on S. A pick outside it is *not detected as P*: before P it is a trigger on "
            f"noise; after it, a trigger on the growing P coda, on S or on noise.")
    if big_out:
        text += (" Outside the goal range, " + ", ".join(f"M {m:.1f} at {d} km ({fmt(o) + ' s' if o is not None else 'no trigger'})"
                                                        for m, d, o in big_out)
                 + " fall just outside the tolerance (an emergent onset of a large event far away).")
    return text


def not_detected_where(results):
    """Per source and Mw <= 6.5: the distances with undetected seeds, e.g. "M 4.5: 150 km (1/3), 200 km"."""
    out = []
    for source, r in results.items():
        per_m = []
        for m in MAGNITUDES:
            if m > 6.5:
                continue
            cells = []
            for d in DISTANCES_KM:
                autos = r["auto"][(m, d)]
                miss = sum(a["status"] != "P" for a in autos)
                if miss:
                    cells.append(f"{d}" + ("" if miss == len(autos) else f" ({miss}/{len(autos)})"))
            if cells:
                per_m.append(f"M {m:.1f} at " + ", ".join(cells) + " km")
        out.append(f"`{source}`: " + "; ".join(per_m))
    return out


def goal_words(goals):
    """The plain-words verdict under the goal table (the reasons are written for seeds 1-3; re-read
    them when the model changes)."""
    verdict = "; ".join(
        f"`{s}`: automatic pick {g[0]:.2f} ({'meets' if g[0] <= 0.3 else 'misses'} 0.3), forced pick {g[4]:.2f} "
        f"({'meets' if g[4] <= 0.3 else 'misses'} 0.3)" for s, g in goals.items())
    return ("**In plain words.** " + verdict + ". " + GOAL_WHY)


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
    n_goal = sum(1 for m in MAGNITUDES if m <= 6.5) * len(DISTANCES_KM) * args.seeds

    lines = []
    lines.append("# Validation: EEW magnitude from the first seconds of P")
    lines.append("")
    lines.append("Generated by `python3 scripts/dev/make_validation.py` (do not edit by hand). "
                 "Simulated records: `quakewarn simulate` (κ0 0.04 s, generic rock, Q = 180 f^0.5, P spreading 1/R, "
                 "station noise 1e-4 m/s² RMS), "
                 f"one station, epicentre due south, depth {DEPTH_KM:g} km, seeds 1–{args.seeds}, with two source spectra: "
                 + "; ".join(f"`--source {k}`: {v}" for k, v in SOURCES.items()) + ". "
                 "Every record is measured twice with `quakewarn magnitude --gain G --distance-km <true hypocentral R>` "
                 "(real-time chain: 0.075 Hz high-pass, Pd relations of Kuyuk & Allen 2013 and Wu & Zhao 2006, "
                 "τc and τp^max, inverse-variance combination):")
    lines.append("")
    lines.append("- **automatic pick** (what the system does): no `--pick`, the command picks P itself (recursive "
                 "STA/LTA 0.5 s / 5 s, ON 3.5, on the 0.075 Hz high-passed acceleration, AIC re-pick). When nothing "
                 "triggers, the command prints a line with `\"pickTime\": null`, no windows and `\"magnitude\": null`, "
                 "writes `warning: FILE: STREAM: no P trigger found` on stderr and exits 0 (not an error): *no pick*, "
                 "and no magnitude is ever issued from that record. ΔM of a detected record uses the automatic pick;")
    lines.append("- **forced theoretical pick** (`--pick <theoretical P>`): the window starts at the true P arrival "
                 "whether or not a P wave is visible above the noise, so these tables **include noise-only records**.")
    lines.append("")
    lines.append("ΔM = estimate − scenario Mw; each cell is the median over the seeds (– : no window of that length, "
                 "e.g. S arrives first).")
    lines.append("")
    lines.append("Nothing is calibrated on these numbers: both source spectra are published models used as published "
                 "(`Sources/Simulation/StochasticModelParameters.swift`), the magnitude relations are the published ones, "
                 "the picker has its fixed defaults.")
    lines.append("")
    lines.append("## Goal (issue 4): median |ΔM| ≤ 0.3 at 3 s for M ≤ 6.5")
    lines.append("")
    lines.append(pick_tolerance_why(results))
    lines.append("")
    lines.append(f"M ≤ 6.5: {n_goal} records per source ({sum(1 for m in MAGNITUDES if m <= 6.5)} magnitudes × "
                 f"{len(DISTANCES_KM)} distances × {args.seeds} seeds).")
    lines.append("")
    lines.append("| source spectrum | automatic pick, detected records (the system) | records used | not detected (excluded) "
                 "| detected, no 3-s window (S − P < 3 s) | | forced theoretical pick (includes noise-only records) | records used | |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    goals = {}
    for source, r in results.items():
        g, used, nd, nw = auto_goal(r["auto"])
        f = goal_statistic(r["rows"])
        f_used = sum(len(r["rows"][(m, d)][3.0]) for m in MAGNITUDES if m <= 6.5 for d in DISTANCES_KM)
        goals[source] = (g, used, nd, nw, f, f_used)
        lines.append(f"| `{source}` | **{g:.2f}** | {used} | {nd} | {nw} | {'met' if g <= 0.3 else 'NOT met'} | "
                     f"**{f:.2f}** | {f_used} | {'met' if f <= 0.3 else 'NOT met'} |")
    lines.append("")
    # Why the not-detected records are not detected.
    parts = []
    for source, r in results.items():
        c = collections.Counter(a["status"] for (m, d), autos in r["auto"].items() if m <= 6.5 for a in autos)
        late = [a for (m, d), autos in r["auto"].items() if m <= 6.5 for a in autos if a["status"] == "late"]
        on_s = sum(1 for a in late if a["offset"] >= a["s_minus_p"] - PICK_TOLERANCE_S)
        parts.append(f"`{source}`: {c['no trigger']} no trigger, {c['early']} trigger on noise before P, "
                     f"{len(late)} trigger after P + {PICK_TOLERANCE_S:g} s ({len(late) - on_s} on the P coda, "
                     f"{on_s} on S)")
    lines.append("Not detected, M ≤ 6.5: " + "; ".join(parts) + ". Where (epicentral distance; in brackets the "
                 "undetected seeds when not all): " + ". ".join(not_detected_where(results)) + ". These are the records "
                 "whose P is at or below the station noise; the detection grids below give every cell.")
    lines.append("")
    low = []
    for source, r in results.items():
        lo = [a for (m, d), autos in r["auto"].items() if m <= 6.5 for a in autos
              if a["status"] == "P" and 3.0 in a["dm"] and a["low_snr"]]
        low.append(f"`{source}` {len(lo)} of {goals[source][1]} (median ΔM "
                   + (f"{fmt(statistics.median([a['dm'][3.0] for a in lo]))}" if lo else "–") + ")")
    lines.append("Detected is not the same as measured above the noise: a P visible in the acceleration (the picker "
                 "works there) can still have a 3-s displacement below the noise's, because the 0.075 Hz high-passed "
                 "displacement is dominated by long-period noise. Of the detected records used, those whose final-window "
                 "displacement SNR (Pd over the peak of the 5 s before the pick) is below 3, where the command warns and "
                 "drops τc and τp^max: " + ", ".join(low) + ". They are kept in the statistic: the system issues "
                 "their magnitude.")
    lines.append("")
    sens = []
    for source, r in results.items():
        g2, used2, _, _ = auto_goal(r["auto"], key="dm_if_counted", statuses=("P", "late", "early"))
        late_dm = [abs(a["dm_if_counted"][3.0]) for (m, d), autos in r["auto"].items() if m <= 6.5
                   for a in autos if a["status"] in ("late", "early") and 3.0 in a["dm_if_counted"]]
        sens.append(f"`{source}` {g2:.2f} over {used2} records (the {len(late_dm)} added ones: median |ΔM| "
                    + (f"{statistics.median(late_dm):.2f}" if late_dm else "–") + ")")
    lines.append("Sensitivity to the rule: counting every triggered record with its automatic pick, wherever the pick "
                 "is, the statistic would be " + "; ".join(sens) + ".")
    lines.append("")
    lines.append(goal_words(goals))
    lines.append("")
    lines.append("### Per Mw, window 1 / 2 / 3 s after P: automatic pick (detected records)")
    lines.append("")
    lines.append("Median |ΔM| over the detected records of all distances and seeds (detected / all records of that Mw):")
    lines.append("")
    lines.append("| Mw | " + " | ".join(f"`{s}` detected | 1 s | 2 s | 3 s" for s in SOURCES) + " |")
    lines.append("|---" * (1 + 4 * len(SOURCES)) + "|")
    for m in MAGNITUDES:
        cells = []
        for source, r in results.items():
            autos = [a for d in DISTANCES_KM for a in r["auto"][(m, d)]]
            cells.append(f"{sum(a['status'] == 'P' for a in autos)}/{len(autos)}")
            for w in WINDOWS:
                v = [abs(a["dm"][w]) for a in autos if w in a["dm"]]
                cells.append(f"{statistics.median(v):.2f}" if v else "n.d.")
        lines.append(f"| {m:.1f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("### Per Mw, window 1 / 2 / 3 s after P: forced theoretical pick (includes noise-only records)")
    lines.append("")
    lines.append("Median |ΔM| over all distances and seeds:")
    lines.append("")
    lines.append("| Mw | " + " | ".join(f"`{s}` 1 s | 2 s | 3 s" for s in SOURCES) + " |")
    lines.append("|---" * (1 + 3 * len(SOURCES)) + "|")
    for m in MAGNITUDES:
        cells = []
        for source, r in results.items():
            for w in WINDOWS:
                v = [abs(e) for d in DISTANCES_KM for e in r["rows"][(m, d)][w]]
                cells.append(f"{statistics.median(v):.2f}" if v else "–")
        lines.append(f"| {m:.1f} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("For information (not the goal's definition), forced pick over M 4.5–6.5 only: " + ", ".join(
        f"`{source}` {statistics.median([abs(e) for m in MAGNITUDES if 4.5 <= m <= 6.5 for d in DISTANCES_KM for e in r['rows'][(m, d)][3.0]]):.2f}"
        for source, r in results.items()) + ".")
    lines.append("")
    lines.append("## Diagnosis: simulated Pd at 3 s against Wu & Zhao (2006)")
    lines.append("")
    lines.append("Forced theoretical pick. log10(Pd_sim / Pd_WZ), Pd_WZ = 10^(−3.463 + 0.729 Mw − 1.374 log10 R) cm at "
                 "the scenario Mw and the true hypocentral R (median over seeds; +0.3 = twice the empirical Pd, ≈ +0.4 "
                 "in magnitude through Wu & Zhao). Noise-dominated cells (small M far away) read high for that reason alone.")
    lines.append("")
    for source, r in results.items():
        pd = r["pd"]
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
    for source, r in results.items():
        auto, rows = r["auto"], r["rows"]
        lines.append(f"## `{source}`: automatic pick, per cell")
        lines.append("")
        grid_table(lines, f"### Detected / seeds, median pick − theoretical P of the detected seeds",
                   lambda m, d, auto=auto: detection_cell(auto[(m, d)]))
        for w in WINDOWS:
            grid_table(lines, f"### ΔM at {w:g} s after the automatic pick (detected seeds; n.d.: none detected)",
                       lambda m, d, w=w, auto=auto: auto_cell(auto[(m, d)], w))
        lines.append(f"## `{source}`: forced theoretical pick (includes noise-only records), per cell")
        lines.append("")
        for w in WINDOWS:
            grid_table(lines, f"### ΔM at {w:g} s after the theoretical P",
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
    print("wrote " + args.out + "; goal statistic (automatic pick / forced pick) " + ", ".join(
        f"{s} {g[0]:.2f} ({g[1]} used, {g[2]} not detected, {g[3]} no 3-s window) / {g[4]:.2f}" for s, g in goals.items()),
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
