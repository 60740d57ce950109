import Benchmark
import Picking
import SeismicCore

/// STA/LTA throughput over 10,000,000 samples (picking issue: goal ≥ 1.5× ObsPy's C code, which
/// `scripts/compare-references.sh` times on the same length in the same run). The output buffer
/// is reused, as the streaming picker does; windows are 50/1000 samples (0.5 s / 10 s at 100 sps).
let benchmarks: @Sendable () -> Void = {
    chainBenchmarks()
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions, .throughput],
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
///
/// Each sample of the benchmark is one packet per channel in the steady state: the pickers are
/// created and warmed up once (in `setup`) and keep running across samples, and the packets are
/// pre-generated noise (a pool of 1,000 s reused cyclically with advancing start times; building a
/// `SampleBlock` from a pooled array does not allocate). So the wall clock and the malloc count are
/// those of the chain alone: creating, warming up and destroying the pickers (thousands of
/// buffer frees) is not measured, as it was when all that ran inside the measured closure.
let chainBenchmarks: @Sendable () -> Void = {
    Benchmark("Filter+picker 3 channels, 1 s at 100 sps",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
                                   warmupIterations: 10, maxDuration: .seconds(5), maxIterations: 20_000),
              closure: { benchmark, state in
                  benchmark.startMeasurement()  // after the framework's cast of the setup state
                  for _ in benchmark.scaledIterations { state.nextPacket() }
                  benchmark.stopMeasurement()
              },
              setup: { try ChainBenchmarkState() })
}

/// Persistent pickers and pre-generated packets for the chain benchmark (only touched by the
/// benchmark's closure, one sample at a time).
final class ChainBenchmarkState: @unchecked Sendable {
    static let rate = 100.0
    static let poolSeconds = 1000
    let channels = ["HNZ", "HNN", "HNE"].map { StreamID(network: "SC", station: "NANTA", location: "00", channel: $0) }
    var pickers: [GlitchRejectingPicker]
    /// `pool[second][channel]`: 100 samples of noise.
    let pool: [[[Double]]]
    var time = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
    var second = 0

    init() throws {
        pickers = try channels.map { try GlitchRejectingPicker(streamID: $0, samplingRateHz: Self.rate) }
        var rng = SplitMix64(seed: 7)
        pool = (0..<Self.poolSeconds).map { _ in
            (0..<3).map { _ in (0..<100).map { _ in 1000 * rng.nextStandardNormal() } }
        }
        for _ in 0..<60 { nextPacket() }  // warm-up: LTA (10 s) and filter settled
    }

    /// Feeds the next 1 s packet to each channel's picker.
    func nextPacket() {
        let packet = pool[second % Self.poolSeconds]
        for c in 0..<3 {
            blackHole(pickers[c].process(SampleBlock(streamID: channels[c], startTime: time,
                                                     samplingRateHz: Self.rate, samples: packet[c])))
        }
        time = time.adding(nanoseconds: 1_000_000_000)
        second += 1
    }
}

enum PickingBenchmarkData {
    /// Deterministic zero-mean Gaussian noise.
    static func noise(count: Int) -> [Double] {
        var rng = SplitMix64(seed: 815)
        return (0..<count).map { _ in rng.nextStandardNormal() }
    }
}
