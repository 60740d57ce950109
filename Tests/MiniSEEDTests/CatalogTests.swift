import Foundation
import MiniSEED
import SeismicCore
import TestSupport
import Testing

/// The 24 ObsPy test traces (Tests/Fixtures/mseed, provenance in Tests/Fixtures/README-mseed.md)
/// checked against the values ObsPy 1.5.1 reported when the catalogue was made
/// (Tests/Fixtures/catalog.json: starttime, sampling_rate, npts, mseed_encoding, stream codes).
struct CatalogEntry: Decodable, Sendable, CustomStringConvertible {
    var id: String
    var mseed: String
    var network: String
    var station: String
    var location: String
    var channel: String
    var starttime: String
    var sampling_rate: Double
    var npts: Int
    var mseed_encoding: String

    var fileName: String { String(mseed.split(separator: "/").last ?? "") }
    var path: String { Fixtures.path("mseed/" + fileName) }
    var description: String { id }

    /// miniSEED 2 stores at most 5 characters of station code.
    var expectedStreamID: StreamID {
        StreamID(network: network, station: String(station.prefix(5)), location: location, channel: channel)
    }
}

struct Catalog: Decodable {
    var traces: [CatalogEntry]

    static let entries: [CatalogEntry] = {
        guard let data = FileManager.default.contents(atPath: Fixtures.path("catalog.json")),
              let catalog = try? JSONDecoder().decode(Catalog.self, from: data)
        else { return [] }
        return catalog.traces
    }()
}

@Suite("ObsPy fixture catalogue")
struct CatalogTests {
    @Test func catalogueHasAllTwentyFourTraces() {
        #expect(Catalog.entries.count == 24)
    }

    @Test("rate, start, sample count, encoding and stream id of every fixture", arguments: Catalog.entries)
    func fixtureMatchesCatalogue(_ entry: CatalogEntry) throws {
        let volume = try MiniSEEDReader.read(path: entry.path, strict: true)
        #expect(volume.problems.isEmpty)
        #expect(volume.discontinuities.isEmpty)
        let segment = try #require(volume.segments.first)
        #expect(volume.segments.count == 1)
        #expect(segment.streamID == entry.expectedStreamID)
        let start = try #require(Timestamp(iso8601: entry.starttime))
        #expect(segment.startTime == start, "start \(segment.startTime) vs \(entry.starttime)")
        #expect(abs(segment.samplingRateHz - entry.sampling_rate) <= 1e-9 * entry.sampling_rate,
                "rate \(segment.samplingRateHz) vs \(entry.sampling_rate)")
        #expect(segment.samples.count == entry.npts)
        #expect(volume.encodings[segment.streamID].map { Set($0.map(\.description)) } == [entry.mseed_encoding])
        let summary = try #require(volume.streams.first)
        #expect(volume.streams.count == 1)
        #expect(summary.sampleCount == entry.npts)
        #expect(summary.gapCount == 0 && summary.overlapCount == 0)
        #expect(summary.startTime == start)
    }
}
