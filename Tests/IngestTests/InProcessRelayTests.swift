import Alerting
import Foundation
import Ingest
import Relay
import SeismicCore
import TestSupport
import Testing

@Suite("In-process relay (ingest.yaml relay.configuration)")
struct InProcessRelayTests {
    @Test("relay.configuration is resolved against the ingest file and excludes host, port and tokenFile")
    func configurationKey() throws {
        let yaml = """
            configuration: lezhi.yaml
            seedlink: { port: 18000 }
            relay: { configuration: relay/relay.yaml }
            """
        let c = try IngestConfiguration.parse(yaml: yaml, file: "/etc/qw/ingest.yaml")
        #expect(c.relay?.configurationFile == "/etc/qw/relay/relay.yaml")
        #expect(throws: ConfigurationError.self) {
            try IngestConfiguration.parse(yaml: yaml.replacingOccurrences(of: "{ configuration: relay/relay.yaml }",
                                                                          with: "{ configuration: r.yaml, port: 7400 }"),
                                          file: "/etc/qw/ingest.yaml")
        }
    }

    @Test("InProcessRelay: the sink finds the service's port-0 input, and signed warnings reach its outbox in order")
    func deliversThroughTheInProcessService() async throws {
        let keys = try RelayWarningSinkTests.Keys()
        defer { keys.remove() }
        let relay = try InProcessRelay(configuration: keys.configuration(port: 0))
        let task = Task { try await relay.service.run() }
        // The sink may start before the service listens: it waits for the port.
        await relay.sink.start()
        for update in 0..<5 {
            let m = RelayWarningSinkTests.warning("ev-in", update: update)
            let envelope = try SignedEnvelope.sign(m, with: keys.privateKey)
            #expect(try relay.sink.deliverImmediately(m, envelope: LazyEnvelope(m) { _ in envelope }, trace: WarningTrace()))
        }
        try await relay.sink.flush()
        #expect(relay.sink.delivered == 5)
        await relay.sink.close()
        task.cancel()
        _ = try? await task.value
        #expect(try RelayWarningSinkTests.keysInOutbox(keys) == (0..<5).map { "ev-in#\($0)" })
    }
}
