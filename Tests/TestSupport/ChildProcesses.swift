// Shared by the network test suites (MQTT, Relay): deadlines, child processes and private
// Mosquitto brokers started with scripts/test-env/mosquitto.sh.

public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Thrown by ``withDeadline(_:_:_:)`` when the body did not finish in time.
public struct TestTimeout: Error, CustomStringConvertible {
    public var seconds: Double
    public var what: String
    public init(seconds: Double, what: String) {
        self.seconds = seconds
        self.what = what
    }
    public var description: String { "timed out after \(seconds) s: \(what)" }
}

/// Runs `body`, failing with ``TestTimeout`` if it has not finished after `seconds` (the body is
/// cancelled then), so no wait in a test can hang.
public func withDeadline<T: Sendable>(
    _ seconds: Double,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            // The deadline itself (one timer, cancelled when the body finishes), not a poll.
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TestTimeout(seconds: seconds, what: what)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TestTimeout(seconds: seconds, what: what) }
        return first
    }
}

/// Polls `condition` every 5 ms until it holds; throws ``TestTimeout`` after `seconds`.
/// This is polling: prefer ``ChangeSignal`` (woken by the event itself) where the code under test
/// offers a notification; this remains for conditions only observable by looking.
public func waitUntil(_ seconds: Double, _ what: String, _ condition: @escaping @Sendable () async -> Bool) async throws {
    try await withDeadline(seconds, what) {
        while !(await condition()) { try await Task.sleep(for: .milliseconds(5)) }
    }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public var command: String
    public var status: Int32
    public var stderr: String
    public init(command: String, status: Int32, stderr: String) {
        self.command = command
        self.status = status
        self.stderr = stderr
    }
    public var description: String { "\(command) exited with \(status): \(stderr)" }
}

/// A child process whose stdout/stderr go to temporary files (so a chatty child can never block
/// on a full pipe), or with `watchStderr` its stderr to a pipe drained as it arrives, so a test
/// can wait for a line (``waitForStderr(_:_:for:)``). Its exit wakes ``waitForExit(within:)``
/// (termination handler, no polling). Every wait has a deadline; `deinit` kills a child still
/// running.
public final class ChildProcess: @unchecked Sendable {
    // Used from one test task at a time; Foundation's Process is thread-safe for these calls.
    public let process = Process()
    public let command: String
    private let stdoutURL: URL
    private let stderrURL: URL
    /// stderr as it arrives, with `watchStderr`.
    private let stderrCollector: OutputCollector?
    private let exit = ExitWatch()

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                watchStderr: Bool = false) throws {
        command = ([executable] + arguments).joined(separator: " ")
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-child-\(UUID().uuidString)")
        stdoutURL = base.appendingPathExtension("out")
        stderrURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        if watchStderr {
            let pipe = Pipe()
            let collector = OutputCollector()
            collector.attach(pipe)
            stderrCollector = collector
            process.standardError = pipe
        } else {
            stderrCollector = nil
            _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderrURL)
        }
        process.standardInput = FileHandle.nullDevice
        exit.install(on: process)
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

    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    public var stderr: String {
        if let stderrCollector { return stderrCollector.text }
        return (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    }

    /// With `watchStderr`: the first non-nil `match(stderr)`, woken by every chunk the child
    /// writes. Throws ``ProcessFailure`` if the child exits (its stderr closes) first,
    /// ``TestTimeout`` after `seconds`.
    public func waitForStderr<T>(_ seconds: Double, _ what: String, for match: (String) -> T?) async throws -> T {
        guard let stderrCollector else { throw ProcessFailure(command: command, status: -1, stderr: "stderr is not watched") }
        do {
            return try await stderrCollector.wait(seconds, what, for: match)
        } catch is OutputEnded {
            let status = (try? await exit.wait(5, "exit after stderr closed")) ?? -1
            throw ProcessFailure(command: command, status: status, stderr: stderr)
        }
    }

    /// SIGKILL (a crash: no cleanup of any kind).
    public func killHard() { kill(process.processIdentifier, SIGKILL) }

    /// Sends SIGTERM.
    public func terminate() { kill(process.processIdentifier, SIGTERM) }

    /// Waits for exit (woken by the termination handler) and returns the status; kills the child
    /// and throws ``TestTimeout`` after `seconds`.
    public func waitForExit(within seconds: Double) async throws -> Int32 {
        do {
            return try await exit.wait(seconds, command)
        } catch let timeout as TestTimeout {
            killHard()
            throw timeout
        }
    }

    /// Runs a command to completion and returns its stdout; throws on non-zero exit.
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           within seconds: Double = 30) async throws -> String {
        let child = try ChildProcess(executable, arguments, environment: environment)
        let status = try await child.waitForExit(within: seconds)
        guard status == 0 else { throw ProcessFailure(command: child.command, status: status, stderr: child.stderr) }
        return child.stdout
    }
}

/// Environment of the shared test broker (`eval "$(scripts/test-env/mosquitto.sh start)"`).
public enum BrokerEnvironment {
    public static var host: String? { ProcessInfo.processInfo.environment["MQTT_TEST_HOST"] }
    public static var port: Int? { ProcessInfo.processInfo.environment["MQTT_TEST_PORT"].flatMap(Int.init) }
    public static var user: String? { ProcessInfo.processInfo.environment["MQTT_TEST_USER"] }
    public static var password: String? { ProcessInfo.processInfo.environment["MQTT_TEST_PASSWORD"] }
    public static var isAvailable: Bool { host != nil && port != nil && user != nil && password != nil }

    /// Path of scripts/test-env/mosquitto.sh, from this file's location (Tests/TestSupport/).
    public static let script: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/test-env/mosquitto.sh").path

    /// Path of an executable found in the usual Debian locations.
    public static func tool(_ name: String) -> String? {
        for directory in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"] {
            let path = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// A Mosquitto instance of its own for one test (scripts/test-env/mosquitto.sh with a fresh
/// directory), so a test may stop or kill it without disturbing the shared broker.
public struct PrivateBroker: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var directory: String

    /// Environment for the script: inherited, minus the shared broker's MQTT_TEST_* values.
    private static func baseEnvironment() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MQTT_TEST_") }
    }

    public static func start(persistence: Bool) async throws -> PrivateBroker {
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
    public func stopKeepingState() async throws { try await script("stop", keepDirectory: true) }
    /// SIGKILL: a crash, nothing saved.
    public func kill() async throws { try await script("kill", keepDirectory: true) }
    /// Starts again with the same directory, port and password.
    public func restart() async throws { try await script("start", keepDirectory: true) }
    /// Stops and removes the directory.
    public func remove() async { try? await script("stop", keepDirectory: false) }
}
