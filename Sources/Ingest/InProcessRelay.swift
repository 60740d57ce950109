// The relay inside the ingest process (ingest.yaml `relay: {configuration: relay.yaml}`, issue 7):
// one process instead of two, through the relay's public API.

public import Logging
public import Relay

/// `quakewarn relay` run inside the ingest daemon: a ``RelayService`` built from a relay
/// configuration file, and the ``RelayWarningSink`` that feeds it.
///
/// The sink talks to the service's QWRI/1 input over loopback TCP, exactly as a separate relay
/// process would be fed (same authentication, signature check, outbox commit and ack), so the
/// at-least-once guarantees are unchanged; what goes away is a second process and its
/// scheduling. The service listens where its configuration says (port 0: any free port; the
/// sink learns the port from ``RelayService/waitUntilListening()``).
///
/// Run ``service`` in the same `ServiceGroup` as the ``IngestService``, listed *before* it, so
/// that a graceful shutdown stops the ingest daemon (which flushes the sink) before the relay.
public struct InProcessRelay: Sendable {
    public let configuration: RelayConfiguration
    public let service: RelayService
    public let sink: RelayWarningSink

    /// - Parameters:
    ///   - configurationFile: the relay's YAML file (`quakewarn relay --config`).
    ///   - latencyLogPath: the sink's latency log (see ``RelayWarningSink``).
    /// - Throws: the relay configuration's error (file and key), or the latency log's.
    public init(configurationFile: String, latencyLogPath: String? = nil,
                relayLogger: Logger = Logger(label: "quakewarn.relay"),
                sinkLogger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        let configuration = try RelayConfiguration.load(path: configurationFile)
        try self.init(configuration: configuration, latencyLogPath: latencyLogPath, relayLogger: relayLogger,
                      sinkLogger: sinkLogger)
    }

    /// The same from a configuration value.
    public init(configuration: RelayConfiguration, latencyLogPath: String? = nil,
                relayLogger: Logger = Logger(label: "quakewarn.relay"),
                sinkLogger: Logger = Logger(label: "quakewarn.ingest.relay")) throws {
        self.configuration = configuration
        let token = try configuration.inputToken()
        let service = RelayService(configuration: configuration, logger: relayLogger)
        let bound = configuration.input.host
        // A wildcard listen address is reached over loopback.
        let host = bound == "0.0.0.0" || bound.isEmpty ? "127.0.0.1" : (bound == "::" ? "::1" : bound)
        self.service = service
        self.sink = try RelayWarningSink(host: host, port: configuration.input.port, endpoint: {
            (host, try await service.waitUntilListening().input)
        }, token: token, latencyLogPath: latencyLogPath, logger: sinkLogger)
    }
}
