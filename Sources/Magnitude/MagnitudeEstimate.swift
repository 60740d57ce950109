// A magnitude with its 1-σ uncertainty, and how it was obtained.

/// Which relation produced a ``MagnitudeEstimate``.
public enum MagnitudeMethod: String, Sendable, Equatable, CaseIterable {
    /// ``PdMagnitudeKuyukAllen2013``.
    case pdKuyukAllen2013
    /// ``PdMagnitudeWuZhao2006``.
    case pdWuZhao2006
    /// The Pd family: mean of the two Pd relations (``StationMagnitudeEstimator``).
    case pdMean
    /// ``TauCMagnitude``.
    case tauC
    /// ``TauPMagnitudeOlsonAllen2005``.
    case tauPMaxOlsonAllen2005
    /// Inverse-variance combination (``MagnitudeCombination``).
    case combined
}

/// A magnitude with a 1-σ uncertainty (magnitude units).
public struct MagnitudeEstimate: Sendable, Equatable {
    public var magnitude: Double
    /// 1-σ uncertainty, magnitude units (> 0).
    public var sigma: Double
    public var method: MagnitudeMethod
    /// True when the magnitude (or the distance it used) is outside the range the relation was
    /// calibrated on: the value is an extrapolation.
    public var isOutsideCalibrationRange: Bool

    public init(magnitude: Double, sigma: Double, method: MagnitudeMethod, isOutsideCalibrationRange: Bool = false) {
        self.magnitude = magnitude
        self.sigma = sigma
        self.method = method
        self.isOutsideCalibrationRange = isOutsideCalibrationRange
    }
}

/// Combines magnitude estimates by inverse-variance weighting:
/// ```
/// w_i = 1/σ_i²,   M = Σ w_i M_i / Σ w_i,   σ = 1/√(Σ w_i)
/// ```
/// This is the minimum-variance unbiased combination **if the errors are independent**. Errors
/// of relations that use the same measurement (the two Pd relations) are almost fully
/// correlated; ``StationMagnitudeEstimator`` therefore merges those into one family first. τc
/// and τp^max are both period measures of the same waveform, partly correlated; treating them as
/// independent makes σ somewhat optimistic (Shieh et al. 2008, GRL 35, L20301, found that
/// averaging τc and τp^max magnitudes still lowers the scatter, to SD 0.27 per event, so they are
/// not fully correlated).
public enum MagnitudeCombination {
    /// The inverse-variance mean, or nil if `estimates` is empty or any σ is not finite and > 0.
    /// `isOutsideCalibrationRange` is true if any input had it.
    public static func inverseVariance(_ estimates: [MagnitudeEstimate]) -> MagnitudeEstimate? {
        guard !estimates.isEmpty else { return nil }
        var weightSum = 0.0
        var weightedSum = 0.0
        var outside = false
        for e in estimates {
            guard e.sigma.isFinite, e.sigma > 0, e.magnitude.isFinite else { return nil }
            let w = 1 / (e.sigma * e.sigma)
            weightSum += w
            weightedSum += w * e.magnitude
            outside = outside || e.isOutsideCalibrationRange
        }
        return MagnitudeEstimate(magnitude: weightedSum / weightSum, sigma: 1 / weightSum.squareRoot(),
                                 method: .combined, isOutsideCalibrationRange: outside)
    }
}
