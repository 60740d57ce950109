import Alerting
public import Foundation
public import Logging
import MQTT
import NIOCore
public import NIOPosix
import SeismicCore
public import Observability
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// The forwarding service (`quakewarn relay`): authenticated input → Ed25519 verification →
/// durable outbox → MQTT QoS 1 (and a ``WarningBroadcaster`` for WebSocket subscribers).
///
/// A swift-service-lifecycle `Service`: run it in a `ServiceGroup` with SIGTERM/SIGINT as
/// graceful-shutdown signals. Graceful shutdown: stop accepting input and close input
/// connections, publish what was accepted, wait up to 5 s for outstanding PUBACKs, write the
/// delivery marks, close the metrics endpoint and the database. Whatever is still unacknowledged
/// stays in the outbox and is re-sent at the next start.
public final class RelayService: Service {
    public let configuration: RelayConfiguration
    public let metrics: RelayMetrics
    let logger: Logger
    let broadcaster: (any WarningBroadcaster)?
    let stageObserver: (any RelayStageObserver)?
    private let ports = ListeningPorts()
    private let state = Mutex<RuntimeState?>(nil)
    /// The intake and its event loop while the service runs (``submitInProcess(line:completion:)``).
    private let direct = Mutex<DirectInput?>(nil)
    /// The caller's event loop group (see ``init``), not shut down by the service.
    private let externalGroup: MultiThreadedEventLoopGroup?
    /// Wall-clock stamps of the entry being accepted; written and read on the input loop only.
    private let acceptStamps = AcceptStamps()
    /// The sample entry of the publish warm-up, kept for ``keepWarmInProcess()``.
    private let keepWarmSample = Mutex<OutboxEntry?>(nil)

    /// Commit and PUBLISH stamps of the entries accepted by the direct batch being processed
    /// (nil outside one: socket input is not recorded).
    private final class AcceptStamps: Sendable {
        struct Stamp: Sendable {
            var eventId: String
            var updateNumber: Int
            var committed: Int64
            var published: Int64?
        }
        struct Batch: Sendable {
            /// A direct batch is being processed (socket input is not recorded).
            var active = false
            var stamps: [Stamp]
        }
        let value: Mutex<Batch>

        init() {
            // Allocated here, not in the first warning's batch: the first allocation of a
            // `[Stamp]` instantiates its generic metadata (see UnackedTracker.init(capacity:)).
            var stamps: [Stamp] = []
            stamps.reserveCapacity(8)
            value = Mutex(Batch(stamps: stamps))
        }
    }

    private struct DirectSubmission: Sendable {
        var item: RelayIntake.Item
        var completion: @Sendable (RelayInProcessResult) -> Void
    }

    private struct DirectInput: Sendable {
        var intake: RelayIntake
        var loop: any EventLoop
        var lines: Int
        /// Submitted, not yet taken by a batch on the loop.
        var pending: [DirectSubmission] = []
        /// A batch task is queued on the loop.
        var scheduled = false
        /// The service stops: no new submissions (the queued batch task still answers the pending ones).
        var closed = false
        /// A task that commits the record transaction is queued on the loop (the safety net of
        /// ``RelayService/commitInProcessRecord()``).
        var commitScheduled = false
    }

    private struct RuntimeState: Sendable {
        var forwarder: MQTTForwarder
        var tracker: UnackedTracker
    }

    /// - Parameters:
    ///   - broadcaster: receives every newly accepted envelope's JSON (WebSocket fan-out).
    ///   - registry: where the metrics go (served at `/metrics` if configured).
    ///   - logger: accept/reject/connection logs; the default discards them.
    ///   - stageObserver: gets per-stage timestamps of every accepted entry (benchmarks).
    ///   - eventLoopGroup: a one-thread group to run the input, the outbox commits and the broker
    ///     client on, instead of the service's own; the caller shuts it down. The ingest daemon
    ///     passes its processing loop, so that a warning is committed and published on the thread
    ///     that computed it (``submitInProcess(_:completion:)``, ``runSubmittedInProcessIfOnLoop()``).
    public init(configuration: RelayConfiguration, broadcaster: (any WarningBroadcaster)? = nil,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
                logger: Logger = Logger(label: "quakewarn.relay", factory: { _ in SwiftLogNoOpLogHandler() }),
                stageObserver: (any RelayStageObserver)? = nil, eventLoopGroup: MultiThreadedEventLoopGroup? = nil) {
        self.externalGroup = eventLoopGroup
        self.configuration = configuration
        self.broadcaster = broadcaster
        self.stageObserver = stageObserver
        self.metrics = RelayMetrics(registry: registry)
        self.logger = logger
    }

    /// The bound ports once the service listens (input, metrics endpoint if any); throws if
    /// ``run()`` failed before that.
    public func waitUntilListening() async throws -> (input: Int, metrics: Int?) {
        try await ports.wait()
    }

    /// `/health`: degraded when the broker is disconnected or the oldest unacknowledged warning
    /// is older than `metrics.maxUnacknowledgedAgeSeconds` (10 s without a metrics section).
    public func health() -> HealthReport {
        guard let runtime = state.withLock({ $0 }) else { return HealthReport(healthy: false, details: [("state", "starting")]) }
        let limit = configuration.metrics?.maxUnacknowledgedAgeSeconds ?? 10
        let connected = runtime.forwarder.isConnected
        let age = Self.oldestAgeSeconds(runtime.tracker)
        var details: [(String, String)] = [
            ("broker", connected ? "connected" : "disconnected: \(runtime.forwarder.lastDisconnectReason)"),
            ("queueDepth", "\(runtime.tracker.count)"),
            ("oldestUnacknowledgedAgeSeconds", String(format3(age))),
        ]
        if age > limit { details.append(("problem", "oldest unacknowledged warning older than \(limit) s")) }
        return HealthReport(healthy: connected && age <= limit, details: details)
    }

    /// `health().healthy`, for callers that do not import Observability.
    public var isHealthy: Bool { health().healthy }

    static func oldestAgeSeconds(_ tracker: UnackedTracker) -> Double {
        guard let oldest = tracker.oldestReceivedAt else { return 0 }
        return max(0, Double(Timestamp.wallClockNow().nanosecondsSinceEpoch - oldest) / 1e9)
    }

    public func run() async throws {
        do {
            try await runService()
        } catch {
            ports.fail(error)
            throw error
        }
    }

    private func runService() async throws {
        let configuration = self.configuration
        let verifier = try RelayVerifier.load(publicKeyFiles: configuration.verification.publicKeyFiles)
        let token = try configuration.inputToken()
        let password = try configuration.mqttPassword()
        let outbox = try RelayOutbox(path: configuration.outbox.path, synchronous: configuration.outbox.synchronous,
                                     checkpointInterval: configuration.outbox.checkpointInterval)
        defer {
            do { try outbox.close() } catch { logger.error("closing the outbox failed", metadata: ["error": "\(error)"]) }
        }
        // The first warning should not prepare the statements (a failure here is not fatal: the
        // first append would report it).
        do { try outbox.warmUp() } catch { logger.warning("outbox warm-up failed", metadata: ["error": "\(error)"]) }
        if let problem = RelayIntake.warmUpAcceptPath(logger: Logger(label: "quakewarn.relay.warm-up", factory: { _ in SwiftLogNoOpLogHandler() })) {
            logger.warning("intake warm-up failed", metadata: ["problem": "\(problem)"])
        }
        let tracker = UnackedTracker()
        let pending = try outbox.pending()
        for entry in pending { tracker.add(sequence: entry.sequence, receivedAt: entry.receivedAt) }
        metrics.queueDepth.set(Double(tracker.count))
        if !pending.isEmpty {
            logger.notice("re-sending unacknowledged outbox entries", metadata: ["count": "\(pending.count)"])
        }

        let m = configuration.mqtt
        var client = MQTTClientConfiguration(host: m.host, port: m.port, clientID: m.clientId, username: m.username,
                                             password: password.map { Array($0.utf8) })
        client.keepAlive = .seconds(m.keepAliveSeconds)
        client.maxInFlight = m.inFlightWindow
        client.reconnectInitialDelay = .milliseconds(m.reconnectInitialMilliseconds)
        client.reconnectMaximumDelay = .milliseconds(m.reconnectMaximumMilliseconds)
        client.reconnectMultiplier = m.reconnectMultiplier
        do {
            try client.validate()
        } catch {
            throw RelayConfigurationError(file: "relay configuration", keyPath: "mqtt", reason: error.reason)
        }
        // One thread runs the input connections, the outbox commits and the broker client, so a
        // committed warning's PUBLISH is written on the thread that committed it (no hop).
        let inputGroup = externalGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ownsGroup = externalGroup == nil
        let forwarder = MQTTForwarder(clientConfiguration: client, topicPrefix: m.topicPrefix, outbox: outbox,
                                      tracker: tracker, metrics: metrics, logger: logger, eventLoopGroup: inputGroup)
        state.withLock { $0 = RuntimeState(forwarder: forwarder, tracker: tracker) }

        let metrics = self.metrics
        let broadcaster = self.broadcaster
        let acceptStamps = self.acceptStamps
        let intake = RelayIntake(verifier: verifier, outbox: outbox, metrics: metrics, logger: logger,
                                 stageObserver: stageObserver) { entry in
            let committedNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
            tracker.add(sequence: entry.sequence, receivedAt: entry.receivedAt)
            let published = forwarder.enqueue(entry)
            let publishedNanos = published ? Timestamp.wallClockNow().nanosecondsSinceEpoch : nil
            acceptStamps.value.withLock {
                guard $0.active else { return }
                $0.stamps.append(.init(eventId: entry.eventId, updateNumber: entry.updateNumber, committed: committedNanos,
                                       published: publishedNanos))
            }
            if let broadcaster {
                broadcaster.broadcast(text: String(decoding: entry.envelope, as: UTF8.self))
                metrics.websocketLatency.recordNanoseconds(
                    Timestamp.wallClockNow().nanosecondsSinceEpoch - entry.receivedAt.nanosecondsSinceEpoch)
            }
            metrics.queueDepth.set(Double(tracker.count))
            return published
        }
        let loop = inputGroup.next()
        if let priority = configuration.realtimePriority {
            if ownsGroup {
                if let problem = await ProcessingThreadPriority.apply(priority, on: { try await loop.submit($0).get() }) {
                    logger.warning("relay loop keeps its normal priority", metadata: ["realtimePriority": "\(priority)", "reason": "\(problem)"])
                } else {
                    logger.info("relay loop at real-time priority", metadata: ["policy": "SCHED_FIFO", "priority": "\(priority)"])
                }
            } else {
                logger.notice("realtimePriority of the relay configuration ignored: the relay runs on the ingest daemon's processing thread (ingest.yaml realtimePriority)")
            }
        }
        var latencyRequest: CPULatencyRequest?
        if let us = configuration.cpuWakeupLatencyMicroseconds {
            if ownsGroup {
                latencyRequest = CPULatencyRequest.hold(microseconds: us, logger: logger)
            } else {
                logger.notice("cpuWakeupLatencyMicroseconds of the relay configuration ignored: the relay runs inside the ingest daemon (ingest.yaml cpuWakeupLatencyMicroseconds)")
            }
        }
        defer { withExtendedLifetime(latencyRequest) {} }
        // The first warning's PUBLISH should not pay one-time costs either: the immediate publish
        // path once on a throwaway broker client, nothing sent (MQTTForwarder.warmUpImmediatePublish).
        let sample = OutboxEntry(sequence: 0, kind: .warning, eventId: "qw-relay-warm-up", updateNumber: 0, status: .test,
                                 level: .none, envelope: Data(repeating: UInt8(ascii: " "), count: 4096),
                                 receivedAt: .wallClockNow())
        keepWarmSample.withLock { $0 = sample }
        let warmedUp = try? await loop.submit { forwarder.warmUpImmediatePublish(sample: sample, on: loop) }.get()
        if warmedUp == nil {
            logger.warning("publish warm-up failed (the first warning's PUBLISH pays its one-time costs)")
        }
        var input = DirectInput(intake: intake, loop: loop, lines: 0)
        input.pending.reserveCapacity(16)  // as AcceptStamps.init: no first allocation in a warning's hand-off
        direct.withLock { $0 = input }
        // Pending direct submissions are answered by the batch task already queued on the loop
        // (it runs before the loop shuts down); `closed` stops new ones.
        defer { direct.withLock { $0?.closed = true } }
        do {
            try await serve(intake: intake, forwarder: forwarder, tracker: tracker, token: token, group: inputGroup,
                            pendingAtStart: pending.count)
        } catch {
            // No new direct submission may reach the loop once it shuts down.
            direct.withLock { $0?.closed = true }
            if ownsGroup { try? await inputGroup.shutdownGracefully() }
            throw error
        }
        direct.withLock { $0?.closed = true }
        if ownsGroup { try? await inputGroup.shutdownGracefully() }
    }

    private func serve(intake: RelayIntake, forwarder: MQTTForwarder, tracker: UnackedTracker, token: String,
                       group: MultiThreadedEventLoopGroup, pendingAtStart: Int) async throws {
        let configuration = self.configuration
        let metrics = self.metrics
        let server = try await RelayInputServer.start(
            host: configuration.input.host, port: configuration.input.port, token: token,
            maxMessageBytes: configuration.input.maxMessageBytes, intake: intake, group: group)
        var endpoint: MetricsEndpoint?
        if let settings = configuration.metrics {
            do {
                endpoint = try await MetricsEndpoint.start(host: settings.host, port: settings.port,
                                                           registry: metrics.registry, health: { [self] in health() })
            } catch {
                await server.close()
                throw error
            }
        }
        ports.set(input: server.port, metrics: endpoint?.port)
        logger.notice("relay running", metadata: [
            "input": "\(server.host):\(server.port)", "broker": "\(configuration.mqtt.host):\(configuration.mqtt.port)",
            "metrics": "\(endpoint.map { "\($0.host):\($0.port)" } ?? "off")", "pending": "\(pendingAtStart)",
        ])

        let stopGauges = BatchQueue<Void>()
        await withGracefulShutdownHandler {
            async let acksWritten: Void = forwarder.runAckWriter()
            async let gauges: Void = Self.updateGauges(metrics: metrics, tracker: tracker, until: stopGauges)
            await forwarder.run()
            stopGauges.finish()
            await acksWritten
            await gauges
        } onGracefulShutdown: {
            self.logger.notice("graceful shutdown: closing input, draining publishes")
            Task {
                await server.close()
                forwarder.finish()
            }
        }
        await server.close()
        await endpoint?.shutdown()
        logger.notice("relay stopped", metadata: ["unacknowledged": "\(tracker.count)"])
    }

    /// The in-process input (the relay embedded in `quakewarn ingest`): handles one signed
    /// envelope line (``SignedEnvelope/encoded()``) exactly as a QWRI/1 input line — Ed25519
    /// verification, outbox commit, then the MQTT PUBLISH written to the broker socket (when the
    /// broker is connected and the in-flight window has room; otherwise the forwarder's queue
    /// sends it) and the WebSocket broadcast — without a socket or an authentication handshake.
    ///
    /// The work runs on the relay's input event loop, the thread of the socket input, the outbox
    /// commits and the broker client, so the PUBLISH leaves on the thread that committed it, and
    /// submissions are handled in call order (interleaved with socket input lines). Lines
    /// submitted while the loop is busy (e.g. with the previous commit) are committed together
    /// in one transaction (group commit, as the lines of one socket read). Returns at once;
    /// `completion` is called on that loop, after the commit (`reply` is an
    /// ``RelayReply/ack(_:)`` only then), and must not block.
    ///
    /// - Returns: false when the service is not running (not started yet, or stopped): nothing
    ///   was done and `completion` is not called. ``waitUntilListening()`` returns once
    ///   submissions are taken.
    @discardableResult
    public func submitInProcess(line: Data, completion: @escaping @Sendable (RelayInProcessResult) -> Void) -> Bool {
        submitInProcess(.line(line), completion: completion)
    }

    /// The in-process input for a warning signed by this process (the ingest daemon's own
    /// signer): as ``submitInProcess(line:completion:)``, but the values are taken as they are:
    /// no line to parse and no second signature check (``InProcessSignedWarning`` says why and
    /// what is still checked). The outbox stores, and MQTT publishes, ``InProcessSignedWarning/envelopeBytes``.
    @discardableResult
    public func submitInProcess(_ warning: InProcessSignedWarning, completion: @escaping @Sendable (RelayInProcessResult) -> Void) -> Bool {
        submitInProcess(.signed(warning), completion: completion)
    }

    private func submitInProcess(_ submitted: RelayIntake.Item.Input, completion: @escaping @Sendable (RelayInProcessResult) -> Void) -> Bool {
        direct.withLock { d -> Bool in
            // Moved out and back (not copied): appending to a copy of `pending` would copy its storage.
            guard var current = d.take() else { return false }
            defer { d = current }
            guard !current.closed else { return false }
            current.lines += 1
            current.pending.append(DirectSubmission(
                item: RelayIntake.Item(input: submitted, lineNumber: current.lines, received: ContinuousClock.now), completion: completion))
            let schedule = !current.scheduled
            current.scheduled = true
            // Under the lock: the loop is not shut down before `direct` is cleared.
            if schedule { current.loop.execute { [self] in processDirectBatch() } }
            return true
        }
    }

    /// Runs the in-process submissions queued so far at once, when called on the relay's input
    /// loop (the ingest daemon's processing thread, with a shared ``init`` group); otherwise
    /// does nothing (the task queued on the loop runs them). Call it right after
    /// ``submitInProcess(_:completion:)``, outside any lock that the completion takes: the
    /// completions run inside this call. Order is kept: submissions are taken from one queue.
    ///
    /// **PUBLISH before COMMIT.** Run this way (inline, on the caller's own thread), the
    /// submissions go into the outbox's record transaction (``RelayOutbox/appendInRecordTransaction(_:)``):
    /// each warning's PUBLISH is written right after its append, and the transaction is
    /// committed by ``commitInProcessRecord()``, which the caller runs once its record (all the
    /// warnings that one packet released) is processed. So only a record's last warning is
    /// followed by a commit, and no warning waits for one: the commit was 75–190 µs of every
    /// warning's path (Benchmarks/README.md). A task queued on the loop commits too, in case the
    /// caller does not. Until the commit the warnings are on the wire but not durable; the
    /// completions (acks) follow the append. docs/ingest.md, "In-process relay", says what that
    /// changes and why it is acceptable.
    public func runSubmittedInProcessIfOnLoop() {
        guard let loop = direct.withLock({ $0?.loop }), loop.inEventLoop else { return }
        processDirectBatch(recordTransaction: true)
    }

    /// Commits the outbox's record transaction: the warnings that ``runSubmittedInProcessIfOnLoop()``
    /// appended and published since the last commit, in one transaction. Call it on the relay's
    /// loop once the record that released them is processed; elsewhere (or with nothing
    /// appended) it does nothing. A failure is logged: the entries were then re-inserted in a
    /// transaction of their own, or, if that failed too, they are not in the outbox (named in
    /// the log); they were already handed to the broker.
    public func commitInProcessRecord() {
        guard let outbox = direct.withLock({ d in d.flatMap { $0.loop.inEventLoop ? $0.intake.outbox : nil } }) else { return }
        do {
            try outbox.commitRecord()
        } catch {
            logger.error("outbox commit of a record's warnings failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs the in-process warning path once without effect, so that the next real warning
    /// finds its code and data in the caches of the core that runs it (the ingest daemon's
    /// keep-warm, ingest.yaml `keepWarmMilliseconds`): the outbox append
    /// (``RelayOutbox/keepWarm()``: BEGIN IMMEDIATE, INSERT, ROLLBACK; nothing is kept, no
    /// sequence number is used) and the immediate PUBLISH (``MQTTForwarder/warmUpImmediatePublish(sample:on:)``:
    /// encoded into a scratch buffer of a throwaway client; nothing is sent). Only on the relay's
    /// input loop (the daemon's processing thread when the relay runs in process) and while the
    /// service runs; elsewhere it does nothing.
    /// - Returns: true when both parts ran; false when not on the loop, not running, or a part
    ///   failed (logged at debug level: the next real warning then pays the cold path, nothing
    ///   else changes).
    @discardableResult
    public func keepWarmInProcess() -> Bool {
        guard let (outbox, loop) = direct.withLock({ d -> (RelayOutbox, any EventLoop)? in
            guard let d, !d.closed, d.loop.inEventLoop else { return nil }
            return (d.intake.outbox, d.loop)
        }) else { return false }
        do {
            try outbox.keepWarm()
        } catch {
            logger.debug("keep-warm: outbox append failed", metadata: ["error": "\(error)"])
            return false
        }
        guard let forwarder = state.withLock({ $0?.forwarder }), let sample = keepWarmSample.withLock({ $0 }),
              forwarder.warmUpImmediatePublish(sample: sample, on: loop) != nil else {
            logger.debug("keep-warm: publish path failed")
            return false
        }
        return true
    }

    /// On the input loop: every line submitted so far, verified one by one and appended in one
    /// transaction (group commit: the updates of a burst, submitted while the previous commit
    /// ran, share the next one), then each completion, in order. With `recordTransaction` the
    /// transaction is the outbox's record transaction, committed later (``commitInProcessRecord()``).
    private func processDirectBatch(recordTransaction: Bool = false) {
        let started = Timestamp.wallClockNow().nanosecondsSinceEpoch
        guard let (intake, batch, commitLoop) = direct.withLock({ d -> (RelayIntake, [DirectSubmission], (any EventLoop)?)? in
            guard var input = d else { return nil }
            let batch = input.pending
            input.pending = []
            input.scheduled = false
            let scheduleCommit = recordTransaction && !batch.isEmpty && !input.commitScheduled
            if scheduleCommit { input.commitScheduled = true }
            d = input
            return (input.intake, batch, scheduleCommit ? input.loop : nil)
        }), !batch.isEmpty else { return }
        acceptStamps.value.withLock {
            $0.active = true
            $0.stamps.removeAll(keepingCapacity: true)
        }
        let replies = intake.process(items: batch.map(\.item), peer: "in-process", recordTransaction: recordTransaction)
        let stamps = acceptStamps.value.withLock { s -> [AcceptStamps.Stamp] in
            s.active = false
            return s.stamps
        }
        for (submission, reply) in zip(batch, replies) {
            var stamp: AcceptStamps.Stamp?
            if case .ack(let ack) = reply, !ack.duplicate {
                stamp = stamps.first { $0.eventId == ack.id && $0.updateNumber == ack.update }
            }
            submission.completion(RelayInProcessResult(
                reply: reply, startedNanos: started, committedNanos: stamp?.committed, publishedNanos: stamp?.published,
                repliedNanos: Timestamp.wallClockNow().nanosecondsSinceEpoch, commitDeferred: recordTransaction))
        }
        if let commitLoop {
            // The safety net: the caller's commitInProcessRecord() normally comes first.
            commitLoop.execute { [self] in
                direct.withLock { $0?.commitScheduled = false }
                commitInProcessRecord()
            }
        }
    }

    /// Refreshes the oldest-age and depth gauges every 0.5 s until `stop` finishes.
    private static func updateGauges(metrics: RelayMetrics, tracker: UnackedTracker, until stop: BatchQueue<Void>) async {
        while !stop.isFinished && !Task.isCancelled {
            metrics.oldestAge.set(oldestAgeSeconds(tracker))
            metrics.queueDepth.set(Double(tracker.count))
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// The outcome of one ``RelayService/submitInProcess(line:completion:)``, with wall-clock
/// stamps (CLOCK_REALTIME, ns since the epoch) for latency accounting.
public struct RelayInProcessResult: Sendable, Equatable {
    /// What the QWRI/1 input would have answered: ``RelayReply/ack(_:)`` after the outbox commit
    /// (`duplicate` when the outbox already had it), or ``RelayReply/reject(code:line:detail:)``.
    public var reply: RelayReply
    /// The relay's input loop started on the line (after the hand-off from the caller's thread).
    public var startedNanos: Int64
    /// The outbox append returned (nil unless newly accepted): its commit, or, with
    /// ``commitDeferred``, its INSERT into the record transaction (committed later).
    public var committedNanos: Int64?
    /// The MQTT PUBLISH was written to the broker socket, right after the append on the same
    /// thread (nil when it went through the forwarder's queue instead: broker not connected or
    /// window full; or not newly accepted).
    public var publishedNanos: Int64?
    /// The reply was ready (right before `completion`).
    public var repliedNanos: Int64
    /// The append went into the outbox's record transaction: PUBLISH before COMMIT
    /// (``RelayService/runSubmittedInProcessIfOnLoop()``); the ack follows the append.
    public var commitDeferred: Bool

    public init(reply: RelayReply, startedNanos: Int64, committedNanos: Int64?, publishedNanos: Int64?, repliedNanos: Int64,
                commitDeferred: Bool = false) {
        self.reply = reply
        self.startedNanos = startedNanos
        self.committedNanos = committedNanos
        self.publishedNanos = publishedNanos
        self.repliedNanos = repliedNanos
        self.commitDeferred = commitDeferred
    }
}

private func format3(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    return "\(rounded)"
}

/// Ports reported once the service listens.
final class ListeningPorts: Sendable {
    private struct State {
        var result: Result<(Int, Int?), any Error>?
        var waiters: [CheckedContinuation<(Int, Int?), any Error>] = []
    }

    private let state = Mutex(State())

    func set(input: Int, metrics: Int?) { complete(.success((input, metrics))) }
    func fail(_ error: any Error) { complete(.failure(error)) }

    private func complete(_ result: Result<(Int, Int?), any Error>) {
        let waiters = state.withLock { state -> [CheckedContinuation<(Int, Int?), any Error>] in
            guard state.result == nil else { return [] }
            state.result = result
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(with: result) }
    }

    func wait() async throws -> (input: Int, metrics: Int?) {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int, Int?), any Error>) in
            let ready = state.withLock { state -> Result<(Int, Int?), any Error>? in
                if let result = state.result { return result }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}
