import Foundation
import Yams

/// The relay's configuration file (`quakewarn relay --config FILE`), YAML.
///
/// Every mapping accepts only the keys listed here; an unknown key is an error (a typo in an
/// optional key would otherwise silently select its default). Relative file paths are resolved
/// against the directory of the configuration file. See `config/relay.yaml` for a commented
/// sample and `docs/relay.md` for the operator documentation.
///
/// ```yaml
/// input:        {host: 127.0.0.1, port: 7300, tokenFile: relay-input.token, maxMessageBytes: 65536}
/// verification: {publicKeyFiles: [keys/quakewarn-signing.pub]}
/// outbox:       {path: relay-outbox.sqlite, synchronous: normal, checkpointIntervalMilliseconds: 200}
/// mqtt:         {host: 127.0.0.1, port: 1883, username: relay, passwordFile: mqtt.password,
///                clientId: quakewarn-relay, topicPrefix: quakewarn, inFlightWindow: 32,
///                keepAliveSeconds: 30, reconnect: {initialMilliseconds: 100, maximumMilliseconds: 10000, multiplier: 2}}
/// websocket:    {host: 127.0.0.1, port: 7301, tokensFile: websocket.tokens}     # optional
/// metrics:      {host: 127.0.0.1, port: 9301, maxUnacknowledgedAgeSeconds: 10}  # optional
/// realtimePriority: 10   # optional: SCHED_FIFO priority 1–99 of the relay's loop (own process only)
/// cpuWakeupLatencyMicroseconds: 0   # optional: PM QoS CPU wake-up latency limit (own process only; needs root)
/// ```
public struct RelayConfiguration: Sendable, Equatable {
    /// The authenticated warning input (protocol QWRI/1, see ``RelayInputServer``).
    public struct Input: Sendable, Equatable {
        /// Address to bind; loopback by default (the input is for local ingest daemons).
        public var host: String
        /// TCP port; 0 picks a free one (logged at start).
        public var port: Int
        /// File whose single line is the shared secret publishers send in their hello.
        public var tokenFile: String
        /// Longest accepted line in bytes (newline excluded); longer lines are rejected.
        public var maxMessageBytes: Int

        public init(host: String = "127.0.0.1", port: Int, tokenFile: String, maxMessageBytes: Int = 65_536) {
            self.host = host
            self.port = port
            self.tokenFile = tokenFile
            self.maxMessageBytes = maxMessageBytes
        }
    }

    /// Which signatures are accepted.
    public struct Verification: Sendable, Equatable {
        /// Ed25519 public key files as written by `quakewarn keys generate` (one base64 line).
        /// A warning is accepted when its `keyId` names one of these keys and the signature verifies.
        public var publicKeyFiles: [String]

        public init(publicKeyFiles: [String]) { self.publicKeyFiles = publicKeyFiles }
    }

    /// The durable outbox.
    public struct Outbox: Sendable, Equatable {
        /// SQLite database file (created if missing; `-wal` and `-shm` files appear next to it).
        public var path: String
        /// SQLite `synchronous` level in WAL mode; see ``RelayOutbox`` for what survives what.
        public var synchronous: OutboxSynchronous
        /// Period of the background WAL checkpoints in milliseconds (key
        /// `checkpointIntervalMilliseconds`, 10…60000, default 200); nil (key value 0) = SQLite's
        /// default auto-checkpoint inside commits. See ``RelayOutbox``.
        public var checkpointIntervalMilliseconds: Int?

        public init(path: String, synchronous: OutboxSynchronous = .normal, checkpointIntervalMilliseconds: Int? = 200) {
            self.path = path
            self.synchronous = synchronous
            self.checkpointIntervalMilliseconds = checkpointIntervalMilliseconds
        }

        /// ``checkpointIntervalMilliseconds`` as a duration.
        public var checkpointInterval: Duration? { checkpointIntervalMilliseconds.map { .milliseconds($0) } }
    }

    /// The relay platform's MQTT 3.1.1 broker.
    public struct MQTT: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String?
        /// File whose single line is the broker password (requires ``username``).
        public var passwordFile: String?
        public var clientId: String
        /// First topic level; topics are documented in docs/relay.md.
        public var topicPrefix: String
        /// Maximum QoS 1 messages published and not yet acknowledged (PUBACK).
        public var inFlightWindow: Int
        /// MQTT keep-alive in seconds (0 switches it off).
        public var keepAliveSeconds: Int
        /// Reconnect backoff: attempt n waits `min(initial · multiplier^n, maximum)` ms.
        public var reconnectInitialMilliseconds: Int
        public var reconnectMaximumMilliseconds: Int
        public var reconnectMultiplier: Double

        public init(host: String, port: Int = 1883, username: String? = nil, passwordFile: String? = nil,
                    clientId: String = "quakewarn-relay", topicPrefix: String = "quakewarn", inFlightWindow: Int = 32,
                    keepAliveSeconds: Int = 30, reconnectInitialMilliseconds: Int = 100,
                    reconnectMaximumMilliseconds: Int = 10_000, reconnectMultiplier: Double = 2) {
            self.host = host
            self.port = port
            self.username = username
            self.passwordFile = passwordFile
            self.clientId = clientId
            self.topicPrefix = topicPrefix
            self.inFlightWindow = inFlightWindow
            self.keepAliveSeconds = keepAliveSeconds
            self.reconnectInitialMilliseconds = reconnectInitialMilliseconds
            self.reconnectMaximumMilliseconds = reconnectMaximumMilliseconds
            self.reconnectMultiplier = reconnectMultiplier
        }
    }

    /// Direct WebSocket subscribers (served by WebSocketHub; optional).
    public struct WebSocket: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// File with one subscriber token per line.
        public var tokensFile: String

        public init(host: String = "127.0.0.1", port: Int, tokensFile: String) {
            self.host = host
            self.port = port
            self.tokensFile = tokensFile
        }
    }

    /// The `/metrics` and `/health` HTTP endpoint (optional).
    public struct Metrics: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// `/health` reports degraded when the oldest unacknowledged warning is older (seconds).
        public var maxUnacknowledgedAgeSeconds: Double

        public init(host: String = "127.0.0.1", port: Int, maxUnacknowledgedAgeSeconds: Double = 10) {
            self.host = host
            self.port = port
            self.maxUnacknowledgedAgeSeconds = maxUnacknowledgedAgeSeconds
        }
    }

    public var input: Input
    public var verification: Verification
    public var outbox: Outbox
    public var mqtt: MQTT
    public var websocket: WebSocket?
    public var metrics: Metrics?
    /// `SCHED_FIFO` priority (1…99) of the relay's one loop thread (input, outbox commits, MQTT
    /// client) when the relay runs as its own process (`quakewarn relay`); nil (default): normal
    /// priority. Ignored, with a notice, when the relay runs inside `quakewarn ingest` (it then
    /// runs on the daemon's processing thread: ingest.yaml `realtimePriority`). Needs
    /// CAP_SYS_NICE, else a warning and normal priority. docs/relay.md, "Real-time priority".
    public var realtimePriority: Int?
    /// A CPU wake-up latency limit (µs) requested from the kernel's PM QoS interface while the
    /// relay runs as its own process (`CPULatencyRequest`); nil (default): none. Ignored, with a
    /// notice, inside `quakewarn ingest` (ingest.yaml `cpuWakeupLatencyMicroseconds`: the request
    /// is machine-wide). Needs root, else a warning.
    public var cpuWakeupLatencyMicroseconds: Int?

    public init(input: Input, verification: Verification, outbox: Outbox, mqtt: MQTT,
                websocket: WebSocket? = nil, metrics: Metrics? = nil, realtimePriority: Int? = nil,
                cpuWakeupLatencyMicroseconds: Int? = nil) {
        self.input = input
        self.verification = verification
        self.outbox = outbox
        self.mqtt = mqtt
        self.websocket = websocket
        self.metrics = metrics
        self.realtimePriority = realtimePriority
        self.cpuWakeupLatencyMicroseconds = cpuWakeupLatencyMicroseconds
    }
}

/// SQLite `PRAGMA synchronous` in WAL mode.
public enum OutboxSynchronous: String, Sendable, Equatable, CaseIterable {
    /// Commit = append to the WAL file (write(2), no fsync). Survives `kill -9` of the relay;
    /// an OS crash or power loss can lose the transactions since the last checkpoint.
    case normal
    /// Commit = append to the WAL and fsync it. Also survives power loss; costs one fsync per
    /// accepted warning (milliseconds on most disks).
    case full
}

/// A configuration file that cannot be used: file, dotted key path (with `[i]` indices) and reason.
public struct RelayConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var keyPath: String
    public var reason: String

    public init(file: String, keyPath: String, reason: String) {
        self.file = file
        self.keyPath = keyPath
        self.reason = reason
    }

    /// `file: keyPath: reason` (or `file: reason` for the whole file).
    public var description: String { keyPath.isEmpty ? "\(file): \(reason)" : "\(file): \(keyPath): \(reason)" }
}

extension RelayConfiguration {
    /// Reads and validates a YAML file; relative paths in it are resolved against its directory.
    public static func load(path: String) throws(RelayConfigurationError) -> RelayConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RelayConfigurationError(file: path, keyPath: "", reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RelayConfigurationError(file: path, keyPath: "", reason: "not UTF-8 text")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try parse(yaml: text, file: path, baseDirectory: directory)
    }

    /// Parses YAML text. `file` names the source in errors; relative paths are resolved against
    /// `baseDirectory` (unchanged when nil).
    public static func parse(yaml text: String, file: String,
                             baseDirectory: String? = nil) throws(RelayConfigurationError) -> RelayConfiguration {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            let reason = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            throw RelayConfigurationError(file: file, keyPath: "", reason: "invalid YAML: \(reason)")
        }
        guard let root else { throw RelayConfigurationError(file: file, keyPath: "", reason: "the file is empty") }
        let reader = ConfigReader(file: file, baseDirectory: baseDirectory)
        return try reader.configuration(root)
    }
}

/// Walks the YAML node tree with key paths, so every error names its key.
private struct ConfigReader {
    let file: String
    let baseDirectory: String?

    func fail(_ path: String, _ reason: String) -> RelayConfigurationError {
        RelayConfigurationError(file: file, keyPath: path, reason: reason)
    }

    /// The mapping at `path`, after checking it has only `allowed` keys.
    func mapping(_ node: Node, _ path: String, allowed: [String]) throws(RelayConfigurationError) -> [String: Node] {
        guard let mapping = node.mapping else { throw fail(path, "expected a mapping") }
        var out: [String: Node] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(path, "keys must be strings") }
            let keyPath = path.isEmpty ? name : path + "." + name
            guard allowed.contains(name) else {
                throw fail(keyPath, "unknown key '\(name)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            out[name] = value
        }
        return out
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func required(_ map: [String: Node], _ key: String, _ path: String) throws(RelayConfigurationError) -> Node {
        guard let node = map[key], !isNull(node) else { throw fail(join(path, key), "required key is missing") }
        return node
    }

    func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node { return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string) }
        return false
    }

    func string(_ node: Node, _ path: String) throws(RelayConfigurationError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(path, "expected a string") }
        return scalar.string
    }

    func int(_ node: Node, _ path: String, _ range: ClosedRange<Int>) throws(RelayConfigurationError) -> Int {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else { throw fail(path, "expected an integer") }
        guard range.contains(value) else { throw fail(path, "\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    func double(_ node: Node, _ path: String, minimum: Double) throws(RelayConfigurationError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            throw fail(path, "expected a number")
        }
        guard value >= minimum else { throw fail(path, "\(value) is below \(minimum)") }
        return value
    }

    func filePath(_ node: Node, _ path: String) throws(RelayConfigurationError) -> String {
        let text = try string(node, path)
        guard !text.isEmpty else { throw fail(path, "empty path") }
        guard let baseDirectory, !text.hasPrefix("/") else { return text }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(text).path
    }

    func host(_ node: Node?, _ path: String, default value: String) throws(RelayConfigurationError) -> String {
        guard let node, !isNull(node) else { return value }
        let text = try string(node, path)
        guard !text.isEmpty else { throw fail(path, "empty host") }
        return text
    }

    func configuration(_ root: Node) throws(RelayConfigurationError) -> RelayConfiguration {
        let top = try mapping(root, "", allowed: ["input", "verification", "outbox", "mqtt", "websocket", "metrics",
                                                  "realtimePriority", "cpuWakeupLatencyMicroseconds"])

        let inputNode = try required(top, "input", "")
        let i = try mapping(inputNode, "input", allowed: ["host", "port", "tokenFile", "maxMessageBytes"])
        let input = RelayConfiguration.Input(
            host: try host(i["host"], "input.host", default: "127.0.0.1"),
            port: try int(try required(i, "port", "input"), "input.port", 0...65_535),
            tokenFile: try filePath(try required(i, "tokenFile", "input"), "input.tokenFile"),
            maxMessageBytes: try i["maxMessageBytes"].map { (n) throws(RelayConfigurationError) in
                try int(n, "input.maxMessageBytes", 256...16_777_216)
            } ?? 65_536
        )

        let v = try mapping(try required(top, "verification", ""), "verification", allowed: ["publicKeyFiles"])
        let keysNode = try required(v, "publicKeyFiles", "verification")
        guard let keys = keysNode.sequence else { throw fail("verification.publicKeyFiles", "expected a list of files") }
        var keyFiles: [String] = []
        for (index, key) in keys.enumerated() {
            keyFiles.append(try filePath(key, "verification.publicKeyFiles[\(index)]"))
        }
        guard !keyFiles.isEmpty else { throw fail("verification.publicKeyFiles", "at least one public key file is needed") }

        let o = try mapping(try required(top, "outbox", ""), "outbox",
                            allowed: ["path", "synchronous", "checkpointIntervalMilliseconds"])
        var synchronous = OutboxSynchronous.normal
        if let node = o["synchronous"] {
            let text = try string(node, "outbox.synchronous")
            guard let value = OutboxSynchronous(rawValue: text) else {
                throw fail("outbox.synchronous", "'\(text)' is not normal or full")
            }
            synchronous = value
        }
        var checkpointInterval: Int? = 200
        if let node = o["checkpointIntervalMilliseconds"] {
            let value = try int(node, "outbox.checkpointIntervalMilliseconds", 0...60_000)
            guard value == 0 || value >= 10 else {
                throw fail("outbox.checkpointIntervalMilliseconds", "\(value) is neither 0 (off) nor 10…60000")
            }
            checkpointInterval = value == 0 ? nil : value
        }
        let outbox = RelayConfiguration.Outbox(path: try filePath(try required(o, "path", "outbox"), "outbox.path"),
                                               synchronous: synchronous, checkpointIntervalMilliseconds: checkpointInterval)

        let m = try mapping(try required(top, "mqtt", ""), "mqtt", allowed: [
            "host", "port", "username", "passwordFile", "clientId", "topicPrefix", "inFlightWindow",
            "keepAliveSeconds", "reconnect",
        ])
        var mqtt = RelayConfiguration.MQTT(host: try host(m["host"], "mqtt.host", default: "127.0.0.1"))
        if let node = m["port"] { mqtt.port = try int(node, "mqtt.port", 1...65_535) }
        if let node = m["username"] { mqtt.username = try string(node, "mqtt.username") }
        if let node = m["passwordFile"] { mqtt.passwordFile = try filePath(node, "mqtt.passwordFile") }
        if mqtt.passwordFile != nil && mqtt.username == nil {
            throw fail("mqtt.passwordFile", "a password requires mqtt.username (MQTT 3.1.1)")
        }
        if let node = m["clientId"] {
            mqtt.clientId = try string(node, "mqtt.clientId")
            guard !mqtt.clientId.isEmpty, mqtt.clientId.utf8.count <= 65_535 else {
                throw fail("mqtt.clientId", "must be a non-empty string")
            }
        }
        if let node = m["topicPrefix"] {
            mqtt.topicPrefix = try string(node, "mqtt.topicPrefix")
            let bad = mqtt.topicPrefix.isEmpty || mqtt.topicPrefix.contains("+") || mqtt.topicPrefix.contains("#")
                || mqtt.topicPrefix.hasSuffix("/") || mqtt.topicPrefix.contains("\u{0}")
            guard !bad else { throw fail("mqtt.topicPrefix", "'\(mqtt.topicPrefix)' must be non-empty, without + # NUL or a trailing /") }
        }
        if let node = m["inFlightWindow"] { mqtt.inFlightWindow = try int(node, "mqtt.inFlightWindow", 1...65_000) }
        if let node = m["keepAliveSeconds"] { mqtt.keepAliveSeconds = try int(node, "mqtt.keepAliveSeconds", 0...65_535) }
        if let node = m["reconnect"] {
            let r = try mapping(node, "mqtt.reconnect", allowed: ["initialMilliseconds", "maximumMilliseconds", "multiplier"])
            if let n = r["initialMilliseconds"] {
                mqtt.reconnectInitialMilliseconds = try int(n, "mqtt.reconnect.initialMilliseconds", 0...3_600_000)
            }
            if let n = r["maximumMilliseconds"] {
                mqtt.reconnectMaximumMilliseconds = try int(n, "mqtt.reconnect.maximumMilliseconds", 0...3_600_000)
            }
            if let n = r["multiplier"] { mqtt.reconnectMultiplier = try double(n, "mqtt.reconnect.multiplier", minimum: 1) }
            guard mqtt.reconnectMaximumMilliseconds >= mqtt.reconnectInitialMilliseconds else {
                throw fail("mqtt.reconnect.maximumMilliseconds", "must be ≥ initialMilliseconds")
            }
        }

        var websocket: RelayConfiguration.WebSocket?
        if let node = top["websocket"], !isNull(node) {
            let w = try mapping(node, "websocket", allowed: ["host", "port", "tokensFile"])
            websocket = RelayConfiguration.WebSocket(
                host: try host(w["host"], "websocket.host", default: "127.0.0.1"),
                port: try int(try required(w, "port", "websocket"), "websocket.port", 0...65_535),
                tokensFile: try filePath(try required(w, "tokensFile", "websocket"), "websocket.tokensFile"))
        }
        var metrics: RelayConfiguration.Metrics?
        if let node = top["metrics"], !isNull(node) {
            let x = try mapping(node, "metrics", allowed: ["host", "port", "maxUnacknowledgedAgeSeconds"])
            metrics = RelayConfiguration.Metrics(
                host: try host(x["host"], "metrics.host", default: "127.0.0.1"),
                port: try int(try required(x, "port", "metrics"), "metrics.port", 0...65_535),
                maxUnacknowledgedAgeSeconds: try x["maxUnacknowledgedAgeSeconds"].map { (n) throws(RelayConfigurationError) in
                    try double(n, "metrics.maxUnacknowledgedAgeSeconds", minimum: 0)
                } ?? 10)
        }
        let realtimePriority = try top["realtimePriority"].map { (n) throws(RelayConfigurationError) in
            try int(n, "realtimePriority", 1...99)
        }
        let cpuLatency = try top["cpuWakeupLatencyMicroseconds"].map { (n) throws(RelayConfigurationError) in
            try int(n, "cpuWakeupLatencyMicroseconds", 0...2_000_000_000)
        }
        return RelayConfiguration(input: input, verification: .init(publicKeyFiles: keyFiles), outbox: outbox,
                                  mqtt: mqtt, websocket: websocket, metrics: metrics, realtimePriority: realtimePriority,
                                  cpuWakeupLatencyMicroseconds: cpuLatency)
    }
}

/// Reading the secrets the configuration points to.
extension RelayConfiguration {
    /// The first non-empty line of a secret file, trimmed; errors name the file and the key.
    public static func readSecret(path: String, key: String) throws(RelayConfigurationError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RelayConfigurationError(file: path, keyPath: key, reason: "cannot read the file")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) })
            .first(where: { !$0.isEmpty }) else {
            throw RelayConfigurationError(file: path, keyPath: key, reason: "the file holds no secret")
        }
        return line
    }

    /// The input token (``Input/tokenFile``).
    public func inputToken() throws(RelayConfigurationError) -> String {
        try Self.readSecret(path: input.tokenFile, key: "input.tokenFile")
    }

    /// The broker password (``MQTT/passwordFile``), nil without one.
    public func mqttPassword() throws(RelayConfigurationError) -> String? {
        guard let path = mqtt.passwordFile else { return nil }
        return try Self.readSecret(path: path, key: "mqtt.passwordFile")
    }
}
