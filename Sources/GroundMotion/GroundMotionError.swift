/// Why a ground-motion computation could not run. Every case names the offending value.
///
/// Domain outcomes (e.g. an intensity clipped to 1.0 for a zero record) are results, not errors;
/// these errors are for inputs the computation cannot accept.
public enum GroundMotionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A window has no samples (or fewer than the operation needs).
    case tooFewSamples(count: Int, minimum: Int)
    /// The sampling rate is not positive and finite.
    case invalidSamplingRate(Double)
    /// A parameter is out of its valid range; `name` is the parameter, `reason` says why.
    case invalidParameter(name: String, value: Double, reason: String)
    /// Components of one record disagree (different lengths or sampling rates).
    case componentMismatch(String)
    /// A sample block is in a unit the operation cannot take.
    case unexpectedUnit(stream: String, unit: String, expected: String)
    /// A sample is NaN or infinite.
    case nonFiniteSample(index: Int)
    /// FFTW could not plan or run the transform (should not happen for valid lengths).
    case fft(String)

    public var description: String {
        switch self {
        case .tooFewSamples(let count, let minimum):
            "window has \(count) samples, needs at least \(minimum)"
        case .invalidSamplingRate(let rate):
            "invalid sampling rate \(rate) Hz: must be positive and finite"
        case .invalidParameter(let name, let value, let reason):
            "invalid \(name) = \(value): \(reason)"
        case .componentMismatch(let reason):
            "components do not match: \(reason)"
        case .unexpectedUnit(let stream, let unit, let expected):
            "\(stream): samples are in \(unit), expected \(expected)"
        case .nonFiniteSample(let index):
            "sample \(index) is not finite"
        case .fft(let reason):
            "FFT failed: \(reason)"
        }
    }
}
