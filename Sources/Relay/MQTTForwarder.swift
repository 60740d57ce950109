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
/// - PUBACKs are written to the outbox in batches by ``runAckWriter()``.
final class MQTTForwarder: Sendable {
    let clientConfiguration: MQTTClientConfiguration
    let topicPrefix: String
    let outbox: RelayOutbox
    let tracker: UnackedTracker
    let metrics: RelayMetrics
    let logger: Logger
    /// How long a graceful stop waits for outstanding PUBACKs.
    let drainTimeout: Duration

    private let queue = BatchQueue<OutboxEntry>()
    private let acks = BatchQueue<(Int64, Timestamp)>()
    private let connectedFlag = Atomic<Bool>(false)
    private let everConnected = Atomic<Bool>(false)
    private let lastError = Mutex<String>("not connected yet")

    init(clientConfiguration: MQTTClientConfiguration, topicPrefix: String, outbox: RelayOutbox, tracker: UnackedTracker,
         metrics: RelayMetrics, logger: Logger, drainTimeout: Duration = .seconds(5)) {
        self.clientConfiguration = clientConfiguration
        self.topicPrefix = topicPrefix
        self.outbox = outbox
        self.tracker = tracker
        self.metrics = metrics
        self.logger = logger
        self.drainTimeout = drainTimeout
    }

    /// Whether the broker connection is up.
    var isConnected: Bool { connectedFlag.load(ordering: .relaxed) }
    /// The last disconnect reason (for /health).
    var lastDisconnectReason: String { lastError.withLock { $0 } }

    /// Queues a newly committed entry.
    func enqueue(_ entry: OutboxEntry) { queue.push(entry) }

    /// Graceful stop: publish what is queued, wait up to ``drainTimeout`` for PUBACKs, return.
    func finish() { queue.finish() }

    /// Runs until ``finish()`` (then drains) or cancellation.
    func run() async {
        var failures = 0
        while !Task.isCancelled {
            let client = MQTTClient(configuration: clientConfiguration)
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
                    let now = Timestamp.wallClockNow()
                    if self.tracker.acknowledge(sequence: entry.sequence) {
                        self.metrics.queueDepth.set(Double(self.tracker.count))
                    }
                    self.metrics.mqttLatency.recordNanoseconds(now.nanosecondsSinceEpoch - entry.receivedAt.nanosecondsSinceEpoch)
                    self.acks.push((entry.sequence, now))
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
            while !Task.isCancelled, let batch = await queue.next() {
                for entry in batch where entry.sequence > lastDispatched {
                    await dispatch(entry)
                }
            }
            if Task.isCancelled || running == 0 { return }
            // Graceful stop: wait for outstanding PUBACKs, at most drainTimeout (not at all
            // without a broker connection: they stay pending in the outbox either way).
            if !isConnected {
                logger.warning("stopping while disconnected; unacknowledged entries stay in the outbox",
                               metadata: ["pending": "\(running)"])
                publishes.cancelAll()
                return
            }
            let timeout = drainTimeout
            publishes.addTask {
                try? await Task.sleep(for: timeout)
                return .drainTimeout
            }
            while running > 0, let end = await publishes.next() {
                if case .drainTimeout = end {
                    logger.warning("stopping with unacknowledged publishes; they stay in the outbox",
                                   metadata: ["pending": "\(running)"])
                    break
                }
                running -= 1
            }
            publishes.cancelAll()
        }
    }
}
