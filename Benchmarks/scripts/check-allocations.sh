#!/usr/bin/env bash
# Enforces "hot paths are allocation-free after warm-up" with ordo-one/benchmark's malloc counts
# (the MallocInterposer trait counts every malloc of the benchmark process): runs the hot-path
# benchmarks with a JMH export and fails when a benchmark's p100 malloc count per measured
# sample exceeds its limit. The limit is the framework's own baseline (measured with an empty
# benchmark: 16 per sample), i.e. zero allocations of ours. Run in CI after `swift build`:
#   Benchmarks/scripts/check-allocations.sh
# Timing is irrelevant here, so a loaded machine does not make it flaky.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${QW_BENCH_DIR:-/tmp/quakewarn-bench}/allocations"
mkdir -p "$out"
rm -f "$out/Current_run.jmh.json"
swift package --allow-writing-to-directory "$out" benchmark --no-progress --format jmh --path "$out" \
    --target PickingBenchmarks --filter "Filter.*" --filter ".*STA/LTA.*" >&2
python3 - "$out/Current_run.jmh.json" <<'PY'
import json
import sys

# benchmark name -> maximum malloc count per measured sample (p100)
LIMITS = {
    "Filter+picker 3 channels, 1 s at 100 sps": 16,
    "Recursive STA/LTA 10M samples": 16,
    # + its ring buffer, allocated once by ClassicSTALTA.init inside the measured closure
    "Classic STA/LTA 10M samples": 17,
}
with open(sys.argv[1]) as f:
    runs = json.load(f)
failed = False
seen = set()
for b in runs:
    # "package.benchmark.<Target>.<name with spaces as underscores>"
    name = b["benchmark"].removeprefix("package.benchmark.").split(".", 1)[-1].replace("_", " ")
    limit = LIMITS.get(name)
    if limit is None:
        continue
    seen.add(name)
    metrics = b.get("secondaryMetrics", {})
    malloc = next((v for k, v in metrics.items() if k.lower().startswith("malloc (total)")), None)
    if malloc is None:
        print(f"{name}: no malloc metric in the export (metrics: {sorted(metrics)})")
        failed = True
        continue
    worst = malloc["scorePercentiles"]["100.0"]
    verdict = "ok" if worst <= limit else "TOO MANY ALLOCATIONS"
    print(f"{name}: mallocs per sample p100 = {worst:g} (limit {limit}) {verdict}")
    failed |= worst > limit
missing = set(LIMITS) - seen
for name in sorted(missing):
    print(f"{name}: did not run")
sys.exit(1 if failed or missing else 0)
PY
