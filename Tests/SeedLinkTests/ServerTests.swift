import Foundation
import MiniSEED
import SeedLink
import SeismicCore
import Synchronization
import Testing

/// SeedLinkServer over real sockets on 127.0.0.1 (ports chosen by the OS).
@Suite struct ServerTests {
    static func withServer(_ feed: SeedLinkFeed, speed: SeedLinkFeedSpeed = .max, loop: Bool = false,
                           _ body: (SeedLinkServer, Int) async throws -> Void) async throws {
        let server = SeedLinkServer(feed: feed, configuration: .init(host: "127.0.0.1", port: 0, speed: speed, loop: loop))
        let port = try await server.start()
        do {
            try await body(server, port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test func servesEveryRecordToSeveralClientsAtOnce() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed) { server, port in
            let connections = try await withThrowingTaskGroup(of: TestConnection.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let c = try await TestConnection.open(port: port)
                        let hello = try await c.hello()
                        #expect(hello.first?.hasPrefix("SeedLink v3.1") == true)
                        #expect(try await c.command("DATA") == "OK")  // uni-station: starts at once
                        return c
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for c in connections {
                let packets = try await c.waitForPackets(feed.records.count)
                #expect(packets.map(\.sequence) == Array(1...feed.records.count))
                #expect(packets.map(\.record) == feed.records.map(\.bytes))
                await c.close()
            }
            #expect(server.packetsSent == 3 * feed.records.count)
        }
    }

    @Test func multiStationWithWildcardSelectors() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed) { _, port in
            let c = try await TestConnection.open(port: port)
            _ = try await c.hello()
            #expect(try await c.command("STATION NANTA XX") == "OK")
            #expect(try await c.command("SELECT ??HNZ") == "OK")
            #expect(try await c.command("DATA") == "OK")
            #expect(try await c.command("STATION GAOSI") == "OK")
            #expect(try await c.command("SELECT HN?") == "OK")
            #expect(try await c.command("SELECT !HNN") == "OK")
            #expect(try await c.command("DATA") == "OK")
            #expect(try await c.command("STATION NOPE XX") == "ERROR")
            try await c.send("END\r")
            let expected = feed.records.enumerated().filter { _, r in
                (r.streamID.station == "NANTA" && r.streamID.channel == "HNZ") || r.streamID.station == "GAOSI"
            }
            #expect(expected.count > 10 && expected.count < feed.records.count)
            let packets = try await c.waitForPackets(expected.count)
            // Nothing else may follow: an observation window for the absence of further packets
            // (only observable over time; the count below is exact), not a poll.
            try await Task.sleep(nanoseconds: 50_000_000)
            #expect(c.packets().count == expected.count)
            #expect(packets.map(\.sequence) == expected.map { $0.offset + 1 })
            #expect(packets.map(\.record) == expected.map(\.element.bytes))
            await c.close()
        }
    }

    @Test func dataResumesAtTheGivenSequenceNumber() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed) { _, port in
            let c = try await TestConnection.open(port: port)
            _ = try await c.hello()
            #expect(try await c.command("STATION NANTA XX") == "OK")
            #expect(try await c.command("DATA 00000a") == "OK")  // next wanted: 10
            try await c.send("END\r")
            let expected = feed.records.enumerated().filter { $0.offset + 1 >= 10 && $0.element.streamID.station == "NANTA" }
            let packets = try await c.waitForPackets(expected.count)
            #expect(packets.map(\.sequence) == expected.map { $0.offset + 1 })
            #expect(packets.first?.sequence == 10)
            await c.close()
        }
    }

    @Test func fetchAndTimeWindowsEndWithEND() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed) { _, port in
            let f = try await TestConnection.open(port: port)
            _ = try await f.hello()
            #expect(try await f.command("STATION GAOSI XX") == "OK")
            #expect(try await f.command("FETCH") == "OK")
            try await f.send("END\r")
            try await f.waitForEnd()
            #expect(f.packets().count == feed.records.filter { $0.streamID.station == "GAOSI" }.count)
            await f.close()

            // TIME window: records overlapping [t0 + 5 s, t0 + 12 s).
            let begin = Synthetic.t0.adding(nanoseconds: 5_000_000_000)
            let end = Synthetic.t0.adding(nanoseconds: 12_000_000_000)
            let t = try await TestConnection.open(port: port)
            _ = try await t.hello()
            #expect(try await t.command("STATION NANTA") == "OK")
            #expect(try await t.command("SELECT 00HNE") == "OK")
            #expect(try await t.command("TIME \(SeedLinkTime.format(begin)) \(SeedLinkTime.format(end))") == "OK")
            try await t.send("END\r")
            try await t.waitForEnd()
            let expected = feed.records.enumerated().filter { _, r in
                r.streamID.channel == "HNE" && r.streamID.station == "NANTA" && r.endTime > begin && r.startTime < end
            }
            #expect(!expected.isEmpty)
            #expect(t.packets().map(\.sequence) == expected.map { $0.offset + 1 })
            await t.close()
        }
    }

    @Test func infoAnswersBeforeAndDuringTransferAndErrorsNeverClose() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed, speed: .factor(1)) { _, port in
            let c = try await TestConnection.open(port: port)
            #expect(try await c.command("NONSENSE") == "ERROR")
            #expect(try await c.command("SELECT *") == "ERROR")
            #expect(try await c.command("DATA zz") == "ERROR")
            #expect(try await c.command("END") == "ERROR")  // END without a station
            #expect(try await c.command("INFO GAPS") == "ERROR")
            try await c.send("INFO STATIONS\r")
            try await c.wait("INFO") { _ in c.frames().contains { if case .info(_, true) = $0 { return true } else { return false } } }
            let xml = c.frames().compactMap { f -> String? in
                if case .info(let r, _) = f { return SeedLinkInfo.text(ofRecord: r) } else { return nil }
            }.joined()
            #expect(xml.contains("<station name=\"NANTA\" network=\"XX\""))
            #expect(xml.contains("<station name=\"GAOSI\" network=\"XX\""))
            await c.close()

            // INFO ID during a paced (real-time) transfer, interleaved between packets.
            let d = try await TestConnection.open(port: port)
            #expect(try await d.command("DATA") == "OK")
            try await d.send("INFO ID\r")
            try await d.wait("INFO ID") { _ in d.frames().contains { if case .info(_, true) = $0 { return true } else { return false } } }
            await d.close()
        }
    }

    @Test func overlongCommandLineClosesTheConnection() async throws {
        try await Self.withServer(try Synthetic.feed()) { _, port in
            let c = try await TestConnection.open(port: port)
            try await c.send(String(repeating: "A", count: 300))
            try await c.wait("close") { _ in c.collector.isClosed.load(ordering: .relaxed) }
        }
    }

    @Test func realtimePacingReleasesRecordsWhenFull() async throws {
        // 6 records of 0.5 s each; at 5× they are released 0.1 s apart, the last 0.6 s after the start.
        let bytes = try Synthetic.shortRecords("XX.NANTA.00.HNZ", start: Synthetic.t0, rate: 100, records: 6,
                                               samplesPerRecord: 50, seed: 4)
        let feed = Synthetic.feed(bytes)
        let started = Date()  // just before the server's clock starts
        try await Self.withServer(feed, speed: .factor(5)) { _, port in
            let c = try await TestConnection.open(port: port)
            #expect(try await c.command("DATA") == "OK")
            var arrivals: [Double] = []
            for k in 1...6 {
                try await c.wait("packet \(k)") { _ in c.packets().count >= k }
                arrivals.append(Date().timeIntervalSince(started))
            }
            for (k, t) in arrivals.enumerated() {
                // Record k (0-based) is full 0.5 (k + 1) s of data after the first start: never earlier.
                let release = 0.1 * Double(k + 1)
                #expect(t >= release - 0.002, "record \(k) arrived at \(t) s, released at \(release) s")
            }
            await c.close()
        }
    }

    @Test func loopContinuesSequenceNumbers() async throws {
        let feed = try Synthetic.feed()
        let n = feed.records.count
        try await Self.withServer(feed, loop: true) { _, port in
            let c = try await TestConnection.open(port: port)
            _ = try await c.hello()
            #expect(try await c.command("STATION GAOSI XX") == "OK")
            #expect(try await c.command("DATA \(SeedLinkCommand.hex(n - 5))") == "OK")
            try await c.send("END\r")
            let gaosi = feed.records.enumerated().filter { $0.element.streamID.station == "GAOSI" }
            let packets = try await c.waitForPackets(gaosi.count + 2)
            let sequences = packets.map(\.sequence)
            #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
            let second = packets.filter { $0.sequence > n }
            #expect(second.first?.sequence == n + (gaosi.first?.offset ?? 0) + 1)
            #expect(second.first?.record == gaosi.first?.element.bytes, "the files restart, byte-identical")
            await c.close()
        }
    }

    @Test func aClientThatDoesNotReadIsNotBufferedWithoutBound() async throws {
        let feed = try Synthetic.feed()
        try await Self.withServer(feed, loop: true) { server, port in
            let c = try await TestConnection.open(port: port, autoRead: false, receiveBuffer: 8192)
            try await c.send("DATA\r")
            // The server sends until the socket and NIO's 64 KiB high-water mark are full, then waits.
            // "Stopped sending" is the absence of progress, observable only over time: sample
            // the counter every 40 ms until it is unchanged 5 times (200 ms), within 5 s.
            var previous = -1
            var stable = 0
            let deadline = Date().addingTimeInterval(5)
            while stable < 5, Date() < deadline {
                try await Task.sleep(nanoseconds: 40_000_000)
                let now = server.packetsSent
                stable = now == previous ? stable + 1 : 0
                previous = now
            }
            #expect(stable >= 5, "sending stopped")
            #expect(server.packetsSent > 10)
            // Bounded by kernel socket buffers plus the high-water mark: a few MB at most, far
            // from the unbounded stream of a looped feed at --speed max.
            #expect(server.packetsSent * 520 < 16 << 20)
            await c.close()
        }
    }
}
