// Starts a WebSocketHub and SUBSCRIBERS in-process WebSocket clients on loopback, broadcasts
// WARNINGS texts of BYTES bytes one at a time (each after every subscriber has the previous one)
// and prints the latency from the broadcast call to each receipt (CLOCK_REALTIME on both sides).
// The clients decode on the same cores as the hub, so the numbers are an upper bound for the hub.
import Foundation
import Synchronization
import WebSocketHub

#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let subscribers = arguments.count > 0 ? arguments[0] : 1000
let warnings = arguments.count > 1 ? arguments[1] : 100
let bytes = arguments.count > 2 ? arguments[2] : 1200

var limit = rlimit()
getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
limit.rlim_cur = min(limit.rlim_max, rlim_t(2 * subscribers + 1024))
setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)

final class Receipts: Sendable {
    let total = Atomic<Int>(0)
    let nanos: Mutex<[[Int64]]>
    init(subscribers: Int) { nanos = Mutex(Array(repeating: [], count: subscribers)) }
}

let receipts = Receipts(subscribers: subscribers)
let hub = try await WebSocketHub.start(.init(tokens: ["bench"]))
let url = WebSocketURL(host: "127.0.0.1", port: hub.port, target: "/warnings")
var clients: [WebSocketClient] = []
for index in 0..<subscribers {
    clients.append(try await WebSocketClient.connect(.init(url: url, bearerToken: "bench")) { event in
        if case .text(_, let received) = event {
            receipts.nanos.withLock { $0[index].append(received) }
            receipts.total.add(1, ordering: .relaxed)
        }
    })
}
while hub.subscriberCount < subscribers { try await Task.sleep(for: .milliseconds(1)) }

let payload = String(repeating: "x", count: bytes)
var sent: [Int64] = []
for index in 0..<warnings {
    sent.append(realtimeNanoseconds())
    hub.broadcast(text: "\(index) " + payload)
    while receipts.total.load(ordering: .relaxed) < (index + 1) * subscribers { try await Task.sleep(for: .microseconds(200)) }
}

var all: [Int64] = []
var last = [Int64](repeating: 0, count: warnings)
for perClient in receipts.nanos.withLock({ $0 }) {
    for (index, received) in perClient.enumerated() {
        all.append(received - sent[index])
        last[index] = max(last[index], received - sent[index])
    }
}
all.sort()
last.sort()
func pct(_ sorted: [Int64], _ p: Double) -> String {
    let rank = min(max(Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1, 0), sorted.count - 1)
    return String(format: "%.3f ms", Double(sorted[rank]) / 1e6)
}
print("\(subscribers) subscribers × \(warnings) warnings of \(bytes + 4) bytes, \(ProcessInfo.processInfo.activeProcessorCount) cores")
print("broadcast → each receipt   (n=\(all.count)): p50 \(pct(all, 50))  p99 \(pct(all, 99))  p99.9 \(pct(all, 99.9))  max \(pct(all, 100))")
print("broadcast → last subscriber (n=\(last.count)): p50 \(pct(last, 50))  p99 \(pct(last, 99))  max \(pct(last, 100))")
print("hub statistics: \(hub.statistics)")
await hub.shutdown()
