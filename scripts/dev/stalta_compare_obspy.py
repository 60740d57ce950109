#!/usr/bin/env python3
"""Dev aid (not used at runtime or by the tests): compares `quakewarn pick` with ObsPy at full
float64 precision.

For every reference trace (Tests/Fixtures/mseed + Tests/Fixtures/reference) and each of the four
reference cases it runs

    quakewarn pick --demean --method M --sta S --lta L --on X --off Y --cf-out DIR FILE...

reads the CF written as FLOAT64 miniSEED, and compares it with ObsPy's `classic_sta_lta` /
`recursive_sta_lta` on x = data - mean (float64): number of samples whose bits differ, max
relative difference, and max relative difference to the stored float32 reference CF (.npy). The
JSON trigger lines are compared with ObsPy's `trigger_onset` on ObsPy's own CF. It also checks
ObsPy's own golden values (tests/test_trigger.py: np.random.seed(815), randn(100000),
recursive nsta=5, nlta=10 -> cf[99:103]) on seeded noise written as FLOAT64 miniSEED.

Usage (after `swift build`):
    /work/devvenv/bin/python scripts/dev/stalta_compare_obspy.py [path/to/quakewarn]
"""
import glob
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import obspy
from obspy.signal.trigger import classic_sta_lta, recursive_sta_lta, trigger_onset

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(ROOT, "Tests", "Fixtures")
KINDS = [  # suffix, method, sta, lta, on, off
    ("classic_0.5_10", "classic", "0.5", "10", "3.5", "0.5"),
    ("recursive_0.5_10", "recursive", "0.5", "10", "3.5", "0.5"),
    ("classic_5_10", "classic", "5", "10", "1.5", "0.5"),
    ("recursive_5_10", "recursive", "5", "10", "1.2", "0.5"),
]


def run_pick(binary, args):
    p = subprocess.run([binary, "pick"] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("quakewarn failed (%d): %s" % (p.returncode, p.stderr))
    return [json.loads(line) for line in p.stdout.splitlines()]


def obspy_cf(method, x, nsta, nlta):
    return (classic_sta_lta if method == "classic" else recursive_sta_lta)(x, nsta, nlta)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "debug", "quakewarn")
    refs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(FIX, "reference", "obspy_*.json")))
            if "__" not in os.path.basename(p)]
    files = [os.path.join(FIX, "mseed", r["trace_id"] + ".mseed") for r in refs]
    worst64 = worst32 = 0.0
    total_bits = total_samples = 0
    trigger_mismatch = 0
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, method, sta, lta, on, off in KINDS:
            out = os.path.join(tmp, suffix)
            lines = run_pick(binary, ["--demean", "--method", method, "--sta", sta, "--lta", lta,
                                      "--on", on, "--off", off, "--cf-out", out] + files)
            got_triggers = [(l["stream"], l["onSample"], l["offSample"]) for l in lines]
            want_triggers = []
            bits = 0
            for ref, path in zip(refs, files):
                case = ref["cases"][ref["trace_id"] + "__" + suffix]
                tr = obspy.read(path)[0]
                x = tr.data.astype(np.float64) - float.fromhex(ref["input"]["mean_hex"])
                cf64 = obspy_cf(method, x, case["nsta"], case["nlta"])
                mine = obspy.read(os.path.join(out, ref["trace_id"] + ".cf.mseed"))[0].data
                assert mine.dtype == np.float64 and len(mine) == len(cf64)
                diff = int(np.sum(mine.view(np.int64) != cf64.view(np.int64)))
                bits += diff
                nz = cf64 != 0
                rel64 = float(np.max(np.abs(mine[nz] - cf64[nz]) / np.abs(cf64[nz])))
                ref32 = np.load(os.path.join(FIX, case["cf_file"])).astype(np.float64)
                nz32 = ref32 != 0
                assert np.all(mine[~nz32] == 0), "warm-up not zero"
                rel32 = float(np.max(np.abs(mine[nz32] - ref32[nz32]) / np.abs(ref32[nz32])))
                worst64, worst32 = max(worst64, rel64), max(worst32, rel32)
                total_samples += len(cf64)
                for on_, off_ in trigger_onset(cf64, float(on), float(off)):
                    want_triggers.append((tr.id, int(on_), int(off_)))
            total_bits += bits
            ok = got_triggers == want_triggers
            trigger_mismatch += 0 if ok else 1
            print("%-17s %2d traces: CF bits differing from ObsPy float64: %d; triggers %s (%d)"
                  % (suffix, len(refs), bits, "identical" if ok else "DIFFER", len(want_triggers)))
        # ObsPy's golden values on seeded noise (tests/test_trigger.py).
        np.random.seed(815)
        noise = np.random.randn(100000)
        st = obspy.Stream([obspy.Trace(noise, header={"network": "XX", "station": "NOISE", "channel": "HHZ",
                                                      "sampling_rate": 100.0})])
        noise_file = os.path.join(tmp, "noise.mseed")
        st.write(noise_file, format="MSEED", encoding="FLOAT64")
        noise_bits = 0
        for method in ("recursive", "classic"):
            out = os.path.join(tmp, "noise_" + method)
            run_pick(binary, ["--method", method, "--sta", "0.05", "--lta", "0.1", "--cf-out", out, noise_file])
            mine = obspy.read(os.path.join(out, "noise.cf.mseed"))[0].data
            ref = obspy_cf(method, noise, 5, 10)
            noise_bits += int(np.sum(mine.view(np.int64) != ref.view(np.int64)))
            if method == "recursive":
                golden = np.array([0.80810165, 0.75939449, 0.91763978, 0.97465004])
                print("ObsPy test_trigger golden cf[99:103] (recursive 5/10):", mine[99:103],
                      "match to 1e-8:", bool(np.allclose(mine[99:103], golden, rtol=0, atol=1e-8)))
        print("seeded noise (seed 815, 100000 samples, 5/10): CF bits differing from ObsPy: %d" % noise_bits)
    print("all reference cases: %d CF samples, %d with differing bits; max relative difference to ObsPy "
          "float64 %.3g, to the float32 references %.3g" % (total_samples, total_bits, worst64, worst32))
    if total_bits or noise_bits or trigger_mismatch:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
