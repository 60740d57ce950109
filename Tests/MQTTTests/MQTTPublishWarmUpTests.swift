import MQTT
import NIOCore
import Testing
import TestSupport

/// `MQTTClient.warmUpPublishPath` (the relay's start-up warm-up of its immediate publish): it
/// encodes the PUBLISH it would send, sends nothing, and leaves the client as it was, so the
/// first real publish of the same client is the one a never-warmed client would send.
@Suite("MQTT client: publish path warm-up")
struct MQTTPublishWarmUpTests {
    func configuration(port: Int) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(host: "127.0.0.1", port: port, clientID: "warm-up", username: "alice",
                                                    password: "s3cret")
        configuration.keepAlive = .zero
        configuration.maxInFlight = 4
        return configuration
    }

    func warmUpOnLoop(_ client: MQTTClient, topic: String, payload: ByteBuffer) async throws -> Int? {
        try await client.eventLoop.submit {
            try client.assumeIsolated { client in try client.warmUpPublishPath(topic: topic, payload: payload) }
        }.get()
    }

    @Test("returns the PUBLISH size (MQTT 3.1.1 §3.3 arithmetic), sends nothing, changes nothing")
    func warmUpThenRealPublish() async throws {
        let broker = try await FakeBroker.start()
        let client = MQTTClient(configuration: configuration(port: broker.port))
        let topic = "quakewarn/warnings/test/none"
        let payload = ByteBuffer(bytes: Array(repeating: UInt8(ascii: "x"), count: 4096))
        // Fixed header: 1 byte + Remaining Length varint (4,126 < 16,384: 2 bytes); variable
        // header: 2 + topic bytes + 2 (packet identifier); then the payload.
        let remaining = 2 + topic.utf8.count + 2 + 4096
        #expect(try await warmUpOnLoop(client, topic: topic, payload: payload) == 1 + 2 + remaining)
        #expect(try await warmUpOnLoop(client, topic: topic, payload: payload) == 1 + 2 + remaining, "repeatable")
        #expect(await client.inFlightCount == 0)
        await #expect(throws: MQTTError.self) { _ = try await warmUpOnLoop(client, topic: "bad/#/topic", payload: payload) }

        // The same client then runs normally: its first PUBLISH is the real one, identifier 1.
        let runner = Task { try await client.run() }
        let (connection, _) = try await broker.acceptClient()
        try await withDeadline(30, "connected") { try await client.waitUntilConnected() }
        #expect(try await warmUpOnLoop(client, topic: topic, payload: payload) == nil, "only on a client that has not run")
        let publisher = Task { try await client.publish(topic: "eew/real", payload: ByteBuffer(string: "real")) }
        let (_, packet) = try await broker.expectPacket(within: 30, "the real PUBLISH")
        guard case .publish(let message) = packet else {
            throw UnexpectedEvent(event: .packet(connection: connection.id, packet), expected: "PUBLISH")
        }
        #expect(message.topic == "eew/real" && message.payload == ByteBuffer(string: "real"))
        #expect(message.packetID == 1 && message.dup == false)
        connection.send(.puback(packetID: 1))
        try await value(of: publisher, within: 30, "publish returns after PUBACK")
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        await broker.stop()
    }
}
