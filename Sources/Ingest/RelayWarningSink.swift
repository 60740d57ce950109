// The ingest daemon's way out to the forwarder: every signed warning goes to `quakewarn relay`
// over its authenticated QWRI/1 input (RelayInputClient), in order, with reconnects.

public import Alerting
import Foundation
public import Logging
import Relay
import SeismicCore


/// Wall-clock context of the record being processed, for latency accounting across processes.
public enum IngestTrace {
    /// CLOCK_REALTIME (ns since the epoch) at which the ingest daemon received the decoded record
    /// that is being processed, set by ``IngestService`` around the pipeline call; `nil` outside.
    /// The end-to-end latency harness joins it with the subscriber's receipt time.
    @TaskLocal public static var recordArrivalNanos: Int64?

}

/// Delivers each warning's Ed25519 envelope to the relay (`quakewarn relay`), in order.
///
/// - ``deliver(_:envelope:)`` only queues (it never waits on the network, so a relay outage never
///   stalls the station pipeline); one drain task sends the queue in order and waits for each
///   ack, which the relay gives only after its outbox commit.
/// - On a connection failure the same envelope is re-sent after reconnecting (capped exponential
///   backoff, 50 ms … 5 s): the relay acknowledges a re-sent (id, update) as a duplicate, so
///   delivery is at-least-once without duplicates downstream.
/// - A warning the relay *rejects* (bad signature, unknown key) is logged and dropped: re-sending
///   it cannot succeed. Unsigned warnings are refused here (the relay would reject them).
/// - The queue is bounded (``maximumQueued``); when full the oldest warning is dropped with an
///   error log rather than growing without bound during a long relay outage.
/// - ``flush()`` waits (up to ``flushTimeoutSeconds``) until the queue is empty.
///
/// With `latencyLog`, one JSON line per acknowledged warning records
/// `{"id","updateNumber","recordArrivalNanos","queuedNanos","ackNanos"}` (CLOCK_REALTIME), where
/// `recordArrivalNanos` is ``IngestTrace/recordArrivalNanos`` of the record that produced the warning.
public actor RelayWarningSink: WarningSink {
    public let host: String
    public let port: Int
    private let token: String
    private let logger: Logger
    public let maximumQueued: Int
    public let flushTimeoutSeconds: Double

    private struct Item {
        var envelope: SignedEnvelope
        var id: String
        var updateNumber: Int
        var recordArrivalNanos: Int64?
        var queuedNanos: Int64
    }

    private var queue: [Item] = []
    private var head = 0
    private var client: RelayInputClient?
    private var draining = false
    private var latencyLog: FileHandle?
    public private(set) var delivered = 0
    public private(set) var rejected = 0
    public private(set) var dropped = 0

    public init(host: String, port: Int, token: String, latencyLogPath: String? = nil, maximumQueued: Int = 10_000,
                flushTimeoutSeconds: Double = 10, logger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        self.host = host
        self.port = port
        self.token = token
        self.logger = logger
        self.maximumQueued = max(1, maximumQueued)
        self.flushTimeoutSeconds = flushTimeoutSeconds
        if let latencyLogPath {
            guard FileManager.default.createFile(atPath: latencyLogPath, contents: nil),
                  let handle = FileHandle(forWritingAtPath: latencyLogPath) else {
                throw RelayWarningSinkError.cannotOpen(latencyLogPath)
            }
            latencyLog = handle
        }
    }

    public func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {
        guard let envelope else { throw RelayWarningSinkError.unsigned(id: warning.id, updateNumber: warning.updateNumber) }
        if queue.count - head >= maximumQueued {
            let lost = queue[head]
            head += 1
            dropped += 1
            logger.error("relay queue full: oldest warning dropped",
                         metadata: ["id": "\(lost.id)", "update": "\(lost.updateNumber)", "queued": "\(maximumQueued)"])
        }
        queue.append(Item(envelope: envelope, id: warning.id, updateNumber: warning.updateNumber,
                          recordArrivalNanos: IngestTrace.recordArrivalNanos, queuedNanos: Timestamp.wallClockNow().nanosecondsSinceEpoch))
        if !draining {
            draining = true
            Task { await self.drain() }
        }
    }

    /// Number of warnings not yet acknowledged by the relay.
    public var pending: Int { queue.count - head }

    public func flush() async throws {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int64(flushTimeoutSeconds * 1000)))
        while pending > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        if pending > 0 {
            throw RelayWarningSinkError.notDrained(pending: pending, host: host, port: port)
        }
    }

    public func close() async {
        await client?.close()
        client = nil
        try? latencyLog?.close()
        latencyLog = nil
    }

    private func drain() async {
        var backoffMilliseconds = 50
        while head < queue.count {
            let item = queue[head]
            do {
                let connection: RelayInputClient
                if let client {
                    connection = client
                } else {
                    connection = try await RelayInputClient.connect(host: host, port: port, token: token)
                    client = connection
                    logger.info("connected to the relay", metadata: ["relay": "\(host):\(port)"])
                }
                let ack = try await connection.send(item.envelope)
                let ackNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
                backoffMilliseconds = 50
                delivered += 1
                head += 1
                logger.debug("relay ack", metadata: ["id": "\(ack.id)", "update": "\(ack.update)", "duplicate": "\(ack.duplicate)"])
                writeLatency(item, ackNanos: ackNanos)
            } catch let error as RelayInputClientError {
                if case let .rejected(code, _, detail) = error {
                    rejected += 1
                    head += 1
                    logger.error("relay rejected a warning; not re-sent",
                                 metadata: ["id": "\(item.id)", "update": "\(item.updateNumber)", "code": "\(code)", "detail": "\(detail)"])
                    continue
                }
                await reconnectLater(error, &backoffMilliseconds)
            } catch {
                await reconnectLater(error, &backoffMilliseconds)
            }
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
        }
        draining = false
    }

    private func reconnectLater(_ error: any Error, _ backoffMilliseconds: inout Int) async {
        logger.warning("relay unreachable; will retry", metadata: [
            "relay": "\(host):\(port)", "error": "\(error)", "retryMilliseconds": "\(backoffMilliseconds)", "pending": "\(pending)"])
        await client?.close()
        client = nil
        try? await Task.sleep(for: .milliseconds(backoffMilliseconds))
        backoffMilliseconds = min(backoffMilliseconds * 2, 5_000)
    }

    private func writeLatency(_ item: Item, ackNanos: Int64) {
        guard let latencyLog else { return }
        let arrival = item.recordArrivalNanos.map(String.init) ?? "null"
        let line = "{\"id\":\(JSONText.quoted(item.id)),\"updateNumber\":\(item.updateNumber),\"recordArrivalNanos\":\(arrival),"
            + "\"queuedNanos\":\(item.queuedNanos),\"ackNanos\":\(ackNanos)}\n"
        latencyLog.write(Data(line.utf8))
    }
}

public enum RelayWarningSinkError: Error, CustomStringConvertible, Sendable {
    case unsigned(id: String, updateNumber: Int)
    case notDrained(pending: Int, host: String, port: Int)
    case cannotOpen(String)

    public var description: String {
        switch self {
        case let .unsigned(id, update):
            "warning \(id) #\(update) is unsigned: the relay accepts only signed warnings (set signing.privateKeyFile)"
        case let .notDrained(pending, host, port):
            "\(pending) warning(s) not acknowledged by the relay at \(host):\(port) before shutdown"
        case let .cannotOpen(path):
            "\(path): cannot create the relay latency log"
        }
    }
}
