import Alerting
import Foundation
import SeismicCore
import Testing
import TestSupport

@Suite("YAML configuration")
struct ConfigurationTests {
    /// The shipped sample, config/lezhi.yaml (Tests/Fixtures/../../config).
    static let samplePath = URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("config/lezhi.yaml").path

    static func sampleText() throws -> String { try String(contentsOfFile: samplePath, encoding: .utf8) }

    /// Loads the sample with `old` replaced by `new` (the replacement must happen exactly once).
    static func variant(_ old: String, _ new: String) throws -> Result<QuakeWarnConfiguration, ConfigurationError> {
        let text = try sampleText()
        #expect(text.components(separatedBy: old).count == 2, "'\(old)' must occur once in the sample")
        do {
            return .success(try QuakeWarnConfiguration.parse(yaml: text.replacingOccurrences(of: old, with: new),
                                                             file: "config/lezhi.yaml"))
        } catch {
            return .failure(error)
        }
    }

    static func error(_ old: String, _ new: String) throws -> String {
        switch try variant(old, new) {
        case .success: return "(no error)"
        case .failure(let error): return error.description
        }
    }

    @Test func sampleLoads() throws {
        let c = try QuakeWarnConfiguration.load(path: Self.samplePath)
        #expect(c.stations.map(\.station) == ["NANTA", "GAOSI"])
        #expect(c.stations.allSatisfy { $0.network == "SC" && $0.location == "00" && $0.channels == ["HNZ", "HNN", "HNE"] })
        #expect(c.stations.allSatisfy { !$0.surveyed })
        // 2^23 / (2 · 9.80665) = 427699.98 counts per m/s².
        #expect(abs(c.stations[0].sensitivityCountsPerMetersPerSecondSquared - 8_388_608 / (2 * 9.80665)) < 0.5)
        let meta = c.stations[1].metadata
        #expect(meta.channel("HNE")?.sensitivityCountsPerMetersPerSecondSquared == 427_700)
        #expect(c.targets.count == 7)
        #expect(Set(c.targets.map(\.kind)) == [.countySeat, .town, .school, .hospital, .mall])
        #expect(c.alerting == AlertingConfiguration())  // the sample spells out the defaults
        #expect(c.cap.utcOffsetMinutes == 480)
        #expect(c.resolvedPrivateKeyPath(configurationFile: "/etc/qw/lezhi.yaml") == "/etc/qw/keys/quakewarn-signing.key")
        // Stations are within ~20 km of the county seat (placeholders near 30.28 N 105.03 E).
        let seat = GeoPoint(latitudeDegrees: 30.28, longitudeDegrees: 105.03)
        #expect(c.stations.allSatisfy { Geodesy.distanceKilometers(from: seat, to: $0.position) < 20 })
    }

    @Test func outOfRangeNamesFileAndKeyPath() throws {
        #expect(try Self.error("latitudeDegrees: 30.380", "latitudeDegrees: 95.2")
                == "config/lezhi.yaml: stations[1].latitudeDegrees: 95.2 is outside -90…90")
        #expect(try Self.error("longitudeDegrees: 105.118", "longitudeDegrees: 185")
                == "config/lezhi.yaml: targets[2].longitudeDegrees: 185.0 is outside -180…180")
        #expect(try Self.error("sWaveVelocityKilometersPerSecond: 3.5", "sWaveVelocityKilometersPerSecond: 6.5")
                == "config/lezhi.yaml: alerting.sWaveVelocityKilometersPerSecond: 6.5 is outside 0.5…6")
        #expect(try Self.error("pWaveVelocityKilometersPerSecond: 6.0", "pWaveVelocityKilometersPerSecond: 3.0")
                == "config/lezhi.yaml: alerting.sWaveVelocityKilometersPerSecond: 3.5 must be below pWaveVelocityKilometersPerSecond (3.0)")
        #expect(try Self.error("orangeMinimumIntensity: 4.5", "orangeMinimumIntensity: 2.0")
                == "config/lezhi.yaml: alerting.warningLevels.orangeMinimumIntensity: 2.0 must be above yellowMinimumIntensity (2.5)")
        #expect(try Self.error("station: GAOSI", "station: GAOSI12")
                == "config/lezhi.yaml: stations[1].station: 'GAOSI12' must be 1–5 characters A–Z, 0–9")
        #expect(try Self.error("station: GAOSI", "station: NANTA")
                == "config/lezhi.yaml: stations[1].station: duplicate station SC.NANTA")
        #expect(try Self.error("sender: \"quakewarn@lezhi.example\"", "sender: \"a b\"")
                .hasPrefix("config/lezhi.yaml: cap.sender: 'a b' must be non-empty"))
        #expect(try Self.error("maximumAlertRadiusKilometers: 300", "maximumAlertRadiusKilometers: 0")
                == "config/lezhi.yaml: alerting.maximumAlertRadiusKilometers: 0.0 is outside 1…20000")
        #expect(try Self.error("minimumMagnitude: 4.0", "minimumMagnitude: .nan")
                == "config/lezhi.yaml: alerting.minimumMagnitude: nan is outside -2…10")
    }

    @Test func decodingErrorsNameTheKeyPath() throws {
        #expect(try Self.error("    elevationMeters: 420\n", "    elevationMeters: high\n")
                .hasPrefix("config/lezhi.yaml: stations[1].elevationMeters: expected a number"))
        #expect(try Self.error("    kind: hospital\n", "    kind: clinic\n").hasPrefix("config/lezhi.yaml: targets[5].kind:"))
        #expect(try Self.error("attenuationRegion: central", "attenuationRegion: sichuan")
                .hasPrefix("config/lezhi.yaml: alerting.attenuationRegion:"))
        #expect(try Self.error("    samplingRateHz: 100\n  # Gaosi", "\n  # Gaosi")
                == "config/lezhi.yaml: stations[0].samplingRateHz: required key is missing")
        #expect(try Self.error("minimumMagnitude: 4.0", "minimumMagnitde: 4.0")
                == "config/lezhi.yaml: alerting.minimumMagnitde: unknown key 'minimumMagnitde'")
        #expect(try Self.error("privateKeyPath:", "privateKeyFile:")
                == "config/lezhi.yaml: signing.privateKeyFile: unknown key 'privateKeyFile'")
        #expect(try Self.error("targets:\n", "targets: [\n").hasPrefix("config/lezhi.yaml: invalid YAML:"))
    }

    @Test func optionalKeysTakeDefaults() throws {
        let yaml = """
            stations:
              - {network: SC, station: NANTA, latitudeDegrees: 30.27, longitudeDegrees: 105.03, elevationMeters: 390,
                 surveyed: false, location: "00", channels: [HNZ], sensitivityCountsPerMetersPerSecondSquared: 427697,
                 samplingRateHz: 100}
            targets: []
            alerting: {warningLevels: {redMinimumIntensity: 7.5}}
            signing: {privateKeyPath: /k}
            cap: {sender: x@y}
            """
        let c = try QuakeWarnConfiguration.parse(yaml: yaml, file: "min.yaml")
        #expect(c.alerting.warningLevels == WarningLevelThresholds(redMinimumIntensity: 7.5))
        #expect(c.alerting.minimumMagnitude == 4.0 && c.alerting.attenuationRegion == .central
                && c.alerting.attenuationAxis == .maximum && c.alerting.sWaveVelocityKilometersPerSecond == 3.5)
        #expect(c.cap.language == "en-US" && c.cap.utcOffsetMinutes == 480 && c.cap.senderName == nil)
        #expect(c.resolvedPrivateKeyPath(configurationFile: "min.yaml") == "/k")
    }

    @Test func unreadableAndEmptyFiles() {
        #expect(throws: ConfigurationError.self) { try QuakeWarnConfiguration.load(path: "/nonexistent/q.yaml") }
        do {
            _ = try QuakeWarnConfiguration.parse(yaml: "", file: "e.yaml")
            Issue.record("empty file accepted")
        } catch {
            #expect(error.description == "e.yaml: the file is empty")
        }
    }
}
