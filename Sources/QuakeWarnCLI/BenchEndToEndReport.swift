import ArgumentParser
import Foundation
import Histogram

/// `quakewarn bench e2e-report --latency FILE --received FILE`: the end-to-end latency table of
/// `Benchmarks/scripts/e2e-latency.sh` (feed → ingest → relay → Mosquitto → subscriber).
///
/// Joins, by (id, updateNumber), the ingest daemon's relay latency log (`relay-latency.jsonl`:
/// `recordArrivalNanos` of the record whose processing produced the warning, `queuedNanos` when
/// the warning left the pipeline, `ackNanos` when the relay acknowledged its outbox commit) with
/// the subscriber's receipts (`quakewarn subscribe` lines: `receivedNanos`), all CLOCK_REALTIME
/// on one machine. Prints HdrHistogram p50/p99/p99.9/max per segment, and a verdict against
/// design.md's end-to-end budget (packet in → warning out ≤ 1 ms at p99): exit 1 when over.
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
        var endToEnd = histogram(), pipeline = histogram(), toAck = histogram(), toSubscriber = histogram()
        var joined = 0, missing = 0, untraced = 0
        var seen = Set<Key>()
        for object in sent {
            guard let id = object["id"] as? String, let update = (object["updateNumber"] as? NSNumber)?.intValue,
                  let queued = Self.int64(object["queuedNanos"]), let acked = Self.int64(object["ackNanos"]) else { continue }
            let key = Key(id: id, update: update)
            guard seen.insert(key).inserted else { continue }
            guard let received = receipt[key] else { missing += 1; continue }
            guard let arrival = Self.int64(object["recordArrivalNanos"]) else { untraced += 1; continue }
            joined += 1
            _ = endToEnd.record(UInt64(max(0, received - arrival)))
            _ = pipeline.record(UInt64(max(0, queued - arrival)))
            _ = toAck.record(UInt64(max(0, acked - queued)))
            _ = toSubscriber.record(UInt64(max(0, received - acked)))
        }
        guard joined > 0 else {
            throw Self.fail("\(latency), \(received): no warning appears in both logs (\(missing) sent without receipt)")
        }
        let rows: [(String, Histogram<UInt64>)] = [
            ("packet arrival -> subscriber receipt", endToEnd),
            ("  arrival -> warning signed (ingest pipeline)", pipeline),
            ("  signed -> relay ack (QWRI/1 + outbox commit)", toAck),
            ("  relay ack -> subscriber (MQTT QoS 1 via broker)", toSubscriber),
        ]
        let p99 = Double(endToEnd.valueAtPercentile(99)) / 1000
        let verdict = p99 <= budgetMicroseconds ? "within budget" : "OVER budget"
        if json {
            for (name, h) in rows {
                let trimmed = name.trimmingCharacters(in: .whitespaces)
                print("{\"segment\":\"\(trimmed)\",\"count\":\(h.totalCount),\"p50Microseconds\":\(Double(h.valueAtPercentile(50)) / 1000),"
                      + "\"p99Microseconds\":\(Double(h.valueAtPercentile(99)) / 1000),\"p999Microseconds\":\(Double(h.valueAtPercentile(99.9)) / 1000),"
                      + "\"maxMicroseconds\":\(Double(h.max) / 1000)}")
            }
        } else {
            print("end-to-end latency over \(joined) warnings (\(missing) without receipt, \(untraced) without a traced record)")
            print("segment".padding(toLength: 52, withPad: " ", startingAt: 0) + "      p50 us      p99 us    p99.9 us      max us")
            for (name, h) in rows {
                let cells = [h.valueAtPercentile(50), h.valueAtPercentile(99), h.valueAtPercentile(99.9), h.max]
                    .map { String(format: "%12.1f", Double($0) / 1000) }.joined()
                print(name.padding(toLength: 52, withPad: " ", startingAt: 0) + cells)
            }
            print("budget: packet in -> warning out p99 <= \(Int(budgetMicroseconds)) us: \(verdict) (p99 \(String(format: "%.1f", p99)) us)")
        }
        if missing > 0 || p99 > budgetMicroseconds { throw ExitCode(1) }
    }
}
