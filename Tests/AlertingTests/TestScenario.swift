import Alerting
import Foundation
import SeismicCore

/// A hand-checkable scenario shared by the warning, CAP and signing tests.
///
/// Epicentre 29.28° N 105.03° E, exactly 1° of latitude south of the "north" target
/// (Δ = 2π·6371/360 = 111.194927 km); depth 10.5 km; M 6.0 ± 0.3; origin 2026-11-29T00:00:00Z;
/// central region, long axis, Vs 3.5 km/s, default thresholds. Hand-computed:
/// - north target: I = 5.841 + 6.426 − 3.657·lg(126.194927) = 4.58349 → 4.6 (orange);
///   t_S = t0 + sqrt(111.194927² + 10.5²)/3.5 = t0 + 31.911308 s → …00:31.911Z;
///   countdown at t0 + 5 s = 26.911 → 26.9 s.
/// - epicentre target: I = 12.267 − 3.657·lg 15 = 7.96603 → 8.0 (red); t_S = t0 + 3.000 s;
///   countdown 0 (already arrived).
enum TestScenario {
    static let origin = Timestamp(year: 2026, month: 11, day: 29) ?? Timestamp(nanosecondsSinceEpoch: 0)
    static let now = origin.adding(nanoseconds: 5_000_000_000)

    static let targets = [
        WarningTarget(name: "North town", kind: .town, latitudeDegrees: 30.28, longitudeDegrees: 105.03),
        WarningTarget(name: "Epicentre school", kind: .school, latitudeDegrees: 29.28, longitudeDegrees: 105.03),
    ]

    static let alerting = AlertingConfiguration()
    static let predictor = WarningPredictor(alerting: alerting, targets: targets)

    static func solution(magnitude: Double = 6.0, id: String = "qw20261129a") -> EarthquakeSolution {
        EarthquakeSolution(eventID: id, originTime: origin,
                           epicenter: GeoPoint(latitudeDegrees: 29.28, longitudeDegrees: 105.03),
                           depthKilometers: 10.5, magnitude: magnitude, magnitudeUncertainty: 0.3,
                           magnitudeType: "Mpd", numberOfStations: 2)
    }

    static let cap = CAPConfiguration(sender: "quakewarn@lezhi.example", senderName: "Lezhi EEW & <test>",
                                      language: "en-US", utcOffsetMinutes: 480)
}
