// Real-data FFT over FFTW 3 (r2c forward, c2r inverse), with plans cached process-wide.

/// How ``RealFFT/inverse(_:into:scaling:)`` scales its result.
///
/// FFTW computes unnormalised transforms ("What FFTW Really Computes", FFTW manual): a forward
/// transform followed by an unnormalised inverse multiplies the signal by `n`.
public enum FFTScaling: Sendable, Hashable {
    /// FFTW's convention: `x_j = Σ_k X_k e^{+2πijk/n}` with no factor, so
    /// `inverse(forward(x)) == n · x`.
    case unnormalized
    /// The true inverse DFT: the unnormalised result multiplied by `1/n` (the reciprocal is
    /// rounded once, then each sample is multiplied by it), so `inverse(forward(x)) ≈ x`.
    case byInverseCount
}

/// Forward and inverse discrete Fourier transforms of real sequences of one fixed length `n`,
/// computed by FFTW 3.
///
/// ## What is computed
/// Forward (`fftw_plan_dft_r2c_1d`), for real `x_0 … x_{n−1}`:
/// ```
/// X_k = Σ_{j=0}^{n−1} x_j · e^{−2πi·jk/n},   k = 0 … n/2   (integer division)
/// ```
/// unnormalised: no `1/n` or `1/√n` factor. Since `x` is real, `X_{n−k} = conj(X_k)`, so only the
/// ``spectrumCount`` `= n/2 + 1` bins `0…n/2` are stored ("half-complex packing" of FFTW's r2c,
/// "The 1d Real-data DFT", FFTW manual). `X_0` (the sum of the samples) is purely real, and for
/// even `n` so is the Nyquist bin `X_{n/2}` (the alternating sum). Bin `k` is at frequency
/// `k · fs / n` Hz (``frequencyHz(ofBin:samplingRateHz:)``).
///
/// Inverse (`fftw_plan_dft_c2r_1d`) treats its `n/2 + 1` bins as the non-redundant half of a
/// Hermitian spectrum and computes
/// ```
/// x_j = Σ_{k=0}^{n−1} X_k · e^{+2πi·jk/n}   with X_{n−k} = conj(X_k)
///     = Re X_0 + 2 Σ_{0<k<n/2} Re(X_k e^{+2πi·jk/n}) + [n even] Re X_{n/2} · (−1)^j
/// ```
/// unnormalised unless ``FFTScaling/byInverseCount`` is passed. The imaginary parts of `X_0` and
/// (even `n`) `X_{n/2}` are ignored (checked by the tests for every tested length).
///
/// ## Plans, threads and determinism
/// `init` fetches (or creates, on first use of this length in the process) FFTW plans from a
/// process-wide cache keyed by (length, kind), under one lock that serialises every FFTW planner
/// call, because only `fftw_execute*` is thread-safe in FFTW. Transforms run without the lock
/// via FFTW's new-array execute functions, which may run one plan on several threads at once.
/// So `RealFFT` is `Sendable` and one value may be used from many tasks concurrently.
///
/// Plans are made with `FFTW_ESTIMATE` on SIMD-aligned arrays. `FFTW_ESTIMATE` makes the result
/// for a given input bit-for-bit the same in every run (`FFTW_MEASURE` picks algorithms by timing,
/// so the last bits would vary from run to run, which replay cannot tolerate); it costs little for
/// the sizes used here. The same plan is used for every buffer address: a buffer whose address is
/// not a multiple of FFTW's SIMD alignment (16 bytes here; `Array` storage is, in practice) is
/// copied to an aligned temporary first, so its result is bit-identical to the aligned case.
///
/// ## Cost and allocation
/// Once the plans exist, the buffer-based ``forward(_:into:)`` and ``inverse(_:into:scaling:)``
/// and the array `into:` variants (with a uniquely referenced output array) do not allocate when
/// the buffers are SIMD-aligned, as `Array` storage is in practice: size checks, one FFTW call and,
/// for ``FFTScaling/byInverseCount``, one multiplication per sample. (Checked by interposing
/// `malloc`: 0 allocations in 200 calls, debug and release.) A misaligned buffer (e.g. a slice
/// starting at an odd index) costs a copy through an aligned temporary, which may come from the
/// heap (it did for n ≥ 512 here): up to one allocation per call. The convenience variants that
/// return a new array allocate that array.
///
/// Measured on this project's 2-core machine (release build, plans reused, n = 512 / 4096 /
/// 65536): forward ≈ 0.8 / 7.7 / 210 µs; inverse with 1/n scaling ≈ 1.2 / 8.7 / 214 µs. Lengths
/// with a large prime factor are much slower (n = 4093: ≈ 120 µs forward); pad to
/// ``goodSize(atLeast:)`` when the length is yours to choose.
///
/// - Complexity: O(n log n) per transform for every `n` (FFTW uses Rader/Bluestein-type
///   algorithms for prime factors), with a larger constant for large prime factors.
public struct RealFFT: Sendable {
    /// Transform length `n`: the number of real samples.
    public let count: Int
    /// Number of complex bins of the half spectrum, `count / 2 + 1`.
    public let spectrumCount: Int
    /// `1 / count`, rounded once.
    let inverseCount: Double
    let forwardPlan: FFTWPlan
    let inversePlan: FFTWPlan

    /// Prepares transforms of length `count`, creating the FFTW plans if this process has not
    /// used this length before. Planning holds the process-wide planner lock and, even with
    /// `FFTW_ESTIMATE`, takes ≈ 1–5 ms per length for `count ≤ 65536` on this project's machine
    /// (≈ 0.17 s for the prime 1 000 003), so create `RealFFT`s at set-up time, not per packet.
    /// Later `init`s of the same length only look the plans up (one lock round trip each).
    ///
    /// - Parameter count: Number of real samples `n`, in `1...Int(Int32.max)`.
    /// - Throws: ``FFTError/invalidCount(_:)`` if `count` is out of range;
    ///   ``FFTError/planCreationFailed(count:kind:)`` if FFTW cannot plan it.
    public init(count: Int) throws(FFTError) {
        guard count >= 1, count <= Int(Int32.max) else { throw .invalidCount(count) }
        self.count = count
        self.spectrumCount = count / 2 + 1
        self.inverseCount = 1.0 / Double(count)
        self.forwardPlan = try FFTWPlanner.plan(count: count, kind: .realForward)
        self.inversePlan = try FFTWPlanner.plan(count: count, kind: .realInverse)
    }

    // MARK: - Forward

    /// Forward real-to-complex transform `X_k = Σ_j x_j e^{−2πijk/n}`, `k = 0…n/2`, unnormalised
    /// (see the type's documentation for the packing).
    ///
    /// Allocation-free when both buffers are 16-byte aligned. Safe to call concurrently from
    /// several threads with different buffers.
    ///
    /// - Parameters:
    ///   - input: `count` real samples; not modified.
    ///   - output: `spectrumCount` bins, overwritten. Must not overlap `input`.
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` for a wrong buffer size,
    ///   ``FFTError/overlappingBuffers`` if the buffers share memory. Nothing is written then.
    public func forward(_ input: UnsafeBufferPointer<Double>,
                        into output: UnsafeMutableBufferPointer<Complex>) throws(FFTError) {
        guard input.count == count, let inputBase = input.baseAddress else {
            throw .sizeMismatch(buffer: .realInput, expected: count, actual: input.count)
        }
        guard output.count == spectrumCount, let outputBase = output.baseAddress else {
            throw .sizeMismatch(buffer: .spectrumOutput, expected: spectrumCount, actual: output.count)
        }
        guard !Self.overlap(UnsafeRawBufferPointer(input), UnsafeRawBufferPointer(output)) else {
            throw .overlappingBuffers
        }
        forwardPlan.executeRealForward(inputBase, outputBase)
    }

    /// Forward transform into an existing array of ``spectrumCount`` bins (no allocation when
    /// `output` is uniquely referenced).
    ///
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` if `input.count != count` or
    ///   `output.count != spectrumCount`.
    public func forward(_ input: [Double], into output: inout [Complex]) throws(FFTError) {
        try checkForwardSizes(input.count, output.count)
        input.withUnsafeBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                // Sizes checked above; Swift arrays are distinct storage, so no overlap.
                // Both base addresses are non-nil because count >= 1.
                guard let inputBase = inputBuffer.baseAddress, let outputBase = outputBuffer.baseAddress else { return }
                forwardPlan.executeRealForward(inputBase, outputBase)
            }
        }
    }

    /// Forward transform returning a new array of ``spectrumCount`` bins.
    ///
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` if `input.count != count`.
    public func forward(_ input: [Double]) throws(FFTError) -> [Complex] {
        var output = [Complex](repeating: .zero, count: spectrumCount)
        try forward(input, into: &output)
        return output
    }

    // MARK: - Inverse

    /// Inverse complex-to-real transform of the half spectrum `X_0…X_{n/2}`:
    /// `x_j = Σ_{k=0}^{n−1} X_k e^{+2πijk/n}` with `X_{n−k} = conj(X_k)`, times `1/n` if `scaling`
    /// is ``FFTScaling/byInverseCount``. The imaginary parts of `X_0` and (even `n`) `X_{n/2}`
    /// are ignored.
    ///
    /// `spectrum` is never modified: FFTW's c2r destroys its input by default, so the plans are
    /// made with `FFTW_PRESERVE_INPUT` (supported for 1-D c2r; ≈ 10–45 % slower than destroying).
    /// Allocation-free when both buffers are 16-byte aligned. Safe to call concurrently.
    ///
    /// - Parameters:
    ///   - spectrum: ``spectrumCount`` bins; not modified.
    ///   - output: `count` samples, overwritten. Must not overlap `spectrum`.
    ///   - scaling: ``FFTScaling/unnormalized`` (FFTW's convention; `inverse(forward(x)) = n·x`)
    ///     or ``FFTScaling/byInverseCount`` (`inverse(forward(x)) ≈ x`). No default, on purpose.
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` for a wrong buffer size,
    ///   ``FFTError/overlappingBuffers`` if the buffers share memory. Nothing is written then.
    public func inverse(_ spectrum: UnsafeBufferPointer<Complex>,
                        into output: UnsafeMutableBufferPointer<Double>,
                        scaling: FFTScaling) throws(FFTError) {
        guard spectrum.count == spectrumCount, let spectrumBase = spectrum.baseAddress else {
            throw .sizeMismatch(buffer: .spectrumInput, expected: spectrumCount, actual: spectrum.count)
        }
        guard output.count == count, let outputBase = output.baseAddress else {
            throw .sizeMismatch(buffer: .realOutput, expected: count, actual: output.count)
        }
        guard !Self.overlap(UnsafeRawBufferPointer(spectrum), UnsafeRawBufferPointer(output)) else {
            throw .overlappingBuffers
        }
        inversePlan.executeRealInverse(spectrumBase, outputBase)
        if scaling == .byInverseCount { scale(output) }
    }

    /// Inverse transform into an existing array of `count` samples (no allocation when `output`
    /// is uniquely referenced). See ``inverse(_:into:scaling:)-(UnsafeBufferPointer<Complex>,_,_)``.
    ///
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` if
    ///   `spectrum.count != spectrumCount` or `output.count != count`.
    public func inverse(_ spectrum: [Complex], into output: inout [Double],
                        scaling: FFTScaling) throws(FFTError) {
        try checkInverseSizes(spectrum.count, output.count)
        spectrum.withUnsafeBufferPointer { spectrumBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                guard let spectrumBase = spectrumBuffer.baseAddress, let outputBase = outputBuffer.baseAddress else { return }
                inversePlan.executeRealInverse(spectrumBase, outputBase)
                if scaling == .byInverseCount { scale(outputBuffer) }
            }
        }
    }

    /// Inverse transform returning a new array of `count` samples.
    ///
    /// - Throws: ``FFTError/sizeMismatch(buffer:expected:actual:)`` if `spectrum.count != spectrumCount`.
    public func inverse(_ spectrum: [Complex], scaling: FFTScaling) throws(FFTError) -> [Double] {
        var output = [Double](repeating: 0, count: count)
        try inverse(spectrum, into: &output, scaling: scaling)
        return output
    }

    // MARK: - Helpers

    private func checkForwardSizes(_ inputCount: Int, _ outputCount: Int) throws(FFTError) {
        guard inputCount == count else {
            throw .sizeMismatch(buffer: .realInput, expected: count, actual: inputCount)
        }
        guard outputCount == spectrumCount else {
            throw .sizeMismatch(buffer: .spectrumOutput, expected: spectrumCount, actual: outputCount)
        }
    }

    private func checkInverseSizes(_ spectrumInputCount: Int, _ outputCount: Int) throws(FFTError) {
        guard spectrumInputCount == spectrumCount else {
            throw .sizeMismatch(buffer: .spectrumInput, expected: spectrumCount, actual: spectrumInputCount)
        }
        guard outputCount == count else {
            throw .sizeMismatch(buffer: .realOutput, expected: count, actual: outputCount)
        }
    }

    private func scale(_ samples: UnsafeMutableBufferPointer<Double>) {
        let factor = inverseCount
        for index in samples.indices { samples[index] *= factor }
    }

    /// Whether two byte ranges share at least one byte.
    private static func overlap(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard let aStart = a.baseAddress, let bStart = b.baseAddress, !a.isEmpty, !b.isEmpty else { return false }
        return aStart < bStart + b.count && bStart < aStart + a.count
    }
}

// MARK: - Test hooks (SPI, so that tests need no `@testable import` and also build in release)

extension RealFFT {
    /// Whether `self` and `other` execute the very same cached FFTW plans.
    @_spi(Testing)
    public func sharesPlans(with other: RealFFT) -> Bool {
        forwardPlan === other.forwardPlan && inversePlan === other.inversePlan
    }

    /// FFTW's SIMD alignment in bytes as probed by the planner (16 for the Debian FFTW 3.3.10).
    @_spi(Testing)
    public static var fftwSIMDAlignmentBytes: Int { FFTWPlanner.simdAlignmentBytes }

    /// Number of plans in the process-wide cache.
    @_spi(Testing)
    public static var cachedPlanCount: Int { FFTWPlanner.cachedPlanCount }
}
