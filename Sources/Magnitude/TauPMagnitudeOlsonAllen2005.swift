// τp^max magnitude, Olson & Allen (2005).

import Foundation

/// Predominant-period magnitude of Olson & Allen (2005)
/// (E. L. Olson and R. M. Allen, "The deterministic nature of earthquake rupture", Nature 438,
/// 212–215, doi:10.1038/nature04214; relation as transcribed in Meier's `tauP.m`, algorithms.md §4.1):
/// ```
/// M = 7.14 log10(τp^max) + 5.93     (τp^max in s; 3 Hz low-pass, α = 0.99 at 100 sps, 0.05–4 s windows)
/// ```
/// σ: **not found** (algorithms.md §4.1: "SDs not found"). We **assume σ = 0.5**: larger than for
/// τc because Shieh et al. (2008, GRL 35, L20301) found τp^max magnitudes more scattered than τc
/// with a 2-pole 0.075 Hz high-pass (ours), and equal to the 0.5 average error Tsang et al. (2007)
/// report for large events; a per-station value, not a per-event average.
///
/// Calibration range: Olson & Allen used events of M ≈ 3–8 (range as recalled from the
/// abstract; UNCERTAIN); the other Allen & Kanamori (2003) relations (M = 6.3 log τp + 7.1 for
/// 3 < M < 5, 7.0 log τp + 5.9 for M > 4.5) are not used.
public enum TauPMagnitudeOlsonAllen2005 {
    public static let logTauPCoefficient = 7.14
    public static let constant = 5.93
    /// Assumed σ (see type doc).
    public static let sigma = 0.5
    public static let magnitudeRange: ClosedRange<Double> = 3.0...8.0

    /// M from τp^max (s); nil unless it is finite and > 0.
    public static func magnitude(tauPMaxSeconds tp: Double) -> Double? {
        guard tp.isFinite, tp > 0 else { return nil }
        return logTauPCoefficient * log10(tp) + constant
    }

    public static func estimate(tauPMaxSeconds tp: Double) -> MagnitudeEstimate? {
        guard let m = magnitude(tauPMaxSeconds: tp) else { return nil }
        return MagnitudeEstimate(magnitude: m, sigma: sigma, method: .tauPMaxOlsonAllen2005,
                                 isOutsideCalibrationRange: !magnitudeRange.contains(m))
    }
}
