// Kanamori (2005) period parameter τc.

import Foundation

/// Accumulates the τc period parameter over a window that starts at the P pick
/// (Kanamori 2005, Annu. Rev. Earth Planet. Sci. 33, 195–214; Wu & Kanamori 2005; algorithms.md §4.2):
/// ```
/// r  = ∫ u̇² dt / ∫ u² dt ≈ Σ v_i² / Σ u_i²     (Δt cancels)
/// τc = 2π / √r                                   (seconds)
/// ```
/// u is the high-passed displacement (m) and u̇ the high-passed velocity (m/s) of the same chain
/// (CWB `sniff_eew.c` accumulates Σu² and Σu̇² from the pick the same way).
///
/// Pure tone `u = A sin(2π f t)`, `u̇ = 2π f A cos(2π f t)` over a whole number of periods:
/// `Σ cos² = Σ sin²`, so `r = (2π f)²` and `τc = 1/f` exactly (for other windows the ratio
/// deviates by the partial-period term; tested in `TauCTests`).
///
/// - Complexity: O(1) per sample, no allocation.
public struct TauCAccumulator: Sendable, Equatable {
    /// Σ u² (m²).
    public private(set) var displacementSquaredSum = 0.0
    /// Σ u̇² (m²/s²).
    public private(set) var velocitySquaredSum = 0.0

    public init() {}

    @inline(__always)
    public mutating func add(displacement u: Double, velocity v: Double) {
        displacementSquaredSum += u * u
        velocitySquaredSum += v * v
    }

    /// τc in seconds, or nil while either sum is 0.
    public var tauCSeconds: Double? {
        guard displacementSquaredSum > 0, velocitySquaredSum > 0 else { return nil }
        return 2 * Double.pi / (velocitySquaredSum / displacementSquaredSum).squareRoot()
    }

    public mutating func reset() {
        displacementSquaredSum = 0
        velocitySquaredSum = 0
    }
}
