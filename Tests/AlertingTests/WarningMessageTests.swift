import Alerting
import Foundation
import SeismicCore
import Testing

@Suite("Predicted intensity, S-wave countdown, warning message")
struct WarningMessageTests {
    @Test func predictionsMatchHandComputation() throws {
        let message = try TestScenario.predictor.message(for: TestScenario.solution(), msgType: .alert, updateNumber: 0,
                                                         status: .actual, now: TestScenario.now)
        #expect(message.targets.count == 2)
        let north = message.targets[0]
        #expect(north.name == "North town" && north.kind == .town)
        #expect(north.epicentralDistanceKilometers == 111.2)
        #expect(north.predictedIntensity == 4.6)
        #expect(north.predictedIntensitySigma == 0.52)
        #expect(north.warningLevel == .orange)
        #expect(north.sWaveArrivalTime.iso8601 == "2026-11-29T00:00:31.911000Z")
        #expect(north.countdownSeconds == 26.9)
        let school = message.targets[1]
        #expect(school.epicentralDistanceKilometers == 0)
        #expect(school.predictedIntensity == 8.0)
        #expect(school.warningLevel == .red)
        #expect(school.sWaveArrivalTime.iso8601 == "2026-11-29T00:00:03.000000Z")
        #expect(school.countdownSeconds == 0)
        #expect(message.highestWarningLevel == .red)
        #expect(message.createdTime == TestScenario.now)
        #expect(message.sentTime == nil)
    }

    /// Two independent runs over the same input give byte-identical JSON (needed for replay and
    /// signatures), and the bytes do not depend on the order in which messages were built.
    @Test func independentRunsAreByteIdentical() throws {
        func build(_ magnitude: Double) throws -> Data {
            try TestScenario.predictor.message(for: TestScenario.solution(magnitude: magnitude), msgType: .alert,
                                               updateNumber: 0, status: .actual, now: TestScenario.now)
                .canonicalJSON()
        }
        let first = try build(6.0)
        _ = try build(5.1)
        #expect(try build(6.0) == first)
        #expect(try build(6.1) != first)
    }

    @Test func countdownBeforeOrigin() {
        // Created 1 s before the origin time (possible with clock offsets): countdown = 32.911 → 32.9.
        let p = TestScenario.predictor.predict(TestScenario.solution(), for: TestScenario.targets[0],
                                               now: TestScenario.origin.adding(nanoseconds: -1_000_000_000))
        #expect(p.countdownSeconds == 32.9)
    }

    @Test func issuerSequencesAlertUpdateCancel() throws {
        var issuer = WarningIssuer(predictor: TestScenario.predictor, status: .exercise)
        // Below the 4.0 default threshold: nothing.
        let below = try issuer.issue(TestScenario.solution(magnitude: 3.9), now: TestScenario.now)
        #expect(below == nil)
        let first = try issuer.issue(TestScenario.solution(magnitude: 5.0), now: TestScenario.now)
        let alert = try #require(first)
        #expect(alert.msgType == .alert && alert.updateNumber == 0 && alert.status == .exercise)
        // Once alerted, a lower magnitude is still an update.
        let second = try issuer.issue(TestScenario.solution(magnitude: 3.5), now: TestScenario.now)
        let update = try #require(second)
        #expect(update.msgType == .update && update.updateNumber == 1)
        let cancel = try issuer.cancel(eventID: "qw20261129a", now: TestScenario.now.adding(nanoseconds: 1_000_000_000))
        #expect(cancel.msgType == .cancel && cancel.updateNumber == 2 && cancel.targets.isEmpty)
        #expect(issuer.earlierMessages(before: cancel).map(\.updateNumber) == [0, 1])
        let afterCancel = try issuer.issue(TestScenario.solution(magnitude: 6), now: TestScenario.now)
        #expect(afterCancel == nil)
        var pruned = issuer
        pruned.forgetEvents(lastCreatedBefore: TestScenario.now.adding(nanoseconds: 1_000_000_000))
        #expect(pruned.history.keys.sorted() == ["qw20261129a"])  // the cancel was created at now + 1 s
        pruned.forgetEvents(lastCreatedBefore: TestScenario.now.adding(nanoseconds: 1_000_000_001))
        #expect(pruned.history.isEmpty)
        var other = issuer
        #expect(throws: WarningError.unknownEvent("other")) { try other.cancel(eventID: "other", now: TestScenario.now) }
    }

    @Test func invalidSolutionsAreRejected() {
        #expect(throws: WarningError.invalidEventID("a b")) {
            try TestScenario.predictor.message(for: TestScenario.solution(id: "a b"), msgType: .alert, updateNumber: 0,
                                               status: .actual, now: TestScenario.now)
        }
        var bad = TestScenario.solution()
        bad.magnitude = .nan
        #expect(throws: WarningError.self) {
            try TestScenario.predictor.message(for: bad, msgType: .alert, updateNumber: 0, status: .actual,
                                               now: TestScenario.now)
        }
    }

    /// The canonical JSON, written out by hand from the field list (sorted keys, compact).
    @Test func canonicalJSONIsExactAndStable() throws {
        let target = TargetPrediction(name: "A/B \"school\"", kind: .school, epicentralDistanceKilometers: 12.5,
                                      predictedIntensity: 6.3, predictedIntensitySigma: 0.52,
                                      sWaveArrivalTime: TestScenario.origin.adding(nanoseconds: 4_250_000_000),
                                      countdownSeconds: 2.5, warningLevel: .orange)
        let message = WarningMessage(
            id: "qw1", updateNumber: 1, status: .test, msgType: .update, originTime: TestScenario.origin,
            epicenter: GeoPoint(latitudeDegrees: 30.25, longitudeDegrees: 105.5), depthKilometers: 12.5,
            magnitude: 5.5, magnitudeUncertainty: 0.25, magnitudeType: "Mpd", numberOfStations: 2, targets: [target],
            createdTime: TestScenario.origin.adding(nanoseconds: 1_750_000_000),
            sentTime: TestScenario.origin.adding(nanoseconds: 1_750_500_000))
        let expected = #"{"createdTime":"2026-11-29T00:00:01.750000Z","depthKilometers":12.5,"#
            + #""epicenter":{"latitudeDegrees":30.25,"longitudeDegrees":105.5},"id":"qw1","magnitude":5.5,"#
            + #""magnitudeType":"Mpd","magnitudeUncertainty":0.25,"msgType":"Update","numberOfStations":2,"#
            + #""originTime":"2026-11-29T00:00:00.000000Z","sentTime":"2026-11-29T00:00:01.750500Z","status":"Test","#
            + #""targets":[{"countdownSeconds":2.5,"epicentralDistanceKilometers":12.5,"kind":"school","#
            + #""name":"A/B \"school\"","predictedIntensity":6.3,"predictedIntensitySigma":0.52,"#
            + #""sWaveArrivalTime":"2026-11-29T00:00:04.250000Z","warningLevel":"orange"}],"updateNumber":1}"#
        let json = try message.canonicalJSON()
        #expect(String(decoding: json, as: UTF8.self) == expected)
        // Identical input → byte-identical output, also for an independently built equal message.
        let copy = try WarningMessage.decode(json: json)
        #expect(copy == message)
        #expect(try copy.canonicalJSON() == json)
        // Without sentTime the key is absent.
        var unsent = message
        unsent.sentTime = nil
        #expect(!String(decoding: try unsent.canonicalJSON(), as: UTF8.self).contains("sentTime"))
        #expect(try WarningMessage.decode(json: unsent.canonicalJSON()) == unsent)
    }

    /// A hand-built (unvalidated) configuration with Vs = 0 must not trap: the arrival is clamped.
    @Test func degenerateConfigurationDoesNotTrap() {
        var alerting = AlertingConfiguration()
        alerting.sWaveVelocityKilometersPerSecond = 0
        let p = WarningPredictor(alerting: alerting, targets: TestScenario.targets)
            .predict(TestScenario.solution(), for: TestScenario.targets[0], now: TestScenario.now)
        #expect(p.sWaveArrivalTime == TestScenario.origin.adding(nanoseconds: 1_000_000_000_000 * 1_000_000))
        #expect(CAPRenderer.capDateTime(TestScenario.origin, utcOffsetMinutes: Int.max) == "2026-11-29T23:59:00+23:59")
    }

    @Test func decodingRejectsBadTimes() {
        let bad = Data(#"{"createdTime":"yesterday"}"#.utf8)
        #expect(throws: (any Error).self) { try WarningMessage.decode(json: bad) }
    }
}
