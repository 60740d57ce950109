import Foundation
import MiniSEED
import SeedLink
import SeismicCore
import Testing

/// Synthetic 512-byte miniSEED records (written by MiniSEEDWriter) for protocol tests.
enum Synthetic {
    /// Deterministic integer counts (a chirp plus noise from SplitMix64).
    static func counts(_ n: Int, seed: UInt64, amplitude: Double = 5000) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var out: [Double] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            let x = Double(i)
            let phase: Double = x * 0.05 + x * x * 1e-5
            let noise = Double(rng.next() % 201) - 100
            out.append((amplitude * sin(phase) + noise).rounded())
        }
        return out
    }

    /// One stream as consecutive 512-byte STEIM2 records.
    static func records(_ id: String, start: Timestamp, rate: Double = 100, samples: [Double]) throws -> [UInt8] {
        let streamID = try #require(StreamID(id))
        return try MiniSEEDWriter.encode(SampleBlock(streamID: streamID, startTime: start, samplingRateHz: rate, samples: samples),
                                         encoding: .steim2, recordLength: 512)
    }

    /// Records of `samplesPerRecord` samples each (one block per record), so a record's
    /// duration is known exactly.
    static func shortRecords(_ id: String, start: Timestamp, rate: Double, records: Int, samplesPerRecord: Int,
                             seed: UInt64) throws -> [UInt8] {
        var out: [UInt8] = []
        let all = counts(records * samplesPerRecord, seed: seed)
        for k in 0..<records {
            let t = start.adding(nanoseconds: Int64((Double(k * samplesPerRecord) / rate * 1e9).rounded()))
            out += try Self.records(id, start: t, rate: rate,
                                    samples: Array(all[(k * samplesPerRecord)..<((k + 1) * samplesPerRecord)]))
        }
        return out
    }

    static let t0 = Timestamp(year: 2024, month: 5, day: 6, hour: 7, minute: 8, second: 9) ?? Timestamp(nanosecondsSinceEpoch: 0)

    /// A three-component station plus a second station, all 512-byte records.
    static func feedBytes() throws -> [UInt8] {
        var bytes: [UInt8] = []
        for (i, cha) in ["HNZ", "HNN", "HNE"].enumerated() {
            bytes += try records("XX.NANTA.00.\(cha)", start: t0, samples: counts(3000, seed: UInt64(i + 1)))
        }
        bytes += try records("XX.GAOSI..HNZ", start: t0.adding(nanoseconds: 250_000_000), samples: counts(2000, seed: 9))
        return bytes
    }

    static func feed(_ bytes: [UInt8]) -> SeedLinkFeed {
        let loaded = SeedLinkFeed.records(fromBytes: bytes, source: "synthetic")
        return SeedLinkFeed(records: SeedLinkFeed.sorted(loaded.records), problems: loaded.problems)
    }

    static func feed() throws -> SeedLinkFeed { feed(try feedBytes()) }

    /// Decodes one 512-byte record.
    static func decode(_ record: [UInt8]) throws -> MiniSEEDRecord {
        var d = MiniSEEDRecordDecoder(source: "test", maximumRecordLength: 512)
        d.append(record)
        return try #require(try d.next())
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "seedlink-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

extension Array where Element == UInt8 {
    /// `SL` + 6 hex digits + record.
    static func packet(_ sequence: Int, _ record: [UInt8]) -> [UInt8] {
        Array(("SL" + SeedLinkCommand.hex(sequence)).utf8) + record
    }
}
