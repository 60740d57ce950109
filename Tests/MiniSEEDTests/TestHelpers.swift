import Foundation
import MiniSEED
import SeismicCore
import TestSupport

enum TestData {
    static func bytes(_ relative: String) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: Fixtures.path(relative)) else { return [] }
        return [UInt8](data)
    }

    static let stream = StreamID(network: "XX", station: "TEST", location: "00", channel: "HHZ")

    /// 2024-01-01T00:00:00Z.
    static let start = Timestamp(nanosecondsSinceEpoch: 1_704_067_200_000_000_000)

    static func block(_ samples: [Double], rate: Double = 100, start: Timestamp = start,
                      id: StreamID = stream) -> SampleBlock {
        SampleBlock(streamID: id, startTime: start, samplingRateHz: rate, unit: .counts, samples: samples)
    }

    /// Reads a big-endian UInt16 from `bytes` at `offset`.
    static func be16(_ bytes: [UInt8], _ offset: Int) -> Int { Int(bytes[offset]) << 8 | Int(bytes[offset + 1]) }

    static func setBE16(_ bytes: inout [UInt8], _ offset: Int, _ value: Int) {
        bytes[offset] = UInt8((value >> 8) & 0xFF)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }

    /// Decodes every record of `bytes` with the incremental decoder fed in one piece.
    static func records(_ bytes: [UInt8]) throws -> [MiniSEEDRecord] {
        var decoder = MiniSEEDRecordDecoder(source: "test")
        decoder.append(bytes)
        var out: [MiniSEEDRecord] = []
        while let record = try decoder.next() { out.append(record) }
        return out
    }
}
