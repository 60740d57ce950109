import Alerting
import Crypto
import Foundation
import Ingest
import Relay
import SeismicCore
import Synchronization
import TestSupport
import Testing

/// The ingest daemon's relay sink against a real in-process `RelayService` (input + outbox; the
/// broker is unreachable, which the relay tolerates: warnings wait in its outbox).
@Suite("Ingest → relay sink")
struct RelayWarningSinkTests {
    struct Keys {
        let directory: String
        let publicKeyFile: String
        let privateKey: Curve25519.Signing.PrivateKey
        let token = "ingest-token-\(UUID().uuidString)"
        let tokenFile: String

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("qw-ingest-relay-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keys = try SigningKeyFile.generate(into: directory + "/keys")
            publicKeyFile = keys.publicKey
            privateKey = try SigningKeyFile.loadPrivateKey(path: keys.privateKey)
            tokenFile = directory + "/input.token"
            try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
        }

        func configuration(port: Int) -> RelayConfiguration {
            RelayConfiguration(
                input: .init(host: "127.0.0.1", port: port, tokenFile: tokenFile, maxMessageBytes: 65_536),
                verification: .init(publicKeyFiles: [publicKeyFile]),
                outbox: .init(path: directory + "/outbox.sqlite"),
                mqtt: .init(host: "127.0.0.1", port: 1, username: nil, clientId: "qw-ingest-test", topicPrefix: "quakewarn"))
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    struct Running {
        let service: RelayService
        let task: Task<Void, any Error>
        let port: Int
        func stop() async {
            task.cancel()
            _ = try? await task.value
        }
    }

    static func startRelay(_ keys: Keys, port: Int = 0) async throws -> Running {
        let service = RelayService(configuration: keys.configuration(port: port))
        let task = Task { try await service.run() }
        let ports = try await service.waitUntilListening()
        return Running(service: service, task: task, port: ports.input)
    }

    static func warning(_ id: String, update: Int = 0) -> WarningMessage {
        let created = Timestamp(nanosecondsSinceEpoch: 1_780_000_000_000_000_000 + Int64(update) * 500_000_000)
        return WarningMessage(id: id, updateNumber: update, status: .exercise, msgType: update == 0 ? .alert : .update,
                              originTime: created.adding(nanoseconds: -6_000_000_000),
                              epicenter: GeoPoint(latitudeDegrees: 30.6, longitudeDegrees: 104.4), depthKilometers: 10,
                              magnitude: 5.8, magnitudeUncertainty: 0.4, magnitudeType: "Mpd", numberOfStations: 1,
                              targets: [], createdTime: created)
    }

    static func keysInOutbox(_ keys: Keys) throws -> [String] {
        let outbox = try RelayOutbox(path: keys.directory + "/outbox.sqlite")
        defer { try? outbox.close() }
        return try outbox.all().map { "\($0.eventId)#\($0.updateNumber)" }
    }

    @Test("signed warnings reach the relay's outbox in order; the latency log carries the triggering record's arrival time")
    func delivers() async throws {
        let keys = try Keys()
        defer { keys.remove() }
        let relay = try await Self.startRelay(keys)
        let log = keys.directory + "/relay-latency.jsonl"
        let sink = try RelayWarningSink(host: "127.0.0.1", port: relay.port, token: keys.token, latencyLogPath: log)
        for update in 0..<3 {
            let m = Self.warning("ev-a", update: update)
            try await IngestTrace.$recordArrivalNanos.withValue(1_000 + Int64(update)) {
                try await sink.deliver(m, envelope: try SignedEnvelope.sign(m, with: keys.privateKey))
            }
        }
        // Unsigned warnings are refused at the sink (the relay would reject them anyway).
        await #expect(throws: RelayWarningSinkError.self) {
            try await sink.deliver(Self.warning("ev-unsigned"), envelope: nil)
        }
        try await sink.flush()
        #expect(sink.delivered == 3)
        await sink.close()
        await relay.stop()
        #expect(try Self.keysInOutbox(keys) == ["ev-a#0", "ev-a#1", "ev-a#2"])
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        for (update, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(object["id"] as? String == "ev-a")
            #expect((object["updateNumber"] as? NSNumber)?.intValue == update)
            #expect((object["recordArrivalNanos"] as? NSNumber)?.int64Value == 1_000 + Int64(update))
            let queued = try #require((object["queuedNanos"] as? NSNumber)?.int64Value)
            let written = try #require((object["writtenNanos"] as? NSNumber)?.int64Value)
            let acked = try #require((object["ackNanos"] as? NSNumber)?.int64Value)
            #expect(queued <= written && written <= acked)
        }
    }

    @Test("a relay outage never blocks deliver(); queued warnings go out in order after the relay is back, a forged one is dropped")
    func survivesRelayOutage() async throws {
        let keys = try Keys()
        defer { keys.remove() }
        let first = try await Self.startRelay(keys)
        let port = first.port
        let sink = try RelayWarningSink(host: "127.0.0.1", port: port, token: keys.token)
        let m0 = Self.warning("ev-b", update: 0)
        try await sink.deliver(m0, envelope: try SignedEnvelope.sign(m0, with: keys.privateKey))
        try await sink.flush()
        await first.stop()

        // Relay down: deliver() returns at once; the warnings wait in the sink's queue.
        let forger = Curve25519.Signing.PrivateKey()
        let forged = Self.warning("ev-forged")
        try await sink.deliver(forged, envelope: try SignedEnvelope.sign(forged, with: forger))
        for update in 1...3 {
            let m = Self.warning("ev-b", update: update)
            try await sink.deliver(m, envelope: try SignedEnvelope.sign(m, with: keys.privateKey))
        }
        #expect(sink.pending >= 3)

        let second = try await Self.startRelay(keys, port: port)
        try await sink.flush()
        #expect(sink.pending == 0)
        #expect(sink.rejected == 1)
        await sink.close()
        await second.stop()
        #expect(try Self.keysInOutbox(keys) == ["ev-b#0", "ev-b#1", "ev-b#2", "ev-b#3"])
    }

    @Test("start() connects before the first warning; 200 warnings enqueued at once are pipelined and reach the outbox in order, each logged once")
    func eagerConnectAndPipelining() async throws {
        let keys = try Keys()
        defer { keys.remove() }
        let relay = try await Self.startRelay(keys)
        let log = keys.directory + "/relay-latency.jsonl"
        let sink = try RelayWarningSink(host: "127.0.0.1", port: relay.port, token: keys.token, latencyLogPath: log,
                                        maximumInFlight: 16)
        #expect(!sink.isConnected)
        await sink.start()
        try await waitUntil(20, "the eager connection") { sink.isConnected }
        // Envelopes are signed lazily, by the sink, once each.
        let raw = keys.privateKey.rawRepresentation
        let signatures = Atomic<Int>(0)
        let sign: @Sendable (WarningMessage) throws -> SignedEnvelope = { m in
            signatures.add(1, ordering: .relaxed)
            return try SignedEnvelope.sign(m, with: Curve25519.Signing.PrivateKey(rawRepresentation: raw))
        }
        let envelopes = (0..<200).map { update in
            let m = Self.warning("ev-p", update: update)
            return (m, LazyEnvelope(m, sign: sign))
        }
        for (update, (m, envelope)) in envelopes.enumerated() {
            // The critical path's entry point: synchronous, returns at once.
            let trace = WarningTrace(recordArrivalNanos: Int64(update), processingStartNanos: Int64(update) + 1,
                                     releasedNanos: Int64(update) + 2)
            #expect(try sink.deliverImmediately(m, envelope: envelope, trace: trace))
        }
        try await sink.flush()
        #expect(sink.delivered == 200)
        #expect(sink.pending == 0)
        #expect(signatures.load(ordering: .relaxed) == 200)
        #expect(try envelopes[7].1.get() == SignedEnvelope.sign(envelopes[7].0, with: keys.privateKey))
        #expect(signatures.load(ordering: .relaxed) == 200, "get() after the sink signed does not sign again")
        await sink.close()
        await relay.stop()
        #expect(try Self.keysInOutbox(keys) == (0..<200).map { "ev-p#\($0)" })
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 200)
        for (update, line) in lines.enumerated() {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect((object["updateNumber"] as? NSNumber)?.intValue == update)
            #expect((object["recordArrivalNanos"] as? NSNumber)?.int64Value == Int64(update))
            #expect((object["processingStartNanos"] as? NSNumber)?.int64Value == Int64(update) + 1)
            #expect((object["releasedNanos"] as? NSNumber)?.int64Value == Int64(update) + 2)
        }
    }

    @Test("the relay stops while warnings are in flight: after it is back, every warning is in the outbox exactly once, in order")
    func inFlightWarningsAreResentAfterAReconnect() async throws {
        let keys = try Keys()
        defer { keys.remove() }
        let first = try await Self.startRelay(keys)
        let port = first.port
        let sink = try RelayWarningSink(host: "127.0.0.1", port: port, token: keys.token, maximumInFlight: 8)
        await sink.start()
        try await waitUntil(20, "the eager connection") { sink.isConnected }
        for update in 0..<100 {
            let m = Self.warning("ev-r", update: update)
            try sink.enqueue(m, envelope: try SignedEnvelope.sign(m, with: keys.privateKey), trace: WarningTrace())
            if update == 30 { await first.stop() }  // mid-stream: some acked, some in flight, some queued
        }
        let second = try await Self.startRelay(keys, port: port)
        try await sink.flush()
        #expect(sink.pending == 0)
        await sink.close()
        await second.stop()
        // Re-sent duplicates are acknowledged without a second outbox entry.
        #expect(try Self.keysInOutbox(keys) == (0..<100).map { "ev-r#\($0)" })
    }

    @Test("a warning whose signing fails is dropped with an error; the ones after it are delivered")
    func unsignableWarningIsDropped() async throws {
        let keys = try Keys()
        defer { keys.remove() }
        let relay = try await Self.startRelay(keys)
        let sink = try RelayWarningSink(host: "127.0.0.1", port: relay.port, token: keys.token)
        await sink.start()
        let raw = keys.privateKey.rawRepresentation
        struct NoKey: Error {}
        for update in 0..<3 {
            let m = Self.warning("ev-s", update: update)
            let envelope = LazyEnvelope(m) { m in
                if m.updateNumber == 1 { throw NoKey() }
                return try SignedEnvelope.sign(m, with: Curve25519.Signing.PrivateKey(rawRepresentation: raw))
            }
            #expect(try sink.deliverImmediately(m, envelope: envelope, trace: WarningTrace()))
        }
        // No signing key at all: refused at once.
        #expect(throws: RelayWarningSinkError.self) {
            try sink.deliverImmediately(Self.warning("ev-u"), envelope: nil, trace: WarningTrace())
        }
        try await sink.flush()
        #expect(sink.delivered == 2)
        #expect(sink.rejected == 1)
        await sink.close()
        await relay.stop()
        #expect(try Self.keysInOutbox(keys) == ["ev-s#0", "ev-s#2"])
    }
}
