// End-to-end tests of `quakewarn intensity`: the built executable runs as a subprocess (CLIRunner).
import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// One parsed station line; fails the test if the keys are not exactly the contract's.
private struct StationLine {
    var station: String
    var pga: Double
    var pgv: Double
    var intensityFromPGA: Double
    var intensityFromPGV: Double
    var intensity: Double
    var components: [(stream: String, pga: Double, pgv: Double)]

    init(_ line: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let dict = try #require(object as? [String: Any], "not a JSON object: \(line)")
        #expect(Set(dict.keys) == ["station", "pgaMetersPerSecondSquared", "pgvMetersPerSecond", "intensityFromPGA",
                                   "intensityFromPGV", "intensity", "components"], "keys of \(line)")
        station = try #require(dict["station"] as? String)
        pga = try #require((dict["pgaMetersPerSecondSquared"] as? NSNumber)?.doubleValue)
        pgv = try #require((dict["pgvMetersPerSecond"] as? NSNumber)?.doubleValue)
        intensityFromPGA = try #require((dict["intensityFromPGA"] as? NSNumber)?.doubleValue)
        intensityFromPGV = try #require((dict["intensityFromPGV"] as? NSNumber)?.doubleValue)
        intensity = try #require((dict["intensity"] as? NSNumber)?.doubleValue)
        let list = try #require(dict["components"] as? [[String: Any]])
        components = try list.map { item in
            #expect(Set(item.keys) == ["stream", "pgaMetersPerSecondSquared", "pgvMetersPerSecond"])
            return (try #require(item["stream"] as? String),
                    try #require((item["pgaMetersPerSecondSquared"] as? NSNumber)?.doubleValue),
                    try #require((item["pgvMetersPerSecond"] as? NSNumber)?.doubleValue))
        }
    }
}

private struct MissingValue: Error, CustomStringConvertible {
    var description: String
}

/// `dict[key]` as a Double, or a thrown error naming the key.
private func number(_ dict: [String: Any], _ key: String) throws -> Double {
    guard let value = dict[key] as? NSNumber else { throw MissingValue(description: "no number '\(key)'") }
    return value.doubleValue
}

/// `dict[key]` as an array of objects.
private func objects(_ dict: [String: Any], _ key: String) throws -> [[String: Any]] {
    guard let value = dict[key] as? [[String: Any]] else { throw MissingValue(description: "no object array '\(key)'") }
    return value
}

@Suite("quakewarn intensity (subprocess)")
struct IntensityCommandTests {
    static let memaFiles = (0..<3).map { Fixtures.path("mseed/obspy_MEMA_ch\($0).mseed") }

    /// The NumPy reference of Tests/Fixtures/groundmotion/intensity_mema.json.
    static func reference() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("groundmotion/intensity_mema.json")))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-intensity-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.path
    }

    /// MEMA in m/s² (per-channel calibration) as FLOAT64 blocks.
    static func memaAcceleration() throws -> [SampleBlock] {
        let components = try objects(try reference(), "components")
        return try zip(memaFiles, components).map { path, component in
            var block = try #require(try MiniSEEDReader.read(path: path).segments.first)
            let calib = try number(component, "calib_m_s2_per_count")
            block.samples = block.samples.map { $0 * calib }
            block.unit = .metersPerSecondSquared
            return block
        }
    }

    @Test("FLOAT64 files in m/s² need no --gain and reproduce the NumPy reference")
    func floatFiles() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var paths: [String] = []
        for block in try Self.memaAcceleration() {
            let path = directory + "/\(block.streamID.channel).mseed"
            try MiniSEEDWriter.write([block], encoding: .float64, to: path)
            paths.append(path)
        }
        let run = try CLIRunner.run(["intensity"] + paths.reversed())
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.isEmpty)
        #expect(run.stdoutLines.count == 1)
        let line = try StationLine(try #require(run.stdoutLines.first))
        let reference = try Self.reference()
        let pga = try number(reference, "pga_m_s2")
        let pgv = try number(reference, "pgv_m_s")
        #expect(line.station == "BE.MEMA..HN")
        #expect(abs(line.pga - pga) <= 1e-9 * pga)
        #expect(abs(line.pgv - pgv) <= 1e-9 * pgv)
        let iA = try number(reference, "intensity_from_pga")
        let iV = try number(reference, "intensity_from_pgv")
        #expect(abs(line.intensityFromPGA - iA) < 1e-9)
        #expect(abs(line.intensityFromPGV - iV) < 1e-9)
        #expect(line.intensity == 1.0)
        // Components in stream order whatever the file order.
        #expect(line.components.map(\.stream) == ["BE.MEMA..HN0", "BE.MEMA..HN1", "BE.MEMA..HN2"])
        let expected = try objects(reference, "components")
        for (component, reference) in zip(line.components, expected) {
            let value = try number(reference, "pga_filtered")
            #expect(abs(component.pga - value) <= 1e-9 * value)
        }

        // The same three streams in one file give the same line.
        let combined = directory + "/all.mseed"
        try MiniSEEDWriter.write(try Self.memaAcceleration(), encoding: .float64, to: combined)
        let single = try CLIRunner.run(["intensity", combined])
        #expect(single.status == 0 && single.stdoutLines == run.stdoutLines, "stderr: \(single.stderr)")
    }

    @Test("integer counts: --gain converts; one gain for all channels is within 4e-4 of per-channel calibration")
    func countsWithGain() throws {
        // MEMA's channels have calibrations 1.16944e-6, 1.16991e-6, 1.16954e-6 m/s² per count;
        // --gain takes one value (channel 0's here), so channels 1 and 2 are off by ≤ 4e-4.
        let run = try CLIRunner.run(["intensity", "--gain", String(1 / 1.1694431304931641e-06)] + Self.memaFiles)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let line = try StationLine(try #require(run.stdoutLines.first))
        let reference = try Self.reference()
        let pga = try number(reference, "pga_m_s2")
        #expect(abs(line.pga - pga) <= 5e-4 * pga)
        let channel0 = try number(try #require(try objects(reference, "components").first), "pga_filtered")
        #expect(abs(line.components[0].pga - channel0) <= 1e-9 * channel0)
    }

    @Test("bad input exits 2 with a one-line reason")
    func badInput() throws {
        // Integer counts without --gain.
        let counts = try CLIRunner.run(["intensity"] + Self.memaFiles)
        #expect(counts.status == 2 && counts.stdout.isEmpty)
        #expect(counts.stderr.contains("--gain") && counts.stderr.contains("obspy_MEMA_ch0.mseed"))
        // Two components.
        let two = try CLIRunner.run(["intensity", "--gain", "855107.7"] + Self.memaFiles.prefix(2))
        #expect(two.status == 2 && two.stdout.isEmpty)
        #expect(two.stderr.split(separator: "\n").count == 1 && two.stderr.contains("2 component(s)"))
        // Bad gains.
        for gain in ["abc", "0", "-5", "inf"] {
            let bad = try CLIRunner.run(["intensity", "--gain", gain] + Self.memaFiles)
            #expect(bad.status == 2 && bad.stderr.contains("--gain"), "--gain \(gain)")
        }
        // Missing file, no file.
        let missing = try CLIRunner.run(["intensity", "--gain", "1", "/nonexistent/file.mseed"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/file.mseed"))
        let none = try CLIRunner.run(["intensity"])
        #expect(none.status == 2)
        // A stream given twice has two segments.
        let twice = try CLIRunner.run(["intensity", "--gain", "1"] + Self.memaFiles + [Self.memaFiles[0]])
        #expect(twice.status == 2 && twice.stderr.contains("segments"))
    }

    @Test("--allow-incomplete computes one or two components with a warning")
    func incomplete() throws {
        let run = try CLIRunner.run(["intensity", "--gain", "855107.7", "--allow-incomplete"] + Self.memaFiles.prefix(2))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stderr.contains("warning") && run.stderr.contains("lower bound"))
        let line = try StationLine(try #require(run.stdoutLines.first))
        #expect(line.components.map(\.stream) == ["BE.MEMA..HN0", "BE.MEMA..HN1"])
        // The vector of two components is at least each component's peak and at most their root-sum-square.
        let largest = line.components.map(\.pga).max() ?? 0
        let rss = line.components.map { $0.pga * $0.pga }.reduce(0, +).squareRoot()
        #expect(line.pga >= largest && line.pga <= rss)
    }
}
