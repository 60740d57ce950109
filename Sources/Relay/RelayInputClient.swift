public import Alerting
public import Foundation
public import NIOCore
import NIOPosix
import SeismicCore

/// The relay's acknowledgement of one input: committed to its outbox.
public struct RelayAck: Sendable, Equatable {
    /// Event id of the warning.
    public var id: String
    /// Update number of the warning.
    public var update: Int
    /// True when the relay already had this (id, update) with identical bytes (not re-queued).
    public var duplicate: Bool
    /// What was acknowledged (``OutboxPayloadKind/cap`` for a CAP envelope).
    public var kind: OutboxPayloadKind

    public init(id: String, update: Int, duplicate: Bool, kind: OutboxPayloadKind = .warning) {
        self.id = id
        self.update = update
        self.duplicate = duplicate
        self.kind = kind
    }
}

/// One reply line of the QWRI/1 protocol, parsed.
public enum RelayReply: Sendable, Equatable {
    case welcome
    case ack(RelayAck)
    /// `{"reject":code,"line":K,"detail":…}`; `code` is one of the ``RelayRejection`` codes.
    case reject(code: String, line: Int, detail: String)
    /// `{"error":…}` (then the server closes the connection), e.g. `unauthorized`.
    case error(String)

    /// The reply line (JSON, without newline) as the QWRI/1 input writes it; ``init(line:)``
    /// parses it back.
    public var text: String {
        switch self {
        case .welcome:
            return "{\"welcome\":\"QWRI/1\"}"
        case .ack(let ack):
            var reply = "{\"ack\":" + JSONText.quoted(ack.id) + ",\"update\":\(ack.update)"
            if ack.kind == .cap { reply += ",\"type\":\"cap\"" }
            return reply + ",\"duplicate\":\(ack.duplicate)}"
        case .reject(let code, let line, let detail):
            return "{\"reject\":" + JSONText.quoted(code) + ",\"line\":\(line),\"detail\":" + JSONText.quoted(detail) + "}"
        case .error(let error):
            return "{\"error\":" + JSONText.quoted(error) + "}"
        }
    }

    /// Parses one reply line; nil if it is none of the above.
    public init?(line: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: line) as? [String: Any] else { return nil }
        if object["welcome"] is String {
            self = .welcome
        } else if let id = object["ack"] as? String, let update = (object["update"] as? NSNumber)?.intValue,
                  let duplicate = object["duplicate"] as? Bool {
            let kind: OutboxPayloadKind = (object["type"] as? String) == "cap" ? .cap : .warning
            self = .ack(RelayAck(id: id, update: update, duplicate: duplicate, kind: kind))
        } else if let code = object["reject"] as? String {
            self = .reject(code: code, line: (object["line"] as? NSNumber)?.intValue ?? 0,
                           detail: object["detail"] as? String ?? "")
        } else if let error = object["error"] as? String {
            self = .error(error)
        } else {
            return nil
        }
    }
}

/// Why a ``RelayInputClient`` operation failed.
public enum RelayInputClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The relay refused the token (`{"error":"unauthorized"}`).
    case unauthorized
    /// The relay rejected the envelope; nothing was stored.
    case rejected(code: String, line: Int, detail: String)
    /// The connection closed before the reply (the input may or may not have been committed:
    /// re-send it; the relay recognises a duplicate).
    case connectionClosed
    /// The relay answered something unexpected.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .unauthorized: "relay input: unauthorized (wrong token)"
        case let .rejected(code, line, detail): "relay input: line \(line) rejected (\(code)): \(detail)"
        case .connectionClosed: "relay input: connection closed before the reply"
        case .protocolViolation(let text): "relay input: unexpected reply: \(text)"
        }
    }
}

/// A client of the relay's QWRI/1 input (``RelayInputServer``), for ingest daemons and tools.
///
/// ```swift
/// let client = try await RelayInputClient.connect(host: "127.0.0.1", port: 7300, token: token)
/// let ack = try await client.send(try SignedEnvelope.sign(warning, with: key))
/// await client.close()
/// ```
/// ``send(_:)`` returns after the relay committed the warning to its outbox. Calls may overlap
/// (pipelining): replies are matched to requests in order.
public final class RelayInputClient: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Connects and authenticates.
    /// - Throws: ``RelayInputClientError/unauthorized`` for a wrong token; NIO's connect error.
    public static func connect(host: String, port: Int, token: String,
                               group: (any EventLoopGroup)? = nil) async throws -> RelayInputClient {
        let channel = try await ClientBootstrap(group: group ?? MultiThreadedEventLoopGroup.singleton)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(LineFrameDecoder(maximumLineBytes: 1 << 20)))
                    try channel.pipeline.syncOperations.addHandler(RelayInputClientHandler())
                }
            }
            .connect(host: host, port: port).get()
        let client = RelayInputClient(channel: channel)
        let hello = "{\"hello\":\"QWRI/1\",\"token\":" + JSONText.quoted(token) + "}"
        let reply: RelayReply
        do {
            reply = try await client.request(Data(hello.utf8))
        } catch {
            try? await channel.close()
            throw error
        }
        switch reply {
        case .welcome:
            return client
        case .error(let text) where text == "unauthorized":
            try? await channel.close()
            throw RelayInputClientError.unauthorized
        default:
            try? await channel.close()
            throw RelayInputClientError.protocolViolation("\(reply)")
        }
    }

    /// Sends one signed envelope; returns when the relay has committed it.
    /// - Throws: ``RelayInputClientError/rejected(code:line:detail:)`` when refused.
    public func send(_ envelope: SignedEnvelope) async throws -> RelayAck {
        switch try await sendLine(try envelope.encoded()) {
        case .ack(let ack): return ack
        case let .reject(code, line, detail): throw RelayInputClientError.rejected(code: code, line: line, detail: detail)
        case .error(let text) where text == "unauthorized": throw RelayInputClientError.unauthorized
        case let other: throw RelayInputClientError.protocolViolation("\(other)")
        }
    }

    /// Sends raw bytes as one line (a newline is appended) and returns the parsed reply. For
    /// tools and tests; the bytes must not contain a newline unless you mean several lines.
    public func sendLine(_ line: Data) async throws -> RelayReply {
        try await request(line)
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }

    /// The event loop of the connection (callbacks of ``submit(line:)`` run on it).
    public var eventLoop: any EventLoop { channel.eventLoop }

    /// One line handed to the relay by ``submit(line:)``.
    public struct Submission: Sendable {
        /// Succeeds when the line's bytes were written to the socket (the kernel has them).
        public let written: EventLoopFuture<Void>
        /// The relay's reply: ``RelayReply/ack(_:)`` after its outbox commit, or a rejection.
        public let reply: EventLoopFuture<RelayReply>
    }

    /// Writes one line (a newline is appended) without waiting for anything: for pipelining
    /// (many lines in flight, replies matched in order). Lines go on the wire in the order of the
    /// calls when they are made from one thread or from the connection's event loop. Both
    /// futures fail with ``RelayInputClientError/connectionClosed`` (or NIO's error) when the
    /// connection ends first: the line may or may not have been committed, re-send it (the relay
    /// recognises a duplicate).
    public func submit(line: Data) -> Submission {
        var buffer = channel.allocator.buffer(capacity: line.count + 1)
        buffer.writeBytes(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        let reply = channel.eventLoop.makePromise(of: RelayReply.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { reply.fail($0) }
        channel.writeAndFlush(RelayInputClientHandler.Request(line: buffer, promise: reply), promise: written)
        return Submission(written: written.futureResult, reply: reply.futureResult)
    }

    private func request(_ line: Data) async throws -> RelayReply {
        var buffer = channel.allocator.buffer(capacity: line.count + 1)
        buffer.writeBytes(line)
        buffer.writeInteger(UInt8(ascii: "\n"))
        let promise = channel.eventLoop.makePromise(of: RelayReply.self)
        channel.writeAndFlush(RelayInputClientHandler.Request(line: buffer, promise: promise)).whenFailure { error in
            promise.fail(error)
        }
        return try await promise.futureResult.get()
    }
}

/// Matches reply lines to requests in order; confined to its channel's event loop.
final class RelayInputClientHandler: ChannelDuplexHandler {
    typealias InboundIn = LineFrame
    typealias OutboundIn = Request
    typealias OutboundOut = ByteBuffer

    struct Request: Sendable {
        var line: ByteBuffer
        var promise: EventLoopPromise<RelayReply>
    }

    private var waiting = CircularBuffer<EventLoopPromise<RelayReply>>()
    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if closed {
            request.promise.fail(RelayInputClientError.connectionClosed)
            promise?.fail(RelayInputClientError.connectionClosed)
            return
        }
        waiting.append(request.promise)
        context.write(wrapOutboundOut(request.line), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .line(let line) = unwrapInboundIn(data) else { return }
        let bytes = Data(line.readableBytesView)
        guard let promise = waiting.popFirst() else { return }
        if let reply = RelayReply(line: bytes) {
            promise.succeed(reply)
        } else {
            promise.fail(RelayInputClientError.protocolViolation(String(decoding: bytes, as: UTF8.self)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        while let promise = waiting.popFirst() { promise.fail(RelayInputClientError.connectionClosed) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RelayInputClientHandler: Sendable {}
