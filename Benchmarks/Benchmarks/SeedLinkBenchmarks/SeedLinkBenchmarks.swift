import Benchmark
import Foundation
import MiniSEED
import SeedLink
import SeismicCore
import Synchronization

/// SeedLink ingestion throughput: packets from the socket to decoded samples.
///
/// - "SeedLink socket to samples, 12,000 packets": a `SeedLinkServer` (`--speed max`) on
///   127.0.0.1 serves 12,000 512-byte Steim2 packets (3 channels × 4000 records of 100 sps
///   noise with an event); one `SeedLinkClient` connects, handshakes and receives them:
///   TCP read → ``SeedLinkFrameDecoder`` → ``MiniSEEDRecordDecoder`` (Steim2 via libmseed) →
///   `MiniSEEDRecord` with `[Double]` samples, delivered to a counting callback. One iteration =
///   one connection and all 12,000 packets; throughput ×12,000 = records per second (the
///   server runs on its own event loop, so on a 2-core machine both sides share the cores).
/// - "Frame + record decode, 1 packet": the same decode path without the socket, steady state.
///
/// Real-time capacity: a 3-channel 100 sps station fills 3 × 100 / n records per second, with
/// n samples per 512-byte Steim2 record: ≈ 218 for this deliberately noisy synthetic data
/// (printed by the first benchmark; ≈ 360 for the SampleWaveforms scenarios), so 1.4 records/s.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 1,
        maxDuration: .seconds(10),
        maxIterations: 50
    )

    Benchmark("SeedLink socket to samples, 12,000 packets") { benchmark in
        let feed = try SeedLinkBenchData.sharedFeed.get()
        let server = SeedLinkServer(feed: feed, configuration: .init(host: "127.0.0.1", port: 0, speed: .max))
        let port = try await server.start()
        let count = feed.records.count
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let received = try await SeedLinkBenchData.receive(port: port, count: count)
            blackHole(received)
        }
        benchmark.stopMeasurement()
        await server.stop()
    }

    Benchmark("Frame + record decode, 1 packet",
              configuration: .init(metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput])) { benchmark in
        let packet = try SeedLinkBenchData.packet()
        var frames = SeedLinkFrameDecoder()
        var records = MiniSEEDRecordDecoder(source: "bench", maximumRecordLength: 512)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            frames.append(packet)
            if case .packet(_, let record) = frames.next() {
                records.append(record)
                blackHole(try records.next())
            }
        }
    }
}

enum SeedLinkBenchData {
    static let streams = ["HNZ", "HNN", "HNE"].map { StreamID(network: "SC", station: "NANTA", location: "00", channel: $0) }

    /// 100 sps counts: AR(1) noise with a decaying 3 Hz burst, seeded.
    static func samples(count: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var out = [Double](repeating: 0, count: count)
        var ar = 0.0
        for i in 0..<count {
            ar = 0.9 * ar + (rng.nextUniform() - 0.5) * 2000
            let t = Double(i - count / 2) / 100
            out[i] = (ar + (t > 0 ? 200_000 * exp(-t / 8) * sin(6 * Double.pi * t) : 0)).rounded()
        }
        return out
    }

    /// Built once per process (the benchmark closure runs once per measured sample).
    static let sharedFeed = Result { try feed() }

    /// 3 channels × 4000 records of 512-byte Steim2.
    static func feed() throws -> SeedLinkFeed {
        var bytes: [UInt8] = []
        let start = Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000)
        for (k, id) in streams.enumerated() {
            var channel: [UInt8] = []
            var n = 1_600_000
            while true {
                let block = SampleBlock(streamID: id, startTime: start, samplingRateHz: 100, unit: .counts,
                                        samples: samples(count: n, seed: UInt64(k + 1)))
                channel = try MiniSEEDWriter.encode(block, encoding: .steim2, recordLength: 512)
                if channel.count >= 4000 * 512 { break }
                n = n * 3 / 2
            }
            bytes += channel.prefix(4000 * 512)
        }
        let parsed = SeedLinkFeed.records(fromBytes: bytes, source: "bench")
        let feed = SeedLinkFeed(records: SeedLinkFeed.sorted(parsed.records))
        let samples = feed.records.prefix(300).reduce(0) { $0 + Int($1.bytes[30]) << 8 + Int($1.bytes[31]) }
        print("SeedLink benchmark feed: \(feed.records.count) packets, ≈\(samples / 300) samples per record")
        return feed
    }

    static func packet() throws -> [UInt8] {
        let block = SampleBlock(streamID: streams[0], startTime: Timestamp(nanosecondsSinceEpoch: 1_795_000_000_000_000_000),
                                samplingRateHz: 100, unit: .counts, samples: samples(count: 4000, seed: 1))
        return Array("SL00002A".utf8) + Array(try MiniSEEDWriter.encode(block, encoding: .steim2, recordLength: 512).prefix(512))
    }

    /// Connects a client, receives `count` records, stops.
    static func receive(port: Int, count: Int) async throws -> Int {
        let client = SeedLinkClient(configuration: .init(
            host: "127.0.0.1", port: port, stations: [.init(network: "SC", station: "NANTA")], keepAliveSeconds: nil))
        let received = Atomic<Int>(0)
        let samples = Atomic<Int>(0)
        try await client.run { event in
            if case .record(let r, _) = event {
                samples.add(r.samples.count, ordering: .relaxed)
                if received.add(1, ordering: .relaxed).newValue >= count { client.stop() }
            }
        }
        return samples.load(ordering: .relaxed)
    }
}
