import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// Values ObsPy 1.5.1 decoded from the 24 fixtures (scripts/dev/mseed_reference_values.py →
/// Tests/Fixtures/mseed/reference_values.json).
struct ReferenceFile: Decodable, Sendable {
    var id: String
    var starttime_ns: Int64
    var sampling_rate: String
    var npts: Int
    var encoding: String
    var record_length: Int
    var number_of_records: Int
    var first: [Double]
    var last: [Double]
    var sum: Double
    var min: Double
    var max: Double
}

struct ReferenceCase: Sendable, CustomStringConvertible {
    var name: String
    var reference: ReferenceFile
    var description: String { name }

    static let all: [ReferenceCase] = {
        struct Root: Decodable { var files: [String: ReferenceFile] }
        guard let data = FileManager.default.contents(atPath: Fixtures.path("mseed/reference_values.json")),
              let root = try? JSONDecoder().decode(Root.self, from: data)
        else { return [] }
        return root.files.keys.sorted().compactMap { key in root.files[key].map { ReferenceCase(name: key, reference: $0) } }
    }()
}

@Suite("Decoded values against ObsPy")
struct ReferenceValueTests {
    @Test func allFixturesHaveReferences() {
        #expect(ReferenceCase.all.count == 24)
    }

    @Test("samples, rate, start and record count equal ObsPy's", arguments: ReferenceCase.all)
    func valuesMatchObsPy(_ testCase: ReferenceCase) throws {
        let ref = testCase.reference
        let volume = try MiniSEEDReader.read(path: Fixtures.path("mseed/" + testCase.name), strict: true)
        let segment = try #require(volume.segments.first)
        #expect(volume.segments.count == 1)
        #expect(segment.streamID.description == ref.id)
        #expect(segment.startTime.nanosecondsSinceEpoch == ref.starttime_ns)
        #expect(segment.samplingRateHz == Double(ref.sampling_rate))
        #expect(segment.samples.count == ref.npts)
        #expect(volume.recordCount == ref.number_of_records)
        #expect(Array(segment.samples.prefix(10)) == ref.first)
        #expect(Array(segment.samples.suffix(10)) == ref.last)
        #expect(segment.samples.min() == ref.min)
        #expect(segment.samples.max() == ref.max)
        // ObsPy's sum is math.fsum (correctly rounded); integer data sum exactly in Double.
        let sum = segment.samples.reduce(0, +)
        #expect(abs(sum - ref.sum) <= 1e-9 * max(1, abs(ref.sum)), "sum \(sum) vs \(ref.sum)")
        #expect(volume.encodings[segment.streamID]?.map(\.description) == [ref.encoding])
    }
}
