import Alerting
import Foundation
import MQTT
import NIOCore
import Relay
import Synchronization
import Testing
import TestSupport

/// Crash safety of the `quakewarn relay` process: it is SIGKILLed at random moments while a
/// publisher streams warnings, restarted each time, and its broker is restarted mid-stream.
/// At the end every acknowledged (id, update) must have reached the subscriber at least once,
/// and every message received must be one that was sent (duplicates only of sent keys).
///
/// Always-on size: 2,000 warnings, 20 kills. Full run (issue 7: 10,000 warnings):
/// `QW_RELAY_CRASH_COUNT=10000 QW_RELAY_CRASH_KILLS=25 swift test --filter RelayCrashTests`
/// (with the MQTT_TEST_* environment of scripts/test-env/mosquitto.sh).
@Suite("Relay crash safety", .enabled(if: BrokerEnvironment.isAvailable && BrokerEnvironment.tool("mosquitto") != nil,
                                      "needs MQTT_TEST_* and mosquitto"))
struct RelayCrashTests {
    static var count: Int { ProcessInfo.processInfo.environment["QW_RELAY_CRASH_COUNT"].flatMap(Int.init) ?? 2000 }
    static var kills: Int { ProcessInfo.processInfo.environment["QW_RELAY_CRASH_KILLS"].flatMap(Int.init) ?? 20 }

    /// Starts `quakewarn relay` and returns it with its input port (parsed from its stderr).
    static func startRelay(executable: String, config: String) async throws -> (ChildProcess, Int) {
        let child = try ChildProcess(executable, ["relay", "--config", config, "--log-level", "warning"], watchStderr: true)
        // Woken by each chunk the relay writes to stderr; fails at once if the relay exits first.
        let port = try await child.waitForStderr(30, "relay start",
                                                 for: OutputCollector.number(after: "relay: input listening on 127.0.0.1:"))
        return (child, port)
    }

    @Test("kill -9 at random moments (and a broker restart): zero warnings lost, duplicates only of sent keys")
    func killNine() async throws {
        let executable = try quakewarnExecutable()
        let broker = try await PrivateBroker.start(persistence: true)
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        do {
            try await run(executable: executable, broker: broker, fixture: fixture)
        } catch {
            await broker.remove()
            throw error
        }
        await broker.remove()
    }

    func run(executable: String, broker: PrivateBroker, fixture: RelayFixture) async throws {
        let total = Self.count
        let killCount = Self.kills
        let prefix = "qw-crash-\(UUID().uuidString.prefix(8).lowercased())"
        let passwordFile = fixture.directory + "/mqtt.password"
        try Data((broker.password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
        let config = fixture.directory + "/relay.yaml"
        try Data("""
            input: {host: 127.0.0.1, port: 0, tokenFile: \(fixture.tokenFile)}
            verification: {publicKeyFiles: [\(fixture.publicKeyFile)]}
            outbox: {path: \(fixture.outboxPath)}
            mqtt:
              host: \(broker.host)
              port: \(broker.port)
              username: \(broker.user)
              passwordFile: \(passwordFile)
              clientId: \(prefix)-relay
              topicPrefix: \(prefix)
              keepAliveSeconds: 5
              reconnect: {initialMilliseconds: 20, maximumMilliseconds: 200, multiplier: 2}

            """.utf8).write(to: URL(fileURLWithPath: config))

        // Subscriber with a persistent session, so a broker restart loses nothing it queued.
        var subscriberConfiguration = MQTTClientConfiguration(host: broker.host, port: broker.port, clientID: prefix + "-sub",
                                                              username: broker.user, password: broker.password)
        subscriberConfiguration.cleanSession = false
        subscriberConfiguration.reconnectInitialDelay = .milliseconds(20)
        subscriberConfiguration.reconnectMaximumDelay = .milliseconds(200)
        let subscriber = MQTTClient(configuration: subscriberConfiguration)
        let subscriberRun = Task { try? await subscriber.run() }
        let counts = Mutex<[String: Int]>([:])
        let deliveries = ChangeSignal()  // notified after every delivery
        let collector = Task {
            for await message in subscriber.messages {
                guard let envelope = try? JSONDecoder().decode(SignedEnvelope.self, from: Data(message.payload.readableBytesView)),
                      let payload = Data(base64Encoded: envelope.payload),
                      let warning = try? WarningMessage.decode(json: payload) else {
                    Issue.record("undecodable message on \(message.topic)")
                    continue
                }
                counts.withLock { $0["\(warning.id)/\(warning.updateNumber)", default: 0] += 1 }
                deliveries.notify()
            }
        }
        try await withDeadline(30, "subscriber CONNACK") { try await subscriber.waitUntilConnected() }
        _ = try await subscriber.subscribe([MQTTSubscription(topicFilter: prefix + "/warnings/#", qos: .atLeastOnce)])

        var envelopes: [SignedEnvelope] = []
        var keys: [String] = []
        for i in 0..<total {
            let message = sampleWarning(id: "crash-\(i / 4)", update: i % 4)
            envelopes.append(try fixture.sign(message))
            keys.append("\(message.id)/\(message.updateNumber)")
        }
        var generator = SeededGenerator(seed: 0x5EED_0007)
        // One kill at a random index in each of killCount equal strata of the first 95 % of the
        // stream (so kills never pile up on one instance and the last one lands before the end).
        var killPoints = Set<Int>()
        let stratum = max(1, total * 95 / 100 / killCount)
        for k in 0..<killCount { killPoints.insert(k * stratum + Int.random(in: (stratum / 4)..<max(stratum / 4 + 1, stratum * 3 / 4), using: &generator)) }
        let brokerRestartAt = total / 2

        var (relay, port) = try await Self.startRelay(executable: executable, config: config)
        var client = try await RelayInputClient.connect(host: "127.0.0.1", port: port, token: fixture.token)
        var acked = Set<String>()
        var restarts = 0
        var brokerRestart: Task<Void, any Error>?
        let killed = Mutex<Set<Int32>>([])  // pids this test has SIGKILLed (or is about to)
        var index = 0
        while index < total {
            if killPoints.remove(index) != nil {
                // A random moment: 0–2 ms from now, while the stream goes on.
                let victim = relay
                let delay = Int.random(in: 0...2000, using: &generator)
                killed.withLock { _ = $0.insert(victim.process.processIdentifier) }
                Task.detached {
                    // The random kill moment is the test input (a delay, not a poll).
                    try? await Task.sleep(for: .microseconds(delay))
                    if victim.process.isRunning { victim.killHard() }
                }
            }
            if index == brokerRestartAt && brokerRestart == nil {
                brokerRestart = Task {
                    try await broker.stopKeepingState()
                    // The outage lasts 300 ms while the stream goes on: its length is the test
                    // input (not a poll; nothing is waited for here).
                    try await Task.sleep(for: .milliseconds(300))
                    try await broker.restart()
                }
            }
            do {
                let connection = client
                let envelope = envelopes[index]
                let ack = try await withDeadline(30, "ack of \(keys[index])") { try await connection.send(envelope) }
                #expect("\(ack.id)/\(ack.update)" == keys[index])
                acked.insert(keys[index])
                index += 1
            } catch let error where !(error is TestTimeout) {
                // The relay died under us: restart it and re-send the unacknowledged warning.
                // The kernel closes the socket before Foundation notices the exit: a scheduled
                // kill is expected; anything else is a relay failure.
                if !killed.withLock({ $0.contains(relay.process.processIdentifier) }) {
                    Issue.record("input failed while the relay runs: \(error)")
                    relay.killHard()
                }
                _ = try await relay.waitForExit(within: 10)
                restarts += 1
                (relay, port) = try await Self.startRelay(executable: executable, config: config)
                client = try await RelayInputClient.connect(host: "127.0.0.1", port: port, token: fixture.token)
            }
        }
        try await brokerRestart?.value
        #expect(restarts >= killCount, "only \(restarts) restarts")
        #expect(acked.count == total)

        let ackedKeys = acked
        try await deliveries.wait(120, "every acknowledged warning delivered") {
            counts.withLock { received in ackedKeys.allSatisfy { received[$0] != nil } }
        }
        let received = counts.withLock { $0 }
        let missing = acked.filter { received[$0] == nil }
        #expect(missing.isEmpty, "lost: \(missing.sorted().prefix(10))")
        let sent = Set(keys)
        let strangers = received.keys.filter { !sent.contains($0) }
        #expect(strangers.isEmpty, "received keys never sent: \(strangers.prefix(10))")
        let duplicates = received.values.reduce(0, +) - received.count
        print("relay crash test: \(total) warnings, \(restarts) kill -9 restarts, 1 broker restart, "
              + "\(received.count) distinct delivered, \(duplicates) duplicates, 0 lost")

        // Graceful stop of the last instance: SIGTERM → exit 0.
        await client.close()
        relay.terminate()
        #expect(try await relay.waitForExit(within: 30) == 0, "\(relay.stderr.suffix(2000))")
        await subscriber.disconnect()
        _ = await subscriberRun.value
        collector.cancel()
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): reproducible kill moments.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
