#!/usr/bin/env python3
"""Measurements behind docs/onsite-distance.md (dev aid; nothing here is used at run time).

For each event scenario of scripts/dev/make_scenarios.sh, and for the Brune and the
Atkinson & Silva (2000) two-corner source, it:
  1. simulates the set into a temporary folder (same command lines and seeds);
  2. runs `quakewarn replay` and prints, per Alert/Update, the epicentre error, the magnitude and
     each station's single-station distance and back-azimuth from decisions.jsonl;
  3. runs `quakewarn magnitude` per station and prints the τc magnitude (M = 4.218 log τc + 6.166)
     and the τc/Pd inversion of Wu & Zhao (2006) per window, plus R from the same Pd at the true Mw;
  4. fits B t e^{-At} to the 3-s vertical envelope (cumulative max of |a| in cm/s², offset = mean
     of the 3 s before the pick, least squares on ln(y/t)) and prints B and the B–Δ distance of
     the current coefficients (log10 Δ = −0.96 log10 B + 1.42).

Usage (repository root, after `swift build`; needs numpy and obspy, e.g. /work/devvenv):
    python scripts/dev/onsite_distance_check.py [--quakewarn .build/debug/quakewarn]
"""
import argparse, json, math, os, subprocess, tempfile

import numpy as np
from obspy import UTCDateTime, read

STATIONS = {"SC.NANTA": (30.270, 105.035), "SC.GAOSI": (30.380, 105.120)}
STATION_ARGS = ["--station", "SC.NANTA.00:30.270:105.035:390", "--station", "SC.GAOSI.00:30.380:105.120:420"]
# name: (lat, lon, Mw, depth km, origin, seed, duration)  — as in scripts/dev/make_scenarios.sh
SETS = {
    "nearby-m4.5": (30.10, 105.19, 4.5, 10, "2026-05-12T06:00:00Z", 11, 40),
    "longquan-m5.8": (30.42, 104.30, 5.8, 12, "2026-05-12T06:30:00Z", 12, 70),
    "longmenshan-m7.5": (31.00, 103.38, 7.5, 14, "2026-05-12T07:00:00Z", 13, 170),
}
GAIN = 427700.0


def distance_km(lat1, lon1, lat2, lon2):
    p1, p2 = math.radians(lat1), math.radians(lat2)
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(math.radians(lon2 - lon1))
    return 6371.0088 * math.acos(max(-1.0, min(1.0, c)))


def replay_table(q, folder, config, name, truth):
    out = os.path.join(folder, "out", name)
    subprocess.run([q, "replay", os.path.join(folder, name), "--config", config, "--out", out],
                   check=True, capture_output=True)
    la, lo = truth
    for line in open(os.path.join(out, "decisions.jsonl")):
        d = json.loads(line)
        if d["kind"] not in ("alert", "update"):
            continue
        v = {x["name"]: x["value"] for x in d.get("values", [])}
        err = distance_km(v["latitude"], v["longitude"], la, lo) if "latitude" in v else float("nan")
        dist = " ".join(f"{k[11:-1]}={v[k]:.0f}" for k in v if k.startswith("distanceKm["))
        baz = " ".join(f"{k[19:-1]}={v[k]:.0f}" for k in v if k.startswith("backAzimuthDegrees["))
        print(f"  {d['kind']:6} {d['time'][11:22]} M {v.get('magnitude', float('nan')):.2f} "
              f"error {err:6.1f} km  distance[{dist}] baz[{baz}]  ({d['reason']})")


def station_table(q, folder, name, spec):
    la, lo, mw, h = spec[:4]
    for sta, (sla, slo) in STATIONS.items():
        f = os.path.join(folder, name, f"{sta}.00.mseed")
        delta = distance_km(sla, slo, la, lo)
        r_true = math.hypot(delta, h)
        res = subprocess.run([q, "magnitude", "--gain", str(GAIN), f], check=True, capture_output=True, text=True)
        m = json.loads(res.stdout.splitlines()[0])
        cells = []
        for w in m["windows"]:
            tc, pd = w["tauCSeconds"], w["pdMeters"]
            if not tc or tc <= 0 or w["secondsAfterPick"] < 1:
                continue
            m_tc = 4.218 * math.log10(tc) + 6.166
            r = lambda mag: 10 ** ((-3.463 + 0.729 * mag - math.log10(pd * 100)) / 1.374)
            cells.append(f"{w['secondsAfterPick']:.1f}s Mτc {m_tc:.1f} R {r(m_tc):.0f} [R|Mw {r(mw):.0f}]")
        z = read(f).select(channel="HNZ")[0]
        x = z.data.astype(float) / GAIN * 100.0
        ip = int(round((UTCDateTime(m["pickTime"]) - z.stats.starttime) * z.stats.sampling_rate))
        env = np.maximum.accumulate(np.abs(x[ip:ip + 300] - x[max(0, ip - 300):ip].mean()))
        t = np.arange(1, len(env)) / z.stats.sampling_rate
        (ln_b, _), *_ = np.linalg.lstsq(np.vstack([np.ones_like(t), t]).T, np.log(env[1:] / t), rcond=None)
        b = math.exp(ln_b)
        print(f"  {sta:8} Δ {delta:5.1f} km R {r_true:5.1f} km | B {b:.3g} cm/s³ → Δ_BΔ {10 ** (-0.96 * math.log10(b) + 1.42):.1f} km")
        print("           " + "; ".join(cells))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quakewarn", default=".build/debug/quakewarn")
    a = ap.parse_args()
    q = os.path.abspath(a.quakewarn)
    config = os.path.abspath("SampleWaveforms/scenarios/config.yaml")
    for source in ("brune", "atkinson-silva-2000"):
        with tempfile.TemporaryDirectory() as folder:
            print(f"=== source {source}")
            for name, (la, lo, mw, h, origin, seed, duration) in SETS.items():
                subprocess.run([q, "simulate", "--magnitude", str(mw), "--latitude", str(la), "--longitude", str(lo),
                                "--depth-km", str(h), "--origin-time", origin, "--seed", str(seed), *STATION_ARGS,
                                "--out", os.path.join(folder, name), "--duration", str(duration), "--pre-event", "30",
                                "--source", source], check=True, capture_output=True)
                print(f"-- {name} (Mw {mw})")
                replay_table(q, folder, config, name, (la, lo))
                station_table(q, folder, name, (la, lo, mw, h))


if __name__ == "__main__":
    main()
