import MQTT
import NIOCore
import Synchronization
import Testing
import TestSupport

/// `MQTTClient.publishIfReady` (the relay's publish on the input thread) against the scripted
/// `FakeBroker`: written before the call returns, PUBACK completes it, refused without a
/// connection or a free window slot, and the `onMessage` hook.
@Suite("MQTT client: immediate publish on its event loop")
struct MQTTImmediatePublishTests {
    func configuration(port: Int, window: Int = 2) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: "immediate", username: "alice",
                                                    password: "s3cret")
        configuration.keepAlive = .zero
        configuration.reconnectInitialDelay = .milliseconds(10)
        configuration.reconnectMaximumDelay = .milliseconds(50)
        configuration.maxInFlight = window
        return configuration
    }

    /// Runs `publishIfReady` on the client's loop, as the relay does.
    func publishOnLoop(_ client: MQTTClient, _ text: String, acks: AckLog) async throws -> Bool {
        try await client.eventLoop.submit {
            try client.assumeIsolated { client in
                try client.publishIfReady(topic: "eew/immediate", payload: ByteBuffer(string: text)) { result in
                    acks.record(text, result)
                }
            }
        }.get()
    }

    @Test("written at once when connected; PUBACK calls back; refused when the window is full")
    func immediate() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port, window: 2))
        let acks = AckLog()
        #expect(try await publishOnLoop(client, "before-run", acks: acks) == false, "not running yet")
        let runner = Task { try await client.run() }
        let (connection, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }

        #expect(try await publishOnLoop(client, "m1", acks: acks))
        #expect(try await publishOnLoop(client, "m2", acks: acks))
        #expect(try await publishOnLoop(client, "m3", acks: acks) == false, "window of 2 is full")
        var ids: [UInt16] = []
        for expected in ["m1", "m2"] {
            let (_, packet) = try await broker.expectPacket(within: 30, "PUBLISH \(expected)")
            guard case .publish(let message) = packet else { throw UnexpectedEvent(event: .packet(connection: connection.id, packet), expected: "PUBLISH") }
            #expect(message.payload == ByteBuffer(string: expected))
            #expect(message.qos == .atLeastOnce)
            #expect(message.dup == false)
            ids.append(try #require(message.packetID))
        }
        #expect(ids[0] != ids[1])
        #expect(acks.snapshot().isEmpty, "no callback before PUBACK")
        #expect(await client.inFlightCount == 2)

        connection.send(.puback(packetID: ids[1]))
        try await withDeadline(30, "m2 acknowledged") { await acks.waitForCount(1) }
        #expect(acks.snapshot() == ["m2: ok"])
        #expect(try await publishOnLoop(client, "m4", acks: acks), "a slot is free again")
        connection.send(.puback(packetID: ids[0]))
        try await withDeadline(30, "m1 acknowledged") { await acks.waitForCount(2) }
        #expect(acks.snapshot() == ["m2: ok", "m1: ok"])

        // m4 is still unacknowledged when the client stops: its callback reports the failure.
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        try await withDeadline(30, "m4 failed") { await acks.waitForCount(3) }
        #expect(acks.snapshot().last == "m4: failed")
        await broker.stop()
    }

    @Test("an invalid topic throws before anything is queued")
    func invalidTopic() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let runner = Task { try await client.run() }
        _ = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        let outcome = try await client.eventLoop.submit { () -> String in
            do {
                _ = try client.assumeIsolated { client in
                    try client.publishIfReady(topic: "bad/+/wildcard", payload: ByteBuffer(string: "x")) { _ in }
                }
                return "accepted"
            } catch {
                return "threw"
            }
        }.get()
        #expect(outcome == "threw")
        #expect(await client.inFlightCount == 0)
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }
}

final class AckLog: Sendable {
    private struct State {
        var entries: [String] = []
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func record(_ text: String, _ result: Result<Void, MQTTError>) {
        let outcome: String
        switch result {
        case .success: outcome = "ok"
        case .failure: outcome = "failed"
        }
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.entries.append("\(text): \(outcome)")
            let n = s.entries.count
            let ready = s.waiters.filter { $0.count <= n }.map(\.continuation)
            s.waiters.removeAll { $0.count <= n }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    func snapshot() -> [String] { state.withLock { $0.entries } }

    /// Returns once `count` callbacks have been recorded (woken by ``record(_:_:)``, no polling;
    /// bound it with `withDeadline`).
    func waitForCount(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.entries.count >= count { return true }
                s.waiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
