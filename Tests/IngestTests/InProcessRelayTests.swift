import Alerting
import Crypto
import Foundation
import Ingest
import Observability
import Relay
import SeismicCore
import TestSupport
import Testing

@Suite("In-process relay (ingest.yaml relay.configuration)")
struct InProcessRelayTests {
    @Test("relay.configuration is resolved against the ingest file and excludes host, port and tokenFile")
    func configurationKey() throws {
        let yaml = """
            configuration: lezhi.yaml
            seedlink: { port: 18000 }
            relay: { configuration: relay/relay.yaml }
            """
        let c = try IngestConfiguration.parse(yaml: yaml, file: "/etc/qw/ingest.yaml")
        #expect(c.relay?.configurationFile == "/etc/qw/relay/relay.yaml")
        #expect(throws: ConfigurationError.self) {
            try IngestConfiguration.parse(yaml: yaml.replacingOccurrences(of: "{ configuration: relay/relay.yaml }",
                                                                          with: "{ configuration: r.yaml, port: 7400 }"),
                                          file: "/etc/qw/ingest.yaml")
        }
    }

    @Test("InProcessRelay: the sink finds the service's port-0 input, and signed warnings reach its outbox in order")
    func deliversThroughTheInProcessService() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let relay = try InProcessRelay(configuration: keys.configuration(port: 0), transport: .socket)
        let sink = try #require(relay.socketSink)
        let task = Task { try await relay.service.run() }
        // The sink may start before the service listens: it waits for the port.
        await sink.start()
        for update in 0..<5 {
            let m = RelayWarningSinkTests.warning("ev-in", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            #expect(try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace()))
        }
        try await sink.flush()
        #expect(sink.delivered == 5)
        await sink.close()
        task.cancel()
        _ = try? await task.value
        #expect(try RelayWarningSinkTests.keysInOutbox(keys) == (0..<5).map { "ev-in#\($0)" })
    }

    @Test("direct path (default): warnings queued before the relay runs and after reach the outbox in order; a forged one is rejected; the latency log has commit stamps")
    func directPath() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let log = keys.directory + "/relay-latency.jsonl"
        let relay = try InProcessRelay(configuration: keys.configuration(port: 0), latencyLogPath: log)
        #expect(relay.transport == .direct)
        let sink = try #require(relay.directSink)
        // Before the service runs: the sink keeps a backlog.
        for update in 0..<3 {
            let m = RelayWarningSinkTests.warning("ev-d", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            #expect(try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope },
                                                trace: WarningTrace(recordArrivalNanos: 1_000 + Int64(update))))
        }
        #expect(sink.pending == 3)
        let task = Task { try await relay.service.run() }
        await sink.start()
        // A warning signed by another key, and a tampered one: the relay verifies direct input too.
        let other = Curve25519.Signing.PrivateKey()
        let forged = RelayWarningSinkTests.warning("ev-forged", update: 0)
        let forgedEnvelope = try SignedEnvelope.sign(forged, with: other)
        #expect(try sink.deliverImmediately(forged, envelope: LazyEnvelope(forged) { _ in forgedEnvelope },
                                            trace: WarningTrace()))
        // Tampered: the payload of another genuine warning under this one's signature.
        let genuine = RelayWarningSinkTests.warning("ev-tampered", update: 0)
        var object = try #require(try JSONSerialization.jsonObject(
            with: try SignedEnvelope.sign(genuine, with: keys.privateKey).encoded()) as? [String: Any])
        let otherObject = try #require(try JSONSerialization.jsonObject(
            with: try SignedEnvelope.sign(RelayWarningSinkTests.warning("ev-tamperex", update: 0), with: keys.privateKey).encoded())
            as? [String: Any])
        object["payload"] = otherObject["payload"]
        let tampered = try JSONSerialization.data(withJSONObject: object)
        sink.deliver(line: tampered, id: "ev-tamperex", updateNumber: 0)
        for update in 3..<6 {
            let m = RelayWarningSinkTests.warning("ev-d", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            #expect(try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace()))
        }
        // Unsigned: refused by the sink.
        let unsigned = RelayWarningSinkTests.warning("ev-u", update: 0)
        #expect(throws: RelayWarningSinkError.self) { try sink.deliverImmediately(unsigned, envelope: nil, trace: WarningTrace()) }
        try await sink.flush()
        #expect(sink.delivered == 6)
        #expect(sink.rejected == 2)
        // A re-submission (at-least-once) is acknowledged as a duplicate, not stored twice.
        let again = RelayWarningSinkTests.warning("ev-d", update: 5)
        let againEnvelope = try SignedEnvelope.sign(again, with: keys.privateKey)
        _ = try sink.deliverImmediately(again, envelope: LazyEnvelope(again) { _ in againEnvelope }, trace: WarningTrace())
        try await sink.flush()
        #expect(sink.delivered == 7)
        #expect(sink.duplicates == 1)
        sink.close()
        task.cancel()
        _ = try? await task.value
        #expect(try RelayWarningSinkTests.keysInOutbox(keys) == (0..<6).map { "ev-d#\($0)" })
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 7)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["id"] as? String == "ev-d")
        #expect((first["recordArrivalNanos"] as? NSNumber)?.int64Value == 1_000)
        let queued = try #require((first["queuedNanos"] as? NSNumber)?.int64Value)
        let started = try #require((first["intakeStartNanos"] as? NSNumber)?.int64Value)
        let committed = try #require((first["committedNanos"] as? NSNumber)?.int64Value)
        let ack = try #require((first["ackNanos"] as? NSNumber)?.int64Value)
        #expect(queued <= started && started <= committed && committed <= ack)
        // The broker (port 1) is unreachable here: no PUBLISH was written.
        #expect(first["publishedNanos"] is NSNull)
    }

    @Test("RelayService.submitInProcess: false when the service does not run")
    func submitWhenStopped() throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let service = RelayService(configuration: keys.configuration(port: 0))
        #expect(!service.submitInProcess(line: Data("{}".utf8)) { _ in })
    }

    @Test("direct path with Mosquitto: accepted warnings' PUBLISH is written on the commit thread and acknowledged by the broker",
          .enabled(if: BrokerEnvironment.isAvailable, "MQTT_TEST_* not set (scripts/test-env/mosquitto.sh start)"))
    func directPathReachesTheBroker() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        var configuration = keys.configuration(port: 0)
        let passwordFile = keys.directory + "/mqtt.password"
        try Data(((BrokerEnvironment.password ?? "") + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
        var mqtt = RelayConfiguration.MQTT(host: try #require(BrokerEnvironment.host), port: try #require(BrokerEnvironment.port),
                                           username: BrokerEnvironment.user, clientId: "qw-direct-\(UUID().uuidString.prefix(8))",
                                           topicPrefix: "qw-direct-\(UUID().uuidString.prefix(8).lowercased())")
        mqtt.passwordFile = passwordFile
        mqtt.reconnectInitialMilliseconds = 20
        mqtt.reconnectMaximumMilliseconds = 300
        configuration.mqtt = mqtt
        let relay = try InProcessRelay(configuration: configuration, latencyLogPath: keys.directory + "/latency.jsonl")
        let sink = try #require(relay.directSink)
        let task = Task { try await relay.service.run() }
        await sink.start()
        // Wait for the broker connection (health: connected, nothing queued).
        try await waitUntil(30, "relay healthy (broker connected)") { relay.service.isHealthy }
        #expect(relay.service.isHealthy)
        for update in 0..<4 {
            let m = RelayWarningSinkTests.warning("ev-b", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            _ = try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace())
            try await sink.flush()  // one at a time: each finds the immediate path open
        }
        #expect(sink.delivered == 4)
        // Every PUBACK arrives: nothing left unacknowledged in the relay.
        let service = relay.service
        @Sendable func depth() -> String? { service.health().details.first { $0.0 == "queueDepth" }?.1 }
        try await waitUntil(30, "every PUBACK (queue depth 0)") { depth() == "0" }
        #expect(depth() == "0")
        sink.close()
        let lines = try String(contentsOfFile: keys.directory + "/latency.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let committed = try #require((object["committedNanos"] as? NSNumber)?.int64Value)
            let published = try #require((object["publishedNanos"] as? NSNumber)?.int64Value)
            #expect(committed <= published)
        }
        task.cancel()
        _ = try? await task.value
        #expect(try RelayWarningSinkTests.keysInOutbox(keys) == (0..<4).map { "ev-b#\($0)" })
    }
}
