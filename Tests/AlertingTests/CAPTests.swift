import Alerting
import Foundation
import SeismicCore
import Testing
import TestSupport

/// Runs `xmllint --noout --schema CAP-v1.2.xsd` (Debian package libxml2-utils) on a document.
enum XMLLint {
    struct Outcome {
        var status: Int32
        var output: String
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "xmllint not found in /usr/bin, /usr/local/bin or PATH: install the Debian package libxml2-utils "
                + "(apt-get install libxml2-utils); CAP schema validation cannot run without it"
        }
    }

    static func executable() throws -> String {
        var candidates = ["/usr/bin/xmllint", "/usr/local/bin/xmllint"]
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(String(dir) + "/xmllint")
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Missing()
        }
        return found
    }

    /// Validates `xml` against the committed CAP 1.2 schema.
    static func validate(_ xml: String) throws -> Outcome {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("quakewarn-cap-\(UUID().uuidString).xml")
        try Data(xml.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = ["--noout", "--schema", Fixtures.path("alerting/CAP-v1.2.xsd"), file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

@Suite("CAP 1.2 rendering")
struct CAPTests {
    static let renderer = CAPRenderer(cap: TestScenario.cap, predictor: TestScenario.predictor)

    /// The validator itself: the spec's own example passes, a broken copy fails (so a pass below
    /// is meaningful).
    @Test func validatorAcceptsTheSpecExampleAndRejectsABrokenOne() throws {
        let example = try String(contentsOfFile: Fixtures.path("alerting/cap-1.2-example.xml"), encoding: .utf8)
        let good = try XMLLint.validate(example)
        #expect(good.status == 0, "\(good.output)")
        let broken = example.replacingOccurrences(of: "<msgType>Alert</msgType>", with: "<msgType>Warning</msgType>")
        #expect(try XMLLint.validate(broken).status != 0)
    }

    @Test func alertUpdateCancelValidate() throws {
        var issuer = WarningIssuer(predictor: TestScenario.predictor, status: .actual)
        let first = try issuer.issue(TestScenario.solution(), now: TestScenario.now)
        let alert = try #require(first)
        let second = try issuer.issue(TestScenario.solution(magnitude: 6.2),
                                      now: TestScenario.now.adding(nanoseconds: 2_000_000_000))
        let update = try #require(second)
        let cancel = try issuer.cancel(eventID: alert.id, now: TestScenario.now.adding(nanoseconds: 9_000_000_000))
        for message in [alert, update, cancel] {
            let xml = Self.renderer.render(message, earlier: issuer.earlierMessages(before: message))
            let outcome = try XMLLint.validate(xml)
            #expect(outcome.status == 0, "\(message.msgType): \(outcome.output)\n\(xml)")
        }
        let alertXML = Self.renderer.render(alert)
        #expect(alertXML.contains("<identifier>qw20261129a-0</identifier>"))
        // createdTime 00:00:05Z → Beijing time.
        #expect(alertXML.contains("<sent>2026-11-29T08:00:05+08:00</sent>"))
        #expect(alertXML.contains("<status>Actual</status>") && alertXML.contains("<msgType>Alert</msgType>"))
        #expect(alertXML.contains("<category>Geo</category>"))
        #expect(alertXML.contains("<event>Earthquake early warning</event>"))
        #expect(alertXML.contains("<urgency>Immediate</urgency>"))
        #expect(alertXML.contains("<severity>Extreme</severity>"))  // the epicentre school is red
        #expect(alertXML.contains("<certainty>Likely</certainty>"))
        #expect(!alertXML.contains("<references>"))
        #expect(alertXML.contains("<senderName>Lezhi EEW &amp; &lt;test&gt;</senderName>"))
        #expect(alertXML.contains("<value>name=North town;kind=town;distanceKilometers=111.2;intensity=4.6;sigma=0.52;"
                                  + "sWaveArrivalTime=2026-11-29T00:00:31.911000Z;countdownSeconds=26.9;warningLevel=orange</value>"))
        // Radius (axis `maximum`): the larger of long 10^((1.5 − 12.267)/−3.657) − 15 = 864.461 km and
        // short 10^((1.5 − 10.37)/−2.845) − 7 = 1304.446 km, capped at the default 300 km.
        #expect(alertXML.contains("<circle>29.2800,105.0300 300.0</circle>"))
        var wide = TestScenario.alerting
        wide.maximumAlertRadiusKilometers = 5000
        let widePredictor = WarningPredictor(alerting: wide, targets: TestScenario.targets)
        #expect(widePredictor.alertZoneRadiusKilometers(magnitude: 6) == 1304.5)
        // M 4.5 with blue at 4.0: long 10^((4 − 5.841 − 4.8195)/−3.657) − 15 = 51.268 km, short
        // 10^((4 − 3.944 − 4.8195)/−2.845) − 7 = 40.243 km → the larger, rounded up: 51.3 km.
        var narrow = TestScenario.alerting
        narrow.warningLevels = WarningLevelThresholds(blueMinimumIntensity: 4.0, yellowMinimumIntensity: 5,
                                                      orangeMinimumIntensity: 6, redMinimumIntensity: 7)
        let narrowPredictor = WarningPredictor(alerting: narrow, targets: TestScenario.targets)
        #expect(narrowPredictor.alertZoneRadiusKilometers(magnitude: 4.5) == 51.3)
        // The farthest alerted target extends the circle beyond the modelled zone.
        var farMessage = alert
        farMessage.magnitude = 4.5
        let farXML = CAPRenderer(cap: TestScenario.cap, predictor: narrowPredictor).render(farMessage)
        #expect(farXML.contains("<circle>29.2800,105.0300 111.2</circle>"))

        let updateXML = Self.renderer.render(update, earlier: issuer.earlierMessages(before: update))
        #expect(updateXML.contains("<identifier>qw20261129a-1</identifier>"))
        #expect(updateXML.contains("<references>quakewarn@lezhi.example,qw20261129a-0,2026-11-29T08:00:05+08:00</references>"))
        let cancelXML = Self.renderer.render(cancel, earlier: issuer.earlierMessages(before: cancel))
        #expect(cancelXML.contains("<references>quakewarn@lezhi.example,qw20261129a-0,2026-11-29T08:00:05+08:00 "
                                   + "quakewarn@lezhi.example,qw20261129a-1,2026-11-29T08:00:07+08:00</references>"))
        #expect(cancelXML.contains("<msgType>Cancel</msgType>") && cancelXML.contains("<responseType>AllClear</responseType>"))
        #expect(cancelXML.contains("<severity>Unknown</severity>") && cancelXML.contains("<certainty>Unlikely</certainty>"))
    }

    @Test func exerciseAndTestValidate() throws {
        for status in [WarningStatus.exercise, .test] {
            let message = try TestScenario.predictor.message(for: TestScenario.solution(magnitude: 4.2), msgType: .alert,
                                                             updateNumber: 0, status: status, now: TestScenario.now)
            let xml = Self.renderer.render(message)
            let outcome = try XMLLint.validate(xml)
            #expect(outcome.status == 0, "\(status): \(outcome.output)\n\(xml)")
            #expect(xml.contains("<status>\(status.rawValue)</status>"))
            #expect(xml.contains("<certainty>\(status == .test ? "Unknown" : "Likely")</certainty>"))
        }
    }

    /// Hostile strings (markup, quotes, control characters, non-ASCII) still give a valid document.
    @Test func escapingKeepsTheDocumentValid() throws {
        let nasty = "<script>&amp; \"quoted\" 'single' ]]> \u{01}\u{0B} 乐至县 \r\n\t"
        let predictor = WarningPredictor(alerting: TestScenario.alerting,
                                         targets: [WarningTarget(name: nasty, kind: .hospital, latitudeDegrees: 30.3,
                                                                 longitudeDegrees: 105.0)])
        var solution = TestScenario.solution()
        solution.magnitudeType = "M<&>"
        let message = try predictor.message(for: solution, msgType: .alert, updateNumber: 0, status: .actual,
                                            now: TestScenario.now)
        let cap = CAPConfiguration(sender: "a@b", senderName: nasty)
        let xml = CAPRenderer(cap: cap, predictor: predictor).render(message)
        let outcome = try XMLLint.validate(xml)
        #expect(outcome.status == 0, "\(outcome.output)\n\(xml)")
        #expect(xml.contains("&lt;script&gt;&amp;amp; &quot;quoted&quot; &apos;single&apos; ]]&gt; \u{FFFD}\u{FFFD} 乐至县 &#13;\n&#9;"))
    }

    @Test func capDateTimes() throws {
        // 1.9 s after midnight UTC, truncated to whole seconds.
        let t = TestScenario.origin.adding(nanoseconds: 1_900_000_000)
        #expect(CAPRenderer.capDateTime(t, utcOffsetMinutes: 0) == "2026-11-29T00:00:01+00:00")
        #expect(CAPRenderer.capDateTime(t, utcOffsetMinutes: 480) == "2026-11-29T08:00:01+08:00")
        #expect(CAPRenderer.capDateTime(t, utcOffsetMinutes: -330) == "2026-11-28T18:30:01-05:30")
        // Before 1970: floor, not truncation towards zero.
        let early = Timestamp(nanosecondsSinceEpoch: -1_500_000_000)
        #expect(CAPRenderer.capDateTime(early, utcOffsetMinutes: 0) == "1969-12-31T23:59:58+00:00")
    }

    @Test func severityMapping() throws {
        var m = try TestScenario.predictor.message(for: TestScenario.solution(), msgType: .alert, updateNumber: 0,
                                                   status: .actual, now: TestScenario.now)
        let expected: [(WarningLevel, String)] = [(.red, "Extreme"), (.orange, "Severe"), (.yellow, "Moderate"),
                                                  (.blue, "Minor"), (.none, "Minor")]
        for (level, severity) in expected {
            for i in m.targets.indices { m.targets[i].warningLevel = level }
            #expect(CAPRenderer.severity(of: m) == severity)
        }
    }
}
