import Alerting
import EventBuilder
import Foundation
import Magnitude
import SeismicCore

/// The event stage of the latency budget (design.md: event build + warning encode + sign
/// ≤ 200 µs): the station-parameter snapshot that a packet produced goes through
/// `EventBuilder.ingest` (association, location, magnitude, alert decision) → `WarningIssuer`
/// (intensity prediction for the targets, message sequencing) → canonical JSON → Ed25519
/// signature (`SignedEnvelope.sign`).
///
/// Two triggering inputs are timed, on the placeholder Lezhi stations (Nanta, Gaosi) with a
/// different seeded epicentre (10–150 km, any bearing) per sample:
/// - the first station's 0.5 s snapshot: the first Alert, located onsite (back-azimuth + distance);
/// - the second station's 0.5 s snapshot: an Update located by the two-station grid search
///   (the most expensive path: `EventLocator.locate`).
/// Everything that happened before the triggering input (earlier picks and snapshots, the issued
/// Alert) is replayed untimed into fresh state for every sample.
enum EventStageBench {
    static let nanta = GeoPoint(latitudeDegrees: 30.30, longitudeDegrees: 105.02)
    static let gaosi = GeoPoint(latitudeDegrees: 30.20, longitudeDegrees: 105.10)
    static let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)

    /// One scenario: the untimed prefix, the timed input, and the state to run it on.
    struct Case {
        var prefix: [EventBuilderInput]
        var trigger: EventBuilderInput
    }

    static func parameters(window: Double) -> StationParameters {
        // M ≈ 4.5 at ≈ 30 km (τc 0.403 s; Pd 5.7e-5 m), as in the EventBuilder tests.
        let pd = 5.7e-5
        return StationParameters(pickSample: 6000, pickTime: nil, windowSampleCount: Int(window * 100),
                                 secondsAfterPick: window, isFinal: false, windowEndedBySWave: false,
                                 hypocentralDistanceKilometers: nil, preEventSeconds: 60,
                                 preEventPeakDisplacementMeters: 1e-7, peakDisplacementMeters: pd,
                                 peakVelocityMetersPerSecond: pd * 10, peakAccelerationMetersPerSecondSquared: pd * 100,
                                 tauCSeconds: 0.403, tauPMaxSeconds: nil,
                                 peakGroundAccelerationMetersPerSecondSquared: pd * 100,
                                 peakGroundVelocityMetersPerSecond: pd * 10)
    }

    /// The inputs of one seeded event: pick N, snapshot N (0.5 s), pick G, snapshot G (0.5 s),
    /// with back-azimuths off by a few degrees and N's distance off by 10 %.
    static func inputs(rng: inout SplitMix64) -> [EventBuilderInput] {
        let epicenter = Geodesy.destination(from: nanta, bearingDegrees: 360 * rng.nextUniform(),
                                            distanceKilometers: 10 + 140 * rng.nextUniform())
        func arrival(_ s: GeoPoint) -> Timestamp {
            let d = Geodesy.distanceKilometers(from: s, to: epicenter)
            return origin.adding(nanoseconds: Int64(((d * d + 100).squareRoot() / 6 * 1e9).rounded()))
        }
        func pick(_ code: String, _ t: Timestamp) -> EventBuilderInput {
            .pick(StationPick(station: "QW." + code, streamID: StreamID(network: "QW", station: code, location: "",
                                                                         channel: "HNZ"),
                              time: t, snr: 30, grade: "A"))
        }
        func snapshot(_ code: String, _ s: GeoPoint, _ t: Timestamp, distance: Bool) -> EventBuilderInput {
            let baz = BackAzimuthEstimate(
                backAzimuthDegrees: Geodesy.normalizedBearing(Geodesy.bearingDegrees(from: s, to: epicenter)
                    + 3 * rng.nextStandardNormal()),
                sigmaDegrees: 5, statisticalSigmaDegrees: 3, rectilinearity: 0.9, apparentIncidenceDegrees: 30,
                eigenvalues: [1, 0.05, 0.05], effectiveSampleCount: 18, windowStart: t, windowSeconds: 1)
            let d = EpicentralDistanceEstimate(kilometers: Geodesy.distanceKilometers(from: s, to: epicenter)
                                                   * (1 + 0.1 * rng.nextStandardNormal()),
                                               log10Sigma: 0.2, method: .given)
            return .snapshot(StationSnapshot(station: "QW." + code, pickTime: t, time: t.adding(nanoseconds: 500_000_000),
                                             parameters: parameters(window: 0.5), backAzimuth: baz,
                                             distance: distance ? d : nil))
        }
        let tn = arrival(nanta), tg = arrival(gaosi)
        // Arrival order decides which station triggers first.
        let first = tn <= tg ? ("NANTA", nanta, tn) : ("GAOSI", gaosi, tg)
        let second = tn <= tg ? ("GAOSI", gaosi, tg) : ("NANTA", nanta, tn)
        var out: [EventBuilderInput] = [pick(first.0, first.2), snapshot(first.0, first.1, first.2, distance: true),
                                        pick(second.0, second.2), snapshot(second.0, second.1, second.2, distance: false)]
        out.sort { $0.time < $1.time }
        return out
    }

    /// Times `samples` runs of each row; returns (first alert, two-station update) in µs.
    static func run(samples: Int, seed: UInt64 = 11, clock: BenchCommand.BenchClock = .wall) throws
        -> (onsite: [Double], twoStation: [Double])
    {
        // The daemon's route (IngestCommand): one EnvelopeSigner, key id computed once.
        let signer = EnvelopeSigner(key: Curve25519.Signing.PrivateKey())
        let builderConfiguration = EventBuilder.Configuration(stations: ["QW.NANTA": nanta, "QW.GAOSI": gaosi])
        let predictor = WarningPredictor(
            alerting: AlertingConfiguration(),
            targets: [WarningTarget(name: "Lezhi", kind: .countySeat, latitudeDegrees: 30.28, longitudeDegrees: 105.02),
                      WarningTarget(name: "Chengdu", kind: .town, latitudeDegrees: 30.66, longitudeDegrees: 104.07)])
        var rng = SplitMix64(seed: seed)
        var onsite: [Double] = [], twoStation: [Double] = []
        onsite.reserveCapacity(samples)
        twoStation.reserveCapacity(samples)
        var signatures = 0
        for _ in 0..<(samples + 20) {  // the first 20 of each row are warm-up
            let all = inputs(rng: &rng)
            // The snapshot of each station is the triggering input of its row.
            for (row, triggerIndex) in [(0, 1), (1, 3)] {
                var builder = EventBuilder(builderConfiguration)
                var issuer = WarningIssuer(predictor: predictor, status: .exercise)
                for input in all[..<triggerIndex] {
                    for u in builder.ingest(input) { _ = try warning(u, issuer: &issuer) }
                }
                let trigger = all[triggerIndex]
                let start = clock.nanoseconds()
                var produced = 0
                for u in builder.ingest(trigger) {
                    if let message = try warning(u, issuer: &issuer) {
                        let envelope = try signer.sign(message)
                        produced += envelope.signature.count
                    }
                }
                let us = clock.elapsedMicroseconds(since: start)
                if produced > 0 { signatures += 1 }
                if row == 0 { onsite.append(us) } else { twoStation.append(us) }
            }
        }
        guard signatures > samples else {
            throw BenchError("event stage: the scenario produced only \(signatures) signed warnings")
        }
        return (Array(onsite.dropFirst(20)), Array(twoStation.dropFirst(20)))
    }

    /// The Pipeline's conversion: an event update with a magnitude becomes a solution, then a
    /// warning message (nil below the alert threshold).
    static func warning(_ u: EventUpdate, issuer: inout WarningIssuer) throws -> WarningMessage? {
        guard u.messageType != .cancel, let m = u.magnitude else { return nil }
        let solution = EarthquakeSolution(eventID: u.id, originTime: u.originTime, epicenter: u.epicenter,
                                          depthKilometers: u.depthKilometers, magnitude: m.magnitude,
                                          magnitudeUncertainty: m.sigma, magnitudeType: m.method.rawValue,
                                          numberOfStations: u.stationCount)
        return try issuer.issue(solution, now: u.time)
    }
}

extension BenchCommand {
    /// Event build + warning encode + sign, per triggering input (budget 200 µs).
    static func eventStage(packets: Int, clock: BenchClock = .wall) throws -> [StageResult] {
        let (onsite, twoStation) = try EventStageBench.run(samples: min(packets, 5000), clock: clock)
        let name = "event build + warning encode + sign" + (clock == .threadCPU ? " [thread CPU]" : "")
        return [StageResult(name: name + " (first alert, onsite)", budgetMicroseconds: 200, samples: onsite),
                StageResult(name: name + " (two-station update)", budgetMicroseconds: 200, samples: twoStation)]
    }
}
