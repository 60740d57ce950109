// `quakewarn replay`: the live pipeline on recorded miniSEED, driven by data time (design.md,
// interface contract).
import Alerting
import ArgumentParser
import Foundation
import MiniSEED
import Pipeline
import SeismicCore

/// `quakewarn replay PATH… [--config FILE] [--out DIR] [--speed max|realtime|N] [--exercise]`
///
/// Writes DIR/picks.jsonl, events.jsonl, decisions.jsonl, warnings.jsonl, signed/<id>-<update>.json
/// and signed/cap/<cap name>.xml.json (Ed25519 envelopes, when a key is available), cap/<id>-<update>.xml
/// summary.txt and report.html; prints one human line per warning on stderr and the summary table on stdout.
/// Exit 0 on success; 2 on bad input (unreadable config, no miniSEED file, unreadable file) with
/// a one-line reason naming the file or option.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run the warning pipeline on recorded miniSEED files (data-time driven).",
        discussion: """
            PATH is a miniSEED file or a directory (its *.mseed files, including subdirectories). All streams \
            are fed in 1 s blocks merged by start time (the pipeline re-cuts them into 0.25 s \
            epoch-aligned slices, so results do not depend on the chunking) through the same chain \
            as the live daemon: picker per channel, station parameters (Pd, tauC, tauP) on the \
            vertical, onsite back-azimuth and distance, event builder, warnings for every target. \
            Streams not in the configuration are ignored with one warning each.
            Without --config: if a PATH is in (or is) a directory named SampleWaveforms, \
            SampleWaveforms/scenarios/config.yaml is used when it exists, else config/lezhi.yaml \
            (relative to the current directory).
            Output (--out, default replay-out): picks.jsonl, events.jsonl, decisions.jsonl, \
            warnings.jsonl (canonical warning JSON), cap/<id>-<update>.xml (CAP 1.2), summary.txt, \
            and, when a signing key is available (--private-key, or the configuration's \
            signing.privateKeyPath if that file exists), Ed25519 envelopes signed/<id>-<update>.json \
            for every warning and signed/cap/<id>-<update>.xml.json for every CAP document \
            (check them with quakewarn verify), \
            report.html (waveforms with picks, STA/LTA, magnitude evolution, targets with intensity \
            and countdown; inline SVG). picks.jsonl has knownTime, the data time at which the \
            picker had emitted each pick. \
            Every time in them is data time (a warning's createdTime is the data time of the event \
            update that caused it), so the same input gives byte-identical files.
            --speed max (default) runs as fast as possible; realtime or N (a factor, e.g. 10) \
            sleeps so that data time advances at N times the wall clock. --exercise marks every \
            warning as Exercise (drills), overriding alerting.status.
            """
    )

    @Argument(help: "miniSEED files or directories.")
    var paths: [String] = []

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Option(help: "Output directory (created if missing).")
    var out: String = "replay-out"

    @Option(help: ArgumentHelp("Pacing: max, realtime or a factor N > 0.", valueName: "max|realtime|N"))
    var speed: String = "max"

    @Option(name: .customLong("private-key"),
            help: "Ed25519 private key for signing the warnings (default: the configuration's signing.privateKeyPath, if it exists).")
    var privateKey: String?

    @Flag(help: "Mark warnings as Exercise (drill), whatever the configuration's status.")
    var exercise = false

    func run() throws {
        guard !paths.isEmpty else { throw Self.fail("no PATH given (usage: quakewarn replay PATH… [--config FILE])") }
        let factor: Double?
        switch speed {
        case "max": factor = nil
        case "realtime": factor = 1
        default:
            guard let v = Double(speed), v.isFinite, v > 0 else {
                throw Self.fail("--speed: '\(speed)' is not max, realtime or a positive number")
            }
            factor = v
        }
        let files: [String]
        do {
            files = try MiniSEEDFileList.expand(paths, recursive: true)
        } catch {
            throw Self.fail("\(error)")
        }
        guard !files.isEmpty else { throw Self.fail("no miniSEED files found in \(paths.joined(separator: ", "))") }

        let configPath = config ?? Self.defaultConfigPath(for: paths)
        let quakeWarn: QuakeWarnConfiguration
        do {
            quakeWarn = try QuakeWarnConfiguration.load(path: configPath)
        } catch {
            throw Self.fail("\(error)")
        }

        var segments: [SampleBlock] = []
        for file in files {
            let volume: MiniSEEDVolume
            do {
                volume = try MiniSEEDReader.read(path: file)
            } catch {
                throw Self.fail("\(error)")
            }
            for problem in volume.problems { Self.printError("warning: skipped bad record: \(problem)") }
            segments += volume.segments
        }
        let blocks = ReplaySchedule.blocks(from: segments, chunkSeconds: 1)
        let present = Set(segments.map(\.streamID))
        var pipeline = ReplayPipeline(.init(quakeWarn: quakeWarn, status: exercise ? .exercise : nil,
                                            expectedStreams: present))
        var outputs = ReplayOutputs()
        let showProgress = Console.stderrIsTerminal
        let wallStart = Date()
        let dataStart = blocks.first?.startTime
        var lastPercent = -1

        func take(_ records: [PipelineRecord]) throws {
            for r in records {
                try outputs.add(r)
                switch r {
                case .warning(let m, _): Console.error(ReplayOutputs.humanLine(m))
                case .notice(_, let message): Self.printError("warning: \(message)")
                default: break
                }
            }
        }

        do {
            for (i, block) in blocks.enumerated() {
                if let factor, let dataStart {
                    let due = block.startTime.seconds(since: dataStart) / factor
                    let wait = due - Date().timeIntervalSince(wallStart)
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                }
                try take(pipeline.process(block))
                if showProgress {
                    let percent = (i + 1) * 100 / blocks.count
                    if percent != lastPercent {
                        lastPercent = percent
                        FileHandle.standardError.write(Data("\rreplay: \(percent) %".utf8))
                    }
                }
            }
            try take(pipeline.finish())
        } catch {
            throw Self.fail("cannot encode a record: \(error)")
        }
        if showProgress { FileHandle.standardError.write(Data("\r".utf8)) }
        do {
            try outputs.write(to: URL(fileURLWithPath: out))
            // Plot only the configured streams (ignored ones may be years away in time).
            let configured = Set(quakeWarn.stations.flatMap { s in
                s.channels.map { StreamID(network: s.network, station: s.station, location: s.location, channel: $0) }
            })
            let report = ReplayReport.html(title: "QuakeWarn replay: " + files.map { URL(fileURLWithPath: $0).lastPathComponent }
                                            .joined(separator: ", "),
                                           segments: segments.filter { configured.contains($0.streamID) }, outputs: outputs,
                                           picker: pipeline.configuration.picker)
            try Data(report.utf8).write(to: URL(fileURLWithPath: out).appendingPathComponent("report.html"))
        } catch {
            throw Self.fail("\(out): cannot write the outputs: \(error.localizedDescription)")
        }
        try signWarnings(outputs.warningMessages, cap: outputs.cap, configPath: configPath, configuration: quakeWarn)
        Console.output(outputs.summary, terminator: "")
        Console.error("quakewarn replay: \(files.count) file(s), config \(configPath), outputs in \(out)")
    }

    /// Writes one Ed25519-signed envelope per warning to `OUT/signed/<id>-<update>.json` and one
    /// per CAP 1.2 document to `OUT/signed/cap/<cap file name>.json` (payload type
    /// `application/cap+xml`, the XML bytes exactly as in `OUT/cap/`), in the format
    /// `quakewarn verify` checks, with the key from --private-key or, if that option is
    /// absent, the configuration's `signing.privateKeyPath` when that file exists. Without a key
    /// the warnings stay unsigned and a notice says how to make one.
    func signWarnings(_ messages: [WarningMessage], cap: [(name: String, xml: String)], configPath: String,
                      configuration: QuakeWarnConfiguration) throws {
        let configured = configuration.resolvedPrivateKeyPath(configurationFile: configPath)
        let keyPath: String
        if let privateKey {
            keyPath = privateKey
        } else if FileManager.default.fileExists(atPath: configured) {
            keyPath = configured
        } else {
            Self.printError("warnings not signed: no key at \(configured) "
                + "(make one with 'quakewarn keys generate --out DIR' and pass --private-key)")
            return
        }
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try SigningKeyFile.loadPrivateKey(path: keyPath)
        } catch {
            throw Self.fail("--private-key \(keyPath): \(error)")
        }
        let directory = URL(fileURLWithPath: out).appendingPathComponent("signed")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for m in messages {
                let envelope = try SignedEnvelope.sign(m, with: key)
                try envelope.encoded().write(to: directory.appendingPathComponent("\(m.id)-\(m.updateNumber).json"))
            }
            if !cap.isEmpty {
                let capDirectory = directory.appendingPathComponent("cap")
                try FileManager.default.createDirectory(at: capDirectory, withIntermediateDirectories: true)
                for c in cap {
                    let envelope = try SignedEnvelope.sign(payload: Data(c.xml.utf8), payloadType: SignedEnvelope.capXMLType, with: key)
                    try envelope.encoded().write(to: capDirectory.appendingPathComponent(c.name + ".json"))
                }
            }
        } catch {
            throw Self.fail("\(directory.path): cannot write signed warnings: \(error)")
        }
    }

    /// The configuration used without --config (see the discussion).
    static func defaultConfigPath(for paths: [String]) -> String {
        for path in paths {
            let components = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
            guard let i = components.lastIndex(of: "SampleWaveforms") else { continue }
            let base = NSString.path(withComponents: Array(components[...i]))
            let candidate = URL(fileURLWithPath: base).appendingPathComponent("scenarios/config.yaml").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return "config/lezhi.yaml"
    }

}

extension Console {
    /// Writes text to standard output without adding a newline when `terminator` is empty.
    static func output(_ text: String, terminator: String) {
        print(text, terminator: terminator)
    }
}
