import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

struct RoundTripCase: Sendable, CustomStringConvertible {
    var encoding: MiniSEEDEncoding
    var recordLength: Int
    var rate: Double
    var description: String { "\(encoding) \(recordLength) B \(rate) Hz" }

    static let all: [RoundTripCase] = {
        var cases: [RoundTripCase] = []
        for encoding in [MiniSEEDEncoding.int16, .int32, .float32, .float64, .steim1, .steim2] {
            for length in [128, 512, 4096] { cases.append(RoundTripCase(encoding: encoding, recordLength: length, rate: 100)) }
            cases.append(RoundTripCase(encoding: encoding, recordLength: 512, rate: 3))
        }
        return cases
    }()

    /// Values exactly representable in the encoding, spread over its range, from a seeded PRNG.
    func samples(count: Int) -> [Double] {
        var rng = SplitMix64(seed: UInt64(encoding.seedCode * 1000 + recordLength))
        var out: [Double] = []
        out.reserveCapacity(count)
        var walk: Int64 = 0
        for i in 0..<count {
            switch encoding {
            case .int16:
                out.append(Double(Int16.random(in: .min ... .max, using: &rng)))
            case .int32:
                out.append(i == 0 ? Double(Int32.min) : i == 1 ? Double(Int32.max) : Double(Int32.random(in: .min ... .max, using: &rng)))
            case .steim1:
                walk = max(-1_000_000_000, min(1_000_000_000, walk + Int64.random(in: -(1 << 29)...(1 << 29), using: &rng)))
                out.append(Double(i % 50 < 25 ? walk : walk / 1000))
            case .steim2:
                let width = [3, 7, 15, 28][i / 97 % 4]
                walk = max(-1_000_000_000, min(1_000_000_000, walk + Int64.random(in: -(1 << width)...(1 << width), using: &rng)))
                out.append(Double(walk))
            case .float32:
                out.append(Double(Float(bitPattern: UInt32.random(in: 0...0x7F7F_FFFF, using: &rng)) * (i % 2 == 0 ? 1 : -1)))
            case .float64:
                let special: [Double] = [.nan, .infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
                out.append(i < special.count ? special[i] : Double(bitPattern: UInt64.random(in: 0...0x7FEF_FFFF_FFFF_FFFF, using: &rng)))
            default:
                out.append(0)
            }
        }
        return out
    }
}

@Suite("MiniSEEDWriter")
struct WriterTests {
    @Test("encode then read back gives identical samples, times and headers", arguments: RoundTripCase.all)
    func roundTrip(_ testCase: RoundTripCase) throws {
        let count = 2345
        let samples = testCase.samples(count: count)
        // A start with microseconds that are not a multiple of 100 µs needs Blockette 1001.
        let start = TestData.start.adding(nanoseconds: 123_456_000)
        let block = TestData.block(samples, rate: testCase.rate, start: start)
        let bytes = try MiniSEEDWriter.encode(block, encoding: testCase.encoding, recordLength: testCase.recordLength,
                                              firstSequenceNumber: 41)
        #expect(bytes.count % testCase.recordLength == 0)
        #expect(!bytes.isEmpty)

        let volume = try MiniSEEDReader.read(bytes: bytes, source: "roundtrip", strict: true)
        let segment = try #require(volume.segments.first)
        #expect(volume.segments.count == 1)
        #expect(volume.discontinuities.isEmpty)
        #expect(segment.streamID == TestData.stream)
        #expect(segment.startTime == start)
        #expect(segment.samplingRateHz == testCase.rate)
        #expect(segment.samples.count == count)
        #expect(segment.samples.map(\.bitPattern) == samples.map(\.bitPattern))
        #expect(volume.encodings[TestData.stream] == [testCase.encoding])

        // Per record: length, sequence numbers, big-endian Blockette 1000, exact start times.
        let records = try TestData.records(bytes)
        #expect(records.count == bytes.count / testCase.recordLength)
        var before = 0
        for (k, record) in records.enumerated() {
            #expect(record.recordLength == testCase.recordLength)
            #expect(record.sequenceNumber == 41 + k)
            #expect(record.encoding == testCase.encoding)
            let offset = k * testCase.recordLength
            #expect(TestData.be16(bytes, offset + 48) == 1000, "Blockette 1000 first, big-endian")
            #expect(bytes[offset + 52] == UInt8(testCase.encoding.seedCode))
            #expect(bytes[offset + 53] == 1, "big-endian data")
            #expect(1 << Int(bytes[offset + 54]) == testCase.recordLength)
            // Start = block start + before / rate, rounded to the microsecond (miniSEED 2 resolution).
            let micros = (Double(before) / testCase.rate * 1e6).rounded()
            #expect(record.startTime == start.adding(nanoseconds: Int64(micros) * 1000), "record \(k)")
            before += record.sampleCount
        }
        #expect(before == count)
    }

    @Test func emptyBlockGivesNoBytes() throws {
        #expect(try MiniSEEDWriter.encode(TestData.block([]), encoding: .steim2).isEmpty)
    }

    @Test func defaultRecordLengthIs4096() throws {
        let bytes = try MiniSEEDWriter.encode(TestData.block([1, 2, 3]), encoding: .int32)
        #expect(bytes.count == 4096)
        #expect(MiniSEEDWriter.defaultRecordLength == 4096)
    }

    @Test func sequenceNumbersWrapAfter999999() throws {
        let bytes = try MiniSEEDWriter.encode(TestData.block((0..<300).map(Double.init)), encoding: .int32,
                                              recordLength: 256, firstSequenceNumber: 999_999)
        let records = try TestData.records(bytes)
        #expect(records.count >= 2)
        #expect(records.map(\.sequenceNumber).prefix(3) == [999_999, 1, 2])
    }

    @Test("rates that need a period or Blockette 100 are stored exactly", arguments: [0.1, 1.0 / 3.0, 124.99999237060547, 20, 0.05])
    func unusualRates(_ rate: Double) throws {
        let bytes = try MiniSEEDWriter.encode(TestData.block([1, 2, 3, 4], rate: rate), encoding: .steim2, recordLength: 512)
        let volume = try MiniSEEDReader.read(bytes: bytes, source: "rate", strict: true)
        #expect(volume.segments.first?.samplingRateHz == rate)
    }

    @Test func rejectsRateNotStorable() {
        // Neither a ratio of 16-bit integers nor exact in binary32.
        #expect(throws: MiniSEEDError.self) {
            try MiniSEEDWriter.encode(TestData.block([1], rate: 100.000000123), encoding: .int32)
        }
    }

    @Test func rejectsNonIntegralCounts() {
        let error = #expect(throws: MiniSEEDError.self) {
            try MiniSEEDWriter.encode(TestData.block([1, 2, 3, 1.5]), encoding: .int32)
        }
        #expect(error?.code == .valueNotRepresentable)
        #expect(error?.field == "sample 3")
        #expect(error?.reason.contains("1.5") == true)
    }

    @Test("integer encodings reject values they cannot hold", arguments: [
        (MiniSEEDEncoding.int16, 32768.0), (.int16, -32769), (.int32, 2_147_483_648), (.int32, -2_147_483_649),
        (.steim2, .nan), (.steim1, .infinity), (.int32, 0.5), (.steim2, -1e10),
    ])
    func rejectsOutOfRange(_ encoding: MiniSEEDEncoding, _ value: Double) {
        let error = #expect(throws: MiniSEEDError.self) {
            try MiniSEEDWriter.encode(TestData.block([0, value]), encoding: encoding, recordLength: 512)
        }
        #expect(error?.code == .valueNotRepresentable)
        #expect(error?.field == "sample 1")
    }

    @Test func steim2RejectsDifferencesWiderThan30Bits() throws {
        // 2^29 - 1 is the largest Steim-2 difference; 2^29 is not.
        _ = try MiniSEEDWriter.encode(TestData.block([0, 536_870_911]), encoding: .steim2, recordLength: 512)
        let error = #expect(throws: MiniSEEDError.self) {
            try MiniSEEDWriter.encode(TestData.block([0, 536_870_912]), encoding: .steim2, recordLength: 512)
        }
        #expect(error?.code == .valueNotRepresentable)
        // Steim-1 encodes 32-bit differences, so the same step is fine there.
        let bytes = try MiniSEEDWriter.encode(TestData.block([0, 536_870_912]), encoding: .steim1, recordLength: 512)
        #expect(try MiniSEEDReader.read(bytes: bytes, source: "s1").segments.first?.samples == [0, 536_870_912])
    }

    @Test func float32RejectsValuesThatWouldRound() {
        let error = #expect(throws: MiniSEEDError.self) {
            try MiniSEEDWriter.encode(TestData.block([0.5, 0.1]), encoding: .float32)
        }
        #expect(error?.code == .valueNotRepresentable)
        #expect(error?.field == "sample 1")
    }

    @Test func rejectsBadArguments() {
        let cases: [(() throws(MiniSEEDError) -> [UInt8], String)] = [
            ({ () throws(MiniSEEDError) in try MiniSEEDWriter.encode(TestData.block([1]), encoding: .int32, recordLength: 1000) }, "record length"),
            ({ () throws(MiniSEEDError) in try MiniSEEDWriter.encode(TestData.block([1]), encoding: .int32, recordLength: 64) }, "record length"),
            ({ () throws(MiniSEEDError) in try MiniSEEDWriter.encode(TestData.block([1]), encoding: .int32, firstSequenceNumber: 0) }, "sequence number"),
            ({ () throws(MiniSEEDError) in
                try MiniSEEDWriter.encode(TestData.block([1], id: StreamID(network: "XX", station: "TOOLONG", location: "", channel: "HHZ")), encoding: .int32)
            }, "station"),
            ({ () throws(MiniSEEDError) in try MiniSEEDWriter.encode(TestData.block([1], rate: 0), encoding: .int32) }, "sampling rate"),
            ({ () throws(MiniSEEDError) in try MiniSEEDWriter.encode(TestData.block([1], rate: -.nan), encoding: .int32) }, "sampling rate"),
            ({ () throws(MiniSEEDError) in
                try MiniSEEDWriter.encode(TestData.block([1], start: TestData.start.adding(nanoseconds: 1)), encoding: .int32)
            }, "start time"),
        ]
        for (run, field) in cases {
            do {
                _ = try run()
                Issue.record("expected an error for \(field)")
            } catch {
                #expect(error.code == .invalidArgument)
                #expect(error.field == field)
            }
        }
        let text = #expect(throws: MiniSEEDError.self) { try MiniSEEDWriter.encode(TestData.block([1]), encoding: .text) }
        #expect(text?.code == .unsupportedEncoding)
    }

    @Test("written blocks with a gap and an overlap are reported with exact times")
    func gapAndOverlapFromWrittenFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qw-mseed-gaps-\(UUID().uuidString).mseed").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let t0 = try #require(Timestamp(iso8601: "2024-01-01T00:00:00Z"))
        let t2 = try #require(Timestamp(iso8601: "2024-01-01T00:00:12.5Z"))     // block 1 ends at 00:00:10
        let t3 = try #require(Timestamp(iso8601: "2024-01-01T00:00:15.25Z"))    // block 2 ends at 00:00:17.5
        let b1 = TestData.block((0..<1000).map { Double($0 % 37) }, rate: 100, start: t0)
        let b2 = TestData.block((0..<500).map { Double($0 % 41) }, rate: 100, start: t2)
        let b3 = TestData.block((0..<800).map { Double($0 % 43) }, rate: 100, start: t3)
        try MiniSEEDWriter.write([b1, b2, b3], encoding: .steim2, recordLength: 512, to: path)

        let volume = try MiniSEEDReader.read(path: path, strict: true)
        #expect(volume.segments == [b1, b2, b3])
        let expected = [
            StreamDiscontinuity(kind: .gap, streamID: TestData.stream,
                                expectedTime: try #require(Timestamp(iso8601: "2024-01-01T00:00:10Z")), actualTime: t2),
            StreamDiscontinuity(kind: .overlap, streamID: TestData.stream,
                                expectedTime: try #require(Timestamp(iso8601: "2024-01-01T00:00:17.5Z")), actualTime: t3),
        ]
        #expect(volume.discontinuities == expected)
        #expect(volume.discontinuities.map(\.seconds) == [2.5, -2.25])
        let summary = try #require(volume.streams.first)
        #expect(summary.gapCount == 1 && summary.overlapCount == 1 && summary.segmentCount == 3)
        #expect(summary.startTime == t0)
        #expect(summary.endTime == (try #require(Timestamp(iso8601: "2024-01-01T00:00:23.25Z"))))
        // Sequence numbers continue across blocks.
        let all = try TestData.records([UInt8](try #require(FileManager.default.contents(atPath: path))))
        #expect(all.map(\.sequenceNumber) == Array(1...all.count))
    }

    @Test func mixedEncodingsInOneStreamFormOneSegment() throws {
        let first = TestData.block((0..<300).map { Double($0 % 17) }, rate: 100)
        let second = TestData.block((0..<300).map { Double($0 % 19) + 0.25 }, rate: 100, start: first.endTimeExclusive)
        let bytes = try MiniSEEDWriter.encode(first, encoding: .steim2, recordLength: 512)
            + MiniSEEDWriter.encode(second, encoding: .float64, recordLength: 512)
        let volume = try MiniSEEDReader.read(bytes: bytes, source: "mixed", strict: true)
        #expect(volume.segments.count == 1)
        #expect(volume.segments.first?.samples == first.samples + second.samples)
        #expect(volume.encodings[TestData.stream] == [.steim2, .float64])
        #expect(volume.streams.first?.encodings == [.steim2, .float64])
    }

    @Test func aRateChangeSplitsTheStreamWithoutADiscontinuity() throws {
        let first = TestData.block((0..<300).map(Double.init), rate: 100)
        let second = TestData.block((0..<300).map(Double.init), rate: 50, start: first.endTimeExclusive)
        let bytes = try MiniSEEDWriter.encode(first, encoding: .int32, recordLength: 512)
            + MiniSEEDWriter.encode(second, encoding: .int32, recordLength: 512)
        let volume = try MiniSEEDReader.read(bytes: bytes, source: "rates", strict: true)
        #expect(volume.segments == [first, second])
        #expect(volume.discontinuities.isEmpty)
        #expect(volume.streams.first?.samplingRatesHz == [50, 100])
        #expect(volume.streams.first?.segmentCount == 2)
        #expect(volume.streams.first?.endTime == second.endTimeExclusive)
    }

    @Test("a gap of less than half a sample is absorbed, more than half is reported")
    func halfSampleTolerance() throws {
        let t0 = TestData.start
        // 100 Hz: half a sample is 5 ms.
        for (offsetMicros, isGap) in [(4_999, false), (5_001, true), (-4_999, false), (-5_001, true)] {
            let b1 = TestData.block(Array(repeating: 1, count: 100), rate: 100, start: t0)
            let b2 = TestData.block(Array(repeating: 2, count: 100), rate: 100,
                                    start: t0.adding(nanoseconds: 1_000_000_000 + Int64(offsetMicros) * 1000))
            let bytes = try MiniSEEDWriter.encode(b1, encoding: .int32, recordLength: 512)
                + MiniSEEDWriter.encode(b2, encoding: .int32, recordLength: 512)
            let volume = try MiniSEEDReader.read(bytes: bytes, source: "tolerance")
            #expect(volume.discontinuities.count == (isGap ? 1 : 0), "offset \(offsetMicros) µs")
            #expect(volume.segments.count == (isGap ? 2 : 1))
            if let d = volume.discontinuities.first {
                #expect(d.kind == (offsetMicros > 0 ? .gap : .overlap))
                #expect(d.seconds == Double(offsetMicros) / 1e6)
            } else {
                #expect(volume.segments.first?.samples.count == 200)
                #expect(volume.segments.first?.startTime == t0)
            }
        }
    }
}
