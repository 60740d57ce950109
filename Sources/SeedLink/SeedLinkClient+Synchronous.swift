// The client's synchronous data phase: records handed to the consumer on the event loop, inside
// the socket read, without the async stream, the task wake-up and the actor hop in between.

public import MiniSEED
import Dispatch
import NIOCore
import SeismicCore
import Synchronization

extension SeedLinkClient {
    /// Receives one data record on the connection's event loop, synchronously, inside the socket
    /// read that completed it (see ``run(records:events:)``): the record, its packet sequence
    /// number, its 512 raw bytes and `arrivalNanos` (CLOCK_REALTIME when that read reached the
    /// channel pipeline, as in ``SeedLinkClientEvent/recordWithBytes(_:sequence:bytes:arrivalNanos:)``).
    /// It must not block: the next bytes of the socket wait for it.
    public typealias RecordHandler = @Sendable (_ record: MiniSEEDRecord, _ sequence: Int, _ bytes: [UInt8],
                                                _ arrivalNanos: Int64) -> Void

    /// Like ``run(_:)``, but data records go to `records`, called synchronously on the event loop
    /// that reads the socket, as soon as the read that completed them is decoded; every other
    /// event (connected, decode errors, INFO, disconnected, END, state file errors) goes to
    /// `events`, in order with respect to each other.
    ///
    /// Why: the path through ``run(_:)`` is socket read → async stream → the consumer task's
    /// wake-up → the consumer's actor. End-to-end traces of the ingest daemon (one thread for all
    /// of it) measured read → record decoded at 105–117 µs p50 on that path, of which ≈ 95 µs
    /// before the consumer task resumed; the miniSEED decode itself is 15–30 µs. Here the frames are decoded in
    /// the channel handler and the record handler runs right there.
    ///
    /// Records are delivered this way from the data phase on (after the handshake; the handler is
    /// installed before `END` is sent, and a SeedLink server sends no data before `END`).
    /// The state file is then saved on a background queue (its errors are reported as
    /// ``SeedLinkClientEvent/stateFileError(_:)`` after the next read), not in the read.
    public func run(records: @escaping RecordHandler,
                    events onEvent: @escaping @Sendable (SeedLinkClientEvent) async -> Void) async throws(SeedLinkError) {
        try await run(onEvent, records: records)
    }

    /// Records the last delivered sequence of the record's station.
    func noteDelivered(_ record: MiniSEEDRecord, sequence: Int) {
        let key = SeedLinkStateFile.key(network: record.streamID.network, station: record.streamID.station)
        shared.withLock { $0.sequences[key] = sequence }
    }

    /// True (and `lastSaved` reset) when the state file is due for a save after a record.
    func stateSaveDue(_ lastSaved: inout NIODeadline) -> Bool {
        let interval = configuration.stateSaveIntervalSeconds
        guard configuration.stateFile != nil,
              interval <= 0 || (NIODeadline.now() - lastSaved).nanoseconds >= Int64(interval * 1e9) else { return false }
        lastSaved = .now()
        return true
    }

    /// Saves the state file on the background queue (one save at a time; a save asked for while
    /// one runs is done after it, once). Its error is kept for ``takeBackgroundSaveError()``.
    func saveStateInBackground() {
        let start = background.withLock { b -> Bool in
            if b.saving { b.again = true; return false }
            b.saving = true
            return true
        }
        guard start else { return }
        stateQueue.async { [self] in
            while true {
                let error = saveState()
                let more = background.withLock { b -> Bool in
                    if let error { b.error = error }
                    if b.again { b.again = false; return true }
                    b.saving = false
                    return false
                }
                if !more { return }
            }
        }
    }

    /// The last background save's error, once.
    func takeBackgroundSaveError() -> String? {
        background.withLock { b in
            defer { b.error = nil }
            return b.error
        }
    }
}

/// What the client's channel pipeline hands to the session's async loop.
enum SessionInbound: Sendable {
    /// Bytes of one socket read (handshake, and the data phase of ``SeedLinkClient/run(_:)``).
    case read(StampedRead)
    /// Events of the synchronous data phase, in order (records went to the record handler).
    case events([SeedLinkClientEvent])
}

/// One socket read with the wall clock at which it reached the channel pipeline.
struct StampedRead: Sendable {
    var bytes: ByteBuffer
    /// CLOCK_REALTIME, ns since the epoch.
    var wallNanos: Int64
}

/// Turns SeedLink frames into what the client reports; shared by the async and the synchronous
/// delivery so that both report the same things.
struct SeedLinkFrameInterpreter {
    let source: String
    private var infoText = ""

    init(source: String) { self.source = source }

    enum Outcome {
        case record(MiniSEEDRecord, sequence: Int, bytes: [UInt8])
        case event(SeedLinkClientEvent)
        case nothing
    }

    mutating func interpret(_ frame: SeedLinkFrameDecoder.Frame) -> Outcome {
        switch frame {
        case .packet(let sequence, let record):
            // The packet number goes into the error's file name only when there is an error
            // (no String built per packet).
            var recordDecoder = MiniSEEDRecordDecoder(source: source, maximumRecordLength: 512)
            recordDecoder.append(record)
            do {
                guard let decoded = try recordDecoder.next() else {
                    return .event(.decodeError("\(source): packet \(sequence): record is not a complete 512-byte miniSEED record"))
                }
                return .record(decoded, sequence: sequence, bytes: record)
            } catch var error {  // MiniSEEDError (typed throws)
                error.file = "\(source) #\(sequence)"
                return .event(.decodeError("\(error)"))
            }
        case .info(let record, let isLast):
            infoText += SeedLinkInfo.text(ofRecord: record) ?? ""
            guard isLast else { return .nothing }
            defer { infoText = "" }
            // Keep-alive answers (INFO ID) are not reported.
            guard infoText.contains("<station") || infoText.contains("<capability") else { return .nothing }
            return .event(.info(infoText))
        case .error:
            return .event(.decodeError("\(source): server answered ERROR"))
        case .end:
            return .event(.endOfTransfer)
        case .skipped(let offset, let count):
            return .event(.decodeError("\(source): skipped \(count) bytes at stream offset \(offset) that are not a SeedLink packet"))
        }
    }
}

/// The client's channel handler. Stamps every read on the event loop, before any queue, so a
/// record's arrival time does not include the time it waited for the consumer; in the handshake
/// (and with ``SeedLinkClient/run(_:)``) it passes the bytes on to the session's async loop. In
/// the synchronous data phase (``enterDataPhase(client:records:pending:source:)``) it decodes the
/// frames itself and hands each record to the record handler right away.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SessionInbound

    private struct DataPhase {
        let client: SeedLinkClient
        let records: SeedLinkClient.RecordHandler
        var decoder = SeedLinkFrameDecoder()
        var interpreter: SeedLinkFrameInterpreter
        var lastSaved = NIODeadline.now()
    }

    private var dataPhase: DataPhase?

    /// From now on, records go to `records` (on this loop). `pending`: bytes the session read
    /// after its last handshake reply.
    func enterDataPhase(client: SeedLinkClient, records: @escaping SeedLinkClient.RecordHandler, pending: [UInt8],
                        source: String) {
        var phase = DataPhase(client: client, records: records, interpreter: SeedLinkFrameInterpreter(source: source))
        phase.decoder.append(pending)
        dataPhase = phase
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        let wallNanos = Timestamp.wallClockNow().nanosecondsSinceEpoch
        guard var phase = dataPhase else {
            context.fireChannelRead(wrapInboundOut(.read(StampedRead(bytes: bytes, wallNanos: wallNanos))))
            return
        }
        dataPhase = nil  // mutated in place below (no copy of the decoder's buffer)
        defer { dataPhase = phase }
        phase.client.touch()
        phase.decoder.append(bytes.readableBytesView)
        var events: [SeedLinkClientEvent] = []
        while let frame = phase.decoder.next() {
            // After stop(), deliver nothing more (a consumer may stop at an exact record).
            if phase.client.stopRequested { break }
            switch phase.interpreter.interpret(frame) {
            case .record(let record, let sequence, let raw):
                phase.client.noteDelivered(record, sequence: sequence)
                phase.records(record, sequence, raw, wallNanos)
                if phase.client.stateSaveDue(&phase.lastSaved) { phase.client.saveStateInBackground() }
            case .event(let event):
                events.append(event)
            case .nothing:
                break
            }
        }
        if let error = phase.client.takeBackgroundSaveError() { events.append(.stateFileError(error)) }
        if !events.isEmpty { context.fireChannelRead(wrapInboundOut(.events(events))) }
    }
}

@available(*, unavailable)
extension SessionHandler: Sendable {}
