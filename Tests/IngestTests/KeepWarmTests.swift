// Keep-warm (ingest.yaml keepWarmMilliseconds): the warning path re-run without effect between
// records. It must leave nothing behind: no outbox entry or sequence number, nothing at the broker,
// and the next real warning must go out as without it.
import Alerting
import Foundation
import Ingest
import MQTT
import NIOCore
import NIOPosix
import Relay
import SeismicCore
import Synchronization
import TestSupport
import Testing

@Suite("Keep-warm of the warning path")
struct KeepWarmTests {
    @Test("ingest.yaml keepWarmMilliseconds: absent is 10 ms, 0 is off, 1…10,000 ms; other values are errors naming the key")
    func configurationKey() throws {
        let base = "configuration: lezhi.yaml\nseedlink: { port: 18000 }\n"
        let file = "/etc/qw/ingest.yaml"
        #expect(try IngestConfiguration.parse(yaml: base, file: file).keepWarmMilliseconds == 10)
        #expect(try IngestConfiguration.parse(yaml: base + "keepWarmMilliseconds: 0\n", file: file).keepWarmMilliseconds == nil)
        #expect(try IngestConfiguration.parse(yaml: base + "keepWarmMilliseconds: 25\n", file: file).keepWarmMilliseconds == 25)
        for bad in ["20000", "-1", "fast", "2.5"] {
            #expect {
                try IngestConfiguration.parse(yaml: base + "keepWarmMilliseconds: \(bad)\n", file: file)
            } throws: { error in
                "\(error)".contains("keepWarmMilliseconds") && "\(error)".contains(file)
            }
        }
    }

    @Test("in-process relay with Mosquitto: keep-warm runs on the relay's loop only, keeps no outbox entry or sequence number, sends nothing, and the next warning goes out as before",
          .enabled(if: BrokerEnvironment.isAvailable, "MQTT_TEST_* not set (scripts/test-env/mosquitto.sh start)"))
    func inProcessRelayLeavesNothingBehind() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let host = try #require(BrokerEnvironment.host), port = try #require(BrokerEnvironment.port)
        let prefix = "qw-keep-warm-\(UUID().uuidString.prefix(8).lowercased())"
        var configuration = keys.configuration(port: 0)
        let passwordFile = keys.directory + "/mqtt.password"
        try Data(((BrokerEnvironment.password ?? "") + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
        var mqtt = RelayConfiguration.MQTT(host: host, port: port, username: BrokerEnvironment.user,
                                           clientId: prefix + "-relay", topicPrefix: prefix)
        mqtt.passwordFile = passwordFile
        configuration.mqtt = mqtt
        // The relay on a loop of the test's own (as on the ingest daemon's processing loop).
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let relay = try InProcessRelay(configuration: configuration, eventLoopGroup: group)
        let sink = try #require(relay.directSink)

        // Everything published under the prefix, in order.
        let subscriber = MQTTClient(configuration: MQTTClientConfiguration(
            host: host, port: port, clientID: prefix + "-sub", username: BrokerEnvironment.user,
            password: BrokerEnvironment.password.map { Array($0.utf8) }))
        let subscriberRun = Task { try? await subscriber.run() }
        defer { subscriberRun.cancel() }
        let received = Mutex<[String]>([])
        let arrivals = ChangeSignal()
        let collector = Task {
            for await message in subscriber.messages {
                let id = (try? JSONDecoder().decode(SignedEnvelope.self, from: Data(message.payload.readableBytesView)))
                    .flatMap { Data(base64Encoded: $0.payload) }
                    .flatMap { try? WarningMessage.decode(json: $0) }
                    .map { "\($0.id)#\($0.updateNumber)" }
                received.withLock { $0.append(id ?? "undecodable on \(message.topic)") }
                arrivals.notify()
            }
        }
        defer { collector.cancel() }
        try await withDeadline(30, "subscriber CONNACK") { try await subscriber.waitUntilConnected() }
        _ = try await subscriber.subscribe([MQTTSubscription(topicFilter: prefix + "/#", qos: .atLeastOnce)])

        let task = Task { try await relay.service.run() }
        await sink.start()
        try await waitUntil(30, "relay healthy (broker connected)") { relay.service.isHealthy }
        // Not on the relay's loop: nothing runs.
        #expect(!relay.service.keepWarmInProcess())

        func deliver(_ update: Int) async throws {
            let m = RelayWarningSinkTests.warning("ev-kw", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            _ = try sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace())
            try await sink.flush()
        }
        try await deliver(0)
        // 50 keep-warm runs on the loop between two real warnings, as the daemon's timer does.
        let ran = try await loop.submit {
            (0..<50).filter { _ in relay.service.keepWarmInProcess() }.count
        }.get()
        #expect(ran == 50)
        try await loop.submit { sink.keepWarm() }.get()  // the sink's entry point: the same path
        try await deliver(1)

        // The broker delivers one client's QoS 1 messages in order: anything the keep-warm runs
        // had sent would arrive before ev-kw#1.
        try await arrivals.wait(30, "ev-kw#1 at the subscriber") { received.withLock { $0.contains("ev-kw#1") } }
        #expect(received.withLock { $0 } == ["ev-kw#0", "ev-kw#1"])
        sink.close()
        task.cancel()
        _ = try? await task.value
        // The rolled-back inserts used no sequence number: the outbox holds the two warnings, 1 and 2.
        let outbox = try RelayOutbox(path: keys.directory + "/outbox.sqlite")
        defer { try? outbox.close() }
        let entries = try outbox.all()
        #expect(entries.map { "\($0.eventId)#\($0.updateNumber)" } == ["ev-kw#0", "ev-kw#1"])
        #expect(entries.map(\.sequence) == [1, 2])
        try await group.shutdownGracefully()
    }

    @Test("IngestService with keepWarmMilliseconds: the timer calls every sink's keepWarm on the processing thread and records each run's duration; none after the service stopped")
    func serviceTimer() async throws {
        let sink = CountingSink()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-keep-warm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        // No SeedLink server: the client retries, the timer runs meanwhile (an idle daemon).
        let configuration = IngestConfiguration(
            stationConfigurationPath: Scenario.directory.appendingPathComponent("config.yaml").path,
            seedlink: .init(port: 1, stations: [.init(network: "SC", station: "NANTA", selectors: ["00HNZ"])]),
            outputDirectory: dir.path, warmUp: false, keepWarmMilliseconds: 2)
        let service = try IngestService(configuration: configuration, quakeWarn: try Scenario.configuration(), sinks: [sink])
        let loop = service.processingLoop.next()
        sink.expect(loop)
        let running = Task { try await service.run() }
        try await sink.calls.wait(20, "5 keep-warm runs") { sink.count >= 5 }
        service.stop()
        try await running.value
        let afterStop = sink.count
        #expect(afterStop >= 5)
        #expect(sink.offLoopCalls == 0)
        let text = service.metrics.exposition()
        let runs = text.split(separator: "\n").first { $0.hasPrefix("quakewarn_ingest_keep_warm_duration_seconds_count") }
        let recorded = try #require(runs.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }, "\(text)")
        #expect(recorded == afterStop)
        // The timer was cancelled with the service: a run queued after the stop would find the
        // processor finished. One more loop turn shows no further call.
        try await loop.submit {}.get()
        #expect(sink.count == afterStop)
    }
}

/// Counts ``WarningSink/keepWarm()`` calls, and those not made on the expected loop.
private final class CountingSink: WarningSink, Sendable {
    let calls = ChangeSignal()
    private let state = Mutex<(count: Int, offLoop: Int, loop: (any EventLoop)?)>((0, 0, nil))
    var count: Int { state.withLock { $0.count } }
    var offLoopCalls: Int { state.withLock { $0.offLoop } }
    func expect(_ loop: any EventLoop) { state.withLock { $0.loop = loop } }

    func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {}
    func keepWarm() {
        let onLoop = state.withLock { $0.loop }?.inEventLoop ?? false
        state.withLock {
            $0.count += 1
            if !onLoop { $0.offLoop += 1 }
        }
        calls.notify()
    }
}
