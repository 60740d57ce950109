import Foundation

/// Region of the GB 18306-2015 intensity attenuation relation.
///
/// GB 18306-2015 (中国地震动参数区划图) divides China into attenuation regions. Lezhi County lies in
/// the Sichuan basin, which the zoning assigns to the central region (中部); the Longmenshan fault
/// 140–200 km to the north-west is the eastern margin of the Tibet (青藏) region. The configuration
/// default is ``central`` (the site region; the path from a Longmenshan source to Lezhi runs mostly
/// through the basin). For a Longmenshan M 7 at 180 km the two differ by < 0.1 intensity units,
/// so the choice matters less than σ; see config/lezhi.yaml. **UNCERTAIN**: the region boundaries
/// were not checked against the standard's map.
public enum IntensityAttenuationRegion: String, Sendable, Codable, CaseIterable {
    /// 东部强震区 (eastern China).
    case east
    /// 中强地震活动区 (central China; includes the Sichuan basin).
    case central
    /// 新疆地震区.
    case xinjiang
    /// 青藏高原地震区.
    case tibet
}

/// Which axis of the elliptical attenuation to use.
///
/// GB 18306 gives intensity attenuation along the long axis (parallel to the fault strike) and
/// along the short axis. An early-warning solution has no strike, so the direction of a target
/// relative to the rupture is unknown.
///
/// ``maximum`` (the configuration default) takes the larger of the two predicted intensities and
/// is the conservative choice: it errs towards warning a target that shakes less, not towards
/// missing one. It is not the same as ``long``: the two curves cross because the short axis
/// attenuates more slowly (|C| smaller). For the central region at M 6 the short axis predicts more
/// beyond ≈180 km (at 200 km: long 3.737, short 3.781); east region beyond ≈450 km; Tibet beyond
/// ≈390 km. ``mean`` averages the two predicted intensities (not the
/// distances).
public enum AttenuationAxis: String, Sendable, Codable, CaseIterable {
    case long
    case short
    case mean
    case maximum
}

/// Coefficients of `I = A + B·Ms + C·lg(R + R0)` for one axis.
public struct AttenuationCoefficients: Sendable, Equatable {
    public var a: Double
    public var b: Double
    public var c: Double
    /// Near-source saturation term in kilometres.
    public var r0Kilometers: Double

    public init(a: Double, b: Double, c: Double, r0Kilometers: Double) {
        self.a = a
        self.b = b
        self.c = c
        self.r0Kilometers = r0Kilometers
    }

    /// `A + B·M + C·lg(R + R0)` (unclipped).
    public func intensity(magnitude: Double, epicentralDistanceKilometers r: Double) -> Double {
        a + b * magnitude + c * log10(r + r0Kilometers)
    }

    /// The epicentral distance at which the unclipped intensity equals `intensity`:
    /// `R = 10^((I − A − B·M)/C) − R0`, floored at 0 (C < 0, so intensity decreases with R).
    public func distanceKilometers(magnitude: Double, intensity: Double) -> Double {
        max(0, pow(10, (intensity - a - b * magnitude) / c) - r0Kilometers)
    }
}

/// GB 18306-2015 elliptical intensity attenuation, `I = A + B·Ms + C·lg(R + R0)`.
///
/// Coefficients from /work/shared/reference/algorithms.md §7 (third-party code citing the
/// standard's explanatory textbook, 宣贯教材 p. 172; **UNCERTAIN**, not checked against the primary
/// text). R is the epicentral distance in km, I the China seismic intensity (GB/T 17742 scale).
///
/// Magnitude: the relation is in surface-wave magnitude Ms. Early-warning magnitudes (Pd, τc) are
/// calibrated against catalogue M (mostly Mw or ML). We use the warning magnitude as Ms without
/// conversion: for 5 ≲ M ≲ 7.5 Ms and Mw agree within a few tenths (Ms saturates above ≈ 8), which is
/// inside both the magnitude uncertainty of an early warning (≈0.3–0.4) and σ. This is an
/// assumption, documented in config/lezhi.yaml.
///
/// Output is clipped to the intensity scale's range [1.0, 12.0] and rounded to one decimal, as
/// instrumental intensities are reported (GB/T 17742-2020 Appendix A).
public struct IntensityAttenuation: Sendable, Equatable {
    public var region: IntensityAttenuationRegion
    public var axis: AttenuationAxis

    public init(region: IntensityAttenuationRegion, axis: AttenuationAxis) {
        self.region = region
        self.axis = axis
    }

    /// Long-axis coefficients of `region`.
    public static func longAxis(_ region: IntensityAttenuationRegion) -> AttenuationCoefficients {
        switch region {
        case .east: AttenuationCoefficients(a: 5.7123, b: 1.3626, c: -4.2903, r0Kilometers: 25)
        case .central: AttenuationCoefficients(a: 5.8410, b: 1.0710, c: -3.6570, r0Kilometers: 15)
        case .xinjiang: AttenuationCoefficients(a: 5.6018, b: 1.4347, c: -4.4899, r0Kilometers: 25)
        case .tibet: AttenuationCoefficients(a: 6.4580, b: 1.2746, c: -4.4709, r0Kilometers: 25)
        }
    }

    /// Short-axis coefficients of `region`.
    public static func shortAxis(_ region: IntensityAttenuationRegion) -> AttenuationCoefficients {
        switch region {
        case .east: AttenuationCoefficients(a: 3.6588, b: 1.3626, c: -3.5406, r0Kilometers: 13)
        case .central: AttenuationCoefficients(a: 3.9440, b: 1.0710, c: -2.8450, r0Kilometers: 7)
        case .xinjiang: AttenuationCoefficients(a: 3.6113, b: 1.4347, c: -3.8477, r0Kilometers: 13)
        case .tibet: AttenuationCoefficients(a: 3.3682, b: 1.2746, c: -3.3119, r0Kilometers: 9)
        }
    }

    /// Standard deviation of the relation in intensity units (same for both axes).
    public static func sigma(_ region: IntensityAttenuationRegion) -> Double {
        switch region {
        case .east: 0.5826
        case .central: 0.5200
        case .xinjiang: 0.5924
        case .tibet: 0.6636
        }
    }

    /// σ of this relation in intensity units.
    public var sigma: Double { Self.sigma(region) }

    /// Predicted intensity before clipping and rounding.
    public func unclippedIntensity(magnitude: Double, epicentralDistanceKilometers r: Double) -> Double {
        // Only the axes the choice needs (the same expressions, so the same values).
        switch axis {
        case .long: return Self.longAxis(region).intensity(magnitude: magnitude, epicentralDistanceKilometers: r)
        case .short: return Self.shortAxis(region).intensity(magnitude: magnitude, epicentralDistanceKilometers: r)
        case .mean, .maximum:
            let long = Self.longAxis(region).intensity(magnitude: magnitude, epicentralDistanceKilometers: r)
            let short = Self.shortAxis(region).intensity(magnitude: magnitude, epicentralDistanceKilometers: r)
            return axis == .mean ? (long + short) / 2 : max(long, short)
        }
    }

    /// Predicted intensity, clipped to [1.0, 12.0] and rounded to one decimal.
    /// - Parameters:
    ///   - magnitude: magnitude used as Ms (see the type's documentation).
    ///   - epicentralDistanceKilometers: R ≥ 0 in km.
    public func intensity(magnitude: Double, epicentralDistanceKilometers r: Double) -> Double {
        let raw = unclippedIntensity(magnitude: magnitude, epicentralDistanceKilometers: max(0, r))
        guard raw.isFinite else { return 1.0 }
        return (min(12.0, max(1.0, raw)) * 10).rounded() / 10
    }

    /// The largest epicentral distance in km at which the unrounded predicted intensity is still
    /// ≥ `intensity` (0 if even the epicentre stays below it). For ``AttenuationAxis/maximum`` and
    /// ``AttenuationAxis/mean`` the larger of the two axis distances is used (for `mean` an upper
    /// bound: the alert zone must contain every site that might reach the level).
    public func radiusKilometers(magnitude: Double, intensity: Double) -> Double {
        let long = Self.longAxis(region).distanceKilometers(magnitude: magnitude, intensity: intensity)
        let short = Self.shortAxis(region).distanceKilometers(magnitude: magnitude, intensity: intensity)
        switch axis {
        case .long: return long
        case .short: return short
        case .mean, .maximum: return max(long, short)
        }
    }
}
