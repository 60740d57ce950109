import Foundation
@testable import Relay
import Synchronization
import Testing

/// The forwarder's queue (`BatchQueue`): a consumer cancelled while it starts to wait must
/// return. A cancellation that lands between the consumer's check and the registration of its
/// continuation was lost before session 8, and the relay's publisher then never ended: a
/// `RelayService` stopped by cancelling its task hung (CI was killed after 90 minutes in
/// RelayWarningSinkTests).
@Suite("BatchQueue")
struct BatchQueueTests {
    @Test("push, then next() takes everything queued at once; finish() drains, then nil")
    func batchesAndFinish() async {
        let queue = BatchQueue<Int>()
        queue.push(1)
        queue.push(2)
        #expect(await queue.next() == [1, 2])
        queue.push(3)
        queue.finish()
        queue.push(4)  // ignored after finish()
        #expect(await queue.next() == [3])
        #expect(await queue.next() == nil)
        #expect(queue.isFinished)
    }

    /// Waits (up to 5 s) until a consumer is suspended in `next()`.
    static func untilWaiting(_ queue: BatchQueue<Int>) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(5))
        while !queue.hasWaitingConsumer && ContinuousClock.now < deadline { await Task.yield() }
        return queue.hasWaitingConsumer
    }

    @Test("a waiting consumer is woken by push and by finish")
    func wakesWaitingConsumer() async {
        let queue = BatchQueue<Int>()
        let consumer = Task.detached { await queue.next() }
        #expect(await Self.untilWaiting(queue))
        queue.push(7)
        #expect(await consumer.value == [7])
        let second = Task.detached { await queue.next() }
        #expect(await Self.untilWaiting(queue))
        queue.finish()
        #expect(await second.value == nil)
        #expect(!queue.hasWaitingConsumer)
    }

    @Test("a consumer cancelled while it waits returns nil; a later consumer still gets what is pushed")
    func cancelWhileWaiting() async {
        let queue = BatchQueue<Int>()
        let consumer = Task.detached { await queue.next() }
        #expect(await Self.untilWaiting(queue))
        consumer.cancel()
        #expect(await consumer.value == nil)
        #expect(!queue.hasWaitingConsumer)
        queue.push(9)
        #expect(await queue.next() == [9])
    }

    @Test("a consumer cancelled at any moment of starting to wait returns nil, and the queue stays usable")
    func cancellationIsNeverLost() async {
        let rounds = 20_000
        var lostAt: Int?  // the first round whose cancelled consumer kept waiting
        for round in 0..<rounds where lostAt == nil {
            let queue = BatchQueue<Int>()
            let returned = Atomic<Bool>(false)
            let consumer = Task.detached {
                let batch = await queue.next()
                returned.store(true, ordering: .releasing)
                return batch
            }
            // Cancel at a varying point of the consumer's way into its wait.
            let spin = round % 64
            var x = 0
            for i in 0..<(spin * 8) { x &+= i }
            consumer.cancel()
            let deadline = ContinuousClock.now.advanced(by: .seconds(2))
            while !returned.load(ordering: .acquiring) && ContinuousClock.now < deadline {
                await Task.yield()
            }
            if !returned.load(ordering: .acquiring) {
                lostAt = round
                queue.finish()  // release it, so the test ends
            }
            _ = await consumer.value
            _ = x
        }
        #expect(lostAt == nil, "a cancelled consumer kept waiting (lost wake-up) in round \(lostAt ?? -1) of \(rounds)")
        // Cancelled consumers leave the queue usable: a new consumer gets what was pushed.
        let queue = BatchQueue<Int>()
        let cancelled = Task { await queue.next() }
        cancelled.cancel()
        _ = await cancelled.value
        queue.push(5)
        #expect(await queue.next() == [5])
    }
}
