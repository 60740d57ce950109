// The relay inside the ingest process (ingest.yaml `relay: {configuration: relay.yaml}`, issue 7):
// one process instead of two, through the relay's public API.

import Alerting
public import Logging
public import NIOPosix
public import Relay

/// `quakewarn relay` run inside the ingest daemon: a ``RelayService`` built from a relay
/// configuration file, and the sink that feeds it.
///
/// With ``Transport/direct`` (the default) the sink is a ``DirectRelaySink``: each signed
/// warning goes to ``RelayService/submitInProcess(_:completion:)`` (key check, outbox commit,
/// MQTT PUBLISH on the relay's input loop), with no socket and no re-verification of the
/// daemon's own signature (``InProcessSignedWarning``). With ``Transport/socket``
/// it is a ``RelayWarningSink`` talking to the service's QWRI/1 input over loopback TCP,
/// exactly as a separate relay process would be fed (kept for A/B measurements). Both keep the
/// at-least-once guarantees: ack only after the outbox commit, order; the socket transport also
/// re-verifies every signature.
///
/// Run ``service`` in the same `ServiceGroup` as the ``IngestService``, listed *before* it, so
/// that a graceful shutdown stops the ingest daemon (which flushes the sink) before the relay.
public struct InProcessRelay: Sendable {
    public enum Transport: String, Sendable, CaseIterable {
        /// ``DirectRelaySink``: no socket (the default).
        case direct
        /// ``RelayWarningSink`` over loopback TCP to the service's QWRI/1 input.
        case socket
    }

    public let configuration: RelayConfiguration
    public let service: RelayService
    public let transport: Transport
    /// The sink to give the ``IngestService`` (``directSink`` or ``socketSink``).
    public var sink: any WarningSink {
        if let directSink { return directSink }
        if let socketSink { return socketSink }
        return NoSink()
    }
    public let directSink: DirectRelaySink?
    public let socketSink: RelayWarningSink?

    /// - Parameters:
    ///   - configurationFile: the relay's YAML file (`quakewarn relay --config`).
    ///   - latencyLogPath: the sink's latency log (see ``DirectRelaySink``, ``RelayWarningSink``).
    /// - Throws: the relay configuration's error (file and key), or the latency log's.
    ///   - eventLoopGroup: the ingest daemon's processing loop (``IngestService/processingLoop``):
    ///     the relay's input, outbox commits and broker client then run on the thread that
    ///     computes the warnings, so the direct sink commits and publishes each one without a
    ///     thread hop. Nil: the relay's own thread.
    public init(configurationFile: String, latencyLogPath: String? = nil, transport: Transport = .direct,
                relayLogger: Logger = Logger(label: "quakewarn.relay"),
                sinkLogger: Logger = Logger(label: "quakewarn.ingest.relay"),
                eventLoopGroup: MultiThreadedEventLoopGroup? = nil) throws {
        let configuration = try RelayConfiguration.load(path: configurationFile)
        try self.init(configuration: configuration, latencyLogPath: latencyLogPath, transport: transport,
                      relayLogger: relayLogger, sinkLogger: sinkLogger, eventLoopGroup: eventLoopGroup)
    }

    /// The same from a configuration value.
    public init(configuration: RelayConfiguration, latencyLogPath: String? = nil, transport: Transport = .direct,
                relayLogger: Logger = Logger(label: "quakewarn.relay"),
                sinkLogger: Logger = Logger(label: "quakewarn.ingest.relay"),
                eventLoopGroup: MultiThreadedEventLoopGroup? = nil) throws {
        self.configuration = configuration
        self.transport = transport
        let service = RelayService(configuration: configuration, logger: relayLogger, eventLoopGroup: eventLoopGroup)
        self.service = service
        switch transport {
        case .direct:
            _ = try configuration.inputToken()  // the socket input still listens: same checks as `quakewarn relay`
            directSink = try DirectRelaySink(service: service, latencyLogPath: latencyLogPath, logger: sinkLogger)
            socketSink = nil
        case .socket:
            let token = try configuration.inputToken()
            let bound = configuration.input.host
            // A wildcard listen address is reached over loopback.
            let host = bound == "0.0.0.0" || bound.isEmpty ? "127.0.0.1" : (bound == "::" ? "::1" : bound)
            directSink = nil
            socketSink = try RelayWarningSink(host: host, port: configuration.input.port, endpoint: {
                (host, try await service.waitUntilListening().input)
            }, token: token, latencyLogPath: latencyLogPath, logger: sinkLogger)
        }
    }
}

private struct NoSink: WarningSink {
    func deliver(_ warning: WarningMessage, envelope: SignedEnvelope?) async throws {}
}
