import Foundation
import NIOCore
import SeismicCore
import Synchronization

/// A multi-producer, single-consumer queue whose consumer takes everything queued at once.
///
/// Unlike `AsyncStream`, cancelling a waiting consumer does not end the queue: the consumer may
/// come back (the forwarder does, after a broker client was replaced).
final class BatchQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    private let state: Mutex<State>

    /// - Parameter capacity: elements queued without growing; reserved now, so that the first
    ///   ``push(_:)`` does not instantiate the array's generic metadata (see ``UnackedTracker/init(capacity:)``).
    init(capacity: Int = 0) {
        var initial = State()
        if capacity > 0 { initial.items.reserveCapacity(capacity) }
        state = Mutex(initial)
    }

    /// Queues `element` (ignored after ``finish()``).
    func push(_ element: Element) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.finished else { return nil }
            state.items.append(element)
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    /// No more elements; a waiting consumer gets what is left, then nil.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    /// A consumer is suspended in ``next()`` (tests).
    var hasWaitingConsumer: Bool { state.withLock { $0.waiter != nil } }

    /// Nothing queued and not finished.
    var isEmptyAndOpen: Bool { state.withLock { $0.items.isEmpty && !$0.finished } }

    /// Everything queued (waits while empty); nil once finished and drained, or when the task
    /// is cancelled while waiting (the queue stays usable).
    func next() async -> [Element]? {
        while true {
            if let batch = takeAll() { return batch.isEmpty ? nil : batch }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    // `Task.isCancelled` under the lock: a cancellation that came after the
                    // check above ran `onCancel` before the waiter was stored (it found none), or
                    // runs it after we store it (it finds it); either way the wait ends. Checked
                    // only before the lock, it was lost, and a relay stopped by cancelling its
                    // task kept its publisher waiting forever (BatchQueueTests).
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.items.isEmpty || state.finished || Task.isCancelled { return true }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume()
            }
            if Task.isCancelled, state.withLock({ $0.items.isEmpty }) { return nil }
        }
    }

    /// The queued items, `[]` when finished and empty, nil when empty and still open.
    private func takeAll() -> [Element]? {
        state.withLock { state in
            if !state.items.isEmpty {
                defer { state.items.removeAll(keepingCapacity: true) }
                return state.items
            }
            return state.finished ? [] : nil
        }
    }
}

/// Un-acknowledged outbox entries in receive order, for the queue-depth and
/// oldest-unacknowledged-age metrics. O(1) amortised per operation.
final class UnackedTracker: Sendable {
    private struct State {
        var order: [(sequence: Int64, receivedAt: Int64)] = []
        var head = 0
        var pending: Set<Int64> = []
    }

    private let state: Mutex<State>

    /// - Parameter capacity: entries tracked without growing. The storage is allocated here,
    ///   not at the first ``add(sequence:receivedAt:)``: the first allocation of a
    ///   `Set<Int64>` instantiates its generic metadata (a protocol-conformance lookup over the
    ///   whole binary, ≈ 0.1 ms in perf of an ingest daemon's first warning, whose PUBLISH
    ///   waited for it).
    init(capacity: Int = 256) {
        var initial = State()
        initial.pending = Set(minimumCapacity: capacity)
        initial.order.reserveCapacity(capacity)
        state = Mutex(initial)
    }

    /// Adds an entry (ignored if already tracked).
    func add(sequence: Int64, receivedAt: Timestamp) {
        state.withLock { state in
            guard state.pending.insert(sequence).inserted else { return }
            state.order.append((sequence, receivedAt.nanosecondsSinceEpoch))
        }
    }

    /// Removes an entry; returns true if it was pending (first acknowledgement).
    @discardableResult
    func acknowledge(sequence: Int64) -> Bool {
        state.withLock { state in
            guard state.pending.remove(sequence) != nil else { return false }
            while state.head < state.order.count, !state.pending.contains(state.order[state.head].sequence) {
                state.head += 1
            }
            if state.head > 1024 && state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
            return true
        }
    }

    var count: Int { state.withLock { $0.pending.count } }

    /// Receive time (ns since epoch) of the oldest pending entry.
    var oldestReceivedAt: Int64? {
        state.withLock { state in state.head < state.order.count ? state.order[state.head].receivedAt : nil }
    }
}

/// Constant-time comparison of two secrets (the time does not depend on where they differ).
func secretsEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8)
    let y = Array(b.utf8)
    var difference = UInt8(x.count == y.count ? 0 : 1)
    for index in 0..<max(x.count, y.count) {
        difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
    }
    return difference == 0
}

/// A newline-delimited frame: a complete line (newline and a trailing CR removed), or the
/// notice that a line longer than the limit was discarded up to its newline.
enum LineFrame {
    case line(ByteBuffer)
    case oversized
}

/// Splits a byte stream into lines of at most `maximumLineBytes` bytes. A longer line is
/// discarded up to and including its newline and reported once as ``LineFrame/oversized``,
/// so the connection stays usable; buffered memory never exceeds the limit plus one read.
struct LineFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = LineFrame

    let maximumLineBytes: Int
    private var discarding = false
    /// Bytes already searched for a newline in the current (incomplete) line.
    private var scanned = 0

    init(maximumLineBytes: Int) { self.maximumLineBytes = maximumLineBytes }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.startIndex + scanned
        guard let newline = view[start...].firstIndex(of: UInt8(ascii: "\n")) else {
            if discarding || buffer.readableBytes > maximumLineBytes {
                discarding = true
                buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
                scanned = 0
            } else {
                scanned = buffer.readableBytes
            }
            return .needMoreData
        }
        let length = newline - view.startIndex
        scanned = 0
        if discarding || length > maximumLineBytes {
            discarding = false
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(wrapInboundOut(.oversized))
            return .continue
        }
        guard var line = buffer.readSlice(length: length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 1)
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        context.fireChannelRead(wrapInboundOut(.line(line)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // An unterminated last line is not a message (the peer closed mid-line): drop it.
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }
}
