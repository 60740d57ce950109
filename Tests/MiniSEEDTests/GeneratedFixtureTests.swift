import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// Small files written by ObsPy (scripts/dev/make_mseed_fixtures.py): one per encoding and byte
/// order, a TEXT file, and a shuffled multi-stream file with gaps and overlaps. Expected
/// values come from how the script constructed the data.
struct GeneratedExpectation: Decodable, Sendable {
    struct Segment: Decodable, Sendable {
        var id: String
        var starttime_ns: Int64
        var sampling_rate: Double
        var npts: Int
        var samples: [Double]
    }

    struct Discontinuity: Decodable, Sendable {
        var id: String
        var kind: String
        var expected_ns: Int64
        var actual_ns: Int64
    }

    var encoding: String
    var record_length: Int
    var byteorder: String
    var segments: [Segment]
    var discontinuities: [Discontinuity]
    var text: String?
    var record_count: Int?
}

struct GeneratedCase: Sendable, CustomStringConvertible {
    var name: String
    var expected: GeneratedExpectation
    var description: String { name }
    var path: String { Fixtures.path("mseed/generated/" + name) }

    static let all: [GeneratedCase] = {
        struct Root: Decodable { var files: [String: GeneratedExpectation] }
        guard let data = FileManager.default.contents(atPath: Fixtures.path("mseed/generated/expected.json")),
              let root = try? JSONDecoder().decode(Root.self, from: data)
        else { return [] }
        return root.files.keys.sorted().compactMap { key in root.files[key].map { GeneratedCase(name: key, expected: $0) } }
    }()

    static func named(_ name: String) -> GeneratedCase? { all.first { $0.name == name } }
}

@Suite("ObsPy-written files of every encoding")
struct GeneratedFixtureTests {
    @Test func allGeneratedFilesListed() {
        #expect(GeneratedCase.all.count == 10)
    }

    @Test("segments, samples and discontinuities as constructed", arguments: GeneratedCase.all)
    func readsAsConstructed(_ testCase: GeneratedCase) throws {
        let volume = try MiniSEEDReader.read(path: testCase.path, strict: true)
        let expected = testCase.expected
        #expect(volume.problems.isEmpty)
        #expect(volume.segments.count == expected.segments.count)
        for (segment, want) in zip(volume.segments, expected.segments) {
            #expect(segment.streamID.description == want.id)
            #expect(segment.startTime.nanosecondsSinceEpoch == want.starttime_ns,
                    "\(segment.streamID) start \(segment.startTime)")
            #expect(segment.samplingRateHz == want.sampling_rate)
            #expect(segment.samples.count == want.npts)
            #expect(segment.samples == want.samples)
        }
        #expect(volume.discontinuities.count == expected.discontinuities.count)
        for (found, want) in zip(volume.discontinuities, expected.discontinuities) {
            #expect(found.streamID.description == want.id)
            #expect(found.kind.rawValue == want.kind)
            #expect(found.expectedTime.nanosecondsSinceEpoch == want.expected_ns)
            #expect(found.actualTime.nanosecondsSinceEpoch == want.actual_ns)
            #expect(found.seconds == Double(want.actual_ns - want.expected_ns) / 1e9)
        }
        if let count = expected.record_count { #expect(volume.recordCount == count) }
        let encodingName = expected.encoding == "ASCII" ? "TEXT" : expected.encoding
        for (_, set) in volume.encodings { #expect(set.map(\.description) == [encodingName]) }
        if let text = expected.text {
            #expect(volume.texts.values.first == text)
            #expect(volume.texts.count == 1)
        }
    }

    @Test func multiStreamSummary() throws {
        let testCase = try #require(GeneratedCase.named("multi_gaps.mseed"))
        let volume = try MiniSEEDReader.read(path: testCase.path)
        #expect(volume.streams.map(\.streamID.description) == ["XX.GEN.00.HHE", "XX.GEN.00.HHN", "XX.GEN.00.HHZ"])
        let hhz = try #require(volume.streams.last)
        #expect(hhz.gapCount == 1 && hhz.overlapCount == 1 && hhz.segmentCount == 3 && hhz.sampleCount == 2700)
        #expect(hhz.samplingRatesHz == [100])
        let hhe = volume.streams[0]
        #expect(hhe.gapCount == 1 && hhe.overlapCount == 0 && hhe.segmentCount == 2 && hhe.sampleCount == 2500)
        #expect(volume.streams[1].gapCount == 0 && volume.streams[1].segmentCount == 1)
        #expect(volume.streams.reduce(0) { $0 + $1.recordCount } == volume.recordCount)
        // HHZ ends with the overlapping third part: z2 starts at T0+11.5 s, z3 at T0+19.5 s (+7 s).
        let z3 = try #require(volume.segments(of: hhz.streamID).last)
        #expect(hhz.endTime == z3.endTimeExclusive)
        #expect(volume.discontinuities.first { $0.kind == .overlap }?.seconds == -2.0)
    }
}
