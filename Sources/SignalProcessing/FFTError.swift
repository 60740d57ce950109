/// Why an FFT could not be set up or run. Every case carries the offending values.
public enum FFTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which buffer of a transform call a ``sizeMismatch(buffer:expected:actual:)`` refers to.
    public enum Buffer: String, Sendable, Equatable {
        /// The time-domain samples read by a forward transform.
        case realInput
        /// The spectrum written by a forward transform.
        case spectrumOutput
        /// The spectrum read by an inverse transform.
        case spectrumInput
        /// The time-domain samples written by an inverse transform.
        case realOutput
    }

    /// The transform length is not usable: it must be in `1...Int(Int32.max)` (FFTW takes an `int`).
    case invalidCount(Int)
    /// A buffer passed to a transform has the wrong number of elements.
    case sizeMismatch(buffer: Buffer, expected: Int, actual: Int)
    /// The input and output buffers of one call share memory. The transforms are out-of-place.
    case overlappingBuffers
    /// FFTW returned a NULL plan (or could not allocate its planning arrays) for this length and
    /// transform kind (`"r2c"` or `"c2r"`). Not expected for 1-D real transforms of a valid length.
    case planCreationFailed(count: Int, kind: String)

    public var description: String {
        switch self {
        case .invalidCount(let count):
            "invalid FFT length \(count): must be in 1...\(Int32.max)"
        case .sizeMismatch(let buffer, let expected, let actual):
            "FFT buffer \(buffer.rawValue) has \(actual) elements, expected \(expected)"
        case .overlappingBuffers:
            "FFT input and output buffers overlap; the transform is out-of-place"
        case .planCreationFailed(let count, let kind):
            "FFTW could not create a \(kind) plan of length \(count)"
        }
    }
}
