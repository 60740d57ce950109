// The processor's work that no warning waits for (sink completion = the in-process relay's COMMIT,
// counters, logs, output files) runs after the other records of the same socket read
// (Processor.completeRecords), and changes no output.
import Alerting
import Foundation
import Logging
import MiniSEED
import NIOCore
import NIOPosix
import Pipeline
import SeedLink
import SeismicCore
import Synchronization
import Testing
@testable import Ingest

@Suite("Processor: what a record owes runs after the records of its read")
struct ReadCompletionTests {
    /// The scenario's records, in the order a SeedLink server sends them.
    static func records(_ set: String) throws -> [MiniSEEDRecord] {
        let paths = ["SC.GAOSI.00", "SC.NANTA.00"].map { Scenario.directory.appendingPathComponent("\(set)/\($0).mseed").path }
        let feed = SeedLinkFeed.sorted(try SeedLinkFeed.load(paths: paths).records)
        return try feed.map { r in
            var decoder = MiniSEEDRecordDecoder()
            decoder.append(r.bytes)
            return try #require(try decoder.next())
        }
    }

    struct Run {
        var log: [String]
        var files: [String: String]
    }

    /// Feeds `records` to a processor on a loop of its own, `perRead` records per loop task (as
    /// one socket read delivers them), then finishes it.
    static func run(_ records: [MiniSEEDRecord], perRead: Int) async throws -> Run {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-read-completion-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let sink = EventLogSink()
        let pipeline = ReplayPipeline(.init(quakeWarn: try Scenario.configuration(), status: .exercise, stallTimeoutSeconds: 10))
        let processor = Processor(loop: loop, pipeline: pipeline, output: try JSONLDirectorySink(directory: dir.path),
                                  sinks: [sink], sign: nil, metrics: IngestMetrics(), logger: Logger(label: "test"),
                                  timeJumpSeconds: 600, statsFile: nil)
        processor.recordObservers.add { n in sink.append("decided \(n)") }
        var start = 0
        while start < records.count {
            let read = Array(records[start..<min(records.count, start + perRead)])
            let first = start
            try await loop.submit {
                processor.assumeIsolated { p in
                    for (k, r) in read.enumerated() { p.process(r, sequence: first + k, clock: nil, arrivalNanos: 0) }
                }
            }.get()
            start += perRead
        }
        await processor.finish()
        var files: [String: String] = [:]
        for name in ["picks.jsonl", "events.jsonl", "decisions.jsonl", "warnings.jsonl"] {
            files[name] = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
        }
        try await group.shutdownGracefully()
        return Run(log: sink.entries, files: files)
    }

    @Test("one read of every record: each warning leaves inside its record, the sink's completion comes once, after the last record; outputs equal those of one record per read")
    func completionAfterTheRead() async throws {
        let records = try Self.records("nearby-m4.5")
        try #require(records.count > 20)
        let single = try await Self.run(records, perRead: 1)
        let whole = try await Self.run(records, perRead: records.count)

        let warnings = single.log.filter { $0.hasPrefix("warning") }
        #expect(!warnings.isEmpty)
        #expect(whole.log.filter { $0.hasPrefix("warning") } == warnings)
        #expect(whole.files == single.files)
        #expect(!(single.files["warnings.jsonl"] ?? "").isEmpty)

        // One record per read: the completion follows each record that released warnings,
        // before the next record (the last entry is finish()'s own completion).
        #expect(single.log.last == "completed" && whole.log.last == "completed")
        var released = 0
        for (i, entry) in single.log.dropLast().enumerated() where entry == "completed" {
            released += 1
            #expect(i > 0 && single.log[i - 1].hasPrefix("decided"))
            #expect(single.log[..<i].last { !$0.hasPrefix("decided") }?.hasPrefix("warning") == true)
        }
        #expect(released >= 2)
        // One read: every record decided, then the one completion (then finish()'s own).
        let lastDecided = try #require(whole.log.lastIndex { $0.hasPrefix("decided") })
        #expect(whole.log[lastDecided] == "decided \(records.count)")
        #expect(Array(whole.log[(lastDecided + 1)...]) == ["completed", "completed"])
    }
}

/// Records the sink calls and the processor's record decisions, in order.
private final class EventLogSink: WarningSink, Sendable {
    private let log = Mutex<[String]>([])
    var entries: [String] { log.withLock { $0 } }
    func append(_ s: String) { log.withLock { $0.append(s) } }
    func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {}
    func deliverImmediately(_ warning: WarningMessage, envelope: LazyEnvelope?, trace: WarningTrace) throws -> Bool {
        append("warning \(warning.id)#\(warning.updateNumber)")
        return true
    }
    func recordProcessed() { append("completed") }
}
