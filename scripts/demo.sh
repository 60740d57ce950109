#!/usr/bin/env bash
# QuakeWarn's main job on a fresh machine: installs missing Debian packages, builds the release
# binary, and replays SampleWaveforms/ through the whole pipeline (picker, station parameters,
# event builder, warnings with per-target intensity and S-wave countdown, CAP 1.2), printing the
# warnings and writing a report. It then runs the single-purpose tools on the real recordings.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: out/)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

out="${1:-out}"
mkdir -p "$out"
echo "== building quakewarn (release) ==" >&2
swift build -c release --product quakewarn >&2
bin="$(swift build -c release --show-bin-path)/quakewarn"

echo "== quakewarn replay SampleWaveforms (config: SampleWaveforms/scenarios/config.yaml, Exercise) ==" >&2
"$bin" replay SampleWaveforms --out "$out/replay"

echo >&2
echo "== the real recordings: info, picks with AIC onsets, GB/T 17742 intensity ==" >&2
real=(SampleWaveforms/obspy_*.mseed)
"$bin" info "${real[@]}" > "$out/info.txt"
"$bin" pick --filter bandpass:1:20 --cf-out "$out/cf" "${real[@]}" > "$out/picks.jsonl"
# MEMA: 1.1694431304931641e-06 m/s^2 per count.
"$bin" intensity --gain 855107.8491335372 SampleWaveforms/obspy_MEMA_ch*.mseed > "$out/intensity.jsonl"
cat "$out/info.txt"
echo "$(wc -l < "$out/picks.jsonl") picks on the real recordings -> $out/picks.jsonl" >&2

echo >&2
echo "report: $out/replay/report.html (waveforms, picks, CF, magnitude, targets), $out/replay/{picks,events,decisions,warnings}.jsonl," \
     "$out/replay/cap/*.xml, $out/replay/summary.txt; real recordings: $out/info.txt, $out/picks.jsonl, $out/cf/, $out/intensity.jsonl" >&2
