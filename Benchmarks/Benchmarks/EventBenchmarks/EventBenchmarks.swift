import Alerting
import Benchmark
import EventBuilder
import Magnitude
import SeismicCore

/// The event stage of the latency budget (design.md: event build + warning encode + sign
/// ≤ 200 µs p99), on the placeholder Lezhi stations (Nanta, Gaosi):
/// - the two-station grid-search locator alone (`EventLocator.locate`), and
/// - the second station's 0.5 s snapshot through `EventBuilder.ingest` (association, two-station
///   location, magnitude, decision) → `WarningIssuer.issue` → canonical JSON → Ed25519 signature.
/// A pool of 64 seeded epicentres (10–150 km, any bearing) is cycled; the state before the
/// triggering snapshot (picks, the first station's snapshot and its Alert) is rebuilt outside the
/// measurement for every iteration. `quakewarn bench` reports the same stage with p50/p99.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
        warmupIterations: 20,
        maxDuration: .seconds(5),
        maxIterations: 20_000
    )

    Benchmark("Locator two stations (grid search)") { benchmark in
        let cases = EventScenario.pool(count: 64)
        let arrivals = cases.map(\.arrivals)
        let locator = EventLocator()
        var k = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(locator.locate(arrivals[k % arrivals.count]))
            k += 1
        }
    }

    Benchmark("Event build + warning encode + sign (two-station update)") { benchmark in
        let cases = EventScenario.pool(count: 64)
        let key = Curve25519.Signing.PrivateKey()
        var k = 0
        for _ in benchmark.scaledIterations {
            let scenario = cases[k % cases.count]
            k += 1
            var builder = EventBuilder(EventScenario.builderConfiguration)
            var issuer = WarningIssuer(predictor: EventScenario.predictor, status: .exercise)
            for input in scenario.inputs.dropLast() {
                for u in builder.ingest(input) { _ = try EventScenario.warning(u, issuer: &issuer) }
            }
            let trigger = scenario.inputs[scenario.inputs.count - 1]
            benchmark.startMeasurement()
            for u in builder.ingest(trigger) {
                if let message = try EventScenario.warning(u, issuer: &issuer) {
                    blackHole(try SignedEnvelope.sign(message, with: key))
                }
            }
            benchmark.stopMeasurement()
        }
    }
}

/// Seeded two-station events with noisy back-azimuths (σ 3°) and a 10 % distance error.
struct EventScenario {
    static let nanta = GeoPoint(latitudeDegrees: 30.30, longitudeDegrees: 105.02)
    static let gaosi = GeoPoint(latitudeDegrees: 30.20, longitudeDegrees: 105.10)
    static let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)
    static let builderConfiguration = EventBuilder.Configuration(stations: ["QW.NANTA": nanta, "QW.GAOSI": gaosi])
    static let predictor = WarningPredictor(
        alerting: AlertingConfiguration(),
        targets: [WarningTarget(name: "Lezhi", kind: .countySeat, latitudeDegrees: 30.28, longitudeDegrees: 105.02),
                  WarningTarget(name: "Chengdu", kind: .town, latitudeDegrees: 30.66, longitudeDegrees: 104.07)])

    /// Pick, snapshot (with distance), pick, snapshot (without) in time order.
    var inputs: [EventBuilderInput]
    /// The locator's input for the same event (both stations, back-azimuths, first one's distance).
    var arrivals: [StationArrival]

    static func pool(count: Int) -> [EventScenario] {
        var rng = SplitMix64(seed: 11)
        return (0..<count).map { _ in make(rng: &rng) }
    }

    static func make(rng: inout SplitMix64) -> EventScenario {
        let epicenter = Geodesy.destination(from: nanta, bearingDegrees: 360 * rng.nextUniform(),
                                            distanceKilometers: 10 + 140 * rng.nextUniform())
        var stations = [("NANTA", nanta), ("GAOSI", gaosi)].map { code, s in
            let d = Geodesy.distanceKilometers(from: s, to: epicenter)
            return (code, s, origin.adding(nanoseconds: Int64(((d * d + 100).squareRoot() / 6 * 1e9).rounded())))
        }
        stations.sort { $0.2 < $1.2 }
        var inputs: [EventBuilderInput] = []
        var arrivals: [StationArrival] = []
        for (k, (code, s, t)) in stations.enumerated() {
            let baz = BackAzimuthEstimate(
                backAzimuthDegrees: Geodesy.normalizedBearing(Geodesy.bearingDegrees(from: s, to: epicenter)
                    + 3 * rng.nextStandardNormal()),
                sigmaDegrees: 5, statisticalSigmaDegrees: 3, rectilinearity: 0.9, apparentIncidenceDegrees: 30,
                eigenvalues: [1, 0.05, 0.05], effectiveSampleCount: 18, windowStart: t, windowSeconds: 1)
            let distance = k == 0
                ? EpicentralDistanceEstimate(kilometers: Geodesy.distanceKilometers(from: s, to: epicenter)
                                                 * (1 + 0.1 * rng.nextStandardNormal()),
                                             log10Sigma: 0.2, method: .given)
                : nil
            inputs.append(.pick(StationPick(station: "QW." + code,
                                            streamID: StreamID(network: "QW", station: code, location: "", channel: "HNZ"),
                                            time: t, snr: 30, grade: "A")))
            inputs.append(.snapshot(StationSnapshot(station: "QW." + code, pickTime: t,
                                                    time: t.adding(nanoseconds: 500_000_000),
                                                    parameters: parameters(window: 0.5), backAzimuth: baz,
                                                    distance: distance)))
            arrivals.append(StationArrival(station: "QW." + code, location: s, pickTime: t, backAzimuth: baz,
                                           distance: distance))
        }
        inputs.sort { $0.time < $1.time }
        return EventScenario(inputs: inputs, arrivals: arrivals)
    }

    static func parameters(window: Double) -> StationParameters {
        let pd = 5.7e-5  // M ≈ 4.5 (τc 0.403 s), as in the EventBuilder tests
        return StationParameters(pickSample: 6000, pickTime: nil, windowSampleCount: Int(window * 100),
                                 secondsAfterPick: window, isFinal: false, windowEndedBySWave: false,
                                 hypocentralDistanceKilometers: nil, preEventSeconds: 60,
                                 preEventPeakDisplacementMeters: 1e-7, peakDisplacementMeters: pd,
                                 peakVelocityMetersPerSecond: pd * 10, peakAccelerationMetersPerSecondSquared: pd * 100,
                                 tauCSeconds: 0.403, tauPMaxSeconds: nil,
                                 peakGroundAccelerationMetersPerSecondSquared: pd * 100,
                                 peakGroundVelocityMetersPerSecond: pd * 10)
    }

    static func warning(_ u: EventUpdate, issuer: inout WarningIssuer) throws -> WarningMessage? {
        guard u.messageType != .cancel, let m = u.magnitude else { return nil }
        let solution = EarthquakeSolution(eventID: u.id, originTime: u.originTime, epicenter: u.epicenter,
                                          depthKilometers: u.depthKilometers, magnitude: m.magnitude,
                                          magnitudeUncertainty: m.sigma, magnitudeType: m.method.rawValue,
                                          numberOfStations: u.stationCount)
        return try issuer.issue(solution, now: u.time)
    }
}
