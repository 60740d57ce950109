import Foundation
import Magnitude
import SeismicCore
import Testing
import TestSupport
@testable import EventBuilder

/// Placeholder coordinates for the two Lezhi stations (NOT surveyed positions): Nanta ≈ 30.30° N
/// 105.02° E, Gaosi ≈ 30.20° N 105.10° E.
enum Lezhi {
    static let nanta = GeoPoint(latitudeDegrees: 30.30, longitudeDegrees: 105.02)
    static let gaosi = GeoPoint(latitudeDegrees: 30.20, longitudeDegrees: 105.10)
    static let stations = ["QW.NANTA": nanta, "QW.GAOSI": gaosi]
}

/// Independent twin: spherical law of cosines (a different formula from the haversine in Geodesy).
func lawOfCosinesKilometers(_ p: GeoPoint, _ q: GeoPoint) -> Double {
    let r = Double.pi / 180
    let c = sin(p.latitudeDegrees * r) * sin(q.latitudeDegrees * r)
        + cos(p.latitudeDegrees * r) * cos(q.latitudeDegrees * r) * cos((q.longitudeDegrees - p.longitudeDegrees) * r)
    return 6371.0 * acos(min(1, c))
}

@Suite("Geodesy")
struct GeodesyTests {
    @Test("distances and bearings against hand values and an independent formula")
    func basics() {
        let o = GeoPoint(latitudeDegrees: 0, longitudeDegrees: 0)
        // 1° of arc on a 6371 km sphere = 6371 π / 180 = 111.19492664455873 km.
        #expect(abs(Geodesy.distanceKilometers(from: o, to: GeoPoint(latitudeDegrees: 1, longitudeDegrees: 0))
                    - 111.19492664455873) < 1e-9)
        #expect(abs(Geodesy.bearingDegrees(from: o, to: GeoPoint(latitudeDegrees: 0, longitudeDegrees: 1)) - 90) < 1e-12)
        #expect(abs(Geodesy.bearingDegrees(from: o, to: GeoPoint(latitudeDegrees: 1, longitudeDegrees: 0))) < 1e-12)
        #expect(abs(Geodesy.bearingDegrees(from: o, to: GeoPoint(latitudeDegrees: -1, longitudeDegrees: 0)) - 180) < 1e-12)
        #expect(abs(Geodesy.bearingDegrees(from: o, to: GeoPoint(latitudeDegrees: 0, longitudeDegrees: -1)) - 270) < 1e-12)
        let d = Geodesy.distanceKilometers(from: Lezhi.nanta, to: Lezhi.gaosi)
        #expect(abs(d - lawOfCosinesKilometers(Lezhi.nanta, Lezhi.gaosi)) < 1e-6)
        #expect(d > 13 && d < 14)
        #expect(Geodesy.angleDifference(10, 350) == 20)
        #expect(Geodesy.angleDifference(350, 10) == -20)
        #expect(Geodesy.normalizedBearing(-90) == 270)
    }

    @Test("destination point round trip: distance and bearing back from the start", arguments: [0.0, 45, 135, 225, 300])
    func destination(bearing: Double) {
        for dist in [1.0, 30, 150, 800] {
            let q = Geodesy.destination(from: Lezhi.nanta, bearingDegrees: bearing, distanceKilometers: dist)
            #expect(abs(lawOfCosinesKilometers(Lezhi.nanta, q) - dist) < 1e-6 * max(1, dist))
            #expect(abs(Geodesy.angleDifference(Geodesy.bearingDegrees(from: Lezhi.nanta, to: q), bearing)) < 1e-9)
        }
    }
}

@Suite("B–Δ envelope distance and τc/Pd distance")
struct EnvelopeDistanceTests {
    @Test("exact envelopes B t e^{−At}: the fit returns B and A", arguments: [0.05, 1.0, 30.0])
    func exactFit(b: Double) throws {
        let fs = 100.0
        for a in [0.2, 1.0, 2.5] {
            let env = (0..<300).map { k -> Double in let t = Double(k) / fs; return b * t * exp(-a * t) }
            let f = try EnvelopeDistanceEstimator.fit(envelope: env, samplingRateHz: fs)
            #expect(abs(f.b / b - 1) < 1e-10)
            #expect(abs(f.a - a) < 1e-10)
            #expect(f.residualRMSLn < 1e-10)
        }
    }

    @Test("relation log10 Δ = −0.96 log10 B + 1.42 (hand values)")
    func relation() throws {
        let est = EnvelopeDistanceEstimator()
        // B = 1 → Δ = 10^1.42 = 26.302679918953825 km; B = 10 → 10^0.46 = 2.8840315031266059 km.
        #expect(abs(try #require(est.distance(fromB: 1)).kilometers - 26.302679918953825) < 1e-9)
        #expect(abs(try #require(est.distance(fromB: 10)).kilometers - 2.8840315031266059) < 1e-9)
        #expect(est.distance(fromB: 0) == nil)
        let d = try #require(est.distance(fromB: 0.1))
        #expect(abs(d.oneSigmaRangeKilometers.upperBound / d.kilometers - pow(10, 0.3)) < 1e-12)
    }

    @Test("noisy synthetic envelope (10 % log-normal, seeded): B within 5 %, distance within 5 %")
    func noisyFit() throws {
        var g = SplitMix64(seed: 42)
        let fs = 100.0, b = 0.8, a = 0.6
        let env = (0..<300).map { k -> Double in
            let t = Double(k) / fs
            return b * t * exp(-a * t) * exp(0.1 * g.normal())
        }
        let f = try EnvelopeDistanceEstimator.fit(envelope: env, samplingRateHz: fs)
        #expect(abs(f.b / b - 1) < 0.05)
        let est = EnvelopeDistanceEstimator()
        let truth = pow(10, -0.96 * log10(b) + 1.42)
        #expect(abs(try #require(est.distance(fromB: f.b)).kilometers / truth - 1) < 0.05)
    }

    @Test("envelope = running peak of |x − pre-pick mean| from the pick on")
    func envelope() {
        let x: [Double] = [1, 1, 1, 1, 3, 0, -4, 2, 1]
        let env = EnvelopeDistanceEstimator.envelope(of: x, pickIndex: 4, samplingRateHz: 1, windowSeconds: 10)
        #expect(env == [2, 2, 5, 5, 5])
        #expect(throws: EnvelopeFitError.self) { try EnvelopeDistanceEstimator.fit(envelope: [0, 1], samplingRateHz: 100) }
    }

    @Test("τc/Pd inversion recovers the distance used to make Pd (Wu & Zhao 2006 forward, by hand)")
    func tauCPd() throws {
        // Forward: M 5, R = 50 km: log10 Pd[cm] = −3.463 + 0.729·5 − 1.374·log10 50.
        let logPd = -3.463 + 0.729 * 5 - 1.374 * log10(50.0)
        let pdMeters = pow(10, logPd) / 100
        let d = try #require(TauCPdDistance.estimate(peakDisplacementMeters: pdMeters,
                                                     magnitude: MagnitudeEstimate(magnitude: 5, sigma: 0.4, method: .tauC),
                                                     depthKilometers: 10))
        #expect(abs(d.kilometers - (2500.0 - 100).squareRoot()) < 1e-9)
        #expect(abs(d.log10Sigma - ((0.729 * 0.4) * (0.729 * 0.4) + 0.305 * 0.305).squareRoot() / 1.374) < 1e-12)
    }
}

/// Synthetic arrivals from a known epicentre, with exact spherical distances (independent of the
/// locator's flat grid).
func syntheticArrivals(epicenter: GeoPoint, origin: Timestamp, depth: Double = 10, vp: Double = 6,
                       bazSigma: Double = 5, bazNoise: [Double] = [0, 0], timeNoise: [Double] = [0, 0],
                       withBackAzimuth: Bool = true) -> [StationArrival] {
    [("QW.NANTA", Lezhi.nanta), ("QW.GAOSI", Lezhi.gaosi)].enumerated().map { k, s in
        let delta = Geodesy.distanceKilometers(from: s.1, to: epicenter)
        let t = (delta * delta + depth * depth).squareRoot() / vp + timeNoise[k]
        let baz = Geodesy.bearingDegrees(from: s.1, to: epicenter) + bazNoise[k]
        let b = BackAzimuthEstimate(backAzimuthDegrees: Geodesy.normalizedBearing(baz), sigmaDegrees: bazSigma,
                                    statisticalSigmaDegrees: bazSigma, rectilinearity: 0.9, apparentIncidenceDegrees: 30,
                                    eigenvalues: [1, 0.05, 0.05], effectiveSampleCount: 18, windowStart: origin,
                                    windowSeconds: 1)
        return StationArrival(station: s.0, location: s.1, pickTime: origin.adding(nanoseconds: Int64((t * 1e9).rounded())),
                              backAzimuth: withBackAzimuth ? b : nil)
    }
}

@Suite("Locator (placeholder Lezhi stations)")
struct LocatorTests {
    static let origin = Timestamp(nanosecondsSinceEpoch: 1_800_000_000_000_000_000)

    @Test("two stations, exact arrivals + back-azimuths: epicentre within 0.5 km, origin within 0.05 s",
          arguments: [(250.0, 30.0), (45.0, 60.0), (325.0, 40.0), (160.0, 15.0)])
    func exact(bearing: Double, distance: Double) throws {
        let epi = Geodesy.destination(from: Lezhi.nanta, bearingDegrees: bearing, distanceKilometers: distance)
        let sol = try #require(EventLocator().locate(syntheticArrivals(epicenter: epi, origin: Self.origin)))
        let err = Geodesy.distanceKilometers(from: sol.epicenter, to: epi)
        print("locator exact \(bearing)° \(distance) km: error \(err) km, σ_h \(sol.horizontalSigmaKilometers) km, misfit \(sol.misfit)")
        #expect(err < 0.5, "error \(err) km, σ \(sol.horizontalSigmaKilometers)")
        #expect(abs(sol.originTime.seconds(since: Self.origin)) < 0.05)
        #expect(sol.method == .gridSearch)
        #expect(sol.horizontalSigmaKilometers.isFinite && sol.horizontalSigmaKilometers > 0)
    }

    @Test("two stations with seeded noise (σ_φ 5°, σ_t 0.05 s): error ≤ σ_h in ≥ 55 % of 40 runs (RMS-radial σ: ≈ 63–68 % expected), all ≤ 3 σ_h")
    func noisy() throws {
        var g = SplitMix64(seed: 2026)
        let epi = Geodesy.destination(from: Lezhi.nanta, bearingDegrees: 250, distanceKilometers: 30)
        var inside = 0
        let runs = 40
        var errors: [Double] = []
        for _ in 0..<runs {
            let arr = syntheticArrivals(epicenter: epi, origin: Self.origin, bazNoise: [5 * g.normal(), 5 * g.normal()],
                                        timeNoise: [0.05 * g.normal(), 0.05 * g.normal()])
            let sol = try #require(EventLocator().locate(arr))
            let err = Geodesy.distanceKilometers(from: sol.epicenter, to: epi)
            errors.append(err)
            if err <= sol.horizontalSigmaKilometers { inside += 1 }
            #expect(err <= 3 * sol.horizontalSigmaKilometers, "error \(err) km, σ \(sol.horizontalSigmaKilometers) km")
        }
        print("locator noisy: \(inside)/\(runs) within σ_h; median error \(errors.sorted()[runs / 2]) km")
        #expect(Double(inside) >= 0.55 * Double(runs))
    }

    @Test("onsite: destination along the back-azimuth; σ from along- and across-ray errors")
    func onsite() throws {
        let baz = BackAzimuthEstimate(backAzimuthDegrees: 250, sigmaDegrees: 10, statisticalSigmaDegrees: 8,
                                      rectilinearity: 0.9, apparentIncidenceDegrees: 30, eigenvalues: [1, 0.1, 0.1],
                                      effectiveSampleCount: 18, windowStart: Self.origin, windowSeconds: 1)
        let dist = EpicentralDistanceEstimate(kilometers: 40, log10Sigma: 0.1, method: .given)
        let a = StationArrival(station: "QW.NANTA", location: Lezhi.nanta, pickTime: Self.origin, backAzimuth: baz,
                               distance: dist)
        let sol = try #require(EventLocator().locateOnsite(a))
        #expect(abs(lawOfCosinesKilometers(Lezhi.nanta, sol.epicenter) - 40) < 1e-6)
        #expect(abs(Geodesy.angleDifference(Geodesy.bearingDegrees(from: Lezhi.nanta, to: sol.epicenter), 250)) < 1e-9)
        let along = 40 * log(10) * 0.1, across = 40 * 10 * Double.pi / 180
        #expect(abs(sol.horizontalSigmaKilometers - (along * along + across * across).squareRoot()) < 1e-9)
        // origin = pick − √(40² + 10²)/6
        #expect(abs(sol.originTime.seconds(since: Self.origin) + (1600.0 + 100).squareRoot() / 6) < 1e-6)
        #expect(EventLocator().locateOnsite(StationArrival(station: "X", location: Lezhi.nanta, pickTime: Self.origin)) == nil)
    }
}
