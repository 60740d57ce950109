import Foundation
import Testing

@testable import WebSocketHub

/// Subscribers and warnings of the fan-out test (environment overrides for manual runs).
private let fanOutSubscribers = ProcessInfo.processInfo.environment["QW_WS_FANOUT_SUBSCRIBERS"].flatMap(Int.init) ?? 1000
private let fanOutWarnings = ProcessInfo.processInfo.environment["QW_WS_FANOUT_WARNINGS"].flatMap(Int.init) ?? 50

/// Two sockets per subscriber (client and server side, same process) plus headroom for the
/// other suites that run in parallel. The soft limit is raised in-process when the hard limit allows.
private let enoughFileDescriptors: Bool = raiseOpenFileLimit(to: UInt64(2 * fanOutSubscribers + 1024)) >= UInt64(2 * fanOutSubscribers + 256)

@Suite("WebSocketHub fan-out at scale")
struct FanOutTests {
    /// Issue 7: 1,000 concurrent subscribers each receive every warning. Latency from the
    /// broadcast call to each subscriber's receipt is printed (not asserted: no timed assertions).
    @Test(.enabled(if: enoughFileDescriptors, "RLIMIT_NOFILE too low for \(fanOutSubscribers) subscribers (ulimit -n)"))
    func thousandSubscribersReceiveEveryWarning() async throws {
        let hub = try await startHub()
        let tally = Tally()
        var clients: [(WebSocketClient, Inbox)] = []
        clients.reserveCapacity(fanOutSubscribers)
        var remaining = fanOutSubscribers
        while remaining > 0 {
            let batch = min(remaining, 100)
            let connected = try await withThrowingTaskGroup(of: (WebSocketClient, Inbox).self) { group in
                for _ in 0..<batch { group.addTask { try await connectClient(hub, tally: tally) } }
                var out: [(WebSocketClient, Inbox)] = []
                for try await client in group { out.append(client) }
                return out
            }
            clients += connected
            remaining -= batch
        }
        try await waitUntil("\(fanOutSubscribers) subscribers", within: 30) { hub.subscriberCount == fanOutSubscribers }

        // A warning-sized payload (the relay sends signed envelopes of ≈ 1–2 kB).
        let filler = String(repeating: "x", count: 1200)
        var sentNanos: [Int64] = []
        for index in 0..<fanOutWarnings {
            let expected = index + 1
            sentNanos.append(realtimeNanoseconds())
            hub.broadcast(text: "\(index) \(filler)")
            try await tally.wait(atLeast: expected * fanOutSubscribers, within: 30, "warning \(index) at every subscriber")
        }
        // The hub counts frames after handing them to the sockets, so receipts can come first.
        try await waitUntil("all counted as sent", within: 30) { hub.statistics.messagesSent >= fanOutSubscribers * fanOutWarnings }
        var latencies: [Int64] = []
        var lastPerWarning = [Int64](repeating: 0, count: fanOutWarnings)
        latencies.reserveCapacity(fanOutSubscribers * fanOutWarnings)
        let expectedOrder = (0..<fanOutWarnings).map { $0 }
        var inOrder = 0
        for (_, inbox) in clients {
            let texts = inbox.texts
            if texts.map({ Int($0.split(separator: " ")[0]) ?? -1 }) == expectedOrder { inOrder += 1 }
            for (index, received) in inbox.receivedNanosSnapshot.enumerated() where index < fanOutWarnings {
                let latency = received - sentNanos[index]
                latencies.append(latency)
                lastPerWarning[index] = max(lastPerWarning[index], latency)
            }
        }
        #expect(inOrder == fanOutSubscribers, "every subscriber got every warning, in order")
        #expect(latencies.count == fanOutSubscribers * fanOutWarnings)
        #expect(hub.statistics.messagesSent == fanOutSubscribers * fanOutWarnings)
        #expect(hub.statistics.slowSubscribersDropped == 0)

        latencies.sort()
        lastPerWarning.sort()
        func ms(_ nanos: Int64) -> String { String(format: "%.3f ms", Double(nanos) / 1e6) }
        print("""
            websocket fan-out: \(fanOutSubscribers) subscribers × \(fanOutWarnings) warnings (\(filler.count + 4)-byte text), \
            broadcast → receipt: p50 \(ms(percentile(latencies, 50))), p99 \(ms(percentile(latencies, 99))), \
            max \(ms(latencies.last ?? 0)); broadcast → last subscriber: p50 \(ms(percentile(lastPerWarning, 50))), \
            p99 \(ms(percentile(lastPerWarning, 99))), max \(ms(lastPerWarning.last ?? 0))
            """)
        await hub.shutdown()
        try await waitUntil("clients closed", within: 30) { clients.allSatisfy { $0.1.closed } }
    }
}

extension Inbox {
    var receivedNanosSnapshot: [Int64] { receivedNanosList() }
}
