import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// `quakewarn info` against the catalogue of the real fixture records (ObsPy 1.5.1 values).
@Suite("quakewarn info")
struct InfoCommandTests {
    struct CatalogEntry {
        var file: String
        var stream: String
        var start: String
        var rate: Double
        var npts: Int
        var encoding: String
    }

    static func catalog() throws -> [CatalogEntry] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("catalog.json")))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let traces = try #require(root["traces"] as? [[String: Any]])
        return try traces.map { t in
            let mseed = try #require(t["mseed"] as? String)
            let station = try #require(t["station"] as? String)
            let id = [t["network"] as? String ?? "", String(station.prefix(5)), t["location"] as? String ?? "",
                      t["channel"] as? String ?? ""].joined(separator: ".")
            return CatalogEntry(file: Fixtures.path("mseed/" + (mseed.split(separator: "/").last.map(String.init) ?? "")),
                                stream: id, start: try #require(t["starttime"] as? String),
                                rate: try #require(t["sampling_rate"] as? Double),
                                npts: try #require(t["npts"] as? Int),
                                encoding: try #require(t["mseed_encoding"] as? String))
        }
    }

    @Test("--json reports the rate, start and sample count that the catalogue lists for all 24 records")
    func matchesCatalog() throws {
        let entries = try Self.catalog()
        #expect(entries.count == 24)
        let result = try CLIRunner.run(["info", "--json"] + entries.map(\.file))
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let lines = result.stdoutLines
        #expect(lines.count == entries.count)
        for entry in entries {
            let match = try lines.compactMap { line -> [String: Any]? in
                let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                return (obj?["file"] as? String) == entry.file ? obj : nil
            }
            let obj = try #require(match.first, "no line for \(entry.file)")
            #expect(obj["stream"] as? String == entry.stream)
            #expect(obj["start"] as? String == entry.start, "\(entry.file)")
            // STAU's rate (124.9999924 Hz) is stored as a factor/multiplier pair in miniSEED 2.
            let rate = try #require(obj["samplingRateHz"] as? Double)
            #expect(abs(rate - entry.rate) <= 1e-6 * entry.rate, "\(entry.file): \(rate) vs \(entry.rate)")
            #expect(obj["sampleCount"] as? Int == entry.npts, "\(entry.file)")
            #expect(obj["encoding"] as? String == entry.encoding, "\(entry.file)")
            #expect(obj["gaps"] as? Int == 0 && obj["overlaps"] as? Int == 0)
            for key in ["end"] { #expect(obj[key] is String) }
        }
    }

    @Test("The human table lists every stream; a bad file is reported and the next file still read")
    func tableAndBadFile() throws {
        let garbage = FileManager.default.temporaryDirectory.appendingPathComponent("qw-info-garbage-\(getpid()).mseed")
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }).write(to: garbage)
        defer { try? FileManager.default.removeItem(at: garbage) }
        let good = Fixtures.path("mseed/obspy_KNET_AKT013_EW.mseed")
        let result = try CLIRunner.run(["info", garbage.path, "/nonexistent/qw.mseed", good])
        #expect(result.status == 2)
        #expect(result.stdout.contains("BO.AKT01..EW"))
        #expect(result.stdout.contains("1996-08-10T18:12:24.000000Z"))
        #expect(result.stdout.contains("5900"))
        let errors = result.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 2, "stderr: \(result.stderr)")
        #expect(errors.contains { $0.contains(garbage.path) })
        #expect(errors.contains { $0.contains("/nonexistent/qw.mseed") })
    }

    @Test("Gaps and overlaps are counted and listed with their times")
    func gapsAndOverlaps() throws {
        let id = try #require(StreamID("XX.GAP..HNZ"))
        let t0 = try #require(Timestamp(iso8601: "2026-01-01T00:00:00Z"))
        func block(_ startSeconds: Int64, _ count: Int) -> SampleBlock {
            SampleBlock(streamID: id, startTime: t0.adding(nanoseconds: startSeconds * 1_000_000_000),
                        samplingRateHz: 100, samples: (0..<count).map { Double($0 % 50) })
        }
        // 0-10 s, then a 5 s gap (10 -> 15 s), then 15-25 s overlapped by a block starting at 20 s.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("qw-info-gaps-\(getpid()).mseed").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MiniSEEDWriter.write([block(0, 1000), block(15, 1000), block(20, 300)], encoding: .steim2,
                                 recordLength: 512, to: path)
        let run = try CLIRunner.run(["info", "--json", path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(obj["gaps"] as? Int == 1)
        #expect(obj["overlaps"] as? Int == 1)
        #expect(obj["sampleCount"] as? Int == 2300)
        #expect(obj["start"] as? String == "2026-01-01T00:00:00.000000Z")
        #expect(obj["end"] as? String == "2026-01-01T00:00:24.990000Z")
        let list = try #require(obj["discontinuities"] as? [[String: Any]])
        let gap = try #require(list.first { $0["kind"] as? String == "gap" })
        #expect(gap["expected"] as? String == "2026-01-01T00:00:10.000000Z")
        #expect(gap["actual"] as? String == "2026-01-01T00:00:15.000000Z")
        #expect(gap["seconds"] as? Double == 5.0)
        let overlap = try #require(list.first { $0["kind"] as? String == "overlap" })
        #expect(overlap["expected"] as? String == "2026-01-01T00:00:25.000000Z")
        #expect(overlap["actual"] as? String == "2026-01-01T00:00:20.000000Z")
        // The human table lists them too.
        let table = try CLIRunner.run(["info", path])
        #expect(table.stdout.contains("gap") && table.stdout.contains("overlap"))
    }
}
