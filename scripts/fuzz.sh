#!/usr/bin/env bash
# Randomised robustness run of the SeedLink frame decoder and the miniSEED record decoder
# (Tests/IngestTests/DecoderFuzzTests.swift) with many inputs.
#
#   scripts/fuzz.sh                 # 1,000,000 inputs, seed 1, release build
#   scripts/fuzz.sh 10000000 42     # 10 M inputs, seed 42
#   for s in $(seq 1 8); do scripts/fuzz.sh 2000000 $s; done   # longer: several seeds
#   QW_FUZZ_CONFIG=debug scripts/fuzz.sh   # reuse the debug test build (1 M ≈ 9 min on 1 core)
#
# Prints "fuzz: N inputs (seed S) in T: … 0 crashes" and exits non-zero on any failure. A trap
# (crash) aborts the test process; the seed and input count in the output reproduce it.
set -euo pipefail
cd "$(dirname "$0")/.."
inputs="${1:-1000000}"
seed="${2:-1}"
config="${QW_FUZZ_CONFIG:-release}"
flags=()
# -enable-testing: other test targets use @testable imports, which a plain release build refuses.
if [ "$config" = release ]; then flags=(-c release -Xswiftc -enable-testing); fi
QW_FUZZ_INPUTS="$inputs" QW_FUZZ_SEED="$seed" \
  swift test "${flags[@]}" --filter 'DecoderFuzzTests/randomisedInputsNeverTrap' 2>&1 \
  | grep -E "fuzz:|passed|failed|error|crash"
