public import NIOCore
internal import NIOPosix
internal import Synchronization

/// Something that happened to the client's connection, for monitoring and tests.
public enum MQTTClientEvent: Sendable, Equatable {
    /// CONNACK accepted; `sessionPresent` as reported by the broker.
    case connected(sessionPresent: Bool)
    /// A connection (or connection attempt) ended; `reason` says why.
    case disconnected(reason: String)
}

/// An MQTT 3.1.1 client on SwiftNIO: QoS 0/1 publish with an in-flight window, keep-alive,
/// reconnect with capped exponential backoff, at-least-once re-sends, and subscriptions
/// delivered as an `AsyncStream`.
///
/// Lifecycle (service style, no `Task {}` in `init`): create the client, run ``run()`` in a
/// task you own (it returns after ``disconnect()`` or cancellation, and throws only when the
/// broker refuses the CONNECT for good), and call ``publish(topic:payload:qos:retain:)`` from
/// anywhere.
///
/// Delivery guarantees:
/// - **QoS 1** (at least once): each message gets a packet identifier and stays in the
///   in-flight list until its PUBACK arrives. While disconnected, messages queue; on every
///   (re)connect the client first re-sends all unacknowledged messages in their original order,
///   with DUP = 1 for those sent before ([MQTT-4.4.0-1], §4.3.2), then resumes. So a broker
///   restart costs at most duplicates, never losses, as long as the process lives. A caller that
///   needs durability across process restarts keeps its own outbox and deletes an entry only
///   after `publish` returned.
/// - At most ``MQTTClientConfiguration/maxInFlight`` messages are unacknowledged; further QoS 1
///   `publish` calls suspend until a PUBACK frees a slot (FIFO), which is the back-pressure.
/// - **QoS 0**: written if connected, otherwise ``MQTTError/Code/notConnected`` is thrown.
///
/// Keep-alive: every ``MQTTClientConfiguration/keepAlive`` a PINGREQ is sent; without PINGRESP
/// within ``MQTTClientConfiguration/pingTimeout`` the connection is closed and re-established.
/// These timers (and the CONNACK timeout) run on the channel's event loop, not in Swift
/// concurrency, so a busy cooperative thread pool cannot make them fire falsely.
///
/// Concurrency: an `actor` whose executor is one NIO event loop (``eventLoop``, chosen from the
/// group at init); every connection's channel lives on that same loop. So all protocol state
/// (in-flight list, packet identifiers, waiters) is actor-isolated *and* confined to the loop
/// that runs the channel handlers: a packet read from the socket reaches the actor without a
/// thread switch, and a publish made on the loop (``publishIfReady(topic:payload:retain:onAcknowledged:)``
/// through `assumeIsolated`) is written to the socket at once. Writes from elsewhere go through
/// `Channel.write`, which is thread-safe and keeps the order of calls.
public actor MQTTClient {
    /// The configuration this client was created with.
    public nonisolated let configuration: MQTTClientConfiguration
    /// PUBLISH packets received for this client's subscriptions, in arrival order. QoS 1
    /// deliveries are acknowledged after they were handed to this stream. Unbounded buffer:
    /// consume it if you subscribe. Finishes when the client stops.
    public nonisolated let messages: AsyncStream<MQTTPublish>
    /// Connection events (newest 256 kept if nobody listens). Finishes when the client stops.
    public nonisolated let events: AsyncStream<MQTTClientEvent>

    private let messagesContinuation: AsyncStream<MQTTPublish>.Continuation
    private let eventsContinuation: AsyncStream<MQTTClientEvent>.Continuation
    /// The loop that runs this client's connections and is the actor's executor.
    public nonisolated let eventLoop: any EventLoop
    /// Held strongly: for loops that are not themselves executors NIO returns a wrapper object.
    private nonisolated let serialExecutor: any SerialExecutor
    /// Called on ``eventLoop`` for every PUBLISH received, before it is queued on ``messages``.
    private let onMessage: (@Sendable (MQTTPublish) -> Void)?
    /// The live channel, readable without actor hop (for cancellation handlers).
    private let liveChannel = Mutex<(any Channel)?>(nil)

    private enum RunState {
        case idle
        case running
        case finished(MQTTError)
    }

    private enum ConnectionState {
        case awaitingConnAck
        case ready
    }

    private struct Connection {
        var generation: Int
        var channel: any Channel
        var state: ConnectionState
    }

    /// One QoS 1 message that has not been acknowledged yet.
    private struct Outgoing {
        var publish: MQTTPublish
        var waiter: CheckedContinuation<Void, any Error>?
        /// Completion of ``publishIfReady(topic:payload:retain:onAcknowledged:)`` (instead of a waiter).
        var onAcknowledged: (@Sendable (Result<Void, MQTTError>) -> Void)?
        var sentBefore = false
    }

    private struct WindowWaiter {
        var token: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private var runState = RunState.idle
    private var shutdownRequested = false
    private var connection: Connection?
    private var generation = 0
    private var inFlight: [Outgoing] = []
    private var windowWaiters: [WindowWaiter] = []
    private var reservedSlots = 0
    private var nextToken = 0
    private var requests: [UInt16: CheckedContinuation<MQTTPacket, any Error>] = [:]
    private var usedPacketIDs = Set<UInt16>()
    private var nextPacketID: UInt16 = 1
    private var subscriptions: [MQTTSubscription] = []
    /// Identifiers of automatic re-subscriptions awaiting their SUBACK (no caller waits).
    private var renewalIDs = Set<UInt16>()
    private var connectedWaiters: [Int: CheckedContinuation<Void, any Error>] = [:]
    /// Callers of ``waitUntilInFlight(atLeast:)``: token → (count awaited, continuation).
    private var inFlightWaiters: [Int: (count: Int, continuation: CheckedContinuation<Void, any Error>)] = [:]

    /// - Parameters:
    ///   - configuration: broker address, credentials, timing; see ``MQTTClientConfiguration``.
    ///   - eventLoopGroup: where the connection runs (one loop of it, ``eventLoop``, which is
    ///     also the actor's executor); nil = NIO's shared `MultiThreadedEventLoopGroup.singleton`.
    ///   - onMessage: called on ``eventLoop`` with every PUBLISH received, right after it was
    ///     decoded and before it is queued on ``messages`` (e.g. to timestamp the receipt). Must
    ///     not block.
    public init(
        configuration: MQTTClientConfiguration,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        onMessage: (@Sendable (MQTTPublish) -> Void)? = nil
    ) {
        // Storage for the in-flight window allocated now, not at the first publish: the first
        // allocation of `Set<UInt16>` storage instantiates its generic metadata, a protocol-
        // conformance lookup that scans the whole binary (≈ 0.1–0.3 ms, perf of the first
        // in-process publish of an ingest daemon). It also spares the window its rehashes.
        let window = min(max(configuration.maxInFlight, 1), 1024)
        usedPacketIDs = Set(minimumCapacity: window + 4)
        inFlight.reserveCapacity(window)
        self.configuration = configuration
        let loop = (eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton).next()
        self.eventLoop = loop
        self.serialExecutor = loop.executor
        self.onMessage = onMessage
        (messages, messagesContinuation) = AsyncStream.makeStream(of: MQTTPublish.self)
        (events, eventsContinuation) = AsyncStream.makeStream(
            of: MQTTClientEvent.self, bufferingPolicy: .bufferingNewest(256)
        )
    }

    /// The actor runs on ``eventLoop``.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { serialExecutor.asUnownedSerialExecutor() }

    // MARK: - Public API

    /// Whether a connection is established (CONNACK accepted).
    public var isConnected: Bool {
        if case .ready = connection?.state { return true }
        return false
    }

    /// Number of QoS 1 messages sent or queued and not yet acknowledged.
    public var inFlightCount: Int { inFlight.count }

    /// Connects, keeps the connection alive and reconnects until ``disconnect()`` is called or
    /// the calling task is cancelled; then returns. Throws ``MQTTError/Code/connectionRefused``
    /// (with ``MQTTError/connectReturnCode``) when the broker refuses the CONNECT with a
    /// non-transient code (everything except 3, "server unavailable"), and
    /// ``MQTTError/Code/invalidConfiguration`` for a bad configuration or a second call.
    /// Messages still unacknowledged when it ends fail with that error or
    /// ``MQTTError/Code/clientShutDown``.
    public func run() async throws {
        guard case .idle = runState else {
            throw MQTTError(.invalidConfiguration, reason: "run() may be called only once per client, and not after disconnect()")
        }
        do {
            try configuration.validate()
        } catch {
            finish(error)
            throw error
        }
        runState = .running
        var attempt = 0
        while !shutdownRequested && !Task.isCancelled {
            var reachedConnAck = false
            var reason = "connection closed"
            do {
                reachedConnAck = try await withTaskCancellationHandler {
                    try await runOneConnection()
                } onCancel: {
                    liveChannel.withLock { $0?.close(promise: nil) }
                }
            } catch let error as MQTTError {
                reachedConnAck = connectionReachedConnAck()
                reason = error.description
                if error.code == .connectionRefused, !(error.connectReturnCode?.isTransient ?? false) {
                    endConnection(reason: reason)
                    finish(error)
                    throw error
                }
            } catch {
                reachedConnAck = connectionReachedConnAck()
                reason = String(describing: error)
            }
            endConnection(reason: reason)
            if reachedConnAck { attempt = 0 }
            if shutdownRequested || Task.isCancelled { break }
            await sleepUnlessStopped(configuration.reconnectDelay(attempt: attempt))
            attempt = min(attempt + 1, 64)
        }
        finish(MQTTError(.clientShutDown, reason: "the client was shut down"))
    }

    /// Publishes one message.
    ///
    /// - QoS 1: returns when the broker's PUBACK arrived; waits first for a free in-flight slot.
    ///   Survives disconnects (the message is re-sent after reconnect). If the calling task is
    ///   cancelled, the call throws `CancellationError` but a message already handed over stays
    ///   in flight and is still delivered.
    /// - QoS 0: returns once the packet is handed to the connection; throws
    ///   ``MQTTError/Code/notConnected`` without a connection.
    ///
    /// Throws ``MQTTError`` for an invalid topic or oversize payload before anything is sent,
    /// and ``MQTTError/Code/clientShutDown`` (or the refusal) if the client stops first.
    public func publish(
        topic: String,
        payload: ByteBuffer,
        qos: MQTTQoS = .atLeastOnce,
        retain: Bool = false
    ) async throws {
        var message = MQTTPublish(topic: topic, payload: payload, qos: qos, retain: retain)
        // Validate once, with a placeholder identifier, so a bad message never enters the queue.
        if qos != .atMostOnce { message.packetID = 1 }
        _ = try MQTTPacket.publish(message).validatedRemainingLength()
        try checkRunning()

        switch qos {
        case .atMostOnce:
            guard let connection, case .ready = connection.state else {
                throw MQTTError(.notConnected, packetType: .publish, reason: "QoS 0 publish without a connection")
            }
            message.packetID = nil
            connection.channel.writeAndFlush(MQTTPacket.publish(message), promise: nil)
        case .atLeastOnce:
            try await acquireWindowSlot()
            try checkRunning()
            let packetID = allocatePacketID()
            message.packetID = packetID
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    inFlight.append(Outgoing(publish: message, waiter: continuation))
                    resumeInFlightWaiters()
                    if let connection, case .ready = connection.state {
                        transmit(index: inFlight.count - 1, on: connection.channel)
                        connection.channel.flush()
                    }
                }
            } onCancel: {
                Task { await self.detachPublisher(packetID: packetID) }
            }
        case .exactlyOnce:
            throw MQTTError(.invalidQoS, packetType: .publish, reason: "this client publishes QoS 0 and 1 only")
        }
    }

    /// Publishes with QoS 1 at once, without suspending, if the client is connected and an
    /// in-flight slot is free (no earlier ``publish(topic:payload:qos:retain:)`` waiting for one);
    /// otherwise does nothing and returns false (use ``publish(topic:payload:qos:retain:)``).
    ///
    /// Synchronous and actor-isolated: call it on ``eventLoop`` through `assumeIsolated`, e.g.
    /// from a channel handler that runs on that loop. The packet is then written and flushed to
    /// the socket before the call returns. Once accepted, the message behaves like one passed to
    /// `publish` (re-sent after reconnects until its PUBACK); `onAcknowledged` is called on
    /// ``eventLoop`` with success at the PUBACK, or with the error that stopped the client.
    /// - Throws: ``MQTTError`` for an invalid topic or an oversize payload.
    public func publishIfReady(
        topic: String,
        payload: ByteBuffer,
        retain: Bool = false,
        onAcknowledged: @escaping @Sendable (Result<Void, MQTTError>) -> Void
    ) throws(MQTTError) -> Bool {
        guard case .running = runState, !shutdownRequested,
              let connection, case .ready = connection.state,
              windowWaiters.isEmpty, inFlight.count + reservedSlots < configuration.maxInFlight
        else { return false }
        let index = try admitImmediate(topic: topic, payload: payload, retain: retain, onAcknowledged: onAcknowledged)
        transmit(index: index, on: connection.channel)
        connection.channel.flush()
        return true
    }

    /// Runs the in-memory steps of ``publishIfReady(topic:payload:retain:onAcknowledged:)`` and
    /// of its PUBACK once, without a connection, so that the first real publish of the process
    /// does not pay their one-time costs (generic metadata of the window's storage, the
    /// PUBLISH encoder's code; in a daemon that published nothing yet, 0.3–0.6 ms): validation,
    /// packet identifier, in-flight entry, the PUBLISH encoded (``MQTTPacket/encode(into:)``,
    /// the encoder the connection uses) into a scratch buffer, then the PUBACK bookkeeping.
    /// Nothing is written anywhere and `onAcknowledged` of a real publish is not involved;
    /// afterwards the client is as before.
    ///
    /// Only on a client that has not run (``run()`` not called): call it on a throwaway client
    /// on ``eventLoop`` (through `assumeIsolated`, like ``publishIfReady(topic:payload:retain:onAcknowledged:)``).
    /// - Returns: the size of the encoded PUBLISH in bytes, or nil (did nothing) when the client
    ///   has run or has messages.
    /// - Throws: ``MQTTError`` for an invalid topic or an oversize payload (nothing changed).
    public func warmUpPublishPath(topic: String, payload: ByteBuffer) throws(MQTTError) -> Int? {
        guard case .idle = runState, !shutdownRequested, connection == nil, inFlight.isEmpty, usedPacketIDs.isEmpty
        else { return nil }
        let firstPacketID = nextPacketID
        defer {
            inFlight.removeAll(keepingCapacity: true)
            usedPacketIDs.removeAll(keepingCapacity: true)
            nextPacketID = firstPacketID
        }
        let index = try admitImmediate(topic: topic, payload: payload, retain: false, onAcknowledged: { _ in })
        var buffer = ByteBufferAllocator().buffer(capacity: 0)
        try packetForTransmission(index: index).encode(into: &buffer)
        guard let packetID = inFlight[index].publish.packetID else { return nil }
        acknowledge(packetID: packetID)
        return buffer.readableBytes
    }

    /// The state part of ``publishIfReady(topic:payload:retain:onAcknowledged:)``: validates the
    /// message, gives it a packet identifier and appends it to the in-flight list; returns its index.
    private func admitImmediate(
        topic: String, payload: ByteBuffer, retain: Bool,
        onAcknowledged: @escaping @Sendable (Result<Void, MQTTError>) -> Void
    ) throws(MQTTError) -> Int {
        var message = MQTTPublish(topic: topic, payload: payload, qos: .atLeastOnce, retain: retain)
        message.packetID = 1
        _ = try MQTTPacket.publish(message).validatedRemainingLength()
        message.packetID = allocatePacketID()
        inFlight.append(Outgoing(publish: message, waiter: nil, onAcknowledged: onAcknowledged))
        resumeInFlightWaiters()
        return inFlight.count - 1
    }

    /// Subscribes and returns the broker's per-filter return codes (granted QoS or failure).
    /// Requires a connection (see ``waitUntilConnected()``). Filters granted are remembered and
    /// re-subscribed automatically after a reconnect that has no session present. Matching
    /// messages arrive on ``messages``. QoS 2 is requested as QoS 1.
    public func subscribe(_ subscriptions: [MQTTSubscription]) async throws -> [MQTTSubAckReturnCode] {
        let requested = subscriptions.map { MQTTSubscription(topicFilter: $0.topicFilter, qos: min($0.qos, .atLeastOnce)) }
        let probe = MQTTPacket.subscribe(MQTTSubscribe(packetID: 1, subscriptions: requested))
        _ = try probe.validatedRemainingLength()
        let response = try await request { packetID in
            .subscribe(MQTTSubscribe(packetID: packetID, subscriptions: requested))
        }
        guard case .suback(let suback) = response, suback.returnCodes.count == requested.count else {
            throw MQTTError(.protocolViolation, packetType: .suback, reason: "SUBACK does not match the SUBSCRIBE")
        }
        for (subscription, code) in zip(requested, suback.returnCodes) {
            guard case .granted = code else { continue }
            self.subscriptions.removeAll { $0.topicFilter == subscription.topicFilter }
            self.subscriptions.append(subscription)
        }
        return suback.returnCodes
    }

    /// Removes subscriptions; returns when UNSUBACK arrives.
    public func unsubscribe(_ topicFilters: [String]) async throws {
        _ = try MQTTPacket.unsubscribe(MQTTUnsubscribe(packetID: 1, topicFilters: topicFilters)).validatedRemainingLength()
        subscriptions.removeAll { topicFilters.contains($0.topicFilter) }
        _ = try await request { packetID in .unsubscribe(MQTTUnsubscribe(packetID: packetID, topicFilters: topicFilters)) }
    }

    /// Suspends until the client is connected (returns at once if it is). Throws if the client
    /// stops first, or `CancellationError`.
    public func waitUntilConnected() async throws {
        if isConnected { return }
        try checkRunning()
        let token = makeToken()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                connectedWaiters[token] = continuation
            }
        } onCancel: {
            Task { await self.cancelConnectedWaiter(token: token) }
        }
    }

    /// Suspends until at least `count` QoS 1 messages are in flight (queued or sent, not yet
    /// acknowledged); returns at once if they are. Woken when a message enters the in-flight
    /// list, so monitoring and tests need not poll ``inFlightCount``. Throws if the client stops
    /// first, or `CancellationError`.
    public func waitUntilInFlight(atLeast count: Int) async throws {
        if inFlight.count >= count { return }
        try checkRunning()
        let token = makeToken()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                inFlightWaiters[token] = (count, continuation)
            }
        } onCancel: {
            Task { await self.cancelInFlightWaiter(token: token) }
        }
    }

    /// Sends DISCONNECT (if connected), closes the connection and makes ``run()`` return.
    /// Unacknowledged QoS 1 messages fail with ``MQTTError/Code/clientShutDown``.
    public func disconnect() {
        shutdownRequested = true
        if let connection {
            if case .ready = connection.state {
                connection.channel.writeAndFlush(MQTTPacket.disconnect, promise: nil)
            }
            connection.channel.close(promise: nil)
        }
        if case .idle = runState {
            finish(MQTTError(.clientShutDown, reason: "the client was shut down before run()"))
        }
    }

    // MARK: - Connection loop

    /// Runs one TCP connection from connect to close. Returns whether CONNACK was accepted.
    private func runOneConnection() async throws -> Bool {
        generation += 1
        let generation = self.generation
        let (packets, packetSink) = AsyncThrowingStream.makeStream(of: MQTTPacket.self)
        let maximumPacketSize = configuration.maximumPacketSize
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let keepAlive: TimeAmount? = configuration.keepAlive > .zero ? TimeAmount(configuration.keepAlive) : nil
        let pingTimeout = TimeAmount(min(configuration.pingTimeout, configuration.keepAlive))
        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(MQTTPacketDecoder(maximumPacketSize: maximumPacketSize))
                    )
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MQTTPacketEncoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        MQTTConnectionTimersHandler(
                            connectTimeout: connectTimeout, keepAlive: keepAlive, pingTimeout: pingTimeout
                        )
                    )
                    try channel.pipeline.syncOperations.addHandler(MQTTPacketStreamBridge(sink: packetSink))
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .get()
        connection = Connection(generation: generation, channel: channel, state: .awaitingConnAck)
        liveChannel.withLock { $0 = channel }
        if shutdownRequested || Task.isCancelled {
            channel.close(promise: nil)
        }

        let connect = MQTTConnect(
            clientID: configuration.clientID, cleanSession: configuration.cleanSession,
            keepAliveSeconds: configuration.keepAliveSeconds, username: configuration.username,
            password: configuration.password, will: configuration.will
        )
        channel.writeAndFlush(MQTTPacket.connect(connect), promise: nil)

        do {
            for try await packet in packets {
                try handle(packet, generation: generation)
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
        channel.close(promise: nil)
        return connectionReachedConnAck()
    }

    private func connectionReachedConnAck() -> Bool {
        if case .ready = connection?.state { return true }
        return false
    }

    /// Processes one packet from the broker (actor-isolated, so in order).
    private func handle(_ packet: MQTTPacket, generation: Int) throws(MQTTError) {
        guard let current = connection, current.generation == generation else { return }
        if case .awaitingConnAck = current.state {
            guard case .connack(let connack) = packet else {
                throw MQTTError(.protocolViolation, packetType: packet.type, reason: "\(packet.type) before CONNACK ([MQTT-3.2.0-1])")
            }
            guard connack.returnCode == .accepted else {
                throw MQTTError(
                    .connectionRefused, packetType: .connack, connectReturnCode: connack.returnCode,
                    reason: "broker refused the connection with return code \(connack.returnCode)"
                )
            }
            connection?.state = .ready
            resendInFlight(on: current.channel)
            if !connack.sessionPresent && !subscriptions.isEmpty {
                // The broker forgot our subscriptions: renew them. The SUBACK has no waiter.
                let packetID = allocatePacketID()
                renewalIDs.insert(packetID)
                current.channel.writeAndFlush(
                    MQTTPacket.subscribe(MQTTSubscribe(packetID: packetID, subscriptions: subscriptions)), promise: nil
                )
            }
            eventsContinuation.yield(.connected(sessionPresent: connack.sessionPresent))
            let waiters = connectedWaiters
            connectedWaiters = [:]
            for waiter in waiters.values { waiter.resume() }
            return
        }
        switch packet {
        case .puback(let packetID):
            acknowledge(packetID: packetID)
        case .publish(let message):
            onMessage?(message)
            messagesContinuation.yield(message)
            switch message.qos {
            case .atMostOnce:
                break
            case .atLeastOnce:
                if let packetID = message.packetID {
                    current.channel.writeAndFlush(MQTTPacket.puback(packetID: packetID), promise: nil)
                }
            case .exactlyOnce:
                throw MQTTError(.protocolViolation, packetType: .publish, reason: "QoS 2 PUBLISH although we subscribe with QoS ≤ 1")
            }
        case .suback(let suback):
            if let waiter = requests.removeValue(forKey: suback.packetID) {
                usedPacketIDs.remove(suback.packetID)
                waiter.resume(returning: packet)
            } else if renewalIDs.remove(suback.packetID) != nil {
                usedPacketIDs.remove(suback.packetID)
            }
        case .unsuback(let packetID):
            if let waiter = requests.removeValue(forKey: packetID) {
                usedPacketIDs.remove(packetID)
                waiter.resume(returning: packet)
            }
        case .pingresp:
            break  // timed by MQTTConnectionTimersHandler on the event loop
        default:
            throw MQTTError(.protocolViolation, packetType: packet.type, reason: "a broker does not send \(packet.type) to a client")
        }
    }

    /// Writes in-flight message `index`, with DUP set if it was sent before (caller flushes).
    private func transmit(index: Int, on channel: any Channel) {
        channel.write(packetForTransmission(index: index), promise: nil)
    }

    /// In-flight message `index` as a PUBLISH packet, with DUP set if it was sent before; marks it sent.
    private func packetForTransmission(index: Int) -> MQTTPacket {
        var message = inFlight[index].publish
        message.dup = inFlight[index].sentBefore
        inFlight[index].sentBefore = true
        return .publish(message)
    }

    /// A PUBACK for `packetID`: the message leaves the window, its publisher is resumed.
    private func acknowledge(packetID: UInt16) {
        guard let index = inFlight.firstIndex(where: { $0.publish.packetID == packetID }) else { return }
        let done = inFlight.remove(at: index)
        usedPacketIDs.remove(packetID)
        done.waiter?.resume()
        done.onAcknowledged?(.success(()))
        admitWindowWaiters()
    }

    /// After CONNACK: every unacknowledged QoS 1 message, oldest first, before anything new.
    private func resendInFlight(on channel: any Channel) {
        guard !inFlight.isEmpty else { return }
        for index in inFlight.indices { transmit(index: index, on: channel) }
        channel.flush()
    }

    /// Tears down the state of the ended connection.
    private func endConnection(reason: String) {
        if connection != nil {
            connection?.channel.close(promise: nil)
            connection = nil
            liveChannel.withLock { $0 = nil }
        }
        for packetID in renewalIDs { usedPacketIDs.remove(packetID) }
        renewalIDs = []
        let pending = requests
        requests = [:]
        for (packetID, waiter) in pending {
            usedPacketIDs.remove(packetID)
            waiter.resume(throwing: MQTTError(.connectionClosed, reason: "connection closed before the acknowledgement: \(reason)"))
        }
        eventsContinuation.yield(.disconnected(reason: reason))
    }

    /// Stops the client for good: fails every waiter with `error` and finishes the streams.
    private func finish(_ error: MQTTError) {
        if case .finished = runState { return }
        runState = .finished(error)
        let outgoing = inFlight
        inFlight = []
        for entry in outgoing {
            entry.waiter?.resume(throwing: error)
            entry.onAcknowledged?(.failure(error))
        }
        let windows = windowWaiters
        windowWaiters = []
        for waiter in windows { waiter.continuation.resume(throwing: error) }
        let pending = requests
        requests = [:]
        for waiter in pending.values { waiter.resume(throwing: error) }
        let connecting = connectedWaiters
        connectedWaiters = [:]
        for waiter in connecting.values { waiter.resume(throwing: error) }
        let inFlightWaiting = inFlightWaiters
        inFlightWaiters = [:]
        for waiter in inFlightWaiting.values { waiter.continuation.resume(throwing: error) }
        usedPacketIDs = []
        messagesContinuation.finish()
        eventsContinuation.finish()
    }

    private func checkRunning() throws(MQTTError) {
        if case .finished(let error) = runState { throw error }
        if shutdownRequested { throw MQTTError(.clientShutDown, reason: "the client is shutting down") }
    }

    private func sleepUnlessStopped(_ delay: Duration) async {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: delay)
        while !shutdownRequested && !Task.isCancelled && clock.now < deadline {
            let step = min(deadline - clock.now, .milliseconds(20))
            try? await Task.sleep(for: step)
        }
    }

    // MARK: - Packet identifiers, window, requests

    /// Next free non-zero identifier (§2.3.1), cycling through 1…65535.
    private func allocatePacketID() -> UInt16 {
        while usedPacketIDs.contains(nextPacketID) || nextPacketID == 0 {
            nextPacketID &+= 1
        }
        let packetID = nextPacketID
        usedPacketIDs.insert(packetID)
        nextPacketID &+= 1
        return packetID
    }

    private func makeToken() -> Int {
        nextToken += 1
        return nextToken
    }

    /// Waits (FIFO) until fewer than `maxInFlight` QoS 1 messages are unacknowledged.
    private func acquireWindowSlot() async throws {
        if windowWaiters.isEmpty && inFlight.count + reservedSlots < configuration.maxInFlight { return }
        let token = makeToken()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                windowWaiters.append(WindowWaiter(token: token, continuation: continuation))
            }
        } onCancel: {
            Task { await self.cancelWindowWaiter(token: token) }
        }
        // admitWindowWaiters reserved a slot for us; it becomes an in-flight entry now.
        reservedSlots -= 1
        if Task.isCancelled {
            admitWindowWaiters()
            throw CancellationError()
        }
    }

    private func admitWindowWaiters() {
        while !windowWaiters.isEmpty && inFlight.count + reservedSlots < configuration.maxInFlight {
            let waiter = windowWaiters.removeFirst()
            reservedSlots += 1
            waiter.continuation.resume()
        }
    }

    private func cancelWindowWaiter(token: Int) {
        guard let index = windowWaiters.firstIndex(where: { $0.token == token }) else { return }
        let waiter = windowWaiters.remove(at: index)
        waiter.continuation.resume(throwing: CancellationError())
    }

    private func detachPublisher(packetID: UInt16) {
        guard let index = inFlight.firstIndex(where: { $0.publish.packetID == packetID }) else { return }
        inFlight[index].waiter?.resume(throwing: CancellationError())
        inFlight[index].waiter = nil
    }

    private func cancelConnectedWaiter(token: Int) {
        connectedWaiters.removeValue(forKey: token)?.resume(throwing: CancellationError())
    }

    private func cancelInFlightWaiter(token: Int) {
        inFlightWaiters.removeValue(forKey: token)?.continuation.resume(throwing: CancellationError())
    }

    /// Resumes the ``waitUntilInFlight(atLeast:)`` callers whose count is reached.
    private func resumeInFlightWaiters() {
        guard !inFlightWaiters.isEmpty else { return }
        let ready = inFlightWaiters.filter { $0.value.count <= inFlight.count }
        for token in ready.keys { inFlightWaiters.removeValue(forKey: token) }
        for waiter in ready.values { waiter.continuation.resume() }
    }

    /// Sends a SUBSCRIBE/UNSUBSCRIBE and waits for the acknowledgement with the same identifier.
    private func request(_ makePacket: (UInt16) -> MQTTPacket) async throws -> MQTTPacket {
        try checkRunning()
        guard let connection, case .ready = connection.state else {
            throw MQTTError(.notConnected, reason: "subscribe/unsubscribe need a connection")
        }
        let packetID = allocatePacketID()
        let packet = makePacket(packetID)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<MQTTPacket, any Error>) in
                requests[packetID] = continuation
                connection.channel.writeAndFlush(packet, promise: nil)
            }
        } onCancel: {
            Task { await self.cancelRequest(packetID: packetID) }
        }
    }

    private func cancelRequest(packetID: UInt16) {
        // The identifier stays reserved until the acknowledgement or the connection's end.
        requests.removeValue(forKey: packetID)?.resume(throwing: CancellationError())
    }
}

/// Forwards decoded packets from the channel into an `AsyncThrowingStream` and ends it when
/// the channel closes or fails. Confined to its channel's event loop.
final class MQTTPacketStreamBridge: ChannelInboundHandler {
    typealias InboundIn = MQTTPacket

    private let sink: AsyncThrowingStream<MQTTPacket, any Error>.Continuation

    init(sink: AsyncThrowingStream<MQTTPacket, any Error>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sink.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sink.finish(throwing: error)
        context.close(promise: nil)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        sink.finish()
    }
}

@available(*, unavailable)
extension MQTTPacketStreamBridge: Sendable {}
