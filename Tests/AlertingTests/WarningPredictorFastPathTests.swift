// WarningPredictor.message computes the haversine distances with the source's and each target's
// cosine computed once; its predictions must equal predict(_:for:now:) (Geodesy), bit for bit.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SeismicCore
import Testing
import TestSupport
@testable import Alerting

@Suite("WarningPredictor fast path")
struct WarningPredictorFastPathTests {
    @Test("message predictions equal predict(_:for:now:) and Geodesy distances bit for bit (2 000 sources × 7 targets)")
    func messageMatchesPerTargetPrediction() throws {
        var rng = SplitMix64(seed: 4242)
        let targets = (0..<7).map { k in
            WarningTarget(name: "T\(k)", kind: k == 0 ? .countySeat : .town,
                          latitudeDegrees: 29 + 3 * rng.nextUniform(), longitudeDegrees: 103 + 3 * rng.nextUniform())
        }
        for axis in AttenuationAxis.allCases {
            var alerting = AlertingConfiguration()
            alerting.attenuationAxis = axis
            let predictor = WarningPredictor(alerting: alerting, targets: targets)
            let now = Timestamp(nanosecondsSinceEpoch: 1_800_000_010_000_000_000)
            for k in 0..<500 {
                let epicenter = GeoPoint(latitudeDegrees: 25 + 12 * rng.nextUniform(),
                                         longitudeDegrees: 98 + 14 * rng.nextUniform())
                let solution = EarthquakeSolution(
                    eventID: "qw-test-\(k)", originTime: Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000),
                    epicenter: epicenter, depthKilometers: 10, magnitude: 3 + 4 * rng.nextUniform(),
                    magnitudeUncertainty: 0.3, magnitudeType: "Mpd", numberOfStations: 2)
                let message = try predictor.message(for: solution, msgType: .update, updateNumber: 1,
                                                    status: .exercise, now: now)
                let reference = targets.map { predictor.predict(solution, for: $0, now: now) }
                #expect(message.targets == reference)
                for (t, target) in targets.enumerated() {
                    let fast = WarningPredictor.distanceKilometers(
                        source: epicenter, phi1: Geodesy.radians(epicenter.latitudeDegrees),
                        cosPhi1: cos(Geodesy.radians(epicenter.latitudeDegrees)),
                        to: WarningPredictor.TargetGeometry(target))
                    let slow = Geodesy.distanceKilometers(from: epicenter, to: target.position)
                    #expect(fast.bitPattern == slow.bitPattern, "source \(k) target \(t)")
                }
            }
        }
    }

    @Test("replacing the targets keeps the predictions in step with them")
    func targetsDidSet() throws {
        var predictor = WarningPredictor(alerting: AlertingConfiguration(), targets: [
            WarningTarget(name: "A", kind: .town, latitudeDegrees: 30, longitudeDegrees: 104)])
        predictor.targets = [WarningTarget(name: "B", kind: .town, latitudeDegrees: 31, longitudeDegrees: 105)]
        let solution = EarthquakeSolution(eventID: "qw-x", originTime: Timestamp(nanosecondsSinceEpoch: 0),
                                          epicenter: GeoPoint(latitudeDegrees: 31, longitudeDegrees: 105),
                                          depthKilometers: 10, magnitude: 5, magnitudeUncertainty: 0.3,
                                          magnitudeType: "Mpd", numberOfStations: 1)
        let m = try predictor.message(for: solution, msgType: .alert, updateNumber: 0, status: .exercise,
                                      now: Timestamp(nanosecondsSinceEpoch: 0))
        #expect(m.targets.map(\.name) == ["B"])
        #expect(m.targets[0].epicentralDistanceKilometers == 0)
    }
}
