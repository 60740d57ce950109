import Foundation
import MiniSEED
import SeedLink
import SeismicCore
import Testing
import TestSupport

/// The feed must serve every sample and time of the input unchanged.
@Suite struct FeedRepackTests {
    static let files: [String] = {
        let dir = Fixtures.path("mseed")
        let top = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".mseed") }
        let gen = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/generated")) ?? []).filter { $0.hasSuffix(".mseed") }
        return (top.map { "mseed/" + $0 } + gen.map { "mseed/generated/" + $0 }).sorted()
    }()

    /// Bitwise equality (NaN-safe) of two sample arrays.
    static func identical(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
    }

    @Test func fixtureListIsComplete() { #expect(Self.files.count >= 30) }

    @Test(arguments: files)
    func everySampleAndRecordStartTimeSurvivesRepacking(_ file: String) throws {
        let path = Fixtures.path(file)
        let bytes = [UInt8](try #require(FileManager.default.contents(atPath: path)))
        // Independent decoding of the original records, in file order.
        var decoder = MiniSEEDRecordDecoder(source: path)
        decoder.append(bytes)
        var originals: [MiniSEEDRecord] = []
        while true {
            guard let r = try decoder.next() else { break }
            originals.append(r)
        }
        let served = SeedLinkFeed.records(fromBytes: bytes, source: path)
        #expect(served.problems.isEmpty, "\(served.problems)")
        var k = 0
        for original in originals {
            if original.recordLength == 512 {
                let r = try #require(served.records[safe: k])
                #expect(!r.repacked)
                #expect(r.bytes == Array(bytes[original.byteOffset..<(original.byteOffset + 512)]), "byte-identical 512-byte record")
                k += 1
                continue
            }
            // Repacked: consume pieces until the original's samples are covered.
            var samples: [Double] = []
            var pieces = 0
            while samples.count < original.sampleCount {
                let piece = try #require(served.records[safe: k], "\(file): ran out of repacked records")
                #expect(piece.repacked && piece.bytes.count == 512)
                let decoded = try Synthetic.decode(piece.bytes)
                #expect(decoded.recordLength == 512)
                #expect(decoded.streamID == original.streamID)
                #expect(decoded.samplingRateHz == original.samplingRateHz)
                // Independent expectation: start + n_k / rate, rounded to the microsecond.
                let offsetMicroseconds = Int64((Double(samples.count) / original.samplingRateHz * 1e6).rounded())
                #expect(decoded.startTime == original.startTime.adding(nanoseconds: offsetMicroseconds * 1000),
                        "\(file): piece \(pieces) of record at byte \(original.byteOffset)")
                #expect(piece.startTime == decoded.startTime)
                switch original.encoding {
                case .float32: #expect(decoded.encoding == .float32)
                case .float64: #expect(decoded.encoding == .float64)
                default: #expect(decoded.encoding == .steim2 || decoded.encoding == .int32)
                }
                samples += decoded.samples
                pieces += 1
                k += 1
            }
            #expect(Self.identical(samples, original.samples), "\(file): samples of record at byte \(original.byteOffset)")
        }
        #expect(k == served.records.count)

        // Whole-stream view: the served bytes read back exactly like the original file.
        let before = try MiniSEEDReader.read(path: path)
        let after = try MiniSEEDReader.read(bytes: served.records.flatMap(\.bytes), source: "served")
        #expect(after.segments.count == before.segments.count)
        for (a, b) in zip(after.segments, before.segments) {
            #expect(a.streamID == b.streamID && a.startTime == b.startTime && a.samplingRateHz == b.samplingRateHz)
            #expect(Self.identical(a.samples, b.samples), "\(file) \(b.streamID)")
        }
        #expect(after.texts == before.texts)
    }

    @Test func steim2FallsBackToInt32WhenDifferencesAreTooLarge() throws {
        let id = try #require(StreamID("XX.BIG..HNZ"))
        // Alternating ±2^30: differences of 2^31 − 1 do not fit Steim-2's 30 bits.
        let samples: [Double] = (0..<1500).map { $0 % 2 == 0 ? 1_073_741_823 : -1_073_741_824 }
        let bytes = try MiniSEEDWriter.encode(SampleBlock(streamID: id, startTime: Synthetic.t0, samplingRateHz: 50, samples: samples),
                                              encoding: .int32, recordLength: 4096)
        let served = SeedLinkFeed.records(fromBytes: bytes, source: "big")
        #expect(served.problems.isEmpty)
        let decoded = try served.records.map { try Synthetic.decode($0.bytes) }
        #expect(decoded.allSatisfy { $0.encoding == .int32 })
        #expect(Self.identical(decoded.flatMap(\.samples), samples))
    }

    @Test func float32StaysFloat32() throws {
        let id = try #require(StreamID("XX.F32..HNZ"))
        let samples: [Double] = (0..<700).map { Double(Float(sin(Double($0) * 0.1) * 1.5e-3)) }
        let bytes = try MiniSEEDWriter.encode(SampleBlock(streamID: id, startTime: Synthetic.t0, samplingRateHz: 200, samples: samples),
                                              encoding: .float32, recordLength: 4096)
        let served = SeedLinkFeed.records(fromBytes: bytes, source: "f32")
        let decoded = try served.records.map { try Synthetic.decode($0.bytes) }
        #expect(decoded.count > 1 && decoded.allSatisfy { $0.encoding == .float32 })
        #expect(Self.identical(decoded.flatMap(\.samples), samples))
    }

    @Test func orderIsStartTimeThenStreamIDAcrossFiles() throws {
        let dir = try Synthetic.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Two files, interleaved in time; equal start times across streams.
        let a = try Synthetic.shortRecords("XX.NANTA.00.HNZ", start: Synthetic.t0, rate: 100, records: 4, samplesPerRecord: 50, seed: 1)
        let b = try Synthetic.shortRecords("XX.GAOSI.00.HNE", start: Synthetic.t0, rate: 100, records: 4, samplesPerRecord: 50, seed: 2)
        try Data(a).write(to: URL(fileURLWithPath: dir + "/b.mseed"))
        try Data(b).write(to: URL(fileURLWithPath: dir + "/a.mseed"))
        try Data("not miniSEED".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        let feed = try SeedLinkFeed.load(paths: [dir])
        #expect(feed.records.count == 8)
        for (i, r) in feed.records.enumerated() {
            let expectedStart = Synthetic.t0.adding(nanoseconds: Int64(i / 2) * 500_000_000)
            #expect(r.startTime == expectedStart)
            #expect(r.streamID.station == (i % 2 == 0 ? "GAOSI" : "NANTA"), "ties broken by stream id")
        }
        #expect(throws: SeedLinkError.self) { try SeedLinkFeed.load(paths: [dir + "/notes.txt"]) }
        #expect(throws: SeedLinkError.self) { try SeedLinkFeed.load(paths: [dir + "/missing.mseed"]) }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
