/// Why a magnitude-stage parameter was rejected. Every case carries the offending value.
public enum MagnitudeParameterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The sampling rate is not finite and positive.
    case invalidSamplingRate(Double)
    /// A filter corner is not finite, positive and below the Nyquist frequency.
    case invalidCornerFrequency(hertz: Double, samplingRateHz: Double)
    /// A named parameter is outside its allowed range.
    case outOfRange(parameter: String, value: Double, allowed: String)

    public var description: String {
        switch self {
        case let .invalidSamplingRate(rate):
            return "sampling rate must be finite and positive, got \(rate) Hz"
        case let .invalidCornerFrequency(f, rate):
            return "corner frequency \(f) Hz must be finite, > 0 and below the Nyquist frequency \(rate / 2) Hz"
        case let .outOfRange(parameter, value, allowed):
            return "\(parameter) = \(value) is out of range (\(allowed))"
        }
    }
}
