import Benchmark
import Picking
import SeismicCore

/// STA/LTA throughput over 10,000,000 samples (picking issue: goal ≥ 1.5× ObsPy's C code, which
/// `scripts/compare-references.sh` times on the same length in the same run). The output buffer
/// is reused, as the streaming picker does; windows are 50/1000 samples (0.5 s / 10 s at 100 sps).
let benchmarks: @Sendable () -> Void = {
    chainBenchmarks()
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

/// The picker chain per packet (design.md budget: filters + picker + station parameters for
/// 3 channels ≤ 100 µs p99): one 1-second, 100 sps packet on each of 3 channels through
/// `GlitchRejectingPicker` (Butterworth 1–20 Hz band-pass, recursive STA/LTA 0.5/10 s, trigger
/// state machine, glitch checks), after 60 s of warm-up so the LTA is settled.
let chainBenchmarks: @Sendable () -> Void = {
    Benchmark("Filter+picker 3 channels, 1 s at 100 sps",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
                                   warmupIterations: 10, maxDuration: .seconds(5), maxIterations: 20_000)) { benchmark in
        let rate = 100.0
        let channels = ["HNZ", "HNN", "HNE"].map { StreamID(network: "SC", station: "NANTA", location: "00", channel: $0) }
        var pickers = try channels.map { try GlitchRejectingPicker(streamID: $0, samplingRateHz: rate) }
        var rng = SplitMix64(seed: 7)
        var time = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        func packet(_ id: StreamID) -> SampleBlock {
            SampleBlock(streamID: id, startTime: time, samplingRateHz: rate,
                        samples: (0..<100).map { _ in 1000 * rng.nextStandardNormal() })
        }
        for _ in 0..<60 {
            for c in pickers.indices { blackHole(pickers[c].process(packet(channels[c]))) }
            time = time.adding(nanoseconds: 1_000_000_000)
        }
        // Pre-generate the measured packets so the measurement is the picker chain only.
        var packets: [[SampleBlock]] = []
        for _ in 0..<benchmark.scaledIterations.count {
            packets.append(channels.map(packet))
            time = time.adding(nanoseconds: 1_000_000_000)
        }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            for c in pickers.indices { blackHole(pickers[c].process(packets[i][c])) }
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
