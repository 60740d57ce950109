// Trapezoid-rule integration (acceleration → velocity → displacement).

/// Running time integral by the trapezoid rule:
/// ```
/// y_i = y_{i−1} + (x_i + x_{i−1}) · Δt/2,   x_{−1} = y_{−1} = 0
/// ```
/// as in CWB `sniff_eew.c` (algorithms.md §4.2). Output unit = input unit × s. Frequency response
/// `(Δt/2) cot(ωΔt/2)` vs the exact `1/ω`: relative error ≈ −(ωΔt)²/12 (−3.3·10⁻⁴ at 1 Hz,
/// 100 sps). The integrator has a pole at DC, so it must be followed by a high-pass
/// (``ButterworthBiquad``), as in the chain. Latency: half a sample (trapezoid centre).
///
/// - Complexity: O(1) per sample, no allocation.
public struct TrapezoidIntegrator: Sendable, Equatable {
    private let halfInterval: Double
    private var previousInput = 0.0
    private var sum = 0.0

    public init(samplingRateHz: Double) throws(MagnitudeParameterError) {
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        halfInterval = 0.5 / samplingRateHz
    }

    @inline(__always)
    public mutating func step(_ x: Double) -> Double {
        sum += (x + previousInput) * halfInterval
        previousInput = x
        return sum
    }

    public mutating func reset() {
        previousInput = 0
        sum = 0
    }
}
