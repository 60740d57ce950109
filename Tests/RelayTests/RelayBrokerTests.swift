import Alerting
import Foundation
import MQTT
import NIOCore
import Relay
import Synchronization
import Testing
import TestSupport

/// End to end against the real Mosquitto of `scripts/test-env/mosquitto.sh` (skipped without it).
@Suite("Relay → Mosquitto", .enabled(if: BrokerEnvironment.isAvailable, "MQTT_TEST_* not set (scripts/test-env/mosquitto.sh start)"))
struct RelayBrokerTests {
    static func uniquePrefix() -> String { "qw-relay-it-\(UUID().uuidString.prefix(8).lowercased())" }

    static func relayConfiguration(_ fixture: RelayFixture, prefix: String, password: String? = BrokerEnvironment.password)
        throws -> RelayConfiguration {
        try fixture.configuration(mqttHost: BrokerEnvironment.host ?? "127.0.0.1", mqttPort: BrokerEnvironment.port ?? 1883,
                                  user: BrokerEnvironment.user, password: password, prefix: prefix)
    }

    /// A subscribing client on `filter`; received messages are collected as (topic, payload).
    final class Received: Sendable {
        let items = Mutex<[(topic: String, payload: Data)]>([])
        /// Notified after every message.
        let changes = ChangeSignal()
    }

    final class Subscriber: Sendable {
        let client: MQTTClient
        let received = Received()
        private let tasks: [Task<Void, Never>]

        init(filter: String, password: String? = BrokerEnvironment.password) async throws {
            var configuration = MQTTClientConfiguration(
                host: BrokerEnvironment.host ?? "127.0.0.1", port: BrokerEnvironment.port ?? 1883,
                clientID: "qw-relay-sub-\(UUID().uuidString.prefix(8))", username: BrokerEnvironment.user ?? "",
                password: password ?? "")
            configuration.reconnectInitialDelay = .milliseconds(20)
            configuration.reconnectMaximumDelay = .milliseconds(300)
            let client = MQTTClient(configuration: configuration)
            self.client = client
            let received = self.received
            tasks = [
                Task { try? await client.run() },
                Task {
                    for await message in client.messages {
                        received.items.withLock { $0.append((message.topic, Data(message.payload.readableBytesView))) }
                        received.changes.notify()
                    }
                },
            ]
            try await withDeadline(30, "subscriber CONNACK") { try await client.waitUntilConnected() }
            let codes = try await withDeadline(30, "SUBACK") {
                try await client.subscribe([MQTTSubscription(topicFilter: filter, qos: .atLeastOnce)])
            }
            #expect(codes == [.granted(.atLeastOnce)])
        }

        func stop() async {
            await client.disconnect()
            for task in tasks { _ = await task.value }
        }

        var count: Int { received.items.withLock { $0.count } }

        /// Waits until at least `count` messages arrived, woken by each one (no polling).
        func waitForCount(_ count: Int, within seconds: Double, _ what: String) async throws {
            try await received.changes.wait(seconds, what) { self.count >= count }
        }
    }

    @Test("every accepted warning reaches a subscriber on its status/level topic; forged ones never do")
    func endToEnd() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let prefix = Self.uniquePrefix()
        let subscriber = try await Subscriber(filter: prefix + "/#")
        let service = RelayService(configuration: try Self.relayConfiguration(fixture, prefix: prefix))
        let task = Task { try await service.run() }
        let port = try await withDeadline(30, "listening") { try await service.waitUntilListening().input }
        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: port, token: fixture.token)

        let statuses: [WarningStatus] = [.exercise, .test, .actual]
        let levels: [WarningLevel] = [.none, .blue, .yellow, .orange, .red]
        var expected: [String: (topic: String, payload: Data)] = [:]
        for i in 0..<300 {
            let message = sampleWarning(id: "ev-\(i / 3)", update: i % 3, status: statuses[i % 3], level: levels[i % 5])
            let envelope = try fixture.sign(message)
            _ = try await client.send(envelope)
            expected["\(message.id)/\(message.updateNumber)"] = (
                "\(prefix)/warnings/\(message.status.rawValue.lowercased())/\(levels[i % 5].rawValue)", try envelope.encoded())
            if i == 150 {
                var forged = Array(try fixture.sign(sampleWarning(id: "ev-forged")).encoded())
                forged[90] ^= 0x02
                guard case .reject = try await client.sendLine(Data(forged)) else { Issue.record("forged accepted"); return }
            }
        }
        try await subscriber.waitForCount(300, within: 60, "300 deliveries")
        let received = subscriber.received.items.withLock { $0 }
        var seen = Set<String>()
        for (topic, payload) in received {
            let envelope = try JSONDecoder().decode(SignedEnvelope.self, from: payload)
            let message = try WarningMessage.decode(json: try #require(Data(base64Encoded: envelope.payload)))
            let key = "\(message.id)/\(message.updateNumber)"
            #expect(message.id != "ev-forged")
            let want = try #require(expected[key], "unexpected \(key)")
            #expect(topic == want.topic && payload == want.payload, "\(key) on \(topic)")
            seen.insert(key)
        }
        #expect(seen.count == 300)
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        try await waitUntil(30, "all marked delivered") { (try? outbox.pendingCount()) == 0 }
        #expect(service.isHealthy)
        await client.close()
        task.cancel()
        _ = try? await task.value
        await subscriber.stop()
    }

    @Test("mosquitto_sub receives every warning", .enabled(if: BrokerEnvironment.tool("mosquitto_sub") != nil))
    func mosquittoSub() async throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let prefix = Self.uniquePrefix()
        let tool = try #require(BrokerEnvironment.tool("mosquitto_sub"))
        let common = ["-h", BrokerEnvironment.host ?? "", "-p", "\(BrokerEnvironment.port ?? 0)", "-u", BrokerEnvironment.user ?? "",
                      "-P", BrokerEnvironment.password ?? "", "-i", "qw-relay-msub-\(UUID().uuidString.prefix(8))", "-c", "-q", "1",
                      "-t", prefix + "/warnings/#"]
        _ = try await ChildProcess.run(tool, common + ["-E"], within: 30)  // persistent session: nothing is missed
        let subscriber = try ChildProcess(tool, common + ["-C", "100", "-v", "-W", "60"])
        let service = RelayService(configuration: try Self.relayConfiguration(fixture, prefix: prefix))
        let task = Task { try await service.run() }
        let port = try await withDeadline(30, "listening") { try await service.waitUntilListening().input }
        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: port, token: fixture.token)
        for i in 0..<100 { _ = try await client.send(try fixture.sign(sampleWarning(id: "ms-\(i)"))) }
        #expect(try await subscriber.waitForExit(within: 60) == 0, "\(subscriber.stderr)")
        var ids = Set<String>()
        for line in subscriber.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            #expect(parts.first.map(String.init) == "\(prefix)/warnings/exercise/orange")
            let envelope = try JSONDecoder().decode(SignedEnvelope.self, from: Data((parts.last ?? "").utf8))
            ids.insert(try WarningMessage.decode(json: try #require(Data(base64Encoded: envelope.payload))).id)
        }
        #expect(ids == Set((0..<100).map { "ms-\($0)" }))
        await client.close()
        task.cancel()
        _ = try? await task.value
    }

    @Test("a wrong broker password is refused; warnings wait in the outbox and go out after a restart with the right one")
    func wrongPasswordThenRestart() async throws {
        // A subscriber with a wrong password is refused by the broker.
        var bad = MQTTClientConfiguration(host: BrokerEnvironment.host ?? "", port: BrokerEnvironment.port ?? 0,
                                          clientID: "qw-relay-badsub", username: BrokerEnvironment.user ?? "", password: "wrong")
        bad.reconnectInitialDelay = .milliseconds(10)
        let badClient = MQTTClient(configuration: bad)
        await #expect {
            try await withDeadline(30, "refusal") { try await badClient.run() }
        } throws: { error in
            (error as? MQTTError)?.code == .connectionRefused
        }

        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let prefix = Self.uniquePrefix()
        let subscriber = try await Subscriber(filter: prefix + "/#")
        // 1. The relay's own broker password is wrong: input still works, nothing is delivered.
        let refused = RelayService(configuration: try Self.relayConfiguration(fixture, prefix: prefix, password: "wrong"))
        let refusedTask = Task { try await refused.run() }
        let port1 = try await withDeadline(30, "listening") { try await refused.waitUntilListening().input }
        let client1 = try await RelayInputClient.connect(host: "127.0.0.1", port: port1, token: fixture.token)
        for i in 0..<20 { _ = try await client1.send(try fixture.sign(sampleWarning(id: "wp-\(i)"))) }
        await client1.close()
        #expect(!refused.isHealthy)
        refusedTask.cancel()
        _ = try? await refusedTask.value
        #expect(subscriber.count == 0)
        #expect(try RelayOutbox(path: fixture.outboxPath).pendingCount() == 20)
        // 2. Restart with the right password: the pending entries are sent on startup.
        let service = RelayService(configuration: try Self.relayConfiguration(fixture, prefix: prefix))
        let task = Task { try await service.run() }
        try await subscriber.waitForCount(20, within: 60, "20 deliveries after restart")
        let outbox = try RelayOutbox(path: fixture.outboxPath)
        try await waitUntil(30, "all marked delivered") { (try? outbox.pendingCount()) == 0 }
        task.cancel()
        _ = try? await task.value
        await subscriber.stop()
    }
}
