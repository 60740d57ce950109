import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport

@testable import WebSocketHub

/// Notified by everything these tests wait for: every hub made by ``startHub(tokens:_:)`` (its
/// counters, through `observeStatistics`), every ``Inbox`` (a message or a close) and the Python
/// clients' output and exit. Shared by all tests of the module: a notification meant for another
/// test only costs a re-check.
let hubTestChanges = ChangeSignal()

/// Waits until `condition` holds or `seconds` pass; re-checked whenever ``hubTestChanges`` is
/// notified (a hub counter changed, a client received or closed), never on a timer.
func waitUntil(_ what: String, within seconds: Double = 10, _ condition: () -> Bool) async throws {
    try await hubTestChanges.wait(seconds, what, until: condition)
}

let quietLogger = Logger(label: "test.websocket-hub", factory: { _ in SwiftLogNoOpLogHandler() })

func startHub(tokens: Set<String> = ["secret-token"], _ adjust: (inout WebSocketHub.Configuration) -> Void = { _ in })
    async throws -> WebSocketHub {
    var configuration = WebSocketHub.Configuration(tokens: tokens)
    adjust(&configuration)
    let hub = try await WebSocketHub.start(configuration, logger: quietLogger)
    hub.observeStatistics { hubTestChanges.notify() }
    return hub
}

/// Records what one client connection delivered.
final class Inbox: Sendable {
    private struct State {
        var texts: [String] = []
        var receivedNanos: [Int64] = []
        var closed = false
        var closeCode: UInt16?
    }

    private let state = Mutex(State())
    /// Optional counter shared by many inboxes (one atomic to check instead of a thousand locks).
    private let tally: Tally?

    init(tally: Tally? = nil) {
        self.tally = tally
    }

    var handler: @Sendable (WebSocketClient.Event) -> Void {
        { [self] event in
            let isText = state.withLock { state -> Bool in
                switch event {
                case let .text(text, nanos):
                    state.texts.append(text)
                    state.receivedNanos.append(nanos)
                    return true
                case .binary: return false
                case let .closed(code, _):
                    state.closed = true
                    state.closeCode = code
                    return false
                }
            }
            // With a tally, a message wakes waiters through it (only when a waited-for total is
            // reached); otherwise every change is announced.
            if isText, let tally {
                tally.increment()
            } else {
                hubTestChanges.notify()
            }
        }
    }

    var texts: [String] { state.withLock { $0.texts } }
    var count: Int { state.withLock { $0.texts.count } }
    func receivedNanosList() -> [Int64] { state.withLock { $0.receivedNanos } }
    var closed: Bool { state.withLock { $0.closed } }
    var closeCode: UInt16? { state.withLock { $0.closeCode } }
}

/// Messages received by many inboxes together. ``wait(atLeast:within:_:)`` is woken when the
/// total reaches what it waits for, not by every single message (a thousand subscribers would
/// otherwise wake the waiter a thousand times per warning).
final class Tally: Sendable {
    private let count = Atomic<Int>(0)
    /// The total a waiter waits for; `Int.max` when nobody waits.
    private let target = Atomic<Int>(.max)
    var value: Int { count.load(ordering: .sequentiallyConsistent) }

    func increment() {
        let total = count.add(1, ordering: .sequentiallyConsistent).newValue
        // Sequentially consistent on both sides: either this load sees the waiter's target, or
        // the waiter's check sees this total; a wake-up cannot be lost.
        if total >= target.load(ordering: .sequentiallyConsistent) { hubTestChanges.notify() }
    }

    /// Returns once the total is at least `total`; ``TestTimeout`` after `seconds`. One waiter at a time.
    func wait(atLeast total: Int, within seconds: Double, _ what: String) async throws {
        target.store(total, ordering: .sequentiallyConsistent)
        defer { target.store(.max, ordering: .sequentiallyConsistent) }
        try await hubTestChanges.wait(seconds, what) { value >= total }
    }
}

func connectClient(
    _ hub: WebSocketHub, token: String? = "secret-token", target: String? = nil, receiveBufferBytes: Int? = nil,
    tally: Tally? = nil
) async throws -> (WebSocketClient, Inbox) {
    let inbox = Inbox(tally: tally)
    let url = WebSocketURL(host: "127.0.0.1", port: hub.port, target: target ?? hub.configuration.path)
    let client = try await WebSocketClient.connect(
        .init(url: url, bearerToken: token, receiveBufferBytes: receiveBufferBytes), onEvent: inbox.handler
    )
    return (client, inbox)
}

/// Sends `request` bytes over plain TCP and returns everything the server sent until it closed
/// the connection (or `seconds` passed: then `closedByServer` is false).
func rawExchangeDetailed(port: Int, request: String, within seconds: Double = 5) async throws -> (text: String, closedByServer: Bool) {
    let collector = RawCollector()
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(RawCollectHandler(collector)) }
        }
        .connect(host: "127.0.0.1", port: port).get()
    if !request.isEmpty {
        try await channel.writeAndFlush(ByteBuffer(string: request))
    }
    let gaveUp = Atomic<Bool>(false)
    let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
        gaveUp.store(true, ordering: .relaxed)
        channel.close(promise: nil)
    }
    try? await channel.closeFuture.get()
    timer.cancel()
    return (collector.text, !gaveUp.load(ordering: .relaxed))
}

func rawExchange(port: Int, request: String, within seconds: Double = 5) async throws -> String {
    try await rawExchangeDetailed(port: port, request: request, within: seconds).text
}

final class RawCollector: Sendable {
    private let bytes = Mutex<[UInt8]>([])
    func append(_ more: some Sequence<UInt8>) { bytes.withLock { $0 += more } }
    var text: String { String(decoding: bytes.withLock { $0 }, as: UTF8.self) }
}

private final class RawCollectHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let collector: RawCollector
    init(_ collector: RawCollector) { self.collector = collector }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        collector.append(unwrapInboundIn(data).readableBytesView)
    }
}

/// Raises the soft RLIMIT_NOFILE towards `wanted` (tests with many sockets); returns the soft limit in effect.
@discardableResult
func raiseOpenFileLimit(to wanted: UInt64) -> UInt64 {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return UInt64(limit.rlim_cur)
}

/// Percentile (nearest rank) of sorted values.
func percentile(_ sorted: [Int64], _ p: Double) -> Int64 {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1
    return sorted[min(max(rank, 0), sorted.count - 1)]
}
