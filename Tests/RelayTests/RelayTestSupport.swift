import Alerting
import Foundation
import Relay
import SeismicCore
import Synchronization
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory with a key pair, an input token and paths for an outbox.
struct RelayFixture: Sendable {
    let directory: String
    let publicKeyFile: String
    let privateKeyFile: String
    let token: String
    let tokenFile: String
    var outboxPath: String { directory + "/outbox.sqlite" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-relay-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keys = try SigningKeyFile.generate(into: directory + "/keys")
        publicKeyFile = keys.publicKey
        privateKeyFile = keys.privateKey
        token = "token-\(UUID().uuidString)"
        tokenFile = directory + "/input.token"
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Signs `message` with this fixture's private key.
    func sign(_ message: WarningMessage) throws -> SignedEnvelope {
        try SignedEnvelope.sign(message, with: try SigningKeyFile.loadPrivateKey(path: privateKeyFile))
    }

    /// Signs arbitrary payload bytes with this fixture's private key.
    func sign(payload: Data, type: String) throws -> SignedEnvelope {
        try SignedEnvelope.sign(payload: payload, payloadType: type, with: try SigningKeyFile.loadPrivateKey(path: privateKeyFile))
    }

    func configuration(mqttHost: String = "127.0.0.1", mqttPort: Int = 1, user: String? = nil, password: String? = nil,
                       prefix: String = "quakewarn", maxMessageBytes: Int = 65_536) throws -> RelayConfiguration {
        var mqtt = RelayConfiguration.MQTT(host: mqttHost, port: mqttPort, username: user,
                                           clientId: "qw-relay-test-\(UUID().uuidString.prefix(8))", topicPrefix: prefix)
        mqtt.reconnectInitialMilliseconds = 20
        mqtt.reconnectMaximumMilliseconds = 300
        mqtt.keepAliveSeconds = 5
        if let password {
            let path = directory + "/mqtt.password"
            try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path))
            mqtt.passwordFile = path
        }
        return RelayConfiguration(
            input: .init(host: "127.0.0.1", port: 0, tokenFile: tokenFile, maxMessageBytes: maxMessageBytes),
            verification: .init(publicKeyFiles: [publicKeyFile]),
            outbox: .init(path: outboxPath), mqtt: mqtt)
    }
}

/// A plausible warning with the given key.
func sampleWarning(id: String, update: Int = 0, status: WarningStatus = .exercise,
                   level: WarningLevel = .orange) -> WarningMessage {
    let created = Timestamp(nanosecondsSinceEpoch: 1_780_000_000_000_000_000 + Int64(update) * 1_000_000_000)
    let target = TargetPrediction(name: "Nanta Primary School", kind: .school, epicentralDistanceKilometers: 181.3,
                                  predictedIntensity: 4.9, predictedIntensitySigma: 0.6,
                                  sWaveArrivalTime: created.adding(nanoseconds: 20_500_000_000), countdownSeconds: 20.5,
                                  warningLevel: level)
    return WarningMessage(id: id, updateNumber: update, status: status, msgType: update == 0 ? .alert : .update,
                          originTime: created.adding(nanoseconds: -8_000_000_000),
                          epicenter: GeoPoint(latitudeDegrees: 31.02, longitudeDegrees: 103.38), depthKilometers: 12,
                          magnitude: 6.6, magnitudeUncertainty: 0.3, magnitudeType: "Mpd", numberOfStations: 2,
                          targets: [target], createdTime: created)
}

/// Collects what a ``WarningBroadcaster`` was given.
final class FakeBroadcaster: WarningBroadcaster {
    let texts = Mutex<[String]>([])
    func broadcast(text: String) { texts.withLock { $0.append(text) } }
}

/// The `quakewarn` executable built next to the test bundle.
func quakewarnExecutable() throws -> String {
    let runner = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
    let candidates = [
        runner.deletingLastPathComponent().appendingPathComponent("quakewarn"),
        Bundle.main.bundleURL.appendingPathComponent("quakewarn"),
        Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("quakewarn"),
    ]
    for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) { return url.path }
    throw ProcessFailure(command: "quakewarn", status: -1, stderr: "executable not found: \(candidates.map(\.path))")
}
