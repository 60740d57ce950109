import NIOCore
import NIOPosix
import SeismicCore
import Synchronization

/// How fast `quakewarn feed` plays its records.
public enum SeedLinkFeedSpeed: Sendable, Equatable, CustomStringConvertible {
    /// As fast as each connection's socket accepts (NIO writability backpressure).
    case max
    /// `factor` × real time (1 = real time): the record at index `i` is released when
    /// `(endTime_i − firstStart) / factor` has passed since the server started, i.e. when a
    /// digitizer would have filled it.
    case factor(Double)

    /// Parses `realtime`, `max` or a positive number.
    public init?(_ text: String) {
        switch text.lowercased() {
        case "max": self = .max
        case "realtime": self = .factor(1)
        default:
            guard let v = Double(text), v.isFinite, v > 0 else { return nil }
            self = .factor(v)
        }
    }

    public var description: String {
        switch self {
        case .max: return "max"
        case .factor(let f): return f == 1 ? "realtime" : "\(f)x"
        }
    }
}

/// When each record of the (possibly looped) feed is released, relative to the server start.
///
/// Record index `g` (0-based, across loop passes; its SeedLink sequence number is `g + 1`)
/// is record `g mod count` of the feed in pass `g / count`. Its release offset is
/// `(pass × passDuration + max_{j ≤ i}(end_j − firstStart)) / factor`, where the running
/// maximum keeps releases in sequence order and `passDuration = max(end) − firstStart`.
struct FeedTimeline: Sendable {
    let count: Int
    let loop: Bool
    let isMax: Bool
    /// Scaled cumulative release offsets of one pass, nanoseconds.
    let releaseOffsets: [Int64]
    /// Scaled pass duration, nanoseconds (at least 1).
    let passDuration: Int64

    init(records: [SeedLinkFeedRecord], speed: SeedLinkFeedSpeed, loop: Bool) {
        count = records.count
        self.loop = loop
        let first = records.first?.startTime ?? Timestamp(nanosecondsSinceEpoch: 0)
        var running: Int64 = 0
        var offsets: [Int64] = []
        offsets.reserveCapacity(records.count)
        let factor: Double
        switch speed {
        case .max: factor = 1; isMax = true
        case .factor(let f): factor = f; isMax = false
        }
        for r in records {
            running = Swift.max(running, r.endTime.nanoseconds(since: first))
            offsets.append(Int64((Double(running) / factor).rounded()))
        }
        releaseOffsets = offsets
        passDuration = Swift.max(1, offsets.last ?? 1)
    }

    /// Release offset of index `g` in nanoseconds after the start; nil if it never exists.
    func releaseOffset(of g: Int) -> Int64? {
        guard count > 0, g >= 0 else { return nil }
        if !loop, g >= count { return nil }
        if isMax { return 0 }
        let pass = Int64(g / count)
        let (product, overflow) = pass.multipliedReportingOverflow(by: passDuration)
        if overflow { return Int64.max / 2 }
        return product + releaseOffsets[g % count]
    }

    /// Number of indices released `elapsed` nanoseconds after the start.
    func releasedCount(elapsed: Int64) -> Int {
        guard count > 0 else { return 0 }
        if isMax { return count }
        let pass = loop ? Int(elapsed / passDuration) : 0
        let within = elapsed - Int64(pass) * passDuration
        // First index whose offset exceeds `within` (offsets are non-decreasing).
        var lo = 0, hi = count
        while lo < hi {
            let mid = (lo + hi) / 2
            if releaseOffsets[mid] <= within { lo = mid + 1 } else { hi = mid }
        }
        return pass * count + lo
    }

    /// First index still in the "ring" (the last `count` released records); bare `DATA`,
    /// `TIME` and `FETCH` start here.
    func ringStart(elapsed: Int64) -> Int {
        isMax ? 0 : Swift.max(0, releasedCount(elapsed: elapsed) - count)
    }
}

/// A SeedLink 3.1 server on SwiftNIO that plays a ``SeedLinkFeed`` to any number of clients.
///
/// Protocol subset (see ``SeedLinkCommand``): `HELLO`, `CAT`, `BYE`, `INFO ID|CAPABILITIES|
/// STATIONS|STREAMS`, uni-station `SELECT`/`DATA`/`FETCH`/`TIME`, and multi-station
/// `STATION`/`SELECT`/`DATA`/`FETCH`/`TIME` … `END`. Behaviour:
/// - One global timeline starts when the server starts (``FeedTimeline``); every connection
///   sees the same sequence numbers and release times. Sequence numbers start at 1 and keep
///   increasing across `--loop` passes (the 6-hex-digit packet header wraps at 0xFFFFFF).
/// - `DATA n` / `FETCH n` resume at the first packet with sequence ≥ `n` (libslink and ObsPy
///   send the last received + 1). An older `n` than the ring holds starts at the ring's
///   oldest packet; without `--loop`, an `n` past the last record gets nothing more.
/// - Without a sequence number, `DATA`, `FETCH` and `TIME` start at the oldest packet in the
///   ring (the last `count` released packets; everything at `--speed max`), so a client that
///   connects late still gets one pass of data. (ringserver starts bare `DATA` at the newest
///   packet instead.)
/// - `DATA … begin` and `TIME begin [end]` send only records overlapping the window.
///   `FETCH` sends what is released at `END` (or the action, in uni-station mode) and then
///   `END`; `TIME` with an end time sends one pass (of the loop) and then `END`. `DATA` never ends.
/// - Packets go out in sequence order, each connection as fast as its socket accepts (writes
///   stop while the channel is not writable; nothing is buffered beyond NIO's high-water mark).
/// - Commands other than `INFO` and `BYE` after the transfer started are ignored; a command
///   line longer than 255 bytes closes the connection.
public final class SeedLinkServer: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 lets the OS choose a free port (see ``port``).
        public var port: Int
        public var speed: SeedLinkFeedSpeed
        public var loop: Bool
        public var organization: String
        /// Called at each flush of data packets to a connection with their SeedLink sequence
        /// numbers and the wall clock (CLOCK_REALTIME, ns) taken just **before** the flush (the
        /// write to the socket): no byte of them was sent earlier, so on loopback the stamp is a
        /// lower bound of the packets' arrival at the receiver's socket, early by at most the
        /// write itself. For the end-to-end harness, which measures "packet in" from it. Called on
        /// the connection's event loop, after the flush; must not block for long.
        public var sendLog: (@Sendable (_ sequences: [Int], _ writeStartNanos: Int64) -> Void)?

        public init(host: String = "127.0.0.1", port: Int = 18000, speed: SeedLinkFeedSpeed = .factor(1), loop: Bool = false,
                    organization: String = "QuakeWarn",
                    sendLog: (@Sendable (_ sequences: [Int], _ writeStartNanos: Int64) -> Void)? = nil) {
            self.host = host
            self.port = port
            self.speed = speed
            self.loop = loop
            self.organization = organization
            self.sendLog = sendLog
        }
    }

    /// Software id in the `HELLO` reply.
    public static let softwareID = "SeedLink v3.1 (QuakeWarn feed) :: SLPROTO:3.1 CAP"

    public let feed: SeedLinkFeed
    public let configuration: Configuration
    let timeline: FeedTimeline
    let log: @Sendable (String) -> Void
    let group: MultiThreadedEventLoopGroup
    private let state = Mutex<State>(State())
    private let sentCounter = Atomic<Int>(0)

    /// Data packets written to all connections so far (for monitoring and backpressure tests).
    public var packetsSent: Int { sentCounter.load(ordering: .relaxed) }

    func countSent(_ n: Int) { sentCounter.add(n, ordering: .relaxed) }

    struct State {
        var serverChannel: (any Channel)?
        var start: NIODeadline?
        var started: Timestamp?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
    }

    /// - Parameter log: receives one human-readable line per connection event.
    public init(feed: SeedLinkFeed, configuration: Configuration, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.feed = feed
        self.configuration = configuration
        self.timeline = FeedTimeline(records: feed.records, speed: configuration.speed, loop: configuration.loop)
        self.log = log
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        // After stop() this only reports (to nobody) that the group is already shut down.
        group.shutdownGracefully { _ in }
    }

    /// The bound port once started.
    public var port: Int? { state.withLock { $0.serverChannel?.localAddress?.port } }

    /// Binds and starts accepting connections; the playback clock starts now.
    ///
    /// - Returns: the bound port.
    /// - Throws: `.network` when binding fails.
    @discardableResult
    public func start() async throws(SeedLinkError) -> Int {
        let now = NIODeadline.now()
        let wallNow = Self.wallClock()
        state.withLock {
            $0.start = now
            $0.started = wallNow
        }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SeedLinkSessionHandler(server: self, start: now, started: wallNow)
                    try channel.pipeline.syncOperations.addHandler(handler)
                    self.register(channel)
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        } catch {
            try? await group.shutdownGracefully()
            throw SeedLinkError(.network, "cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        state.withLock { $0.serverChannel = channel }
        return channel.localAddress?.port ?? configuration.port
    }

    /// Closes every client connection but keeps listening (tests use it to simulate a drop).
    public func closeConnections() {
        let channels = state.withLock { Array($0.connections.values) }
        for c in channels { c.close(promise: nil) }
    }

    /// Number of open client connections.
    public var connectionCount: Int { state.withLock { $0.connections.count } }

    /// Stops listening, closes every connection and shuts the event loop down. Idempotent.
    public func stop() async {
        let (server, channels, already) = state.withLock { s -> ((any Channel)?, [any Channel], Bool) in
            let already = s.stopped
            s.stopped = true
            return (s.serverChannel, Array(s.connections.values), already)
        }
        if already { return }
        try? await server?.close()
        for c in channels { try? await c.close() }
        try? await group.shutdownGracefully()
    }

    private func register(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }

    static func wallClock() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(nanosecondsSinceEpoch: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One client connection: command handling, then the paced packet pump.
final class SeedLinkSessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Action { case data, fetch, time }

    struct StationRequest {
        var network: String?
        var station: String
        var selectors: [SeedLinkSelector] = []
        var action: Action?
        var sequence: Int?
        var begin: Timestamp?
        var end: Timestamp?
        var startIndex = 0
        /// Index at which this request is complete (FETCH / TIME with an end), nil = never.
        var finishIndex: Int?

        func selects(_ r: SeedLinkFeedRecord) -> Bool {
            guard glob(station, r.streamID.station) else { return false }
            if let network, !glob(network, r.streamID.network) { return false }
            guard SeedLinkSelector.selects(selectors, r.streamID) else { return false }
            if let begin, r.endTime <= begin { return false }
            if let end, r.startTime >= end { return false }
            return true
        }
    }

    let server: SeedLinkServer
    let start: NIODeadline
    let started: Timestamp
    var peer = "?"
    var line: [UInt8] = []
    var requests: [StationRequest] = []
    /// Uni-station selectors (SELECT before DATA without STATION).
    var uniSelectors: [SeedLinkSelector] = []
    var streaming = false
    var ended = false
    var cursor = 0
    var scheduled: Scheduled<Void>?
    var sent = 0
    var closed = false

    init(server: SeedLinkServer, start: NIODeadline, started: Timestamp) {
        self.server = server
        self.start = start
        self.started = started
    }

    var feed: SeedLinkFeed { server.feed }
    var timeline: FeedTimeline { server.timeline }

    func channelActive(context: ChannelHandlerContext) {
        peer = context.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        server.log("\(peer): connected")
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        scheduled?.cancel()
        scheduled = nil
        server.log("\(peer): disconnected after \(sent) packets")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        server.log("\(peer): \(error)")
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { pump(context: context) }
        context.fireChannelWritabilityChanged()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        while let byte = buffer.readInteger(as: UInt8.self) {
            if closed { return }
            if byte == 0x0D || byte == 0x0A {
                if !line.isEmpty {
                    let text = String(decoding: line, as: UTF8.self)
                    line.removeAll(keepingCapacity: true)
                    handle(text, context: context)
                }
            } else {
                line.append(byte)
                if line.count > 255 {
                    server.log("\(peer): command line longer than 255 bytes; closing")
                    reply("ERROR\r\n", context: context)
                    closed = true
                    context.close(promise: nil)
                    return
                }
            }
        }
    }

    private func reply(_ text: String, context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: text.utf8.count)
        out.writeString(text)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    var elapsed: Int64 { (NIODeadline.now() - start).nanoseconds }

    private func handle(_ text: String, context: ChannelHandlerContext) {
        let command: SeedLinkCommand
        do {
            command = try SeedLinkCommand.parse(text)
        } catch {
            server.log("\(peer): rejected '\(text)': \(error.reason)")
            reply("ERROR\r\n", context: context)
            return
        }
        if case .info(let level) = command { server.log("\(peer): INFO \(level)") }
        if streaming {
            switch command {
            case .info(let level): sendInfo(level, context: context)
            case .bye: closed = true; context.close(promise: nil)
            default: break  // ignored during the transfer
            }
            return
        }
        switch command {
        case .hello:
            reply(SeedLinkServer.softwareID + "\r\n" + server.configuration.organization + "\r\n", context: context)
        case .cat:
            var out = ""
            for s in feed.stations { out += "\(s.network) \(s.station) QuakeWarn feed\r\n" }
            reply(out + "END", context: context)
        case .bye:
            closed = true
            context.close(promise: nil)
        case .info(let level):
            sendInfo(level, context: context)
        case .station(let station, let network):
            let request = StationRequest(network: network, station: station)
            guard feed.records.contains(where: { r in glob(station, r.streamID.station) && (network.map { n in glob(n, r.streamID.network) } ?? true) }) else {
                server.log("\(peer): STATION \(station) \(network ?? ""): not served")
                reply("ERROR\r\n", context: context)
                return
            }
            requests.append(request)
            reply("OK\r\n", context: context)
        case .select(let selector):
            if requests.isEmpty {
                if let selector { uniSelectors.append(selector) } else { uniSelectors.removeAll() }
            } else {
                if let selector { requests[requests.count - 1].selectors.append(selector) } else {
                    requests[requests.count - 1].selectors.removeAll()
                }
            }
            reply("OK\r\n", context: context)
        case .data(let sequence, let begin):
            action(.data, sequence: sequence, begin: begin, end: nil, context: context)
        case .fetch(let sequence, let begin):
            action(.fetch, sequence: sequence, begin: begin, end: nil, context: context)
        case .time(let begin, let end):
            action(.time, sequence: nil, begin: begin, end: end, context: context)
        case .end:
            guard !requests.isEmpty, requests.allSatisfy({ $0.action != nil }) else {
                // END without any complete station request: nothing to send.
                reply("ERROR\r\n", context: context)
                return
            }
            startStreaming(context: context)
        }
    }

    private func action(_ kind: Action, sequence: Int?, begin: Timestamp?, end: Timestamp?, context: ChannelHandlerContext) {
        if requests.isEmpty {
            // Uni-station mode: the action applies to every stream and starts the transfer.
            var request = StationRequest(network: nil, station: "*")
            request.selectors = uniSelectors
            request.action = kind
            request.sequence = sequence
            request.begin = begin
            request.end = end
            requests = [request]
            reply("OK\r\n", context: context)
            startStreaming(context: context)
            return
        }
        requests[requests.count - 1].action = kind
        requests[requests.count - 1].sequence = sequence
        requests[requests.count - 1].begin = begin
        requests[requests.count - 1].end = end
        reply("OK\r\n", context: context)
    }

    private func startStreaming(context: ChannelHandlerContext) {
        streaming = true
        let now = elapsed
        let ring = timeline.ringStart(elapsed: now)
        let released = timeline.releasedCount(elapsed: now)
        for i in requests.indices {
            var r = requests[i]
            var startIndex = ring
            if let s = r.sequence {
                startIndex = Swift.max(ring, s - 1)
            }
            r.startIndex = startIndex
            let passEnd = (startIndex / Swift.max(1, timeline.count) + 1) * timeline.count
            switch r.action {
            case .fetch: r.finishIndex = timeline.isMax ? passEnd : Swift.min(passEnd, Swift.max(released, startIndex))
            case .time: r.finishIndex = r.end == nil ? nil : passEnd
            default: r.finishIndex = nil
            }
            requests[i] = r
        }
        cursor = requests.map(\.startIndex).min() ?? ring
        let description = requests.map { r in
            "\(r.network ?? "*")_\(r.station) \(r.selectors.map(\.description).joined(separator: ",")) \(r.action.map { "\($0)" } ?? "") from #\(r.startIndex + 1)"
        }.joined(separator: "; ")
        server.log("\(peer): transfer started: \(description)")
        pump(context: context)
    }

    private func sendInfo(_ level: String, context: ChannelHandlerContext) {
        guard let xml = SeedLinkInfo.xml(level: level, software: SeedLinkServer.softwareID,
                                         organization: server.configuration.organization, started: started,
                                         stations: feed.stations) else {
            reply("ERROR\r\n", context: context)
            return
        }
        let records = SeedLinkInfo.textRecords(xml, time: SeedLinkServer.wallClock())
        for (i, record) in records.enumerated() {
            var out = context.channel.allocator.buffer(capacity: 520)
            out.writeString(i == records.count - 1 ? "SLINFO  " : "SLINFO *")
            out.writeBytes(record)
            context.write(wrapOutboundOut(out), promise: nil)
        }
        context.flush()
    }

    /// Sends released packets while the channel is writable; schedules itself for the next release.
    private func pump(context: ChannelHandlerContext) {
        guard streaming, !ended, !closed else { return }
        scheduled?.cancel()
        scheduled = nil
        var written = 0
        var examined = 0
        // Sequence numbers written since the last flush (with a send log only).
        let sendLog = server.configuration.sendLog
        var unflushed: [Int] = []
        func flush() {
            let before = sendLog == nil ? 0 : SeedLinkServer.wallClock().nanosecondsSinceEpoch
            context.flush()
            guard let sendLog, !unflushed.isEmpty else { return }
            sendLog(unflushed, before)
            unflushed.removeAll(keepingCapacity: true)
        }
        defer { if written > 0 { flush() } }
        while context.channel.isWritable {
            examined += 1
            if examined > 4096 {
                // Yield the event loop (e.g. a looped feed whose records none are selected).
                context.eventLoop.assumeIsolated().execute { [self] in self.pump(context: context) }
                return
            }
            if requests.allSatisfy({ $0.finishIndex.map { cursor >= $0 } ?? false }) {
                var out = context.channel.allocator.buffer(capacity: 3)
                out.writeString("END")
                context.write(wrapOutboundOut(out), promise: nil)
                written += 1
                ended = true
                server.log("\(peer): window complete, sent END after \(sent) packets")
                return
            }
            guard let offset = timeline.releaseOffset(of: cursor) else { return }  // no more records, idle
            if offset > elapsed {
                let deadline = start + .nanoseconds(offset)
                scheduled = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
                    self.scheduled = nil
                    self.pump(context: context)
                }
                return
            }
            let g = cursor
            cursor += 1
            let record = feed.records[g % timeline.count]
            for r in requests where g >= r.startIndex && (r.finishIndex.map { g < $0 } ?? true) && r.selects(record) {
                var out = context.channel.allocator.buffer(capacity: 520)
                out.writeString("SL" + SeedLinkCommand.hex(g + 1))
                out.writeBytes(record.bytes)
                context.write(wrapOutboundOut(out), promise: nil)
                if sendLog != nil { unflushed.append(g + 1) }
                sent += 1
                server.countSent(1)
                written += 1
                if written % 64 == 0 { flush() }
                break
            }
        }
    }
}

@available(*, unavailable)
extension SeedLinkSessionHandler: Sendable {}

/// `?` matches one character, `*` any run; case-insensitive.
func glob(_ pattern: String, _ value: String) -> Bool {
    let p = Array(pattern.uppercased()), v = Array(value.uppercased())
    func match(_ i: Int, _ j: Int) -> Bool {
        if i == p.count { return j == v.count }
        if p[i] == "*" {
            var k = j
            while k <= v.count {
                if match(i + 1, k) { return true }
                k += 1
            }
            return false
        }
        guard j < v.count, p[i] == "?" || p[i] == v[j] else { return false }
        return match(i + 1, j + 1)
    }
    return match(0, 0)
}
