public import Alerting
public import Foundation
import GRDB
import GRDBSQLite
public import SeismicCore
import Synchronization

/// What an outbox entry carries: a warning's signed JSON envelope or a signed CAP 1.2 envelope.
public enum OutboxPayloadKind: String, Sendable, Equatable, CaseIterable {
    /// `application/vnd.quakewarn.warning+json` (``SignedEnvelope/warningJSONType``).
    case warning
    /// `application/cap+xml` (``SignedEnvelope/capXMLType``).
    case cap
}

/// One accepted warning (or CAP document) in the outbox.
public struct OutboxEntry: Sendable, Equatable {
    /// Receive order (SQLite rowid, strictly increasing; never reused).
    public var sequence: Int64
    public var kind: OutboxPayloadKind
    /// Idempotency key, part 1: the event id (``WarningMessage/id``).
    public var eventId: String
    /// Idempotency key, part 2: ``WarningMessage/updateNumber``.
    public var updateNumber: Int
    public var status: WarningStatus
    /// Highest warning level over the targets (for topics).
    public var level: WarningLevel
    /// The signed envelope exactly as forwarded (``SignedEnvelope/encoded()``: compact JSON, sorted keys).
    public var envelope: Data
    /// Wall-clock time the relay received it (input line complete).
    public var receivedAt: Timestamp
    /// Wall-clock time the MQTT broker acknowledged it (PUBACK); nil while pending.
    public var mqttAckedAt: Timestamp?

    public init(sequence: Int64, kind: OutboxPayloadKind, eventId: String, updateNumber: Int, status: WarningStatus,
                level: WarningLevel, envelope: Data, receivedAt: Timestamp, mqttAckedAt: Timestamp? = nil) {
        self.sequence = sequence
        self.kind = kind
        self.eventId = eventId
        self.updateNumber = updateNumber
        self.status = status
        self.level = level
        self.envelope = envelope
        self.receivedAt = receivedAt
        self.mqttAckedAt = mqttAckedAt
    }
}

/// One warning for ``RelayOutbox/appendBatch(_:)``.
public struct OutboxAppendRequest: Sendable, Equatable {
    public var kind: OutboxPayloadKind
    public var eventId: String
    public var updateNumber: Int
    public var status: WarningStatus
    public var level: WarningLevel
    public var envelope: Data
    public var receivedAt: Timestamp

    public init(kind: OutboxPayloadKind, eventId: String, updateNumber: Int, status: WarningStatus, level: WarningLevel,
                envelope: Data, receivedAt: Timestamp) {
        self.kind = kind
        self.eventId = eventId
        self.updateNumber = updateNumber
        self.status = status
        self.level = level
        self.envelope = envelope
        self.receivedAt = receivedAt
    }
}

/// Result of ``RelayOutbox/append(kind:eventId:updateNumber:status:level:envelope:receivedAt:)``.
public enum OutboxAppendResult: Sendable, Equatable {
    /// Committed as a new entry.
    case appended(OutboxEntry)
    /// The same key with the same envelope bytes was already there: nothing written, nothing re-queued.
    case duplicate(OutboxEntry)

    public var entry: OutboxEntry {
        switch self {
        case .appended(let entry), .duplicate(let entry): entry
        }
    }
}

/// Why the outbox refused or failed an operation.
public enum OutboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key (eventId, updateNumber, kind) exists with different envelope bytes.
    case conflictingDuplicate(eventId: String, updateNumber: Int, kind: OutboxPayloadKind)
    /// SQLite failed (disk full, permissions, corrupt file, …); `path` names the database.
    case database(path: String, reason: String)
    /// A stored row cannot be interpreted (written by an incompatible version?).
    case corruptRow(sequence: Int64, reason: String)

    public var description: String {
        switch self {
        case let .conflictingDuplicate(eventId, updateNumber, kind):
            "conflicting duplicate: \(kind) \(eventId) update \(updateNumber) is already in the outbox with different bytes"
        case let .database(path, reason): "outbox \(path): \(reason)"
        case let .corruptRow(sequence, reason): "outbox row \(sequence): \(reason)"
        }
    }
}

/// The relay's durable outbox: SQLite (GRDB `DatabasePool`, WAL journal), one row per accepted
/// warning, keyed by the idempotency key (eventId, updateNumber, kind) with a UNIQUE constraint.
///
/// Rows are kept after delivery (``OutboxEntry/mqttAckedAt`` set) so that a re-sent warning is
/// still recognised as a duplicate; ``pruneDelivered(receivedBefore:)`` removes old delivered rows.
///
/// **What survives `kill -9`.** ``append(kind:eventId:updateNumber:status:level:envelope:receivedAt:)``
/// is one transaction; the relay acknowledges a warning to its publisher only after that commit
/// returned. In WAL mode a commit appends the transaction's pages and a commit frame to the
/// `-wal` file with write(2) before returning. With `synchronous = NORMAL` (the default,
/// ``OutboxSynchronous/normal``) that write is not fsync'ed, but it is in the kernel's page cache,
/// which the death of the process does not touch: after `kill -9` the next open replays the WAL
/// and every acknowledged warning is there. What NORMAL does *not* survive is an OS crash or power
/// loss before the kernel flushed the WAL (the last few hundred milliseconds of commits; the
/// database stays consistent, transactions are atomic). `synchronous = FULL`
/// (``OutboxSynchronous/full``) fsyncs the WAL on every commit and closes that gap at the cost of
/// one fsync per warning. Delivery marks (``markDelivered(_:at:)``) have the same durability; a
/// lost mark only causes a re-send, i.e. a duplicate with the same key, never a loss.
/// The exception is the record transaction (``appendInRecordTransaction(_:)``), which the
/// in-process relay uses to write a warning's PUBLISH before its commit: those rows are durable
/// from ``commitRecord()`` on (docs/ingest.md, "PUBLISH before COMMIT").
///
/// **Checkpoints off the commit path.** SQLite's default WAL auto-checkpoint runs inside the
/// `COMMIT` that pushes the WAL past 1,000 pages, so one append in a few hundred pays for
/// copying the WAL into the database (milliseconds, the benchmark's p99.9). Here a background
/// connection runs `PRAGMA wal_checkpoint(PASSIVE)` every `checkpointInterval` (default 200 ms)
/// on its own thread: PASSIVE takes no lock that a writer needs, so commits go on meanwhile.
/// A tick runs a checkpoint only when something was committed since the last one, so an idle
/// outbox does no I/O. The WAL holds about one interval's worth of commits.
///
/// **The WAL restart off the commit path.** Once a checkpoint has copied the whole WAL, the next
/// write transaction restarts the WAL from its beginning, and SQLite fsyncs the new WAL header
/// then, even with `synchronous = NORMAL` (wal.c, `sqlite3WalFrames`: "Sync the header ... an
/// out-of-order write following a WAL restart could result in database corruption"). That
/// fdatasync cost the first warning after every checkpoint 0.3–0.6 ms (strace of an end-to-end
/// run; the daemon's first Alert always paid it, since its outbox had just been opened). So the
/// checkpoint thread restarts the WAL itself: right after a checkpoint that copied every frame,
/// it commits a one-row update to the `outbox_wal_rearm` table (``rearmSQL``), and opening the
/// outbox does the same. A warning's commit then appends to a WAL that is not fully copied, which
/// needs no sync. Only a commit that lands in the microseconds between a checkpoint and its
/// re-arm still pays the sync. While the re-arm holds the write lock (≈ 0.5 ms), a commit
/// waits in a busy handler that retries every 20 µs, not SQLite's default 1 ms sleep.
///
/// The writer's auto-checkpoint stays on as a
/// bound, at ``walAutoCheckpointPages`` pages (≈ 16 MB), reached only if the background
/// checkpoints cannot keep up (e.g. a long-lived reader); `journal_size_limit` trims the file
/// after such a burst. `checkpointInterval: nil` restores SQLite's default (auto-checkpoint at
/// 1,000 pages on the commit path). Checkpoints do not change what a commit guarantees.
///
/// Thread safety: all methods may be called from any thread; writes are serialised by GRDB.
public final class RelayOutbox: Sendable {
    /// The database file.
    public let path: String
    private let pool: DatabasePool
    private let checkpointer: OutboxCheckpointer?
    /// The entries appended in the open record transaction (``appendInRecordTransaction(_:)``);
    /// read and written inside the writer's accesses only (GRDB serialises them).
    private let record: Mutex<RecordTransaction>

    private struct RecordTransaction: Sendable {
        var open = false
        var entries: [OutboxEntry]
    }

    /// WAL size (pages) at which a commit checkpoints by itself when background checkpoints are on.
    public static let walAutoCheckpointPages = 4000

    /// Opens (creating if needed) the outbox at `path`.
    /// - Parameter checkpointInterval: period of the background PASSIVE checkpoints; nil = SQLite's
    ///   default auto-checkpoint on the commit path (see the type docs).
    public init(path: String, synchronous: OutboxSynchronous = .normal,
                checkpointInterval: Duration? = .milliseconds(200)) throws(OutboxError) {
        self.path = path
        var entries: [OutboxEntry] = []
        entries.reserveCapacity(16)  // a record's warnings: no allocation on a warning's path
        record = Mutex(RecordTransaction(entries: entries))
        var configuration = Configuration()
        let pragma = synchronous == .full ? "FULL" : "NORMAL"
        let background = checkpointInterval != nil
        let autoCheckpoint = Self.walAutoCheckpointPages
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(pragma)")
            if background {
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(autoCheckpoint)")
                try db.execute(sql: "PRAGMA journal_size_limit = \(autoCheckpoint * 4096 * 2)")
            }
        }
        configuration.label = "quakewarn-relay-outbox"
        // The record transaction (``appendInRecordTransaction(_:)``) stays open between two
        // accesses to the writer; every other write commits it first (``commitOpenRecord(_:)``).
        configuration.allowsUnsafeTransactions = true
        // Another connection to the same file (a second RelayOutbox opened by a tool or a test
        // while the relay runs, the background checkpointer) may hold the write lock briefly:
        // wait for it rather than fail a warning's commit with SQLITE_BUSY.
        // The retry interval is 20 µs (SQLite's own busy timeout sleeps 1 ms first): the usual
        // holder is the checkpoint thread's re-arm commit, ≈ 0.5 ms. Up to 5 s in all.
        configuration.busyMode = .callback { tries in
            guard tries < 250_000 else { return false }
            Thread.sleep(forTimeInterval: 20e-6)
            return true
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try pool.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS outbox (
                        sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                        kind TEXT NOT NULL,
                        eventId TEXT NOT NULL,
                        updateNumber INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        level TEXT NOT NULL,
                        envelope BLOB NOT NULL,
                        receivedAt INTEGER NOT NULL,
                        mqttAckedAt INTEGER,
                        UNIQUE (eventId, updateNumber, kind)
                    );
                    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sequence) WHERE mqttAckedAt IS NULL;
                    CREATE TABLE IF NOT EXISTS outbox_wal_rearm (id INTEGER PRIMARY KEY, writes INTEGER NOT NULL);
                    INSERT OR IGNORE INTO outbox_wal_rearm (id, writes) VALUES (1, 0);
                    """)
            }
            // Starts (or continues) the WAL now, so the first warning's commit does not pay the
            // WAL header's sync (see "The WAL restart off the commit path" above).
            try pool.write { db in try db.execute(sql: Self.rearmSQL) }
            if let checkpointInterval {
                var checkpointConfiguration = Configuration()
                checkpointConfiguration.label = "quakewarn-relay-outbox-checkpoint"
                checkpointConfiguration.busyMode = .timeout(1)
                checkpointer = OutboxCheckpointer(
                    database: try DatabaseQueue(path: path, configuration: checkpointConfiguration), interval: checkpointInterval)
            } else {
                checkpointer = nil
            }
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
        checkpointer?.start()
    }

    /// Closes the database (stopping the background checkpoints, then checkpointing the WAL).
    /// Further calls fail.
    public func close() throws(OutboxError) {
        checkpointer?.stop()
        do {
            _ = try pool.writeWithoutTransaction { db in try commitOpenRecord(db) }
            try pool.close()
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// The background checkpoints so far; nil without background checkpoints.
    public var checkpointStatistics: OutboxCheckpointStatistics? { checkpointer?.statistics }

    /// The write that restarts the WAL off the commit path (see the type docs).
    static let rearmSQL = "UPDATE outbox_wal_rearm SET writes = writes + 1 WHERE id = 1"

    /// Calls `observer` after every background checkpoint run (on the checkpoint thread; it must
    /// not block), so monitoring and tests can react to a run without polling
    /// ``checkpointStatistics``. Does nothing without background checkpoints. Observers live as
    /// long as the outbox.
    public func observeCheckpoints(_ observer: @escaping @Sendable () -> Void) {
        checkpointer?.addObserver(observer)
    }

    /// Appends an accepted warning in one transaction.
    /// - Returns: ``OutboxAppendResult/appended(_:)`` for a new key, ``OutboxAppendResult/duplicate(_:)``
    ///   when the key exists with byte-identical `envelope` (nothing is written or re-queued).
    /// - Throws: ``OutboxError/conflictingDuplicate(eventId:updateNumber:kind:)`` when the key
    ///   exists with other bytes; ``OutboxError/database(path:reason:)`` when SQLite fails.
    public func append(kind: OutboxPayloadKind, eventId: String, updateNumber: Int, status: WarningStatus,
                       level: WarningLevel, envelope: Data, receivedAt: Timestamp) throws(OutboxError) -> OutboxAppendResult {
        let request = OutboxAppendRequest(kind: kind, eventId: eventId, updateNumber: updateNumber, status: status,
                                          level: level, envelope: envelope, receivedAt: receivedAt)
        guard let outcome = try appendBatch([request]).first else {
            throw .database(path: path, reason: "append returned no result")
        }
        return try outcome.get()
    }

    /// The append (``appendBatch(_:)``, prepared ahead by ``warmUp()``).
    static let insertSQL = """
        INSERT OR IGNORE INTO outbox (kind, eventId, updateNumber, status, level, envelope, receivedAt)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """
    /// The entry with a given (eventId, updateNumber, kind).
    static let entryByKeySQL = "SELECT * FROM outbox WHERE eventId = ? AND updateNumber = ? AND kind = ?"

    /// Appends several warnings in **one** transaction (group commit): one `COMMIT`, so one WAL
    /// write (and one fsync with `synchronous: full`) for all of them. Each request gets its own
    /// outcome, in order, exactly as ``append(kind:eventId:updateNumber:status:level:envelope:receivedAt:)``
    /// would give it (a key repeated inside the batch is a duplicate or a conflicting duplicate
    /// of its first occurrence). Either the whole batch is committed or, when SQLite fails,
    /// nothing is and the call throws ``OutboxError/database(path:reason:)``.
    public func appendBatch(_ requests: [OutboxAppendRequest]) throws(OutboxError) -> [Result<OutboxAppendResult, OutboxError>] {
        guard !requests.isEmpty else { return [] }
        do {
            let outcomes = try pool.writeWithoutTransaction { db -> [Result<OutboxAppendResult, OutboxError>] in
                try commitOpenRecord(db)
                return try Self.inCachedTransaction(db) { try Self.insert(requests, db: db, path: path) }
            }
            checkpointer?.noteWrite()
            return outcomes
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// `BEGIN IMMEDIATE` and `COMMIT` of ``appendBatch(_:)``, run as cached prepared statements.
    static let beginSQL = "BEGIN IMMEDIATE TRANSACTION"
    static let commitSQL = "COMMIT TRANSACTION"

    /// Runs `body` in one `BEGIN IMMEDIATE` … `COMMIT` transaction, like GRDB's
    /// `DatabaseWriter.write` (which also begins IMMEDIATE on a writer), but with the two
    /// statements prepared once and cached: `write` runs them through `Database.execute(sql:)`,
    /// which builds an SQL literal and prepares (parses, authorizes) `BEGIN` and `COMMIT` anew
    /// for every transaction, ≈ 10 µs of a warning's ≈ 60 µs commit (perf of `quakewarn relay
    /// bench`). On an error in `body` or in `COMMIT` the transaction is rolled back (unless SQLite
    /// already did) and the error rethrown, as with `write`.
    private static func inCachedTransaction<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: beginSQL).execute()
        do {
            let result = try body()
            try db.cachedStatement(sql: commitSQL).execute()
            return result
        } catch {
            // Database.rollback() does nothing when SQLite already rolled back (autocommit).
            try? db.rollback()
            throw error
        }
    }

    /// The inserts of ``appendBatch(_:)``, inside its transaction.
    private static func insert(_ requests: [OutboxAppendRequest], db: Database,
                               path: String) throws -> [Result<OutboxAppendResult, OutboxError>] {
        let insert = try db.cachedStatement(sql: Self.insertSQL)
        var outcomes: [Result<OutboxAppendResult, OutboxError>] = []
        outcomes.reserveCapacity(requests.count)
        for r in requests {
            try executeInsert(insert, r, db: db, path: path)
            if db.changesCount == 1 {
                outcomes.append(.success(.appended(OutboxEntry(
                    sequence: db.lastInsertedRowID, kind: r.kind, eventId: r.eventId, updateNumber: r.updateNumber,
                    status: r.status, level: r.level, envelope: r.envelope, receivedAt: r.receivedAt))))
                continue
            }
            guard let row = try Row.fetchOne(
                db, sql: Self.entryByKeySQL,
                arguments: [r.eventId, r.updateNumber, r.kind.rawValue])
            else {
                throw OutboxError.database(path: path, reason: "INSERT OR IGNORE changed nothing and no row has the key")
            }
            let existing = try Self.entry(row)
            if existing.envelope == r.envelope {
                outcomes.append(.success(.duplicate(existing)))
            } else {
                outcomes.append(.failure(.conflictingDuplicate(eventId: r.eventId, updateNumber: r.updateNumber, kind: r.kind)))
            }
        }
        return outcomes
    }

    /// Binds `r` to the cached ``insertSQL`` statement and steps it, through the SQLite C API on
    /// GRDB's statement (`Statement.sqliteStatement`, documented for that use) instead of
    /// `Statement.execute(arguments:)`: that builds a `StatementArguments` array of existentials,
    /// converts each to a `DatabaseValue`, validates them against the statement and checks the
    /// connection's scheduling and observation state, ≈ 10 % of a warning's commit in perf
    /// of the daemon. Strings and the envelope are bound without copies (`SQLITE_STATIC`) and
    /// unbound again before their buffers go away; the statement is reset before and after.
    /// The statement has no observers (the outbox installs none) and writes one row, so
    /// nothing GRDB tracks is bypassed; `changesCount`/`lastInsertedRowID` read SQLite directly.
    private static func executeInsert(_ statement: Statement, _ r: OutboxAppendRequest, db: Database, path: String) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        let code: CInt = r.kind.rawValue.withCString { kind in
            r.eventId.withCString { eventId in
                r.status.rawValue.withCString { status in
                    r.level.rawValue.withCString { level in
                        r.envelope.withUnsafeBytes { envelope -> CInt in
                            defer {
                                sqlite3_reset(handle)
                                sqlite3_clear_bindings(handle)
                            }
                            guard envelope.count <= Int(CInt.max) else { return SQLITE_TOOBIG }
                            // A zero-length blob needs a non-null pointer to be a blob, not NULL.
                            let blob = envelope.baseAddress ?? UnsafeRawPointer(kind)
                            let bound = [
                                sqlite3_bind_text(handle, 1, kind, -1, nil),
                                sqlite3_bind_text(handle, 2, eventId, -1, nil),
                                sqlite3_bind_int64(handle, 3, Int64(r.updateNumber)),
                                sqlite3_bind_text(handle, 4, status, -1, nil),
                                sqlite3_bind_text(handle, 5, level, -1, nil),
                                sqlite3_bind_blob(handle, 6, blob, CInt(clamping: envelope.count), nil),
                                sqlite3_bind_int64(handle, 7, r.receivedAt.nanosecondsSinceEpoch),
                            ]
                            if let failed = bound.first(where: { $0 != SQLITE_OK }) { return failed }
                            return sqlite3_step(handle)
                        }
                    }
                }
            }
        }
        guard code == SQLITE_DONE else {
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            throw OutboxError.database(path: path, reason: "insert failed: SQLite error \(code): \(message)")
        }
    }

    /// Runs the append path once on a dummy entry and rolls it back (``keepWarm()``), and
    /// prepares what a later append may need besides: `COMMIT` (prepared, not run) and the
    /// duplicate lookup by key (run on the dummy entry inside the transaction). The statements are
    /// prepared and cached and the pages and code of an append are touched, so the first real
    /// warning does not pay that (see Ingest's DaemonWarmUp). Leaves the outbox unchanged.
    public func warmUp() throws(OutboxError) {
        try rolledBackAppend { db in
            _ = try db.cachedStatement(sql: Self.commitSQL)
            let e = Self.keepWarmEntry
            _ = try Row.fetchOne(db, sql: Self.entryByKeySQL, arguments: [e.eventId, e.updateNumber, e.kind.rawValue])
        }
    }

    /// The append of a record's first warning, without effect: `BEGIN IMMEDIATE`, the INSERT
    /// (the cached statement and binding of ``appendInRecordTransaction(_:)``) of a dummy entry
    /// with a warning envelope's size (4 KiB), `ROLLBACK`. Nothing is kept and no sequence number
    /// is used (the rollback also undoes the AUTOINCREMENT counter). For the ingest daemon's
    /// keep-warm, run every few milliseconds between records so that the next real append finds
    /// its pages, statements and code in the caches; unlike ``warmUp()`` it prepares nothing new
    /// and parses no SQL (its three statements are cached after the first run), so it stays cheap.
    public func keepWarm() throws(OutboxError) {
        try rolledBackAppend { _ in }
    }

    /// ``keepWarm()`` and ``warmUp()``: an open record transaction is committed first (the
    /// rollback must not take a record's entries with it); then `BEGIN IMMEDIATE`, the dummy
    /// INSERT, `also` inside the transaction, `ROLLBACK`.
    private func rolledBackAppend(also: (Database) throws -> Void) throws(OutboxError) {
        do {
            try pool.writeWithoutTransaction { db in
                try commitOpenRecord(db)
                try db.cachedStatement(sql: Self.beginSQL).execute()
                let rollback = try db.cachedStatement(sql: Self.rollbackSQL)
                do {
                    try Self.executeInsert(try db.cachedStatement(sql: Self.insertSQL), Self.keepWarmEntry, db: db, path: path)
                    try also(db)
                } catch {
                    try? rollback.execute()
                    throw error
                }
                try rollback.execute()
            }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    static let rollbackSQL = "ROLLBACK TRANSACTION"
    /// What ``keepWarm()`` and ``warmUp()`` insert and roll back (a real event id starts with "qw-"; should an
    /// entry have this key, the INSERT is ignored and the rollback undoes nothing).
    private static let keepWarmEntry = OutboxAppendRequest(
        kind: .warning, eventId: "quakewarn-keep-warm", updateNumber: 0, status: .test, level: .none,
        envelope: Data(repeating: UInt8(ascii: " "), count: 4096), receivedAt: Timestamp(nanosecondsSinceEpoch: 0))

    // MARK: - The record transaction (in-process input: PUBLISH before COMMIT)

    /// Appends like ``appendBatch(_:)`` (same outcomes: appended, duplicate, conflicting
    /// duplicate) but does **not** commit: the rows go into the outbox's *record transaction*,
    /// begun (`BEGIN IMMEDIATE`) by the first such append and left open, so that the caller can
    /// write each warning's MQTT PUBLISH right after its append and commit all of a record's
    /// warnings once, after the last PUBLISH (``commitRecord()``). An append is an INSERT into
    /// SQLite's page cache (≈ 10–20 µs); the COMMIT, which writes the WAL frames, is what took
    /// 75–190 µs of every warning's path in the end-to-end traces (Benchmarks/README.md).
    ///
    /// What it changes (docs/ingest.md, "In-process relay"): until ``commitRecord()`` the rows
    /// are not durable and other connections do not see them. Any other write through this
    /// outbox (``appendBatch(_:)``, ``markDelivered(_:at:)``, ``pruneDelivered(receivedBefore:)``,
    /// ``warmUp()``, ``keepWarm()``, ``close()``) commits the record transaction first, so it never holds rows
    /// back from them, and a PUBACK for a row of the record is recorded after (or with) the row.
    /// - Throws: ``OutboxError/database(path:reason:)``; the record transaction is then rolled back
    ///   and its earlier entries re-inserted in a transaction of their own (``commitRecord()``).
    public func appendInRecordTransaction(_ requests: [OutboxAppendRequest]) throws(OutboxError)
        -> [Result<OutboxAppendResult, OutboxError>] {
        guard !requests.isEmpty else { return [] }
        do {
            return try pool.writeWithoutTransaction { db -> [Result<OutboxAppendResult, OutboxError>] in
                if !db.isInsideTransaction {
                    try db.cachedStatement(sql: Self.beginSQL).execute()
                    record.withLock { $0.open = true }
                }
                let outcomes: [Result<OutboxAppendResult, OutboxError>]
                do {
                    outcomes = try Self.insert(requests, db: db, path: path)
                } catch {
                    try? db.rollback()
                    try salvageRecord(db)
                    throw error
                }
                record.withLock { r in
                    for case .success(.appended(let entry)) in outcomes { r.entries.append(entry) }
                }
                return outcomes
            }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// Commits the record transaction (``appendInRecordTransaction(_:)``), if one is open.
    /// - Returns: the number of entries it made durable (0 when none was open).
    /// - Throws: ``OutboxError/database(path:reason:)`` when the COMMIT failed and re-inserting
    ///   the record's entries in a fresh transaction failed too: those entries (already handed
    ///   to the broker) are then not in the outbox.
    @discardableResult
    public func commitRecord() throws(OutboxError) -> Int {
        guard record.withLock({ $0.open }) else { return 0 }
        do {
            return try pool.writeWithoutTransaction { db in try commitOpenRecord(db) }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// True while a record transaction is open (appended, not yet committed).
    public var hasOpenRecordTransaction: Bool { record.withLock { $0.open } }

    /// Inside a writer access: commits the open record transaction, if any. Returns how many
    /// entries it committed. If the COMMIT fails, the transaction is rolled back and its entries
    /// re-inserted with their sequences in a transaction of their own (``salvageRecord(_:)``).
    @discardableResult
    private func commitOpenRecord(_ db: Database) throws -> Int {
        guard let count = record.withLock({ $0.open ? $0.entries.count : nil }) else { return 0 }
        do {
            try db.cachedStatement(sql: Self.commitSQL).execute()
        } catch {
            try? db.rollback()
            try salvageRecord(db)
            return count
        }
        record.withLock { r in
            r.open = false
            r.entries.removeAll(keepingCapacity: true)
        }
        checkpointer?.noteWrite()
        return count
    }

    /// After the record transaction was rolled back: its entries (appended, maybe published and
    /// acknowledged to their sender) are inserted again, with the sequences they were given, in
    /// one new transaction, so that they are neither lost nor their sequences reused.
    private func salvageRecord(_ db: Database) throws {
        let entries = record.withLock { r -> [OutboxEntry] in
            defer {
                r.open = false
                r.entries.removeAll(keepingCapacity: true)
            }
            return r.entries
        }
        guard !entries.isEmpty else { return }
        do {
            try Self.inCachedTransaction(db) {
                for e in entries {
                    try db.execute(sql: """
                        INSERT OR IGNORE INTO outbox (sequence, kind, eventId, updateNumber, status, level, envelope, receivedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [e.sequence, e.kind.rawValue, e.eventId, e.updateNumber, e.status.rawValue,
                                         e.level.rawValue, e.envelope, e.receivedAt.nanosecondsSinceEpoch])
                }
            }
            checkpointer?.noteWrite()
        } catch {
            let keys = entries.map { "\($0.eventId)#\($0.updateNumber)" }.joined(separator: ", ")
            throw OutboxError.database(path: path, reason: "record transaction lost, \(entries.count) entries not stored (\(keys)): \(error)")
        }
    }

    /// A write transaction of its own (cached BEGIN IMMEDIATE … COMMIT), after committing an
    /// open record transaction.
    private func writeAfterRecord<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.writeWithoutTransaction { db in
            try commitOpenRecord(db)
            return try Self.inCachedTransaction(db) { try body(db) }
        }
    }

    /// Entries not yet acknowledged by the broker, in receive order (oldest first).
    public func pending(limit: Int = Int.max) throws(OutboxError) -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE mqttAckedAt IS NULL ORDER BY sequence LIMIT ?",
                             arguments: [Int64(clamping: limit)]).map(Self.entry)
        }
    }

    /// Every entry in receive order (tests, tools).
    public func all() throws(OutboxError) -> [OutboxEntry] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY sequence").map(Self.entry) }
    }

    /// The entry with this key, if any.
    public func entry(eventId: String, updateNumber: Int, kind: OutboxPayloadKind = .warning) throws(OutboxError) -> OutboxEntry? {
        try read { db in
            try Row.fetchOne(db, sql: Self.entryByKeySQL,
                             arguments: [eventId, updateNumber, kind.rawValue]).map(Self.entry)
        }
    }

    /// Number of entries not yet acknowledged by the broker.
    public func pendingCount() throws(OutboxError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE mqttAckedAt IS NULL") ?? 0 }
    }

    /// Records the broker's acknowledgement of `sequences` (one transaction). Entries already
    /// marked keep their first time. Returns how many entries changed from pending to delivered.
    @discardableResult
    public func markDelivered(_ sequences: [Int64], at time: Timestamp) throws(OutboxError) -> Int {
        guard !sequences.isEmpty else { return 0 }
        do {
            let changed = try writeAfterRecord { db in
                var changed = 0
                let statement = try db.makeStatement(
                    sql: "UPDATE outbox SET mqttAckedAt = ? WHERE sequence = ? AND mqttAckedAt IS NULL")
                for sequence in sequences {
                    try statement.execute(arguments: [time.nanosecondsSinceEpoch, sequence])
                    changed += db.changesCount
                }
                return changed
            }
            if changed > 0 { checkpointer?.noteWrite() }
            return changed
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// Deletes delivered entries received before `time` (their keys are then no longer
    /// recognised as duplicates). Returns the number of rows removed.
    @discardableResult
    public func pruneDelivered(receivedBefore time: Timestamp) throws(OutboxError) -> Int {
        do {
            let removed = try writeAfterRecord { db in
                try db.execute(sql: "DELETE FROM outbox WHERE mqttAckedAt IS NOT NULL AND receivedAt < ?",
                               arguments: [time.nanosecondsSinceEpoch])
                return db.changesCount
            }
            if removed > 0 { checkpointer?.noteWrite() }
            return removed
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(OutboxError) -> T {
        do {
            return try pool.read(body)
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    private static func entry(_ row: Row) throws -> OutboxEntry {
        let sequence: Int64 = row["sequence"]
        guard let kind = OutboxPayloadKind(rawValue: row["kind"] as String) else {
            throw OutboxError.corruptRow(sequence: sequence, reason: "unknown kind")
        }
        guard let status = WarningStatus(rawValue: row["status"] as String) else {
            throw OutboxError.corruptRow(sequence: sequence, reason: "unknown status")
        }
        guard let level = WarningLevel(rawValue: row["level"] as String) else {
            throw OutboxError.corruptRow(sequence: sequence, reason: "unknown level")
        }
        let acked: Int64? = row["mqttAckedAt"]
        return OutboxEntry(sequence: sequence, kind: kind, eventId: row["eventId"], updateNumber: row["updateNumber"],
                           status: status, level: level, envelope: row["envelope"],
                           receivedAt: Timestamp(nanosecondsSinceEpoch: row["receivedAt"]),
                           mqttAckedAt: acked.map { Timestamp(nanosecondsSinceEpoch: $0) })
    }
}

/// What the background checkpoints of a ``RelayOutbox`` did so far.
public struct OutboxCheckpointStatistics: Sendable, Equatable {
    /// Timer ticks (a tick with nothing committed since the last checkpoint does nothing).
    public var ticks: Int
    /// Checkpoints run.
    public var runs: Int
    /// WAL size (frames) the last checkpoint found.
    public var lastWALFrames: Int
    /// Re-arm commits (WAL restarts done by the checkpoint thread).
    public var rearms: Int
    /// True when the last checkpoint started after the latest commit and copied the whole WAL:
    /// every committed row is in the database file itself.
    public var caughtUp: Bool
}

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection and serial queue every `interval`
/// when something was committed since the last run, then restarts the WAL with a re-arm commit
/// (``RelayOutbox/rearmSQL``) so that the writer never does (see ``RelayOutbox``).
final class OutboxCheckpointer: Sendable {
    private let database: DatabaseQueue
    private let interval: Duration
    private let queue = DispatchQueue(label: "quakewarn-relay-outbox-checkpoint", qos: .utility)
    private let stopped = Atomic<Bool>(false)
    /// Commits made through the outbox (incremented after each).
    private let writes = Atomic<Int>(0)
    private let state = Mutex<(statistics: OutboxCheckpointStatistics, checkpointedWrites: Int)>(
        (OutboxCheckpointStatistics(ticks: 0, runs: 0, lastWALFrames: 0, rearms: 0, caughtUp: true), 0))
    private let observers = Mutex<[@Sendable () -> Void]>([])

    func addObserver(_ observer: @escaping @Sendable () -> Void) { observers.withLock { $0.append(observer) } }

    init(database: DatabaseQueue, interval: Duration) {
        self.database = database
        self.interval = interval
    }

    /// Called by the outbox after each of its commits.
    func noteWrite() { writes.add(1, ordering: .releasing) }

    var statistics: OutboxCheckpointStatistics {
        let written = writes.load(ordering: .acquiring)
        return state.withLock { s in
            var statistics = s.statistics
            statistics.caughtUp = statistics.caughtUp && s.checkpointedWrites == written
            return statistics
        }
    }

    func start() { schedule() }

    /// Stops the timer, waits for a running checkpoint, closes the connection.
    func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        queue.sync {}
        try? database.close()
    }

    private func schedule() {
        let (seconds, attoseconds) = interval.components
        let nanoseconds = Int(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(max(1_000_000, nanoseconds))) { [self] in
            guard !stopped.load(ordering: .acquiring) else { return }
            runOnce()
            schedule()
        }
    }

    private func runOnce() {
        defer { for observer in observers.withLock({ $0 }) { observer() } }
        let written = writes.load(ordering: .acquiring)
        let due = state.withLock { s in
            s.statistics.ticks += 1
            return s.checkpointedWrites != written
        }
        guard due else { return }
        // A failed checkpoint (e.g. busy) is retried at the next tick; the writer's
        // auto-checkpoint bounds the WAL meanwhile.
        guard let result = try? database.writeWithoutTransaction({ db in try db.checkpoint(.passive) }) else { return }
        let complete = result.walFrameCount > 0 && result.checkpointedFrameCount == result.walFrameCount
        // Everything is copied: the next write restarts the WAL (and syncs its header). Make it ours.
        let rearmed = complete && (try? database.write { db in try db.execute(sql: RelayOutbox.rearmSQL) }) != nil
        state.withLock { s in
            s.statistics.runs += 1
            s.statistics.lastWALFrames = result.walFrameCount
            if rearmed { s.statistics.rearms += 1 }
            s.statistics.caughtUp = result.checkpointedFrameCount == result.walFrameCount
            s.checkpointedWrites = written
        }
    }
}
