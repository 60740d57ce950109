// A small WebSocket client (RFC 6455, ws:// only) for QuakeWarn terminals: `quakewarn subscribe`,
// tests, drills and the latency harness. It performs the opening handshake itself (verifying
// Sec-WebSocket-Accept), decodes frames with NIO's WebSocketFrameDecoder, answers pings, and
// reports each complete text message with its receipt time taken on the event loop as soon as
// the frame is decoded.

public import NIOCore
internal import NIOPosix
internal import NIOWebSocket
internal import Synchronization

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Nanoseconds since 1970-01-01 UTC from `CLOCK_REALTIME` (wall clock, for latency accounting
/// across processes on one machine).
public func realtimeNanoseconds() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// A parsed `ws://host:port/path?query` URL.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// Path and query (the HTTP request target), e.g. `/warnings?token=abc`.
    public var target: String

    public init(host: String, port: Int, target: String) {
        self.host = host
        self.port = port
        self.target = target
    }

    /// Parses `ws://HOST[:PORT][/PATH][?QUERY]` (IPv6 hosts in brackets). `wss://` is refused:
    /// TLS is not built in (terminate it in a proxy).
    public init(parsing text: String) throws(WebSocketClientError) {
        guard text.hasPrefix("ws://") else {
            throw .invalidURL(text, text.hasPrefix("wss://") ? "wss:// (TLS) is not supported; use ws:// behind a TLS proxy" : "must start with ws://")
        }
        let rest = text.dropFirst(5)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalidURL(text, "unterminated IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty { throw .invalidURL(text, "junk after the IPv6 address") }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw .invalidURL(text, "no host") }
        var port = 80
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw .invalidURL(text, "port '\(portText)' is not in 1…65535")
            }
            port = value
        }
        self.init(host: String(host), port: port, target: target)
    }

    public var description: String { "ws://\(host.contains(":") ? "[\(host)]" : host):\(port)\(target)" }
}

/// Why a WebSocket client connection failed.
public enum WebSocketClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String, String)
    /// TCP connect failed (refused, unreachable, timeout).
    case connectFailed(String)
    /// The server answered the upgrade with another status (401 for a bad token, 404, …).
    case handshakeRejected(status: Int, reason: String, body: String)
    /// The server's 101 response was malformed or its Sec-WebSocket-Accept was wrong.
    case handshakeInvalid(String)
    /// The connection ended before the handshake completed.
    case closedDuringHandshake

    public var description: String {
        switch self {
        case let .invalidURL(url, reason): "invalid WebSocket URL '\(url)': \(reason)"
        case .connectFailed(let reason): "cannot connect: \(reason)"
        case let .handshakeRejected(status, reason, body):
            "server refused the WebSocket upgrade: HTTP \(status) \(reason)" + (body.isEmpty ? "" : " (\(body))")
        case .handshakeInvalid(let reason): "invalid WebSocket handshake response: \(reason)"
        case .closedDuringHandshake: "connection closed during the WebSocket handshake"
        }
    }
}

/// A connected WebSocket client.
public final class WebSocketClient: Sendable {
    public struct Configuration: Sendable {
        public var url: WebSocketURL
        /// Sent as `Authorization: Bearer <token>` when not nil.
        public var bearerToken: String?
        /// Largest frame accepted from the server, bytes.
        public var maxFrameBytes: Int
        /// Largest message (all fragments) accepted, bytes.
        public var maxMessageBytes: Int
        public var connectTimeoutSeconds: Double
        /// `SO_RCVBUF` for the socket (nil = kernel default); tests use a small one to play a slow reader.
        public var receiveBufferBytes: Int?

        public init(url: WebSocketURL, bearerToken: String? = nil, maxFrameBytes: Int = 1 << 24, maxMessageBytes: Int = 1 << 24,
                    connectTimeoutSeconds: Double = 5, receiveBufferBytes: Int? = nil) {
            self.url = url
            self.bearerToken = bearerToken
            self.maxFrameBytes = maxFrameBytes
            self.maxMessageBytes = maxMessageBytes
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.receiveBufferBytes = receiveBufferBytes
        }
    }

    /// What the connection delivers, on its event loop, in order.
    public enum Event: Sendable {
        /// A complete text message and the `CLOCK_REALTIME` nanoseconds at which its last frame was decoded.
        case text(String, receivedNanos: Int64)
        /// A binary message (QuakeWarn's hub sends none).
        case binary([UInt8], receivedNanos: Int64)
        /// The connection ended: the peer's close code and reason if a close frame came, else nil.
        case closed(code: UInt16?, reason: String)
    }

    private let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Connects and performs the opening handshake. `onEvent` is called on the connection's
    /// event loop for every message and once with `.closed` at the end: keep it short.
    public static func connect(
        _ configuration: Configuration,
        group: (any EventLoopGroup)? = nil,
        onEvent: @escaping @Sendable (Event) -> Void
    ) async throws -> WebSocketClient {
        let group = group ?? MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let handshakeDone = OncePromise(loop.makePromise(of: Void.self))
        let key = WebSocketWire.base64((0..<16).map { _ in UInt8.random(in: 0...255) })
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(configuration.connectTimeoutSeconds.timeAmount)
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
        if let receiveBuffer = configuration.receiveBufferBytes {
            bootstrap = bootstrap.channelOption(ChannelOptions.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBuffer))
        }
        bootstrap = bootstrap.channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ClientHandshakeHandler(configuration: configuration, key: key, done: handshakeDone, onEvent: onEvent)
                )
            }
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: configuration.url.host, port: configuration.url.port).get()
        } catch {
            handshakeDone.fail(WebSocketClientError.connectFailed("\(configuration.url.host):\(configuration.url.port): \(error)"))
            throw WebSocketClientError.connectFailed("\(configuration.url.host):\(configuration.url.port): \(error)")
        }
        let timer = loop.scheduleTask(in: (configuration.connectTimeoutSeconds * 2).timeAmount) {
            handshakeDone.fail(WebSocketClientError.handshakeInvalid("no response within \(configuration.connectTimeoutSeconds * 2) s"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            try await handshakeDone.future.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return WebSocketClient(channel: channel)
    }

    /// Sends a masked text frame (the hub ignores data from subscribers).
    public func send(text: String) {
        sendFrame(opcode: WireOpcode.text, payload: Array(text.utf8))
    }

    /// Sends a masked ping.
    public func ping(_ payload: [UInt8] = []) {
        sendFrame(opcode: WireOpcode.ping, payload: payload)
    }

    /// Writes raw bytes to the socket, bypassing framing (for tests of malformed input).
    public func sendRaw(_ bytes: [UInt8]) {
        channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    /// Sends a close frame and waits until the connection is closed (at most `timeoutSeconds`).
    public func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "", timeoutSeconds: Double = 2) async {
        sendFrame(opcode: WireOpcode.close, payload: WebSocketWire.closePayload(code: code, reason: reason))
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeoutSeconds.timeAmount) { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
        timer.cancel()
    }

    /// Closes the TCP connection at once, without a close handshake.
    public func abort() async {
        try? await channel.close()
    }

    /// Completes when the connection has closed.
    public func waitUntilClosed() async {
        try? await channel.closeFuture.get()
    }

    /// Stops reading from the socket (the kernel buffers fill, the server sees a slow reader).
    public func pauseReading() async {
        try? await channel.setOption(ChannelOptions.autoRead, value: false).get()
    }

    /// Resumes reading after ``pauseReading()``.
    public func resumeReading() async {
        try? await channel.setOption(ChannelOptions.autoRead, value: true).get()
        channel.read()
    }

    private func sendFrame(opcode: UInt8, payload: [UInt8]) {
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        channel.writeAndFlush(WebSocketWire.clientFrame(opcode: opcode, payload: payload, maskKey: mask, allocator: channel.allocator), promise: nil)
    }
}

/// A promise that may be completed from several places; only the first completion counts.
final class OncePromise: Sendable {
    private let promise: EventLoopPromise<Void>
    private let completed = Atomic<Bool>(false)
    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }
    var future: EventLoopFuture<Void> { promise.futureResult }
    func succeed(_ value: Void) {
        if completed.exchange(true, ordering: .acquiringAndReleasing) == false { promise.succeed(()) }
    }
    func fail(_ error: any Error) {
        if completed.exchange(true, ordering: .acquiringAndReleasing) == false { promise.fail(error) }
    }
}

/// Sends the upgrade request, reads the response head, verifies it, then swaps itself for the
/// frame decoder and the frame handler (forwarding bytes that came after the head).
private final class ClientHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: WebSocketClient.Configuration
    private let key: String
    private let done: OncePromise
    private let onEvent: @Sendable (WebSocketClient.Event) -> Void
    private var received: ByteBuffer?
    private var finished = false

    init(configuration: WebSocketClient.Configuration, key: String, done: OncePromise,
         onEvent: @escaping @Sendable (WebSocketClient.Event) -> Void) {
        self.configuration = configuration
        self.key = key
        self.done = done
        self.onEvent = onEvent
    }

    func channelActive(context: ChannelHandlerContext) {
        let url = configuration.url
        var request = "GET \(url.target) HTTP/1.1\r\n"
        let hostHeader = url.host.contains(":") ? "[\(url.host)]" : url.host
        request += "Host: \(hostHeader):\(url.port)\r\n"
        request += "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if let token = configuration.bearerToken { request += "Authorization: Bearer \(token)\r\n" }
        request += "\r\n"
        var buffer = context.channel.allocator.buffer(capacity: request.utf8.count)
        buffer.writeString(request)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !finished {
            finished = true
            done.fail(WebSocketClientError.closedDuringHandshake)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !finished {
            finished = true
            done.fail(WebSocketClientError.connectFailed("\(error)"))
        }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if received == nil { received = incoming } else { received?.writeBuffer(&incoming) }
        guard !finished, var buffer = received else { return }
        let view = buffer.readableBytesView
        guard let headEnd = Self.endOfHead(view) else {
            if buffer.readableBytes > 16_384 { fail(context, .handshakeInvalid("response head longer than 16 KiB")) }
            return
        }
        guard let headText = buffer.readString(length: headEnd) else { return }
        let remainder = buffer  // bytes after the head: the first frames
        received = nil
        let lines = headText.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusParts = (lines.first ?? "").split(separator: " ", maxSplits: 2).map(String.init)
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            fail(context, .handshakeInvalid("bad status line '\(lines.first ?? "")'"))
            return
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingSpaces()
        }
        guard status == 101 else {
            let body = remainder.getString(at: remainder.readerIndex, length: min(remainder.readableBytes, 200)) ?? ""
            fail(context, .handshakeRejected(status: status, reason: statusParts.count > 2 ? statusParts[2] : "",
                                             body: body.trimmingWhitespace()))
            return
        }
        guard headers["upgrade"]?.lowercased() == "websocket" else { fail(context, .handshakeInvalid("no Upgrade: websocket")); return }
        guard headers["sec-websocket-accept"] == WebSocketWire.acceptValue(forKey: key) else {
            fail(context, .handshakeInvalid("Sec-WebSocket-Accept does not match the key"))
            return
        }
        finished = true
        do {
            let sync = context.pipeline.syncOperations
            try sync.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: configuration.maxFrameBytes)))
            try sync.addHandler(ClientFrameHandler(maxMessageBytes: configuration.maxMessageBytes, onEvent: onEvent))
        } catch {
            fail(context, .handshakeInvalid("pipeline: \(error)"))
            return
        }
        done.succeed(())
        if remainder.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(remainder)) }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: WebSocketClientError) {
        guard !finished else { return }
        finished = true
        done.fail(error)
        context.close(promise: nil)
    }

    /// Length of the response head including the blank line, when complete.
    private static func endOfHead(_ view: ByteBufferView) -> Int? {
        var match = 0
        let pattern: [UInt8] = [13, 10, 13, 10]
        var offset = 0
        for byte in view {
            match = byte == pattern[match] ? match + 1 : (byte == 13 ? 1 : 0)
            offset += 1
            if match == 4 { return offset }
        }
        return nil
    }
}

extension String {
    /// Without leading and trailing spaces, tabs, CR and LF.
    fileprivate func trimmingWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars[...]
        let blank: Set<Unicode.Scalar> = [" ", "\t", "\r", "\n"]
        while let first = scalars.first, blank.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, blank.contains(last) { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

/// Delivers messages, answers pings and completes the close handshake (client side).
private final class ClientFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = ByteBuffer

    private let maxMessageBytes: Int
    private let onEvent: @Sendable (WebSocketClient.Event) -> Void
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?
    private var closeReceived: (code: UInt16?, reason: String)?
    private var reportedClose = false

    init(maxMessageBytes: Int, onEvent: @escaping @Sendable (WebSocketClient.Event) -> Void) {
        self.maxMessageBytes = maxMessageBytes
        self.onEvent = onEvent
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = realtimeNanoseconds()
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            if frame.fin {
                deliver(opcode: frame.opcode, bytes: frame.unmaskedData, at: now)
            } else {
                fragmentOpcode = frame.opcode
                fragments = Array(frame.unmaskedData.readableBytesView)
            }
        case .continuation:
            guard let opcode = fragmentOpcode else { return }
            fragments += frame.unmaskedData.readableBytesView
            if fragments.count > maxMessageBytes {
                closeWith(context: context, code: WebSocketCloseCode.messageTooBig)
                return
            }
            if frame.fin {
                deliver(opcode: opcode, bytes: ByteBuffer(bytes: fragments), at: now)
                fragments = []
                fragmentOpcode = nil
            }
        case .ping:
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
            let pong = WebSocketWire.clientFrame(opcode: WireOpcode.pong, payload: Array(frame.unmaskedData.readableBytesView),
                                                 maskKey: mask, allocator: context.channel.allocator)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            let parsed = WebSocketWire.parseClosePayload(frame.unmaskedData)
            closeReceived = parsed
            // Echo the code and close the TCP connection (the server closes too).
            let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
            let payload = parsed.code.map { WebSocketWire.closePayload(code: $0, reason: "") } ?? []
            let reply = WebSocketWire.clientFrame(opcode: WireOpcode.close, payload: payload, maskKey: mask, allocator: context.channel.allocator)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(reply)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    private func deliver(opcode: WebSocketOpcode, bytes: ByteBuffer, at now: Int64) {
        if opcode == .text {
            onEvent(.text(String(buffer: bytes), receivedNanos: now))
        } else {
            onEvent(.binary(Array(bytes.readableBytesView), receivedNanos: now))
        }
    }

    private func closeWith(context: ChannelHandlerContext, code: UInt16) {
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        let frame = WebSocketWire.clientFrame(opcode: WireOpcode.close, payload: WebSocketWire.closePayload(code: code, reason: ""),
                                              maskKey: mask, allocator: context.channel.allocator)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(frame)).whenComplete { _ in channel.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !reportedClose {
            reportedClose = true
            onEvent(.closed(code: closeReceived?.code, reason: closeReceived?.reason ?? ""))
        }
        context.fireChannelInactive()
    }
}
