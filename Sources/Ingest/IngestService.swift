public import Alerting
import EventBuilder
import Foundation
public import Logging
import MiniSEED
import NIOCore
public import NIOPosix
public import Observability
import Picking
import Prometheus
import Pipeline
import SeedLink
import SeismicCore
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-stream counts of what the daemon did with its input (also `ingest-stats.json`).
public struct IngestStatistics: Sendable, Codable, Equatable {
    public struct Stream: Sendable, Codable, Equatable {
        /// Records per ``InputGuard/Kind`` raw value.
        public var decisions: [String: Int] = [:]
        /// Samples passed to the pipeline, and their sum (counts; exact below 2^53).
        public var samples = 0
        public var sampleSum = 0.0
        /// End time of the accepted data (ISO 8601).
        public var dataEnd: String?
    }
    public var streams: [String: Stream] = [:]
    public var picks = 0
    public var events = 0
    public var warnings = 0
    public var decodeErrors = 0
    public var reconnects = 0
}

/// The station ingestion daemon as a swift-service-lifecycle ``Service``:
///
/// ```
/// SeedLinkClient ─► record decode ─► InputGuard (per stream) ─► ReplayPipeline.process
///                ─► JSONLDirectorySink (picks/events/decisions/CAP) + every WarningSink (warnings)
/// ```
///
/// The pipeline is the one `quakewarn replay` runs (data-time driven, 0.25 s slices), with
/// ``IngestConfiguration/streamTimeoutSeconds`` as its stall timeout, so a stalled station stops
/// holding the others back. Each record goes through the pipeline, and its warnings are signed and
/// queued in the immediate sinks (the relay), before the client reads the next one, so the
/// SeedLink state file never runs ahead of the records handed to the pipeline (results the
/// pipeline still holds back are released at shutdown). Output files and the other sinks are
/// written in order on a background queue, which shutdown drains before flushing the sinks.
///
/// On graceful shutdown (SIGTERM/SIGINT through the ``ServiceGroup``) the client stops after
/// the record in hand, the pipeline is finished (held records released, as at the end of a
/// replay), the sinks are flushed and the state file is written atomically, so a restart
/// resumes at the next packet: no sample twice, none skipped. The pipeline's own state
/// (filters, STA/LTA) restarts with its warm-up.
public final class IngestService: Service, Sendable {
    public let configuration: IngestConfiguration
    public let quakeWarn: QuakeWarnConfiguration
    public let metrics: IngestMetrics
    private let logger: Logger
    private let processor: Processor
    private let client: SeedLinkClient
    private let state = Mutex<RunState>(RunState())
    /// The one thread that reads the SeedLink socket and processes each record to the end: the
    /// record's consumer task runs there (task executor preference), the processor actor's
    /// executor is its event loop, and an in-process relay given the same group commits and
    /// writes the MQTT PUBLISH there. From the packet's last byte to the warning's bytes out,
    /// no other thread has to be woken (each wake-up cost 0.05–0.2 ms at p50, and milliseconds
    /// at the tail, on the 2-core test machine). Files, CAP rendering and statistics stay on
    /// the background queue (other threads).
    public let processingLoop: MultiThreadedEventLoopGroup
    private let ownsProcessingLoop: Bool

    struct RunState {
        var connected = false
        var lastRecord: ContinuousClock.Instant?
        var metricsPort: Int?
    }

    /// - Parameters:
    ///   - sinks: warning sinks besides the output directory (e.g. the relay adapter). They get
    ///     each warning before any output file is written.
    ///   - sign: signs each warning (nil: unsigned), e.g. `{ try SignedEnvelope.sign($0, with: key) }`.
    /// - Throws: when the output directory cannot be created.
    ///   - processingLoop: a one-thread group for the SeedLink connection and the processing (see
    ///     ``processingLoop``); nil: the service's own. Give the same group to an in-process
    ///     relay (``InProcessRelay``) so that it commits and publishes on this thread too.
    public init(configuration: IngestConfiguration, quakeWarn: QuakeWarnConfiguration, sinks: [any WarningSink] = [],
                sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)? = nil,
                metrics: IngestMetrics = IngestMetrics(), logger: Logger = Logger(label: "quakewarn.ingest"),
                processingLoop: MultiThreadedEventLoopGroup? = nil) throws {
        let group = processingLoop ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.processingLoop = group
        ownsProcessingLoop = processingLoop == nil
        let loop = group.next()
        self.configuration = configuration
        self.quakeWarn = quakeWarn
        self.metrics = metrics
        self.logger = logger
        let output = try configuration.outputDirectory.map { try JSONLDirectorySink(directory: $0) }
        let pipeline = ReplayPipeline(.init(quakeWarn: quakeWarn, status: configuration.status,
                                            stallTimeoutSeconds: configuration.streamTimeoutSeconds))
        processor = Processor(loop: loop, pipeline: pipeline, output: output, sinks: sinks, sign: sign,
                              metrics: metrics, logger: logger, timeJumpSeconds: configuration.timeJumpSeconds,
                              statsFile: configuration.outputDirectory.map { URL(fileURLWithPath: $0).appendingPathComponent("ingest-stats.json") })
        let sl = configuration.seedlink
        var stations = sl.stations.map { SeedLinkClient.Station(network: $0.network, station: $0.station, selectors: $0.selectors) }
        if stations.isEmpty {
            stations = quakeWarn.stations.map { s in
                SeedLinkClient.Station(network: s.network, station: s.station,
                                       selectors: s.channels.map { s.location + $0 })
            }
        }
        var clientConfiguration = SeedLinkClient.Configuration(
            host: sl.host, port: sl.port, stations: stations, keepAliveSeconds: sl.keepAliveSeconds,
            networkTimeoutSeconds: sl.networkTimeoutSeconds, initialReconnectDelaySeconds: sl.initialReconnectDelaySeconds,
            maximumReconnectDelaySeconds: sl.maximumReconnectDelaySeconds, reconnectJitter: sl.reconnectJitter,
            jitterSeed: UInt64(UInt32(truncatingIfNeeded: getpid())), stateFile: sl.stateFile,
            stateSaveIntervalSeconds: sl.stateSaveIntervalSeconds)
        clientConfiguration.deliversRecordBytes = true
        client = SeedLinkClient(configuration: clientConfiguration, eventLoopGroup: group)
    }

    deinit {
        if ownsProcessingLoop { processingLoop.shutdownGracefully { _ in } }
    }

    /// Stops the service as a graceful shutdown does (for embedding without a ``ServiceGroup``):
    /// ``run()`` then finishes the pipeline, flushes the sinks and returns.
    public func stop() {
        client.stop()
    }

    /// What was processed so far.
    public func statistics() async -> IngestStatistics { await processor.statistics }

    /// Calls `observer` with the number of records decided so far (``InputGuard``: accepted or
    /// dropped) after each record, on the processing thread; it must not block. For monitoring
    /// and tests that wait for records without polling ``statistics()``. Observers live as long
    /// as the service.
    public func observeRecordDecisions(_ observer: @escaping @Sendable (_ recordsDecided: Int) -> Void) {
        processor.recordObservers.add(observer)
    }

    /// The bound metrics port once running (useful with port 0).
    public var metricsPort: Int? { state.withLock { $0.metricsPort } }

    /// Connected to the SeedLink server (handshake done) right now.
    public var isConnected: Bool { state.withLock { $0.connected } }

    /// Health for `/health`: connected to the SeedLink server.
    public var health: HealthReport {
        let s = state.withLock { $0 }
        let age = s.lastRecord.map { ContinuousClock.now - $0 }
        return HealthReport(healthy: s.connected, details: [
            ("seedlink", s.connected ? "connected" : "disconnected"),
            ("lastRecordAgeSeconds", age.map { String(format: "%.3f", Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18) } ?? "none"),
        ])
    }

    public func run() async throws {
        var endpoint: MetricsEndpoint?
        if let m = configuration.metrics {
            let e = try await MetricsEndpoint.start(host: m.host, port: m.port, registry: metrics.registry,
                                                    health: { [weak self] in self?.health ?? HealthReport(healthy: false) })
            state.withLock { $0.metricsPort = e.port }
            logger.info("metrics endpoint listening", metadata: ["host": "\(m.host)", "port": "\(e.port)"])
            endpoint = e
        }
        logger.info("ingest starting", metadata: [
            "seedlink": "\(configuration.seedlink.host):\(configuration.seedlink.port)",
            "stations": "\(client.configuration.stations.map(\.key).joined(separator: ","))",
            "stateFile": "\(configuration.seedlink.stateFile ?? "none")",
        ])
        let client = self.client
        let processor = self.processor
        if let priority = configuration.realtimePriority {
            let loop = processor.loop
            if let problem = await ProcessingThreadPriority.apply(priority, on: { try await loop.submit($0).get() }) {
                logger.warning("processing thread keeps its normal priority", metadata: ["realtimePriority": "\(priority)", "reason": "\(problem)"])
            } else {
                logger.info("processing thread at real-time priority", metadata: ["policy": "SCHED_FIFO", "priority": "\(priority)"])
            }
        }
        // Held until run() returns (the PM QoS request ends when the file is closed).
        let latencyRequest = configuration.cpuWakeupLatencyMicroseconds.flatMap { CPULatencyRequest.hold(microseconds: $0, logger: logger) }
        defer { withExtendedLifetime(latencyRequest) {} }
        // Sinks connect now (the relay), so the first warning does not pay the connect.
        await processor.startSinks()
        if configuration.warmUp {
            // Before the first record: the first real Alert should not pay the one-time costs.
            let w = await processor.warmUp()
            if let problem = w.problem {
                logger.warning("warm-up incomplete", metadata: ["problem": "\(problem)", "milliseconds": "\(Int(w.milliseconds))"])
            } else {
                logger.info("warm-up done", metadata: [
                    "picks": "\(w.pipeline.waveformPicks)", "warnings": "\(w.pipeline.waveformWarnings + w.pipeline.eventWarnings)",
                    "signed": "\(w.signed)", "milliseconds": "\(Int(w.milliseconds))",
                ])
            }
        }
        // Keep-warm between records (Processor.keepWarm), on the processing loop.
        let keepWarm = configuration.keepWarmMilliseconds.map { ms in
            processor.loop.scheduleRepeatedTask(initialDelay: .milliseconds(Int64(ms)), delay: .milliseconds(Int64(ms))) { _ in
                processor.assumeIsolated { $0.keepWarm() }
            }
        }
        let runError: (any Error)?
        do {
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Statistics file refresh (also when no record arrives).
                    group.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .milliseconds(500))
                            await processor.writeStatistics()
                        }
                    }
                    // The record consumer runs on the loop that reads the socket (see processingLoop).
                    try await withTaskExecutorPreference(EventLoopTaskExecutor(processor.loop)) {
                        // Records: synchronously on the loop, inside the socket read that completed
                        // them (SeedLinkClient.run(records:events:)); other events: this task.
                        try await client.run(records: { [self, processor] record, sequence, bytes, arrivalNanos in
                            state.withLock { $0.lastRecord = .now }
                            processor.receive(record, sequence: sequence, bytes: bytes, arrivalNanos: arrivalNanos)
                        }, events: { [self] event in
                            await self.handle(event)
                        })
                    }
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                client.stop()
            }
            runError = nil
        } catch {
            runError = error
        }
        keepWarm?.cancel()
        // The client saved the state file when it stopped; release what the pipeline holds.
        await processor.finish()
        await endpoint?.shutdown()
        let stats = await processor.statistics
        logger.info("ingest stopped", metadata: [
            "streams": "\(stats.streams.count)", "picks": "\(stats.picks)", "events": "\(stats.events)",
            "warnings": "\(stats.warnings)",
        ])
        if let runError { throw runError }
    }

    private func handle(_ event: SeedLinkClientEvent) async {
        switch event {
        case .connected(let server):
            state.withLock { $0.connected = true }
            logger.info("connected", metadata: ["server": "\(server)"])
        case .record(let record, let sequence):
            state.withLock { $0.lastRecord = .now }
            await processor.process(record, sequence: sequence, clock: nil)
        case .recordWithBytes(let record, let sequence, let bytes, let arrivalNanos):
            state.withLock { $0.lastRecord = .now }
            await processor.process(record, sequence: sequence, clock: ClockQuality(record: bytes), arrivalNanos: arrivalNanos)
        case .decodeError(let text):
            metrics.decodeErrors.increment()
            await processor.countDecodeError()
            logger.warning("undecodable input", metadata: ["reason": "\(text)"])
        case .info(let text):
            logger.debug("INFO answer", metadata: ["length": "\(text.count)"])
        case .disconnected(let reason, let delay):
            state.withLock { $0.connected = false }
            metrics.reconnects.increment()
            await processor.countReconnect()
            logger.warning("disconnected", metadata: ["reason": "\(reason)", "reconnectInSeconds": "\(delay)"])
        case .endOfTransfer:
            logger.info("server sent END")
        case .stateFileError(let text):
            logger.error("state file not written", metadata: ["reason": "\(text)"])
        }
    }
}

/// The mutable part: guards, pipeline and sinks, serialised by the actor.
actor Processor {
    /// ``IngestService/observeRecordDecisions(_:)``.
    nonisolated let recordObservers = RecordObservers()
    private var recordsDecided = 0
    /// The processing loop (``IngestService/processingLoop``): the actor's executor.
    nonisolated let loop: any EventLoop
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }
    private var pipeline: ReplayPipeline
    private let output: JSONLDirectorySink?
    private let sinks: [any WarningSink]
    private let sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)?
    private let metrics: IngestMetrics
    private let logger: Logger
    private let timeJumpSeconds: Double
    /// Per configured stream, created at its first record (one dictionary lookup per record).
    private var streams: [StreamID: StreamState] = [:]
    private let configured: Set<StreamID>
    /// The daemon-wide counts (``statistics`` adds the per-stream ones).
    private var totals = IngestStatistics()
    private let statsFile: URL?
    private var statsWritten = ContinuousClock.now
    private var finished = false
    /// What ``keepWarm()`` signs: the warm-up's synthetic warning with the configured targets.
    private let keepWarmSample: WarningMessage
    /// ``keepWarm()``'s pass over the pipeline (its own scratch station chain, the event stage on a copy).
    private var keepWarmPipeline: PipelineKeepWarm
    /// Output files, non-immediate sinks and the statistics file, written in order off the path
    /// of the next record.
    private let later = BackgroundQueue()

    init(loop: any EventLoop, pipeline: ReplayPipeline, output: JSONLDirectorySink?, sinks: [any WarningSink],
         sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)?, metrics: IngestMetrics, logger: Logger,
         timeJumpSeconds: Double, statsFile: URL?) {
        self.loop = loop
        self.pipeline = pipeline
        self.output = output
        self.sinks = sinks
        self.sign = sign
        self.metrics = metrics
        self.logger = logger
        self.timeJumpSeconds = timeJumpSeconds
        self.statsFile = statsFile
        keepWarmSample = DaemonWarmUp.syntheticWarning(pipeline.configuration.quakeWarn)
        keepWarmPipeline = PipelineKeepWarm(configuration: pipeline)
        owed = Owed(sinks: [Bool](repeating: false, count: sinks.count))
        configured = Set(pipeline.configuration.quakeWarn.stations.flatMap { s in
            s.channels.map { StreamID(network: s.network, station: s.station, location: s.location, channel: $0) }
        })
    }

    func startSinks() async {
        for s in sinks { await s.start() }
    }

    /// ``DaemonWarmUp`` with this processor's pipeline and signer (nothing of it reaches the
    /// sinks, the files or the live pipeline's state).
    func warmUp() -> DaemonWarmUp.Report {
        DaemonWarmUp.run(pipeline: pipeline, sign: sign)
    }

    /// Keep-warm (ingest.yaml `keepWarmMilliseconds`, docs/ingest.md "Keep-warm"): runs a
    /// warning's whole path once without effect — the station chain and the event stage
    /// (``PipelineKeepWarm``: a scratch station fed synthetic noise, a synthetic event through a
    /// copy of the live pipeline's event stage), the synthetic warning signed and encoded for the
    /// relay (discarded), then each sink's ``WarningSink/keepWarm()`` (the in-process relay:
    /// outbox append rolled back, PUBLISH encoded and not sent) — so that the next real packet
    /// finds its code and data in the caches. Called from a timer on the processing loop;
    /// records are processed between two runs, never during one.
    ///
    /// Why: at the real-time feed pace the first warning of a record took 277 µs p50 from its
    /// release to its PUBLISH against ≈ 60 µs for the warnings after it, which found the path
    /// warm; the caches empty while the daemon waits for the next packet (Benchmarks/README.md,
    /// sessions 8 and 9). The same holds for the pipeline: with the L3 swept between records a
    /// record's first warning comes ≈ 2.7 times later than with warm caches, and the pipeline
    /// pass recovers most of it (session 10).
    func keepWarm() {
        guard !finished else { return }
        let start = ContinuousClock.now
        keepWarmPipeline.run(eventStageOf: pipeline)
        if let sign {
            try? DaemonWarmUp.signAndEncode(keepWarmSample, sign: sign)
        }
        for s in sinks { s.keepWarm() }
        metrics.keepWarmDuration.record(ContinuousClock.now - start)
    }

    func countDecodeError() { totals.decodeErrors += 1 }
    func countReconnect() { totals.reconnects += 1 }

    /// What the processor keeps per configured stream. Found with one lookup per record: before,
    /// every record re-derived the stream's code string, looked its metrics up by that string
    /// (three times), built a "code + decision" key string for its decision counter and formatted
    /// its end time as ISO 8601 for the statistics, on every record's path (the record that
    /// releases a warning too): ≈ 8 % of the daemon's processing samples in perf of an
    /// end-to-end run.
    private final class StreamState {
        let code: String
        let metrics: IngestMetrics.Station
        var inputGuard: InputGuard
        /// Records per guard decision, and their counters (created at a kind's first record).
        var decisions: [InputGuard.Kind: Int] = [:]
        var decisionCounters: [InputGuard.Kind: Counter] = [:]
        var samples = 0
        var sampleSum = 0.0
        var dataEnd: Timestamp?

        init(code: String, metrics: IngestMetrics.Station, inputGuard: InputGuard) {
            self.code = code
            self.metrics = metrics
            self.inputGuard = inputGuard
        }
    }

    /// Per-stream and daemon-wide counts (also `ingest-stats.json`).
    var statistics: IngestStatistics {
        var snapshot = totals
        for stream in streams.values {
            snapshot.streams[stream.code] = IngestStatistics.Stream(
                decisions: Dictionary(uniqueKeysWithValues: stream.decisions.map { ($0.key.rawValue, $0.value) }),
                samples: stream.samples, sampleSum: stream.sampleSum, dataEnd: stream.dataEnd?.iso8601)
        }
        return snapshot
    }

    /// - Parameter arrivalNanos: CLOCK_REALTIME when the record's last byte was read from the
    ///   socket (``SeedLinkClientEvent/recordWithBytes(_:sequence:bytes:arrivalNanos:)``); now if nil.
    /// A record from the SeedLink client's synchronous data phase, on the client's event loop:
    /// processed right here when that is this actor's loop (the daemon's one processing
    /// thread), else queued to the loop in order.
    nonisolated func receive(_ record: MiniSEEDRecord, sequence: Int, bytes: [UInt8], arrivalNanos: Int64) {
        if loop.inEventLoop {
            assumeIsolated { $0.process(record, sequence: sequence, clock: ClockQuality(record: bytes), arrivalNanos: arrivalNanos) }
        } else {
            loop.execute { [self] in
                assumeIsolated { $0.process(record, sequence: sequence, clock: ClockQuality(record: bytes), arrivalNanos: arrivalNanos) }
            }
        }
    }

    func process(_ record: MiniSEEDRecord, sequence: Int, clock: ClockQuality?, arrivalNanos socketArrival: Int64? = nil) {
        guard !finished else { return }
        let arrival = ContinuousClock.now
        let startNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
        let arrivalNanos = socketArrival ?? startNanos
        let id = record.streamID
        let stream: StreamState
        if let known = streams[id] {
            stream = known
        } else {
            guard configured.contains(id) else {
                owe(pipeline.process(record.block), arrivalNanos: arrivalNanos)  // one notice per unknown stream
                return
            }
            let code = id.description
            stream = StreamState(code: code, metrics: metrics.station(code), inputGuard: InputGuard(timeJumpSeconds: timeJumpSeconds))
            streams[id] = stream
        }
        let code = stream.code
        let stationMetrics = stream.metrics
        if let clock { metrics.record(clock: clock, station: stationMetrics) }
        let decision = stream.inputGuard.check(startTime: record.startTime, sampleCount: record.sampleCount,
                                               samplingRateHz: record.samplingRateHz, sequence: sequence)
        let counter: Counter
        if let existing = stream.decisionCounters[decision.kind] {
            counter = existing
        } else {
            counter = metrics.decisionCounter(decision.kind, station: code)
            stream.decisionCounters[decision.kind] = counter
        }
        counter.increment()
        metrics.countGrouped(decision.kind, station: stationMetrics)
        stream.decisions[decision.kind, default: 0] += 1
        recordsDecided += 1
        // After the record's processing (the observers see its statistics complete).
        defer { recordObservers.notify(recordsDecided) }
        // Built only when logged (the in-order case is on every record's path).
        func meta() -> Logger.Metadata {
            ["stream": "\(code)", "sequence": "\(sequence)", "decision": "\(decision.kind.rawValue)",
             "start": "\(record.startTime.iso8601)", "samples": "\(record.sampleCount)",
             "offsetSeconds": "\(decision.offsetSeconds)"]
        }
        switch decision.kind {
        case .first, .inOrder: logger.trace("record", metadata: meta())
        case .gap, .partialOverlap, .rateChange, .timeJumpForward: logger.notice("record accepted", metadata: meta())
        case .exactDuplicate, .duplicate, .outOfOrder, .timeJumpBackward, .empty: logger.warning("record dropped", metadata: meta())
        }
        guard decision.kind.isAccepted else { return }
        var block = record.block
        if decision.dropLeadingSamples > 0 {
            let k = decision.dropLeadingSamples
            block = SampleBlock(streamID: id, startTime: block.time(ofSample: k), samplingRateHz: block.samplingRateHz,
                                unit: block.unit, samples: Array(block.samples[k...]))
        }
        let end = block.endTimeExclusive
        var sum = 0.0
        for x in block.samples { sum += x }
        stream.samples += block.samples.count
        stream.sampleSum += sum
        stream.dataEnd = end
        stationMetrics.samples.increment(by: Int64(block.samples.count))
        let endSeconds = Double(end.nanosecondsSinceEpoch) / 1e9
        stationMetrics.lastSample.set(endSeconds)
        stationMetrics.latency.set(Date().timeIntervalSince1970 - endSeconds)

        let pipelineStart = ContinuousClock.now
        // Each warning leaves from inside the pipeline call, as soon as the slice that produced it
        // is processed (signed and handed to the immediate sinks, i.e. the relay); the rest of
        // the record's slices, the files and the logs come after.
        // (`issued` comes before the warning's CAP rendering; each warning is later emitted once,
        // in the same order, as a `.warning` record.)
        // The CAP XML is rendered on the background queue with the files (PendingCAP).
        var released: [PipelineRecord] = []
        var caps: [Int: PendingCAP] = [:]
        var prepared: [PreparedWarning] = []
        pipeline.process(block, issued: { m in
            prepared.append(dispatch(m, arrivalNanos: arrivalNanos, startNanos: startNanos, sequence: sequence))
        }, emitDeferringCAP: { r, cap in
            if let cap { caps[released.count] = cap }
            released.append(r)
        })
        // Every warning of the record has left. What follows is owed, not urgent: the sinks'
        // completion (the in-process relay's COMMIT), the counters, logs and background outputs
        // (take). It runs after the other records of this socket read (completeRecords).
        if !prepared.isEmpty {
            for i in sinks.indices where prepared.contains(where: { $0.taken[i] }) { owed.sinks[i] = true }
        }
        owe(released, prepared: prepared, caps: caps, arrivalNanos: arrivalNanos)
        let pipelineTime = ContinuousClock.now - pipelineStart
        if pipelineTime > .milliseconds(1) {  // over the whole 1 ms budget (design.md) by itself
            logger.debug("slow pipeline step", metadata: ["stream": "\(code)", "samples": "\(block.samples.count)",
                                                         "milliseconds": "\(Double(pipelineTime.components.attoseconds) / 1e15 + Double(pipelineTime.components.seconds) * 1e3)",
                                                         "released": "\(released.count)"])
        }
        metrics.processingLatency.record(ContinuousClock.now - arrival)
        if !owed.queued { writeStatisticsIfDue() }  // else completeRecords() does it
    }

    /// Adds `records` to what is owed (nothing to add: only the sinks' completion, if any), and
    /// queues ``completeRecords()`` if something is owed and it is not queued yet.
    private func owe(_ records: [PipelineRecord], prepared: [PreparedWarning] = [], caps: [Int: PendingCAP] = [:],
                     arrivalNanos: Int64) {
        if !records.isEmpty {
            owed.takes.append(.init(records: records, prepared: prepared, caps: caps, arrivalNanos: arrivalNanos))
        }
        guard !owed.queued, !owed.takes.isEmpty || owed.sinks.contains(true) else { return }
        owed.queued = true
        loop.execute { [self] in assumeIsolated { $0.completeRecords() } }
    }

    /// What the records processed since the last ``completeRecords()`` still owe (see there).
    private struct Owed {
        struct Take {
            var records: [PipelineRecord]
            var prepared: [PreparedWarning]
            var caps: [Int: PendingCAP]
            var arrivalNanos: Int64
        }
        /// Per sink (index in ``sinks``): gave it warnings, so ``WarningSink/recordProcessed()`` is due.
        var sinks: [Bool]
        /// Released records for ``take(_:prepared:caps:)``, in order.
        var takes: [Take] = []
        /// A ``completeRecords()`` task is queued on the loop.
        var queued = false
    }
    private var owed: Owed

    /// The end of the records' processing that no warning waits for, run by a task queued on the
    /// processing loop by the first record that owes it, so after the other records that the
    /// same socket read delivered (NIO runs queued tasks after the read's events): each sink's
    /// ``WarningSink/recordProcessed()`` (the in-process relay's COMMIT of the warnings already
    /// PUBLISHed), then the counters, logs and background outputs of every released record, in
    /// order, then the statistics file if due.
    ///
    /// Why: at the stations' real-time pace the packets of a station's channels arrive
    /// together, often in one read. Done at the end of each record, this work (a COMMIT, a
    /// latency-log write, a wake-up of the background queue's thread) delayed the next record
    /// of the read: a warning released by that record started ≈ 0.95 ms after the read, against
    /// 0.15 ms for the first record's (Benchmarks/README.md, session 9). Until this runs, the warnings are on the wire and
    /// not yet durable in the outbox: the window grows from the rest of a record to the rest of
    /// a read (docs/ingest.md, "PUBLISH before COMMIT").
    func completeRecords() {
        owed.queued = false
        for i in sinks.indices where owed.sinks[i] {
            owed.sinks[i] = false
            sinks[i].recordProcessed()
        }
        // Swapped out and back, so the array keeps its buffer (no copy, no allocation).
        var takes: [Owed.Take] = []
        swap(&takes, &owed.takes)
        for t in takes {
            // Sinks (e.g. the relay) learn which record's arrival produced each warning.
            IngestTrace.$recordArrivalNanos.withValue(t.arrivalNanos) { take(t.records, prepared: t.prepared, caps: t.caps) }
        }
        takes.removeAll(keepingCapacity: true)
        swap(&takes, &owed.takes)
        if !finished { writeStatisticsIfDue() }  // finish() writes the last one itself
    }

    /// Releases everything the pipeline holds and flushes the sinks (once).
    func finish() async {
        guard !finished else { return }
        finished = true
        completeRecords()  // what the last records owe, before what the end of the data releases
        take(pipeline.finish())
        for s in sinks { s.recordProcessed() }  // what the end of the data released
        await later.drain()  // every queued output written before the flush
        for s in sinks + (output.map { [$0] } ?? []) {
            do { try await s.flush() } catch {
                metrics.sinkErrors.increment()
                logger.error("sink flush failed", metadata: ["error": "\(error)"])
            }
        }
        do { try await output?.close() } catch { logger.error("output close failed", metadata: ["error": "\(error)"]) }
        writeStatistics()
        await later.drain()
    }

    /// A warning already signed and offered to the immediate sinks.
    struct PreparedWarning {
        var id: String
        var updateNumber: Int
        var envelope: LazyEnvelope?
        /// Per sink (index in ``sinks``): it took the warning in ``WarningSink/deliverImmediately``.
        var taken: [Bool]
    }

    /// The critical path of one warning: sign it and hand it to every sink that takes warnings
    /// synchronously (the relay queue), before anything else happens.
    private func dispatch(_ m: WarningMessage, arrivalNanos: Int64?, startNanos: Int64?, sequence: Int? = nil) -> PreparedWarning {
        let releasedNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
        // Signed here, at once. Signing on the relay sink's event loop instead (LazyEnvelope
        // allows it) was not faster on the shared 2-core machine (arrival → bytes written p50
        // 1.35–2.4 ms, against 1.1–1.95 ms here: within the noise): there is rarely an idle core
        // for the loop to sign on while the pipeline goes on, and then a burst's second warning
        // waits for its signing on the loop anyway.
        let envelope = sign.map { LazyEnvelope(m, sign: $0) }
        if let envelope {
            do { _ = try envelope.get() } catch {
                logger.error("warning not signed", metadata: ["id": "\(m.id)", "error": "\(error)"])
            }
        }
        var taken = [Bool](repeating: false, count: sinks.count)
        for (i, s) in sinks.enumerated() {
            do {
                taken[i] = try s.deliverImmediately(m, envelope: envelope, trace: WarningTrace(
                    recordArrivalNanos: arrivalNanos, processingStartNanos: startNanos, releasedNanos: releasedNanos,
                    recordSequence: sequence))
            } catch {
                taken[i] = true  // failed for good (e.g. unsigned): not offered again
                metrics.sinkErrors.increment()
                logger.error("warning sink failed", metadata: ["id": "\(m.id)", "error": "\(error)"])
            }
        }
        return PreparedWarning(id: m.id, updateNumber: m.updateNumber, envelope: envelope, taken: taken)
    }

    /// - Parameter prepared: the warnings of `records` already dispatched, in order (or none).
    /// - Parameter caps: CAP renderings left to do, by index in `records` (their records carry "").
    private func take(_ records: [PipelineRecord], prepared: [PreparedWarning] = [],
                      caps: [Int: PendingCAP] = [:]) {
        // Warnings already left (``dispatch``, from inside the pipeline call); the rest is not
        // urgent. Counters and logs are done here; the sinks that did not take a warning at once,
        // and the output files, are written in order by the background queue, so that neither
        // delays the next record.
        var envelopes: [Int: LazyEnvelope] = [:]
        var pendingSinks: [(index: Int, sinks: [Int])] = []
        var next = 0
        for (index, r) in records.enumerated() {
            switch r {
            case .pick(let p, _):
                totals.picks += 1
                metrics.picks.increment()
                logger.info("pick", metadata: ["stream": "\(p.streamID)", "time": "\(p.time.iso8601)"])
            case .event:
                // Details are in events.jsonl (EventBuilder is not imported here).
                totals.events += 1
                metrics.events.increment()
                logger.info("event update", metadata: ["eventUpdates": "\(totals.events)"])
            case .sPick(let sp, _):
                logger.info("S onset", metadata: ["station": "\(sp.station)", "time": "\(sp.sTime.iso8601)",
                                                  "sMinusPSeconds": "\(sp.sMinusPSeconds)"])
            case .notice(let t, let message):
                logger.notice("pipeline notice", metadata: ["time": "\(t?.iso8601 ?? "-")", "message": "\(message)"])
            case .warning(let m, _):
                let p: PreparedWarning
                if next < prepared.count, prepared[next].id == m.id, prepared[next].updateNumber == m.updateNumber {
                    p = prepared[next]
                    next += 1
                } else {
                    p = dispatch(m, arrivalNanos: IngestTrace.recordArrivalNanos, startNanos: nil)
                }
                envelopes[index] = p.envelope
                let left = sinks.indices.filter { !p.taken[$0] }
                if !left.isEmpty { pendingSinks.append((index, left)) }
                totals.warnings += 1
                metrics.warnings.increment()
                logger.notice("warning", metadata: ["line": "\(ReplayOutputs.humanLine(m))"])
            default: break
            }
        }
        let (sinks, output, metrics, logger) = (self.sinks, self.output, self.metrics, self.logger)
        let deliveries = pendingSinks
        let lazy = envelopes
        later.enqueue {
            var signed: [Int: SignedEnvelope] = [:]
            for (index, e) in lazy {
                do { signed[index] = try e.get() } catch {
                    logger.error("warning not signed", metadata: ["id": "\(e.warning.id)", "error": "\(error)"])
                }
            }
            // Sinks first (in pipeline order), then the files.
            for (index, indices) in deliveries {
                guard case .warning(let m, _) = records[index] else { continue }
                for i in indices {
                    do { try await sinks[i].deliver(m, envelope: signed[index]) } catch {
                        metrics.sinkErrors.increment()
                        logger.error("warning sink failed", metadata: ["id": "\(m.id)", "error": "\(error)"])
                    }
                }
            }
            guard let output else { return }
            for (index, record) in records.enumerated() {
                var r = record
                if let cap = caps[index], case .warning(let m, _) = r { r = .warning(m, capXML: cap.render()) }
                do {
                    try await output.write(r)
                    if case .warning(let m, _) = r { try await output.deliver(m, envelope: signed[index]) }
                } catch {
                    metrics.sinkErrors.increment()
                    logger.error("output write failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func writeStatisticsIfDue() {
        guard statsFile != nil, ContinuousClock.now - statsWritten > .milliseconds(500) else { return }
        writeStatistics()
    }

    /// Writes `ingest-stats.json` atomically (on the background queue, after the outputs queued
    /// so far).
    func writeStatistics() {
        statsWritten = .now
        guard let statsFile else { return }
        let (snapshot, logger) = (statistics, self.logger)
        later.enqueue {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do {
                try encoder.encode(snapshot).write(to: statsFile, options: .atomic)
            } catch {
                logger.error("statistics not written", metadata: ["file": "\(statsFile.path)", "error": "\(error)"])
            }
        }
    }
}

/// A serial queue of async jobs run in order on a task of its own (started at the first job).
final class BackgroundQueue: Sendable {
    typealias Job = @Sendable () async -> Void
    private struct State {
        var continuation: AsyncStream<Job>.Continuation?
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())

    /// Queues `job` after every job queued before.
    func enqueue(_ job: @escaping Job) {
        state.withLock { s in
            if s.continuation == nil {
                let (stream, continuation) = AsyncStream<Job>.makeStream()
                s.continuation = continuation
                // Lowest priority: these jobs (CAP rendering, files, statistics) share the
                // cooperative threads with the processor, whose next record is more urgent.
                // Measured with the e2e harness (3 alternating pairs, session 3):
                // arrival → PUBLISH p50 2.03/2.48/2.87 ms against 2.40/2.88/3.08 ms at default
                // priority. Order within the queue is unchanged; shutdown still drains it.
                s.task = Task(priority: .background) {
                    for await job in stream { await job() }
                }
            }
            s.continuation?.yield(job)
        }
    }

    /// Waits until every job queued so far has run (the queue restarts at the next job).
    func drain() async {
        let task = state.withLock { s -> Task<Void, Never>? in
            s.continuation?.finish()
            s.continuation = nil
            let t = s.task
            s.task = nil
            return t
        }
        await task?.value
    }
}

/// Runs a task's jobs on an event loop (Swift 6 task executor preference): a task preferring it
/// continues on the loop's thread after each suspension, e.g. right after the loop's channel
/// handler yielded the bytes it waited for, without waking another thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Observers of ``IngestService/observeRecordDecisions(_:)``; one atomic load per record when
/// there are none.
final class RecordObservers: Sendable {
    private let observers = Mutex<[@Sendable (Int) -> Void]>([])
    private let any = Atomic<Bool>(false)

    func add(_ observer: @escaping @Sendable (Int) -> Void) {
        observers.withLock { $0.append(observer) }
        any.store(true, ordering: .releasing)
    }

    func notify(_ decided: Int) {
        guard any.load(ordering: .acquiring) else { return }
        for observer in observers.withLock({ $0 }) { observer(decided) }
    }
}
