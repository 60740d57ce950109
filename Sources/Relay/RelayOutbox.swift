public import Alerting
public import Foundation
import GRDB
public import SeismicCore

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
///
/// Thread safety: all methods may be called from any thread; writes are serialised by GRDB.
public final class RelayOutbox: Sendable {
    /// The database file.
    public let path: String
    private let pool: DatabasePool

    /// Opens (creating if needed) the outbox at `path`.
    public init(path: String, synchronous: OutboxSynchronous = .normal) throws(OutboxError) {
        self.path = path
        var configuration = Configuration()
        let pragma = synchronous == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(pragma)")
        }
        configuration.label = "quakewarn-relay-outbox"
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
                    """)
            }
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// Closes the database (checkpointing the WAL). Further calls fail.
    public func close() throws(OutboxError) {
        do { try pool.close() } catch { throw .database(path: path, reason: "\(error)") }
    }

    /// Appends an accepted warning in one transaction.
    /// - Returns: ``OutboxAppendResult/appended(_:)`` for a new key, ``OutboxAppendResult/duplicate(_:)``
    ///   when the key exists with byte-identical `envelope` (nothing is written or re-queued).
    /// - Throws: ``OutboxError/conflictingDuplicate(eventId:updateNumber:kind:)`` when the key
    ///   exists with other bytes; ``OutboxError/database(path:reason:)`` when SQLite fails.
    public func append(kind: OutboxPayloadKind, eventId: String, updateNumber: Int, status: WarningStatus,
                       level: WarningLevel, envelope: Data, receivedAt: Timestamp) throws(OutboxError) -> OutboxAppendResult {
        let outcome: Result<OutboxAppendResult, OutboxError>
        do {
            outcome = try pool.write { db -> Result<OutboxAppendResult, OutboxError> in
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO outbox (kind, eventId, updateNumber, status, level, envelope, receivedAt)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [kind.rawValue, eventId, updateNumber, status.rawValue, level.rawValue, envelope,
                                receivedAt.nanosecondsSinceEpoch])
                if db.changesCount == 1 {
                    return .success(.appended(OutboxEntry(
                        sequence: db.lastInsertedRowID, kind: kind, eventId: eventId, updateNumber: updateNumber,
                        status: status, level: level, envelope: envelope, receivedAt: receivedAt)))
                }
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM outbox WHERE eventId = ? AND updateNumber = ? AND kind = ?",
                    arguments: [eventId, updateNumber, kind.rawValue])
                else {
                    return .failure(.database(path: path, reason: "INSERT OR IGNORE changed nothing and no row has the key"))
                }
                let existing = try Self.entry(row)
                guard existing.envelope == envelope else {
                    return .failure(.conflictingDuplicate(eventId: eventId, updateNumber: updateNumber, kind: kind))
                }
                return .success(.duplicate(existing))
            }
        } catch let error as OutboxError {
            throw error
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
        return try outcome.get()
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
            try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE eventId = ? AND updateNumber = ? AND kind = ?",
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
            return try pool.write { db in
                var changed = 0
                let statement = try db.makeStatement(
                    sql: "UPDATE outbox SET mqttAckedAt = ? WHERE sequence = ? AND mqttAckedAt IS NULL")
                for sequence in sequences {
                    try statement.execute(arguments: [time.nanosecondsSinceEpoch, sequence])
                    changed += db.changesCount
                }
                return changed
            }
        } catch {
            throw .database(path: path, reason: "\(error)")
        }
    }

    /// Deletes delivered entries received before `time` (their keys are then no longer
    /// recognised as duplicates). Returns the number of rows removed.
    @discardableResult
    public func pruneDelivered(receivedBefore time: Timestamp) throws(OutboxError) -> Int {
        do {
            return try pool.write { db in
                try db.execute(sql: "DELETE FROM outbox WHERE mqttAckedAt IS NOT NULL AND receivedAt < ?",
                               arguments: [time.nanosecondsSinceEpoch])
                return db.changesCount
            }
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
