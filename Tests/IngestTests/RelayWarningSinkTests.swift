import Alerting
import Crypto
import Foundation
import Ingest
import Relay
import SeismicCore
import Synchronization
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
        #expect(await sink.delivered == 3)
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
            let acked = try #require((object["ackNanos"] as? NSNumber)?.int64Value)
            #expect(acked >= queued)
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
        #expect(await sink.pending >= 3)

        let second = try await Self.startRelay(keys, port: port)
        try await sink.flush()
        #expect(await sink.pending == 0)
        #expect(await sink.rejected == 1)
        await sink.close()
        await second.stop()
        #expect(try Self.keysInOutbox(keys) == ["ev-b#0", "ev-b#1", "ev-b#2", "ev-b#3"])
    }
}
