// End-to-end tests of `quakewarn pick`: the built executable runs as a subprocess (CLIRunner).
import Foundation
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// One parsed trigger line; fails the test unless it has the contract's keys plus the pick
/// provenance (`pickMethod` "aic" with pickSample/pickSNR/pickGrade, or "trigger" with repickRejected).
private struct TriggerLine: Equatable {
    var stream: String
    var onSample: Int
    var offSample: Int
    var onTime: String
    var offTime: String
    var pickTime: String
    var pickMethod: String
    var pickSample: Int?

    init(_ line: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let dict = try #require(object as? [String: Any], "not a JSON object: \(line)")
        let contract: Set<String> = ["stream", "onSample", "offSample", "onTime", "offTime", "pickTime", "pickMethod"]
        stream = try #require(dict["stream"] as? String)
        onSample = try #require((dict["onSample"] as? NSNumber)?.intValue)
        offSample = try #require((dict["offSample"] as? NSNumber)?.intValue)
        onTime = try #require(dict["onTime"] as? String)
        offTime = try #require(dict["offTime"] as? String)
        pickTime = try #require(dict["pickTime"] as? String)
        pickMethod = try #require(dict["pickMethod"] as? String)
        switch pickMethod {
        case "aic":
            #expect(Set(dict.keys) == contract.union(["pickSample", "pickSNR", "pickGrade"]), "keys of \(line)")
            pickSample = try #require((dict["pickSample"] as? NSNumber)?.intValue)
            let snr = try #require((dict["pickSNR"] as? NSNumber)?.doubleValue)
            #expect(snr >= 3, "an accepted re-pick has SNR >= 3: \(line)")
            #expect(["A", "B", "C", "D"].contains(dict["pickGrade"] as? String ?? ""))
        case "trigger":
            #expect(Set(dict.keys) == contract.union(["repickRejected"]), "keys of \(line)")
            #expect(pickTime == onTime, "without a re-pick the pick is the ON time: \(line)")
        default:
            Issue.record("unknown pickMethod in \(line)")
        }
    }

    /// The re-pick window is 3 s before to 0.5 s after ON (AICRepicker defaults).
    func checkPickWindow(samplingRateHz: Double) {
        guard let pick = pickSample else { return }
        #expect(pick >= onSample - Int((3 * samplingRateHz).rounded()) && pick <= onSample + Int((0.5 * samplingRateHz).rounded()),
                "pick sample \(pick) outside the re-pick window of ON \(onSample)")
    }
}

/// Settings of the four reference case kinds (identical in seconds for every trace).
private let caseKinds: [(suffix: String, method: String, sta: String, lta: String, on: String, off: String)] = [
    ("classic_0.5_10", "classic", "0.5", "10", "3.5", "0.5"),
    ("recursive_0.5_10", "recursive", "0.5", "10", "3.5", "0.5"),
    ("classic_5_10", "classic", "5", "10", "1.5", "0.5"),
    ("recursive_5_10", "recursive", "5", "10", "1.2", "0.5"),
]

@Suite("quakewarn pick (subprocess)")
struct PickCommandTests {
    static let traceIDs: [String] = (try? ReferenceCases.traceIDs()) ?? []

    private func options(_ kind: (suffix: String, method: String, sta: String, lta: String, on: String, off: String))
        -> [String]
    {
        ["--method", kind.method, "--sta", kind.sta, "--lta", kind.lta, "--on", kind.on, "--off", kind.off]
    }

    @Test("--demean with the reference windows reproduces ObsPy's triggers on all 24 traces",
          arguments: caseKinds.map(\.suffix))
    func referenceTriggers(suffix: String) throws {
        let kind = try #require(caseKinds.first { $0.suffix == suffix })
        #expect(Self.traceIDs.count == 24)
        let traces = try Self.traceIDs.map { try ReferenceCases.load($0) }
        let run = try CLIRunner.run(["pick", "--demean"] + options(kind) + traces.map(\.mseedPath))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = try run.stdoutLines.map { try TriggerLine($0) }
        // Lines come in file order; rebuild the expectation in the same order.
        var expected: [(String, Int, Int)] = []
        for trace in traces {
            let streamID = try #require(MiniSEEDReader.read(path: trace.mseedPath).segments.first?.streamID.description)
            let refCase = try #require(trace.cases["\(trace.traceID)__\(suffix)"])
            for pair in try #require(refCase.triggers) { expected.append((streamID, pair[0], pair[1])) }
        }
        try #require(lines.count == expected.count, "trigger count")
        for (line, want) in zip(lines, expected) {
            #expect(line.stream == want.0 && line.onSample == want.1 && line.offSample == want.2,
                    "got \(line.stream) [\(line.onSample), \(line.offSample)], want \(want)")
            if let pick = line.pickSample {
                // 10 samples of edge margin at either end of the [-3 s, +0.5 s] window at ≥ 20 sps.
                #expect(pick > line.onSample - 3 * 250 && pick < line.onSample + 125, "\(line)")
            }
        }
    }

    @Test("times: onTime is the reference first_on_time; off/on times follow the sample indices")
    func times() throws {
        let trace = try ReferenceCases.load("obspy_AYT_BHZ")
        let run = try CLIRunner.run(["pick", "--demean", trace.mseedPath])  // defaults = recursive 0.5/10, 3.5/0.5
        #expect(run.status == 0)
        let lines = try run.stdoutLines.map { try TriggerLine($0) }
        try #require(lines.count == 2)
        // Reference: first ON at sample 1118 = 2002-12-23T12:48:11.180100Z (100 Hz, start …:00.000100).
        #expect(lines[0].onSample == 1118 && lines[0].onTime == "2002-12-23T12:48:11.180100Z")
        #expect(lines[0].offSample == 2628 && lines[0].offTime == "2002-12-23T12:48:26.280100Z")
    }

    @Test("--chunk 1 and --chunk 7 give byte-identical output", arguments: ["classic_0.5_10", "recursive_0.5_10"])
    func chunkingInvariance(suffix: String) throws {
        let kind = try #require(caseKinds.first { $0.suffix == suffix })
        let files = ["obspy_CRLZ_HHZ", "obspy_KONO_BHZ", "obspy_UH3_SHZ"].map { Fixtures.path("mseed/\($0).mseed") }
        let whole = try CLIRunner.run(["pick", "--demean"] + options(kind) + files)
        #expect(whole.status == 0)
        #expect(whole.stdoutLines.count > 10)
        for n in ["1", "7"] {
            let chunked = try CLIRunner.run(["pick", "--demean", "--chunk", n] + options(kind) + files)
            #expect(chunked.status == 0)
            #expect(chunked.stdout == whole.stdout, "--chunk \(n)")
        }
    }

    @Test("a missing file: exit 2, one line naming it on stderr, the other files are still processed")
    func missingFile() throws {
        let good = Fixtures.path("mseed/obspy_AYT_BHZ.mseed")
        let missing = "/nonexistent/dir/missing.mseed"
        let run = try CLIRunner.run(["pick", "--demean", missing, good])
        #expect(run.status == 2)
        let errorLines = run.stderr.split(separator: "\n")
        #expect(errorLines.count == 2, "one line for the file, one summary line: \(run.stderr)")
        #expect(errorLines.first?.contains(missing) == true)
        #expect(errorLines.last == "quakewarn pick: 1 of 2 file(s) had errors")
        #expect(run.stdoutLines.count == 2, "the good file's two triggers are still printed")
    }

    @Test("a file that is not miniSEED: exit 2 naming the file")
    func notMiniSEED() throws {
        let path = Fixtures.path("README-picking.md")
        let run = try CLIRunner.run(["pick", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(path))
        #expect(run.stdout.isEmpty)
    }

    @Test("bad options: exit 2 with a one-line reason naming the option", arguments: [
        (["--sta", "abc"], "--sta"),
        (["--lta=-3"], "--lta"),  // "--lta -3" would be read as an option by ArgumentParser
        (["--on", "nan"], "--on"),
        (["--method", "fancy"], "--method"),
        (["--chunk", "0"], "--chunk"),
        (["--filter", "bandpass:2:1"], "--filter"),
        (["--filter", "lowpass"], "--filter"),
        (["--filter", "highpass:0"], "--filter"),
        (["--method", "classic", "--sta", "20", "--lta", "10"], "--sta"),
    ])
    func badOptions(arguments: [String], mention: String) throws {
        let run = try CLIRunner.run(["pick"] + arguments + [Fixtures.path("mseed/obspy_AYT_BHZ.mseed")])
        #expect(run.status == 2)
        let errorLines = run.stderr.split(separator: "\n")
        #expect(errorLines.count == 1, "stderr: \(run.stderr)")
        #expect(run.stderr.contains(mention), "stderr: \(run.stderr)")
        #expect(run.stdout.isEmpty)
    }

    @Test("--cf-out writes the CF as FLOAT64 miniSEED: same stream, start and rate; values match ObsPy's CF")
    func cfOut() throws {
        let trace = try ReferenceCases.load("obspy_UH1_SHZ")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CLIRunner.run(["pick", "--demean", "--method", "classic", "--sta", "0.5", "--lta", "10",
                                           "--cf-out", dir, trace.mseedPath])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let input = try MiniSEEDReader.read(path: trace.mseedPath)
        let written = try MiniSEEDReader.read(path: dir + "/obspy_UH1_SHZ.cf.mseed", strict: true)
        try #require(written.segments.count == 1)
        let cf = written.segments[0], source = try #require(input.segments.first)
        #expect(cf.streamID == source.streamID && cf.startTime == source.startTime && cf.samplingRateHz == source.samplingRateHz)
        #expect(written.encodings[cf.streamID] == [.float64])
        let ref = try NPY.readDoubles(path: try #require(trace.cases["obspy_UH1_SHZ__classic_0.5_10"]?.cfPath))
        try #require(ref.count == cf.samples.count)
        for (v, r) in zip(cf.samples, ref) {
            if r == 0 { #expect(v == 0) } else { #expect(abs(v - r) <= 1e-6 * abs(r)) }
        }
    }

    @Test("--cf-out refuses a file as directory and two inputs with the same name")
    func cfOutErrors() throws {
        let file = Fixtures.path("mseed/obspy_AYT_BHZ.mseed")
        let notDir = try CLIRunner.run(["pick", "--cf-out", file, file])
        #expect(notDir.status == 2 && notDir.stderr.contains("--cf-out"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfout-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let twice = try CLIRunner.run(["pick", "--cf-out", dir, file, file])
        #expect(twice.status == 2 && twice.stderr.contains("obspy_AYT_BHZ.cf.mseed"))
    }

    @Test("a stream with a gap: each segment is picked on its own (indices relative to the segment, absolute times)")
    func gapRestartsPicker() throws {
        let source = try #require(try MiniSEEDReader.read(path: Fixtures.path("mseed/obspy_CRLZ_HHZ.mseed")).segments.first)
        let split = 16_000
        var first = source
        first.samples = Array(source.samples[..<split])
        var second = source
        second.samples = Array(source.samples[split...])
        // 60 s of missing data between the two parts.
        second.startTime = source.time(ofSample: split).adding(nanoseconds: 60_000_000_000)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try MiniSEEDWriter.write([first, second], encoding: .float64, to: dir + "/gap.mseed")
        try MiniSEEDWriter.write([first], encoding: .float64, to: dir + "/first.mseed")
        try MiniSEEDWriter.write([second], encoding: .float64, to: dir + "/second.mseed")
        let opts = ["pick", "--demean", "--method", "classic"]
        let gap = try CLIRunner.run(opts + [dir + "/gap.mseed"])
        let parts = try CLIRunner.run(opts + [dir + "/first.mseed", dir + "/second.mseed"])
        #expect(gap.status == 0 && parts.status == 0)
        #expect(gap.stdout == parts.stdout)
        let lines = try gap.stdoutLines.map { try TriggerLine($0) }
        let secondStart = second.startTime.iso8601
        let inSecond = lines.filter { $0.onTime > secondStart }
        #expect(!inSecond.isEmpty && inSecond.allSatisfy { $0.onSample < source.samples.count - split })
    }

    @Test("help: exit 0, nothing on stderr, the pick subcommand and its defaults are listed")
    func help() throws {
        let root = try CLIRunner.run(["--help"])
        #expect(root.status == 0 && root.stderr.isEmpty && root.stdout.contains("pick"))
        let pick = try CLIRunner.run(["pick", "--help"])
        #expect(pick.status == 0 && pick.stderr.isEmpty)
        for text in ["--method", "(default: recursive)", "(default: 0.5)", "(default: 10)", "(default: 3.5)", "--cf-out"] {
            #expect(pick.stdout.contains(text), "pick --help lacks \(text)")
        }
    }

    @Test("a file with a corrupt record: the rest is still picked, a warning names it, exit 2")
    func corruptRecord() throws {
        let source = try #require(try MiniSEEDReader.read(path: Fixtures.path("mseed/obspy_KONO_BHZ.mseed")).segments.first)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var bytes = try MiniSEEDWriter.encode(source, encoding: .float64, recordLength: 512)
        for i in 512..<560 { bytes[i] = 0x3F }  // destroy the fixed header of the second record
        let path = dir + "/corrupt.mseed"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let run = try CLIRunner.run(["pick", "--demean", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("warning: skipped bad record") && run.stderr.contains(path))
        #expect(!run.stdout.isEmpty, "the good records are still picked")
    }

    @Test("an unknown option exits 2 (ArgumentParser usage errors are mapped to the contract's code)")
    func unknownOption() throws {
        let run = try CLIRunner.run(["pick", "--bogus", Fixtures.path("mseed/obspy_AYT_BHZ.mseed")])
        #expect(run.status == 2)
        #expect(run.stderr.contains("--bogus"))
        #expect(run.stdout.isEmpty)
    }

    @Test("a window too short for the sampling rate is a per-file error naming file and stream")
    func windowTooShort() throws {
        let path = Fixtures.path("mseed/obspy_KONO_BHZ.mseed")  // 20 Hz: 0.01 s rounds to 0 samples
        let run = try CLIRunner.run(["pick", "--sta", "0.01", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(path) && run.stderr.contains("IU.KONO.00.BHZ") && run.stderr.contains("sta"))
    }

    @Test("an absurdly long classic LTA window is refused, not allocated")
    func windowTooLong() throws {
        let path = Fixtures.path("mseed/obspy_KONO_BHZ.mseed")
        let run = try CLIRunner.run(["pick", "--method", "classic", "--lta", "1e9", path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(path) && run.stderr.contains("lta") && run.stderr.contains("maximum"))
    }
}

@Suite("quakewarn pick: filter and onset re-pick (subprocess)")
struct PickFilterAndRepickTests {
    /// ObsPy's ar_pick tutorial P time on the RJOB 2005-08-01 group: 30.635 s after the start
    /// (Tests/Fixtures/reference/obspy_RJOB_20050801__ar_pick.json).
    static let rjobStart = "2005-08-01T14:57:19.850000Z"
    static let arPickSeconds = 30.635

    @Test("the AIC re-pick on RJOB Z lands within 0.05 s of ObsPy's ar_pick P, with and without a band-pass",
          arguments: [[], ["--filter", "bandpass:1:20"]])
    func rjobRepick(extra: [String]) throws {
        let path = Fixtures.path("mseed/obspy_RJOB_20050801_Z.mseed")
        let run = try CLIRunner.run(["pick"] + extra + [path])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = try run.stdoutLines.map { try TriggerLine($0) }
        try #require(lines.count == 1)
        let line = lines[0]
        line.checkPickWindow(samplingRateHz: 200)
        #expect(line.pickMethod == "aic")
        let start = try #require(Timestamp(iso8601: Self.rjobStart))
        let pick = try #require(Timestamp(iso8601: line.pickTime))
        #expect(abs(pick.seconds(since: start) - Self.arPickSeconds) <= 0.05, "pick \(line.pickTime)")
        // The re-pick moves the pick before the threshold crossing, towards the onset.
        #expect(line.pickTime <= line.onTime)
    }

    @Test("a filter corner above a file's Nyquist frequency fails that file only, naming it")
    func filterAboveNyquist() throws {
        let rate100 = Fixtures.path("mseed/obspy_AYT_BHZ.mseed")         // 100 sps: 60 Hz > Nyquist
        let rate200 = Fixtures.path("mseed/obspy_RJOB_20050801_Z.mseed")  // 200 sps: fine
        let run = try CLIRunner.run(["pick", "--filter", "bandpass:1:60", rate100, rate200])
        #expect(run.status == 2)
        let errorLines = run.stderr.split(separator: "\n")
        #expect(errorLines.count == 2, "stderr: \(run.stderr)")
        #expect(errorLines.first?.contains(rate100) == true && errorLines.first?.contains("--filter") == true)
        #expect(run.stdoutLines.count == 1, "the 200 sps file is still picked")
    }

    @Test("a band-pass changes the CF and is chunking-invariant")
    func filterChunking() throws {
        let files = ["obspy_UH3_SHZ", "obspy_RJOB_20050801_Z"].map { Fixtures.path("mseed/\($0).mseed") }
        let whole = try CLIRunner.run(["pick", "--filter", "bandpass:1:20"] + files)
        let unfiltered = try CLIRunner.run(["pick"] + files)
        #expect(whole.status == 0 && unfiltered.status == 0)
        #expect(!whole.stdoutLines.isEmpty)
        #expect(whole.stdout != unfiltered.stdout, "the filter must have an effect")
        for n in ["1", "7", "4096"] {
            let chunked = try CLIRunner.run(["pick", "--filter", "bandpass:1:20", "--chunk", n] + files)
            #expect(chunked.stdout == whole.stdout, "--chunk \(n)")
        }
    }
}
