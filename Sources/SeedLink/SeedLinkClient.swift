public import MiniSEED
import Dispatch
import NIOCore
public import NIOPosix
import SeismicCore
import Synchronization

/// What a ``SeedLinkClient`` reports.
public enum SeedLinkClientEvent: Sendable {
    /// Connected and the handshake was accepted (the server's `HELLO` id line).
    case connected(server: String)
    /// A decoded data record with its packet sequence number.
    case record(MiniSEEDRecord, sequence: Int)
    /// A decoded data record with its sequence number and its 512 raw bytes (header flags,
    /// Blockette 1001 timing quality); sent instead of ``record(_:sequence:)`` when
    /// ``SeedLinkClient/Configuration/deliversRecordBytes`` is set.
    ///
    /// `arrivalNanos` is the wall clock (CLOCK_REALTIME, ns since the epoch) at which the socket
    /// read that completed the packet (its last byte) reached the client's channel pipeline, on
    /// the event loop, before any queueing in the client: the start of "packet bytes in" for
    /// latency accounting (design.md's budget).
    case recordWithBytes(MiniSEEDRecord, sequence: Int, bytes: [UInt8], arrivalNanos: Int64)
    /// A packet whose record could not be decoded, or skipped bytes; the stream continues.
    case decodeError(String)
    /// A complete INFO answer that was not a keep-alive (XML text).
    case info(String)
    /// The connection ended (reason); the client reconnects after `delay` seconds unless stopped.
    case disconnected(reason: String, reconnectDelaySeconds: Double)
    /// The server sent `END` (FETCH/TIME window complete).
    case endOfTransfer
    /// The state file could not be written (the stream continues; the next save retries).
    case stateFileError(String)
}

/// A SeedLink 3.1 client for live ingestion (multi-station mode), on SwiftNIO.
///
/// Per connection: `HELLO`, then for each station `STATION sta net`, its `SELECT`s, and
/// `DATA` — `DATA <last+1>` (hex) when a last sequence number is known for the station
/// (libslink's resume convention), else a bare `DATA` — then `END`; packets are then decoded
/// with ``SeedLinkFrameDecoder`` and ``MiniSEEDRecordDecoder`` (512-byte records).
///
/// - Keep-alive: `INFO ID` every ``Configuration/keepAliveSeconds`` (its answer is not reported).
/// - Network timeout: without any byte for ``Configuration/networkTimeoutSeconds`` the
///   connection is dropped and re-established.
/// - Reconnect: after a failed connect, a rejected handshake or a dropped connection, wait
///   `min(initial × 2^k, maximum)` seconds (k = consecutive failures since the last
///   successful handshake; defaults 0.5 s and 30 s), times `1 + jitter × u` with `u` uniform
///   in [−1, 1) from a seeded SplitMix64 (jitter 0 by default, so tests are deterministic).
/// - State: the last sequence per station (`NET_STA`), updated as records are delivered, saved
///   to ``Configuration/stateFile`` (atomically, ``SeedLinkStateFile``) at most every
///   ``Configuration/stateSaveIntervalSeconds`` and whenever a connection ends or the client
///   stops, and loaded when ``run(_:)`` starts, so a restart resumes where it stopped.
/// - Bad bytes never trap: undecodable records and skipped bytes are reported as
///   ``SeedLinkClientEvent/decodeError(_:)`` and the stream continues.
public final class SeedLinkClient: Sendable {
    public struct Station: Sendable, Equatable {
        public var network: String
        public var station: String
        /// `SELECT` patterns, e.g. `["HN?", "00BH?.D"]`; empty = everything.
        public var selectors: [String]

        public init(network: String, station: String, selectors: [String] = []) {
            self.network = network
            self.station = station
            self.selectors = selectors
        }

        public var key: String { SeedLinkStateFile.key(network: network, station: station) }
    }

    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var stations: [Station]
        /// Seconds between `INFO ID` keep-alives (nil: none).
        public var keepAliveSeconds: Double?
        public var networkTimeoutSeconds: Double
        public var connectTimeoutSeconds: Double
        public var initialReconnectDelaySeconds: Double
        public var maximumReconnectDelaySeconds: Double
        /// Relative jitter of the reconnect delay, 0...1.
        public var reconnectJitter: Double
        public var jitterSeed: UInt64
        public var stateFile: String?
        /// 0 saves after every record.
        public var stateSaveIntervalSeconds: Double
        /// Report records as ``SeedLinkClientEvent/recordWithBytes(_:sequence:bytes:arrivalNanos:)`` (with the raw record).
        public var deliversRecordBytes = false

        public init(host: String, port: Int = 18000, stations: [Station], keepAliveSeconds: Double? = 30,
                    networkTimeoutSeconds: Double = 120, connectTimeoutSeconds: Double = 10,
                    initialReconnectDelaySeconds: Double = 0.5, maximumReconnectDelaySeconds: Double = 30,
                    reconnectJitter: Double = 0, jitterSeed: UInt64 = 0x5EED, stateFile: String? = nil,
                    stateSaveIntervalSeconds: Double = 1) {
            self.host = host
            self.port = port
            self.stations = stations
            self.keepAliveSeconds = keepAliveSeconds
            self.networkTimeoutSeconds = networkTimeoutSeconds
            self.connectTimeoutSeconds = connectTimeoutSeconds
            self.initialReconnectDelaySeconds = initialReconnectDelaySeconds
            self.maximumReconnectDelaySeconds = maximumReconnectDelaySeconds
            self.reconnectJitter = reconnectJitter
            self.jitterSeed = jitterSeed
            self.stateFile = stateFile
            self.stateSaveIntervalSeconds = stateSaveIntervalSeconds
        }
    }

    public let configuration: Configuration
    private let group: MultiThreadedEventLoopGroup
    let shared = Mutex<Shared>(Shared())
    /// Background state-file saves of the synchronous data phase.
    let background = Mutex<(saving: Bool, again: Bool, error: String?)>((false, false, nil))
    let stateQueue = DispatchQueue(label: "quakewarn-seedlink-state", qos: .utility)

    struct Shared {
        var sequences: [String: Int] = [:]
        var channel: (any Channel)?
        var stopped = false
        var lastByte = NIODeadline.now()
    }

    /// Shut down with the client (false for a caller's group).
    private let ownsGroup: Bool

    /// - Parameter eventLoopGroup: the group whose event loop runs the connection; nil: a
    ///   one-thread group of the client's own. A caller's group lets the record consumer run on
    ///   the same thread as the socket reads (the ingest daemon's processing loop); the caller
    ///   shuts it down.
    public init(configuration: Configuration, eventLoopGroup: MultiThreadedEventLoopGroup? = nil) {
        self.configuration = configuration
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        ownsGroup = eventLoopGroup == nil
    }

    deinit {
        if ownsGroup { group.shutdownGracefully { _ in } }
    }

    /// Last sequence number delivered per station key `NET_STA`.
    public var lastSequences: [String: Int] { shared.withLock { $0.sequences } }

    /// The reconnect delay after `failures` consecutive failures (1 = first), without jitter.
    public static func backoff(failures: Int, initial: Double, maximum: Double) -> Double {
        guard failures > 0 else { return 0 }
        let exponent = min(failures - 1, 60)
        return min(initial * Double(1 << min(exponent, 30)), maximum)
    }

    /// Stops the client: closes the connection; ``run(_:)`` returns soon after.
    public func stop() {
        let channel = shared.withLock { s -> (any Channel)? in
            s.stopped = true
            return s.channel
        }
        channel?.close(promise: nil)
    }

    /// Connects, streams and reconnects until ``stop()`` or task cancellation, calling
    /// `onEvent` for every event (awaited: a slow consumer slows the reading down).
    ///
    /// - Throws: `.stateFile` if the state file cannot be read at start.
    public func run(_ onEvent: @escaping @Sendable (SeedLinkClientEvent) async -> Void) async throws(SeedLinkError) {
        try await run(onEvent, records: nil)
    }

    func run(_ onEvent: @escaping @Sendable (SeedLinkClientEvent) async -> Void,
             records: RecordHandler?) async throws(SeedLinkError) {
        if let path = configuration.stateFile {
            let loaded = try SeedLinkStateFile.load(path: path)
            shared.withLock { $0.sequences.merge(loaded) { _, file in file } }
        }
        var failures = 0
        var rng = SplitMix64(seed: configuration.jitterSeed)
        while !isStopped {
            let outcome = await session(onEvent, records: records)
            stateQueue.sync {}  // a background save of the session (synchronous data phase) is done
            if let error = saveState() { await onEvent(.stateFileError(error)) }
            if isStopped { break }
            if outcome.handshakeSucceeded { failures = 0 }
            failures += 1
            var delay = Self.backoff(failures: failures, initial: configuration.initialReconnectDelaySeconds,
                                     maximum: configuration.maximumReconnectDelaySeconds)
            if configuration.reconnectJitter > 0 {
                delay *= 1 + configuration.reconnectJitter * (2 * rng.nextUniform() - 1)
            }
            await onEvent(.disconnected(reason: outcome.reason, reconnectDelaySeconds: delay))
            // Sleep in short steps so that stop() ends the wait at once (not after up to the maximum delay).
            let wakeUp = ContinuousClock.now + .nanoseconds(Int64(max(0, delay) * 1e9))
            do {
                while !isStopped, ContinuousClock.now < wakeUp {
                    try await Task.sleep(for: min(.milliseconds(50), wakeUp - ContinuousClock.now))
                }
            } catch {
                break
            }
        }
        stateQueue.sync {}
        if let error = saveState() { await onEvent(.stateFileError(error)) }
    }

    /// An `AsyncStream` of the events of ``run(_:)`` (started in a task that the stream's
    /// termination stops). The stream buffers without bound; use ``run(_:)`` for backpressure.
    public func events() -> AsyncStream<SeedLinkClientEvent> {
        AsyncStream { continuation in
            let task = Task {
                try? await self.run { continuation.yield($0) }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                self.stop()
                task.cancel()
            }
        }
    }

    private var isStopped: Bool { stopRequested || Task.isCancelled }
    /// ``stop()`` was called.
    var stopRequested: Bool { shared.withLock { $0.stopped } }

    /// Saves the state file if one is configured; returns the error text on failure.
    func saveState() -> String? {
        guard let path = configuration.stateFile else { return nil }
        let state = shared.withLock { $0.sequences }
        do {
            try SeedLinkStateFile.save(state, path: path)
            return nil
        } catch {
            return error.description
        }
    }

    struct Outcome {
        var handshakeSucceeded: Bool
        var reason: String
    }

    enum SessionFailure: Error {
        case closed(String)
    }

    private var source: String { "seedlink://\(configuration.host):\(configuration.port)" }

    /// One connection: connect, handshake, stream until the connection ends.
    private func session(_ onEvent: @escaping @Sendable (SeedLinkClientEvent) async -> Void,
                         records: RecordHandler?) async -> Outcome {
        let asyncChannel: NIOAsyncChannel<SessionInbound, ByteBuffer>
        let sessionHandler: NIOLoopBound<SessionHandler>
        do {
            (asyncChannel, sessionHandler) = try await ClientBootstrap(group: group)
                .connectTimeout(.milliseconds(Int64(configuration.connectTimeoutSeconds * 1000)))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let handler = SessionHandler()
                        try channel.pipeline.syncOperations.addHandler(handler)
                        return (try NIOAsyncChannel<SessionInbound, ByteBuffer>(wrappingChannelSynchronously: channel),
                                NIOLoopBound(handler, eventLoop: channel.eventLoop))
                    }
                }
        } catch {
            return Outcome(handshakeSucceeded: false, reason: "cannot connect to \(source): \(error)")
        }
        let stoppedNow = shared.withLock { s -> Bool in
            s.channel = asyncChannel.channel
            s.lastByte = .now()
            return s.stopped
        }
        defer { shared.withLock { $0.channel = nil } }
        if stoppedNow {
            asyncChannel.channel.close(promise: nil)
            return Outcome(handshakeSucceeded: false, reason: "stopped")
        }
        var handshakeSucceeded = false
        var reason = "connection closed by \(source)"
        do {
            try await asyncChannel.executeThenClose { inbound, outbound in
                var iterator = inbound.makeAsyncIterator()
                var pending: [UInt8] = []
                func readLine() async throws -> String {
                    while true {
                        if let i = pending.firstIndex(of: 0x0A) {
                            let line = String(decoding: pending[..<i], as: UTF8.self)
                            pending.removeSubrange(...i)
                            return line.trimmingTerminators
                        }
                        guard pending.count < 4096 else { throw SessionFailure.closed("reply line longer than 4096 bytes") }
                        guard let input = try await iterator.next() else {
                            throw SessionFailure.closed("connection closed during the handshake")
                        }
                        guard case .read(var read) = input else { continue }  // no events before the data phase
                        self.touch()
                        pending += read.bytes.readBytes(length: read.bytes.readableBytes) ?? []
                    }
                }
                func send(_ command: SeedLinkCommand) async throws {
                    try await outbound.write(ByteBuffer(string: command.line))
                }
                func command(_ c: SeedLinkCommand) async throws -> Bool {
                    try await send(c)
                    let answer = try await readLine()
                    switch answer {
                    case "OK": return true
                    case "ERROR": return false
                    default: throw SessionFailure.closed("unexpected reply '\(answer)' to \(c)")
                    }
                }
                try await send(.hello)
                let id = try await readLine()
                _ = try await readLine()
                guard id.lowercased().hasPrefix("seedlink") else {
                    throw SessionFailure.closed("not a SeedLink server: '\(id)'")
                }
                let sequences = self.lastSequences
                var accepted = 0
                for station in self.configuration.stations {
                    guard try await command(.station(station: station.station, network: station.network)) else {
                        await onEvent(.decodeError("\(self.source): STATION \(station.station) \(station.network) rejected"))
                        continue
                    }
                    for text in station.selectors {
                        do {
                            let selector = try SeedLinkSelector(text)
                            if !(try await command(.select(selector))) {
                                await onEvent(.decodeError("\(self.source): SELECT \(text) rejected for \(station.key)"))
                            }
                        } catch let error as SeedLinkError {
                            await onEvent(.decodeError("\(self.source): \(error)"))
                        }
                    }
                    let last = sequences[station.key]
                    let data = SeedLinkCommand.data(sequence: last.map { ($0 + 1) & 0xFF_FFFF }, begin: nil)
                    guard try await command(data) else {
                        throw SessionFailure.closed("\(data) rejected for \(station.key)")
                    }
                    accepted += 1
                }
                guard accepted > 0 else { throw SessionFailure.closed("no station accepted") }
                if let records {
                    // Before END: the server sends no data before it, so every data byte reaches the
                    // handler's decoder (the bytes read after the last reply are handed over).
                    let leftover = pending
                    pending = []
                    let source = self.source
                    try await sessionHandler.eventLoop.submit {
                        sessionHandler.value.enterDataPhase(client: self, records: records, pending: leftover, source: source)
                    }.get()
                }
                try await send(.end)
                handshakeSucceeded = true
                await onEvent(.connected(server: id))

                try await withThrowingTaskGroup(of: Void.self) { group in
                    if let keepAlive = self.configuration.keepAliveSeconds, keepAlive > 0 {
                        group.addTask {
                            while true {
                                try await Task.sleep(nanoseconds: UInt64(keepAlive * 1e9))
                                try await outbound.write(ByteBuffer(string: SeedLinkCommand.info(level: "ID").line))
                            }
                        }
                    }
                    group.addTask {
                        // Network timeout watchdog.
                        let timeout = self.configuration.networkTimeoutSeconds
                        while true {
                            try await Task.sleep(nanoseconds: UInt64(min(1, timeout / 4) * 1e9))
                            let silent = self.shared.withLock { NIODeadline.now() - $0.lastByte }
                            if silent.nanoseconds > Int64(timeout * 1e9) {
                                throw SessionFailure.closed("no data for \(timeout) s")
                            }
                        }
                    }
                    var decoder = SeedLinkFrameDecoder()
                    decoder.append(pending)
                    var interpreter = SeedLinkFrameInterpreter(source: self.source)
                    // Frames are drained after each read, so every frame `next()` returns was
                    // completed by the last read: its stamp is the packet's arrival.
                    var lastReadNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
                    var lastSaved = NIODeadline.now()
                    readLoop: while true {
                        while let frame = decoder.next() {
                            // After stop(), deliver nothing more (a consumer may stop at an exact record).
                            if self.isStopped { break readLoop }
                            switch interpreter.interpret(frame) {
                            case .record(let decoded, let sequence, let bytes):
                                self.noteDelivered(decoded, sequence: sequence)
                                if self.configuration.deliversRecordBytes {
                                    await onEvent(.recordWithBytes(decoded, sequence: sequence, bytes: bytes, arrivalNanos: lastReadNanos))
                                } else {
                                    await onEvent(.record(decoded, sequence: sequence))
                                }
                                if self.stateSaveDue(&lastSaved), let error = self.saveState() {
                                    await onEvent(.stateFileError(error))
                                }
                            case .event(let event):
                                await onEvent(event)
                            case .nothing:
                                break
                            }
                        }
                        guard let input = try await iterator.next() else { break readLoop }
                        switch input {
                        case .read(var read):
                            self.touch()
                            lastReadNanos = read.wallNanos
                            if let bytes = read.bytes.readBytes(length: read.bytes.readableBytes) { decoder.append(bytes) }
                        case .events(let events):
                            // The synchronous data phase: records went to the record handler. These
                            // were found before any stop() took effect (the handler checks it), so
                            // they are reported even if the consumer stopped since.
                            for event in events { await onEvent(event) }
                        }
                    }
                    group.cancelAll()
                }
            }
        } catch let SessionFailure.closed(why) {
            reason = why
            asyncChannel.channel.close(promise: nil)
        } catch {
            reason = "\(source): \(error)"
            asyncChannel.channel.close(promise: nil)
        }
        return Outcome(handshakeSucceeded: handshakeSucceeded, reason: reason)
    }

    func touch() {
        shared.withLock { $0.lastByte = .now() }
    }
}

