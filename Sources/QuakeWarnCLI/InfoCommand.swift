import ArgumentParser
import MiniSEED
import SeismicCore

/// `quakewarn info FILE…`: what is in miniSEED files, per stream.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Summarise miniSEED files: per stream time span, rate, samples, gaps/overlaps, encoding.",
        discussion: """
            Each file is read on its own; a stream that appears in several files is listed once per
            file. END is the time of the last sample. A gap or overlap is a jump of more than half
            a sample interval between the expected and the actual start of the next record.
            A file that cannot be read gets a one-line error on stderr, the remaining files are
            still read, and the exit status is 2.
            """
    )

    @Argument(help: "miniSEED 2 files to summarise.")
    var files: [String]

    @Flag(help: "Print one JSON object per stream and line instead of a table.")
    var json = false

    func run() throws {
        var failures = 0
        var table = TextTable(headers: ["FILE", "STREAM", "START", "END", "RATE_HZ", "SAMPLES", "GAPS", "OVERLAPS",
                                        "ENCODING"],
                              rightAligned: [4, 5, 6, 7])
        var discontinuityLines: [String] = []
        for (index, file) in files.enumerated() {
            if !json, Console.stderrIsTerminal, files.count > 1 {
                Console.error("[\(index + 1)/\(files.count)] \(file)")
            }
            let volume: MiniSEEDVolume
            do {
                volume = try MiniSEEDReader.read(path: file)
            } catch {
                Console.error("error: \(error)")
                failures += 1
                continue
            }
            for problem in volume.problems {
                Console.error("warning: skipped bad record: \(problem)")
            }
            if !volume.problems.isEmpty { failures += 1 }
            for summary in StreamSummary.summaries(of: volume) {
                if json {
                    Console.output(summary.json(file: file).text)
                } else {
                    table.append([file, summary.streamID.description, summary.start.iso8601, summary.end.iso8601,
                                  Self.format(rate: summary.samplingRateHz), String(summary.sampleCount),
                                  String(summary.gaps.count), String(summary.overlaps.count), summary.encodingText])
                    for d in summary.gaps + summary.overlaps {
                        discontinuityLines.append("  \(d.kind == .gap ? "gap    " : "overlap") \(summary.streamID)  "
                            + "\(d.expectedTime.iso8601) -> \(d.actualTime.iso8601)  (\(Self.format(seconds: d.seconds)) s)")
                    }
                }
            }
        }
        if !json {
            Console.output(table.rendered)
            if !discontinuityLines.isEmpty {
                Console.output("\nGaps and overlaps (expected next sample -> actual start):")
                discontinuityLines.forEach(Console.output)
            }
        }
        if failures > 0 {
            Console.error("\(failures) of \(files.count) file(s) had errors")
            throw ExitCode(2)
        }
    }

    static func format(rate: Double) -> String {
        rate == rate.rounded() && abs(rate) < 1e9 ? String(Int(rate)) : String(rate)
    }

    static func format(seconds: Double) -> String {
        let rounded = (seconds * 1e6).rounded() / 1e6
        return rounded.description
    }
}

/// One stream's line of `quakewarn info`: the reader's ``MiniSEEDStreamSummary`` plus the
/// time of the last sample (ObsPy's `endtime`) and the stream's gaps and overlaps.
struct StreamSummary {
    var summary: MiniSEEDStreamSummary
    /// Time of the last sample of the stream (latest over its segments).
    var end: Timestamp
    var gaps: [StreamDiscontinuity]
    var overlaps: [StreamDiscontinuity]

    var streamID: StreamID { summary.streamID }
    var start: Timestamp { summary.startTime }
    var sampleCount: Int { summary.sampleCount }
    /// The stream's sampling rate (the lowest if records disagree; all are listed in the JSON).
    var samplingRateHz: Double { summary.samplingRatesHz.first ?? 0 }
    var encodingText: String { summary.encodings.map(\.description).sorted().joined(separator: "+") }

    /// One summary per stream of `volume`, in stream-id order.
    static func summaries(of volume: MiniSEEDVolume) -> [StreamSummary] {
        volume.streams.sorted { $0.streamID < $1.streamID }.map { s in
            let segments = volume.segments(of: s.streamID)
            let end = segments.map(\.lastSampleTime).max() ?? s.startTime
            let ds = volume.discontinuities.filter { $0.streamID == s.streamID }
            return StreamSummary(summary: s, end: end, gaps: ds.filter { $0.kind == .gap },
                                 overlaps: ds.filter { $0.kind == .overlap })
        }
    }

    func json(file: String) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("stream", .string(streamID.description)),
            ("file", .string(file)),
            ("start", .string(start.iso8601)),
            ("end", .string(end.iso8601)),
            ("samplingRateHz", .number(samplingRateHz)),
            ("sampleCount", .integer(sampleCount)),
            ("gaps", .integer(gaps.count)),
            ("overlaps", .integer(overlaps.count)),
            ("encoding", .string(encodingText)),
            ("records", .integer(summary.recordCount)),
            ("segments", .integer(summary.segmentCount)),
        ]
        if summary.samplingRatesHz.count > 1 {
            fields.append(("samplingRatesHz", .array(summary.samplingRatesHz.map { .number($0) })))
        }
        fields.append(("discontinuities", .array((gaps + overlaps).map { d in
            .object([
                ("kind", .string(d.kind == .gap ? "gap" : "overlap")),
                ("expected", .string(d.expectedTime.iso8601)),
                ("actual", .string(d.actualTime.iso8601)),
                ("seconds", .number(d.seconds)),
            ])
        })))
        return .object(fields)
    }
}
