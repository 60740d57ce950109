// τc magnitude (CWB / Wu et al. 2007 — attribution UNCERTAIN).

import Foundation

/// Period-parameter magnitude from τc:
/// ```
/// M = 4.218 log10(τc) + 6.166      (τc in s)
/// ```
/// The constants are verified in CWB `tcpd.c` (`cal_Tc`); their attribution to Wu et al. (2007,
/// GJI 170, 711–717, southern California) comes from secondary notes: **UNCERTAIN**
/// (algorithms.md §4.2). Independent of distance, so usable before a location exists.
///
/// σ: **not found** for this relation. We **assume σ = 0.4**: it is a single-station value,
/// larger than the per-event averaged errors reported for period/amplitude magnitudes (0.3 for
/// 4.5 < M ≤ 6.5, Tsang, Allen & Wurman 2007, GRL 34, L19304; SD 0.27 for the per-event average
/// of τc and τp^max magnitudes, Shieh, Wu & Allen 2008, GRL 35, L20301), and it corresponds to a
/// scatter of 0.4/4.218 ≈ 0.095 in log10 τc (±24 % in τc), the same order as the Pd relation's
/// regression scatter mapped to M (0.42).
///
/// Saturation: τc over a 3 s window cannot measure the longer source durations of M ≳ 6.5–7
/// ruptures; magnitudes there are lower bounds (Kanamori 2005). Calibration range assumed
/// 3.0…6.5 (UNCERTAIN). A Taiwan offline tool (postmajor.c) caps τc at 10 s: ``cap``.
public enum TauCMagnitude {
    public static let logTauCCoefficient = 4.218
    public static let constant = 6.166
    /// Assumed σ (see type doc).
    public static let sigma = 0.4
    /// τc cap of the Taiwan offline tool, s.
    public static let cap = 10.0
    public static let magnitudeRange: ClosedRange<Double> = 3.0...6.5

    /// M from τc (s); nil unless τc is finite and > 0.
    public static func magnitude(tauCSeconds tc: Double) -> Double? {
        guard tc.isFinite, tc > 0 else { return nil }
        return logTauCCoefficient * log10(tc) + constant
    }

    public static func estimate(tauCSeconds tc: Double) -> MagnitudeEstimate? {
        guard let m = magnitude(tauCSeconds: tc) else { return nil }
        return MagnitudeEstimate(magnitude: m, sigma: sigma, method: .tauC,
                                 isOutsideCalibrationRange: !magnitudeRange.contains(m) || tc > cap)
    }
}
