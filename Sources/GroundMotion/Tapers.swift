#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The time-domain cosine (Hann-flank) taper applied to a window before its FFT, defined exactly
/// as ObsPy's `cosine_taper(npts, p)` with its defaults (`halfcosine=True`, `sactaper=False`;
/// ObsPy 1.5.1 `obspy/signal/invsim.py`), which `simulate_seismometer` applies with `p = 0.05`:
/// ```
/// frac = ⌊n·p/2 + 0.5⌋  (⌊n·p/2⌋ for p ∈ {0, 1})
/// i1 = 0, i2 = frac − 1, i3 = n − frac, i4 = n − 1   (i2 += 1 if i1 = i2; i3 −= 1 if i3 = i4)
/// w[i] = ½(1 − cos(π (i − i1)/(i2 − i1)))   for i1 ≤ i ≤ i2     (rises from 0 to 1)
/// w[i] = 1                                   for i2 < i < i3
/// w[i] = ½(1 + cos(π (i3 − i)/(i4 − i3)))   for i3 ≤ i ≤ i4     (falls from 1 to 0)
/// ```
/// `totalFraction` is the fraction of the window tapered in total, half at each end (ObsPy's `p`:
/// 0.05 tapers 2.5 % at the start and 2.5 % at the end). The first and last samples are zero
/// whenever `frac ≥ 1`.
public struct TimeDomainTaper: Sendable, Hashable {
    /// Fraction of the window tapered, in total over both ends, in `[0, 1]`.
    public var totalFraction: Double

    /// - Parameter totalFraction: In `[0, 1]`; ObsPy's `simulate_seismometer` default is 0.05.
    /// - Throws: ``GroundMotionError/invalidParameter(name:value:reason:)`` outside `[0, 1]`.
    public init(totalFraction: Double) throws(GroundMotionError) {
        guard totalFraction >= 0, totalFraction <= 1 else {
            throw .invalidParameter(name: "taper fraction", value: totalFraction, reason: "must be in [0, 1]")
        }
        self.totalFraction = totalFraction
    }

    /// No taper.
    public static let none = TimeDomainTaper(unchecked: 0)
    /// ObsPy `simulate_seismometer`'s default, 5 % in total (2.5 % per end).
    public static let obspyDefault = TimeDomainTaper(unchecked: 0.05)

    private init(unchecked fraction: Double) { self.totalFraction = fraction }

    /// Multiplies `samples` in place by the window of length `samples.count`.
    /// - Complexity: O(n), no allocation.
    public func apply(to samples: UnsafeMutableBufferPointer<Double>) {
        let n = samples.count
        guard n > 0, totalFraction > 0 else { return }
        let halfLength = Double(n) * totalFraction / 2
        let frac = (totalFraction == 1) ? Int(halfLength) : Int(halfLength + 0.5)
        let i1 = 0
        var i2 = frac - 1
        var i3 = n - frac
        let i4 = n - 1
        if i1 == i2 { i2 += 1 }
        if i3 == i4 { i3 -= 1 }
        // The regions are written in ObsPy's order (rise, flat, fall), so for tiny windows where
        // they overlap the later region wins, as in NumPy's slice assignments.
        // Empty regions (frac = 0) have a negative length; the max(…, 1) only avoids a 0/0.
        let riseLength = Swift.max(i2 - i1, 1)
        let fallLength = Swift.max(i4 - i3, 1)
        // Compute the weight of each index as the last-written region would define it.
        for index in 0..<n {
            var w = 0.0
            if index >= i1, index <= i2 {
                w = 0.5 * (1.0 - cos(Double.pi * Double(index - i1) / Double(riseLength)))
            }
            if index > i2, index < i3 { w = 1.0 }
            if index >= i3, index <= i4 {
                w = 0.5 * (1.0 + cos(Double.pi * Double(i3 - index) / Double(fallLength)))
            }
            samples[index] *= w
        }
    }

    /// The window itself, `count` weights (allocates; for tests and plots).
    public func window(count: Int) -> [Double] {
        var weights = [Double](repeating: 1, count: Swift.max(count, 0))
        weights.withUnsafeMutableBufferPointer { apply(to: $0) }
        return weights
    }
}

/// A frequency-domain band taper with raised-cosine flanks, as SAC's `transfer … freqlimits
/// f1 f2 f3 f4` and ObsPy's `cosine_sac_taper(freqs, (f1, f2, f3, f4))` define it
/// (ObsPy 1.5.1 `obspy/signal/invsim.py`):
/// ```
/// T(f) = 0                                   f < f1 or f > f4
///      = ½(1 − cos(π (f − f1)/(f2 − f1)))    f1 ≤ f ≤ f2
///      = 1                                   f2 < f < f3
///      = ½(1 + cos(π (f − f3)/(f4 − f3)))    f3 ≤ f ≤ f4
/// ```
/// Real and non-negative, so it has zero phase. Used as the pre-filter of deconvolution and
/// spectral integration: it removes the frequencies where dividing by a small response (or by
/// `iω` near 0 Hz) would blow up noise. `f3 = f4 = +∞` disables the high-frequency flank.
public struct CosineBandTaper: Sendable, Hashable {
    /// f1: below it the taper is 0 (Hz).
    public var lowStopHz: Double
    /// f2: from it the taper is 1 (Hz).
    public var lowPassHz: Double
    /// f3: up to it the taper is 1 (Hz); `+∞` for no high-frequency flank.
    public var highPassHz: Double
    /// f4: above it the taper is 0 (Hz); `+∞` for no high-frequency flank.
    public var highStopHz: Double

    /// - Throws: ``GroundMotionError/invalidParameter(name:value:reason:)`` unless
    ///   `0 ≤ f1 < f2 ≤ f3 < f4` (or `f3 = f4 = +∞`).
    public init(lowStopHz: Double, lowPassHz: Double, highPassHz: Double, highStopHz: Double) throws(GroundMotionError) {
        guard lowStopHz >= 0, lowStopHz.isFinite else {
            throw .invalidParameter(name: "f1", value: lowStopHz, reason: "must be finite and ≥ 0")
        }
        guard lowPassHz > lowStopHz, lowPassHz.isFinite else {
            throw .invalidParameter(name: "f2", value: lowPassHz, reason: "must be finite and > f1 = \(lowStopHz)")
        }
        guard highPassHz >= lowPassHz else {
            throw .invalidParameter(name: "f3", value: highPassHz, reason: "must be ≥ f2 = \(lowPassHz)")
        }
        let openTop = highPassHz == .infinity && highStopHz == .infinity
        guard openTop || (highStopHz > highPassHz && highStopHz.isFinite) else {
            throw .invalidParameter(name: "f4", value: highStopHz, reason: "must be finite and > f3 = \(highPassHz)")
        }
        self.lowStopHz = lowStopHz
        self.lowPassHz = lowPassHz
        self.highPassHz = highPassHz
        self.highStopHz = highStopHz
    }

    /// The taper value `T(f)` in `[0, 1]`.
    public func value(atFrequencyHz f: Double) -> Double {
        if f < lowStopHz || f > highStopHz { return 0 }
        if f <= lowPassHz { return 0.5 * (1 - cos(Double.pi * (f - lowStopHz) / (lowPassHz - lowStopHz))) }
        if f < highPassHz { return 1 }
        if highPassHz == .infinity { return 1 }
        return 0.5 * (1 + cos(Double.pi * (f - highPassHz) / (highStopHz - highPassHz)))
    }
}
