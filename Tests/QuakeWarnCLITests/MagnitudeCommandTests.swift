// End-to-end tests of `quakewarn magnitude`: the built executable runs as a subprocess (CLIRunner).
import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// One parsed output line; fails the test if the keys are not exactly the contract's.
private struct MagnitudeLine {
    struct Window {
        var secondsAfterPick: Double
        var pdMeters: Double
        var tauCSeconds: Double?
        var tauPMaxSeconds: Double?
        var magnitude: Double?
        var magnitudeSigma: Double?
    }

    var stream: String
    var pickTime: String?
    var windows: [Window]
    var magnitude: Double?
    var magnitudeSigma: Double?
    var saturated: Bool

    init(_ line: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let dict = try #require(object as? [String: Any], "not a JSON object: \(line)")
        #expect(Set(dict.keys) == ["stream", "pickTime", "windows", "magnitude", "magnitudeSigma", "saturated"])
        func optionalNumber(_ d: [String: Any], _ key: String) -> Double? { (d[key] as? NSNumber)?.doubleValue }
        stream = try #require(dict["stream"] as? String)
        pickTime = dict["pickTime"] as? String
        let items = try #require(dict["windows"] as? [[String: Any]])
        windows = try items.map { w in
            #expect(Set(w.keys) == ["secondsAfterPick", "pdMeters", "tauCSeconds", "tauPMaxSeconds", "magnitude",
                                    "magnitudeSigma"])
            return Window(secondsAfterPick: try #require(optionalNumber(w, "secondsAfterPick")),
                          pdMeters: try #require(optionalNumber(w, "pdMeters")),
                          tauCSeconds: optionalNumber(w, "tauCSeconds"), tauPMaxSeconds: optionalNumber(w, "tauPMaxSeconds"),
                          magnitude: optionalNumber(w, "magnitude"), magnitudeSigma: optionalNumber(w, "magnitudeSigma"))
        }
        magnitude = optionalNumber(dict, "magnitude")
        magnitudeSigma = optionalNumber(dict, "magnitudeSigma")
        saturated = try #require(dict["saturated"] as? Bool)
    }
}

@Suite("quakewarn magnitude (subprocess)")
struct MagnitudeCommandTests {
    static let akt013 = Fixtures.path("mseed/obspy_KNET_AKT013_EW.mseed")
    static let gain = "419430.4"  // counts per m/s² = 2^23 / 20 (K-NET: 2000 gal full scale)

    @Test("AKT013 EW: one line, 6 windows 0.5…3 s, AIC pick at the visible onset, horizontal-channel warning")
    func akt013Automatic() throws {
        let run = try CLIRunner.run(["magnitude", Self.akt013, "--gain", Self.gain, "--distance-km", "81.3"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        try #require(run.stdoutLines.count == 1)
        let line = try MagnitudeLine(run.stdoutLines[0])
        #expect(line.stream == "BO.AKT01..EW")
        #expect(line.windows.map(\.secondsAfterPick) == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
        #expect(line.magnitude == line.windows.last?.magnitude && line.magnitudeSigma == line.windows.last?.magnitudeSigma)
        #expect(run.stderr.contains("no vertical"))
        // Independent onset: first sample whose offset-free amplitude exceeds twice the largest
        // pre-event amplitude (samples 0..<850, where the record is noise only).
        let samples = try #require(MiniSEEDReader.read(path: Self.akt013).segments.first).samples
        let mean = samples[0..<850].reduce(0, +) / 850
        let noise = samples[0..<850].map { abs($0 - mean) }.max() ?? 0
        let onset = try #require(samples.indices.first { abs(samples[$0] - mean) > 2 * noise })
        let start = try #require(Timestamp(iso8601: "1996-08-10T18:12:24Z"))
        let pick = try #require(line.pickTime.flatMap { Timestamp(iso8601: $0) })
        let pickSample = pick.seconds(since: start) * 100
        #expect(abs(pickSample - Double(onset)) <= 30, "pick sample \(pickSample) vs amplitude onset \(onset)")
    }

    @Test("--pick with --pre-roll none reproduces the NumPy/SciPy twin's window values (end-to-end cross-check)")
    func crossCheckWithFixture() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("magnitude/akt013_station_parameters_reference.json")))
        let ref = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let pickTime = try #require(ref["pickTime"] as? String)
        let distance = try #require((ref["hypocentralDistanceKilometers"] as? NSNumber)?.doubleValue)
        let windows = try #require(ref["windows"] as? [[String: Any]])
        let run = try CLIRunner.run(["magnitude", Self.akt013, "--gain", Self.gain, "--pick", pickTime,
                                     "--distance-km", String(distance), "--pre-roll", "none"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let line = try MagnitudeLine(try #require(run.stdoutLines.first))
        #expect(line.pickTime.flatMap { Timestamp(iso8601: $0) } == Timestamp(iso8601: pickTime))
        try #require(line.windows.count == windows.count)
        for (got, want) in zip(line.windows, windows) {
            for (value, key) in [(got.pdMeters, "pdMeters"), (got.tauCSeconds ?? .nan, "tauCSeconds"),
                                 (got.tauPMaxSeconds ?? .nan, "tauPMaxSeconds")] {
                guard let w = (want[key] as? NSNumber)?.doubleValue else {
                    // null in the twin: τp^max is undefined for windows shorter than its 1 s warm-up.
                    #expect(key == "tauPMaxSeconds" && value.isNaN, "\(got.secondsAfterPick) s \(key): \(value) vs null")
                    continue
                }
                #expect(abs(value - w) <= 1e-9 * abs(w), "\(got.secondsAfterPick) s \(key): \(value) vs \(w)")
            }
        }
        // The record has 10 s before this pick: the warm-up warning must be printed, and the
        // start-up transient makes the displacement SNR low, so only the Pd family is combined.
        #expect(run.stderr.contains("before the pick"))
        #expect(run.stderr.contains("SNR"))
        #expect(abs((line.magnitudeSigma ?? 0) - (0.31 + 0.305 / 0.729) / 2) < 1e-12)
        #expect(!line.saturated)
    }

    @Test("the automatic pick given back as --pick gives the identical line")
    func explicitPickSameAsAutomatic() throws {
        let auto = try CLIRunner.run(["magnitude", Self.akt013, "--gain", Self.gain])
        let line = try MagnitudeLine(try #require(auto.stdoutLines.first))
        let pick = try #require(line.pickTime)
        let explicit = try CLIRunner.run(["magnitude", Self.akt013, "--gain", Self.gain, "--pick", pick])
        #expect(explicit.status == 0)
        #expect(explicit.stdoutLines == auto.stdoutLines)
        // Without distance only τc and τp^max are combined: σ = 1/√(1/0.4² + 1/0.5²).
        #expect(abs((line.magnitudeSigma ?? 0) - 1 / (1 / 0.16 + 1 / 0.25).squareRoot()) < 1e-12)
    }

    @Test("bad input exits 2 with a one-line reason", arguments: [
        (["--gain", "abc"], "--gain"),
        (["--gain", "-3"], "--gain"),
        (["--gain", "419430.4", "--distance-km", "0"], "--distance-km"),
        (["--gain", "419430.4", "--pick", "yesterday"], "--pick"),
        (["--gain", "419430.4", "--pick", "2001-01-01T00:00:00Z"], "outside"),
        (["--gain", "419430.4", "--pre-roll", "zeros"], "--pre-roll"),
        ([], "--gain"),  // integer (counts) data without --gain
    ])
    func badInput(arguments: [String], mention: String) throws {
        let run = try CLIRunner.run(["magnitude", Self.akt013] + arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr.contains(mention), "stderr: \(run.stderr)")
    }

    @Test("missing and non-miniSEED files exit 2")
    func badFiles() throws {
        let missing = try CLIRunner.run(["magnitude", "/nonexistent/x.mseed", "--gain", "1"])
        #expect(missing.status == 2 && missing.stdout.isEmpty)
        let none = try CLIRunner.run(["magnitude"])
        #expect(none.status == 2)
    }

    @Test("3 components: only the vertical channel is used; FLOAT64 data without --gain are taken as m/s² (warning)")
    func verticalSelection() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mag-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let start = try #require(Timestamp(iso8601: "2024-05-01T00:00:00Z"))
        var state: UInt64 = 12345
        func noise() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(Int64(bitPattern: state >> 11) % 2001 - 1000) * 1e-7
        }
        var blocks: [SampleBlock] = []
        for channel in ["HNE", "HNN", "HNZ"] {
            let samples = (0..<9000).map { i -> Double in
                let t = Double(i - 7000) / 100
                return noise() + (i >= 7000 ? 0.05 * sin(2 * Double.pi * 2 * t) * exp(-t / 3) : 0)
            }
            let id = try #require(StreamID("XX.TST..\(channel)"))
            blocks.append(SampleBlock(streamID: id, startTime: start, samplingRateHz: 100, unit: .metersPerSecondSquared,
                                      samples: samples))
        }
        let path = dir + "/three.mseed"
        try MiniSEEDWriter.write(blocks, encoding: .float64, to: path)
        let run = try CLIRunner.run(["magnitude", path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        try #require(run.stdoutLines.count == 1)
        let line = try MagnitudeLine(run.stdoutLines[0])
        #expect(line.stream == "XX.TST..HNZ")
        #expect(run.stderr.contains("taken as m/s²"))
        // Onset at 70.00 s; the automatic pick must be within 0.1 s of it.
        let pick = try #require(line.pickTime.flatMap { Timestamp(iso8601: $0) })
        #expect(abs(pick.seconds(since: start) - 70) <= 0.1, "pick \(pick)")
        #expect(line.windows.count == 6)
    }

    @Test("no trigger: a line with pickTime null and no windows, exit 0")
    func noTrigger() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mag-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let start = try #require(Timestamp(iso8601: "2024-05-01T00:00:00Z"))
        let id = try #require(StreamID("XX.QUI..HNZ"))
        let samples = (0..<6000).map { Double($0 % 7) - 3 }  // periodic, stationary: STA/LTA stays near 1
        let path = dir + "/quiet.mseed"
        try MiniSEEDWriter.write([SampleBlock(streamID: id, startTime: start, samplingRateHz: 100, samples: samples)],
                                 encoding: .int32, to: path)
        let run = try CLIRunner.run(["magnitude", path, "--gain", "1e6"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let line = try MagnitudeLine(try #require(run.stdoutLines.first))
        #expect(line.pickTime == nil && line.windows.isEmpty && line.magnitude == nil && !line.saturated)
        #expect(run.stderr.contains("no P trigger"))
    }
}
