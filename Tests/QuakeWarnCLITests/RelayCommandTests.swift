import Foundation
import Synchronization
import Testing
import TestSupport
import WebSocketHub

#if canImport(Glibc)
import Glibc
#endif

/// `quakewarn relay …` as an operator runs it (the service itself is tested in RelayTests).
@Suite("quakewarn relay")
struct RelayCommandTests {
    /// A scratch directory with a key pair (made by `quakewarn keys generate`), a token and a config.
    struct Setup {
        let directory: String
        var config: String { directory + "/relay.yaml" }
        var privateKey: String { directory + "/keys/quakewarn-signing.key" }

        init(inputPort: Int = 0, extra: String = "") throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-relay-cli-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let keys = try CLIRunner.run(["keys", "generate", "--out", directory + "/keys"])
            guard keys.status == 0 else { throw CLIRunner.Failure.executableNotFound([keys.stderr]) }
            try Data("cli-test-token\n".utf8).write(to: URL(fileURLWithPath: directory + "/input.token"))
            // Broker on port 1: unreachable; the relay still accepts and stores (pending).
            try Data("""
                input: {port: \(inputPort), tokenFile: input.token}
                verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
                outbox: {path: outbox.sqlite}
                mqtt: {host: 127.0.0.1, port: 1, reconnect: {initialMilliseconds: 50, maximumMilliseconds: 500}}
                \(extra)
                """.utf8).write(to: URL(fileURLWithPath: config))
        }

        func write(_ name: String, _ text: String) throws -> String {
            let path = directory + "/" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// The warning id inside a signed envelope (payload is the warning's canonical JSON).
    static func payloadID(_ envelope: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(envelope.utf8)) as? [String: Any],
              let payload = object["payload"] as? String,
              let data = Data(base64Encoded: payload),
              let warning = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return warning["id"] as? String
    }

    static func warningJSON(id: String, update: Int = 0, status: String = "Exercise") -> String {
        """
        {"id":"\(id)","updateNumber":\(update),"status":"\(status)","msgType":"\(update == 0 ? "Alert" : "Update")",\
        "originTime":"2026-11-29T03:00:00.000000Z","epicenter":{"latitudeDegrees":31.0,"longitudeDegrees":103.4},\
        "depthKilometers":14.0,"magnitude":6.5,"magnitudeUncertainty":0.3,"magnitudeType":"Mpd","numberOfStations":2,\
        "targets":[],"createdTime":"2026-11-29T03:00:08.000000Z"}
        """
    }

    @Test("a bad configuration is exit 2 naming the file and key")
    func badConfiguration() throws {
        let setup = try Setup(extra: "colour: red")
        defer { setup.remove() }
        let result = try CLIRunner.run(["relay", "--config", setup.config])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(setup.config): colour: unknown key 'colour'"), "\(result.stderr)")
        let missing = try CLIRunner.run(["relay", "run", "--config", setup.directory + "/nope.yaml"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.yaml: cannot read the file"))
        let good = try Setup()
        defer { good.remove() }
        try FileManager.default.removeItem(atPath: good.directory + "/input.token")
        let noToken = try CLIRunner.run(["relay", "--config", good.config])
        #expect(noToken.status == 2 && noToken.stderr.contains("input.token: input.tokenFile: cannot read the file"), "\(noToken.stderr)")
    }

    @Test("publish checks every line first: Actual refused, malformed and unsigned lines named by file:line")
    func publishValidation() throws {
        let setup = try Setup()
        defer { setup.remove() }
        let actual = try setup.write("actual.jsonl", Self.warningJSON(id: "a") + "\n" + Self.warningJSON(id: "b", status: "Actual") + "\n")
        var result = try CLIRunner.run(["relay", "publish", actual, "--config", setup.config, "--private-key", setup.privateKey])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(actual):2: status Actual refused"), "\(result.stderr)")
        #expect(result.stdout.isEmpty, "nothing sent")

        let malformed = try setup.write("bad.jsonl", Self.warningJSON(id: "a") + "\n\n{oops\n")
        result = try CLIRunner.run(["relay", "publish", malformed, "--config", setup.config, "--private-key", setup.privateKey])
        #expect(result.status == 2 && result.stderr.contains("\(malformed):3: not a JSON object"), "\(result.stderr)")

        let unsigned = try setup.write("unsigned.jsonl", Self.warningJSON(id: "a") + "\n")
        result = try CLIRunner.run(["relay", "publish", unsigned, "--config", setup.config])
        #expect(result.status == 2 && result.stderr.contains("\(unsigned):1: unsigned warning and no --private-key"))

        let notWarning = try setup.write("nw.jsonl", "{\"id\":\"x\"}\n")
        result = try CLIRunner.run(["relay", "publish", notWarning, "--config", setup.config, "--private-key", setup.privateKey])
        #expect(result.status == 2 && result.stderr.contains("\(notWarning):1: not a WarningMessage"))
    }

    @Test("publish drills into a running relay: one ack per line, duplicates recognised; SIGTERM stops it cleanly")
    func publishToRunningRelay() async throws {
        let setup = try Setup()
        defer { setup.remove() }
        let relay = try Self.startRelay(["relay", "--config", setup.config, "--log-level", "info"])
        defer { relay.killIfRunning() }
        // "relay: input listening on 127.0.0.1:PORT", woken by each chunk of its stderr.
        let inputPort = try await relay.output.wait(30, "relay input listening",
                                                   for: OutputCollector.number(after: "relay: input listening on 127.0.0.1:"))
        // publish reads the input address from a config: same file with the bound port.
        let publishConfig = try setup.write("publish.yaml", """
            input: {port: \(inputPort), tokenFile: input.token}
            verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
            outbox: {path: unused.sqlite}
            mqtt: {host: 127.0.0.1}
            """)
        let drill = try setup.write("drill.jsonl", Self.warningJSON(id: "drill-1") + "\n" + Self.warningJSON(id: "drill-1", update: 1) + "\n")
        let first = try CLIRunner.run(["relay", "publish", drill, "--config", publishConfig, "--private-key", setup.privateKey])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdoutLines == ["{\"line\":1,\"ack\":\"drill-1\",\"update\":0,\"duplicate\":false}",
                                      "{\"line\":2,\"ack\":\"drill-1\",\"update\":1,\"duplicate\":false}"])
        let again = try CLIRunner.run(["relay", "publish", drill, "--config", publishConfig, "--private-key", setup.privateKey])
        #expect(again.stdoutLines == ["{\"line\":1,\"ack\":\"drill-1\",\"update\":0,\"duplicate\":true}",
                                      "{\"line\":2,\"ack\":\"drill-1\",\"update\":1,\"duplicate\":true}"])
        let badToken = try setup.write("bad-token.yaml", """
            input: {port: \(inputPort), tokenFile: wrong.token}
            verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
            outbox: {path: unused.sqlite}
            mqtt: {host: 127.0.0.1}
            """)
        _ = try setup.write("wrong.token", "nope\n")
        let refused = try CLIRunner.run(["relay", "publish", drill, "--config", badToken, "--private-key", setup.privateKey])
        #expect(refused.status == 2 && refused.stderr.contains("unauthorized"), "\(refused.stderr)")

        kill(relay.process.processIdentifier, SIGTERM)
        #expect(try await relay.exit.wait(30, "relay stops after SIGTERM") == 0)
        // The whole log: stderr reaches end of file once the relay has exited.
        try await relay.output.changes.wait(10, "relay stderr closed") { relay.output.isFinished }
        let log = relay.output.text
        #expect(log.contains("accepted") && log.contains("relay stopped"), "\(log.suffix(3000))")
    }

    @Test("relay serves WebSocket subscribers: a token holder receives every accepted warning, signed; a wrong token is refused")
    func websocketSubscribers() async throws {
        let setup = try Setup(extra: "websocket: {port: 0, tokensFile: ws.tokens}")
        defer { setup.remove() }
        _ = try setup.write("ws.tokens", "# school loudspeaker controllers\nschool-7-token\n\n")
        let relay = try Self.startRelay(["relay", "--config", setup.config])
        defer { relay.killIfRunning() }
        let log = { relay.output.text }
        // Both lines, woken by each chunk of the relay's stderr.
        let input = try await relay.output.wait(30, "relay input listening",
                                                for: OutputCollector.number(after: "relay: input listening on 127.0.0.1:"))
        let hubPort = try await relay.output.wait(30, "WebSocket line",
                                                  for: OutputCollector.number(after: "relay: WebSocket subscribers on ws://127.0.0.1:"))

        // A wrong token is refused at the handshake (HTTP 401).
        await #expect(throws: WebSocketClientError.self) {
            _ = try await WebSocketClient.connect(.init(url: WebSocketURL(host: "127.0.0.1", port: hubPort, target: "/warnings"),
                                                       bearerToken: "guess")) { _ in }
        }
        let received = Mutex<[String]>([])
        let arrivals = ChangeSignal()  // notified after every message received
        let client = try await WebSocketClient.connect(
            .init(url: WebSocketURL(host: "127.0.0.1", port: hubPort, target: "/warnings"), bearerToken: "school-7-token")
        ) { event in
            if case let .text(text, _) = event {
                received.withLock { $0.append(text) }
                arrivals.notify()
            }
        }

        let publishConfig = try setup.write("publish.yaml", """
            input: {port: \(input), tokenFile: input.token}
            verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
            outbox: {path: unused.sqlite}
            mqtt: {host: 127.0.0.1}
            """)
        let drill = try setup.write("drill.jsonl", Self.warningJSON(id: "ws-1") + "\n" + Self.warningJSON(id: "ws-1", update: 1) + "\n")
        let published = try CLIRunner.run(["relay", "publish", drill, "--config", publishConfig, "--private-key", setup.privateKey])
        #expect(published.status == 0, "\(published.stderr)")
        try? await arrivals.wait(20, "two messages") { received.withLock { $0.count } >= 2 }
        let messages = received.withLock { $0 }
        try #require(messages.count == 2, "received \(messages.count) messages; relay log: \(log().suffix(2000))")
        // Each is the signed envelope; `quakewarn verify` accepts it with the publisher's key and
        // the payload is the published warning, in order.
        for (index, message) in messages.enumerated() {
            let path = try setup.write("received-\(index).json", message)
            let verified = try CLIRunner.run(["verify", path, "--public-key", setup.directory + "/keys/quakewarn-signing.pub"])
            #expect(verified.status == 0, "\(verified.stderr)")
            #expect(message.contains("quakewarn-signed-v1"))
        }
        #expect(messages.map(Self.payloadID) == ["ws-1", "ws-1"])
        // A duplicate re-publish is acknowledged but not broadcast again: the next message the
        // subscriber sees is the new warning published after it.
        _ = try CLIRunner.run(["relay", "publish", drill, "--config", publishConfig, "--private-key", setup.privateKey])
        let next = try setup.write("next.jsonl", Self.warningJSON(id: "ws-2") + "\n")
        _ = try CLIRunner.run(["relay", "publish", next, "--config", publishConfig, "--private-key", setup.privateKey])
        try? await arrivals.wait(20, "a third message") { received.withLock { $0.count } >= 3 }
        let all = received.withLock { $0 }
        try #require(all.count >= 3)
        #expect(Self.payloadID(all[2]) == "ws-2", "duplicates were broadcast again: \(all.count) messages")
        await client.abort()
        kill(relay.process.processIdentifier, SIGTERM)
    }

    /// A `quakewarn` child whose stderr is collected as it arrives and whose exit is watched.
    final class RelayProcess {
        let process: Process
        let output = OutputCollector()
        let exit = ExitWatch()

        init(_ process: Process) { self.process = process }

        func killIfRunning() { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    static func startRelay(_ arguments: [String]) throws -> RelayProcess {
        let process = Process()
        process.executableURL = try CLIRunner.executable()
        process.arguments = arguments
        let relay = RelayProcess(process)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        relay.output.attach(err)
        relay.exit.install(on: process)
        try process.run()
        return relay
    }

    @Test("bench runs end to end through the test broker and prints four percentile rows",
          .enabled(if: ProcessInfo.processInfo.environment["MQTT_TEST_HOST"] != nil, "MQTT_TEST_* not set"))
    func bench() throws {
        let result = try CLIRunner.run(["relay", "bench", "--count", "50", "--warmup", "5", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdoutLines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(rows.map { $0["measurement"] as? String } == ["input send → subscriber receipt", "input send → relay ack (committed)",
                                                              "outbox append alone", "verify + decode alone"])
        for row in rows {
            #expect((row["count"] as? NSNumber)?.intValue == 50)
            let p50 = (row["p50Microseconds"] as? NSNumber)?.doubleValue ?? -1
            let max = (row["maxMicroseconds"] as? NSNumber)?.doubleValue ?? -1
            #expect(p50 > 0 && max >= p50, "\(row)")
        }
    }
}
