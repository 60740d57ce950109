import Foundation
import MiniSEED
import NIOCore
import NIOPosix
import SeedLink
import SeismicCore
import Synchronization
import Testing
import TestSupport

/// Collects client events from any thread; `changes` is notified after each one.
final class EventLog: Sendable {
    let events = Mutex<[SeedLinkClientEvent]>([])
    /// Notified on every event; other sources a wait watches (e.g. a server log) notify it too.
    let changes = ChangeSignal()
    func append(_ e: SeedLinkClientEvent) {
        events.withLock { $0.append(e) }
        changes.notify()
    }
    var records: [(record: MiniSEEDRecord, sequence: Int)] {
        events.withLock { $0.compactMap { if case .record(let r, let s) = $0 { return (r, s) } else { return nil } } }
    }
    var disconnects: [Double] {
        events.withLock { $0.compactMap { if case .disconnected(_, let d) = $0 { return d } else { return nil } } }
    }
    var decodeErrors: [String] {
        events.withLock { $0.compactMap { if case .decodeError(let m) = $0 { return m } else { return nil } } }
    }

    /// Waits until `condition` holds, re-checked after every ``changes`` notification (no
    /// polling); a generous wall-clock deadline (see TestConnection.wait).
    func wait(_ what: String, timeout: Double = 30, _ condition: () -> Bool) async throws {
        try await changes.wait(timeout, what, until: condition)
    }
}

@Suite struct ClientTests {
    static let stations = [SeedLinkClient.Station(network: "XX", station: "NANTA"),
                           SeedLinkClient.Station(network: "XX", station: "GAOSI", selectors: ["HN?"])]

    static func client(port: Int, stateFile: String? = nil, keepAlive: Double? = nil, initialDelay: Double = 0.02,
                       maximumDelay: Double = 0.1) -> SeedLinkClient {
        SeedLinkClient(configuration: .init(host: "127.0.0.1", port: port, stations: stations, keepAliveSeconds: keepAlive,
                                            networkTimeoutSeconds: 5, connectTimeoutSeconds: 2,
                                            initialReconnectDelaySeconds: initialDelay, maximumReconnectDelaySeconds: maximumDelay,
                                            stateFile: stateFile, stateSaveIntervalSeconds: 0))
    }

    /// Runs the client in a task; returns the task. `synchronous`: through
    /// ``SeedLinkClient/run(records:events:)`` (records logged as `.record` events, and each
    /// one checked to arrive on an event loop thread, inside the read), else ``SeedLinkClient/run(_:)``.
    static func start(_ client: SeedLinkClient, _ log: EventLog, stopAfter: Int? = nil,
                      synchronous: Bool = false) -> Task<Void, any Error> {
        Task {
            if synchronous {
                try await client.run(records: { record, sequence, bytes, arrivalNanos in
                    #expect(MultiThreadedEventLoopGroup.currentEventLoop != nil, "a record off the event loop")
                    #expect(bytes.count == 512 && arrivalNanos > 0)
                    log.append(.record(record, sequence: sequence))
                    if let stopAfter, log.records.count >= stopAfter { client.stop() }
                }, events: { event in
                    if case .record = event { Issue.record("a record through the async events") }
                    if case .recordWithBytes = event { Issue.record("a record through the async events") }
                    log.append(event)
                })
            } else {
                try await client.run { event in
                    log.append(event)
                    if let stopAfter, log.records.count >= stopAfter { client.stop() }
                }
            }
        }
    }

    /// 40 short records (0.25 s each) of two stations, paced so the stream takes about 0.5 s at 20×.
    static func pacedFeed() throws -> SeedLinkFeed {
        let a = try Synthetic.shortRecords("XX.NANTA.00.HNZ", start: Synthetic.t0, rate: 100, records: 20, samplesPerRecord: 25, seed: 11)
        let b = try Synthetic.shortRecords("XX.GAOSI..HNE", start: Synthetic.t0.adding(nanoseconds: 100_000_000), rate: 100,
                                           records: 20, samplesPerRecord: 25, seed: 12)
        return Synthetic.feed(a + b)
    }

    static func expectAllOnceInOrder(_ got: [(record: MiniSEEDRecord, sequence: Int)], _ feed: SeedLinkFeed) throws {
        #expect(got.map(\.sequence) == Array(1...feed.records.count), "every record once, in order")
        for (r, s) in got {
            let expected = try Synthetic.decode(feed.records[s - 1].bytes)
            #expect(r.streamID == expected.streamID && r.startTime == expected.startTime && r.samples == expected.samples)
        }
    }

    @Test func deliversEveryRecordOnceInOrderThroughTheAsyncStream() async throws {
        let feed = try Synthetic.feed()
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .max))
        let port = try await server.start()
        let client = Self.client(port: port)
        let count = feed.records.count
        let stream = client.events()
        let consume = Task {
            var got: [(record: MiniSEEDRecord, sequence: Int)] = []
            for await event in stream {
                if case .record(let r, let s) = event { got.append((r, s)) }
                if got.count == count { break }
            }
            return got
        }
        let timeout = Task {
            // The deadline of the whole delivery (cancelled when it completes), not a poll.
            try await Task.sleep(nanoseconds: 20_000_000_000)
            client.stop()
        }
        let got = await consume.value
        timeout.cancel()
        client.stop()
        await server.stop()
        try Self.expectAllOnceInOrder(got, feed)
    }

    @Test("the server's send log names every data packet by the sequence number the client sees, stamped before the client reads it")
    func sendLogMatchesTheClientsSequences() async throws {
        let feed = try Self.pacedFeed()
        let sent = Mutex<[Int: Int64]>([:])
        let arrivals = Mutex<[Int: Int64]>([:])
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .factor(20), sendLog: { sequences, nanos in
            sent.withLock { for s in sequences { $0[s] = nanos } }
        }))
        let port = try await server.start()
        let client = Self.client(port: port)
        let log = EventLog()
        let count = feed.records.count
        let task = Task {
            try await client.run(records: { record, sequence, bytes, arrivalNanos in
                arrivals.withLock { $0[sequence] = arrivalNanos }
                log.append(.record(record, sequence: sequence))
                if log.records.count >= count { client.stop() }
            }, events: { log.append($0) })
        }
        try await log.wait("\(count) records") { log.records.count >= count }
        try await task.value
        await server.stop()
        let (s, a) = (sent.withLock { $0 }, arrivals.withLock { $0 })
        #expect(Set(s.keys) == Set(1...count))
        #expect(Set(a.keys) == Set(1...count))
        for (sequence, arrived) in a {
            // Stamped before the write: the client cannot have read the packet earlier.
            #expect((s[sequence] ?? .max) <= arrived, "packet \(sequence)")
        }
    }

    @Test(arguments: [false, true])
    func reconnectsAfterADropAndResumesWithoutLossOrDuplicates(synchronous: Bool) async throws {
        let feed = try Self.pacedFeed()
        let serverLog = Mutex<[String]>([])
        let log = EventLog()
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .factor(10))) { line in
            serverLog.withLock { $0.append(line) }
            log.changes.notify()  // the keep-alive wait below watches the server log
        }
        let port = try await server.start()
        let client = Self.client(port: port, keepAlive: 0.1)
        let task = Self.start(client, log, synchronous: synchronous)
        try await log.wait("10 records") { log.records.count >= 10 }
        server.closeConnections()  // drop mid-stream
        try await log.wait("all records") { log.records.count >= feed.records.count }
        // An observation window for late duplicates (absence of an event can only be seen over
        // time; the assertion below is exact), not a poll.
        try await Task.sleep(nanoseconds: 50_000_000)
        try await log.wait("a keep-alive") { serverLog.withLock { $0 }.contains { $0.hasSuffix("INFO ID") } }
        client.stop()
        try await task.value
        await server.stop()
        try Self.expectAllOnceInOrder(log.records, feed)
        #expect(log.disconnects.count >= 1)
        // The reconnect asked for the next sequence number of each station.
        let resumed = serverLog.withLock { $0 }.filter { $0.contains("transfer started") }
        #expect(resumed.count >= 2)
        #expect(resumed.dropFirst().allSatisfy { !$0.contains("from #1;") }, "\(resumed)")
    }

    @Test(arguments: [false, true])
    func stateFileRestartResumesWhereItStopped(synchronous: Bool) async throws {
        let feed = try Self.pacedFeed()
        let dir = try Synthetic.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let state = dir + "/seedlink.state"
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .max))
        let port = try await server.start()

        let first = Self.client(port: port, stateFile: state)
        let log1 = EventLog()
        let task1 = Self.start(first, log1, stopAfter: 12, synchronous: synchronous)  // stops inside the 12th delivery
        try await task1.value
        let delivered1 = log1.records
        #expect(delivered1.count == 12, "stopped mid-stream")

        // What the file says equals the last sequence delivered per station.
        let saved = try SeedLinkStateFile.load(path: state)
        var lastPerStation: [String: Int] = [:]
        for (r, s) in delivered1 { lastPerStation["\(r.streamID.network)_\(r.streamID.station)"] = s }
        #expect(saved == lastPerStation)
        #expect(!FileManager.default.fileExists(atPath: state + ".tmp-\(getpid())"))

        let second = Self.client(port: port, stateFile: state)
        let log2 = EventLog()
        let task2 = Self.start(second, log2, synchronous: synchronous)
        try await log2.wait("the rest") { delivered1.count + log2.records.count >= feed.records.count }
        // An observation window for late duplicates (absence of an event can only be seen over
        // time; expectAllOnceInOrder below is exact), not a poll.
        try await Task.sleep(nanoseconds: 50_000_000)
        second.stop()
        try await task2.value
        await server.stop()
        try Self.expectAllOnceInOrder(delivered1 + log2.records, feed)
    }

    @Test func backoffIsCappedExponential() async throws {
        #expect(SeedLinkClient.backoff(failures: 1, initial: 0.5, maximum: 30) == 0.5)
        #expect(SeedLinkClient.backoff(failures: 2, initial: 0.5, maximum: 30) == 1)
        #expect(SeedLinkClient.backoff(failures: 7, initial: 0.5, maximum: 30) == 30)
        #expect(SeedLinkClient.backoff(failures: 1000, initial: 0.5, maximum: 30) == 30)

        // Nothing listens on a port freed by a stopped server: delays 0.01, 0.02, 0.04, 0.04 …
        let probe = SeedLinkServer(feed: try Synthetic.feed(), configuration: .init(port: 0))
        let port = try await probe.start()
        await probe.stop()
        let client = Self.client(port: port, initialDelay: 0.01, maximumDelay: 0.04)
        let log = EventLog()
        let task = Self.start(client, log)
        try await log.wait("4 failed connects") { log.disconnects.count >= 4 }
        client.stop()
        try await task.value
        #expect(Array(log.disconnects.prefix(4)) == [0.01, 0.02, 0.04, 0.04])
    }

    @Test(arguments: [false, true])
    func aBadRecordIsReportedAndTheStreamContinues(synchronous: Bool) async throws {
        let feed = try Synthetic.feed()
        let records = Array(feed.records.filter { $0.streamID.station == "NANTA" }.prefix(3))
        var corrupt = records[1].bytes
        for i in 64..<512 { corrupt[i] = UInt8(truncatingIfNeeded: i &* 37) }  // Steim frames destroyed
        let script: [UInt8] = .packet(1, records[0].bytes) + Array("garbage!".utf8) + .packet(2, corrupt) + .packet(3, records[2].bytes)
        let fake = try await FakeServer.start(afterEnd: script)
        let client = SeedLinkClient(configuration: .init(host: "127.0.0.1", port: fake.port,
                                                         stations: [.init(network: "XX", station: "NANTA")],
                                                         keepAliveSeconds: nil, initialReconnectDelaySeconds: 5))
        let log = EventLog()
        let task = Self.start(client, log, synchronous: synchronous)
        // (Synchronous delivery reports the errors after the records of the same read.)
        try await log.wait("records 1 and 3, and the errors") { log.records.count >= 2 && log.decodeErrors.count >= 2 }
        client.stop()
        try await task.value
        try await fake.channel.close()
        #expect(log.records.map(\.sequence) == [1, 3])
        #expect(log.decodeErrors.count >= 2, "\(log.decodeErrors)")  // skipped bytes + bad record
        #expect(log.decodeErrors.contains { $0.contains("#2") })
    }

    @Test func stateFileFormatAndErrors() throws {
        let dir = try Synthetic.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/s"
        #expect(try SeedLinkStateFile.load(path: path) == [:])
        try SeedLinkStateFile.save(["XX_NANTA": 42, "XX_GAOSI": 7], path: path)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("XX GAOSI 7\nXX NANTA 42\n"))
        #expect(try SeedLinkStateFile.load(path: path) == ["XX_NANTA": 42, "XX_GAOSI": 7])
        try "XX NANTA x\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(throws: SeedLinkError.self) { try SeedLinkStateFile.load(path: path) }
        #expect(throws: SeedLinkError.self) { try SeedLinkStateFile.save([:], path: dir + "/no/such/dir/s") }
    }
}

/// A scripted SeedLink server: answers HELLO and OK to every command, and after END sends
/// fixed bytes.
final class FakeServerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let script: [UInt8]
    init(script: [UInt8]) { self.script = script }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let text = String(buffer: unwrapInboundIn(data))
        for line in text.split(whereSeparator: { $0 == "\r" || $0 == "\n" }) {
            var out = context.channel.allocator.buffer(capacity: 600)
            switch line {
            case "HELLO": out.writeString("SeedLink v3.1 (fake)\r\nTest\r\n")
            case "END": out.writeBytes(script)
            default: out.writeString("OK\r\n")
            }
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        }
    }
}

struct FakeServer {
    var channel: any Channel
    var port: Int

    static func start(afterEnd script: [UInt8]) async throws -> FakeServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeServerHandler(script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeServer(channel: channel, port: channel.localAddress?.port ?? 0)
    }
}

extension ClientTests {
    @Test(arguments: [false, true])
    func anUnwritableStateFileIsReportedAndStreamingContinues(synchronous: Bool) async throws {
        let feed = try Synthetic.feed()
        let server = SeedLinkServer(feed: feed, configuration: .init(port: 0, speed: .max))
        let port = try await server.start()
        let client = Self.client(port: port, stateFile: "/nonexistent-dir-\(UUID().uuidString)/state")
        let log = EventLog()
        let task = Self.start(client, log, stopAfter: feed.records.count, synchronous: synchronous)
        try await task.value
        await server.stop()
        try Self.expectAllOnceInOrder(log.records, feed)
        let errors = log.events.withLock { $0.compactMap { if case .stateFileError(let m) = $0 { return m } else { return nil } } }
        #expect(!errors.isEmpty && errors.allSatisfy { $0.contains("cannot write") })
    }
}
