import Alerting
import Testing

/// Expected values are computed by hand from I = A + B·M + C·lg(R + R0) with the coefficients
/// of algorithms.md §7 (digits checked with a calculator), not by the code under test.
@Suite("GB 18306-2015 intensity attenuation")
struct IntensityAttenuationTests {
    @Test func centralLongAndShortAxis() {
        // long: 5.8410 + 1.0710·6 − 3.6570·lg(50 + 15) = 12.267 − 3.657·1.8129134 = 5.637176
        let long = IntensityAttenuation(region: .central, axis: .long)
        #expect(abs(long.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: 50) - 5.637176) < 1e-6)
        #expect(long.intensity(magnitude: 6, epicentralDistanceKilometers: 50) == 5.6)
        // short: 3.9440 + 6.426 − 2.8450·lg(57) = 10.37 − 2.845·1.7558749 = 5.374536
        let short = IntensityAttenuation(region: .central, axis: .short)
        #expect(abs(short.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: 50) - 5.374536) < 1e-6)
        #expect(short.intensity(magnitude: 6, epicentralDistanceKilometers: 50) == 5.4)
        // mean of the two intensities: 5.505856 → 5.5
        let mean = IntensityAttenuation(region: .central, axis: .mean)
        #expect(mean.intensity(magnitude: 6, epicentralDistanceKilometers: 50) == 5.5)
        #expect(long.sigma == 0.52)
    }

    @Test func otherRegions() {
        // Tibet long, M7 at 180 km: 6.4580 + 8.9222 − 4.4709·lg(205) = 5.044580
        let tibet = IntensityAttenuation(region: .tibet, axis: .long)
        #expect(abs(tibet.unclippedIntensity(magnitude: 7, epicentralDistanceKilometers: 180) - 5.044580) < 1e-6)
        #expect(tibet.sigma == 0.6636)
        // Central long, same source: 5.8410 + 7.497 − 3.657·lg(195) = 4.963343 (the < 0.1 difference
        // the configuration documents).
        let central = IntensityAttenuation(region: .central, axis: .long)
        #expect(abs(central.unclippedIntensity(magnitude: 7, epicentralDistanceKilometers: 180) - 4.963343) < 1e-6)
        // East short, M5 at 20 km: 3.6588 + 6.813 − 3.5406·lg(33) = 5.095350
        let east = IntensityAttenuation(region: .east, axis: .short)
        #expect(abs(east.unclippedIntensity(magnitude: 5, epicentralDistanceKilometers: 20) - 5.095350) < 1e-6)
        #expect(east.sigma == 0.5826)
        // Xinjiang long, M5.5 at 100 km: 5.6018 + 7.89085 − 4.4899·lg(125) = 4.077734
        let xinjiang = IntensityAttenuation(region: .xinjiang, axis: .long)
        #expect(abs(xinjiang.unclippedIntensity(magnitude: 5.5, epicentralDistanceKilometers: 100) - 4.077734) < 1e-6)
        #expect(xinjiang.sigma == 0.5924)
    }

    /// The long axis predicts more near the source, but the curves cross: central region, M 6 at
    /// 200 km: long 12.267 − 3.657·lg 215 = 3.737273, short 10.37 − 2.845·lg 207 = 3.781064.
    /// `maximum` is never below either axis.
    @Test func maximumIsConservativeWhereTheAxesCross() {
        let long = IntensityAttenuation(region: .central, axis: .long)
        let short = IntensityAttenuation(region: .central, axis: .short)
        let maximum = IntensityAttenuation(region: .central, axis: .maximum)
        #expect(abs(long.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: 200) - 3.737273) < 1e-6)
        #expect(abs(short.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: 200) - 3.781064) < 1e-6)
        #expect(maximum.intensity(magnitude: 6, epicentralDistanceKilometers: 200) == 3.8)
        #expect(long.intensity(magnitude: 6, epicentralDistanceKilometers: 50) == maximum.intensity(magnitude: 6, epicentralDistanceKilometers: 50))
        for region in IntensityAttenuationRegion.allCases {
            let axes = AttenuationAxis.allCases.map { IntensityAttenuation(region: region, axis: $0) }
            for r in stride(from: 0.0, through: 500, by: 5) {
                let values = axes.map { $0.unclippedIntensity(magnitude: 6.5, epicentralDistanceKilometers: r) }
                let top = IntensityAttenuation(region: region, axis: .maximum)
                    .unclippedIntensity(magnitude: 6.5, epicentralDistanceKilometers: r)
                #expect(values.allSatisfy { $0 <= top })
            }
        }
        // The alert radius of `maximum` covers both axes.
        let r = maximum.radiusKilometers(magnitude: 6, intensity: 2.5)
        #expect(r == max(long.radiusKilometers(magnitude: 6, intensity: 2.5), short.radiusKilometers(magnitude: 6, intensity: 2.5)))
        #expect(abs(maximum.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: r) - 2.5) < 1e-9)
    }

    @Test func clippedToScaleAndOneDecimal() {
        let a = IntensityAttenuation(region: .central, axis: .long)
        // At the epicentre of an M 9: 5.841 + 9.639 − 3.657·lg 15 = 11.18 (< 12, not clipped); M 10 → 12.
        #expect(a.intensity(magnitude: 10, epicentralDistanceKilometers: 0) == 12.0)
        #expect(a.intensity(magnitude: 3, epicentralDistanceKilometers: 2000) == 1.0)
        #expect(a.intensity(magnitude: 6, epicentralDistanceKilometers: -5) == a.intensity(magnitude: 6, epicentralDistanceKilometers: 0))
    }

    /// R = 10^((I − A − B·M)/C) − R0: central long, M6, I 1.5 → 10^(10.767/3.657) − 15 = 864.461 km.
    @Test func radiusInvertsTheRelation() {
        let a = IntensityAttenuation(region: .central, axis: .long)
        let r = a.radiusKilometers(magnitude: 6, intensity: 1.5)
        #expect(abs(r - 864.461) < 0.001)
        #expect(abs(a.unclippedIntensity(magnitude: 6, epicentralDistanceKilometers: r) - 1.5) < 1e-9)
        #expect(a.radiusKilometers(magnitude: 2, intensity: 11) == 0)
    }
}

@Suite("Warning levels")
struct WarningLevelTests {
    @Test func defaultBoundaries() {
        let t = WarningLevelThresholds.default
        #expect(t.level(forIntensity: 1.4) == .none)
        #expect(t.level(forIntensity: 1.5) == .blue)
        #expect(t.level(forIntensity: 2.4) == .blue)
        #expect(t.level(forIntensity: 2.5) == .yellow)
        #expect(t.level(forIntensity: 4.4) == .yellow)
        #expect(t.level(forIntensity: 4.5) == .orange)
        #expect(t.level(forIntensity: 6.4) == .orange)
        #expect(t.level(forIntensity: 6.5) == .red)
        #expect(t.level(forIntensity: 12) == .red)
        #expect(WarningLevel.none < .blue && .blue < .yellow && .yellow < .orange && .orange < .red)
    }

    @Test func configurable() {
        let t = WarningLevelThresholds(blueMinimumIntensity: 3, yellowMinimumIntensity: 4, orangeMinimumIntensity: 5,
                                       redMinimumIntensity: 6)
        #expect(t.level(forIntensity: 2.9) == .none)
        #expect(t.level(forIntensity: 5.0) == .orange)
    }
}
