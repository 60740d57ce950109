import Alerting
public import Foundation
import Prometheus
public import Logging
public import NIOCore
import NIOPosix
import SeismicCore
import Synchronization

/// Receives one fan-out text for each newly accepted warning or CAP envelope (the signed
/// envelope's JSON). The relay calls it on its input thread right after the outbox commit:
/// implementations must not block (hand the text to their own event loops).
public protocol WarningBroadcaster: Sendable {
    func broadcast(text: String)
}

/// One complete input line for ``RelayIntake/process(lines:peer:)``.
public struct RelayInputLine: Sendable {
    public var line: Data
    /// Counted from 1 on the connection, the hello included.
    public var lineNumber: Int
    /// When the input handler got it.
    public var received: ContinuousClock.Instant

    public init(line: Data, lineNumber: Int, received: ContinuousClock.Instant) {
        self.line = line
        self.lineNumber = lineNumber
        self.received = received
    }
}

/// The input pipeline shared by all connections: verify → outbox append → notify.
///
/// ``process(line:lineNumber:)`` is synchronous and runs on the input server's dedicated event
/// loop, so replies leave in the order the lines arrived and every reply follows its commit.
public final class RelayIntake: Sendable {
    let verifier: RelayVerifier
    let outbox: RelayOutbox
    let metrics: RelayMetrics
    let logger: Logger
    /// Called after the commit of every new (not duplicate) entry; returns whether the MQTT
    /// PUBLISH already left (for ``RelayStageTimes/publishedImmediately``).
    let onAccepted: @Sendable (OutboxEntry) -> Bool
    let stageObserver: (any RelayStageObserver)?

    public init(verifier: RelayVerifier, outbox: RelayOutbox, metrics: RelayMetrics,
                logger: Logger = Logger(label: "quakewarn.relay", factory: { _ in SwiftLogNoOpLogHandler() }),
                onAccepted: @escaping @Sendable (OutboxEntry) -> Void) {
        self.verifier = verifier
        self.outbox = outbox
        self.metrics = metrics
        self.logger = logger
        self.onAccepted = { entry in
            onAccepted(entry)
            return false
        }
        self.stageObserver = nil
    }

    init(verifier: RelayVerifier, outbox: RelayOutbox, metrics: RelayMetrics, logger: Logger,
         stageObserver: (any RelayStageObserver)?, onAccepted: @escaping @Sendable (OutboxEntry) -> Bool) {
        self.verifier = verifier
        self.outbox = outbox
        self.metrics = metrics
        self.logger = logger
        self.onAccepted = onAccepted
        self.stageObserver = stageObserver
    }

    /// Handles one input line; returns the reply line (JSON, without newline).
    /// - Parameter lineReceived: when the line was read (for ``RelayStageObserver``); now if nil.
    public func process(line: Data, lineNumber: Int, peer: String = "", lineReceived: ContinuousClock.Instant? = nil) -> String {
        process(lines: [RelayInputLine(line: line, lineNumber: lineNumber, received: lineReceived ?? ContinuousClock.now)],
                peer: peer)[0]
    }

    /// Handles the lines one read delivered (group commit): verifies each, commits all accepted
    /// ones in one outbox transaction, then hands each new entry on (MQTT, broadcaster) and
    /// returns one reply per line, in order. The replies of the whole batch follow its commit.
    public func process(lines: [RelayInputLine], peer: String = "") -> [String] {
        process(items: lines.map { Item(input: .line($0.line), lineNumber: $0.lineNumber, received: $0.received) }, peer: peer)
            .map(\.text)
    }

    /// One input for ``process(items:peer:)``: a line to verify, or a warning signed in this process.
    struct Item: Sendable {
        enum Input: Sendable {
            case line(Data)
            case signed(InProcessSignedWarning)
        }
        var input: Input
        var lineNumber: Int
        var received: ContinuousClock.Instant
    }

    /// ``process(lines:peer:)`` for lines and in-process warnings: lines are verified
    /// (``RelayVerifier/verify(line:)``); in-process warnings only checked
    /// (``RelayVerifier/accept(_:)``: the key id must be configured). One transaction for all.
    /// - Parameter recordTransaction: append into the outbox's open record transaction instead
    ///   (``RelayOutbox/appendInRecordTransaction(_:)``): each new entry is handed on (PUBLISH)
    ///   before its commit, which the caller makes (``RelayOutbox/commitRecord()``), and the
    ///   replies follow the append, not a commit.
    func process(items: [Item], peer: String = "", recordTransaction: Bool = false) -> [RelayReply] {
        guard !items.isEmpty else { return [] }
        let receivedAt = Timestamp.wallClockNow()
        var replies = [RelayReply](repeating: .error("unanswered"), count: items.count)
        var pending: [(index: Int, input: VerifiedInput, verified: ContinuousClock.Instant)] = []
        for (index, item) in items.enumerated() {
            let result = switch item.input {
            case .line(let line): verifier.verify(line: line)
            case .signed(let warning): verifier.accept(warning)
            }
            switch result {
            case .success(let value): pending.append((index, value, ContinuousClock.now))
            case .failure(let rejection): replies[index] = reject(rejection, lineNumber: item.lineNumber, peer: peer)
            }
        }
        guard !pending.isEmpty else { return replies }
        let requests = pending.map { item in
            OutboxAppendRequest(kind: item.input.kind, eventId: item.input.eventId, updateNumber: item.input.updateNumber,
                                status: item.input.status, level: item.input.level, envelope: item.input.envelopeBytes,
                                receivedAt: receivedAt)
        }
        let started = ContinuousClock.now
        let outcomes: [Result<OutboxAppendResult, OutboxError>]
        do {
            outcomes = try recordTransaction ? outbox.appendInRecordTransaction(requests) : outbox.appendBatch(requests)
        } catch {
            logger.error("outbox append failed", metadata: ["error": "\(error)", "lines": "\(pending.count)"])
            for item in pending {
                replies[item.index] = reject(RelayRejection(RelayRejection.outboxFailure, error.description),
                                             lineNumber: items[item.index].lineNumber, peer: peer)
            }
            return replies
        }
        let committed = ContinuousClock.now
        // The metrics are updated after the entries were handed on (MQTT PUBLISH written): a
        // histogram record and counter increments cost ≈ 1–3 µs on a cold cache, and the
        // warning's PUBLISH should not wait for them.
        defer { metrics.appendLatency.record(committed - started) }
        for (item, outcome) in zip(pending, outcomes) {
            let lineNumber = items[item.index].lineNumber
            let result: OutboxAppendResult
            switch outcome {
            case .success(let value):
                result = value
            case .failure(let error):
                replies[item.index] = reject(RelayRejection(RelayRejection.conflictingDuplicate, error.description),
                                             lineNumber: lineNumber, peer: peer)
                continue
            }
            let duplicate: Bool
            switch result {
            case .appended(let entry):
                duplicate = false
                let published = onAccepted(entry)
                metrics.accepted.increment()
                if let stageObserver {
                    stageObserver.relayStages(RelayStageTimes(
                        eventId: entry.eventId, updateNumber: entry.updateNumber, kind: entry.kind,
                        lineReceived: items[item.index].received, verified: item.verified, committed: committed,
                        notified: ContinuousClock.now, publishedImmediately: published))
                }
                logger.info("accepted", metadata: [
                    "id": "\(entry.eventId)", "update": "\(entry.updateNumber)", "kind": "\(entry.kind.rawValue)",
                    "status": "\(entry.status.rawValue)", "level": "\(entry.level.rawValue)", "sequence": "\(entry.sequence)",
                ])
            case .duplicate(let entry):
                duplicate = true
                metrics.duplicates.increment()
                logger.info("duplicate", metadata: ["id": "\(entry.eventId)", "update": "\(entry.updateNumber)",
                                                    "kind": "\(entry.kind.rawValue)", "sequence": "\(entry.sequence)"])
            }
            let verified = item.input
            replies[item.index] = .ack(RelayAck(id: verified.eventId, update: verified.updateNumber, duplicate: duplicate,
                                                kind: verified.kind))
        }
        return replies
    }

    /// The reply for an oversized line (discarded by the framer).
    public func oversized(lineNumber: Int, limit: Int, peer: String = "") -> String {
        reject(RelayRejection(RelayRejection.oversized, "line longer than \(limit) bytes (input.maxMessageBytes)"),
               lineNumber: lineNumber, peer: peer).text
    }

    private func reject(_ rejection: RelayRejection, lineNumber: Int, peer: String) -> RelayReply {
        metrics.rejected(rejection.code)
        logger.warning("rejected", metadata: ["reason": "\(rejection.code)", "detail": "\(rejection.detail)",
                                              "line": "\(lineNumber)", "peer": "\(peer)"])
        return .reject(code: rejection.code, line: lineNumber, detail: rejection.detail)
    }
}

/// The relay's authenticated input: TCP, protocol `QWRI/1`, newline-delimited JSON.
///
/// 1. The client's first line is `{"hello":"QWRI/1","token":"<secret>"}`. The server answers
///    `{"welcome":"QWRI/1"}`, or `{"error":"unauthorized"}` and closes the connection (also for
///    any other first line, a wrong protocol or a wrong token; logged and counted).
/// 2. Every further line is one signed envelope (``SignedEnvelope/encoded()`` format). The server
///    answers each line, in order, with exactly one line:
///    `{"ack":"<id>","update":N,"duplicate":false|true}` (plus `"type":"cap"` for CAP) after
///    the outbox commit, or `{"reject":"<code>","line":K,"detail":"…"}` (``RelayRejection``
///    codes). Lines are counted from 1 on each connection, the hello included.
/// 3. A line longer than `maxMessageBytes` is discarded up to its newline and rejected with
///    `oversized`; the connection stays usable. An unterminated last line is ignored.
///
/// All connections are served by one event loop thread owned by the caller's group, which also
/// runs the (blocking) outbox commits: replies are ordered, and commits are serialised anyway.
/// The lines of one socket read are verified one by one and committed in one transaction
/// (group commit) when the read completes; their replies follow that commit.
public final class RelayInputServer: Sendable {
    /// The bound port (useful with port 0).
    public let port: Int
    public let host: String
    private let channel: any Channel
    private let connections: ConnectionRegistry

    private init(channel: any Channel, host: String, port: Int, connections: ConnectionRegistry) {
        self.channel = channel
        self.host = host
        self.port = port
        self.connections = connections
    }

    /// Binds and starts serving.
    /// - Parameter group: should have exactly one event loop (commits block it; see the type docs).
    public static func start(host: String, port: Int, token: String, maxMessageBytes: Int, intake: RelayIntake,
                             group: any EventLoopGroup) async throws -> RelayInputServer {
        let connections = ConnectionRegistry()
        let logger = intake.logger
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    connections.add(channel)
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLineBytes: maxMessageBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        RelayInputHandler(token: token, maxMessageBytes: maxMessageBytes, intake: intake,
                                          connections: connections))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw RelayServiceError.bind(what: "input", host: host, port: port, reason: "\(error)")
        }
        let bound = channel.localAddress?.port ?? port
        logger.info("input listening", metadata: ["host": "\(host)", "port": "\(bound)"])
        return RelayInputServer(channel: channel, host: host, port: bound, connections: connections)
    }

    /// Stops accepting and closes every connection (lines already read have been answered:
    /// processing is synchronous on the connection's loop, and the close is queued behind it).
    public func close() async {
        try? await channel.close()
        for connection in connections.all() { try? await connection.close() }
    }
}

/// Open input connections, for closing them at shutdown.
final class ConnectionRegistry: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])

    func add(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    func all() -> [any Channel] { channels.withLock { Array($0.values) } }
}

/// Per-connection protocol state; confined to its channel's event loop.
final class RelayInputHandler: ChannelInboundHandler {
    typealias InboundIn = LineFrame
    typealias OutboundOut = ByteBuffer

    private let token: String
    private let maxMessageBytes: Int
    private let intake: RelayIntake
    private var authenticated = false
    private var lineNumber = 0
    private var peer = ""
    private var pendingFlush = false
    /// Lines of the current read, committed together at `channelReadComplete` (group commit).
    private var batch: [RelayInputLine] = []

    init(token: String, maxMessageBytes: Int, intake: RelayIntake, connections: ConnectionRegistry) {
        self.token = token
        self.maxMessageBytes = maxMessageBytes
        self.intake = intake
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.remoteAddress.map { "\($0)" } ?? ""
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let lineReceived = ContinuousClock.now
        lineNumber += 1
        let frame = unwrapInboundIn(data)
        guard authenticated else {
            if case .line(let line) = frame, Self.isValidHello(line, token: token) {
                authenticated = true
                reply("{\"welcome\":\"QWRI/1\"}", context: context)
            } else {
                intake.metrics.unauthorized.increment()
                intake.logger.warning("unauthorized input connection", metadata: ["peer": "\(peer)"])
                var buffer = context.channel.allocator.buffer(capacity: 32)
                buffer.writeString("{\"error\":\"unauthorized\"}\n")
                context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
                context.close(promise: nil)
            }
            return
        }
        switch frame {
        case .line(let line):
            batch.append(RelayInputLine(line: Data(line.readableBytesView), lineNumber: lineNumber, received: lineReceived))
        case .oversized:
            processBatch(context: context)
            reply(intake.oversized(lineNumber: lineNumber, limit: maxMessageBytes, peer: peer), context: context)
        }
    }

    /// Verifies and commits the lines read so far (one transaction), then queues their replies.
    private func processBatch(context: ChannelHandlerContext) {
        guard !batch.isEmpty else { return }
        let replies = intake.process(lines: batch, peer: peer)
        batch.removeAll(keepingCapacity: true)
        for text in replies { reply(text, context: context) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Lines read but not yet processed (the peer closed within the read): commit them; the
        // replies cannot be delivered, and a re-send is acknowledged as a duplicate.
        if !batch.isEmpty {
            _ = intake.process(lines: batch, peer: peer)
            batch.removeAll()
        }
        context.fireChannelInactive()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        processBatch(context: context)
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        intake.logger.warning("input connection error", metadata: ["peer": "\(peer)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func reply(_ text: String, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count + 1)
        buffer.writeString(text)
        buffer.writeInteger(UInt8(ascii: "\n"))
        context.write(wrapOutboundOut(buffer), promise: nil)
        pendingFlush = true
    }

    private static func isValidHello(_ line: ByteBuffer, token: String) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.readableBytesView)) as? [String: Any],
              object["hello"] as? String == "QWRI/1", let given = object["token"] as? String else { return false }
        return secretsEqual(given, token)
    }
}

@available(*, unavailable)
extension RelayInputHandler: Sendable {}

/// Errors of the relay service as a whole.
public enum RelayServiceError: Error, Sendable, CustomStringConvertible {
    case bind(what: String, host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case let .bind(what, host, port, reason): "\(what): cannot listen on \(host):\(port): \(reason)"
        }
    }
}
