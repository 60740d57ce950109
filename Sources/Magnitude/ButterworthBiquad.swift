// Two-pole Butterworth high- or low-pass as one biquad, designed by the bilinear transform.

import Foundation

/// A 2-pole (second-order) Butterworth high-pass or low-pass filter: one biquad section,
/// designed by the bilinear transform with frequency pre-warping, run as a causal ("one-way")
/// direct-form-I recursion.
///
/// Design (analog prototype `H(s) = s² / (s² + √2 ωc s + ωc²)` for the high-pass,
/// `ωc² / (…)` for the low-pass; bilinear transform `s = 2 fs (1 − z⁻¹)/(1 + z⁻¹)` with the
/// corner pre-warped so that the digital −3 dB point is exactly at `fc`):
/// ```
/// K = tan(π fc / fs),  n = 1 + √2 K + K²
/// high-pass: b0 = 1/n,   b1 = −2/n,   b2 = 1/n
/// low-pass:  b0 = K²/n,  b1 = 2K²/n,  b2 = K²/n
/// a1 = 2 (K² − 1)/n,  a2 = (1 − √2 K + K²)/n
/// y_i = b0 x_i + b1 x_{i−1} + b2 x_{i−2} − a1 y_{i−1} − a2 y_{i−2}
/// ```
/// This is the filter of the CWB real-time chain (`sniff_eew.c`, algorithms.md §4.2: "one-way
/// 2-pole Butterworth HP 0.075 Hz"). The CWB coefficient table for 0.075 Hz (100, 50, 40, 20 sps)
/// agrees with this exact double-precision design to ≤ 1.5·10⁻⁷ in every coefficient, but not
/// always to the printed digits: at 40 sps all printed digits match; at 100 sps all but a2
/// (exact 0.99335783, printed 0.9933579); at 50 and 20 sps (printed with 9 digits) every value
/// differs by 2·10⁻⁸ … 1.3·10⁻⁷. Those differences are of the size of single-precision (`float`)
/// rounding, so the CWB table was most likely computed in `float`. Effect (SciPy `freqz` on the
/// printed values): the 9-digit 50/20 sps tables have their −3 dB point within 4·10⁻⁶ Hz of
/// 0.075 Hz; the 7-digit 100/40 sps tables, through their rounding alone, put it at 0.0743 and
/// 0.0752 Hz and leak 0.9 % / 0.3 % at DC — the exact design here has neither. Tested in
/// `FilterPrimitiveTests`.
///
/// Units: output in the unit of the input. Latency: causal, 0 samples of algorithmic delay; the
/// high-pass adds phase lead (not delay) below ~3·fc. Warm-up: the poles' decay time constant is
/// `1/(2π fc /√2)` ≈ 3.0 s for fc = 0.075 Hz, so a step or offset at the start needs ≈ 20 time
/// constants (≈ 60 s) to fall below 10⁻⁸ of its size; see ``RealTimeStationProcessor`` for what
/// that means before a pick.
///
/// - Complexity: O(1) per sample, no allocation.
public struct ButterworthBiquad: Sendable, Equatable {
    /// Which side of the corner passes.
    public enum Kind: String, Sendable, Equatable {
        case highPass
        case lowPass
    }

    public let kind: Kind
    /// −3 dB corner, Hz.
    public let cornerHz: Double
    public let samplingRateHz: Double
    /// Numerator coefficients b0, b1, b2.
    public let b0: Double, b1: Double, b2: Double
    /// Denominator coefficients a1, a2 (a0 = 1), with the sign convention `y = b·x − a·y`.
    public let a1: Double, a2: Double

    private var x1 = 0.0, x2 = 0.0, y1 = 0.0, y2 = 0.0

    /// Designs the filter.
    /// - Throws: ``MagnitudeParameterError`` if the rate is not positive or the corner is not in (0, fs/2).
    public init(_ kind: Kind, cornerHz: Double, samplingRateHz: Double) throws(MagnitudeParameterError) {
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        guard cornerHz.isFinite, cornerHz > 0, cornerHz < samplingRateHz / 2 else {
            throw .invalidCornerFrequency(hertz: cornerHz, samplingRateHz: samplingRateHz)
        }
        self.kind = kind
        self.cornerHz = cornerHz
        self.samplingRateHz = samplingRateHz
        let k = tan(Double.pi * cornerHz / samplingRateHz)
        let k2 = k * k
        let sqrt2 = 2.0.squareRoot()
        let n = 1 + sqrt2 * k + k2
        switch kind {
        case .highPass:
            b0 = 1 / n
            b1 = -2 / n
            b2 = 1 / n
        case .lowPass:
            b0 = k2 / n
            b1 = 2 * k2 / n
            b2 = k2 / n
        }
        a1 = 2 * (k2 - 1) / n
        a2 = (1 - sqrt2 * k + k2) / n
    }

    /// Filters one sample.
    @inline(__always)
    public mutating func step(_ x: Double) -> Double {
        let y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        x2 = x1
        x1 = x
        y2 = y1
        y1 = y
        return y
    }

    /// Filters `samples` in place, continuing from the state left by earlier calls.
    public mutating func process(inPlace samples: inout [Double]) {
        for i in samples.indices { samples[i] = step(samples[i]) }
    }

    /// Clears the state (as if no sample had been seen).
    public mutating func reset() {
        x1 = 0; x2 = 0; y1 = 0; y2 = 0
    }

    /// Magnitude of the frequency response at `frequencyHz`, |H(e^{iωT})|.
    public func gain(atFrequencyHz frequencyHz: Double) -> Double {
        let w = 2 * Double.pi * frequencyHz / samplingRateHz
        // H = (b0 + b1 z⁻¹ + b2 z⁻²) / (1 + a1 z⁻¹ + a2 z⁻²), z⁻¹ = e^{−iω}
        let nr = b0 + b1 * cos(w) + b2 * cos(2 * w), ni = -(b1 * sin(w) + b2 * sin(2 * w))
        let dr = 1 + a1 * cos(w) + a2 * cos(2 * w), di = -(a1 * sin(w) + a2 * sin(2 * w))
        return ((nr * nr + ni * ni) / (dr * dr + di * di)).squareRoot()
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.cornerHz == rhs.cornerHz && lhs.samplingRateHz == rhs.samplingRateHz
            && lhs.x1 == rhs.x1 && lhs.x2 == rhs.x2 && lhs.y1 == rhs.y1 && lhs.y2 == rhs.y2
    }
}
