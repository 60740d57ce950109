import SignalProcessing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-window instrument correction, seismometer simulation and spectral integration /
/// differentiation, done in the frequency domain with FFTW (the offline counterpart of the
/// streaming filters).
///
/// ## Simulation (deconvolution + convolution)
/// Following the recipe of PITSA `spr_resg.c` as implemented by ObsPy's
/// `simulate_seismometer` (ObsPy 1.5.1 `obspy/signal/invsim.py`; F. Scherbaum, *Of Poles and
/// Zeros*, Kluwer 1996, ch. 8):
/// 1. demean; cosine taper (``TimeDomainTaper``, default 5 % in total); zero-pad to `m ≥ 2n`
///    (``FFTLengthPolicy``); forward FFT `X_k`;
/// 2. optional pre-filter `T(f_k)` (``CosineBandTaper``, SAC `freqlimits` shape);
/// 3. divide by the normalised source response `R(f_k) = A0 Π(s−z)/Π(s−p)` with a water level:
///    every bin with `0 < |R| < w = max_k |R_k| · 10^(−wl/20)` is raised to modulus `w`
///    keeping its phase, then `1/R` is taken; bins with `R = 0` (e.g. 0 Hz for a zero at the
///    origin) give 0 instead of ∞ (ObsPy `invert_spectrum`, from PITSA `spr_sinv.c`).
///    `waterLevelDecibels = nil` means no level (only the `R = 0` rule), which equals ObsPy's
///    default of 600 dB for any realistic response;
/// 4. multiply by the normalised target response `A0' Π(s−z')/Π(s−p')`;
/// 5. inverse FFT (`1/m`), keep the first `n` samples;
/// 6. optional end-point detrend (ObsPy `pitsasim=True`: subtract the straight line through the
///    first and last output samples);
/// 7. divide by the source ``PolesZeros/sensitivity``, multiply by the target's.
/// Steps 3–4 with `s = i2πf` make the output the target instrument's reading of the ground
/// motion the source instrument recorded. Units: output = input / source sensitivity × target
/// sensitivity; e.g. counts → (counts per m/s) → m/s → × WA magnification → m of trace.
///
/// ## Integration and differentiation
/// ``convert(_:samplingRateHz:from:to:preFilter:into:)`` multiplies by `(i·2π·f)^(−k)`,
/// `k = to.derivativeOrder − from.derivativeOrder` (`k > 0` integrates; `k < 0` differentiates)
/// and by an optional ``CosineBandTaper`` (like ObsPy's `pre_filt`). The 0 Hz bin is set to 0 for
/// `k > 0`: the constant of integration is unknown, and the result has zero mean over the padded
/// window. Dividing by `iω` amplifies low frequencies by `1/(2πf)`, so integrate with a
/// pre-filter whose `f1, f2` lie below the band of interest (e.g. (0.05, 0.1, ∞, ∞) Hz for
/// strong motion), otherwise long-period noise and the taper's step dominate the result.
///
/// Exact for band-limited, zero-padded signals (no trapezoid-rule error: the gain of
/// trapezoidal integration is `(ωΔt/2)/tan(ωΔt/2)` of the exact one, 0.967 at 0.1·fs).
///
/// Latency: none of this is causal; the whole window must be present. Not for the live path.
/// - Complexity: O(m log m) per call, `m ≈ 2n`; buffers are reused between calls of the same length.
public struct ResponseSimulation: Sendable {
    /// Window pre-processing (demean, taper, FFT length).
    public var windowOptions: SpectralWindowOptions {
        get { window.options }
        set { window.options = newValue }
    }
    /// Subtract the straight line through the first and last output samples (ObsPy
    /// `pitsasim=True`, `obspy.signal.detrend.simple`). Default false.
    public var detrendEndPoints: Bool
    private var window: SpectralWindow
    private var responses: [Complex] = []

    public init(windowOptions: SpectralWindowOptions = SpectralWindowOptions(), detrendEndPoints: Bool = false) {
        self.window = SpectralWindow(options: windowOptions)
        self.detrendEndPoints = detrendEndPoints
    }

    /// FFT length used by the last call (0 before the first).
    public var lastFFTCount: Int { window.fftCount }

    /// Simulates seismometer `simulate` on the record of seismometer `remove` (see the type's
    /// documentation for every step). Either may be nil: `remove == nil` takes the input as ground
    /// motion already (only the target is applied); `simulate == nil` only corrects the
    /// instrument.
    ///
    /// - Parameters:
    ///   - samples: The window, in the output unit of `remove` (e.g. counts), or in ground-motion
    ///     units if `remove` is nil.
    ///   - samplingRateHz: Sampling rate, Hz.
    ///   - remove: Response of the recording instrument (its input quantity is the quantity the
    ///     correction recovers).
    ///   - simulate: Response of the instrument to simulate; its input quantity must be the one
    ///     `remove` recovers (convert with ``PolesZeros/converted(from:to:)``).
    ///   - waterLevelDecibels: Water level for `1/R` in dB below the maximum of `|R|`; nil for none.
    ///   - preFilter: Frequency taper applied with the deconvolution (ObsPy `pre_filt`).
    ///   - output: Resized to `samples.count` and overwritten.
    /// - Throws: ``GroundMotionError`` for empty windows, bad rates, non-finite samples, a
    ///   negative water level, a zero source sensitivity.
    public mutating func simulate(_ samples: [Double], samplingRateHz: Double, remove: PolesZeros?,
                                  simulate: PolesZeros?, waterLevelDecibels: Double? = nil,
                                  preFilter: CosineBandTaper? = nil, into output: inout [Double]) throws(GroundMotionError) {
        if let waterLevelDecibels, !(waterLevelDecibels >= 0) {
            throw .invalidParameter(name: "water level", value: waterLevelDecibels, reason: "must be ≥ 0 dB")
        }
        if let remove, !(remove.sensitivity != 0 && remove.sensitivity.isFinite) {
            throw .invalidParameter(name: "source sensitivity", value: remove.sensitivity, reason: "must be finite and non-zero")
        }
        try window.load(samples, samplingRateHz: samplingRateHz)
        let binCount = window.spectrum.count
        // Inverse source response with water level, per bin (ObsPy invert_spectrum semantics).
        var inverse = responses
        responses = []
        defer { responses = inverse }
        if inverse.count != binCount { inverse = [Complex](repeating: .zero, count: binCount) }
        if let remove {
            var largest = 0.0
            for bin in 0..<binCount {
                let r = remove.normalizedResponse(atFrequencyHz: window.frequencyHz(ofBin: bin))
                inverse[bin] = r
                largest = Swift.max(largest, r.magnitude)
            }
            let level = waterLevelDecibels.map { largest * pow10(-$0 / 20) } ?? 0
            let one = Complex(real: 1, imaginary: 0)
            for bin in 0..<binCount {
                var r = inverse[bin]
                let modulus = r.magnitude
                if modulus == 0 || !modulus.isFinite {
                    inverse[bin] = .zero
                    continue
                }
                if modulus < level { r = r * (level / modulus) }
                inverse[bin] = Complex.dividing(one, by: r)
            }
        } else {
            for bin in 0..<binCount { inverse[bin] = Complex(real: 1, imaginary: 0) }
        }
        let table = inverse
        try window.synthesize(into: &output) { bin, f in
            var gain = table[bin]
            if let preFilter { gain = gain * preFilter.value(atFrequencyHz: f) }
            if let simulate { gain = gain * simulate.normalizedResponse(atFrequencyHz: f) }
            return gain
        }
        if detrendEndPoints { Self.removeEndPointLine(&output) }
        let scale = (simulate?.sensitivity ?? 1) / (remove?.sensitivity ?? 1)
        if scale != 1 {
            for index in output.indices { output[index] *= scale }
        }
    }

    /// Allocating convenience for ``simulate(_:samplingRateHz:remove:simulate:waterLevelDecibels:preFilter:into:)``.
    public mutating func simulate(_ samples: [Double], samplingRateHz: Double, remove: PolesZeros?,
                                  simulate: PolesZeros?, waterLevelDecibels: Double? = nil,
                                  preFilter: CosineBandTaper? = nil) throws(GroundMotionError) -> [Double] {
        var output: [Double] = []
        try self.simulate(samples, samplingRateHz: samplingRateHz, remove: remove, simulate: simulate,
                          waterLevelDecibels: waterLevelDecibels, preFilter: preFilter, into: &output)
        return output
    }

    /// Integrates or differentiates a ground-motion window in the frequency domain:
    /// `Y(f) = X(f) · T(f) · (i2πf)^(−k)`, `k = to.derivativeOrder − from.derivativeOrder`
    /// (e.g. acceleration → velocity: `k = 1`, → displacement: `k = 2`), `Y(0) = 0` for `k > 0`.
    ///
    /// - Parameters:
    ///   - samples: The window in `from` units (m, m/s or m/s²).
    ///   - preFilter: Optional zero-phase band taper `T(f)` (ObsPy `pre_filt` shape); strongly
    ///     advised for integration.
    ///   - output: Resized to `samples.count`; in `to` units.
    public mutating func convert(_ samples: [Double], samplingRateHz: Double, from: GroundMotionQuantity,
                                 to: GroundMotionQuantity, preFilter: CosineBandTaper? = nil,
                                 into output: inout [Double]) throws(GroundMotionError) {
        try window.load(samples, samplingRateHz: samplingRateHz)
        let order = from.derivativeOrder - to.derivativeOrder  // > 0 integrates
        try window.synthesize(into: &output) { _, f in
            var gain = Self.integrationGain(order: order, frequencyHz: f)
            if let preFilter { gain = gain * preFilter.value(atFrequencyHz: f) }
            return gain
        }
        if detrendEndPoints { Self.removeEndPointLine(&output) }
    }

    /// Allocating convenience for ``convert(_:samplingRateHz:from:to:preFilter:into:)``.
    public mutating func convert(_ samples: [Double], samplingRateHz: Double, from: GroundMotionQuantity,
                                 to: GroundMotionQuantity, preFilter: CosineBandTaper? = nil) throws(GroundMotionError) -> [Double] {
        var output: [Double] = []
        try convert(samples, samplingRateHz: samplingRateHz, from: from, to: to, preFilter: preFilter, into: &output)
        return output
    }

    /// `(i2πf)^(−order)`: `order` integrations (negative: differentiations); 0 at f = 0 for
    /// `order > 0`.
    static func integrationGain(order: Int, frequencyHz f: Double) -> Complex {
        if order == 0 { return Complex(real: 1, imaginary: 0) }
        let omega = 2 * Double.pi * f
        if order > 0 && omega == 0 { return .zero }
        let s = Complex(real: 0, imaginary: omega)
        var power = Complex(real: 1, imaginary: 0)
        for _ in 0..<abs(order) { power = power * s }
        return order > 0 ? Complex.dividing(Complex(real: 1, imaginary: 0), by: power) : power
    }

    /// Subtracts the line through the first and last samples (ObsPy `detrend.simple`).
    static func removeEndPointLine(_ samples: inout [Double]) {
        let n = samples.count
        guard n >= 2 else { return }
        let first = samples[0]
        let slope = (samples[n - 1] - first) / Double(n - 1)
        for index in 0..<n { samples[index] -= first + Double(index) * slope }
    }
}

/// `10^x`.
@inline(__always)
func pow10(_ x: Double) -> Double {
    #if canImport(Glibc)
    Glibc.pow(10, x)
    #else
    Darwin.pow(10, x)
    #endif
}
