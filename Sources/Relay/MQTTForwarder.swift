public import Alerting
import Logging
import MQTT
import NIOCore
import Prometheus
import SeismicCore
import Synchronization

/// MQTT topics of the relay (documented in docs/relay.md).
public enum RelayTopics {
    /// `<prefix>/warnings/<status>/<level>` for a warning's signed JSON envelope and
    /// `<prefix>/cap/<status>/<level>` for a signed CAP envelope; status lowercased
    /// (`actual`, `exercise`, `test`), level `none|blue|yellow|orange|red` (highest over targets).
    public static func topic(prefix: String, kind: OutboxPayloadKind, status: WarningStatus, level: WarningLevel) -> String {
        let branch = kind == .warning ? "warnings" : "cap"
        return "\(prefix)/\(branch)/\(status.rawValue.lowercased())/\(level.rawValue)"
    }
}

/// Publishes outbox entries to the broker with QoS 1 and marks them delivered on PUBACK.
///
/// - On start and after every replacement of the broker client, it first publishes every
///   pending outbox entry in receive order, then new entries as they are accepted.
/// - At most `window` publishes are outstanding (their PUBACK not yet received); the
///   ``MQTTClient`` re-sends its unacknowledged messages, oldest first, after each reconnect.
///   Outstanding publishes run as concurrent tasks, so their order on the wire is the order in
///   which they reach the client: receive order in practice, not guaranteed (consumers order by
///   update number, and QoS 1 allows duplicates anyway).
/// - When the broker refuses the connection for good (bad credentials) the client ends; the
///   forwarder waits the maximum reconnect delay and starts a new client, which re-reads the
///   outbox. Nothing is lost: the outbox is the source of truth until PUBACK.
/// - **Immediate publish.** The broker client runs on the relay's input event loop
///   (`eventLoopGroup`). ``enqueue(_:)``, called on that loop right after the outbox commit,
///   writes the PUBLISH to the broker socket at once (``MQTTClient/publishIfReady(topic:payload:retain:onAcknowledged:)``)
///   when the client is connected, an in-flight slot is free and the forwarder's queue is
///   drained: no thread or task hop between the commit and the socket. Otherwise the entry goes
///   to the queue, and the immediate path stays closed until the publishing task drained it.
/// - PUBACKs are written to the outbox in batches by ``runAckWriter()``, at most one
///   transaction per ``ackBatchInterval``, so delivery marks rarely hold the writer when an
///   input commit wants it.
final class MQTTForwarder: Sendable {
    let clientConfiguration: MQTTClientConfiguration
    let topicPrefix: String
    let outbox: RelayOutbox
    let tracker: UnackedTracker
    let metrics: RelayMetrics
    let logger: Logger
    /// How long a graceful stop waits for outstanding PUBACKs.
    let drainTimeout: Duration
    /// The loop group of the broker client (the input loop, for immediate publishes).
    let eventLoopGroup: (any EventLoopGroup)?
    /// Minimum time between two delivery-mark transactions.
    let ackBatchInterval: Duration

    // Capacity reserved at start: the first warning's publish and PUBACK do not allocate them.
    private let queue = BatchQueue<OutboxEntry>(capacity: 16)
    private let acks = BatchQueue<(Int64, Timestamp)>(capacity: 64)
    private let connectedFlag = Atomic<Bool>(false)
    private let everConnected = Atomic<Bool>(false)
    private let lastError = Mutex<String>("not connected yet")
    /// The current broker client, for immediate publishes.
    private let currentClient = Mutex<MQTTClient?>(nil)
    /// Open when the current client replayed the pending entries and the queue is drained.
    private let immediateOpen = Atomic<Bool>(false)
    /// The throwaway client of ``warmUpImmediatePublish(sample:on:)`` and its loop, kept for the
    /// next call (the daemon's keep-warm runs it every few milliseconds; the client is left as it
    /// was after each call).
    private let warmUpClient = Mutex<(client: MQTTClient, loop: any EventLoop)?>(nil)

    init(clientConfiguration: MQTTClientConfiguration, topicPrefix: String, outbox: RelayOutbox, tracker: UnackedTracker,
         metrics: RelayMetrics, logger: Logger, drainTimeout: Duration = .seconds(5),
         eventLoopGroup: (any EventLoopGroup)? = nil, ackBatchInterval: Duration = .milliseconds(20)) {
        self.clientConfiguration = clientConfiguration
        self.topicPrefix = topicPrefix
        self.outbox = outbox
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.eventLoopGroup = eventLoopGroup
        self.ackBatchInterval = ackBatchInterval
    }

    /// Whether the broker connection is up.
    var isConnected: Bool { connectedFlag.load(ordering: .relaxed) }
    /// The last disconnect reason (for /health).
    var lastDisconnectReason: String { lastError.withLock { $0 } }

    /// Hands over a newly committed entry: publishes it at once when called on the client's
    /// event loop with the immediate path open (returns true), else queues it (returns false).
    @discardableResult
    func enqueue(_ entry: OutboxEntry) -> Bool {
        if immediateOpen.load(ordering: .acquiring), let client = currentClient.withLock({ $0 }), client.eventLoop.inEventLoop {
            let sent = publishImmediately(entry, through: client) { [self] result in
                if case .success = result { acknowledged(entry) }
                // On failure the client stopped: the entry stays pending and the next client re-sends it.
            }
            if sent { return true }
            // Not connected or window full: queue until the publishing task has caught up.
            immediateOpen.store(false, ordering: .releasing)
        }
        queue.push(entry)
        return false
    }

    /// ``MQTTClient/publishIfReady(topic:payload:retain:onAcknowledged:)`` of `entry` on the
    /// client's loop (the immediate path of ``enqueue(_:)``); false when it did not publish.
    private func publishImmediately(_ entry: OutboxEntry, through client: MQTTClient,
                                    onAcknowledged: @escaping @Sendable (Result<Void, MQTTError>) -> Void) -> Bool {
        let topic = RelayTopics.topic(prefix: topicPrefix, kind: entry.kind, status: entry.status, level: entry.level)
        let payload = ByteBuffer(bytes: entry.envelope)
        return (try? client.assumeIsolated { client in
            try client.publishIfReady(topic: topic, payload: payload, onAcknowledged: onAcknowledged)
        }) ?? false
    }

    /// Runs the immediate publish path of ``enqueue(_:)`` once, on `sample`, without a broker and
    /// without sending anything, so that the first warning's PUBLISH does not pay one-time
    /// costs. In perf of an ingest daemon, the first PUBLISH took 0.3–0.6 ms after the commit
    /// against ≈ 0.05 ms later, nearly all of it generic-metadata instantiation (protocol-
    /// conformance lookups over the whole binary) on first use of the code's types.
    ///
    /// A throwaway ``MQTTClient`` on `loop` (never run, never connected; made at the first call
    /// and kept for the next ones, which find it as it was) takes `sample` through
    /// the same `publishIfReady` call as a real entry (it declines: not connected) and then
    /// through ``MQTTClient/warmUpPublishPath(topic:payload:)`` (validation, packet identifier,
    /// in-flight entry, the PUBLISH encoded into a scratch buffer, the PUBACK bookkeeping).
    /// Nothing reaches the broker, the outbox, the tracker or the metrics.
    /// Call it on `loop`, the relay's input loop (the broker client's loop).
    /// - Returns: the encoded size of the sample PUBLISH; nil when not called on `loop` or when
    ///   the warm-up failed (not fatal: the first real warning pays instead).
    func warmUpImmediatePublish(sample: OutboxEntry, on loop: any EventLoop) -> Int? {
        guard loop.inEventLoop else { return nil }
        let client = warmUpClient.withLock { kept in
            if let kept, kept.loop === loop { return kept.client }
            let made = MQTTClient(configuration: clientConfiguration, eventLoopGroup: loop)
            kept = (made, loop)
            return made
        }
        guard client.eventLoop.inEventLoop else { return nil }
        guard !publishImmediately(sample, through: client, onAcknowledged: { _ in }) else { return nil }
        let topic = RelayTopics.topic(prefix: topicPrefix, kind: sample.kind, status: sample.status, level: sample.level)
        let payload = ByteBuffer(bytes: sample.envelope)
        return (try? client.assumeIsolated { client in try client.warmUpPublishPath(topic: topic, payload: payload) }) ?? nil
    }

    /// PUBACK received for `entry`.
    private func acknowledged(_ entry: OutboxEntry) {
        let now = Timestamp.wallClockNow()
        if tracker.acknowledge(sequence: entry.sequence) {
            metrics.queueDepth.set(Double(tracker.count))
        }
        metrics.mqttLatency.recordNanoseconds(now.nanosecondsSinceEpoch - entry.receivedAt.nanosecondsSinceEpoch)
        acks.push((entry.sequence, now))
    }

    /// Graceful stop: publish what is queued, wait up to ``drainTimeout`` for PUBACKs, return.
    func finish() { queue.finish() }

    /// Runs until ``finish()`` (then drains) or cancellation.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            let client = MQTTClient(configuration: clientConfiguration, eventLoopGroup: eventLoopGroup)
            let stoppedForGood = await runClient(client)
            if stoppedForGood || Task.isCancelled { break }
            failures += 1
            let delay = clientConfiguration.reconnectDelay(attempt: 64)
            logger.error("broker client ended; starting a new one", metadata: [
                "reason": "\(lastDisconnectReason)", "retryInSeconds": "\(delay)", "failures": "\(failures)",
            ])
            try? await Task.sleep(for: delay)
        }
        acks.finish()
    }

    /// Writes PUBACKs to the outbox in batches; returns after ``run()`` ended and all are written.
    func runAckWriter() async {
        while let batch = await acks.next() {
            guard let time = batch.last?.1 else { continue }
            do {
                try outbox.markDelivered(batch.map(\.0), at: time)
            } catch {
                logger.error("cannot mark deliveries in the outbox (they will be re-sent after a restart)",
                             metadata: ["error": "\(error)"])
            }
            // Let PUBACKs accumulate: fewer transactions competing with input commits for the writer.
            if !acks.isFinished { try? await Task.sleep(for: ackBatchInterval) }
        }
    }

    private enum Ending: Sendable {
        case publisherDone
        case clientEnded
        case eventsEnded
    }

    /// One broker client from start to end. Returns true when the forwarder should stop.
    private func runClient(_ client: MQTTClient) async -> Bool {
        await withTaskGroup(of: Ending.self) { group in
            group.addTask {
                do {
                    try await client.run()
                } catch {
                    self.lastError.withLock { $0 = "\(error)" }
                }
                return .clientEnded
            }
            group.addTask {
                for await event in client.events {
                    switch event {
                    case .connected:
                        self.connectedFlag.store(true, ordering: .relaxed)
                        self.metrics.connected.set(1.0)
                        if self.everConnected.exchange(true, ordering: .relaxed) { self.metrics.reconnects.increment() }
                        self.logger.info("connected to the broker",
                                         metadata: ["host": "\(self.clientConfiguration.host)", "port": "\(self.clientConfiguration.port)"])
                    case .disconnected(let reason):
                        self.connectedFlag.store(false, ordering: .relaxed)
                        self.metrics.connected.set(0.0)
                        self.lastError.withLock { $0 = reason }
                        self.logger.warning("broker connection lost", metadata: ["reason": "\(reason)"])
                    }
                }
                return .eventsEnded
            }
            group.addTask {
                await self.publish(through: client)
                return .publisherDone
            }
            currentClient.withLock { $0 = client }
            var stop = false
            var clientEnded = false
            while let ending = await group.next() {
                switch ending {
                case .publisherDone:
                    // Finished (graceful stop) or cancelled: end the client too.
                    if !clientEnded {
                        stop = true
                        await client.disconnect()
                    }
                case .clientEnded:
                    // Refused for good, or cancelled: stop publishing through this client.
                    clientEnded = true
                    group.cancelAll()
                case .eventsEnded:
                    break
                }
            }
            immediateOpen.store(false, ordering: .releasing)
            currentClient.withLock { $0 = nil }
            connectedFlag.store(false, ordering: .relaxed)
            metrics.connected.set(0.0)
            return stop || queue.isFinished
        }
    }

    private enum PublishEnd: Sendable {
        case published
        case drainTimeout
    }

    /// Publishes pending entries, then new ones, through `client`, at most `window` at a time.
    /// Returns when the queue is finished and every publish ended (or the drain timeout passed),
    /// or when cancelled.
    private func publish(through client: MQTTClient) async {
        let window = clientConfiguration.maxInFlight
        await withTaskGroup(of: PublishEnd.self) { publishes in
            var running = 0
            var lastDispatched: Int64 = 0
            func dispatch(_ entry: OutboxEntry) async {
                if running >= window {
                    _ = await publishes.next()
                    running -= 1
                }
                running += 1
                lastDispatched = entry.sequence
                let topic = RelayTopics.topic(prefix: topicPrefix, kind: entry.kind, status: entry.status, level: entry.level)
                publishes.addTask {
                    do {
                        try await client.publish(topic: topic, payload: ByteBuffer(bytes: entry.envelope), qos: .atLeastOnce)
                    } catch {
                        return .published  // client ended or cancelled: the entry stays pending in the outbox
                    }
                    self.acknowledged(entry)
                    return .published
                }
            }
            do {
                for entry in try outbox.pending() {
                    if Task.isCancelled { break }
                    tracker.add(sequence: entry.sequence, receivedAt: entry.receivedAt)
                    await dispatch(entry)
                }
            } catch {
                logger.error("cannot read pending outbox entries", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                // Caught up: let the input thread publish directly until the window fills.
                if queue.isEmptyAndOpen { immediateOpen.store(true, ordering: .releasing) }
                guard let batch = await queue.next() else { break }
                for entry in batch where entry.sequence > lastDispatched {
                    await dispatch(entry)
                }
            }
            immediateOpen.store(false, ordering: .releasing)
            if Task.isCancelled { return }
            let immediateInFlight = await client.inFlightCount
            if running == 0 && immediateInFlight == 0 { return }
            // Graceful stop: wait for outstanding PUBACKs, at most drainTimeout (not at all
            // without a broker connection: they stay pending in the outbox either way).
            if !isConnected {
                logger.warning("stopping while disconnected; unacknowledged entries stay in the outbox",
                               metadata: ["pending": "\(running)"])
                publishes.cancelAll()
                return
            }
            let timeout = drainTimeout
            let deadline = ContinuousClock.now + timeout
            publishes.addTask {
                try? await Task.sleep(for: timeout)
                return .drainTimeout
            }
            var timedOut = false
            while running > 0, let end = await publishes.next() {
                if case .drainTimeout = end {
                    timedOut = true
                    break
                }
                running -= 1
            }
            // Immediate publishes are not tasks here: wait for the client's in-flight list.
            while !timedOut, await client.inFlightCount > 0 {
                if ContinuousClock.now >= deadline || !isConnected {
                    timedOut = true
                    break
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
            if timedOut {
                let unacknowledged = max(running, await client.inFlightCount)
                logger.warning("stopping with unacknowledged publishes; they stay in the outbox",
                               metadata: ["pending": "\(unacknowledged)"])
            }
            publishes.cancelAll()
        }
    }
}
