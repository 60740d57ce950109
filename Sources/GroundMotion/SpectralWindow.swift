public import SignalProcessing

/// How long the zero-padded FFT of an `n`-sample window is.
public enum FFTLengthPolicy: Sendable, Hashable {
    /// `RealFFT.goodSize(atLeast: 2n)`: at least twice the window, so that the circular
    /// convolution of the FFT equals the linear one as long as the filter's impulse response
    /// has decayed within `n` samples (Press et al., *Numerical Recipes*, §13.1; ObsPy pads to
    /// `2n` for the same reason), rounded up to a 7-smooth length for speed.
    case goodSizeAtLeastTwiceCount
    /// Exactly this many points (must be ≥ n). Used to reproduce another program bit for bit,
    /// e.g. ObsPy's `_npts2nfft(n)` = `2n` (even n) / `2(n+1)` (odd n).
    case exactly(Int)
}

/// Pre-processing of a window before its FFT.
public struct SpectralWindowOptions: Sendable, Hashable {
    /// Subtract the arithmetic mean first (ObsPy `zero_mean=True`). Default true.
    public var removeMean: Bool
    /// Time-domain taper after demeaning. Default ``TimeDomainTaper/obspyDefault`` (5 % total).
    public var taper: TimeDomainTaper
    /// FFT length. Default ``FFTLengthPolicy/goodSizeAtLeastTwiceCount``.
    public var length: FFTLengthPolicy

    public init(removeMean: Bool = true, taper: TimeDomainTaper = .obspyDefault,
                length: FFTLengthPolicy = .goodSizeAtLeastTwiceCount) {
        self.removeMean = removeMean
        self.taper = taper
        self.length = length
    }
}

/// One whole window of samples transformed once with FFTW, from which any number of filtered
/// versions are synthesised by multiplying the spectrum with a transfer function and
/// transforming back. This is the offline (non-streaming) engine of the module: it sees the
/// whole window, so its filters can be zero-phase and acausal.
///
/// ``load(_:samplingRateHz:)``: demean (optional) → taper → zero-pad to `m` points
/// (``FFTLengthPolicy``) → forward r2c FFT `X_k`, `k = 0 … m/2`, at `f_k = k·fs/m`.
/// ``synthesize(into:transfer:)``: `Y_k = X_k · T(k, f_k)` → inverse c2r FFT with `1/m`
/// → the first `n` samples.
///
/// Conventions: FFTW's `X_k = Σ x_j e^{−2πijk/m}`, so a transfer function `H(s)` of the Laplace
/// variable is evaluated at `s = +i·2π·f_k` (the same as ObsPy/NumPy). The inverse c2r transform
/// ignores the imaginary part of the Nyquist bin (even `m`); ObsPy's `simulate_seismometer`
/// instead replaces that bin by its modulus (`data[-1] = abs(data[-1])`). The two differ by at
/// most `2|Y_{m/2}|/m` per sample, which is negligible for band-limited seismic records.
///
/// State is only scratch memory: buffers are reused across calls while the FFT length stays the
/// same; ``RealFFT`` plans come from the process-wide cache.
/// - Complexity: O(m log m) per load and per synthesis.
public struct SpectralWindow: Sendable {
    /// Pre-processing used by ``load(_:samplingRateHz:)``.
    public var options: SpectralWindowOptions
    /// Number of samples `n` of the loaded window.
    public private(set) var sampleCount = 0
    /// Sampling rate of the loaded window, Hz.
    public private(set) var samplingRateHz = 1.0
    /// Mean removed from the loaded window (0 if ``SpectralWindowOptions/removeMean`` is false).
    public private(set) var removedMean = 0.0
    private var fft: RealFFT?
    private var padded: [Double] = []
    /// Spectrum of the loaded, pre-processed, zero-padded window (`m/2 + 1` bins).
    public private(set) var spectrum: [Complex] = []
    private var work: [Complex] = []
    private var inverseOutput: [Double] = []

    public init(options: SpectralWindowOptions = SpectralWindowOptions()) {
        self.options = options
    }

    /// FFT length `m` of the loaded window (0 before the first load).
    public var fftCount: Int { fft?.count ?? 0 }

    /// Frequency of bin `k` of the loaded window, `k·fs/m` Hz.
    public func frequencyHz(ofBin bin: Int) -> Double {
        RealFFT.frequencyHz(ofBin: bin, count: fftCount, samplingRateHz: samplingRateHz)
    }

    /// Pre-processes and transforms `samples`.
    ///
    /// - Throws: ``GroundMotionError/tooFewSamples(count:minimum:)`` for an empty window,
    ///   ``GroundMotionError/invalidSamplingRate(_:)``, ``GroundMotionError/nonFiniteSample(index:)``,
    ///   ``GroundMotionError/invalidParameter(name:value:reason:)`` for an ``FFTLengthPolicy/exactly(_:)``
    ///   shorter than the window. The previous window stays loaded then.
    /// - Complexity: O(m log m); allocates only when the FFT length changes.
    public mutating func load(_ samples: UnsafeBufferPointer<Double>, samplingRateHz: Double) throws(GroundMotionError) {
        let n = samples.count
        guard n >= 1 else { throw .tooFewSamples(count: n, minimum: 1) }
        guard samplingRateHz > 0, samplingRateHz.isFinite else { throw .invalidSamplingRate(samplingRateHz) }
        var sum = 0.0
        for index in 0..<n {
            let value = samples[index]
            guard value.isFinite else { throw .nonFiniteSample(index: index) }
            sum += value
        }
        let m: Int
        switch options.length {
        case .goodSizeAtLeastTwiceCount:
            let (twice, overflow) = n.multipliedReportingOverflow(by: 2)
            guard !overflow else { throw .tooFewSamples(count: n, minimum: 1) }
            do { m = try RealFFT.goodSize(atLeast: twice) } catch { throw .fft(error.description) }
        case .exactly(let count):
            guard count >= n else {
                throw .invalidParameter(name: "FFT length", value: Double(count), reason: "must be ≥ the \(n) samples")
            }
            m = count
        }
        if fft?.count != m {
            do { fft = try RealFFT(count: m) } catch { throw .fft(error.description) }
            padded = [Double](repeating: 0, count: m)
            inverseOutput = [Double](repeating: 0, count: m)
            spectrum = [Complex](repeating: .zero, count: m / 2 + 1)
            work = spectrum
        }
        guard let fft else { throw .fft("no plan") }
        let mean = options.removeMean ? sum / Double(n) : 0
        let taper = options.taper
        padded.withUnsafeMutableBufferPointer { buffer in
            for index in 0..<n { buffer[index] = samples[index] - mean }
            for index in n..<m { buffer[index] = 0 }
            taper.apply(to: UnsafeMutableBufferPointer(rebasing: buffer[0..<n]))
        }
        do { try fft.forward(padded, into: &spectrum) } catch { throw .fft(error.description) }
        sampleCount = n
        self.samplingRateHz = samplingRateHz
        removedMean = mean
    }

    /// Array convenience for ``load(_:samplingRateHz:)-(UnsafeBufferPointer<Double>,_)``.
    public mutating func load(_ samples: [Double], samplingRateHz: Double) throws(GroundMotionError) {
        var failure: GroundMotionError?
        samples.withUnsafeBufferPointer { buffer in
            do throws(GroundMotionError) { try load(buffer, samplingRateHz: samplingRateHz) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Writes the first ``sampleCount`` samples of `IFFT(X_k · transfer(k, f_k))` (scaled by
    /// `1/m`) into `output`.
    ///
    /// - Parameters:
    ///   - output: Exactly ``sampleCount`` samples, overwritten.
    ///   - transfer: The complex gain of bin `k` at frequency `f_k` Hz. For a real output it must
    ///     be the response of a real filter (`T(−f) = conj T(f)`); only `f ≥ 0` is asked for, and
    ///     the imaginary part at 0 Hz (and at Nyquist for even `m`) is dropped by the c2r FFT.
    /// - Throws: ``GroundMotionError/tooFewSamples(count:minimum:)`` if nothing is loaded,
    ///   ``GroundMotionError/componentMismatch(_:)`` if `output` has the wrong size.
    /// - Complexity: O(m log m); no allocation.
    public mutating func synthesize(into output: UnsafeMutableBufferPointer<Double>,
                                    transfer: (_ bin: Int, _ frequencyHz: Double) -> Complex) throws(GroundMotionError) {
        guard let fft, sampleCount > 0 else { throw .tooFewSamples(count: 0, minimum: 1) }
        guard output.count == sampleCount else {
            throw .componentMismatch("output has \(output.count) samples, window has \(sampleCount)")
        }
        let m = fft.count
        let rate = samplingRateHz
        // Work on local arrays (moved out of `self`, so still uniquely referenced: no copy) to
        // keep the closures from overlapping accesses to `self`.
        var products = work
        work = []
        var timeSamples = inverseOutput
        inverseOutput = []
        defer {
            work = products
            inverseOutput = timeSamples
        }
        spectrum.withUnsafeBufferPointer { source in
            products.withUnsafeMutableBufferPointer { target in
                for bin in 0..<source.count {
                    let f = RealFFT.frequencyHz(ofBin: bin, count: m, samplingRateHz: rate)
                    target[bin] = source[bin] * transfer(bin, f)
                }
            }
        }
        do { try fft.inverse(products, into: &timeSamples, scaling: .byInverseCount) } catch { throw .fft(error.description) }
        let n = sampleCount
        timeSamples.withUnsafeBufferPointer { result in
            for index in 0..<n { output[index] = result[index] }
        }
    }

    /// Array convenience for ``synthesize(into:transfer:)-(UnsafeMutableBufferPointer<Double>,_)``;
    /// resizes `output` to ``sampleCount``.
    public mutating func synthesize(into output: inout [Double],
                                    transfer: (_ bin: Int, _ frequencyHz: Double) -> Complex) throws(GroundMotionError) {
        if output.count != sampleCount { output = [Double](repeating: 0, count: sampleCount) }
        var failure: GroundMotionError?
        output.withUnsafeMutableBufferPointer { buffer in
            do throws(GroundMotionError) { try synthesize(into: buffer, transfer: transfer) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
