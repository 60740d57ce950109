// The in-process relay's intake without a socket: each signed warning goes straight to
// RelayService.submitInProcess (checks, outbox commit, MQTT PUBLISH on the relay's input loop).

public import Alerting
public import Foundation
public import Logging
public import Relay
import SeismicCore
import Synchronization

/// Delivers each signed warning to an in-process ``RelayService`` through
/// ``RelayService/submitInProcess(_:completion:)``: no loopback TCP, no QWRI/1 framing, no
/// sink event loop, no parsing. The ingest processor encodes the envelope and hands it, with the
/// warning value, to the relay's input event loop (one hop), which checks it, commits it to the
/// outbox and writes the MQTT PUBLISH to the broker socket on the same thread.
///
/// Guarantees (as ``RelayWarningSink``):
/// - **Trust**: the daemon's own signed warnings are not re-verified (``InProcessSignedWarning``
///   explains why), but one signed with a key the relay does not trust is rejected
///   (`unknown-key`), as is an unsigned one (by this sink). Envelope lines given to
///   ``deliver(line:id:updateNumber:trace:)`` are verified exactly as socket input. Rejected
///   warnings are logged, counted in ``rejected`` and not re-tried.
/// - **Ack after the outbox append**: a warning counts as ``delivered`` when the relay
///   acknowledged its outbox append. On the daemon's processing thread (the usual case) the
///   append goes into the outbox's record transaction, its PUBLISH is written at once, and the
///   record's warnings are committed together when the daemon reports the record processed
///   (``recordProcessed()``): PUBLISH before COMMIT, see
///   ``RelayService/runSubmittedInProcessIfOnLoop()``. Elsewhere the ack follows the commit. From
///   the commit on, the relay's outbox makes it at-least-once to the broker.
/// - **Order**: submissions are queued on the relay's loop in call order (under this sink's
///   lock), and warnings that arrive before the relay runs wait in a backlog that is submitted,
///   in order, before any later one.
/// - **Never blocks**: ``deliverImmediately(_:envelope:trace:)`` encodes (the envelope is signed
///   already by the daemon) and queues; the checks and the commit run on the relay's loop.
/// - ``flush()`` waits (up to ``flushTimeoutSeconds``) until every warning was answered.
///
/// With `latencyLogPath`, one JSON line per acknowledged warning (CLOCK_REALTIME, ns):
/// `{"id","updateNumber","recordSequence","recordArrivalNanos","processingStartNanos","releasedNanos","queuedNanos",
/// "intakeStartNanos","committedNanos","publishedNanos","ackNanos"}` — the fields of
/// ``RelayWarningSink``'s log up to `queuedNanos` (signed, encoded and handed to the relay), then
/// the relay's loop starting on it, its outbox commit (`appendedNanos` instead when the commit
/// comes after the record: PUBLISH before COMMIT), the PUBLISH written to the broker socket
/// (null when the forwarder's queue sent it later) and the ack. The lines are written after each
/// record (``recordProcessed()``), at ``flush()`` and at ``close()``, not between the warnings.
public final class DirectRelaySink: WarningSink, Sendable {
    public let service: RelayService
    public let flushTimeoutSeconds: Double
    private let logger: Logger

    private struct Item: Sendable {
        enum Input: Sendable {
            /// This daemon's own signed warning (``RelayService/submitInProcess(_:completion:)``).
            case signed(InProcessSignedWarning)
            /// An encoded envelope line, verified as socket input (tests: forged input).
            case line(Data)
        }
        var id: String
        var updateNumber: Int
        var input: Input
        var trace: WarningTrace
        var queuedNanos: Int64
    }

    private struct State: Sendable {
        /// The service takes submissions (``RelayService/waitUntilListening()`` returned).
        var ready = false
        var starting = false
        var backlog: [Item] = []
        /// Submitted, not yet answered.
        var inFlight = 0
        var delivered = 0
        var duplicates = 0
        var rejected = 0
        var latencyLog: FileHandle?
        /// Acknowledged warnings whose latency line is not written yet: the lines are formatted
        /// and written after the record (``recordProcessed()``), not between its warnings.
        var latencyPending: [(item: Item, result: RelayInProcessResult, ackNanos: Int64)] = []
    }

    private let state: Mutex<State>

    /// - Parameters:
    ///   - service: the in-process relay (run it in the same `ServiceGroup`, before the daemon).
    ///   - latencyLogPath: the latency log (see the type docs); created (truncated).
    /// - Throws: ``RelayWarningSinkError/cannotOpen(_:)``.
    public init(service: RelayService, latencyLogPath: String? = nil, flushTimeoutSeconds: Double = 10,
                logger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        self.service = service
        self.flushTimeoutSeconds = flushTimeoutSeconds
        self.logger = logger
        var initial = State()
        initial.latencyLog = try RelayLatencyLog.open(latencyLogPath)
        initial.latencyPending.reserveCapacity(16)
        state = Mutex(initial)
    }

    public var delivered: Int { state.withLock { $0.delivered } }
    /// Acknowledged as already in the outbox (a re-submission).
    public var duplicates: Int { state.withLock { $0.duplicates } }
    public var rejected: Int { state.withLock { $0.rejected } }
    /// Warnings not yet answered by the relay (backlog included).
    public var pending: Int { state.withLock { $0.inFlight + $0.backlog.count } }

    /// Waits (in a task) for the relay to run, then submits the backlog.
    public func start() async {
        let go = state.withLock { s -> Bool in
            guard !s.ready, !s.starting else { return false }
            s.starting = true
            return true
        }
        guard go else { return }
        Task { [self] in
            do {
                _ = try await service.waitUntilListening()
            } catch {
                logger.error("in-process relay failed to start; warnings stay queued", metadata: ["error": "\(error)"])
                return
            }
            let unsent = state.withLock { s -> [Item] in
                // In order, under the lock: nothing submitted later can overtake the backlog.
                var left: [Item] = []
                for (i, item) in s.backlog.enumerated() where !submit(item, &s) {
                    left = Array(s.backlog[i...])
                    break
                }
                s.backlog = left
                s.ready = left.isEmpty
                return left
            }
            if !unsent.isEmpty {
                logger.error("in-process relay stopped before the backlog was submitted", metadata: ["pending": "\(unsent.count)"])
            }
        }
    }

    public func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {
        guard let envelope else { throw RelayWarningSinkError.unsigned(id: warning.id, updateNumber: warning.updateNumber) }
        add(warning, input: .signed(try InProcessSignedWarning(message: warning, envelope: envelope)),
            trace: WarningTrace(recordArrivalNanos: IngestTrace.recordArrivalNanos))
    }

    /// Encodes the (already signed) envelope and hands it, with the warning, to the relay's input loop.
    /// - Throws: ``RelayWarningSinkError/unsigned(id:updateNumber:)``; the signing or encoding error.
    public func deliverImmediately(_ warning: WarningMessage, envelope: LazyEnvelope?, trace: WarningTrace) throws -> Bool {
        guard let envelope else { throw RelayWarningSinkError.unsigned(id: warning.id, updateNumber: warning.updateNumber) }
        add(warning, input: .signed(try InProcessSignedWarning(message: warning, envelope: envelope.get())), trace: trace)
        return true
    }

    /// Submits an already encoded envelope line (tests: forged input).
    public func deliver(line: Data, id: String, updateNumber: Int, trace: WarningTrace = WarningTrace()) {
        addLine(Item(id: id, updateNumber: updateNumber, input: .line(line), trace: trace,
                     queuedNanos: Timestamp.wallClockNow().nanosecondsSinceEpoch))
    }

    private func add(_ warning: WarningMessage, input: Item.Input, trace: WarningTrace) {
        addLine(Item(id: warning.id, updateNumber: warning.updateNumber, input: input, trace: trace,
                     queuedNanos: Timestamp.wallClockNow().nanosecondsSinceEpoch))
    }

    private func addLine(_ item: Item) {
        let startNeeded = state.withLock { s -> Bool in
            if s.ready, s.backlog.isEmpty, submit(item, &s) { return false }
            s.ready = false
            s.backlog.append(item)
            return !s.starting
        }
        if startNeeded { Task { await start() } }
        // On the relay's loop (a shared processing loop): commit and publish now, not after the
        // rest of the record (outside the lock: the completion takes it).
        service.runSubmittedInProcessIfOnLoop()
    }

    /// Under the state lock (keeps submission order). False if the service does not run.
    private func submit(_ item: Item, _ s: inout State) -> Bool {
        let completion: @Sendable (RelayInProcessResult) -> Void = { [self] result in handle(item, result) }
        let taken = switch item.input {
        case .signed(let warning): service.submitInProcess(warning, completion: completion)
        case .line(let line): service.submitInProcess(line: line, completion: completion)
        }
        if taken { s.inFlight += 1 }
        return taken
    }

    private func handle(_ item: Item, _ result: RelayInProcessResult) {
        let ackNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
        let rejection = state.withLock { s -> (String, String)? in
            s.inFlight -= 1
            switch result.reply {
            case .ack(let ack):
                s.delivered += 1
                if ack.duplicate { s.duplicates += 1 }
                if s.latencyLog != nil { s.latencyPending.append((item, result, ackNanos)) }
                return nil
            case .reject(let code, _, let detail):
                s.rejected += 1
                return (code, detail)
            case .welcome, .error:
                s.rejected += 1
                return ("protocol", "\(result.reply)")
            }
        }
        if let (code, detail) = rejection {
            logger.error("relay rejected a warning; not re-sent",
                         metadata: ["id": "\(item.id)", "update": "\(item.updateNumber)", "code": "\(code)", "detail": "\(detail)"])
        }
    }

    /// The record is processed: commits the warnings it released (appended and published on
    /// this thread) in one transaction (``RelayService/commitInProcessRecord()``).
    public func recordProcessed() {
        service.commitInProcessRecord()
        writePendingLatency()
    }

    /// The relay's part of a warning's path, without effect (``RelayService/keepWarmInProcess()``).
    public func keepWarm() {
        service.keepWarmInProcess()
    }

    /// Writes the latency lines of the warnings acknowledged so far. Called after each record and
    /// at flush/close: formatting and writing a line per warning (a write(2) each) inside the
    /// acknowledgement cost ≈ 13 % of the time between two warnings of one record in the
    /// end-to-end traces (perf with CLOCK_REALTIME stamps, samples between a warning's PUBLISH and
    /// the next one's issue): the benchmark's own log delayed the warnings it measured.
    private func writePendingLatency() {
        state.withLock { s in
            guard let log = s.latencyLog, !s.latencyPending.isEmpty else { return }
            for entry in s.latencyPending {
                Self.writeLatency(entry.item, entry.result, ackNanos: entry.ackNanos, to: log)
            }
            s.latencyPending.removeAll(keepingCapacity: true)
        }
    }

    public func flush() async throws {
        let left = try await waitUntilDrained(timeoutSeconds: flushTimeoutSeconds) { pending }
        if left > 0 { throw DirectRelaySinkError.notDrained(pending: left) }
        writePendingLatency()
        state.withLock { try? $0.latencyLog?.synchronize() }
    }

    /// Closes the latency log.
    public func close() {
        writePendingLatency()
        state.withLock { s in
            try? s.latencyLog?.close()
            s.latencyLog = nil
        }
    }

    private static func writeLatency(_ item: Item, _ r: RelayInProcessResult, ackNanos: Int64, to log: FileHandle) {
        RelayLatencyLog.write(id: item.id, updateNumber: item.updateNumber, trace: item.trace, queuedNanos: item.queuedNanos,
                              stamps: ["intakeStartNanos": r.startedNanos,
                                       r.commitDeferred ? "appendedNanos" : "committedNanos": r.committedNanos,
                                       "publishedNanos": r.publishedNanos],
                              ackNanos: ackNanos, to: log)
    }
}

public enum DirectRelaySinkError: Error, CustomStringConvertible, Sendable {
    case notDrained(pending: Int)

    public var description: String {
        switch self {
        case let .notDrained(pending):
            "\(pending) warning(s) not acknowledged by the in-process relay before shutdown"
        }
    }
}
