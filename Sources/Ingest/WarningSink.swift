public import Alerting
public import Foundation
public import Pipeline
import Synchronization

/// Where the daemon delivers warnings: the JSONL directory (``JSONLDirectorySink``), and, added
/// by the integrator, an adapter to the relay's input client. ``IngestService`` calls every sink
/// for every warning, in pipeline order, and awaits it.
public protocol WarningSink: Sendable {
    /// Delivers one warning and, when a signing key is configured, its Ed25519 envelope.
    /// A thrown error is logged and counted; the daemon continues.
    func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws
    /// Makes everything delivered so far durable (called on shutdown).
    func flush() async throws
    /// Called once when the daemon starts, before the first record (e.g. to connect eagerly).
    func start() async
    /// The critical path: called synchronously as soon as the pipeline releases a warning (before
    /// the rest of the record's slices, file writes and logs). Returns true when the sink took the
    /// warning; ``deliver(_:envelope:)`` is then not called for it. The default returns false.
    /// Must not block: queue and return.
    ///
    /// `envelope` signs on first use (nil: no signing key): a sink that queues can sign on its own
    /// thread, so the pipeline goes on to its next slice meanwhile.
    func deliverImmediately(_ warning: WarningMessage, envelope: LazyEnvelope?, trace: WarningTrace) throws -> Bool
    /// Called on the daemon's processing thread after records whose processing gave this sink
    /// warnings through ``deliverImmediately(_:envelope:trace:)`` (all of them are handed over by
    /// then): e.g. to commit them in one transaction. Called once for the records of one socket
    /// read, after the last of them (``IngestService``: the next records already received go
    /// first). The default does nothing. Must not block for long: the next read waits.
    func recordProcessed()
    /// Runs this sink's part of a warning's path once, without effect, so that the next real
    /// warning finds its code and data in the processing core's caches (``IngestService``'s
    /// keep-warm; docs/ingest.md, "Keep-warm"). Called on the processing thread, between
    /// records, every ingest.yaml `keepWarmMilliseconds`. Must leave nothing behind (no entry,
    /// no message, no metric) and not block. The default does nothing.
    func keepWarm()
}

/// A warning's Ed25519 envelope, computed once, by whichever thread asks first (Ed25519 is
/// deterministic, so the envelope does not depend on who signs).
public final class LazyEnvelope: Sendable {
    public let warning: WarningMessage
    private let sign: @Sendable (WarningMessage) throws -> SignedEnvelope
    private let result = Mutex<Result<SignedEnvelope, any Error>?>(nil)

    public init(_ warning: WarningMessage, sign: @escaping @Sendable (WarningMessage) throws -> SignedEnvelope) {
        self.warning = warning
        self.sign = sign
    }

    /// The envelope (signing now if nobody has yet).
    /// - Throws: the signing error (the same one on every call).
    public func get() throws -> SignedEnvelope {
        let r = result.withLock { r -> Result<SignedEnvelope, any Error> in
            if let r { return r }
            let new = Result { try sign(warning) }
            r = new
            return new
        }
        return try r.get()
    }
}

/// Wall-clock stamps (CLOCK_REALTIME, ns since the epoch) of one warning's way through the
/// daemon, for latency accounting across processes (`relay-latency.jsonl`).
public struct WarningTrace: Sendable, Equatable {
    /// The last byte of the record whose processing released the warning was read from the
    /// SeedLink socket (nil if unknown).
    public var recordArrivalNanos: Int64?
    /// The daemon's processor started on that record (after any queueing behind earlier records).
    public var processingStartNanos: Int64?
    /// The pipeline released the warning.
    public var releasedNanos: Int64?
    /// The SeedLink sequence number of that record (nil if unknown): with the feed's send log
    /// (`quakewarn feed --send-log`) it gives the time the record's bytes were written to the
    /// daemon's socket, which the arrival stamp can be later than (the processing thread reads
    /// the socket when it is free).
    public var recordSequence: Int?

    public init(recordArrivalNanos: Int64? = nil, processingStartNanos: Int64? = nil, releasedNanos: Int64? = nil,
                recordSequence: Int? = nil) {
        self.recordArrivalNanos = recordArrivalNanos
        self.processingStartNanos = processingStartNanos
        self.releasedNanos = releasedNanos
        self.recordSequence = recordSequence
    }
}

extension WarningSink {
    public func flush() async throws {}
    public func start() async {}
    public func deliverImmediately(_ warning: WarningMessage, envelope: LazyEnvelope?, trace: WarningTrace) throws -> Bool {
        false
    }
    public func recordProcessed() {}
    public func keepWarm() {}
}

/// The daemon's output files, with the line formats of `quakewarn replay` (``ReplayOutputs``
/// encodes each line, so a live run and a replay of the same data give byte-identical lines):
/// `picks.jsonl`, `events.jsonl`, `decisions.jsonl`, `warnings.jsonl`, `cap/<id>-<update>.xml`
/// and `signed/<id>-<update>.json` (when an envelope is given). Files are appended to, so a
/// restarted daemon continues them.
///
/// ``write(_:)`` takes every pipeline record except the warning line itself, which
/// ``deliver(_:envelope:)`` (the ``WarningSink`` side) writes.
public actor JSONLDirectorySink: WarningSink {
    public nonisolated let directory: URL
    private var handles: [String: FileHandle] = [:]

    /// Creates the directory (and `cap/`, `signed/`) if needed.
    /// - Throws: the file-system error, naming the directory.
    public init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory)
        let fm = FileManager.default
        for d in [self.directory, self.directory.appendingPathComponent("cap"), self.directory.appendingPathComponent("signed")] {
            try fm.createDirectory(at: d, withIntermediateDirectories: true)
        }
    }

    private func append(_ line: String, to name: String) throws {
        let handle: FileHandle
        if let h = handles[name] {
            handle = h
        } else {
            let url = directory.appendingPathComponent(name)
            if !FileManager.default.fileExists(atPath: url.path) {
                _ = FileManager.default.createFile(atPath: url.path, contents: nil)  // FileHandle below reports failures
            }
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
            handles[name] = handle
        }
        try handle.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Writes one pipeline record (picks, rejections, events, decisions, CAP XML); warnings
    /// lines are written by ``deliver(_:envelope:)``; notices are not written (they are logged).
    public func write(_ record: PipelineRecord) throws {
        var lines = ReplayOutputs()
        try lines.add(record)
        for l in lines.picks { try append(l, to: "picks.jsonl") }
        for l in lines.events { try append(l, to: "events.jsonl") }
        for l in lines.decisions { try append(l, to: "decisions.jsonl") }
        for c in lines.cap {
            try Data(c.xml.utf8).write(to: directory.appendingPathComponent("cap").appendingPathComponent(c.name),
                                       options: .atomic)
        }
    }

    public func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) throws {
        try append(String(decoding: try warning.canonicalJSON(), as: UTF8.self), to: "warnings.jsonl")
        if let envelope {
            try envelope.encoded().write(to: directory.appendingPathComponent("signed")
                .appendingPathComponent("\(warning.id)-\(warning.updateNumber).json"), options: .atomic)
        }
    }

    public func flush() throws {
        for h in handles.values { try h.synchronize() }
    }

    /// Flushes and closes the files.
    public func close() throws {
        try flush()
        for h in handles.values { try h.close() }
        handles.removeAll()
    }
}
