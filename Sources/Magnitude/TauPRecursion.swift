// Allen & Kanamori (2003) recursive predominant period τp.

import Foundation

/// Recursive predominant period of a velocity trace (Allen & Kanamori 2003, Science 300, 786–789;
/// algorithm from Allen & Kanamori's EEW chapter as quoted in Meier's `tauP.m`; algorithms.md §4.1):
/// ```
/// X_i  = α X_{i−1} + v_i²
/// D_i  = α D_{i−1} + (dv/dt)_i²,   (dv/dt)_i = (v_i − v_{i−1}) · fs   (backward difference, v_{−1} = 0)
/// τp_i = 2π √(X_i / D_i)     (seconds; undefined while D_i = 0)
/// ```
/// α is the smoothing constant. Default `α = 1 − 1/fs` (RTSeis, Brown et al. 2011), which gives
/// exactly 0.99 at 100 sps (the Allen/Olson value) and 0.95 at 20 sps (the value quoted for
/// 20 sps): a memory of ≈ 1 s at any rate.
///
/// Pure tone `v = cos(2π f t)`: with an exact derivative `D/X → (2π f)²` and `τp → 1/f`. With the
/// backward difference the derivative's amplitude is `2 fs sin(π f/fs)` instead of `2π f`, so
/// in the limit α → 1, `τp → (1/f) · (π f/fs)/sin(π f/fs)` (+0.16 % at 10 Hz, 100 sps); for
/// α < 1 the ratio ripples at 2f around that value with relative amplitude ≈ (1−α)/|1 − α e^{−4πif/fs}|
/// — that ripple is why τp^max (the maximum) sits slightly above 1/f for a pure tone.
///
/// Input: velocity (m/s); the unit cancels. Latency 0 (causal); warm-up ≈ 1/(1−α) samples.
/// X and D decay geometrically, so rounding does not accumulate on long streams.
///
/// - Complexity: O(1) per sample, no allocation.
public struct TauPRecursion: Sendable, Equatable {
    /// Smoothing constant α in (0, 1).
    public let alpha: Double
    private let samplingRateHz: Double
    private var x = 0.0
    private var d = 0.0
    private var previous = 0.0

    /// The RTSeis default α = 1 − 1/fs (0.99 at 100 sps).
    public static func defaultAlpha(samplingRateHz: Double) -> Double { 1 - 1 / samplingRateHz }

    /// - Parameters:
    ///   - samplingRateHz: fs (> 1 Hz when α is defaulted).
    ///   - alpha: α in (0, 1); nil → ``defaultAlpha(samplingRateHz:)``.
    public init(samplingRateHz: Double, alpha: Double? = nil) throws(MagnitudeParameterError) {
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        let a = alpha ?? Self.defaultAlpha(samplingRateHz: samplingRateHz)
        guard a.isFinite, a > 0, a < 1 else { throw .outOfRange(parameter: "tauPAlpha", value: a, allowed: "0 < α < 1") }
        self.alpha = a
        self.samplingRateHz = samplingRateHz
    }

    /// Adds one velocity sample; returns τp in seconds, or nil while D = 0.
    @inline(__always)
    public mutating func step(_ v: Double) -> Double? {
        let dv = (v - previous) * samplingRateHz
        previous = v
        x = alpha * x + v * v
        d = alpha * d + dv * dv
        guard d > 0 else { return nil }
        return 2 * Double.pi * (x / d).squareRoot()
    }

    public mutating func reset() {
        x = 0
        d = 0
        previous = 0
    }

    /// Starts the recursion afresh at a P onset: X = D = 0, and `previousSample` is taken as
    /// v_{i−1} for the first derivative, so `(dv/dt)_p = (v_p − v_{p−1}) fs` is the true backward
    /// difference at the onset sample p (not the jump from an assumed zero).
    ///
    /// After the restart, `X_n = Σ_{i=p}^{n} α^{n−i} v_i²` and likewise D: exactly the values the
    /// continuous recursion would have if the trace were zero before the onset, i.e. τp contains
    /// no pre-event noise. Used by ``RealTimeStationProcessor`` at every pick.
    public mutating func restart(previousSample: Double) {
        x = 0
        d = 0
        previous = previousSample
    }
}
