import Benchmark
import Foundation
import MiniSEED
import SeismicCore

/// miniSEED decode benchmarks (design.md latency budget: record decode ≤ 20 µs).
///
/// - "Read 1 h 100 sps Steim2 file": `MiniSEEDReader.read(path:)` on a 1-hour, 100 sps,
///   4096-byte-record Steim2 file (360,000 samples), including the file read, exactly what
///   `obspy.read` does in `scripts/compare-references.sh`.
/// - "Decode one 512-byte Steim2 record": the SeedLink path, `MiniSEEDRecordDecoder` on one record.
///
/// The file is synthesised deterministically (see ``BenchmarkData``) and written once to
/// `$QW_BENCH_DIR` (default `/tmp/quakewarn-bench`), so the reference script reads the same bytes.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .instructions, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 1_000
    )

    Benchmark("Read 1 h 100 sps Steim2 file") { benchmark in
        let path = try BenchmarkData.steim2HourFile()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let volume = try MiniSEEDReader.read(path: path)
            blackHole(volume)
        }
    }

    Benchmark("Decode one 512-byte Steim2 record",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput])) { benchmark in
        // Steady state of a SeedLink connection: one long-lived decoder, one record at a time.
        let record = try BenchmarkData.steim2Record512()
        var decoder = MiniSEEDRecordDecoder(source: "bench")
        decoder.append(record)
        blackHole(try decoder.next())
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            decoder.append(record)
            blackHole(try decoder.next())
        }
    }
}

/// Deterministic benchmark inputs.
enum BenchmarkData {
    static var directory: String {
        ProcessInfo.processInfo.environment["QW_BENCH_DIR"] ?? "/tmp/quakewarn-bench"
    }

    /// One hour at 100 sps of band-limited noise (AR(1), seeded) with a local-event-like burst,
    /// as integer counts: Steim2 compresses it like a real broadband record (~2.5 bytes/sample).
    static func hourOfCounts() -> [Double] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func uniform() -> Double {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return Double(z >> 11) / Double(1 << 53)
        }
        let n = 360_000
        var out = [Double](repeating: 0, count: n)
        var ar = 0.0
        for i in 0..<n {
            let white = (uniform() - 0.5) * 2000
            ar = 0.9 * ar + white
            let t = Double(i - 180_000) / 100
            let burst = t > 0 ? 200_000 * exp(-t / 8) * sin(2 * Double.pi * 3 * t) : 0
            out[i] = (ar + burst).rounded()
        }
        return out
    }

    static func block(_ samples: [Double]) -> SampleBlock {
        SampleBlock(streamID: StreamID(network: "SC", station: "NANTA", location: "00", channel: "HNZ"),
                    startTime: Timestamp(year: 2026, month: 11, day: 29) ?? Timestamp(nanosecondsSinceEpoch: 0),
                    samplingRateHz: 100, unit: .counts, samples: samples)
    }

    /// Path of the 1-hour Steim2 file, written on first use.
    static func steim2HourFile() throws -> String {
        let path = directory + "/steim2-1h-100sps.mseed"
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try MiniSEEDWriter.write([block(hourOfCounts())], encoding: .steim2, recordLength: 4096, to: path)
        }
        return path
    }

    /// The first 512-byte Steim2 record of the same data.
    static func steim2Record512() throws -> [UInt8] {
        let bytes = try MiniSEEDWriter.encode(block(Array(hourOfCounts().prefix(2000))), encoding: .steim2,
                                              recordLength: 512)
        return Array(bytes.prefix(512))
    }
}
