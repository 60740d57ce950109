// The ingest daemon's processing loop shared with its in-process relay: a warning submitted on
// that loop is appended to the outbox (and its completion called) before the submitting call
// returns; its commit follows the record (PUBLISH before COMMIT).
import Alerting
@preconcurrency import Crypto
import Foundation
import Ingest
import NIOCore
import NIOPosix
import Relay
import Synchronization
import Testing

@Suite("Shared processing loop (ingest + in-process relay)")
struct SharedProcessingLoopTests {
    /// A running relay on a one-thread group of the test's own (as the daemon's processing loop).
    static func relayOnSharedLoop(_ keys: RelayWarningSinkTests.Keys) async throws
        -> (RelayService, Task<Void, any Error>, MultiThreadedEventLoopGroup) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let service = RelayService(configuration: keys.configuration(port: 0), eventLoopGroup: group)
        let task = Task { try await service.run() }
        _ = try await service.waitUntilListening()
        return (service, task, group)
    }

    @Test("on the shared loop a submission is answered inside runSubmittedInProcessIfOnLoop (committed after its record); off it, by the loop later")
    func inlineOnTheLoopOnly() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let (service, task, group) = try await Self.relayOnSharedLoop(keys)
        let loop = group.next()
        let key = keys.privateKey

        // On the loop: answered before the call returns.
        let onLoop = try await loop.submit { () -> (answeredInline: Bool, reply: RelayReply?) in
            let m = RelayWarningSinkTests.warning("ev-loop", update: 0)
            let warning = try InProcessSignedWarning(message: m, envelope: SignedEnvelope.sign(m, with: key))
            let reply = Mutex<RelayReply?>(nil)
            #expect(service.submitInProcess(warning) { result in reply.withLock { $0 = result.reply } })
            let before = reply.withLock { $0 }
            service.runSubmittedInProcessIfOnLoop()
            return (before == nil, reply.withLock { $0 })
        }.get()
        #expect(onLoop.answeredInline)
        guard case .ack(let ack)? = onLoop.reply else { Issue.record("no ack: \(String(describing: onLoop.reply))"); return }
        #expect(ack.id == "ev-loop" && !ack.duplicate)

        // Off the loop: the call does nothing; the task queued on the loop answers.
        let m = RelayWarningSinkTests.warning("ev-off", update: 0)
        let warning = try InProcessSignedWarning(message: m, envelope: SignedEnvelope.sign(m, with: key))
        let answered = AsyncStream<RelayReply>.makeStream()
        #expect(service.submitInProcess(warning) { result in answered.continuation.yield(result.reply) })
        service.runSubmittedInProcessIfOnLoop()
        var iterator = answered.stream.makeAsyncIterator()
        guard case .ack(let offAck)? = await iterator.next() else { Issue.record("no ack off the loop"); return }
        #expect(offAck.id == "ev-off")

        task.cancel()
        _ = try? await task.value
        try await group.shutdownGracefully()
        #expect(try RelayWarningSinkTests.keysInOutbox(keys) == ["ev-loop#0", "ev-off#0"])
    }

    @Test("the direct sink on the shared loop: a record's warnings are acknowledged before their commit, and recordProcessed() commits them")
    func recordProcessedCommits() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let (service, task, group) = try await Self.relayOnSharedLoop(keys)
        let sink = try DirectRelaySink(service: service)
        await sink.start()
        let key = keys.privateKey
        // start() readies the sink from a task of its own; until then warnings wait in its
        // backlog (and would not take the inline path below). One warning delivered and flushed
        // first: flush() returns once the backlog went out, so the sink is ready after it.
        let probe = RelayWarningSinkTests.warning("ev-probe", update: 0)
        let probeEnvelope = try SignedEnvelope.sign(probe, with: key)
        _ = try sink.deliverImmediately(probe, envelope: LazyEnvelope(probe) { _ in probeEnvelope }, trace: WarningTrace())
        try await sink.flush()
        // Readers of a second connection see committed rows only.
        let observer = try RelayOutbox(path: keys.directory + "/outbox.sqlite", checkpointInterval: nil)
        defer { try? observer.close() }
        let loop = group.next()
        let (beforeCommit, afterCommit, delivered) = try await loop.submit { () throws -> (Int, Int, Int) in
            for update in 0..<2 {
                let m = RelayWarningSinkTests.warning("ev-record", update: update)
                let envelope = try SignedEnvelope.sign(m, with: key)
                #expect(try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace()))
            }
            let before = try observer.pendingCount()
            sink.recordProcessed()
            return (before, try observer.pendingCount(), sink.delivered)
        }.get()
        #expect(delivered == 3, "the probe, then both acknowledged inside the record")
        #expect(beforeCommit == 1, "the record's two not committed before the record is processed")
        #expect(afterCommit == 3)
        task.cancel()
        _ = try? await task.value
        try await group.shutdownGracefully()
    }
}
