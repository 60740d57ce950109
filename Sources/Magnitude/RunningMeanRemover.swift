// Exponential running-mean removal of the CWB real-time chain.

/// Removes a slowly varying offset by subtracting an exponential running mean:
/// ```
/// m_i = c · m_{i−1} + (1 − c) · x_i      (m before the first sample := x_0)
/// y_i = x_i − m_i
/// c   = 1 − 1/(τ · fs)
/// ```
/// CWB `sniff_eew.c` uses `m = 0.999 m + 0.001 x` (algorithms.md §4.2), i.e. τ = 10 s at
/// 100 sps; here the time constant τ is given in seconds so the behaviour does not change with
/// the sampling rate (c = 0.999 exactly reproduces CWB at 100 sps).
///
/// The first output is exactly 0 (the mean starts at the first sample, so a large digitizer
/// offset does not ring through the following high-pass). Equivalent to a 1-pole high-pass with
/// corner ≈ 1/(2π τ) (0.016 Hz for τ = 10 s). Latency 0 (causal). Units: those of the input.
///
/// - Complexity: O(1) per sample, no allocation.
public struct RunningMeanRemover: Sendable, Equatable {
    /// Weight of the previous mean, c.
    public let decay: Double
    private let weight: Double
    private var mean = 0.0
    private var started = false

    /// - Parameters:
    ///   - timeConstantSeconds: τ, > 1/fs.
    ///   - samplingRateHz: fs.
    public init(timeConstantSeconds: Double, samplingRateHz: Double) throws(MagnitudeParameterError) {
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        let samples = timeConstantSeconds * samplingRateHz
        guard samples.isFinite, samples > 1 else {
            throw .outOfRange(parameter: "meanRemovalTimeConstantSeconds", value: timeConstantSeconds,
                              allowed: "> one sample interval")
        }
        weight = 1 / samples
        decay = 1 - weight
    }

    @inline(__always)
    public mutating func step(_ x: Double) -> Double {
        if started {
            mean = decay * mean + weight * x
        } else {
            mean = x
            started = true
        }
        return x - mean
    }

    public mutating func reset() {
        mean = 0
        started = false
    }
}
