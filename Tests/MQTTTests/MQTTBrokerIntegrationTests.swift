import Foundation
import MQTT
import NIOCore
import Synchronization
import Testing
import TestSupport

/// Tests against a real Mosquitto broker on loopback. They need the environment printed by
/// `scripts/test-env/mosquitto.sh start` (MQTT_TEST_HOST, _PORT, _USER, _PASSWORD) and are
/// skipped without it. Tests that restart a broker start a private one through the same script.
@Suite("MQTT against Mosquitto", .enabled(if: BrokerEnvironment.isAvailable, "MQTT_TEST_* not set (scripts/test-env/mosquitto.sh start)"))
struct MQTTBrokerIntegrationTests {
    static func configuration(
        host: String? = BrokerEnvironment.host,
        port: Int? = BrokerEnvironment.port,
        user: String? = BrokerEnvironment.user,
        password: String? = BrokerEnvironment.password,
        clientID: String
    ) -> MQTTClientConfiguration {
        var configuration = MQTTClientConfiguration(
            host: host ?? "127.0.0.1", port: port ?? 1883, clientID: clientID,
            username: user ?? "", password: password ?? ""
        )
        configuration.keepAlive = .seconds(5)
        configuration.pingTimeout = .seconds(2)
        configuration.reconnectInitialDelay = .milliseconds(20)
        configuration.reconnectMaximumDelay = .milliseconds(300)
        configuration.maxInFlight = 20
        return configuration
    }

    static func uniqueName(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Publishes `ids` as QoS 1 messages `"<id>"` on `topic`, all calls concurrently (the
    /// client's window does the pacing); returns when every PUBACK arrived.
    /// With `interval`, the calls start that far apart (a paced stream, like live warnings).
    static func publishAll(
        _ client: MQTTClient,
        topic: String,
        ids: Range<Int>,
        interval: Duration? = nil
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids {
                group.addTask {
                    try await client.publish(topic: topic, payload: ByteBuffer(string: "\(id)"))
                }
                // Pacing is the input here (a live stream), not a wait for anything.
                if let interval { try await Task.sleep(for: interval) }
            }
            try await group.waitForAll()
        }
    }

    @Test("the right password connects; the broker answers PINGREQ")
    func connectWithPassword() async throws {
        var configuration = Self.configuration(clientID: Self.uniqueName("qw-connect"))
        configuration.keepAlive = .milliseconds(300)
        configuration.pingTimeout = .milliseconds(1000)
        let client = MQTTClient(configuration: configuration)
        let runner = Task { try await client.run() }
        try await withDeadline(30, "CONNACK") { try await client.waitUntilConnected() }
        // Stay connected across several keep-alive periods: PINGRESPs must come back. A bounded
        // run (the elapsed time is what is tested: 4 keep-alive periods), not a poll.
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await client.isConnected)
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
        var events: [MQTTClientEvent] = []
        for await event in client.events { events.append(event) }
        #expect(events.first == .connected(sessionPresent: false))
        #expect(events.filter { if case .connected = $0 { true } else { false } }.count == 1, "reconnected: \(events)")
    }

    @Test("a wrong password is refused with a typed error, not a crash")
    func wrongPassword() async throws {
        let configuration = Self.configuration(password: "definitely-wrong", clientID: Self.uniqueName("qw-badpw"))
        let client = MQTTClient(configuration: configuration)
        let error = await thrownMQTTError(Task { try await client.run() })
        #expect(error?.code == .connectionRefused)
        let code = try #require(error?.connectReturnCode)
        // Mosquitto 2 answers 5 (not authorized); 4 (bad user name or password) is also correct.
        #expect(code == .notAuthorized || code == .badUsernameOrPassword, "\(code)")
        #expect(await client.isConnected == false)
    }

    @Test("1,000 QoS 1 messages reach mosquitto_sub", .enabled(if: BrokerEnvironment.tool("mosquitto_sub") != nil))
    func thousandToMosquittoSub() async throws {
        let (host, port, user, password) = try #require(
            BrokerEnvironment.host.flatMap { h in BrokerEnvironment.port.map { (h, $0, BrokerEnvironment.user ?? "", BrokerEnvironment.password ?? "") } }
        )
        let tool = try #require(BrokerEnvironment.tool("mosquitto_sub"))
        let topic = Self.uniqueName("qw-it") + "/warnings"
        let subscriberID = Self.uniqueName("qw-sub")
        let common = ["-h", host, "-p", "\(port)", "-u", user, "-P", password, "-i", subscriberID, "-c", "-q", "1", "-t", topic]
        // 1. Create a persistent session with the subscription (-E: exit after SUBACK), so that
        //    nothing published from now on can be missed, whenever the real subscriber attaches.
        _ = try await ChildProcess.run(tool, common + ["-E"], within: 30)
        // 2. The subscriber proper: exactly 1000 messages, then exit; -W bounds its life.
        let subscriber = try ChildProcess(tool, common + ["-C", "1000", "-v", "-W", "90"])

        let client = MQTTClient(configuration: Self.configuration(clientID: Self.uniqueName("qw-pub")))
        let runner = Task { try await client.run() }
        try await withDeadline(30, "CONNACK") { try await client.waitUntilConnected() }
        try await withDeadline(60, "1000 PUBACKs") { try await Self.publishAll(client, topic: topic, ids: 0..<1000) }
        let status = try await subscriber.waitForExit(within: 60)
        #expect(status == 0, "mosquitto_sub: \(subscriber.stderr)")

        var received: [Int: Int] = [:]
        for line in subscriber.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            #expect(parts.count == 2 && parts[0] == topic, "line \(line)")
            if parts.count == 2, let id = Int(parts[1]) { received[id, default: 0] += 1 }
        }
        #expect(Set(received.keys) == Set(0..<1000), "missing \(Set(0..<1000).subtracting(received.keys).sorted().prefix(10))")
        #expect(received.values.reduce(0, +) == 1000)
        await client.disconnect()
        try await value(of: runner, within: 30, "run() returns")
    }

    @Test("1,000 QoS 1 messages reach our own subscribing client")
    func thousandToOwnSubscriber() async throws {
        let topic = Self.uniqueName("qw-it") + "/picks"
        let subscriber = MQTTClient(configuration: Self.configuration(clientID: Self.uniqueName("qw-sub")))
        let publisher = MQTTClient(configuration: Self.configuration(clientID: Self.uniqueName("qw-pub")))
        let runners = [Task { try await subscriber.run() }, Task { try await publisher.run() }]
        try await withDeadline(30, "subscriber CONNACK") { try await subscriber.waitUntilConnected() }
        let codes = try await withDeadline(30, "SUBACK") {
            try await subscriber.subscribe([MQTTSubscription(topicFilter: topic.replacingOccurrences(of: "/picks", with: "/+"), qos: .atLeastOnce)])
        }
        #expect(codes == [.granted(.atLeastOnce)])
        let collector = Task { () -> [Int: Int] in
            var received: [Int: Int] = [:]
            for await message in subscriber.messages {
                if message.topic == topic, let id = Int(String(buffer: message.payload)) { received[id, default: 0] += 1 }
                if received.count == 1000 { break }
            }
            return received
        }
        try await withDeadline(30, "publisher CONNACK") { try await publisher.waitUntilConnected() }
        try await withDeadline(60, "1000 PUBACKs") { try await Self.publishAll(publisher, topic: topic, ids: 0..<1000) }
        let received = try await value(of: collector, within: 60, "1000 deliveries")
        #expect(Set(received.keys) == Set(0..<1000))
        await publisher.disconnect()
        await subscriber.disconnect()
        for runner in runners { try await value(of: runner, within: 30, "run() returns") }
    }

    /// The broker stops (SIGTERM) while ~1,000 messages are in flight and comes back on the same
    /// port after 300 ms. Both clients reconnect; the publisher re-sends its unacknowledged
    /// messages with DUP = 1; the subscriber (persistent session, saved by the broker on stop)
    /// must end up with every id at least once, duplicates carrying the same id only.
    @Test("broker restart mid-stream: every message arrives at least once", .enabled(if: BrokerEnvironment.tool("mosquitto") != nil))
    func brokerRestartMidStream() async throws {
        let broker = try await PrivateBroker.start(persistence: true)
        do {
            let topic = Self.uniqueName("qw-it") + "/restart"
            var subscriberConfiguration = Self.configuration(
                host: broker.host, port: broker.port, user: broker.user, password: broker.password,
                clientID: Self.uniqueName("qw-sub")
            )
            subscriberConfiguration.cleanSession = false
            let subscriber = MQTTClient(configuration: subscriberConfiguration)
            let publisher = MQTTClient(
                configuration: Self.configuration(
                    host: broker.host, port: broker.port, user: broker.user, password: broker.password,
                    clientID: Self.uniqueName("qw-pub")
                )
            )
            let runners = [Task { try await subscriber.run() }, Task { try await publisher.run() }]
            try await withDeadline(30, "subscriber CONNACK") { try await subscriber.waitUntilConnected() }
            _ = try await withDeadline(30, "SUBACK") {
                try await subscriber.subscribe([MQTTSubscription(topicFilter: topic, qos: .atLeastOnce)])
            }
            let counts = Mutex<[Int: Int]>([:])
            let delivered = ChangeSignal()  // notified after every delivery
            let collector = Task {
                for await message in subscriber.messages where message.topic == topic {
                    if let id = Int(String(buffer: message.payload)) {
                        let distinct = counts.withLock { counts in
                            counts[id, default: 0] += 1
                            return counts.count
                        }
                        delivered.notify()
                        if distinct == 1000 { break }
                    } else {
                        Issue.record("payload that is not an id: \(String(buffer: message.payload))")
                    }
                }
            }
            try await withDeadline(30, "publisher CONNACK") { try await publisher.waitUntilConnected() }
            // Paced at ≈ 3 ms per message, so the stream lasts longer than Mosquitto takes
            // to shut down (≈ 1.5 s after SIGTERM).
            let publishing = Task {
                try await Self.publishAll(publisher, topic: topic, ids: 0..<1000, interval: .milliseconds(3))
            }

            // Let a third of the stream through, then pull the broker away under it.
            try await delivered.wait(30, "300 deliveries before the restart") { counts.withLock { $0.count } >= 300 }
            try await broker.stopKeepingState()
            let deliveredBeforeRestart = counts.withLock { $0.count }
            // Wait for the client to notice the broker is gone (bounded): its `.disconnected`
            // event (the buffered `.connected` of the start is skipped).
            try await withDeadline(10, "the publisher notices the broker is gone") {
                for await event in publisher.events {
                    if case .disconnected = event, await publisher.isConnected == false { return }
                }
            }
            #expect(await publisher.isConnected == false)
            // The stream goes on during the outage, so there are messages to re-send (woken when
            // one enters the client's in-flight list).
            try await withDeadline(30, "messages queued during the outage") { try await publisher.waitUntilInFlight(atLeast: 1) }
            try await broker.restart()

            try await value(of: publishing, within: 40, "all PUBACKs after the restart")
            try await value(of: collector, within: 60, "all 1000 ids delivered")
            let final = counts.withLock { $0 }
            #expect(Set(final.keys) == Set(0..<1000), "missing \(Set(0..<1000).subtracting(final.keys).sorted().prefix(10))")
            #expect(deliveredBeforeRestart < 1000, "the restart happened after the stream had ended")
            await publisher.disconnect()
            await subscriber.disconnect()
            for runner in runners { try await value(of: runner, within: 30, "run() returns") }
        } catch {
            await broker.remove()
            throw error
        }
        await broker.remove()
    }

    /// The broker is killed (SIGKILL, nothing saved, sessions lost) mid-stream and restarted on
    /// the same port. Messages the dead broker had acknowledged may be lost with it; what the
    /// client guarantees is that every `publish` still completes (un-acked messages are re-sent
    /// to the new broker) and that traffic resumes: once the subscriber has re-subscribed by
    /// itself, every later message arrives.
    @Test("broker killed mid-stream: the client reconnects, re-sends and traffic resumes", .enabled(if: BrokerEnvironment.tool("mosquitto") != nil))
    func brokerKilledMidStream() async throws {
        let broker = try await PrivateBroker.start(persistence: false)
        do {
            let topic = Self.uniqueName("qw-it") + "/crash"
            func configuration(_ prefix: String) -> MQTTClientConfiguration {
                Self.configuration(
                    host: broker.host, port: broker.port, user: broker.user, password: broker.password,
                    clientID: Self.uniqueName(prefix)
                )
            }
            let subscriber = MQTTClient(configuration: configuration("qw-sub"))
            let publisher = MQTTClient(configuration: configuration("qw-pub"))
            let runners = [Task { try await subscriber.run() }, Task { try await publisher.run() }]
            try await withDeadline(30, "subscriber CONNACK") { try await subscriber.waitUntilConnected() }
            _ = try await withDeadline(30, "SUBACK") {
                try await subscriber.subscribe([MQTTSubscription(topicFilter: topic, qos: .atLeastOnce)])
            }
            let counts = Mutex<(ids: Set<Int>, probes: Int)>(([], 0))
            let delivered = ChangeSignal()  // notified after every delivery
            let collector = Task {
                for await message in subscriber.messages where message.topic == topic {
                    let text = String(buffer: message.payload)
                    if text == "probe" {
                        counts.withLock { $0.probes += 1 }
                        delivered.notify()
                    } else if let id = Int(text), (0..<1000).contains(id) {
                        let done = counts.withLock { counts in
                            counts.ids.insert(id)
                            return counts.ids.isSuperset(of: 400..<1000)
                        }
                        delivered.notify()
                        if done { break }
                    } else {
                        Issue.record("unexpected payload \(text)")
                    }
                }
            }
            try await withDeadline(30, "publisher CONNACK") { try await publisher.waitUntilConnected() }

            // Phase 1: a paced stream; the broker dies under it.
            let phase1 = Task { try await Self.publishAll(publisher, topic: topic, ids: 0..<400, interval: .milliseconds(3)) }
            try await delivered.wait(30, "100 deliveries before the crash") { counts.withLock { $0.ids.count } >= 100 }
            try await broker.kill()
            try await withDeadline(30, "messages queued during the outage") { try await publisher.waitUntilInFlight(atLeast: 1) }
            try await broker.restart()
            try await value(of: phase1, within: 60, "phase 1 publishes complete after the restart")

            // The subscriber renews its subscription by itself (no event tells when the broker
            // has it); probe until it is in place: after each probe's PUBACK, wait up to 50 ms
            // for a delivery (woken by it), then probe again.
            try await withDeadline(30, "subscription renewed") {
                while counts.withLock({ $0.probes }) == 0 {
                    try await publisher.publish(topic: topic, payload: ByteBuffer(string: "probe"))
                    do {
                        try await delivered.wait(0.05, "probe delivered") { counts.withLock { $0.probes } > 0 }
                    } catch is TestTimeout {
                        continue  // not subscribed yet: probe again
                    }
                }
            }
            // Phase 2: everything from now on must arrive.
            try await withDeadline(60, "phase 2 publishes") { try await Self.publishAll(publisher, topic: topic, ids: 400..<1000) }
            try await value(of: collector, within: 60, "phase 2 deliveries")
            let received = counts.withLock { $0.ids }
            #expect(received.isSuperset(of: 400..<1000))
            await publisher.disconnect()
            await subscriber.disconnect()
            for runner in runners { try await value(of: runner, within: 30, "run() returns") }
        } catch {
            await broker.remove()
            throw error
        }
        await broker.remove()
    }
}
