public import NIOCore
import NIOPosix

/// Monotonic timestamps of one accepted warning inside the relay, for latency break-downs
/// (`quakewarn relay bench`). All on `ContinuousClock`, taken on the input thread.
public struct RelayStageTimes: Sendable, Equatable {
    public var eventId: String
    public var updateNumber: Int
    public var kind: OutboxPayloadKind
    /// The input handler got the complete line (after the socket read and line framing).
    public var lineReceived: ContinuousClock.Instant
    /// Signature verified and payload decoded.
    public var verified: ContinuousClock.Instant
    /// The outbox `COMMIT` returned.
    public var committed: ContinuousClock.Instant
    /// The accept hooks returned: the MQTT PUBLISH was written to the broker socket when
    /// ``publishedImmediately``, and the WebSocket broadcaster (if any) was called.
    public var notified: ContinuousClock.Instant
    /// Whether the PUBLISH left on the input thread right after the commit (broker connected,
    /// in-flight window not full), rather than through the forwarder's queue.
    public var publishedImmediately: Bool

    public init(eventId: String, updateNumber: Int, kind: OutboxPayloadKind, lineReceived: ContinuousClock.Instant,
                verified: ContinuousClock.Instant, committed: ContinuousClock.Instant, notified: ContinuousClock.Instant,
                publishedImmediately: Bool) {
        self.eventId = eventId
        self.updateNumber = updateNumber
        self.kind = kind
        self.lineReceived = lineReceived
        self.verified = verified
        self.committed = committed
        self.notified = notified
        self.publishedImmediately = publishedImmediately
    }
}

/// Receives ``RelayStageTimes`` for every newly accepted entry, on the input thread, right
/// before the ack is written. Must not block. For benchmarks and diagnostics.
public protocol RelayStageObserver: Sendable {
    func relayStages(_ times: RelayStageTimes)
}

/// Event-loop groups for tools and benchmarks that do not depend on NIOPosix themselves.
public enum RelayEventLoops {
    /// A new group of `threads` dedicated threads; shut it down with `shutdownGracefully()`.
    public static func dedicatedGroup(threads: Int = 1) -> any EventLoopGroup {
        MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }
}
