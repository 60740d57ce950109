import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// Comparable summary of a decoded record.
struct RecordKey: Equatable, CustomStringConvertible {
    var stream: String
    var start: Int64
    var rate: Double
    var sequence: Int
    var offset: Int
    var length: Int
    var samples: [UInt64]

    init(_ r: MiniSEEDRecord) {
        stream = r.streamID.description
        start = r.startTime.nanosecondsSinceEpoch
        rate = r.samplingRateHz
        sequence = r.sequenceNumber
        offset = r.byteOffset
        length = r.recordLength
        samples = r.samples.map(\.bitPattern)
    }

    var description: String { "\(stream) @\(offset) seq \(sequence) n=\(samples.count)" }
}

/// Feeds `bytes` in the given chunk sizes (cycled), draining records after each chunk.
func decodeChunked(_ bytes: [UInt8], chunks: [Int], shift: Int = 0) -> (records: [RecordKey], errors: [MiniSEEDError]) {
    var decoder = MiniSEEDRecordDecoder(source: "chunked")
    var records: [RecordKey] = []
    var errors: [MiniSEEDError] = []
    var position = 0
    var c = 0
    func drain() {
        while true {
            do {
                guard let r = try decoder.next() else { return }
                records.append(RecordKey(r))
            } catch {
                errors.append(error)
            }
        }
    }
    while position < bytes.count {
        let size = max(1, chunks[c % chunks.count])
        c += 1
        let end = min(bytes.count, position + size)
        decoder.append(bytes[position..<end])
        position = end
        drain()
    }
    drain()
    return (records, errors)
}

@Suite("MiniSEEDRecordDecoder")
struct DecoderTests {
    static let files = ["generated/steim2_be_512.mseed", "generated/int32_le_256.mseed", "generated/float64_le_1024.mseed",
                        "generated/multi_gaps.mseed", "obspy_KONO_BHZ.mseed", "generated/text_512.mseed"]

    @Test("one byte at a time gives the same records as the file reader", arguments: files)
    func byteAtATime(_ file: String) throws {
        let bytes = TestData.bytes("mseed/" + file)
        #expect(!bytes.isEmpty)
        let whole = try TestData.records(bytes).map(RecordKey.init)
        let (records, errors) = decodeChunked(bytes, chunks: [1])
        #expect(errors.isEmpty)
        #expect(records == whole)
        // Every byte accounted for by records of the header's length, back to back.
        #expect(whole.map(\.offset) == Array(stride(from: 0, to: bytes.count, by: whole.first?.length ?? 1)))
        // The same samples as the file reader's segments (per stream, in time order).
        let volume = try MiniSEEDReader.read(bytes: bytes, source: file)
        let decodedCount = whole.reduce(0) { $0 + $1.samples.count }
        #expect(decodedCount == volume.sampleCount)
    }

    @Test("random chunkings give identical records", arguments: 0..<20)
    func randomChunking(_ seed: Int) throws {
        var rng = SplitMix64(seed: UInt64(seed))
        let file = Self.files[seed % Self.files.count]
        let bytes = TestData.bytes("mseed/" + file)
        let whole = try TestData.records(bytes).map(RecordKey.init)
        let chunks = (0..<50).map { _ in Int.random(in: 1...1500, using: &rng) }
        let (records, errors) = decodeChunked(bytes, chunks: chunks)
        #expect(errors.isEmpty)
        #expect(records == whole)
    }

    @Test("garbage runs between records, random chunking: one error per run, every record recovered", arguments: 0..<10)
    func garbageRunsWithRandomChunking(_ seed: Int) throws {
        var rng = SplitMix64(seed: 1000 + UInt64(seed))
        let good = TestData.bytes("mseed/generated/multi_gaps.mseed")
        let whole = try TestData.records(good)
        var stream: [UInt8] = []
        var expectedOffsets: [Int] = []
        var runs = 0
        for k in 0..<(good.count / 512) {
            if Int.random(in: 0..<3, using: &rng) == 0 {
                // Lower-case letters: never a quality indicator, so never a false header.
                stream += (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0x61...0x7A, using: &rng) }
                runs += 1
            }
            expectedOffsets.append(stream.count)
            stream += good[(k * 512)..<((k + 1) * 512)]
        }
        let chunks = (0..<40).map { _ in Int.random(in: 1...900, using: &rng) }
        let (records, errors) = decodeChunked(stream, chunks: chunks)
        #expect(errors.count == runs)
        #expect(errors.allSatisfy { $0.code == .notMiniSEED })
        #expect(records.map(\.offset) == expectedOffsets)
        #expect(records.map(\.samples) == whole.map { $0.samples.map(\.bitPattern) })
    }

    @Test func needsMoreBytesUntilTheRecordIsComplete() throws {
        let bytes = TestData.bytes("mseed/generated/steim2_be_512.mseed")
        var decoder = MiniSEEDRecordDecoder()
        decoder.append(bytes[0..<511])
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 511)
        decoder.append(bytes[511..<513])
        let record = try #require(try decoder.next())
        #expect(record.recordLength == 512)
        #expect(record.byteOffset == 0)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedByteCount == 1)
        #expect(decoder.consumedByteCount == 512)
    }

    @Test("garbage before the records: one error at byte 0, then every record", arguments: [1, 7, 100, 999, 4097])
    func garbagePrefix(_ length: Int) throws {
        let good = TestData.bytes("mseed/generated/steim2_be_512.mseed")
        var rng = SplitMix64(seed: UInt64(length))
        // Letters only: no byte 6 is a quality indicator 'D','R','Q','M' preceded by digits.
        let garbage = (0..<length).map { _ in UInt8.random(in: 0x61...0x7A, using: &rng) }
        let whole = try TestData.records(good)
        for chunks in [[1], [3, 500, 17], [100_000]] {
            let (records, errors) = decodeChunked(garbage + good, chunks: chunks)
            #expect(errors.count == 1)
            #expect(errors.first?.code == .notMiniSEED)
            #expect(errors.first?.byteOffset == 0)
            #expect(errors.first?.file == "chunked")
            #expect(records.count == whole.count)
            #expect(records.map(\.offset) == whole.map { $0.byteOffset + length })
            #expect(records.map(\.samples) == whole.map { $0.samples.map(\.bitPattern) })
        }
    }

    @Test func garbageBetweenRecordsCostsNothingButAnError() throws {
        let good = TestData.bytes("mseed/generated/int16_be_512.mseed")
        let junk = [UInt8](repeating: 0xFF, count: 37)
        let stream = Array(good[0..<512]) + junk + Array(good[512...])
        let (records, errors) = decodeChunked(stream, chunks: [5])
        #expect(errors.count == 1)
        #expect(errors.first?.byteOffset == 512)
        #expect(errors.first?.recordIndex == 1)
        #expect(records.count == good.count / 512)
        #expect(records.dropFirst().map(\.offset) == Array(stride(from: 512 + 37, to: stream.count, by: 512)))
    }

    @Test("a record cut short loses only that record", arguments: [60, 200, 300, 500])
    func recordCutMidway(_ keep: Int) throws {
        let good = TestData.bytes("mseed/generated/steim2_be_512.mseed")
        let whole = try TestData.records(good)
        #expect(whole.count >= 4)
        // Record 1 loses its tail; record 2 follows immediately.
        let stream = Array(good[0..<512]) + Array(good[512..<(512 + keep)]) + Array(good[1024...])
        let (records, errors) = decodeChunked(stream, chunks: [64])
        #expect(errors.count == 1, "\(errors)")
        #expect(errors.first?.byteOffset == 512)
        let expectedSamples = [whole[0]] + whole[2...]
        #expect(records.map(\.samples) == expectedSamples.map { $0.samples.map(\.bitPattern) })
        #expect(records.map(\.sequence) == expectedSamples.map(\.sequenceNumber))
    }

    @Test func unsupportedEncodingIsSkippedWhole() throws {
        var bytes = TestData.bytes("mseed/generated/int16_be_512.mseed")
        bytes[512 + 52] = 2   // record 1: 24-bit integers (SEED code 2), not decoded
        let (records, errors) = decodeChunked(bytes, chunks: [512])
        #expect(errors.count == 1)
        #expect(errors.first?.code == .unsupportedEncoding)
        #expect(errors.first?.recordIndex == 1)
        #expect(errors.first?.description.contains("encoding 2") == true)
        #expect(records.count == bytes.count / 512 - 1)
        #expect(records.map(\.offset) == [0] + Array(stride(from: 1024, to: bytes.count, by: 512)))
    }

    @Test func seedLinkSized512ByteRecordsFromTheWriter() throws {
        let samples = (0..<5000).map { Double(($0 * 7919) % 2001 - 1000) }
        let block = TestData.block(samples, rate: 100)
        let bytes = try MiniSEEDWriter.encode(block, encoding: .steim2, recordLength: 512)
        let (records, errors) = decodeChunked(bytes, chunks: [1, 2, 3, 511, 512, 513])
        #expect(errors.isEmpty)
        #expect(records.allSatisfy { $0.length == 512 })
        #expect(records.flatMap(\.samples) == samples.map(\.bitPattern))
    }

    @Test func maximumRecordLengthRejectsLongerRecords() throws {
        let long = try MiniSEEDWriter.encode(TestData.block((0..<100).map(Double.init)), encoding: .int32, recordLength: 1024)
        let short = TestData.bytes("mseed/generated/steim2_be_512.mseed")
        var decoder = MiniSEEDRecordDecoder(source: "seedlink", maximumRecordLength: 512)
        #expect(decoder.maximumRecordLength == 512)
        decoder.append(long + short)
        let error = #expect(throws: MiniSEEDError.self) { try decoder.next() }
        #expect(error?.field == "blockette 1000")
        #expect(error?.reason.contains("exceeds") == true)
        var records: [MiniSEEDRecord] = []
        while let record = try decoder.next() { records.append(record) }
        #expect(records.count == short.count / 512)
        #expect(records.first?.byteOffset == 1024)
    }

    @Test func resetDropsPartialRecord() throws {
        let bytes = TestData.bytes("mseed/generated/int16_be_512.mseed")
        var decoder = MiniSEEDRecordDecoder()
        decoder.append(bytes[0..<300])
        #expect(try decoder.next() == nil)
        decoder.reset()
        #expect(decoder.bufferedByteCount == 0)
        decoder.append(bytes[512..<1024])
        let record = try #require(try decoder.next())
        #expect(record.byteOffset == 300)
        #expect(record.sequenceNumber == 2)
    }

    @Test func textRecordsCarryText() throws {
        let records = try TestData.records(TestData.bytes("mseed/generated/text_512.mseed"))
        #expect(records.count == 3)
        #expect(records.allSatisfy { $0.encoding == .text && $0.samples.isEmpty })
        #expect(records.compactMap(\.text).joined().hasPrefix("2024-02-29 23:59:50 station GEN"))
    }
}
