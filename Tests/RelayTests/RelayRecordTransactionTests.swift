// PUBLISH before COMMIT: the outbox's record transaction (RelayOutbox.appendInRecordTransaction,
// commitRecord) and the in-process relay's inline path that uses it (RelayService
// runSubmittedInProcessIfOnLoop / commitInProcessRecord).
import Alerting
@preconcurrency import Crypto
import Foundation
import NIOCore
import NIOPosix
import Relay
import SeismicCore
import Synchronization
import Testing
import TestSupport

@Suite("Relay outbox: record transaction (PUBLISH before COMMIT)")
struct RelayRecordTransactionTests {
    static func request(_ id: String, update: Int = 0, bytes: String? = nil) -> OutboxAppendRequest {
        OutboxAppendRequest(kind: .warning, eventId: id, updateNumber: update, status: .exercise, level: .orange,
                            envelope: Data((bytes ?? "{\"id\":\"\(id)\",\"u\":\(update)}").utf8),
                            receivedAt: Timestamp(nanosecondsSinceEpoch: 1_780_000_000_000_000_000 + Int64(update)))
    }

    static func appended(_ outcomes: [Result<OutboxAppendResult, OutboxError>]) -> [Int64] {
        outcomes.compactMap { if case .success(.appended(let e)) = $0 { e.sequence } else { nil } }
    }

    @Test("appends stay invisible to readers until commitRecord, which commits all of them at once")
    func invisibleUntilCommitted() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)
        defer { try? outbox.close() }
        let first = Self.appended(try outbox.appendInRecordTransaction([Self.request("ev-a", update: 0)]))
        let second = Self.appended(try outbox.appendInRecordTransaction([Self.request("ev-a", update: 1)]))
        #expect(first.count == 1 && second.count == 1)
        #expect(second[0] > first[0], "sequences increase inside the record transaction")
        #expect(outbox.hasOpenRecordTransaction)
        // The pool's readers see committed data only.
        #expect(try outbox.pendingCount() == 0)
        #expect(try outbox.commitRecord() == 2)
        #expect(!outbox.hasOpenRecordTransaction)
        #expect(try outbox.pending().map(\.sequence) == first + second)
        #expect(try outbox.commitRecord() == 0, "nothing open: nothing to commit")
        // The next record transaction continues the sequence.
        let third = Self.appended(try outbox.appendInRecordTransaction([Self.request("ev-a", update: 2)]))
        #expect(third.count == 1 && third[0] > second[0])
        #expect(try outbox.commitRecord() == 1)
    }

    @Test("duplicates and conflicting duplicates are recognised inside the record transaction, as by appendBatch")
    func duplicatesInsideTheRecord() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)
        defer { try? outbox.close() }
        _ = try outbox.append(kind: .warning, eventId: "ev-old", updateNumber: 0, status: .exercise, level: .orange,
                              envelope: Self.request("ev-old").envelope, receivedAt: Self.request("ev-old").receivedAt)
        let outcomes = try outbox.appendInRecordTransaction([
            Self.request("ev-b"), Self.request("ev-b"), Self.request("ev-b", bytes: "other"), Self.request("ev-old"),
        ])
        guard outcomes.count == 4, case .success(.appended) = outcomes[0], case .success(.duplicate) = outcomes[1],
              case .failure(.conflictingDuplicate) = outcomes[2], case .success(.duplicate) = outcomes[3]
        else { Issue.record("outcomes \(outcomes)"); return }
        // A later append of the record, against a row of the same (uncommitted) record.
        let again = try outbox.appendInRecordTransaction([Self.request("ev-b")])
        guard case .success(.duplicate)? = again.first else { Issue.record("\(again)"); return }
        #expect(try outbox.commitRecord() == 1)
        #expect(try outbox.all().map(\.eventId) == ["ev-old", "ev-b"])
    }

    @Test("every other write commits an open record first: delivery marks, appendBatch, warm-up, close")
    func otherWritesCommitTheRecordFirst() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        var outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)

        // A PUBACK for a row of the open record: the mark lands (the record is committed first).
        let a = Self.appended(try outbox.appendInRecordTransaction([Self.request("ev-c", update: 0)]))
        #expect(try outbox.markDelivered(a, at: Timestamp(nanosecondsSinceEpoch: 1_790_000_000_000_000_000)) == 1)
        #expect(!outbox.hasOpenRecordTransaction)
        #expect(try outbox.all().map(\.mqttAckedAt) == [Timestamp(nanosecondsSinceEpoch: 1_790_000_000_000_000_000)])

        // appendBatch: its own commit includes nothing lost from the record before it.
        _ = try outbox.appendInRecordTransaction([Self.request("ev-c", update: 1)])
        _ = try outbox.appendBatch([Self.request("ev-c", update: 2)])
        #expect(try outbox.pendingCount() == 2)

        // warmUp rolls its own insert back, never the record's.
        _ = try outbox.appendInRecordTransaction([Self.request("ev-c", update: 3)])
        try outbox.warmUp()
        #expect(try outbox.pendingCount() == 3)

        // keepWarm (the daemon's keep-warm, every few ms) likewise: the record is committed, the
        // dummy row and its sequence number are rolled back, however often it runs.
        let beforeKeepWarm = try #require(try outbox.all().last?.sequence)
        _ = try outbox.appendInRecordTransaction([Self.request("ev-c", update: 5)])
        for _ in 0..<20 { try outbox.keepWarm() }
        #expect(!outbox.hasOpenRecordTransaction)
        #expect(try outbox.all().map(\.sequence) == Array(1...(beforeKeepWarm + 1)))
        #expect(Self.appended(try outbox.appendBatch([Self.request("ev-c", update: 6)])) == [beforeKeepWarm + 2])

        // close commits; the next open has the row.
        _ = try outbox.appendInRecordTransaction([Self.request("ev-c", update: 4)])
        try outbox.close()
        outbox = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)
        defer { try? outbox.close() }
        #expect(try outbox.all().map(\.updateNumber) == [0, 1, 2, 3, 5, 6, 4])
    }

    @Test("the in-process inline path publishes before the commit; commitInProcessRecord, or the loop's task, commits",
          .enabled(if: BrokerEnvironment.isAvailable, "MQTT_TEST_* not set (scripts/test-env/mosquitto.sh start)"))
    func inlinePublishBeforeCommit() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let prefix = RelayBrokerTests.uniquePrefix()
        let subscriber = try await RelayBrokerTests.Subscriber(filter: "\(prefix)/#")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let service = RelayService(configuration: try RelayBrokerTests.relayConfiguration(fixture, prefix: prefix),
                                   eventLoopGroup: group)
        let task = Task { try await service.run() }
        _ = try await service.waitUntilListening()
        try await waitUntil(30, "relay connected to the broker") { service.isHealthy }
        // A second connection to the same file: its readers see committed rows only.
        let observer = try RelayOutbox(path: fixture.outboxPath, checkpointInterval: nil)
        defer { try? observer.close() }
        let key = try SigningKeyFile.loadPrivateKey(path: fixture.privateKeyFile)
        let loop = group.next()

        struct Seen: Sendable {
            var results: [RelayInProcessResult] = []
            var committedRowsAtEachAck: [Int] = []
            var committedAfterRecord = -1
        }
        let seen = try await loop.submit { () throws -> Seen in
            let state = Mutex(Seen())
            for update in 0..<2 {
                let m = sampleWarning(id: "ev-inline", update: update)
                let warning = try InProcessSignedWarning(message: m, envelope: SignedEnvelope.sign(m, with: key))
                _ = service.submitInProcess(warning) { result in
                    let rows = (try? observer.pendingCount()) ?? -1
                    state.withLock {
                        $0.results.append(result)
                        $0.committedRowsAtEachAck.append(rows)
                    }
                }
                service.runSubmittedInProcessIfOnLoop()
            }
            service.commitInProcessRecord()
            let rows = try observer.pendingCount() + (try observer.all().filter { $0.mqttAckedAt != nil }.count)
            return state.withLock { s in
                s.committedAfterRecord = rows
                return s
            }
        }.get()
        #expect(seen.results.count == 2)
        for r in seen.results {
            guard case .ack(let ack) = r.reply else { Issue.record("\(r.reply)"); continue }
            #expect(!ack.duplicate)
            #expect(r.commitDeferred)
            #expect(r.publishedNanos != nil, "PUBLISH written on the loop right after the append")
        }
        #expect(seen.committedRowsAtEachAck == [0, 0], "acknowledged and published before the commit")
        #expect(seen.committedAfterRecord == 2)

        // Without commitInProcessRecord: the task the inline path queued on the loop commits.
        let safetyNet = try await loop.submit { () throws -> Int in
            let m = sampleWarning(id: "ev-inline", update: 2)
            let warning = try InProcessSignedWarning(message: m, envelope: SignedEnvelope.sign(m, with: key))
            _ = service.submitInProcess(warning) { _ in }
            service.runSubmittedInProcessIfOnLoop()
            return try observer.all().count
        }.get()
        #expect(safetyNet == 2)
        try await loop.submit {}.get()  // after the queued commit task
        #expect(try observer.all().count == 3)

        // The broker got all three; their PUBACKs are recorded in the outbox.
        try await subscriber.waitForCount(3, within: 30, "three messages at the subscriber")
        try await waitUntil(30, "delivery marks") { (try? observer.pendingCount()) == 0 }
        await subscriber.stop()
        task.cancel()
        _ = try? await task.value
        try await group.shutdownGracefully()
    }
}
