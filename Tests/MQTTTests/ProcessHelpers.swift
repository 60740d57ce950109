import Foundation

struct ProcessFailure: Error, CustomStringConvertible {
    var command: String
    var status: Int32
    var stderr: String
    var description: String { "\(command) exited with \(status): \(stderr)" }
}

/// A child process whose stdout/stderr go to temporary files (so a chatty child can never
/// block on a full pipe). Every wait has a deadline; `deinit` kills a child still running.
final class ChildProcess {
    let process = Process()
    let command: String
    private let stdoutURL: URL
    private let stderrURL: URL

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        command = ([executable] + arguments).joined(separator: " ")
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-mqtt-\(UUID().uuidString)")
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
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Waits for exit (polling every 10 ms) and returns the status; kills the child and throws
    /// `TestTimeout` after `seconds`.
    func waitForExit(within seconds: Double) async throws -> Int32 {
        let deadline = ContinuousClock.now.advanced(by: .milliseconds(Int(seconds * 1000)))
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                process.terminate()
                throw TestTimeout(seconds: seconds, what: command)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Runs a command to completion and returns its stdout; throws on non-zero exit.
    static func run(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        within seconds: Double = 30
    ) async throws -> String {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try await child.waitForExit(within: seconds)
        guard status == 0 else { throw ProcessFailure(command: child.command, status: status, stderr: child.stderr) }
        return child.stdout
    }
}

/// A Mosquitto instance of its own for one test (started with scripts/test-env/mosquitto.sh),
/// so a test may stop or kill it without disturbing the shared broker of the other tests.
struct PrivateBroker {
    var host: String
    var port: Int
    var user: String
    var password: String
    var directory: String

    /// Environment for the script: inherited, minus the shared broker's MQTT_TEST_* values.
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

    /// Graceful stop (SIGTERM; Mosquitto saves its persistence file), keeping the directory.
    func stopKeepingState() async throws { try await script("stop", keepDirectory: true) }
    /// SIGKILL: a crash, nothing saved.
    func kill() async throws { try await script("kill", keepDirectory: true) }
    /// Starts again with the same directory, port and password.
    func restart() async throws { try await script("start", keepDirectory: true) }
    /// Stops and removes the directory.
    func remove() async { try? await script("stop", keepDirectory: false) }
}
