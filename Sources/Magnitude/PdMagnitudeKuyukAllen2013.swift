// Pd magnitude, Kuyuk & Allen (2013).

import Foundation

/// Peak-displacement magnitude of Kuyuk & Allen (2013), ElarmS global relation
/// (H. S. Kuyuk and R. M. Allen, "A global approach to provide magnitude estimates for earthquake
/// early warning alerts", GRL 40, 6329–6333, doi:10.1002/2013GL058580; algorithms.md §4.2):
/// ```
/// M = 1.23 log10(Pd) + 1.38 log10(R) + 5.39,   σ = 0.31
/// ```
/// Pd in **cm** (converted here from metres), R in km.
///
/// UNCERTAIN (primary text not read): whether R is hypocentral or epicentral (one
/// re-implementation, yetinam/TEAM, uses epicentral), and the exact Pd filter/window (ElarmS:
/// up to 4 s of vertical P). We use hypocentral R, as for Wu & Zhao (2006); for R ≫ depth the
/// difference is small. Calibration range: not known to us; ``magnitudeRange`` and
/// ``distanceRangeKilometers`` are assumptions (typical ElarmS data, and Pd saturation above ~M 7
/// in a few-second window).
public enum PdMagnitudeKuyukAllen2013 {
    public static let logPdCoefficient = 1.23
    public static let logDistanceCoefficient = 1.38
    public static let constant = 5.39
    /// σ of the relation (magnitude units), as published.
    public static let sigma = 0.31
    /// Assumed calibration range of M (see type doc).
    public static let magnitudeRange: ClosedRange<Double> = 3.0...7.0
    /// Assumed calibration range of R, km.
    public static let distanceRangeKilometers: ClosedRange<Double> = 1.0...200.0

    /// M from Pd (m) and hypocentral distance (km); nil if either is not finite and > 0.
    public static func magnitude(peakDisplacementMeters pd: Double, hypocentralDistanceKilometers r: Double) -> Double? {
        guard pd.isFinite, pd > 0, r.isFinite, r > 0 else { return nil }
        let pdCentimeters = pd * 100
        return logPdCoefficient * log10(pdCentimeters) + logDistanceCoefficient * log10(r) + constant
    }

    /// The magnitude with σ and the calibration-range flag.
    public static func estimate(peakDisplacementMeters pd: Double, hypocentralDistanceKilometers r: Double)
        -> MagnitudeEstimate?
    {
        guard let m = magnitude(peakDisplacementMeters: pd, hypocentralDistanceKilometers: r) else { return nil }
        let outside = !magnitudeRange.contains(m) || !distanceRangeKilometers.contains(r)
        return MagnitudeEstimate(magnitude: m, sigma: sigma, method: .pdKuyukAllen2013, isOutsideCalibrationRange: outside)
    }
}
