// Replay input scheduling and the replay's output files (JSON lines, CAP XML, summary).

public import Alerting
public import EventBuilder
public import Foundation
import Magnitude
import Picking
public import SeismicCore

/// Turns recorded segments into the block sequence a live feed would deliver: every segment cut
/// into blocks of `chunkSeconds` (nil: whole segments), all streams merged by block start time
/// (ties by stream id), so blocks of different streams interleave as they would in real time.
public enum ReplaySchedule {
    /// - Complexity: O(n log n) in the number of blocks.
    public static func blocks(from segments: [SampleBlock], chunkSeconds: Double? = 1) -> [SampleBlock] {
        var out: [SampleBlock] = []
        for segment in segments {
            guard let chunkSeconds, chunkSeconds.isFinite, chunkSeconds > 0 else {
                out.append(segment)
                continue
            }
            let n = max(1, SampleBlock.sampleCount(seconds: chunkSeconds, samplingRateHz: segment.samplingRateHz))
            var start = 0
            while start < segment.samples.count {
                let end = min(start + n, segment.samples.count)
                out.append(SampleBlock(streamID: segment.streamID, startTime: segment.time(ofSample: start),
                                       samplingRateHz: segment.samplingRateHz, unit: segment.unit,
                                       samples: Array(segment.samples[start..<end])))
                start = end
            }
        }
        // Stable merge key: start time, then stream id (then original order for equal keys).
        return out.enumerated().sorted { a, b in
            if a.element.startTime != b.element.startTime { return a.element.startTime < b.element.startTime }
            if a.element.streamID != b.element.streamID { return a.element.streamID < b.element.streamID }
            return a.offset < b.offset
        }.map(\.element)
    }
}

/// The replay's output files, accumulated record by record, all deterministic (data time only):
/// `picks.jsonl` (picks `{"type":"pick","stream","time","triggerTime","knownTime","snr","grade",
/// "repairedGlitches"}`, rejected triggers `{"type":"rejected","stream","triggerTime","knownTime","reason"}`
/// and S onsets `{"type":"S","station","time","pTime","sMinusPSeconds","energyRatio",
/// "horizontalToVerticalChange","knownTime"}`), `events.jsonl` (``EventUpdate``),
/// `decisions.jsonl` (``Decision``), `warnings.jsonl` (``WarningMessage/canonicalJSON()``),
/// `cap/<id>-<update>.xml` and `summary.txt`.
public struct ReplayOutputs: Sendable {
    public private(set) var picks: [String] = []
    public private(set) var events: [String] = []
    public private(set) var decisions: [String] = []
    public private(set) var warnings: [String] = []
    /// CAP documents: file name (`<id>-<update>.xml`) and XML text.
    public private(set) var cap: [(name: String, xml: String)] = []
    public private(set) var notices: [String] = []
    /// The warning messages in order (for summaries and reports).
    public private(set) var warningMessages: [WarningMessage] = []
    public private(set) var eventUpdates: [EventUpdate] = []
    private var pickCounts: [String: Int] = [:]
    private var rejectionCounts: [String: Int] = [:]

    public init() {}

    private static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    private static func line(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// Adds one record to the outputs.
    /// - Throws: an `EncodingError` if a value cannot be encoded (non-finite numbers).
    public mutating func add(_ record: PipelineRecord) throws {
        switch record {
        case .pick(let p, let knownAt):
            picks.append(try Self.line(PickLine(p, knownAt: knownAt)))
            pickCounts[p.streamID.description, default: 0] += 1
        case .rejection(let r, let knownAt):
            picks.append(try Self.line(PickLine(r, knownAt: knownAt)))
            rejectionCounts[r.streamID.description, default: 0] += 1
        case .event(let u):
            events.append(try Self.line(u))
            eventUpdates.append(u)
        case .decision(let d):
            decisions.append(try Self.line(d))
        case .warning(let m, let xml):
            warnings.append(String(decoding: try m.canonicalJSON(), as: UTF8.self))
            warningMessages.append(m)
            cap.append((name: CAPRenderer.identifier(of: m) + ".xml", xml: xml))
        case .notice(let t, let message):
            notices.append((t.map { $0.iso8601 + " " } ?? "") + message)
        case .sPick(let sp, let knownAt):
            picks.append(try Self.line(SPickLine(sp, knownAt: knownAt)))
        }
    }

    /// One human line per warning, e.g.
    /// `Alert #0 qw-…-NANTA M5.9±0.4 (tauC) 2 stations; Lezhi county seat (Tianchi): I 5.1, S in 7.2 s; …`.
    public static func humanLine(_ m: WarningMessage) -> String {
        var text = "\(m.status.rawValue) \(m.msgType.rawValue) #\(m.updateNumber) \(m.id)"
        text += " M" + fixed(m.magnitude, 1) + "±" + fixed(m.magnitudeUncertainty, 1) + " (\(m.magnitudeType))"
        text += " origin \(m.originTime.iso8601), \(m.numberOfStations) station(s)"
        if !m.targets.isEmpty {
            text += "; " + m.targets.map {
                "\($0.name): I " + fixed($0.predictedIntensity, 1) + ", S in " + fixed($0.countdownSeconds, 1) + " s"
            }.joined(separator: "; ")
        }
        return text
    }

    /// Fixed-point decimal text of `x` with `digits` decimals (locale-independent).
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "\(x)" }
        let scale = pow(10.0, Double(digits))
        let v = (x * scale).rounded()
        let negative = v < 0
        let a = Int64(min(abs(v), 1e17))
        let p = Int64(scale)
        var s = String(a / p)
        if digits > 0 {
            let f = String(a % p)
            s += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return (negative && a != 0 ? "-" : "") + s
    }

    /// The summary (also `summary.txt`): picks and rejections per stream, events, warnings.
    public var summary: String {
        var lines: [String] = []
        let streams = Set(pickCounts.keys).union(rejectionCounts.keys).sorted()
        var table: [[String]] = [["stream", "picks", "rejected"]]
        for s in streams { table.append([s, String(pickCounts[s] ?? 0), String(rejectionCounts[s] ?? 0)]) }
        lines.append(Self.render(table))
        lines.append("")
        var ids: [String] = []
        for u in eventUpdates where !ids.contains(u.id) { ids.append(u.id) }
        var eventTable: [[String]] = [["event", "messages", "last", "magnitude", "stations", "warnings"]]
        for id in ids {
            let us = eventUpdates.filter { $0.id == id }
            guard let last = us.last else { continue }
            let ws = warningMessages.filter { $0.id == id }
            eventTable.append([id, String(us.count), last.messageType.rawValue,
                               last.magnitude.map { Self.fixed($0.magnitude, 1) } ?? "-",
                               String(last.stationCount), String(ws.count)])
        }
        lines.append(ids.isEmpty ? "no events" : Self.render(eventTable))
        lines.append("")
        lines.append("\(picks.count) pick lines, \(events.count) event messages, \(decisions.count) decisions, "
                     + "\(warnings.count) warnings, \(notices.count) notices")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, w) in widths.enumerated() {
                let c = i < cells.count ? cells[i] : ""
                parts.append(i == 0 ? c + String(repeating: " ", count: w - c.count)
                                    : String(repeating: " ", count: w - c.count) + c)
            }
            var t = parts.joined(separator: "  ")
            while t.last == " " { t.removeLast() }
            return t
        }
        var out = [line(header), line(widths.map { String(repeating: "-", count: $0) })]
        out += rows.dropFirst().map(line)
        return out.joined(separator: "\n")
    }

    /// Writes every file into `directory` (created if missing; `cap/` inside it).
    public func write(to directory: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let capDir = directory.appendingPathComponent("cap")
        try fm.createDirectory(at: capDir, withIntermediateDirectories: true)
        func jsonl(_ lines: [String]) -> Data { Data(lines.map { $0 + "\n" }.joined().utf8) }
        try jsonl(picks).write(to: directory.appendingPathComponent("picks.jsonl"))
        try jsonl(events).write(to: directory.appendingPathComponent("events.jsonl"))
        try jsonl(decisions).write(to: directory.appendingPathComponent("decisions.jsonl"))
        try jsonl(warnings).write(to: directory.appendingPathComponent("warnings.jsonl"))
        for c in cap { try Data(c.xml.utf8).write(to: capDir.appendingPathComponent(c.name)) }
        try Data(summary.utf8).write(to: directory.appendingPathComponent("summary.txt"))
    }
}

/// One line of picks.jsonl.
struct PickLine: Encodable {
    var type: String
    var stream: String
    var time: String?
    var triggerTime: String
    var snr: Double?
    var grade: String?
    var repairedGlitches: Int?
    var reason: String?
    /// Data time at which the pick/rejection was known (end of the processing slice).
    var knownTime: String

    init(_ p: GlitchRejectingPicker.Pick, knownAt: Timestamp) {
        knownTime = knownAt.iso8601
        type = "pick"
        stream = p.streamID.description
        time = p.time.iso8601
        triggerTime = p.triggerTime.iso8601
        snr = p.snr.isFinite ? p.snr : nil
        grade = p.grade.rawValue
        repairedGlitches = p.repairedGlitches.count
    }

    init(_ r: GlitchRejectingPicker.RejectedTrigger, knownAt: Timestamp) {
        knownTime = knownAt.iso8601
        type = "rejected"
        stream = r.streamID.description
        triggerTime = r.triggerTime.iso8601
        reason = StationRejection(r).reason
    }
}

/// A `picks.jsonl` line of an S onset (``PipelineRecord/sPick(_:knownAt:)``).
struct SPickLine: Encodable {
    var type = "S"
    var station: String
    var time: String
    /// The P pick the S belongs to.
    var pTime: String
    var sMinusPSeconds: Double
    var energyRatio: Double
    var horizontalToVerticalChange: Double
    var knownTime: String

    init(_ s: StationSPhase, knownAt: Timestamp) {
        station = s.station
        time = s.sTime.iso8601
        pTime = s.pickTime.iso8601
        sMinusPSeconds = s.sMinusPSeconds
        energyRatio = s.energyRatio
        horizontalToVerticalChange = s.horizontalToVerticalChange
        knownTime = knownAt.iso8601
    }
}
