import Alerting
import ArgumentParser
import Dispatch
import Foundation
import Histogram
import Logging
import MQTT
import NIOCore
import Relay
import SeismicCore
import ServiceLifecycle
import Synchronization
import UnixSignals
import WebSocketHub

/// `quakewarn relay …`: the forwarding service and its tools (docs/relay.md).
struct RelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Forwarding service: verified warnings → durable outbox → MQTT QoS 1 (and tools).",
        subcommands: [RelayRunCommand.self, RelayPublishCommand.self, RelayBenchCommand.self],
        defaultSubcommand: RelayRunCommand.self
    )
}

/// Loads the relay configuration or fails with exit status 2 naming file and key.
private func loadRelayConfiguration(_ path: String, command: any ParsableCommand.Type) throws -> RelayConfiguration {
    do {
        return try RelayConfiguration.load(path: path)
    } catch {
        throw command.fail("\(error)")
    }
}

/// Runs `body` on the Swift concurrency pool and blocks the calling (main) thread until it ends.
private func blockingRun<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task {
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        box.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    guard let result = box.withLock({ $0 }) else { throw ExitCode(1) }
    return try result.get()
}

private func makeLogger(level: Logger.Level) -> Logger {
    var logger = Logger(label: "quakewarn.relay", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = level
    return logger
}

/// `quakewarn relay [run] --config FILE`.
struct RelayRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the forwarding service (default subcommand).",
        discussion: """
            Accepts signed warnings on the QWRI/1 input (token in input.tokenFile), verifies their \
            Ed25519 signatures against verification.publicKeyFiles, commits them to the SQLite outbox \
            and acknowledges, then publishes them with MQTT QoS 1 to \
            <topicPrefix>/warnings/<status>/<level> (CAP envelopes to <topicPrefix>/cap/<status>/<level>). \
            Unacknowledged entries are re-sent after a restart. Logs go to stderr; the line \
            "relay: input listening on HOST:PORT" is printed once the input is open. SIGTERM/SIGINT \
            stop it gracefully. See docs/relay.md.
            """
    )

    @Option(help: "Relay configuration file (YAML, see config/relay.yaml).")
    var config: String

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' must be trace, debug, info, notice, warning, error or critical")
        }
    }

    func run() throws {
        let configuration = try loadRelayConfiguration(config, command: Self.self)
        // Check the referenced files now, so that a bad path is exit 2 with the key named.
        do {
            _ = try RelayVerifier.load(publicKeyFiles: configuration.verification.publicKeyFiles)
            _ = try configuration.inputToken()
            _ = try configuration.mqttPassword()
        } catch {
            throw Self.fail("\(error)")
        }
        // Direct WebSocket subscribers: tokens, one per line ('#' comments and blank lines ignored).
        var hubConfiguration: WebSocketHub.Configuration?
        if let websocket = configuration.websocket {
            let tokens: Set<String>
            do {
                tokens = try RelayWebSocketTokens.load(path: websocket.tokensFile)
            } catch {
                throw Self.fail("\(error)")
            }
            hubConfiguration = WebSocketHub.Configuration(host: websocket.host, port: websocket.port, tokens: tokens)
        }
        let logger = makeLogger(level: Logger.Level(rawValue: logLevel) ?? .info)
        let host = configuration.input.host
        let hubSettings = hubConfiguration
        do {
            try blockingRun {
                var hub: WebSocketHub?
                if let hubSettings {
                    let started = try await WebSocketHub.start(hubSettings, logger: logger)
                    Console.error("relay: WebSocket subscribers on ws://\(hubSettings.host):\(started.port)\(hubSettings.path)")
                    hub = started
                }
                let service = RelayService(configuration: configuration, broadcaster: hub, logger: logger)
                let group = ServiceGroup(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
                Task {
                    if let ports = try? await service.waitUntilListening() {
                        var line = "relay: input listening on \(host):\(ports.input)"
                        if let metrics = ports.metrics { line += ", metrics on \(configuration.metrics?.host ?? host):\(metrics)" }
                        Console.error(line)
                    }
                }
                do {
                    try await group.run()
                } catch {
                    await hub?.shutdown()
                    throw error
                }
                await hub?.shutdown()
            }
        } catch {
            Self.printError("\(error)")
            throw ExitCode(1)
        }
    }
}

/// `quakewarn relay publish FILE.jsonl --config FILE [--private-key KEY] [--allow-actual]`.
struct RelayPublishCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "publish",
        abstract: "Inject warnings into a running relay (drills, tests).",
        discussion: """
            FILE.jsonl holds one JSON object per line: a WarningMessage (signed here with \
            --private-key) or an already signed envelope (forwarded unchanged). Every line is checked \
            before anything is sent; status Actual is refused unless --allow-actual (drills use \
            Exercise). Connects to the relay's input (input.host/port/tokenFile of --config) and \
            prints one JSON line per input line: {"line":K,"ack":ID,"update":N,"duplicate":B} \
            (with "type":"cap" for CAP envelopes). Exit 2 on bad input or a rejection, naming \
            the file and line.
            """
    )

    @Argument(help: "JSON-lines file of warnings or signed envelopes.")
    var file: String

    @Option(help: "Relay configuration file (for the input address and token).")
    var config: String

    @Option(name: .customLong("private-key"), help: "Ed25519 private key to sign unsigned warnings.")
    var privateKey: String?

    @Flag(name: .customLong("allow-actual"), help: "Allow status Actual (real warnings!).")
    var allowActual = false

    func run() throws {
        let configuration = try loadRelayConfiguration(config, command: Self.self)
        let token: String
        do { token = try configuration.inputToken() } catch { throw Self.fail("\(error)") }
        guard let data = FileManager.default.contents(atPath: file) else { throw Self.fail("\(file): cannot read the file") }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        var key: EnvelopeSigner?
        var envelopes: [(line: Int, envelope: SignedEnvelope)] = []
        for (index, raw) in lines.enumerated() {
            let lineNumber = index + 1
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            let bytes = Data(text.utf8)
            guard let object = try? JSONSerialization.jsonObject(with: bytes) as? [String: Any] else {
                throw Self.fail("\(file):\(lineNumber): not a JSON object")
            }
            let envelope: SignedEnvelope
            if object["signature"] != nil {
                guard let decoded = try? JSONDecoder().decode(SignedEnvelope.self, from: bytes) else {
                    throw Self.fail("\(file):\(lineNumber): malformed signed envelope")
                }
                envelope = decoded
            } else {
                let message: WarningMessage
                do {
                    message = try WarningMessage.decode(json: bytes)
                } catch {
                    throw Self.fail("\(file):\(lineNumber): not a WarningMessage (\(Self.oneLine(error)))")
                }
                guard let privateKey else {
                    throw Self.fail("\(file):\(lineNumber): unsigned warning and no --private-key to sign it")
                }
                let loader: EnvelopeSigner
                if let key {
                    loader = key
                } else {
                    do { loader = EnvelopeSigner(key: try SigningKeyFile.loadPrivateKey(path: privateKey)) } catch { throw Self.fail("--private-key \(privateKey): \(error)") }
                    key = loader
                }
                do {
                    envelope = try loader.sign(message)
                } catch {
                    throw Self.fail("\(file):\(lineNumber): cannot sign (\(error))")
                }
            }
            guard let declared = RelayVerifier.declaredContent(of: envelope) else {
                throw Self.fail("\(file):\(lineNumber): the envelope's payload is not a warning or CAP alert")
            }
            if declared.status == .actual && !allowActual {
                throw Self.fail("\(file):\(lineNumber): status Actual refused (drills use Exercise; pass --allow-actual for real warnings)")
            }
            envelopes.append((lineNumber, envelope))
        }
        let input = configuration.input
        let file = self.file
        let toSend = envelopes
        let outcome: (printed: [String], failure: String?)
        do {
            outcome = try blockingRun { () -> ([String], String?) in
                let host = input.host == "0.0.0.0" ? "127.0.0.1" : input.host
                let client = try await RelayInputClient.connect(host: host, port: input.port, token: token)
                var printed: [String] = []
                for (lineNumber, envelope) in toSend {
                    do {
                        let ack = try await client.send(envelope)
                        var fields: [(String, JSONValue)] = [("line", .integer(lineNumber)), ("ack", .string(ack.id)),
                                                             ("update", .integer(ack.update))]
                        if ack.kind == .cap { fields.append(("type", .string("cap"))) }
                        fields.append(("duplicate", .bool(ack.duplicate)))
                        printed.append(JSONValue.object(fields).text)
                    } catch let error as RelayInputClientError {
                        await client.close()
                        if case let .rejected(code, _, detail) = error {
                            return (printed, "\(file):\(lineNumber): rejected by the relay (\(code)): \(detail)")
                        }
                        return (printed, "\(file):\(lineNumber): \(error)")
                    }
                }
                await client.close()
                return (printed, nil)
            }
        } catch {
            throw Self.fail("relay input \(input.host):\(input.port): \(error)")
        }
        for line in outcome.printed { Console.output(line) }
        if let failure = outcome.failure { throw Self.fail(failure) }
    }

    static func oneLine(_ error: any Error) -> String {
        "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}


/// `quakewarn relay bench --count N [--config FILE]`.
struct RelayBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure input → outbox → MQTT → subscriber latency through a real broker.",
        discussion: """
            Starts an in-process relay (temporary outbox, key and token; nothing of an operator's \
            outbox is touched) against the broker of --config's mqtt section, or, without --config, \
            the broker in MQTT_TEST_HOST/PORT/USER/PASSWORD (scripts/test-env/mosquitto.sh start). \
            An in-process MQTT subscriber listens on a fresh topic prefix. N pre-signed Exercise \
            warnings are sent one at a time (closed loop: the next is sent after the subscriber got \
            the previous one), and the time from handing the line to the input socket to the \
            subscriber's receipt is recorded with HdrHistogram; also input → relay ack (committed), \
            the outbox append transaction alone (same SQLite settings, separate database), and \
            signature verification plus decoding alone. \
            Prints a table (or --json lines) with p50, p99, p99.9 and max in microseconds.
            """
    )

    @Option(help: "Number of warnings.")
    var count = 10_000

    @Option(help: "Warm-up warnings before measuring.")
    var warmup = 200

    @Option(help: "Relay configuration whose mqtt section names the broker (default: MQTT_TEST_* environment).")
    var config: String?

    @Option(help: "Outbox synchronous level: normal or full.")
    var synchronous = "normal"

    @Option(help: "Background WAL checkpoint period in ms; 0 = SQLite's auto-checkpoint inside commits.")
    var checkpointIntervalMs = 200

    @Flag(help: "One JSON object per line instead of a table: the four summary rows (end to end, ack, append alone, verify alone).")
    var json = false

    @Flag(help: "With --json, also print the segment rows (marked \"segment\": true).")
    var segments = false

    func validate() throws {
        guard checkpointIntervalMs == 0 || (10...60_000).contains(checkpointIntervalMs) else {
            throw ValidationError("--checkpoint-interval-ms must be 0 or 10…60000")
        }
        guard count >= 1, warmup >= 0 else { throw ValidationError("--count must be ≥ 1 and --warmup ≥ 0") }
        guard OutboxSynchronous(rawValue: synchronous) != nil else { throw ValidationError("--synchronous must be normal or full") }
    }

    func run() throws {
        var mqtt: RelayConfiguration.MQTT
        var password: String?
        if let config {
            let configuration = try loadRelayConfiguration(config, command: Self.self)
            mqtt = configuration.mqtt
            do { password = try configuration.mqttPassword() } catch { throw Self.fail("\(error)") }
        } else {
            let environment = ProcessInfo.processInfo.environment
            guard let host = environment["MQTT_TEST_HOST"], let port = environment["MQTT_TEST_PORT"].flatMap(Int.init) else {
                throw Self.fail("no broker: pass --config FILE or set MQTT_TEST_HOST/MQTT_TEST_PORT (scripts/test-env/mosquitto.sh start)")
            }
            mqtt = RelayConfiguration.MQTT(host: host, port: port, username: environment["MQTT_TEST_USER"])
            password = environment["MQTT_TEST_PASSWORD"]
        }
        let run = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        mqtt.clientId = "quakewarn-relay-bench-\(run)"
        mqtt.topicPrefix = "quakewarn-bench/\(run)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quakewarn-relay-bench-\(run)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let setup: BenchSetup
        do {
            setup = try BenchSetup(directory: directory, mqtt: mqtt, password: password,
                                   synchronous: OutboxSynchronous(rawValue: synchronous) ?? .normal,
                                   checkpointIntervalMilliseconds: checkpointIntervalMs == 0 ? nil : checkpointIntervalMs)
        } catch {
            throw Self.fail("bench setup: \(error)")
        }
        let total = warmup + count
        let warmup = self.warmup
        let results: BenchResult
        do {
            results = try blockingRun { try await setup.measure(total: total, warmup: warmup) }
        } catch {
            throw Self.fail("\(error)")
        }
        if json {
            for row in results.rows where segments || !row.isSegment {
                var fields: [(String, JSONValue)] = [
                    ("measurement", .string(row.name.trimmingCharacters(in: .whitespaces))), ("count", .integer(row.count)),
                    ("p50Microseconds", .number(row.p50)), ("p99Microseconds", .number(row.p99)),
                    ("p999Microseconds", .number(row.p999)), ("maxMicroseconds", .number(row.max)),
                ]
                if row.isSegment { fields.append(("segment", .bool(true))) }
                Console.output(JSONValue.object(fields).text)
            }
        } else {
            var table = TextTable(headers: ["MEASUREMENT", "COUNT", "P50_US", "P99_US", "P99.9_US", "MAX_US"],
                                  rightAligned: [1, 2, 3, 4, 5])
            for row in results.rows {
                table.append([row.name, "\(row.count)", Self.format(row.p50), Self.format(row.p99), Self.format(row.p999),
                              Self.format(row.max)])
            }
            Console.output(table.rendered)
            Console.output("broker \(mqtt.host):\(mqtt.port), outbox synchronous=\(synchronous), "
                           + "checkpoints \(checkpointIntervalMs == 0 ? "in commits (SQLite default)" : "every \(checkpointIntervalMs) ms in the background"), "
                           + "\(warmup) warm-up warnings not measured")
            Console.output("PUBLISH written on the input thread right after the commit: \(results.immediatePublishes) of \(results.measured)")
            Console.output("goal: input → subscriber p99 ≤ 1000 µs")
        }
    }

    static func format(_ x: Double) -> String { String((x * 10).rounded() / 10) }
}

/// Runs Swift tasks that prefer it on one NIO event loop (the benchmark's own thread).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

struct BenchResult: Sendable {
    var rows: [BenchRow]
    /// Measured warnings whose PUBLISH left on the input thread right after the commit.
    var immediatePublishes: Int
    var measured: Int
}

/// Stage timestamps from the relay (input thread) and the subscriber (its event loop).
final class BenchStageRecorder: RelayStageObserver {
    struct Snapshot {
        var relay: [RelayStageTimes?]
        var subscriberRead: [ContinuousClock.Instant?]
    }

    private let state: Mutex<Snapshot>

    init(count: Int) {
        state = Mutex(Snapshot(relay: Array(repeating: nil, count: count), subscriberRead: Array(repeating: nil, count: count)))
    }

    func relayStages(_ times: RelayStageTimes) {
        guard times.eventId.hasPrefix("bench-"), let index = Int(times.eventId.dropFirst(6)) else { return }
        state.withLock { state in
            if state.relay.indices.contains(index) { state.relay[index] = times }
        }
    }

    func subscriberRead(index: Int, at time: ContinuousClock.Instant) {
        state.withLock { state in
            if state.subscriberRead.indices.contains(index), state.subscriberRead[index] == nil {
                state.subscriberRead[index] = time
            }
        }
    }

    func snapshot() -> Snapshot { state.withLock { $0 } }
}

struct BenchRow: Sendable {
    var name: String
    var count: Int
    var p50: Double
    var p99: Double
    var p999: Double
    var max: Double
    /// A part of the end-to-end row (or the benchmark's own hop), not a summary row.
    var isSegment: Bool

    init(name: String, histogram: Histogram<UInt64>, isSegment: Bool = false) {
        self.name = name
        self.isSegment = isSegment
        count = Int(histogram.totalCount)
        p50 = Double(histogram.valueAtPercentile(50)) / 1000
        p99 = Double(histogram.valueAtPercentile(99)) / 1000
        p999 = Double(histogram.valueAtPercentile(99.9)) / 1000
        max = Double(histogram.max) / 1000
    }
}

/// Everything the bench needs, prepared before the clock starts.
struct BenchSetup: Sendable {
    let configuration: RelayConfiguration
    let token: String
    let password: String?
    let sign: @Sendable (WarningMessage) throws -> SignedEnvelope
    let directory: String

    init(directory: String, mqtt: RelayConfiguration.MQTT, password: String?, synchronous: OutboxSynchronous,
         checkpointIntervalMilliseconds: Int?) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keys = try SigningKeyFile.generate(into: directory + "/keys")
        let signer = EnvelopeSigner(key: try SigningKeyFile.loadPrivateKey(path: keys.privateKey))
        sign = { message in try signer.sign(message) }
        token = UUID().uuidString
        let tokenFile = directory + "/input.token"
        try Data((token + "\n").utf8).write(to: URL(fileURLWithPath: tokenFile))
        var mqtt = mqtt
        mqtt.passwordFile = nil
        self.password = password
        if let password {
            let path = directory + "/mqtt.password"
            try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: path))
            mqtt.passwordFile = path
        }
        configuration = RelayConfiguration(
            input: .init(host: "127.0.0.1", port: 0, tokenFile: tokenFile),
            verification: .init(publicKeyFiles: [keys.publicKey]),
            outbox: .init(path: directory + "/outbox.sqlite", synchronous: synchronous,
                          checkpointIntervalMilliseconds: checkpointIntervalMilliseconds),
            mqtt: mqtt)
        self.directory = directory
    }

    static func warning(_ index: Int) -> WarningMessage {
        let now = Timestamp(nanosecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1e9))
        let target = TargetPrediction(name: "Lezhi No. 1 Middle School", kind: .school, epicentralDistanceKilometers: 180.2,
                                      predictedIntensity: 5.1, predictedIntensitySigma: 0.6,
                                      sWaveArrivalTime: now.adding(nanoseconds: 21_000_000_000), countdownSeconds: 21,
                                      warningLevel: .orange)
        return WarningMessage(id: "bench-\(index)", updateNumber: 0, status: .exercise, msgType: .alert, originTime: now,
                              epicenter: GeoPoint(latitudeDegrees: 31.0, longitudeDegrees: 103.4), depthKilometers: 14,
                              magnitude: 6.8, magnitudeUncertainty: 0.3, magnitudeType: "Mpd", numberOfStations: 2,
                              targets: [target], createdTime: now)
    }

    func measure(total: Int, warmup: Int) async throws -> BenchResult {
        // Pre-sign everything: signing is the publisher's cost, not the relay's.
        var envelopes: [SignedEnvelope] = []
        var lines: [Data] = []
        var indexByPayload: [Data: Int] = [:]
        for index in 0..<total {
            let envelope = try sign(Self.warning(index))
            envelopes.append(envelope)
            let encoded = try envelope.encoded()
            lines.append(encoded)
            indexByPayload[encoded] = index
        }
        let stages = BenchStageRecorder(count: total)
        let logger = makeLogger(level: .error)
        let service = RelayService(configuration: configuration, logger: logger, stageObserver: stages)
        let serviceTask = Task { try await service.run() }
        defer { serviceTask.cancel() }
        let ports = try await service.waitUntilListening()

        // The benchmark's side runs on two dedicated threads: the input client and this task's
        // send loop on one (a send is written to the input socket on the thread that takes its
        // start time, and the ack is stamped where the client decodes it), the subscriber on the
        // other (it stamps right after decoding the PUBLISH). On one shared thread the ack, which
        // arrives with the PUBLISH, waited behind the subscriber's handling of it, and the ack
        // row included that wait.
        let clientGroup = RelayEventLoops.dedicatedGroup()
        let subscriberGroup = RelayEventLoops.dedicatedGroup()
        let benchExecutor = EventLoopTaskExecutor(loop: clientGroup.next())
        let mqtt = configuration.mqtt
        let lookup = indexByPayload
        let (received, receivedSink) = AsyncStream.makeStream(of: Int.self)
        let subscriber = MQTTClient(
            configuration: MQTTClientConfiguration(
                host: mqtt.host, port: mqtt.port, clientID: mqtt.clientId + "-sub", username: mqtt.username,
                password: password.map { Array($0.utf8) }),
            eventLoopGroup: subscriberGroup,
            onMessage: { message in
                let now = ContinuousClock.now
                if let index = lookup[Data(message.payload.readableBytesView)] {
                    stages.subscriberRead(index: index, at: now)
                    receivedSink.yield(index)
                }
            })
        let subscriberTask = Task { try await subscriber.run() }
        defer { subscriberTask.cancel() }
        try await subscriber.waitUntilConnected()
        _ = try await subscriber.subscribe([MQTTSubscription(topicFilter: mqtt.topicPrefix + "/warnings/#", qos: .atLeastOnce)])
        let collector = Task {
            for await _ in subscriber.messages {}
        }
        defer { collector.cancel() }

        let client = try await RelayInputClient.connect(host: "127.0.0.1", port: ports.input, token: token, group: clientGroup)
        let timing = try await withTaskExecutorPreference(benchExecutor) {
            var sent = [ContinuousClock.Instant?](repeating: nil, count: total)
            var acked = [ContinuousClock.Instant?](repeating: nil, count: total)
            var woke = [ContinuousClock.Instant?](repeating: nil, count: total)
            var iterator = received.makeAsyncIterator()
            for index in 0..<total {
                let start = ContinuousClock.now
                // Stamped in the callback, on the client's loop, when the reply is decoded.
                let (reply, ackTime) = try await client.submit(line: lines[index]).reply
                    .map { ($0, ContinuousClock.now) }.get()
                switch reply {
                case .ack: break
                case let other: throw RelayBenchError("warning \(index): unexpected reply \(other)")
                }
                var arrived = false
                while !arrived {
                    guard let got = await iterator.next() else { throw RelayBenchError("subscriber stream ended") }
                    arrived = got == index
                }
                sent[index] = start
                acked[index] = ackTime
                woke[index] = ContinuousClock.now
            }
            return (sent: sent, acked: acked, woke: woke)
        }
        let (sent, acked, woke) = (timing.sent, timing.acked, timing.woke)
        await client.close()
        await subscriber.disconnect()
        _ = try? await subscriberTask.value
        serviceTask.cancel()
        _ = try? await serviceTask.value
        try? await clientGroup.shutdownGracefully()
        try? await subscriberGroup.shutdownGracefully()

        func histogram() -> Histogram<UInt64> {
            Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        }
        var endToEnd = histogram(), toAck = histogram(), toRelay = histogram(), verifyStage = histogram()
        var commitStage = histogram(), publishStage = histogram(), brokerStage = histogram(), benchHop = histogram()
        var immediate = 0
        let recorded = stages.snapshot()
        for index in warmup..<total {
            guard let start = sent[index], let ackTime = acked[index], let wake = woke[index],
                  let relay = recorded.relay[index], let read = recorded.subscriberRead[index] else {
                throw RelayBenchError("warning \(index): a stage timestamp is missing")
            }
            _ = endToEnd.record(Self.nanoseconds(read - start))
            _ = toAck.record(Self.nanoseconds(ackTime - start))
            _ = toRelay.record(Self.nanoseconds(relay.lineReceived - start))
            _ = verifyStage.record(Self.nanoseconds(relay.verified - relay.lineReceived))
            _ = commitStage.record(Self.nanoseconds(relay.committed - relay.verified))
            _ = publishStage.record(Self.nanoseconds(relay.notified - relay.committed))
            _ = brokerStage.record(Self.nanoseconds(read - relay.notified))
            _ = benchHop.record(Self.nanoseconds(wake - read))
            if relay.publishedImmediately { immediate += 1 }
        }

        // Outbox append alone, same settings, fresh database.
        let outbox = try RelayOutbox(path: directory + "/append-only.sqlite", synchronous: configuration.outbox.synchronous,
                                     checkpointInterval: configuration.outbox.checkpointInterval)
        var append = histogram()
        for index in 0..<total {
            let start = ContinuousClock.now
            _ = try outbox.append(kind: .warning, eventId: "bench-\(index)", updateNumber: 0, status: .exercise,
                                  level: .orange, envelope: lines[index], receivedAt: Timestamp(nanosecondsSinceEpoch: 0))
            if index >= warmup { _ = append.record(Self.nanoseconds(ContinuousClock.now - start)) }
        }
        try outbox.close()

        // Signature verification and decoding alone (what the input does before the append).
        let verifier = try RelayVerifier.load(publicKeyFiles: configuration.verification.publicKeyFiles)
        var verify = histogram()
        for index in 0..<total {
            let start = ContinuousClock.now
            guard case .success = verifier.verify(line: lines[index]) else { throw RelayBenchError("bench envelope \(index) failed verification") }
            if index >= warmup { _ = verify.record(Self.nanoseconds(ContinuousClock.now - start)) }
        }
        return BenchResult(rows: [
            BenchRow(name: "input send → subscriber receipt", histogram: endToEnd),
            BenchRow(name: "input send → relay ack (committed)", histogram: toAck),
            BenchRow(name: "  1 send → relay has the line", histogram: toRelay, isSegment: true),
            BenchRow(name: "  2 verify + decode", histogram: verifyStage, isSegment: true),
            BenchRow(name: "  3 outbox commit", histogram: commitStage, isSegment: true),
            BenchRow(name: "  4 commit → PUBLISH written", histogram: publishStage, isSegment: true),
            BenchRow(name: "  5 PUBLISH → subscriber read (broker)", histogram: brokerStage, isSegment: true),
            BenchRow(name: "(subscriber read → bench task, not in total)", histogram: benchHop, isSegment: true),
            BenchRow(name: "outbox append alone", histogram: append),
            BenchRow(name: "verify + decode alone", histogram: verify),
        ], immediatePublishes: immediate, measured: total - warmup)
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(clamping: seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

struct RelayBenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The WebSocket subscriber tokens file (`websocket.tokensFile`): one token per line; blank lines
/// and lines starting with `#` are ignored; at least one token is required.
enum RelayWebSocketTokens {
    struct LoadError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "\(path): websocket.tokensFile: \(reason)" }
    }

    static func load(path: String) throws -> Set<String> {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(path: path, reason: "cannot read the file")
        }
        let tokens = String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
        guard !tokens.isEmpty else { throw LoadError(path: path, reason: "the file holds no token") }
        return Set(tokens)
    }
}
