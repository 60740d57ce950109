import Benchmark
import Picking
import SeismicCore

/// STA/LTA throughput over 10,000,000 samples (picking issue: goal ≥ 1.5× ObsPy's C code, which
/// `scripts/compare-references.sh` times on the same length in the same run). The output buffer
/// is reused, as the streaming picker does; windows are 50/1000 samples (0.5 s / 10 s at 100 sps).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
        warmupIterations: 2,
        maxDuration: .seconds(5),
        maxIterations: 50
    )

    Benchmark("Recursive STA/LTA 10M samples") { benchmark in
        let input = PickingBenchmarkData.noise(count: 10_000_000)
        var output = [Double](repeating: 0, count: input.count)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var cf = try RecursiveSTALTA(staSampleCount: 50, ltaSampleCount: 1000)
            cf.process(input, into: &output)
            blackHole(output)
        }
    }

    Benchmark("Classic STA/LTA 10M samples") { benchmark in
        let input = PickingBenchmarkData.noise(count: 10_000_000)
        var output = [Double](repeating: 0, count: input.count)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var cf = try ClassicSTALTA(staSampleCount: 50, ltaSampleCount: 1000)
            cf.process(input, into: &output)
            blackHole(output)
        }
    }
}

enum PickingBenchmarkData {
    /// Deterministic zero-mean Gaussian noise.
    static func noise(count: Int) -> [Double] {
        var rng = SplitMix64(seed: 815)
        return (0..<count).map { _ in rng.nextStandardNormal() }
    }
}
