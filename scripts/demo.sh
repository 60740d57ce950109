#!/usr/bin/env bash
# QuakeWarn's main job on a fresh machine: installs missing Debian packages, builds the
# release binary, and runs it over SampleWaveforms/.
# Usage: scripts/demo.sh [OUTPUT_DIR]   (default: out/)
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh

out="${1:-out}"
mkdir -p "$out"
echo "== building quakewarn (release) ==" >&2
swift build -c release --product quakewarn
bin="$(swift build -c release --show-bin-path)/quakewarn"

echo "== quakewarn info SampleWaveforms/*.mseed ==" >&2
"$bin" info SampleWaveforms/*.mseed | tee "$out/info.txt"
"$bin" info --json SampleWaveforms/*.mseed > "$out/info.jsonl"
echo "report written to $out/info.txt and $out/info.jsonl" >&2
