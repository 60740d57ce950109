import Alerting
import Foundation
import Relay
import SeismicCore
import Testing
import TestSupport

/// The test venv's Python (QW_TEST_PYTHON, scripts/test-env/python-venv.sh): its `sqlite3`
/// module is a second, independent SQLite client of the outbox file. nil skips these tests.
private let python: String? = {
    guard let python = ProcessInfo.processInfo.environment["QW_TEST_PYTHON"], FileManager.default.isExecutableFile(atPath: python)
    else { return nil }
    return python
}()

/// Runs `script` with the outbox path as argv[1]; returns stdout (throws on a non-zero exit).
private func runPython(_ script: String, path: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python ?? "/nonexistent")
    process.arguments = ["-c", script, path]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw PythonFailed(status: process.terminationStatus) }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

private struct PythonFailed: Error { var status: Int32 }

/// `RelayOutbox.appendBatch` runs its own cached `BEGIN IMMEDIATE` … `COMMIT` (not GRDB's
/// `write`): a statement failing inside the batch rolls the whole batch back, leaves no
/// transaction open, and the outbox keeps working. The failure is injected by a trigger that a
/// second SQLite client (Python's sqlite3) installs in the file.
@Suite("Relay outbox: batch transaction", .enabled(if: python != nil, "QW_TEST_PYTHON not set"))
struct RelayOutboxTransactionTests {
    func request(_ id: String, _ update: Int = 0) -> OutboxAppendRequest {
        OutboxAppendRequest(kind: .warning, eventId: id, updateNumber: update, status: .exercise, level: .orange,
                            envelope: Data("\(id)/\(update)".utf8), receivedAt: Timestamp(nanosecondsSinceEpoch: 7))
    }

    @Test("a failing insert rolls the whole batch back; the next batch commits; sequences stay increasing")
    func rollbackThenCommit() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        try outbox.warmUp()
        let before = try outbox.appendBatch([request("before")])
        let firstSequence = try #require(try before.first?.get().entry.sequence)

        _ = try runPython("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], timeout=10)
            db.execute("CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.eventId = 'boom' BEGIN SELECT RAISE(ABORT, 'injected'); END")
            db.commit()
            """, path: fixture.outboxPath)
        do {
            _ = try outbox.appendBatch([request("a"), request("b"), request("boom"), request("c")])
            Issue.record("the batch with the failing insert was committed")
        } catch let error {
            guard case .database(_, let reason) = error else { Issue.record("unexpected error \(error)"); return }
            #expect(reason.contains("injected"), "SQLite's error is reported: \(reason)")
        }
        #expect(try outbox.all().map(\.eventId) == ["before"], "nothing of the failed batch is stored")

        // No transaction was left open: another connection can write, and so can the outbox.
        #expect(try runPython("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], timeout=10)
            db.execute("DROP TRIGGER boom")
            db.commit()
            print(db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
            """, path: fixture.outboxPath) == "1")
        let after = try outbox.appendBatch([request("a"), request("boom")])
        let sequences = try after.map { try $0.get().entry.sequence }
        #expect(try outbox.all().map(\.eventId) == ["before", "a", "boom"])
        #expect(sequences.count == 2 && sequences[0] > firstSequence && sequences[1] > sequences[0])
        // A duplicate inside a committed batch still reads the stored row in the same transaction.
        let again = try outbox.appendBatch([request("c"), request("a")])
        let storedA = try #require(try outbox.entry(eventId: "a", updateNumber: 0))
        #expect(try again[1].get() == .duplicate(storedA))
        try outbox.close()
    }

    @Test("bound values round-trip: binary and empty envelopes, non-ASCII ids, extreme numbers")
    func boundValuesRoundTrip() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        let binary = Data([0, 255, 0, 10, 13, 0x80])
        let requests = [
            OutboxAppendRequest(kind: .cap, eventId: "séisme-地震-1", updateNumber: Int(Int32.max) + 7, status: .actual,
                                level: .red, envelope: binary, receivedAt: Timestamp(nanosecondsSinceEpoch: Int64.max)),
            OutboxAppendRequest(kind: .warning, eventId: "empty", updateNumber: 0, status: .test, level: .none,
                                envelope: Data(), receivedAt: Timestamp(nanosecondsSinceEpoch: Int64.min)),
        ]
        let outcomes = try outbox.appendBatch(requests)
        let entries = try outcomes.map { try $0.get().entry }
        let stored = try outbox.all()
        #expect(stored == entries)
        for (entry, request) in zip(stored, requests) {
            #expect(entry.kind == request.kind && entry.eventId == request.eventId && entry.updateNumber == request.updateNumber)
            #expect(entry.status == request.status && entry.level == request.level && entry.receivedAt == request.receivedAt)
            #expect(entry.envelope == request.envelope)
        }
        // The same bytes again are duplicates (the stored blob compares equal), other bytes conflict.
        #expect(try outbox.appendBatch(requests).map { try $0.get() } == entries.map { .duplicate($0) })
        try outbox.close()
        // An independent reader sees the same values and types (the empty envelope is a blob, not NULL).
        #expect(try runPython("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for row in db.execute("SELECT kind, eventId, updateNumber, status, level, hex(envelope), typeof(envelope), receivedAt FROM outbox ORDER BY sequence"):
                print("|".join(str(v) for v in row))
            """, path: fixture.outboxPath) == """
            cap|séisme-地震-1|\(Int(Int32.max) + 7)|Actual|red|00FF000A0D80|blob|\(Int64.max)
            warning|empty|0|Test|none||blob|\(Int64.min)
            """)
    }

    @Test("warm-up leaves the file unchanged, before and after appends")
    func warmUpChangesNothing() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        try outbox.warmUp()
        _ = try outbox.appendBatch([request("x")])
        try outbox.warmUp()
        try outbox.warmUp()
        _ = try outbox.appendBatch([request("y")])
        try outbox.close()
        // Read by an independent client: exactly the two appended rows, in order.
        #expect(try runPython("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            print(",".join(r[0] for r in db.execute("SELECT eventId FROM outbox ORDER BY sequence")))
            """, path: fixture.outboxPath) == "x,y")
    }
}
