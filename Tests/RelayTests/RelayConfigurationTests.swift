import Foundation
import Relay
import Testing
import TestSupport

@Suite("Relay configuration")
struct RelayConfigurationTests {
    static let minimal = """
        input: {port: 7300, tokenFile: input.token}
        verification: {publicKeyFiles: [keys/a.pub, /etc/quakewarn/b.pub]}
        outbox: {path: outbox.sqlite}
        mqtt: {host: broker.local}
        """

    @Test("defaults, and relative paths resolved against the file's directory")
    func defaults() throws {
        let c = try RelayConfiguration.parse(yaml: Self.minimal, file: "r.yaml", baseDirectory: "/srv/relay")
        #expect(c.input == .init(host: "127.0.0.1", port: 7300, tokenFile: "/srv/relay/input.token", maxMessageBytes: 65_536))
        #expect(c.verification.publicKeyFiles == ["/srv/relay/keys/a.pub", "/etc/quakewarn/b.pub"])
        #expect(c.outbox == .init(path: "/srv/relay/outbox.sqlite", synchronous: .normal))
        #expect(c.mqtt.host == "broker.local")
        #expect(c.mqtt.port == 1883)
        #expect(c.mqtt.topicPrefix == "quakewarn")
        #expect(c.mqtt.inFlightWindow == 32)
        #expect(c.mqtt.username == nil && c.mqtt.passwordFile == nil)
        #expect(c.websocket == nil && c.metrics == nil)
    }

    @Test("the committed sample config/relay.yaml is valid")
    func sample() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/relay.yaml").path
        let c = try RelayConfiguration.load(path: path)
        #expect(c.input.port == 7300)
        #expect(c.mqtt.username == "quakewarn-relay")
        #expect(c.mqtt.passwordFile?.hasSuffix("config/secrets/mqtt.password") == true)
        #expect(c.mqtt.reconnectMaximumMilliseconds == 10_000)
        #expect(c.metrics?.port == 9301)
        #expect(c.outbox.synchronous == .normal)
    }

    @Test("errors name the file and the key path", arguments: [
        ("input: {port: 1, tokenFile: t, colour: red}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h}",
         "input.colour", "unknown key"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h, reconnect: {initialMs: 5}}",
         "mqtt.reconnect.initialMs", "unknown key"),
        ("input: {tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h}", "input.port", "missing"),
        ("input: {port: 70000, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h}",
         "input.port", "outside"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: []}\noutbox: {path: o}\nmqtt: {host: h}",
         "verification.publicKeyFiles", "at least one"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o, synchronous: off}\nmqtt: {host: h}",
         "outbox.synchronous", "normal or full"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h, passwordFile: p}",
         "mqtt.passwordFile", "username"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h, topicPrefix: 'a/#'}",
         "mqtt.topicPrefix", "without"),
        ("input: {port: 1, tokenFile: t}\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h}\nextra: 1",
         "extra", "unknown key"),
        ("input: [1, 2]\nverification: {publicKeyFiles: [k]}\noutbox: {path: o}\nmqtt: {host: h}", "input", "mapping"),
    ])
    func errors(yaml: String, keyPath: String, reason: String) {
        #expect {
            _ = try RelayConfiguration.parse(yaml: yaml, file: "relay.yaml")
        } throws: { error in
            guard let error = error as? RelayConfigurationError else { return false }
            return error.file == "relay.yaml" && error.keyPath == keyPath && error.reason.contains(reason)
                && error.description.hasPrefix("relay.yaml: \(keyPath): ")
        }
    }

    @Test("an unreadable file and invalid YAML are reported with the file name")
    func unreadable() {
        #expect(throws: RelayConfigurationError(file: "/nonexistent/relay.yaml", keyPath: "", reason: "cannot read the file")) {
            try RelayConfiguration.load(path: "/nonexistent/relay.yaml")
        }
        #expect {
            _ = try RelayConfiguration.parse(yaml: "input: {port: [", file: "bad.yaml")
        } throws: { error in
            (error as? RelayConfigurationError).map { $0.file == "bad.yaml" && $0.reason.hasPrefix("invalid YAML") } ?? false
        }
    }

    @Test("secret files: first non-empty line, trimmed; missing file names the key")
    func secrets() throws {
        let fixture = try RelayFixture()
        defer { fixture.remove() }
        let path = fixture.directory + "/secret"
        try Data("\n  s3cret  \nignored\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try RelayConfiguration.readSecret(path: path, key: "input.tokenFile") == "s3cret")
        #expect(throws: RelayConfigurationError(file: fixture.directory + "/none", keyPath: "input.tokenFile", reason: "cannot read the file")) {
            try RelayConfiguration.readSecret(path: fixture.directory + "/none", key: "input.tokenFile")
        }
    }
}
