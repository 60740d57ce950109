import Alerting
import Foundation
import Relay
import SeismicCore
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Thrown by `withDeadline` when the body did not finish in time.
struct TestTimeout: Error, CustomStringConvertible {
    var seconds: Double
    var what: String
    var description: String { "timed out after \(seconds) s: \(what)" }
}

/// Runs `body`, failing with `TestTimeout` after `seconds` (the body is cancelled then).
func withDeadline<T: Sendable>(_ seconds: Double, _ what: String,
                               _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TestTimeout(seconds: seconds, what: what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TestTimeout(seconds: seconds, what: what) }
        return first
    }
}

/// Polls `condition` every 5 ms until it holds; throws `TestTimeout` after `seconds`.
func waitUntil(_ seconds: Double, _ what: String, _ condition: @escaping @Sendable () async -> Bool) async throws {
    try await withDeadline(seconds, what) {
        while !(await condition()) { try await Task.sleep(for: .milliseconds(5)) }
    }
}

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

/// Environment of the shared test broker (`eval "$(scripts/test-env/mosquitto.sh start)"`).
enum BrokerEnvironment {
    static var host: String? { ProcessInfo.processInfo.environment["MQTT_TEST_HOST"] }
    static var port: Int? { ProcessInfo.processInfo.environment["MQTT_TEST_PORT"].flatMap(Int.init) }
    static var user: String? { ProcessInfo.processInfo.environment["MQTT_TEST_USER"] }
    static var password: String? { ProcessInfo.processInfo.environment["MQTT_TEST_PASSWORD"] }
    static var isAvailable: Bool { host != nil && port != nil && user != nil && password != nil }

    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let script = repositoryRoot.appendingPathComponent("scripts/test-env/mosquitto.sh").path

    static func tool(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var stderr: String
    var description: String { "\(command) exited with \(status): \(stderr)" }
}

/// A child process with stdout/stderr in temporary files; `deinit` kills it if still running.
final class ChildProcess: @unchecked Sendable {
    // Process is used from one test task at a time; Foundation's Process is thread-safe for these calls.
    let process = Process()
    let command: String
    private let stdoutURL: URL
    private let stderrURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        command = ([executable] + arguments).joined(separator: " ")
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-relay-child-\(UUID().uuidString)")
        stdoutURL = base.appendingPathExtension("out")
        stderrURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// SIGKILL (a crash: no cleanup of any kind).
    func killHard() { kill(process.processIdentifier, SIGKILL) }

    /// Sends SIGTERM.
    func terminate() { kill(process.processIdentifier, SIGTERM) }

    func waitForExit(within seconds: Double) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                killHard()
                throw TestTimeout(seconds: seconds, what: command)
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        return process.terminationStatus
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    within seconds: Double = 30) async throws -> String {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try await child.waitForExit(within: seconds)
        guard status == 0 else { throw ProcessFailure(command: child.command, status: status, stderr: child.stderr) }
        return child.stdout
    }
}

/// A Mosquitto of its own (scripts/test-env/mosquitto.sh with a fresh directory), so a test may
/// stop or kill it without disturbing the shared broker.
struct PrivateBroker: Sendable {
    var host: String
    var port: Int
    var user: String
    var password: String
    var directory: String

    private static func baseEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MQTT_TEST_") }
    }

    static func start(persistence: Bool) async throws -> PrivateBroker {
        var environment = baseEnvironment()
        environment["MQTT_TEST_PERSISTENCE"] = persistence ? "1" : "0"
        let output = try await ChildProcess.run("/bin/bash", [BrokerEnvironment.script, "start"], environment: environment)
        var values: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count)
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            values[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        guard let host = values["MQTT_TEST_HOST"], let port = values["MQTT_TEST_PORT"].flatMap(Int.init),
              let user = values["MQTT_TEST_USER"], let password = values["MQTT_TEST_PASSWORD"],
              let directory = values["MQTT_TEST_DIR"]
        else { throw ProcessFailure(command: "mosquitto.sh start", status: 0, stderr: "no export lines in: \(output)") }
        return PrivateBroker(host: host, port: port, user: user, password: password, directory: directory)
    }

    private func script(_ command: String, keepDirectory: Bool) async throws {
        var environment = Self.baseEnvironment()
        environment["MQTT_TEST_DIR"] = directory
        environment["MQTT_TEST_KEEP_DIR"] = keepDirectory ? "1" : "0"
        _ = try await ChildProcess.run("/bin/bash", [BrokerEnvironment.script, command], environment: environment)
    }

    func stopKeepingState() async throws { try await script("stop", keepDirectory: true) }
    func restart() async throws { try await script("start", keepDirectory: true) }
    func remove() async { try? await script("stop", keepDirectory: false) }
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
