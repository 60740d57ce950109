// Pd magnitude, Wu & Zhao (2006).

import Foundation

/// Peak-displacement magnitude of Wu & Zhao (2006), southern California
/// (Y.-M. Wu and L. Zhao, "Magnitude estimation using the first three seconds P-wave amplitude in
/// earthquake early warning", GRL 33, L16312, doi:10.1029/2006GL026871; algorithms.md §4.2):
/// ```
/// log10 Pd = −3.463 + 0.729 M − 1.374 log10 R  ± 0.305
/// ⇒ M = (log10 Pd + 3.463 + 1.374 log10 R) / 0.729
/// ```
/// Pd in **cm** (converted here from metres) from the first 3 s of the vertical P wave after the
/// 0.075 Hz high-pass; R hypocentral distance in km.
///
/// σ: we use **σ_M = 0.305 / 0.729 = 0.418**, the scatter of the regression in log Pd mapped to
/// magnitude. The abstract also reports that the Pd magnitudes match catalogue M with **SD 0.18**
/// for M < 6.5; that is an in-sample figure on the authors' data set, so the larger, regression-
/// based value is used for a new region (Sichuan). Calibration range: M < 6.5 per the abstract;
/// the lower bound 3.0 and the distance range are assumptions (primary text not read).
public enum PdMagnitudeWuZhao2006 {
    public static let constant = -3.463
    public static let magnitudeCoefficient = 0.729
    public static let logDistanceCoefficient = -1.374
    /// Scatter of the regression in log10 Pd.
    public static let logPdSigma = 0.305
    /// σ in magnitude units: `logPdSigma / magnitudeCoefficient`.
    public static let sigma = 0.305 / 0.729
    /// SD vs catalogue magnitude reported in the abstract (M < 6.5), for reference.
    public static let reportedCatalogSD = 0.18
    public static let magnitudeRange: ClosedRange<Double> = 3.0...6.5
    public static let distanceRangeKilometers: ClosedRange<Double> = 1.0...200.0

    /// M from Pd (m) and hypocentral distance (km); nil if either is not finite and > 0.
    public static func magnitude(peakDisplacementMeters pd: Double, hypocentralDistanceKilometers r: Double) -> Double? {
        guard pd.isFinite, pd > 0, r.isFinite, r > 0 else { return nil }
        let pdCentimeters = pd * 100
        return (log10(pdCentimeters) - constant - logDistanceCoefficient * log10(r)) / magnitudeCoefficient
    }

    public static func estimate(peakDisplacementMeters pd: Double, hypocentralDistanceKilometers r: Double)
        -> MagnitudeEstimate?
    {
        guard let m = magnitude(peakDisplacementMeters: pd, hypocentralDistanceKilometers: r) else { return nil }
        let outside = !magnitudeRange.contains(m) || !distanceRangeKilometers.contains(r)
        return MagnitudeEstimate(magnitude: m, sigma: sigma, method: .pdWuZhao2006, isOutsideCalibrationRange: outside)
    }
}
