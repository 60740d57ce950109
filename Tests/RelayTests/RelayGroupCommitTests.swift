import Alerting
import Foundation
import Relay
import SeismicCore
import Synchronization
import Testing
import TestSupport

/// Group commit (several lines of one read in one transaction) and the background WAL
/// checkpoints of the outbox.
@Suite("Relay group commit and checkpoints")
struct RelayGroupCommitTests {
    func request(_ id: String, _ update: Int = 0, bytes: String? = nil) -> OutboxAppendRequest {
        OutboxAppendRequest(kind: .warning, eventId: id, updateNumber: update, status: .exercise, level: .yellow,
                            envelope: Data((bytes ?? "\(id)/\(update)").utf8), receivedAt: Timestamp(nanosecondsSinceEpoch: 5))
    }

    @Test("appendBatch gives each request the outcome a single append would, in order")
    func batchOutcomes() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        _ = try outbox.append(kind: .warning, eventId: "old", updateNumber: 0, status: .exercise, level: .yellow,
                              envelope: Data("old/0".utf8), receivedAt: Timestamp(nanosecondsSinceEpoch: 1))
        let outcomes = try outbox.appendBatch([
            request("a"), request("old"), request("b"), request("a"), request("b", bytes: "forged"), request("old", bytes: "x"),
        ])
        #expect(outcomes.count == 6)
        var kinds: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .success(.appended(let entry)): kinds.append("new \(entry.eventId)")
            case .success(.duplicate(let entry)): kinds.append("dup \(entry.eventId)")
            case .failure(.conflictingDuplicate(let id, _, _)): kinds.append("conflict \(id)")
            case .failure(let error): kinds.append("error \(error)")
            }
        }
        #expect(kinds == ["new a", "dup old", "new b", "dup a", "conflict b", "conflict old"])
        #expect(try outbox.all().map(\.eventId) == ["old", "a", "b"])
        #expect(try outbox.all().map { String(decoding: $0.envelope, as: UTF8.self) } == ["old/0", "a/0", "b/0"])
        #expect(try outbox.appendBatch([]).isEmpty)
        try outbox.close()
    }

    @Test("background checkpoints copy committed rows into the database file itself")
    func backgroundCheckpoint() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: .milliseconds(10))
        for i in 0..<300 { _ = try outbox.appendBatch([request("ev\(i)", bytes: String(repeating: "x", count: 1500))]) }
        let ran = ChangeSignal()
        outbox.observeCheckpoints { ran.notify() }
        // A checkpoint that started after the last commit and copied the whole WAL (woken by each tick).
        try await ran.wait(30, "a checkpoint after the last commit") {
            outbox.checkpointStatistics?.caughtUp == true
        }
        // Copy the main file alone (no -wal): every row must already be in it.
        let copy = fixture.directory + "/copy.sqlite"
        try FileManager.default.copyItem(atPath: fixture.outboxPath, toPath: copy)
        let reopened = try RelayOutbox(path: copy, checkpointInterval: nil)
        #expect(try reopened.all().count == 300)
        try reopened.close()
        try outbox.close()
    }

    /// WAL header salts (bytes 16..<24): SQLite changes them whenever the WAL restarts.
    func walSalts(_ outboxPath: String) throws -> Data {
        let header = try #require(FileManager.default.contents(atPath: outboxPath + "-wal"))
        try #require(header.count >= 32)
        return header.subdata(in: 16..<24)
    }

    @Test("the checkpoint thread restarts the WAL, so a warning's commit never does (no header fsync); idle ticks do nothing")
    func walRestartOffTheCommitPath() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: .milliseconds(20))
        let ticked = ChangeSignal()
        outbox.observeCheckpoints { ticked.notify() }
        _ = try outbox.appendBatch([request("first")])
        try await ticked.wait(30, "a checkpoint and its re-arm after the first commit") {
            guard let s = outbox.checkpointStatistics else { return false }
            return s.caughtUp && s.rearms >= 1
        }
        // Idle: ticks go on, but no checkpoint and no re-arm runs (no I/O without commits).
        let idle = try #require(outbox.checkpointStatistics)
        try await ticked.wait(30, "three idle ticks") { (outbox.checkpointStatistics?.ticks ?? 0) >= idle.ticks + 3 }
        let afterIdle = try #require(outbox.checkpointStatistics)
        #expect(afterIdle.runs == idle.runs)
        #expect(afterIdle.rearms == idle.rearms)
        // The next commits append to the re-armed WAL: same salts, so the writer did not restart it.
        // A re-arm landing between the commit and the read would also change them: such a
        // round is inconclusive and repeated.
        var conclusive = 0
        var commits = 0
        while conclusive < 3, commits < 20 {
            let rearmsBefore = try #require(outbox.checkpointStatistics).rearms
            let salts = try walSalts(fixture.outboxPath)
            _ = try outbox.appendBatch([request("next-\(commits)")])
            let saltsAfter = try walSalts(fixture.outboxPath)
            commits += 1
            if try #require(outbox.checkpointStatistics).rearms == rearmsBefore {
                conclusive += 1
                #expect(saltsAfter == salts, "commit \(commits) restarted the WAL")
            }
            try await ticked.wait(30, "the re-arm after commit \(commits)") {
                guard let s = outbox.checkpointStatistics else { return false }
                return s.caughtUp && s.rearms > rearmsBefore
            }
            // The checkpoint thread's re-arm did restart it.
            #expect(try walSalts(fixture.outboxPath) != salts)
        }
        #expect(conclusive == 3)
        #expect(try outbox.all().count == 1 + commits)
        try outbox.close()
    }

    @Test("without background checkpoints there are no statistics, and SQLite's own checkpoints keep working")
    func sqliteDefault() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)
        #expect(outbox.checkpointStatistics == nil)
        for i in 0..<50 { _ = try outbox.appendBatch([request("ev\(i)")]) }
        #expect(try outbox.pendingCount() == 50)
        try outbox.close()
    }

    @Test("lines sent in one write are committed together and answered in order, one reply each")
    func pipelinedLines() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let relay = try await RelayInputProtocolTests.start(fixture)
        let socket = try RawLineSocket(port: relay.port)
        var text = "{\"hello\":\"QWRI/1\",\"token\":\"\(fixture.token)\"}\n"
        let first = try String(decoding: fixture.sign(sampleWarning(id: "p1")).encoded(), as: UTF8.self)
        text += first + "\n"
        text += "not json\n"
        text += try String(decoding: fixture.sign(sampleWarning(id: "p2")).encoded(), as: UTF8.self) + "\n"
        text += first + "\n"  // the same warning again, in the same batch
        text += try String(decoding: fixture.sign(sampleWarning(id: "p3", update: 2)).encoded(), as: UTF8.self) + "\n"
        try socket.send(text)
        #expect(try socket.readLine() == "{\"welcome\":\"QWRI/1\"}")
        #expect(try socket.readLine() == "{\"ack\":\"p1\",\"update\":0,\"duplicate\":false}")
        let reject = try #require(try socket.readLine())
        #expect(reject.hasPrefix("{\"reject\":\"malformed-json\",\"line\":3,"))
        #expect(try socket.readLine() == "{\"ack\":\"p2\",\"update\":0,\"duplicate\":false}")
        #expect(try socket.readLine() == "{\"ack\":\"p1\",\"update\":0,\"duplicate\":true}")
        #expect(try socket.readLine() == "{\"ack\":\"p3\",\"update\":2,\"duplicate\":false}")
        await relay.stop()
        let stored = try RelayOutbox(path: fixture.outboxPath).all()
        #expect(stored.map(\.eventId) == ["p1", "p2", "p3"])
        #expect(relay.broadcaster.texts.withLock { $0.count } == 3, "duplicates are not broadcast")
    }
}
