import Alerting
import EventBuilder
import Foundation
import Magnitude
import Pipeline
import SeismicCore
import Simulation
import Testing

/// Issue 5's scenario goals over 20 realizations each, not only the committed one.
///
/// A committed scenario set is one seeded realization of a stochastic simulation: whether one
/// realization meets a goal is partly luck (`scripts/dev/scenario_seed_spread.py` prints the
/// per-seed table; docs/onsite-distance.md §6). These tests make each event scenario of
/// `scripts/dev/make_scenarios.sh` with the 20 seeds starting at the committed one (same source,
/// stations, depth, duration; default Brune source), replay each through the whole pipeline and
/// check the goals on every realization. What holds on all 20 is asserted; what does not is a
/// known issue naming the realizations that miss it.
enum ScenarioEnsemble {
    struct Spec {
        var magnitude: Double
        var latitude: Double
        var longitude: Double
        var depthKilometers: Double
        var origin: String
        var firstSeed: UInt64
        var durationSeconds: Double
    }

    static let nearby = Spec(magnitude: 4.5, latitude: 30.10, longitude: 105.19, depthKilometers: 10,
                             origin: "2026-05-12T06:00:00Z", firstSeed: 11, durationSeconds: 40)
    static let longquan = Spec(magnitude: 5.8, latitude: 30.42, longitude: 104.30, depthKilometers: 12,
                               origin: "2026-05-12T06:30:00Z", firstSeed: 12, durationSeconds: 70)
    static let longmenshan = Spec(magnitude: 7.5, latitude: 31.00, longitude: 103.38, depthKilometers: 14,
                                  origin: "2026-05-12T07:00:00Z", firstSeed: 13, durationSeconds: 170)
    static let realizations: UInt64 = 20
    static let stations = ["SC.NANTA.00:30.270:105.035:390", "SC.GAOSI.00:30.380:105.120:420"]
    /// Nanta (the station that triggers first in every scenario) and the county seat (config.yaml).
    static let nanta = (latitude: 30.270, longitude: 105.035)
    static let countySeat = (latitude: 30.280, longitude: 105.030)

    struct Run {
        var seed: UInt64
        var outputs: ReplayOutputs
    }

    /// Simulates and replays the realizations of `spec` (seeds firstSeed ..< firstSeed + 20), with
    /// both ``stations`` or only the one whose spec starts with `only` (e.g. "SC.NANTA").
    static func runs(_ spec: Spec, only: String? = nil) throws -> [Run] {
        var configuration = ScenarioConfiguration()
        configuration.preEventSeconds = 30
        configuration.durationAfterOriginSeconds = spec.durationSeconds
        let origin = try #require(Timestamp(iso8601: spec.origin))
        let earthquake = ScenarioEarthquake(momentMagnitude: spec.magnitude, latitudeDegrees: spec.latitude,
                                            longitudeDegrees: spec.longitude, depthKilometers: spec.depthKilometers,
                                            originTime: origin)
        var out: [Run] = []
        for seed in spec.firstSeed..<(spec.firstSeed + realizations) {
            let simulator = try ScenarioSimulator(earthquake: earthquake, configuration: configuration, seed: seed)
            out.append(Run(seed: seed, outputs: try Scenario.run(try records(simulator, only: only).segments, chunkSeconds: 1).0))
        }
        return out
    }

    /// The count records of both scenario ``stations`` (as `quakewarn simulate` writes them), or of
    /// the one whose spec starts with `only`, and the number of glitches injected into them.
    static func records(_ simulator: ScenarioSimulator, only: String? = nil) throws -> (segments: [SampleBlock], glitches: Int) {
        var segments: [SampleBlock] = []
        var glitches = 0
        for spec in stations where only.map({ spec.hasPrefix($0 + ".") }) ?? true {
            let simulation = try simulator.simulate(try ScenarioStation(parsing: spec))
            glitches += simulation.glitches.count
            segments += simulation.countBlocks
        }
        return (segments, glitches)
    }

    static func error(_ u: EventUpdate, _ spec: Spec) -> Double {
        ReplayPipelineTests.distanceKm(u.epicenter.latitudeDegrees, u.epicenter.longitudeDegrees, spec.latitude, spec.longitude)
    }

    /// Azimuth from point 1 to point 2, degrees clockwise from north (independent twin of the
    /// library's geodesy: spherical trigonometry).
    static func azimuthDegrees(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let (p1, p2, dl) = (lat1 * .pi / 180, lat2 * .pi / 180, (lon2 - lon1) * .pi / 180)
        let a = atan2(sin(dl) * cos(p2), cos(p1) * sin(p2) - sin(p1) * cos(p2) * cos(dl)) * 180 / .pi
        return a < 0 ? a + 360 : a
    }

    static func angleBetween(_ a: Double, _ b: Double) -> Double {
        let d = abs(a - b).truncatingRemainder(dividingBy: 360)
        return min(d, 360 - d)
    }
}

@Suite("Scenario goals over 20 realizations each", .serialized)
struct ScenarioEnsembleTests {
    @Test("nearby M4.5 at ≈ 25 km, 20 realizations: every one meets every goal (onsite ≤ 30 km, two-station ≤ 15 km, M ± 0.5)")
    func nearbyEnsemble() throws {
        let spec = ScenarioEnsemble.nearby
        for run in try ScenarioEnsemble.runs(spec) {
            let o = run.outputs
            #expect(Set(o.eventUpdates.map(\.id)).count == 1, "seed \(run.seed)")
            let alert = try #require(o.eventUpdates.first, "seed \(run.seed)")
            #expect(alert.messageType == .alert && alert.locationKind == .onsite, "seed \(run.seed)")
            let located = o.eventUpdates.filter { $0.messageType != .cancel }
            let onsite = located.filter { $0.locationKind == .onsite }.map { ScenarioEnsemble.error($0, spec) }
            let two = located.filter { $0.locationKind == .twoStation }.map { ScenarioEnsemble.error($0, spec) }
            #expect(!onsite.isEmpty && onsite.allSatisfy { $0 <= 30 }, "seed \(run.seed): onsite errors \(onsite)")
            #expect(!two.isEmpty && two.allSatisfy { $0 <= 15 }, "seed \(run.seed): two-station errors \(two)")
            let m = try #require(o.eventUpdates.last?.magnitude?.magnitude, "seed \(run.seed)")
            #expect(abs(m - spec.magnitude) <= 0.5, "seed \(run.seed): M \(m)")
        }
    }

    @Test("Longquan M5.8 at ≈ 75 km, 20 realizations: one event, onsite epicentres in the right direction, settled location ≤ 15 km; onsite distance and M are known issues")
    func longquanEnsemble() throws {
        let spec = ScenarioEnsemble.longquan
        let n = ScenarioEnsemble.nanta
        let trueAzimuth = ScenarioEnsemble.azimuthDegrees(n.latitude, n.longitude, spec.latitude, spec.longitude)
        var misses: [String] = []
        for run in try ScenarioEnsemble.runs(spec) {
            let o = run.outputs
            #expect(Set(o.eventUpdates.map(\.id)).count == 1, "seed \(run.seed)")
            #expect(o.eventUpdates.allSatisfy { $0.locationKind != .stationOnly }, "seed \(run.seed)")
            #expect(o.eventUpdates.first?.messageType == .alert, "seed \(run.seed)")
            let located = o.eventUpdates.filter { $0.messageType != .cancel }
            // Every onsite epicentre (19 of the 20 Alerts; one realization's Alert waits for Gaosi)
            // lies along Nanta's back-azimuth (P polarisation): its direction from Nanta is the true
            // one within 5°; the error is the distance.
            for u in located where u.locationKind == .onsite {
                #expect(u.stations == ["SC.NANTA"], "seed \(run.seed)")
                let azimuth = ScenarioEnsemble.azimuthDegrees(n.latitude, n.longitude, u.epicenter.latitudeDegrees,
                                                              u.epicenter.longitudeDegrees)
                #expect(ScenarioEnsemble.angleBetween(azimuth, trueAzimuth) <= 5,
                        "seed \(run.seed): onsite epicentre at azimuth \(azimuth)° from Nanta, true \(trueAzimuth)°")
            }
            let onsite = located.filter { $0.locationKind == .onsite }.map { ScenarioEnsemble.error($0, spec) }
            // The settled location (after both stations' S onsets: S−P distances) is within 15 km
            // in every realization (1.8–4.4 km; 9 of 20 before the S−P distances, whose 3-s P-based
            // ranges were 42–83 km for 72 km).
            let settled = try #require(located.last { $0.locationKind == .twoStation }, "seed \(run.seed)")
            #expect(ScenarioEnsemble.error(settled, spec) <= 15, "seed \(run.seed): settled \(ScenarioEnsemble.error(settled, spec)) km")
            #expect(settled.reason.contains("S−P"), "seed \(run.seed): last update '\(settled.reason)'")
            let m = o.eventUpdates.last?.magnitude?.magnitude
            if onsite.isEmpty || !onsite.allSatisfy({ $0 <= 30 }) { misses.append("seed \(run.seed) onsite \(onsite.map { Int($0) }) km") }
            if abs((m ?? .infinity) - spec.magnitude) > 0.5 { misses.append("seed \(run.seed) M \(m ?? .nan)") }
        }
        // Measured with this code: onsite ≤ 30 km in 9/20, |ΔM| ≤ 0.5 in 16/20. The onsite
        // distance (τc/Pd at the 1.5 s window, long before S) is ≈ 1.7× short (median): this Brune
        // source's Pd is ≈ 2× Wu & Zhao's at M 5.8, which also reads the magnitude ≈ +0.4 once the
        // distance is right. docs/onsite-distance.md §6.
        withKnownIssue("Longquan: onsite τc/Pd distance ≈ 1.7× short and M ≈ +0.4 (Brune Pd ≈ 2× Wu & Zhao)") {
            #expect(misses.isEmpty, "\(misses.count) misses: \(misses.joined(separator: "; "))")
        }
    }

    @Test("Longmenshan M7.5 at ≈ 180 km, 20 realizations: the first warning leaves ≥ 15 s before S at the county seat in every one; the predicted countdown's accuracy is a known issue")
    func longmenshanEnsemble() throws {
        let spec = ScenarioEnsemble.longmenshan
        let seat = ScenarioEnsemble.countySeat
        let origin = try #require(Timestamp(iso8601: spec.origin))
        // The simulator's straight-ray S arrival at the county seat: origin + √(Δ² + h²) / β.
        let beta = StochasticModelParameters().shearVelocityKilometersPerSecond
        let delta = ReplayPipelineTests.distanceKm(seat.latitude, seat.longitude, spec.latitude, spec.longitude)
        let travel = (delta * delta + spec.depthKilometers * spec.depthKilometers).squareRoot() / beta
        let sArrival = origin.adding(nanoseconds: Int64((travel * 1e9).rounded()))
        var misses: [String] = []
        for run in try ScenarioEnsemble.runs(spec) {
            let o = run.outputs
            #expect(Set(o.eventUpdates.map(\.id)).count == 1, "seed \(run.seed)")
            #expect(o.eventUpdates.allSatisfy { $0.locationKind != .stationOnly }, "seed \(run.seed)")
            let first = try #require(o.warningMessages.first, "seed \(run.seed)")
            #expect(first.msgType == .alert, "seed \(run.seed)")
            let target = try #require(first.targets.first { $0.kind == .countySeat }, "seed \(run.seed)")
            // The time really left: the issue's "≥ 15 s of countdown left" (S−P ≈ 21 s is the limit).
            let left = sArrival.seconds(since: first.createdTime)
            #expect(left >= 15 && left <= 21.5, "seed \(run.seed): \(left) s left at the first warning")
            if abs(target.countdownSeconds - left) > 5 {
                misses.append("seed \(run.seed) predicted \(target.countdownSeconds) s, left \((left * 10).rounded() / 10) s")
            }
        }
        // Measured with this code: the predicted countdown is within 5 s of the time left in 9/20
        // realizations (predicted 5.7–24.6 s for 18.2–19.7 s left). At 180 km the two stations
        // (14 km apart) give the direction; the range comes from single-station distances (τc/Pd,
        // B–Δ), off by up to ≈ 110 km, and the S arrival moves 0.12 s per km of range.
        withKnownIssue("Longmenshan: the predicted S countdown follows the poorly constrained range at 180 km") {
            #expect(misses.isEmpty, "\(misses.count) misses: \(misses.joined(separator: "; "))")
        }
    }
}
