import Foundation
import Ingest
import NIOCore
import NIOPosix
import SeismicCore
import Testing

/// ingest.yaml `realtimePriority` and ``ProcessingThreadPriority``.
@Suite struct RealtimePriorityTests {
    /// Whether this process may use SCHED_FIFO (tried on a scratch thread).
    static func permitted() -> Bool {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let problem = try? group.next().submit { ProcessingThreadPriority.applyToCurrentThread(1) }.wait()
        return problem == .some(nil)
    }

    @Test("SCHED_FIFO on the calling thread only, or a reason naming the capability; out-of-range priorities are refused")
    func applyToCurrentThread() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let (problem, after) = try loop.submit {
            (ProcessingThreadPriority.applyToCurrentThread(7), ProcessingThreadPriority.currentThread())
        }.wait()
        if let problem {
            #expect(problem.contains("pthread_setschedparam"), "\(problem)")
            #expect(!after.fifo)
        } else {
            #expect(after.fifo && after.priority == 7)
        }
        // Another thread (this one) keeps its policy.
        #expect(!ProcessingThreadPriority.currentThread().fifo)
        for bad in [0, 100, -1] {
            let reason = try loop.submit { ProcessingThreadPriority.applyToCurrentThread(bad) }.wait()
            #expect(reason?.contains("outside 1...99") == true)
        }
    }

    @Test("realtimePriority (1…99) and cpuWakeupLatencyMicroseconds (0…2,000,000,000 µs) in ingest.yaml: absent by default; errors name the key")
    func configurationKeys() throws {
        let base = "configuration: lezhi.yaml\nseedlink: { port: 18000 }\n"
        let keys: [(key: String, valid: Int, invalid: [(String, String)], read: @Sendable (IngestConfiguration) -> Int?)] = [
            ("realtimePriority", 10, [("0", "outside 1...99"), ("100", "outside 1...99"), ("high", "expected an integer")],
             { $0.realtimePriority }),
            ("cpuWakeupLatencyMicroseconds", 0,
             [("-1", "outside 0...2000000000"), ("2000000001", "outside 0...2000000000"), ("low", "expected an integer")],
             { $0.cpuWakeupLatencyMicroseconds }),
        ]
        for k in keys {
            #expect(try k.read(IngestConfiguration.parse(yaml: base, file: "/etc/qw/ingest.yaml")) == nil)
            #expect(try k.read(IngestConfiguration.parse(yaml: base + "\(k.key): \(k.valid)\n", file: "/etc/qw/ingest.yaml")) == k.valid)
            for (value, message) in k.invalid {
                #expect {
                    try IngestConfiguration.parse(yaml: base + "\(k.key): \(value)\n", file: "/etc/qw/ingest.yaml")
                } throws: { error in
                    "\(error)".contains(k.key) && "\(error)".contains(message)
                }
            }
        }
    }
}
