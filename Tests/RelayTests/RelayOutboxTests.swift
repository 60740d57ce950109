import Alerting
import Foundation
import Relay
import SeismicCore
import Testing
import TestSupport

@Suite("Relay outbox (SQLite WAL)")
struct RelayOutboxTests {
    func append(_ outbox: RelayOutbox, _ id: String, _ update: Int = 0, bytes: String? = nil,
                kind: OutboxPayloadKind = .warning, at ns: Int64 = 1) throws -> OutboxAppendResult {
        try outbox.append(kind: kind, eventId: id, updateNumber: update, status: .exercise, level: .yellow,
                          envelope: Data((bytes ?? "\(id)/\(update)").utf8), receivedAt: Timestamp(nanosecondsSinceEpoch: ns))
    }

    @Test("a new key is appended; the same key and bytes is a duplicate and not re-queued")
    func duplicates() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        guard case .appended(let first) = try append(outbox, "ev1") else { Issue.record("not appended"); return }
        #expect(first.eventId == "ev1" && first.updateNumber == 0 && first.mqttAckedAt == nil)
        guard case .duplicate(let again) = try append(outbox, "ev1", at: 99) else { Issue.record("not a duplicate"); return }
        #expect(again == first, "the stored entry (first receive time) is returned")
        #expect(try outbox.pending().count == 1)
        // Another update, and the CAP of the same update, are different keys.
        let second = try append(outbox, "ev1", 1)
        let stored = try #require(try outbox.entry(eventId: "ev1", updateNumber: 1))
        #expect(second == .appended(stored))
        if case .duplicate = try append(outbox, "ev1", 0, bytes: "cap", kind: .cap) { Issue.record("cap shares the key") }
        #expect(try outbox.pending().map(\.updateNumber) == [0, 1, 0])
        try outbox.close()
    }

    @Test("the same key with other bytes is refused and nothing changes")
    func conflictingDuplicate() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        _ = try append(outbox, "ev2", 3, bytes: "original")
        #expect(throws: OutboxError.conflictingDuplicate(eventId: "ev2", updateNumber: 3, kind: .warning)) {
            try append(outbox, "ev2", 3, bytes: "forged")
        }
        #expect(try outbox.all().map { String(decoding: $0.envelope, as: UTF8.self) } == ["original"])
        try outbox.close()
    }

    @Test("pending entries come in receive order; delivered ones leave the pending list once")
    func order() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        // Keys deliberately not in lexical order: order is receive order, not key order.
        let ids = ["zeta", "alpha", "mu", "beta", "omega"]
        var sequences: [Int64] = []
        for (i, id) in ids.enumerated() { sequences.append(try append(outbox, id, at: Int64(i)).entry.sequence) }
        #expect(sequences == sequences.sorted() && Set(sequences).count == 5)
        #expect(try outbox.pending().map(\.eventId) == ids)
        #expect(try outbox.markDelivered([sequences[1], sequences[3]], at: Timestamp(nanosecondsSinceEpoch: 500)) == 2)
        #expect(try outbox.markDelivered([sequences[1]], at: Timestamp(nanosecondsSinceEpoch: 600)) == 0, "already delivered")
        #expect(try outbox.pending().map(\.eventId) == ["zeta", "mu", "omega"])
        #expect(try outbox.entry(eventId: "alpha", updateNumber: 0)?.mqttAckedAt == Timestamp(nanosecondsSinceEpoch: 500))
        #expect(try outbox.pendingCount() == 3)
        // A delivered key is still a duplicate (not re-queued).
        if case .appended = try append(outbox, "alpha") { Issue.record("delivered key re-queued") }
        #expect(try outbox.pendingCount() == 3)
        try outbox.close()
    }

    @Test("everything survives close and reopen, including delivery marks and the sequence")
    func reopen() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        do {
            let outbox = try RelayOutbox(path: fixture.outboxPath, synchronous: .full)
            for i in 0..<50 { _ = try append(outbox, "ev\(i)", at: Int64(i)) }
            let all = try outbox.all()
            try outbox.markDelivered(all.prefix(20).map(\.sequence), at: Timestamp(nanosecondsSinceEpoch: 7))
            try outbox.close()
        }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        #expect(try outbox.all().count == 50)
        #expect(try outbox.pending().map(\.eventId) == (20..<50).map { "ev\($0)" })
        let next = try append(outbox, "late", at: 100)
        #expect(next.entry.sequence > (try outbox.all().dropLast().map(\.sequence).max() ?? .max))
        #expect(try outbox.pruneDelivered(receivedBefore: Timestamp(nanosecondsSinceEpoch: 10)) == 10)
        #expect(try outbox.all().count == 41)
        try outbox.close()
    }

    @Test("an outbox that cannot be created is a typed error naming the path")
    func unwritable() {
        #expect {
            _ = try RelayOutbox(path: "/nonexistent-dir/outbox.sqlite")
        } throws: { error in
            if case .database(let path, _) = error as? OutboxError { return path == "/nonexistent-dir/outbox.sqlite" }
            return false
        }
    }
}
