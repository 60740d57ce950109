// What the two relay sinks (RelayWarningSink over QWRI/1, DirectRelaySink in process) share:
// their per-warning latency log and the wait for their last acknowledgement at shutdown.

import Foundation
import SeismicCore

/// The relay sinks' latency log: one JSON line per acknowledged warning, wall-clock (CLOCK_REALTIME)
/// nanoseconds, `{"id","updateNumber","recordSequence","recordArrivalNanos","processingStartNanos",
/// "releasedNanos","queuedNanos", <the sink's own stamps>, "ackNanos"}`; `null` for a stamp not
/// taken (`recordSequence`: the SeedLink sequence number of the record, not a time).
enum RelayLatencyLog {
    /// Creates (truncates) the log at `path`; nil without a path.
    /// - Throws: ``RelayWarningSinkError/cannotOpen(_:)``.
    static func open(_ path: String?) throws(RelayWarningSinkError) -> FileHandle? {
        guard let path else { return nil }
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw RelayWarningSinkError.cannotOpen(path)
        }
        return handle
    }

    /// Appends one line; `stamps` are the sink's own fields between `queuedNanos` and `ackNanos`.
    static func write(id: String, updateNumber: Int, trace: WarningTrace, queuedNanos: Int64,
                      stamps: KeyValuePairs<String, Int64?>, ackNanos: Int64, to log: FileHandle) {
        func field(_ v: Int64?) -> String { v.map(String.init) ?? "null" }
        var line = "{\"id\":\(JSONText.quoted(id)),\"updateNumber\":\(updateNumber),"
            + "\"recordSequence\":\(trace.recordSequence.map(String.init) ?? "null"),"
            + "\"recordArrivalNanos\":\(field(trace.recordArrivalNanos)),"
            + "\"processingStartNanos\":\(field(trace.processingStartNanos)),\"releasedNanos\":\(field(trace.releasedNanos)),"
            + "\"queuedNanos\":\(queuedNanos),"
        for (name, value) in stamps { line += "\"\(name)\":\(field(value))," }
        line += "\"ackNanos\":\(ackNanos)}\n"
        log.write(Data(line.utf8))
    }
}

/// Polls `pending` every 2 ms until it is 0 or `timeoutSeconds` have passed (shutdown only);
/// returns what is still pending.
func waitUntilDrained(timeoutSeconds: Double, pending: () -> Int) async throws -> Int {
    let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(timeoutSeconds * 1000)))
    while pending() > 0 && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(2))
    }
    return pending()
}
