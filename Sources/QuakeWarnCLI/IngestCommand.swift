// `quakewarn ingest --config FILE`: the station ingestion daemon (issue 6, docs/ingest.md).
import Alerting
import ArgumentParser
import Dispatch
import Foundation
import Ingest
import Relay
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import UnixSignals

/// Runs ``IngestService`` in a ``ServiceGroup`` with graceful shutdown on SIGTERM/SIGINT.
struct IngestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Run the station ingestion daemon (SeedLink in, warnings out).",
        discussion: """
            Reads FILE (YAML; see config/ingest.yaml and docs/ingest.md): the station/target \
            configuration, the SeedLink server and stations, the output directory, metrics and \
            the stream timeout. Connects to the SeedLink server (reconnecting with capped \
            exponential backoff, resuming from the state file), checks every record (gaps, \
            overlaps, duplicates, out-of-order records, clock jumps), runs the same pipeline as \
            'quakewarn replay' and appends picks.jsonl, events.jsonl, decisions.jsonl, \
            warnings.jsonl (same lines as replay), cap/ and signed/ in the output directory, plus \
            ingest-stats.json (per-stream counts). Logs go to stderr (swift-log); Prometheus \
            metrics and /health are served on metrics.host:port. SIGTERM or SIGINT: stop after \
            the record in hand, release held results, flush the outputs, write the state file, exit 0.
            """
    )

    @Option(help: "Ingest configuration file (YAML).")
    var config: String

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level '\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() throws {
        let ingest: IngestConfiguration
        let quakeWarn: QuakeWarnConfiguration
        do {
            ingest = try IngestConfiguration.load(path: config)
            quakeWarn = try QuakeWarnConfiguration.load(path: ingest.stationConfigurationPath)
        } catch {
            throw Self.fail("\(error)")
        }
        var sign: (@Sendable (WarningMessage) throws -> SignedEnvelope)?
        if let keyPath = ingest.privateKeyFile {
            do {
                // Key id computed once; the envelope bytes written while signing (EnvelopeSigner).
                let signer = EnvelopeSigner(key: try SigningKeyFile.loadPrivateKey(path: keyPath))
                sign = { try signer.sign($0) }
            } catch {
                throw Self.fail("\(config): signing.privateKeyFile: \(error)")
            }
        }
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "quakewarn.ingest")
        // One thread reads SeedLink, processes each record and, with the relay in this process,
        // commits and publishes its warnings (IngestService.processingLoop).
        let processingLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? processingLoop.syncShutdownGracefully() }
        var sinks: [any WarningSink] = []
        var relayService: RelayService?
        var inProcessTransport = ""
        let latencyLog = ingest.outputDirectory.map { ($0 as NSString).appendingPathComponent("relay-latency.jsonl") }
        if let relay = ingest.relay, let relayFile = relay.configurationFile {
            // The relay runs in this process (docs/ingest.md "In-process relay").
            guard sign != nil else { throw Self.fail("\(config): relay: needs signing.privateKeyFile (the relay accepts only signed warnings)") }
            do {
                if let directory = ingest.outputDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
                // QW_INGEST_RELAY_TRANSPORT=socket: the loopback QWRI/1 path instead (A/B runs).
                let transport = ProcessInfo.processInfo.environment["QW_INGEST_RELAY_TRANSPORT"]
                    .flatMap(InProcessRelay.Transport.init(rawValue:)) ?? .direct
                let inProcess = try InProcessRelay(configurationFile: relayFile, latencyLogPath: latencyLog,
                                                   transport: transport, eventLoopGroup: processingLoop)
                relayService = inProcess.service
                inProcessTransport = inProcess.transport.rawValue
                sinks.append(inProcess.sink)
            } catch {
                throw Self.fail("\(error)")
            }
            logger.notice("warnings go to the in-process relay", metadata: ["relayConfiguration": "\(relayFile)",
                                                                             "transport": "\(inProcessTransport)"])
        } else if let relay = ingest.relay {
            // The relay accepts only signed warnings from token holders.
            guard sign != nil else { throw Self.fail("\(config): relay: needs signing.privateKeyFile (the relay accepts only signed warnings)") }
            guard let tokenFile = relay.tokenFile else { throw Self.fail("\(config): relay.tokenFile: required when relay is set") }
            do {
                let token = try RelayConfiguration.readSecret(path: tokenFile, key: "relay.tokenFile")
                if let directory = ingest.outputDirectory {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
                sinks.append(try RelayWarningSink(host: relay.host, port: relay.port, token: token, latencyLogPath: latencyLog,
                                                  logger: Logger(label: "quakewarn.ingest.relay")))
            } catch {
                throw Self.fail("\(error)")
            }
            logger.notice("warnings go to the relay", metadata: ["relay": "\(relay.host):\(relay.port)"])
        }
        let service: IngestService
        do {
            service = try IngestService(configuration: ingest, quakeWarn: quakeWarn, sinks: sinks, sign: sign, logger: logger,
                                        processingLoop: processingLoop)
        } catch {
            throw Self.fail("\(ingest.outputDirectory ?? "output"): \(error)")
        }
        // Graceful shutdown runs in reverse order: the ingest daemon (flushing its sinks) stops
        // before an in-process relay.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let relayService { services.append(.init(service: relayService)) }
        services.append(.init(service: service))
        let group = ServiceGroup(configuration: .init(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let done = DispatchSemaphore(value: 0)
        let failure = ErrorBox()
        Task {
            do {
                try await group.run()
            } catch {
                failure.set("\(error)")
            }
            done.signal()
        }
        done.wait()
        if let message = failure.message {
            Console.error("error: \(message)")
            throw ExitCode(1)
        }
    }
}

/// An error text set from another thread before `done.signal()` and read after `done.wait()`.
final class ErrorBox: @unchecked Sendable {
    // The semaphore orders the single write before the read.
    private(set) var message: String?
    func set(_ text: String) { message = text }
}

