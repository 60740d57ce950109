// relay.yaml `realtimePriority`: the relay's own loop thread at SCHED_FIFO (quakewarn relay as its
// own process); a loop shared with the ingest daemon is left to ingest.yaml.
import Foundation
import NIOCore
import NIOPosix
import Relay
import SeismicCore
import Testing

@Suite("Relay real-time priority")
struct RelayRealtimePriorityTests {
    /// Whether this process may use SCHED_FIFO (tried on a scratch thread).
    static func permitted() -> Bool {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let problem = try? group.next().submit { ProcessingThreadPriority.applyToCurrentThread(1) }.wait()
        return problem == .some(nil)
    }

    /// The scheduling policy of the thread that answers an in-process submission (the relay's loop).
    static func loopPolicy(_ service: RelayService) async -> (fifo: Bool, priority: Int)? {
        let answered = AsyncStream<(fifo: Bool, priority: Int)>.makeStream()
        // Not JSON: rejected, but answered on the loop.
        let taken = service.submitInProcess(line: Data("not an envelope".utf8)) { _ in
            answered.continuation.yield(ProcessingThreadPriority.currentThread())
        }
        guard taken else { return nil }
        var iterator = answered.stream.makeAsyncIterator()
        return await iterator.next()
    }

    @Test("realtimePriority (1…99) and cpuWakeupLatencyMicroseconds (0…2,000,000,000): absent by default, errors name the key")
    func configurationKeys() throws {
        let base = RelayConfigurationTests.minimal + "\n"
        let keys: [(key: String, valid: Int, invalid: [String], read: @Sendable (RelayConfiguration) -> Int?)] = [
            ("realtimePriority", 12, ["0", "100", "high"], { $0.realtimePriority }),
            ("cpuWakeupLatencyMicroseconds", 0, ["-1", "2000000001", "low"], { $0.cpuWakeupLatencyMicroseconds }),
        ]
        for k in keys {
            #expect(try k.read(RelayConfiguration.parse(yaml: base, file: "r.yaml", baseDirectory: "/srv")) == nil)
            #expect(try k.read(RelayConfiguration.parse(yaml: base + "\(k.key): \(k.valid)\n", file: "r.yaml", baseDirectory: "/srv"))
                == k.valid)
            for value in k.invalid {
                #expect {
                    try RelayConfiguration.parse(yaml: base + "\(k.key): \(value)\n", file: "r.yaml", baseDirectory: "/srv")
                } throws: { error in
                    "\(error)".contains(k.key)
                }
            }
        }
    }

    // Once in about a hundred runs (session 7, right after a build, not reproduced in 100 more
    // runs with and without a CPU hog) this test never finished, with nothing in the log to say
    // where. The limit records a failure naming the test when it runs over (the run may still
    // wait for the test's task if what it awaits ignores cancellation).
    @Test("its own loop runs at SCHED_FIFO when permitted; a loop shared with the caller keeps its policy",
          .timeLimit(.minutes(2)))
    func ownLoopOnly() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        var configuration = try fixture.configuration()
        configuration.realtimePriority = 6

        let own = RelayService(configuration: configuration)
        let ownTask = Task { try await own.run() }
        _ = try await own.waitUntilListening()
        let ownPolicy = try #require(await Self.loopPolicy(own))
        if Self.permitted() {
            #expect(ownPolicy.fifo && ownPolicy.priority == 6)
        } else {
            #expect(!ownPolicy.fifo, "not permitted here: the relay logs a warning and keeps normal priority")
        }
        ownTask.cancel()
        _ = try? await ownTask.value

        // A caller's group (the ingest daemon's processing loop): left alone.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let shared = RelayService(configuration: configuration, eventLoopGroup: group)
        let sharedTask = Task { try await shared.run() }
        _ = try await shared.waitUntilListening()
        let sharedPolicy = try #require(await Self.loopPolicy(shared))
        #expect(!sharedPolicy.fifo)
        sharedTask.cancel()
        _ = try? await sharedTask.value
        try await group.shutdownGracefully()
    }
}
