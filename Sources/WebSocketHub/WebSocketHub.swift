// WebSocketHub: a token-authenticated WebSocket endpoint (SwiftNIO) that fans warnings out to
// terminals and dashboards (school loudspeaker controllers, county dashboards) without a broker.
//
//   GET /warnings + Upgrade: websocket + valid token  → 101, then one text frame per warning
//   wrong or missing token                            → 401 (logged, counted), no upgrade
//   other path → 404; not GET → 405; plain GET → 426; hub full → 503
//
// See docs/websocket.md for the protocol, the operator settings and measured fan-out latency.

public import Logging
public import NIOCore
internal import NIOHTTP1
internal import NIOPosix
internal import NIOWebSocket
internal import Synchronization

/// A WebSocket fan-out endpoint for warnings.
///
/// Terminals connect to `ws://HOST:PORT/warnings` with a token (`Authorization: Bearer <token>`
/// or `?token=<token>`) and then receive every broadcast text as one WebSocket text frame, in
/// broadcast order. They send nothing but control frames (ping/pong/close); anything else is
/// ignored, and a malformed or oversized frame closes only that connection.
///
/// Fan-out cost: ``broadcast(text:)`` encodes the frame (header and payload) once into one
/// `ByteBuffer`; every subscriber's channel writes that same buffer (shared storage, no copy,
/// no re-encoding). Subscribers are grouped by event loop, so a broadcast is one task per event
/// loop, not one per subscriber.
///
/// Slow subscribers: each one may hold at most ``Configuration/maxQueuedBytesPerSubscriber``
/// bytes that the hub has accepted but the kernel has not (NIO's write-buffer high-water mark).
/// A subscriber over the cap is removed at once (it gets no further warnings), sent a close
/// frame with code 1008, and its connection is closed after ``Configuration/closeTimeoutSeconds``
/// at the latest. It cannot slow down the others.
///
/// Keep-alive: the hub pings each subscriber every ``Configuration/pingIntervalSeconds``; a
/// subscriber from which nothing (not even a pong) arrived for ``Configuration/idleTimeoutSeconds``
/// is closed with 1001.
///
/// Thread safety: every method may be called from any thread or task; ``broadcast(text:)``
/// never blocks on I/O (it takes one short lock to keep a single global order of broadcasts).
public final class WebSocketHub: Sendable {
    /// Operator settings.
    public struct Configuration: Sendable {
        /// Address to bind; loopback by default (put a TLS-terminating proxy in front to expose it).
        public var host: String
        /// TCP port; 0 picks a free one (read ``WebSocketHub/port``).
        public var port: Int
        /// The only path that is upgraded (exact match, query string ignored).
        public var path: String
        /// Accepted bearer tokens. An empty set rejects everyone.
        public var tokens: Set<String>
        /// Connections beyond this many subscribers get HTTP 503.
        public var maxSubscribers: Int
        /// Cap on bytes queued for one subscriber and not yet taken by its socket; above it the
        /// subscriber is dropped as too slow (close code 1008).
        public var maxQueuedBytesPerSubscriber: Int
        /// Interval between pings to each subscriber, seconds; 0 disables pings.
        public var pingIntervalSeconds: Double
        /// A subscriber silent for this long (no frame at all, pongs included) is closed, seconds;
        /// 0 disables the check. Should be a few ping intervals.
        public var idleTimeoutSeconds: Double
        /// The HTTP request with the upgrade must complete within this time after connect, seconds.
        public var handshakeTimeoutSeconds: Double
        /// After the hub sends a close frame it waits this long for the peer's close, seconds.
        public var closeTimeoutSeconds: Double
        /// Largest frame accepted from a subscriber (they only send control frames), bytes.
        public var maxClientFrameBytes: Int
        /// `SO_SNDBUF` for subscriber sockets (nil = the kernel default). Smaller values make the
        /// slow-subscriber detection react earlier, since the kernel buffer is not counted.
        public var socketSendBufferBytes: Int?

        public init(
            host: String = "127.0.0.1",
            port: Int = 0,
            path: String = "/warnings",
            tokens: Set<String>,
            maxSubscribers: Int = 10_000,
            maxQueuedBytesPerSubscriber: Int = 1 << 20,
            pingIntervalSeconds: Double = 20,
            idleTimeoutSeconds: Double = 60,
            handshakeTimeoutSeconds: Double = 10,
            closeTimeoutSeconds: Double = 2,
            maxClientFrameBytes: Int = 4096,
            socketSendBufferBytes: Int? = nil
        ) {
            self.host = host
            self.port = port
            self.path = path
            self.tokens = tokens
            self.maxSubscribers = maxSubscribers
            self.maxQueuedBytesPerSubscriber = maxQueuedBytesPerSubscriber
            self.pingIntervalSeconds = pingIntervalSeconds
            self.idleTimeoutSeconds = idleTimeoutSeconds
            self.handshakeTimeoutSeconds = handshakeTimeoutSeconds
            self.closeTimeoutSeconds = closeTimeoutSeconds
            self.maxClientFrameBytes = maxClientFrameBytes
            self.socketSendBufferBytes = socketSendBufferBytes
        }

        /// Throws ``WebSocketHubError/invalidConfiguration(_:)`` naming the first bad field.
        public func validate() throws(WebSocketHubError) {
            func fail(_ reason: String) -> WebSocketHubError { .invalidConfiguration(reason) }
            if !(0...65_535).contains(port) { throw fail("port \(port) is not in 0…65535") }
            if !path.hasPrefix("/") { throw fail("path '\(path)' must start with '/'") }
            if maxSubscribers < 1 { throw fail("maxSubscribers \(maxSubscribers) must be ≥ 1") }
            if maxQueuedBytesPerSubscriber < 1024 {
                throw fail("maxQueuedBytesPerSubscriber \(maxQueuedBytesPerSubscriber) must be ≥ 1024")
            }
            for (name, value) in [("pingIntervalSeconds", pingIntervalSeconds), ("idleTimeoutSeconds", idleTimeoutSeconds)]
            where !(value >= 0 && value.isFinite) {
                throw fail("\(name) \(value) must be finite and ≥ 0")
            }
            for (name, value) in [("handshakeTimeoutSeconds", handshakeTimeoutSeconds), ("closeTimeoutSeconds", closeTimeoutSeconds)]
            where !(value > 0 && value.isFinite) {
                throw fail("\(name) \(value) must be finite and > 0")
            }
            if !(125...(1 << 24)).contains(maxClientFrameBytes) {
                throw fail("maxClientFrameBytes \(maxClientFrameBytes) is not in 125…16777216")
            }
            if let bytes = socketSendBufferBytes, bytes < 1024 { throw fail("socketSendBufferBytes \(bytes) must be ≥ 1024") }
            if tokens.contains(where: \.isEmpty) { throw fail("tokens must not be empty strings") }
        }
    }

    /// Counters since start, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Subscribers connected now (upgraded and not yet dropped or closed).
        public var subscribers: Int
        /// Upgrades accepted since start.
        public var subscribersAccepted: Int
        /// Calls of ``WebSocketHub/broadcast(text:)``.
        public var broadcasts: Int
        /// Warning frames handed to subscriber sockets (one per subscriber per broadcast).
        public var messagesSent: Int
        /// Subscribers dropped because their unsent bytes exceeded the cap.
        public var slowSubscribersDropped: Int
        /// Requests rejected with 401 (missing or wrong token).
        public var authFailures: Int
        /// Requests rejected for any other reason (404, 405, 426, 400, 503) or handshake timeout.
        public var requestsRejected: Int
        /// Subscriber connections closed for a malformed or oversized frame.
        public var protocolErrors: Int
        /// Subscribers closed for being idle (no pong).
        public var idleClosed: Int
    }

    /// The bound TCP port (useful when the configuration asked for port 0).
    public let port: Int
    public let configuration: Configuration
    let core: HubCore
    private let serverChannel: any Channel

    private init(serverChannel: any Channel, core: HubCore, port: Int) {
        self.serverChannel = serverChannel
        self.core = core
        self.configuration = core.configuration
        self.port = port
    }

    /// Validates the configuration, binds and starts accepting subscribers.
    /// - Parameters:
    ///   - group: the event loop group; nil = NIO's `MultiThreadedEventLoopGroup.singleton`.
    /// - Throws: ``WebSocketHubError`` for a bad configuration or when binding fails.
    public static func start(
        _ configuration: Configuration,
        logger: Logger = Logger(label: "quakewarn.websocket-hub"),
        group: (any EventLoopGroup)? = nil
    ) async throws -> WebSocketHub {
        try configuration.validate()
        let core = HubCore(configuration: configuration, logger: logger)
        let waterMark = ChannelOptions.Types.WriteBufferWaterMark(
            low: max(configuration.maxQueuedBytesPerSubscriber / 2, 1),
            high: configuration.maxQueuedBytesPerSubscriber
        )
        var bootstrap = ServerBootstrap(group: group ?? MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.writeBufferWaterMark, value: waterMark)
        if let sendBuffer = configuration.socketSendBufferBytes {
            bootstrap = bootstrap.childChannelOption(ChannelOptions.socketOption(.so_sndbuf), value: SocketOptionValue(sendBuffer))
        }
        bootstrap = bootstrap.childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try core.configureConnection(channel)
            }
        }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            throw WebSocketHubError.bindFailed(host: configuration.host, port: configuration.port, reason: "\(error)")
        }
        let bound = channel.localAddress?.port ?? configuration.port
        core.logger.info("websocket hub listening", metadata: ["address": "\(configuration.host):\(bound)", "path": "\(configuration.path)"])
        return WebSocketHub(serverChannel: channel, core: core, port: bound)
    }

    /// Sends `text` as one text frame to every current subscriber. Non-blocking; callable from
    /// any thread. All subscribers see broadcasts in the same order (the order of the calls).
    public func broadcast(text: String) {
        core.broadcast(text: text)
    }

    /// Subscribers connected now.
    public var subscriberCount: Int { core.counters.subscribers.load(ordering: .relaxed) }

    /// A snapshot of the counters.
    public var statistics: Statistics { core.counters.snapshot() }

    /// Calls `observer` after every change of a counter of ``statistics`` (``subscriberCount``
    /// included), on the thread that made the change (an event loop, or a ``broadcast(text:)``
    /// caller), so monitoring and tests can react to a subscriber registering or leaving without
    /// polling. It must not block. Observers cannot be removed; they live as long as the hub.
    public func observeStatistics(_ observer: @escaping @Sendable () -> Void) {
        core.counters.addObserver(observer)
    }

    /// Stops accepting, sends close 1001 ("server shutting down") to every subscriber and waits
    /// until their connections are closed (at most ``Configuration/closeTimeoutSeconds`` plus a
    /// little). Idempotent.
    public func shutdown() async {
        try? await serverChannel.close()
        await core.closeAllSubscribers()
    }
}

/// Why the hub could not start.
public enum WebSocketHubError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case bindFailed(host: String, port: Int, reason: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let reason): "websocket hub configuration: \(reason)"
        case let .bindFailed(host, port, reason): "websocket hub: cannot listen on \(host):\(port): \(reason)"
        }
    }
}

// MARK: - Shared state

/// Atomic counters behind ``WebSocketHub/Statistics``.
final class HubCounters: Sendable {
    let subscribers = Atomic<Int>(0)
    let subscribersAccepted = Atomic<Int>(0)
    let broadcasts = Atomic<Int>(0)
    let messagesSent = Atomic<Int>(0)
    let slowSubscribersDropped = Atomic<Int>(0)
    let authFailures = Atomic<Int>(0)
    let requestsRejected = Atomic<Int>(0)
    let protocolErrors = Atomic<Int>(0)
    let idleClosed = Atomic<Int>(0)
    /// Observers of counter changes (``WebSocketHub/observeStatistics(_:)``); `hasObservers`
    /// keeps the usual case (none) to one atomic load per change.
    private let observers = Mutex<[@Sendable () -> Void]>([])
    private let hasObservers = Atomic<Bool>(false)

    func addObserver(_ observer: @escaping @Sendable () -> Void) {
        observers.withLock { $0.append(observer) }
        hasObservers.store(true, ordering: .releasing)
    }

    /// Tells the observers that counters changed; called after every change.
    func changed() {
        guard hasObservers.load(ordering: .acquiring) else { return }
        for observer in observers.withLock({ $0 }) { observer() }
    }

    func snapshot() -> WebSocketHub.Statistics {
        WebSocketHub.Statistics(
            subscribers: subscribers.load(ordering: .relaxed),
            subscribersAccepted: subscribersAccepted.load(ordering: .relaxed),
            broadcasts: broadcasts.load(ordering: .relaxed),
            messagesSent: messagesSent.load(ordering: .relaxed),
            slowSubscribersDropped: slowSubscribersDropped.load(ordering: .relaxed),
            authFailures: authFailures.load(ordering: .relaxed),
            requestsRejected: requestsRejected.load(ordering: .relaxed),
            protocolErrors: protocolErrors.load(ordering: .relaxed),
            idleClosed: idleClosed.load(ordering: .relaxed)
        )
    }
}

/// The subscribers served by one event loop. Touched only on that loop.
final class LoopSubscribers {
    var handlers: [ObjectIdentifier: SubscriberHandler] = [:]

    /// Writes the shared frame to every subscriber of this loop; returns how many got it.
    func send(_ frame: ByteBuffer) -> Int {
        var sent = 0
        var slow: [SubscriberHandler] = []
        for handler in handlers.values {
            switch handler.send(frame) {
            case .sent: sent += 1
            case .overCap: sent += 1; slow.append(handler)
            case .notOpen: break
            }
        }
        for handler in slow { handler.dropAsTooSlow() }
        return sent
    }
}

/// Everything the channel handlers share with the hub object.
final class HubCore: Sendable {
    let configuration: WebSocketHub.Configuration
    let logger: Logger
    let counters = HubCounters()
    let tokenBytes: [[UInt8]]
    /// One registry per event loop that has subscribers; the lock also serialises broadcasts so
    /// every subscriber sees the same order.
    private let loops = Mutex<[(loop: any EventLoop, registry: NIOLoopBound<LoopSubscribers>)]>([])
    /// Close futures of every open subscriber channel, for shutdown.
    private let openChannels = Mutex<[ObjectIdentifier: any Channel]>([:])

    init(configuration: WebSocketHub.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.tokenBytes = configuration.tokens.sorted().map { Array($0.utf8) }
    }

    func registry(for loop: any EventLoop) -> LoopSubscribers {
        let bound = loops.withLock { entries -> NIOLoopBound<LoopSubscribers> in
            if let entry = entries.first(where: { $0.loop === loop }) { return entry.registry }
            let registry = NIOLoopBound(LoopSubscribers(), eventLoop: loop)
            entries.append((loop, registry))
            return registry
        }
        return bound.value
    }

    func broadcast(text: String) {
        let frame = WebSocketWire.serverTextFrame(text, allocator: ByteBufferAllocator())
        counters.broadcasts.add(1, ordering: .relaxed)
        counters.changed()
        let counters = self.counters
        loops.withLock { entries in
            for entry in entries {
                let registry = entry.registry
                entry.loop.execute {
                    let sent = registry.value.send(frame)
                    counters.messagesSent.add(sent, ordering: .relaxed)
                    counters.changed()
                }
            }
        }
    }

    func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        openChannels.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.openChannels.withLock { $0.removeValue(forKey: key) }
        }
    }

    func closeAllSubscribers() async {
        let entries = loops.withLock { $0 }
        for entry in entries {
            let registry = entry.registry
            entry.loop.execute {
                for handler in Array(registry.value.handlers.values) {
                    handler.initiateClose(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
                }
            }
        }
        let channels = openChannels.withLock { Array($0.values) }
        // Connections still in the HTTP phase are closed at the deadline; subscribers got a close
        // frame above and close when the peer answers or their close timeout fires.
        let deadline = NIODeadline.now() + (configuration.closeTimeoutSeconds + 1).timeAmount
        let timers = channels.map { channel in
            channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        }
        for channel in channels {
            try? await channel.closeFuture.get()
        }
        for timer in timers { timer.cancel() }
    }

    /// Pipeline of a new TCP connection: HTTP/1.1 with the WebSocket upgrader, then our request
    /// handler for everything that is not upgraded.
    func configureConnection(_ channel: any Channel) throws {
        track(channel)
        let core = self
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: configuration.maxClientFrameBytes,
            automaticErrorHandling: false,
            shouldUpgrade: { channel, head in
                let decision = core.admission(for: head)
                return channel.eventLoop.makeSucceededFuture(decision == .accept ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    // Our subscriber handler writes pre-encoded frames (ByteBuffers) through a
                    // writer placed in front of NIO's per-frame encoder, which is left unused.
                    let sync = channel.pipeline.syncOperations
                    let encoder = try sync.context(handlerType: WebSocketFrameEncoder.self)
                    let writer = RawFrameWriter()
                    try sync.addHandler(writer, position: .before(encoder.handler))
                    let remote = channel.remoteAddress.map { "\($0)" } ?? "?"
                    try sync.addHandler(SubscriberHandler(core: core, remote: remote, writer: writer))
                }
            }
        )
        let requestHandler = HubHTTPHandler(core: core)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }),
            withErrorHandling: true
        )
        try channel.pipeline.syncOperations.addHandler(requestHandler)
    }

    enum Admission: Equatable {
        case accept
        case notFound, methodNotAllowed, unauthorized, full
    }

    /// The checks an upgrade request must pass, in order: path, method, token, capacity.
    func admission(for head: HTTPRequestHead) -> Admission {
        let (path, queryToken) = WebSocketWire.splitTarget(head.uri, parameter: "token")
        guard path == configuration.path else { return .notFound }
        guard head.method == .GET else { return .methodNotAllowed }
        guard let token = presentedToken(head, queryToken: queryToken),
              WebSocketWire.tokenMatches(token, anyOf: tokenBytes) else { return .unauthorized }
        guard counters.subscribers.load(ordering: .relaxed) < configuration.maxSubscribers else { return .full }
        return .accept
    }

    private func presentedToken(_ head: HTTPRequestHead, queryToken: String?) -> String? {
        for value in head.headers[canonicalForm: "authorization"] {
            let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return parts[1].trimmingSpaces()
            }
        }
        return queryToken
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        var slice = self[...]
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}

extension Double {
    /// Seconds as a NIO `TimeAmount` (nanoseconds, rounded).
    var timeAmount: TimeAmount { .nanoseconds(Int64((self * 1e9).rounded())) }
}
