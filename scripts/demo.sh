#!/usr/bin/env bash
# QuakeWarn's main job on a fresh machine: installs missing Debian packages, builds the release
# binary, and runs the processing chain that exists so far over SampleWaveforms/:
#   info (what is in the files) -> pick (STA/LTA triggers + AIC onsets) -> intensity (GB/T 17742)
# The results go to OUTPUT_DIR (default out/) and a summary is printed.
# Usage: scripts/demo.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

out="${1:-out}"
mkdir -p "$out"
echo "== building quakewarn (release) ==" >&2
swift build -c release --product quakewarn >&2
bin="$(swift build -c release --show-bin-path)/quakewarn"

waveforms=(SampleWaveforms/*.mseed)

echo "== quakewarn info: ${#waveforms[@]} files ==" >&2
"$bin" info "${waveforms[@]}" | tee "$out/info.txt"
"$bin" info --json "${waveforms[@]}" > "$out/info.jsonl"

echo >&2
echo "== quakewarn pick (recursive STA/LTA 0.5/10 s, on 3.5 / off 0.5, 1-20 Hz band-pass, AIC onset) ==" >&2
"$bin" pick --filter bandpass:1:20 --cf-out "$out/cf" "${waveforms[@]}" | tee "$out/picks.jsonl"

echo >&2
echo "== quakewarn intensity: MEMA 3-component accelerometer (1.1694431304931641e-06 m/s^2 per count) ==" >&2
"$bin" intensity --gain 855107.8491335372 SampleWaveforms/obspy_MEMA_ch*.mseed | tee "$out/intensity.jsonl"

echo >&2
echo "report: $out/info.txt, $out/info.jsonl, $out/picks.jsonl ($(wc -l < "$out/picks.jsonl") picks)," \
     "$out/cf/*.cf.mseed (characteristic functions), $out/intensity.jsonl" >&2
