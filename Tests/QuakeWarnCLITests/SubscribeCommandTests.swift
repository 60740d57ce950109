// End-to-end tests of `quakewarn subscribe` (subprocess, CLIRunner) against a WebSocketHub started
// in this test process and against the test Mosquitto broker (MQTT_TEST_*, skipped when absent).
import Foundation
import Testing
import TestSupport
import WebSocketHub

@Suite("quakewarn subscribe (subprocess)")
struct SubscribeCommandTests {
    /// Keys, a signed warning, a forged copy and an unsigned warning in a fresh directory.
    struct Material {
        var directory: String
        var publicKey: String
        var signed: String
        var forged: String
        var unsigned: String
        func path(_ name: String) -> String { directory + "/" + name }
    }

    static let warningJSON = #"""
        {"createdTime":"2026-11-29T03:00:01.500000Z","depthKilometers":12.0,"epicenter":{"latitudeDegrees":31.0,"longitudeDegrees":103.4},"id":"qw-drill-7","magnitude":6.1,"magnitudeType":"Mpd","magnitudeUncertainty":0.3,"msgType":"Alert","numberOfStations":2,"originTime":"2026-11-29T03:00:00.000000Z","sentTime":"2026-11-29T03:00:01.600000Z","status":"Exercise","targets":[],"updateNumber":0}
        """#

    static func material() throws -> Material {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-subscribe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let gen = try CLIRunner.run(["keys", "generate", "--out", dir + "/keys"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let info = try #require(try JSONSerialization.jsonObject(with: Data(gen.stdout.utf8)) as? [String: Any])
        let privateKey = try #require(info["privateKey"] as? String)
        let publicKey = try #require(info["publicKey"] as? String)
        let warningPath = dir + "/warning.json"
        try Data(warningJSON.utf8).write(to: URL(fileURLWithPath: warningPath))
        let sign = try CLIRunner.run(["keys", "sign", "--private-key", privateKey, warningPath])
        #expect(sign.status == 0, "\(sign.stderr)")
        let signed = sign.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Forgery: the payload says magnitude 7.9 but the signature is the one of the 6.1 warning.
        var envelope = try #require(try JSONSerialization.jsonObject(with: Data(signed.utf8)) as? [String: Any])
        let forgedPayload = warningJSON.replacingOccurrences(of: #""magnitude":6.1"#, with: #""magnitude":7.9"#)
        envelope["payload"] = Data(forgedPayload.utf8).base64EncodedString()
        let forged = String(decoding: try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]), as: UTF8.self)
        return Material(directory: dir, publicKey: publicKey, signed: signed, forged: forged, unsigned: warningJSON)
    }

    static func parse(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
    }

    /// Runs the CLI on a Dispatch thread: `CLIRunner.run` blocks until the process exits, and
    /// blocking a thread of Swift's cooperative pool (2 threads on a 2-core machine) would stall
    /// every other test, including the hub this very process has to serve.
    static func runCLI(_ arguments: [String]) async throws -> CLIRunner.Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try CLIRunner.run(arguments) })
            }
        }
    }

    /// Runs the CLI in the background so the test can feed it while it waits.
    static func runInBackground(_ arguments: [String]) -> Task<CLIRunner.Result, any Error> {
        Task { try await runCLI(arguments) }
    }

    /// Waits until `condition` (about `hub`'s counters) holds, re-checked whenever a counter of
    /// the hub changes (`observeStatistics`), not on a timer; ``TestTimeout`` after `seconds`.
    static func waitUntil(_ hub: WebSocketHub, _ what: String, within seconds: Double = 20,
                          _ condition: () -> Bool) async throws {
        let changes = ChangeSignal()
        hub.observeStatistics { changes.notify() }
        try await changes.wait(seconds, what, until: condition)
    }

    // MARK: WebSocket

    @Test func websocketPrintsVerifiedForgedAndUnsignedWarnings() async throws {
        let m = try Self.material()
        defer { try? FileManager.default.removeItem(atPath: m.directory) }
        try Data("hub-token\n".utf8).write(to: URL(fileURLWithPath: m.path("token")))
        let hub = try await WebSocketHub.start(.init(tokens: ["hub-token"]))
        let run = Self.runInBackground([
            "subscribe", "--websocket", "ws://127.0.0.1:\(hub.port)/warnings", "--token-file", m.path("token"),
            "--public-key", m.publicKey, "--count", "3", "--timeout", "30",
        ])
        try await Self.waitUntil(hub, "subscriber connected") { hub.subscriberCount == 1 }
        let before = Int64(Date().timeIntervalSince1970 * 1e9)
        hub.broadcast(text: m.signed)
        hub.broadcast(text: m.forged)
        hub.broadcast(text: m.unsigned)
        let result = try await run.value
        let after = Int64(Date().timeIntervalSince1970 * 1e9)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdoutLines
        try #require(lines.count == 3, "\(result.stdout)")
        let genuine = try Self.parse(lines[0])
        #expect(genuine["verified"] as? Bool == true)
        #expect(genuine["reason"] == nil)
        #expect(genuine["transport"] as? String == "websocket")
        #expect(genuine["topic"] == nil)
        #expect(genuine["id"] as? String == "qw-drill-7")
        #expect(genuine["updateNumber"] as? Int == 0)
        #expect(genuine["status"] as? String == "Exercise")
        #expect(genuine["msgType"] as? String == "Alert")
        #expect(genuine["magnitude"] as? Double == 6.1)
        let receivedNanos = try #require((genuine["receivedNanos"] as? NSNumber)?.int64Value)
        #expect(receivedNanos >= before && receivedNanos <= after)
        let receivedTime = try #require(genuine["receivedTime"] as? String)
        #expect(receivedTime.count == "2026-11-29T03:00:01.123456789Z".count && receivedTime.hasSuffix("Z"))
        // The nine fractional digits are the same instant as receivedNanos.
        #expect(receivedTime.dropLast().suffix(9) == String(format: "%09lld", receivedNanos % 1_000_000_000).suffix(9))

        let forged = try Self.parse(lines[1])
        #expect(forged["verified"] as? Bool == false)
        #expect((forged["reason"] as? String)?.contains("signature does not match") == true)
        #expect(forged["magnitude"] as? Double == 7.9, "printed for inspection, marked unverified")

        let unsigned = try Self.parse(lines[2])
        #expect(unsigned["verified"] as? Bool == false)
        #expect((unsigned["reason"] as? String)?.contains("unsigned") == true)
        #expect(unsigned["id"] as? String == "qw-drill-7")
        await hub.shutdown()
    }

    @Test func websocketWithoutPublicKeyMarksEverythingUnverified() async throws {
        let m = try Self.material()
        defer { try? FileManager.default.removeItem(atPath: m.directory) }
        try Data("hub-token".utf8).write(to: URL(fileURLWithPath: m.path("token")))
        let hub = try await WebSocketHub.start(.init(tokens: ["hub-token"]))
        let run = Self.runInBackground([
            "subscribe", "--websocket", "ws://127.0.0.1:\(hub.port)/warnings", "--token-file", m.path("token"), "--count", "1",
            "--timeout", "30",
        ])
        try await Self.waitUntil(hub, "subscriber connected") { hub.subscriberCount == 1 }
        hub.broadcast(text: m.signed)
        let result = try await run.value
        #expect(result.status == 0, "\(result.stderr)")
        let line = try Self.parse(try #require(result.stdoutLines.first))
        #expect(line["verified"] as? Bool == false)
        #expect(line["reason"] as? String == "no --public-key given")
        await hub.shutdown()
    }

    @Test func websocketWrongTokenTimeoutAndServerCloseExitCodes() async throws {
        let m = try Self.material()
        defer { try? FileManager.default.removeItem(atPath: m.directory) }
        try Data("wrong".utf8).write(to: URL(fileURLWithPath: m.path("wrong")))
        try Data("hub-token".utf8).write(to: URL(fileURLWithPath: m.path("token")))
        let hub = try await WebSocketHub.start(.init(tokens: ["hub-token"]))
        let url = "ws://127.0.0.1:\(hub.port)/warnings"
        let rejected = try await Self.runCLI(["subscribe", "--websocket", url, "--token-file", m.path("wrong"), "--timeout", "10"])
        #expect(rejected.status == 2)
        #expect(rejected.stderr.contains("HTTP 401"), "\(rejected.stderr)")
        #expect(hub.statistics.authFailures == 1)

        let timedOut = try await Self.runCLI(["subscribe", "--websocket", url, "--token-file", m.path("token"), "--count", "2", "--timeout", "0.5"])
        #expect(timedOut.status == 1)
        #expect(timedOut.stderr.contains("timeout"), "\(timedOut.stderr)")

        let listen = try await Self.runCLI(["subscribe", "--websocket", url, "--token-file", m.path("token"), "--timeout", "0.3"])
        #expect(listen.status == 0, "without --count, --timeout ends a listening period: \(listen.stderr)")

        // Earlier subscribers may still be counted until the hub sees their TCP close: wait for a new one.
        let acceptedBefore = hub.statistics.subscribersAccepted
        let run = Self.runInBackground(["subscribe", "--websocket", url, "--token-file", m.path("token"), "--timeout", "30"])
        try await Self.waitUntil(hub, "subscriber connected") { hub.statistics.subscribersAccepted == acceptedBefore + 1 }
        await hub.shutdown()
        let closed = try await run.value
        #expect(closed.status == 1)
        #expect(closed.stderr.contains("1001"), "\(closed.stderr)")
    }

    @Test(arguments: [
        (["subscribe"], "exactly one of"),
        (["subscribe", "--websocket", "ws://127.0.0.1:1/w", "--mqtt", "127.0.0.1:1"], "exactly one of"),
        (["subscribe", "--websocket", "http://127.0.0.1:1/w"], "ws://"),
        (["subscribe", "--websocket", "ws://127.0.0.1:1/w", "--token-file", "/nonexistent/token"], "/nonexistent/token"),
        (["subscribe", "--websocket", "ws://127.0.0.1:1/w", "--public-key", "/nonexistent/key.pub"], "/nonexistent/key.pub"),
        (["subscribe", "--websocket", "ws://127.0.0.1:1/w", "--count", "0"], "--count"),
        (["subscribe", "--mqtt", "localhost"], "HOST:PORT"),
        (["subscribe", "--mqtt", "localhost:99999"], "HOST:PORT"),
        (["subscribe", "--mqtt", "localhost:1883", "--password-file", "/tmp/x"], "--username"),
    ] as [([String], String)])
    func badInputExitsWith2(arguments: [String], mentions: String) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 2, "\(arguments)")
        #expect(result.stderr.contains(mentions), "\(arguments): \(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count <= 3, "a short reason: \(result.stderr)")
    }

    // MARK: MQTT (test Mosquitto)

    enum Broker {
        static var env: [String: String] { ProcessInfo.processInfo.environment }
        static var available: Bool {
            env["MQTT_TEST_HOST"] != nil && env["MQTT_TEST_PORT"] != nil && env["MQTT_TEST_USER"] != nil
                && env["MQTT_TEST_PASSWORD"] != nil && tool("mosquitto_pub") != nil
        }
        static func tool(_ name: String) -> String? {
            let path = (env["PATH"] ?? "") + ":/usr/bin:/usr/sbin:/usr/local/bin"
            return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
    }

    static func mosquittoPub(topic: String, file: String?, retain: Bool) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Broker.tool("mosquitto_pub") ?? "/usr/bin/mosquitto_pub")
        var arguments = ["-h", Broker.env["MQTT_TEST_HOST"] ?? "", "-p", Broker.env["MQTT_TEST_PORT"] ?? "",
                         "-u", Broker.env["MQTT_TEST_USER"] ?? "", "-P", Broker.env["MQTT_TEST_PASSWORD"] ?? "",
                         "-q", "1", "-t", topic]
        if retain { arguments.append("-r") }
        if let file { arguments += ["-f", file] } else { arguments.append("-n") }
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "mosquitto_pub \(topic)")
    }

    @Test(.enabled(if: Broker.available, "MQTT_TEST_* (scripts/test-env/mosquitto.sh) not set"))
    func mqttPrintsVerifiedAndForgedWarningsWithTopics() async throws {
        let m = try Self.material()
        defer { try? FileManager.default.removeItem(atPath: m.directory) }
        let host = try #require(Broker.env["MQTT_TEST_HOST"])
        let port = try #require(Broker.env["MQTT_TEST_PORT"])
        try Data((Broker.env["MQTT_TEST_PASSWORD"] ?? "").utf8).write(to: URL(fileURLWithPath: m.path("password")))
        try Data(m.signed.utf8).write(to: URL(fileURLWithPath: m.path("signed.json")))
        try Data(m.forged.utf8).write(to: URL(fileURLWithPath: m.path("forged.json")))
        // Retained messages on a unique topic tree: delivered on subscribe, no race with the CLI start.
        let base = "quakewarn/test-subscribe/\(UUID().uuidString)"
        try Self.mosquittoPub(topic: base + "/genuine", file: m.path("signed.json"), retain: true)
        try Self.mosquittoPub(topic: base + "/forged", file: m.path("forged.json"), retain: true)
        defer {
            try? Self.mosquittoPub(topic: base + "/genuine", file: nil, retain: true)
            try? Self.mosquittoPub(topic: base + "/forged", file: nil, retain: true)
        }
        let result = try await Self.runCLI([
            "subscribe", "--mqtt", "\(host):\(port)", "--username", Broker.env["MQTT_TEST_USER"] ?? "",
            "--password-file", m.path("password"), "--topic", base + "/#", "--public-key", m.publicKey,
            "--count", "2", "--timeout", "20",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = try result.stdoutLines.map(Self.parse)
        try #require(lines.count == 2, "\(result.stdout)")
        let byTopic = Dictionary(uniqueKeysWithValues: lines.map { ($0["topic"] as? String ?? "", $0) })
        let genuine = try #require(byTopic[base + "/genuine"])
        #expect(genuine["transport"] as? String == "mqtt")
        #expect(genuine["verified"] as? Bool == true)
        #expect(genuine["magnitude"] as? Double == 6.1)
        let forged = try #require(byTopic[base + "/forged"])
        #expect(forged["verified"] as? Bool == false)
        #expect((forged["reason"] as? String)?.contains("signature does not match") == true)
    }

    @Test(.enabled(if: Broker.available, "MQTT_TEST_* (scripts/test-env/mosquitto.sh) not set"))
    func mqttWrongPasswordExits2() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qw-subscribe-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("definitely-wrong".utf8).write(to: URL(fileURLWithPath: dir + "/password"))
        let result = try await Self.runCLI([
            "subscribe", "--mqtt", "\(Broker.env["MQTT_TEST_HOST"] ?? ""):\(Broker.env["MQTT_TEST_PORT"] ?? "")",
            "--username", Broker.env["MQTT_TEST_USER"] ?? "", "--password-file", dir + "/password", "--timeout", "10",
        ])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("refused"), "\(result.stderr)")
    }
}
