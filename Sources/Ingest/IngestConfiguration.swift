public import Alerting
import Foundation
import Yams

/// The `quakewarn ingest --config FILE` daemon's own configuration (YAML).
///
/// ```yaml
/// configuration: lezhi.yaml          # stations/targets/alerting (QuakeWarnConfiguration), relative to this file
/// status: Exercise                   # optional: Actual | Exercise | Test (default: the station config's alerting.status)
/// seedlink:
///   host: 127.0.0.1
///   port: 18000
///   stations:                        # optional: default every configured station, its channels as SELECTs
///     - { network: SC, station: NANTA, selectors: ["00HN?"] }
///   stateFile: state/seedlink.state  # optional, relative to this file
///   stateSaveIntervalSeconds: 1
///   keepAliveSeconds: 30
///   networkTimeoutSeconds: 120
///   reconnect: { initialDelaySeconds: 0.5, maximumDelaySeconds: 30, jitter: 0.1 }
/// output: { directory: ingest-out }  # picks/events/decisions/warnings JSONL like replay
/// relay: { host: 127.0.0.1, port: 7400, tokenFile: relay.token }   # optional
/// # or, to run the relay inside this process: relay: { configuration: relay.yaml }
/// signing: { privateKeyFile: keys/quakewarn-signing.key }         # optional
/// metrics: { host: 127.0.0.1, port: 9464 }                        # optional (port 0: any)
/// streamTimeoutSeconds: 10           # data-time skew after which a lagging stream stops gating
/// timeJumpSeconds: 600               # a larger backward/forward jump is a clock jump (InputGuard)
/// warmUp: true                       # warm the warning path up on synthetic data before the first record (DaemonWarmUp)
/// realtimePriority: 10               # optional: SCHED_FIFO priority 1–99 of the processing thread (needs CAP_SYS_NICE)
/// cpuWakeupLatencyMicroseconds: 0    # optional: PM QoS CPU wake-up latency limit held while running (needs root)
/// keepWarmMilliseconds: 10           # re-run the warning path without effect this often (0: off; Processor.keepWarm)
/// ```
///
/// Every relative path is resolved against the directory of the ingest file. Unknown keys are
/// rejected; every error names the file and the key path (``ConfigurationError``).
public struct IngestConfiguration: Sendable, Equatable {
    public struct SeedLinkStation: Sendable, Equatable {
        public var network: String
        public var station: String
        public var selectors: [String]
        public init(network: String, station: String, selectors: [String]) {
            self.network = network
            self.station = station
            self.selectors = selectors
        }
    }

    public struct SeedLink: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// Empty: every station of the station configuration, with its channels as selectors.
        public var stations: [SeedLinkStation]
        /// Absolute path (resolved), or nil for no state file.
        public var stateFile: String?
        public var stateSaveIntervalSeconds: Double
        public var keepAliveSeconds: Double?
        public var networkTimeoutSeconds: Double
        public var initialReconnectDelaySeconds: Double
        public var maximumReconnectDelaySeconds: Double
        public var reconnectJitter: Double

        public init(host: String = "127.0.0.1", port: Int = 18000, stations: [SeedLinkStation] = [], stateFile: String? = nil,
                    stateSaveIntervalSeconds: Double = 1, keepAliveSeconds: Double? = 30, networkTimeoutSeconds: Double = 120,
                    initialReconnectDelaySeconds: Double = 0.5, maximumReconnectDelaySeconds: Double = 30,
                    reconnectJitter: Double = 0) {
            self.host = host
            self.port = port
            self.stations = stations
            self.stateFile = stateFile
            self.stateSaveIntervalSeconds = stateSaveIntervalSeconds
            self.keepAliveSeconds = keepAliveSeconds
            self.networkTimeoutSeconds = networkTimeoutSeconds
            self.initialReconnectDelaySeconds = initialReconnectDelaySeconds
            self.maximumReconnectDelaySeconds = maximumReconnectDelaySeconds
            self.reconnectJitter = reconnectJitter
        }
    }

    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String = "127.0.0.1", port: Int) {
            self.host = host
            self.port = port
        }
    }

    public struct Relay: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// Absolute path (resolved).
        public var tokenFile: String?
        /// Absolute path of a relay configuration (the file `quakewarn relay --config` reads): the
        /// relay then runs inside the ingest process and ``host``, ``port`` and ``tokenFile`` are
        /// unused (its input section gives them; port 0 is fine).
        public var configurationFile: String?
        public init(host: String, port: Int, tokenFile: String?, configurationFile: String? = nil) {
            self.host = host
            self.port = port
            self.tokenFile = tokenFile
            self.configurationFile = configurationFile
        }
    }

    /// The ingest file itself (as given).
    public var file: String
    /// Absolute path of the station/target configuration.
    public var stationConfigurationPath: String
    /// Overrides the station configuration's `alerting.status` when set.
    public var status: WarningStatus?
    public var seedlink: SeedLink
    /// Absolute path of the output directory (nil: no JSONL files).
    public var outputDirectory: String?
    public var relay: Relay?
    /// Absolute path of the Ed25519 private key (nil: warnings are not signed).
    public var privateKeyFile: String?
    public var metrics: Endpoint?
    /// A stream whose received data lag the most advanced stream by more than this (data time,
    /// seconds) stops holding the others back (``ReplayPipeline/Configuration/stallTimeoutSeconds``).
    public var streamTimeoutSeconds: Double
    /// Clock-jump threshold of the per-stream ``InputGuard`` (seconds).
    public var timeJumpSeconds: Double
    /// Run the warning path on synthetic data before the first record (``DaemonWarmUp``), so
    /// that the first Alert does not pay the process's one-time costs. Default true.
    public var warmUp: Bool
    /// SCHED_FIFO priority (1…99) of the processing thread (``IngestService/processingLoop``:
    /// SeedLink reads, pipeline, signing, in-process relay); nil (default): the normal
    /// time-sharing priority. See ``ProcessingThreadPriority``.
    public var realtimePriority: Int?
    /// A CPU wake-up latency limit (µs, 0…2,000,000,000) requested from the kernel's PM QoS
    /// interface while the daemon runs (``CPULatencyRequest``); 0 keeps idle CPUs polling instead
    /// of halting. nil (default): no request.
    public var cpuWakeupLatencyMicroseconds: Int?
    /// Every this many milliseconds (1…10,000; in the file 0 is off, absent is
    /// ``defaultKeepWarmMilliseconds``), the processing thread runs a warning's whole path
    /// without effect (``IngestService``'s keep-warm: a scratch station chain and a synthetic
    /// event through a copy of the event stage, signing, the in-process relay's outbox append
    /// rolled back, the PUBLISH encoded and not sent), so that the next real packet finds its
    /// code and data in the caches. nil: off.
    public var keepWarmMilliseconds: Int?
    /// The file's default for `keepWarmMilliseconds`: on, every 10 ms (≈ 2.3 % of a core, 225 µs
    /// per run). At the real-time pace it took the end-to-end pooled p99 from 1.49 to 1.00 ms
    /// (session 9) and, with the pipeline pass, to ≈ 0.8–0.9 ms (session 10; docs/ingest.md,
    /// "Keep-warm").
    public static let defaultKeepWarmMilliseconds = 10

    /// A configuration built in code (tests, embedding); paths are used as given.
    public init(file: String = "", stationConfigurationPath: String, status: WarningStatus? = nil, seedlink: SeedLink,
                outputDirectory: String? = nil, relay: Relay? = nil, privateKeyFile: String? = nil, metrics: Endpoint? = nil,
                streamTimeoutSeconds: Double = 10, timeJumpSeconds: Double = 600, warmUp: Bool = true,
                realtimePriority: Int? = nil, cpuWakeupLatencyMicroseconds: Int? = nil, keepWarmMilliseconds: Int? = nil) {
        self.file = file
        self.stationConfigurationPath = stationConfigurationPath
        self.status = status
        self.seedlink = seedlink
        self.outputDirectory = outputDirectory
        self.relay = relay
        self.privateKeyFile = privateKeyFile
        self.metrics = metrics
        self.streamTimeoutSeconds = streamTimeoutSeconds
        self.timeJumpSeconds = timeJumpSeconds
        self.warmUp = warmUp
        self.realtimePriority = realtimePriority
        self.cpuWakeupLatencyMicroseconds = cpuWakeupLatencyMicroseconds
        self.keepWarmMilliseconds = keepWarmMilliseconds
    }

    // MARK: - Loading

    /// Reads and validates an ingest file.
    /// - Throws: ``ConfigurationError`` naming the file and the key path.
    public static func load(path: String) throws(ConfigurationError) -> IngestConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, keyPath: "", reason: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, keyPath: "", reason: "not UTF-8 text")
        }
        return try parse(yaml: text, file: path)
    }

    /// Parses YAML text; `file` names the file in errors and is the base of relative paths.
    public static func parse(yaml text: String, file: String) throws(ConfigurationError) -> IngestConfiguration {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(file: file, keyPath: "", reason: "invalid YAML: \(oneLine("\(error)"))")
        }
        guard let node else { throw ConfigurationError(file: file, keyPath: "", reason: "the file is empty") }
        let base = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        var r = Reader(file: file, base: base)
        return try r.configuration(node)
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// Walks the YAML node tree, checking keys and types, with key paths for errors.
private struct Reader {
    let file: String
    let base: URL

    func fail(_ path: String, _ reason: String) -> ConfigurationError {
        ConfigurationError(file: file, keyPath: path, reason: reason)
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func mapping(_ node: Node, _ path: String, allowed: Set<String>) throws(ConfigurationError) -> [String: Node] {
        guard case .mapping(let m) = node else { throw fail(path, "expected a mapping") }
        var out: [String: Node] = [:]
        for (k, v) in m {
            guard let key = k.string else { throw fail(path, "keys must be strings") }
            guard allowed.contains(key) else {
                throw fail(join(path, key), "unknown key '\(key)' (allowed: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard out[key] == nil else { throw fail(join(path, key), "duplicate key") }
            out[key] = v
        }
        return out
    }

    func string(_ m: [String: Node], _ key: String, _ path: String) throws(ConfigurationError) -> String? {
        guard let n = m[key] else { return nil }
        guard case .scalar(let s) = n, !s.string.isEmpty else { throw fail(join(path, key), "expected a non-empty string") }
        return s.string
    }

    func double(_ m: [String: Node], _ key: String, _ path: String, range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let n = m[key] else { return nil }
        guard case .scalar(let s) = n, let v = Double(s.string), v.isFinite else {
            throw fail(join(path, key), "expected a number")
        }
        guard range.contains(v) else { throw fail(join(path, key), "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func bool(_ m: [String: Node], _ key: String, _ path: String) throws(ConfigurationError) -> Bool? {
        guard let n = m[key] else { return nil }
        guard case .scalar(let s) = n else { throw fail(join(path, key), "expected true or false") }
        switch s.string {
        case "true": return true
        case "false": return false
        default: throw fail(join(path, key), "expected true or false, found '\(s.string)'")
        }
    }

    func integer(_ m: [String: Node], _ key: String, _ path: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let n = m[key] else { return nil }
        guard case .scalar(let s) = n, let v = Int(s.string) else { throw fail(join(path, key), "expected an integer") }
        guard range.contains(v) else { throw fail(join(path, key), "\(v) is outside \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func port(_ m: [String: Node], _ key: String, _ path: String) throws(ConfigurationError) -> Int? {
        try integer(m, key, path, range: 0...65535)
    }

    func resolve(_ p: String) -> String {
        p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path
    }

    mutating func configuration(_ node: Node) throws(ConfigurationError) -> IngestConfiguration {
        let top = try mapping(node, "", allowed: ["configuration", "status", "seedlink", "output", "relay", "signing",
                                                  "metrics", "streamTimeoutSeconds", "timeJumpSeconds", "warmUp",
                                                  "realtimePriority", "cpuWakeupLatencyMicroseconds", "keepWarmMilliseconds"])
        guard let config = try string(top, "configuration", "") else {
            throw fail("configuration", "required key is missing (the station/target configuration file)")
        }
        var status: WarningStatus?
        if let s = try string(top, "status", "") {
            guard let v = WarningStatus(rawValue: s) else {
                throw fail("status", "'\(s)' is not one of \(WarningStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = v
        }
        guard let slNode = top["seedlink"] else { throw fail("seedlink", "required key is missing") }
        let seedlink = try seedLink(slNode)

        var outputDirectory: String?
        if let n = top["output"] {
            let m = try mapping(n, "output", allowed: ["directory"])
            guard let d = try string(m, "directory", "output") else { throw fail("output.directory", "required key is missing") }
            outputDirectory = resolve(d)
        }
        var relay: IngestConfiguration.Relay?
        if let n = top["relay"] {
            let m = try mapping(n, "relay", allowed: ["host", "port", "tokenFile", "configuration"])
            if let c = try string(m, "configuration", "relay") {
                for key in ["host", "port", "tokenFile"] where m[key] != nil {
                    throw fail("relay.\(key)", "not allowed with relay.configuration (the in-process relay's input section gives it)")
                }
                relay = .init(host: "127.0.0.1", port: 0, tokenFile: nil, configurationFile: resolve(c))
            } else {
                guard let port = try port(m, "port", "relay") else { throw fail("relay.port", "required key is missing") }
                relay = .init(host: try string(m, "host", "relay") ?? "127.0.0.1", port: port,
                              tokenFile: try string(m, "tokenFile", "relay").map(resolve))
            }
        }
        var privateKey: String?
        if let n = top["signing"] {
            let m = try mapping(n, "signing", allowed: ["privateKeyFile"])
            guard let k = try string(m, "privateKeyFile", "signing") else {
                throw fail("signing.privateKeyFile", "required key is missing")
            }
            privateKey = resolve(k)
        }
        var metrics: IngestConfiguration.Endpoint?
        if let n = top["metrics"] {
            let m = try mapping(n, "metrics", allowed: ["host", "port"])
            metrics = .init(host: try string(m, "host", "metrics") ?? "127.0.0.1", port: try port(m, "port", "metrics") ?? 9464)
        }
        let keepWarm = try integer(top, "keepWarmMilliseconds", "", range: 0...10_000) ?? IngestConfiguration.defaultKeepWarmMilliseconds
        return IngestConfiguration(
            file: file, stationConfigurationPath: resolve(config), status: status, seedlink: seedlink,
            outputDirectory: outputDirectory, relay: relay, privateKeyFile: privateKey, metrics: metrics,
            streamTimeoutSeconds: try double(top, "streamTimeoutSeconds", "", range: 0.5...86_400) ?? 10,
            timeJumpSeconds: try double(top, "timeJumpSeconds", "", range: 1...31_622_400) ?? 600,
            warmUp: try bool(top, "warmUp", "") ?? true,
            realtimePriority: try integer(top, "realtimePriority", "", range: 1...99),
            cpuWakeupLatencyMicroseconds: try integer(top, "cpuWakeupLatencyMicroseconds", "", range: 0...2_000_000_000),
            keepWarmMilliseconds: keepWarm == 0 ? nil : keepWarm)
    }

    func seedLink(_ node: Node) throws(ConfigurationError) -> IngestConfiguration.SeedLink {
        let p = "seedlink"
        let m = try mapping(node, p, allowed: ["host", "port", "stations", "stateFile", "stateSaveIntervalSeconds",
                                               "keepAliveSeconds", "networkTimeoutSeconds", "reconnect"])
        var stations: [IngestConfiguration.SeedLinkStation] = []
        if let n = m["stations"] {
            guard case .sequence(let seq) = n else { throw fail(p + ".stations", "expected a list") }
            for (i, s) in seq.enumerated() {
                let sp = "\(p).stations[\(i)]"
                let sm = try mapping(s, sp, allowed: ["network", "station", "selectors"])
                guard let net = try string(sm, "network", sp) else { throw fail(sp + ".network", "required key is missing") }
                guard let sta = try string(sm, "station", sp) else { throw fail(sp + ".station", "required key is missing") }
                var selectors: [String] = []
                if let sel = sm["selectors"] {
                    guard case .sequence(let items) = sel else { throw fail(sp + ".selectors", "expected a list of strings") }
                    for (j, item) in items.enumerated() {
                        guard case .scalar(let v) = item, !v.string.isEmpty else {
                            throw fail("\(sp).selectors[\(j)]", "expected a string")
                        }
                        selectors.append(v.string)
                    }
                }
                stations.append(.init(network: net, station: sta, selectors: selectors))
            }
        }
        var initial = 0.5, maximum = 30.0, jitter = 0.0
        if let n = m["reconnect"] {
            let rp = p + ".reconnect"
            let r = try mapping(n, rp, allowed: ["initialDelaySeconds", "maximumDelaySeconds", "jitter"])
            initial = try double(r, "initialDelaySeconds", rp, range: 0...3600) ?? initial
            maximum = try double(r, "maximumDelaySeconds", rp, range: 0...86_400) ?? maximum
            jitter = try double(r, "jitter", rp, range: 0...1) ?? jitter
            guard maximum >= initial else { throw fail(rp + ".maximumDelaySeconds", "\(maximum) is below initialDelaySeconds \(initial)") }
        }
        var keepAlive: Double? = 30
        if let n = m["keepAliveSeconds"], case .scalar(let s) = n, s.string == "0" || s.string.lowercased() == "off" {
            keepAlive = nil
        } else if let k = try double(m, "keepAliveSeconds", p, range: 0.1...86_400) {
            keepAlive = k
        }
        return .init(
            host: try string(m, "host", p) ?? "127.0.0.1", port: try port(m, "port", p) ?? 18000, stations: stations,
            stateFile: try string(m, "stateFile", p).map(resolve),
            stateSaveIntervalSeconds: try double(m, "stateSaveIntervalSeconds", p, range: 0...3600) ?? 1,
            keepAliveSeconds: keepAlive,
            networkTimeoutSeconds: try double(m, "networkTimeoutSeconds", p, range: 1...86_400) ?? 120,
            initialReconnectDelaySeconds: initial, maximumReconnectDelaySeconds: maximum, reconnectJitter: jitter)
    }
}
