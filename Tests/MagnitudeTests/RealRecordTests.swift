// The K-NET AKT013 EW record: cross-check against the NumPy/SciPy twin, and what magnitude comes out.
import Foundation
import Magnitude
import MiniSEED
import SeismicCore
import Testing
import TestSupport

/// Reference values from scripts/dev/magnitude_tauc_pd_crosscheck.py (NumPy/SciPy twin of the chain).
struct AKT013Reference {
    var samplingRateHz: Double
    var gain: Double
    var distance: Double
    var pickSample: Int
    var windows: [[String: Double]]

    static func load() throws -> AKT013Reference {
        let path = Fixtures.path("magnitude/akt013_station_parameters_reference.json")
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        func number(_ key: String) throws -> Double { try #require((object[key] as? NSNumber)?.doubleValue, "\(key)") }
        let windows = try #require(object["windows"] as? [[String: Any]]).map { w in
            w.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
        return AKT013Reference(samplingRateHz: try number("samplingRateHz"), gain: try number("countsPerMeterPerSecondSquared"),
                               distance: try number("hypocentralDistanceKilometers"), pickSample: Int(try number("pickSample")),
                               windows: windows)
    }
}

@Suite("K-NET AKT013 EW (real record)")
struct RealRecordTests {
    static func samples() throws -> SampleBlock {
        let volume = try MiniSEEDReader.read(path: Fixtures.path("mseed/obspy_KNET_AKT013_EW.mseed"))
        return try #require(volume.segments.first)
    }

    static func snapshots(ref: AKT013Reference) throws -> [StationParameters] {
        let block = try samples()
        var p = try RealTimeStationProcessor(configuration: StationParameterConfiguration(
            samplingRateHz: ref.samplingRateHz, countsPerMeterPerSecondSquared: ref.gain))
        try p.beginWindow(atPickSample: ref.pickSample, hypocentralDistanceKilometers: ref.distance)
        var out: [StationParameters] = []
        try p.process(block) { out.append($0) }
        return out
    }

    @Test("Pd, Pv, Pa, PGA, τc, τp^max of every window equal the independent NumPy/SciPy chain to ≤ 1e-9 relative")
    func crossCheck() throws {
        let ref = try AKT013Reference.load()
        let snaps = try Self.snapshots(ref: ref)
        try #require(snaps.count == ref.windows.count)
        for (s, w) in zip(snaps, ref.windows) {
            #expect(Double(s.windowSampleCount) == w["windowSampleCount"])
            let pairs: [(String, Double?)] = [
                ("pdMeters", s.peakDisplacementMeters), ("pvMetersPerSecond", s.peakVelocityMetersPerSecond),
                ("paMetersPerSecondSquared", s.peakAccelerationMetersPerSecondSquared),
                ("pgaMetersPerSecondSquared", s.peakGroundAccelerationMetersPerSecondSquared),
                ("tauCSeconds", s.tauCSeconds), ("tauPMaxSeconds", s.tauPMaxSeconds),
            ]
            for (key, got) in pairs {
                // τp^max is null in the twin for windows shorter than the τp warm-up (1 s).
                if key == "tauPMaxSeconds", w[key] == nil {
                    #expect(got == nil, "\(s.secondsAfterPick) s τp^max \(got ?? .nan), twin: none")
                    continue
                }
                let want = try #require(w[key], "\(key)")
                let value = try #require(got, "\(key) undefined")
                #expect(abs(value - want) <= 1e-9 * abs(want), "\(s.secondsAfterPick) s \(key): \(value) vs \(want)")
            }
            // The relations applied to our values equal the twin's relations applied to its values.
            let r = ref.distance
            let ours: [(Double?, String)] = [
                (PdMagnitudeKuyukAllen2013.magnitude(peakDisplacementMeters: s.peakDisplacementMeters,
                                                     hypocentralDistanceKilometers: r), "magnitudeKuyukAllen2013"),
                (PdMagnitudeWuZhao2006.magnitude(peakDisplacementMeters: s.peakDisplacementMeters,
                                                 hypocentralDistanceKilometers: r), "magnitudeWuZhao2006"),
                (s.tauCSeconds.flatMap { TauCMagnitude.magnitude(tauCSeconds: $0) }, "magnitudeTauC"),
                (s.tauPMaxSeconds.flatMap { TauPMagnitudeOlsonAllen2005.magnitude(tauPMaxSeconds: $0) }, "magnitudeTauP"),
            ]
            for (got, key) in ours {
                if key == "magnitudeTauP", w[key] == nil {
                    #expect(got == nil)
                    continue
                }
                let want = try #require(w[key])
                #expect(abs((got ?? .nan) - want) <= 1e-9 * abs(want), "\(key)")
            }
        }
    }

    /// What this test proves: only that the values are stable and internally consistent (the
    /// cross-check above proves the computation). It is NOT a validation of the magnitude: the
    /// record is a horizontal (EW) component, the relations are for vertical P, and the record has
    /// only ~10 s of pre-event data, far less than the 60 s warm-up of the 0.075 Hz chain, so the
    /// displacement carries the filters' start-up transient (pre-event |u| up to 2.6e-4 m versus
    /// ~3e-5 m after a long warm-up, see README-magnitude.md). τc ≈ 4 s (M ≈ 8.7) and τp^max
    /// ≈ 1.8 s (M ≈ 7.8) measure that transient; the noise gate sees Pd only 1.3× the pre-event
    /// peak and leaves them out, so the window's magnitude is the Pd family alone, (6.23 + 6.35)/2.
    @Test("raw 10 s warm-up: displacement SNR ≈ 1.3 → τc/τp^max gated out; magnitude = Pd family ≈ 6.29")
    func magnitudeReportRawWarmUp() throws {
        let ref = try AKT013Reference.load()
        let snaps = try Self.snapshots(ref: ref)
        let last = try #require(snaps.last)
        #expect(last.preEventSeconds == 10)
        let snr = try #require(last.displacementSignalToNoise)
        #expect(snr > 1 && snr < 2)
        let m = StationMagnitudeEstimator().estimate(last)
        #expect(m.lowSignalToNoise)
        #expect(m.components.map(\.method) == [.pdKuyukAllen2013, .pdWuZhao2006])
        let combined = try #require(m.combined)
        let w = try #require(ref.windows.last)
        let want = (try #require(w["magnitudeKuyukAllen2013"]) + (try #require(w["magnitudeWuZhao2006"]))) / 2
        #expect(abs(combined.magnitude - want) < 1e-9)
        #expect(abs(combined.sigma - (0.31 + 0.305 / 0.729) / 2) < 1e-12)
        #expect(!m.saturated)
    }

    /// With the chain warmed up on the record's own pre-event noise, mirrored to ≥ 60 s (what
    /// `quakewarn magnitude --pre-roll mirror` does), the pre-event displacement drops ~10× and
    /// the P window passes the noise gate. Result (pick at sample 1000): Pd = 1.72e-4 m ⇒ M 5.85
    /// (Kuyuk & Allen) and 5.93 (Wu & Zhao) — close to JMA 5.9; τc = 2.0 s ⇒ M 7.5 and τp^max =
    /// 1.5 s ⇒ M 7.3, i.e. the period parameters overestimate by 1.4–1.6 on this horizontal record.
    /// Asserted: the Pd magnitudes within ±1.0 of 5.9 (σ 0.31–0.42 per relation, plus an unknown
    /// horizontal-vs-vertical bias: ±1.0 is ≈ 2.5σ), and that the combined value is flagged
    /// saturated (it is ≥ 6.5) — we do not assert that τc/τp are right, because they are not.
    @Test("mirrored pre-event pre-roll: Pd magnitudes within ±1.0 of JMA 5.9; combined flagged saturated")
    func magnitudeReportPreRolled() throws {
        let ref = try AKT013Reference.load()
        let block = try Self.samples()
        let noise = Array(block.samples[1..<(ref.pickSample - 100)])
        let period = noise + noise.reversed()
        var preRoll: [Double] = []
        while preRoll.count < 6000 { preRoll += period }
        var p = try RealTimeStationProcessor(configuration: StationParameterConfiguration(
            samplingRateHz: ref.samplingRateHz, countsPerMeterPerSecondSquared: ref.gain))
        try p.beginWindow(atPickSample: preRoll.count + ref.pickSample, hypocentralDistanceKilometers: ref.distance)
        let snaps = p.process(preRoll + block.samples)
        let last = try #require(snaps.last)
        #expect(try #require(last.displacementSignalToNoise) >= 3)
        let m = StationMagnitudeEstimator().estimate(last)
        #expect(!m.lowSignalToNoise)
        let pd = m.components.filter { $0.method == .pdKuyukAllen2013 || $0.method == .pdWuZhao2006 }.map(\.magnitude)
        #expect(pd.count == 2 && pd.allSatisfy { abs($0 - 5.9) < 1.0 }, "Pd magnitudes \(pd)")
        #expect(m.saturated && (m.combined?.magnitude ?? 0) >= 6.5)
    }
}
