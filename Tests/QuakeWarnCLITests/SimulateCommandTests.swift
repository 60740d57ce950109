// End-to-end tests of `quakewarn simulate`: the built executable runs as a subprocess (CLIRunner),
// and its files go through `quakewarn info` and `quakewarn pick` as a drill would use them.
import Foundation
import MiniSEED
import SeismicCore
import Testing

/// One parsed station line; fails the test if the keys are not exactly the documented ones.
private struct SimulateLine {
    var station: String
    var epicentralDistanceKilometers: Double
    var hypocentralDistanceKilometers: Double
    var pArrival: Timestamp
    var sArrival: Timestamp
    var pga: Double
    var sensitivity: Double
    var file: String

    init(_ line: String) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        let dict = try #require(object as? [String: Any], "not a JSON object: \(line)")
        #expect(Set(dict.keys) == ["station", "epicentralDistanceKilometers", "hypocentralDistanceKilometers",
                                   "backAzimuthDegrees", "pArrival", "sArrival", "pgaMetersPerSecondSquared",
                                   "sensitivityCountsPerMetersPerSecondSquared", "file"])
        station = try #require(dict["station"] as? String)
        epicentralDistanceKilometers = try #require((dict["epicentralDistanceKilometers"] as? NSNumber)?.doubleValue)
        hypocentralDistanceKilometers = try #require((dict["hypocentralDistanceKilometers"] as? NSNumber)?.doubleValue)
        pArrival = try timestamp(dict["pArrival"])
        sArrival = try timestamp(dict["sArrival"])
        pga = try #require((dict["pgaMetersPerSecondSquared"] as? NSNumber)?.doubleValue)
        sensitivity = try #require((dict["sensitivityCountsPerMetersPerSecondSquared"] as? NSNumber)?.doubleValue)
        file = try #require(dict["file"] as? String)
    }
}

/// The ISO-8601 time in `value`, or a failed requirement.
private func timestamp(_ value: Any?) throws -> Timestamp {
    let text = try #require(value as? String, "not a string: \(String(describing: value))")
    return try #require(Timestamp(iso8601: text), "not an ISO-8601 time: \(text)")
}

/// The JSON object of one output line, or a failed requirement.
private func jsonObject(_ line: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
    return try #require(object as? [String: Any], "not a JSON object: \(line)")
}

private func temporaryDirectory(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-simulate-\(getpid())-\(name)").path
}

/// Epicentre 30.0 N 105.0 E, 10 km deep; stations due north/east at the given epicentral distances.
private let scenario = ["--magnitude", "5.5", "--latitude", "30.0", "--longitude", "105.0", "--depth-km", "10",
                        "--origin-time", "2026-05-12T06:28:01.5Z"]
private func stationSpec(_ code: String, northKilometers: Double, eastKilometers: Double = 0) -> String {
    let lat = 30 + northKilometers / 111.195
    let lon = 105 + eastKilometers / (111.195 * cos(30 * Double.pi / 180))
    return "SC.\(code).00:\(lat):\(lon):350"
}

@Suite("quakewarn simulate (subprocess)")
struct SimulateCommandTests {
    @Test("writes one 3-channel Steim-2 file per station, readable by info, and P picks within 0.5 s of R/Vp at 30-60 km (M5.5)")
    func drill() throws {
        let dir = temporaryDirectory("drill")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let stations = [stationSpec("NEAR", northKilometers: 30), stationSpec("MID", northKilometers: 20, eastKilometers: 35),
                        stationSpec("FAR", northKilometers: -60)]
        let run = try CLIRunner.run(["simulate"] + scenario + ["--seed", "2026", "--out", dir]
            + stations.flatMap { ["--station", $0] })
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = try run.stdoutLines.map { try SimulateLine($0) }
        #expect(lines.map(\.station) == ["SC.NEAR.00", "SC.MID.00", "SC.FAR.00"])
        let origin = try #require(Timestamp(iso8601: "2026-05-12T06:28:01.5Z"))
        for line in lines {
            #expect(line.file == dir + "/" + line.station + ".mseed")
            #expect(abs(line.sensitivity - 8_388_608 / (2 * 9.80665)) < 1e-6)
            let r = line.hypocentralDistanceKilometers
            #expect(abs(r - (line.epicentralDistanceKilometers * line.epicentralDistanceKilometers + 100).squareRoot()) < 1e-9)
            #expect(abs(line.pArrival.seconds(since: origin) - r / (3.5 * 3.0.squareRoot())) < 1e-6)
            #expect(abs(line.sArrival.seconds(since: origin) - r / 3.5) < 1e-6)
            #expect(line.pga > 0.003 && line.pga < 3, "PGA \(line.pga) m/s²")
        }
        #expect(lines[0].epicentralDistanceKilometers > 29 && lines[0].epicentralDistanceKilometers < 31)
        #expect(lines[2].epicentralDistanceKilometers > 59 && lines[2].epicentralDistanceKilometers < 61)

        // info: three 100 sps STEIM2 channels per file, no gaps, 30 s before P to origin + 60 s.
        let info = try CLIRunner.run(["info", "--json"] + lines.map(\.file))
        #expect(info.status == 0, "stderr: \(info.stderr)")
        let streams = try info.stdoutLines.map(jsonObject)
        #expect(streams.count == 9)
        for line in lines {
            let own = streams.filter { ($0["stream"] as? String)?.hasPrefix(line.station + ".") == true }
            #expect(Set(own.compactMap { $0["stream"] as? String }) == Set(["HNZ", "HNN", "HNE"].map { line.station + "." + $0 }))
            for stream in own {
                #expect(stream["encoding"] as? String == "STEIM2")
                #expect((stream["samplingRateHz"] as? NSNumber)?.doubleValue == 100)
                #expect((stream["gaps"] as? NSNumber)?.intValue == 0)
                let start = try timestamp(stream["start"])
                let lead = line.pArrival.seconds(since: start)
                #expect(lead >= 30 && lead < 30.011, "\(line.station): starts \(lead) s before P")
                let end = try timestamp(stream["end"])
                #expect(abs(end.seconds(since: origin) - 60) < 0.011)
            }
        }

        // pick: the first trigger of each vertical channel is the P wave, picked within 0.5 s.
        let pick = try CLIRunner.run(["pick", "--filter", "bandpass:1:20"] + lines.map(\.file))
        #expect(pick.status == 0, "stderr: \(pick.stderr)")
        for line in lines {
            let first = try pick.stdoutLines.map(jsonObject).first { $0["stream"] as? String == line.station + ".HNZ" }
            let trigger = try #require(first, "no trigger on \(line.station).HNZ")
            let pickTime = try timestamp(trigger["pickTime"])
            let error = pickTime.seconds(since: line.pArrival)
            #expect(abs(error) < 0.5, "\(line.station) (R \(line.hypocentralDistanceKilometers) km): pick \(error) s from R/Vp")
        }

        // The files decode to integer counts; counts / sensitivity is acceleration in m/s².
        let volume = try MiniSEEDReader.read(path: lines[0].file)
        #expect(volume.problems.isEmpty)
        let peak = volume.segments.filter { $0.streamID.channel != "HNZ" }
            .flatMap(\.samples).map { abs($0) / lines[0].sensitivity }.max() ?? 0
        #expect(abs(peak - lines[0].pga) < 1e-12)
    }

    @Test("same inputs and seed: byte-identical files; another seed: different files")
    func reproducible() throws {
        var bytes: [[UInt8]] = []
        for (name, seed) in [("a", "11"), ("b", "11"), ("c", "12")] {
            let dir = temporaryDirectory("repro-\(name)")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let run = try CLIRunner.run(["simulate"] + scenario + ["--seed", seed, "--out", dir,
                                                                   "--station", stationSpec("REP", northKilometers: 40)])
            #expect(run.status == 0, "stderr: \(run.stderr)")
            bytes.append(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/SC.REP.00.mseed"))))
        }
        #expect(bytes[0].count > 4096)
        #expect(bytes[0] == bytes[1])
        #expect(bytes[0] != bytes[2])
    }

    @Test("without --station: the two Lezhi placeholder stations, with a note on stderr")
    func defaultStations() throws {
        let dir = temporaryDirectory("default")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CLIRunner.run(["simulate", "--magnitude", "4.5", "--latitude", "30.5", "--longitude", "105.2",
                                     "--depth-km", "8", "--origin-time", "2026-05-12T06:28:01Z", "--out", dir])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        let lines = try run.stdoutLines.map { try SimulateLine($0) }
        #expect(lines.map(\.station) == ["SC.NANTA.00", "SC.GAOSI.00"])
        #expect(run.stderr.contains("to be surveyed"))
        for line in lines { #expect(FileManager.default.fileExists(atPath: line.file)) }
    }

    @Test("invalid input: exit 2 with a one-line reason naming the option", arguments: [
        (["--magnitude", "1.5"], "--magnitude"), (["--magnitude", "8.7"], "--magnitude"), (["--magnitude", "big"], "--magnitude"),
        (["--depth-km", "-3"], "--depth-km"), (["--origin-time", "2026-13-01T00:00:00Z"], "--origin-time"),
        (["--origin-time", "yesterday"], "--origin-time"), (["--latitude", "91"], "--latitude"),
        (["--station", "SC.NANTA:30:105"], "station"), (["--station", "SC.NANTA.00:30:east"], "station"),
        (["--seed", "-1"], "--seed"), (["--noise-rms", "-1e-4"], "--noise-rms"), (["--duration", "0"], "--duration"),
        (["--duration", "2", "--station", "SC.FAR.00:31:105"], "--duration"),
    ])
    func invalidInput(override: [String], option: String) throws {
        var arguments = scenario
        var i = 0
        while i < override.count {
            if let at = arguments.firstIndex(of: override[i]) {
                arguments[at + 1] = override[i + 1]
            } else {
                arguments += [override[i], override[i + 1]]
            }
            i += 2
        }
        let dir = temporaryDirectory("invalid")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let run = try CLIRunner.run(["simulate"] + arguments + ["--out", dir])
        #expect(run.status == 2, "\(override): status \(run.status), stderr \(run.stderr)")
        #expect(run.stdout.isEmpty)
        let errorLines = run.stderr.split(separator: "\n")
        #expect(errorLines.count == 1, "\(override): \(run.stderr)")
        #expect(run.stderr.contains(option), "\(override): \(run.stderr)")
    }

    @Test("a missing required option exits 2")
    func missingOption() throws {
        let run = try CLIRunner.run(["simulate", "--magnitude", "5"])
        #expect(run.status == 2)
    }
}
