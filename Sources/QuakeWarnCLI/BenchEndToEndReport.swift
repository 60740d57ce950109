import ArgumentParser
import Foundation
import Histogram

/// `quakewarn bench e2e-report --latency FILE --received FILE`: the end-to-end latency table of
/// `Benchmarks/scripts/e2e-latency.sh` (feed → ingest → relay → Mosquitto → subscriber).
///
/// Joins, by (id, updateNumber), the ingest daemon's relay latency log (`relay-latency.jsonl`:
/// `recordArrivalNanos` when the last byte of the record whose processing produced the warning
/// was read from the SeedLink socket, `releasedNanos` when the pipeline issued the warning (before its CAP rendering),
/// `processingStartNanos` when the ingest processor started on that record (after queueing behind
/// earlier records), `queuedNanos` when it was signed and queued for the relay, `writtenNanos` when its bytes were
/// written to the relay socket, `ackNanos` when the relay acknowledged its outbox commit) with
/// the subscriber's receipts (`quakewarn subscribe` lines: `receivedNanos`), all CLOCK_REALTIME
/// on one machine. The in-process relay's direct sink (``DirectRelaySink``) logs instead of
/// `writtenNanos`: `intakeStartNanos` (the relay's input loop starts on the warning),
/// `committedNanos` (outbox commit) or, when the append went into the outbox's record transaction
/// (PUBLISH before COMMIT, ``RelayService/runSubmittedInProcessIfOnLoop()``), `appendedNanos`
/// (the INSERT), and `publishedNanos` (MQTT PUBLISH written to the broker
/// socket, null when the forwarder's queue sent it later). Prints HdrHistogram
/// p50/p99/p99.9/max per segment, and a verdict against design.md's budget (packet bytes in →
/// warning bytes out ≤ 1 ms at p99: arrival → PUBLISH written to the broker socket when the log
/// has `publishedNanos`, else arrival → written to the relay socket; older logs without either:
/// arrival → subscriber): exit 1 when over. When every line also has `recordSentNanos` (the
/// harness joins it from `quakewarn feed --send-log` by `recordSequence`: the feed's clock just
/// before it wrote the packet, a lower bound of its arrival), "packet in" is that stamp:
/// the arrival stamp is taken when the daemon's thread reads the socket, which is later when the
/// thread was busy (a previous packet, the keep-warm, the completion of a read).
struct BenchEndToEndReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "e2e-report",
        abstract: "Join ingest and subscriber logs into end-to-end latency percentiles (HdrHistogram)."
    )

    @Option(help: "The ingest daemon's relay-latency.jsonl (one or more runs concatenated).")
    var latency: String

    @Option(help: "The subscriber's output (quakewarn subscribe JSON lines).")
    var received: String

    @Option(help: "End-to-end budget at p99, microseconds (design.md: 1 ms).")
    var budgetMicroseconds: Double = 1000

    @Flag(help: "Print one JSON object per segment instead of the table.")
    var json = false

    struct Key: Hashable { var id: String; var update: Int }

    static func readLines(_ path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("\(path): cannot read the file")
        }
        var objects: [[String: Any]] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw ValidationError("\(path):\(index + 1): not a JSON object")
            }
            objects.append(object)
        }
        return objects
    }

    static func int64(_ value: Any?) -> Int64? { (value as? NSNumber)?.int64Value }

    /// Positions from this one on share a row of the by-position table.
    static let lastPositionRow = 4

    /// For each warning (in any order), its position (1, 2, …) among the warnings released by
    /// the same packet (same `arrival` stamp), in the order the pipeline released them.
    static func positionsInRecord(_ warnings: [(arrival: Int64, released: Int64)]) -> [Int] {
        var byRecord: [Int64: [Int]] = [:]
        for (index, w) in warnings.enumerated() { byRecord[w.arrival, default: []].append(index) }
        var positions = [Int](repeating: 0, count: warnings.count)
        for indices in byRecord.values {
            let ordered = indices.sorted { (warnings[$0].released, $0) < (warnings[$1].released, $1) }
            for (k, index) in ordered.enumerated() { positions[index] = k + 1 }
        }
        return positions
    }

    func run() throws {
        let sent: [[String: Any]]
        let got: [[String: Any]]
        do {
            sent = try Self.readLines(latency)
            got = try Self.readLines(received)
        } catch let error as ValidationError {
            throw Self.fail(error.message)
        }
        // First receipt per key (a re-sent duplicate after a reconnect is not a new warning).
        var receipt: [Key: Int64] = [:]
        for object in got {
            guard let id = object["id"] as? String, let update = (object["updateNumber"] as? NSNumber)?.intValue,
                  let at = Self.int64(object["receivedNanos"]) else { continue }
            let key = Key(id: id, update: update)
            receipt[key] = min(receipt[key] ?? .max, at)
        }
        func histogram() -> Histogram<UInt64> {
            Histogram<UInt64>(highestTrackableValue: 600_000_000_000, numberOfSignificantValueDigits: .three)
        }
        // Segments: (name, from field, to field); "received" is the subscriber's receipt.
        let segments: [(String, String, String)] = [
            ("packet arrival -> subscriber receipt", "recordArrivalNanos", "received"),
            ("packet arrival -> warning bytes written to relay", "recordArrivalNanos", "writtenNanos"),
            ("  arrival -> processor starts on the record", "recordArrivalNanos", "processingStartNanos"),
            ("  processor start -> warning issued by the pipeline", "processingStartNanos", "releasedNanos"),
            ("  issued -> signed, queued for the relay", "releasedNanos", "queuedNanos"),
            ("  queued -> written to the relay socket", "queuedNanos", "writtenNanos"),
            ("packet arrival -> PUBLISH written to the broker", "recordArrivalNanos", "publishedNanos"),
            ("  queued -> relay loop starts (hand-off)", "queuedNanos", "intakeStartNanos"),
            ("  relay loop start -> outbox committed", "intakeStartNanos", "committedNanos"),
            ("  committed -> PUBLISH written", "committedNanos", "publishedNanos"),
            ("  relay loop start -> outbox append (no commit)", "intakeStartNanos", "appendedNanos"),
            ("  appended -> PUBLISH written", "appendedNanos", "publishedNanos"),
            ("  PUBLISH written -> subscriber (broker)", "publishedNanos", "received"),
            ("packet arrival -> relay ack", "recordArrivalNanos", "ackNanos"),
            ("  written -> relay ack (QWRI/1 + outbox commit)", "writtenNanos", "ackNanos"),
            ("  relay ack -> subscriber (MQTT QoS 1 via broker)", "ackNanos", "received"),
            ("packet in (feed writes it) -> PUBLISH written", "recordSentNanos", "publishedNanos"),
            ("  feed's write -> daemon reads the packet (arrival)", "recordSentNanos", "recordArrivalNanos"),
        ]
        var histograms = segments.map { _ in histogram() }
        var joined = 0, missing = 0, untraced = 0, committedCount = 0, appendedCount = 0, publishedCount = 0
        var seen = Set<Key>()
        var traced: [(object: [String: Any], received: Int64)] = []
        for object in sent {
            guard let id = object["id"] as? String, let update = (object["updateNumber"] as? NSNumber)?.intValue,
                  Self.int64(object["ackNanos"]) != nil else { continue }
            let key = Key(id: id, update: update)
            guard seen.insert(key).inserted else { continue }
            guard let received = receipt[key] else { missing += 1; continue }
            guard Self.int64(object["recordArrivalNanos"]) != nil else { untraced += 1; continue }
            joined += 1
            traced.append((object, received))
            if Self.int64(object["committedNanos"]) != nil { committedCount += 1 }
            if Self.int64(object["appendedNanos"]) != nil { appendedCount += 1 }
            if Self.int64(object["publishedNanos"]) != nil { publishedCount += 1 }
            for (i, (_, from, to)) in segments.enumerated() {
                guard let a = Self.int64(object[from]), let b = to == "received" ? received : Self.int64(object[to]) else { continue }
                _ = histograms[i].record(UInt64(max(0, b - a)))
            }
        }
        guard joined > 0 else {
            throw Self.fail("\(latency), \(received): no warning appears in both logs (\(missing) sent without receipt)")
        }
        let rows = zip(segments.map(\.0), histograms).filter { $0.1.totalCount > 0 }
        // design.md's budget is packet bytes in -> warning bytes out (written to the relay
        // socket); logs without the write stamp fall back to the subscriber receipt.
        // "Packet in" is the feed's write (stamped just before it: a lower bound of the bytes'
        // arrival in the daemon's socket) when every warning has it (`recordSentNanos`, joined
        // from `quakewarn feed --send-log` by the harness): the daemon's own arrival stamp is
        // taken when its thread reads the socket, later when the thread was busy.
        let sentIndex = segments.firstIndex { $0.1 == "recordSentNanos" && $0.2 == "publishedNanos" } ?? 0
        let budgetIndex = histograms[sentIndex].totalCount == joined ? sentIndex
            : (histograms[6].totalCount > 0 ? 6 : (histograms[1].totalCount > 0 ? 1 : 0))
        let budgetRow = histograms[budgetIndex]
        let budgetName = budgetIndex == sentIndex ? "packet in (feed writes it) -> warning bytes out (PUBLISH to the broker)"
            : ["packet in -> warning bytes out (relay socket)", "packet in -> warning bytes out (PUBLISH to the broker)",
               "packet in -> subscriber"][budgetIndex == 6 ? 1 : (budgetIndex == 1 ? 0 : 2)]
        let p99 = Double(budgetRow.valueAtPercentile(99)) / 1000
        let verdict = p99 <= budgetMicroseconds ? "within budget" : "OVER budget"
        // The budget segment again, by position of the warning among those its packet released
        // (the k-th waits for the k−1 before it on the daemon's one thread).
        let (budgetFrom, budgetTo) = (segments[budgetIndex].1, segments[budgetIndex].2)
        let positions = Self.positionsInRecord(traced.map {
            (arrival: Self.int64($0.object["recordArrivalNanos"]) ?? 0, released: Self.int64($0.object["releasedNanos"]) ?? 0)
        })
        var byPosition: [Int: Histogram<UInt64>] = [:]
        for ((object, received), position) in zip(traced, positions) {
            guard let a = Self.int64(object[budgetFrom]),
                  let b = budgetTo == "received" ? received : Self.int64(object[budgetTo]) else { continue }
            let shown = min(position, Self.lastPositionRow)
            var h = byPosition[shown] ?? histogram()
            _ = h.record(UInt64(max(0, b - a)))
            byPosition[shown] = h
        }
        let positionRows = byPosition.keys.sorted().compactMap { k -> (String, Histogram<UInt64>)? in
            guard let h = byPosition[k] else { return nil }
            let ordinal = ["1st", "2nd", "3rd"].indices.contains(k - 1) ? ["1st", "2nd", "3rd"][k - 1] : "\(k)th"
            return ("  \(ordinal)\(k == Self.lastPositionRow ? " or later" : "") warning of its packet (\(h.totalCount))", h)
        }
        if json {
            for (name, h) in rows + positionRows.map({ ("\(segments[budgetIndex].0), \($0.0.trimmingCharacters(in: .whitespaces))", $0.1) }) {
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                print("{\"segment\":\"\(trimmed)\",\"count\":\(h.totalCount),\"p50Microseconds\":\(Double(h.valueAtPercentile(50)) / 1000),"
                      + "\"p99Microseconds\":\(Double(h.valueAtPercentile(99)) / 1000),\"p999Microseconds\":\(Double(h.valueAtPercentile(99.9)) / 1000),"
                      + "\"maxMicroseconds\":\(Double(h.max) / 1000)}")
            }
        } else {
            print("end-to-end latency over \(joined) warnings (\(missing) without receipt, \(untraced) without a traced record)")
            print("segment".padding(toLength: 52, withPad: " ", startingAt: 0) + "      p50 us      p99 us    p99.9 us      max us")
            func printRow(_ name: String, _ h: Histogram<UInt64>) {
                let cells = [h.valueAtPercentile(50), h.valueAtPercentile(99), h.valueAtPercentile(99.9), h.max]
                    .map { String(format: "%12.1f", Double($0) / 1000) }.joined()
                print(name.padding(toLength: 52, withPad: " ", startingAt: 0) + cells)
            }
            for (name, h) in rows { printRow(name, h) }
            if positionRows.count > 1 {
                print("\(segments[budgetIndex].0.trimmingCharacters(in: .whitespaces)), by position among the warnings its packet released:")
                for (name, h) in positionRows { printRow(name, h) }
            }
            if committedCount > 0 || appendedCount > 0 {
                print("in-process relay: PUBLISH written right after the outbox append for \(publishedCount) of \(committedCount + appendedCount) warnings"
                      + " (the rest went through the forwarder's queue)")
            }
            if appendedCount > 0 {
                print("  \(appendedCount) of them PUBLISH before COMMIT: appended to the outbox's record transaction, committed"
                      + " once after the last record of the socket read")
            }
            let e2e = Double(histograms[0].valueAtPercentile(99)) / 1000
            print("end to end (to the subscriber): p99 \(String(format: "%.1f", e2e)) us")
            print("budget: \(budgetName) p99 <= \(Int(budgetMicroseconds)) us: \(verdict) (p99 \(String(format: "%.1f", p99)) us)")
        }
        if missing > 0 || p99 > budgetMicroseconds { throw ExitCode(1) }
    }
}
