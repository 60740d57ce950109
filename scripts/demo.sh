#!/usr/bin/env bash
# QuakeWarn's main job on a fresh machine: installs missing Debian packages, builds the release
# binary, and replays SampleWaveforms/ through the whole pipeline (picker, station parameters,
# event builder, warnings with per-target intensity and S-wave countdown, CAP 1.2, Ed25519
# signatures with a demo key, checked by `quakewarn verify`, an altered copy rejected), printing the
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

# A demo signing key (kept in $out/keys, made once): the replay signs every warning and CAP
# document with it, as the ingest daemon does with the station's key.
if [ ! -f "$out/keys/quakewarn-signing.key" ]; then
    "$bin" keys generate --out "$out/keys" > /dev/null
fi
echo "== quakewarn replay SampleWaveforms (config: SampleWaveforms/scenarios/config.yaml, Exercise; signed with the demo key $out/keys) ==" >&2
"$bin" replay SampleWaveforms --out "$out/replay" --private-key "$out/keys/quakewarn-signing.key"

echo >&2
echo "== signatures: every signed warning verifies; an altered copy is rejected ==" >&2
signed=("$out"/replay/signed/*.json)
"$bin" verify --public-key "$out/keys/quakewarn-signing.pub" "${signed[@]}" > "$out/verify.jsonl"
echo "${#signed[@]} signed warnings verified with $out/keys/quakewarn-signing.pub -> $out/verify.jsonl" >&2
altered="$out/altered-warning.json"
# The first warning with its magnitude raised by 10 (payload decoded, edited, re-encoded).
payload="$(sed -E 's/.*"payload":"([^"]*)".*/\1/' "${signed[0]}")"
edited="$(printf '%s' "$payload" | base64 -d | sed -E 's/"magnitude":/"magnitude":1/' | base64 -w0)"
[ "$edited" != "$payload" ] || { echo "error: could not alter ${signed[0]}" >&2; exit 1; }
sed "s#$payload#$edited#" "${signed[0]}" > "$altered"
if "$bin" verify --public-key "$out/keys/quakewarn-signing.pub" "$altered" > /dev/null 2> "$out/altered-verify.txt"; then
    echo "error: an altered warning verified" >&2
    exit 1
fi
echo "altered copy rejected: $(cat "$out/altered-verify.txt")" >&2

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
     "$out/replay/cap/*.xml, $out/replay/signed/ (Ed25519 envelopes, $out/verify.jsonl), $out/replay/summary.txt; real recordings: $out/info.txt, $out/picks.jsonl, $out/cf/, $out/intensity.jsonl" >&2
