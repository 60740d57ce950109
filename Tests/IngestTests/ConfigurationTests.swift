import Alerting
import Foundation
import Ingest
import Testing

@Suite struct IngestConfigurationTests {
    let full = """
        configuration: ../config/lezhi.yaml
        status: Exercise
        seedlink:
          host: seedlink.example
          port: 18001
          stations:
            - { network: SC, station: NANTA, selectors: ["00HN?"] }
          stateFile: state/sl.state
          stateSaveIntervalSeconds: 2
          keepAliveSeconds: 15
          networkTimeoutSeconds: 60
          reconnect: { initialDelaySeconds: 1, maximumDelaySeconds: 20, jitter: 0.2 }
        output: { directory: out }
        relay: { host: relay.example, port: 7400, tokenFile: relay.token }
        signing: { privateKeyFile: /keys/k.key }
        metrics: { host: 0.0.0.0, port: 9500 }
        streamTimeoutSeconds: 12
        timeJumpSeconds: 300
        """

    @Test func parsesEveryKeyAndResolvesPathsAgainstTheFile() throws {
        let c = try IngestConfiguration.parse(yaml: full, file: "/etc/qw/ingest.yaml")
        #expect(c.stationConfigurationPath == "/etc/config/lezhi.yaml")
        #expect(c.status == .exercise)
        #expect(c.seedlink.host == "seedlink.example")
        #expect(c.seedlink.port == 18001)
        #expect(c.seedlink.stations == [.init(network: "SC", station: "NANTA", selectors: ["00HN?"])])
        #expect(c.seedlink.stateFile == "/etc/qw/state/sl.state")
        #expect(c.seedlink.stateSaveIntervalSeconds == 2)
        #expect(c.seedlink.keepAliveSeconds == 15)
        #expect(c.seedlink.networkTimeoutSeconds == 60)
        #expect(c.seedlink.initialReconnectDelaySeconds == 1)
        #expect(c.seedlink.maximumReconnectDelaySeconds == 20)
        #expect(c.seedlink.reconnectJitter == 0.2)
        #expect(c.outputDirectory == "/etc/qw/out")
        #expect(c.relay == .init(host: "relay.example", port: 7400, tokenFile: "/etc/qw/relay.token"))
        #expect(c.privateKeyFile == "/keys/k.key")
        #expect(c.metrics == .init(host: "0.0.0.0", port: 9500))
        #expect(c.streamTimeoutSeconds == 12)
        #expect(c.timeJumpSeconds == 300)
    }

    @Test func minimalFileGetsDefaults() throws {
        let c = try IngestConfiguration.parse(yaml: "configuration: a.yaml\nseedlink: {}\n", file: "/x/i.yaml")
        #expect(c.stationConfigurationPath == "/x/a.yaml")
        #expect(c.status == nil)
        #expect(c.seedlink.host == "127.0.0.1")
        #expect(c.seedlink.port == 18000)
        #expect(c.seedlink.stations.isEmpty)
        #expect(c.seedlink.stateFile == nil)
        #expect(c.seedlink.keepAliveSeconds == 30)
        #expect(c.outputDirectory == nil && c.relay == nil && c.metrics == nil && c.privateKeyFile == nil)
        #expect(c.streamTimeoutSeconds == 10)
    }

    @Test(arguments: [
        ("configuration: a.yaml\nseedlink: {}\nbogus: 1\n", "bogus", "unknown key 'bogus'"),
        ("configuration: a.yaml\nseedlink: { hots: x }\n", "seedlink.hots", "unknown key 'hots'"),
        ("configuration: a.yaml\nseedlink: { stations: [ { network: SC, sation: X } ] }\n", "seedlink.stations[0].sation", "unknown key"),
        ("configuration: a.yaml\nseedlink: { stations: [ { network: SC } ] }\n", "seedlink.stations[0].station", "required key is missing"),
        ("configuration: a.yaml\nseedlink: { port: 70000 }\n", "seedlink.port", "outside 0...65535"),
        ("configuration: a.yaml\nseedlink: { port: abc }\n", "seedlink.port", "expected an integer"),
        ("configuration: a.yaml\nseedlink: { reconnect: { jitter: 2 } }\n", "seedlink.reconnect.jitter", "outside"),
        ("configuration: a.yaml\nseedlink: { reconnect: { initialDelaySeconds: 5, maximumDelaySeconds: 1 } }\n",
         "seedlink.reconnect.maximumDelaySeconds", "below initialDelaySeconds"),
        ("seedlink: {}\n", "configuration", "required key is missing"),
        ("configuration: a.yaml\n", "seedlink", "required key is missing"),
        ("configuration: a.yaml\nseedlink: {}\nstatus: Real\n", "status", "is not one of"),
        ("configuration: a.yaml\nseedlink: {}\noutput: {}\n", "output.directory", "required key is missing"),
        ("configuration: a.yaml\nseedlink: {}\nmetrics: { port: x }\n", "metrics.port", "expected an integer"),
        ("configuration: a.yaml\nseedlink: {}\nstreamTimeoutSeconds: -1\n", "streamTimeoutSeconds", "outside"),
        ("configuration: a.yaml\nseedlink: []\n", "seedlink", "expected a mapping"),
    ])
    func rejectsBadInputNamingFileAndKeyPath(yaml: String, keyPath: String, reason: String) {
        do {
            _ = try IngestConfiguration.parse(yaml: yaml, file: "/x/ingest.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.file == "/x/ingest.yaml")
            #expect(error.keyPath == keyPath)
            #expect(error.reason.contains(reason), "\(error)")
            #expect(error.description.hasPrefix("/x/ingest.yaml: \(keyPath): "))
        }
    }

    @Test func invalidYAMLAndEmptyFile() {
        for text in ["configuration: [unclosed\n", ""] {
            #expect(throws: ConfigurationError.self) { try IngestConfiguration.parse(yaml: text, file: "f.yaml") }
        }
    }

    @Test func shippedSampleLoadsAndPointsAtAStationConfiguration() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../config/ingest.yaml").path
        let c = try IngestConfiguration.load(path: path)
        let q = try QuakeWarnConfiguration.load(path: c.stationConfigurationPath)
        #expect(!q.stations.isEmpty)
    }
}
