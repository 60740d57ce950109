import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// One header or data corruption applied to record 1 (bytes 512..<1024) of a 512-byte file.
struct Corruption: Sendable, CustomStringConvertible {
    var name: String
    var file: String
    var code: MiniSEEDError.Code
    var field: String?
    var reasonContains: String
    var mutate: @Sendable (inout [UInt8]) -> Void
    var description: String { name }

    static let r = 512  // offset of record 1

    static let all: [Corruption] = [
        Corruption(name: "day of year 400", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "day of year 400") { TestData.setBE16(&$0, r + 22, 400) },
        Corruption(name: "day of year 0", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "day of year 0") { TestData.setBE16(&$0, r + 22, 0) },
        Corruption(name: "day 366 in a common year", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "366") { TestData.setBE16(&$0, r + 20, 2023); TestData.setBE16(&$0, r + 22, 366) },
        Corruption(name: "year 1800", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "year 1800") { TestData.setBE16(&$0, r + 20, 1800) },
        Corruption(name: "hour 25", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "25:") { $0[r + 24] = 25 },
        Corruption(name: "fraction 10000", file: "int16_be_512.mseed", code: .invalidHeader, field: "start time",
                   reasonContains: "10000") { TestData.setBE16(&$0, r + 28, 10000) },
        Corruption(name: "sample rate factor 0", file: "int16_be_512.mseed", code: .invalidHeader, field: "sampling rate",
                   reasonContains: "factor 0") { TestData.setBE16(&$0, r + 32, 0) },
        Corruption(name: "more samples than the record holds", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "sample count", reasonContains: "500 samples") { TestData.setBE16(&$0, r + 30, 500) },
        Corruption(name: "record length exponent 3", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "blockette 1000", reasonContains: "exponent 3") { $0[r + 54] = 3 },
        Corruption(name: "record length exponent 25", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "blockette 1000", reasonContains: "exponent 25") { $0[r + 54] = 25 },
        Corruption(name: "data offset past the record end", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "data offset", reasonContains: "600") { TestData.setBE16(&$0, r + 44, 600) },
        Corruption(name: "data offset inside the header", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "data offset", reasonContains: "20") { TestData.setBE16(&$0, r + 44, 20) },
        Corruption(name: "unknown encoding 99", file: "int16_be_512.mseed", code: .unsupportedEncoding,
                   field: "encoding", reasonContains: "99") { $0[r + 52] = 99 },
        Corruption(name: "blockette chain loop", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "blockette chain", reasonContains: "points inside") { TestData.setBE16(&$0, r + 50, 48) },
        Corruption(name: "blockette inside the fixed header", file: "int16_be_512.mseed", code: .invalidHeader,
                   field: "blockette chain", reasonContains: "overlaps") { TestData.setBE16(&$0, r + 46, 30) },
        Corruption(name: "quality indicator X", file: "int16_be_512.mseed", code: .notMiniSEED,
                   field: nil, reasonContains: "signature") { $0[r + 6] = UInt8(ascii: "X") },
        Corruption(name: "Steim-2 reverse integration constant wrong", file: "steim2_be_512.mseed", code: .decodeFailed,
                   field: "steim frames", reasonContains: "Data integrity check for Steim2 failed") { $0[r + 64 + 11] ^= 0x01 },
        Corruption(name: "Steim-2 impossible difference code", file: "steim2_be_512.mseed", code: .decodeFailed,
                   field: nil, reasonContains: "Impossible Steim2") { bytes in
            // Control nibble of word 3 = 10 (binary), and word 3's dnib = 00.
            bytes[r + 64] = (bytes[r + 64] & 0b1111_1100) | 0b10
            bytes[r + 64 + 12] &= 0b0011_1111
        },
        Corruption(name: "sample count above what the Steim frames hold", file: "steim2_be_512.mseed",
                   code: .sampleCountMismatch, field: nil, reasonContains: "only decoded") { TestData.setBE16(&$0, r + 30, 700) },
    ]
}

@Suite("Corrupt, truncated and garbage input")
struct CorruptInputTests {
    @Test("each impossible header or data gives a typed error naming file, byte and record", arguments: Corruption.all)
    func corruptRecord(_ corruption: Corruption) throws {
        let good = TestData.bytes("mseed/generated/" + corruption.file)
        #expect(good.count >= 2048)
        var bytes = good
        corruption.mutate(&bytes)
        let source = "corrupt-" + corruption.file

        // Strict: the error itself.
        let error = #expect(throws: MiniSEEDError.self) {
            try MiniSEEDReader.read(bytes: bytes, source: source, strict: true)
        }
        #expect(error?.code == corruption.code)
        #expect(error?.field == corruption.field)
        #expect(error?.file == source)
        #expect(error?.byteOffset == 512)
        #expect(error?.recordIndex == 1)
        #expect(error?.reason.contains(corruption.reasonContains) == true, "\(error?.reason ?? "")")
        #expect(error?.description.hasPrefix("\(source): byte 512 (record 1): ") == true, "\(error?.description ?? "")")

        // Lenient: only that record is lost, and it is listed.
        let volume = try MiniSEEDReader.read(bytes: bytes, source: source)
        #expect(volume.problems.count == 1)
        #expect(volume.problems.first?.code == corruption.code)
        #expect(volume.problems.first?.byteOffset == 512)
        let reference = try TestData.records(good)
        let lost = reference[1].sampleCount
        let total = reference.reduce(0) { $0 + $1.sampleCount }
        #expect(volume.sampleCount == total - lost)
        #expect(volume.recordCount == reference.count - 1)
        // The hole is reported as a gap of exactly the lost record's duration.
        #expect(volume.discontinuities.count == 1)
        #expect(volume.discontinuities.first?.kind == .gap)
        #expect(volume.discontinuities.first?.expectedTime == reference[1].startTime)
        #expect(volume.discontinuities.first?.actualTime == reference[2].startTime)

        // The incremental decoder reports it too and carries on.
        let (records, errors) = decodeChunked(bytes, chunks: [97])
        #expect(errors.count == 1)
        #expect(errors.first?.code == corruption.code)
        #expect(records.count == reference.count - 1)
    }

    @Test("Blockette 100 rate NaN, zero or negative", arguments: [Float.nan, 0, -5, .infinity])
    func blockette100Rate(_ rate: Float) throws {
        var bytes = try MiniSEEDWriter.encode(TestData.block([1, 2, 3], rate: 124.99999237060547), encoding: .int32,
                                              recordLength: 512)
        // Walk the (big-endian) blockette chain to Blockette 100.
        var offset = TestData.be16(bytes, 46)
        while offset != 0, TestData.be16(bytes, offset) != 100 { offset = TestData.be16(bytes, offset + 2) }
        #expect(offset != 0)
        let bits = rate.bitPattern
        for i in 0..<4 { bytes[offset + 4 + i] = UInt8((bits >> (24 - 8 * UInt32(i))) & 0xFF) }
        let error = #expect(throws: MiniSEEDError.self) { try MiniSEEDReader.read(bytes: bytes, source: "b100") }
        #expect(error?.code == .invalidHeader)
        #expect(error?.field == "sampling rate")
        #expect(error?.reason.contains("blockette 100") == true)
    }

    @Test("absurdly slow rates are rejected instead of overflowing time arithmetic")
    func absurdRates() throws {
        // Blockette 100 at 1e-30 Hz.
        var bytes = try MiniSEEDWriter.encode(TestData.block([1, 2, 3], rate: 124.99999237060547), encoding: .int32,
                                              recordLength: 512)
        var offset = TestData.be16(bytes, 46)
        while offset != 0, TestData.be16(bytes, offset) != 100 { offset = TestData.be16(bytes, offset + 2) }
        let bits = Float(1e-30).bitPattern
        for i in 0..<4 { bytes[offset + 4 + i] = UInt8((bits >> (24 - 8 * UInt32(i))) & 0xFF) }
        let error = #expect(throws: MiniSEEDError.self) { try MiniSEEDReader.read(bytes: bytes, source: "slow") }
        #expect(error?.field == "sampling rate")
        #expect(error?.reason.contains("would span") == true)

        // Factor and multiplier −32768 each: one sample per 2^30 s.
        var slow = TestData.bytes("mseed/generated/int16_be_512.mseed")
        TestData.setBE16(&slow, 512 + 32, 0x8000)
        TestData.setBE16(&slow, 512 + 34, 0x8000)
        let volume = try MiniSEEDReader.read(bytes: slow, source: "slow")
        #expect(volume.problems.first?.field == "sampling rate")
        #expect(volume.problems.first?.byteOffset == 512)
    }

    @Test("truncated at every length", arguments: ["int32_le_256.mseed", "int16_be_512.mseed"])
    func truncatedAtEveryLength(_ file: String) throws {
        let bytes = TestData.bytes("mseed/generated/" + file)
        let length = try TestData.records(bytes).first?.recordLength ?? 0
        #expect(length > 0)
        for n in 0...bytes.count {
            let prefix = Array(bytes[0..<n])
            let complete = n / length
            let partial = n % length != 0
            do {
                let volume = try MiniSEEDReader.read(bytes: prefix, source: "cut")
                #expect(complete > 0, "length \(n)")
                #expect(volume.recordCount == complete, "length \(n)")
                #expect(volume.problems.count == (partial ? 1 : 0), "length \(n)")
                if partial {
                    #expect(volume.problems.first?.code == .truncatedRecord, "length \(n)")
                    #expect(volume.problems.first?.byteOffset == complete * length, "length \(n)")
                }
            } catch {
                #expect(complete == 0, "length \(n): \(error)")
                #expect(error.code == (n == 0 ? .notMiniSEED : .truncatedRecord), "length \(n)")
            }
            if partial || n == 0 {
                #expect(throws: MiniSEEDError.self, "length \(n)") {
                    try MiniSEEDReader.read(bytes: prefix, source: "cut", strict: true)
                }
            } else {
                #expect(try MiniSEEDReader.read(bytes: prefix, source: "cut", strict: true).recordCount == complete)
            }
            // The incremental decoder returns exactly the complete records and waits for the rest.
            let (records, errors) = decodeChunked(prefix, chunks: [length / 3 + 1])
            #expect(errors.isEmpty)
            #expect(records.count == complete)
        }
    }

    @Test func garbageFilesThrow() throws {
        var rng = SplitMix64(seed: 99)
        let random = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let cases: [([UInt8], MiniSEEDError.Code)] = [
            ([], .notMiniSEED),
            ([UInt8](repeating: 0, count: 4096), .notMiniSEED),
            ([UInt8](repeating: 0x20, count: 4096), .notMiniSEED),
            (Array("Hello, this is not seismic data at all.\n".utf8), .notMiniSEED),
            (random, .notMiniSEED),
        ]
        for (bytes, code) in cases {
            let error = #expect(throws: MiniSEEDError.self) { try MiniSEEDReader.read(bytes: bytes, source: "garbage") }
            #expect(error?.code == code)
            #expect(error?.file == "garbage")
            #expect(error?.byteOffset == 0)
        }
    }

    @Test func unreadablePaths() {
        let missing = #expect(throws: MiniSEEDError.self) { try MiniSEEDReader.read(path: "/nonexistent/file.mseed") }
        #expect(missing?.code == .fileUnreadable)
        #expect(missing?.file == "/nonexistent/file.mseed")
        #expect(missing?.reason.contains("No such file") == true)
        let directory = #expect(throws: MiniSEEDError.self) { try MiniSEEDReader.read(path: Fixtures.path("mseed")) }
        #expect(directory?.code == .fileUnreadable)
    }

    @Test("a bad file throws, the next good file still reads (the CLI loops over files)")
    func badThenGoodFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-mseed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.mseed").path
        let good = Fixtures.path("mseed/obspy_KONO_BHZ.mseed")
        #expect(FileManager.default.createFile(atPath: bad, contents: Data("garbage".utf8)))
        var results: [String] = []
        for path in [bad, good, bad, good] {
            do {
                let volume = try MiniSEEDReader.read(path: path)
                results.append("ok \(volume.sampleCount)")
            } catch {
                results.append("error \(error.code)")
                #expect(error.file == path)
            }
        }
        #expect(results == ["error notMiniSEED", "ok 6000", "error notMiniSEED", "ok 6000"])
    }

    @Test("random values in header fields never trap", arguments: ["int16_be_512.mseed", "steim2_be_512.mseed", "int32_le_256.mseed"])
    func headerFieldFuzz(_ file: String) throws {
        let original = TestData.bytes("mseed/generated/" + file)
        let length = try TestData.records(original).first?.recordLength ?? 512
        // year, day, h/m/s, fraction, sample count, factor, multiplier, flags, blockette count,
        // time correction, data offset, first blockette, B1000 type/next/encoding/order/exponent.
        let fields: [(offset: Int, size: Int)] = [(20, 2), (22, 2), (24, 1), (25, 1), (26, 1), (28, 2), (30, 2), (32, 2),
                                                  (34, 2), (36, 1), (39, 1), (40, 4), (44, 2), (46, 2), (48, 2), (50, 2),
                                                  (52, 1), (53, 1), (54, 1)]
        var rng = SplitMix64(seed: 4242)
        var thrown = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                let field = fields.randomElement(using: &rng) ?? fields[0]
                let base = length * Int.random(in: 0..<(bytes.count / length), using: &rng) + field.offset
                for i in 0..<field.size { bytes[base + i] = UInt8.random(in: 0...255, using: &rng) }
            }
            do {
                _ = try MiniSEEDReader.read(bytes: bytes, source: "fields")
            } catch {
                thrown += 1
                #expect(error.byteOffset != nil)
            }
            _ = decodeChunked(bytes, chunks: [Int.random(in: 1...1024, using: &rng)])
        }
        #expect(thrown < 2000)
    }

    @Test("random byte corruption never traps: success or MiniSEEDError", arguments: [
        "generated/steim2_be_512.mseed", "generated/steim1_be_512.mseed", "generated/float64_le_1024.mseed",
        "generated/multi_gaps.mseed", "obspy_KONO_BHZ.mseed", "generated/int32_le_256.mseed",
    ])
    func mutationFuzz(_ file: String) throws {
        let original = TestData.bytes("mseed/" + file)
        #expect(!original.isEmpty)
        let length = try TestData.records(original).first?.recordLength ?? 512
        var rng = SplitMix64(seed: UInt64(original.count))
        var outcomes = [0, 0, 0]  // clean, with problems, thrown
        for iteration in 0..<600 {
            var bytes = original
            let flips = Int.random(in: 1...12, using: &rng)
            for _ in 0..<flips {
                // Half the mutations hit a header (first 64 bytes of some record).
                let position: Int
                if Bool.random(using: &rng) {
                    position = Int.random(in: 0..<(bytes.count / length), using: &rng) * length + Int.random(in: 0..<64, using: &rng)
                } else {
                    position = Int.random(in: 0..<bytes.count, using: &rng)
                }
                if Bool.random(using: &rng) {
                    bytes[position] ^= UInt8(1) << UInt8.random(in: 0...7, using: &rng)
                } else {
                    bytes[position] = UInt8.random(in: 0...255, using: &rng)
                }
            }
            if iteration % 10 == 0 { bytes.removeLast(Int.random(in: 0..<bytes.count, using: &rng)) }
            do {
                let volume = try MiniSEEDReader.read(bytes: bytes, source: "fuzz")
                outcomes[volume.problems.isEmpty ? 0 : 1] += 1
                for segment in volume.segments {
                    #expect(segment.samplingRateHz > 0 && segment.samplingRateHz.isFinite)
                    #expect(!segment.samples.isEmpty)
                }
                for problem in volume.problems {
                    #expect(problem.file == "fuzz")
                    #expect(problem.byteOffset != nil)
                }
            } catch {
                outcomes[2] += 1
                #expect(error.file == "fuzz")
            }
            do {
                let strict = try MiniSEEDReader.read(bytes: bytes, source: "fuzz", strict: true)
                #expect(strict.problems.isEmpty)
            } catch {
                #expect(error.byteOffset != nil)
            }
            let chunk = Int.random(in: 1...700, using: &rng)
            _ = decodeChunked(bytes, chunks: [chunk])
        }
        // The mutations really exercised every outcome.
        #expect(outcomes[0] > 0 && outcomes[1] > 0 && outcomes[2] > 0, "\(outcomes)")
    }
}
