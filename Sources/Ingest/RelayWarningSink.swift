// The ingest daemon's way out to the forwarder: every signed warning goes to `quakewarn relay`
// over its authenticated QWRI/1 input (RelayInputClient), in order, with reconnects.

public import Alerting
import Foundation
public import Logging
import NIOCore
import NIOPosix
import Relay
import SeismicCore
import Synchronization


/// Wall-clock context of the record being processed, for latency accounting across processes.
public enum IngestTrace {
    /// CLOCK_REALTIME (ns since the epoch) at which the ingest daemon received the decoded record
    /// that is being processed, set by ``IngestService`` around the pipeline call; `nil` outside.
    /// The end-to-end latency harness joins it with the subscriber's receipt time.
    @TaskLocal public static var recordArrivalNanos: Int64?

}

/// Delivers each warning's Ed25519 envelope to the relay (`quakewarn relay`), in order, pipelined.
///
/// - ``start()`` connects at once (the daemon calls it at start-up), so the first warning does
///   not pay the TCP connect and the QWRI/1 handshake; the sink stays connected, reconnecting
///   after a failure with capped exponential backoff (50 ms … 5 s).
/// - ``enqueue(_:envelope:trace:)`` (the daemon's critical path, called
///   synchronously as soon as the pipeline releases a warning) and ``deliver(_:envelope:)`` only
///   queue and wake the sender; they never wait on the network, so a relay outage never stalls
///   the station pipeline.
/// - Up to ``maximumInFlight`` envelopes are on the wire at once; the relay answers each line in
///   order (an ack only after its outbox commit), so the sink matches replies to the queue head.
///   All sending and reply handling runs on one event loop, so lines go out in queue order.
/// - On a connection failure every unacknowledged envelope is re-sent, in order, after the
///   reconnect: the relay acknowledges a re-sent (id, update) as a duplicate, so delivery is
///   at-least-once without duplicates downstream.
/// - A warning the relay *rejects* (bad signature, unknown key) is logged and dropped: re-sending
///   it cannot succeed. Unsigned warnings are refused here (the relay would reject them).
/// - The queue is bounded (``maximumQueued``); when full the oldest warning not yet on the wire
///   is dropped with an error log rather than growing without bound during a long relay outage.
/// - ``flush()`` waits (up to ``flushTimeoutSeconds``) until the queue is empty.
///
/// With `latencyLog`, one JSON line per acknowledged warning records (CLOCK_REALTIME, ns)
/// `{"id","updateNumber","recordSequence","recordArrivalNanos","processingStartNanos","releasedNanos","queuedNanos","writtenNanos","ackNanos"}`:
/// the arrival of the record that produced the warning (its last byte read from the SeedLink
/// socket), the processor starting on that record, the warning's release by the pipeline, its queueing here (signed), the write of its bytes to
/// the relay socket (of the send that was acknowledged) and the relay's ack.
public final class RelayWarningSink: WarningSink, Sendable {
    public let host: String
    public let port: Int
    private let token: String
    private let logger: Logger
    public let maximumQueued: Int
    public let maximumInFlight: Int
    public let flushTimeoutSeconds: Double
    /// Every connection, send and reply of this sink runs on this loop.
    private let loop: any EventLoop
    private let endpoint: @Sendable () async throws -> (host: String, port: Int)

    private struct Item: Sendable {
        enum Content: Sendable {
            case line(Data)
            /// Signed and encoded by ``pump()`` on the event loop.
            case lazy(LazyEnvelope)
        }
        var serial: Int
        var content: Content
        var id: String
        var updateNumber: Int
        var trace: WarningTrace
        var queuedNanos: Int64
        var writtenNanos: Int64?
    }

    private struct State: Sendable {
        var queue: [Item] = []
        var head = 0
        /// `queue[head ..< head + inFlight]` are on the wire of connection `generation`.
        var inFlight = 0
        var nextSerial = 0
        var client: RelayInputClient?
        var generation = 0
        var connecting = false
        var backoffMilliseconds = 50
        var started = false
        var closed = false
        var delivered = 0
        var rejected = 0
        var dropped = 0
        var latencyLog: FileHandle?
        var pending: Int { queue.count - head }
    }

    private let state: Mutex<State>

    /// A sink for the relay at `host:port`.
    public convenience init(host: String, port: Int, token: String, latencyLogPath: String? = nil,
                            maximumQueued: Int = 10_000, maximumInFlight: Int = 64, flushTimeoutSeconds: Double = 10,
                            logger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        try self.init(host: host, port: port, endpoint: { (host, port) }, token: token, latencyLogPath: latencyLogPath,
                      maximumQueued: maximumQueued, maximumInFlight: maximumInFlight,
                      flushTimeoutSeconds: flushTimeoutSeconds, logger: logger)
    }

    /// A sink whose relay address is known only at run time (an in-process relay listening on
    /// port 0): `endpoint` is awaited before each connection attempt.
    public init(host: String, port: Int, endpoint: @escaping @Sendable () async throws -> (host: String, port: Int),
                token: String, latencyLogPath: String? = nil, maximumQueued: Int = 10_000,
                maximumInFlight: Int = 64, flushTimeoutSeconds: Double = 10,
                logger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        self.host = host
        self.port = port
        self.endpoint = endpoint
        self.token = token
        self.logger = logger
        self.maximumQueued = max(1, maximumQueued)
        self.maximumInFlight = max(1, maximumInFlight)
        self.flushTimeoutSeconds = flushTimeoutSeconds
        self.loop = MultiThreadedEventLoopGroup.singleton.next()
        var initial = State()
        initial.latencyLog = try RelayLatencyLog.open(latencyLogPath)
        state = Mutex(initial)
    }

    /// Connects now (and keeps reconnecting) instead of at the first warning.
    public func start() async {
        let go = state.withLock { s -> Bool in
            guard !s.started, !s.closed else { return false }
            s.started = true
            return true
        }
        if go { connectSoon(afterMilliseconds: 0) }
    }

    public var delivered: Int { state.withLock { $0.delivered } }
    public var rejected: Int { state.withLock { $0.rejected } }
    public var dropped: Int { state.withLock { $0.dropped } }
    /// Number of warnings not yet acknowledged by the relay.
    public var pending: Int { state.withLock { $0.pending } }
    /// Connected to the relay (handshake done) right now.
    public var isConnected: Bool { state.withLock { $0.client != nil } }

    public func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {
        try enqueue(warning, envelope: envelope, trace: WarningTrace(recordArrivalNanos: IngestTrace.recordArrivalNanos))
    }

    /// Queues the warning; it is signed on the sink's event loop right before it is sent.
    public func deliverImmediately(_ warning: WarningMessage, envelope: LazyEnvelope?, trace: WarningTrace) throws -> Bool {
        guard let envelope else { throw RelayWarningSinkError.unsigned(id: warning.id, updateNumber: warning.updateNumber) }
        add(warning, content: .lazy(envelope), trace: trace)
        return true
    }

    /// Queues one signed warning and wakes the sender; returns at once.
    /// - Throws: ``RelayWarningSinkError/unsigned(id:updateNumber:)``; the envelope's encoding error.
    public func enqueue(_ warning: WarningMessage, envelope: SignedEnvelope?, trace: WarningTrace) throws {
        guard let envelope else { throw RelayWarningSinkError.unsigned(id: warning.id, updateNumber: warning.updateNumber) }
        add(warning, content: .line(try envelope.encoded()), trace: trace)
    }

    private func add(_ warning: WarningMessage, content: Item.Content, trace: WarningTrace) {
        let queued = Timestamp.wallClockNow().nanosecondsSinceEpoch
        let (lost, connect) = state.withLock { s -> (Item?, Bool) in
            var lost: Item?
            if s.pending >= maximumQueued {
                let index = s.head + s.inFlight
                if index < s.queue.count {
                    lost = s.queue.remove(at: index)
                    s.dropped += 1
                }
            }
            s.queue.append(Item(serial: s.nextSerial, content: content, id: warning.id, updateNumber: warning.updateNumber,
                                trace: trace, queuedNanos: queued))
            s.nextSerial += 1
            let connect = !s.started && !s.closed
            s.started = true
            return (lost, connect)
        }
        if let lost {
            logger.error("relay queue full: oldest warning dropped",
                         metadata: ["id": "\(lost.id)", "update": "\(lost.updateNumber)", "queued": "\(maximumQueued)"])
        }
        if connect { connectSoon(afterMilliseconds: 0) }
        loop.execute { self.pump() }
    }

    public func flush() async throws {
        let left = try await waitUntilDrained(timeoutSeconds: flushTimeoutSeconds) { pending }
        if left > 0 {
            throw RelayWarningSinkError.notDrained(pending: left, host: host, port: port)
        }
        state.withLock { try? $0.latencyLog?.synchronize() }
    }

    /// Stops reconnecting and closes the connection and the latency log.
    public func close() async {
        let client = state.withLock { s -> RelayInputClient? in
            s.closed = true
            s.generation += 1
            s.inFlight = 0
            let c = s.client
            s.client = nil
            try? s.latencyLog?.close()
            s.latencyLog = nil
            return c
        }
        await client?.close()
    }

    // MARK: - Sending (on `loop`)

    /// Puts queued envelopes on the wire, up to ``maximumInFlight``, in queue order.
    private func pump() {
        loop.preconditionInEventLoop()
        enum Step {
            case idle
            case sign(serial: Int, LazyEnvelope)
            case send(RelayInputClient, generation: Int, serial: Int, Data)
        }
        // One envelope at a time, so the first one is on the wire before the next is signed.
        while true {
            let step = state.withLock { s -> Step in
                guard let client = s.client, !s.closed, s.inFlight < maximumInFlight,
                      s.head + s.inFlight < s.queue.count else { return .idle }
                let item = s.queue[s.head + s.inFlight]
                switch item.content {
                case .lazy(let envelope):
                    return .sign(serial: item.serial, envelope)
                case .line(let line):
                    s.inFlight += 1
                    return .send(client, generation: s.generation, serial: item.serial, line)
                }
            }
            switch step {
            case .idle:
                return
            case .sign(let serial, let envelope):
                // Outside the lock (Ed25519 takes ~0.1 ms); an envelope that cannot be signed is
                // dropped with an error: re-trying cannot help.
                let encoded = Result { try envelope.get().encoded() }
                let failed = state.withLock { s -> Item? in
                    guard let i = s.queue[s.head...].firstIndex(where: { $0.serial == serial }) else { return nil }
                    switch encoded {
                    case .success(let line):
                        s.queue[i].content = .line(line)
                        return nil
                    case .failure:
                        s.rejected += 1
                        return s.queue.remove(at: i)
                    }
                }
                if let failed, case .failure(let error) = encoded {
                    logger.error("warning not signed; not sent",
                                 metadata: ["id": "\(failed.id)", "update": "\(failed.updateNumber)", "error": "\(error)"])
                }
            case .send(let client, let generation, let serial, let line):
                let submission = client.submit(line: line)
                submission.written.whenSuccess { [self] in
                    let now = Timestamp.wallClockNow().nanosecondsSinceEpoch
                    state.withLock { s in
                        guard s.generation == generation else { return }
                        for i in s.head..<min(s.queue.count, s.head + s.inFlight) where s.queue[i].serial == serial {
                            s.queue[i].writtenNanos = now
                            break
                        }
                    }
                }
                submission.reply.whenComplete { [self] result in
                    handle(result, serial: serial, generation: generation)
                }
            }
        }
    }

    private func handle(_ result: Result<RelayReply, any Error>, serial: Int, generation: Int) {
        let ackNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
        let outcome = state.withLock { s -> Outcome in
            guard s.generation == generation, !s.closed else { return .ignored }
            if case .failure(let error) = result { return Self.fail(&s, reason: "\(error)") }
            guard s.inFlight > 0, s.queue[s.head].serial == serial else {
                return Self.fail(&s, reason: "a reply that does not match the oldest envelope in flight")
            }
            switch result {
            case .success(.ack(let ack)):
                let item = s.queue[s.head]
                s.head += 1
                s.inFlight -= 1
                s.delivered += 1
                s.backoffMilliseconds = 50
                if let log = s.latencyLog { Self.writeLatency(item, ackNanos: ackNanos, to: log) }
                compact(&s)
                return .acked(item, ack)
            case .success(.reject(let code, _, let detail)):
                let item = s.queue[s.head]
                s.head += 1
                s.inFlight -= 1
                s.rejected += 1
                compact(&s)
                return .rejected(item, code, detail)
            case .success(let other):
                return Self.fail(&s, reason: "\(RelayInputClientError.protocolViolation("\(other)"))")
            case .failure(let error):
                return Self.fail(&s, reason: "\(error)")
            }
        }
        switch outcome {
        case .ignored:
            return
        case .acked(_, let ack):
            logger.debug("relay ack", metadata: ["id": "\(ack.id)", "update": "\(ack.update)", "duplicate": "\(ack.duplicate)"])
            pump()
        case .rejected(let item, let code, let detail):
            logger.error("relay rejected a warning; not re-sent",
                         metadata: ["id": "\(item.id)", "update": "\(item.updateNumber)", "code": "\(code)", "detail": "\(detail)"])
            pump()
        case .failed(let client, let reason):
            let (delay, waiting) = state.withLock { s -> (Int, Int) in
                let d = s.backoffMilliseconds
                s.backoffMilliseconds = min(d * 2, 5_000)
                return (d, s.pending)
            }
            logger.warning("relay connection lost; will reconnect", metadata: [
                "relay": "\(host):\(port)", "error": "\(reason)", "retryMilliseconds": "\(delay)", "pending": "\(waiting)"])
            if let client { Task { await client.close() } }
            connectSoon(afterMilliseconds: delay)
        }

        func compact(_ s: inout State) {
            if s.head > 1024 && s.head * 2 > s.queue.count {
                s.queue.removeFirst(s.head)
                s.head = 0
            }
        }
    }

    private enum Outcome {
        case ignored
        case acked(Item, RelayAck)
        case rejected(Item, String, String)
        case failed(RelayInputClient?, String)
    }

    /// The connection failed: forget it; every unacknowledged envelope is re-sent after the reconnect.
    private static func fail(_ s: inout State, reason: String) -> Outcome {
        let client = s.client
        s.client = nil
        s.generation += 1
        s.inFlight = 0
        return .failed(client, reason)
    }

    /// Connects after `delay` ms (once at a time) and then sends what is queued.
    private func connectSoon(afterMilliseconds delay: Int) {
        let go = state.withLock { s -> Bool in
            guard !s.connecting, !s.closed, s.client == nil else { return false }
            s.connecting = true
            return true
        }
        guard go else { return }
        Task { [self] in
            if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            do {
                let address = try await endpoint()
                let client = try await RelayInputClient.connect(host: address.host, port: address.port, token: token, group: loop)
                let keep = state.withLock { s -> Bool in
                    s.connecting = false
                    guard !s.closed else { return false }
                    s.client = client
                    s.generation += 1
                    s.inFlight = 0
                    return true
                }
                guard keep else {
                    await client.close()
                    return
                }
                logger.info("connected to the relay", metadata: ["relay": "\(host):\(port)"])
                loop.execute { self.pump() }
            } catch {
                let (next, waiting) = state.withLock { s -> (Int, Int) in
                    s.connecting = false
                    let d = s.backoffMilliseconds
                    s.backoffMilliseconds = min(d * 2, 5_000)
                    return (d, s.pending)
                }
                logger.warning("relay unreachable; will retry", metadata: [
                    "relay": "\(host):\(port)", "error": "\(error)", "retryMilliseconds": "\(next)", "pending": "\(waiting)"])
                connectSoon(afterMilliseconds: next)
            }
        }
    }

    private static func writeLatency(_ item: Item, ackNanos: Int64, to log: FileHandle) {
        RelayLatencyLog.write(id: item.id, updateNumber: item.updateNumber, trace: item.trace, queuedNanos: item.queuedNanos,
                              stamps: ["writtenNanos": item.writtenNanos], ackNanos: ackNanos, to: log)
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
