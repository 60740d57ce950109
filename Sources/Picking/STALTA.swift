// Shared pieces of the STA/LTA characteristic functions: the streaming protocol, the window
// specification and the parameter errors.
import SeismicCore

/// A causal, streaming STA/LTA characteristic function (CF): one output value per input sample.
///
/// Conforming types are value types whose state carries over between calls of
/// ``process(_:into:)``, so any chunking of a record gives bit-identical output to processing it
/// in one piece. Call ``reset()`` at a gap or when a new record starts.
public protocol STALTACharacteristicFunction: Sendable {
    /// STA window length in samples (≥ 1).
    var staSampleCount: Int { get }
    /// LTA window length in samples (≥ 1).
    var ltaSampleCount: Int { get }
    /// Number of samples processed since construction or the last ``reset()``.
    var processedSampleCount: Int { get }
    /// Number of leading samples whose CF value is the warm-up value 0.
    var warmUpSampleCount: Int { get }

    /// Computes the CF of `input` into `output[0..<input.count]`, continuing from the state left
    /// by previous calls.
    ///
    /// - Precondition: `output.count >= input.count`. `input` and `output` may be the same memory.
    mutating func process(_ input: UnsafeBufferPointer<Double>, into output: UnsafeMutableBufferPointer<Double>)

    /// Forgets all history: the next sample is treated as sample 0 of a new record.
    mutating func reset()
}

extension STALTACharacteristicFunction {
    /// Convenience wrapper: returns the CF of `input` (allocates the output array).
    public mutating func process(_ input: [Double]) -> [Double] {
        var output = [Double](repeating: 0, count: input.count)
        process(input, into: &output)
        return output
    }

    /// Convenience wrapper: writes the CF of `input` into `output`, which is resized to
    /// `input.count` (no allocation when its capacity suffices).
    public mutating func process(_ input: [Double], into output: inout [Double]) {
        if output.count != input.count {
            output.removeAll(keepingCapacity: true)
            output.append(contentsOf: repeatElement(0, count: input.count))
        }
        input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                process(inBuf, into: outBuf)
            }
        }
    }
}

/// Why an STA/LTA or trigger parameter was rejected.
public enum STALTAParameterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A window length in samples is < 1.
    case nonPositiveWindow(parameter: String, samples: Int)
    /// A window length in seconds is not finite and positive, or rounds to 0 samples.
    case invalidWindowSeconds(parameter: String, seconds: Double, samplingRateHz: Double)
    /// The sampling rate is not finite and positive.
    case invalidSamplingRate(Double)
    /// Classic STA/LTA needs the STA window inside the LTA window.
    case staLongerThanLTA(staSamples: Int, ltaSamples: Int)
    /// A trigger threshold is NaN or infinite.
    case invalidThreshold(parameter: String, value: Double)
    /// A maximum trigger length is negative.
    case negativeMaximumLength(samples: Int)
    /// A window needs more samples of storage than the implementation allows.
    case windowTooLong(parameter: String, samples: Int, maximum: Int)

    public var description: String {
        switch self {
        case let .nonPositiveWindow(parameter, samples):
            return "\(parameter): window must be at least 1 sample, got \(samples)"
        case let .invalidWindowSeconds(parameter, seconds, rate):
            return "\(parameter): window of \(seconds) s at \(rate) Hz is not a positive whole number of samples"
        case let .invalidSamplingRate(rate):
            return "sampling rate must be finite and positive, got \(rate) Hz"
        case let .staLongerThanLTA(sta, lta):
            return "classic STA/LTA needs nsta <= nlta, got nsta = \(sta), nlta = \(lta) samples"
        case let .invalidThreshold(parameter, value):
            return "\(parameter): threshold must be finite, got \(value)"
        case let .negativeMaximumLength(samples):
            return "maximum trigger length must be >= 0 samples, got \(samples)"
        case let .windowTooLong(parameter, samples, maximum):
            return "\(parameter): window of \(samples) samples exceeds the maximum of \(maximum) samples"
        }
    }
}

/// Converts STA/LTA window lengths from seconds to samples, once, by rounding to nearest
/// (``SampleBlock/sampleCount(seconds:samplingRateHz:)``).
///
/// Note: ObsPy's `Trace.trigger` and `coincidence_trigger` truncate (`int(sta * df)`); the
/// reference data of this project and QuakeWarn round to nearest. The two agree whenever
/// `seconds × rate` is a whole number, as for every window of the reference cases.
enum STALTAWindows {
    static func samples(seconds: Double, samplingRateHz: Double, parameter: String) throws(STALTAParameterError) -> Int {
        guard samplingRateHz.isFinite, samplingRateHz > 0 else { throw .invalidSamplingRate(samplingRateHz) }
        let product = seconds * samplingRateHz
        // Guard the Int conversion: reject non-finite and absurdly long windows instead of trapping.
        guard seconds.isFinite, seconds > 0, product.isFinite, product < 1e15 else {
            throw .invalidWindowSeconds(parameter: parameter, seconds: seconds, samplingRateHz: samplingRateHz)
        }
        let count = SampleBlock.sampleCount(seconds: seconds, samplingRateHz: samplingRateHz)
        guard count >= 1 else {
            throw .invalidWindowSeconds(parameter: parameter, seconds: seconds, samplingRateHz: samplingRateHz)
        }
        return count
    }
}
