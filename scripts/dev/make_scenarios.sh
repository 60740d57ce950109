#!/usr/bin/env bash
# Regenerates the simulated scenario sets in SampleWaveforms/scenarios/ with `quakewarn simulate`
# (seeded: the same binary gives byte-identical files). The six-hour noise-and-glitch set is too
# large to commit (≈ 15 MB of Steim-2); the committed `noise-glitches/` holds its first hour, and
#   scripts/dev/make_scenarios.sh --six-hours DIR
# writes the full six hours (same seed, same first-hour glitch schedule density) to DIR.
# Usage: scripts/dev/make_scenarios.sh [--six-hours DIR]   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
Q="${QUAKEWARN:-.build/debug/quakewarn}"
ST=(--station SC.NANTA.00:30.270:105.035:390 --station SC.GAOSI.00:30.380:105.120:420)
S=SampleWaveforms/scenarios

if [[ "${1:-}" == "--six-hours" ]]; then
  out="${2:?usage: --six-hours DIR}"
  rm -rf "$out"
  # Mw 2.0 about 600 km away: invisible under the noise, so this is station noise + glitches.
  "$Q" simulate --magnitude 2.0 --latitude 33.5 --longitude 109.0 --depth-km 10 \
    --origin-time 2026-05-12T09:00:00Z --seed 4 "${ST[@]}" --out "$out" --pre-event 30 \
    --duration 21660 --glitches-per-hour 12
  exit 0
fi

rm -rf "$S/nearby-m4.5" "$S/longquan-m5.8" "$S/longmenshan-m7.5" "$S/noise-glitches"
# Nearby M4.5, ≈ 25 km south-east of Nanta (hypothetical source in the basin), depth 10 km.
"$Q" simulate --magnitude 4.5 --latitude 30.10 --longitude 105.19 --depth-km 10 \
  --origin-time 2026-05-12T06:00:00Z --seed 11 "${ST[@]}" --out "$S/nearby-m4.5" --duration 40 --pre-event 30
# M5.8 on the Longquan fault (Longquanshan, east of Chengdu), ≈ 75 km west of Nanta, depth 12 km.
"$Q" simulate --magnitude 5.8 --latitude 30.42 --longitude 104.30 --depth-km 12 \
  --origin-time 2026-05-12T06:30:00Z --seed 12 "${ST[@]}" --out "$S/longquan-m5.8" --duration 70 --pre-event 30
# M7.5 on the Longmenshan fault (Wenchuan direction), ≈ 180 km north-west, depth 14 km; S−P ≈ 21 s.
"$Q" simulate --magnitude 7.5 --latitude 31.00 --longitude 103.38 --depth-km 14 \
  --origin-time 2026-05-12T07:00:00Z --seed 13 "${ST[@]}" --out "$S/longmenshan-m7.5" --duration 170 --pre-event 30
# One hour of station noise with 12 glitches per hour per station (spikes, steps, dropouts).
"$Q" simulate --magnitude 2.0 --latitude 33.5 --longitude 109.0 --depth-km 10 \
  --origin-time 2026-05-12T09:00:00Z --seed 4 "${ST[@]}" --out "$S/noise-glitches" --pre-event 30 \
  --duration 3600 --glitches-per-hour 12
