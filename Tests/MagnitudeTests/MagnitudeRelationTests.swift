// Magnitude relations vs hand-computed values, inverse-variance combination, estimator policy.
import Foundation
import Magnitude
import Testing

@Suite("Magnitude relations")
struct MagnitudeRelationTests {
    // Hand computations (log10 50 = 1.698970004336019, log10 2 = 0.301029995663981):
    //   KA2013, Pd = 0.1 cm = 1e-3 m, R = 50 km: 1.23·(−1) + 1.38·1.698970004 + 5.39 = 6.504578606
    //   WZ2006, same:  (−1 + 3.463 + 1.374·1.698970004)/0.729 = 4.797384786/0.729 = 6.580774741
    //   τc = 2 s:      4.218·0.301029996 + 6.166 = 7.435744522
    //   τp = 0.5 s:    7.14·(−0.301029996) + 5.93 = 3.780645831
    @Test("Kuyuk & Allen 2013: Pd in cm inside the relation")
    func kuyukAllen() throws {
        let m = try #require(PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: 1e-3, hypocentralDistanceKilometers: 50))
        #expect(abs(m - 6.504578606) < 1e-8)
        // Pd = 1 cm, R = 1 km → the constant alone.
        #expect(abs((PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: 0.01, hypocentralDistanceKilometers: 1) ?? 0) - 5.39) < 1e-12)
        #expect(PdMagnitudeKuyukAllen2013.estimate(peakDisplacementMeters: 1e-3, hypocentralDistanceKilometers: 50)?.sigma == 0.31)
        #expect(PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: 0, hypocentralDistanceKilometers: 50) == nil)
        #expect(PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: 1e-3, hypocentralDistanceKilometers: -1) == nil)
    }

    @Test("Wu & Zhao 2006: inverse of log Pd = −3.463 + 0.729 M − 1.374 log R; σ = 0.305/0.729")
    func wuZhao() throws {
        let m = try #require(PdMagnitudeWuZhao2006.magnitude(peakDisplacementMeters: 1e-3, hypocentralDistanceKilometers: 50))
        #expect(abs(m - 6.580774741) < 1e-8)
        // Round trip through the forward relation.
        let logPd = -3.463 + 0.729 * m - 1.374 * log10(50.0)
        #expect(abs(pow(10, logPd) - 0.1) < 1e-12)
        #expect(abs(PdMagnitudeWuZhao2006.sigma - 0.41838134430727025) < 1e-12)
        let e = try #require(PdMagnitudeWuZhao2006.estimate(peakDisplacementMeters: 1e-3, hypocentralDistanceKilometers: 50))
        #expect(e.isOutsideCalibrationRange)  // 6.58 > 6.5
    }

    @Test("τc: M = 4.218 log τc + 6.166; τp^max: M = 7.14 log τp + 5.93")
    func periodRelations() throws {
        #expect(abs((TauCMagnitude.magnitude(tauCSeconds: 2) ?? 0) - 7.435744522) < 1e-8)
        #expect(TauCMagnitude.magnitude(tauCSeconds: 1) == 6.166)
        #expect(abs((TauPMagnitudeOlsonAllen2005.magnitude(tauPMaxSeconds: 0.5) ?? 0) - 3.780645831) < 1e-8)
        #expect(TauPMagnitudeOlsonAllen2005.magnitude(tauPMaxSeconds: 1) == 5.93)
        #expect(TauCMagnitude.magnitude(tauCSeconds: 0) == nil)
        #expect(TauCMagnitude.estimate(tauCSeconds: 12)?.isOutsideCalibrationRange == true)  // above the 10 s cap
        #expect(TauCMagnitude.estimate(tauCSeconds: 0.5)?.isOutsideCalibrationRange == false)  // M 4.90
    }

    @Test("inverse-variance: (5.0 ± 0.3, 6.0 ± 0.4) → 5.36 ± 0.24 (exact fractions 3350/625, 6/25)")
    func inverseVariance() throws {
        let c = try #require(MagnitudeCombination.inverseVariance([
            MagnitudeEstimate(magnitude: 5.0, sigma: 0.3, method: .tauC),
            MagnitudeEstimate(magnitude: 6.0, sigma: 0.4, method: .tauPMaxOlsonAllen2005, isOutsideCalibrationRange: true),
        ]))
        #expect(abs(c.magnitude - 5.36) < 1e-12)
        #expect(abs(c.sigma - 0.24) < 1e-12)
        #expect(c.method == .combined && c.isOutsideCalibrationRange)
        // Equal σ → plain mean, σ/√n.
        let e = try #require(MagnitudeCombination.inverseVariance((0..<4).map {
            MagnitudeEstimate(magnitude: Double($0), sigma: 0.5, method: .tauC)
        }))
        #expect(abs(e.magnitude - 1.5) < 1e-12 && abs(e.sigma - 0.25) < 1e-12)
        #expect(MagnitudeCombination.inverseVariance([]) == nil)
        #expect(MagnitudeCombination.inverseVariance([MagnitudeEstimate(magnitude: 5, sigma: 0, method: .tauC)]) == nil)
    }

    private func parameters(pd: Double, tauC: Double?, tauP: Double?, distance: Double?, seconds: Double = 3,
                            noise: Double = 0) -> StationParameters
    {
        StationParameters(pickSample: 0, pickTime: nil, windowSampleCount: Int(seconds * 100), secondsAfterPick: seconds,
                          isFinal: true, windowEndedBySWave: false, hypocentralDistanceKilometers: distance,
                          preEventSeconds: 60, preEventPeakDisplacementMeters: noise, peakDisplacementMeters: pd, peakVelocityMetersPerSecond: 0,
                          peakAccelerationMetersPerSecondSquared: 0, tauCSeconds: tauC, tauPMaxSeconds: tauP,
                          peakGroundAccelerationMetersPerSecondSquared: 0, peakGroundVelocityMetersPerSecond: 0)
    }

    @Test("estimator: with distance the two Pd relations form one family (mean M, mean σ) combined with τc and τp")
    func estimatorWithDistance() throws {
        let p = parameters(pd: 1e-4, tauC: 0.6, tauP: 0.5, distance: 30)
        let result = StationMagnitudeEstimator().estimate(p)
        #expect(result.components.map(\.method) == [.pdKuyukAllen2013, .pdWuZhao2006, .tauC, .tauPMaxOlsonAllen2005])
        let ka = try #require(PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: 1e-4, hypocentralDistanceKilometers: 30))
        let wz = try #require(PdMagnitudeWuZhao2006.magnitude(peakDisplacementMeters: 1e-4, hypocentralDistanceKilometers: 30))
        let tc = try #require(TauCMagnitude.magnitude(tauCSeconds: 0.6))
        let tp = try #require(TauPMagnitudeOlsonAllen2005.magnitude(tauPMaxSeconds: 0.5))
        // Independent evaluation of the documented policy.
        let pdSigma = (0.31 + 0.305 / 0.729) / 2
        let weights = [1 / (pdSigma * pdSigma), 1 / 0.16, 1 / 0.25]
        let values = [(ka + wz) / 2, tc, tp]
        let want = zip(weights, values).map { $0 * $1 }.reduce(0, +) / weights.reduce(0, +)
        let combined = try #require(result.combined)
        #expect(abs(combined.magnitude - want) < 1e-12)
        #expect(abs(combined.sigma - 1 / weights.reduce(0, +).squareRoot()) < 1e-12)
        #expect(!result.saturated)
    }

    @Test("estimator: without distance only τc and τp^max are used")
    func estimatorWithoutDistance() throws {
        let result = StationMagnitudeEstimator().estimate(parameters(pd: 1e-4, tauC: 0.6, tauP: 0.5, distance: nil))
        #expect(result.components.map(\.method) == [.tauC, .tauPMaxOlsonAllen2005])
        let none = StationMagnitudeEstimator().estimate(parameters(pd: 1e-4, tauC: nil, tauP: nil, distance: nil))
        #expect(none.combined == nil && none.components.isEmpty && !none.saturated)
    }

    @Test("saturation: combined M ≥ 6.5, or τc/τp^max ≥ the window length, or τc ≥ 10 s")
    func saturation() {
        let est = StationMagnitudeEstimator()
        // τc = 1.5 s → M 6.91 and τp = 1.2 s → M 6.50, combined 6.75: magnitude above threshold only.
        let big = est.estimate(parameters(pd: 1e-4, tauC: 1.5, tauP: 1.2, distance: nil))
        #expect(big.saturationReasons == [.magnitudeAboveThreshold])
        // The same periods in a 1 s window cannot be resolved.
        // They stay in `components` but are lower bounds, not estimates: no combined magnitude.
        let short = est.estimate(parameters(pd: 1e-4, tauC: 1.5, tauP: 1.2, distance: nil, seconds: 1))
        #expect(short.saturationReasons == [.tauCAtWindowLimit, .tauPAtWindowLimit])
        #expect(short.components.count == 2 && short.combined == nil)
        // With a distance, the Pd relations still give a combined magnitude (Pd only).
        let shortPd = est.estimate(parameters(pd: 1e-4, tauC: 1.5, tauP: 1.2, distance: 30, seconds: 1))
        #expect(shortPd.combined != nil && shortPd.saturationReasons.contains(.tauCAtWindowLimit))
        let small = est.estimate(parameters(pd: 1e-5, tauC: 0.4, tauP: 0.3, distance: nil))
        #expect(small.saturationReasons.isEmpty && small.saturated == false)
        #expect(StationMagnitudeEstimator(saturationMagnitude: 3.0).estimate(parameters(pd: 1e-5, tauC: 0.4, tauP: 0.3, distance: nil)).saturated)
    }

    @Test("noise gate: displacement SNR below 3 drops τc and τp^max (and their saturation reasons); no noise level → no gate")
    func noiseGate() {
        let est = StationMagnitudeEstimator()
        let low = est.estimate(parameters(pd: 1e-4, tauC: 5, tauP: 4, distance: 30, noise: 0.5e-4))  // SNR 2
        #expect(low.lowSignalToNoise)
        #expect(low.components.map(\.method) == [.pdKuyukAllen2013, .pdWuZhao2006])
        #expect(!low.saturationReasons.contains(.tauCAtWindowLimit))
        let ok = est.estimate(parameters(pd: 1e-4, tauC: 0.6, tauP: 0.5, distance: 30, noise: 0.25e-4))  // SNR 4
        #expect(!ok.lowSignalToNoise && ok.components.count == 4)
        let unknown = est.estimate(parameters(pd: 1e-4, tauC: 0.6, tauP: 0.5, distance: nil, noise: 0))
        #expect(!unknown.lowSignalToNoise && unknown.components.count == 2)
        let lowNoDistance = est.estimate(parameters(pd: 1e-4, tauC: 0.6, tauP: 0.5, distance: nil, noise: 1e-4))
        #expect(lowNoDistance.combined == nil && lowNoDistance.lowSignalToNoise)
    }
}
